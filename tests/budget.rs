//! The error-budget gate against a real Prometheus: a test service whose error ratio
//! each test sets per version, and recording rules named and labelled as Sloth makes
//! them (`slo:sli_error:ratio_rate<window>{sloth_service, sloth_slo}`), evaluated every
//! second. Counters that grow at a steady ratio give that ratio over every window, the
//! 30d one included, as soon as two scrapes are in: the windows are the real ones.

use std::sync::OnceLock;
use std::time::Duration;

use crate::common::prometheus::Prometheus;
use crate::common::service::TestService;
use crate::common::setup::{CANARY, HEX, plan, release};
use crate::common::{Run, Setup};

const DEADLINE: Duration = Duration::from_secs(30);

/// Sloth's windows for a 30d SLO: the rules below record each.
const WINDOWS: [&str; 5] = ["5m", "30m", "1h", "6h", "30d"];

/// One rule per window: each version's error ratio, as an SLO of service `<version>`.
fn sloth_rules() -> String {
    let mut rules = String::from("groups:\n  - name: sloth-slo-sli-recordings\n    rules:\n");
    for window in WINDOWS {
        rules.push_str(&format!(
            r#"      - record: slo:sli_error:ratio_rate{window}
        expr: 'label_replace(sum by (version) (rate(http_requests_total{{code=~"5.."}}[{window}])) / sum by (version) (rate(http_requests_total[{window}])), "sloth_service", "$1", "version", "(.*)")'
        labels: {{ sloth_slo: availability }}
"#
        ));
    }
    rules
}

/// The service and a Prometheus with the rules, shared by this file's tests (each with
/// versions of its own). Never dropped: the harness's watchdog stops Prometheus when
/// the test process ends.
fn shared() -> &'static (TestService, Prometheus) {
    static SHARED: OnceLock<(TestService, Prometheus)> = OnceLock::new();
    SHARED.get_or_init(|| {
        let service = TestService::start();
        let prometheus = Prometheus::start_with_rules(&[service.addr()], Some(&sloth_rules()));
        (service, prometheus)
    })
}

/// `version` serves traffic at `ratio` errors, and every window's rule has a number for it.
pub(crate) fn serving(version: &str, ratio: f64) -> &'static Prometheus {
    let (service, prometheus) = shared();
    service.set_traffic(version, 100, ratio);
    for window in WINDOWS {
        prometheus.wait_for(
            &format!(r#"slo:sli_error:ratio_rate{window}{{sloth_service="{version}"}}"#),
            |s| s.len() == 1 && s[0].value.is_finite(),
            DEADLINE,
        );
    }
    prometheus
}

/// The usual fixture with `budget` (the `error_budget` mapping's lines, indented by 6)
/// on production and `prom` pointing at `url`.
fn setup(url: &str, budget: &str) -> Setup {
    setup_with_steps(url, budget, CANARY)
}

/// A canary that reads the budget again before it goes to full weight.
pub(crate) const CANARY_CHECKED: &str =
    "      - deploy: { weight: 10 }\n      - error_budget: {}\n      - deploy: {}\n";

pub(crate) fn setup_with_steps(url: &str, budget: &str, steps: &str) -> Setup {
    Setup::with_plan(|platform| {
        plan(platform, &format!("    error_budget:\n{budget}"), steps)
        .replace(
            "environments:\n",
            &format!("  metrics:\n    prom: {{ type: prometheus, url: \"{url}\", timeout: 2s }}\nenvironments:\n"),
        )
    })
}

fn sloth(service: &str) -> String {
    format!(
        "      provider: prom\n      objective: 99.9\n      period: 30d\n      sloth: {{ service: {service}, slo: availability }}\n"
    )
}

pub(crate) fn production_deploys(s: &Setup) -> usize {
    s.platform
        .deploys()
        .iter()
        .filter(|(env, _, _)| env == "production")
        .count()
}

pub(crate) fn history(s: &Setup) -> Run {
    s.relctl(&["history", &release(HEX)])
}

/// A loopback address nothing listens on: a Prometheus that is down.
fn nothing_listening() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    let addr = listener.local_addr().expect("the bound address");
    format!("http://{addr}")
}

#[test]
fn a_fast_burning_service_is_blocked_with_its_burn_rates_until_forced() {
    let prometheus = serving("burning", 0.5);
    let s = setup(&prometheus.url(), &sloth("burning"));
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 6, "{}", run.stderr);
    // 50% errors against a 0.1% budget: 500× over every window, the budget long spent.
    assert!(
        run.stderr
            .contains("burning 500× over 1h and 500× over 5m (both above 14.4×)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("burning 500× over 6h and 500× over 30m (both above 6×)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("-49900% of the error budget is left"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("(burn rate 5m 500×, 30m 500×, 1h 500×, 6h 500×)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--force --reason"), "{}", run.stderr);
    assert_eq!(production_deploys(&s), 0, "nothing reaches production");
    let events = s.events(HEX);
    assert_eq!(events.last().map(String::as_str), Some("budget_checked"));
    let shown = history(&s);
    assert!(
        shown.stdout.contains("error budget blocks")
            && shown
                .stdout
                .contains("burn rate 5m 500×, 30m 500×, 1h 500×, 6h 500×"),
        "{}",
        shown.stdout
    );

    let forced = s.promote(HEX, &["--force", "--reason", "the fix for the burn itself"]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert!(production_deploys(&s) > 0);
    let shown = history(&s);
    assert!(
        shown
            .stdout
            .contains("error-budget rule overridden: -49900% of the error budget is left")
            && shown.stdout.contains("the fix for the burn itself"),
        "{}",
        shown.stdout
    );
}

#[test]
fn a_service_inside_its_budget_is_promoted() {
    let prometheus = serving("healthy", 0.0);
    // A query of one's own instead of recording rules: `{{ window }}` is each window.
    let query = r#"sum(rate(http_requests_total{version="healthy",code=~"5.."}[{{ window }}])) / sum(rate(http_requests_total{version="healthy"}[{{ window }}]))"#;
    let s = setup_with_steps(
        &prometheus.url(),
        &format!(
            "      provider: prom\n      objective: 99.5\n      period: 30d\n      min_remaining: 20\n      error_ratio: '{query}'\n"
        ),
        CANARY_CHECKED,
    );
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(production_deploys(&s), 2);
    // Read before entering, and again by the step between the two deploys.
    let events = s.events(HEX);
    let checked = events.iter().filter(|e| *e == "budget_checked").count();
    assert_eq!(checked, 2, "{events:?}");
    let shown = history(&s);
    assert!(
        shown.stdout.contains(
            "error budget passes: 100% of the budget left; burn rate 5m 0×, 30m 0×, 1h 0×, 6h 0×"
        ),
        "{}",
        shown.stdout
    );
}

#[test]
fn an_error_budget_step_rolls_back_what_force_let_in() {
    let prometheus = serving("burning", 0.5);
    let s = setup_with_steps(&prometheus.url(), &sloth("burning"), CANARY_CHECKED);
    let run = s.promote(HEX, &["--force", "--reason", "entering anyway"]);
    // `--force` lifts the gate at the door, not a gate inside the rollout.
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(production_deploys(&s), 1, "the canary, and no full deploy");
    let events = s.events(HEX);
    assert!(
        events.ends_with(&[
            "budget_checked".to_string(),
            "step_failed".to_string(),
            "rollback_started".to_string(),
            "rolled_back".to_string(),
        ]),
        "{events:?}"
    );
    let shown = history(&s);
    assert!(
        shown
            .stdout
            .contains("step 2 error_budget failed: the error budget says no: -49900% of the error budget is left"),
        "{}",
        shown.stdout
    );
}

#[test]
fn an_unreadable_budget_blocks_unless_on_error_says_pass() {
    // Nothing listens there: Prometheus is down.
    let down = nothing_listening();
    let s = setup(&down, &sloth("anything"));
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("cannot enter production: its error budget could not be read"),
        "{}",
        run.stderr
    );
    assert_eq!(production_deploys(&s), 0);

    let s = setup(
        &down,
        &format!("{}      on_error: pass\n", sloth("anything")),
    );
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        history(&s)
            .stdout
            .contains("error budget could not be read"),
        "the unread budget is recorded"
    );
}

#[test]
fn a_budget_that_cannot_be_judged_is_refused_where_it_is_written() {
    let s = setup(
        "http://127.0.0.1:9",
        "      provider: prom\n      objective: 100\n      period: 30d\n      error_ratio: 'rate(errors[5m])'\n      on_error: ignore\n",
    );
    let run = s.relctl(&["validate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    for expected in [
        "release.yaml:29:18: `objective` is a percentage below 100",
        "release.yaml:31:20: `error_ratio` must say where the window goes with `{{ window }}`",
        "release.yaml:32:17: `on_error` must be one of block, pass",
    ] {
        assert!(run.stderr.contains(expected), "{expected}\n{}", run.stderr);
    }
}
