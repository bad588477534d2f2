//! Unit tests of the HTTP provider: calls, retries, polling and masking against local servers.

use std::sync::{Arc, Mutex};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;

/// A request as the test server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

enum Reply {
    /// Status, content type, body.
    Send(u16, &'static str, String),
    /// Never answer; hold the connection until the client gives up.
    Hang,
    /// Promise a longer body than is sent, then close.
    CutBody,
}

fn json_reply(status: u16, body: Value) -> Reply {
    Reply::Send(status, "application/json", body.to_string())
}

type Handler = dyn Fn(usize, &Seen) -> Reply + Send + Sync;

/// A loopback HTTP/1.1 server answering each request by its number (from 1), one
/// connection per request, recording what it saw.
struct Server {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    async fn start(handler: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(handle(stream, log.clone(), handler.clone()));
            }
        });
        Server { url, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn handle(mut stream: TcpStream, log: Arc<Mutex<Vec<Seen>>>, handler: Arc<Handler>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_string();
    let target = first.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let seen = Seen {
        method,
        target,
        headers,
        body: buf[head_end..head_end + length].to_vec(),
    };
    let n = {
        let mut log = log.lock().unwrap();
        log.push(seen.clone());
        log.len()
    };
    match handler(n, &seen) {
        Reply::Send(status, content_type, body) => {
            let text = format!(
                "HTTP/1.1 {status} Test\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(text.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
        Reply::Hang => while matches!(stream.read(&mut chunk).await, Ok(n) if n > 0) {},
        Reply::CutBody => {
            let text = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"state\":";
            let _ = stream.write_all(text.as_bytes()).await;
            let _ = stream.flush().await;
        }
    }
}

fn client() -> reqwest::Client {
    builder().no_proxy().build().unwrap()
}

const FAST: RetryDelay = RetryDelay {
    base: Duration::from_millis(1),
    max: Duration::from_millis(5),
};

fn call(url: &str, retries: u32) -> Call {
    Call {
        method: "POST".into(),
        url: url.into(),
        headers: vec![],
        body: Some(json!({"image": "app@sha256:ab"})),
        timeout: Duration::from_secs(5),
        retries,
        idempotency_key: Some("checkout-abc/staging/0".into()),
    }
}

fn none() -> Secrets {
    Secrets::default()
}

#[tokio::test]
async fn answers_json() {
    let server = Server::start(|_, _| json_reply(200, json!({"id": "d-1"}))).await;
    let url = format!("{}/apps/x", server.url);
    let response = send(&client(), &call(&url, 3), &FAST, &none())
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.json, json!({"id": "d-1"}));
    assert_eq!(response.attempts, 1);
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].target, "/apps/x");
    assert_eq!(seen[0].header("content-type"), Some("application/json"));
    assert_eq!(
        seen[0].header("idempotency-key"),
        Some("checkout-abc/staging/0")
    );
}

#[tokio::test]
async fn retries_5xx_with_the_same_idempotency_key() {
    let server = Server::start(|n, _| match n {
        1 | 2 => json_reply(503, json!({"error": "busy"})),
        _ => json_reply(200, json!({"ok": true})),
    })
    .await;
    let response = send(&client(), &call(&server.url, 3), &FAST, &none())
        .await
        .unwrap();
    assert_eq!(response.attempts, 3);
    let keys: Vec<_> = server
        .seen()
        .iter()
        .map(|s| s.header("idempotency-key").map(str::to_string))
        .collect();
    assert_eq!(keys, vec![Some("checkout-abc/staging/0".to_string()); 3]);
}

#[tokio::test]
async fn gives_up_on_5xx_after_every_retry() {
    let server = Server::start(|_, _| json_reply(500, json!({"error": "boom"}))).await;
    let url = format!("{}/deploy", server.url);
    let err = send(&client(), &call(&url, 2), &FAST, &none())
        .await
        .unwrap_err();
    assert_eq!(server.seen().len(), 3);
    assert_eq!(err.attempts(), 3);
    assert_eq!(err.status(), Some(500));
    assert_eq!(
        err.to_string(),
        format!(r#"POST {url}: 500 Internal Server Error after 3 attempts: {{"error":"boom"}}"#)
    );
}

#[tokio::test]
async fn fails_at_once_on_4xx() {
    let server = Server::start(|_, _| json_reply(404, json!({"error": "no such app"}))).await;
    let err = send(&client(), &call(&server.url, 3), &FAST, &none())
        .await
        .unwrap_err();
    assert_eq!(server.seen().len(), 1);
    assert_eq!(err.status(), Some(404));
    assert!(
        err.to_string().contains("404 Not Found after 1 attempt: "),
        "{err}"
    );
}

async fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/deploy", listener.local_addr().unwrap());
    drop(listener);
    url
}

#[tokio::test]
async fn retries_a_refused_connection() {
    let url = closed_port().await;
    let err = send(&client(), &call(&url, 2), &FAST, &none())
        .await
        .unwrap_err();
    let CallError::Transport { attempts, .. } = &err else {
        panic!("expected a transport error, got {err:?}");
    };
    assert_eq!(*attempts, 3);
    let text = err.to_string();
    assert!(text.starts_with(&format!("POST {url}: ")), "{text}");
    assert!(text.ends_with("after 3 attempts"), "{text}");
}

#[tokio::test]
async fn times_out_each_attempt() {
    let server = Server::start(|_, _| Reply::Hang).await;
    let mut c = call(&server.url, 1);
    c.timeout = Duration::from_millis(200);
    let err = send(&client(), &c, &FAST, &none()).await.unwrap_err();
    assert!(
        matches!(err, CallError::Transport { attempts: 2, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("no complete answer within 200ms"),
        "{err}"
    );
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn retries_a_body_cut_short() {
    let server = Server::start(|n, _| match n {
        1 => Reply::CutBody,
        _ => json_reply(200, json!({"state": "ready"})),
    })
    .await;
    let response = send(&client(), &call(&server.url, 2), &FAST, &none())
        .await
        .unwrap();
    assert_eq!(response.attempts, 2);
    assert_eq!(response.json, json!({"state": "ready"}));

    let server = Server::start(|_, _| Reply::CutBody).await;
    let err = send(&client(), &call(&server.url, 1), &FAST, &none())
        .await
        .unwrap_err();
    assert!(
        matches!(err, CallError::Transport { attempts: 2, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_is_null() {
    let server = Server::start(|n, _| match n {
        1 => Reply::Send(200, "text/plain", "hello <b>".into()),
        _ => Reply::Send(204, "text/plain", String::new()),
    })
    .await;
    let response = send(&client(), &call(&server.url, 0), &FAST, &none())
        .await
        .unwrap();
    assert_eq!(response.json, Value::Null);
    assert_eq!(response.text, "hello <b>");
    let response = send(&client(), &call(&server.url, 0), &FAST, &none())
        .await
        .unwrap();
    assert_eq!(
        (response.status, response.json, response.text.as_str()),
        (204, Value::Null, "")
    );
}

#[tokio::test]
async fn a_long_body_is_cut_in_text_but_parsed_whole() {
    let big = "x".repeat(10_000);
    let body = json!({"big": big});
    let server = Server::start(move |_, _| json_reply(200, body.clone())).await;
    let response = send(&client(), &call(&server.url, 0), &FAST, &none())
        .await
        .unwrap();
    assert_eq!(response.json["big"].as_str().map(str::len), Some(10_000));
    assert!(response.text.len() <= TEXT_MAX + '…'.len_utf8());
    assert!(response.text.ends_with('…'));
}

#[tokio::test]
async fn sends_the_body_as_is() {
    let server = Server::start(|_, seen| {
        Reply::Send(
            200,
            "application/json",
            String::from_utf8_lossy(&seen.body).to_string(),
        )
    })
    .await;
    let hostile = json!({
        "quote": "\"}, \"weight\": 100, \"x\": {\"",
        "newline": "a\r\nX-Injected: yes\r\n\r\n",
        "template": "{{ secret.TOKEN }}",
        "unicode": "é 漢字 \u{0} \u{1b}[31m",
        "nested": [1, 2.5, null, true, {"k": ["v"]}],
    });
    let mut c = call(&server.url, 0);
    c.body = Some(hostile.clone());
    let response = send(&client(), &c, &FAST, &none()).await.unwrap();
    let received: Value = serde_json::from_slice(&server.seen()[0].body).unwrap();
    assert_eq!(received, hostile);
    assert_eq!(response.json, hostile);
    assert_eq!(server.seen()[0].header("x-injected"), None);
}

const TOKEN: &str = "tok-9f8e7d6c5b4a";

fn with_token() -> Secrets {
    Secrets::from_values([("DEPLOY_TOKEN", TOKEN)])
}

fn call_with_token(url: &str) -> Call {
    let mut c = call(&format!("{url}/deploy?access={TOKEN}"), 1);
    c.headers = vec![
        ("Authorization".into(), format!("Bearer {TOKEN}")),
        ("X-Trace".into(), format!("trace-{TOKEN}")),
        ("X-Team".into(), "payments".into()),
    ];
    c.body = Some(json!({"token": TOKEN, "image": "app@sha256:ab"}));
    c
}

#[tokio::test]
async fn secrets_never_come_back() {
    let echo = |status: u16| {
        move |_: usize, seen: &Seen| {
            let auth = seen.header("authorization").unwrap_or("").to_string();
            json_reply(status, json!({"echo": auth, "target": seen.target}))
        }
    };
    let secrets = with_token();

    let server = Server::start(echo(200)).await;
    let c = call_with_token(&server.url);
    let response = send(&client(), &c, &FAST, &secrets).await.unwrap();
    assert_eq!(
        server.seen()[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert!(!response.text.contains(TOKEN), "{}", response.text);
    assert!(
        !response.json.to_string().contains(TOKEN),
        "{}",
        response.json
    );
    assert_eq!(response.json["echo"], "Bearer ***");

    let described = c.describe(&secrets);
    assert!(!described.to_string().contains(TOKEN), "{described}");
    assert_eq!(described["headers"]["Authorization"], "***");
    assert_eq!(described["headers"]["X-Trace"], "trace-***");
    assert_eq!(described["headers"]["X-Team"], "payments");
    assert_eq!(
        described["body"],
        json!({"token": "***", "image": "app@sha256:ab"})
    );
    assert_eq!(described["method"], "POST");
    assert!(
        described["url"]
            .as_str()
            .unwrap()
            .ends_with("/deploy?access=***")
    );

    let server = Server::start(echo(403)).await;
    let err = send(&client(), &call_with_token(&server.url), &FAST, &secrets)
        .await
        .unwrap_err();
    assert!(!err.to_string().contains(TOKEN), "{err}");
    assert!(!format!("{err:?}").contains(TOKEN), "{err:?}");

    let err = send(
        &client(),
        &call_with_token(&closed_port().await),
        &FAST,
        &secrets,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, CallError::Transport { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains(TOKEN), "{err}");
}

#[tokio::test]
async fn refuses_a_call_that_cannot_be_made() {
    let secrets = with_token();
    let mut c = call("http://127.0.0.1:9/x", 3);
    c.headers = vec![("Authorization".into(), format!("Bearer {TOKEN}\r\nX: y"))];
    let err = send(&client(), &c, &FAST, &secrets).await.unwrap_err();
    assert!(matches!(err, CallError::Invalid { .. }), "{err:?}");
    assert!(err.to_string().contains("header `Authorization`"), "{err}");
    assert!(!err.to_string().contains(TOKEN), "{err}");

    let c = Call {
        method: "GE T".into(),
        ..call("http://127.0.0.1:9/x", 0)
    };
    assert!(matches!(
        send(&client(), &c, &FAST, &secrets).await,
        Err(CallError::Invalid { .. })
    ));
    let c = call("ftp://127.0.0.1/x", 0);
    let err = send(&client(), &c, &FAST, &secrets).await.unwrap_err();
    assert!(
        err.to_string().contains("unsupported scheme `ftp`"),
        "{err}"
    );
    assert_eq!(err.attempts(), 0);
}

#[test]
fn backoff_grows_and_stays_under_its_cap() {
    let b = RetryDelay::default();
    assert_eq!(b.cap(0), Duration::from_millis(500));
    assert_eq!(b.cap(1), Duration::from_secs(1));
    assert_eq!(b.cap(3), Duration::from_secs(4));
    assert_eq!(b.cap(5), Duration::from_secs(10));
    assert_eq!(b.cap(100), Duration::from_secs(10));
    for n in 0..40 {
        assert!(b.delay(n) <= b.cap(n));
    }
}

fn wait_call(url: &str) -> WaitCall {
    WaitCall {
        method: "GET".into(),
        url: url.into(),
        headers: vec![],
        interval: Duration::from_millis(5),
        timeout: Duration::from_secs(20),
        success: r#".state == "ready""#.into(),
        failure: Some(r#".state == "failed""#.into()),
    }
}

#[tokio::test]
async fn waits_until_ready_through_server_errors() {
    let server = Server::start(|n, _| match n {
        1 => json_reply(200, json!({"state": "pending"})),
        2 => json_reply(503, json!({})),
        3 => Reply::CutBody,
        4 => json_reply(200, json!({"state": "pending"})),
        _ => json_reply(200, json!({"state": "ready", "digest": "sha256:ab"})),
    })
    .await;
    let response = wait(&client(), &wait_call(&server.url), &FAST, &none())
        .await
        .unwrap();
    assert_eq!(response.json["state"], "ready");
    assert_eq!(server.seen().len(), 5);
    assert!(server.seen().iter().all(|s| s.method == "GET"));
}

#[tokio::test]
async fn stops_when_the_failure_expression_is_true() {
    let server = Server::start(|n, _| match n {
        1 => json_reply(200, json!({"state": "pending"})),
        _ => json_reply(200, json!({"state": "failed", "reason": "crashloop"})),
    })
    .await;
    let err = wait(&client(), &wait_call(&server.url), &FAST, &none())
        .await
        .unwrap_err();
    let WaitError::Failed { polls, body, .. } = &err else {
        panic!("expected Failed, got {err:?}");
    };
    assert_eq!(*polls, 2);
    assert!(body.contains("crashloop"));
    assert!(
        err.to_string()
            .contains(r#"`.state == "failed"` is true after 2 polls"#),
        "{err}"
    );
}

#[tokio::test]
async fn times_out_with_the_last_state() {
    let server = Server::start(|_, _| json_reply(200, json!({"state": "pending"}))).await;
    let mut w = wait_call(&server.url);
    w.timeout = Duration::from_millis(100);
    let err = wait(&client(), &w, &FAST, &none()).await.unwrap_err();
    let WaitError::Timeout { polls, last, .. } = &err else {
        panic!("expected Timeout, got {err:?}");
    };
    assert!(*polls >= 1);
    assert!(!server.seen().is_empty());
    assert_eq!(last, r#"200 OK: {"state":"pending"}"#);
    assert!(
        err.to_string()
            .contains(r#"`.state == "ready"` still not true after"#),
        "{err}"
    );
}

#[tokio::test]
async fn times_out_when_the_platform_never_answers() {
    let server = Server::start(|_, _| Reply::Hang).await;
    let mut w = wait_call(&server.url);
    w.timeout = Duration::from_millis(150);
    let err = wait(&client(), &w, &FAST, &none()).await.unwrap_err();
    assert!(matches!(err, WaitError::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("no complete answer"), "{err}");
}

#[tokio::test]
async fn a_4xx_while_waiting_ends_the_wait() {
    let server = Server::start(|_, _| json_reply(404, json!({"error": "gone"}))).await;
    let err = wait(&client(), &wait_call(&server.url), &FAST, &none())
        .await
        .unwrap_err();
    assert!(
        matches!(err, WaitError::Call(CallError::Status { status: 404, .. })),
        "{err:?}"
    );
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn a_success_expression_that_is_not_boolean_is_an_error() {
    let server = Server::start(|_, _| json_reply(200, json!({"state": "ready"}))).await;
    let mut w = wait_call(&server.url);
    w.success = ".state".into();
    let err = wait(&client(), &w, &FAST, &none()).await.unwrap_err();
    assert!(matches!(err, WaitError::Expression { .. }), "{err:?}");
}

#[test]
fn verifies_the_running_digest() {
    let digest = format!("sha256:{}", "a".repeat(64));
    let other = format!("sha256:{}", "b".repeat(64));
    assert_eq!(
        verify_digest(".digest", &json!({"digest": digest}), &digest),
        Ok(())
    );
    let qualified = json!({"image": format!("ghcr.io/acme/checkout@{digest}")});
    assert_eq!(verify_digest(".image", &qualified, &digest), Ok(()));
    assert_eq!(
        verify_digest(".digest", &json!({"digest": other}), &digest),
        Err(format!(
            "the platform reports {other} running, expected {digest}"
        ))
    );
    let err = verify_digest(".digest", &json!({}), &digest).unwrap_err();
    assert!(err.starts_with("cannot read the running digest"), "{err}");
    // A reported digest is the platform's text: shown, never acted on by a terminal.
    let err = verify_digest(".digest", &json!({"digest": "\u{1b}[2J"}), &digest).unwrap_err();
    assert!(
        err.starts_with(r"the platform reports \x1b[2J running"),
        "{err}"
    );
}

fn answer(status: u16, json: Value) -> Response {
    Response {
        status,
        text: json.to_string(),
        json,
        attempts: 1,
    }
}

#[test]
fn checks_an_http_step_answer() {
    assert_eq!(check_success(None, &answer(204, Value::Null)), Ok(()));
    let on = answer(200, json!({"enabled": true}));
    assert_eq!(check_success(Some(".enabled == true"), &on), Ok(()));
    let off = answer(200, json!({"enabled": false}));
    let err = check_success(Some(".enabled == true"), &off).unwrap_err();
    assert_eq!(
        err,
        r#"`.enabled == true` is not true for the answer: {"enabled":false}"#
    );
    let err = check_success(None, &answer(409, json!({"error": "conflict"}))).unwrap_err();
    assert!(
        err.starts_with("the answer is 409 Conflict, not 2xx"),
        "{err}"
    );
}
