//! A release's state in each environment, folded from its events.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::event::{Event, EventKind, Live, ReleaseFile};

/// How a release's visit to an environment ended, if it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Live,
    RolledBack,
    Aborted,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnvRun {
    pub entered: bool,
    /// How many times the release has entered the environment (1 on its first visit):
    /// what makes this visit's idempotency keys its own.
    pub visit: usize,
    pub baseline: Option<Live>,
    pub done: BTreeSet<usize>,
    /// A step whose intent is recorded without an outcome, and when it began.
    pub in_flight: Option<(usize, DateTime<Utc>)>,
    /// Every step whose intent was recorded this visit, however it ended: the platform
    /// may have acted on each.
    pub intended: BTreeSet<usize>,
    /// Approvals by gate: `None` is the environment's own approval.
    pub approvals: BTreeMap<Option<usize>, Vec<String>>,
    pub awaiting: Option<Option<usize>>,
    pub rejected: Option<(String, String)>,
    /// A gate failed (a failing http/exec step): the environment must be rolled back.
    pub gate_failed: Option<String>,
    /// A provider error (exit 1): resume retries the step.
    pub failed: Option<String>,
    pub rolling_back: bool,
    /// The rollback's redeploy failed: the environment is locked by a rollback that
    /// nobody is running any more.
    pub rollback_failed: Option<String>,
    pub undone: BTreeSet<usize>,
    pub outcome: Option<Outcome>,
    /// This visit was aborted (`relctl abort`, or a rollback that took over from it):
    /// who, when and why; kept once its rollback has finished.
    pub aborted: Option<Halt>,
    /// Measurements so far of each analysis step: (metric, phase), oldest first.
    pub measurements: BTreeMap<usize, Vec<(String, crate::analysis::Phase)>>,
    /// An analysis step that ended inconclusive and waits for a person.
    pub inconclusive: Option<usize>,
    pub live_since: Option<DateTime<Utc>>,
    /// Each flag step's flag and its state before the step changed it, from the step's
    /// intent: what its undo puts back.
    pub flags_before: BTreeMap<usize, (String, serde_json::Value)>,
    /// Each flag this visit changed, as the record last knew it: what its step made it,
    /// or, once put back, what it was before.
    pub flag_states: BTreeMap<String, serde_json::Value>,
    /// `relctl rollback --flags-only` put this visit's flags back: who, when and why.
    /// The visit's later flag steps do not turn them on again (README, "Feature flags").
    pub kill_switch: Option<String>,
    /// Each target's own run (its steps, failures and `live`), for an environment with
    /// targets: events that name a target fold here, not into the environment's run.
    pub targets: BTreeMap<String, EnvRun>,
    /// This target failed, under which recorded policy, and why (cleared by a retry).
    pub target_failed: Option<(crate::plan::TargetFailure, String)>,
}

impl EnvRun {
    /// The approval gate this run still waits at (`Some(None)` is the environment's
    /// own). A gate is passed once a step after it has begun: its approval was given,
    /// although `awaiting` stays in the record.
    pub fn waiting_at(&self) -> Option<Option<usize>> {
        let gate = self.awaiting?;
        let passed = match gate {
            // In an environment with targets, its steps are its targets'.
            None => !self.done.is_empty() || self.in_flight.is_some() || !self.targets.is_empty(),
            Some(step) => self.done.contains(&step),
        };
        (!passed).then_some(gate)
    }

    /// A visit not over: inside the environment, or out of it with its lock broken
    /// (`relctl unlock`) after a step of it began, which the platform may have acted on.
    /// An abort rolls it back.
    pub fn unfinished(&self) -> bool {
        self.outcome.is_none() && (self.entered || !self.intended.is_empty())
    }

    /// A rollback of this visit began and has not finished (no `rolled_back` since):
    /// what runs in the environment is not known until one does.
    pub fn rollback_unfinished(&self) -> bool {
        self.rolling_back && self.outcome != Some(Outcome::RolledBack)
    }

    /// What a rollback of this visit goes back to, as commands name it for `--to`: the
    /// release live before the visit, else `RELEASE`.
    pub fn back_to(&self) -> &str {
        (self.baseline.as_ref()).map_or("RELEASE", |before| before.release.as_str())
    }

    /// A visit out of the environment (its lock broken) that the environment has moved
    /// on from since: another release went live there, or holds it. What this visit
    /// deployed was replaced; there is nothing of it to roll back there.
    pub fn superseded(&self, file: &super::EnvFile, release: &str) -> bool {
        !self.entered
            && (file.live != self.baseline
                || file.lock.as_ref().is_some_and(|l| l.release != release))
    }

    /// Whether a flag step of this visit changed a flag not put back yet.
    pub fn flags_to_put_back(&self) -> bool {
        self.flags_before.keys().any(|i| !self.undone.contains(i))
    }

    /// Where the run stands among `steps` steps: the step under way, else the next
    /// one not done (1-based), if any.
    pub fn position(&self, steps: usize) -> Option<usize> {
        self.in_flight
            .map(|(step, _)| step)
            .or_else(|| (0..steps).find(|i| !self.done.contains(i)))
            .map(|step| step + 1)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReleaseState {
    pub started_by: Option<String>,
    pub targets: Vec<String>,
    pub envs: BTreeMap<String, EnvRun>,
    pub interrupted: bool,
    /// The abort of the whole release (`relctl abort` while it was between two
    /// environments) since it last started, went further or was let past the rule
    /// `rejected-before` (`--force`): no run of it enters an environment while it
    /// stands (README, "Promoting a release").
    pub aborted: Option<Halt>,
    /// The environments this release was rolled back or rejected in and has not gone
    /// live in since: a rollback does not go back to it there, and a promotion there
    /// needs `--force` (the rule `rejected-before`).
    pub rejected_in: BTreeSet<String>,
}

/// Who aborted a release between two environments, when, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Halt {
    pub by: String,
    pub at: DateTime<Utc>,
    pub reason: String,
}

impl Halt {
    /// `aborted by WHO at TIME`, with the reason when one was given.
    pub fn describe(&self) -> String {
        self.describe_in(None)
    }

    /// `aborted in ENV by WHO at TIME (WHY)`, for an abort in an environment.
    pub fn describe_in(&self, env: Option<&str>) -> String {
        let at = self.at.format("%Y-%m-%d %H:%M:%SZ");
        let place = env.map(|env| format!(" in {env}")).unwrap_or_default();
        match self.reason.as_str() {
            "" => format!("aborted{place} by {} at {at}", self.by),
            why => format!(
                "aborted{place} by {} at {at} ({})",
                self.by,
                crate::text::one_line(why)
            ),
        }
    }

    fn of(event: &Event, reason: &str) -> Halt {
        Halt {
            by: event.actor.clone(),
            at: event.at,
            reason: reason.to_string(),
        }
    }
}

impl ReleaseState {
    pub fn env(&self, name: &str) -> EnvRun {
        self.envs.get(name).cloned().unwrap_or_default()
    }

    /// The environment whose visit is not over (`EnvRun::unfinished`) and not
    /// superseded (`EnvRun::superseded`, read from `file_of`), if any: where an abort
    /// stops the release.
    pub fn unfinished(
        &self,
        release: &str,
        file_of: &dyn Fn(&str) -> anyhow::Result<super::EnvFile>,
    ) -> anyhow::Result<Option<(&str, &EnvRun)>> {
        for (name, run) in self.envs.iter().filter(|(_, run)| run.unfinished()) {
            if run.entered || !run.superseded(&file_of(name)?, release) {
                return Ok(Some((name.as_str(), run)));
            }
        }
        Ok(None)
    }

    /// The environment this release is inside (lock held, not finished), if any.
    pub fn current(&self) -> Option<(&str, &EnvRun)> {
        self.envs
            .iter()
            .find(|(_, run)| run.entered && run.outcome.is_none())
            .map(|(name, run)| (name.as_str(), run))
    }
}

/// A refusal by an environment's error budget that is the release's last word: the
/// environment, when, and the numbers read. A promote the budget refuses records its
/// `budget_checked` and nothing after it; whatever a later promote or resume does comes
/// after, so the refusal then no longer stands (docs/plan.md, "`error_budget`").
pub fn refused_by_budget(file: &ReleaseFile) -> Option<(&str, DateTime<Utc>, &str)> {
    let last = file
        .events
        .iter()
        .rev()
        .find(|e| !matches!(e.kind, EventKind::NotifyFailed { .. }))?;
    match &last.kind {
        EventKind::BudgetChecked {
            verdict, summary, ..
        } if *verdict != crate::analysis::budget::BudgetVerdict::Pass => {
            Some((last.env.as_deref()?, last.at, summary.as_str()))
        }
        _ => None,
    }
}

/// Whether release `file` was rolled back or rejected in `env` and has not gone live
/// there since (`ReleaseState::rejected_in`, without folding the rest).
pub fn rejected_in(file: &ReleaseFile, env: &str) -> bool {
    file.events
        .iter()
        .filter(|e| e.env.as_deref() == Some(env))
        .filter_map(rejection)
        .next_back()
        .unwrap_or(false)
}

/// What an event says of its release being rejected in its environment: `Some(true)`
/// for a rollback or a rejection of the environment (not of one target), `Some(false)`
/// for going live there, `None` for anything else.
fn rejection(event: &Event) -> Option<bool> {
    if event.target.is_some() {
        return None;
    }
    match event.kind {
        EventKind::RolledBack { .. } | EventKind::Rejected { .. } => Some(true),
        EventKind::Live => Some(false),
        _ => None,
    }
}

pub fn fold(file: Option<&ReleaseFile>) -> ReleaseState {
    let mut state = ReleaseState::default();
    for event in file.map(|f| f.events.as_slice()).unwrap_or_default() {
        apply(&mut state, event);
    }
    state
}

impl ReleaseState {
    /// The state once `event` is recorded too: what `relctl plan` walks forward with.
    pub fn then(&mut self, event: &Event) {
        apply(self, event);
    }
}

fn apply(state: &mut ReleaseState, event: &Event) {
    if matches!(event.kind, EventKind::NotifyFailed { .. }) {
        return; // a warning about a hook: it changes nothing about the release
    }
    if let EventKind::Started { targets, .. } = &event.kind {
        state.started_by.get_or_insert_with(|| event.actor.clone());
        state.targets = targets.clone();
        state.interrupted = false;
        state.aborted = None;
        return;
    }
    if let EventKind::Extended { targets } = &event.kind {
        state.targets = targets.clone();
        state.interrupted = false;
        state.aborted = None;
        return;
    }
    match &event.kind {
        EventKind::Aborted { reason } if event.env.is_none() => {
            state.aborted = Some(Halt::of(event, reason));
        }
        EventKind::Overridden { rule, .. } if rule == super::Rule::RejectedBefore.name() => {
            state.aborted = None;
        }
        _ => {}
    }
    state.interrupted = matches!(event.kind, EventKind::Interrupted { .. });
    let Some(env) = &event.env else { return };
    match rejection(event) {
        Some(true) => {
            state.rejected_in.insert(env.clone());
        }
        Some(false) => {
            state.rejected_in.remove(env);
        }
        None => {}
    }
    let mut run = state.envs.entry(env.clone()).or_default();
    if let (EventKind::TargetDropped { .. }, Some(target)) = (&event.kind, &event.target) {
        // No longer the environment's: its events say nothing of the release there.
        run.targets.remove(target);
        return;
    }
    if let Some(target) = &event.target {
        run = run.targets.entry(target.clone()).or_default();
    }
    match &event.kind {
        EventKind::Entered { baseline } => {
            // A fresh visit (e.g. after a rollback and --force) starts clean.
            *run = EnvRun {
                entered: true,
                visit: run.visit + 1,
                baseline: baseline.clone(),
                ..EnvRun::default()
            };
        }
        EventKind::Intent { step, request, .. } => {
            run.target_failed = None;
            if let (Some(flag), Some(before)) = (request["flag"].as_str(), request.get("before")) {
                run.flags_before
                    .insert(*step, (flag.to_string(), before.clone()));
            }
            run.in_flight = Some((*step, event.at));
            run.intended.insert(*step);
            run.inconclusive = None;
        }
        EventKind::StepDone { step, detail, .. } => {
            if let (Some(flag), Some(after)) = (detail["flag"].as_str(), detail.get("after")) {
                run.flag_states.insert(flag.to_string(), after.clone());
            }
            run.done.insert(*step);
            run.in_flight = None;
            run.failed = None;
        }
        EventKind::StepFailed {
            step, error, gate, ..
        } => {
            run.in_flight = None;
            if *gate {
                run.gate_failed = Some(format!("step {} failed: {error}", step + 1));
            } else {
                run.failed = Some(error.clone());
            }
        }
        EventKind::TargetFailed { policy, error } => {
            run.target_failed = Some((*policy, error.clone()));
        }
        EventKind::Measured {
            step,
            metric,
            phase,
            ..
        } => {
            run.measurements
                .entry(*step)
                .or_default()
                .push((metric.clone(), *phase));
        }
        EventKind::Inconclusive { step, .. } => {
            run.measurements.remove(step);
            run.in_flight = None;
            run.inconclusive = Some(*step);
        }
        EventKind::AwaitingApproval { step } => run.awaiting = Some(*step),
        EventKind::Approved { step, by, .. } => {
            let list = run.approvals.entry(*step).or_default();
            if !list.iter().any(|who| super::decide::same_person(who, by)) {
                list.push(by.clone());
            }
        }
        EventKind::Rejected { by, reason } => run.rejected = Some((by.clone(), reason.clone())),
        EventKind::Live => {
            run.outcome = Some(Outcome::Live);
            run.live_since = Some(event.at);
        }
        EventKind::RollbackStarted { .. } => {
            run.rolling_back = true;
            run.rollback_failed = None;
        }
        EventKind::RollbackFailed { error, .. } => run.rollback_failed = Some(error.clone()),
        // A flag that could not be put back is still to be put back (by the next
        // rollback); any other undo is tried once.
        EventKind::Undone { step, error, .. } => {
            if let (None, Some((flag, before))) = (error, run.flags_before.get(step)) {
                run.flag_states.insert(flag.clone(), before.clone());
            }
            if error.is_none() || !run.flags_before.contains_key(step) {
                run.undone.insert(*step);
            }
        }
        EventKind::RolledBack { .. } => run.outcome = Some(Outcome::RolledBack),
        EventKind::Aborted { reason } => {
            if run.unfinished() {
                run.outcome = Some(Outcome::Aborted);
                run.aborted = Some(Halt::of(event, reason));
            }
        }
        EventKind::Interrupted { step } => {
            if let Some(step) = step {
                run.in_flight.get_or_insert((*step, event.at));
            }
        }
        EventKind::Unlocked { .. } => {
            // The lock is gone: a later run enters again and carries on from the record.
            run.entered = false;
            run.awaiting = None;
        }
        EventKind::Started { .. }
        | EventKind::Extended { .. }
        | EventKind::Overridden { .. }
        | EventKind::BudgetChecked { .. }
        | EventKind::TargetDropped { .. }
        | EventKind::TakenOver { .. }
        | EventKind::NotifyFailed { .. } => {}
        EventKind::FlagsRestored { reason, .. } => {
            run.kill_switch = Some(format!(
                "the kill switch was pulled by {} at {} ({reason})",
                event.actor,
                event.at.format("%Y-%m-%d %H:%M:%S UTC")
            ));
        }
    }
}
