//! Unit tests of the metrics providers: Prometheus queries, HTTP metrics and how they are shown, against local servers.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::TimeZone;
use serde_json::json;

use super::*;

/// A request as the fake server saw it; `form` holds the decoded POST form.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: HeaderMap,
    form: BTreeMap<String, String>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

enum Reply {
    Json(u16, Value),
    Text(u16, &'static str),
    /// Never answer.
    Hang,
}

type Handler = dyn Fn(&Seen) -> Reply + Send + Sync;

/// A loopback stand-in for the Prometheus HTTP API, answering with `handler`.
struct Fake {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Fake {
    async fn start(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Fake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let log = seen.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let (log, handler) = (log.clone(), handler.clone());
                async move {
                    let seen = Seen {
                        method: method.to_string(),
                        path: uri.path().to_string(),
                        headers,
                        form: decode_form(&String::from_utf8_lossy(&body)),
                    };
                    log.lock().unwrap().push(seen.clone());
                    match handler(&seen) {
                        Reply::Json(status, body) => {
                            (StatusCode::from_u16(status).unwrap(), axum::Json(body))
                                .into_response()
                        }
                        Reply::Text(status, body) => {
                            (StatusCode::from_u16(status).unwrap(), body).into_response()
                        }
                        Reply::Hang => std::future::pending::<Response>().await,
                    }
                }
            },
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Fake { url, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn decode_form(text: &str) -> BTreeMap<String, String> {
    fn decode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8(out).unwrap()
    }
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

fn client() -> reqwest::Client {
    crate::providers::http::builder()
        .no_proxy()
        .build()
        .unwrap()
}

fn none() -> Secrets {
    Secrets::default()
}

fn prom(url: &str) -> Prometheus {
    Prometheus {
        url: url.into(),
        timeout: Duration::from_secs(5),
        auth: None,
    }
}

fn success(data: Value) -> Reply {
    Reply::Json(200, json!({"status": "success", "data": data}))
}

/// A vector result with one sample per value, labelled `pod="p<i>"`.
fn vector(values: &[&str]) -> Reply {
    let result: Vec<Value> = values
        .iter()
        .enumerate()
        .map(|(i, v)| json!({"metric": {"pod": format!("p{i}")}, "value": [1.7e9, v]}))
        .collect();
    success(json!({"resultType": "vector", "result": result}))
}

async fn instant_with(
    client: &reqwest::Client,
    reply: impl Fn() -> Reply + Send + Sync + 'static,
    reduce: Option<Reduce>,
) -> Result<Option<f64>, MetricError> {
    let fake = Fake::start(move |_| reply()).await;
    instant(client, &prom(&fake.url), "q", reduce, &none()).await
}

#[tokio::test]
async fn one_sample_is_its_value() {
    let fake = Fake::start(|_| {
        success(json!({"resultType": "vector", "result": [
            {"metric": {"app": "checkout"}, "value": [1.7e9, "0.25"]}
        ]}))
    })
    .await;
    let query = r#"sum(rate(http_requests_total{code=~"5..",app="a&b"}[1m])) / 2"#;
    let value = instant(
        &client(),
        &prom(&format!("{}/", fake.url)),
        query,
        None,
        &none(),
    )
    .await
    .unwrap();
    assert_eq!(value, Some(0.25));
    let seen = fake.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/api/v1/query");
    assert_eq!(
        seen[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(seen[0].form["query"], query);
    assert_eq!(seen[0].form["timeout"], "5");
    assert_eq!(seen[0].header("authorization"), None);
}

#[tokio::test]
async fn a_path_prefix_is_kept() {
    let fake = Fake::start(|_| vector(&["1"])).await;
    let p = prom(&format!("{}/prometheus/", fake.url));
    assert_eq!(
        instant(&client(), &p, "up", None, &none()).await.unwrap(),
        Some(1.0)
    );
    assert_eq!(fake.seen()[0].path, "/prometheus/api/v1/query");
}

#[tokio::test]
async fn several_samples_without_reduce_are_an_error() {
    let fake = Fake::start(|_| {
        success(json!({"resultType": "vector", "result": [
            {"metric": {"__name__": "up", "job": "a"}, "value": [1.7e9, "1"]},
            {"metric": {"job": "b", "code": "500"}, "value": [1.7e9, "0"]},
            {"metric": {}, "value": [1.7e9, "NaN"]},
            {"metric": {"job": "d"}, "value": [1.7e9, "1"]},
        ]}))
    })
    .await;
    let err = instant(&client(), &prom(&fake.url), "up\n  or  down", None, &none())
        .await
        .unwrap_err();
    assert!(
        matches!(err, MetricError::Several { count: 4, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            r#"prometheus {}: query `up or down` returned 4 series (up{{job="a"}}, {{code="500",job="b"}}, {{}}, …); add `reduce: sum|min|max|avg` to the metric"#,
            fake.url
        )
    );
}

#[tokio::test]
async fn several_samples_are_reduced_without_their_nans() {
    let c = client();
    let reply = || vector(&["1", "2", "NaN", "6"]);
    assert_eq!(
        instant_with(&c, reply, Some(Reduce::Sum)).await.unwrap(),
        Some(9.0)
    );
    assert_eq!(
        instant_with(&c, reply, Some(Reduce::Min)).await.unwrap(),
        Some(1.0)
    );
    assert_eq!(
        instant_with(&c, reply, Some(Reduce::Max)).await.unwrap(),
        Some(6.0)
    );
    assert_eq!(
        instant_with(&c, reply, Some(Reduce::Avg)).await.unwrap(),
        Some(3.0)
    );
    let all_nan = || vector(&["NaN", "NaN"]);
    for how in [Reduce::Sum, Reduce::Min, Reduce::Max, Reduce::Avg] {
        assert_eq!(instant_with(&c, all_nan, Some(how)).await.unwrap(), None);
    }
    // A single sample is its value, with or without `reduce`.
    assert_eq!(
        instant_with(&c, || vector(&["4"]), Some(Reduce::Avg))
            .await
            .unwrap(),
        Some(4.0)
    );
    let infinities = || vector(&["+Inf", "-Inf"]);
    assert_eq!(
        instant_with(&c, infinities, Some(Reduce::Sum))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        instant_with(&c, infinities, Some(Reduce::Max))
            .await
            .unwrap(),
        Some(f64::INFINITY)
    );
}

#[tokio::test]
async fn an_empty_vector_is_no_data() {
    let c = client();
    assert_eq!(instant_with(&c, || vector(&[]), None).await.unwrap(), None);
    assert_eq!(
        instant_with(&c, || vector(&[]), Some(Reduce::Sum))
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn nan_is_no_data_and_scalars_are_values() {
    let c = client();
    assert_eq!(
        instant_with(&c, || vector(&["NaN"]), None).await.unwrap(),
        None
    );
    fn scalar(v: &str) -> Reply {
        success(json!({"resultType": "scalar", "result": [1.7e9, v]}))
    }
    assert_eq!(
        instant_with(&c, || scalar("NaN"), None).await.unwrap(),
        None
    );
    assert_eq!(
        instant_with(&c, || scalar("2.5"), None).await.unwrap(),
        Some(2.5)
    );
    assert_eq!(
        instant_with(&c, || scalar("1e-3"), None).await.unwrap(),
        Some(0.001)
    );
    assert_eq!(
        instant_with(&c, || vector(&["+Inf"]), None).await.unwrap(),
        Some(f64::INFINITY)
    );
    assert_eq!(
        instant_with(&c, || vector(&["-Inf"]), None).await.unwrap(),
        Some(f64::NEG_INFINITY)
    );
    let err = instant_with(&c, || vector(&["many"]), None)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("the sample value `many` is not a number"),
        "{err}"
    );
}

#[tokio::test]
async fn results_that_are_not_numbers_are_errors() {
    let c = client();
    let matrix = || success(json!({"resultType": "matrix", "result": []}));
    let err = instant_with(&c, matrix, None).await.unwrap_err();
    assert!(matches!(err, MetricError::NotANumber { .. }), "{err:?}");
    assert!(err.to_string().contains("gives a range vector"), "{err}");
    let string = || success(json!({"resultType": "string", "result": [1.7e9, "x"]}));
    let err = instant_with(&c, string, None).await.unwrap_err();
    assert!(
        err.to_string()
            .ends_with("query `q` gives a string, not a number"),
        "{err}"
    );
    let html = || Reply::Text(200, "<html>login</html>");
    let err = instant_with(&c, html, None).await.unwrap_err();
    assert!(matches!(err, MetricError::Malformed { .. }), "{err:?}");
    assert!(
        err.to_string().ends_with(
            "cannot read the answer to query `q`: not a Prometheus API answer: <html>login</html>"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn an_error_status_quotes_the_api_error() {
    let fake = Fake::start(|_| {
        Reply::Json(
            400,
            json!({"status": "error", "errorType": "bad_data",
                   "error": "invalid parameter \"query\": 1:5: parse error: unexpected \")\""}),
        )
    })
    .await;
    let err = instant(&client(), &prom(&fake.url), "sum(x))", None, &none())
        .await
        .unwrap_err();
    assert!(
        matches!(err, MetricError::Status { status: 400, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            r#"prometheus {} answered 400 Bad Request to query `sum(x))`: bad_data: invalid parameter "query": 1:5: parse error: unexpected ")""#,
            fake.url
        )
    );
}

#[tokio::test]
async fn an_api_error_with_control_characters_is_shown_visibly() {
    let fake = Fake::start(|_| {
        Reply::Json(
            400,
            json!({"status": "error", "errorType": "bad_data", "error": "a\u{0}b \u{1b}[2J"}),
        )
    })
    .await;
    let err = instant(&client(), &prom(&fake.url), "up", None, &none())
        .await
        .unwrap_err();
    assert!(
        err.to_string().ends_with(r"bad_data: a\0b \x1b[2J"),
        "{err}"
    );
}

#[tokio::test]
async fn a_5xx_is_an_error_without_retry() {
    let c = client();
    let fake = Fake::start(|_| {
        Reply::Json(
            503,
            json!({"status": "error", "errorType": "timeout", "error": "query timed out"}),
        )
    })
    .await;
    let err = instant(&client(), &prom(&fake.url), "up", None, &none())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("answered 503 Service Unavailable to query `up`: timeout: query timed out"),
        "{err}"
    );
    assert_eq!(fake.seen().len(), 1);

    let err = instant_with(&c, || Reply::Text(502, "<h1>Bad   gateway</h1>\n"), None)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("answered 502 Bad Gateway to query `q`: <h1>Bad gateway</h1>"),
        "{err}"
    );
    let err = instant_with(&c, || Reply::Text(500, ""), None)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("500 Internal Server Error to query `q`: an empty answer"),
        "{err}"
    );
}

#[tokio::test]
async fn a_refused_connection_cannot_reach_prometheus() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = instant(&client(), &prom(&url), "up", None, &none())
        .await
        .unwrap_err();
    assert!(matches!(err, MetricError::Unreachable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("cannot reach prometheus at {url}: ")),
        "{text}"
    );
    assert!(text.to_lowercase().contains("connection refused"), "{text}");
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let fake = Fake::start(|_| Reply::Hang).await;
    let mut p = prom(&fake.url);
    p.timeout = Duration::from_millis(200);
    let started = tokio::time::Instant::now();
    let err = instant(&client(), &p, "up", None, &none())
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(matches!(err, MetricError::Timeout { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "prometheus {}: no answer to query `up` within 200ms",
            fake.url
        )
    );
    assert_eq!(fake.seen()[0].form["timeout"], "0.2");
}

/// Answers 401 quoting the credentials it got, as a careless proxy might.
fn echo_auth(seen: &Seen) -> Reply {
    let got = seen.header("authorization").unwrap_or_default();
    Reply::Json(
        401,
        json!({"status": "error", "errorType": "unauthorized", "error": format!("rejected {got}")}),
    )
}

#[tokio::test]
async fn sends_bearer_auth_and_never_shows_the_token() {
    let fake = Fake::start(echo_auth).await;
    let mut p = prom(&fake.url);
    p.auth = Some(PromAuth::Bearer("tok-123".into()));
    let err = instant(&client(), &p, "up", None, &none())
        .await
        .unwrap_err();
    assert_eq!(
        fake.seen()[0].header("authorization"),
        Some("Bearer tok-123")
    );
    let text = err.to_string();
    assert!(
        text.ends_with("unauthorized: rejected Bearer ***"),
        "{text}"
    );
    assert!(!format!("{err:?}{p:?}").contains("tok-123"));
}

#[tokio::test]
async fn sends_basic_auth_and_never_shows_the_password() {
    let fake = Fake::start(echo_auth).await;
    let mut p = prom(&fake.url);
    p.auth = Some(PromAuth::Basic {
        username: "user".into(),
        password: "pw-456".into(),
    });
    let err = range(
        &client(),
        &p,
        "up",
        Utc::now(),
        Utc::now(),
        Duration::from_secs(1),
        &none(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        fake.seen()[0].header("authorization"),
        Some("Basic dXNlcjpwdy00NTY=")
    );
    let text = format!("{err} {err:?} {p:?}");
    assert!(text.contains("rejected Basic ***"), "{text}");
    assert!(
        !text.contains("pw-456") && !text.contains("dXNlcjpwdy00NTY="),
        "{text}"
    );
}

#[test]
fn masks_passwords_and_secrets_in_the_url() {
    let secrets = Secrets::from_values([("HOST", "secret-host")]);
    assert_eq!(
        shown_url("https://me:pw@prom.example.com/", &secrets),
        "https://me:***@prom.example.com"
    );
    assert_eq!(
        shown_url("http://secret-host:9090/prom/", &secrets),
        "http://***:9090/prom"
    );
    assert_eq!(
        shown_url(" https://me:pw@prom.example.com/api/ ", &secrets),
        "https://me:***@prom.example.com/api"
    );
    assert_eq!(
        shown_url("https://me@prom.example.com", &secrets),
        "https://***@prom.example.com"
    );
}

#[tokio::test]
async fn a_range_query_gives_its_series_in_time_order() {
    let fake = Fake::start(|_| {
        success(json!({"resultType": "matrix", "result": [{"metric": {"app": "a"}, "values": [
            [1767225603.0, "3"], [1767225601.0, "1"], [1767225602.0, "NaN"], [1767225604.0, "+Inf"]
        ]}]}))
    })
    .await;
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let end = Utc.with_ymd_and_hms(2026, 1, 1, 0, 1, 0).unwrap();
    let values = range(
        &client(),
        &prom(&fake.url),
        "rate(x[1m])",
        start,
        end,
        Duration::from_millis(1500),
        &none(),
    )
    .await
    .unwrap();
    assert_eq!(values, vec![1.0, 3.0, f64::INFINITY]);
    let seen = &fake.seen()[0];
    assert_eq!(seen.path, "/api/v1/query_range");
    assert_eq!(seen.form["query"], "rate(x[1m])");
    assert_eq!(seen.form["start"], "2026-01-01T00:00:00.000Z");
    assert_eq!(seen.form["end"], "2026-01-01T00:01:00.000Z");
    assert_eq!(seen.form["step"], "1.5");
}

async fn range_with(
    client: &reqwest::Client,
    reply: impl Fn() -> Reply + Send + Sync + 'static,
    step: Duration,
) -> Result<Vec<f64>, MetricError> {
    let fake = Fake::start(move |_| reply()).await;
    let now = Utc::now();
    let start = now - chrono::Duration::seconds(60);
    range(client, &prom(&fake.url), "q", start, now, step, &none()).await
}

#[tokio::test]
async fn range_query_edge_cases() {
    let c = client();
    let second = Duration::from_secs(1);
    let empty = || success(json!({"resultType": "matrix", "result": []}));
    assert_eq!(
        range_with(&c, empty, second).await.unwrap(),
        Vec::<f64>::new()
    );
    let several = || {
        success(json!({"resultType": "matrix", "result": [
            {"metric": {"version": "v1"}, "values": [[1.0, "1"]]},
            {"metric": {"version": "v2"}, "values": [[1.0, "2"]]},
        ]}))
    };
    let err = range_with(&c, several, second).await.unwrap_err();
    assert!(
        err.to_string().ends_with(
            r#"range query `q` returned 2 series ({version="v1"}, {version="v2"}); it must give one: aggregate it, e.g. with `sum(…)`"#
        ),
        "{err}"
    );
    let err = range_with(&c, empty, Duration::ZERO).await.unwrap_err();
    assert!(matches!(err, MetricError::Invalid { .. }), "{err:?}");
    let vector = || vector(&["1"]);
    let err = range_with(&c, vector, second).await.unwrap_err();
    assert!(
        err.to_string()
            .ends_with("a range query must give a matrix"),
        "{err}"
    );
}

fn get(url: &str) -> Call {
    Call {
        method: "get".into(),
        url: url.into(),
        headers: Vec::new(),
        body: None,
        timeout: Duration::from_secs(5),
        retries: 0,
        idempotency_key: None,
    }
}

const FAST: RetryDelay = RetryDelay {
    base: Duration::from_millis(1),
    max: Duration::from_millis(5),
};

async fn http_with(
    client: &reqwest::Client,
    reply: impl Fn() -> Reply + Send + Sync + 'static,
) -> (Result<Option<f64>, MetricError>, String) {
    let fake = Fake::start(move |_| reply()).await;
    let url = format!("{}/stats", fake.url);
    let value = http_value(client, &get(&url), ".error_rate", &FAST, &none()).await;
    (value, url)
}

#[tokio::test]
async fn http_values() {
    let c = client();
    let number = || Reply::Json(200, json!({"error_rate": 0.02}));
    assert_eq!(http_with(&c, number).await.0.unwrap(), Some(0.02));
    let text = || Reply::Json(200, json!({"error_rate": " 0.5 "}));
    assert_eq!(http_with(&c, text).await.0.unwrap(), Some(0.5));
    let null = || Reply::Json(200, json!({"error_rate": null}));
    assert_eq!(http_with(&c, null).await.0.unwrap(), None);
    let missing = || Reply::Json(200, json!({}));
    assert_eq!(http_with(&c, missing).await.0.unwrap(), None);
    let nan = || Reply::Json(200, json!({"error_rate": "NaN"}));
    assert_eq!(http_with(&c, nan).await.0.unwrap(), None);
    let literal_null = || Reply::Text(200, "null");
    assert_eq!(http_with(&c, literal_null).await.0.unwrap(), None);
}

#[tokio::test]
async fn http_values_that_are_not_numbers_are_errors() {
    let c = client();
    let word = || Reply::Json(200, json!({"error_rate": "high"}));
    let (value, url) = http_with(&c, word).await;
    let err = value.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(r#"GET {url}: `.error_rate` must give a number, it gave "high""#)
    );
    let html = || Reply::Text(200, "<p>maintenance</p>");
    let err = http_with(&c, html).await.0.unwrap_err();
    assert!(
        err.to_string()
            .ends_with("the answer is not JSON: <p>maintenance</p>"),
        "{err}"
    );
    let gone = || Reply::Json(404, json!({"error": "no such app"}));
    let err = http_with(&c, gone).await.0.unwrap_err();
    assert!(
        matches!(
            err,
            MetricError::Call(CallError::Status { status: 404, .. })
        ),
        "{err:?}"
    );
}
