//! Records remote faults. A push rejected because another clone pushed first is rebuilt
//! on the new tip, with the lock checked again there; a remote that disappears mid-run
//! leaves the commits local (the release goes on) and the next command pushes them.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use super::git_daemon::GitDaemon;
use super::{env_file, kinds, release_file};
use crate::common::platform::Platform;
use crate::common::setup::{HEX, OLD, SECRET, artifact, plan, release};
use crate::common::wait::{finish, wait_until};
use crate::common::{Run, TestEnv, git};

fn remote_plan(platform: &Platform) -> String {
    plan(platform, "", "      - deploy: {}\n").replace(
        "app: checkout\n",
        "app: checkout\nrecord: { remote: origin }\n",
    )
}

fn relctl(env: &TestEnv, dir: &Path, args: &[&str]) -> Run {
    let out = env
        .std_command()
        .current_dir(dir)
        .args(args)
        .env("DEPLOY_TOKEN", SECRET)
        .output()
        .expect("run relctl");
    Run::from(out)
}

fn fsck(repo: &Path) {
    let out = std::process::Command::new("git")
        .current_dir(repo)
        .args(["fsck", "--strict"])
        .output()
        .expect("git fsck");
    assert!(
        out.status.success(),
        "git fsck --strict in {}: {}",
        repo.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The records branch's commit subjects, oldest first.
fn subjects(repo: &Path) -> Vec<String> {
    git(repo, &["log", "--reverse", "--format=%s", "relctl/records"])
        .lines()
        .map(str::to_string)
        .collect()
}

fn unpushed(env: &TestEnv, dir: &Path) -> u64 {
    let run = relctl(env, dir, &["--output", "json", "status"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let status: serde_json::Value = serde_json::from_str(&run.stdout).expect("status JSON");
    status["unpushed"].as_u64().expect("an unpushed count")
}

/// A bare remote served over `git://` whose update hook declines, once, the first push
/// of a commit whose subject contains a pattern, and holds that push until the test
/// says go, so that another clone can push in between.
struct Remote {
    env: TestEnv,
    platform: Platform,
    daemon: GitDaemon,
    origin: PathBuf,
    handshake: PathBuf,
}

impl Remote {
    fn new() -> Remote {
        let env = TestEnv::new();
        let platform = Platform::start();
        let served = env.path().join("served");
        std::fs::create_dir_all(&served).expect("create dirs");
        git(
            &served,
            &["init", "-q", "--bare", "-b", "main", "origin.git"],
        );
        let origin = served.join("origin.git");
        let handshake = env.path().join("handshake");
        std::fs::create_dir_all(&handshake).expect("create dirs");
        let hook = origin.join("hooks").join("update");
        std::fs::write(&hook, update_hook(&handshake)).expect("write the hook");
        let chmod = std::process::Command::new("chmod")
            .args(["+x", hook.to_str().unwrap_or_default()])
            .status()
            .expect("chmod");
        assert!(chmod.success());
        let daemon = GitDaemon::start(&served);
        let remote = Remote {
            env,
            platform,
            daemon,
            origin,
            handshake,
        };
        for name in ["a", "b"] {
            git(
                remote.env.path(),
                &["clone", "-q", &remote.daemon.url("origin.git"), name],
            );
            std::fs::write(
                remote.clone_dir(name).join("release.yaml"),
                remote_plan(&remote.platform),
            )
            .expect("write the plan");
        }
        remote
    }

    fn clone_dir(&self, name: &str) -> PathBuf {
        self.env.path().join(name)
    }

    fn arm(&self, pattern: &str) {
        std::fs::write(self.handshake.join("pattern"), pattern).expect("write");
        std::fs::write(self.handshake.join("armed"), "").expect("write");
    }

    fn spawn(&self, name: &str, args: &[&str]) -> Child {
        self.env
            .std_command()
            .current_dir(self.clone_dir(name))
            .args(args)
            .env("DEPLOY_TOKEN", SECRET)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start relctl")
    }

    /// Waits until the hook holds a push, then runs `meanwhile`, then lets it go.
    fn while_held(&self, child: &mut Child, meanwhile: impl FnOnce()) {
        wait_until("the update hook to hold a push", || {
            assert!(
                child.try_wait().ok().flatten().is_none(),
                "relctl ended before its push was held"
            );
            self.handshake.join("holding").exists()
        });
        meanwhile();
        std::fs::write(self.handshake.join("go"), "").expect("write");
    }
}

fn update_hook(handshake: &Path) -> String {
    let dir = handshake.display();
    format!(
        r#"#!/bin/sh
# update hook: $1 is the ref, $2 its old value, $3 the new one.
[ "$1" = refs/heads/relctl/records ] || exit 0
[ -e "{dir}/armed" ] || exit 0
git log -1 --format=%s "$3" | grep -qF -- "$(cat "{dir}/pattern")" || exit 0
rm -f "{dir}/armed"
: > "{dir}/holding"
i=0
while [ ! -e "{dir}/go" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
echo "declined: another writer pushed first (reliability test)" >&2
exit 1
"#
    )
}

#[test]
fn a_push_rejected_because_another_clone_pushed_first_is_rebuilt_on_its_tip() {
    let r = Remote::new();
    r.arm(&format!("{} dev: entered", release(HEX)));
    let mut a = r.spawn(
        "a",
        &[
            "-v",
            "promote",
            "--artifact",
            &artifact(HEX),
            "--env",
            "dev",
        ],
    );
    r.while_held(&mut a, || {
        // Clone b promotes another release into staging and pushes all of it.
        let run = relctl(
            &r.env,
            &r.clone_dir("b"),
            &[
                "promote",
                "--artifact",
                &artifact(OLD),
                "--env",
                "staging",
                "--force",
                "--reason",
                "parallel hotfix",
            ],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
    });
    let run = finish(a);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the remote moved; building again on its tip"),
        "{}",
        run.stderr
    );

    // The remote holds both releases, one line of history, a's entry after b's work.
    let log = subjects(&r.origin);
    let position = |needle: &str| {
        log.iter()
            .position(|s| s.contains(needle))
            .unwrap_or_else(|| panic!("`{needle}` not in {log:#?}"))
    };
    let b_live = position(&format!("{} staging: live", release(OLD)));
    let a_entered = position(&format!("{} dev: entered", release(HEX)));
    assert!(b_live < a_entered, "{log:#?}");
    assert_eq!(
        git(&r.origin, &["rev-list", "--merges", "relctl/records"]).trim(),
        "",
        "no merges: the rejected commit was rebuilt, not merged"
    );
    fsck(&r.origin);
    let a_file = release_file(&r.origin, &release(HEX));
    assert_eq!(
        kinds(&a_file),
        ["started", "entered", "intent", "step_done", "live"]
    );
    assert_eq!(
        log.iter().filter(|s| s.starts_with(&release(HEX))).count(),
        a_file.events.len(),
        "one commit per event, none lost or doubled"
    );
    assert_eq!(
        env_file(&r.origin, "dev").live.map(|l| l.release),
        Some(release(HEX))
    );
    assert_eq!(
        env_file(&r.origin, "staging").live.map(|l| l.release),
        Some(release(OLD))
    );
    assert_eq!(unpushed(&r.env, &r.clone_dir("a")), 0);
    assert_eq!(
        r.platform.deploys(),
        [
            ("staging".to_string(), artifact(OLD), 100),
            ("dev".to_string(), artifact(HEX), 100)
        ]
    );
}

#[test]
fn a_lock_taken_by_another_clone_between_our_fetch_and_push_makes_us_busy() {
    let r = Remote::new();
    r.arm(&format!("{} dev: entered", release(HEX)));
    let mut a = r.spawn(
        "a",
        &["promote", "--artifact", &artifact(HEX), "--env", "dev"],
    );
    r.while_held(&mut a, || {
        // Clone b enters dev (takes its lock) and dies right after pushing that.
        let out = r
            .env
            .std_command()
            .current_dir(r.clone_dir("b"))
            .args(["promote", "--artifact", &artifact(OLD), "--env", "dev"])
            .env("DEPLOY_TOKEN", SECRET)
            .env("RELCTL_FAULT_CRASH_AFTER", "2")
            .output()
            .expect("run relctl");
        assert_eq!(out.status.code(), None, "b was meant to die");
    });
    let run = finish(a);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("dev is locked by {}", release(OLD))),
        "{}",
        run.stderr
    );
    // The lock is b's; a's entry was dropped, not pushed; nobody deployed.
    assert_eq!(
        env_file(&r.origin, "dev").lock.map(|l| l.release),
        Some(release(OLD))
    );
    assert_eq!(kinds(&release_file(&r.origin, &release(HEX))), ["started"]);
    assert_eq!(
        kinds(&release_file(&r.origin, &release(OLD))),
        ["started", "entered"]
    );
    assert!(r.platform.deploys().is_empty());
    assert_eq!(unpushed(&r.env, &r.clone_dir("a")), 0);
    assert_eq!(
        git(&r.clone_dir("a"), &["rev-parse", "relctl/records"]),
        git(&r.origin, &["rev-parse", "relctl/records"]),
        "a's branch is the remote's"
    );
    fsck(&r.origin);
}

#[test]
fn a_remote_deleted_mid_run_keeps_the_records_local_until_the_next_command() {
    let env = TestEnv::new();
    let platform = Platform::start();
    let origin = env.path().join("origin.git");
    let gone = env.path().join("gone.git");
    git(
        env.path(),
        &["init", "-q", "--bare", "-b", "main", "origin.git"],
    );
    git(
        env.path(),
        &["clone", "-q", origin.to_str().unwrap_or_default(), "work"],
    );
    let work = env.path().join("work");
    // dev's second step takes the remote away, as a disk failure or an admin would.
    let steps = format!(
        "    steps:\n      - deploy: {{}}\n      - exec: {{ command: [\"mv\", \"{}\", \"{}\"] }}\n",
        origin.display(),
        gone.display()
    );
    let plan = remote_plan(&platform).replace(
        "  - name: dev\n    deploy: platform\n",
        &format!("  - name: dev\n    deploy: platform\n{steps}"),
    );
    std::fs::write(work.join("release.yaml"), plan).expect("write the plan");

    let run = relctl(
        &env,
        &work,
        &["promote", "--artifact", &artifact(HEX), "--to", "dev"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr
            .matches("it stays local and the next command pushes it")
            .count(),
        1,
        "warned once: {}",
        run.stderr
    );
    assert!(!origin.exists());
    // Locally the release is complete; the remote got everything up to the exec step.
    let local = release_file(&work, &release(HEX));
    assert_eq!(
        kinds(&local),
        [
            "started",
            "entered",
            "intent",
            "step_done",
            "intent",
            "step_done",
            "live"
        ]
    );
    assert_eq!(kinds(&release_file(&gone, &release(HEX))).len(), 5);
    assert_eq!(unpushed(&env, &work), 2);
    let status = relctl(&env, &work, &["status"]);
    assert!(
        status
            .stdout
            .contains("2 record commit(s) not pushed to origin yet"),
        "{}",
        status.stdout
    );

    // The remote comes back empty (recreated); the next command pushes everything.
    git(
        env.path(),
        &["init", "-q", "--bare", "-b", "main", "origin.git"],
    );
    let run = relctl(
        &env,
        &work,
        &["promote", "--artifact", &artifact(HEX), "--to", "dev"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(subjects(&origin), subjects(&work));
    assert_eq!(unpushed(&env, &work), 0);
    assert_eq!(platform.deploys().len(), 1, "nothing deployed twice");
    fsck(&origin);
}
