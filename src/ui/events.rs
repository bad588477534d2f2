//! How a recorded event reads: one line of progress for people, one JSON object for
//! machines. The same words go into the record's commit summaries.

use console::style;
use serde_json::json;

use super::Printer;
use crate::cli::OutputMode;
use crate::engine::{Event, EventKind};

/// A short phrase for an event ("step 2 deploy done in 312 ms").
pub fn describe(kind: &EventKind) -> String {
    match kind {
        EventKind::Started {
            version, targets, ..
        } => format!("started {version} for {}", targets.join(" → ")),
        EventKind::Entered { baseline: Some(b) } => format!("entered (was {})", b.release),
        EventKind::Entered { baseline: None } => "entered (nothing live before)".into(),
        EventKind::Overridden { rule, reason } => format!("{rule} rule overridden: {reason}"),
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
        EventKind::RollbackFailed { to, error } => format!("rolling back to {to} failed: {error}"),
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
        EventKind::Aborted { reason } => format!("aborted: {reason}"),
        EventKind::Unlocked { reason } => format!("lock broken: {reason}"),
        EventKind::NotifyFailed { hook, error } => {
            format!("notifying {hook} failed: {error}")
        }
    }
}

fn millis(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

impl Printer {
    /// One recorded event: a JSON line of the stream in json mode, a line on stderr
    /// otherwise.
    pub fn event(&self, release: &str, event: &Event) -> anyhow::Result<()> {
        match self.mode() {
            OutputMode::Json => {
                let mut value = serde_json::to_value(event)?;
                if let Some(obj) = value.as_object_mut() {
                    obj.insert("release".into(), json!(release));
                }
                self.stream(&value)
            }
            OutputMode::Plain => {
                let env = event.env.as_deref().unwrap_or("-");
                self.status(&format!(
                    "{} {release} {env} {}",
                    event.at.format("%Y-%m-%dT%H:%M:%SZ"),
                    describe(&event.kind)
                ));
                Ok(())
            }
            OutputMode::Human => {
                if matches!(event.kind, EventKind::Intent { .. }) {
                    return Ok(());
                }
                let mark = match &event.kind {
                    EventKind::StepFailed { .. }
                    | EventKind::RollbackFailed { .. }
                    | EventKind::Rejected { .. }
                    | EventKind::Aborted { .. } => style("✗").red().for_stderr(),
                    EventKind::RollbackStarted { .. }
                    | EventKind::RolledBack { .. }
                    | EventKind::Interrupted { .. } => style("↺").yellow().for_stderr(),
                    EventKind::NotifyFailed { .. } => style("!").yellow().for_stderr(),
                    EventKind::AwaitingApproval { .. } | EventKind::Inconclusive { .. } => {
                        style("…").cyan().for_stderr()
                    }
                    EventKind::Measured { phase, .. } => match phase {
                        crate::analysis::Phase::Successful => style("·").green().for_stderr(),
                        crate::analysis::Phase::Inconclusive => style("·").cyan().for_stderr(),
                        _ => style("·").red().for_stderr(),
                    },
                    EventKind::Live => style("●").green().bold().for_stderr(),
                    _ => style("✓").green().for_stderr(),
                };
                let env = event.env.as_deref().unwrap_or("");
                self.status(&format!(
                    "{mark} {:<12} {}",
                    style(env).bold().for_stderr(),
                    describe(&event.kind)
                ));
                Ok(())
            }
        }
    }
}
