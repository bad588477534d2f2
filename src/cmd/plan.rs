//! `relctl plan`: the dry run of promote. Reads the record, changes nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::Context;
use crate::artifact::Artifact;
use crate::engine::{
    self, Decision, EnvFile, Event, EventKind, Live, ReleaseFile, ReleaseState, Rule, decide,
};
use crate::error::Error;
use crate::format;
use crate::plan::{Approval, Environment, Plan, StepKind, Target, template};
use crate::providers::Secrets;
use crate::runner::context::{Deployable, Scope};
use crate::runner::{self, steps};
use crate::ui::OutputMode;

/// Show what promote would do, templates rendered and secrets masked
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The artifact: NAME@sha256:<64 hex>, or a bare sha256:<64 hex>
    #[arg(long, value_name = "REF")]
    pub artifact: String,

    /// Plan up to this environment (default: the last)
    #[arg(long, value_name = "ENV", add = clap_complete::ArgValueCandidates::new(crate::complete::environments))]
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
    }
    .with("url credentials", template::url_credentials(&plan));
    let (store, _) = super::read_record(ctx, &plan)?;
    let snapshot = store.snapshot()?;
    let id = artifact.release_id(&plan.app);
    let file = format::read_release(&snapshot, &plan.app, &id)?;
    if let Some(file) = &file {
        super::release::same_digest(file, &artifact)?;
    }
    let envs = format::read_envs(
        &snapshot,
        &plan.app,
        plan.environments.iter().map(|e| e.name.as_str()),
    )?;
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
        ctx.printer
            .json(&json!({ "release": id, "actions": actions }))?;
    } else {
        let mut text = format!("plan for {id} ({}):\n", artifact);
        for a in &actions {
            text.push_str(&format!("  {}\n", line(a)));
        }
        ctx.printer.data(&text)?;
    }
    unprepared(&actions)
}

/// A step that cannot be prepared (a template naming what a target or the plan does not
/// define) is exit 2 after the plan is shown: promote would fail there.
fn unprepared(actions: &[Value]) -> anyhow::Result<()> {
    let Some((a, error)) = actions
        .iter()
        .find_map(|a| a["request"]["error"].as_str().map(|e| (a, e)))
    else {
        return Ok(());
    };
    let place = match a["target"].as_str() {
        Some(target) => format!("{}/{target}", a["env"].as_str().unwrap_or_default()),
        None => a["env"].as_str().unwrap_or_default().to_string(),
    };
    Err(Error::usage(format!(
        "{place} step {} {}: {error}",
        a["step"],
        a["action"].as_str().unwrap_or_default()
    ))
    .with_hint("promote would fail at this step: define the name (a target's own `vars`, the plan's `vars`) or correct the template")
    .into())
}

/// What the record says about the release and the environments.
#[derive(Clone, Copy)]
pub struct Recorded<'a> {
    pub release: Option<&'a ReleaseFile>,
    pub envs: &'a BTreeMap<String, EnvFile>,
}

/// What promote would do through `targets`, one JSON object per action. The walk is
/// promote's: the engine decides each next action (src/engine/decide.rs), and the walk
/// records in memory what promote would record, so what plan shows cannot drift from
/// what promote does. A rule or lock that would stop promote is shown, then passed as
/// `--force`, `--override-freeze` or a freed lock would pass it, to show the rest. No
/// I/O: every plan that validates can be planned, whatever the record holds.
pub fn actions(
    plan: &Plan,
    artifact: &Artifact,
    targets: &[String],
    secrets: &Secrets,
    recorded: Recorded,
    now: DateTime<Utc>,
) -> Vec<Value> {
    let file = recorded.release;
    let id = artifact.release_id(&plan.app);
    let mut walk = Walk {
        plan,
        secrets,
        target: Deployable {
            release: id.clone(),
            artifact: artifact.to_string(),
            name: artifact.name.clone(),
            digest: artifact.digest(),
            version: file.map_or_else(|| artifact.short().to_string(), |f| f.version.clone()),
        },
        state: engine::fold(file),
        envs: recorded.envs.clone(),
        lifted: Vec::new(),
        now,
        actions: Vec::new(),
    };
    // Targets before `shown` have been spoken of; the engine passes by those it is live in.
    let mut shown = 0;
    // Each turn records events or lifts one rule: a bound, never reached by a valid plan.
    let longest = plan.environments.iter().map(|e| e.steps.len()).max();
    let turns = targets.len() * (longest.unwrap_or(0) + 16) * 4;
    for _ in 0..turns {
        let decision = engine::next(&engine::Inputs {
            plan,
            release: &id,
            state: &walk.state,
            envs: &walk.envs,
            targets,
            now,
            lifted: &walk.lifted,
        });
        let at = decided_env(&decision).and_then(|env| targets.iter().position(|t| t == env));
        for skipped in targets.iter().take(at.unwrap_or(targets.len())).skip(shown) {
            // Passed on the way further, and replaced there since: not said to be live.
            let why = match walk.envs.get(skipped).and_then(|f| f.live.as_ref()) {
                Some(live) if live.release != id => {
                    format!("went live here before; {} runs here now", live.release)
                }
                _ => "already live".to_string(),
            };
            walk.show(json!({ "env": skipped, "action": "skip", "why": why }));
        }
        shown = shown.max(at.map_or(targets.len(), |p| p + 1));
        if !walk.turn(decision) {
            break;
        }
    }
    walk.actions
}

/// The environment a decision is about; `None` when the release is done.
fn decided_env(decision: &Decision) -> Option<&str> {
    match decision {
        Decision::Done => None,
        Decision::Blocked { env, .. }
        | Decision::Busy { env, .. }
        | Decision::Enter { env }
        | Decision::Step { env, .. }
        | Decision::Wave { env, .. }
        | Decision::AwaitApproval { env, .. }
        | Decision::MarkLive { env }
        | Decision::RollBack { env, .. } => Some(env),
    }
}

/// Promote's walk in memory: the release's state and the environments' files as promote
/// would leave them, the rules passed so far in the environment being entered, and the
/// actions shown.
struct Walk<'a> {
    plan: &'a Plan,
    secrets: &'a Secrets,
    target: Deployable,
    state: ReleaseState,
    envs: BTreeMap<String, EnvFile>,
    lifted: Vec<Rule>,
    now: DateTime<Utc>,
    actions: Vec<Value>,
}

impl Walk<'_> {
    fn show(&mut self, action: Value) {
        self.actions.push(action);
    }

    /// Shows what promote would do for `decision` and records it; `false` when promote
    /// would go no further.
    fn turn(&mut self, decision: Decision) -> bool {
        match decision {
            Decision::Done => return false,
            Decision::Blocked { env, rule, reason } => {
                self.show(
                    json!({ "env": env, "action": "blocked", "rule": rule.name(), "why": reason }),
                );
                self.lifted.push(rule);
            }
            Decision::Busy { env, holder, .. } => {
                self.show(json!({ "env": env, "action": "blocked", "rule": "lock", "why": format!("locked by {holder}") }));
                if let Some(file) = self.envs.get_mut(&env) {
                    file.lock = None;
                }
            }
            Decision::Enter { env } => {
                // The budget is read as promote enters: its queries, never read here.
                if let Some(slo) = self
                    .plan
                    .environment(&env)
                    .and_then(|e| e.error_budget.as_ref())
                {
                    self.show(json!({
                        "env": env,
                        "action": "error_budget",
                        "gate": "entry",
                        "request": { "error_budget": runner::budget::describe(slo) },
                    }));
                }
                let baseline = self.envs.get(&env).and_then(|f| f.live.clone());
                self.record(&env, EventKind::Entered { baseline });
                self.lifted.clear();
            }
            Decision::Step { env, index } => return self.step(&env, index, None),
            Decision::Wave { env, wave, .. } => return self.wave(&env, wave),
            Decision::AwaitApproval {
                env,
                step,
                approval,
                have,
            } => return self.approval(&env, step, &approval, &have),
            Decision::MarkLive { env } => self.mark_live(&env),
            Decision::RollBack { env, reason } => {
                self.show(json!({ "env": env, "action": "roll back", "why": reason }));
                return false;
            }
        }
        true
    }

    /// Step `index` as promote would prepare it (an approval step is shown where the
    /// engine waits at it), then done.
    fn step(&mut self, env_name: &str, index: usize, place: Option<&Target>) -> bool {
        let Some(env) = self.plan.environment(env_name) else {
            return false;
        };
        let run = self.state.env(env_name);
        let on = place.map(|t| t.name.as_str());
        let scope = Scope {
            plan: self.plan,
            secrets: self.secrets,
            env: env_name,
            target: &self.target,
            baseline: run.baseline.as_ref(),
            step: index,
            weight: steps::step_weight(env, index),
            response: None,
            place,
        };
        let action = env.steps[index].kind.name();
        if !matches!(env.steps[index].kind, StepKind::Approval(_))
            && let Some(request) = step_request(
                env,
                index,
                &scope,
                // The walk has entered the environment in memory: its visit is promote's.
                steps::Visit::recorded(&self.target.release, env_name, &run).of_target(on),
            )
        {
            let mut shown =
                json!({ "env": env_name, "step": index + 1, "action": action, "request": request });
            if let Some(target) = on {
                shown["target"] = json!(target);
            }
            self.show(shown);
        }
        let done = EventKind::StepDone {
            step: index,
            action: action.into(),
            detail: Value::Null,
            ms: 0,
        };
        self.record_at(env_name, on, done);
        true
    }

    /// A wave of an environment with targets: which targets, how many at a time, then
    /// each target's steps as promote would prepare them for it.
    fn wave(&mut self, env_name: &str, wave: usize) -> bool {
        let plan = self.plan;
        let Some(env) = plan.environment(env_name) else {
            return false;
        };
        let Some(spec) = env.waves.get(wave) else {
            return false;
        };
        // A target that runs the release already (a visit for one added since) is
        // left alone, as promote leaves it.
        let file = self.envs.get(env_name).cloned().unwrap_or_default();
        let release = self.target.release.clone();
        let targets: Vec<&Target> = spec
            .targets
            .iter()
            .filter_map(|t| env.target(&t.raw))
            .filter(|t| !crate::format::targets::runs_already(&file, &t.name, &release))
            .collect();
        let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
        let mut shown = json!({ "env": env_name, "action": "wave", "wave": wave + 1, "waves": env.waves.len(), "targets": names, "parallel": spec.parallel });
        if let Some(soak) = spec.soak {
            shown["soak"] = json!(crate::duration::format(soak));
        }
        self.show(shown);
        for target in targets {
            for index in 0..env.steps.len() {
                if !self.step(env_name, index, Some(target)) {
                    return false;
                }
            }
            self.record_at(env_name, Some(&target.name), EventKind::Live);
            // As promote records it in the environment file: the target runs the
            // release (what tells a visit for targets added since that it is done).
            let all: Vec<&str> = env.targets.iter().map(|t| t.name.as_str()).collect();
            let file = self.envs.entry(env_name.to_string()).or_default();
            crate::format::targets::runs(file, &all, &target.name, &release);
        }
        true
    }

    /// The gate promote would wait at, then the approvals still missing there, from
    /// approvers the rule allows; `false` when there are not enough of them (only the
    /// release's starter could approve).
    fn approval(
        &mut self,
        env: &str,
        step: Option<usize>,
        approval: &Approval,
        have: &[String],
    ) -> bool {
        let wanted =
            json!({ "approvers": approval.approvers, "min": approval.min, "have": have.len() });
        self.show(match step {
            None => json!({ "env": env, "action": "approval", "approvers": approval.approvers, "min": approval.min, "have": have.len() }),
            Some(index) => json!({ "env": env, "step": index + 1, "action": "approval", "request": wanted }),
        });
        let started_by = self.state.started_by.clone();
        let missing = (approval.min as usize).saturating_sub(have.len());
        let approvers: Vec<String> = approval
            .approvers
            .iter()
            .flat_map(|pattern| match pattern.strip_prefix("*@") {
                Some(domain) => (1..=approval.min + 1)
                    .map(|n| format!("approver-{n}@{domain}"))
                    .collect(),
                None => vec![pattern.clone()],
            })
            .filter(|who| !have.iter().any(|h| decide::same_person(h, who)))
            .filter(|who| decide::approver_allowed(approval, who, started_by.as_deref()).is_ok())
            .take(missing)
            .collect();
        if approvers.len() < missing {
            self.show(json!({ "env": env, "action": "blocked", "rule": "approval", "why": format!("{} approval(s) from {} cannot be given by anyone but the release's starter", approval.min, approval.approvers.join(", ")) }));
            return false;
        }
        for by in approvers {
            let approved = EventKind::Approved {
                step,
                by,
                comment: None,
            };
            self.record(env, approved);
        }
        true
    }

    fn mark_live(&mut self, env: &str) {
        self.show(json!({ "env": env, "action": "live" }));
        self.record(env, EventKind::Live);
        let live = Live {
            release: self.target.release.clone(),
            by: String::new(),
            artifact: self.target.artifact.clone(),
            digest: self.target.digest.clone(),
            version: self.target.version.clone(),
            since: self.now,
        };
        let file = self.envs.entry(env.to_string()).or_default();
        file.live = Some(live);
        file.lock = None;
    }

    /// Records `kind` in `env`, in memory.
    fn record(&mut self, env: &str, kind: EventKind) {
        self.record_at(env, None, kind);
    }

    /// Records `kind` in `env`, about `target` when it is one target's, in memory.
    fn record_at(&mut self, env: &str, target: Option<&str>, kind: EventKind) {
        self.state.then(&Event {
            at: self.now,
            actor: String::new(),
            env: Some(env.to_string()),
            target: target.map(str::to_string),
            kind,
            relctl: String::new(),
            plan: String::new(),
            ci: None,
            actor_source: None,
        });
    }
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
        StepKind::ErrorBudget => {
            json!({ "error_budget": env.error_budget.as_ref().map(runner::budget::describe) })
        }
        StepKind::Flag(flag) => {
            let provider = plan.flag_provider(flag);
            json!({
                "flag": flag.name,
                "change": flag.action(),
                "provider": provider.map(|(name, _)| name),
                "environment": provider.and_then(|(_, p)| p.environment(&env.name)),
            })
        }
        StepKind::Approval(own) => {
            let approval = own.as_ref().or(env.approval.as_ref());
            json!({ "approvers": approval.map(|a| a.approvers.clone()), "min": approval.map(|a| a.min) })
        }
        // Deploy, pause, http and exec: prepared as promote prepares them.
        _ => {
            let provider = plan.deploy_providers.get(&env.deploy_of(scope.place).raw);
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

/// `error_budget 99.9% over 30d from prom`, then a line per query it asks.
fn budget_lines(r: &Value) -> String {
    let mut text = format!(
        "error_budget {}% over {} from {}",
        r["objective"],
        r["period"].as_str().unwrap_or_default(),
        r["provider"].as_str().unwrap_or_default()
    );
    for query in r["queries"].as_array().into_iter().flatten() {
        text.push_str(&format!(
            "\n{:<24}{}",
            "",
            query.as_str().unwrap_or_default()
        ));
    }
    text
}

fn line(a: &Value) -> String {
    let env = match a["target"].as_str() {
        Some(target) => format!("{}/{target}", a["env"].as_str().unwrap_or_default()),
        None => a["env"].as_str().unwrap_or_default().to_string(),
    };
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
        "skip" => a["why"].as_str().unwrap_or("already live").to_string(),
        "roll back" => format!("would roll back: {}", a["why"].as_str().unwrap_or_default()),
        "live" => "mark live".into(),
        "wave" => {
            let names: Vec<&str> = a["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let soak = a["soak"]
                .as_str()
                .map(|s| format!(", then soak {s}"))
                .unwrap_or_default();
            format!(
                "wave {}/{}: {} ({} at a time{soak})",
                a["wave"],
                a["waves"],
                names.join(", "),
                a["parallel"]
            )
        }
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
        "error_budget" if a["gate"] == "entry" => format!(
            "before entering, read (not here: `relctl check` reads it): {}",
            budget_lines(&a["request"]["error_budget"])
        ),
        "error_budget" => budget_lines(&a["request"]["error_budget"]),
        "flag" => {
            let r = &a["request"];
            format!(
                "{} (flag provider {}, its environment {}; what it was before is recorded and put back on a rollback)",
                r["change"].as_str().unwrap_or_default(),
                r["provider"].as_str().unwrap_or("?"),
                r["environment"].as_str().unwrap_or("?")
            )
        }
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
