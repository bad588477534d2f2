//! Release policy beyond the basics: Pyrra's recording rules as the error budget's
//! source, `relctl check` reaching the verdict promote's budget gate reaches, and what a
//! release refused by its budget looks like afterwards. Against a real Prometheus
//! scraping the test service, with rules named and labelled as Pyrra makes them.

use std::sync::OnceLock;
use std::time::Duration;

use crate::budget::{CANARY_CHECKED, history, production_deploys, setup_with_steps};
use crate::common::prometheus::Prometheus;
use crate::common::service::TestService;
use crate::common::setup::{CANARY, HEX, artifact};
use crate::common::{Run, Setup, ok};

const DEADLINE: Duration = Duration::from_secs(30);

/// Pyrra's windows for a 28d SLO (5m…6h) and for a 30d one (5m, 32m, 1h4m, 6h26m).
const PYRRA_WINDOWS: [&str; 7] = ["5m", "30m", "1h", "6h", "32m", "1h4m", "6h26m"];

/// Rules as Pyrra writes them for an SLO per version (`slo="<version>"`): the ratio
/// `http_requests:burnrate<window>`, the `http_requests:increase4w` counts by code, and
/// the generic `pyrra_availability` over the period made from them.
fn pyrra_rules() -> String {
    let slo = |expr: &str| format!(r#"label_replace({expr}, "slo", "$1", "version", "(.*)")"#);
    let mut rules = String::from("groups:\n  - name: pyrra-burnrates\n    rules:\n");
    for window in PYRRA_WINDOWS {
        let expr = slo(&format!(
            r#"sum by (version) (rate(http_requests_total{{code=~"5.."}}[{window}])) / sum by (version) (rate(http_requests_total[{window}]))"#
        ));
        rules.push_str(&format!(
            "      - record: http_requests:burnrate{window}\n        expr: '{expr}'\n"
        ));
    }
    let increase = slo("sum by (version, code) (increase(http_requests_total[4w]))");
    rules.push_str(&format!(
        "  - name: pyrra-increase\n    rules:\n      - record: http_requests:increase4w\n        expr: '{increase}'\n"
    ));
    rules.push_str(
        r#"  - name: pyrra-generic
    rules:
      - record: pyrra_availability
        expr: '1 - sum by (slo) (http_requests:increase4w{code=~"5.."}) / sum by (slo) (http_requests:increase4w)'
"#,
    );
    rules
}

/// The service and a Prometheus with Pyrra's rules, shared by this file's tests.
fn shared() -> &'static (TestService, Prometheus) {
    static SHARED: OnceLock<(TestService, Prometheus)> = OnceLock::new();
    SHARED.get_or_init(|| {
        let service = TestService::start();
        let prometheus = Prometheus::start_with_rules(&[service.addr()], Some(&pyrra_rules()));
        (service, prometheus)
    })
}

/// `version` serves traffic at `ratio` errors, and each of Pyrra's rules has a number
/// for its SLO.
fn serving(version: &str, ratio: f64) -> &'static Prometheus {
    let (service, prometheus) = shared();
    service.set_traffic(version, 100, ratio);
    let series = PYRRA_WINDOWS
        .iter()
        .map(|w| format!("http_requests:burnrate{w}"))
        .chain(["pyrra_availability".to_string()]);
    for name in series {
        prometheus.wait_for(
            &format!(r#"{name}{{slo="{version}"}}"#),
            |s| s.len() == 1 && s[0].value.is_finite(),
            DEADLINE,
        );
    }
    prometheus
}

fn pyrra(slo: &str, period: &str) -> String {
    format!(
        "      provider: prom\n      objective: 99.9\n      period: {period}\n      pyrra: {{ metric: http_requests_total, slo: {slo} }}\n"
    )
}

#[test]
fn pyrras_recording_rules_block_a_service_burning_its_budget() {
    let prometheus = serving("pyrra-burning", 0.5);
    let s = setup_with_steps(&prometheus.url(), &pyrra("pyrra-burning", "28d"), CANARY);
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 6, "{}", run.stderr);
    for expected in [
        "burning 500× over 1h and 500× over 5m (both above 14.4×)",
        "burning 500× over 6h and 500× over 30m (both above 6×)",
        "-49900% of the error budget is left",
    ] {
        assert!(run.stderr.contains(expected), "{expected}\n{}", run.stderr);
    }
    assert_eq!(production_deploys(&s), 0);
    let shown = history(&s);
    assert!(
        shown
            .stdout
            .contains("error budget blocks: -49900% of the budget left; burn rate 5m 500×"),
        "{}",
        shown.stdout
    );
}

#[test]
fn pyrras_rules_for_a_30_day_slo_are_read_at_its_scaled_windows_and_let_a_healthy_service_in() {
    let prometheus = serving("pyrra-healthy", 0.0);
    let s = setup_with_steps(
        &prometheus.url(),
        &pyrra("pyrra-healthy", "30d"),
        CANARY_CHECKED,
    );
    let plan = s.relctl(&["plan", "--artifact", &artifact(HEX)]);
    ok(&plan);
    assert!(
        plan.stdout
            .contains(r#"max(http_requests:burnrate1h4m{slo="pyrra-healthy"})"#)
            && plan
                .stdout
                .contains(r#"1 - min(pyrra_availability{slo="pyrra-healthy"})"#),
        "{}",
        plan.stdout
    );
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(production_deploys(&s), 2);
    assert!(history(&s).stdout.contains(
        "error budget passes: 100% of the budget left; burn rate 5m 0×, 30m 0×, 1h 0×, 6h 0×"
    ));
}

#[test]
fn a_pyrra_source_names_its_metric_and_slo_and_is_one_source_of_three() {
    let s = setup_with_steps(
        "http://127.0.0.1:9",
        "      provider: prom\n      objective: 99.9\n      period: 28d\n      pyrra: { metric: 'http requests', slo: x }\n      sloth: { service: a, slo: b }\n",
        CANARY,
    );
    let run = s.relctl(&["validate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    for expected in [
        "`metric` must be a Prometheus metric name (`http_requests_total`), found `http requests`",
        "`error_budget` takes one of `error_ratio`, `sloth` and `pyrra`, not several",
    ] {
        assert!(run.stderr.contains(expected), "{expected}\n{}", run.stderr);
    }
}

/// A query of one's own for `version`'s error ratio over each window.
fn query_budget(version: &str) -> String {
    format!(
        "      provider: prom\n      objective: 99.9\n      period: 30d\n      error_ratio: 'sum(rate(http_requests_total{{version=\"{version}\",code=~\"5..\"}}[{{{{ window }}}}])) / sum(rate(http_requests_total{{version=\"{version}\"}}[{{{{ window }}}}]))'\n"
    )
}

/// The `error: …` line of a run.
fn error_line(run: &Run) -> String {
    run.stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_default()
        .to_string()
}

/// What `check` prints for `name`: its verdict and detail.
fn gate(run: &Run, name: &str) -> String {
    run.stdout
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(name))
        .unwrap_or_default()
        .trim_start()
        .to_string()
}

fn record_tip(s: &Setup) -> String {
    s.env.git(&["rev-parse", "relctl/records"])
}

#[test]
fn check_blocks_on_the_error_budget_exactly_as_promote_then_does() {
    let prometheus = serving("check-burning", 0.5);
    let s = setup_with_steps(&prometheus.url(), &query_budget("check-burning"), CANARY);
    ok(&s.promote(HEX, &["--to", "staging"]));
    let before = record_tip(&s);
    let check = s.relctl(&["check", "--env", "production", "--artifact", &artifact(HEX)]);
    assert_eq!(check.code, 6, "{}\n{}", check.stdout, check.stderr);
    assert!(
        gate(&check, "error-budget").starts_with("blocks  -49900% of the error budget is left"),
        "{}",
        check.stdout
    );
    assert_eq!(record_tip(&s), before, "check records nothing");
    let promote = s.promote(HEX, &["--env", "production"]);
    assert_eq!(promote.code, check.code, "{}", promote.stderr);
    assert_eq!(error_line(&promote), error_line(&check));
    assert!(
        error_line(&check).contains("cannot enter production: -49900% of the error budget"),
        "{}",
        check.stderr
    );
    assert!(
        check.stderr.contains("--force --reason"),
        "the same hint: {}",
        check.stderr
    );
}

#[test]
fn check_passes_a_service_inside_its_budget_and_promote_then_enters() {
    let prometheus = serving("check-healthy", 0.0);
    let s = setup_with_steps(&prometheus.url(), &query_budget("check-healthy"), CANARY);
    ok(&s.promote(HEX, &["--to", "staging"]));
    let before = record_tip(&s);
    let check = s.relctl(&["check", "--env", "production", "--artifact", &artifact(HEX)]);
    ok(&check);
    assert!(
        gate(&check, "error-budget")
            .starts_with("pass    100% of the budget left; burn rate 5m 0×"),
        "{}",
        check.stdout
    );
    assert_eq!(record_tip(&s), before, "check records nothing");
    ok(&s.promote(HEX, &["--env", "production"]));
    assert_eq!(production_deploys(&s), 2);
}

/// `version`'s error ratio, as the analysis tests write it.
fn ratio(version: &str) -> String {
    format!(
        r#"sum(rate(http_requests_total{{app="checkout",version="{version}",code=~"5.."}}[5s])) / sum(rate(http_requests_total{{app="checkout",version="{version}"}}[5s]))"#
    )
}

/// The usual plan with `prom` at `url`, production's `steps`, and an analysis `health`
/// comparing the release's error ratio with the baseline's.
fn compare_plan(platform: &crate::common::platform::Platform, url: &str, steps: &str) -> String {
    let analyses = format!(
        "analyses:\n  health:\n    interval: 2s\n    count: 2\n    metrics:\n      - name: errors-vs-baseline\n        provider: prom\n        compare: {{ canary: '{}', baseline: '{}', direction: increase }}\n",
        ratio("{{ release.version }}"),
        ratio("{{ baseline.version }}")
    );
    crate::common::setup::plan(platform, "", steps).replace(
        "environments:\n",
        &format!("  metrics:\n    prom: {{ type: prometheus, url: \"{url}\", timeout: 2s }}\n{analyses}environments:\n"),
    )
}

#[test]
fn check_compares_the_release_with_the_baseline_once_read_only() {
    let (service, prometheus) = shared();
    service.set_traffic("cmp-v1", 100, 0.02);
    service.set_traffic("cmp-v2", 100, 0.1);
    for version in ["cmp-v1", "cmp-v2"] {
        prometheus.wait_for(
            &ratio(version),
            |s| s.len() == 1 && s[0].value.is_finite(),
            DEADLINE,
        );
    }
    let url = prometheus.url();
    let analysed = "      - deploy: { weight: 10 }\n      - analysis: health\n      - deploy: {}\n";
    let s = Setup::with_plan(|p| compare_plan(p, &url, CANARY));
    // cmp-v1 goes live everywhere without the analysis; the plan then gains it.
    ok(&s.promote(crate::common::setup::OLD, &["--version", "cmp-v1"]));
    let plan = std::fs::read_to_string(s.env.path().join("release.yaml")).expect("the plan");
    s.env.write("release.yaml", plan.replace(CANARY, analysed));
    ok(&s.promote(HEX, &["--version", "cmp-v2", "--to", "staging"]));
    let before = record_tip(&s);
    let check = s.relctl(&["check", "--env", "production", "--artifact", &artifact(HEX)]);
    // An analysis is shown, not counted: promote enters, and the analysis decides.
    ok(&check);
    let shown = gate(&check, "analysis (step 2): errors-vs-baseline");
    assert!(
        shown.starts_with("fails   over the last 4s: High: canary - baseline "),
        "{}",
        check.stdout
    );
    assert_eq!(record_tip(&s), before, "check records nothing");
    // A release that has not served anywhere yet: no data, and why.
    let check = s.relctl(&[
        "check",
        "--env",
        "production",
        "--artifact",
        &artifact(&"9".repeat(64)),
    ]);
    let shown = gate(&check, "analysis (step 2): errors-vs-baseline");
    assert!(
        shown.contains("no data: 0 canary and")
            && shown.contains(
                "the release has not served here yet; promote compares it during the rollout"
            ),
        "{}",
        check.stdout
    );
}

/// The usual fixture with `query_budget(version)` on dev, the first environment, instead
/// of production: a promote it refuses records `started` and `budget_checked` only.
fn budget_on_dev(prometheus: &Prometheus, version: &str) -> Setup {
    let s = setup_with_steps(&prometheus.url(), &query_budget(version), CANARY);
    let plan = std::fs::read_to_string(s.env.path().join("release.yaml")).expect("the plan");
    let budget = format!("    error_budget:\n{}", query_budget(version));
    assert!(plan.contains(&budget), "{plan}");
    let dev = "  - name: dev\n    deploy: platform\n";
    s.env.write(
        "release.yaml",
        plan.replace(&budget, "")
            .replace(dev, &format!("{dev}{budget}")),
    );
    s
}

#[test]
fn a_release_refused_by_its_error_budget_says_so_and_goes_on_once_the_budget_recovers() {
    let prometheus = serving("refused-burning", 0.5);
    let s = budget_on_dev(prometheus, "refused-burning");
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert_eq!(s.events(HEX), ["started", "budget_checked"]);
    // Nothing holds an environment: status shows none as under way.
    let status = s.relctl(&["status"]);
    ok(&status);
    assert!(!status.stdout.contains("in progress"), "{}", status.stdout);
    // releases says where it was refused, and why, in JSON.
    let releases = s.relctl(&["releases"]);
    ok(&releases);
    assert!(
        releases.stdout.contains("REFUSED") && releases.stdout.contains("dev (error budget, "),
        "{}",
        releases.stdout
    );
    let json = s.relctl(&["releases", "--output", "json"]);
    ok(&json);
    let listed: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    let refused = &listed["releases"][0]["refused"];
    assert_eq!(refused["env"], "dev", "{}", json.stdout);
    assert_eq!(refused["rule"], "error-budget");
    assert!(
        refused["summary"]
            .as_str()
            .is_some_and(|s| s.contains("burn rate 5m 500×")),
        "{}",
        json.stdout
    );
    // resume reads the budget again: refused again, and recorded again.
    let resume = s.relctl(&["resume", &crate::common::setup::release(HEX)]);
    assert_eq!(resume.code, 6, "{}", resume.stderr);
    assert!(
        resume
            .stderr
            .contains("cannot enter dev: -49900% of the error budget"),
        "{}",
        resume.stderr
    );
    assert_eq!(
        s.events(HEX),
        ["started", "budget_checked", "budget_checked"]
    );
    // The budget recovers (here: the ratio it reads is now a healthy service's).
    serving("refused-recovered", 0.0);
    let plan = std::fs::read_to_string(s.env.path().join("release.yaml")).expect("the plan");
    s.env.write(
        "release.yaml",
        plan.replace("refused-burning", "refused-recovered"),
    );
    ok(&s.promote(HEX, &[]));
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 100)));
    let releases = s.relctl(&["releases"]);
    ok(&releases);
    assert!(
        !releases.stdout.contains("(error budget"),
        "{}",
        releases.stdout
    );
}
