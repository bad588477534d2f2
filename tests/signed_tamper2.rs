//! More of the record acted on being the record approved: merge commits pushed by hand
//! to the records branch, forged steps, environment entries and rejections, each an
//! unsigned commit pushed to the records remote as anyone with push access could.

use std::path::{Path, PathBuf};

use crate::common::setup::{HEX, OLD, Setup, artifact, release};
use crate::common::{git, ok};
use crate::signed::{approve, cast, refused, start, with_remote, with_remote_steps};

const PRODUCTION: &str = "apps/checkout/environments/production.yaml";

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
    let (s, origin) = with_remote();
    let c = cast(&s);
    s.env.git(&["push", "-q", "origin", "main"]);
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
    let (s, origin) = with_remote();
    let c = cast(&s);
    s.env.git(&["push", "-q", "origin", "main"]);
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

/// In a plain clone of `origin`'s records branch, `edit` made to `path`, committed
/// unsigned and pushed; the commit's id.
fn hand_edit(s: &Setup, origin: &Path, path: &str, edit: impl FnOnce(&str) -> String) -> String {
    let clone = hack_clone(s, origin, "hack");
    let file = clone.join(path);
    let text = std::fs::read_to_string(&file).expect("the record file");
    let edited = edit(&text);
    assert_ne!(text, edited, "{path}: the edit changes the file");
    std::fs::write(&file, edited).expect("edit");
    git(&clone, &["commit", "-q", "-am", "fix"]);
    git(&clone, &["push", "-q", "origin", "relctl/records"]);
    git(&clone, &["rev-parse", "HEAD"]).trim().to_string()
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
        let done = text.rfind("event: step_done").expect("a step_done");
        let start = text[..done].rfind("\n- at:").expect("its event") + 1;
        let end = text[done..]
            .find("\n- at:")
            .map_or(text.len(), |i| done + i + 1);
        let forged = text[start..end]
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
}
