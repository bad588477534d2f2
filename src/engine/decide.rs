//! The next thing a release should do, decided from the plan, its events and the
//! environments' state files. Pure: no I/O, the clock is an argument.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::event::EnvFile;
use super::state::{EnvRun, Outcome, ReleaseState};
use crate::plan::{Approval, Environment, Plan, StepKind, TargetFailure};

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Live in every target environment.
    Done,
    /// A policy says no (exit 6).
    Blocked {
        env: String,
        rule: Rule,
        reason: String,
    },
    /// Another release holds the environment, or this release's own rollback that has
    /// not finished (exit 5). `holder` says who; `other` names the other release.
    Busy {
        env: String,
        holder: String,
        other: Option<String>,
    },
    /// Take the environment's lock and begin.
    Enter { env: String },
    /// Run step `index` (again, when its outcome was never recorded).
    Step { env: String, index: usize },
    /// Approvals are missing for a gate (`step: None` is the environment's own).
    AwaitApproval {
        env: String,
        step: Option<usize>,
        approval: Approval,
        have: Vec<String>,
    },
    /// Run wave `wave` of an environment with targets: every target of it not live yet
    /// runs the environment's steps, at most the wave's `parallel` at once, once the
    /// wave before has soaked (`not_before`).
    Wave {
        env: String,
        wave: usize,
        not_before: Option<DateTime<Utc>>,
    },
    /// Every step is done: mark the release live here.
    MarkLive { env: String },
    /// A gate failed or a person rejected: undo and redeploy what was live before.
    RollBack { env: String, reason: String },
}

/// Which rule blocked, so `--force` and `--override-freeze` know what they may lift.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Order,
    Soak,
    Freeze,
    /// A deployment window (`windows`) is closed; `--override-freeze` lifts it too.
    Window,
    RejectedBefore,
    /// The release went live here before and another release has replaced it since:
    /// promoting it again is a new visit, taken only with `--force` (README "Promote").
    Replaced,
    /// The environment's error budget (checked by the runner before it enters).
    ErrorBudget,
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Rule::Order => "order",
            Rule::Soak => "soak",
            Rule::Freeze => "freeze",
            Rule::Window => "window",
            Rule::RejectedBefore => "rejected-before",
            Rule::Replaced => "replaced",
            Rule::ErrorBudget => "error-budget",
        }
    }
}

pub struct Inputs<'a> {
    pub plan: &'a Plan,
    pub release: &'a str,
    pub state: &'a ReleaseState,
    pub envs: &'a BTreeMap<String, EnvFile>,
    pub targets: &'a [String],
    pub now: DateTime<Utc>,
    /// Rules lifted for this run (`--force` lifts order, soak, rejected-before, replaced and
    /// error-budget).
    pub lifted: &'a [Rule],
}

/// Why a release whose visit to `env` ended (`run`) is not taken there again: who
/// aborted it, when and why, or that it was rolled back (a failed gate, a rejection,
/// `relctl rollback`).
fn ended_in(release: &str, env: &str, run: &EnvRun) -> String {
    match &run.aborted {
        Some(halt) => format!("{release} was {} before", halt.describe_in(Some(env))),
        None => format!("{release} was rolled back in {env} before"),
    }
}

/// The environment before `env` (in the plan's order) where the release was rolled back
/// or aborted after it went on: a release waiting in `env` then cannot go further.
pub fn rolled_back_before<'p>(plan: &'p Plan, state: &ReleaseState, env: &str) -> Option<&'p str> {
    plan.environments
        .iter()
        .take_while(|e| e.name != env)
        .find(|e| {
            matches!(
                state.env(&e.name).outcome,
                Some(Outcome::RolledBack) | Some(Outcome::Aborted)
            )
        })
        .map(|e| e.name.as_str())
}

pub fn next(i: &Inputs) -> Decision {
    for env_name in i.targets {
        let Some(env) = i.plan.environment(env_name) else {
            continue;
        };
        let file = i.envs.get(env_name).cloned().unwrap_or_default();
        let run = i.state.env(env_name);
        let behind = targets_behind(env, &file, i.release);
        // `relctl rollback` or `relctl abort` started taking this release off here and
        // did not finish (its process stopped, or its redeploy failed): what runs here
        // is not known, so the release is neither live nor to be entered again; the
        // rollback's own command takes it over (README "Interrupts and crashes").
        if matches!(run.outcome, Some(Outcome::Live | Outcome::Aborted))
            && run.rollback_unfinished()
            && let Some(lock) = file.lock.as_ref().filter(|l| l.release == i.release)
        {
            // An abort goes back to what was live before the visit.
            let to = match run.outcome {
                Some(Outcome::Aborted) => run.back_to(),
                _ => "RELEASE",
            };
            return Decision::Busy {
                env: env_name.clone(),
                holder: format!(
                    "a rollback from {} (by {} since {}) that has not finished; if it \
                     stopped, `relctl rollback --env {env_name} --to {to}` takes it over",
                    i.release,
                    lock.by,
                    lock.since.format("%Y-%m-%d %H:%M:%SZ")
                ),
                other: None,
            };
        }
        // Live here before, and still: nothing to do. Replaced by another release since,
        // in the environment the run ends in: the gates below say so, and `--force`
        // enters again. Passed through on the way further, it stays passed.
        let replaced = replaced_in_last_target(i, env_name, &file);
        match run.outcome {
            Some(Outcome::Live) if !behind && !replaced => continue,
            Some(Outcome::RolledBack) | Some(Outcome::Aborted)
                if !i.lifted.contains(&Rule::RejectedBefore) =>
            {
                let went_on = i
                    .targets
                    .iter()
                    .skip_while(|t| *t != env_name)
                    .skip(1)
                    .find(|t| {
                        let later = i.state.env(t.as_str());
                        later.entered && later.outcome.is_none()
                    });
                let reason = match went_on {
                    Some(later) => format!(
                        "{0} was rolled back in {env_name} after it had gone on to {later}: it \
                         cannot go further (`relctl abort {0}` ends it and takes {later} back)",
                        i.release
                    ),
                    None => ended_in(i.release, env_name, &run),
                };
                return Decision::Blocked {
                    env: env_name.clone(),
                    rule: Rule::RejectedBefore,
                    reason,
                };
            }
            _ => {}
        }
        let live_here = file.live.as_ref().is_some_and(|l| l.release == i.release);
        if !run.entered || run.outcome.is_some() {
            if live_here && !behind {
                continue;
            }
            if let Some(blocked) = gates(i, env_name) {
                return blocked;
            }
            if let Some(lock) = &file.lock
                && lock.release != i.release
            {
                return Decision::Busy {
                    env: env_name.clone(),
                    holder: format!(
                        "{} (by {} since {})",
                        lock.release,
                        lock.by,
                        lock.since.format("%Y-%m-%d %H:%M:%SZ")
                    ),
                    other: Some(lock.release.clone()),
                };
            }
            return Decision::Enter {
                env: env_name.clone(),
            };
        }
        // Inside the environment.
        if let Some((by, reason)) = &run.rejected {
            return Decision::RollBack {
                env: env_name.clone(),
                reason: format!("rejected by {by}: {reason}"),
            };
        }
        if let Some(reason) = &run.gate_failed {
            return Decision::RollBack {
                env: env_name.clone(),
                reason: reason.clone(),
            };
        }
        if run.rolling_back {
            return Decision::RollBack {
                env: env_name.clone(),
                reason: "finishing an interrupted rollback".into(),
            };
        }
        if let Some(approval) = &env.approval
            && let Some(missing) = missing_approval(i, env_name, &run, None, approval)
        {
            return missing;
        }
        if !env.targets.is_empty() {
            let rollback = run
                .targets
                .iter()
                .find_map(|(name, t)| match &t.target_failed {
                    Some((TargetFailure::Rollback, error)) => Some((name, error)),
                    _ => None,
                });
            if let Some((name, error)) = rollback {
                return Decision::RollBack {
                    env: env_name.clone(),
                    reason: format!("target {name} failed: {error}"),
                };
            }
            return wave(env, &run, &file, i.release);
        }
        for (index, step) in env.steps.iter().enumerate() {
            let done = run.done.contains(&index);
            // A signed gate is passed only by the approvals counted for it, as the
            // environment's own is: a `step_done` of it recorded without them (by hand)
            // does not let the release past it.
            if let StepKind::Approval(own) = &step.kind
                && let Some(approval) = own.as_ref().or(env.approval.as_ref())
                && (!done || approval.signed)
                && let Some(missing) = missing_approval(i, env_name, &run, Some(index), approval)
            {
                return missing;
            }
            if done {
                continue;
            }
            return Decision::Step {
                env: env_name.clone(),
                index,
            };
        }
        return Decision::MarkLive {
            env: env_name.clone(),
        };
    }
    Decision::Done
}

/// Whether `release` is live in `env` but a target of the plan never received it: one
/// added to the plan since (the file records what each target runs, and lists none for
/// it). Promoting the release again visits the environment for those targets alone.
/// A target left behind (`targets_not_live`) is not one: it waits for a later release.
fn targets_behind(env: &Environment, file: &EnvFile, release: &str) -> bool {
    file.live.as_ref().is_some_and(|l| l.release == release)
        && crate::format::targets::recorded(file)
        && env.targets.iter().any(|t| {
            !file.targets_not_live.contains(&t.name)
                && crate::format::targets::of(file, &t.name).release.as_deref() != Some(release)
        })
}

/// Inside an environment with targets: the first wave with a target not live yet, else
/// the environment is live. A target that runs the release already (the environment
/// file says so: this visit is for a target added since) counts as live.
fn wave(env: &Environment, run: &EnvRun, file: &EnvFile, release: &str) -> Decision {
    for (index, wave) in env.waves.iter().enumerate() {
        // Live, or failed and left behind (`on_target_failure: continue`).
        let live = |name: &str| {
            run.targets.get(name).is_some_and(|t| {
                t.outcome == Some(Outcome::Live)
                    || matches!(t.target_failed, Some((TargetFailure::Continue, _)))
            }) || crate::format::targets::runs_already(file, name, release)
        };
        if wave.targets.iter().all(|t| live(&t.raw)) {
            continue;
        }
        // The wave before has soaked once its last target has been live that long.
        let not_before = index
            .checked_sub(1)
            .and_then(|before| env.waves.get(before))
            .and_then(|before| {
                let soak = before.soak?;
                let last = before
                    .targets
                    .iter()
                    .filter_map(|t| run.targets.get(&t.raw)?.live_since)
                    .max()?;
                crate::duration::after(last, soak)
            });
        return Decision::Wave {
            env: env.name.clone(),
            wave: index,
            not_before,
        };
    }
    Decision::MarkLive {
        env: env.name.clone(),
    }
}

/// Every policy rule that stands between this release and `env_name`, lifted or not.
pub fn blocking_rules(i: &Inputs, env_name: &str) -> Vec<(Rule, String)> {
    let mut rules = Vec::new();
    let Some(position) = i.plan.environments.iter().position(|e| e.name == env_name) else {
        return rules;
    };
    let env = &i.plan.environments[position];
    let file = i.envs.get(env_name);
    // Aborted between two environments: it goes no further unless forced on.
    if let Some(halt) = &i.state.aborted {
        rules.push((
            Rule::RejectedBefore,
            format!("{} was {} and goes no further", i.release, halt.describe()),
        ));
    }
    if let Some(live) = file
        .filter(|f| replaced_in_last_target(i, env_name, f))
        .and_then(|f| f.live.as_ref())
    {
        rules.push((
            Rule::Replaced,
            format!(
                "{} went live in {env_name} before and {} has replaced it since",
                i.release, live.release
            ),
        ));
    }
    // The environment's file names the latest rejections there; the release's own
    // record says it of every one (src/format/rejected.rs).
    let run = i.state.env(env_name);
    if run.outcome == Some(Outcome::Aborted) {
        // Aborted here, its rollback not finished (or its lock broken since).
        rules.push((Rule::RejectedBefore, ended_in(i.release, env_name, &run)));
    } else if file.is_some_and(|f| f.rejected.iter().any(|r| r == i.release))
        || i.state.rejected_in.contains(env_name)
    {
        rules.push((
            Rule::RejectedBefore,
            format!("{} was rejected in {env_name} before", i.release),
        ));
    }
    if let Some(previous) = position.checked_sub(1).map(|p| &i.plan.environments[p]) {
        let live = i
            .envs
            .get(&previous.name)
            .and_then(|f| f.live.as_ref())
            .filter(|l| l.release == i.release);
        let partly = live.and_then(|_| {
            let missing = &i.envs.get(&previous.name)?.targets_not_live;
            (!missing.is_empty() && !env.accepts_partial).then_some(missing)
        });
        let replaced_before = i
            .envs
            .get(&previous.name)
            .and_then(|f| f.live.as_ref())
            .filter(|l| {
                l.release != i.release && i.state.env(&previous.name).outcome == Some(Outcome::Live)
            });
        match (live, env.soak) {
            (None, _) => rules.push((
                Rule::Order,
                match replaced_before {
                    Some(other) => format!(
                        "{} went live in {} before and {} has replaced it there since",
                        i.release, previous.name, other.release
                    ),
                    None => format!("{} is not live in {} yet", i.release, previous.name),
                },
            )),
            (Some(_), _) if partly.is_some() => rules.push((
                Rule::Order,
                format!(
                    "{} is live in {} but not in its targets {}; `requires: {{ all_targets: false }}` lets {env_name} take it",
                    i.release,
                    previous.name,
                    partly.map(|m| m.join(", ")).unwrap_or_default()
                ),
            )),
            (Some(live), Some(soak)) => {
                let soaked = i
                    .now
                    .signed_duration_since(live.since)
                    .to_std()
                    .unwrap_or_default();
                if soaked < soak {
                    let left = std::time::Duration::from_secs((soak - soaked).as_secs().max(1));
                    rules.push((
                        Rule::Soak,
                        format!(
                            "{} must soak in {} for {} before {env_name}; {} to go",
                            i.release,
                            previous.name,
                            crate::duration::format(soak),
                            crate::duration::format(left)
                        ),
                    ));
                }
            }
            (Some(_), None) => {}
        }
    }
    rules.extend(window_rule(env, i.now));
    rules
}

/// Whether the release went live in `env`, the last environment the run goes to, and
/// another release has replaced it there since (rule `replaced`).
fn replaced_in_last_target(i: &Inputs, env: &str, file: &EnvFile) -> bool {
    i.targets.last().is_some_and(|last| last == env)
        && i.state.env(env).outcome == Some(Outcome::Live)
        && file.live.as_ref().is_some_and(|l| l.release != i.release)
}

/// Whether `env`'s deployment windows (a freeze among them) keep every release out at
/// `now`, as which rule, and why.
pub fn window_rule(env: &Environment, now: DateTime<Utc>) -> Option<(Rule, String)> {
    let closed = super::window::closed(&env.windows, now)?;
    let rule = if closed.is_freeze() {
        Rule::Freeze
    } else {
        Rule::Window
    };
    Some((rule, closed.describe(&env.name, &env.windows)))
}

fn gates(i: &Inputs, env_name: &str) -> Option<Decision> {
    blocking_rules(i, env_name)
        .into_iter()
        .find(|(rule, _)| !i.lifted.contains(rule))
        .map(|(rule, reason)| Decision::Blocked {
            env: env_name.to_string(),
            rule,
            reason,
        })
}

fn missing_approval(
    i: &Inputs,
    env: &str,
    run: &EnvRun,
    step: Option<usize>,
    approval: &Approval,
) -> Option<Decision> {
    let have = counted_approvals(run, step, approval, i.state.started_by.as_deref());
    (have.len() < approval.min as usize).then(|| Decision::AwaitApproval {
        env: env.to_string(),
        step,
        approval: approval.clone(),
        have,
    })
}

/// Whether two recorded actors are one person: the one place that decides it. Email
/// addresses and CI names are compared without regard to ASCII case, as approver lists
/// and `allow_self` read them.
pub fn same_person(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// The approvals that count at a gate (`step: None` is the environment's own): one
/// per person, from someone `approval` allows.
pub fn counted_approvals(
    run: &EnvRun,
    step: Option<usize>,
    approval: &Approval,
    started_by: Option<&str>,
) -> Vec<String> {
    run.approvals
        .get(&step)
        .map(|list| {
            list.iter()
                .filter(|who| approver_allowed(approval, who, started_by).is_ok())
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `who` may approve under `approval`, given who started the release.
pub fn approver_allowed(
    approval: &Approval,
    who: &str,
    started_by: Option<&str>,
) -> Result<(), String> {
    let matches = approval
        .approvers
        .iter()
        .any(|pattern| match pattern.strip_prefix("*@") {
            Some(domain) => who
                .rsplit_once('@')
                .is_some_and(|(_, d)| d.eq_ignore_ascii_case(domain)),
            None => same_person(pattern, who),
        });
    if !matches {
        return Err(format!(
            "{who} is not an approver here (approvers: {})",
            approval.approvers.join(", ")
        ));
    }
    if !approval.allow_self && started_by.is_some_and(|s| same_person(s, who)) {
        return Err(format!(
            "{who} started this release and may not approve it (allow_self: false)"
        ));
    }
    Ok(())
}
