//! A fifth look for ways past a signed gate: a trusted branch guessed where the remote's
//! default is unknown, one key counted twice under two principals, an approval step with
//! its own approvers in a signed environment, and an environment file's list of earlier
//! releases edited by hand.

use crate::common::ok;
use crate::common::setup::{HEX, OLD, artifact, release};
use crate::signed::{approve, cast, cast_on_remote, commit_allowed, start, with_remote_steps};
use crate::signed_tamper::live_after_approval;
use crate::signed_tamper2::{edit_file, event_block, hand_commit};

const PRODUCTION: &str = "apps/c/7/checkout/environments/production.yaml";
/// mallory: OLD's `live` in production appended to HEX's record, pushed by hand.
fn forge_live(s: &crate::common::setup::Setup, origin: &std::path::Path) {
    let old_file = relctl::format::release_path("checkout", &release(OLD));
    let hex_file = relctl::format::release_path("checkout", &release(HEX));
    hand_commit(s, origin, |clone| {
        let old = std::fs::read_to_string(clone.join(&old_file)).expect("OLD's file");
        let forged = event_block(&old, "event: live").to_string();
        edit_file(clone, &hex_file, |t| format!("{t}{forged}"));
    });
}

const THIRD: &str = "aaaaaaaaaaaa0000000000000000000000000000000000000000000000000000";

#[test]
fn without_the_remotes_default_branch_no_trusted_branch_is_guessed() {
    let (s, _origin, c) = cast_on_remote();
    // A checkout made by `git init` and `git fetch` (as CI runners make them) does not
    // know the remote's default branch: `origin/main` may be anyone's branch.
    s.env
        .git(&["symbolic-ref", "--delete", "refs/remotes/origin/HEAD"]);
    start(&c.dev);
    let run = approve(&c.alice);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("does not know the remote's default branch")
            && run.stderr.contains("git config relctl.trustedBranch"),
        "{}",
        run.stderr
    );
    assert_eq!(s.platform.running("production"), None);
    // Named once, it counts.
    s.env
        .git(&["config", "relctl.trustedBranch", "origin/main"]);
    ok(&approve(&c.alice));
    ok(&c.dev.run(&["resume", &release(HEX)]));
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 100)));
}

#[test]
fn one_key_given_two_principals_is_one_approval() {
    let (s, _origin, c) = cast_on_remote();
    // The allowed signers give alice's key to a second approver's name too.
    let allowed = format!(
        "{}{}{}",
        c.dev.allowed(),
        c.alice.allowed(),
        c.alice.allowed_as("carol@acme.io")
    );
    commit_allowed(&s, &allowed);
    let plan = std::fs::read_to_string(s.env.path().join("release.yaml")).expect("the plan");
    s.env
        .write("release.yaml", plan.replace("min: 1", "min: 2"));
    s.env.git(&["commit", "-q", "-am", "two approvals"]);
    s.env.git(&["push", "-q", "origin", "main"]);
    start(&c.dev);
    ok(&approve(&c.alice));
    let twice = c.alice.run_as(
        "carol@acme.io",
        &["approve", &release(HEX), "--env", "production"],
    );
    assert_eq!(twice.code, 6, "{}", twice.stderr);
    assert!(
        twice.stderr.contains(
            "approval refused: it would not count: signed with the key that already approved here as alice@acme.io"
        ),
        "{}",
        twice.stderr
    );
    let run = c.dev.run(&["resume", &release(HEX)]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_eq!(s.platform.running("production"), None);
    let history = c.dev.run(&["history", &release(HEX)]);
    assert!(
        !history.stdout.contains("carol@acme.io"),
        "{}",
        history.stdout
    );
}

#[test]
fn an_approval_step_with_its_own_approvers_in_a_signed_environment_is_signed() {
    let steps = "      - deploy: { weight: 10 }\n      - approval: { approvers: [\"bob@acme.io\"] }\n      - deploy: {}\n";
    let (s, _origin) = with_remote_steps(steps);
    let c = cast(&s);
    s.env.git(&["push", "-q", "origin", "main"]);
    start(&c.dev);
    ok(&approve(&c.alice));
    let run = c.dev.run(&["resume", &release(HEX)]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    // mallory claims to be bob at the step: self-asserted, so it does not count.
    let forged = c.mallory.run_as(
        "bob@acme.io",
        &["approve", &release(HEX), "--env", "production"],
    );
    assert_ne!(forged.code, 0, "{}", forged.stderr);
    let run = c.dev.run(&["resume", &release(HEX)]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 10)));
}

#[test]
fn verify_catches_an_earlier_release_dropped_from_the_environment_file_by_hand() {
    let (s, origin, c) = cast_on_remote();
    live_after_approval(&c, OLD);
    live_after_approval(&c, HEX);
    live_after_approval(&c, THIRD);
    // An ordinary rollback, then the release brought back on purpose: no false alarm.
    ok(&c
        .dev
        .run(&["rollback", "--env", "production", "--reason", "spike"]));
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 100)));
    let clean = c.dev.run(&["verify"]);
    assert_eq!(clean.code, 0, "{}\n{}", clean.stdout, clean.stderr);
    // mallory drops HEX's entry: `rollback` would now skip it.
    let commit = hand_commit(&s, &origin, |clone| {
        edit_file(clone, PRODUCTION, |t| {
            let live = t.find("live:").expect("live");
            let at = t[live..].find("previous:").expect("previous") + live;
            let rest = &t[at..];
            let first = rest.find("\n- ").expect("an entry") + 1;
            let second = rest[first + 1..]
                .find("\n- ")
                .map_or(rest.len(), |i| first + 1 + i + 1);
            format!("{}{}{}", &t[..at], &rest[..first], &rest[second..])
        })
    });
    let verify = c.dev.run(&["verify"]);
    assert_eq!(verify.code, 1, "{}\n{}", verify.stdout, verify.stderr);
    assert!(
        verify.stdout.contains(&format!(
            "FAIL  {PRODUCTION}  record commit {commit} changed production's live releases"
        )),
        "{}",
        verify.stdout
    );
}

#[test]
fn a_live_event_written_by_hand_takes_the_release_no_further_and_verify_fails_it() {
    let (s, origin, c) = cast_on_remote();
    live_after_approval(&c, OLD);
    start(&c.dev);
    // mallory: OLD's `live` in production, appended to HEX's record (no approval counts).
    forge_live(&s, &origin);
    let run = c.dev.run(&["resume", &release(HEX)]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "the record of {} says it went live in production, but production has a signed gate and it went live in production past production's signed gate with 0 of the 1 counted approval(s) it needs",
            release(HEX)
        )),
        "{}",
        run.stderr
    );
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
    let verify = c.dev.run(&["verify"]);
    assert_eq!(verify.code, 1, "{}\n{}", verify.stdout, verify.stderr);
    assert!(
        verify.stdout.contains(&format!(
            "FAIL  {}  it went live in production past production's signed gate with 0 of the 1",
            release(HEX)
        )),
        "{}",
        verify.stdout
    );
}

#[test]
fn a_branch_pushed_as_head_is_not_the_remotes_default_branch() {
    let (s, _origin, c) = cast_on_remote();
    start(&c.dev);
    // `git push origin evil:refs/heads/HEAD`, fetched by a clone that never had the
    // symbolic ref: a plain `origin/HEAD` naming mallory's commit.
    s.env
        .git(&["symbolic-ref", "--delete", "refs/remotes/origin/HEAD"]);
    let tip = s.env.git(&["rev-parse", "HEAD"]).trim().to_string();
    s.env.git(&["update-ref", "refs/remotes/origin/HEAD", &tip]);
    s.env
        .git(&["config", "relctl.trustedBranch", "origin/HEAD"]);
    let run = approve(&c.alice);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "relctl.trustedBranch names origin/HEAD, which is not the remote's default branch here"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn a_live_event_written_by_hand_after_an_abort_does_not_reuse_the_visits_approval() {
    let (s, origin, c) = cast_on_remote();
    live_after_approval(&c, OLD);
    start(&c.dev);
    // A real approval, then the release is aborted: the visit is over.
    ok(&approve(&c.alice));
    ok(&c
        .dev
        .run(&["abort", &release(HEX), "--reason", "not today"]));
    forge_live(&s, &origin);
    let verify = c.dev.run(&["verify"]);
    assert_eq!(verify.code, 1, "{}\n{}", verify.stdout, verify.stderr);
    assert!(
        verify.stdout.contains(&format!(
            "FAIL  {}  its record says it went live in production after it was aborted on the same visit",
            release(HEX)
        )),
        "{}",
        verify.stdout
    );
    let run = c.dev.run(&["resume", &release(HEX)]);
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
}
