//! Where the record's files are on the records branch, and the trailers each record
//! commit carries: the one place that knows the branch's layout.
//!
//! The record is keyed by app: everything an app's releases write is under its own
//! directory, so releases of different apps never share a file. The apps are spread
//! over 256 shard directories, `apps/<xx>/` (`xx`: the first two hex digits of the
//! SHA-256 of the app's name), so that a commit rewrites a few small trees rather than
//! one entry per app in the record.
//!
//! ```text
//! apps/<xx>/<app>/environments/<env>.yaml
//! apps/<xx>/<app>/releases/<yy>/<id>.yaml
//! apps/<xx>/<app>/releases/<yy>/summary.tsv
//! ```
//!
//! Records written before that keep the same files in two older layouts: directly
//! under `apps/<app>/` (`unsharded`), or at the top of the branch (`environments/`,
//! `releases/`: `legacy`). Both are read as the apps their files name, and moved into
//! the shards by the next write (src/format/legacy.rs).

/// The directory holding one directory per app.
pub const APPS: &str = "apps";

/// The top-level entries of the records branch: all that relctl writes there, and the
/// top-level directories of a record not yet moved under `apps/`.
pub const LAYOUT: &[&str] = &[APPS, legacy::ENVIRONMENTS, legacy::RELEASES];

/// The directory of an app's release files, in its 256 shards.
const RELEASES: &str = "releases";

/// The directory of an app's environment files.
const ENVIRONMENTS: &str = "environments";

/// Everything the record holds for `app`: `apps/<xx>/<app>` (`app_shard`).
pub fn app_dir(app: &str) -> String {
    format!("{APPS}/{}/{app}", app_shard(app))
}

/// The shard directory under `apps/` of an app: the first two hex digits of the
/// SHA-256 of its name (`checkout` is in `apps/c7/`).
pub fn app_shard(app: &str) -> String {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};

    use sha2::Digest as _;
    // Every path of an app needs it, and `status --all` makes thousands of paths: each
    // app's digest is taken once a process (it was a tenth of a view's instructions).
    static KNOWN: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    let mut known = KNOWN
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(shard) = known.get(app) {
        return shard.clone();
    }
    let shard = hex::encode(&sha2::Sha256::digest(app.as_bytes())[..1]);
    known.insert(app.to_string(), shard.clone());
    shard
}

/// Whether an entry of `apps/` named `name` is written as a shard directory is: two
/// lowercase hex digits. (An app of the unsharded layout may have such a name too:
/// a shard is told from it by what it holds, src/format/listing.rs.)
pub fn is_shard_name(name: &str) -> bool {
    name.len() == 2
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The directory of `app`'s release files: `apps/<xx>/<app>/releases`.
pub fn releases_dir(app: &str) -> String {
    format!("{}/{RELEASES}", app_dir(app))
}

/// The directory of `app`'s environment files: `apps/<xx>/<app>/environments`.
pub fn environments_dir(app: &str) -> String {
    format!("{}/{ENVIRONMENTS}", app_dir(app))
}

/// A release's file: `apps/<xx>/<app>/releases/<yy>/<id>.yaml`, `yy` the first two
/// hex digits of the digest its id ends with (`checkout-4f2a9c1be0d3` is in
/// `apps/c7/checkout/releases/4f/`). Spread over 256 directories, a commit rewrites a
/// few small trees, not one entry per release.
pub fn release_path(app: &str, id: &str) -> String {
    format!("{}/{}/{id}.yaml", releases_dir(app), shard(id))
}

/// An environment's file for one app: `apps/<xx>/<app>/environments/<env>.yaml`.
pub fn env_path(app: &str, env: &str) -> String {
    format!("{}/{env}.yaml", environments_dir(app))
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

/// The layout before the apps were sharded: each app's files directly under
/// `apps/<app>/`. Read until the next write moves them (src/format/legacy.rs).
pub mod unsharded {
    use super::{APPS, ENVIRONMENTS, RELEASES, shard};

    pub fn app_dir(app: &str) -> String {
        format!("{APPS}/{app}")
    }

    pub fn releases_dir(app: &str) -> String {
        format!("{APPS}/{app}/{RELEASES}")
    }

    pub fn environments_dir(app: &str) -> String {
        format!("{APPS}/{app}/{ENVIRONMENTS}")
    }

    pub fn release_path(app: &str, id: &str) -> String {
        format!("{}/{}/{id}.yaml", releases_dir(app), shard(id))
    }

    pub fn env_path(app: &str, env: &str) -> String {
        format!("{}/{env}.yaml", environments_dir(app))
    }

    /// The names an app's directory holds in this layout.
    pub const HOLDS: [&str; 2] = [ENVIRONMENTS, RELEASES];
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
            "apps/c7/checkout/releases/4f/checkout-4f2a9c1be0d3.yaml"
        );
        assert_eq!(
            env_path("checkout", "production"),
            "apps/c7/checkout/environments/production.yaml"
        );
        assert_eq!(
            unsharded::env_path("checkout", "production"),
            "apps/checkout/environments/production.yaml"
        );
        assert!(is_shard_name("c7") && is_shard_name("af"));
        assert!(!is_shard_name("AF") && !is_shard_name("checkout") && !is_shard_name("a"));
        assert_eq!(app_of_id("svc-b-4f2a9c1be0d3"), Some("svc-b"));
        assert_eq!(app_of_id("nodash"), None);
    }

    #[test]
    fn only_release_directories_have_a_summary() {
        assert_eq!(
            summary_beside("apps/checkout/releases/4f/checkout-4f2a9c1be0d3.yaml").as_deref(),
            Some("apps/checkout/releases/4f/summary.tsv")
        );
        assert_eq!(
            summary_beside("releases/4f/checkout-4f2a9c1be0d3.yaml").as_deref(),
            Some("releases/4f/summary.tsv")
        );
        assert_eq!(summary_beside("releases/checkout-4f2a9c1be0d3.yaml"), None);
    }
}
