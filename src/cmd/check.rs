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
use crate::runner::budget::BudgetRead;
use crate::runner::context::{Deployable, Scope};
use crate::runner::{Header, Options, Runner};
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
        None => (super::load_plan_to_run(ctx)?, None),
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
    // Another digest's release under the same id is refused, as promote refuses it.
    if let (Some(file), Some(artifact)) = (&file, &artifact) {
        super::release::same_digest(file, artifact)?;
    }
    let state = engine::fold(file.as_ref());
    let now = crate::clock::now();
    let targets = [env.name.clone()];
    let mut gates = Vec::new();
    let mut verdict = match &release {
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
    let lock = lock_gate(&envs, env, release.as_deref());
    drop(snapshot);
    // One runner, recording nothing, for what is measured: the budget and the analyses.
    let runner = super::release::runner(
        ctx,
        &plan,
        store,
        header(&plan, target.as_ref()),
        Options::default(),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut awaiting = None;
    if let Decision::AwaitApproval {
        step: None,
        approval,
        have,
        ..
    } = &verdict
    {
        awaiting = Some(format!(
            "waits for {} approval{} ({} so far)",
            approval.min,
            if approval.min == 1 { "" } else { "s" },
            have.len()
        ));
    }
    if env.error_budget.is_some() {
        let (mut gate, blocked) = budget_gate(&runner, &rt, env);
        // Promote reads the budget as it is about to enter, after every other policy,
        // and again before the first deploy after the environment's approval.
        let read_next = match &verdict {
            Decision::Enter { .. } => true,
            Decision::AwaitApproval { step: None, .. } => true,
            Decision::Step { index: 0, .. } | Decision::Wave { wave: 0, .. } => {
                env.approval.is_some()
            }
            _ => false,
        };
        match blocked {
            Some(why) if read_next => {
                let reason = match &awaiting {
                    Some(waits) => format!("{waits}; once approved, resume would stop: {why}"),
                    None => why,
                };
                verdict = Decision::Blocked {
                    env: env.name.clone(),
                    rule: Rule::ErrorBudget,
                    reason,
                };
            }
            Some(why) => {
                gate.verdict = "skipped";
                gate.detail = format!(
                    "not read again at this point of the rollout (only before entering and after its approval): {why}"
                );
            }
            None => {}
        }
        gates.push(gate);
    }
    gates.push(lock);
    gates.extend(approval_gates(env));
    gates.extend(analysis_gates(
        &runner,
        &rt,
        &plan,
        env,
        target,
        baseline.as_ref(),
    ));
    gates.extend(flag_gates(&runner, &rt, env));
    let (word, reason, exit) = match &verdict {
        Decision::Blocked { reason, .. } => ("blocked", reason.clone(), Some(Exit::Blocked)),
        Decision::Busy { holder, .. } => (
            "busy",
            format!("{} is locked by {holder}", env.name),
            Some(Exit::Busy),
        ),
        Decision::Done => ("live", format!("already live in {}", env.name), None),
        _ => match &awaiting {
            Some(waits) => (
                "pass",
                format!("{waits}; once approved, nothing blocks"),
                None,
            ),
            None => ("pass", "nothing blocks".to_string(), None),
        },
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
/// compares the canary with the baseline is compared once over the analysis' span.
fn analysis_gates(
    runner: &anyhow::Result<Runner<'_>>,
    rt: &tokio::runtime::Runtime,
    plan: &Plan,
    env: &Environment,
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
    match runner {
        Ok(runner) => rt.block_on(measure(runner, env, &steps, &target, baseline)),
        Err(e) => vec![Gate {
            gate: "analysis".into(),
            verdict: "error",
            detail: format!("{e:#}"),
        }],
    }
}

/// Each flag the environment's steps switch, read now as its first flag step would read
/// it (the token, the flag, the Unleash environment): shown, not counted in the exit.
fn flag_gates(
    runner: &anyhow::Result<Runner<'_>>,
    rt: &tokio::runtime::Runtime,
    env: &Environment,
) -> Vec<Gate> {
    let mut seen = std::collections::BTreeSet::new();
    let flags = env.steps.iter().filter_map(|s| match &s.kind {
        StepKind::Flag(flag) if seen.insert(flag.name.clone()) => Some(flag),
        _ => None,
    });
    flags
        .map(|flag| {
            let gate = format!("flag {}", flag.name);
            let read = match runner {
                Ok(runner) => rt.block_on(runner.flag_now(&env.name, flag)),
                Err(e) => Err(format!("{e:#}")),
            };
            match read {
                Ok(state) => Gate {
                    gate,
                    verdict: "pass",
                    detail: format!("{} now; its flag provider answers", state.summary()),
                },
                Err(e) => Gate {
                    gate,
                    verdict: "error",
                    detail: e,
                },
            }
        })
        .collect()
}

/// The environment's error budget, read and judged as promote reads it before entering,
/// recorded nowhere; and why it says no.
fn budget_gate(
    runner: &anyhow::Result<Runner<'_>>,
    rt: &tokio::runtime::Runtime,
    env: &Environment,
) -> (Gate, Option<String>) {
    let gate = Rule::ErrorBudget.name().to_string();
    let read = match runner {
        Ok(runner) => rt.block_on(runner.judge_budget(&env.name)),
        Err(e) => {
            let why = format!("its error budget could not be read: {e:#}");
            return (
                Gate {
                    gate,
                    verdict: "blocks",
                    detail: why.clone(),
                },
                Some(why),
            );
        }
    };
    match read {
        Some(BudgetRead {
            blocked: Some(why), ..
        }) => (
            Gate {
                gate,
                verdict: "blocks",
                detail: why.clone(),
            },
            Some(why),
        ),
        Some(read) => (
            Gate {
                gate,
                verdict: "pass",
                detail: read.summary,
            },
            None,
        ),
        None => (
            Gate {
                gate,
                verdict: "pass",
                detail: String::new(),
            },
            None,
        ),
    }
}

/// The header of the release asked about (an empty one when there is none: the budget
/// does not depend on it).
fn header(plan: &Plan, target: Option<&Deployable>) -> Header {
    let target = target.cloned().unwrap_or_else(|| Deployable {
        release: String::new(),
        artifact: String::new(),
        name: String::new(),
        digest: String::new(),
        version: String::new(),
    });
    Header {
        release: target.release,
        app: plan.app.clone(),
        artifact: target.artifact,
        digest: target.digest,
        version: target.version,
        source_commit: None,
        source_commit_time: None,
        notes: None,
    }
}

async fn measure(
    runner: &crate::runner::Runner<'_>,
    env: &Environment,
    steps: &[(usize, &Analysis)],
    target: &Deployable,
    baseline: Option<&engine::Live>,
) -> Vec<Gate> {
    let mut gates = Vec::new();
    // An environment with targets judges each target's canary (docs/plan.md, "`targets`
    // and `waves`"): each metric is measured once per target, as the run would.
    let places: Vec<Option<&crate::plan::Target>> = if env.targets.is_empty() {
        vec![None]
    } else {
        env.targets.iter().map(Some).collect()
    };
    for ((index, analysis), place) in steps
        .iter()
        .flat_map(|step| places.iter().map(move |place| (step, *place)))
    {
        let scope = Scope {
            plan: runner.plan,
            secrets: &runner.secrets,
            env: &env.name,
            target,
            baseline,
            step: *index,
            weight: crate::runner::steps::step_weight(env, *index),
            response: None,
            place,
        };
        for metric in &analysis.metrics {
            let gate = match place {
                Some(place) => format!(
                    "analysis (step {}): {} @ {}",
                    index + 1,
                    metric.name,
                    place.name
                ),
                None => format!("analysis (step {}): {}", index + 1, metric.name),
            };
            if metric.compare.is_some() {
                gates.push(compare_gate(runner, metric, &scope, analysis, gate).await);
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

/// A baseline comparison made once, over the span the analysis would run for, ending
/// now. Before promote deploys it, the release has rarely served in the environment: its
/// side is then empty and the comparison is no data, said as such.
async fn compare_gate(
    runner: &Runner<'_>,
    metric: &crate::plan::Metric,
    scope: &Scope<'_>,
    analysis: &Analysis,
    gate: String,
) -> Gate {
    let window = analysis.interval * analysis.count.max(1);
    let (m, compared) = runner.compare_now(metric, scope, window).await;
    let verdict = match m.phase {
        Phase::Successful => "pass",
        Phase::Failed => "fails",
        Phase::Inconclusive => "unsure",
        Phase::Error => "error",
    };
    let over = format!("over the last {}", crate::duration::format(window));
    let detail = match (compared, m.message) {
        (_, Some(message)) => format!("{over}: {message}"),
        (Some(c), None) if c.canary_points == 0 => format!(
            "{over}: {}: the release has not served here yet; promote compares it during the rollout",
            crate::analysis::comparison_summary(metric, &c)
        ),
        (Some(c), None) => format!(
            "{over}: {}",
            crate::analysis::comparison_summary(metric, &c)
        ),
        (None, None) => over,
    };
    Gate {
        gate,
        verdict,
        detail,
    }
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
