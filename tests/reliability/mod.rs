//! Reliability: what relctl does when the world misbehaves. Each case runs the real
//! binary against a fault (a broken platform, a broken or absent Prometheus, a remote
//! that refuses or vanishes, many racing processes, hostile plans) and checks the three
//! things a user relies on: the exit code, what the record says, and what the platform
//! saw. README.md's RELIABILITY section is the table these tests stand behind.

mod concurrency;
mod fault_server;
pub mod git_daemon;
mod hostile;
mod metrics;
mod platform;
mod record;

use std::collections::BTreeMap;
use std::path::Path;

use relctl::engine::{EnvFile, Event, EventKind, ReleaseFile};

use crate::common::platform::Platform;

/// `git show <rev>:<path>` in `repo`, or `None` when there is no such file.
fn show(repo: &Path, rev: &str, path: &str) -> Option<String> {
    let out = std::process::Command::new("git")
        .current_dir(repo)
        .args(["show", &format!("{rev}:{path}")])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("run git show");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A release's record file on the records branch of `repo`, parsed with relctl's types.
pub fn release_file(repo: &Path, release: &str) -> ReleaseFile {
    let text = show(
        repo,
        "relctl/records",
        &relctl::format::release_path("checkout", release),
    )
    .unwrap_or_else(|| panic!("no record of {release} in {}", repo.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{release}'s record: {e}\n{text}"))
}

/// An environment's state file on the records branch of `repo`.
pub fn env_file(repo: &Path, env: &str) -> EnvFile {
    let text = show(
        repo,
        "relctl/records",
        &relctl::format::env_path("checkout", env),
    )
    .unwrap_or_else(|| panic!("no state file for {env} in {}", repo.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{env}'s state: {e}\n{text}"))
}

/// The event names of a release file, oldest first.
pub fn kinds(file: &ReleaseFile) -> Vec<&'static str> {
    file.events.iter().map(|e| e.kind.name()).collect()
}

/// The last event of a kind.
pub fn last<'a>(file: &'a ReleaseFile, kind: &str) -> &'a Event {
    file.events
        .iter()
        .rev()
        .find(|e| e.kind.name() == kind)
        .unwrap_or_else(|| panic!("no `{kind}` event in {:?}", kinds(file)))
}

/// The error of the last `step_failed` event.
pub fn step_error(file: &ReleaseFile) -> (String, bool) {
    match &last(file, "step_failed").kind {
        EventKind::StepFailed { error, gate, .. } => (error.clone(), *gate),
        _ => unreachable!("filtered by name"),
    }
}

/// The platform's deploy calls, grouped by idempotency key, in order of first sight:
/// every repeat of a key must have carried the same body (a retry is the same request).
pub fn deploys_by_key(platform: &Platform) -> Vec<(String, usize)> {
    let mut bodies: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    let mut order: Vec<(String, usize)> = Vec::new();
    for r in platform
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/deploy/"))
    {
        let key = r.header("idempotency-key").unwrap_or_default().to_string();
        match bodies.get(&key) {
            Some(first) => assert_eq!(
                first, &r.body,
                "key {key} was sent again with a different body"
            ),
            None => {
                bodies.insert(key.clone(), r.body.clone());
            }
        }
        match order.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => order.push((key, 1)),
        }
    }
    order
}
