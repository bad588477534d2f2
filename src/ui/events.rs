//! How a recorded event is shown: one line of progress for people (the event's own
//! phrase, `EventKind::describe`), one JSON object for machines.

use console::style;
use serde_json::json;

use super::{OutputMode, Printer};
use crate::engine::{Event, EventKind};

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
                let env = place(event).unwrap_or_else(|| "-".into());
                self.status(&format!(
                    "{} {release} {env} {}",
                    event.at.format("%Y-%m-%dT%H:%M:%SZ"),
                    event.kind.describe()
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
                let env = place(event).unwrap_or_default();
                self.status(&format!(
                    "{mark} {:<12} {}",
                    style(env).bold().for_stderr(),
                    event.kind.describe()
                ));
                Ok(())
            }
        }
    }
}

/// Where an event happened: its environment, and `ENV/TARGET` for one of its targets.
pub fn place(event: &Event) -> Option<String> {
    let env = event.env.as_deref()?;
    Some(match &event.target {
        Some(target) => format!("{env}/{target}"),
        None => env.to_string(),
    })
}
