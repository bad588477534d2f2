//! What `status`, `history` and `plan` print and what the record's files say, pinned
//! by snapshots: each command runs at a pinned time, and what differs from run to run
//! (temp paths, the platform's port, commit ids, durations) is named in the snapshot.

use crate::common::ok;
use crate::common::setup::{CANARY, HEX, OLD, Setup, artifact, release};
use crate::common::snapshot::commit_times;

const APPROVAL: &str = "    approval: { approvers: [\"alice@acme.io\"] }\n";

/// 1.0.0 live everywhere (approved by alice), then 1.1.0 live in dev and staging and
/// waiting for approval in production; each command at its own pinned time.
fn two_releases() -> Setup {
    let s = Setup::new(APPROVAL, CANARY);
    let old = artifact(OLD);
    let new = artifact(HEX);
    let run = s.relctl_at(
        "2026-03-02T09:00:00Z",
        &["promote", "--artifact", &old, "--version", "1.0.0"],
    );
    assert_eq!(run.code, 4, "{}", run.stderr);
    ok(&s.relctl_as_at(
        "alice@acme.io",
        "2026-03-02T10:00:00Z",
        &["approve", &release(OLD), "--env", "production"],
    ));
    ok(&s.relctl_at("2026-03-02T11:00:00Z", &["resume", &release(OLD)]));
    let run = s.relctl_at(
        "2026-03-03T09:00:00Z",
        &["promote", "--artifact", &new, "--version", "1.1.0"],
    );
    assert_eq!(run.code, 4, "{}", run.stderr);
    s
}

const LATER: &str = "2026-03-03T12:00:00Z";

#[test]
fn status_prints_what_is_live_and_waiting_in_each_environment() {
    let s = two_releases();
    let run = s.relctl_at(LATER, &["status"]);
    ok(&run);
    insta::assert_snapshot!("status", s.normalise(&run.snapshot()));
}

#[test]
fn history_lists_the_record_newest_first_and_a_release_in_full() {
    let s = two_releases();
    let run = s.relctl_at(LATER, &["history"]);
    ok(&run);
    insta::assert_snapshot!("history", commit_times(&s.normalise(&run.snapshot())));
    let run = s.relctl_at(LATER, &["history", &release(HEX)]);
    ok(&run);
    insta::assert_snapshot!("history-release", s.normalise(&run.snapshot()));
}

#[test]
fn plan_prints_what_promote_would_do() {
    let s = two_releases();
    let run = s.relctl_at(LATER, &["plan", "--artifact", &artifact(HEX)]);
    ok(&run);
    insta::assert_snapshot!("plan", s.normalise(&run.snapshot()));
}

#[test]
fn the_record_files_say_what_is_live_and_what_happened() {
    let s = two_releases();
    let production = s.record_file(&relctl::format::env_path("checkout", "production"));
    insta::assert_snapshot!("environment-file", s.normalise(&production));
    let path = relctl::format::release_path("checkout", &release(HEX));
    insta::assert_snapshot!("release-file", s.normalise(&s.record_file(&path)));
}
