//! A stand-in for the user's deploy platform: an HTTP server on a loopback port that
//! records every request and answers like a simple deploy API. Tests script its faults.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use serde_json::{Value, json};

/// One request the platform received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: BTreeMap<String, String>,
    pub body: Value,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

#[derive(Default)]
struct Inner {
    requests: Vec<Request>,
    /// Per environment: the image running and its weight.
    running: BTreeMap<String, (String, u64)>,
    /// Scripted answers for the next deploy calls: a status each (200 means "behave").
    deploy_faults: VecDeque<u16>,
    /// When set, deployments report this digest instead of the deployed one.
    wrong_digest: Option<String>,
    /// When set, deployments stay "rolling" forever.
    never_ready: bool,
    flags: BTreeMap<String, Value>,
    /// What `/echo/{status}` was last asked to echo.
    echo: String,
    /// What `/stats/{version}` answers, per version (the http metric provider's source).
    stats: BTreeMap<String, Value>,
    /// When set, deploy answers give this `id` instead of the environment's name.
    answer_id: Option<String>,
    /// Scripted raw answers (status, body bytes) for the next deploy calls.
    raw_answers: VecDeque<(u16, Vec<u8>)>,
    /// When set, a deploy whose `Idempotency-Key` was seen before gets the answer it got
    /// then and changes nothing, as a platform that honours the header does.
    honour_keys: bool,
    /// The answers given per key (kept only when `honour_keys`).
    answered: BTreeMap<String, Value>,
    /// The deploys the platform carried out, as (environment, image, weight).
    applied: Vec<(String, String, u64)>,
    /// Deploys to these paths (`/deploy/{env}`) fail once each with the status given.
    fail_once_at: BTreeMap<String, u16>,
    /// How long each deploy call takes to answer (`slow_deploys`).
    deploy_delay: std::time::Duration,
    /// Deploy calls being answered now, and the most there ever were at once.
    deploys_now: usize,
    deploys_most: usize,
}

#[derive(Clone)]
pub struct Platform {
    inner: Arc<Mutex<Inner>>,
    pub addr: SocketAddr,
    _runtime: Arc<tokio::runtime::Runtime>,
}

impl Platform {
    pub fn start() -> Platform {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for the platform double");
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/deploy/{env}", any(deploy))
            .route("/deployments/{env}", get(deployment))
            .route("/flags/{name}", any(flag))
            .route("/stats/{version}", get(stats))
            .route("/hooks/{name}", any(hook))
            .route("/echo/{status}", any(echo))
            .fallback(fallback)
            .with_state(inner.clone());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("the bound address");
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Platform {
            inner,
            addr,
            _runtime: Arc::new(runtime),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.lock().requests.clone()
    }

    /// The deploy calls, as (environment, image, weight).
    pub fn deploys(&self) -> Vec<(String, String, u64)> {
        self.requests()
            .iter()
            .filter(|r| r.path.starts_with("/deploy/"))
            .map(|r| {
                (
                    r.path.trim_start_matches("/deploy/").to_string(),
                    r.body["image"].as_str().unwrap_or_default().to_string(),
                    r.body["weight"].as_u64().unwrap_or(0),
                )
            })
            .collect()
    }

    pub fn running(&self, env: &str) -> Option<(String, u64)> {
        self.lock().running.get(env).cloned()
    }

    pub fn flag(&self, name: &str) -> Option<Value> {
        self.lock().flags.get(name).cloned()
    }

    pub fn set_stats(&self, version: &str, value: Value) {
        self.lock().stats.insert(version.to_string(), value);
    }

    /// The bodies posted to the notify hook `/hooks/{name}`, in order.
    pub fn hook_bodies(&self, name: &str) -> Vec<Value> {
        let path = format!("/hooks/{name}");
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .map(|r| r.body)
            .collect()
    }

    pub fn fail_next_deploys(&self, statuses: &[u16]) {
        self.lock().deploy_faults.extend(statuses.iter().copied());
    }

    pub fn report_digest(&self, digest: &str) {
        self.lock().wrong_digest = Some(digest.to_string());
    }

    /// Back to reporting the digest that really runs (after `report_digest`).
    pub fn report_true_digest(&self) {
        self.lock().wrong_digest = None;
    }

    pub fn never_ready(&self) {
        self.lock().never_ready = true;
    }

    /// Deployments become ready again (after `never_ready`).
    pub fn ready_again(&self) {
        self.lock().never_ready = false;
    }

    /// Deploy answers say `"id": id` (what a plan's `response.id` then holds).
    pub fn answer_id(&self, id: &str) {
        self.lock().answer_id = Some(id.to_string());
    }

    /// The next deploy call is answered `status` with exactly `body`, whatever bytes it
    /// holds (a NUL, a terminal escape), and changes nothing.
    pub fn answer_next_deploy_raw(&self, status: u16, body: &[u8]) {
        self.lock().raw_answers.push_back((status, body.to_vec()));
    }

    /// From now on, answer a deploy whose `Idempotency-Key` was seen before from the
    /// first answer, without deploying again.
    pub fn honour_idempotency_keys(&self) {
        self.lock().honour_keys = true;
    }

    /// The deploys carried out (not those answered from a known key), as (environment,
    /// image, weight).
    pub fn applied(&self) -> Vec<(String, String, u64)> {
        self.lock().applied.clone()
    }

    /// The next deploy to `/deploy/{env}` fails with `status`; later ones behave.
    pub fn fail_next_deploy_to(&self, env: &str, status: u16) {
        self.lock().fail_once_at.insert(env.to_string(), status);
    }

    /// Every deploy call takes `delay` to answer, as a real platform takes time to act:
    /// long enough for calls made at once to overlap.
    pub fn slow_deploys(&self, delay: std::time::Duration) {
        self.lock().deploy_delay = delay;
    }

    /// The most deploy calls the platform was answering at one time.
    pub fn most_concurrent_deploys(&self) -> usize {
        self.lock().deploys_most
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

type Shared = Arc<Mutex<Inner>>;

fn remember(state: &Shared, method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) {
    let request = Request {
        method: method.to_string(),
        path: uri.path().to_string(),
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    v.to_str().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        body: serde_json::from_slice(body).unwrap_or(Value::Null),
    };
    state
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .requests
        .push(request);
}

fn digest_of(image: &str) -> String {
    image
        .rsplit_once('@')
        .map(|(_, d)| d.to_string())
        .unwrap_or_default()
}

async fn deploy(
    State(state): State<Shared>,
    Path(env): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    remember(&state, &method, &uri, &headers, &body);
    let delay = {
        let mut inner = state.lock().unwrap_or_else(|e| e.into_inner());
        inner.deploys_now += 1;
        inner.deploys_most = inner.deploys_most.max(inner.deploys_now);
        inner.deploy_delay
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let response = answer_deploy(&state, env, &headers, &body);
    state.lock().unwrap_or_else(|e| e.into_inner()).deploys_now -= 1;
    response
}

fn answer_deploy(state: &Shared, env: String, headers: &HeaderMap, body: &Bytes) -> Response {
    let mut inner = state.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((status, raw)) = inner.raw_answers.pop_front() {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (code, raw).into_response();
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .filter(|_| inner.honour_keys);
    if let Some(answer) = key.as_ref().and_then(|k| inner.answered.get(k)) {
        return Json(answer.clone()).into_response();
    }
    let fault = match inner.fail_once_at.remove(&env) {
        Some(status) => Some(status),
        None => inner.deploy_faults.pop_front(),
    };
    if let Some(status) = fault
        && status != 200
    {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (code, Json(json!({ "error": "scripted fault" }))).into_response();
    }
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let image = body["image"].as_str().unwrap_or_default().to_string();
    let weight = body["weight"].as_u64().unwrap_or(100);
    inner.running.insert(env.clone(), (image.clone(), weight));
    inner.applied.push((env.clone(), image.clone(), weight));
    let digest = inner
        .wrong_digest
        .clone()
        .unwrap_or_else(|| digest_of(&image));
    let state_name = if inner.never_ready {
        "rolling"
    } else {
        "ready"
    };
    let id = inner.answer_id.clone().unwrap_or(env);
    let answer = json!({ "id": id, "state": state_name, "digest": digest });
    if let Some(key) = key {
        inner.answered.insert(key, answer.clone());
    }
    Json(answer).into_response()
}

async fn deployment(
    State(state): State<Shared>,
    Path(env): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    remember(&state, &method, &uri, &headers, &Bytes::new());
    let inner = state.lock().unwrap_or_else(|e| e.into_inner());
    let image = inner
        .running
        .get(&env)
        .map(|(i, _)| i.clone())
        .unwrap_or_default();
    let digest = inner
        .wrong_digest
        .clone()
        .unwrap_or_else(|| digest_of(&image));
    let state_name = if inner.never_ready {
        "rolling"
    } else {
        "ready"
    };
    Json(json!({ "id": env, "state": state_name, "digest": digest })).into_response()
}

async fn flag(
    State(state): State<Shared>,
    Path(name): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    remember(&state, &method, &uri, &headers, &body);
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut inner = state.lock().unwrap_or_else(|e| e.into_inner());
    inner.flags.insert(name, value.clone());
    Json(value).into_response()
}

async fn fallback(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    remember(&state, &method, &uri, &headers, &body);
    (StatusCode::NOT_FOUND, "no such endpoint").into_response()
}

async fn stats(
    State(state): State<Shared>,
    Path(version): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    remember(&state, &method, &uri, &headers, &Bytes::new());
    let inner = state.lock().unwrap_or_else(|e| e.into_inner());
    match inner.stats.get(&version) {
        Some(value) => Json(value.clone()).into_response(),
        None => (StatusCode::NOT_FOUND, "no stats").into_response(),
    }
}

/// A notify hook: records what it is told. `/hooks/broken` answers 500.
async fn hook(
    State(state): State<Shared>,
    Path(name): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    remember(&state, &method, &uri, &headers, &body);
    if name == "broken" {
        return (StatusCode::INTERNAL_SERVER_ERROR, "hook down").into_response();
    }
    StatusCode::NO_CONTENT.into_response()
}

/// A platform that echoes the request back, as error pages, redirects and status
/// endpoints do: `/echo/{status}` answers `status` with a JSON body that quotes the
/// request body's `echo` field (or the query's) in every encoding a platform might use (see `echoed`).
async fn echo(
    State(state): State<Shared>,
    Path(status): Path<u16>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    remember(&state, &method, &uri, &headers, &body);
    let sent: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let value = {
        let mut inner = state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(value) = sent["echo"].as_str() {
            inner.echo = value.to_string();
        }
        inner.echo.clone()
    };
    let mut quoted: Vec<String> = echoed(&value)
        .into_iter()
        .map(|(how, text)| format!("\"{how}\":\"{text}\""))
        .collect();
    // The URL as it arrived: the client percent-encoded what needs it.
    if let Some(query) = uri.query() {
        quoted.push(format!("\"query\":{}", json!(query)));
    }
    let body = format!("{{\"state\":\"failed\",{}}}", quoted.join(","));
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (code, [("content-type", "application/json")], body).into_response()
}

/// `value` as a platform may echo it, by encoding, each as it appears inside a JSON
/// string: JSON-escaped, all `\u` escapes, JSON escaped twice, percent-encoded (upper
/// and lower hex), form-encoded, base64, base64url without padding, and inside a Basic
/// `Authorization` header's credentials.
pub fn echoed(value: &str) -> Vec<(&'static str, String)> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let json = |text: &str| {
        let quoted = serde_json::to_string(text).unwrap_or_default();
        quoted[1..quoted.len() - 1].to_string()
    };
    let percent = |lower: bool, form: bool| {
        value
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    char::from(b).to_string()
                }
                b' ' if form => "+".to_string(),
                _ if lower => format!("%{b:02x}"),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    let unicode: String = value
        .encode_utf16()
        .map(|u| format!("\\u{u:04x}"))
        .collect();
    vec![
        ("json", json(value)),
        ("unicode", unicode),
        ("json_twice", json(&json(value))),
        ("percent", percent(false, false)),
        ("percent_lower", percent(true, false)),
        ("form", percent(false, true)),
        ("base64", STANDARD.encode(value)),
        ("base64url", URL_SAFE_NO_PAD.encode(value)),
        (
            "basic",
            format!("Basic {}", STANDARD.encode(format!("deployer:{value}"))),
        ),
    ]
}
