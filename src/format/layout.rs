//! Where the record's files are on the records branch, and the trailers each record
//! commit carries: the one place that knows the branch's layout.

/// The top-level directories of the records branch: all that relctl writes there.
pub const LAYOUT: &[&str] = &[ENVIRONMENTS, RELEASES];

/// The directory holding the environment files.
pub const ENVIRONMENTS: &str = "environments";

/// The directory holding the release files.
pub const RELEASES: &str = "releases";

/// A release's file: `releases/<xx>/<id>.yaml`, `xx` the first two hex digits of the
/// digest its id ends with (`checkout-4f2a9c1be0d3` is in `releases/4f/`). Spread over
/// 256 directories, a commit rewrites a few small trees, not one entry per release.
pub fn release_path(id: &str) -> String {
    format!("{RELEASES}/{}/{id}.yaml", shard(id))
}

/// Where releases were written before they were spread over directories; still read,
/// and a release found there is written there.
pub fn flat_release_path(id: &str) -> String {
    format!("{RELEASES}/{id}.yaml")
}

/// The release id a file name under `releases/` stands for (`None` for other files).
pub fn release_of(file_name: &str) -> Option<&str> {
    file_name.strip_suffix(".yaml")
}

fn shard(id: &str) -> String {
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

/// An environment's file: `environments/<name>.yaml`.
pub fn env_path(name: &str) -> String {
    format!("{ENVIRONMENTS}/{name}.yaml")
}

/// The summary file beside the release files of one directory (src/format/summary.rs).
pub const SUMMARY_FILE: &str = "summary.tsv";

/// The summary file of the directory holding the release file at `release_path`;
/// `None` for a file directly under `releases/` (written before the directories).
pub fn summary_beside(release_path: &str) -> Option<String> {
    let (dir, _) = release_path.rsplit_once('/')?;
    (dir != RELEASES).then(|| format!("{dir}/{SUMMARY_FILE}"))
}

/// The trailers of a record commit: which release, environment and event it records,
/// and who acted.
pub mod trailer {
    pub const RELEASE: &str = "Relctl-Release";
    pub const ENV: &str = "Relctl-Env";
    pub const EVENT: &str = "Relctl-Event";
    pub const ACTOR: &str = "Relctl-Actor";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_release_directories_have_a_summary() {
        assert_eq!(
            summary_beside("releases/4f/checkout-4f2a9c1be0d3.yaml").as_deref(),
            Some("releases/4f/summary.tsv")
        );
        assert_eq!(summary_beside("releases/checkout-4f2a9c1be0d3.yaml"), None);
    }
}
