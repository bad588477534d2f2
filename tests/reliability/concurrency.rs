//! Eight processes, eight clones, one bare remote, eight releases racing for one
//! environment. The lock admits one holder at a time (read back from the record's
//! order of events), the branch stays one clean line of history, nothing recorded is
//! lost, and the platform sees the winners' deploys in the order the record gives.

use std::path::Path;
use std::process::{Child, Stdio};

use super::{kinds, release_file, show};
use crate::common::platform::Platform;
use crate::common::{TestEnv, git};
use crate::promote::{HEX, SECRET, artifact, plan, release};

const RACERS: usize = 8;

/// dev holds its lock a little while (deploy, then a pause), so racers overlap.
fn racing_plan(platform: &Platform) -> String {
    plan(platform, "", "      - deploy: {}\n")
        .replace(
            "app: checkout\n",
            "app: checkout\nrecord: { remote: origin }\n",
        )
        .replace(
            "  - name: dev\n    deploy: platform\n",
            "  - name: dev\n    deploy: platform\n    steps:\n      - deploy: {}\n      - pause: 200ms\n",
        )
}

/// Eight different digests: the first two hex characters differ.
fn digest(i: usize) -> String {
    format!("{i:02x}{}", &HEX[2..])
}

fn spawn(env: &TestEnv, dir: &Path, hex: &str, wait: bool) -> Child {
    let mut cmd = env.std_command();
    cmd.current_dir(dir)
        .args(["promote", "--artifact", &artifact(hex), "--env", "dev"])
        .env("DEPLOY_TOKEN", SECRET)
        .env("RELCTL_POLL_MS", "50")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if wait {
        cmd.arg("--wait-lock=60s");
    }
    cmd.spawn().expect("start promote")
}

/// (release, event) for dev, oldest first, from the commits' trailers.
fn dev_events(origin: &Path) -> Vec<(String, String)> {
    let log = git(
        origin,
        &[
            "log",
            "--reverse",
            "--format=%(trailers:key=Relctl-Release,valueonly,separator=)|%(trailers:key=Relctl-Env,valueonly,separator=)|%(trailers:key=Relctl-Event,valueonly,separator=)",
            "relctl/records",
        ],
    );
    log.lines()
        .filter_map(|line| {
            let mut parts = line.split('|');
            let (release, env, event) = (parts.next()?, parts.next()?, parts.next()?);
            (env == "dev").then(|| (release.to_string(), event.to_string()))
        })
        .collect()
}

#[test]
fn eight_processes_share_one_environment_one_holder_at_a_time() {
    let env = TestEnv::new();
    let platform = Platform::start();
    let origin = env.path().join("origin.git");
    git(
        env.path(),
        &["init", "-q", "--bare", "-b", "main", "origin.git"],
    );
    let plan = racing_plan(&platform);
    let clones: Vec<_> = (0..RACERS)
        .map(|i| {
            let name = format!("clone{i}");
            git(
                env.path(),
                &["clone", "-q", origin.to_str().unwrap_or_default(), &name],
            );
            let dir = env.path().join(name);
            std::fs::write(dir.join("release.yaml"), &plan).expect("write the plan");
            dir
        })
        .collect();
    // Every other racer waits for the lock; the rest give up at once (exit 5).
    let waits = |i: usize| i.is_multiple_of(2);
    let children: Vec<Child> = clones
        .iter()
        .enumerate()
        .map(|(i, dir)| spawn(&env, dir, &digest(i), waits(i)))
        .collect();
    let results: Vec<(i32, String)> = children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().expect("promote ends");
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        })
        .collect();

    for (i, (code, stderr)) in results.iter().enumerate() {
        if waits(i) {
            assert_eq!(*code, 0, "racer {i} waited for the lock:\n{stderr}");
        } else {
            assert!(
                *code == 0 || *code == 5,
                "racer {i} ended with {code}:\n{stderr}"
            );
        }
        if *code == 5 {
            // Busy at the decision, or when the lock's compare-and-swap was lost.
            assert!(
                stderr.contains("dev is locked by checkout-")
                    || stderr.contains("dev changed while we entered it"),
                "{stderr}"
            );
        }
    }

    // The branch: intact, one line, and every clone's record is on it.
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
    assert_eq!(
        git(&origin, &["rev-list", "--merges", "relctl/records"]).trim(),
        ""
    );
    for dir in &clones {
        let local = git(dir, &["rev-parse", "relctl/records"]);
        let pushed = std::process::Command::new("git")
            .current_dir(&origin)
            .args([
                "merge-base",
                "--is-ancestor",
                local.trim(),
                "relctl/records",
            ])
            .status()
            .expect("git merge-base");
        assert!(
            pushed.success(),
            "{}'s records are not all on the remote",
            dir.display()
        );
    }

    // One holder at a time: dev's events never interleave two releases.
    let mut holder: Option<String> = None;
    let mut entered_order = Vec::new();
    let events = dev_events(&origin);
    for (release, event) in &events {
        match event.as_str() {
            "entered" => {
                assert_eq!(holder, None, "{release} entered while held: {events:#?}");
                holder = Some(release.clone());
                entered_order.push(release.clone());
            }
            "live" | "rolled_back" | "aborted" | "unlocked" => {
                assert_eq!(holder.as_ref(), Some(release), "{events:#?}");
                holder = None;
            }
            _ => assert_eq!(holder.as_ref(), Some(release), "{events:#?}"),
        }
    }
    assert_eq!(holder, None, "dev is free at the end");

    // Every event is there: winners complete; a loser refused at its decision left no
    // record, one that lost the lock's compare-and-swap stopped after `started`.
    let winners: Vec<String> = (0..RACERS)
        .filter(|i| results[*i].0 == 0)
        .map(|i| release(&digest(i)))
        .collect();
    assert!(winners.len() >= RACERS / 2, "{winners:?}");
    let mut sorted_entered = entered_order.clone();
    sorted_entered.sort();
    let mut sorted_winners = winners.clone();
    sorted_winners.sort();
    assert_eq!(sorted_entered, sorted_winners, "only winners entered");
    let subjects = git(&origin, &["log", "--format=%s", "relctl/records"]);
    for (i, (code, _)) in results.iter().enumerate() {
        let id = release(&digest(i));
        let path = relctl::format::release_path("checkout", &id);
        if *code != 0 && show(&origin, "relctl/records", &path).is_none() {
            continue;
        }
        let file = release_file(&origin, &id);
        let expected: &[&str] = if *code == 0 {
            &[
                "started",
                "entered",
                "intent",
                "step_done",
                "intent",
                "step_done",
                "live",
            ]
        } else {
            &["started"]
        };
        assert_eq!(kinds(&file), expected, "{id}");
        let commits = subjects
            .lines()
            .filter(|s| s.split([' ', ':']).next() == Some(id.as_str()))
            .count();
        assert_eq!(commits, file.events.len(), "{id}: one commit per event");
    }

    // The platform saw exactly the winners' deploys, in the record's order.
    let deployed: Vec<String> = platform
        .deploys()
        .into_iter()
        .map(|(env, image, weight)| {
            assert_eq!((env.as_str(), weight), ("dev", 100));
            let hex = image.rsplit_once("sha256:").map(|(_, h)| h.to_string());
            release(&hex.unwrap_or_default())
        })
        .collect();
    assert_eq!(deployed, entered_order);
}
