//! `relctl plan`: the dry run of promote. Reads the record, changes nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::Context;
use crate::artifact::Artifact;
use crate::engine::{self, EnvFile, ReleaseFile, Rule, decide};
use crate::format;
use crate::plan::{Environment, Plan, StepKind, template};
use crate::providers::Secrets;
use crate::runner::context::{Scope, Target};
use crate::runner::{self, steps};
use crate::ui::OutputMode;

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
    let file = format::read_release(&snapshot, &id)?;
    let envs = format::read_envs(&snapshot, plan.environments.iter().map(|e| e.name.as_str()))?;
    let recorded = Recorded {
        release: file.as_ref(),
        envs: &envs,
    };
    let actions = actions(
        &plan,
        &artifact,
        &targets,
        &secrets,
        recorded,
        crate::clock::now(),
    );
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

/// What the record says about the release and the environments.
#[derive(Clone, Copy)]
pub struct Recorded<'a> {
    pub release: Option<&'a ReleaseFile>,
    pub envs: &'a BTreeMap<String, EnvFile>,
}

/// What promote would do through `targets`, one JSON object per action. No I/O: every
/// plan that validates can be planned, whatever the record holds.
pub fn actions(
    plan: &Plan,
    artifact: &Artifact,
    targets: &[String],
    secrets: &Secrets,
    recorded: Recorded,
    now: DateTime<Utc>,
) -> Vec<Value> {
    let (file, envs) = (recorded.release, recorded.envs);
    let id = artifact.release_id(&plan.app);
    let state = engine::fold(file);
    let target = Target {
        release: id.clone(),
        artifact: artifact.to_string(),
        name: artifact.name.clone(),
        digest: artifact.digest(),
        version: file.map_or_else(|| artifact.short().to_string(), |f| f.version.clone()),
    };
    let inputs = engine::Inputs {
        plan,
        release: &id,
        state: &state,
        envs,
        targets,
        now,
        lifted: &[],
    };
    let mut actions: Vec<Value> = Vec::new();
    for env_name in targets {
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
            actions.extend(blocks(&inputs, env_name, &envfile));
        }
        if let Some(approval) = &env.approval {
            actions.push(json!({ "env": env_name, "action": "approval", "approvers": approval.approvers, "min": approval.min }));
        }
        for index in (0..env.steps.len()).filter(|i| !run.done.contains(i)) {
            let scope = Scope {
                plan,
                secrets,
                env: env_name,
                target: &target,
                baseline: envfile.live.as_ref(),
                step: index,
                weight: steps::step_weight(env, index),
                response: None,
            };
            let visit = steps::Visit::coming(&id, env_name, &run);
            if let Some(request) = step_request(env, index, &scope, visit) {
                let action = env.steps[index].kind.name();
                actions.push(
                    json!({ "env": env_name, "step": index + 1, "action": action, "request": request }),
                );
            }
        }
        actions.push(json!({ "env": env_name, "action": "live" }));
    }
    actions
}

/// What would keep the release out of `env_name`: every blocking rule (the order rule
/// passes on the way when an earlier environment is in the plan) and another's lock.
fn blocks(inputs: &engine::Inputs, env_name: &str, envfile: &EnvFile) -> Vec<Value> {
    let mut actions = Vec::new();
    // An earlier environment in this plan makes the order rule pass on the way.
    let earlier = inputs
        .targets
        .iter()
        .position(|t| t == env_name)
        .is_some_and(|p| p > 0);
    for (rule, reason) in decide::blocking_rules(inputs, env_name) {
        if !(rule == Rule::Order && earlier) {
            actions.push(
                json!({ "env": env_name, "action": "blocked", "rule": rule.name(), "why": reason }),
            );
        }
    }
    if let Some(lock) = envfile
        .lock
        .as_ref()
        .filter(|l| l.release != inputs.release)
    {
        actions.push(json!({ "env": env_name, "action": "blocked", "rule": "lock", "why": format!("locked by {} ({})", lock.release, lock.by) }));
    }
    actions
}

/// What step `index` would ask on `visit`, as its action's `request`; `None` for a
/// deploy without a provider.
fn step_request(
    env: &Environment,
    index: usize,
    scope: &Scope,
    visit: steps::Visit,
) -> Option<Value> {
    let plan = scope.plan;
    Some(match &env.steps[index].kind {
        StepKind::Analysis(name) => {
            let metrics: Vec<Value> = plan
                .analyses
                .get(&name.raw)
                .map(|a| {
                    a.metrics
                        .iter()
                        .map(|m| runner::analysis::describe(plan, m, scope))
                        .collect()
                })
                .unwrap_or_default();
            json!({ "analysis": name.raw, "metrics": metrics })
        }
        StepKind::Approval(own) => {
            let approval = own.as_ref().or(env.approval.as_ref());
            json!({ "approvers": approval.map(|a| a.approvers.clone()), "min": approval.map(|a| a.min) })
        }
        // Deploy, pause, http and exec: prepared as promote prepares them.
        _ => {
            let provider = plan.deploy_providers.get(&env.deploy.raw);
            prepared(steps::prepare(scope, env, index, provider, visit)?, scope)
        }
    })
}

fn prepared(result: Result<steps::Prepared, steps::StepError>, scope: &Scope) -> Value {
    match result {
        Ok(p) => steps::describe(&p, scope),
        Err(e) => json!({ "error": e.message }),
    }
}

/// `analysis NAME`, then a line per metric with what it asks.
fn analysis_lines(r: &Value) -> String {
    let mut text = format!("analysis {}", r["analysis"].as_str().unwrap_or_default());
    for m in r["metrics"].as_array().into_iter().flatten() {
        let name = m["name"].as_str().unwrap_or_default();
        let asks: Vec<String> = ["query", "canary", "baseline", "no_data", "error"]
            .iter()
            .filter_map(|k| m[*k].as_str().map(|v| format!("{k}: {v}")))
            .chain(m["request"]["url"].as_str().map(|url| {
                format!(
                    "{} {url}",
                    m["request"]["method"].as_str().unwrap_or_default()
                )
            }))
            .collect();
        for ask in asks {
            text.push_str(&format!("\n{:<24}{name} {ask}", ""));
        }
    }
    text
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
        "approval" => {
            // An environment's approval says it at the top; an approval step in its request.
            let r = if a["request"].is_object() {
                &a["request"]
            } else {
                a
            };
            format!("needs {} approval(s) from {}", r["min"], r["approvers"])
        }
        "analysis" => analysis_lines(&a["request"]),
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

#[cfg(test)]
mod tests {
    //! Every plan that validates can be planned, and its schedule computed, without a
    //! panic: plans built from durations and names of any size, and mutated plans.

    use std::path::Path;

    use proptest::prelude::*;

    use super::*;
    use crate::engine::Live;
    use crate::plan::proptests::{EXAMPLE, SMALL, apply, config, mutation};

    const HEX: &str = "4f2a9c1be0d3a7f6e5c4b3a2918070605040302010f0e0d0c0b0a09080706050";

    /// A plan with every duration, count and name a placeholder.
    const SHAPE: &str = r#"version: 1
app: checkout
artifact: { name: ghcr.io/acme/checkout }
providers:
  deploy:
    platform:
      type: http
      request: { url: "http://127.0.0.1:1/deploy/{{ env.name }}", timeout: @timeout@ }
      wait: { url: "http://127.0.0.1:1/d/{{ response.id }}", interval: @wait@, timeout: @timeout@, success: '.ok' }
  metrics:
    prom: { type: prometheus, url: "http://127.0.0.1:9", timeout: @timeout@ }
environments:
  - name: @env@
    deploy: platform
  - name: production
    deploy: platform
    requires: { soak: @soak@ }
    steps:
      - deploy: { weight: 10 }
      - pause: @pause@
      - analysis: health
      - exec: { command: ["true"], timeout: @timeout@ }
      - deploy: {}
analyses:
  health:
    initial_delay: @delay@
    interval: @interval@
    count: @count@
    metrics:
      - { name: @metric@, provider: prom, query: 'up', max: 1 }
      - name: latency
        provider: prom
        compare: { canary: 'a', baseline: 'b' }
"#;

    /// The placeholders of `SHAPE` and their ordinary values.
    const USUAL: [(&str, &str); 9] = [
        ("@timeout@", "5s"),
        ("@wait@", "1s"),
        ("@soak@", "30m"),
        ("@pause@", "1m"),
        ("@delay@", "5m"),
        ("@interval@", "1m"),
        ("@count@", "3"),
        ("@env@", "staging"),
        ("@metric@", "errors"),
    ];

    /// `SHAPE` with ordinary values, except those in `wild`.
    fn fill(wild: &[(usize, String)]) -> String {
        let mut text = SHAPE.to_string();
        for (i, (key, usual)) in USUAL.iter().enumerate() {
            let value = wild
                .iter()
                .find(|(w, _)| *w == i)
                .map_or(*usual, |(_, v)| v.as_str());
            text = text.replace(key, value);
        }
        text
    }

    /// Anything a duration, a count or a name could be, from zero to huge.
    fn wild() -> impl Strategy<Value = String> {
        let unit = prop_oneof![Just("ms"), Just("s"), Just("m"), Just("h"), Just("d")];
        prop_oneof![
            (0u64..200, unit.clone()).prop_map(|(n, u)| format!("{n}{u}")),
            (0u64..=u64::MAX, unit).prop_map(|(n, u)| format!("{n}{u}")),
            Just("100000000d".to_string()),
            Just("0".to_string()),
            (0u64..=u64::from(u32::MAX)).prop_map(|n| n.to_string()),
            "\\PC{0,70}".prop_map(|s| format!("{s:?}")),
            Just("\"../../x\"".to_string()),
            Just("\"a\\nb\"".to_string()),
        ]
    }

    /// `SHAPE` with one to three of its values wild.
    fn shaped() -> impl Strategy<Value = String> {
        proptest::collection::vec((0..USUAL.len(), wild()), 1..4).prop_map(|wild| fill(&wild))
    }

    /// Plans the plan against an empty record and against one where something else is
    /// live everywhere, at an ordinary time and at the ends of time; then computes the
    /// runner's schedule for every pause and analysis.
    fn plan_without_panic(text: &str) {
        let Ok(plan) = crate::plan::parse(Path::new("release.yaml"), text.as_bytes()) else {
            return;
        };
        let _ = crate::plan::warnings(&plan);
        let Ok(artifact) = Artifact::parse(&format!("sha256:{HEX}"), &plan.artifact_name) else {
            return;
        };
        let targets: Vec<String> = plan.environments.iter().map(|e| e.name.clone()).collect();
        let names = template::secret_names(&plan);
        let secrets = Secrets::from_values(names.iter().map(|n| (n.clone(), format!("<{n}>"))));
        let ordinary = crate::clock::at("2026-11-30T10:00:00Z");
        let live = |since| Live {
            release: "checkout-0123456789ab".into(),
            by: "a@b.io".into(),
            artifact: format!("ghcr.io/acme/checkout@sha256:{}", "0".repeat(64)),
            digest: format!("sha256:{}", "0".repeat(64)),
            version: "1.0.0".into(),
            since,
        };
        for (now, since) in [
            (ordinary, ordinary),
            (DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MIN_UTC),
            (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC),
        ] {
            let empty = BTreeMap::new();
            let busy: BTreeMap<String, EnvFile> = targets
                .iter()
                .map(|name| {
                    let file = EnvFile {
                        environment: name.clone(),
                        live: Some(live(since)),
                        ..EnvFile::default()
                    };
                    (name.clone(), file)
                })
                .collect();
            for envs in [&empty, &busy] {
                let recorded = Recorded {
                    release: None,
                    envs,
                };
                let planned = actions(&plan, &artifact, &targets, &secrets, recorded, now);
                assert!(!planned.is_empty());
            }
        }
        for env in &plan.environments {
            for step in &env.steps {
                match &step.kind {
                    StepKind::Pause(d) => {
                        assert!(crate::duration::after(ordinary, *d).is_some(), "{d:?}");
                    }
                    StepKind::Analysis(name) => {
                        let analysis = &plan.analyses[&name.raw];
                        let last = analysis.round_at(ordinary, analysis.count - 1);
                        assert!(last.is_some(), "{analysis:?}");
                    }
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn the_shape_plans() {
        let text = fill(&[]);
        if let Err(d) = crate::plan::parse(Path::new("release.yaml"), text.as_bytes()) {
            panic!("{d}");
        }
        plan_without_panic(&text);
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn every_valid_plan_can_be_planned(text in shaped()) {
            plan_without_panic(&text);
        }

        #[test]
        fn every_valid_mutated_plan_can_be_planned(
            base in 0..3usize,
            mutations in proptest::collection::vec(mutation(), 1..4),
        ) {
            let mut text = [EXAMPLE.to_string(), SMALL.to_string(), fill(&[])][base].clone();
            for m in &mutations {
                text = apply(&text, m);
            }
            plan_without_panic(&text);
        }
    }
}
