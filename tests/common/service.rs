//! A stand-in for the service being released, as Prometheus sees it: a loopback server
//! whose `/metrics` counts requests per version, growing by one "tick" per scrape as
//! each test sets. Prometheus scraping it makes real rates for relctl to query.
//!
//! Semantics of no traffic: a version that never had traffic has no series at all (an
//! empty result). A version whose traffic stopped keeps exposing its frozen counters, as
//! a running process with no requests does: once the rate window has passed, its rates
//! are 0 and an error ratio `sum(rate(5xx)) / sum(rate(all))` is 0/0 = NaN. Both are no
//! data to relctl. A version with traffic always exposes its `code="500"` counter, even
//! at 0, so a healthy version's error ratio is 0, not an empty result.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;

/// One version's traffic: what each scrape adds, and the counters so far.
#[derive(Debug, Default, Clone)]
struct Traffic {
    requests_per_scrape: u64,
    error_ratio: f64,
    flowing: bool,
    ok: u64,
    errors: u64,
}

#[derive(Default)]
struct Inner {
    versions: BTreeMap<String, Traffic>,
    scrapes: u64,
}

pub struct TestService {
    inner: Arc<Mutex<Inner>>,
    addr: SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

impl TestService {
    pub fn start() -> TestService {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for the test service");
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/metrics", get(metrics))
            .with_state(inner.clone());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("the bound address");
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TestService {
            inner,
            addr,
            _runtime: runtime,
        }
    }

    /// Where Prometheus scrapes it.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// From the next scrape on, each scrape adds `requests_per_scrape` requests to
    /// `version`, `round(error_ratio · requests_per_scrape)` of them 500s.
    pub fn set_traffic(&self, version: &str, requests_per_scrape: u64, error_ratio: f64) {
        assert!(
            (0.0..=1.0).contains(&error_ratio),
            "error ratio {error_ratio} is not between 0 and 1"
        );
        let mut inner = self.lock();
        let traffic = inner.versions.entry(version.to_string()).or_default();
        traffic.requests_per_scrape = requests_per_scrape;
        traffic.error_ratio = error_ratio;
        traffic.flowing = true;
    }

    /// The version's counters stop growing (and stay exposed).
    pub fn stop_traffic(&self, version: &str) {
        if let Some(traffic) = self.lock().versions.get_mut(version) {
            traffic.flowing = false;
        }
    }

    /// How many times `/metrics` was read.
    pub fn scrapes(&self) -> u64 {
        self.lock().scrapes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn metrics(State(inner): State<Arc<Mutex<Inner>>>) -> impl IntoResponse {
    let mut inner = inner.lock().unwrap_or_else(|e| e.into_inner());
    inner.scrapes += 1;
    let mut text = String::from(
        "# HELP http_requests_total Requests served, by version and status code.\n\
         # TYPE http_requests_total counter\n",
    );
    for (version, traffic) in &mut inner.versions {
        // A label value escapes `\`, `"` and line breaks (the text exposition format).
        let version = version
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n");
        if traffic.flowing {
            let requests = traffic.requests_per_scrape;
            // f64 → u64 saturates; the ratio is checked to be in 0..=1.
            let errors = ((traffic.error_ratio * requests as f64).round() as u64).min(requests);
            traffic.ok += requests - errors;
            traffic.errors += errors;
        }
        for (code, count) in [("200", traffic.ok), ("500", traffic.errors)] {
            let _ = writeln!(
                text,
                r#"http_requests_total{{app="checkout",version="{version}",code="{code}"}} {count}"#
            );
        }
    }
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
}
