//! More of the record acted on being the record approved: merge commits pushed by hand
//! to the records branch, forged steps, environment entries and rejections, each an
//! unsigned commit pushed to the records remote as anyone with push access could.

use std::path::{Path, PathBuf};

use crate::common::setup::{HEX, OLD, Setup, artifact, release};
use crate::common::{git, ok};
use crate::signed::{approve, cast, cast_on_remote, refused, start, with_remote_steps};
use crate::signed_tamper::live_after_approval;

const PRODUCTION: &str = "apps/c/7/checkout/environments/production.yaml";

fn release_file(hex: &str) -> String {
    relctl::format::release_path("checkout", &release(hex))
}

/// A plain clone of `origin`'s records branch, `dir` under the project.
fn hack_clone(s: &Setup, origin: &Path, dir: &str) -> PathBuf {
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
    s.env.path().join(dir)
}

/// The records branch's tip on `origin`.
fn remote_tip(origin: &Path) -> String {
    git(origin, &["rev-parse", "relctl/records"])
        .trim()
        .to_string()
}

/// In `clone`: a merge whose FIRST parent is `side` and second the records branch's
/// tip, with the tip's tree but `paths` as they are at `from`; pushed (a fast-forward).
fn merge_side_first(clone: &Path, side: &str, from: &str, paths: &[&str]) -> String {
    git(clone, &["checkout", "-q", side]);
    git(
        clone,
        &[
            "merge",
            "-q",
            "--no-ff",
            "--no-commit",
            "-s",
            "ours",
            "origin/relctl/records",
        ],
    );
    git(clone, &["checkout", "origin/relctl/records", "--", "."]);
    let mut args = vec!["checkout", from, "--"];
    args.extend_from_slice(paths);
    git(clone, &args);
    git(clone, &["commit", "-q", "-m", "merge"]);
    git(clone, &["push", "-q", "origin", "HEAD:relctl/records"]);
    git(clone, &["rev-parse", "HEAD"]).trim().to_string()
}

#[test]
fn a_merge_that_brings_back_the_record_from_before_a_rejection_does_not_count_the_approval() {
    let (s, origin, c) = cast_on_remote();
    start(&c.dev);
    ok(&approve(&c.alice));
    let approved = remote_tip(&origin);
    let run = c.alice.run(&[
        "reject",
        &release(HEX),
        "--env",
        "production",
        "--reason",
        "no",
    ]);
    ok(&run);
    let run = c.dev.run(&["resume", &release(HEX)]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    // mallory: a side commit on the approval, merged as the first parent, taking the
    // release and environment files from before the rejection.
    let clone = hack_clone(&s, &origin, "hack");
    git(&clone, &["checkout", "-q", "-b", "side", &approved]);
    git(&clone, &["commit", "-q", "--allow-empty", "-m", "side"]);
    let merge = merge_side_first(&clone, "side", &approved, &[&release_file(HEX), PRODUCTION]);
    refused(&s, &c.dev, &format!("record commit {merge} merged 2 lines"));
    let verify = c.dev.run(&["verify", &release(HEX)]);
    assert_eq!(verify.code, 1, "{}\n{}", verify.stdout, verify.stderr);
    assert!(
        verify
            .stdout
            .contains(&format!("record commit {merge} merged")),
        "{}",
        verify.stdout
    );
}

#[test]
fn a_merge_that_brings_in_a_second_start_by_someone_else_does_not_let_the_starter_approve() {
    let (s, origin, c) = cast_on_remote();
    let run = c.dev.run(&["promote", "--artifact", &artifact(OLD)]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    ok(&c.dev.run(&["abort", &release(OLD), "--reason", "not now"]));
    let before = remote_tip(&origin);
    // alice, an approver, starts HEX with her key.
    start(&c.alice);
    // mallory: a side line from before the start that creates the release as dev's,
    // unsigned, merged as the first parent.
    let clone = hack_clone(&s, &origin, "hack");
    let file = release_file(HEX);
    let text = std::fs::read_to_string(clone.join(&file)).expect("the release file");
    git(&clone, &["checkout", "-q", "-b", "side", &before]);
    std::fs::create_dir_all(clone.join(&file).parent().expect("a directory")).expect("mkdir");
    std::fs::write(
        clone.join(&file),
        text.replacen("actor: alice@acme.io", "actor: dev@acme.io", 1),
    )
    .expect("write");
    git(&clone, &["add", "-A"]);
    git(&clone, &["commit", "-q", "-m", "start"]);
    let merge = merge_side_first(&clone, "side", "side", &[&file]);
    let run = approve(&c.alice);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("record commit {merge} merged")),
        "{}",
        run.stderr
    );
    let run = c.dev.run(&["resume", &release(HEX)]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_eq!(s.platform.running("production"), None);
    let verify = c.dev.run(&["verify", &release(HEX)]);
    assert_eq!(verify.code, 1, "{}\n{}", verify.stdout, verify.stderr);
    assert!(
        verify
            .stdout
            .contains(&format!("record commit {merge} merged")),
        "{}",
        verify.stdout
    );
}

/// In a plain clone of `origin`'s records branch, whatever `change` does to it,
/// committed unsigned and pushed; the commit's id.
pub(crate) fn hand_commit(s: &Setup, origin: &Path, change: impl FnOnce(&Path)) -> String {
    let clone = hack_clone(s, origin, "hack");
    change(&clone);
    git(&clone, &["add", "-A"]);
    git(&clone, &["commit", "-q", "-m", "fix"]);
    git(&clone, &["push", "-q", "origin", "relctl/records"]);
    git(&clone, &["rev-parse", "HEAD"]).trim().to_string()
}

/// `edit` made to the file `path` of `clone`.
pub(crate) fn edit_file(clone: &Path, path: &str, edit: impl FnOnce(&str) -> String) {
    let file = clone.join(path);
    let text = std::fs::read_to_string(&file).expect("the record file");
    let edited = edit(&text);
    assert_ne!(text, edited, "{path}: the edit changes the file");
    std::fs::write(&file, edited).expect("edit");
}

/// `hand_commit` of one edit.
pub(crate) fn hand_edit(
    s: &Setup,
    origin: &Path,
    path: &str,
    edit: impl FnOnce(&str) -> String,
) -> String {
    hand_commit(s, origin, |clone| edit_file(clone, path, edit))
}

/// The event block of `text` (a release file) holding the last match of `marker`.
pub(crate) fn event_block<'t>(text: &'t str, marker: &str) -> &'t str {
    let at = text.rfind(marker).expect("the event");
    let start = text[..at].rfind("\n- at:").expect("its event") + 1;
    let end = text[at..]
        .find("\n- at:")
        .map_or(text.len(), |i| at + i + 1);
    &text[start..end]
}

const GATED: &str = "      - deploy: { weight: 10 }\n      - approval: {}\n      - deploy: {}\n";

#[test]
fn a_step_done_forged_for_a_signed_approval_step_does_not_pass_it() {
    let (s, origin) = with_remote_steps(GATED);
    let c = cast(&s);
    s.env.git(&["push", "-q", "origin", "main"]);
    start(&c.dev);
    ok(&approve(&c.alice));
    let run = c.dev.run(&["resume", &release(HEX)]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 10)));
    // mallory: the step-1 deploy's step_done, copied as the approval step's.
    hand_edit(&s, &origin, &release_file(HEX), |text| {
        let forged = event_block(text, "event: step_done")
            .replace("step: 0", "step: 1")
            .replace("action: deploy", "action: approval");
        format!("{text}{forged}")
    });
    let run = c.dev.run(&["resume", &release(HEX)]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains("waiting for approval in production"),
        "{}",
        run.stderr
    );
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 10)));
    let what = "step 2 (approval) in production is recorded done with 0 of the 1 counted approval(s) it needs";
    let verify = c.dev.run(&["verify", &release(HEX)]);
    assert_eq!(verify.code, 1, "{}\n{}", verify.stdout, verify.stderr);
    assert!(verify.stdout.contains(what), "{}", verify.stdout);
    let history = c.dev.run(&["history", &release(HEX)]);
    assert!(
        history.stdout.contains(&format!("UNAPPROVED  {what}")),
        "{}",
        history.stdout
    );
    // A counted approval of the step lets it go on.
    ok(&c
        .alice
        .run(&["approve", &release(HEX), "--env", "production"]));
    ok(&c.dev.run(&["resume", &release(HEX)]));
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 100)));
}

#[test]
fn a_rollback_target_with_a_fabricated_release_file_is_refused_under_a_signed_gate() {
    let (s, origin, c) = cast_on_remote();
    live_after_approval(&c, OLD);
    live_after_approval(&c, HEX);
    // mallory: a release nobody started (no events), named first among those live before.
    let evil = "e".repeat(64);
    let forged = release(&evil);
    hand_commit(&s, &origin, |clone| {
        let own = std::fs::read_to_string(clone.join(release_file(OLD))).expect("OLD's file");
        let head = &own[..own.find("events:").expect("its events")];
        let fabricated = format!(
            "{}events: []\n",
            head.replace(OLD, &evil).replace(&release(OLD), &forged)
        );
        let path = clone.join(release_file(&evil));
        std::fs::create_dir_all(path.parent().expect("a directory")).expect("mkdir");
        std::fs::write(path, fabricated).expect("write");
        edit_file(clone, PRODUCTION, |t| {
            let previous = t.find("previous:").expect("a previous entry");
            let tail = t[previous..]
                .replace(OLD, &evil)
                .replace(&release(OLD), &forged);
            format!("{}{tail}", &t[..previous])
        });
    });
    let run = c
        .dev
        .run(&["rollback", "--env", "production", "--reason", "spike"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "relctl/records:{PRODUCTION} names {forged} as live in production"
        )) && run
            .stderr
            .contains("its record does not show it went live in production")
            && run.stderr.contains("nothing was deployed"),
        "{}",
        run.stderr
    );
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 100)));
    let verify = c.dev.run(&["verify"]);
    assert_eq!(verify.code, 1, "{}\n{}", verify.stdout, verify.stderr);
    assert!(
        verify
            .stdout
            .contains(&format!("FAIL  {forged}  {PRODUCTION} names it as live")),
        "{}",
        verify.stdout
    );
}

#[test]
fn a_forged_live_event_does_not_make_a_release_a_rollback_target_under_a_signed_gate() {
    let (s, origin, c) = cast_on_remote();
    live_after_approval(&c, OLD);
    // HEX goes to staging only; mallory appends a `live` in production to its record.
    ok(&c
        .dev
        .run(&["promote", "--artifact", &artifact(HEX), "--to", "staging"]));
    hand_edit(&s, &origin, &release_file(HEX), |text| {
        let forged = event_block(text, "event: live").replace("env: staging", "env: production");
        format!("{text}{forged}")
    });
    let run = c.dev.run(&[
        "rollback",
        "--env",
        "production",
        "--to",
        &release(HEX),
        "--reason",
        "spike",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("names {} as live in production", release(HEX)))
            && run
                .stderr
                .contains("production's signed gate with 0 of the 1 counted approval(s)"),
        "{}",
        run.stderr
    );
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
}

#[test]
fn a_forged_unsigned_rejection_is_obeyed_but_said_not_to_verify() {
    let (s, origin, c) = cast_on_remote();
    start(&c.dev);
    hand_edit(&s, &origin, &release_file(HEX), |text| {
        let forged = event_block(text, "event: awaiting_approval").replace(
            "event: awaiting_approval",
            "event: rejected\n  by: bob@acme.io\n  reason: forged",
        );
        format!("{text}{forged}")
    });
    let run = c.dev.run(&["resume", &release(HEX)]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("rejection by bob@acme.io in production does not verify: ")
            && run.stderr.contains("it is obeyed all the same"),
        "{}",
        run.stderr
    );
    assert_eq!(s.platform.running("production"), None);
    let verify = c.dev.run(&["verify", &release(HEX)]);
    assert_eq!(verify.code, 1, "{}\n{}", verify.stdout, verify.stderr);
    assert!(
        verify
            .stdout
            .contains("rejection by bob@acme.io in production")
            && verify
                .stdout
                .contains("(obeyed: a rejection only stops the release)"),
        "{}",
        verify.stdout
    );
}

#[test]
fn resume_and_verify_name_an_expired_key_as_expired() {
    let s = crate::signed::project(None);
    let c = cast(&s);
    start(&c.dev);
    ok(&approve(&c.alice));
    // Later, alice's line is given an end date that has passed.
    let expired = c.alice.allowed().replacen(
        "namespaces=\"git\"",
        "namespaces=\"git\",valid-before=\"20200101Z\"",
        1,
    );
    crate::signed::commit_allowed(&s, &format!("{}{expired}", c.dev.allowed()));
    let said = "with a time limit, and it is expired at 2020-01-01";
    let run = c.dev.run(&["resume", &release(HEX)]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains(said) && !run.stderr.contains("not in the allowed signers"),
        "{}",
        run.stderr
    );
    assert_eq!(s.platform.running("production"), None);
    let verify = c.dev.run(&["verify", &release(HEX)]);
    assert_eq!(verify.code, 1, "{}\n{}", verify.stdout, verify.stderr);
    assert!(verify.stdout.contains(said), "{}", verify.stdout);
}

#[test]
fn the_force_push_hint_says_to_push_only_from_the_clone_furthest_ahead() {
    let (s, origin, c) = cast_on_remote();
    start(&c.dev);
    ok(&approve(&c.alice));
    let clone = hack_clone(&s, &origin, "elsewhere");
    git(&clone, &["reset", "-q", "--hard", "HEAD~1"]);
    git(
        &clone,
        &["commit", "-q", "--allow-empty", "-m", "rewritten"],
    );
    git(
        &clone,
        &["push", "-q", "--force", "origin", "relctl/records"],
    );
    let run = c.dev.run(&["status"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let here = s.env.path().display().to_string();
    assert!(
        run.stderr.contains("first find the clone furthest ahead")
            && run.stderr.contains(&format!(
                "`git -C {} push --force origin relctl/records`",
                here.trim_end_matches('/')
            ))
            && !run.stderr.contains("/ push"),
        "{}",
        run.stderr
    );
}
