//! What the record says is what happened: one release per digest, status after an
//! approval, resume to the furthest target asked for, one approval per person, plan as
//! promote walks, and a run taken over by another person.

use crate::common::ok;
use crate::common::setup::{CANARY, HEX, OLD, Setup, artifact, release};
use crate::common::wait::{finish, wait_until};

const APPROVAL: &str = "    approval: { approvers: [\"alice@acme.io\"] }\n";
const ALICE: &str = "alice@acme.io";
const CAROL: &str = "carol@acme.io";

/// A digest whose release id is HEX's: the same first 12 hex characters.
fn twin() -> String {
    format!("{}{}", &HEX[..12], "9".repeat(52))
}

/// The production row of `relctl status`.
fn production_status(s: &Setup) -> String {
    let run = s.relctl(&["status", "--env", "production"]);
    ok(&run);
    run.stdout
}

#[test]
fn a_digest_that_shares_a_release_id_is_refused_and_nothing_happens() {
    let s = Setup::new("", CANARY);
    ok(&s.promote(HEX, &["--to", "dev"]));
    let before = s.env.git(&["rev-parse", "relctl/records"]);
    let other = twin();
    let run = s.promote(&other, &["--to", "dev"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    for word in [
        release(HEX),
        format!("sha256:{HEX}"),
        format!("sha256:{other}"),
    ] {
        assert!(run.stderr.contains(&word), "{word} in:\n{}", run.stderr);
    }
    assert_eq!(s.platform.deploys().len(), 1, "no second deploy");
    assert_eq!(s.env.git(&["rev-parse", "relctl/records"]), before);
    let dev = s.record_file("apps/c/7/checkout/environments/dev.yaml");
    assert!(dev.contains(HEX) && !dev.contains(&other), "{dev}");
    let plan = s.relctl(&["plan", "--artifact", &artifact(&other)]);
    assert_eq!(plan.code, 2, "{}", plan.stderr);
}

#[test]
fn status_after_the_approval_says_in_progress_and_where_also_after_a_crash() {
    let steps = "      - deploy: { weight: 10 }\n      - pause: 1h\n      - deploy: {}\n";
    let s = Setup::new(APPROVAL, steps);
    let id = release(HEX);
    assert_eq!(s.promote(HEX, &[]).code, 4);
    assert!(production_status(&s).contains(&format!("awaiting approval: {id}")));
    ok(&s.relctl_as(ALICE, &["approve", &id, "--env", "production"]));
    let mut child = s.spawn(&["resume", &id]);
    wait_until("the pause to begin", || {
        s.env.records_log().contains("production: step 2 pause")
    });
    let running = production_status(&s);
    assert!(
        running.contains(&format!("in progress: {id} (step 2)")),
        "{running}"
    );
    assert!(!running.contains("awaiting approval"), "{running}");
    child.kill().expect("kill -9 the resume");
    let _ = child.wait();
    let crashed = production_status(&s);
    assert!(
        crashed.contains(&format!("in progress: {id} (step 2)")),
        "{crashed}"
    );
    // The JSON gives the whole digest and an RFC 3339 time.
    let json = s.relctl(&["--output", "json", "status", "--env", "dev"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    let dev = &value["environments"][0];
    assert_eq!(dev["digest"], format!("sha256:{HEX}"));
    let since = dev["since"].as_str().unwrap_or_default();
    assert!(
        chrono::DateTime::parse_from_rfc3339(since).is_ok(),
        "{since}"
    );
}

#[test]
fn resume_continues_to_the_furthest_target_a_promote_asked_for() {
    let s = Setup::new(APPROVAL, CANARY);
    let id = release(HEX);
    ok(&s.promote(HEX, &["--to", "dev"]));
    assert_eq!(s.promote(HEX, &[]).code, 4);
    ok(&s.relctl_as(ALICE, &["approve", &id, "--env", "production"]));
    let run = s.relctl(&["resume", &id]);
    ok(&run);
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 100)));
    let production = s.record_file("apps/c/7/checkout/environments/production.yaml");
    assert!(production.contains("lock: null"), "{production}");
    assert!(s.events(HEX).contains(&"extended".to_string()));
}

#[test]
fn one_person_approving_in_two_cases_is_one_approval_and_is_told_so() {
    let two = "    approval: { approvers: [\"*@sre.acme.io\"], min: 2 }\n";
    let s = Setup::new(two, CANARY);
    let id = release(HEX);
    assert_eq!(s.promote(HEX, &[]).code, 4);
    let first = s.relctl_as("bob@sre.acme.io", &["approve", &id, "--env", "production"]);
    ok(&first);
    assert!(first.stderr.contains("1/2 approvals"), "{}", first.stderr);
    let again = s.relctl_as("BOB@SRE.ACME.IO", &["approve", &id, "--env", "production"]);
    ok(&again);
    assert!(
        again.stderr.contains("already approved by you; 1/2"),
        "{}",
        again.stderr
    );
    let approved = s.events(HEX).iter().filter(|e| *e == "approved").count();
    assert_eq!(approved, 1);
    assert_eq!(s.relctl(&["resume", &id]).code, 4, "still waiting for 2/2");
    assert_eq!(s.platform.deploys().len(), 2, "production was not touched");
}

#[test]
fn plan_shows_what_promote_would_do_for_a_release_that_was_there_before() {
    let s = Setup::new("", CANARY);
    // Live in dev: plan skips dev and promotes from staging.
    ok(&s.promote(HEX, &["--to", "dev"]));
    let plan = s.relctl(&["plan", "--artifact", &artifact(HEX)]);
    ok(&plan);
    let dev: Vec<&str> = plan
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("dev "))
        .collect();
    assert_eq!(dev.len(), 1, "{}", plan.stdout);
    assert!(dev[0].ends_with("already live"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("staging      step 1 deploy"),
        "{}",
        plan.stdout
    );

    // Rolled back in production: plan says promote would be blocked there.
    let s = Setup::new("", CANARY);
    ok(&s.promote(OLD, &[]));
    ok(&s.promote(HEX, &[]));
    ok(&s.relctl(&["rollback", "--env", "production", "--reason", "pager"]));
    let plan = s.relctl(&["plan", "--artifact", &artifact(HEX)]);
    ok(&plan);
    assert!(
        plan.stdout
            .contains("production   would block (rejected-before)"),
        "{}",
        plan.stdout
    );
    let promote = s.promote(HEX, &[]);
    assert_eq!(promote.code, 6, "{}", promote.stderr);
}

#[test]
fn a_promote_whose_release_another_person_aborts_says_it_was_taken_over() {
    let s = Setup::new(APPROVAL, CANARY);
    let id = release(HEX);
    let child = s.spawn(&[
        "promote",
        "--artifact",
        &artifact(HEX),
        "--wait-approval=10m",
    ]);
    wait_until("the promote to wait for approval", || {
        s.env
            .records_log()
            .contains(&format!("{id} production: awaiting approval"))
    });
    ok(&s.relctl_as(CAROL, &["abort", &id, "--reason", "bad build"]));
    let run = finish(child);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("taken over"), "{}", run.stderr);
    assert!(run.stderr.contains("aborted (bad build)"), "{}", run.stderr);
    assert!(run.stderr.contains(CAROL), "{}", run.stderr);
    assert!(!run.stderr.contains("rolled back in production before"));
}

#[test]
fn a_promote_whose_release_another_person_rolls_back_says_it_was_taken_over() {
    let steps = "      - deploy: { weight: 10 }\n      - approval: { approvers: [\"alice@acme.io\"] }\n      - deploy: {}\n";
    let s = Setup::new("", steps);
    assert_eq!(s.promote(OLD, &[]).code, 4);
    ok(&s.relctl_as(ALICE, &["approve", &release(OLD), "--env", "production"]));
    ok(&s.relctl(&["resume", &release(OLD)]));
    let id = release(HEX);
    let child = s.spawn(&[
        "promote",
        "--artifact",
        &artifact(HEX),
        "--wait-approval=10m",
    ]);
    wait_until("the canary to wait for approval", || {
        s.env
            .records_log()
            .contains(&format!("{id} production: awaiting approval at step 2"))
    });
    ok(&s.relctl_as(
        CAROL,
        &["rollback", "--env", "production", "--reason", "pager"],
    ));
    let run = finish(child);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("taken over"), "{}", run.stderr);
    assert!(
        run.stderr.contains("rolled back in production"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(CAROL), "{}", run.stderr);
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
}
