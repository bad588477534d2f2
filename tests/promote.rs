//! `relctl promote`, `resume`, `approve`, `reject`, `abort` against the platform double,
//! with the record in a real git repository.

use serde_json::Value;

use crate::common::Setup;
use crate::common::setup::{CANARY, HEX, OLD, SECRET, artifact, canary_deploys, release};
use crate::common::{Run, ok};

#[test]
fn three_environments_end_to_end() {
    let s = Setup::new("", CANARY);
    let run = s.promote(HEX, &["--version", "1.4.2"]);
    ok(&run);
    let image = artifact(HEX);
    assert_eq!(s.platform.deploys(), canary_deploys(HEX));
    let deploys: Vec<_> = s
        .platform
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/deploy/"))
        .collect();
    assert_eq!(deploys[0].method, "POST");
    assert_eq!(
        deploys[0].header("authorization"),
        Some(format!("Bearer {SECRET}").as_str())
    );
    assert_eq!(deploys[0].header("content-type"), Some("application/json"));
    let keys: Vec<_> = deploys
        .iter()
        .map(|r| r.header("idempotency-key").unwrap_or_default().to_string())
        .collect();
    let id = release(HEX);
    assert_eq!(
        keys,
        vec![
            format!("{id}/dev/1/0"),
            format!("{id}/staging/1/0"),
            format!("{id}/production/1/0"),
            format!("{id}/production/1/1")
        ]
    );
    assert_eq!(
        deploys[2].body,
        serde_json::json!({ "image": image, "weight": 10, "release": id })
    );
    // The record: every event, in order, one commit each, with trailers.
    let events = s.events(HEX);
    assert_eq!(events.first().map(String::as_str), Some("started"));
    assert_eq!(events.iter().filter(|e| *e == "live").count(), 3);
    assert_eq!(events.iter().filter(|e| *e == "intent").count(), 4);
    let log = s.env.git(&[
        "log",
        "--format=%s%n%(trailers:key=Relctl-Event,valueonly)",
        "relctl/records",
    ]);
    assert!(log.contains(&format!("{id} production: live")), "{log}");
    let commits = s.env.git(&["rev-list", "--count", "relctl/records"]);
    assert_eq!(commits.trim().parse::<usize>().unwrap_or(0), events.len());
    // The layout: one file per environment, one per release under the first two hex
    // digits of its digest, with the directory's summary for reports.
    let files = s
        .env
        .git(&["ls-tree", "-r", "--name-only", "relctl/records"]);
    assert_eq!(
        files.lines().collect::<Vec<_>>(),
        [
            "apps/c/7/checkout/environments/dev.yaml",
            "apps/c/7/checkout/environments/production.yaml",
            "apps/c/7/checkout/environments/staging.yaml",
            &format!("apps/c/7/checkout/releases/4f/{id}.yaml"),
            "apps/c/7/checkout/releases/4f/summary.tsv",
            relctl::format::FORMAT,
        ]
    );
    let production = s.record_file("apps/c/7/checkout/environments/production.yaml");
    assert!(
        production.contains(&format!("release: {id}")),
        "{production}"
    );
    assert!(
        production.contains(&format!("artifact: {image}")),
        "{production}"
    );
    assert!(production.contains("version: \"1.4.2\""), "{production}");
    assert!(production.contains("lock: null"), "{production}");
    // The user's branch, index and working tree are untouched.
    assert_eq!(
        s.env.git(&["status", "--porcelain"]).trim(),
        "?? release.yaml"
    );
    assert_eq!(
        s.env.git(&["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "main"
    );
}

#[test]
fn rerunning_promote_is_a_no_op() {
    let s = Setup::new("", CANARY);
    ok(&s.promote(HEX, &[]));
    let calls = s.platform.requests().len();
    let events = s.events(HEX).len();
    let run = s.promote(HEX, &[]);
    ok(&run);
    assert_eq!(s.platform.requests().len(), calls, "no new calls");
    assert_eq!(s.events(HEX).len(), events, "no new events");
}

#[test]
fn promote_to_stops_at_that_environment_and_a_later_run_continues() {
    let s = Setup::new("", CANARY);
    ok(&s.promote(HEX, &["--to", "staging"]));
    assert_eq!(s.platform.deploys().len(), 2);
    ok(&s.promote(HEX, &[]));
    assert_eq!(s.platform.deploys().len(), 4);
}

#[test]
fn json_output_is_one_event_per_line_and_a_summary() {
    let s = Setup::new("", CANARY);
    let run = s.promote(HEX, &["--output", "json"]);
    ok(&run);
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines[0]["event"], "started");
    assert_eq!(lines[0]["release"], release(HEX));
    let last = lines.last().expect("a summary");
    assert_eq!(last["summary"], true);
    assert_eq!(last["outcome"], "promoted");
    assert_eq!(last["exit"], 0);
}

#[test]
fn plain_output_is_one_timestamped_line_per_event() {
    let s = Setup::new("", CANARY);
    let run = s
        .env
        .run_with(&["promote", "--artifact", &artifact(HEX)], |c| {
            c.env("DEPLOY_TOKEN", SECRET)
                .env("RELCTL_NOW", "2026-11-22T10:00:00Z");
        });
    ok(&run);
    assert_eq!(run.stdout, "");
    let first = run.stderr.lines().next().unwrap_or_default();
    assert_eq!(
        first,
        format!(
            "2026-11-22T10:00:00Z {} - started {} for dev → staging → production",
            release(HEX),
            &HEX[..12]
        )
    );
}

#[test]
fn a_missing_secret_stops_before_anything_changes() {
    let s = Setup::new("", CANARY);
    let run = s.env.run(&["promote", "--artifact", &artifact(HEX)]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("DEPLOY_TOKEN"), "{}", run.stderr);
    assert!(s.platform.requests().is_empty());
}

#[test]
fn an_unknown_environment_is_a_usage_error() {
    let s = Setup::new("", CANARY);
    let run = s.promote(HEX, &["--to", "prod"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("there is no environment `prod` in the plan"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("hint: environments: dev, staging, production"),
        "{}",
        run.stderr
    );
}

#[test]
fn order_is_enforced_and_force_is_recorded() {
    let s = Setup::new("", CANARY);
    let run = s.promote(HEX, &["--env", "production"]);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr.contains("is not live in staging yet"),
        "{}",
        run.stderr
    );
    assert!(s.platform.deploys().is_empty());
    let run = s.promote(
        HEX,
        &["--env", "production", "--force", "--reason", "hotfix"],
    );
    ok(&run);
    let record = s.record_file(&relctl::format::release_path("checkout", &release(HEX)));
    assert!(record.contains("rule: order"), "{record}");
    assert!(record.contains("hotfix"), "{record}");
    assert!(record.contains("actor: tester@example.com"), "{record}");
}

#[test]
fn soak_time_is_enforced() {
    let s = Setup::new("    requires: { soak: 30m }\n", CANARY);
    let at = |t: &str| -> Run {
        s.env
            .run_with(&["promote", "--artifact", &artifact(HEX)], |c| {
                c.env("DEPLOY_TOKEN", SECRET).env("RELCTL_NOW", t);
            })
    };
    let run = at("2026-11-22T10:00:00Z");
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("must soak in staging for 30m before production; 30m to go"),
        "{}",
        run.stderr
    );
    let run = at("2026-11-22T10:20:00Z");
    assert_eq!(run.code, 6);
    assert!(run.stderr.contains("10m to go"), "{}", run.stderr);
    ok(&at("2026-11-22T10:30:00Z"));
}

#[test]
fn freeze_blocks_and_override_is_recorded() {
    let freeze = "    freeze: [ { from: \"2026-12-20T00:00:00Z\", to: \"2027-01-04T00:00:00Z\", reason: holidays } ]\n";
    let s = Setup::new(freeze, CANARY);
    let during = |extra: &[&str]| -> Run {
        let artifact = artifact(HEX);
        let mut args = vec!["promote", "--artifact", artifact.as_str()];
        args.extend_from_slice(extra);
        s.env.run_with(&args, |c| {
            c.env("DEPLOY_TOKEN", SECRET)
                .env("RELCTL_NOW", "2026-12-24T12:00:00Z");
        })
    };
    let run = during(&[]);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("production is frozen until 2027-01-04 00:00 UTC (holidays)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--override-freeze"), "{}", run.stderr);
    // dev and staging went through; production was never called.
    assert_eq!(s.platform.deploys().len(), 2);
    let run = during(&["--override-freeze"]);
    assert_eq!(run.code, 2, "--override-freeze needs --reason");
    ok(&during(&["--override-freeze", "--reason", "incident fix"]));
    let record = s.record_file(&relctl::format::release_path("checkout", &release(HEX)));
    assert!(record.contains("rule: freeze"), "{record}");
    assert!(record.contains("incident fix"), "{record}");
}

#[test]
fn deploy_5xx_is_retried_then_fails_with_exit_1_and_resume_finishes() {
    let s = Setup::new("", CANARY);
    s.platform.fail_next_deploys(&[503, 503, 503]);
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("503"), "{}", run.stderr);
    assert!(run.stderr.contains("after 3 attempts"), "{}", run.stderr);
    assert_eq!(s.platform.deploys().len(), 3, "one call and two retries");
    assert!(s.events(HEX).contains(&"step_failed".to_string()));
    let run = s.relctl(&["resume", &release(HEX)]);
    ok(&run);
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 100)));
}

#[test]
fn deploy_4xx_is_not_retried() {
    let s = Setup::new("", CANARY);
    s.platform.fail_next_deploys(&[422]);
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("422"), "{}", run.stderr);
    assert_eq!(s.platform.deploys().len(), 1);
}

#[test]
fn wait_times_out() {
    let s = Setup::new("", CANARY);
    s.platform.never_ready();
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("`.state == \"ready\"` still not true after"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_digest_mismatch_fails_the_step() {
    let s = Setup::new("", CANARY);
    s.platform.report_digest(&format!("sha256:{OLD}"));
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("sha256:0123456789ab"), "{}", run.stderr);
    let record = s.record_file(&relctl::format::release_path("checkout", &release(HEX)));
    assert!(record.contains("event: step_failed"), "{record}");
}

#[test]
fn the_secret_never_reaches_output_record_or_history() {
    let s = Setup::new("", CANARY);
    s.platform.fail_next_deploys(&[500, 200]);
    let run = s.promote(HEX, &["--output", "json", "-v"]);
    ok(&run);
    assert!(!run.stdout.contains(SECRET) && !run.stderr.contains(SECRET));
    let history = s.env.git(&["log", "-p", "--all"]);
    assert!(
        !history.contains(SECRET),
        "the secret is in the git history"
    );
    assert!(history.contains("***"), "the masked header is recorded");
}

#[test]
fn plan_shows_the_actions_with_secrets_masked_and_changes_nothing() {
    let freeze = "    freeze: [ { from: \"2026-12-20T00:00:00Z\", to: \"2027-01-04T00:00:00Z\", reason: holidays } ]\n";
    let s = Setup::new(freeze, CANARY);
    let run = s
        .env
        .run_with(&["plan", "--artifact", &artifact(HEX)], |c| {
            c.env("DEPLOY_TOKEN", SECRET)
                .env("RELCTL_NOW", "2026-12-24T12:00:00Z");
        });
    ok(&run);
    let id = release(HEX);
    let url = s.platform.url();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], format!("plan for {id} ({}):", artifact(HEX)));
    assert_eq!(
        lines[1],
        format!(
            "  dev          step 1 deploy POST {url}/deploy/dev {{\"image\":\"{}\",\"release\":\"{id}\",\"weight\":100}}",
            artifact(HEX)
        )
    );
    assert!(run.stdout.contains("production   would block (freeze): production is frozen until 2027-01-04 00:00 UTC (holidays)"), "{}", run.stdout);
    assert!(
        run.stdout.contains("production   step 1 deploy POST"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains(SECRET));
    assert!(s.platform.requests().is_empty());
    let branches = s.env.git(&["branch", "--list", "relctl/records"]);
    assert_eq!(branches.trim(), "", "plan wrote no record");
    // JSON: the same actions, with the masked request.
    let run = s.relctl(&["--output", "json", "plan", "--artifact", &artifact(HEX)]);
    ok(&run);
    let plan: Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    assert_eq!(
        plan["actions"][0]["request"]["headers"]["Authorization"],
        "***"
    );
}

#[test]
fn promoting_a_release_replaced_since_it_went_live_is_refused_and_forced_deploys_it_again() {
    let s = Setup::new("", CANARY);
    assert_eq!(s.promote(OLD, &[]).code, 0);
    assert_eq!(s.promote(HEX, &[]).code, 0);
    let deploys = s.platform.deploys().len();
    // Not live anywhere any more: never said to be.
    let run = s.promote(OLD, &[]);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(!run.stderr.contains("is live in"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "{} went live in production before and {} has replaced it since",
            release(OLD),
            release(HEX)
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "hint: `relctl rollback --env production --to {}` puts it back; to promote anyway: --force --reason TEXT",
            release(OLD)
        )),
        "{}",
        run.stderr
    );
    assert_eq!(s.platform.deploys().len(), deploys, "nothing deployed");
    let plan = s.relctl(&["plan", "--artifact", &artifact(OLD)]);
    assert!(
        plan.stdout.contains(&format!(
            "went live here before; {} runs here now",
            release(HEX)
        )) && plan.stdout.contains("would block (replaced)"),
        "{}",
        plan.stdout
    );
    // Forced into production alone: a new visit, deployed through every step.
    let run = s.promote(
        OLD,
        &[
            "--env",
            "production",
            "--force",
            "--reason",
            "v2 breaks exports",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
    assert_eq!(s.platform.running("dev"), Some((artifact(HEX), 100)));
    let production = s.record_file("apps/c/7/checkout/environments/production.yaml");
    assert!(
        production.contains(&format!("release: {}", release(OLD))),
        "{production}"
    );
    let file = s.record_file(&relctl::format::release_path("checkout", &release(OLD)));
    assert!(file.contains("rule: replaced"), "{file}");
}
