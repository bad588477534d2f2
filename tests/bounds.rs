//! What a plan may hold, and what relctl says about what it measured: durations within
//! bounds (no panic, no busy loop), names that can become files and trailers, numbers
//! that are numbers, and baseline comparisons that say why they failed.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde_json::{Value, json};

use crate::common::Run;
use crate::promote::{CANARY, HEX, OLD, Setup, plan, release};

/// The promote fixture's plan with `find` replaced by `with`.
fn edited(s: &Setup, find: &str, with: &str) -> String {
    let text = plan(&s.platform, "", CANARY);
    assert!(text.contains(find), "`{find}` is not in the plan");
    text.replacen(find, with, 1)
}

/// The promote fixture with a `health` analysis step in production (`analysis` holds
/// its keys and metrics, indented by four) and a Prometheus provider at `prom`.
fn with_analysis(s: &Setup, prom: &str, analysis: &str) -> String {
    plan(
        &s.platform,
        "",
        "      - deploy: { weight: 10 }\n      - analysis: health\n      - deploy: {}\n",
    )
    .replacen(
        "environments:\n",
        &format!("  metrics:\n    prom: {{ type: prometheus, url: \"{prom}\", timeout: 2s }}\nenvironments:\n"),
        1,
    ) + &format!("analyses:\n  health:\n{analysis}")
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("`{needle}` is not in the plan"))
}

fn assert_refused(run: &Run, expected: &str) {
    assert_eq!(run.code, 2, "{}", run.snapshot());
    assert!(run.stderr.contains(expected), "{}", run.snapshot());
}

#[test]
fn durations_too_long_to_count_are_refused_before_anything_runs() {
    let s = Setup::new("", CANARY);
    let pause = edited(
        &s,
        "      - deploy: {}\n",
        "      - pause: 100000000d\n      - deploy: {}\n",
    );
    let line = line_of(&pause, "pause: 100000000d");
    s.env.write("release.yaml", &pause);
    assert_refused(
        &s.relctl(&["validate"]),
        &format!("release.yaml:{line}:16: `pause` must be at most 7d, found 100000000d"),
    );
    // The release that used to panic half-way (exit 101, lock held) never starts.
    let run = s.promote(HEX, &[]);
    assert_refused(&run, "`pause` must be at most 7d");
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_eq!(s.env.records_log(), "");
    assert!(s.platform.deploys().is_empty());

    for (key, message) in [
        (
            "initial_delay",
            "`initial_delay` must be at most 1d, found 100000000d",
        ),
        (
            "interval",
            "`interval` must be at most 1d, found 100000000d",
        ),
    ] {
        let text = with_analysis(
            &s,
            "http://127.0.0.1:9",
            &format!(
                "    {key}: 100000000d\n    metrics:\n      - {{ name: up, provider: prom, query: up, min: 1 }}\n"
            ),
        );
        s.env.write("release.yaml", &text);
        let line = line_of(&text, "100000000d");
        assert_refused(
            &s.promote(HEX, &[]),
            &format!("release.yaml:{line}:{}: {message}", 7 + key.len()),
        );
        assert_eq!(s.env.records_log(), "");
    }
    // A schedule too long as a whole: a day apart, ten rounds.
    let text = with_analysis(
        &s,
        "http://127.0.0.1:9",
        "    interval: 1d\n    count: 10\n    metrics:\n      - { name: up, provider: prom, query: up, min: 1 }\n",
    );
    s.env.write("release.yaml", &text);
    assert_refused(
        &s.relctl(&["validate"]),
        "analysis `health` would last longer than 7d",
    );
}

#[test]
fn wait_intervals_and_timeouts_have_minimums() {
    let s = Setup::new("", CANARY);
    let text = edited(
        &s,
        "interval: 100ms, timeout: 2s",
        "interval: 0ms, timeout: 0s",
    );
    let line = line_of(&text, "interval: 0ms");
    s.env.write("release.yaml", &text);
    let run = s.relctl(&["validate"]);
    assert_refused(&run, "`interval` must be at least 100ms, found 0ms");
    assert!(
        run.stderr.contains(&format!("release.yaml:{line}:")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("`timeout` must be at least 1s, found 0s"),
        "{}",
        run.stderr
    );
    let text = edited(&s, "timeout: 5s", "timeout: 0s");
    s.env.write("release.yaml", &text);
    assert_refused(
        &s.relctl(&["validate"]),
        "`timeout` must be at least 1s, found 0s",
    );
}

#[test]
fn a_bound_that_is_not_a_number_is_named() {
    let s = Setup::new("", CANARY);
    for (written, found) in [
        (".nan", "found NaN"),
        (".inf", "found infinity"),
        ("-.inf", "found -infinity"),
    ] {
        let text = with_analysis(
            &s,
            "http://127.0.0.1:9",
            &format!(
                "    metrics:\n      - {{ name: up, provider: prom, query: up, max: {written} }}\n"
            ),
        );
        s.env.write("release.yaml", &text);
        let run = s.relctl(&["validate"]);
        assert_refused(&run, &format!("`max` must be a finite number, {found}"));
        assert!(!run.stderr.contains("found a number"), "{}", run.stderr);
    }
}

#[test]
fn names_that_cannot_be_files_or_trailers_are_refused_with_their_position() {
    let s = Setup::new("", CANARY);
    for name in [
        r#""../../x""#,
        r#""""#,
        r#"".""#,
        r#""a\nb""#,
        r#""prod/eu""#,
        r#""@{-1}""#,
        r#""-x""#,
        r#""a b""#,
        &format!("\"{}\"", "e".repeat(64)),
    ] {
        let text = edited(&s, "name: staging", &format!("name: {name}"));
        let line = line_of(&text, &format!("name: {name}"));
        s.env.write("release.yaml", &text);
        assert_refused(
            &s.relctl(&["validate"]),
            &format!("release.yaml:{line}:11: environment name `"),
        );
        let run = s.promote(HEX, &[]);
        assert_eq!(run.code, 2, "{name}: {}", run.snapshot());
        assert_eq!(s.env.records_log(), "", "{name}");
    }
    // Letters, digits, `-`, `_` and `.` after the first are fine.
    s.env.write(
        "release.yaml",
        edited(&s, "name: staging", "name: eu.west_1-b"),
    );
    let run = s.relctl(&["validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The app begins every release id, which commands take as an argument.
    s.env.write(
        "release.yaml",
        edited(&s, "app: checkout", "app: -checkout"),
    );
    assert_refused(&s.relctl(&["validate"]), "release.yaml:2:6: `app` must be");
    // Metric, analysis and provider names appear in progress lines and the record.
    for (find, with, what) in [
        (
            "name: up",
            "name: \"up\\nfake line\"",
            "metric name `up\\nfake line`",
        ),
        ("  health:\n", "  \"he alth\":\n", "analysis name `he alth`"),
        ("    prom:", "    \"prom/x\":", "provider name `prom/x`"),
    ] {
        let text = with_analysis(
            &s,
            "http://127.0.0.1:9",
            "    metrics:\n      - { name: up, provider: prom, query: up, min: 1 }\n",
        )
        .replacen(find, with, 1);
        s.env.write("release.yaml", &text);
        assert_refused(&s.relctl(&["validate"]), what);
    }
}

#[test]
fn history_shows_a_recorded_source_commit_that_is_not_ascii() {
    let s = Setup::new("", CANARY);
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The record is text anyone with push access can write; history must read it.
    let path = relctl::format::release_path("checkout", &release(HEX));
    s.env
        .git(&["worktree", "add", "-q", "records", "relctl/records"]);
    let file = s.env.path().join("records").join(&path);
    let text = std::fs::read_to_string(&file).expect("the release file");
    let commit = text
        .lines()
        .find_map(|l| l.strip_prefix("source_commit: "))
        .expect("a source commit in the record")
        .to_string();
    std::fs::write(&file, text.replace(&commit, "\"5éééééééééé\"")).expect("write");
    crate::common::git(&s.env.path().join("records"), &["commit", "-qam", "edit"]);
    s.env.git(&["worktree", "remove", "records"]);
    let run = s.relctl(&["history", &release(HEX)]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert!(run.stdout.contains("source 5éééééééééé"), "{}", run.stdout);
}

/// A stand-in for Prometheus' range queries: the canary's query (one that mentions
/// `canary`) and the baseline's answer with fixed samples.
struct FakeProm {
    addr: SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

impl FakeProm {
    fn start(canary: &[f64], baseline: &[f64]) -> FakeProm {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let samples: Samples = Arc::new((canary.to_vec(), baseline.to_vec()));
        let app = Router::new()
            .route("/api/v1/query_range", post(range))
            .with_state(samples);
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("the bound address");
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeProm {
            addr,
            _runtime: runtime,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// The canary's samples and the baseline's.
type Samples = Arc<(Vec<f64>, Vec<f64>)>;

async fn range(State(samples): State<Samples>, body: String) -> axum::Json<Value> {
    let values = if body.contains("canary") {
        &samples.0
    } else {
        &samples.1
    };
    let points: Vec<Value> = values
        .iter()
        .enumerate()
        .map(|(i, v)| json!([1_800_000_000 + i, v.to_string()]))
        .collect();
    axum::Json(json!({
        "status": "success",
        "data": { "resultType": "matrix", "result": [ { "metric": {}, "values": points } ] }
    }))
}

const COMPARE: &str = "      - name: latency\n        provider: prom\n        compare: { canary: 'canary_latency', baseline: 'baseline_latency' }\n";

/// v1 (OLD) live in production through the plan without its analysis, then `plan`.
fn baseline_live(s: &Setup, plan: &str) {
    s.env.write(
        "release.yaml",
        plan.replace("      - analysis: health\n", ""),
    );
    let run = s.promote(OLD, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    s.env.write("release.yaml", plan);
}

#[test]
fn a_failed_comparison_records_and_prints_why() {
    let s = Setup::new("", CANARY);
    let canary: Vec<f64> = (10..20).map(f64::from).collect();
    let baseline: Vec<f64> = (1..11).map(f64::from).collect();
    let prom = FakeProm::start(&canary, &baseline);
    let text = with_analysis(
        &s,
        &prom.url(),
        &format!("    initial_delay: 1s\n    count: 1\n    metrics:\n{COMPARE}"),
    );
    baseline_live(&s, &text);
    assert!(!s.relctl(&["validate"]).stderr.contains("warning"));
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let why = "latency High: canary - baseline 9 in [";
    let sizes = "at 98%, 10 canary and 10 baseline points ✗ 1/1";
    assert!(run.stderr.contains(why), "{}", run.stderr);
    assert!(run.stderr.contains(sizes), "{}", run.stderr);
    // The record keeps the verdict, the interval and the sample sizes.
    let record = s.record_file(&relctl::format::release_path("checkout", &release(HEX)));
    for field in [
        "result: high",
        "estimate: 9.0",
        "lower:",
        "upper:",
        "canary_points: 10",
        "baseline_points: 10",
    ] {
        assert!(record.contains(field), "{field} in\n{record}");
    }
    // And `history RELEASE` says it as the run did.
    let run = s.relctl(&["history", &release(HEX)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(why), "{}", run.stdout);
    assert!(run.stdout.contains(sizes), "{}", run.stdout);
    let run = s.relctl(&["--output", "json", "history", &release(HEX)]);
    let file: Value = serde_json::from_str(&run.stdout).expect("json");
    let measured = file["events"]
        .as_array()
        .and_then(|events| events.iter().find(|e| e["event"] == "measured"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(measured["comparison"]["result"], "high", "{measured}");
    assert_eq!(measured["comparison"]["canary_points"], 10, "{measured}");
}

#[test]
fn a_comparison_on_one_point_a_side_is_warned_about_and_said_to_judge_nothing() {
    let s = Setup::new("", CANARY);
    let prom = FakeProm::start(&[5.0], &[1.0]);
    let text = with_analysis(
        &s,
        &prom.url(),
        &format!("    count: 1\n    metrics:\n{COMPARE}"),
    );
    // Validation warns, and still passes.
    s.env.write("release.yaml", &text);
    let run = s.relctl(&["validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let line = line_of(&text, "  health:") + 1;
    assert!(
        run.stderr.contains(&format!(
            "warning: release.yaml:{line}:5: analysis `health` compares with the baseline after an `initial_delay` of 0s: its first window holds one point a side"
        )),
        "{}",
        run.stderr
    );
    let run = s.relctl(&["--output", "json", "validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(r#""severity":"warning""#),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(r#""warnings":1"#), "{}", run.stdout);
    // When it happens, the measurement says so.
    baseline_live(&s, &text);
    let run = s.promote(HEX, &[]);
    assert!(
        run.stderr
            .contains("1 canary and 1 baseline point: too few to judge"),
        "{}",
        run.stderr
    );
}

#[test]
fn no_shift_is_recorded_as_zero() {
    let s = Setup::new("", CANARY);
    let same = [1.0, 2.0, 3.0];
    let prom = FakeProm::start(&same, &same);
    let text = with_analysis(
        &s,
        &prom.url(),
        &format!("    initial_delay: 1s\n    count: 1\n    metrics:\n{COMPARE}"),
    );
    baseline_live(&s, &text);
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("latency Pass: canary - baseline 0 in ["),
        "{}",
        run.stderr
    );
    let record = s.record_file(&relctl::format::release_path("checkout", &release(HEX)));
    assert!(record.contains("value: 0.0"), "{record}");
    assert!(!record.contains("-0.0"), "{record}");
}
