//! Two releases racing for one environment: the lock admits exactly one, whether the
//! racers share a repository or two clones of one bare remote.

use std::process::{Child, Stdio};

use crate::common::platform::Platform;
use crate::common::setup::{HEX, OLD, SECRET, artifact, plan, release};
use crate::common::{Setup, TestEnv, git};

/// dev holds its lock for a few seconds, so racers started together overlap.
const HOLD: &str = "      - deploy: {}\n";

fn holding_plan(platform: &Platform, remote: bool) -> String {
    let plan = plan(platform, "", HOLD).replace(
        "  - name: dev\n    deploy: platform\n",
        "  - name: dev\n    deploy: platform\n    steps:\n      - deploy: {}\n      - pause: 3s\n",
    );
    if remote {
        plan.replace(
            "app: checkout\n",
            "app: checkout\nrecord: { remote: origin }\n",
        )
    } else {
        plan
    }
}

/// Starts `relctl promote` of `hex` into dev, run as `relctl` (a person in a directory).
fn spawn(mut relctl: std::process::Command, hex: &str) -> Child {
    relctl
        .args(["promote", "--artifact", &artifact(hex), "--env", "dev"])
        .env("DEPLOY_TOKEN", SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start promote")
}

fn finish(child: Child) -> (i32, String) {
    let run = crate::common::wait::finish(child);
    (run.code, run.stderr)
}

fn exactly_one_wins(a: (i32, String), b: (i32, String)) {
    let mut codes = [a.0, b.0];
    codes.sort();
    assert_eq!(codes, [0, 5], "a: {} {}\nb: {} {}", a.0, a.1, b.0, b.1);
    let loser = if a.0 == 5 { &a.1 } else { &b.1 };
    assert!(loser.contains("dev is locked by checkout-"), "{loser}");
}

#[test]
fn two_processes_in_one_repository() {
    let Setup { env, platform } = Setup::with_plan(|platform| holding_plan(platform, false));
    let a = spawn(env.std_command(), HEX);
    let b = spawn(env.std_command(), OLD);
    exactly_one_wins(finish(a), finish(b));
    assert_eq!(platform.deploys().len(), 1, "only the winner deployed");
    let fsck = std::process::Command::new("git")
        .current_dir(env.path())
        .args(["fsck", "--strict"])
        .output()
        .expect("git fsck");
    assert!(
        fsck.status.success(),
        "{}",
        String::from_utf8_lossy(&fsck.stderr)
    );
}

#[test]
fn two_clones_of_one_bare_remote() {
    let env = TestEnv::new();
    let platform = Platform::start();
    let clones = env.clones(&[("release.yaml", &holding_plan(&platform, true))]);
    let origin = clones.remote.clone();
    // Two people, each in their own clone.
    let bob = env.operator("bob@example.com").in_dir(&clones.two);
    let mut tester = env.std_command();
    tester.current_dir(&clones.one);
    let a = spawn(tester, HEX);
    let b = spawn(bob.std_command(), OLD);
    exactly_one_wins(finish(a), finish(b));
    assert_eq!(platform.deploys().len(), 1, "only the winner deployed");
    // The winner's record reached the remote; both clones agree after a fetch.
    let remote_log = git(&origin, &["log", "--format=%s", "relctl/records"]);
    assert!(remote_log.contains("dev: live"), "{remote_log}");
    let fsck = std::process::Command::new("git")
        .current_dir(&origin)
        .args(["fsck", "--strict"])
        .output()
        .expect("git fsck");
    assert!(
        fsck.status.success(),
        "{}",
        String::from_utf8_lossy(&fsck.stderr)
    );
}

#[test]
fn with_the_remote_gone_records_stay_local_and_the_next_command_pushes_them() {
    let env = TestEnv::new();
    let platform = Platform::start();
    let origin = env.path().join("origin.git");
    git(
        env.path(),
        &["init", "-q", "--bare", "-b", "main", "origin.git"],
    );
    git(
        env.path(),
        &["clone", "-q", origin.to_str().unwrap_or_default(), "work"],
    );
    let work = env.path().join("work");
    let plan = plan(&platform, "", HOLD).replace(
        "app: checkout\n",
        "app: checkout\nrecord: { remote: origin }\n",
    );
    std::fs::write(work.join("release.yaml"), plan).expect("write plan");
    let promote = |args: &[&str]| {
        let out = env
            .std_command()
            .current_dir(&work)
            .args(args)
            .env("DEPLOY_TOKEN", SECRET)
            .output()
            .expect("run relctl");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // The clone has read the remote once (a remote it never reached would be refused
    // as a likely typo); then the remote goes away.
    let (code, stderr) = promote(&["status"]);
    assert_eq!(code, 0, "{stderr}");
    let away = env.path().join("away.git");
    std::fs::rename(&origin, &away).expect("take the remote away");
    let (code, stderr) = promote(&["promote", "--artifact", &artifact(HEX), "--to", "dev"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("stay local until a later command pushes them"),
        "{stderr}"
    );
    assert_eq!(platform.deploys().len(), 1);
    std::fs::rename(&away, &origin).expect("bring the remote back");
    let (code, stderr) = promote(&["promote", "--artifact", &artifact(HEX), "--to", "dev"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(platform.deploys().len(), 1, "nothing deployed twice");
    let remote_log = git(&origin, &["log", "--format=%s", "relctl/records"]);
    assert!(
        remote_log.contains("dev: live"),
        "the earlier commits reached the remote: {remote_log}"
    );
}

/// dev runs a command that waits for the file `$GO` (each run is given its own), then
/// waits for carol's approval, then deploys.
fn waiting_plan(platform: &Platform) -> String {
    let script = r#"touch \"$GO.started\"; while [ ! -e \"$GO\" ]; do sleep 0.02; done"#;
    plan(platform, "", HOLD)
        .replace(
            "app: checkout\n",
            "app: checkout\nrecord: { remote: origin }\n",
        )
        .replace(
            "  - name: dev\n    deploy: platform\n",
            &format!(
                "  - name: dev\n    deploy: platform\n    steps:\n      - exec: {{ command: [\"sh\", \"-c\", \"{script}\"], timeout: 60s }}\n      - approval: {{ approvers: [\"carol@example.com\"] }}\n      - deploy: {{}}\n"
            ),
        )
}

/// Two CI jobs promote the same release from two clones at once. The second takes the
/// environment over at its first record there; the first stops with exit 5 at its next
/// one, having deployed nothing, and the release is deployed once.
#[test]
fn a_release_driven_from_two_clones_at_once_is_driven_by_one() {
    let env = TestEnv::new();
    let platform = Platform::start();
    let clones = env.clones(&[("release.yaml", &waiting_plan(&platform))]);
    let (go_a, go_b) = (env.path().join("go-a"), env.path().join("go-b"));
    let started = |go: &std::path::Path| go.with_extension("started").exists();
    let mut first = env.std_command();
    first.current_dir(&clones.one).env("GO", &go_a);
    let first = spawn(first, HEX);
    crate::common::wait::wait_until("the first run is in its command", || started(&go_a));

    let bob = env.operator("bob@example.com").in_dir(&clones.two);
    let mut second = bob.std_command();
    second.env("GO", &go_b);
    let second = spawn(second, HEX);
    crate::common::wait::wait_until("the second run is in its command", || started(&go_b));
    std::fs::write(&go_b, "").expect("let the second run go on");
    let (code, stderr) = finish(second);
    assert_eq!(code, 4, "the second run waits for carol: {stderr}");

    std::fs::write(&go_a, "").expect("let the first run go on");
    let (code, stderr) = finish(first);
    assert_eq!(code, 5, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}: another run took dev over (by bob@example.com)",
            release(HEX)
        )),
        "{stderr}"
    );
    assert!(platform.deploys().is_empty(), "nothing was deployed yet");

    let carol = env.operator("carol@example.com").in_dir(&clones.two);
    let id = release(HEX);
    let run = carol.run(&["approve", &id, "--env", "dev"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = bob.run_with(&["resume", &id], |c| {
        c.env("DEPLOY_TOKEN", SECRET).env("GO", &go_b);
    });
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(platform.deploys().len(), 1, "deployed once");
    let log = git(&clones.remote, &["log", "--format=%s", "relctl/records"]);
    assert_eq!(log.matches("dev: step 1 exec done").count(), 1, "{log}");
    // Bob's run took over from the first, and his `resume` from his run that waited.
    assert_eq!(log.matches("dev: continued from run ").count(), 2, "{log}");
}

/// An on-call engineer rolls dev back from another clone while a promote is in the
/// middle of a step there: the promote stops with exit 3 when its step ends, recording
/// nothing after the rollback.
#[test]
fn a_promote_whose_environment_was_rolled_back_elsewhere_records_nothing_more() {
    let env = TestEnv::new();
    let platform = Platform::start();
    let plan = waiting_plan(&platform).replace(
        "      - approval: { approvers: [\"carol@example.com\"] }\n",
        "",
    );
    let clones = env.clones(&[("release.yaml", &plan)]);
    let go = env.path().join("go");
    let open = env.path().join("open");
    std::fs::write(&open, "").expect("a file that is there");
    let mut earlier = env.std_command();
    earlier.current_dir(&clones.one).env("GO", &open);
    let (code, stderr) = finish(spawn(earlier, OLD));
    assert_eq!(code, 0, "{stderr}");

    let mut promote = env.std_command();
    promote.current_dir(&clones.one).env("GO", &go);
    let promote = spawn(promote, HEX);
    crate::common::wait::wait_until("the promote is in its command", || {
        go.with_extension("started").exists()
    });
    let bob = env.operator("bob@example.com").in_dir(&clones.two);
    let run = bob.run_with(&["rollback", "--env", "dev", "--reason", "errors"], |c| {
        c.env("DEPLOY_TOKEN", SECRET);
    });
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::write(&go, "").expect("let the promote go on");
    let (code, stderr) = finish(promote);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("this run was taken over"), "{stderr}");
    let log = git(&clones.remote, &["log", "--format=%s", "relctl/records"]);
    let newest = log.lines().next().unwrap_or_default();
    assert!(newest.contains("dev: rolled back"), "{log}");
    assert_eq!(platform.running("dev"), Some((artifact(OLD), 100)), "{log}");
}

/// A release live in staging on its way to production, whose promote found production
/// locked by another release, is under way: `abort` stops it (the release is marked
/// aborted, and goes no further), where it used to say it was "not under way".
#[test]
fn a_release_between_two_environments_is_aborted_and_goes_no_further() {
    let s = crate::common::setup::Setup::new(
        "    approval: { approvers: [\"carol@example.com\"] }\n",
        crate::common::setup::CANARY,
    );
    let run = s.promote(OLD, &[]);
    assert_eq!(
        run.code, 4,
        "OLD waits at production's gate: {}",
        run.stderr
    );
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 5, "production is OLD's: {}", run.stderr);
    let id = release(HEX);
    let run = s.relctl(&["abort", &id, "--reason", "bad build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "{id} was between environments, live in dev, staging; it is marked aborted"
        )),
        "{}",
        run.stderr
    );
    // It goes no further: refused by the rule `rejected-before` (exit 6), which says it
    // was aborted, while production is still OLD's, for resume and promote alike.
    for run in [s.relctl(&["resume", &id]), s.promote(HEX, &[])] {
        assert_eq!(
            run.code, 6,
            "an aborted release goes no further: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("aborted by tester@example.com")
                && run.stderr.contains("bad build")
                && !run.stderr.contains("--wait-lock"),
            "{}",
            run.stderr
        );
    }
    // A second abort finds nothing under way, and records nothing.
    let run = s.relctl(&["abort", &id]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("is not under way"), "{}", run.stderr);
    let aborts =
        |s: &crate::common::Setup| s.events(HEX).iter().filter(|e| *e == "aborted").count();
    assert_eq!(aborts(&s), 1, "{:?}", s.events(HEX));
    // status and releases say so, beside where it is live.
    let status = s.relctl(&["status"]);
    assert!(
        status.stdout.contains(&format!(
            "{id}, live in dev, staging, was aborted by tester@example.com at "
        )) && status.stdout.contains("(bad build) and goes no further"),
        "{}",
        status.stdout
    );
    let listed = s.relctl(&["releases", "--output", "json"]);
    let listed: serde_json::Value = serde_json::from_str(&listed.stdout).expect("json");
    let mine = listed["releases"]
        .as_array()
        .and_then(|all| all.iter().find(|r| r["release"] == id.as_str()))
        .expect("listed");
    assert_eq!(mine["aborted"]["by"], "tester@example.com", "{mine}");
    assert_eq!(mine["aborted"]["reason"], "bad build", "{mine}");
    assert!(
        !s.platform
            .deploys()
            .iter()
            .any(|(env, image, _)| env == "production" && *image == artifact(HEX)),
        "{:?}",
        s.platform.deploys()
    );
    // `--force` takes it on once production is free: the override is recorded, and the
    // release enters production (to wait at carol's gate there).
    let run = s.relctl_as(
        "carol@example.com",
        &["approve", &release(OLD), "--env", "production"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = s.relctl(&["resume", &release(OLD)]);
    assert_eq!(run.code, 0, "OLD goes live in production: {}", run.stderr);
    let run = s.promote(HEX, &["--force", "--reason", "fixed"]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_eq!(
        s.last_events(HEX, 3),
        ["overridden", "entered", "awaiting_approval"]
    );
    assert_eq!(aborts(&s), 1, "{:?}", s.events(HEX));
}

/// Two on-calls run the same runbook: the second abort finds the release aborted
/// already, says so with exit 2 and records nothing.
#[test]
fn a_second_abort_of_a_release_finds_it_aborted_and_records_nothing() {
    let s = crate::common::setup::Setup::with_plan(|platform| {
        plan(platform, "", HOLD).replace(
            "  - name: dev\n    deploy: platform\n",
            "  - name: dev\n    deploy: platform\n    approval: { approvers: [\"carol@example.com\"] }\n",
        )
    });
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 4, "HEX waits at dev's gate: {}", run.stderr);
    let id = release(HEX);
    let abort = |who: &str| s.relctl_as(who, &["abort", &id, "--reason", "bad build"]);
    let run = abort("ana@example.com");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = abort("bob@example.com");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "{id} is not under way: it was aborted in dev by ana@example.com at "
        )) && run.stderr.contains("(bad build) and is live nowhere"),
        "{}",
        run.stderr
    );
    let events = s.events(HEX);
    assert_eq!(
        events.iter().filter(|e| *e == "aborted").count(),
        1,
        "{events:?}"
    );
}
