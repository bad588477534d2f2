//! What the record holds: one event per commit. A release's state is a fold over them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One thing that happened to a release, with who, when and under which plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub at: DateTime<Utc>,
    pub actor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// The environment's target the event is about (docs/plan.md, "`targets` and
    /// `waves`"); absent for an environment without targets and for the environment's
    /// own events (entered, live, rolled back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(flatten)]
    pub kind: EventKind,
    /// The relctl version and the plan's sha256 that produced the event.
    pub relctl: String,
    pub plan: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci: Option<String>,
    /// Where `actor` came from; absent in records written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_source: Option<ActorSource>,
}

/// Where an actor's identity came from (src/identity.rs resolves it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActorSource {
    /// `RELCTL_ACTOR`.
    Env,
    /// git's `user.email`, as git reads it for the plan's repository.
    Git,
    /// `GITHUB_ACTOR` on GitHub Actions.
    GithubActions,
    /// `GITLAB_USER_EMAIL` on GitLab CI.
    GitlabCi,
    /// No identity was known: the actor is recorded as `unknown`.
    None,
    /// A source a newer relctl recorded.
    #[serde(other)]
    Other,
}

impl ActorSource {
    pub fn name(self) -> &'static str {
        match self {
            ActorSource::Env => "RELCTL_ACTOR",
            ActorSource::Git => "git user.email",
            ActorSource::GithubActions => "GitHub Actions",
            ActorSource::GitlabCi => "GitLab CI",
            ActorSource::None => "no identity",
            ActorSource::Other => "another source",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// The release begins: what is promoted, and how far.
    Started {
        artifact: String,
        digest: String,
        version: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source_commit: Option<String>,
        targets: Vec<String>,
    },
    /// A later promote asked the release to go further: `targets` are now all the
    /// environments it is to reach, in the plan's order (`resume` reads the latest).
    Extended {
        targets: Vec<String>,
    },
    /// The environment's lock is taken; `baseline` is what was live before.
    Entered {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        baseline: Option<Live>,
    },
    /// A rule was overridden (`--force`, `--override-freeze`), and why.
    Overridden {
        rule: String,
        reason: String,
    },
    /// The environment's error budget was read before entering it (docs/plan.md,
    /// "`error_budget`"): what was read, and what it decided.
    BudgetChecked {
        /// The objective as a percentage (99.9) and its period (`30d`).
        objective: f64,
        period: String,
        /// The share of the period's budget left (1 is all); absent when unread.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            serialize_with = "crate::analysis::finite_or_null"
        )]
        remaining: Option<f64>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        burn_rates: Vec<crate::analysis::budget::Burn>,
        verdict: crate::analysis::budget::BudgetVerdict,
        summary: String,
    },
    /// Write-ahead: the step is about to act. Its idempotency key names the release, the
    /// environment, the visit and the step (src/runner/steps.rs).
    Intent {
        step: usize,
        action: String,
        #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
        request: serde_json::Value,
    },
    StepDone {
        step: usize,
        action: String,
        #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
        detail: serde_json::Value,
        ms: u64,
    },
    /// A step that failed; `gate` failures roll the environment back, others stop (exit 1).
    StepFailed {
        step: usize,
        action: String,
        error: String,
        gate: bool,
    },
    /// A target of the environment failed (its `step_failed` says how), and what the
    /// plan's `on_target_failure` makes of it.
    TargetFailed {
        policy: crate::plan::TargetFailure,
        error: String,
    },
    /// One measurement of one metric during an analysis step.
    Measured {
        step: usize,
        metric: String,
        index: u32,
        /// `null` when not finite: the record holds no `.inf` (the summary still says it).
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            serialize_with = "crate::analysis::finite_or_null"
        )]
        value: Option<f64>,
        phase: crate::analysis::Phase,
        summary: String,
        /// A baseline comparison's verdict, interval and sample sizes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comparison: Option<crate::analysis::Comparison>,
    },
    /// An analysis that could not decide: the release pauses for a person.
    Inconclusive {
        step: usize,
        reason: String,
    },
    AwaitingApproval {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<usize>,
    },
    Approved {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<usize>,
        by: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    Rejected {
        by: String,
        reason: String,
    },
    /// Every step is done: the release is live here and the lock is released.
    Live,
    RollbackStarted {
        reason: String,
    },
    Undone {
        step: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        /// Not run: `relctl rollback --no-undo` said to leave it.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        skipped: bool,
        /// A flag step's: the flag's state found just before it was put back (it
        /// differs from what the release left when someone changed it by hand).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        found: Option<serde_json::Value>,
    },
    /// The rollback's redeploy of `to` failed; the environment stays locked by it.
    RollbackFailed {
        to: String,
        error: String,
    },
    /// The environment is back on `to` (or left as it was when nothing was live before,
    /// or when the release never deployed there: `nothing_deployed`).
    RolledBack {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
        reason: String,
        /// For `relctl rollback`: from its start to the platform confirming.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ms: Option<u64>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        nothing_deployed: bool,
    },
    Interrupted {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<usize>,
    },
    Aborted {
        reason: String,
    },
    /// `relctl unlock` broke this release's lock on the environment.
    Unlocked {
        reason: String,
    },
    /// `relctl rollback --flags-only`: the flags the release changed here were put back
    /// as they were before it (each step's `undone` says how that went); its code stayed.
    FlagsRestored {
        reason: String,
        flags: Vec<String>,
        /// From the command's start to the last flag put back.
        ms: u64,
    },
    /// With `target`: a target the release acted on was removed from the plan before
    /// the environment went live; it went live without it.
    TargetDropped {
        reason: String,
    },
    /// A run of the release went on here from where another run of it was (one that
    /// died, or one still going elsewhere, which stops at its next record):
    /// src/runner/claim.rs. `run` is the one it took over from, when the lock named one.
    TakenOver {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        run: Option<String>,
    },
    /// A notify hook could not be told about an event: a warning, never a failure.
    NotifyFailed {
        /// The hook's URL, masked.
        hook: String,
        error: String,
    },
}

impl EventKind {
    /// A short phrase for the event ("step 2 deploy done in 312 ms"): the line people
    /// read as it happens, in `history`, in notifications and in the record's commit
    /// summaries.
    pub fn describe(&self) -> String {
        // A reason or an error from outside may hold line breaks and controls.
        crate::text::one_line(&self.described()).into_owned()
    }

    fn described(&self) -> String {
        match self {
            EventKind::Started {
                version, targets, ..
            } => format!("started {version} for {}", targets.join(" → ")),
            EventKind::Extended { targets } => format!("now for {}", targets.join(" → ")),
            EventKind::Entered { baseline: Some(b) } => format!("entered (was {})", b.release),
            EventKind::Entered { baseline: None } => "entered (nothing live before)".into(),
            EventKind::Overridden { rule, reason } => format!("{rule} rule overridden: {reason}"),
            EventKind::BudgetChecked {
                verdict, summary, ..
            } => {
                let verdict = match verdict {
                    crate::analysis::budget::BudgetVerdict::Pass => "passes",
                    crate::analysis::budget::BudgetVerdict::Blocked => "blocks",
                    crate::analysis::budget::BudgetVerdict::Unread => "could not be read",
                };
                format!("error budget {verdict}: {summary}")
            }
            EventKind::Intent { step, action, .. } => format!("step {} {action}", step + 1),
            EventKind::StepDone {
                step, action, ms, ..
            } => format!("step {} {action} done in {}", step + 1, millis(*ms)),
            EventKind::StepFailed {
                step,
                action,
                error,
                ..
            } => format!("step {} {action} failed: {error}", step + 1),
            EventKind::TargetFailed { policy, .. } => match policy {
                crate::plan::TargetFailure::Rollback => {
                    "target failed: the environment is rolled back (on_target_failure: rollback)"
                        .into()
                }
                crate::plan::TargetFailure::Stop => {
                    "target failed: the run stops here (on_target_failure: stop)".into()
                }
                crate::plan::TargetFailure::Continue => {
                    "target failed: the others carry on (on_target_failure: continue)".into()
                }
            },
            EventKind::Measured { summary, .. } => summary.clone(),
            EventKind::Inconclusive { step, reason } => {
                format!("analysis at step {} inconclusive: {reason}", step + 1)
            }
            EventKind::AwaitingApproval { step: None } => "awaiting approval".into(),
            EventKind::AwaitingApproval { step: Some(s) } => {
                format!("awaiting approval at step {}", s + 1)
            }
            EventKind::Approved { by, .. } => format!("approved by {by}"),
            EventKind::Rejected { by, reason } => format!("rejected by {by}: {reason}"),
            EventKind::Live => "live".into(),
            EventKind::RollbackStarted { reason } => format!("rolling back: {reason}"),
            EventKind::Undone {
                step,
                skipped: true,
                ..
            } => {
                format!("undo of step {} skipped (--no-undo)", step + 1)
            }
            EventKind::Undone {
                step, error: None, ..
            } => format!("step {} undone", step + 1),
            EventKind::Undone {
                step,
                error: Some(e),
                ..
            } => format!("undo of step {} failed: {e}", step + 1),
            EventKind::RollbackFailed { to, error } => {
                format!("rolling back to {to} failed: {error}")
            }
            EventKind::RolledBack {
                nothing_deployed: true,
                ..
            } => "nothing was deployed here: nothing to roll back".into(),
            EventKind::RolledBack {
                to: Some(to),
                ms: Some(ms),
                ..
            } => format!("rolled back to {to} in {}", millis(*ms)),
            EventKind::RolledBack { to: Some(to), .. } => format!("rolled back to {to}"),
            EventKind::RolledBack { to: None, .. } => {
                "rolled back (nothing was live before; left as deployed)".into()
            }
            EventKind::Interrupted { .. } => "interrupted".into(),
            EventKind::Aborted { reason } if reason.is_empty() => "aborted".into(),
            EventKind::Aborted { reason } => format!("aborted: {reason}"),
            EventKind::Unlocked { reason } => format!("lock broken: {reason}"),
            EventKind::TakenOver { run: Some(run) } => format!("continued from run {run}"),
            EventKind::TakenOver { run: None } => "continued from an earlier run".into(),
            EventKind::FlagsRestored { flags, ms, reason } => format!(
                "flags put back in {} ({}), the code stayed: {reason}",
                millis(*ms),
                flags.join(", ")
            ),
            EventKind::NotifyFailed { hook, error } => {
                format!("notifying {hook} failed: {error}")
            }
            EventKind::TargetDropped { reason } => format!("target dropped: {reason}"),
        }
    }

    /// Whether a command may end its work on the release with this event, leaving it at
    /// rest: the outcomes (live, rolled back, rejected, aborted, interrupted, a lock
    /// broken, flags put back), the pauses (awaiting approval, an inconclusive
    /// analysis), the failures that stop a run or a rollback (a step or target that
    /// failed, a failed undo or redeploy), an approval `relctl approve` records, an error
    /// budget read (one that says no ends the run), and a failed notification, which is
    /// recorded after a run's last event. The others are always followed by another event
    /// of the same command: `started`, `extended` and `overridden` by `entered`, `intent`
    /// by its step's end, `step_done` and `measured` by the next step or the outcome,
    /// `rollback_started` and a successful `undone` by the rollback's end, `target_dropped`
    /// by `live`, `taken_over` by what the run does there. Only a command stopped by what it cannot record (a crash, a lock lost
    /// to another clone, a record changed by hand) ends after one of them.
    ///
    /// The record writes a release's line in its directory's summary only with these
    /// events and those the line holds (src/format/journal.rs), so a release at rest has
    /// a line naming its file; a line left behind by an event in between names an older
    /// file, and `report` reads the file instead (src/format/scan.rs).
    pub fn may_end_work(&self) -> bool {
        match self {
            EventKind::Started { .. }
            | EventKind::Extended { .. }
            | EventKind::Overridden { .. }
            | EventKind::Entered { .. }
            | EventKind::Intent { .. }
            | EventKind::StepDone { .. }
            | EventKind::Measured { .. }
            | EventKind::RollbackStarted { .. }
            | EventKind::Undone { error: None, .. }
            | EventKind::TargetDropped { .. }
            | EventKind::TakenOver { .. } => false,
            EventKind::BudgetChecked { .. }
            | EventKind::StepFailed { .. }
            | EventKind::TargetFailed { .. }
            | EventKind::Inconclusive { .. }
            | EventKind::AwaitingApproval { .. }
            | EventKind::Approved { .. }
            | EventKind::Rejected { .. }
            | EventKind::Live
            | EventKind::Undone { error: Some(_), .. }
            | EventKind::RollbackFailed { .. }
            | EventKind::RolledBack { .. }
            | EventKind::Interrupted { .. }
            | EventKind::Aborted { .. }
            | EventKind::Unlocked { .. }
            | EventKind::FlagsRestored { .. }
            | EventKind::NotifyFailed { .. } => true,
        }
    }

    /// The snake_case name used in trailers, notifications and JSON output.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Started { .. } => "started",
            EventKind::Extended { .. } => "extended",
            EventKind::Entered { .. } => "entered",
            EventKind::Overridden { .. } => "overridden",
            EventKind::BudgetChecked { .. } => "budget_checked",
            EventKind::Intent { .. } => "intent",
            EventKind::StepDone { .. } => "step_done",
            EventKind::StepFailed { .. } => "step_failed",
            EventKind::TargetFailed { .. } => "target_failed",
            EventKind::Measured { .. } => "measured",
            EventKind::Inconclusive { .. } => "inconclusive",
            EventKind::AwaitingApproval { .. } => "awaiting_approval",
            EventKind::Approved { .. } => "approved",
            EventKind::Rejected { .. } => "rejected",
            EventKind::Live => "live",
            EventKind::RollbackStarted { .. } => "rollback_started",
            EventKind::Undone { .. } => "undone",
            EventKind::RollbackFailed { .. } => "rollback_failed",
            EventKind::RolledBack { .. } => "rolled_back",
            EventKind::Interrupted { .. } => "interrupted",
            EventKind::Aborted { .. } => "aborted",
            EventKind::Unlocked { .. } => "unlocked",
            EventKind::FlagsRestored { .. } => "flags_restored",
            EventKind::NotifyFailed { .. } => "notify_failed",
            EventKind::TargetDropped { .. } => "target_dropped",
            EventKind::TakenOver { .. } => "taken_over",
        }
    }
}

/// A release as it is (or was) live in an environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Live {
    pub release: String,
    /// Who made it live.
    #[serde(default)]
    pub by: String,
    pub artifact: String,
    pub digest: String,
    pub version: String,
    pub since: DateTime<Utc>,
}

/// Who holds an environment, since when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lock {
    pub release: String,
    pub by: String,
    pub since: DateTime<Utc>,
    /// The run (one relctl process) that holds it for the release (src/runner/claim.rs);
    /// absent in records written before runs were named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
}

/// `environments/<name>.yaml`: what is live, what was live before, and the lock.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EnvFile {
    pub environment: String,
    #[serde(default)]
    pub live: Option<Live>,
    /// Earlier live releases, most recent first: the last `PREVIOUS_KEPT`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous: Vec<Live>,
    #[serde(default)]
    pub lock: Option<Lock>,
    /// What each target runs and ran before, in an environment with targets (absent in
    /// files written before it was recorded; src/format/targets.rs reads both).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub targets: crate::format::targets::Targets,
    /// Releases that may not come back here without `--force`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<String>,
    /// Targets the live release did not reach (`on_target_failure: continue`): they
    /// still run what was live before it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets_not_live: Vec<String>,
    /// The last `relctl rollback` here, until a release goes live again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolled_back: Option<RollbackNote>,
}

/// How many earlier live releases an environment file remembers. Every event in the
/// environment reads and rewrites the file, so a list that kept them all would make
/// each command slower with every release (tens of MB at 100,000 releases). Older
/// ones are in their own release files, where `relctl rollback --to` finds them.
pub const PREVIOUS_KEPT: usize = 20;

impl EnvFile {
    /// `live` becomes the most recent earlier release; the oldest beyond
    /// `PREVIOUS_KEPT` are forgotten.
    pub fn push_previous(&mut self, live: Live) {
        self.previous.insert(0, live);
        self.previous.truncate(PREVIOUS_KEPT);
    }
}

/// What `relctl rollback` did to an environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollbackNote {
    pub from: String,
    pub to: String,
    pub by: String,
    pub at: DateTime<Utc>,
    pub reason: String,
}

/// `releases/<xx>/<id>.yaml`: the release's identity and every event, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseFile {
    pub release: String,
    pub app: String,
    pub artifact: String,
    pub digest: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_commit: Option<String>,
    /// The source commit's committer time, so that lead times need no source repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_commit_time: Option<DateTime<Utc>>,
    /// Release notes (markdown) against what was live in the last target when it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    pub events: Vec<Event>,
}

/// A duration for people: milliseconds under a second, else seconds.
fn millis(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{Comparison, Phase};

    /// A measurement of +∞ and a comparison without data are read back from the record,
    /// whose reader refuses `.inf` and `.nan`.
    #[test]
    fn measurements_that_are_not_finite_can_be_read_back() {
        let event = Event {
            at: crate::clock::at("2026-11-30T10:00:00Z"),
            actor: "a@b.io".into(),
            actor_source: None,
            env: Some("production".into()),
            target: None,
            kind: EventKind::Measured {
                step: 1,
                metric: "latency".into(),
                index: 1,
                value: Some(f64::INFINITY),
                phase: Phase::Failed,
                summary: "latency inf > 1 ✗ 1/3".into(),
                comparison: Some(Comparison::no_data(0, 3)),
            },
            relctl: "0".into(),
            plan: "sha256:00".into(),
            ci: None,
        };
        let text = serde_saphyr::to_string(&event).unwrap_or_default();
        assert!(!text.contains(".inf") && !text.contains(".nan"), "{text}");
        let back: Event = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let EventKind::Measured {
            value, comparison, ..
        } = back.kind
        else {
            panic!("{back:?}");
        };
        assert_eq!(value, None);
        let comparison = comparison.unwrap_or(Comparison::no_data(9, 9));
        assert!(comparison.estimate.is_nan());
        assert_eq!(
            (comparison.canary_points, comparison.baseline_points),
            (0, 3)
        );
    }
}
