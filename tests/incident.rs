//! The incident path: rollback, status, history, unlock.

use serde_json::Value;

use crate::common::git;
use crate::common::setup::{CANARY, HEX, OLD, Setup, artifact, release};

fn two_releases_live() -> Setup {
    let s = Setup::new("", CANARY);
    assert_eq!(s.promote(OLD, &["--version", "1.0.0"]).code, 0);
    assert_eq!(s.promote(HEX, &["--version", "1.1.0"]).code, 0);
    s
}

#[test]
fn rollback_restores_the_previous_release() {
    let s = two_releases_live();
    let run = s.relctl(&["rollback", "--env", "production", "--reason", "5xx spike"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "rolled production back from {} to {} (1.0.0) in",
            release(HEX),
            release(OLD)
        )),
        "{}",
        run.stderr
    );
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
    let last = s
        .platform
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.path == "/deploy/production")
        .expect("a deploy");
    assert_eq!(last.body["weight"], 100);
    let production = s.record_file("apps/c/7/checkout/environments/production.yaml");
    assert!(
        production.contains(&format!("release: {}", release(OLD))),
        "{production}"
    );
    assert!(production.contains("reason: 5xx spike"), "{production}");
    let events = s.events(HEX);
    assert!(
        events.ends_with(&["rollback_started".to_string(), "rolled_back".to_string()]),
        "{events:?}"
    );
    // status says so; promote refuses the rolled-back release without --force.
    let status = s.relctl(&["status", "--env", "production"]);
    assert_eq!(status.code, 0);
    assert!(
        status
            .stdout
            .contains(&format!("rolled back (from {})", release(HEX))),
        "{}",
        status.stdout
    );
    assert_eq!(s.promote(HEX, &[]).code, 6);
    // Rolling back staging --to a release that never was live there is refused.
    let run = s.relctl(&[
        "rollback",
        "--env",
        "staging",
        "--to",
        "checkout-ffffffffffff",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn rollback_preempts_a_release_under_way() {
    let steps = "      - deploy: { weight: 50 }\n      - approval: { approvers: [\"*@sre.acme.io\"] }\n      - deploy: {}\n";
    let s = Setup::new("", steps);
    assert_eq!(
        s.relctl_as("a@sre.acme.io", &["promote", "--artifact", &artifact(OLD)])
            .code,
        4
    );
    assert_eq!(
        s.relctl_as(
            "a@sre.acme.io",
            &["approve", &release(OLD), "--env", "production"]
        )
        .code,
        0
    );
    assert_eq!(
        s.relctl_as("a@sre.acme.io", &["resume", &release(OLD)])
            .code,
        0
    );
    assert_eq!(s.promote(HEX, &[]).code, 4);
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 50)));
    let run = s.relctl(&["rollback", "--env", "production"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
    assert!(s.events(HEX).contains(&"aborted".to_string()));
    assert!(
        s.record_file("apps/c/7/checkout/environments/production.yaml")
            .contains("lock: null")
    );
    // The preempted release cannot carry on.
    assert_ne!(s.relctl(&["resume", &release(HEX)]).code, 0);
}

#[test]
fn rollback_to_a_release_older_than_the_environment_file_remembers() {
    let s = Setup::new("", "      - deploy: {}\n");
    let kept = relctl::engine::event::PREVIOUS_KEPT;
    let hexes: Vec<String> = (0..kept + 2)
        .map(|i| format!("{i:02x}{}", "ab".repeat(31)))
        .collect();
    for (i, hex) in hexes.iter().enumerate() {
        let version = format!("1.0.{i}");
        assert_eq!(s.promote(hex, &["--version", &version]).code, 0);
    }
    // The file remembers only the last `kept` releases before the live one.
    let production = s.record_file("apps/c/7/checkout/environments/production.yaml");
    assert_eq!(
        production.matches("release: ").count(),
        1 + kept,
        "{production}"
    );
    assert!(!production.contains(&release(&hexes[0])), "{production}");
    // The oldest is still found, in its own release file.
    let oldest = release(&hexes[0]);
    let run = s.relctl(&["rollback", "--env", "production", "--to", &oldest]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        s.platform.running("production"),
        Some((artifact(&hexes[0]), 100))
    );
}

#[test]
fn rollback_with_nothing_to_go_back_to_is_exit_1() {
    let s = Setup::new("", CANARY);
    let run = s.relctl(&["rollback", "--env", "production"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("nothing is live in production"),
        "{}",
        run.stderr
    );
    assert_eq!(s.promote(OLD, &[]).code, 0);
    let run = s.relctl(&["rollback", "--env", "production"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(&format!(
            "nothing was live in production before {}",
            release(OLD)
        )),
        "{}",
        run.stderr
    );
    // The plan has no flags: the refusal says nothing about putting flags back.
    assert!(!run.stderr.contains("flag"), "{}", run.stderr);
    assert!(!run.stdout.contains("flag"), "{}", run.stdout);
}

#[test]
fn rollback_works_with_the_records_remote_gone() {
    let s = Setup::new("", CANARY);
    let origin = s.env.path().join("origin.git");
    git(
        s.env.path(),
        &["init", "-q", "--bare", "-b", "main", "origin.git"],
    );
    s.env.git(&[
        "remote",
        "add",
        "origin",
        origin.to_str().unwrap_or_default(),
    ]);
    let plan = std::fs::read_to_string(s.env.path().join("release.yaml")).expect("plan");
    s.env.write(
        "release.yaml",
        plan.replace(
            "app: checkout\n",
            "app: checkout\nrecord: { remote: origin }\n",
        ),
    );
    assert_eq!(s.promote(OLD, &[]).code, 0);
    assert_eq!(s.promote(HEX, &[]).code, 0);
    std::fs::rename(&origin, s.env.path().join("gone.git")).expect("remove the remote");
    let run = s.env.run_with(&["rollback", "--env", "production"], |c| {
        c.env("DEPLOY_TOKEN", crate::common::setup::SECRET);
    });
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
    assert!(run.stderr.contains("not pushed yet"), "{}", run.stderr);
    let status = s.relctl(&["status"]);
    assert!(
        status
            .stdout
            .contains("record commit(s) not pushed to origin yet"),
        "{}",
        status.stdout
    );
}

#[test]
fn status_shows_every_environment_and_json() {
    let approval = "    approval: { approvers: [\"alice@acme.io\"] }\n";
    let s = Setup::new(approval, CANARY);
    let run = s.env.run_with(
        &[
            "promote",
            "--artifact",
            &artifact(HEX),
            "--version",
            "2.0.0",
        ],
        |c| {
            c.env("DEPLOY_TOKEN", crate::common::setup::SECRET)
                .env("RELCTL_NOW", "2026-11-22T10:00:00Z");
        },
    );
    assert_eq!(run.code, 4);
    let status = s.relctl(&["status"]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    let id = release(HEX);
    let short = &HEX[..12];
    let lines: Vec<&str> = status.stdout.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        [
            "ENV", "RELEASE", "VERSION", "DIGEST", "SINCE", "STATE", "WHO"
        ]
    );
    assert!(
        lines[1].starts_with(&format!(
            "dev         {id}  2.0.0    {short}  2026-11-22 10:00 UTC  live"
        )),
        "{}",
        status.stdout
    );
    assert!(lines[3].starts_with("production  -"), "{}", status.stdout);
    assert!(
        lines[3].contains(&format!("awaiting approval: {id}")),
        "{}",
        status.stdout
    );
    let json = s.relctl(&["--output", "json", "status"]);
    let value: Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(
        value["environments"][2]["state"],
        format!("awaiting approval: {id}")
    );
    assert_eq!(value["environments"][0]["version"], "2.0.0");
    assert_eq!(value["unpushed"], 0);
}

#[test]
fn history_lists_events_newest_first_and_a_release_in_full() {
    let s = two_releases_live();
    let run = s.relctl(&["history", "--limit", "3"]);
    assert_eq!(run.code, 0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(
        lines[0].contains(&format!("{} production: live", release(HEX))),
        "{}",
        run.stdout
    );
    let run = s.relctl(&["history", "--env", "dev", "--limit", "100"]);
    assert!(
        run.stdout.lines().all(|l| l.contains(" dev: ")),
        "{}",
        run.stdout
    );
    let run = s.relctl(&["history", &release(OLD)]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.starts_with(&format!(
            "{}  {}  version 1.0.0",
            release(OLD),
            artifact(OLD)
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("production   step 1 deploy 10% done in"),
        "{}",
        run.stdout
    );
    // A closed pipe is not an error.
    let out = std::process::Command::new("sh")
        .current_dir(s.env.path())
        .arg("-c")
        .arg(format!(
            "'{}' history --limit 1000 | head -1",
            assert_cmd::cargo::cargo_bin("relctl").display()
        ))
        .output()
        .expect("sh");
    assert!(out.status.success());
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("error"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn unlock_breaks_a_lock_on_the_record_and_resume_takes_it_again() {
    let approval = "    approval: { approvers: [\"alice@acme.io\"] }\n";
    let s = Setup::new(approval, CANARY);
    assert_eq!(s.promote(HEX, &[]).code, 4);
    let run = s.relctl(&[
        "unlock",
        "--env",
        "production",
        "--reason",
        "holder is gone",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let production = s.record_file("apps/c/7/checkout/environments/production.yaml");
    assert!(production.contains("lock: null"), "{production}");
    assert!(s.events(HEX).last().is_some_and(|e| e == "unlocked"));
    let run = s.relctl(&["unlock", "--env", "production", "--reason", "again"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stderr.contains("production is not locked"),
        "{}",
        run.stderr
    );
    assert_eq!(
        s.relctl(&["resume", &release(HEX)]).code,
        4,
        "it waits for approval again, holding the lock"
    );
    assert!(
        !s.record_file("apps/c/7/checkout/environments/production.yaml")
            .contains("lock: null")
    );
}
