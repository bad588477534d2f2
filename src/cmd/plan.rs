//! `relctl plan`: the dry run of promote. Reads the record, changes nothing.

use serde_json::{Value, json};

use super::Context;
use crate::cli::OutputMode;
use crate::engine::{self, Rule, decide};
use crate::plan::{StepKind, template};
use crate::providers::Secrets;
use crate::runner::context::{Scope, Target};
use crate::runner::{journal, steps};

/// Show what promote would do, templates rendered and secrets masked
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The artifact: NAME@sha256:<64 hex>, or a bare sha256:<64 hex>
    #[arg(long, value_name = "REF")]
    pub artifact: String,

    /// Plan up to this environment (default: the last)
    #[arg(long, value_name = "ENV")]
    pub to: Option<String>,
}

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<()> {
    let (plan, artifact) = super::plan_and_artifact(ctx, &args.artifact)?;
    let targets = super::promote::targets(&plan, args.to.as_deref(), None)?;
    let names = template::secret_names(&plan);
    let secrets = match Secrets::from_env(names.iter()) {
        Ok(secrets) => secrets,
        Err(e) => {
            ctx.printer.warn(&format!("{e}; promote would stop here"));
            Secrets::from_values(names.iter().map(|n| (n.clone(), format!("<{n}>"))))
        }
    };
    let (store, _) = super::read_record(ctx, &plan)?;
    let snapshot = store.snapshot()?;
    let id = artifact.release_id(&plan.app);
    let file = journal::read_release(&snapshot, &id)?;
    let state = engine::fold(file.as_ref());
    let envs = journal::read_envs(&snapshot, plan.environments.iter().map(|e| e.name.as_str()))?;
    let target = Target {
        release: id.clone(),
        artifact: artifact.to_string(),
        name: artifact.name.clone(),
        digest: artifact.digest(),
        version: file
            .as_ref()
            .map_or_else(|| artifact.short().to_string(), |f| f.version.clone()),
    };
    let inputs = engine::Inputs {
        plan: &plan,
        release: &id,
        state: &state,
        envs: &envs,
        targets: &targets,
        now: crate::clock::now(),
        lifted: &[],
    };
    let mut actions: Vec<Value> = Vec::new();
    for env_name in &targets {
        let Some(env) = plan.environment(env_name) else {
            continue;
        };
        let envfile = envs.get(env_name).cloned().unwrap_or_default();
        let run = state.env(env_name);
        if envfile.live.as_ref().is_some_and(|l| l.release == id) {
            actions.push(json!({ "env": env_name, "action": "skip", "why": "already live" }));
            continue;
        }
        if !run.entered {
            for (rule, reason) in decide::blocking_rules(&inputs, env_name) {
                // An earlier environment in this plan makes the order rule pass on the way.
                let earlier = targets
                    .iter()
                    .position(|t| t == env_name)
                    .is_some_and(|p| p > 0);
                if !(rule == Rule::Order && earlier) {
                    actions.push(json!({ "env": env_name, "action": "blocked", "rule": rule.name(), "why": reason }));
                }
            }
            if let Some(lock) = envfile.lock.as_ref().filter(|l| l.release != id) {
                actions.push(json!({ "env": env_name, "action": "blocked", "rule": "lock", "why": format!("locked by {} ({})", lock.release, lock.by) }));
            }
        }
        if let Some(approval) = &env.approval {
            actions.push(json!({ "env": env_name, "action": "approval", "approvers": approval.approvers, "min": approval.min }));
        }
        for (index, step) in env.steps.iter().enumerate() {
            if run.done.contains(&index) {
                continue;
            }
            let weight = match step.kind {
                StepKind::Deploy { weight } => weight.unwrap_or(100),
                _ => 0,
            };
            let scope = Scope {
                plan: &plan,
                secrets: &secrets,
                env: env_name,
                target: &target,
                baseline: envfile.live.as_ref(),
                step: index,
                weight,
                response: None,
            };
            let key = format!("{id}/{env_name}/{index}");
            let (action, request) = match &step.kind {
                StepKind::Deploy { .. } => match plan.deploy_providers.get(&env.deploy.raw) {
                    Some(provider) => (
                        "deploy",
                        prepared(steps::deploy(&scope, provider, key), &scope),
                    ),
                    None => continue,
                },
                StepKind::Pause(d) => ("pause", json!({ "pause": crate::duration::format(*d) })),
                StepKind::Analysis(name) => ("analysis", json!({ "analysis": name.raw })),
                StepKind::Approval(own) => {
                    let approval = own.as_ref().or(env.approval.as_ref());
                    (
                        "approval",
                        json!({ "approvers": approval.map(|a| a.approvers.clone()), "min": approval.map(|a| a.min) }),
                    )
                }
                StepKind::Http(h) => (
                    "http",
                    prepared(steps::http_call(&scope, &h.call, Some(key)), &scope),
                ),
                StepKind::Exec(e) => (
                    "exec",
                    prepared(
                        steps::command(&scope, &e.exec).map(steps::Prepared::Exec),
                        &scope,
                    ),
                ),
            };
            actions.push(
                json!({ "env": env_name, "step": index + 1, "action": action, "request": request }),
            );
        }
        actions.push(json!({ "env": env_name, "action": "live" }));
    }
    if ctx.printer.mode() == OutputMode::Json {
        return ctx
            .printer
            .json(&json!({ "release": id, "actions": actions }));
    }
    let mut text = format!("plan for {id} ({}):\n", artifact);
    for a in &actions {
        text.push_str(&format!("  {}\n", line(a)));
    }
    ctx.printer.data(&text)
}

fn prepared(result: Result<steps::Prepared, steps::StepError>, scope: &Scope) -> Value {
    match result {
        Ok(p) => steps::describe(&p, scope),
        Err(e) => json!({ "error": e.message }),
    }
}

fn line(a: &Value) -> String {
    let env = a["env"].as_str().unwrap_or_default();
    let step = a["step"]
        .as_u64()
        .map(|s| format!("step {s} "))
        .unwrap_or_default();
    let what = a["action"].as_str().unwrap_or_default();
    let detail = match what {
        "blocked" => format!(
            "would block ({}): {}",
            a["rule"].as_str().unwrap_or_default(),
            a["why"].as_str().unwrap_or_default()
        ),
        "skip" => "already live".into(),
        "live" => "mark live".into(),
        "approval" => format!("needs {} approval(s) from {}", a["min"], a["approvers"]),
        _ => {
            let r = &a["request"];
            if let Some(url) = r["url"].as_str() {
                let body = if r["body"].is_null() {
                    String::new()
                } else {
                    format!(" {}", r["body"])
                };
                format!("{what} {} {url}{body}", r["method"].as_str().unwrap_or(""))
            } else if let Some(argv) = r["argv"].as_array() {
                let words: Vec<&str> = argv.iter().filter_map(Value::as_str).collect();
                format!("{what} {}", words.join(" "))
            } else if let Some(e) = r["error"].as_str() {
                format!("{what}: cannot render: {e}")
            } else {
                format!(
                    "{what} {}",
                    r.as_object()
                        .and_then(|o| o.values().next())
                        .map(|v| v.to_string())
                        .unwrap_or_default()
                )
            }
        }
    };
    format!("{env:<12} {step}{detail}")
}
