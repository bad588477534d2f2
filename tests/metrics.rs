//! relctl's Prometheus provider against a real Prometheus scraping a test service every
//! second. The tests that need scraped data share one service and one Prometheus (each
//! test with versions of its own), started by the first of them: Prometheus scrapes
//! nothing in its first ~5s, which each test would otherwise pay again. They wait for
//! data with `wait_for`; rates use a 5s window so that data comes within a few scrapes.

use std::sync::OnceLock;
use std::time::Duration;

use chrono::Utc;
use relctl::plan::Reduce;
use relctl::providers::Secrets;
use relctl::providers::metrics::{self, MetricError};

use crate::common::prometheus::{Prometheus, Sample};
use crate::common::service::TestService;

/// Long enough for a loaded CI machine; the tests wait for conditions, not for this.
const DEADLINE: Duration = Duration::from_secs(30);

/// The service and the Prometheus scraping it, shared by the tests of this file. Never
/// dropped: the harness's watchdog stops Prometheus when the test process ends.
fn shared() -> &'static (TestService, Prometheus) {
    static SHARED: OnceLock<(TestService, Prometheus)> = OnceLock::new();
    SHARED.get_or_init(|| {
        let service = TestService::start();
        let prometheus = Prometheus::start(&[service.addr()]);
        (service, prometheus)
    })
}

/// What the example plan measures: the share of 5xx among a version's requests.
fn error_ratio(version: &str) -> String {
    format!(
        r#"sum(rate(http_requests_total{{app="checkout",version="{version}",code=~"5.."}}[5s])) / sum(rate(http_requests_total{{app="checkout",version="{version}"}}[5s]))"#
    )
}

/// The same ratio for the versions of one test at once: one series per version.
const RATIO_BY_VERSION: &str = r#"sum by (version) (rate(http_requests_total{app="checkout",version=~"several-.*",code=~"5.."}[5s])) / sum by (version) (rate(http_requests_total{app="checkout",version=~"several-.*"}[5s]))"#;

fn one_number(samples: &[Sample]) -> bool {
    matches!(samples, [one] if one.value.is_finite())
}

fn assert_near(value: Option<f64>, expected: f64) {
    let value = value.unwrap_or_else(|| panic!("no data, expected {expected}"));
    assert!((value - expected).abs() < 1e-9, "{value} is not {expected}");
}

/// relctl's side: one runtime and client per test, as the runner has one per run.
struct Relctl {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    provider: metrics::Prometheus,
}

impl Relctl {
    fn new(prometheus: &Prometheus) -> Relctl {
        Relctl {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            client: relctl::providers::http::builder()
                .no_proxy()
                .build()
                .unwrap(),
            provider: metrics::Prometheus {
                url: prometheus.url(),
                timeout: Duration::from_secs(5),
                auth: None,
            },
        }
    }

    fn instant(&self, query: &str, reduce: Option<Reduce>) -> Result<Option<f64>, MetricError> {
        self.runtime.block_on(metrics::instant(
            &self.client,
            &self.provider,
            query,
            reduce,
            &Secrets::default(),
        ))
    }

    fn range(&self, query: &str, last: Duration) -> Result<Vec<f64>, MetricError> {
        let end = Utc::now();
        let start = end - chrono::Duration::from_std(last).unwrap();
        self.runtime.block_on(metrics::range(
            &self.client,
            &self.provider,
            query,
            start,
            end,
            Duration::from_secs(1),
            &Secrets::default(),
        ))
    }
}

#[test]
fn a_versions_error_rate_is_its_share_of_errors() {
    let (service, prometheus) = shared();
    service.set_traffic("rate-v1", 100, 0.05);
    service.set_traffic("rate-v2", 40, 0.0);
    prometheus.wait_for(&error_ratio("rate-v1"), one_number, DEADLINE);
    prometheus.wait_for(&error_ratio("rate-v2"), one_number, DEADLINE);
    let relctl = Relctl::new(prometheus);
    assert_near(relctl.instant(&error_ratio("rate-v1"), None).unwrap(), 0.05);
    // No errors is a value, not an absence of data.
    assert_near(relctl.instant(&error_ratio("rate-v2"), None).unwrap(), 0.0);
    assert!(service.scrapes() >= 2, "{} was not scraped", service.url());
}

#[test]
fn no_traffic_is_no_data() {
    let (service, prometheus) = shared();
    service.set_traffic("idle-v1", 100, 0.1);
    prometheus.wait_for(&error_ratio("idle-v1"), one_number, DEADLINE);
    let relctl = Relctl::new(prometheus);
    // A version that never served a request has no series at all.
    assert_eq!(relctl.instant(&error_ratio("idle-v2"), None).unwrap(), None);
    // One whose traffic stopped: its rates fall to 0, and 0/0 is NaN.
    service.stop_traffic("idle-v1");
    prometheus.wait_for(
        &error_ratio("idle-v1"),
        |s| matches!(s, [one] if one.value.is_nan()),
        DEADLINE,
    );
    assert_eq!(relctl.instant(&error_ratio("idle-v1"), None).unwrap(), None);
}

#[test]
fn several_series_need_a_reduction() {
    let (service, prometheus) = shared();
    service.set_traffic("several-v1", 100, 0.05);
    service.set_traffic("several-v2", 100, 0.25);
    let samples = prometheus.wait_for(
        RATIO_BY_VERSION,
        |s| s.len() == 2 && s.iter().all(|s| s.value.is_finite()),
        DEADLINE,
    );
    let mut versions: Vec<&str> = samples
        .iter()
        .map(|s| s.labels["version"].as_str())
        .collect();
    versions.sort();
    assert_eq!(versions, ["several-v1", "several-v2"]);
    let relctl = Relctl::new(prometheus);
    let err = relctl.instant(RATIO_BY_VERSION, None).unwrap_err();
    assert!(
        matches!(err, MetricError::Several { count: 2, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("prometheus {}: query `sum by", prometheus.url())),
        "{text}"
    );
    assert!(
        text.ends_with(
            r#"returned 2 series ({version="several-v1"}, {version="several-v2"}); add `reduce: sum|min|max|avg` to the metric"#
        ),
        "{text}"
    );
    assert_near(
        relctl.instant(RATIO_BY_VERSION, Some(Reduce::Sum)).unwrap(),
        0.3,
    );
    assert_near(
        relctl.instant(RATIO_BY_VERSION, Some(Reduce::Min)).unwrap(),
        0.05,
    );
    assert_near(
        relctl.instant(RATIO_BY_VERSION, Some(Reduce::Max)).unwrap(),
        0.25,
    );
    assert_near(
        relctl.instant(RATIO_BY_VERSION, Some(Reduce::Avg)).unwrap(),
        0.15,
    );
}

#[test]
fn a_range_query_gives_the_recent_samples_in_order() {
    let (service, prometheus) = shared();
    service.set_traffic("range-v1", 100, 0.05);
    // Six scrapes: the ratio (from the second one on) has had data for the whole range.
    prometheus.wait_for(
        r#"count_over_time(http_requests_total{version="range-v1",code="200"}[1m])"#,
        |s| matches!(s, [one] if one.value >= 6.0),
        DEADLINE,
    );
    let relctl = Relctl::new(prometheus);
    let last = Duration::from_secs(3);
    let ratios = relctl.range(&error_ratio("range-v1"), last).unwrap();
    assert!(ratios.len() >= 3, "{ratios:?}");
    for ratio in &ratios {
        assert_near(Some(*ratio), 0.05);
    }
    let counts = relctl
        .range(r#"sum(http_requests_total{version="range-v1"})"#, last)
        .unwrap();
    assert!(counts.len() >= 3, "{counts:?}");
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
    assert!(counts[0] < counts[counts.len() - 1], "{counts:?}");
    // One series per status code: a comparison cannot use it.
    let err = relctl
        .range(r#"http_requests_total{version="range-v1"}"#, last)
        .unwrap_err();
    assert!(
        matches!(err, MetricError::SeveralRange { count: 2, .. }),
        "{err:?}"
    );
}

#[test]
fn a_stopped_prometheus_cannot_be_reached() {
    // Its own server (no targets): this one is stopped.
    let mut prometheus = Prometheus::start(&[]);
    let relctl = Relctl::new(&prometheus);
    assert_eq!(relctl.instant("1 + 1", None).unwrap(), Some(2.0));
    assert_eq!(relctl.instant("vector(3)", None).unwrap(), Some(3.0));
    assert_eq!(relctl.instant(r#"up{job="none"}"#, None).unwrap(), None);
    prometheus.stop();
    // A later run, as relctl would make it: a client kept from before may instead hold
    // a pooled connection that the killed server closed ("connection closed before
    // message completed", a `Transport` error).
    let relctl = Relctl::new(&prometheus);
    let err = relctl.instant("vector(3)", None).unwrap_err();
    assert!(matches!(err, MetricError::Unreachable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "cannot reach prometheus at {}: ",
            prometheus.url()
        )),
        "{text}"
    );
    assert!(text.to_lowercase().contains("connection refused"), "{text}");
}
