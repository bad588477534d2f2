//! Performing one step through the providers: render its templates, describe the
//! request for the record (masked), act, and say what happened.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::context::Scope;
use crate::engine::EnvRun;
use crate::plan::template::{Landing, render, render_body, render_header};
use crate::plan::{DeployProvider, Environment, Exec, HttpCall, Request, StepKind};
use crate::providers::{exec, http};

/// Why a step did not succeed; `gate` failures roll the environment back.
#[derive(Debug)]
pub struct StepError {
    pub message: String,
    pub gate: bool,
}

impl StepError {
    pub fn provider(message: impl Into<String>) -> Self {
        StepError {
            message: message.into(),
            gate: false,
        }
    }

    fn gate(message: impl Into<String>) -> Self {
        StepError {
            message: message.into(),
            gate: true,
        }
    }
}

/// A step made concrete: templates rendered, ready to be recorded and performed.
pub enum Prepared {
    Deploy {
        call: DeployCall,
        verify: bool,
    },
    Http {
        call: http::Call,
        success: Option<String>,
    },
    Exec(exec::Invocation),
    Pause(Duration),
    Nothing,
}

pub enum DeployCall {
    Http { call: http::Call, wait: bool },
    Exec(exec::Invocation),
}

pub struct Tools<'a> {
    pub client: &'a reqwest::Client,
    pub backoff: &'a http::RetryDelay,
}

fn rendered(scope: &Scope, text: &crate::plan::Text) -> Result<String, StepError> {
    render(text, Landing::Text, &scope.value()).map_err(StepError::provider)
}

pub fn request(scope: &Scope, r: &Request, key: Option<String>) -> Result<http::Call, StepError> {
    let ctx = scope.value();
    let headers = r
        .headers
        .iter()
        .map(|(k, v)| {
            let value = render_header(k, v, &ctx).map_err(StepError::provider)?;
            Ok((k.clone(), value))
        })
        .collect::<Result<Vec<_>, StepError>>()?;
    let body = r
        .body
        .as_ref()
        .map(|b| render_body(b, &ctx).map_err(StepError::provider))
        .transpose()?;
    Ok(http::Call {
        method: r.method.clone(),
        url: render(&r.url, Landing::Url, &ctx).map_err(StepError::provider)?,
        headers,
        body,
        timeout: r.timeout,
        retries: r.retries,
        idempotency_key: key,
    })
}

pub fn command(scope: &Scope, e: &Exec) -> Result<exec::Invocation, StepError> {
    let argv = e
        .command
        .iter()
        .map(|w| rendered(scope, w))
        .collect::<Result<Vec<_>, _>>()?;
    let mut env = scope.exec_env();
    for (k, v) in &e.env {
        env.push((k.clone(), rendered(scope, v)?));
    }
    Ok(exec::Invocation {
        argv,
        env,
        timeout: e.timeout,
        // Run where the plan is, as `record.repo` is read: a `./scripts/…` in the plan
        // means the same file from whichever directory relctl found the plan.
        dir: Some(crate::notes::plan_dir(scope.plan).to_path_buf()),
    })
}

pub fn deploy(
    scope: &Scope,
    provider: &DeployProvider,
    key: String,
) -> Result<Prepared, StepError> {
    Ok(match provider {
        DeployProvider::Http(h) => Prepared::Deploy {
            call: DeployCall::Http {
                call: request(scope, &h.request, Some(key))?,
                wait: h.wait.is_some(),
            },
            verify: h.verify_digest.is_some(),
        },
        DeployProvider::Exec(e) => Prepared::Deploy {
            call: DeployCall::Exec(command(scope, e)?),
            verify: false,
        },
    })
}

pub fn http_call(
    scope: &Scope,
    call: &HttpCall,
    key: Option<String>,
) -> Result<Prepared, StepError> {
    Ok(Prepared::Http {
        call: request(scope, &call.request, key)?,
        success: call.success.as_ref().map(|s| s.raw.clone()),
    })
}

/// One visit of a release to an environment, which every idempotency key names:
/// `RELEASE/ENV/VISIT/…`, VISIT being how many times the release has entered the
/// environment (from its recorded events). A retry of the same visit (`resume` after a
/// crash or a failure, a rollback taken over) sends the same key again; a new visit (a
/// `--force` promotion after a rollback) and whatever it is rolled back by get new
/// ones, so a platform that answers a key it knows from its cache deploys them all.
#[derive(Debug, Clone, Copy)]
pub struct Visit<'a> {
    pub release: &'a str,
    pub env: &'a str,
    pub number: usize,
    /// The environment's target, whose keys are its own: `RELEASE/ENV/VISIT/TARGET/…`.
    pub target: Option<&'a str>,
}

impl<'a> Visit<'a> {
    /// The visit `run` records (the last one, when the release is no longer inside).
    pub fn recorded(release: &'a str, env: &'a str, run: &EnvRun) -> Visit<'a> {
        Visit {
            release,
            env,
            number: run.visit,
            target: None,
        }
    }

    /// This visit, for one target of the environment.
    pub fn of_target(self, target: Option<&'a str>) -> Visit<'a> {
        Visit { target, ..self }
    }

    /// `RELEASE/ENV/VISIT`, and `/TARGET` for a target.
    fn prefix(&self) -> String {
        let visit = format!("{}/{}/{}", self.release, self.env, self.number);
        match self.target {
            Some(target) => format!("{visit}/{target}"),
            None => visit,
        }
    }

    /// The visit a promotion would make now: the one under way, else the next.
    pub fn coming(release: &'a str, env: &'a str, run: &EnvRun) -> Visit<'a> {
        let inside = run.entered && run.outcome.is_none();
        Visit {
            number: if inside { run.visit } else { run.visit + 1 },
            ..Visit::recorded(release, env, run)
        }
    }

    /// Step `index`'s key.
    pub fn step_key(&self, index: usize) -> String {
        format!("{}/{index}", self.prefix())
    }

    /// The key of the `undo` of step `index`.
    pub fn undo_key(&self, index: usize) -> String {
        format!("{}/undo", self.step_key(index))
    }

    /// The key of the redeploy of `to` that rolls this visit back (after a failed gate
    /// and by `relctl rollback` alike).
    pub fn rollback_key(&self, to: &str) -> String {
        format!("{}/rollback/{to}", self.prefix())
    }
}

/// The traffic weight templates see at step `index`: a deploy's own (full without
/// one); an analysis measures at the weight of the last deploy before it (full when
/// there is none); any other step sees 0.
pub fn step_weight(env: &Environment, index: usize) -> u8 {
    let deploy_weight = |kind: &StepKind| match kind {
        StepKind::Deploy { weight } => Some(weight.unwrap_or(100)),
        _ => None,
    };
    match env.steps.get(index).map(|s| &s.kind) {
        Some(StepKind::Deploy { weight }) => weight.unwrap_or(100),
        Some(StepKind::Analysis(_)) => env.steps[..index]
            .iter()
            .rev()
            .find_map(|s| deploy_weight(&s.kind))
            .unwrap_or(100),
        _ => 0,
    }
}

/// Step `index` of `env` made concrete for `scope` (made with `step_weight`), as
/// promote performs it and `relctl plan` shows it; `None` for an analysis (the
/// analysis runner's, src/runner/analysis.rs), an error budget, a flag (src/runner/flags.rs)
/// and for a deploy without `provider`.
pub fn prepare(
    scope: &Scope,
    env: &Environment,
    index: usize,
    provider: Option<&DeployProvider>,
    visit: Visit,
) -> Option<Result<Prepared, StepError>> {
    let key = visit.step_key(index);
    Some(match &env.steps.get(index)?.kind {
        StepKind::Deploy { .. } => deploy(scope, provider?, key),
        StepKind::Pause(d) => Ok(Prepared::Pause(*d)),
        StepKind::Approval(_) => Ok(Prepared::Nothing),
        StepKind::Http(h) => http_call(scope, &h.call, Some(key)),
        StepKind::Exec(e) => command(scope, &e.exec).map(Prepared::Exec),
        StepKind::Analysis(_) | StepKind::ErrorBudget | StepKind::Flag(_) => return None,
    })
}

/// What goes into the record's intent: the request as it will be made, secrets masked.
pub fn describe(prepared: &Prepared, scope: &Scope) -> Value {
    let secrets = scope.secrets;
    match prepared {
        Prepared::Deploy {
            call: DeployCall::Http { call, .. },
            ..
        }
        | Prepared::Http { call, .. } => call.describe(secrets),
        Prepared::Deploy {
            call: DeployCall::Exec(cmd),
            ..
        }
        | Prepared::Exec(cmd) => {
            json!({ "argv": cmd.argv.iter().map(|a| secrets.mask(a)).collect::<Vec<_>>() })
        }
        Prepared::Pause(d) => json!({ "pause": crate::duration::format(*d) }),
        Prepared::Nothing => Value::Null,
    }
}

/// Performs a prepared step and returns what the record keeps about it.
pub async fn perform(
    prepared: Prepared,
    scope: &Scope<'_>,
    provider: Option<&DeployProvider>,
    tools: &Tools<'_>,
    started: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Value, StepError> {
    let secrets = scope.secrets;
    match prepared {
        Prepared::Deploy { call, verify } => {
            let response = match call {
                DeployCall::Http { call, wait } => {
                    let response = http::send(tools.client, &call, tools.backoff, secrets)
                        .await
                        .map_err(|e| StepError::provider(e.to_string()))?;
                    let mut last = response.json.clone();
                    let mut detail =
                        json!({ "status": response.status, "attempts": response.attempts });
                    if let (true, Some(DeployProvider::Http(h))) = (wait, provider)
                        && let Some(w) = &h.wait
                    {
                        let waited = wait_for(scope, w, &response, tools).await?;
                        detail["polls"] = json!(waited.attempts);
                        last = waited.json;
                    }
                    if let (true, Some(DeployProvider::Http(h))) = (verify, provider)
                        && let Some(expr) = &h.verify_digest
                    {
                        http::verify_digest(&expr.raw, &last, &scope.target.digest)
                            .map_err(|e| StepError::provider(secrets.mask(&e)))?;
                        detail["verified"] = json!(scope.target.digest);
                    }
                    detail["response"] = secrets.mask_json(&last);
                    detail
                }
                DeployCall::Exec(cmd) => {
                    let out = exec::run(&cmd, secrets)
                        .await
                        .map_err(|e| StepError::provider(e.to_string()))?;
                    json!({ "code": out.code, "stdout": out.stdout, "stderr": out.stderr })
                }
            };
            Ok(response)
        }
        Prepared::Http { call, success } => {
            let response = http::send(tools.client, &call, tools.backoff, secrets)
                .await
                .map_err(|e| StepError::gate(e.to_string()))?;
            http::check_success(success.as_deref(), &response)
                .map_err(|e| StepError::gate(secrets.mask(&e)))?;
            Ok(json!({ "status": response.status, "response": secrets.mask_json(&response.json) }))
        }
        Prepared::Exec(cmd) => {
            let out = exec::run(&cmd, secrets)
                .await
                .map_err(|e| StepError::gate(e.to_string()))?;
            Ok(json!({ "code": out.code, "stdout": out.stdout, "stderr": out.stderr }))
        }
        Prepared::Pause(d) => {
            // A pause resumed after a crash waits only for what is left of it.
            let elapsed = started
                .map(|s| {
                    crate::clock::now()
                        .signed_duration_since(s)
                        .to_std()
                        .unwrap_or_default()
                })
                .unwrap_or_default();
            let left = d.saturating_sub(elapsed);
            let begin = Instant::now();
            tokio::time::sleep(left).await;
            Ok(json!({ "paused_ms": begin.elapsed().as_millis() as u64 }))
        }
        Prepared::Nothing => Ok(Value::Null),
    }
}

async fn wait_for(
    scope: &Scope<'_>,
    w: &crate::plan::Wait,
    deployed: &http::Response,
    tools: &Tools<'_>,
) -> Result<http::Response, StepError> {
    let with_response = Scope {
        response: Some(&deployed.json),
        ..*scope
    };
    let ctx = with_response.value();
    // `response.*` is undefined when the deploy call's answer was not JSON: say so,
    // rather than leave the user with "a name is undefined".
    let failed = |e: String| {
        if deployed.json.is_null() {
            let answer = deployed
                .text
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let answer = match answer.as_str() {
                "" => "it was empty".to_string(),
                text => format!("it was: {}", crate::providers::secrets::head(text, 200)),
            };
            StepError::provider(format!(
                "{e}; the deploy call's answer is not JSON, so `response` has nothing in it ({answer})"
            ))
        } else {
            StepError::provider(e)
        }
    };
    let headers = w
        .headers
        .iter()
        .map(|(k, v)| Ok((k.clone(), render_header(k, v, &ctx).map_err(failed)?)))
        .collect::<Result<Vec<_>, StepError>>()?;
    let call = http::WaitCall {
        method: w.method.clone(),
        url: render(&w.url, Landing::Url, &ctx).map_err(failed)?,
        headers,
        interval: w.interval,
        timeout: w.timeout,
        success: w.success.raw.clone(),
        failure: w.failure.as_ref().map(|f| f.raw.clone()),
    };
    http::wait(tools.client, &call, tools.backoff, scope.secrets)
        .await
        .map_err(|e| StepError::provider(e.to_string()))
}

#[cfg(test)]
mod tests;
