//! What each target of an environment runs, as its environment file records it
//! (`targets:`, docs/record.md "Environment files"): the release a target runs and what
//! it ran before, so that a rollback takes each target back to what it ran itself. A
//! file written before targets were recorded (no `targets:`) reads as it always did:
//! every target runs `live`, but those in `targets_not_live`, which run what was live
//! before it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::engine::{EnvFile, Live};
use crate::record::Snapshot;

/// One target's entry: what it runs and what it ran before.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TargetLive {
    /// The release the target runs; absent when nothing was ever deployed to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// What it ran before, most recent first (the last `PREVIOUS_KEPT`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous: Vec<String>,
}

/// How many earlier releases each target's entry remembers: every event rewrites the
/// file, and an environment may have fifty targets. Going further back is `--to`.
pub const PREVIOUS_KEPT: usize = 5;

/// The entries of every target, by name.
pub type Targets = BTreeMap<String, TargetLive>;

/// What `target` runs and ran before, from `file`. A file without `targets:` says it as
/// it always did; one with them says nothing of a target it does not list (added to the
/// plan since): it runs nothing relctl deployed.
pub fn of(file: &EnvFile, target: &str) -> TargetLive {
    if !file.targets.is_empty() {
        return file.targets.get(target).cloned().unwrap_or_default();
    }
    let ids = file
        .live
        .iter()
        .chain(&file.previous)
        .map(|l| l.release.clone());
    let mut ids: Vec<String> = ids.collect();
    if file.targets_not_live.iter().any(|t| t == target) && !ids.is_empty() {
        ids.remove(0);
    }
    let mut ids = ids.into_iter();
    TargetLive {
        release: ids.next(),
        previous: ids.take(PREVIOUS_KEPT).collect(),
    }
}

/// Whether `file` records what its targets run (`targets:`), rather than saying it as a
/// file written before it did.
/// Whether `release`'s own record shows it on `target` of `env` without ever going live
/// there: it failed there, or `on_target_failure: continue` left the target behind. A
/// rollback never sends it there (README, "Targets and waves").
pub fn never_live_on(release: &crate::engine::ReleaseFile, env: &str, target: &str) -> bool {
    let mut there = release
        .events
        .iter()
        .filter(|e| e.env.as_deref() == Some(env) && e.target.as_deref() == Some(target))
        .peekable();
    let visited = there.peek().is_some();
    let went_live = there.any(|e| matches!(e.kind, crate::engine::EventKind::Live));
    visited && !went_live
}

pub fn recorded(file: &EnvFile) -> bool {
    !file.targets.is_empty()
}

/// Whether `file` records that `target` runs `release` (a file without `targets:`
/// records nothing of the kind: as before, no target counts as running it already).
pub fn runs_already(file: &EnvFile, target: &str, release: &str) -> bool {
    recorded(file) && of(file, target).release.as_deref() == Some(release)
}

/// `target` now runs `release` (its steps are done, or it was taken back to it). The
/// first entry written into a file without `targets:` writes one for each of `all` (the
/// environment's targets), as the file said them.
pub fn runs(file: &mut EnvFile, all: &[&str], target: &str, release: &str) {
    seed(file, all);
    let entry = file.targets.entry(target.to_string()).or_default();
    if entry.release.as_deref() == Some(release) {
        return;
    }
    if let Some(old) = entry.release.replace(release.to_string()) {
        entry.previous.insert(0, old);
    }
    entry.previous.retain(|p| p != release);
    entry.previous.truncate(PREVIOUS_KEPT);
}

/// `target` was taken back from `from` to `to` (`None`: left as it was): `from` is
/// forgotten there, as a release rolled back.
pub fn went_back(file: &mut EnvFile, all: &[&str], target: &str, from: &str, to: Option<&str>) {
    seed(file, all);
    let entry = file.targets.entry(target.to_string()).or_default();
    if let Some(to) = to {
        if entry.release.as_deref() != Some(to) {
            entry.release = Some(to.to_string());
        }
        entry.previous.retain(|p| p != to && p != from);
    } else if entry.release.as_deref() == Some(from) {
        // Nothing to go back to: it still runs what the deploy left.
        entry.previous.retain(|p| p != from);
    }
}

/// The targets of `all` that do not run `file`'s live release: what `targets_not_live`
/// lists once `targets:` is recorded.
pub fn not_live(file: &EnvFile, all: &[&str]) -> Vec<String> {
    let live = file.live.as_ref().map(|l| l.release.as_str());
    all.iter()
        .filter(|t| live.is_some() && of(file, t).release.as_deref() != live)
        .map(|t| t.to_string())
        .collect()
}

fn seed(file: &mut EnvFile, all: &[&str]) {
    if recorded(file) {
        return;
    }
    let entries: Targets = all.iter().map(|t| (t.to_string(), of(file, t))).collect();
    file.targets = entries;
}

/// The release `id` as a target would be taken back to it: the environment file's
/// entry when it has one, else what its own release file gives (a release live on a
/// target longer ago than the environment file remembers); with the record file that
/// gives it, for the artifact checks. `None` when the record has no file for it.
pub fn live_of(
    snapshot: &Snapshot,
    app: &str,
    file: &EnvFile,
    id: &str,
) -> anyhow::Result<Option<(Live, String)>> {
    if let Some(live) = file
        .live
        .iter()
        .chain(&file.previous)
        .find(|l| l.release == id)
    {
        let path = super::env_file(snapshot, app, &file.environment)?;
        return Ok(Some((live.clone(), path)));
    }
    let Some(release) = super::read_release(snapshot, app, id)? else {
        return Ok(None);
    };
    let since = release.events.last().map(|e| e.at);
    let path = super::release_file(snapshot, app, id)?;
    Ok(since.map(|since| {
        let live = Live {
            release: release.release.clone(),
            by: String::new(),
            artifact: release.artifact.clone(),
            digest: release.digest.clone(),
            version: release.version.clone(),
            since,
        };
        (live, path)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(release: &str) -> Live {
        Live {
            release: release.into(),
            by: "alice@acme.io".into(),
            artifact: "ghcr.io/acme/checkout@sha256:aa".into(),
            digest: "sha256:aa".into(),
            version: "1.0.0".into(),
            since: crate::clock::at("2026-11-01T10:00:00Z"),
        }
    }

    fn old_file() -> EnvFile {
        EnvFile {
            environment: "production".into(),
            live: Some(live("b")),
            previous: vec![live("a")],
            targets_not_live: vec!["us".into()],
            ..EnvFile::default()
        }
    }

    #[test]
    fn a_file_without_targets_reads_as_before() {
        let file = old_file();
        assert_eq!(of(&file, "eu").release.as_deref(), Some("b"));
        assert_eq!(of(&file, "eu").previous, ["a"]);
        assert_eq!(of(&file, "us").release.as_deref(), Some("a"));
        assert!(of(&file, "us").previous.is_empty());
    }

    #[test]
    fn each_target_keeps_what_it_ran_before() {
        let mut file = old_file();
        let all = ["eu", "us", "new"];
        runs(&mut file, &all, "eu", "c");
        // The first entry writes every target as the file said it.
        assert_eq!(of(&file, "us").release.as_deref(), Some("a"));
        assert_eq!(of(&file, "eu").previous, ["b", "a"]);
        runs(&mut file, &all, "us", "c");
        assert_eq!(of(&file, "us").previous, ["a"]);
        went_back(&mut file, &all, "us", "c", Some("a"));
        assert_eq!(
            of(&file, "us"),
            TargetLive {
                release: Some("a".into()),
                previous: vec![]
            }
        );
        // A file that records targets says nothing of one it does not list.
        let fresh = EnvFile {
            targets: [("eu".to_string(), TargetLive::default())].into(),
            ..old_file()
        };
        assert_eq!(of(&fresh, "added"), TargetLive::default());
    }
}
