//! Deployment windows: allow and deny windows per environment, weekly or one-off, in an
//! IANA zone; `freeze` entries as the one-off deny windows they are; `--wait-window`;
//! `status` saying until when an environment is closed; rollback never held back.
//! Decisions are made at a pinned clock (`relctl_at`); only the waiting test uses the
//! wall clock, with a window that opens a moment after it starts.

use crate::common::setup::{CANARY, HEX, OLD, Setup, artifact, release};
use crate::common::{Run, ok};

/// Production closed from Friday 22:00 to Monday 06:00, Berlin time.
const WEEKEND: &str = r#"    windows:
      zone: Europe/Berlin
      deny:
        - { name: weekend, start: "fri 22:00", end: "mon 06:00" }
"#;

fn promote_at(s: &Setup, now: &str, hex: &str, extra: &[&str]) -> Run {
    let artifact = artifact(hex);
    let mut args = vec!["promote", "--artifact", artifact.as_str()];
    args.extend_from_slice(extra);
    s.relctl_at(now, &args)
}

fn production_deploys(s: &Setup) -> usize {
    s.platform
        .deploys()
        .iter()
        .filter(|d| d.0 == "production")
        .count()
}

#[test]
fn a_weekend_deny_window_across_midnight_blocks_until_monday_morning() {
    let s = Setup::new(WEEKEND, CANARY);
    // Saturday noon in Berlin.
    let run = promote_at(&s, "2026-12-05T11:00:00Z", HEX, &[]);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "production is closed (deny window \"weekend\") until Mon 2026-12-07 06:00 Europe/Berlin"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--wait-window"), "{}", run.stderr);
    assert_eq!(production_deploys(&s), 0, "production was never called");
    // Friday 22:30 in Berlin, past midnight UTC or not: still closed.
    assert_eq!(promote_at(&s, "2026-12-04T21:30:00Z", HEX, &[]).code, 6);
    // Monday 05:59 in Berlin (04:59 UTC): closed; 06:00 opens it.
    assert_eq!(promote_at(&s, "2026-12-07T04:59:00Z", HEX, &[]).code, 6);
    ok(&promote_at(&s, "2026-12-07T05:00:00Z", HEX, &[]));
    assert_eq!(production_deploys(&s), 2);
}

#[test]
fn a_nightly_allow_window_wraps_past_midnight() {
    let nightly = r#"    windows:
      allow:
        - { name: nightly, start: "22:00", end: "02:00" }
"#;
    let s = Setup::new(nightly, CANARY);
    let run = promote_at(&s, "2026-12-08T03:00:00Z", HEX, &[]);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "production is closed (outside allow window \"nightly\") until Tue 2026-12-08 22:00 UTC"
        ),
        "{}",
        run.stderr
    );
    // 01:30 the next morning is still inside the window that began at 22:00.
    ok(&promote_at(&s, "2026-12-09T01:30:00Z", HEX, &[]));
}

/// Office hours in Berlin are 09:00 on the wall clock before and after the change to
/// summer time (Sunday 2026-03-29): 08:00 UTC on Friday, 07:00 UTC on Monday.
#[test]
fn a_wall_clock_window_keeps_its_hours_across_the_change_to_summer_time() {
    let office = r#"    windows:
      zone: Europe/Berlin
      allow:
        - name: office hours
          days: [mon, tue, wed, thu, fri]
          start: "09:00"
          end: "17:00"
"#;
    let s = Setup::new(office, CANARY);
    let run = promote_at(&s, "2026-03-28T12:00:00Z", HEX, &[]);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "production is closed (outside allow window \"office hours\") until Mon 2026-03-30 09:00 Europe/Berlin"
        ),
        "{}",
        run.stderr
    );
    // 08:30 summer time is 06:30 UTC: closed; 09:30 summer time is 07:30 UTC, which
    // winter time would have read as 08:30.
    assert_eq!(promote_at(&s, "2026-03-30T06:30:00Z", HEX, &[]).code, 6);
    ok(&promote_at(&s, "2026-03-30T07:30:00Z", HEX, &[]));
}

#[test]
fn a_deny_window_on_dates_closes_an_allow_window_and_one_off_times_are_read_in_the_zone() {
    let holidays = r#"    windows:
      zone: America/New_York
      allow:
        - { name: weekdays, days: [mon, tue, wed, thu, fri], start: "00:00", end: "24:00" }
      deny:
        - { name: christmas, dates: [2026-12-24, 2026-12-25] }
        - { name: new year, from: "2026-12-31T18:00", to: "2027-01-01T12:00" }
"#;
    let s = Setup::new(holidays, CANARY);
    // Thursday 24 December, 10:00 in New York: a weekday, but denied.
    let run = promote_at(&s, "2026-12-24T15:00:00Z", HEX, &[]);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "production is closed (deny window \"christmas\") until Mon 2026-12-28 00:00 America/New_York"
        ),
        "{}",
        run.stderr
    );
    // 31 December, 19:00 in New York (00:00 UTC on the first).
    let run = promote_at(&s, "2027-01-01T00:00:00Z", HEX, &[]);
    assert!(
        run.stderr.contains(
            "production is closed (deny window \"new year\") until Fri 2027-01-01 12:00 America/New_York"
        ),
        "{}",
        run.stderr
    );
    ok(&promote_at(&s, "2026-12-30T15:00:00Z", HEX, &[]));
}

#[test]
fn override_freeze_lifts_a_closed_window_and_is_recorded() {
    let s = Setup::new(WEEKEND, CANARY);
    let during = "2026-12-05T11:00:00Z";
    assert_eq!(
        promote_at(&s, during, HEX, &["--override-freeze"]).code,
        2,
        "--override-freeze needs --reason"
    );
    ok(&promote_at(
        &s,
        during,
        HEX,
        &["--override-freeze", "--reason", "hotfix"],
    ));
    let record = s.record_file(&relctl::format::release_path("checkout", &release(HEX)));
    assert!(record.contains("rule: window"), "{record}");
    assert!(record.contains("hotfix"), "{record}");
}

#[test]
fn a_freeze_next_to_windows_still_blocks_as_a_freeze() {
    let both = format!(
        "{WEEKEND}    freeze: [ {{ from: \"2026-12-20T00:00:00Z\", to: \"2027-01-04T00:00:00Z\", reason: holidays }} ]\n"
    );
    let s = Setup::new(&both, CANARY);
    // Wednesday 2026-12-23: the freeze closes it. When it ends (Monday 00:00 UTC) the
    // weekend window still has it closed until 06:00 Berlin time: that is when it opens.
    let run = promote_at(&s, "2026-12-23T12:00:00Z", HEX, &[]);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("production is frozen until 2027-01-04 05:00 UTC (holidays)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--override-freeze"), "{}", run.stderr);
    ok(&promote_at(
        &s,
        "2026-12-23T12:00:00Z",
        HEX,
        &["--override-freeze", "--reason", "incident fix"],
    ));
    let record = s.record_file(&relctl::format::release_path("checkout", &release(HEX)));
    assert!(record.contains("rule: freeze"), "{record}");
}

#[test]
fn status_says_until_when_an_environment_is_closed() {
    let s = Setup::new(WEEKEND, CANARY);
    let run = s.relctl_at("2026-12-05T11:00:00Z", &["status"]);
    ok(&run);
    assert!(
        run.stdout.contains(
            "production is closed (deny window \"weekend\") until Mon 2026-12-07 06:00 Europe/Berlin"
        ),
        "{}",
        run.stdout
    );
    let run = s.relctl_at(
        "2026-12-05T11:00:00Z",
        &["status", "--output", "json", "--env", "production"],
    );
    ok(&run);
    let status: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(
        status["environments"][0]["closed_until"], "2026-12-07T05:00:00Z",
        "{}",
        run.stdout
    );
    // Open on a Wednesday: nothing said.
    let run = s.relctl_at("2026-12-09T11:00:00Z", &["status"]);
    assert!(!run.stdout.contains("closed"), "{}", run.stdout);
}

#[test]
fn rollback_goes_on_in_a_closed_window_and_the_record_says_so() {
    let s = Setup::new(WEEKEND, CANARY);
    let wednesday = "2026-12-09T11:00:00Z";
    ok(&promote_at(&s, wednesday, OLD, &[]));
    ok(&promote_at(&s, wednesday, HEX, &[]));
    let run = s.relctl_at(
        "2026-12-05T11:00:00Z",
        &[
            "rollback",
            "--env",
            "production",
            "--reason",
            "errors spiking",
        ],
    );
    ok(&run);
    assert!(
        run.stderr
            .contains("a rollback is never held back by a window"),
        "{}",
        run.stderr
    );
    let production = s.record_file("apps/c/7/checkout/environments/production.yaml");
    assert!(production.contains(&release(OLD)), "{production}");
    let record = s.record_file(&relctl::format::release_path("checkout", &release(HEX)));
    assert!(
        record.contains(
            "errors spiking (ran while production is closed (deny window \"weekend\") until Mon 2026-12-07 06:00 Europe/Berlin)"
        ),
        "{record}"
    );
}

/// The wall clock, not a pinned one: a deny window that ends a moment from now.
#[test]
fn wait_window_waits_for_the_window_to_open_and_gives_up_at_its_limit() {
    let window = |to: chrono::DateTime<chrono::Utc>| {
        format!(
            "    windows:\n      deny:\n        - {{ name: deploy freeze, from: \"{}\", to: \"{}\" }}\n",
            (to - chrono::Duration::hours(2)).to_rfc3339(),
            to.to_rfc3339()
        )
    };
    let s = Setup::new(
        &window(chrono::Utc::now() + chrono::Duration::hours(1)),
        CANARY,
    );
    let run = s.promote(HEX, &["--wait-window=1s"]);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr.contains("still closed after 1s"),
        "{}",
        run.stderr
    );
    assert_eq!(production_deploys(&s), 0);

    // The release is live in staging: the next promote goes straight to production's
    // window, which now ends a few seconds from now.
    let plan = crate::common::setup::plan(
        &s.platform,
        &window(chrono::Utc::now() + chrono::Duration::seconds(3)),
        CANARY,
    );
    s.env.write("release.yaml", plan);
    let run = s.promote(HEX, &["--wait-window=5m"]);
    ok(&run);
    assert!(
        run.stderr.contains("waiting for it to open"),
        "{}",
        run.stderr
    );
    assert_eq!(production_deploys(&s), 2);
}

/// Where `needle` starts in `text`, as `line:column`.
fn position(text: &str, needle: &str) -> String {
    let at = text.find(needle).expect("the needle is in the plan");
    let line = text[..at].matches('\n').count() + 1;
    let column = at - text[..at].rfind('\n').map_or(0, |n| n + 1) + 1;
    format!("{line}:{column}")
}

#[test]
fn bad_windows_are_named_where_they_stand() {
    let cases = [
        (
            "      zone: Mars/Olympus\n      deny:\n        - { name: w, start: \"22:00\", end: \"02:00\" }\n",
            "Mars/Olympus",
            "`zone` must be an IANA time zone like Europe/Berlin or UTC, found `Mars/Olympus`",
        ),
        (
            "      deny:\n        - { name: w, days: [mon, fry], start: \"22:00\", end: \"02:00\" }\n",
            "fry",
            "unknown day `fry`: days are mon, tue, wed, thu, fri, sat, sun",
        ),
        (
            "      deny:\n        - { name: w, start: \"22:00\", end: \"22:00\" }\n",
            "\"22:00\" }",
            "a window cannot end where it starts",
        ),
        (
            "      deny:\n        - { name: w, start: \"25:00\", end: \"02:00\" }\n",
            "\"25:00\"",
            "`start` must be a wall-clock time like 09:00",
        ),
        (
            "      allow:\n        - { name: w, dates: [2026-13-01] }\n",
            "2026-13-01",
            "a date must be written like 2026-12-24, found `2026-13-01`",
        ),
    ];
    for (windows, needle, message) in cases {
        let s = Setup::new(&format!("    windows:\n{windows}"), CANARY);
        let plan = std::fs::read_to_string(s.env.path().join("release.yaml")).expect("the plan");
        let run = s.relctl(&["validate"]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        let expected = format!("release.yaml:{}: {message}", position(&plan, needle));
        assert!(
            run.stderr.contains(&expected),
            "expected `{expected}` in:\n{}",
            run.stderr
        );
    }
}

/// The `error:` line a run ended with.
fn error_line(run: &Run) -> String {
    run.stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_default()
        .to_string()
}

fn records_tip(s: &Setup) -> String {
    s.env.git(&["rev-parse", "relctl/records"])
}

/// For a few situations, `check` then `promote --env production` at the same time: the
/// same exit code and the same reason; and `check` leaves the records branch alone.
#[test]
fn check_gives_the_verdict_promote_then_reaches() {
    let soak = format!("    requires: {{ soak: 30m }}\n{WEEKEND}");
    let s = Setup::new(&soak, CANARY);
    let wednesday = "2026-12-09T10:00:00Z";
    ok(&promote_at(&s, wednesday, HEX, &["--to", "staging"]));
    let hex = artifact(HEX);
    let old = artifact(OLD);
    let situations = [
        // Soak not over.
        ("2026-12-09T10:10:00Z", hex.as_str(), 6),
        // Not live in staging.
        ("2026-12-09T10:40:00Z", old.as_str(), 6),
        // The weekend.
        ("2026-12-12T10:40:00Z", hex.as_str(), 6),
        // Nothing blocks.
        ("2026-12-09T10:40:00Z", hex.as_str(), 0),
    ];
    for (now, artifact, code) in situations {
        let before = records_tip(&s);
        let check = s.relctl_at(
            now,
            &["check", "--env", "production", "--artifact", artifact],
        );
        assert_eq!(check.code, code, "{}{}", check.stdout, check.stderr);
        assert_eq!(records_tip(&s), before, "check recorded nothing");
        let promote = s.relctl_at(
            now,
            &["promote", "--env", "production", "--artifact", artifact],
        );
        assert_eq!(promote.code, code, "{}", promote.stderr);
        assert_eq!(error_line(&check), error_line(&promote));
    }
    assert_eq!(production_deploys(&s), 2);
}

#[test]
fn check_lists_every_gate_and_defaults_to_the_release_live_before() {
    let s = Setup::new(WEEKEND, CANARY);
    ok(&promote_at(
        &s,
        "2026-12-09T10:00:00Z",
        HEX,
        &["--to", "staging"],
    ));
    let before = records_tip(&s);
    let run = s.relctl_at("2026-12-05T11:00:00Z", &["check", "--env", "production"]);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stdout.contains(&format!(
            "gates of production (checkout) for {}",
            release(HEX)
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "window           blocks  production is closed (deny window \"weekend\") until Mon 2026-12-07 06:00 Europe/Berlin"
        ),
        "{}",
        run.stdout
    );
    let run = s.relctl_at(
        "2026-12-05T11:00:00Z",
        &["check", "--env", "production", "--output", "json"],
    );
    assert_eq!(run.code, 6, "{}", run.stderr);
    let check: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(check["verdict"], "blocked");
    let verdicts: Vec<(String, String)> = check["gates"]
        .as_array()
        .expect("gates")
        .iter()
        .map(|g| {
            (
                g["gate"].as_str().unwrap_or_default().to_string(),
                g["verdict"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let blocks: Vec<&str> = verdicts
        .iter()
        .filter(|(_, v)| v == "blocks")
        .map(|(g, _)| g.as_str())
        .collect();
    assert_eq!(blocks, ["window"], "{verdicts:?}");
    assert!(
        verdicts.iter().any(|(g, v)| g == "order" && v == "pass"),
        "{verdicts:?}"
    );
    // Wednesday: nothing blocks.
    ok(&s.relctl_at("2026-12-09T11:00:00Z", &["check", "--env", "production"]));
    // The first environment, no artifact: the gates that hold for any release.
    let run = s.relctl_at("2026-12-05T11:00:00Z", &["check", "--env", "dev"]);
    ok(&run);
    assert!(run.stdout.contains("for any release"), "{}", run.stdout);
    assert_eq!(records_tip(&s), before, "check recorded nothing");
}

/// A plan whose production has an analysis step measuring the platform's error rate for
/// the release's version, through an `http` metrics provider.
fn with_analysis() -> Setup {
    let steps = "      - deploy: { weight: 10 }\n      - analysis: health\n      - deploy: {}\n";
    let s = Setup::new("", steps);
    let plan = std::fs::read_to_string(s.env.path().join("release.yaml")).expect("the plan");
    let plan = plan.replace(
        "environments:",
        &format!(
            "  metrics:\n    stats: {{ type: http, request: {{ url: \"{}/stats/{{{{ release.version }}}}\" }}, value: '.error_rate' }}\nenvironments:",
            s.platform.url()
        ),
    ) + "analyses:\n  health:\n    metrics:\n      - name: errors\n        provider: stats\n        max: 0.05\n";
    s.env.write("release.yaml", plan);
    s
}

#[test]
fn check_measures_the_analysis_metrics_once_and_shows_them_without_blocking() {
    let s = with_analysis();
    ok(&s.promote(HEX, &["--to", "staging", "--version", "v2"]));
    let before = records_tip(&s);
    let gate = |run: &Run| -> serde_json::Value {
        let check: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
        check["gates"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|g| g["gate"] == "analysis (step 2): errors")
            .cloned()
            .unwrap_or_default()
    };
    s.platform
        .set_stats("v2", serde_json::json!({ "error_rate": 0.2 }));
    let run = s.relctl(&["check", "--env", "production", "--output", "json"]);
    // A failing metric is shown; promote would still enter, so check passes.
    ok(&run);
    assert_eq!(gate(&run)["verdict"], "fails", "{}", run.stdout);
    assert_eq!(gate(&run)["detail"], "value 0.2", "{}", run.stdout);
    s.platform
        .set_stats("v2", serde_json::json!({ "error_rate": 0.01 }));
    let run = s.relctl(&["check", "--env", "production", "--output", "json"]);
    ok(&run);
    assert_eq!(gate(&run)["verdict"], "pass", "{}", run.stdout);
    assert_eq!(records_tip(&s), before, "check recorded nothing");
    assert_eq!(production_deploys(&s), 0);
}

/// Ctrl-C while `--wait-window` waits: exit 130, production untouched.
#[test]
fn ctrl_c_while_waiting_for_a_window_is_exit_130() {
    let now = chrono::Utc::now();
    let closed = format!(
        "    windows:\n      deny:\n        - {{ name: change freeze, from: \"{}\", to: \"{}\" }}\n",
        (now - chrono::Duration::hours(1)).to_rfc3339(),
        (now + chrono::Duration::hours(1)).to_rfc3339()
    );
    let s = Setup::new(&closed, CANARY);
    let hex = artifact(HEX);
    let mut waiting = s.spawn(&["promote", "--artifact", &hex, "--wait-window=1h"]);
    crate::common::wait::wait_until("staging live, production's window waited for", || {
        assert!(
            waiting.try_wait().ok().flatten().is_none(),
            "promote ended before it waited"
        );
        std::process::Command::new("git")
            .args([
                "show",
                "relctl/records:apps/c/7/checkout/environments/staging.yaml",
            ])
            .current_dir(s.env.path())
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(&release(HEX)))
    });
    let sent = std::process::Command::new("kill")
        .args(["-INT", &waiting.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let run = crate::common::wait::finish(waiting);
    assert_eq!(run.code, 130, "{}", run.stderr);
    assert_eq!(production_deploys(&s), 0);
}
