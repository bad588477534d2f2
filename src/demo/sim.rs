//! The simulated service behind `relctl demo`: a deploy API whose rollouts take a few
//! hundred milliseconds and report the running digest, and request/error counters per
//! version, as JSON for relctl's http metric provider and in Prometheus text format;
//! and, under `/unleash`, a simulated Unleash for the plan's flags (unleash.rs).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

/// How long a rollout takes before the deploy API reports it ready.
const ROLLOUT: Duration = Duration::from_millis(300);

#[derive(Default)]
struct World {
    /// Per environment: the image running, its weight, its version and when it started.
    running: BTreeMap<String, Rollout>,
    /// Versions whose error rate climbs over time (`relctl demo --fail`).
    failing: Vec<String>,
    /// When each version first took traffic, and when it first ran in production.
    first_seen: BTreeMap<String, Instant>,
    in_production: BTreeMap<String, Instant>,
}

struct Rollout {
    image: String,
    version: String,
    weight: u64,
    started: Instant,
}

type Shared = Arc<Mutex<World>>;

pub struct Simulator {
    pub addr: SocketAddr,
    world: Shared,
}

impl Simulator {
    /// Binds a free loopback port and serves on the given runtime.
    pub fn start(runtime: &tokio::runtime::Runtime) -> anyhow::Result<Simulator> {
        let world: Shared = Arc::default();
        let app = Router::new()
            .route("/deploy/{env}", post(deploy))
            .route("/deployments/{env}", get(deployment))
            .route("/stats/{version}", get(stats))
            .route("/metrics", get(metrics))
            .with_state(world.clone())
            .nest("/unleash", super::unleash::router());
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Simulator { addr, world })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Makes `version` misbehave: its error rate climbs from the moment it takes traffic.
    pub fn fail(&self, version: &str) {
        lock(&self.world).failing.push(version.to_string());
    }
}

fn lock(world: &Shared) -> std::sync::MutexGuard<'_, World> {
    world.lock().unwrap_or_else(|e| e.into_inner())
}

fn digest_of(image: &str) -> &str {
    image.rsplit_once('@').map_or("", |(_, d)| d)
}

async fn deploy(
    State(world): State<Shared>,
    Path(env): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let Some(image) = body["image"].as_str() else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "error": "image is required" })),
        )
            .into_response();
    };
    let version = body["version"].as_str().unwrap_or("unknown").to_string();
    let weight = body["weight"].as_u64().unwrap_or(100);
    let mut w = lock(&world);
    w.first_seen
        .entry(version.clone())
        .or_insert_with(Instant::now);
    if env == "production" {
        w.in_production
            .entry(version.clone())
            .or_insert_with(Instant::now);
    }
    w.running.insert(
        env.clone(),
        Rollout {
            image: image.to_string(),
            version,
            weight,
            started: Instant::now(),
        },
    );
    Json(json!({ "id": env, "state": "rolling", "digest": digest_of(image) })).into_response()
}

async fn deployment(State(world): State<Shared>, Path(env): Path<String>) -> Response {
    let w = lock(&world);
    match w.running.get(&env) {
        Some(r) => {
            let state = if r.started.elapsed() >= ROLLOUT {
                "ready"
            } else {
                "rolling"
            };
            Json(json!({ "id": env, "state": state, "digest": digest_of(&r.image), "version": r.version, "weight": r.weight })).into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "no deployment" })),
        )
            .into_response(),
    }
}

/// A version's error rate now: a steady 0.2%; a failing version's climbs 5% a second
/// once it meets production traffic.
fn error_rate(w: &World, version: &str) -> Option<f64> {
    w.first_seen.get(version)?;
    let failing_since = w
        .in_production
        .get(version)
        .filter(|_| w.failing.iter().any(|v| v == version));
    Some(match failing_since {
        Some(since) => (0.02 + 0.05 * since.elapsed().as_secs_f64()).min(0.6),
        None => 0.002,
    })
}

async fn stats(State(world): State<Shared>, Path(version): Path<String>) -> Response {
    let w = lock(&world);
    match error_rate(&w, &version) {
        Some(rate) => {
            Json(json!({ "version": version, "error_rate": (rate * 10_000.0).round() / 10_000.0 }))
                .into_response()
        }
        None => Json(json!({ "version": version, "error_rate": null })).into_response(),
    }
}

/// Counters as Prometheus would scrape them: 100 requests a second per version.
async fn metrics(State(world): State<Shared>) -> String {
    let w = lock(&world);
    let mut out = String::from("# TYPE http_requests_total counter\n");
    for (version, since) in &w.first_seen {
        let total = (since.elapsed().as_secs_f64() * 100.0) as u64;
        let errors = (total as f64 * error_rate(&w, version).unwrap_or(0.0)) as u64;
        out.push_str(&format!(
            "http_requests_total{{app=\"demo\",version=\"{version}\",code=\"200\"}} {}\n",
            total - errors
        ));
        out.push_str(&format!(
            "http_requests_total{{app=\"demo\",version=\"{version}\",code=\"500\"}} {errors}\n"
        ));
    }
    out
}
