//! The platform double: a zero-latency deploy API and stats endpoint on a loopback
//! port, answering at once. It notes when each deploy call arrives, so the rollback
//! benchmark can time a process from its start to the call.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

#[derive(Default)]
struct Inner {
    /// What each environment runs: its image reference.
    running: HashMap<String, String>,
    /// When each deploy call arrived, oldest first.
    deploys: Vec<Instant>,
}

type Shared = Arc<Mutex<Inner>>;

pub struct Platform {
    inner: Shared,
    pub addr: SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

impl Platform {
    pub fn start() -> anyhow::Result<Platform> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let inner = Shared::default();
        let app = Router::new()
            .route("/apps/{app}/envs/{env}", post(deploy))
            .route("/deployments/{id}", get(deployment))
            .route("/stats/{version}", get(stats))
            .with_state(inner.clone());
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Platform {
            inner,
            addr,
            _runtime: runtime,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The deploy calls received so far, and forget them.
    pub fn take_deploys(&self) -> Vec<Instant> {
        std::mem::take(&mut self.inner.lock().unwrap_or_else(|e| e.into_inner()).deploys)
    }
}

fn digest_of(image: &str) -> &str {
    image.rsplit_once('@').map_or("", |(_, d)| d)
}

async fn deploy(
    State(state): State<Shared>,
    Path((_app, env)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Json<Value> {
    let arrived = Instant::now();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let image = body["image"].as_str().unwrap_or_default().to_string();
    let answer = json!({ "id": env, "state": "ready", "digest": digest_of(&image) });
    let mut inner = state.lock().unwrap_or_else(|e| e.into_inner());
    inner.deploys.push(arrived);
    inner.running.insert(env, image);
    Json(answer)
}

async fn deployment(State(state): State<Shared>, Path(id): Path<String>) -> Json<Value> {
    let inner = state.lock().unwrap_or_else(|e| e.into_inner());
    let image = inner.running.get(&id).map_or("", String::as_str);
    Json(json!({ "id": id, "state": "ready", "digest": digest_of(image) }))
}

/// Healthy, except a version named `…-fail`: the generator uses one to record a
/// canary that fails its analysis and is rolled back.
async fn stats(Path(version): Path<String>) -> Json<Value> {
    let rate = if version.ends_with("-fail") {
        0.5
    } else {
        0.001
    };
    Json(json!({ "error_rate": rate }))
}
