//! Release policy as a stranger tried it: credentials written into a provider's URL are
//! secrets, masked wherever the provider's answers appear.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use crate::budget::{history, production_deploys, serving, setup_with_steps};
use crate::common::Setup;
use crate::common::platform::echoed;
use crate::common::setup::QUICK;
use crate::common::setup::{CANARY, HEX, artifact, release};

const PASSWORD: &str = "hunter2secret";

/// A loopback "Prometheus" answering every request 500, its body echoing the request's
/// `Authorization` header and `password` as is. Returns its `host:port`.
fn echoing_server() -> String {
    echoing(PASSWORD)
}

fn echoing(password: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    let addr = listener.local_addr().expect("the bound address");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut auth = String::new();
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                if line.trim().is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("authorization")
                {
                    auth = value.trim().to_string();
                }
                line.clear();
            }
            let body = format!("denied: auth {auth} for admin:{password} ({password})");
            let answer = format!(
                "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = (&stream).write_all(answer.as_bytes());
        }
    });
    addr.to_string()
}

fn budget() -> &'static str {
    "      provider: prom\n      objective: 99.9\n      period: 30d\n      sloth: { service: checkout, slo: availability }\n"
}

/// Everything relctl wrote for `s`: the runs' output and the records branch's patches.
fn assert_nothing_shows(s: &Setup, secret: &str, outputs: &[String]) {
    let records = s
        .env
        .git(&["log", "-p", "--format=%H%n%B", "relctl/records"]);
    let all = format!("{}\n{records}", outputs.join("\n"));
    assert!(!all.contains(secret), "the credential as is:\n{all}");
    for (how, encoded) in echoed(secret) {
        assert!(!all.contains(&encoded), "the credential ({how}):\n{all}");
    }
    use base64::Engine as _;
    for user in ["admin:", ""] {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}{secret}"));
        assert!(
            !all.contains(basic.trim_end_matches('=')),
            "Basic credentials `{basic}`:\n{all}"
        );
    }
}

#[test]
fn credentials_in_a_prometheus_url_are_masked_like_secrets() {
    for userinfo in [format!("admin:{PASSWORD}"), PASSWORD.to_string()] {
        let url = format!("http://{userinfo}@{}", echoing_server());
        let s = setup_with_steps(&url, budget(), CANARY);
        let promote = s.promote(HEX, &["--output", "json"]);
        assert_eq!(promote.code, 6, "{}", promote.stderr);
        assert!(
            promote.stderr.contains("could not be read"),
            "{}",
            promote.stderr
        );
        assert!(promote.stderr.contains("500"), "{}", promote.stderr);
        assert!(
            promote.stderr.contains("***"),
            "the echo is shown, masked: {}",
            promote.stderr
        );
        // The JSON summary says why, in the same (masked) words, with the hint.
        let summary: serde_json::Value =
            serde_json::from_str(promote.stdout.lines().last().unwrap_or_default())
                .expect("a JSON summary");
        assert_eq!(summary["outcome"], "blocked", "{}", promote.stdout);
        assert_eq!(summary["exit"], 6, "{}", promote.stdout);
        let error = summary["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("could not be read") && error.contains("***"),
            "{}",
            promote.stdout
        );
        assert!(summary["hint"].is_string(), "{}", promote.stdout);
        let check = s.relctl(&[
            "check",
            "--env",
            "production",
            "--artifact",
            &artifact(HEX),
            "--output",
            "json",
        ]);
        let history = history(&s);
        let releases = s.relctl(&["releases", "--output", "json"]);
        let shown = s.relctl(&["history", &release(HEX), "--output", "json"]);
        let mut outputs = Vec::new();
        for run in [&promote, &check, &history, &releases, &shown] {
            outputs.push(run.stdout.clone());
            outputs.push(run.stderr.clone());
        }
        assert_nothing_shows(&s, PASSWORD, &outputs);
    }
}

/// An error budget whose query is `{{ window }}`'s Sloth ratio for `version`, times 0,
/// plus `offset`: a number Prometheus really answers, of the plan's choosing.
fn offset_budget(version: &str, offset: &str, extra: &str) -> String {
    let query = format!(
        r#"0 * slo:sli_error:ratio_rate{{{{ window }}}}{{sloth_service="{version}"}} + {offset}"#
    );
    format!(
        "      provider: prom\n      objective: 99.9\n      period: 30d\n      error_ratio: '{query}'\n{extra}"
    )
}

#[test]
fn an_error_ratio_outside_zero_to_one_is_unreadable_and_blocks() {
    let prometheus = serving("outside", 0.0);
    for offset in ["-0.5", "7", "1/0"] {
        let s = setup_with_steps(
            &prometheus.url(),
            &offset_budget("outside", offset, ""),
            CANARY,
        );
        let run = s.promote(HEX, &[]);
        assert_eq!(run.code, 6, "{offset}: {}", run.stderr);
        assert!(
            run.stderr.contains("its error budget could not be read")
                && run.stderr.contains("which is not an error ratio"),
            "{offset}: {}",
            run.stderr
        );
        assert_eq!(production_deploys(&s), 0, "{offset}");
    }
    // `on_error: pass` lets it through, and the record says why.
    let s = setup_with_steps(
        &prometheus.url(),
        &offset_budget("outside", "-0.5", "      on_error: pass\n"),
        CANARY,
    );
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        history(&s).stdout.contains("not an error ratio"),
        "the reason is recorded"
    );
}

/// Production waits for an approval and reads its error budget from Sloth's rules for
/// `version`.
fn approved_budget(version: &str) -> String {
    format!(
        "      provider: prom\n      objective: 99.9\n      period: 30d\n      sloth: {{ service: {version}, slo: availability }}\n    approval: {{ approvers: [\"*@sre.acme.io\"] }}\n"
    )
}

#[test]
fn a_budget_that_burns_during_the_approval_wait_stops_the_approved_release() {
    let version = "burns-while-waiting";
    let prometheus = serving(version, 0.0);
    let s = setup_with_steps(&prometheus.url(), &approved_budget(version), CANARY);
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 4, "awaits approval: {}", run.stderr);

    // While it waits, the service starts burning its budget fast.
    serving(version, 0.5);
    for window in ["5m", "1h"] {
        prometheus.wait_for(
            &format!(r#"slo:sli_error:ratio_rate{window}{{sloth_service="{version}"}}"#),
            |s| s.len() == 1 && s[0].value > 0.05,
            std::time::Duration::from_secs(60),
        );
    }

    // `check` says what resume would then do, and exits as it would.
    let check = s.relctl(&[
        "check",
        "--env",
        "production",
        "--artifact",
        &artifact(HEX),
        "--output",
        "json",
    ]);
    assert_eq!(check.code, 6, "{}\n{}", check.stdout, check.stderr);
    let json: serde_json::Value = serde_json::from_str(check.stdout.trim()).unwrap_or_default();
    assert_eq!(json["verdict"], "blocked", "{}", check.stdout);
    let reason = json["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("once approved, resume would stop") && reason.contains("burning"),
        "{reason}"
    );

    let approve = s.relctl_as(
        "bob@sre.acme.io",
        &["approve", &release(HEX), "--env", "production"],
    );
    assert_eq!(approve.code, 0, "{}", approve.stderr);
    let resume = s.relctl_as("dev@acme.io", &["resume", &release(HEX)]);
    assert_eq!(resume.code, 6, "{}", resume.stderr);
    assert!(
        resume.stderr.contains("cannot enter production") && resume.stderr.contains("burning"),
        "{}",
        resume.stderr
    );
    assert_eq!(production_deploys(&s), 0, "nothing deployed into the burn");
}

#[test]
fn check_refuses_a_digest_whose_release_id_another_digest_holds() {
    let s = Setup::new("", CANARY);
    assert_eq!(s.promote(HEX, &[]).code, 0);
    // The same first 12 hex characters, another digest.
    let other = format!("{}{}", &HEX[..12], "d".repeat(52));
    let check = s.relctl(&[
        "check",
        "--env",
        "production",
        "--artifact",
        &artifact(&other),
    ]);
    let promote = s.promote(&other, &[]);
    assert_eq!(promote.code, 2, "{}", promote.stderr);
    assert_eq!(check.code, 2, "{}\n{}", check.stdout, check.stderr);
    assert!(
        check.stderr.contains("that id is taken by"),
        "{}",
        check.stderr
    );
    assert!(
        check.stdout.is_empty(),
        "no verdict shown: {}",
        check.stdout
    );
}

#[test]
fn plan_shows_the_queries_of_the_entry_budget_gate() {
    let s = setup_with_steps("http://127.0.0.1:9", budget(), CANARY);
    let run = s.relctl(&["plan", "--artifact", &artifact(HEX)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let entry = run
        .stdout
        .lines()
        .position(|l| l.contains("before entering, read"))
        .unwrap_or_else(|| panic!("no entry gate shown:\n{}", run.stdout));
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[entry].trim_start().starts_with("production")
            && lines[entry].contains("error_budget 99.9% over 30d from prom"),
        "{}",
        run.stdout
    );
    assert!(
        lines[entry + 1].contains(
            r#"slo:sli_error:ratio_rate5m{sloth_service="checkout",sloth_slo="availability"}"#
        ),
        "{}",
        run.stdout
    );
}

/// Ctrl-C while `--wait-window` waits to take a release live in staging further: the
/// request to go on is recorded, so `resume` goes on toward production (and is held by
/// its window, exit 6), as the hint says.
#[test]
fn resume_after_ctrl_c_in_a_window_wait_goes_on_toward_the_waiting_environment() {
    let now = chrono::Utc::now();
    let closed = format!(
        "    windows:\n      deny:\n        - {{ name: change freeze, from: \"{}\", to: \"{}\" }}\n",
        (now - chrono::Duration::hours(1)).to_rfc3339(),
        (now + chrono::Duration::hours(1)).to_rfc3339()
    );
    let s = Setup::new(&closed, CANARY);
    assert_eq!(s.promote(HEX, &["--to", "staging"]).code, 0);
    let log = s.env.path().join("waiting.stderr");
    let stderr = std::fs::File::create(&log).expect("a log file in the test's directory");
    let hex = artifact(HEX);
    let mut waiting = s
        .env
        .std_command()
        .args(["promote", "--artifact", &hex, "--wait-window=1h"])
        .envs(QUICK)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("start relctl");
    crate::common::wait::wait_until("promote waits for production's window", || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.contains("waiting for it to open"))
    });
    let sent = std::process::Command::new("kill")
        .args(["-INT", &waiting.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let code = waiting.wait().expect("promote ends").code();
    let said = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(code, Some(130), "{said}");
    assert!(said.contains("relctl resume"), "{said}");

    let resume = s.relctl(&["resume", &release(HEX)]);
    assert_eq!(
        resume.code, 6,
        "goes on toward production: {}",
        resume.stderr
    );
    assert!(
        resume.stderr.contains("cannot enter production"),
        "{}",
        resume.stderr
    );
    assert_eq!(production_deploys(&s), 0);
}

#[test]
fn validate_refuses_a_fractional_objective_and_other_templates_in_error_ratio() {
    let fraction = "      provider: prom\n      objective: 0.999\n      period: 30d\n      sloth: { service: checkout, slo: availability }\n";
    let s = setup_with_steps("http://127.0.0.1:9", fraction, CANARY);
    let run = s.relctl(&["validate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("`objective` is a percentage (99.9 for 99.9%), found 0.999"),
        "{}",
        run.stderr
    );
    for query in [
        "rate(errors{env=\"{{ env.name }}\"}[{{ window }}])",
        "rate(errors[{{ window }}]) {% if true %}{% endif %}",
        "rate(errors[{{ window | upper }}])",
    ] {
        let budget = format!(
            "      provider: prom\n      objective: 99.9\n      period: 30d\n      error_ratio: '{query}'\n"
        );
        let s = setup_with_steps("http://127.0.0.1:9", &budget, CANARY);
        let run = s.relctl(&["validate"]);
        assert_eq!(run.code, 2, "{query}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("`error_ratio` may use no template but `{{ window }}`"),
            "{query}: {}",
            run.stderr
        );
    }
}

#[test]
fn a_one_off_end_that_summer_time_skips_is_the_first_moment_after_the_change() {
    // 02:30 does not exist in Berlin on 28 March 2027: clocks go from 02:00 to 03:00.
    let skipped = r#"    windows:
      zone: Europe/Berlin
      deny:
        - { name: night work, from: "2027-03-28T01:00", to: "2027-03-28T02:30" }
"#;
    let s = Setup::new(skipped, CANARY);
    let artifact = artifact(HEX);
    // 01:30 in Berlin (winter time).
    let run = s.relctl_at(
        "2027-03-28T00:30:00Z",
        &["promote", "--artifact", &artifact],
    );
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "production is closed (deny window \"night work\") until Sun 2027-03-28 03:00 Europe/Berlin"
        ),
        "{}",
        run.stderr
    );
    // 03:00 summer time (01:00 UTC) it is open.
    let run = s.relctl_at(
        "2027-03-28T01:00:00Z",
        &["promote", "--artifact", &artifact],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(production_deploys(&s), 2);
}

#[test]
fn a_percent_encoded_password_in_a_url_is_masked_as_it_is_sent() {
    // Written `p%40ssw0rdXY`, sent (and echoed) as `p@ssw0rdXY`.
    let url = format!("http://admin:p%40ssw0rdXY@{}", echoing("p@ssw0rdXY"));
    let s = setup_with_steps(&url, budget(), CANARY);
    let promote = s.promote(HEX, &["--output", "json"]);
    assert_eq!(promote.code, 6, "{}", promote.stderr);
    let releases = s.relctl(&["releases", "--output", "json"]);
    let outputs = vec![
        promote.stdout.clone(),
        promote.stderr.clone(),
        releases.stdout.clone(),
        releases.stderr.clone(),
    ];
    assert_nothing_shows(&s, "p@ssw0rdXY", &outputs);
}

#[test]
fn a_password_in_a_url_too_short_to_mask_is_refused() {
    let url = format!("http://admin:ab@{}", echoing("ab"));
    let s = setup_with_steps(&url, budget(), CANARY);
    let promote = s.promote(HEX, &[]);
    assert_eq!(promote.code, 2, "{}", promote.stderr);
    assert!(
        promote
            .stderr
            .contains("a password written into a URL of the plan is shorter than 6 characters"),
        "{}",
        promote.stderr
    );
    assert!(
        !promote.stderr.contains("YWRtaW46YWI"),
        "{}",
        promote.stderr
    );
}
