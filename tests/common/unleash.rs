//! The real Unleash the flag tests drive. tests/run starts one for the whole run
//! (`tests/unleash start`: PostgreSQL in a temp directory and unleash-server from npm)
//! and exports where it is; every test uses that one server and keeps to flags of its
//! own, made with `Unleash::new_flag`. Without it a test fails saying how to start one:
//! this suite never skips.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

const URL: &str = "RELCTL_TEST_UNLEASH_URL";
const ADMIN: &str = "RELCTL_TEST_UNLEASH_ADMIN_TOKEN";
const CLIENT: &str = "RELCTL_TEST_UNLEASH_CLIENT_TOKEN";

/// The Unleash environment the client token reads, and the project the flags are in.
pub const ENVIRONMENT: &str = "production";
pub const PROJECT: &str = "default";

pub struct Unleash {
    pub url: String,
    /// An admin token (what relctl's provider is given, as a secret).
    pub admin: String,
    /// A backend token for `ENVIRONMENT`: what an application's SDK reads flags with.
    pub client: String,
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "the flag tests need the real Unleash that tests/run starts, and {name} is not set: \
             run the suite with tests/run, or start one by hand with \
             `eval \"$(tests/unleash start)\"` (and `tests/unleash stop \"$RELCTL_TEST_UNLEASH_DIR\"` after)"
        )
    })
}

impl Unleash {
    /// The server tests/run started.
    pub fn shared() -> Unleash {
        Unleash {
            url: var(URL),
            admin: var(ADMIN),
            client: var(CLIENT),
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime"),
            http: relctl::providers::http::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("an HTTP client"),
        }
    }

    fn send(&self, method: reqwest::Method, path: &str, token: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.url);
        self.runtime.block_on(async {
            let mut request = self
                .http
                .request(method.clone(), &url)
                .header("Authorization", token);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request
                .send()
                .await
                .unwrap_or_else(|e| panic!("{method} {url}: Unleash did not answer: {e}"));
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            assert!(status.is_success(), "{method} {url}: HTTP {status}: {text}");
            serde_json::from_str(&text).unwrap_or(Value::Null)
        })
    }

    fn admin_call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.send(method, path, &self.admin, body)
    }

    /// A new flag of its own for one test (`prefix` and a suffix no other test has), off
    /// and without strategies everywhere.
    pub fn new_flag(&self, prefix: &str) -> String {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let name = format!(
            "{prefix}-{}-{}-{nanos}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        self.admin_call(
            reqwest::Method::POST,
            &format!("/api/admin/projects/{PROJECT}/features"),
            Some(json!({ "name": name, "type": "release" })),
        );
        name
    }

    /// Adds a strategy to `flag` in `ENVIRONMENT`, as a person would in Unleash's UI.
    pub fn add_strategy(&self, flag: &str, strategy: Value) {
        self.admin_call(
            reqwest::Method::POST,
            &format!("/api/admin/projects/{PROJECT}/features/{flag}/environments/{ENVIRONMENT}/strategies"),
            Some(strategy),
        );
    }

    /// Archives `flag`, as a person would when it is done with.
    pub fn archive(&self, flag: &str) {
        self.admin_call(
            reqwest::Method::DELETE,
            &format!("/api/admin/projects/{PROJECT}/features/{flag}"),
            None,
        );
    }

    /// Turns `flag` on or off in `ENVIRONMENT`.
    pub fn switch(&self, flag: &str, on: bool) {
        let what = if on { "on" } else { "off" };
        self.admin_call(
            reqwest::Method::POST,
            &format!(
                "/api/admin/projects/{PROJECT}/features/{flag}/environments/{ENVIRONMENT}/{what}"
            ),
            None,
        );
    }

    /// The flag as an application's SDK sees it: Unleash's client API, read with the
    /// backend token (`enabled` and `strategies`, each with `name` and `parameters`).
    pub fn seen_by_clients(&self, flag: &str) -> Value {
        self.send(
            reqwest::Method::GET,
            &format!("/api/client/features/{flag}"),
            &self.client,
            None,
        )
    }

    /// What the client API says of `flag`: whether it is on, and each strategy as
    /// `name rollout` (`flexibleRollout 25`), in order.
    pub fn exposure(&self, flag: &str) -> (bool, Vec<String>) {
        let seen = self.seen_by_clients(flag);
        let strategies = seen["strategies"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|s| {
                let name = s["name"].as_str().unwrap_or_default();
                match s["parameters"]["rollout"].as_str() {
                    Some(r) => format!("{name} {r}"),
                    None => name.to_string(),
                }
            })
            .collect();
        (seen["enabled"].as_bool().unwrap_or(false), strategies)
    }
}
