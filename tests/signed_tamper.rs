//! The record acted on is the record approved: unsigned commits pushed by hand to the
//! records remote that rewrite a release file, or an environment file's entries, do not
//! carry old approvals over to something else, and `verify` names them.

use std::path::Path;

use crate::common::setup::{CANARY, HEX, OLD, Setup, artifact, quick, release};
use crate::common::{git, ok};
use crate::signed::{approve, cast, cast_on_remote, person, refused, start, with_remote};

/// A file of the records branch and how it is edited.
type Edit<'a> = (&'a str, &'a dyn Fn(&str) -> String);

/// Files of `origin`'s records branch edited by hand in a clone of their own (`dir`
/// under the project) and pushed as one plain unsigned commit; its id.
fn hand_edit(s: &Setup, origin: &Path, dir: &str, edits: &[Edit<'_>]) -> String {
    let clone = s.env.path().join(dir);
    git(
        s.env.path(),
        &[
            "clone",
            "-q",
            "-b",
            "relctl/records",
            &origin.to_string_lossy(),
            dir,
        ],
    );
    for (path, edit) in edits {
        let file = clone.join(path);
        let text = std::fs::read_to_string(&file).expect("the record file");
        let edited = edit(&text);
        assert_ne!(text, edited, "{path}: the edit changes the file");
        std::fs::write(&file, edited).expect("edit");
    }
    git(&clone, &["commit", "-q", "-am", "fix"]);
    git(&clone, &["push", "-q", "origin", "relctl/records"]);
    git(&clone, &["rev-parse", "HEAD"]).trim().to_string()
}

fn release_file(hex: &str) -> String {
    relctl::format::release_path("checkout", &release(hex))
}

const PRODUCTION: &str = "apps/c/7/checkout/environments/production.yaml";

/// `hex` promoted by dev, approved by alice and resumed: live in production.
pub(crate) fn live_after_approval(c: &crate::signed::Cast, hex: &str) {
    let run = c.dev.run(&["promote", "--artifact", &artifact(hex)]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    ok(&c
        .alice
        .run(&["approve", &release(hex), "--env", "production"]));
    ok(&c.dev.run(&["resume", &release(hex)]));
}

/// The release file cut right after its (first) approval.
fn cut_after_approval(text: &str) -> String {
    let approved = text.find("event: approved").expect("an approval");
    let next = text[approved..]
        .find("\n- at:")
        .map_or(text.len(), |i| approved + i + 1);
    text[..next].to_string()
}

#[test]
fn an_approval_does_not_survive_a_rollback_whose_events_were_deleted_by_hand() {
    let (s, origin, c) = cast_on_remote();
    live_after_approval(&c, OLD);
    live_after_approval(&c, HEX);
    ok(&c
        .dev
        .run(&["rollback", "--env", "production", "--reason", "bad build"]));
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
    // mallory cuts the release back to alice's approval and gives it the lock again.
    let id = release(HEX);
    let env_edit = |text: &str| {
        text.replace(
            "lock: null",
            &format!(
                "lock:\n  release: {id}\n  by: dev@acme.io\n  since: \"2026-01-01T00:00:00Z\""
            ),
        )
        .replace(&format!("rejected:\n- {id}\n"), "")
    };
    let forged = hand_edit(
        &s,
        &origin,
        "hack",
        &[
            (&release_file(HEX), &cut_after_approval),
            (PRODUCTION, &env_edit),
        ],
    );
    let run = c.dev.run(&["resume", &id]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("is not counted: the release's record was rewritten after it")
            && run.stderr.contains(&forged),
        "{}",
        run.stderr
    );
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
    let verify = c.dev.run(&["verify", &id]);
    assert_eq!(verify.code, 1, "{}\n{}", verify.stdout, verify.stderr);
    assert!(
        verify
            .stdout
            .contains(&format!("record commit {forged} removed")),
        "{}",
        verify.stdout
    );
    let history = c.dev.run(&["history", &id]);
    assert!(
        history
            .stdout
            .contains(&format!("REWRITTEN  record commit {forged} removed")),
        "{}",
        history.stdout
    );
}

#[test]
fn an_artifact_swapped_after_approval_under_the_same_id_is_not_deployed() {
    let (s, origin, c) = cast_on_remote();
    start(&c.dev);
    ok(&approve(&c.alice));
    // Same first 12 hex digits (the id), another digest.
    let swapped = format!("{}{}", &HEX[..12], "c".repeat(52));
    let forged = hand_edit(
        &s,
        &origin,
        "hack",
        &[(&release_file(HEX), &|t: &str| t.replace(HEX, &swapped))],
    );
    // What dev and staging were given no longer agrees with the release's file.
    let run = c.dev.run(&["resume", &release(HEX)]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("disagrees with release"),
        "{}",
        run.stderr
    );
    assert_eq!(s.platform.running("production"), None);
    let verify = c.dev.run(&["verify", &release(HEX)]);
    assert_eq!(verify.code, 1, "{}\n{}", verify.stdout, verify.stderr);
    assert!(
        verify.stdout.contains(&format!(
            "record commit {forged} changed the release's artifact"
        )),
        "{}",
        verify.stdout
    );
}

#[test]
fn an_approval_given_before_the_release_was_edited_by_hand_is_not_counted() {
    let (s, origin, c) = cast_on_remote();
    start(&c.dev);
    ok(&approve(&c.alice));
    let forged = hand_edit(
        &s,
        &origin,
        "hack",
        &[(&release_file(HEX), &|t: &str| {
            t.replacen("version: ", "version: 9", 1)
        })],
    );
    refused(
        &s,
        &c.dev,
        &format!("record commit {forged} changed the release's version"),
    );
}

#[test]
fn a_release_whose_digest_is_not_its_ids_is_not_deployed() {
    let (s, origin, c) = cast_on_remote();
    start(&c.dev);
    ok(&approve(&c.alice));
    let other = "c".repeat(64);
    hand_edit(
        &s,
        &origin,
        "hack",
        &[(&release_file(HEX), &|t: &str| t.replace(HEX, &other))],
    );
    let run = c.dev.run(&["resume", &release(HEX)]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("is not release {}'s", release(HEX)))
            && run.stderr.contains(&release_file(HEX)),
        "{}",
        run.stderr
    );
    assert_eq!(s.platform.running("production"), None);
}

#[test]
fn a_starter_who_renames_the_start_by_hand_still_may_not_approve_it() {
    let (s, origin, c) = cast_on_remote();
    // alice, an approver, starts the release, then makes the start someone else's.
    start(&c.alice);
    let forged = hand_edit(
        &s,
        &origin,
        "hack",
        &[(&release_file(HEX), &|t: &str| {
            t.replacen("actor: alice@acme.io", "actor: ci@acme.io", 1)
        })],
    );
    let run = approve(&c.alice);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(run.stderr.contains("self-approval"), "{}", run.stderr);
    let verify = c.dev.run(&["verify", &release(HEX)]);
    assert_eq!(verify.code, 1, "{}\n{}", verify.stdout, verify.stderr);
    assert!(
        verify
            .stdout
            .contains(&format!("record commit {forged} changed event 1 (started"))
            && verify.stdout.contains("by alice@acme.io)"),
        "{}",
        verify.stdout
    );
    let history = c.dev.run(&["history", &release(HEX)]);
    assert!(
        !history.stdout.contains("start not signed"),
        "{}",
        history.stdout
    );
    assert!(history.stdout.contains(&forged), "{}", history.stdout);
}

#[test]
fn a_rollback_target_edited_in_the_environment_file_is_refused_naming_it() {
    let s = Setup::new("", CANARY);
    ok(&s.promote(OLD, &[]));
    ok(&s.promote(HEX, &[]));
    let forged = "9".repeat(64);
    s.edit_record(PRODUCTION, |t| {
        let previous = t.find("previous:").expect("a previous entry");
        format!(
            "{}{}",
            &t[..previous],
            t[previous..].replacen(OLD, &forged, 1)
        )
    });
    let run = s.relctl(&["rollback", "--env", "production"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "relctl/records:{PRODUCTION} disagrees with release {}",
            release(OLD)
        )),
        "{}",
        run.stderr
    );
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 100)));
    let verify = s.relctl(&["verify"]);
    assert_eq!(verify.code, 1, "{}\n{}", verify.stdout, verify.stderr);
    assert!(
        verify
            .stdout
            .contains(&format!("{PRODUCTION} disagrees with the release")),
        "{}",
        verify.stdout
    );
}

#[test]
fn a_live_entry_edited_in_the_environment_file_is_not_taken_as_a_baseline() {
    let s = Setup::new("", CANARY);
    ok(&s.promote(OLD, &[]));
    s.edit_record(PRODUCTION, |t| t.replacen(&format!("ghcr.io/acme/checkout@sha256:{OLD}"), "ghcr.io/acme/checkout@sha256:0123456789ab9999999999999999999999999999999999999999999999999999", 1));
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains(PRODUCTION), "{}", run.stderr);
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
}

#[test]
fn an_actor_with_a_newline_or_a_tab_is_refused_wherever_it_comes_from() {
    let s = Setup::new("", CANARY);
    let image = artifact(HEX);
    let run = s.env.run_with(&["promote", "--artifact", &image], |c| {
        quick(c);
        c.env("RELCTL_ACTOR", "carol@acme.io\nRelctl-Actor: alice@acme.io");
    });
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("RELCTL_ACTOR is"), "{}", run.stderr);
    assert!(
        run.stderr.contains("no whitespace or control characters"),
        "{}",
        run.stderr
    );
    s.env.git(&["config", "user.email", "carol\t@acme.io"]);
    let run = s.relctl(&["promote", "--artifact", &artifact(HEX)]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("git's user.email is"), "{}", run.stderr);
    assert_eq!(s.platform.running("production"), None);
}

#[test]
fn the_trusted_branch_does_not_follow_a_detached_head() {
    let (s, _origin) = with_remote();
    let c = cast(&s);
    s.env.git(&["push", "-q", "origin", "main"]);
    // mallory's branch gives alice's name to her key; the checking clone sits on it.
    s.env.git(&["checkout", "-q", "-b", "evil"]);
    crate::signed::commit_allowed(&s, &c.mallory.allowed_as("alice@acme.io"));
    s.env.git(&["push", "-q", "origin", "evil"]);
    s.env.git(&["checkout", "-q", "--detach", "origin/evil"]);
    start(&c.dev);
    let run = c.mallory.run_as(
        "alice@acme.io",
        &["approve", &release(HEX), "--env", "production"],
    );
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr.contains("is not on origin/main"),
        "{}",
        run.stderr
    );
    let resume = c.dev.run(&["resume", &release(HEX)]);
    assert_eq!(resume.code, 4, "{}", resume.stderr);
    assert_eq!(s.platform.running("production"), None);
}

#[test]
fn an_offline_approval_from_a_visit_that_is_over_is_dropped_not_carried_into_the_next() {
    let (s, origin) = with_remote();
    let c = cast(&s);
    let other = s.env.path().join("other");
    let bob = person(&s, "bob@acme.io", true, &other);
    let allowed: String = [&c.dev, &c.alice, &bob]
        .iter()
        .map(|p| p.allowed())
        .collect();
    crate::signed::commit_allowed(&s, &allowed);
    s.env.git(&["push", "-q", "origin", "main"]);
    start(&c.dev);
    crate::signed::clone_other(&s, &origin);
    ok(&bob.run(&["status"]));
    ok(&bob.run(&["--offline", "approve", &release(HEX), "--env", "production"]));
    // Meanwhile alice rejects it, and dev brings it back on purpose: a second visit.
    let run = c.alice.run(&[
        "reject",
        &release(HEX),
        "--env",
        "production",
        "--reason",
        "not this one",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = c.dev.run(&["resume", &release(HEX)]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let run = c.dev.run(&[
        "promote",
        "--artifact",
        &artifact(HEX),
        "--force",
        "--reason",
        "again",
    ]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    // bob's clone catches up: his approval of the first visit is dropped, and said so.
    let run = bob.run(&["status"]);
    ok(&run);
    assert!(
        run.stderr.contains("approved by bob@acme.io of ")
            && run.stderr.contains(
                "made while offline is dropped: meanwhile the release was rejected by alice@acme.io"
            ),
        "{}",
        run.stderr
    );
    // It was not carried over: bob's approve now records an approval of this visit.
    let run = bob.run(&["approve", &release(HEX), "--env", "production"]);
    ok(&run);
    assert!(
        !run.stderr.contains("already approved by you"),
        "{}",
        run.stderr
    );
    let history = c.dev.run(&["history", &release(HEX)]);
    assert_eq!(
        history.stdout.matches("approved by bob@acme.io").count(),
        1,
        "{}",
        history.stdout
    );
}

#[test]
fn approve_refuses_a_key_whose_allowed_signers_line_has_expired_and_says_so() {
    let s = crate::signed::project(None);
    let c = cast(&s);
    let expired = c.alice.allowed().replacen(
        "namespaces=\"git\"",
        "namespaces=\"git\",valid-before=\"20200101Z\"",
        1,
    );
    crate::signed::commit_allowed(&s, &format!("{}{expired}", c.dev.allowed()));
    start(&c.dev);
    let run = approve(&c.alice);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("with a time limit, and it is expired at 2020-01-01"),
        "{}",
        run.stderr
    );
    let resume = c.dev.run(&["resume", &release(HEX)]);
    assert_eq!(resume.code, 4, "{}", resume.stderr);
    assert_eq!(s.platform.running("production"), None);
}

#[test]
fn principals_ignore_case_as_identities_do() {
    let s = crate::signed::project(None);
    let c = cast(&s);
    start(&c.dev);
    // alice's own key, her address written otherwise.
    let run = c.alice.run_as(
        "Alice@Acme.IO",
        &["approve", &release(HEX), "--env", "production"],
    );
    ok(&run);
    ok(&c.dev.run(&["resume", &release(HEX)]));
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 100)));
}
