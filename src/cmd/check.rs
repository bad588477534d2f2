//! `relctl check`: every gate of one environment, evaluated now, as promote would
//! evaluate them; reads the record, takes no lock and records nothing.

use serde_json::{Value, json};

use super::Context;
use crate::engine::{self, Decision, Inputs, Rule, decide, window};
use crate::error::{Error, Exit};
use crate::format;
use crate::plan::{Environment, Plan, StepKind};
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

/// One gate's answer: `pass`, `blocks` or `waits` (for people: approvals).
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
    let (plan, release) = match &args.artifact {
        Some(reference) => {
            let (plan, artifact) = super::plan_and_artifact(ctx, reference)?;
            let id = artifact.release_id(&plan.app);
            (plan, Some(id))
        }
        None => (super::load_plan(ctx)?, None),
    };
    let env = super::environment(&plan, &args.env)?;
    let (store, _) = super::read_record(ctx, &plan)?;
    let snapshot = store.snapshot()?;
    let envs = format::read_envs(
        &snapshot,
        &plan.app,
        plan.environments.iter().map(|e| e.name.as_str()),
    )?;
    let release = release.or_else(|| {
        let position = plan.environments.iter().position(|e| e.name == env.name)?;
        let previous = &plan.environments[position.checked_sub(1)?];
        envs.get(&previous.name)?
            .live
            .as_ref()
            .map(|l| l.release.clone())
    });
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
            let closed = window::closed(&env.windows, now);
            let reason = closed.as_ref().map(|c| c.describe(&env.name, &env.windows));
            let rule = closed.map(|c| {
                if c.is_freeze() {
                    Rule::Freeze
                } else {
                    Rule::Window
                }
            });
            for r in [Rule::Freeze, Rule::Window] {
                let blocking: Vec<(Rule, String)> = rule
                    .filter(|b| *b == r)
                    .into_iter()
                    .zip(reason.clone())
                    .collect();
                gates.push(policy_gate(r, &blocking));
            }
            match (rule, reason) {
                (Some(rule), Some(reason)) => Decision::Blocked {
                    env: env.name.clone(),
                    rule,
                    reason,
                },
                _ => Decision::Enter {
                    env: env.name.clone(),
                },
            }
        }
    };
    gates.push(lock_gate(&envs, env, release.as_deref()));
    gates.extend(approval_gates(env));
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
    envs: &std::collections::BTreeMap<String, engine::EnvFile>,
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
