//! Interrupts and crashes lose nothing: SIGTERM records `interrupted` and exits 130; a
//! process that dies after any record commit leaves a record from which `resume`
//! finishes the release, and no deploy step is ever sent twice with different content.

use crate::common::wait::wait_until;
use std::collections::BTreeMap;

use crate::common::platform::Platform;
use crate::common::setup::{CANARY, HEX, OLD, SECRET, Setup, artifact, release};

fn wait_for_record(s: &Setup, needle: &str) {
    wait_until(&format!("the record to show `{needle}`"), || {
        s.env.records_log().contains(needle)
    });
}

#[test]
fn sigterm_records_interrupted_exits_130_and_resume_finishes() {
    let s = Setup::new(
        "",
        "      - deploy: { weight: 10 }\n      - pause: 2s\n      - deploy: {}\n",
    );
    let mut child = s.spawn(&["promote", "--artifact", &artifact(HEX)]);
    wait_for_record(&s, "production: step 2 pause");
    let pid = child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("promote ends");
    assert_eq!(status.code(), Some(130));
    assert!(
        s.events(HEX).last().is_some_and(|e| e == "interrupted"),
        "{:?}",
        s.events(HEX)
    );
    let run = s.relctl(&["resume", &release(HEX)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 100)));
}

/// Deploy calls by idempotency key: every repeat of a key carried the same body.
fn assert_no_conflicting_duplicates(platform: &Platform) {
    let mut seen: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    for r in platform
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/deploy/"))
    {
        let key = r.header("idempotency-key").unwrap_or_default().to_string();
        if let Some(first) = seen.get(&key) {
            assert_eq!(
                first, &r.body,
                "key {key} was sent twice with different bodies"
            );
        } else {
            seen.insert(key, r.body.clone());
        }
    }
}

/// The kinds of events that matter for the outcome, without timing or crash noise (a
/// resume takes over from the run that died where it was: `taken_over`).
fn outcome(events: &[String]) -> Vec<String> {
    events
        .iter()
        .filter(|e| !matches!(e.as_str(), "interrupted" | "intent" | "taken_over"))
        .cloned()
        .collect()
}

#[test]
fn a_crash_after_any_commit_is_finished_by_resume() {
    let clean = Setup::new("", CANARY);
    assert_eq!(clean.promote(HEX, &[]).code, 0);
    let expected_events = outcome(&clean.events(HEX));
    let total = clean.events(HEX).len();
    let expected_running: Vec<_> = ["dev", "staging", "production"]
        .iter()
        .map(|e| clean.platform.running(e))
        .collect();

    let mut resent = 0;
    for k in 1..total {
        let s = Setup::new("", CANARY);
        let run = s
            .env
            .run_with(&["promote", "--artifact", &artifact(HEX)], |c| {
                c.env("DEPLOY_TOKEN", SECRET)
                    .env("RELCTL_FAULT_CRASH_AFTER", k.to_string());
            });
        assert_ne!(run.code, 0, "k={k}: the process was meant to die");
        assert_eq!(
            s.events(HEX).len(),
            k,
            "k={k}: the record holds exactly what was committed"
        );
        let died_in_a_step = s.events(HEX).last().is_some_and(|e| e == "intent");
        let run = s.relctl(&["resume", &release(HEX)]);
        assert_eq!(run.code, 0, "k={k}: {}", run.stderr);
        // A deploy begun with no outcome recorded is sent again, and resume says so.
        let said = run
            .stderr
            .contains("and no outcome recorded; sent again with the same Idempotency-Key");
        assert!(!said || died_in_a_step, "k={k}: {}", run.stderr);
        resent += usize::from(said);
        assert_eq!(outcome(&s.events(HEX)), expected_events, "k={k}");
        let running: Vec<_> = ["dev", "staging", "production"]
            .iter()
            .map(|e| s.platform.running(e))
            .collect();
        assert_eq!(running, expected_running, "k={k}");
        assert_no_conflicting_duplicates(&s.platform);
    }
    assert!(
        resent >= 4,
        "each deploy step's crash after its intent: {resent}"
    );
}

#[test]
fn sigkill_during_a_pause_then_resume_finishes() {
    let s = Setup::new(
        "",
        "      - deploy: { weight: 10 }\n      - pause: 1s\n      - deploy: {}\n",
    );
    let mut child = s.spawn(&["promote", "--artifact", &artifact(HEX)]);
    wait_for_record(&s, "production: step 2 pause");
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("promote ends");
    assert_eq!(status.code(), None, "killed by a signal");
    let run = s.relctl(&["resume", &release(HEX)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 100)));
    assert_no_conflicting_duplicates(&s.platform);
    // The pause is recorded as long as it lasted from when it began, not from the resume.
    let log = s.env.records_log();
    let done = log
        .lines()
        .find_map(|l| l.split_once("production: step 2 pause done in "))
        .map(|(_, took)| took.to_string());
    assert!(
        done.as_deref().is_some_and(|took| took.ends_with(" s")),
        "{log}"
    );
}

/// A `relctl rollback` that dies after taking the environment (its `rollback_started`
/// committed, the redeploy never recorded) is not papered over by `resume`: it stops
/// with exit 5 naming the unfinished rollback and records nothing, rather than saying
/// the release is live there; `rollback --to` takes it over.
#[test]
fn resume_after_a_rollback_killed_part_way_does_not_say_the_release_is_live() {
    let s = Setup::new("", CANARY);
    assert_eq!(s.promote(OLD, &[]).code, 0);
    assert_eq!(s.promote(HEX, &[]).code, 0);
    let killed = s.env.run_with(
        &["rollback", "--env", "production", "--reason", "5xx spike"],
        |c| {
            c.env("DEPLOY_TOKEN", SECRET)
                .env("RELCTL_FAULT_CRASH_AFTER", "1");
        },
    );
    assert_ne!(killed.code, 0, "the rollback was meant to die");
    let before = s.events(HEX).len();
    let resumed = s.relctl(&["resume", &release(HEX)]);
    assert_eq!(resumed.code, 5, "{}", resumed.stderr);
    assert!(
        resumed.stderr.contains("a rollback from")
            && resumed.stderr.contains("that has not finished")
            && resumed
                .stderr
                .contains("relctl rollback --env production --to RELEASE"),
        "{}",
        resumed.stderr
    );
    assert!(
        !resumed.stderr.contains("is live in") && !resumed.stdout.contains("is live in"),
        "{}{}",
        resumed.stdout,
        resumed.stderr
    );
    assert_eq!(s.events(HEX).len(), before, "resume recorded nothing");
    let taken = s.relctl(&[
        "rollback",
        "--env",
        "production",
        "--to",
        &release(OLD),
        "--reason",
        "taking over",
    ]);
    assert_eq!(taken.code, 0, "{}", taken.stderr);
    assert_eq!(
        s.platform.running("production").map(|(image, _)| image),
        Some(artifact(OLD))
    );
}

/// A killed git or relctl can leave the records branch's lock file behind: a command
/// waits a few seconds for it, then stops with exit 5 naming the file, having deployed
/// nothing, instead of blaming other writers; once the file is gone it goes on.
#[test]
fn a_lock_file_left_by_a_killed_process_is_named_and_nothing_is_deployed() {
    let s = Setup::new("", CANARY);
    assert_eq!(s.promote(OLD, &[]).code, 0);
    let deploys = s.platform.deploys().len();
    let lock = s.env.path().join(".git/refs/heads/relctl/records.lock");
    std::fs::write(&lock, "").expect("a lock file");
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "the records branch relctl/records is locked by {}",
            lock.display()
        )),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("kept moving"), "{}", run.stderr);
    assert_eq!(s.platform.deploys().len(), deploys, "nothing deployed");
    std::fs::remove_file(&lock).expect("remove the lock file");
    assert_eq!(s.promote(HEX, &[]).code, 0);
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 100)));
}

/// The same file left in a clone whose remote moved on: a read shows this clone's record,
/// saying the remote was fetched but its commits could not be taken in, and why, naming
/// the file; not that the remote could not be reached.
#[test]
fn a_read_with_the_branch_lock_left_behind_says_why_its_view_is_not_the_remotes() {
    let (s, origin) = crate::signed::with_remote();
    s.env.git(&["add", "-A"]);
    s.env
        .git(&["commit", "-q", "--allow-empty", "-m", "the plan"]);
    s.env.git(&["push", "-q", "origin", "main"]);
    assert_eq!(s.promote(OLD, &["--to", "dev"]).code, 0);
    crate::signed::clone_other(&s, &origin);
    let other = crate::signed::person(&s, "dev@acme.io", false, &s.env.path().join("other"));
    crate::common::ok(&other.run(&["promote", "--artifact", &artifact(HEX), "--to", "dev"]));
    let lock = s.env.path().join(".git/refs/heads/relctl/records.lock");
    std::fs::write(&lock, "").expect("a lock file");
    let run = s.relctl(&["status"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("this clone's records branch could not take its newer commits in")
            && run.stderr.contains(&lock.display().to_string())
            && !run.stderr.contains("could not reach"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains(&release(OLD)), "{}", run.stdout);
}
