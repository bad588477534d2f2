//! Metric providers: Prometheus instant and range queries, and a plain HTTP endpoint read
//! with a jq `value`. They only fetch numbers; judging them is `crate::analysis`'s job.
//! Everything returned, errors included, is already masked.
//!
//! No data (`Ok(None)`, judged by the metric's `no_data`) is an empty result or NaN.
//! A Prometheus query that gives several series is an error unless the metric says how
//! to reduce them (`reduce`); NaN samples are left out of a reduction, so a series
//! without data (a pod with no traffic: 0/0) neither poisons a `sum` nor counts in an
//! `avg`, and when every sample is NaN the answer is no data. ±Inf is a value
//! (`histogram_quantile` gives +Inf when the quantile is in the last bucket) and is
//! returned as is. Nothing here retries: the analysis counts errors itself.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use serde::Deserialize;
use serde_json::Value;

use super::http::{self, Call, CallError, RetryDelay};
use super::secrets::{self, MASK, Secrets};
use crate::duration;
use crate::plan::jq;
use crate::plan::types::Reduce;
use crate::text::visible;

/// How much of an answer is read at all.
const BODY_MAX: usize = 16 * 1024 * 1024;
/// How much of a query error messages quote.
const QUERY_SHOWN_MAX: usize = 300;
/// How much of an answer's body error messages quote.
const EXCERPT_MAX: usize = 512;
/// How many series' labels the "several series" error names.
const SERIES_SHOWN: usize = 3;

/// A Prometheus server (or anything speaking its HTTP API: Thanos, Mimir,
/// VictoriaMetrics), templates already rendered.
#[derive(Debug, Clone)]
pub struct Prometheus {
    /// The base URL, e.g. `http://prometheus:9090` (a path prefix is kept).
    pub url: String,
    /// Per query, from connecting to the last byte of the answer; also sent to the
    /// server as the query's evaluation timeout.
    pub timeout: Duration,
    pub auth: Option<PromAuth>,
}

/// Credentials sent with every query. `Debug` never shows them.
#[derive(Clone)]
pub enum PromAuth {
    Bearer(String),
    Basic { username: String, password: String },
}

impl fmt::Debug for PromAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PromAuth::Bearer(_) => f.debug_tuple("Bearer").field(&MASK).finish(),
            PromAuth::Basic { .. } => f
                .debug_struct("Basic")
                .field("username", &MASK)
                .field("password", &MASK)
                .finish(),
        }
    }
}

/// A metric that could not be measured. Each message names the server (or call) and the
/// query, masked.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MetricError {
    /// The query cannot be sent as written (bad URL, bad step); nothing was sent.
    #[error("prometheus {url}: cannot query `{query}`: {message}")]
    Invalid {
        url: String,
        query: String,
        message: String,
    },
    /// No connection: refused, no route, DNS.
    #[error("cannot reach prometheus at {url}: {message}")]
    Unreachable { url: String, message: String },
    /// No complete answer in time.
    #[error("prometheus {url}: no answer to query `{query}` within {}", duration::format(*timeout))]
    Timeout {
        url: String,
        query: String,
        timeout: Duration,
    },
    /// The connection broke before the answer was complete.
    #[error("prometheus {url}: no complete answer to query `{query}`: {message}")]
    Transport {
        url: String,
        query: String,
        message: String,
    },
    /// An error status (HTTP or the API's `"status": "error"`); `message` is the API's
    /// `errorType: error`, or an excerpt of a body that is not the API's.
    #[error("prometheus {url} answered {} to query `{query}`: {message}", status_line(*status))]
    Status {
        url: String,
        query: String,
        status: u16,
        message: String,
    },
    /// A successful answer that is not what the API promises.
    #[error("prometheus {url}: cannot read the answer to query `{query}`: {message}")]
    Malformed {
        url: String,
        query: String,
        message: String,
    },
    /// An instant query that gives something other than a number or a vector of them.
    #[error("prometheus {url}: query `{query}` gives {what}, not a number")]
    NotANumber {
        url: String,
        query: String,
        what: String,
    },
    /// An instant query gave several series and the metric has no `reduce`.
    #[error(
        "prometheus {url}: query `{query}` returned {count} series ({series}); add `reduce: sum|min|max|avg` to the metric"
    )]
    Several {
        url: String,
        query: String,
        count: usize,
        /// The first few series' labels.
        series: String,
    },
    /// A range query gave several series (a comparison needs one per side).
    #[error(
        "prometheus {url}: range query `{query}` returned {count} series ({series}); it must give one: aggregate it, e.g. with `sum(…)`"
    )]
    SeveralRange {
        url: String,
        query: String,
        count: usize,
        series: String,
    },
    /// The HTTP provider's call failed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The HTTP provider's answer has no number where `value` looks.
    #[error("{method} {url}: {message}")]
    Value {
        method: String,
        url: String,
        message: String,
    },
}

/// How the server and the query appear in messages, and what is masked in them.
struct Shown {
    secrets: Secrets,
    url: String,
    query: String,
}

impl Shown {
    fn new(p: &Prometheus, query: &str, secrets: &Secrets) -> Shown {
        // The credentials are masked even when they are not declared secrets: an answer
        // (a proxy's error page) may echo them, the Basic header's too (masking finds a
        // secret inside base64).
        let secrets = match &p.auth {
            None => secrets.clone(),
            Some(auth) => {
                let credentials = match auth {
                    PromAuth::Bearer(token) => vec![token.clone()],
                    PromAuth::Basic { password, .. } => vec![password.clone()],
                };
                let pairs: Vec<(String, String)> = secrets
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .chain(
                        credentials
                            .into_iter()
                            .map(|c| ("prometheus auth".into(), c)),
                    )
                    .collect();
                Secrets::from_values(pairs)
            }
        };
        let query = query.split_whitespace().collect::<Vec<_>>().join(" ");
        Shown {
            url: shown_url(&p.url, &secrets),
            query: secrets::head(&secrets.mask(&query), QUERY_SHOWN_MAX),
            secrets,
        }
    }

    fn invalid(&self, message: impl AsRef<str>) -> MetricError {
        MetricError::Invalid {
            url: self.url.clone(),
            query: self.query.clone(),
            message: self.secrets.mask(message.as_ref()),
        }
    }

    fn malformed(&self, message: impl AsRef<str>) -> MetricError {
        MetricError::Malformed {
            url: self.url.clone(),
            query: self.query.clone(),
            // Names what the answer held: the server's text, shown, never obeyed.
            message: visible(&self.secrets.mask(message.as_ref())).into_owned(),
        }
    }

    fn excerpt(&self, body: &[u8]) -> String {
        let text = String::from_utf8_lossy(body);
        let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
        secrets::head(&visible(&self.secrets.mask(&line)), EXCERPT_MAX)
    }

    fn series(&self, series: &[&BTreeMap<String, String>]) -> String {
        let mut shown: Vec<String> = series
            .iter()
            .take(SERIES_SHOWN)
            .map(|labels| visible(&self.secrets.mask(&show_labels(labels))).into_owned())
            .collect();
        if series.len() > SERIES_SHOWN {
            shown.push("…".into());
        }
        shown.join(", ")
    }
}

/// The base URL without a trailing slash, with any password in it and every secret
/// masked.
fn shown_url(url: &str, secrets: &Secrets) -> String {
    let url = url.trim().trim_end_matches('/');
    secrets.mask(&secrets::mask_url_password(url))
}

/// A series as PromQL writes it: `name{label="value",…}`.
fn show_labels(labels: &BTreeMap<String, String>) -> String {
    let name = labels.get("__name__").map_or("", String::as_str);
    let inner: Vec<String> = labels
        .iter()
        .filter(|(k, _)| *k != "__name__")
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    format!("{name}{{{}}}", inner.join(","))
}

fn status_line(status: u16) -> String {
    match reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
    }
}

/// The API's envelope; `data` is read once the status is known.
#[derive(Deserialize)]
struct Envelope {
    status: String,
    data: Option<Value>,
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
}

/// A query's result. Sample values are strings in the API ("1.5", "NaN", "+Inf").
#[derive(Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum Data {
    Vector(Vec<Sample>),
    Matrix(Vec<Series>),
    Scalar((f64, String)),
    String(serde::de::IgnoredAny),
}

#[derive(Deserialize)]
struct Sample {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    /// Absent for a native histogram sample (which has `histogram` instead).
    value: Option<(f64, String)>,
}

#[derive(Deserialize)]
struct Series {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

/// Form-encodes (application/x-www-form-urlencoded) name/value pairs.
fn encode_form(pairs: &[(&str, String)]) -> String {
    fn encode(text: &str, out: &mut String) {
        for b in text.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                    out.push(char::from(b))
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
    }
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode(name, &mut out);
        out.push('=');
        encode(value, &mut out);
    }
    out
}

/// Why a query got no answer.
enum NoAnswer {
    Timeout,
    Connect(String),
    Broken(String),
    TooLarge,
}

/// Sends one query to `{url}/api/v1/{endpoint}` and returns the result of a successful
/// answer. The query goes in a POST form, as Prometheus' own UI sends it: no URL length
/// limit, and the query stays out of proxies' access logs.
async fn fetch(
    client: &reqwest::Client,
    p: &Prometheus,
    endpoint: &str,
    mut form: Vec<(&str, String)>,
    shown: &Shown,
) -> Result<Data, MetricError> {
    let base = p.url.trim().trim_end_matches('/');
    let url = reqwest::Url::parse(&format!("{base}/api/v1/{endpoint}"))
        .map_err(|e| shown.invalid(format!("bad URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(shown.invalid(format!(
            "unsupported scheme `{}` (use http or https)",
            url.scheme()
        )));
    }
    if !p.timeout.is_zero() {
        // Prometheus stops evaluating when we stop waiting.
        form.push(("timeout", p.timeout.as_secs_f64().to_string()));
    }
    let mut request = client
        .post(url)
        .header(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        )
        .body(encode_form(&form))
        .timeout(p.timeout);
    match &p.auth {
        Some(PromAuth::Bearer(token)) => request = request.bearer_auth(token),
        Some(PromAuth::Basic { username, password }) => {
            request = request.basic_auth(username, Some(password))
        }
        None => {}
    }
    let exchange = async {
        let mut response = request.send().await.map_err(no_answer)?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(no_answer)? {
            if body.len() + chunk.len() > BODY_MAX {
                return Err(NoAnswer::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, body))
    };
    // reqwest's own timeout covers the body too; this one makes sure of it.
    let answer = tokio::time::timeout(p.timeout, exchange)
        .await
        .unwrap_or(Err(NoAnswer::Timeout));
    let (status, body) = answer.map_err(|no| match no {
        NoAnswer::Timeout => MetricError::Timeout {
            url: shown.url.clone(),
            query: shown.query.clone(),
            timeout: p.timeout,
        },
        NoAnswer::Connect(message) => MetricError::Unreachable {
            url: shown.url.clone(),
            message: shown.secrets.mask(&message),
        },
        NoAnswer::Broken(message) => MetricError::Transport {
            url: shown.url.clone(),
            query: shown.query.clone(),
            message: shown.secrets.mask(&message),
        },
        NoAnswer::TooLarge => shown.malformed(format!(
            "the answer is larger than {} MiB",
            BODY_MAX / 1024 / 1024
        )),
    })?;
    read_answer(status, &body, shown)
}

fn no_answer(err: reqwest::Error) -> NoAnswer {
    if err.is_timeout() {
        return NoAnswer::Timeout;
    }
    let connect = err.is_connect();
    let err = err.without_url();
    // The innermost cause says it best ("Connection refused (os error 111)"); the outer
    // ones are reqwest's and hyper's wrappers.
    let mut parts = vec![err.to_string()];
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        let text = cause.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    if connect {
        let last = parts.pop().unwrap_or_default();
        NoAnswer::Connect(last)
    } else {
        NoAnswer::Broken(parts.join(": "))
    }
}

fn read_answer(status: u16, body: &[u8], shown: &Shown) -> Result<Data, MetricError> {
    let envelope = serde_json::from_slice::<Envelope>(body).ok();
    let ok = (200..300).contains(&status);
    if let Some(e) = envelope.as_ref().filter(|e| e.status == "error" || !ok) {
        let message = match (&e.error_type, &e.error) {
            (Some(kind), Some(error)) => format!("{kind}: {error}"),
            (None, Some(error)) => error.clone(),
            _ => shown.excerpt(body),
        };
        return Err(MetricError::Status {
            url: shown.url.clone(),
            query: shown.query.clone(),
            status,
            message: visible(&shown.secrets.mask(&message)).into_owned(),
        });
    }
    let Some(envelope) = envelope else {
        if !ok {
            let excerpt = shown.excerpt(body);
            return Err(MetricError::Status {
                url: shown.url.clone(),
                query: shown.query.clone(),
                status,
                message: if excerpt.is_empty() {
                    "an empty answer".into()
                } else {
                    excerpt
                },
            });
        }
        return Err(shown.malformed(format!(
            "not a Prometheus API answer: {}",
            shown.excerpt(body)
        )));
    };
    if envelope.status != "success" {
        return Err(shown.malformed(format!("unknown status `{}`", envelope.status)));
    }
    for warning in &envelope.warnings {
        tracing::warn!(
            "prometheus {}: query `{}`: {}",
            shown.url,
            shown.query,
            visible(&shown.secrets.mask(warning))
        );
    }
    let data = envelope
        .data
        .ok_or_else(|| shown.malformed("the answer has no `data`"))?;
    serde_json::from_value(data).map_err(|e| shown.malformed(format!("unexpected result: {e}")))
}

/// A sample's value; the API writes them as strings.
fn parse_value(text: &str, shown: &Shown) -> Result<f64, MetricError> {
    text.trim()
        .parse::<f64>()
        .map_err(|_| shown.malformed(format!("the sample value `{text}` is not a number")))
}

fn no_nan(value: f64) -> Option<f64> {
    (!value.is_nan()).then_some(value)
}

/// Several samples made one; NaN samples are left out. `None` when none is left.
fn combine(values: &[f64], how: Reduce) -> Option<f64> {
    let values: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    if values.is_empty() {
        return None;
    }
    let out = match how {
        Reduce::Sum => values.iter().sum(),
        Reduce::Min => values.iter().copied().fold(f64::INFINITY, f64::min),
        Reduce::Max => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Reduce::Avg => values.iter().sum::<f64>() / values.len() as f64,
    };
    // +Inf and -Inf summed are NaN: no meaningful value.
    no_nan(out)
}

/// An instant query (`/api/v1/query`, evaluated at the server's now). One sample or a
/// scalar gives its value; several samples need `reduce`; an empty vector or NaN is no
/// data (`Ok(None)`).
pub async fn instant(
    client: &reqwest::Client,
    p: &Prometheus,
    query: &str,
    reduce: Option<Reduce>,
    secrets: &Secrets,
) -> Result<Option<f64>, MetricError> {
    let shown = Shown::new(p, query, secrets);
    let data = fetch(
        client,
        p,
        "query",
        vec![("query", query.to_string())],
        &shown,
    )
    .await?;
    match data {
        Data::Scalar((_, value)) => Ok(no_nan(parse_value(&value, &shown)?)),
        Data::Vector(samples) => {
            let mut values = Vec::with_capacity(samples.len());
            for sample in &samples {
                let Some((_, value)) = &sample.value else {
                    return Err(MetricError::NotANumber {
                        url: shown.url.clone(),
                        query: shown.query.clone(),
                        what: "a native histogram (use histogram_quantile or histogram_avg)".into(),
                    });
                };
                values.push(parse_value(value, &shown)?);
            }
            match (values.as_slice(), reduce) {
                ([], _) => Ok(None),
                ([one], _) => Ok(no_nan(*one)),
                (many, Some(how)) => Ok(combine(many, how)),
                (many, None) => {
                    let labels: Vec<_> = samples.iter().map(|s| &s.metric).collect();
                    Err(MetricError::Several {
                        url: shown.url.clone(),
                        query: shown.query.clone(),
                        count: many.len(),
                        series: shown.series(&labels),
                    })
                }
            }
        }
        Data::Matrix(_) => Err(MetricError::NotANumber {
            url: shown.url.clone(),
            query: shown.query.clone(),
            what: "a range vector (wrap it in a function such as rate(…))".into(),
        }),
        Data::String(_) => Err(MetricError::NotANumber {
            url: shown.url.clone(),
            query: shown.query.clone(),
            what: "a string".into(),
        }),
    }
}

/// A range query (`/api/v1/query_range`) from `start` to `end` every `step`: the values
/// of its one series in time order, NaN left out. An empty result is `Ok(vec![])`;
/// several series are an error (`reduce` does not apply to ranges).
pub async fn range(
    client: &reqwest::Client,
    p: &Prometheus,
    query: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    step: Duration,
    secrets: &Secrets,
) -> Result<Vec<f64>, MetricError> {
    let shown = Shown::new(p, query, secrets);
    if step.is_zero() {
        return Err(shown.invalid("the step of a range query must be more than 0"));
    }
    if end < start {
        return Err(shown.invalid(format!("the range ends ({end}) before it starts ({start})")));
    }
    let form = vec![
        ("query", query.to_string()),
        ("start", start.to_rfc3339_opts(SecondsFormat::Millis, true)),
        ("end", end.to_rfc3339_opts(SecondsFormat::Millis, true)),
        ("step", step.as_secs_f64().to_string()),
    ];
    let data = fetch(client, p, "query_range", form, &shown).await?;
    let Data::Matrix(series) = data else {
        return Err(shown.malformed("a range query must give a matrix"));
    };
    match series.as_slice() {
        [] => Ok(Vec::new()),
        [one] => {
            let mut points = Vec::with_capacity(one.values.len());
            for (at, value) in &one.values {
                points.push((*at, parse_value(value, &shown)?));
            }
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            Ok(points
                .into_iter()
                .map(|(_, v)| v)
                .filter(|v| !v.is_nan())
                .collect())
        }
        many => {
            let labels: Vec<_> = many.iter().map(|s| &s.metric).collect();
            Err(MetricError::SeveralRange {
                url: shown.url.clone(),
                query: shown.query.clone(),
                count: many.len(),
                series: shown.series(&labels),
            })
        }
    }
}

/// The HTTP metrics provider: sends `call` (with its retries) and reads one number from
/// the JSON answer with the jq expression `value_expr`. A number or a numeric string is
/// the value; null, nothing or NaN is no data; anything else is an error.
pub async fn http_value(
    client: &reqwest::Client,
    call: &Call,
    value_expr: &str,
    backoff: &RetryDelay,
    secrets: &Secrets,
) -> Result<Option<f64>, MetricError> {
    let response = http::send(client, call, backoff, secrets).await?;
    let error = |message: String| MetricError::Value {
        method: secrets.mask(&call.method.to_ascii_uppercase()),
        url: secrets.mask(&call.url),
        message: secrets.mask(&message),
    };
    // `json` is null for a body that is empty or not JSON (or too large to parse).
    if response.json.is_null() && response.text.trim() != "null" {
        let text = response
            .text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        return Err(error(if text.is_empty() {
            "the answer is empty, not JSON".into()
        } else {
            format!(
                "the answer is not JSON: {}",
                secrets::head(&text, EXCERPT_MAX)
            )
        }));
    }
    match jq::eval_number(value_expr, &response.json) {
        Ok(value) => Ok(value.and_then(no_nan)),
        Err(message) => Err(error(message)),
    }
}

#[cfg(test)]
mod tests {
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
            err.to_string()
                .ends_with("cannot read the answer to query `q`: not a Prometheus API answer: <html>login</html>"),
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
            err.to_string().ends_with(
                "answered 503 Service Unavailable to query `up`: timeout: query timed out"
            ),
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
            "https://me@prom.example.com"
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
}
