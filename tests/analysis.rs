//! Metric gates against a real Prometheus scraping a test service whose error rate per
//! version each test sets: healthy canaries go live, bad ones are rolled back.

use std::time::Duration;

use crate::common::prometheus::Prometheus;
use crate::common::service::TestService;
use crate::common::setup::{HEX, OLD, SECRET, artifact, release};
use crate::common::wait::wait_until;
use crate::common::{Run, Setup};

const DEADLINE: Duration = Duration::from_secs(30);

fn ratio(version: &str) -> String {
    format!(
        r#"sum(rate(http_requests_total{{app="checkout",version="{version}",code=~"5.."}}[5s])) / sum(rate(http_requests_total{{app="checkout",version="{version}"}}[5s]))"#
    )
}

/// The usual fixture (`s`), with a service whose traffic Prometheus scrapes.
struct Rig {
    s: Setup,
    service: TestService,
    prometheus: Prometheus,
}

/// `metrics` is the YAML list of the `health` analysis' metrics (indented by 6).
fn rig(analysis: &str, metrics: &str) -> Rig {
    let service = TestService::start();
    let prometheus = Prometheus::start(&[service.addr()]);
    let s = Setup::with_plan(|platform| {
        format!(
            r#"version: 1
app: checkout
artifact: {{ name: ghcr.io/acme/checkout }}
providers:
  deploy:
    platform:
      type: http
      request:
        url: "{api}/deploy/{{{{ env.name }}}}"
        body: {{ image: "{{{{ artifact.ref }}}}", weight: "{{{{ step.weight }}}}" }}
      verify_digest: '.digest'
  metrics:
    prom: {{ type: prometheus, url: "{prom}", timeout: 2s }}
    stats: {{ type: http, request: {{ url: "{api}/stats/{{{{ release.version }}}}" }}, value: '.error_rate' }}
environments:
  - name: production
    deploy: platform
    steps:
      - deploy: {{ weight: 10 }}
      - analysis: health
      - deploy: {{}}
analyses:
  health:
{analysis}    metrics:
{metrics}"#,
            api = platform.url(),
            prom = prometheus.url()
        )
    });
    Rig {
        s,
        service,
        prometheus,
    }
}

const FAST: &str = "    interval: 1s\n    count: 3\n";

fn error_rate_metric(extra: &str) -> String {
    format!(
        "      - name: error-rate\n        provider: prom\n        query: '{}'\n        max: 0.05\n{extra}",
        ratio("{{ release.version }}")
    )
}

impl Rig {
    fn promote(&self, hex: &str, version: &str) -> Run {
        self.s.env.run_with(
            &[
                "promote",
                "--artifact",
                &artifact(hex),
                "--version",
                version,
            ],
            |c| {
                c.env("DEPLOY_TOKEN", SECRET);
            },
        )
    }

    /// Waits until Prometheus has a rate for `version`.
    fn wait_for_data(&self, version: &str) {
        self.prometheus.wait_for(
            &ratio(version),
            |s| s.len() == 1 && s[0].value.is_finite(),
            DEADLINE,
        );
    }

    /// v1 is live in production, measured healthy.
    fn with_v1_live(&self) {
        self.service.set_traffic("v1", 100, 0.0);
        self.wait_for_data("v1");
        let run = self.promote(OLD, "v1");
        assert_eq!(run.code, 0, "{}", run.stderr);
    }

    fn record(&self, hex: &str) -> String {
        self.s.env.git(&[
            "show",
            &format!(
                "relctl/records:{}",
                relctl::format::release_path("checkout", &release(hex))
            ),
        ])
    }
}

#[test]
fn a_healthy_canary_is_promoted() {
    let r = rig(FAST, &error_rate_metric(""));
    r.with_v1_live();
    r.service.set_traffic("v2", 100, 0.01);
    r.wait_for_data("v2");
    let run = r.promote(HEX, "v2");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("error-rate 0.01 ≤ 0.05 ✓ 3/3"),
        "{}",
        run.stderr
    );
    assert_eq!(
        r.s.platform.running("production"),
        Some((artifact(HEX), 100))
    );
    let record = r.record(HEX);
    assert_eq!(record.matches("event: measured").count(), 3, "{record}");
    assert!(record.contains("phase: successful"), "{record}");
}

#[test]
fn a_bad_canary_is_rolled_back() {
    let r = rig(FAST, &error_rate_metric(""));
    r.with_v1_live();
    r.service.set_traffic("v2", 100, 0.5);
    r.wait_for_data("v2");
    let run = r.promote(HEX, "v2");
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("error-rate 0.5 > 0.05 ✗ 1/3"),
        "{}",
        run.stderr
    );
    // The platform saw the old version redeployed at full weight.
    assert_eq!(
        r.s.platform.running("production"),
        Some((artifact(OLD), 100))
    );
    let record = r.record(HEX);
    assert!(record.contains("value: 0.5"), "{record}");
    assert!(record.contains("phase: failed"), "{record}");
    assert!(record.contains("event: rolled_back"), "{record}");
}

#[test]
fn no_traffic_gives_no_data_and_follows_no_data() {
    let r = rig(FAST, &error_rate_metric("        no_data: inconclusive\n"));
    r.with_v1_live();
    let run = r.promote(HEX, "v2");
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains("error-rate no data ? 1/3"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("inconclusive"), "{}", run.stderr);
    assert_eq!(
        r.s.platform.running("production"),
        Some((artifact(HEX), 10)),
        "the canary waits for a person"
    );
    // `abort` rolls back.
    let run = r.s.env.run_with(&["abort", &release(HEX)], |c| {
        c.env("DEPLOY_TOKEN", SECRET);
    });
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        r.s.platform.running("production"),
        Some((artifact(OLD), 100))
    );
    // Without --reason the record's reason is empty, and history makes none up.
    let history = r.s.env.run(&["history", &release(HEX)]);
    assert_eq!(history.code, 0, "{}", history.stderr);
    assert!(
        history.stdout.lines().any(|l| l.contains("aborted  (")),
        "{}",
        history.stdout
    );
    let file =
        r.s.record_file(&relctl::format::release_path("checkout", &release(HEX)));
    assert!(file.contains("event: aborted\n"), "{file}");
    assert!(file.contains("reason: \"\"\n"), "{file}");
    assert!(
        !history.stdout.contains("aborted: aborted"),
        "{}",
        history.stdout
    );
}

#[test]
fn no_data_can_fail_the_canary() {
    let r = rig(FAST, &error_rate_metric("        no_data: fail\n"));
    r.with_v1_live();
    let run = r.promote(HEX, "v2");
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        r.s.platform.running("production"),
        Some((artifact(OLD), 100))
    );
}

#[test]
fn prometheus_gone_mid_analysis_errors_and_follows_consecutive_error_limit() {
    let analysis = "    interval: 1s\n    count: 5\n    consecutive_error_limit: 1\n";
    let mut r = rig(analysis, &error_rate_metric(""));
    r.with_v1_live();
    r.service.set_traffic("v2", 100, 0.0);
    r.wait_for_data("v2");
    let child =
        r.s.env
            .std_command()
            .args(["promote", "--artifact", &artifact(HEX), "--version", "v2"])
            .env("DEPLOY_TOKEN", SECRET)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start promote");
    wait_until("a measurement to be recorded", || {
        r.s.env
            .records_log()
            .contains(&format!("{} production: error-rate", release(HEX)))
    });
    r.prometheus.stop();
    let out = child.wait_with_output().expect("promote ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("error-rate error:"), "{stderr}");
    assert_eq!(
        r.s.platform.running("production"),
        Some((artifact(OLD), 100))
    );
    assert!(r.record(HEX).contains("phase: error"));
}

#[test]
fn several_series_without_reduce_is_a_clear_error() {
    let metric = "      - name: error-rate\n        provider: prom\n        query: 'rate(http_requests_total{version=\"{{ release.version }}\"}[5s])'\n        max: 100\n";
    let r = rig(
        "    interval: 1s\n    count: 3\n    consecutive_error_limit: 0\n",
        metric,
    );
    r.service.set_traffic("v2", 100, 0.1);
    r.wait_for_data("v2");
    let run = r.promote(HEX, "v2");
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("series") && run.stderr.contains("reduce"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_http_metric_provider_reads_a_number_with_jq() {
    let metric = "      - name: stats\n        provider: stats\n        max: 0.05\n";
    let r = rig(FAST, metric);
    r.s.platform
        .set_stats("v2", serde_json::json!({ "error_rate": 0.02 }));
    let run = r.promote(HEX, "v2");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("stats 0.02 ≤ 0.05 ✓ 3/3"),
        "{}",
        run.stderr
    );
    r.s.platform
        .set_stats("v3", serde_json::json!({ "error_rate": 0.2 }));
    let run = r.s.env.run_with(
        &["promote", "--artifact", &artifact(OLD), "--version", "v3"],
        |c| {
            c.env("DEPLOY_TOKEN", SECRET);
        },
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        r.s.platform.running("production"),
        Some((artifact(HEX), 100))
    );
}

#[test]
fn a_canary_degraded_against_its_baseline_fails_the_comparison() {
    let metric = format!(
        "      - name: errors-vs-baseline\n        provider: prom\n        compare:\n          canary: '{}'\n          baseline: '{}'\n          direction: increase\n",
        ratio("{{ release.version }}"),
        ratio("{{ baseline.version }}")
    );
    let r = rig("    interval: 2s\n    count: 2\n", &metric);
    r.service.set_traffic("v1", 100, 0.02);
    r.wait_for_data("v1");
    // With nothing live before, there is no baseline: no data, inconclusive by default.
    assert_eq!(r.promote(OLD, "v1").code, 4);
    let run = r.s.env.run_with(&["abort", &release(OLD)], |c| {
        c.env("DEPLOY_TOKEN", SECRET);
    });
    assert_eq!(run.code, 0, "{}", run.stderr);
    // v1 goes live without the gate; then v2, five times as bad, is compared with it.
    let plan = std::fs::read_to_string(r.s.env.path().join("release.yaml")).expect("plan");
    r.s.env.write(
        "release.yaml",
        plan.replace("      - analysis: health\n", ""),
    );
    let run = r.s.env.run_with(
        &[
            "promote",
            "--artifact",
            &artifact(OLD),
            "--version",
            "v1",
            "--force",
            "--reason",
            "no analysis this time",
        ],
        |c| {
            c.env("DEPLOY_TOKEN", SECRET);
        },
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    r.s.env.write("release.yaml", plan);
    r.service.set_traffic("v2", 100, 0.1);
    r.wait_for_data("v2");
    let run = r.promote(HEX, "v2");
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("errors-vs-baseline"), "{}", run.stderr);
    assert_eq!(
        r.s.platform.running("production"),
        Some((artifact(OLD), 100))
    );
    assert!(r.record(HEX).contains("phase: failed"));
}

#[test]
fn an_analysis_resumed_after_a_crash_continues_its_count() {
    let r = rig("    interval: 1s\n    count: 4\n", &error_rate_metric(""));
    r.service.set_traffic("v2", 100, 0.0);
    r.wait_for_data("v2");
    let mut child =
        r.s.env
            .std_command()
            .args(["promote", "--artifact", &artifact(HEX), "--version", "v2"])
            .env("DEPLOY_TOKEN", SECRET)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start promote");
    wait_until("two measurements to be recorded", || {
        r.s.env
            .records_log()
            .matches("production: error-rate")
            .count()
            >= 2
    });
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let _ = child.wait();
    let taken = r.record(HEX).matches("event: measured").count();
    assert!(
        (2..4).contains(&taken),
        "{taken} measurements before the crash"
    );
    let run = r.s.env.run_with(&["resume", &release(HEX)], |c| {
        c.env("DEPLOY_TOKEN", SECRET);
    });
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        r.record(HEX).matches("event: measured").count(),
        4,
        "the count went on, it did not start over"
    );
    assert!(run.stderr.contains("✓ 4/4"), "{}", run.stderr);
}
