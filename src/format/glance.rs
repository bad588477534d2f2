//! An environment file at a glance: what is live, the lock and the last rollback,
//! without its `previous` and `rejected` lists. The lists are most of the file (20
//! earlier releases of six fields each, and every release ever rolled back there) and
//! most of the time parsing it, and a view of every app's environments (`status
//! --all`) needs neither. relctl writes each list as a top-level key on a line of its
//! own followed by indented or `- ` lines, so those lines are left out and the rest
//! goes to the YAML parser; a file that does not read that way is read whole instead.
//!
//! A view of every app (`status --all`) keeps what it made of each app by the tree of
//! the app's directory (src/cmd/org_rows.rs); these readers say whether what they read
//! came from that directory, so that only what depends on nothing else is kept.

use super::files::{decode_with, read_env, read_release};
use super::layout::{env_path, release_path};
use crate::engine::{EnvFile, ReleaseFile};
use crate::record::Snapshot;

/// `app`'s file for environment `env` with its `previous` and `rejected` lists left
/// empty: for views of many environments, never for a decision. `true` with it when it
/// was read from `app`'s directory (`layout::env_path`), `false` when from a record
/// not yet moved there (read whole).
pub fn env(snapshot: &Snapshot, app: &str, env: &str) -> anyhow::Result<(EnvFile, bool)> {
    if let Some(Glance(file)) = decode_with(snapshot, &env_path(app, env), parse)? {
        return Ok((file, true));
    }
    Ok((read_env(snapshot, app, env)?, false))
}

/// Release `id` of `app`, if the record has it; `true` with it when it was read from
/// `app`'s directory (`layout::release_path`), `false` when from an older layout or
/// when there is no such file.
pub fn release(
    snapshot: &Snapshot,
    app: &str,
    id: &str,
) -> anyhow::Result<(Option<ReleaseFile>, bool)> {
    let own = snapshot.blob_id(&release_path(app, id))?.is_some();
    Ok((read_release(snapshot, app, id)?, own))
}

/// An environment file read at a glance: its lists are empty whatever the file holds.
/// A type of its own, so that the decoded-file cache never hands it to a reader that
/// wants the whole file.
#[derive(Debug, Clone)]
pub struct Glance(EnvFile);

/// The top-level keys left out.
const LISTS: [&str; 2] = ["previous:\n", "rejected:\n"];

pub fn parse(text: &str) -> Result<Glance, serde_saphyr::Error> {
    let mut kept = String::with_capacity(text.len().min(4096));
    let mut skipping = false;
    for line in text.split_inclusive('\n') {
        if line.starts_with(|c: char| !c.is_whitespace() && c != '-') {
            skipping = LISTS.contains(&line);
        }
        if !skipping {
            kept.push_str(line);
        }
    }
    match serde_saphyr::from_str::<EnvFile>(&kept) {
        Ok(mut file) => {
            file.previous.clear();
            file.rejected.clear();
            Ok(Glance(file))
        }
        Err(_) => serde_saphyr::from_str(text).map(Glance),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_whole_file_says_but_the_lists() {
        let text = "environment: production\nlive:\n  release: a-000000000001\n  by: x@example.com\n  artifact: r@sha256:00\n  digest: sha256:00\n  version: \"1\"\n  since: \"2026-01-01T00:00:00Z\"\nprevious:\n- release: a-000000000000\n  by: x@example.com\n  artifact: r@sha256:01\n  digest: sha256:01\n  version: \"0\"\n  since: \"2025-01-01T00:00:00Z\"\nlock:\n  release: a-000000000002\n  by: y@example.com\n  since: \"2026-01-02T00:00:00Z\"\nrejected:\n- a-00000000000f\nrolled_back: null\n";
        let mut whole: EnvFile = serde_saphyr::from_str(text).expect("the whole file");
        assert_eq!(whole.previous.len(), 1);
        assert_eq!(whole.rejected.len(), 1);
        whole.previous.clear();
        whole.rejected.clear();
        assert_eq!(parse(text).expect("at a glance").0, whole);
    }
}
