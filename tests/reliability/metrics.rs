//! Metrics faults during an analysis step. Prometheus down or too slow is an error per
//! measurement, and more consecutive errors than `consecutive_error_limit` fail the
//! analysis (rollback, exit 3); NaN and an empty result are no data and follow the
//! metric's `no_data` (inconclusive: pause, exit 4); several series need `reduce`.
//! "Down" is a real Prometheus, killed; the rest is a loopback fake of its query API.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::json;

use super::{env_file, kinds, release_file, step_error};
use crate::common::platform::Platform;
use crate::common::prometheus::Prometheus;
use crate::common::setup::{HEX, OLD, SECRET, artifact, release};
use crate::common::{Run, Setup};

/// What the fake Prometheus answers to every instant query.
#[derive(Debug, Clone, Copy)]
enum Answer {
    Value(f64),
    NaN,
    Empty,
    /// Two series (two pods), 0.01 and 0.02.
    Several,
    /// An answer 10s later, far past the provider's 1s timeout.
    Slow,
}

#[derive(Clone)]
struct Fake {
    answer: Arc<Mutex<Answer>>,
    queries: Arc<Mutex<usize>>,
}

struct FakePrometheus {
    url: String,
    fake: Fake,
    _runtime: tokio::runtime::Runtime,
}

impl FakePrometheus {
    fn start(answer: Answer) -> FakePrometheus {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for the fake prometheus");
        let fake = Fake {
            answer: Arc::new(Mutex::new(answer)),
            queries: Arc::new(Mutex::new(0)),
        };
        let app = Router::new()
            .route("/api/v1/query", any(query))
            .with_state(fake.clone());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakePrometheus {
            url,
            fake,
            _runtime: runtime,
        }
    }

    fn queries(&self) -> usize {
        *self.fake.queries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn query(State(fake): State<Fake>) -> Response {
    *fake.queries.lock().unwrap_or_else(|e| e.into_inner()) += 1;
    let answer = *fake.answer.lock().unwrap_or_else(|e| e.into_inner());
    let sample =
        |pod: &str, value: &str| json!({ "metric": { "pod": pod }, "value": [1.7e9, value] });
    let result = match answer {
        Answer::Value(v) => vec![sample("a", &v.to_string())],
        Answer::NaN => vec![sample("a", "NaN")],
        Answer::Empty => vec![],
        Answer::Several => vec![sample("a", "0.01"), sample("b", "0.02")],
        Answer::Slow => {
            tokio::time::sleep(Duration::from_secs(10)).await;
            vec![sample("a", "0")]
        }
    };
    axum::Json(json!({ "status": "success", "data": { "resultType": "vector", "result": result } }))
        .into_response()
}

const QUERY: &str =
    r#"sum(rate(http_requests_total{version="{{ release.version }}",code=~"5.."}[1m]))"#;

/// One environment: a 10% canary, the `health` analysis, then full weight.
/// `metric_extra` are lines for the metric (indented by 8), `analysis_extra` for the
/// analysis (indented by 4).
fn plan(platform: &Platform, prom: &str, analysis_extra: &str, metric_extra: &str) -> String {
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
    prom: {{ type: prometheus, url: "{prom}", timeout: 1s }}
environments:
  - name: production
    deploy: platform
    steps:
      - deploy: {{ weight: 10 }}
      - analysis: health
      - deploy: {{}}
analyses:
  health:
    interval: 100ms
    count: 3
{analysis_extra}    metrics:
      - name: error-rate
        provider: prom
        query: '{QUERY}'
        max: 0.05
{metric_extra}"#,
        api = platform.url()
    )
}

struct Rig {
    s: Setup,
}

impl Rig {
    /// v1 (OLD) is live in production (promoted without the analysis); the plan with
    /// the analysis is in place for v2 (HEX).
    fn new(prom: &str, analysis_extra: &str, metric_extra: &str) -> Rig {
        let mut full = String::new();
        let s = Setup::with_plan(|platform| {
            full = plan(platform, prom, analysis_extra, metric_extra);
            full.replace("      - analysis: health\n", "")
        });
        let rig = Rig { s };
        let run = rig.promote(OLD, "v1");
        assert_eq!(run.code, 0, "{}", run.stderr);
        rig.s.env.write("release.yaml", full);
        rig
    }

    fn promote(&self, hex: &str, version: &str) -> Run {
        self.relctl(&[
            "promote",
            "--artifact",
            &artifact(hex),
            "--version",
            version,
        ])
    }

    fn relctl(&self, args: &[&str]) -> Run {
        self.s.env.run_with(args, |c| {
            c.env("DEPLOY_TOKEN", SECRET);
        })
    }

    fn record(&self) -> relctl::engine::ReleaseFile {
        release_file(self.s.env.path(), &release(HEX))
    }

    /// The phases of v2's measurements, in order.
    fn phases(&self) -> Vec<String> {
        self.record()
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                relctl::engine::EventKind::Measured { phase, .. } => {
                    Some(serde_json::to_value(phase).ok()?.as_str()?.to_string())
                }
                _ => None,
            })
            .collect()
    }

    /// The summaries of v2's measurements, as recorded.
    fn summaries(&self) -> Vec<String> {
        self.record()
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                relctl::engine::EventKind::Measured { summary, .. } => Some(summary.clone()),
                _ => None,
            })
            .collect()
    }

    /// Rolled back: the platform runs v1 at full weight again, the lock is free, and
    /// v2 is rejected in production. `why` is in the recorded failure, `cause` in the
    /// output (and in the record's measurements when they were errors).
    fn assert_rolled_back(&self, run: &Run, why: &str, cause: &str) {
        assert_eq!(run.code, 3, "{}", run.stderr);
        for needle in [why, cause] {
            assert!(
                run.stderr.contains(needle),
                "`{needle}` not in:\n{}",
                run.stderr
            );
        }
        assert_eq!(
            self.s.platform.running("production"),
            Some((artifact(OLD), 100))
        );
        let file = self.record();
        let events = kinds(&file);
        assert_eq!(
            events[events.len() - 3..],
            ["step_failed", "rollback_started", "rolled_back"]
        );
        let (error, gate) = step_error(&file);
        assert!(gate, "an analysis failure is a gate's decision");
        assert!(error.contains(why), "`{why}` not in {error}");
        let production = env_file(self.s.env.path(), "production");
        assert_eq!(production.lock, None);
        assert_eq!(production.rejected, [release(HEX)]);
        assert_eq!(
            production.live.map(|l| l.release),
            Some(release(OLD)),
            "v1 is still what is live"
        );
    }

    /// Paused: the canary stays at 10% for a person; the lock is kept; `abort` rolls back.
    fn assert_paused_then_aborted(&self, run: &Run) {
        assert_eq!(run.code, 4, "{}", run.stderr);
        assert!(run.stderr.contains("inconclusive"), "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!(
                "`relctl abort {}` rolls production back",
                release(HEX)
            )),
            "{}",
            run.stderr
        );
        assert_eq!(
            self.s.platform.running("production"),
            Some((artifact(HEX), 10))
        );
        assert_eq!(kinds(&self.record()).last(), Some(&"inconclusive"));
        let production = env_file(self.s.env.path(), "production");
        assert_eq!(production.lock.map(|l| l.release), Some(release(HEX)));
        let run = self.relctl(&["abort", &release(HEX)]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(
            self.s.platform.running("production"),
            Some((artifact(OLD), 100))
        );
        assert_eq!(env_file(self.s.env.path(), "production").lock, None);
    }
}

#[test]
fn prometheus_down_is_an_error_per_measurement_and_fails_the_canary() {
    let mut prometheus = Prometheus::start(&[]);
    prometheus.wait_for("vector(1)", |s| s.len() == 1, crate::common::wait::DEADLINE);
    let rig = Rig::new(&prometheus.url(), "    consecutive_error_limit: 1\n", "");
    prometheus.stop();
    let run = rig.promote(HEX, "v2");
    let cause = format!("cannot reach prometheus at {}", prometheus.url());
    rig.assert_rolled_back(
        &run,
        "analysis error: error-rate: 2 consecutive errors, more than the limit of 1",
        &cause,
    );
    assert!(rig.summaries().iter().all(|s| s.contains(&cause)));
    // Errors do not count toward `count`: two in a row are one more than the limit.
    assert_eq!(rig.phases(), ["error", "error"]);
}

#[test]
fn a_slow_prometheus_times_out_and_fails_the_canary() {
    let prom = FakePrometheus::start(Answer::Slow);
    let rig = Rig::new(&prom.url, "    consecutive_error_limit: 1\n", "");
    let run = rig.promote(HEX, "v2");
    rig.assert_rolled_back(
        &run,
        "analysis error: error-rate: 2 consecutive errors",
        "no answer to query",
    );
    assert!(rig.summaries().iter().all(|s| s.contains("within 1s")));
    assert_eq!(rig.phases(), ["error", "error"]);
    assert_eq!(prom.queries(), 2);
}

#[test]
fn nan_is_no_data_and_pauses_by_default() {
    let prom = FakePrometheus::start(Answer::NaN);
    let rig = Rig::new(&prom.url, "", "");
    let run = rig.promote(HEX, "v2");
    assert!(
        run.stderr.contains("error-rate no data ? 1/3"),
        "{}",
        run.stderr
    );
    rig.assert_paused_then_aborted(&run);
    assert_eq!(rig.phases(), ["inconclusive"]);
}

#[test]
fn an_empty_result_follows_no_data() {
    // fail: one failed measurement is more than failure_limit 0.
    let prom = FakePrometheus::start(Answer::Empty);
    let rig = Rig::new(&prom.url, "", "        no_data: fail\n");
    let run = rig.promote(HEX, "v2");
    rig.assert_rolled_back(&run, "analysis failed", "error-rate no data ✗ 1/3");
    assert_eq!(rig.phases(), ["failed"]);

    // inconclusive: pause for a person.
    let rig = Rig::new(&prom.url, "", "        no_data: inconclusive\n");
    rig.assert_paused_then_aborted(&rig.promote(HEX, "v2"));

    // pass: counted as successful; the canary goes on to full weight.
    let rig = Rig::new(&prom.url, "", "        no_data: pass\n");
    let run = rig.promote(HEX, "v2");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(rig.phases(), ["successful"; 3]);
    assert_eq!(
        rig.s.platform.running("production"),
        Some((artifact(HEX), 100))
    );
}

#[test]
fn several_series_are_an_error_unless_the_metric_reduces_them() {
    let prom = FakePrometheus::start(Answer::Several);
    let rig = Rig::new(&prom.url, "    consecutive_error_limit: 0\n", "");
    let run = rig.promote(HEX, "v2");
    rig.assert_rolled_back(
        &run,
        "analysis error: error-rate: 1 consecutive errors, more than the limit of 0",
        "returned 2 series ({pod=\"a\"}, {pod=\"b\"}); add `reduce: sum|min|max|avg` to the metric",
    );

    let rig = Rig::new(&prom.url, "", "        reduce: max\n");
    let run = rig.promote(HEX, "v2");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("error-rate 0.02 ≤ 0.05 ✓ 3/3"),
        "{}",
        run.stderr
    );
    let values: Vec<Option<f64>> = rig
        .record()
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            relctl::engine::EventKind::Measured { value, .. } => Some(*value),
            _ => None,
        })
        .collect();
    assert_eq!(values, [Some(0.02); 3]);
}

#[test]
fn a_value_outside_its_limit_after_an_error_still_fails() {
    // An error, then a failed measurement: the worst wins, and it is Failed.
    let prom = FakePrometheus::start(Answer::Slow);
    let rig = Rig::new(&prom.url, "", "");
    let child = rig
        .s
        .env
        .std_command()
        .args(["promote", "--artifact", &artifact(HEX), "--version", "v2"])
        .env("DEPLOY_TOKEN", SECRET)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start promote");
    crate::common::wait::wait_until("a first (error) measurement", || {
        rig.s
            .env
            .records_log()
            .contains("production: error-rate error")
    });
    *prom.fake.answer.lock().unwrap_or_else(|e| e.into_inner()) = Answer::Value(0.5);
    let out = child.wait_with_output().expect("promote ends");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::new(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    rig.assert_rolled_back(&run, "analysis failed", "error-rate 0.5 > 0.05 ✗");
    let phases = rig.phases();
    assert_eq!(phases.first().map(String::as_str), Some("error"));
    assert_eq!(phases.last().map(String::as_str), Some("failed"));
}
