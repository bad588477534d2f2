//! HTTP calls to deploy platforms and `http` steps: one call with retries and backoff,
//! polling until a deployment is ready, and the checks made on what the platform answers.
//! Everything returned (summaries, answers, errors) is already masked.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::secrets::{self, MASK, Secrets};
use crate::duration;
use crate::plan::jq;

/// How much of an answer's body is kept as text.
const TEXT_MAX: usize = 4 * 1024;
/// How much of an answer's body is read at all (larger JSON answers are not parsed).
const BODY_MAX: usize = 8 * 1024 * 1024;
/// How much of the body an error message quotes.
const EXCERPT_MAX: usize = 512;
/// The longest a single poll of `wait` may take, whatever is left of its timeout.
const POLL_TIMEOUT: Duration = Duration::from_secs(30);

/// Every HTTP client relctl builds: rustls with the ring provider, the system's trust
/// store loaded at the first https handshake (see [`super::tls`]).
pub fn builder() -> reqwest::ClientBuilder {
    let builder =
        reqwest::Client::builder().user_agent(concat!("relctl/", env!("CARGO_PKG_VERSION")));
    match super::tls::config() {
        Ok(config) => builder.tls_backend_preconfigured(config),
        // Only with a provider lacking every safe protocol version, which ring does not:
        // reqwest's own rustls configuration, with the same provider, is the fallback.
        Err(_) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            builder
        }
    }
}

/// The client every call of a command shares.
pub fn client() -> reqwest::Result<reqwest::Client> {
    builder().build()
}

/// One HTTP call, templates already rendered.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
    /// Per attempt, from connecting to the last byte of the answer.
    pub timeout: Duration,
    /// Extra attempts after the first, on transport errors, timeouts and 5xx.
    pub retries: u32,
    /// Sent as `Idempotency-Key` on every attempt (the runner's keys are built by
    /// `Visit` in src/runner/steps.rs).
    pub idempotency_key: Option<String>,
}

impl Call {
    /// The call as the record keeps it: method, url, headers and body, masked.
    /// Credential-like headers are always shown as `***`, whatever their value.
    pub fn describe(&self, secrets: &Secrets) -> Value {
        let mut out = json!({
            "method": self.method.to_ascii_uppercase(),
            "url": secrets.mask(&self.url),
            "headers": describe_headers(&self.headers, secrets),
        });
        if let Some(body) = &self.body {
            out["body"] = secrets.mask_json(body);
        }
        if let Some(key) = &self.idempotency_key {
            out["idempotency_key"] = Value::String(secrets.mask(key));
        }
        out
    }
}

fn describe_headers(headers: &[(String, String)], secrets: &Secrets) -> Value {
    let map = headers
        .iter()
        .map(|(name, value)| {
            let shown = if is_credential(name) {
                MASK.to_string()
            } else {
                secrets.mask(value)
            };
            (secrets.mask(name), Value::String(shown))
        })
        .collect();
    Value::Object(map)
}

/// Headers whose value is a credential even when it is not a declared secret.
fn is_credential(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
    ) || [
        "auth",
        "token",
        "secret",
        "password",
        "api-key",
        "apikey",
        "api_key",
        "credential",
        "signature",
        "session",
    ]
    .iter()
    .any(|word| name.contains(word))
}

/// Waits between attempts: exponential with full jitter. Before retry `n` (0 for the
/// first retry) it waits a random time in `0..=min(max, base * 2^n)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryDelay {
    pub base: Duration,
    pub max: Duration,
}

impl Default for RetryDelay {
    fn default() -> Self {
        RetryDelay {
            base: Duration::from_millis(500),
            max: Duration::from_secs(10),
        }
    }
}

impl RetryDelay {
    /// The default, or in a build with test hooks the `BackoffMs` hook's base in
    /// milliseconds (tests keep retries fast with it).
    pub fn from_env() -> RetryDelay {
        let default = RetryDelay::default();
        let Some(text) = crate::hooks::get(crate::hooks::Hook::BackoffMs) else {
            return default;
        };
        match text.trim().parse::<u64>() {
            Ok(ms) => {
                let base = Duration::from_millis(ms);
                RetryDelay {
                    base,
                    max: default.max.max(base),
                }
            }
            Err(_) => {
                tracing::warn!("ignoring the backoff hook {text:?}: not a number of milliseconds");
                default
            }
        }
    }

    /// The longest wait before retry `n`.
    pub fn cap(&self, retry: u32) -> Duration {
        let factor = 2u32.checked_pow(retry).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// A random wait before retry `n`.
    pub fn delay(&self, retry: u32) -> Duration {
        let cap = u64::try_from(self.cap(retry).as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rand::random_range(0..=cap))
    }
}

/// What the platform answered.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// The body as JSON, masked; `Null` when it is empty or not JSON.
    pub json: Value,
    /// The body as text, masked, cut after about 4 KiB.
    pub text: String,
    /// How many attempts it took.
    pub attempts: u32,
}

/// A call that did not get a successful answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// No answer at all: connection refused or reset, timeout, cut-off body.
    #[error("{method} {url}: {message} after {}", plural(*attempts, "attempt"))]
    Transport {
        method: String,
        url: String,
        message: String,
        attempts: u32,
        /// Some attempt got no complete answer within the call's timeout.
        timed_out: bool,
    },
    /// An answer with a status other than 2xx (a 5xx only after every retry).
    #[error("{method} {url}: {} after {}{}", status_line(*status), plural(*attempts, "attempt"), excerpt_suffix(body_excerpt))]
    Status {
        method: String,
        url: String,
        status: u16,
        body_excerpt: String,
        attempts: u32,
    },
    /// The call cannot be made as written (bad method, URL or header); nothing was sent.
    #[error("{method} {url}: invalid request: {message}")]
    Invalid {
        method: String,
        url: String,
        message: String,
    },
}

impl CallError {
    /// The status of the last answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            CallError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether some attempt waited the call's whole timeout for an answer.
    pub fn timed_out(&self) -> bool {
        matches!(
            self,
            CallError::Transport {
                timed_out: true,
                ..
            }
        )
    }

    /// How many attempts were made (0 when nothing could be sent).
    pub fn attempts(&self) -> u32 {
        match self {
            CallError::Transport { attempts, .. } | CallError::Status { attempts, .. } => *attempts,
            CallError::Invalid { .. } => 0,
        }
    }
}

fn plural(n: u32, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
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

fn excerpt_suffix(excerpt: &str) -> String {
    if excerpt.is_empty() {
        String::new()
    } else {
        format!(": {excerpt}")
    }
}

/// A short one-line excerpt of an answer for error messages.
fn excerpt(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    secrets::head(&line, EXCERPT_MAX)
}

/// Everything needed to send one attempt, checked once before the first.
struct ReadyRequest {
    method: reqwest::Method,
    url: reqwest::Url,
    headers: HeaderMap,
    body: Option<Vec<u8>>,
    /// Method and URL as error messages show them (masked).
    shown_method: String,
    shown_url: String,
}

fn prepare(call: &Call, secrets: &Secrets) -> Result<ReadyRequest, CallError> {
    let shown_method = secrets.mask(&call.method.to_ascii_uppercase());
    let shown_url = secrets.mask(&call.url);
    let invalid = |message: String| CallError::Invalid {
        method: shown_method.clone(),
        url: shown_url.clone(),
        message: secrets.mask(&message),
    };
    let method = reqwest::Method::from_bytes(call.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| invalid(format!("`{}` is not an HTTP method", call.method)))?;
    let url = reqwest::Url::parse(&call.url).map_err(|e| invalid(format!("bad URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "unsupported scheme `{}` (use http or https)",
            url.scheme()
        )));
    }
    let mut headers = HeaderMap::new();
    for (name, value) in &call.headers {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| invalid(format!("`{name}` is not a valid header name")))?;
        // The value is never quoted: it may hold a credential.
        let value = HeaderValue::from_str(value).map_err(|_| {
            invalid(format!(
                "the value of header `{name}` is not valid in a header"
            ))
        })?;
        headers.append(header, value);
    }
    if let Some(key) = &call.idempotency_key {
        let value = HeaderValue::from_str(key).map_err(|_| {
            invalid(format!(
                "the idempotency key `{key}` is not valid in a header"
            ))
        })?;
        headers.insert("idempotency-key", value);
    }
    let body = match &call.body {
        Some(body) => {
            if !headers.contains_key(reqwest::header::CONTENT_TYPE) {
                headers.insert(
                    reqwest::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
            }
            Some(
                serde_json::to_vec(body)
                    .map_err(|e| invalid(format!("the body is not JSON: {e}")))?,
            )
        }
        None => None,
    };
    Ok(ReadyRequest {
        method,
        url,
        headers,
        body,
        shown_method,
        shown_url,
    })
}

/// One attempt's answer: the status and (up to `BODY_MAX` of) the body.
struct Answer {
    status: u16,
    body: Vec<u8>,
    /// The body was longer than what was read.
    cut: bool,
}

/// Why an attempt got no answer; `retry` is false when trying again cannot help.
struct NoAnswer {
    message: String,
    retry: bool,
    /// Nothing (or not all of it) came back within the call's timeout.
    timed_out: bool,
}

async fn attempt(
    client: &reqwest::Client,
    prepared: &ReadyRequest,
    timeout: Duration,
) -> Result<Answer, NoAnswer> {
    let mut request = client
        .request(prepared.method.clone(), prepared.url.clone())
        .headers(prepared.headers.clone())
        .timeout(timeout);
    if let Some(body) = &prepared.body {
        request = request.body(body.clone());
    }
    let exchange = async {
        let mut response = request.send().await.map_err(|e| no_answer(e, timeout))?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        let mut cut = false;
        while let Some(chunk) = response.chunk().await.map_err(|e| no_answer(e, timeout))? {
            let room = BODY_MAX - body.len();
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                cut = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer { status, body, cut })
    };
    // reqwest's own timeout covers the body too; this one makes sure of it.
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or_else(|_| Err(timed_out(timeout)))
}

fn timed_out(timeout: Duration) -> NoAnswer {
    NoAnswer {
        message: format!("no complete answer within {}", duration::format(timeout)),
        retry: true,
        timed_out: true,
    }
}

fn no_answer(err: reqwest::Error, timeout: Duration) -> NoAnswer {
    if err.is_timeout() {
        return timed_out(timeout);
    }
    let retry = !(err.is_builder() || err.is_redirect());
    NoAnswer {
        message: error_chain(err),
        retry,
        timed_out: false,
    }
}

/// A request error and its causes, without the URL: "error sending request: client
/// error (Connect): tcp connect error: Connection refused (os error 111)".
pub fn error_chain(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut parts = vec![err.to_string()];
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        let text = cause.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

fn into_response(answer: Answer, attempts: u32, secrets: &Secrets) -> Response {
    let long = answer.body.len() > TEXT_MAX || answer.cut;
    let shown = &answer.body[..answer.body.len().min(TEXT_MAX)];
    let mut text = crate::text::visible(&secrets.mask_excerpt(shown, false, long)).into_owned();
    if long {
        text.push('…');
    }
    let json = if answer.cut || answer.body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(&answer.body).map_or(Value::Null, |v| secrets.mask_json(&v))
    };
    Response {
        status: answer.status,
        json,
        text,
        attempts,
    }
}

/// Sends a call, retrying transport errors, timeouts and 5xx up to `call.retries` times
/// with `backoff` between attempts. A 2xx is `Ok`; any other status is an error (a 4xx
/// at once, without retrying).
pub async fn send(
    client: &reqwest::Client,
    call: &Call,
    backoff: &RetryDelay,
    secrets: &Secrets,
) -> Result<Response, CallError> {
    let prepared = prepare(call, secrets)?;
    let most = call.retries.saturating_add(1);
    let mut attempts = 0;
    let mut timed_out = false;
    loop {
        attempts += 1;
        let (error, retry) = match attempt(client, &prepared, call.timeout).await {
            Ok(answer) if (200..300).contains(&answer.status) => {
                return Ok(into_response(answer, attempts, secrets));
            }
            Ok(answer) => {
                let retry = answer.status >= 500;
                let response = into_response(answer, attempts, secrets);
                let error = CallError::Status {
                    method: prepared.shown_method.clone(),
                    url: prepared.shown_url.clone(),
                    status: response.status,
                    body_excerpt: excerpt(&response.text),
                    attempts,
                };
                (error, retry)
            }
            Err(no) => {
                timed_out |= no.timed_out;
                let error = CallError::Transport {
                    method: prepared.shown_method.clone(),
                    url: prepared.shown_url.clone(),
                    message: secrets.mask(&no.message),
                    attempts,
                    timed_out,
                };
                (error, no.retry)
            }
        };
        if !retry || attempts >= most {
            return Err(error);
        }
        let delay = backoff.delay(attempts - 1);
        tracing::debug!(
            "{} {}: attempt {attempts} of {most} failed, retrying in {}: {error}",
            prepared.shown_method,
            prepared.shown_url,
            duration::format(delay)
        );
        tokio::time::sleep(delay).await;
    }
}

/// Polling a deployment until it is ready, templates already rendered.
#[derive(Debug, Clone)]
pub struct WaitCall {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub interval: Duration,
    pub timeout: Duration,
    /// jq: true when the deployment is done.
    pub success: String,
    /// jq: true when the deployment has failed.
    pub failure: Option<String>,
}

/// A wait that did not end in success.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WaitError {
    /// The `failure` expression was true.
    #[error("{method} {url}: `{expr}` is true after {}: {}", plural(*polls, "poll"), excerpt(body))]
    Failed {
        method: String,
        url: String,
        expr: String,
        /// The masked body of the last answer.
        body: String,
        polls: u32,
    },
    /// `success` did not become true in time.
    #[error("{method} {url}: `{success}` still not true after {} ({}); last: {last}", duration::format(*elapsed), plural(*polls, "poll"))]
    Timeout {
        method: String,
        url: String,
        success: String,
        elapsed: Duration,
        polls: u32,
        /// The last answer (status and excerpt) or transport error, masked.
        last: String,
    },
    /// A 4xx (or another answer that polling again cannot change), or an invalid request.
    #[error(transparent)]
    Call(CallError),
    /// A `success` or `failure` expression could not be evaluated on an answer.
    #[error("{method} {url}: {message}")]
    Expression {
        method: String,
        url: String,
        message: String,
    },
}

/// Polls every `interval` until `success` is true (the last answer), `failure` is true,
/// or `timeout` has passed. Transport errors and 5xx are polled through (waiting at least
/// the backoff after each); any other non-2xx ends the wait at once.
pub async fn wait(
    client: &reqwest::Client,
    w: &WaitCall,
    backoff: &RetryDelay,
    secrets: &Secrets,
) -> Result<Response, WaitError> {
    let start = Instant::now();
    // The plan keeps `timeout` within a day; a longer one waits a century.
    let deadline = start
        .checked_add(w.timeout)
        .unwrap_or_else(|| Instant::from_std(crate::duration::deadline(w.timeout)));
    let shown_method = secrets.mask(&w.method.to_ascii_uppercase());
    let shown_url = secrets.mask(&w.url);
    let mut polls = 0;
    let mut errors_in_a_row = 0;
    let mut last = String::from("no answer yet");
    let mut answered = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(WaitError::Timeout {
                method: shown_method,
                url: shown_url,
                success: w.success.clone(),
                elapsed: start.elapsed(),
                polls,
                last,
            });
        }
        polls += 1;
        let call = Call {
            method: w.method.clone(),
            url: w.url.clone(),
            headers: w.headers.clone(),
            body: None,
            timeout: left.min(POLL_TIMEOUT),
            retries: 0,
            idempotency_key: None,
        };
        let mut pause = w.interval;
        match send(client, &call, backoff, secrets).await {
            Ok(response) => {
                errors_in_a_row = 0;
                let expression_error = |message: String| WaitError::Expression {
                    method: shown_method.clone(),
                    url: shown_url.clone(),
                    message: secrets.mask(&message),
                };
                if let Some(expr) = &w.failure
                    && jq::eval_bool(expr, &response.json).map_err(expression_error)?
                {
                    return Err(WaitError::Failed {
                        method: shown_method,
                        url: shown_url,
                        expr: expr.clone(),
                        body: response.text,
                        polls,
                    });
                }
                if jq::eval_bool(&w.success, &response.json).map_err(expression_error)? {
                    return Ok(response);
                }
                last = format!(
                    "{}: {}",
                    status_line(response.status),
                    excerpt(&response.text)
                );
                answered = true;
            }
            Err(error) => {
                let transient = match &error {
                    CallError::Transport { .. } => true,
                    CallError::Status { status, .. } => *status >= 500,
                    CallError::Invalid { .. } => false,
                };
                if !transient {
                    return Err(WaitError::Call(error));
                }
                errors_in_a_row += 1;
                pause = pause.max(backoff.delay(errors_in_a_row - 1));
                tracing::debug!("still waiting: {error}");
                // A poll cut short by the deadline says less than the answer before it.
                if !(answered && Instant::now() >= deadline) {
                    last = error.to_string();
                }
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        tokio::time::sleep(pause.min(left)).await;
    }
}

/// Checks that the digest the platform reports running (jq `expr` on its answer) is the
/// expected one. `name@sha256:…` and a bare hex digest are accepted as the same digest.
pub fn verify_digest(expr: &str, response: &Value, expected: &str) -> Result<(), String> {
    let reported = jq::eval_string(expr, response)
        .map_err(|e| format!("cannot read the running digest from the platform's answer: {e}"))?;
    if normalize_digest(&reported) == normalize_digest(expected) {
        Ok(())
    } else {
        Err(format!(
            "the platform reports {} running, expected {}",
            crate::text::visible(reported.trim()),
            expected.trim()
        ))
    }
}

fn normalize_digest(text: &str) -> String {
    let text = text.trim();
    let digest = text.rsplit_once('@').map_or(text, |(_, d)| d);
    let digest = digest.to_ascii_lowercase();
    if digest.contains(':') {
        digest
    } else {
        format!("sha256:{digest}")
    }
}

/// The verdict on an `http` step's answer: it must be 2xx, and `expr` (jq), when given,
/// must be true on its JSON.
pub fn check_success(expr: Option<&str>, response: &Response) -> Result<(), String> {
    if !(200..300).contains(&response.status) {
        return Err(format!(
            "the answer is {}, not 2xx{}",
            status_line(response.status),
            excerpt_suffix(&excerpt(&response.text))
        ));
    }
    let Some(expr) = expr else {
        return Ok(());
    };
    if jq::eval_bool(expr, &response.json)? {
        Ok(())
    } else {
        Err(format!(
            "`{expr}` is not true for the answer{}",
            excerpt_suffix(&excerpt(&response.text))
        ))
    }
}

#[cfg(test)]
mod tests;
