//! The organisation's view (`relctl status --all`, `relctl releases`) and release ids
//! people can type: a unique prefix for every command that takes a release.

use serde_json::Value;

use crate::common::Run;
use crate::promote::{CANARY, HEX, OLD, Setup, artifact, release};

/// Shares its first three hex digits with `HEX`.
const SIBLING: &str = "4f2b000000000000000000000000000000000000000000000000000000000001";

const APPROVAL: &str =
    "    approval: { approvers: [\"*@sre.acme.io\"], min: 1, allow_self: false }\n";

fn usage_error(run: &Run, message: &str) {
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains(message), "{}", run.stderr);
}

#[test]
fn approve_resume_history_and_notes_take_a_prefix() {
    let s = Setup::new(APPROVAL, CANARY);
    let dev = |args: &[&str]| s.relctl_as("dev@acme.io", args);
    assert_eq!(dev(&["promote", "--artifact", &artifact(OLD)]).code, 4);
    // The digest part alone, as a person reads it off a dashboard.
    let run = s.relctl_as(
        "bob@sre.acme.io",
        &["approve", "0123", "--env", "production"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = dev(&["resume", "checkout-0123"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
    let run = dev(&["history", "checkout-01"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with(&release(OLD)), "{}", run.stdout);
    let run = dev(&["notes", "012345"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(&release(OLD)), "{}", run.stdout);
}

#[test]
fn reject_and_abort_take_a_prefix() {
    let s = Setup::new(APPROVAL, CANARY);
    let dev = |args: &[&str]| s.relctl_as("dev@acme.io", args);
    assert_eq!(dev(&["promote", "--artifact", &artifact(HEX)]).code, 4);
    let run = s.relctl_as(
        "bob@sre.acme.io",
        &["reject", "4f2a", "--env", "production", "--reason", "no"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(s.events(HEX).contains(&"rejected".to_string()));
    // resume rolls the rejected release back, and gives up the lock.
    assert_eq!(dev(&["resume", "4f2a9c"]).code, 3);
    assert!(s.events(HEX).contains(&"rolled_back".to_string()));
    assert_eq!(dev(&["promote", "--artifact", &artifact(OLD)]).code, 4);
    let run = dev(&["abort", "checkout-012", "--reason", "wrong build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(s.events(OLD).contains(&"aborted".to_string()));
}

#[test]
fn rollback_to_takes_a_prefix() {
    let s = Setup::new("", CANARY);
    assert_eq!(s.promote(OLD, &["--version", "1.0.0"]).code, 0);
    assert_eq!(s.promote(HEX, &["--version", "1.1.0"]).code, 0);
    let run = s.relctl(&[
        "rollback",
        "--env",
        "production",
        "--to",
        "0123",
        "--reason",
        "5xx",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
}

#[test]
fn an_ambiguous_prefix_names_every_release_it_matches_and_changes_nothing() {
    let s = Setup::new("", CANARY);
    assert_eq!(s.promote(OLD, &[]).code, 0);
    assert_eq!(s.promote(SIBLING, &[]).code, 0);
    assert_eq!(s.promote(HEX, &[]).code, 0);
    let both = format!("matches {}, {}", release(HEX), release(SIBLING));
    for given in ["checkout-4f2", "4f2"] {
        usage_error(
            &s.relctl(&["history", given]),
            &format!("ambiguous: `{given}` {both}"),
        );
    }
    let deploys = s.platform.deploys().len();
    let commits = s.env.records_log();
    usage_error(
        &s.relctl(&[
            "rollback",
            "--env",
            "production",
            "--to",
            "4f",
            "--reason",
            "x",
        ]),
        &format!("ambiguous: `4f` {both}"),
    );
    usage_error(
        &s.relctl(&["approve", "4f2", "--env", "production"]),
        "ambiguous: `4f2`",
    );
    assert_eq!(s.platform.deploys().len(), deploys, "nothing was deployed");
    assert_eq!(s.env.records_log(), commits, "nothing was recorded");
}

#[test]
fn an_unknown_release_is_exit_2_with_the_closest_id() {
    let s = Setup::new("", CANARY);
    assert_eq!(s.promote(OLD, &[]).code, 0);
    assert_eq!(s.promote(HEX, &[]).code, 0);
    let typo = "checkout-4f2a9c1be0d4";
    let expected = format!(
        "there is no release `{typo}` in the record; did you mean `{}`?",
        release(HEX)
    );
    for args in [
        vec!["history", typo],
        vec!["notes", typo],
        vec!["resume", typo],
        vec!["abort", typo],
        vec!["approve", typo, "--env", "production"],
        vec!["reject", typo, "--env", "production", "--reason", "x"],
        vec![
            "rollback",
            "--env",
            "production",
            "--to",
            typo,
            "--reason",
            "x",
        ],
    ] {
        let run = s.relctl(&args);
        usage_error(&run, &expected);
        assert!(
            run.stderr
                .contains("hint: `relctl releases` lists the releases"),
            "{}",
            run.stderr
        );
    }
    // The digest part mistyped.
    usage_error(
        &s.relctl(&["history", "4f3a"]),
        &format!("did you mean `{}`?", release(HEX)),
    );
    // Nothing close: no guess.
    let run = s.relctl(&["history", "nothing-like-it"]);
    usage_error(&run, "there is no release `nothing-like-it` in the record");
    assert!(!run.stderr.contains("did you mean"), "{}", run.stderr);
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 100)));
}

#[test]
fn releases_lists_newest_first_with_where_each_is_live_and_rejected() {
    let s = Setup::new("", CANARY);
    assert_eq!(s.promote(OLD, &["--version", "1.0.0"]).code, 0);
    assert_eq!(s.promote(SIBLING, &["--version", "1.1.0"]).code, 0);
    assert_eq!(s.promote(HEX, &["--version", "1.2.0"]).code, 0);
    assert_eq!(
        s.relctl(&["rollback", "--env", "production", "--reason", "5xx"])
            .code,
        0
    );
    let run = s.relctl(&["releases"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        [
            "RELEASE", "VERSION", "CREATED", "LIVE", "IN", "REJECTED", "IN"
        ]
    );
    let rows: Vec<Vec<&str>> = lines[1..]
        .iter()
        .map(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            // RELEASE VERSION date time UTC LIVE REJECTED
            vec![cells[0], cells[1], cells[5], cells[6]]
        })
        .collect();
    assert_eq!(
        rows,
        [
            vec![release(HEX).as_str(), "1.2.0", "dev,staging", "production"],
            vec![release(SIBLING).as_str(), "1.1.0", "production", "-"],
            vec![release(OLD).as_str(), "1.0.0", "-", "-"],
        ]
    );

    let run = s.relctl(&["releases", "--limit", "1", "--output", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: Value = serde_json::from_str(&run.stdout).expect("json");
    let listed = json["releases"].as_array().expect("releases");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["release"], release(HEX).as_str());
    assert_eq!(listed[0]["app"], "checkout");
    assert_eq!(listed[0]["version"], "1.2.0");
    assert_eq!(listed[0]["live"], serde_json::json!(["dev", "staging"]));
    assert_eq!(listed[0]["rejected"], serde_json::json!(["production"]));
    assert!(
        listed[0]["created"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );

    let run = s.relctl(&["releases", "--env", "nowhere"]);
    usage_error(&run, "there is no environment `nowhere` in the record");
}
