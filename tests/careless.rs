//! What a careless user does: the demo pointed at a real project, `--force` without a
//! reason, a dead notification hook, a tagged artifact reference, `| head` on a release.

use crate::common::TestEnv;
use crate::promote::{CANARY, HEX, Setup, artifact, plan, release};

#[test]
fn the_demo_refuses_a_directory_it_did_not_make() {
    let env = TestEnv::new();
    env.init_repo();
    let plan = "# my project's plan\nversion: 1\n";
    env.write("release.yaml", plan);
    let run = env.run(&["demo", "--dir", "."]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error: relctl demo writes only into a new or empty directory"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
    // Nothing of the project was touched.
    let written = std::fs::read_to_string(env.path().join("release.yaml")).unwrap_or_default();
    assert_eq!(written, plan);
    // The project has no identity of its own (operators' come from their HOME): the
    // demo set none.
    let local = std::process::Command::new("git")
        .current_dir(env.path())
        .args(["config", "--local", "--get", "user.email"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    assert_eq!(local, "");
    assert_eq!(env.records_log(), "");
    assert!(!env.path().join(".relctl-demo").exists());
}

#[test]
fn force_without_a_reason_is_refused() {
    let s = Setup::new("", CANARY);
    let run = s.promote(HEX, &["--force"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--reason"), "{}", run.stderr);
    assert!(s.platform.deploys().is_empty());
    let run = s.promote(HEX, &["--override-freeze"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(s.platform.deploys().is_empty());
    assert_eq!(s.env.records_log(), "");
    // With a reason it goes.
    let image = artifact(HEX);
    let run = s.relctl(&[
        "promote",
        "--artifact",
        &image,
        "--force",
        "--reason",
        "hotfix",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn a_dead_hook_warns_once_and_every_miss_is_recorded() {
    let s = Setup::new("", CANARY);
    let text = format!(
        "{}notify:\n  - url: \"{{{{ vars.api }}}}/hooks/broken\"\n",
        plan(&s.platform, "", CANARY)
    );
    s.env.write("release.yaml", text);
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let hook = format!("{}/hooks/broken", s.platform.url());
    assert_eq!(
        run.stderr.matches("warning:").count(),
        1,
        "one warning for the hook:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "warning: cannot notify {hook} of the `started` event: "
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("not repeated"), "{}", run.stderr);
    // started, four deploys, succeeded: each one told (and tried again), each one missed.
    assert_eq!(s.platform.hook_bodies("broken").len(), 12);
    let events = s.events(HEX);
    assert_eq!(
        events.iter().filter(|e| *e == "notify_failed").count(),
        6,
        "{events:?}"
    );
}

#[test]
fn a_tag_beside_the_digest_is_accepted_and_the_digest_wins() {
    let s = Setup::new("", CANARY);
    let tagged = format!("ghcr.io/acme/checkout:1.4.2@sha256:{HEX}");
    let run = s.relctl(&["promote", "--artifact", &tagged]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Deployed and recorded by digest, without the tag.
    let image = artifact(HEX);
    assert!(
        s.platform.deploys().iter().all(|(_, i, _)| *i == image),
        "{:?}",
        s.platform.deploys()
    );
    let file = s.record_file(&relctl::format::release_path("checkout", &release(HEX)));
    assert!(file.contains(&image), "{file}");
    assert!(!file.contains(":1.4.2@"), "{file}");
}

#[test]
fn a_bad_digest_says_what_is_wrong_with_it() {
    let s = Setup::new("", CANARY);
    let bad = format!("sha256:{}z", &HEX[..63]);
    let run = s.relctl(&["promote", "--artifact", &bad]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("has `z` at position 64, which is not a hex digit"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("64 hex characters"), "{}", run.stderr);
    let run = s.relctl(&["promote", "--artifact", "sha256:4f2a9c1b"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("has 8 hex characters; a sha256 digest has 64"),
        "{}",
        run.stderr
    );
    assert!(s.platform.deploys().is_empty());
}

/// Runs a promotion with stdout to a pipe whose reader closes after the first line (as
/// `| head -1` does), and returns the exit code.
fn promote_into_a_closed_pipe(s: &Setup) -> i32 {
    use std::io::{BufRead, BufReader};
    let mut child = s
        .env
        .std_command()
        .args(["promote", "--artifact", &artifact(HEX), "--output", "json"])
        .env("DEPLOY_TOKEN", crate::promote::SECRET)
        .env("RELCTL_BACKOFF_MS", "1")
        .env("RELCTL_POLL_MS", "20")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start relctl");
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("the first line");
    assert!(first.contains("\"started\""), "{first}");
    // The reader is gone: the production pause is still ahead of relctl.
    let status = child.wait().expect("relctl ends");
    status.code().unwrap_or(-1)
}

#[test]
fn a_closed_stdout_neither_stops_a_release_nor_hides_its_exit_code() {
    let steps = "      - pause: 300ms\n      - deploy: {}\n";
    // A release that succeeds goes on to the end and exits 0.
    let s = Setup::new("", steps);
    assert_eq!(promote_into_a_closed_pipe(&s), 0);
    let events = s.events(HEX);
    assert_eq!(
        events.iter().filter(|e| *e == "live").count(),
        3,
        "{events:?}"
    );
    assert_eq!(
        s.platform.running("production").map(|(image, _)| image),
        Some(artifact(HEX))
    );
    // A release that fails in production after the reader left exits with its code (1).
    let s = Setup::new("", steps);
    s.platform.fail_next_deploys(&[200, 200, 400]);
    assert_eq!(promote_into_a_closed_pipe(&s), 1);
    let events = s.events(HEX);
    assert!(events.iter().any(|e| e == "step_failed"), "{events:?}");
    assert_eq!(
        events.iter().filter(|e| *e == "live").count(),
        2,
        "{events:?}"
    );
}

#[test]
fn history_into_a_closed_pipe_ends_quietly() {
    let s = Setup::new("", CANARY);
    assert_eq!(s.promote(HEX, &[]).code, 0);
    let mut child = s
        .env
        .std_command()
        .args(["history"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start relctl");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("relctl ends");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}

#[test]
fn a_second_version_for_a_recorded_release_is_ignored_with_a_warning() {
    let s = Setup::new("", CANARY);
    let run = s.promote(HEX, &["--version", "1.0.0", "--to", "dev"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = s.promote(HEX, &["--version", "2.0.0", "--to", "staging"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("is version 1.0.0 in the record (since it was first promoted); --version 2.0.0 is ignored"),
        "{}",
        run.stderr
    );
    let file = s.record_file(&relctl::format::release_path("checkout", &release(HEX)));
    assert!(file.contains("version: \"1.0.0\""), "{file}");
}
