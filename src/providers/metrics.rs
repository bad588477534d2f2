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
mod tests;
