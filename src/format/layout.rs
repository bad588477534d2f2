//! Where the record's files are on the records branch, and the trailers each record
//! commit carries: the one place that knows the branch's layout.
//!
//! The record is keyed by app: everything an app's releases write is under its own
//! directory, so releases of different apps never share a file. The apps are spread
//! over two levels of 16 shard directories, `apps/<x>/<y>/` (`x` and `y`: the first and
//! second hex digit of the SHA-256 of the app's name), so that a commit rewrites a few
//! trees of at most 16 entries above the app's directory, however many apps the record
//! holds.
//!
//! ```text
//! apps/<x>/<y>/<app>/environments/<env>.yaml
//! apps/<x>/<y>/<app>/releases/<zz>/<id>.yaml
//! apps/<x>/<y>/<app>/releases/<zz>/summary.tsv
//! ```
//!
//! Records written before that keep the same files under an app directory in three
//! older layouts (`Apps`): one level of 256 shards, `apps/<xx>/<app>/` (`OneLevel`);
//! directly under `apps/<app>/` (`Unsharded`); or at the top of the branch
//! (`environments/`, `releases/`: `legacy`). All are read as the apps their files name,
//! and moved into the two levels by the next write (src/format/legacy.rs).
//!
//! The relctl before the two levels knows only the older layouts: writing to a record
//! in the two levels, it takes a first-level shard `apps/<x>/` for an app named `x`
//! and moves it to `apps/<xx>/<x>/` (`xx`: that name's shard of one level), and
//! relctl's own move before it knew of this took that for an app again, to
//! `apps/<p>/<q>/<x>/`. An app in such a displaced shard is read where it is
//! (`Apps::MovedShard`, `Apps::MovedShardTwice`) and moved back by the next write.

/// The directory holding the apps' directories.
pub const APPS: &str = "apps";

/// The file at the top of the branch that names its layout, written with the first
/// event of a record in the two levels of shards (and by the move into them). relctl
/// refuses a branch with a top-level entry it does not know, so every relctl that
/// writes another layout refuses this one, rather than taking a shard for an app. A
/// layout that older relctls must not write changes the name.
pub const FORMAT: &str = "relctl-format-2";

/// What `FORMAT` says to whoever reads the branch.
pub const FORMAT_TEXT: &str = "\
This records branch keeps each app's record in apps/<x>/<y>/<app>/ (relctl docs/record.md).
A relctl that refuses this branch because of this file writes an older layout: upgrade it.
";

/// The top-level entries of the records branch: all that relctl writes there, and the
/// top-level directories of a record not yet moved under `apps/`.
pub const LAYOUT: &[&str] = &[APPS, FORMAT, legacy::ENVIRONMENTS, legacy::RELEASES];

/// The directory of an app's release files, in its 256 shards.
const RELEASES: &str = "releases";

/// The directory of an app's environment files.
const ENVIRONMENTS: &str = "environments";

/// The names an app's directory holds, in every layout under `apps/`.
pub const APP_HOLDS: [&str; 2] = [ENVIRONMENTS, RELEASES];

/// Where an app's directory is under `apps/`: where relctl writes it (`Sharded`), and
/// where relctl wrote it before (read until the next write moves it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Apps {
    /// `apps/<x>/<y>/<app>/`: two levels of 16 shards.
    Sharded,
    /// `apps/<xx>/<app>/`: one level of 256 shards.
    OneLevel,
    /// `apps/<app>/`: no shards.
    Unsharded,
    /// `apps/<xx>/<x>/<y>/<app>/`: its first-level shard `x` moved by a relctl that
    /// took it for an app, into that name's shard of one level.
    MovedShard,
    /// `apps/<p>/<q>/<x>/<y>/<app>/`: that shard moved once more, into the two levels.
    MovedShardTwice,
}

impl Apps {
    /// Every layout under `apps/`, the one relctl writes first. An app's directory is in
    /// one of them; one in two is refused (src/format/legacy.rs, `place`).
    pub const ALL: [Apps; 5] = [
        Apps::Sharded,
        Apps::OneLevel,
        Apps::Unsharded,
        Apps::MovedShard,
        Apps::MovedShardTwice,
    ];

    /// Everything the record holds for `app` in this layout.
    pub fn app_dir(self, app: &str) -> String {
        match self {
            Apps::Sharded => {
                let [x, y] = digits(app);
                format!("{APPS}/{x}/{y}/{app}")
            }
            Apps::OneLevel => format!("{APPS}/{}/{app}", one_level_shard(app)),
            Apps::Unsharded => format!("{APPS}/{app}"),
            Apps::MovedShard | Apps::MovedShardTwice => {
                let [x, y] = digits(app);
                format!("{}/{y}/{app}", self.moved_shard(&x.to_string()))
            }
        }
    }

    /// Where the first-level shard `x` is when it was taken for an app named `x`: in
    /// that app's place of the layout `OneLevel` (`MovedShard`) or `Sharded`
    /// (`MovedShardTwice`); `apps/<x>` otherwise.
    pub fn moved_shard(self, x: &str) -> String {
        match self {
            Apps::MovedShard => Apps::OneLevel.app_dir(x),
            Apps::MovedShardTwice => Apps::Sharded.app_dir(x),
            _ => format!("{APPS}/{x}"),
        }
    }

    /// The directory of `app`'s release files in this layout.
    pub fn releases_dir(self, app: &str) -> String {
        format!("{}/{RELEASES}", self.app_dir(app))
    }

    /// The directory of `app`'s environment files in this layout.
    pub fn environments_dir(self, app: &str) -> String {
        format!("{}/{ENVIRONMENTS}", self.app_dir(app))
    }

    /// A release's file in this layout (`release_path`).
    pub fn release_path(self, app: &str, id: &str) -> String {
        format!("{}/{}/{id}.yaml", self.releases_dir(app), shard(id))
    }

    /// An environment's file for one app in this layout (`env_path`).
    pub fn env_path(self, app: &str, env: &str) -> String {
        format!("{}/{env}.yaml", self.environments_dir(app))
    }
}

/// Everything the record holds for `app`: `apps/<x>/<y>/<app>` (`digits`).
pub fn app_dir(app: &str) -> String {
    Apps::Sharded.app_dir(app)
}

/// The first two hex digits of the SHA-256 of an app's name: its shard directories
/// (`checkout` is in `apps/c/7/`).
fn digits(app: &str) -> [char; 2] {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};

    use sha2::Digest as _;
    // Every path of an app needs them, and `status --all` makes thousands of paths:
    // each app's digest is taken once a process (it was a tenth of a view's instructions).
    static KNOWN: OnceLock<Mutex<HashMap<String, [char; 2]>>> = OnceLock::new();
    let mut known = KNOWN
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(digits) = known.get(app) {
        return *digits;
    }
    let byte = sha2::Sha256::digest(app.as_bytes())[0];
    let hex = |n: u8| char::from_digit(u32::from(n), 16).unwrap_or('0');
    let digits = [hex(byte >> 4), hex(byte & 0xf)];
    known.insert(app.to_string(), digits);
    digits
}

/// The shard directory of one level of `Apps::OneLevel` that `app` is in (`c7`).
pub fn one_level_shard(app: &str) -> String {
    digits(app).iter().collect()
}

/// The shard directory under `apps/` that `app` is in (`c` for `checkout`).
pub fn first_shard(app: &str) -> String {
    digits(app)[0].to_string()
}

/// Whether a directory named `name` is written as a shard of `Apps::Sharded` is, at
/// either level: one lowercase hex digit. (An app of `Apps::Unsharded` may have such
/// a name too: it holds `APP_HOLDS`, a shard holds shards or apps: src/format/legacy.rs.)
pub fn is_shard_name(name: &str) -> bool {
    name.len() == 1 && is_hex(name)
}

/// Whether an entry of `apps/` named `name` is written as a shard of `Apps::OneLevel`
/// is: two lowercase hex digits.
pub fn is_one_level_shard_name(name: &str) -> bool {
    name.len() == 2 && is_hex(name)
}

fn is_hex(name: &str) -> bool {
    name.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The directory of `app`'s release files: `apps/<x>/<y>/<app>/releases`.
pub fn releases_dir(app: &str) -> String {
    Apps::Sharded.releases_dir(app)
}

/// The directory of `app`'s environment files: `apps/<x>/<y>/<app>/environments`.
pub fn environments_dir(app: &str) -> String {
    Apps::Sharded.environments_dir(app)
}

/// A release's file: `apps/<x>/<y>/<app>/releases/<zz>/<id>.yaml`, `zz` the first two
/// hex digits of the digest its id ends with (`checkout-4f2a9c1be0d3` is in
/// `apps/c/7/checkout/releases/4f/`). Spread over 256 directories, a commit rewrites a
/// few small trees, not one entry per release.
pub fn release_path(app: &str, id: &str) -> String {
    Apps::Sharded.release_path(app, id)
}

/// An environment's file for one app: `apps/<x>/<y>/<app>/environments/<env>.yaml`.
pub fn env_path(app: &str, env: &str) -> String {
    Apps::Sharded.env_path(app, env)
}

/// The release id a file name in a release directory stands for, or the environment a
/// file name in an environments directory stands for (`None` for other files).
pub fn name_of(file_name: &str) -> Option<&str> {
    file_name.strip_suffix(".yaml")
}

/// The app a release id made by relctl names: ids are `<app>-<12 hex digits>`
/// (src/artifact.rs), so it is everything before the last dash.
pub fn app_of_id(id: &str) -> Option<&str> {
    id.rsplit_once('-')
        .map(|(app, _)| app)
        .filter(|a| !a.is_empty())
}

/// The shard directory of a release id.
pub(super) fn shard(id: &str) -> String {
    let tail = id.rsplit('-').next().unwrap_or(id);
    match tail.get(..2) {
        Some(two) if two.bytes().all(|b| b.is_ascii_hexdigit()) => two.to_ascii_lowercase(),
        // Not an id relctl made from a digest: a digest of the id spreads it all the same.
        _ => {
            use sha2::Digest as _;
            hex::encode(&sha2::Sha256::digest(id.as_bytes())[..1])
        }
    }
}

/// The summary file beside the release files of one directory (src/format/summary.rs).
pub const SUMMARY_FILE: &str = "summary.tsv";

/// The summary file of the directory holding the release file at `release_path`;
/// `None` for a file directly in a `releases/` directory (written before the shards).
pub fn summary_beside(release_path: &str) -> Option<String> {
    let (dir, _) = release_path.rsplit_once('/')?;
    let parent = dir.rsplit_once('/').map_or(dir, |(_, last)| last);
    (parent != RELEASES).then(|| format!("{dir}/{SUMMARY_FILE}"))
}

/// The layout before the record was keyed by app: one app's files at the top of the
/// branch. Read until the next write moves them (src/format/legacy.rs).
pub mod legacy {
    /// `environments/<env>.yaml`.
    pub const ENVIRONMENTS: &str = "environments";
    /// `releases/<xx>/<id>.yaml`, and `releases/<id>.yaml` before the shards.
    pub const RELEASES: &str = "releases";

    pub fn env_path(env: &str) -> String {
        format!("{ENVIRONMENTS}/{env}.yaml")
    }

    pub fn release_path(id: &str) -> String {
        format!("{RELEASES}/{}/{id}.yaml", super::shard(id))
    }

    pub fn flat_release_path(id: &str) -> String {
        format!("{RELEASES}/{id}.yaml")
    }
}

/// The trailers of a record commit: which app, release, environment and event it
/// records, and who acted.
pub mod trailer {
    pub const APP: &str = "Relctl-App";
    pub const RELEASE: &str = "Relctl-Release";
    pub const ENV: &str = "Relctl-Env";
    /// The environment's target an event is about (docs/plan.md, "`targets` and `waves`").
    pub const TARGET: &str = "Relctl-Target";
    pub const EVENT: &str = "Relctl-Event";
    pub const ACTOR: &str = "Relctl-Actor";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_keyed_by_app() {
        assert_eq!(
            release_path("checkout", "checkout-4f2a9c1be0d3"),
            "apps/c/7/checkout/releases/4f/checkout-4f2a9c1be0d3.yaml"
        );
        assert_eq!(
            env_path("checkout", "production"),
            "apps/c/7/checkout/environments/production.yaml"
        );
        assert_eq!(
            Apps::OneLevel.env_path("checkout", "production"),
            "apps/c7/checkout/environments/production.yaml"
        );
        assert_eq!(
            Apps::Unsharded.env_path("checkout", "production"),
            "apps/checkout/environments/production.yaml"
        );
        assert_eq!(
            Apps::MovedShard.env_path("checkout", "production"),
            "apps/2e/c/7/checkout/environments/production.yaml"
        );
        assert_eq!(
            Apps::MovedShardTwice.env_path("checkout", "production"),
            "apps/2/e/c/7/checkout/environments/production.yaml"
        );
        assert_eq!(first_shard("checkout"), "c");
        assert_eq!(one_level_shard("checkout"), "c7");
        assert!(is_shard_name("c") && is_shard_name("0"));
        assert!(!is_shard_name("C") && !is_shard_name("c7") && !is_shard_name("g"));
        assert!(is_one_level_shard_name("c7") && is_one_level_shard_name("af"));
        assert!(!is_one_level_shard_name("AF") && !is_one_level_shard_name("a"));
        assert_eq!(app_of_id("svc-b-4f2a9c1be0d3"), Some("svc-b"));
        assert_eq!(app_of_id("nodash"), None);
    }

    #[test]
    fn only_release_directories_have_a_summary() {
        assert_eq!(
            summary_beside("apps/c/7/checkout/releases/4f/checkout-4f2a9c1be0d3.yaml").as_deref(),
            Some("apps/c/7/checkout/releases/4f/summary.tsv")
        );
        assert_eq!(
            summary_beside("releases/4f/checkout-4f2a9c1be0d3.yaml").as_deref(),
            Some("releases/4f/summary.tsv")
        );
        assert_eq!(summary_beside("releases/checkout-4f2a9c1be0d3.yaml"), None);
    }
}
