//! A records remote that accepts connections and never answers (over http:// and
//! git://): writing commands go on from the record in this clone and say so, and
//! Ctrl-C ends a command that waits for the remote with exit 130.

use std::process::{Child, Stdio};
use std::time::Duration;

use crate::common::setup::{CANARY, HEX, OLD, SECRET, Setup, artifact, plan, quick, release};
use crate::common::silent::Silent;
use crate::common::wait::{finish_within, wait_until_within};
use crate::common::{Run, git};
use crate::reliability::git_daemon::GitDaemon;

/// Far beyond any bound relctl puts on the remote: a run that takes this long hangs.
const HANG: Duration = Duration::from_secs(120);

/// Waits for `silent` to take a connection from `child`, which must still run.
fn wait_for_a_connection(silent: &Silent, child: &mut Child) {
    wait_while_running("relctl to connect to the silent remote", child, || {
        silent.accepted() > 0
    });
}

/// Waits for `done`, failing the test if `child` ends first or after `HANG`.
fn wait_while_running(what: &str, child: &mut Child, done: impl Fn() -> bool) {
    wait_until_within(HANG, what, || {
        assert!(
            child.try_wait().ok().flatten().is_none(),
            "relctl ended before {what}"
        );
        done()
    });
}

fn interrupt(child: &Child) {
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
}

/// The plan with its record shared through `origin`, a bare repository that this
/// clone has pushed to, then pointed at `url`.
fn shared(extra: &str) -> Setup {
    let s = Setup::new(extra, CANARY);
    s.env.write(
        "release.yaml",
        format!(
            "{}record: {{ remote: origin }}\n",
            plan(&s.platform, extra, CANARY)
        ),
    );
    git(s.env.path(), &["init", "-q", "--bare", "origin.git"]);
    s.env.git(&["remote", "add", "origin", "origin.git"]);
    s
}

fn silence(s: &Setup, url: &str) {
    s.env.git(&["remote", "set-url", "origin", url]);
}

/// relctl with a generous limit, so that a hang fails the test instead of holding it.
fn bounded(s: &Setup, actor: Option<&str>, args: &[&str]) -> Run {
    let limit = |c: &mut assert_cmd::Command| {
        quick(c);
        c.timeout(HANG);
    };
    match actor {
        Some(actor) => s.env.operator(actor).run_with(args, limit),
        None => s.env.run_with(args, limit),
    }
}

fn records_at_origin(s: &Setup) -> String {
    git(
        &s.env.path().join("origin.git"),
        &["log", "--format=%s", "relctl/records"],
    )
}

#[test]
fn rollback_with_a_silent_remote_deploys_from_the_local_record() {
    let s = shared("");
    assert_eq!(s.promote(OLD, &["--version", "1.0.0"]).code, 0);
    assert_eq!(s.promote(HEX, &["--version", "1.1.0"]).code, 0);
    let silent = Silent::start();
    silence(&s, &silent.url("http"));
    let run = bounded(
        &s,
        None,
        &["rollback", "--env", "production", "--reason", "5xx"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("deciding from the local record"),
        "{}",
        run.stderr
    );
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
    assert!(silent.accepted() > 0);
    // Recorded here; origin never heard of it.
    assert!(
        s.env.records_log().contains("rolled back"),
        "{}",
        s.env.records_log()
    );
    assert!(!records_at_origin(&s).contains("rolled back"));
}

#[test]
fn promote_with_a_silent_remote_goes_on_from_the_local_record() {
    let s = shared("");
    assert_eq!(s.promote(OLD, &["--to", "dev"]).code, 0);
    let silent = Silent::start();
    silence(&s, &silent.url("git"));
    let run = bounded(
        &s,
        None,
        &["promote", "--artifact", &artifact(HEX), "--to", "dev"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("deciding from the local record"),
        "{}",
        run.stderr
    );
    assert_eq!(s.platform.running("dev"), Some((artifact(HEX), 100)));
    assert!(s.events(HEX).contains(&"live".to_string()));
    assert!(!records_at_origin(&s).contains(&release(HEX)));
}

const APPROVAL: &str = "    approval: { approvers: [\"alice@acme.io\"], min: 1 }\n";

#[test]
fn an_approval_with_a_silent_remote_says_it_did_not_reach_it() {
    let s = shared(APPROVAL);
    let run = s.relctl_as("dev@acme.io", &["promote", "--artifact", &artifact(HEX)]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    let silent = Silent::start();
    silence(&s, &silent.url("http"));
    let run = bounded(
        &s,
        Some("alice@acme.io"),
        &["approve", &release(HEX), "--env", "production"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the approval is recorded in this clone only: it did not reach `origin`"),
        "{}",
        run.stderr
    );
    assert!(s.events(HEX).contains(&"approved".to_string()));
    assert!(!records_at_origin(&s).contains("approved"));
}

#[test]
fn an_unlock_with_a_silent_remote_over_ssh_says_it_did_not_reach_it() {
    let s = shared(APPROVAL);
    let run = s.relctl_as("dev@acme.io", &["promote", "--artifact", &artifact(HEX)]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    let silent = Silent::start();
    silence(&s, &silent.url("ssh"));
    let run = bounded(
        &s,
        None,
        &["unlock", "--env", "production", "--reason", "stuck"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the unlock is recorded in this clone only: it did not reach `origin`"),
        "{}",
        run.stderr
    );
    assert!(silent.accepted() > 0);
    assert!(!records_at_origin(&s).contains("unlock"));
}

#[test]
fn ctrl_c_while_a_waiting_run_asks_a_silent_remote_records_interrupted_and_exits_130() {
    let s = shared(APPROVAL);
    let dev = s.env.operator("dev@acme.io");
    let mut waiting = dev
        .std_command()
        .args([
            "promote",
            "--artifact",
            &artifact(HEX),
            "--wait-approval=1h",
        ])
        .env("DEPLOY_TOKEN", SECRET)
        .env("RELCTL_POLL_MS", "20")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start promote");
    wait_while_running("the approval gate", &mut waiting, || {
        records_at_origin_has(&s, "awaiting approval")
    });
    let silent = Silent::start();
    silence(&s, &silent.url("http"));
    // Its next look at the remote for an approval waits for an answer.
    wait_for_a_connection(&silent, &mut waiting);
    interrupt(&waiting);
    let run = finish_within(waiting, HANG);
    assert_eq!(run.code, 130, "{}", run.stderr);
    assert_eq!(
        s.events(HEX).last().map(String::as_str),
        Some("interrupted"),
        "{:?}",
        s.events(HEX)
    );
}

#[test]
fn ctrl_c_while_a_command_waits_for_a_silent_remote_exits_130_having_recorded_nothing() {
    let s = shared(APPROVAL);
    let run = s.relctl_as("dev@acme.io", &["promote", "--artifact", &artifact(HEX)]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    let silent = Silent::start();
    silence(&s, &silent.url("git"));
    let alice = s.env.operator("alice@acme.io");
    let mut approving = alice
        .std_command()
        .args(["approve", &release(HEX), "--env", "production"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start approve");
    wait_for_a_connection(&silent, &mut approving);
    interrupt(&approving);
    let run = finish_within(approving, HANG);
    assert_eq!(run.code, 130, "{}", run.stderr);
    assert!(!s.events(HEX).contains(&"approved".to_string()));
}

/// Writes the hook `name` of the records remote origin.git, executable.
fn origin_hook(s: &Setup, name: &str, script: &str) {
    let hook = s.env.path().join("origin.git").join("hooks").join(name);
    std::fs::write(&hook, script).expect("write the hook");
    let chmod = std::process::Command::new("chmod")
        .arg("+x")
        .arg(&hook)
        .status()
        .expect("chmod");
    assert!(chmod.success());
}

const FROZEN: &str = "#!/bin/sh\necho 'records are frozen for the audit' >&2\nexit 1\n";

/// A records remote on this machine (a path, as on a shared disk) runs its hooks for
/// relctl's pushes as for any push: a `post-receive` sees each one, and a `pre-receive`
/// that declines is reported as refused with its reason, the record kept here.
#[test]
fn a_records_remote_on_this_machine_runs_its_hooks_for_relctls_pushes() {
    let s = shared("");
    let seen = s.env.path().join("received");
    origin_hook(
        &s,
        "post-receive",
        &format!("#!/bin/sh\ncat >> '{}'\n", seen.display()),
    );
    let run = bounded(
        &s,
        None,
        &["promote", "--artifact", &artifact(OLD), "--to", "dev"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("not pushed"), "{}", run.stderr);
    let received = std::fs::read_to_string(&seen).expect("the post-receive hook ran");
    assert!(received.contains("refs/heads/relctl/records"), "{received}");
    assert!(records_at_origin_has(&s, "dev: live"));

    origin_hook(&s, "pre-receive", FROZEN);
    let run = bounded(
        &s,
        None,
        &["promote", "--artifact", &artifact(HEX), "--to", "dev"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("remote `origin` refused the push: ")
            && run.stderr.contains("pre-receive hook declined")
            && run.stderr.contains("records are frozen for the audit"),
        "{}",
        run.stderr
    );
    assert!(!records_at_origin_has(&s, &release(HEX)));
    // Under CI a record that cannot leave the runner fails the job.
    let run = s.env.run_with(
        &["promote", "--artifact", &artifact(HEX), "--to", "dev"],
        |c| {
            quick(c);
            c.env("CI", "true")
                .env("RELCTL_PUSH_RETRY", "0s")
                .timeout(HANG);
        },
    );
    assert_eq!(run.code, 7, "{}", run.stderr);
}

/// A records remote on this machine whose hook hangs: the push is given up after its
/// 60 seconds with a warning, the promotion goes on, and the record stays here.
#[test]
fn a_hook_that_hangs_on_a_records_remote_on_this_machine_is_given_up() {
    let s = shared("");
    origin_hook(&s, "pre-receive", "#!/bin/sh\nexec sleep 600\n");
    let run = bounded(
        &s,
        None,
        &["promote", "--artifact", &artifact(OLD), "--to", "dev"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("did not finish") && run.stderr.contains("within 60 s"),
        "{}",
        run.stderr
    );
    assert_eq!(s.platform.running("dev"), Some((artifact(OLD), 100)));
    assert!(!records_at_origin_has(&s, "dev: live"));
}

/// Ctrl-C while a hooked records remote on this machine takes a push: relctl ends at
/// once (exit 130), and the push ends with it, hook and all, so it cannot land after
/// the command said its record stays here.
#[test]
fn ctrl_c_during_a_hooked_push_on_this_machine_ends_the_push_too() {
    let s = shared("");
    let pid = s.env.path().join("hook.pid");
    origin_hook(
        &s,
        "pre-receive",
        &format!("#!/bin/sh\necho $$ > '{}'\nexec sleep 600\n", pid.display()),
    );
    let promote = s
        .env
        .std_command()
        .args(["promote", "--artifact", &artifact(OLD), "--to", "dev"])
        .envs(crate::common::setup::QUICK)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start promote");
    crate::common::wait::wait_until("the hook to run", || {
        std::fs::read_to_string(&pid).is_ok_and(|p| p.trim().parse::<u32>().is_ok())
    });
    interrupt(&promote);
    let run = finish_within(promote, HANG);
    assert_eq!(run.code, 130, "{}", run.stderr);
    let hook = std::fs::read_to_string(&pid).expect("the hook's pid");
    let alive = || {
        std::process::Command::new("kill")
            .args(["-0", hook.trim()])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    crate::common::wait::wait_until("the hook to end with the push", || !alive());
}

#[test]
fn a_push_the_remote_declines_is_reported_as_refused_with_the_reason_it_gave() {
    let s = shared("");
    origin_hook(&s, "pre-receive", FROZEN);
    let daemon = GitDaemon::start(s.env.path());
    silence(&s, &daemon.url("origin.git"));
    let run = bounded(
        &s,
        None,
        &["promote", "--artifact", &artifact(OLD), "--to", "dev"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The next command pushes what is waiting first, and is refused again.
    let run = bounded(
        &s,
        None,
        &["promote", "--artifact", &artifact(HEX), "--to", "dev"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("cannot reach"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("warning: remote `origin` refused the push: "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("records are frozen for the audit"),
        "{}",
        run.stderr
    );
    assert_eq!(s.platform.running("dev"), Some((artifact(HEX), 100)));
}

fn records_at_origin_has(s: &Setup, needle: &str) -> bool {
    std::process::Command::new("git")
        .args(["log", "--format=%s", "relctl/records"])
        .current_dir(s.env.path().join("origin.git"))
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains(needle))
}
