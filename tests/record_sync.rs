//! Sharing the record through a remote as people use it: two clones of one bare
//! remote, a remote that hangs, is mistyped or goes away, a CI runner that must not
//! take the record with it, a records branch edited or checked out by hand, and a
//! `record.branch` that names a code branch.

use crate::common::silent::Silent;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::platform::Platform;
use crate::common::setup::{CANARY, HEX, OLD, SECRET, Setup, artifact, plan, release};
use crate::common::{Run, TestEnv, git, ok};

const REMOTE: &str = "app: checkout\nrecord: { remote: origin }\n";
const APPROVAL: &str = "    approval: { approvers: [\"alice@acme.io\"] }\n";

/// A bare remote `origin.git` and clones of it that each have the plan (records
/// shared through `origin`), every one in one temp dir.
struct Clones {
    env: TestEnv,
    platform: Platform,
    origin: PathBuf,
}

impl Clones {
    fn new(production_extra: &str) -> Clones {
        let env = TestEnv::new();
        let platform = Platform::start();
        git(
            env.path(),
            &["init", "-q", "--bare", "-b", "main", "origin.git"],
        );
        let origin = env.path().join("origin.git");
        let clones = Clones {
            env,
            platform,
            origin,
        };
        let text =
            plan(&clones.platform, production_extra, CANARY).replace("app: checkout\n", REMOTE);
        for name in ["a", "b"] {
            git(
                clones.env.path(),
                &[
                    "clone",
                    "-q",
                    clones.origin.to_str().unwrap_or_default(),
                    name,
                ],
            );
            std::fs::write(clones.dir(name).join("release.yaml"), &text).expect("write the plan");
        }
        clones
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.env.path().join(name)
    }

    /// relctl in clone `name`, as `actor`, with `vars` set.
    fn run(&self, name: &str, actor: &str, vars: &[(&str, &str)], args: &[&str]) -> Run {
        let mut cmd = self.env.std_command();
        cmd.current_dir(self.dir(name))
            .args(args)
            .env("DEPLOY_TOKEN", SECRET)
            .env("RELCTL_ACTOR", actor)
            .env("RELCTL_BACKOFF_MS", "1");
        for (key, value) in vars {
            cmd.env(key, value);
        }
        let out = cmd.output().expect("run relctl");
        Run::from(out)
    }

    fn relctl(&self, name: &str, args: &[&str]) -> Run {
        self.run(name, "dev@example.com", &[], args)
    }

    /// Takes the remote away (a disk gone, a URL that no longer answers); returns
    /// where it went.
    fn take_remote_away(&self) -> PathBuf {
        let away = self.env.path().join("away.git");
        std::fs::rename(&self.origin, &away).expect("take the remote away");
        away
    }

    fn remote_log(&self) -> String {
        git(&self.origin, &["log", "--format=%s", "relctl/records"])
    }
}

fn status_json(run: &Run) -> serde_json::Value {
    ok(run);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

/// The release live in `env` according to `status --output json`.
fn live_in(status: &serde_json::Value, env: &str) -> Option<String> {
    status["environments"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["env"] == env))
        .and_then(|row| row["release"].as_str())
        .map(str::to_string)
}

#[test]
fn a_second_clone_sees_what_the_first_recorded_in_status_and_history() {
    let c = Clones::new("");
    ok(&c.relctl(
        "a",
        &["promote", "--artifact", &artifact(HEX), "--to", "staging"],
    ));

    // b cloned before any of it and never ran git fetch.
    let status = status_json(&c.relctl("b", &["--output", "json", "status"]));
    assert_eq!(live_in(&status, "staging"), Some(release(HEX)));
    assert_eq!(status["view"]["fetched"], true);
    let history = c.relctl("b", &["history", "--env", "staging"]);
    ok(&history);
    assert!(
        history
            .stdout
            .contains(&format!("{} staging: live", release(HEX))),
        "{}",
        history.stdout
    );
    assert!(history.stderr.is_empty(), "{}", history.stderr);
}

#[test]
fn a_remote_that_hangs_does_not_hang_status_and_the_view_says_how_old_it_is() {
    let c = Clones::new("");
    ok(&c.relctl(
        "a",
        &["promote", "--artifact", &artifact(HEX), "--to", "dev"],
    ));
    // Then a's remote stops answering; a records one more release meanwhile.
    let silent = Silent::start();
    git(
        &c.dir("a"),
        &["remote", "set-url", "origin", &silent.url("git")],
    );
    let run = c.relctl(
        "a",
        &[
            "--offline",
            "promote",
            "--artifact",
            &artifact(OLD),
            "--to",
            "dev",
        ],
    );
    ok(&run);

    let started = Instant::now();
    let run = c.relctl("a", &["status"]);
    ok(&run);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "status took {:?}",
        started.elapsed()
    );
    let warning = run
        .stderr
        .lines()
        .find(|l| l.starts_with("warning: could not reach origin"))
        .unwrap_or_else(|| panic!("no freshness warning: {}", run.stderr));
    // Either the command's own deadline or libgit2's read timeout (both 5 s) ends it.
    assert!(warning.contains("within 5 s"), "{warning}");
    assert!(warning.contains("showing the record as of 20"), "{warning}");
    assert!(warning.contains("(the last fetch)"), "{warning}");
    assert!(warning.ends_with(" commit(s) not pushed"), "{warning}");
    assert!(run.stdout.contains(&release(OLD)), "{}", run.stdout);

    // --offline does not ask the remote at all, and says so.
    let run = c.relctl("a", &["--offline", "--output", "json", "status"]);
    let status = status_json(&run);
    assert_eq!(status["view"]["fetched"], false);
    assert_eq!(live_in(&status, "dev"), Some(release(OLD)));
    assert!(
        run.stderr.contains("--offline: showing the record as of"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_code_branch_named_as_the_records_branch_is_refused() {
    let s = Setup::new("", CANARY);
    s.env.git(&["branch", "deploy"]);
    let before = s.env.git(&["rev-parse", "deploy"]);
    let text = std::fs::read_to_string(s.env.path().join("release.yaml")).expect("the plan");
    s.env.write(
        "release.yaml",
        text.replace(
            "app: checkout\n",
            "app: checkout\nrecord: { branch: deploy }\n",
        ),
    );
    for args in [
        &["promote", "--artifact", &artifact(HEX)][..],
        &["status"][..],
    ] {
        let run = s.relctl(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("the branch `deploy` in ")
                && run
                    .stderr
                    .contains("is not a records branch relctl created: it holds README"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("hint: ") && run.stderr.contains("`record.branch`"),
            "{}",
            run.stderr
        );
    }
    assert_eq!(
        s.env.git(&["rev-parse", "deploy"]),
        before,
        "the code branch is untouched"
    );
    assert!(s.platform.deploys().is_empty());
}

#[test]
fn a_code_branch_on_the_remote_is_refused_before_it_is_built_on() {
    let c = Clones::new("");
    // The remote's `main` is code; the plan names it as the records branch.
    git(
        &c.dir("a"),
        &["commit", "-q", "--allow-empty", "-m", "code"],
    );
    c.env.write("a/src/lib.rs", "// code\n");
    git(&c.dir("a"), &["add", "src/lib.rs"]);
    git(&c.dir("a"), &["commit", "-q", "-m", "more code"]);
    git(&c.dir("a"), &["push", "-q", "origin", "main"]);
    let text = std::fs::read_to_string(c.dir("b").join("release.yaml")).expect("the plan");
    std::fs::write(
        c.dir("b").join("release.yaml"),
        text.replace(
            REMOTE,
            "app: checkout\nrecord: { remote: origin, branch: code }\n",
        ),
    )
    .expect("write the plan");
    git(&c.origin, &["branch", "code", "main"]);
    let before = git(&c.origin, &["rev-parse", "code"]);
    let run = c.relctl("b", &["promote", "--artifact", &artifact(HEX)]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("the branch `code` on remote `origin` is not a records branch relctl created: it holds src"),
        "{}",
        run.stderr
    );
    assert_eq!(git(&c.origin, &["rev-parse", "code"]), before);
    assert!(c.platform.deploys().is_empty());
}

#[test]
fn a_remote_never_reached_is_an_error_before_anything_is_deployed() {
    let s = Setup::new("", CANARY);
    let typo = s.env.path().join("orgin.git");
    s.env
        .git(&["remote", "add", "origin", typo.to_str().unwrap_or_default()]);
    let text = std::fs::read_to_string(s.env.path().join("release.yaml")).expect("the plan");
    s.env
        .write("release.yaml", text.replace("app: checkout\n", REMOTE));

    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error: the records remote `origin` has never been reached from this clone"),
        "{}",
        run.stderr
    );
    // The path is named for what it is, not as an "unsupported URL protocol".
    assert!(
        run.stderr.contains(&format!(
            "remote `origin` is the path {}, which does not exist",
            typo.display()
        )),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("unsupported URL protocol"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--offline"), "{}", run.stderr);
    assert!(s.platform.deploys().is_empty());
    assert_eq!(s.env.records_log(), "", "nothing recorded");

    // --offline goes on with the record kept here; status counts what waits.
    let run = s.promote(HEX, &["--offline", "--to", "dev"]);
    ok(&run);
    assert_eq!(s.platform.deploys().len(), 1);
    assert!(
        run.stderr.contains("kept in this clone (--offline)"),
        "{}",
        run.stderr
    );
    let status = status_json(&s.relctl(&["--offline", "--output", "json", "status"]));
    assert_eq!(status["unpushed"], 5);
}

#[test]
fn under_ci_records_left_unpushed_fail_the_run_after_retrying() {
    let c = Clones::new("");
    ok(&c.relctl(
        "a",
        &["promote", "--artifact", &artifact(OLD), "--to", "dev"],
    ));
    c.take_remote_away();
    let ci = [
        ("CI", "true"),
        ("GITHUB_ACTIONS", "true"),
        ("RELCTL_PUSH_RETRY", "2s"),
    ];
    let run = c.run(
        "a",
        "dev@example.com",
        &ci,
        &["promote", "--artifact", &artifact(HEX), "--to", "dev"],
    );
    assert_eq!(run.code, 7, "{}", run.stderr);
    assert_eq!(
        c.platform.deploys().len(),
        2,
        "the release itself went through"
    );
    assert!(
        run.stderr.contains("::error title=relctl::")
            && run
                .stderr
                .contains("did not reach the records remote `origin` after 2 s of retrying"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("error: "), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("hint: the record exists only in this CI workspace"),
        "{}",
        run.stderr
    );

    // Outside CI the same run is a warning, exit 0 (the next command pushes).
    let run = c.relctl(
        "a",
        &[
            "promote",
            "--artifact",
            &artifact(OLD),
            "--env",
            "dev",
            "--force",
            "--reason",
            "back",
        ],
    );
    ok(&run);
}

#[test]
fn a_fresh_clone_that_cannot_reach_the_remote_decides_from_what_git_clone_fetched() {
    let c = Clones::new("");
    ok(&c.relctl(
        "a",
        &["promote", "--artifact", &artifact(OLD), "--to", "dev"],
    ));
    // A clone made now has the records only as origin/relctl/records, as `git clone`
    // (and a CI checkout with fetch-depth: 0) leaves them.
    git(
        c.env.path(),
        &["clone", "-q", c.origin.to_str().unwrap_or_default(), "c"],
    );
    let plan = std::fs::read(c.dir("a").join("release.yaml")).expect("read the plan");
    std::fs::write(c.dir("c").join("release.yaml"), plan).expect("write the plan");
    c.take_remote_away();

    let status = status_json(&c.relctl("c", &["--offline", "status", "--output", "json"]));
    assert_eq!(live_in(&status, "dev"), Some(release(OLD)), "{status}");
    let run = c.relctl(
        "c",
        &["promote", "--artifact", &artifact(OLD), "--to", "dev"],
    );
    ok(&run);
    assert_eq!(c.platform.deploys().len(), 1, "nothing deployed again");
    // One history, not a second one started beside the remote's.
    git(
        &c.dir("c"),
        &["merge-base", "relctl/records", "origin/relctl/records"],
    );
}

#[test]
fn approving_a_release_this_clone_has_not_seen_says_the_remote_was_not_reached() {
    let c = Clones::new(APPROVAL);
    let run = c.relctl("a", &["promote", "--artifact", &artifact(HEX)]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    c.take_remote_away();
    let run = c.run(
        "b",
        "alice@acme.io",
        &[],
        &["approve", &release(HEX), "--env", "production"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "there is no release `{}` in this clone's record, and the records remote could not be reached",
            release(HEX)
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn under_ci_a_second_rollback_that_finds_the_work_done_still_wants_the_record_pushed() {
    let c = Clones::new("");
    for hex in [OLD, HEX] {
        ok(&c.relctl(
            "a",
            &["promote", "--artifact", &artifact(hex), "--to", "dev"],
        ));
    }
    c.take_remote_away();
    ok(&c.relctl("a", &["rollback", "--env", "dev", "--reason", "5xx"]));
    let ci = [("CI", "true"), ("RELCTL_PUSH_RETRY", "1s")];
    let run = c.run(
        "a",
        "dev@example.com",
        &ci,
        &["rollback", "--env", "dev", "--reason", "again"],
    );
    assert_eq!(run.code, 7, "{}", run.stderr);
    assert!(run.stderr.contains("dev is already on"), "{}", run.stderr);
    assert!(
        run.stderr.contains("deciding from the local record"),
        "{}",
        run.stderr
    );
    assert_eq!(
        c.platform.deploys().len(),
        3,
        "one redeploy, by the first rollback"
    );
}

#[test]
fn under_ci_a_rollback_goes_on_without_the_remote_then_says_its_record_did_not_reach_it() {
    let c = Clones::new("");
    for hex in [OLD, HEX] {
        ok(&c.relctl(
            "a",
            &["promote", "--artifact", &artifact(hex), "--to", "dev"],
        ));
    }
    c.take_remote_away();
    let ci = [
        ("CI", "true"),
        ("GITHUB_ACTIONS", "true"),
        ("RELCTL_PUSH_RETRY", "2s"),
    ];
    let run = c.run(
        "a",
        "dev@example.com",
        &ci,
        &["rollback", "--env", "dev", "--reason", "5xx"],
    );
    assert_eq!(run.code, 7, "{}", run.stderr);
    assert_eq!(
        c.platform.deploys().last().map(|d| d.1.clone()),
        Some(artifact(OLD)),
        "the rollback itself went through"
    );
    assert!(
        run.stderr.contains("::error title=relctl::")
            && run
                .stderr
                .contains("did not reach the records remote `origin` after 2 s of retrying"),
        "{}",
        run.stderr
    );
}

#[test]
fn under_ci_a_remote_back_in_time_takes_the_record() {
    use std::io::{BufRead, BufReader};
    let c = Clones::new("");
    ok(&c.relctl(
        "a",
        &["promote", "--artifact", &artifact(OLD), "--to", "dev"],
    ));
    let away = c.take_remote_away();
    let mut child = c
        .env
        .std_command()
        .current_dir(c.dir("a"))
        .args(["promote", "--artifact", &artifact(HEX), "--to", "dev"])
        .env("DEPLOY_TOKEN", SECRET)
        .env("CI", "true")
        .env("RELCTL_PUSH_RETRY", "60s")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start relctl");
    let stderr = child.stderr.take().expect("stderr");
    let mut said = String::new();
    // The remote comes back once the run says it is retrying.
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("a line of stderr");
        said.push_str(&line);
        said.push('\n');
        if line.contains("retrying for up to 60 s") {
            std::fs::rename(&away, &c.origin).expect("bring the remote back");
        }
    }
    let status = child.wait().expect("relctl ends");
    assert_eq!(status.code(), Some(0), "{said}");
    assert!(
        said.contains("this run's record reached origin after retrying"),
        "{said}"
    );
    assert!(
        c.remote_log()
            .contains(&format!("{} dev: live", release(HEX))),
        "{}",
        c.remote_log()
    );
}

/// A release of clone `a` paused at production's approval, its record pushed and read
/// by clone `b`; then the remote goes away.
fn paused_at_approval() -> Clones {
    let c = Clones::new(APPROVAL);
    let run = c.run(
        "a",
        "bob@acme.io",
        &[],
        &["promote", "--artifact", &artifact(HEX)],
    );
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        c.remote_log().contains("awaiting approval"),
        "{}",
        c.remote_log()
    );
    // b, where the approver works, has read it.
    ok(&c.relctl("b", &["status"]));
    c.take_remote_away();
    c
}

fn assert_said_not_reached(run: &Run, what: &str) {
    ok(run);
    assert!(
        run.stderr.contains(&format!(
            "warning: {what} is recorded in this clone only: it did not reach `origin`"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("a promote waiting elsewhere does not"),
        "{}",
        run.stderr
    );
}

#[test]
fn approve_says_when_the_approval_did_not_reach_the_remote() {
    let c = paused_at_approval();
    let run = c.run(
        "b",
        "alice@acme.io",
        &[],
        &["approve", &release(HEX), "--env", "production"],
    );
    assert_said_not_reached(&run, "the approval");
}

#[test]
fn reject_says_when_the_rejection_did_not_reach_the_remote() {
    let c = paused_at_approval();
    let run = c.run(
        "a",
        "alice@acme.io",
        &[],
        &[
            "reject",
            &release(HEX),
            "--env",
            "production",
            "--reason",
            "not today",
        ],
    );
    assert_said_not_reached(&run, "the rejection");
}

#[test]
fn unlock_says_when_the_unlock_did_not_reach_the_remote() {
    let c = paused_at_approval();
    let run = c.relctl(
        "a",
        &["unlock", "--env", "production", "--reason", "runner gone"],
    );
    assert_said_not_reached(&run, "the unlock");
}

#[test]
fn status_works_while_the_records_branch_is_checked_out() {
    let s = Setup::new("", CANARY);
    ok(&s.promote(HEX, &["--to", "dev"]));
    s.env.git(&["checkout", "-q", "relctl/records"]);
    let run = s.relctl(&["status"]);
    ok(&run);
    assert!(run.stdout.contains(&release(HEX)), "{}", run.stdout);
    ok(&s.relctl(&["history"]));
    // Writing it is still refused: relctl would move the files under the user.
    let run = s.promote(OLD, &["--to", "dev"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("is checked out in"), "{}", run.stderr);
}

/// Commits `edit` of the records branch by hand, in a worktree of its own.
pub fn edit_records(dir: &Path, message: &str, edit: impl FnOnce(&Path)) {
    let tree = dir.join("records-tree");
    let tree_arg = tree.display().to_string();
    git(dir, &["worktree", "add", "-q", &tree_arg, "relctl/records"]);
    edit(&tree);
    git(&tree, &["commit", "-q", "-am", message]);
    git(dir, &["worktree", "remove", &tree_arg]);
}

#[test]
fn a_corrupt_environment_file_is_named_with_what_to_do() {
    let s = Setup::new("", CANARY);
    ok(&s.promote(HEX, &["--to", "dev"]));
    edit_records(s.env.path(), "fix dev by hand", |tree| {
        std::fs::write(
            tree.join("apps/c/7/checkout/environments/dev.yaml"),
            "live: [unclosed\n  release: x\n",
        )
        .expect("edit");
    });
    for args in [
        &["status"][..],
        &["promote", "--artifact", &artifact(HEX)][..],
    ] {
        let run = s.relctl(args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(
                "error: cannot read the record file relctl/records:apps/c/7/checkout/environments/dev.yaml"
            ),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("caused by: "),
            "the parse error: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("hint: it was changed outside relctl: `git show relctl/records:apps/c/7/checkout/environments/dev.yaml`"),
            "{}",
            run.stderr
        );
    }
    // Undone as the hint says (a commit by hand on the branch), relctl reads it again.
    let tree = s.env.path().join("records-tree");
    let tree_arg = tree.display().to_string();
    s.env
        .git(&["worktree", "add", "-q", &tree_arg, "relctl/records"]);
    git(&tree, &["revert", "--no-edit", "HEAD"]);
    s.env.git(&["worktree", "remove", &tree_arg]);
    let run = s.relctl(&["status"]);
    ok(&run);
    assert!(run.stdout.contains(&release(HEX)), "{}", run.stdout);
}

#[test]
fn offline_a_plan_naming_a_remote_this_repository_lacks_is_read_and_written_here() {
    let s = Setup::new("", CANARY);
    let text = std::fs::read_to_string(s.env.path().join("release.yaml")).expect("plan");
    s.env.write(
        "release.yaml",
        format!("{text}record: {{ remote: origin }}\n"),
    );
    // Online, a remote that is not there is a mistake worth stopping for.
    let run = s.env.run(&["plan", "--artifact", &artifact(HEX)]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("no remote named `origin`"),
        "{}",
        run.stderr
    );
    // --offline leaves the remote alone, missing or not.
    ok(&s
        .env
        .run(&["--offline", "plan", "--artifact", &artifact(HEX)]));
    ok(&s.promote(HEX, &["--offline"]));
    ok(&s.env.run(&["--offline", "status"]));
    assert_eq!(
        s.platform.deploys(),
        crate::common::setup::canary_deploys(HEX)
    );
}

#[test]
fn resume_and_abort_find_a_release_another_clone_started() {
    let approval = "    approval: { approvers: [\"alice@acme.io\"] }\n";
    let c = Clones::new(approval);
    // Clone a starts two releases; each pauses at production's approval (a's record is
    // pushed); clone b has fetched nothing since it was cloned.
    assert_eq!(
        c.relctl("a", &["promote", "--artifact", &artifact(HEX)])
            .code,
        4
    );
    let run = c.run(
        "a",
        "alice@acme.io",
        &[],
        &["approve", &release(HEX), "--env", "production"],
    );
    ok(&run);
    ok(&c.relctl("b", &["resume", &release(HEX)]));
    assert_eq!(c.platform.running("production"), Some((artifact(HEX), 100)));
    assert_eq!(
        c.relctl("a", &["promote", "--artifact", &artifact(OLD)])
            .code,
        4
    );
    ok(&c.relctl("b", &["abort", &release(OLD), "--reason", "not this one"]));
    assert!(c.remote_log().contains("aborted"), "{}", c.remote_log());
}

/// A clone that has not fetched yet decides what a release is on what the remote holds:
/// a digest whose release id another clone has recorded for another digest is refused
/// there too, and the same digest continues the release the other clone recorded.
#[test]
fn a_clone_behind_the_remote_sees_a_release_id_another_clone_took() {
    let c = Clones::new("");
    ok(&c.relctl(
        "a",
        &[
            "promote",
            "--artifact",
            &artifact(HEX),
            "--to",
            "dev",
            "--version",
            "1.0.0",
        ],
    ));
    let deploys = c.platform.deploys().len();
    let other = format!("{}{}", &HEX[..12], "d".repeat(52));
    let run = c.relctl(
        "b",
        &[
            "--output",
            "json",
            "promote",
            "--artifact",
            &artifact(&other),
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("that id is taken by"), "{}", run.stderr);
    assert_eq!(c.platform.deploys().len(), deploys, "nothing deployed");
    // The same digest from b continues a's release, with a's version.
    let run = c.relctl(
        "b",
        &["promote", "--artifact", &artifact(HEX), "--to", "staging"],
    );
    ok(&run);
    let status = status_json(&c.relctl("a", &["--output", "json", "status"]));
    assert_eq!(live_in(&status, "staging"), Some(release(HEX)));
    assert!(
        status["environments"].as_array().is_some_and(|rows| rows
            .iter()
            .any(|r| r["env"] == "staging" && r["version"] == "1.0.0")),
        "{status}"
    );
}

/// A release file holding an event this relctl does not know was written by a newer
/// relctl: the error says so and to upgrade, not to revert a change made by hand.
#[test]
fn an_event_from_a_newer_relctl_says_to_upgrade_not_to_revert() {
    let s = Setup::new("", CANARY);
    ok(&s.promote(HEX, &["--to", "dev"]));
    let path = relctl::format::release_path("checkout", &release(HEX));
    edit_records(s.env.path(), "an event of a newer relctl", |tree| {
        let file = tree.join(&path);
        let text = std::fs::read_to_string(&file).expect("the release file");
        let text = text.replacen("event: live", "event: from_the_future", 1);
        std::fs::write(&file, text).expect("edit");
    });
    let line = s
        .record_file(&path)
        .lines()
        .position(|l| l.contains("event: from_the_future"))
        .expect("the edited line")
        + 1;
    let run = s.relctl(&["history", &release(HEX)]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("does not know: `from_the_future`, line {line}")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("holds an event this relctl (")
            && run
                .stderr
                .contains("upgrade this relctl, and leave the file as it is"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("git revert"), "{}", run.stderr);
    // Only the line that names it, not the parser's place at the end of the event.
    assert!(!run.stderr.contains("column"), "{}", run.stderr);
}
