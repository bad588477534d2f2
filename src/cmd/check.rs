//! `relctl check`: every gate of one environment, evaluated now, as promote would
//! evaluate them; reads the record, takes no lock and records nothing.

use serde_json::{Value, json};

use super::Context;
use crate::engine::{self, Decision, Inputs, Rule, decide};
use crate::error::{Error, Exit};
use crate::format;
use std::collections::BTreeMap;

use crate::analysis::Phase;
use crate::plan::{Analysis, Environment, Plan, StepKind};
use crate::runner::context::{Deployable, Scope};
use crate::runner::{Header, Options};
use crate::ui::OutputMode;

/// Show what would block a promotion into an environment, changing nothing
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit 0 when nothing blocks, 6 when a policy does, 5 when another release holds the environment: what `promote --env ENV` would reach now."
)]
pub struct Args {
    /// The environment to check
    #[arg(long, value_name = "ENV", add = clap_complete::ArgValueCandidates::new(crate::complete::environments))]
    pub env: String,

    /// The artifact (default: the release live in the environment before ENV)
    #[arg(long, value_name = "REF")]
    pub artifact: Option<String>,
}

/// One gate's answer: `pass`, `blocks`, `waits` (for people: approvals); an analysis
/// metric's `pass`, `fails`, `unsure`, `error` or `skipped`.
struct Gate {
    gate: String,
    verdict: &'static str,
    detail: String,
}

/// The gates a promotion into an environment passes, in the order promote meets them.
/// More gates are more entries here.
const POLICY: [Rule; 5] = [
    Rule::RejectedBefore,
    Rule::Order,
    Rule::Soak,
    Rule::Freeze,
    Rule::Window,
];

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<()> {
    let (plan, artifact) = match &args.artifact {
        Some(reference) => {
            let (plan, artifact) = super::plan_and_artifact(ctx, reference)?;
            (plan, Some(artifact))
        }
        None => (super::load_plan(ctx)?, None),
    };
    let release = artifact.as_ref().map(|a| a.release_id(&plan.app));
    let env = super::environment(&plan, &args.env)?;
    let (store, _) = super::read_record(ctx, &plan)?;
    let snapshot = store.snapshot()?;
    let envs = format::read_envs(
        &snapshot,
        &plan.app,
        plan.environments.iter().map(|e| e.name.as_str()),
    )?;
    let release = release.or_else(|| previous_live(&plan, env, &envs).map(|l| l.release.clone()));
    let file = match &release {
        Some(id) => format::read_release(&snapshot, &plan.app, id)?,
        None => None,
    };
    let state = engine::fold(file.as_ref());
    let now = crate::clock::now();
    let targets = [env.name.clone()];
    let mut gates = Vec::new();
    let verdict = match &release {
        Some(id) => {
            let inputs = Inputs {
                plan: &plan,
                release: id,
                state: &state,
                envs: &envs,
                targets: &targets,
                now,
                lifted: &[],
            };
            let blocking = decide::blocking_rules(&inputs, &env.name);
            for rule in POLICY {
                gates.push(policy_gate(rule, &blocking));
            }
            engine::next(&inputs)
        }
        None => {
            // No release to ask about: only the gates that hold for any release.
            let closed = decide::window_rule(env, now);
            for rule in [Rule::Freeze, Rule::Window] {
                gates.push(policy_gate(rule, closed.as_slice()));
            }
            match closed {
                Some((rule, reason)) => Decision::Blocked {
                    env: env.name.clone(),
                    rule,
                    reason,
                },
                None => Decision::Enter {
                    env: env.name.clone(),
                },
            }
        }
    };
    gates.push(lock_gate(&envs, env, release.as_deref()));
    gates.extend(approval_gates(env));
    let target = match (&artifact, &release) {
        (Some(artifact), Some(id)) => Some(Deployable {
            release: id.clone(),
            artifact: artifact.to_string(),
            name: artifact.name.clone(),
            digest: artifact.digest(),
            version: file
                .as_ref()
                .map_or_else(|| artifact.short().to_string(), |f| f.version.clone()),
        }),
        (None, Some(id)) => previous_live(&plan, env, &envs)
            .filter(|l| l.release == *id)
            .map(Deployable::from),
        _ => None,
    };
    let baseline = envs.get(&env.name).and_then(|f| f.live.clone());
    drop(snapshot);
    gates.extend(analysis_gates(
        ctx,
        &plan,
        env,
        store,
        target,
        baseline.as_ref(),
    ));
    let (word, reason, exit) = match &verdict {
        Decision::Blocked { reason, .. } => ("blocked", reason.clone(), Some(Exit::Blocked)),
        Decision::Busy { holder, .. } => (
            "busy",
            format!("{} is locked by {holder}", env.name),
            Some(Exit::Busy),
        ),
        Decision::Done => ("live", format!("already live in {}", env.name), None),
        _ => ("pass", "nothing blocks".to_string(), None),
    };
    if ctx.printer.mode() == OutputMode::Json {
        ctx.printer.json(&json!({
            "env": env.name,
            "release": release,
            "verdict": word,
            "reason": reason,
            "gates": gates.iter().map(|g| json!({
                "gate": g.gate, "verdict": g.verdict, "detail": g.detail,
            })).collect::<Vec<Value>>(),
        }))?;
    } else {
        ctx.printer
            .data(&table(&plan, env, release.as_deref(), &gates))?;
    }
    match (exit, &verdict) {
        (Some(exit), Decision::Blocked { rule, .. }) => Err(Error::new(
            exit,
            format!(
                "{}: cannot enter {}: {reason}",
                release.as_deref().unwrap_or("a release"),
                env.name
            ),
        )
        .with_hint(crate::runner::lift_hint(*rule))
        .into()),
        (Some(exit), _) => Err(Error::new(exit, reason).into()),
        (None, _) => Ok(()),
    }
}

/// What is live in the environment before `env`.
fn previous_live<'e>(
    plan: &Plan,
    env: &Environment,
    envs: &'e BTreeMap<String, engine::EnvFile>,
) -> Option<&'e engine::Live> {
    let position = plan.environments.iter().position(|e| e.name == env.name)?;
    let previous = &plan.environments[position.checked_sub(1)?];
    envs.get(&previous.name)?.live.as_ref()
}

/// Each metric of the environment's analysis steps, measured once now against its
/// provider, as the analysis' first round would measure it. Shown, not counted in the
/// verdict: promote enters, and the analysis decides during the run. A metric that
/// compares the canary with the baseline needs a run's samples and is not measured.
fn analysis_gates(
    ctx: &Context,
    plan: &Plan,
    env: &Environment,
    store: crate::record::Store,
    target: Option<Deployable>,
    baseline: Option<&engine::Live>,
) -> Vec<Gate> {
    let steps: Vec<(usize, &Analysis)> = env
        .steps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match &s.kind {
            StepKind::Analysis(name) => plan.analyses.get(&name.raw).map(|a| (i, a)),
            _ => None,
        })
        .collect();
    if steps.is_empty() {
        return Vec::new();
    }
    let Some(target) = target else {
        return vec![Gate {
            gate: "analysis".into(),
            verdict: "skipped",
            detail: "no release to measure (give --artifact)".into(),
        }];
    };
    let header = Header {
        release: target.release.clone(),
        app: plan.app.clone(),
        artifact: target.artifact.clone(),
        digest: target.digest.clone(),
        version: target.version.clone(),
        source_commit: None,
        source_commit_time: None,
        notes: None,
    };
    let measured =
        super::release::runner(ctx, plan, store, header, Options::default()).and_then(|runner| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            Ok(rt.block_on(measure(&runner, env, &steps, &target, baseline)))
        });
    measured.unwrap_or_else(|e| {
        vec![Gate {
            gate: "analysis".into(),
            verdict: "error",
            detail: format!("{e:#}"),
        }]
    })
}

async fn measure(
    runner: &crate::runner::Runner<'_>,
    env: &Environment,
    steps: &[(usize, &Analysis)],
    target: &Deployable,
    baseline: Option<&engine::Live>,
) -> Vec<Gate> {
    let mut gates = Vec::new();
    for (index, analysis) in steps {
        let scope = Scope {
            plan: runner.plan,
            secrets: &runner.secrets,
            env: &env.name,
            target,
            baseline,
            step: *index,
            weight: crate::runner::steps::step_weight(env, *index),
            response: None,
            place: None,
        };
        for metric in &analysis.metrics {
            let gate = format!("analysis (step {}): {}", index + 1, metric.name);
            if metric.compare.is_some() {
                gates.push(Gate {
                    gate,
                    verdict: "skipped",
                    detail: "compares the canary with the baseline over a run".into(),
                });
                continue;
            }
            let m = runner.measure_now(metric, &scope).await;
            let value = m
                .value
                .map_or_else(|| "no data".to_string(), |v| format!("value {v}"));
            gates.push(Gate {
                gate,
                verdict: match m.phase {
                    Phase::Successful => "pass",
                    Phase::Failed => "fails",
                    Phase::Inconclusive => "unsure",
                    Phase::Error => "error",
                },
                detail: m.message.unwrap_or(value),
            });
        }
    }
    gates
}

fn policy_gate(rule: Rule, blocking: &[(Rule, String)]) -> Gate {
    match blocking.iter().find(|(r, _)| *r == rule) {
        Some((_, why)) => Gate {
            gate: rule.name().to_string(),
            verdict: "blocks",
            detail: why.clone(),
        },
        None => Gate {
            gate: rule.name().to_string(),
            verdict: "pass",
            detail: String::new(),
        },
    }
}

fn lock_gate(
    envs: &BTreeMap<String, engine::EnvFile>,
    env: &Environment,
    release: Option<&str>,
) -> Gate {
    match envs.get(&env.name).and_then(|f| f.lock.as_ref()) {
        Some(lock) if Some(lock.release.as_str()) != release => Gate {
            gate: "lock".into(),
            verdict: "blocks",
            detail: format!("locked by {} (by {})", lock.release, lock.by),
        },
        _ => Gate {
            gate: "lock".into(),
            verdict: "pass",
            detail: String::new(),
        },
    }
}

/// The approvals a promotion will wait for: the environment's, then each step's.
fn approval_gates(env: &Environment) -> Vec<Gate> {
    let own = env.approval.iter().map(|a| ("approval".to_string(), a));
    let steps = env
        .steps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match &s.kind {
            StepKind::Approval(a) => a
                .as_ref()
                .or(env.approval.as_ref())
                .map(|a| (format!("approval (step {})", i + 1), a)),
            _ => None,
        });
    own.chain(steps)
        .map(|(gate, a)| Gate {
            gate,
            verdict: "waits",
            detail: format!(
                "needs {} approval{} from {}",
                a.min,
                if a.min == 1 { "" } else { "s" },
                a.approvers.join(", ")
            ),
        })
        .collect()
}

fn table(plan: &Plan, env: &Environment, release: Option<&str>, gates: &[Gate]) -> String {
    let width = gates.iter().map(|g| g.gate.len()).max().unwrap_or(0).max(4);
    let mut text = format!(
        "gates of {} ({}) for {}:\n",
        env.name,
        plan.app,
        release.unwrap_or("any release (no --artifact, nothing live before)")
    );
    for g in gates {
        let line = format!("  {:<width$}  {:<6}  {}", g.gate, g.verdict, g.detail);
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}
