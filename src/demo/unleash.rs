//! The simulated Unleash behind `relctl demo`: the few Admin API calls relctl's flag
//! provider makes (src/providers/flags.rs), for one project (`default`) with the
//! environments `development` and `production`, and the client API an application
//! reads flags with. Like Unleash, it gives a flag turned on without a strategy a 100%
//! `flexibleRollout` of its own. Flags are made on first sight: the demo's plan names
//! them, nobody creates them by hand.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

const PROJECT: &str = "default";
const ENVIRONMENTS: [&str; 2] = ["development", "production"];

#[derive(Default)]
struct Flags {
    /// Flag → environment → (enabled, strategies with their ids).
    flags: BTreeMap<String, BTreeMap<String, (bool, Vec<Value>)>>,
    next_id: u64,
}

type Shared = Arc<Mutex<Flags>>;

fn lock(flags: &Shared) -> std::sync::MutexGuard<'_, Flags> {
    flags.lock().unwrap_or_else(|e| e.into_inner())
}

/// The routes, to be served under `/unleash`.
pub fn router() -> Router {
    Router::new()
        .route(
            "/api/admin/projects/{project}/features/{flag}",
            get(feature),
        )
        .route(
            "/api/admin/projects/{project}/features/{flag}/environments/{env}/{action}",
            post(act),
        )
        .route(
            "/api/admin/projects/{project}/features/{flag}/environments/{env}/strategies/{id}",
            delete(remove),
        )
        .route("/api/client/features/{flag}", get(client))
        .with_state(Shared::default())
}

fn not_found(message: String) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "name": "NotFoundError", "message": message })),
    )
        .into_response()
}

/// The flag's environments, made (off, without strategies) on first sight.
fn flag_mut<'a>(f: &'a mut Flags, flag: &str) -> &'a mut BTreeMap<String, (bool, Vec<Value>)> {
    f.flags.entry(flag.to_string()).or_insert_with(|| {
        ENVIRONMENTS
            .iter()
            .map(|e| (e.to_string(), (false, Vec::new())))
            .collect()
    })
}

async fn feature(
    State(flags): State<Shared>,
    Path((project, flag)): Path<(String, String)>,
) -> Response {
    if project != PROJECT {
        return not_found(format!("Could not find project {project}"));
    }
    let mut f = lock(&flags);
    let envs: Vec<Value> = flag_mut(&mut f, &flag)
        .iter()
        .map(|(name, (enabled, strategies))| {
            json!({ "name": name, "enabled": enabled, "strategies": strategies })
        })
        .collect();
    Json(json!({ "name": flag, "project": PROJECT, "environments": envs })).into_response()
}

async fn act(
    State(flags): State<Shared>,
    Path((project, flag, env, action)): Path<(String, String, String, String)>,
    body: Option<Json<Value>>,
) -> Response {
    if project != PROJECT {
        return not_found(format!("Could not find project {project}"));
    }
    let mut f = lock(&flags);
    let id = f.next_id;
    let Some((enabled, strategies)) = flag_mut(&mut f, &flag).get_mut(&env) else {
        return not_found(format!("Could not find {flag} in {env}"));
    };
    let answer = match action.as_str() {
        "on" => {
            if strategies.is_empty() {
                strategies.push(json!({
                    "id": format!("s{id}"), "name": "flexibleRollout", "constraints": [],
                    "parameters": { "rollout": "100", "stickiness": "default", "groupId": flag },
                }));
            }
            *enabled = true;
            Value::Null
        }
        "off" => {
            *enabled = false;
            Value::Null
        }
        "strategies" => {
            let mut strategy = body.map(|Json(b)| b).unwrap_or_default();
            strategy["id"] = json!(format!("s{id}"));
            strategies.push(strategy.clone());
            strategy
        }
        _ => return not_found(format!("no such action: {action}")),
    };
    f.next_id += 1;
    Json(answer).into_response()
}

async fn remove(
    State(flags): State<Shared>,
    Path((_, flag, env, id)): Path<(String, String, String, String)>,
) -> Response {
    let mut f = lock(&flags);
    if let Some((_, strategies)) = flag_mut(&mut f, &flag).get_mut(&env) {
        strategies.retain(|s| s["id"] != id.as_str());
    }
    Json(Value::Null).into_response()
}

/// The flag in production, as an application's SDK reads it.
async fn client(State(flags): State<Shared>, Path(flag): Path<String>) -> Response {
    let f = lock(&flags);
    match f.flags.get(&flag).and_then(|envs| envs.get("production")) {
        Some((enabled, strategies)) => {
            Json(json!({ "name": flag, "enabled": enabled, "strategies": strategies }))
                .into_response()
        }
        None => not_found(format!("Could not find feature flag {flag}")),
    }
}
