//! The incident runbook (docs/runbook.md) as on-call engineers follow it: two of them
//! rolling back the same incident (one after the other, at the same moment from one
//! clone, and from two clones of one bare remote), the undo of what the rolled-back
//! release switched on, promotes refused before anything is recorded, and what `status`
//! and `history` say after a rejection, an abort or Ctrl-C.

use std::path::Path;
use std::process::Child;

use crate::common::platform::Platform;
use crate::common::setup::{CANARY, HEX, OLD, SECRET, Setup, artifact, plan, release, spawn};
use crate::common::wait::{DEADLINE, finish, wait_until};
use crate::common::{Run, TestEnv, git, ok};
use crate::reliability::{env_file, kinds, release_file};

/// A third release, older than both.
const FIRST: &str = "ab00000000000000000000000000000000000000000000000000000000000000";

const ALICE: &str = "alice@acme.io";
const BOB: &str = "bob@acme.io";

/// Deploy calls to production from the `n`th on.
pub(crate) fn production_deploys_since(platform: &Platform, n: usize) -> Vec<(String, u64)> {
    platform.deploys()[n..]
        .iter()
        .filter(|(env, _, _)| env == "production")
        .map(|(_, image, weight)| (image.clone(), *weight))
        .collect()
}

#[test]
fn a_second_rollback_reports_the_first_and_deploys_nothing() {
    let s = Setup::new("", CANARY);
    ok(&s.promote(FIRST, &["--version", "0.9.0"]));
    ok(&s.promote(OLD, &["--version", "1.0.0"]));
    ok(&s.promote(HEX, &["--version", "1.1.0"]));
    let args = ["rollback", "--env", "production", "--reason", "5xx spike"];
    ok(&s.relctl_as(ALICE, &args));
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
    let calls = s.platform.deploys().len();

    // Bob follows the same runbook a minute later.
    let run = s.relctl_as(BOB, &["rollback", "--env", "production"]);
    ok(&run);
    let said = format!(
        "production is already on {} (1.0.0): rolled back from {} at ",
        release(OLD),
        release(HEX)
    );
    assert!(run.stderr.contains(&said), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("by {ALICE} (5xx spike); nothing deployed")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--to RELEASE"), "{}", run.stderr);
    assert_eq!(s.platform.deploys().len(), calls, "nothing was deployed");
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
    assert_eq!(
        s.events(HEX).iter().filter(|e| *e == "rolled_back").count(),
        1
    );
    assert!(
        !s.events(OLD).contains(&"rollback_started".to_string()),
        "{:?}",
        s.events(OLD)
    );
    let json = s.relctl_as(
        BOB,
        &["--output", "json", "rollback", "--env", "production"],
    );
    ok(&json);
    let summary: serde_json::Value = serde_json::from_str(&json.stdout).expect("one JSON line");
    assert_eq!(summary["outcome"], "already_rolled_back");
    assert_eq!(summary["live"], release(OLD));
    assert_eq!(summary["by"], ALICE);

    // Going back to the release that was rolled back is refused, even by name.
    let run = s.relctl_as(
        BOB,
        &["rollback", "--env", "production", "--to", &release(HEX)],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "{} was rolled back in production: a rollback does not go back to it",
            release(HEX)
        )),
        "{}",
        run.stderr
    );
    assert_eq!(s.platform.deploys().len(), calls);

    // Naming another release goes further back.
    let run = s.relctl_as(
        BOB,
        &["rollback", "--env", "production", "--to", &release(FIRST)],
    );
    ok(&run);
    assert_eq!(
        production_deploys_since(&s.platform, calls),
        [(artifact(FIRST), 100)]
    );
}

#[test]
fn a_rollback_after_a_failed_gate_reports_the_automatic_one() {
    let steps = r#"      - deploy: { weight: 10 }
      - exec: { command: ["sh", "-c", "test \"$RELCTL_VERSION\" = 1.0.0"], timeout: 10s }
      - deploy: {}
"#;
    let s = Setup::new("", steps);
    ok(&s.promote(OLD, &["--version", "1.0.0"]));
    assert_eq!(s.promote(HEX, &["--version", "1.1.0"]).code, 3);
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
    let calls = s.platform.deploys().len();
    let run = s.relctl_as(BOB, &["rollback", "--env", "production"]);
    ok(&run);
    assert!(
        run.stderr.contains(&format!(
            "production is already on {} (1.0.0): rolled back from {} at ",
            release(OLD),
            release(HEX)
        )),
        "{}",
        run.stderr
    );
    assert_eq!(s.platform.deploys().len(), calls);
    let status = s.relctl(&["status", "--env", "production"]);
    assert!(
        status
            .stdout
            .contains(&format!("rolled back (from {})", release(HEX))),
        "{}",
        status.stdout
    );
}

/// `relctl rollback --env production` as `actor`, started in `dir` and left running.
fn spawn_rollback(env: &TestEnv, dir: &Path, actor: &str) -> Child {
    spawn_rollback_with(env, dir, actor, &[])
}

/// The same with `extra` arguments (`--to RELEASE`).
pub(crate) fn spawn_rollback_with(env: &TestEnv, dir: &Path, actor: &str, extra: &[&str]) -> Child {
    let mut cmd = env.std_command();
    cmd.current_dir(dir).env("RELCTL_ACTOR", actor);
    let mut args = vec!["rollback", "--env", "production", "--reason", "pager"];
    args.extend_from_slice(extra);
    spawn(cmd, &args)
}

/// Two rollbacks started together: both exit 0, one rolled back, the other said whose
/// rollback it found (finished or running), and the platform saw one redeploy.
fn one_deployed_one_reported(runs: [Run; 2], platform: &Platform, calls: usize) {
    for run in &runs {
        ok(run);
    }
    let rolled: Vec<&Run> = runs
        .iter()
        .filter(|r| r.stderr.contains("rolled production back from"))
        .collect();
    assert_eq!(
        rolled.len(),
        1,
        "{}\n---\n{}",
        runs[0].stderr,
        runs[1].stderr
    );
    let other = runs
        .iter()
        .find(|r| !r.stderr.contains("rolled production back from"))
        .expect("the other one");
    assert!(
        other.stderr.contains(&format!(
            "production is already on {} (1.0.0): rolled back from {}",
            release(OLD),
            release(HEX)
        )) || other.stderr.contains(&format!(
            "production is being rolled back from {} by",
            release(HEX)
        )),
        "{}",
        other.stderr
    );
    assert!(
        other.stderr.contains("nothing deployed"),
        "{}",
        other.stderr
    );
    assert_eq!(
        production_deploys_since(platform, calls),
        [(artifact(OLD), 100)],
        "one redeploy"
    );
}

#[test]
fn two_rollbacks_at_the_same_moment_deploy_once() {
    let s = Setup::new("", CANARY);
    ok(&s.promote(OLD, &["--version", "1.0.0"]));
    ok(&s.promote(HEX, &["--version", "1.1.0"]));
    let calls = s.platform.deploys().len();
    let children = [
        spawn_rollback(&s.env, s.env.path(), ALICE),
        spawn_rollback(&s.env, s.env.path(), BOB),
    ];
    let runs = children.map(finish);
    one_deployed_one_reported(runs, &s.platform, calls);
    let hex = release_file(s.env.path(), &release(HEX));
    let started = kinds(&hex)
        .iter()
        .filter(|k| **k == "rollback_started")
        .count();
    assert_eq!(started, 1, "{:?}", kinds(&hex));
    let production = env_file(s.env.path(), "production");
    assert_eq!(production.lock, None);
    assert_eq!(production.rejected, [release(HEX)]);
}

#[test]
fn two_rollbacks_from_two_clones_of_one_remote_deploy_once() {
    let env = TestEnv::new();
    let platform = Platform::start();
    git(
        env.path(),
        &["init", "-q", "--bare", "-b", "main", "origin.git"],
    );
    let origin = env.path().join("origin.git");
    let text = plan(&platform, "", CANARY).replace(
        "app: checkout\n",
        "app: checkout\nrecord: { remote: origin }\n",
    );
    let clones = ["alice", "bob"].map(|name| {
        git(
            env.path(),
            &["clone", "-q", origin.to_str().unwrap_or_default(), name],
        );
        let dir = env.path().join(name);
        std::fs::write(dir.join("release.yaml"), &text).expect("write the plan");
        dir
    });
    for (hex, version) in [(OLD, "1.0.0"), (HEX, "1.1.0")] {
        let out = env
            .std_command()
            .current_dir(&clones[0])
            .args([
                "promote",
                "--artifact",
                &artifact(hex),
                "--version",
                version,
            ])
            .env("DEPLOY_TOKEN", SECRET)
            .env("RELCTL_ACTOR", ALICE)
            .output()
            .expect("promote");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let calls = platform.deploys().len();
    let children = [
        spawn_rollback(&env, &clones[0], ALICE),
        spawn_rollback(&env, &clones[1], BOB),
    ];
    let runs = children.map(finish);
    one_deployed_one_reported(runs, &platform, calls);
    let hex = release_file(&origin, &release(HEX));
    let started = kinds(&hex)
        .iter()
        .filter(|k| **k == "rollback_started")
        .count();
    assert_eq!(started, 1, "{:?}", kinds(&hex));
    assert_eq!(env_file(&origin, "production").lock, None);
}

/// Production switches two flags on (and a command leaves a file) that a rollback must
/// switch off again.
fn flag_steps(marker: &Path) -> String {
    let flag = |name: &str| {
        format!(
            r#"      - http:
          request: {{ method: PUT, url: "{{{{ vars.api }}}}/flags/{name}", body: {{ enabled: true }} }}
          undo: {{ request: {{ method: PUT, url: "{{{{ vars.api }}}}/flags/{name}", body: {{ enabled: false }} }} }}
"#
        )
    };
    format!(
        r#"      - deploy: {{ weight: 10 }}
{}      - exec:
          command: ["true"]
          undo: {{ command: ["sh", "-c", "echo $RELCTL_RELEASE >> '{}'"] }}
{}      - deploy: {{}}
"#,
        flag("first"),
        marker.display(),
        flag("second")
    )
}

fn flags_live() -> (Setup, std::path::PathBuf) {
    let marker = tempfile::NamedTempFile::new()
        .expect("a temp file")
        .into_temp_path()
        .to_path_buf();
    let _ = std::fs::remove_file(&marker);
    let s = Setup::new("", &flag_steps(&marker));
    ok(&s.promote(OLD, &["--version", "1.0.0"]));
    ok(&s.promote(HEX, &["--version", "1.1.0"]));
    (s, marker)
}

#[test]
fn rollback_runs_the_undo_of_the_rolled_back_release_before_the_redeploy() {
    let (s, marker) = flags_live();
    let seen = s.platform.requests().len();
    ok(&s.relctl_as(ALICE, &["rollback", "--env", "production"]));
    let after: Vec<(String, serde_json::Value)> = s.platform.requests()[seen..]
        .iter()
        .filter(|r| r.path.starts_with("/flags/") || r.path.starts_with("/deploy/"))
        .map(|r| (r.path.clone(), r.body.clone()))
        .collect();
    let off = serde_json::json!({ "enabled": false });
    assert_eq!(after.len(), 3, "{after:#?}");
    assert_eq!(after[0], ("/flags/second".to_string(), off.clone()));
    assert_eq!(after[1], ("/flags/first".to_string(), off));
    assert_eq!(after[2].0, "/deploy/production");
    assert_eq!(after[2].1["image"], artifact(OLD));
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap_or_default(),
        format!("{}\n", release(HEX)),
        "the exec step's undo ran once, for the rolled-back release"
    );
    let events = s.events(HEX);
    assert!(
        events.ends_with(
            &[
                "rollback_started",
                "undone",
                "undone",
                "undone",
                "rolled_back"
            ]
            .map(String::from)
        ),
        "{events:?}"
    );
    let history = s.relctl(&["history", &release(HEX), "--env", "production"]);
    let undone: Vec<&str> = history
        .stdout
        .lines()
        .filter(|l| l.contains("undone"))
        .collect();
    assert_eq!(undone.len(), 3, "{}", history.stdout);
    assert!(undone[0].contains("step 4 undone"), "{}", history.stdout);
    assert!(undone[2].contains("step 2 undone"), "{}", history.stdout);
    let _ = std::fs::remove_file(&marker);
}

#[test]
fn rollback_no_undo_skips_the_undo_and_records_it() {
    let (s, marker) = flags_live();
    let seen = s.platform.requests().len();
    ok(&s.relctl_as(ALICE, &["rollback", "--env", "production", "--no-undo"]));
    let after: Vec<String> = s.platform.requests()[seen..]
        .iter()
        .map(|r| r.path.clone())
        .filter(|p| !p.starts_with("/deployments/"))
        .collect();
    assert_eq!(after, ["/deploy/production"]);
    assert_eq!(
        s.platform.flag("second"),
        Some(serde_json::json!({ "enabled": true }))
    );
    assert!(!marker.exists(), "the exec step's undo did not run");
    let history = s.relctl(&["history", &release(HEX), "--env", "production"]);
    let skipped = history
        .stdout
        .lines()
        .filter(|l| l.contains("skipped (--no-undo)"))
        .count();
    assert_eq!(skipped, 3, "{}", history.stdout);
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
}

#[test]
fn a_refused_promote_leaves_the_record_as_it_was() {
    let approval = "    approval: { approvers: [\"alice@acme.io\"] }\n";
    let s = Setup::new(approval, CANARY);
    // OLD waits for approval in production, holding its lock.
    assert_eq!(s.promote(OLD, &[]).code, 4);
    let tip = || s.env.git(&["rev-parse", "relctl/records"]);
    let before = tip();
    // Blocked by policy: not live in staging yet.
    let run = s.promote(HEX, &["--env", "production"]);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert_eq!(
        tip(),
        before,
        "a promote blocked by policy recorded something"
    );
    // Locked: production is held by OLD.
    let run = s.promote(
        HEX,
        &["--env", "production", "--force", "--reason", "hotfix"],
    );
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert_eq!(
        tip(),
        before,
        "a promote refused by the lock recorded something"
    );
    let history = s.relctl(&["history", "--limit", "1000"]);
    ok(&history);
    assert!(
        !history.stdout.contains(&release(HEX)),
        "{}",
        history.stdout
    );
    assert_eq!(s.relctl(&["history", &release(HEX)]).code, 2);
    assert!(
        s.platform
            .requests()
            .iter()
            .all(|r| { r.body["release"] != serde_json::json!(release(HEX)) })
    );
}

#[test]
fn a_release_stopped_before_it_deployed_says_nothing_was_rolled_back() {
    let approval = "    approval: { approvers: [\"alice@acme.io\"] }\n";
    let s = Setup::new(approval, CANARY);
    assert_eq!(s.promote(FIRST, &[]).code, 4);
    ok(&s.relctl_as(ALICE, &["approve", &release(FIRST), "--env", "production"]));
    ok(&s.relctl(&["resume", &release(FIRST)]));
    // HEX waits for approval in production and is rejected there; OLD is aborted there.
    let deploys = s.platform.deploys().len();
    assert_eq!(s.promote(HEX, &[]).code, 4);
    ok(&s.relctl_as(
        ALICE,
        &[
            "reject",
            &release(HEX),
            "--env",
            "production",
            "--reason",
            "not today",
        ],
    ));
    let run = s.relctl(&["resume", &release(HEX)]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "{} was stopped before anything was deployed in production",
            release(HEX)
        )),
        "{}",
        run.stderr
    );
    assert_eq!(s.promote(OLD, &[]).code, 4);
    ok(&s.relctl(&["abort", &release(OLD), "--reason", "wrong build"]));
    for id in [release(HEX), release(OLD)] {
        let history = s.relctl(&["history", &id, "--env", "production"]);
        assert!(
            history
                .stdout
                .contains("nothing was deployed here: nothing to roll back"),
            "{}",
            history.stdout
        );
        assert!(
            !history.stdout.contains("nothing was live before"),
            "{}",
            history.stdout
        );
    }
    let production: Vec<_> = s.platform.deploys()[deploys..]
        .iter()
        .filter(|(env, _, _)| env == "production")
        .cloned()
        .collect();
    assert!(production.is_empty(), "{production:?}");
    assert_eq!(
        s.platform.running("production"),
        Some((artifact(FIRST), 100))
    );
}

#[test]
fn status_after_ctrl_c_says_interrupted_and_how_to_resume() {
    let s = Setup::new(
        "",
        "      - deploy: { weight: 10 }\n      - pause: 60s\n      - deploy: {}\n",
    );
    let child = s.spawn(&["promote", "--artifact", &artifact(HEX)]);
    wait_until("the pause to begin", || {
        s.env.records_log().contains("production: step 2 pause")
    });
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(interrupted.success());
    assert_eq!(finish(child).code, 130);
    let id = release(HEX);
    let status = s.relctl(&["status", "--env", "production"]);
    ok(&status);
    assert!(
        status.stdout.contains(&format!("interrupted: {id}")),
        "{}",
        status.stdout
    );
    assert!(
        status
            .stdout
            .contains(&format!("`relctl resume {id}` continues it")),
        "{}",
        status.stdout
    );
    assert!(!status.stdout.contains("in progress"), "{}", status.stdout);
    let json = s.relctl(&["--output", "json", "status", "--env", "production"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(
        value["environments"][0]["state"],
        format!("interrupted: {id}")
    );
}

#[test]
fn a_rollback_whose_redeploy_failed_is_taken_over_by_the_next_one() {
    let s = Setup::new("", CANARY);
    ok(&s.promote(OLD, &["--version", "1.0.0"]));
    ok(&s.promote(HEX, &["--version", "1.1.0"]));
    s.platform.fail_next_deploys(&[503, 503, 503]);
    let run = s.relctl_as(ALICE, &["rollback", "--env", "production"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let status = s.relctl(&["status", "--env", "production"]);
    assert!(
        status
            .stdout
            .contains(&format!("rollback failed: {}", release(HEX))),
        "{}",
        status.stdout
    );
    // Bob is not told that Alice's rollback is running: it stopped, so he takes it over.
    let run = s.relctl_as(BOB, &["rollback", "--env", "production"]);
    ok(&run);
    assert!(
        run.stderr.contains(&format!(
            "rolled production back from {} to {}",
            release(HEX),
            release(OLD)
        )),
        "{}",
        run.stderr
    );
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
    assert_eq!(env_file(s.env.path(), "production").lock, None);
}

#[test]
fn ctrl_c_while_waiting_for_a_lock_leaves_the_record_as_it_was() {
    use std::io::BufRead as _;
    let approval = "    approval: { approvers: [\"alice@acme.io\"] }\n";
    let s = Setup::new(approval, CANARY);
    assert_eq!(s.promote(OLD, &[]).code, 4);
    let before = s.env.git(&["rev-parse", "relctl/records"]);
    let mut debug = s.env.std_command();
    debug.env("RELCTL_LOG", "debug");
    let mut child = spawn(
        debug,
        &[
            "promote",
            "--artifact",
            &artifact(HEX),
            "--env",
            "production",
            "--force",
            "--reason",
            "hotfix",
            "--wait-lock=10m",
        ],
    );
    // Its debug log says each time it finds production locked.
    let (lines, seen) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines.send(line);
        }
    });
    let mut log = String::new();
    while !log.contains("Busy") {
        let line = seen
            .recv_timeout(DEADLINE)
            .unwrap_or_else(|_| panic!("promote never waited for the lock:\n{log}"));
        log.push_str(&line);
        log.push('\n');
    }
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(interrupted.success());
    let status = child.wait().expect("promote ends");
    let _ = reader.join();
    log.extend(seen.try_iter().map(|l| l + "\n"));
    assert_eq!(status.code(), Some(130), "{log}");
    assert!(log.contains("interrupted before it started"), "{log}");
    assert_eq!(s.env.git(&["rev-parse", "relctl/records"]), before);
}
