//! GitHub Actions, when `GITHUB_ACTIONS=true`: each environment is a log group, failures
//! are `::error` annotations, a markdown summary is appended to `$GITHUB_STEP_SUMMARY`,
//! and `release_id` and `outcome` are written to `$GITHUB_OUTPUT`.
//!
//! Workflow commands go to stderr: the runner reads them there as it does on stdout
//! (it attaches a command parser to both streams), and stdout stays data only, so
//! `--output json` is not polluted and progress and groups stay in order.

use std::cell::RefCell;
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::engine::{self, Event, EventKind, Outcome, ReleaseFile};

/// The GitHub Actions side of a run.
pub struct Actions {
    group: RefCell<Option<String>>,
    step_summary: Option<PathBuf>,
    output: Option<PathBuf>,
}

/// One environment's line in the step summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub env: String,
    pub status: String,
    pub duration: Option<Duration>,
}

/// How a run ended, as the step outputs, the step summary and the JSON stream name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    Promoted,
    RolledBack,
    Rejected,
    Paused,
    Busy,
    Blocked,
    Interrupted,
    Unpushed,
    Invalid,
    Failed,
}

impl RunOutcome {
    /// How a run with `exit` ended (`None`: it succeeded).
    pub fn of(exit: Option<crate::error::Exit>) -> RunOutcome {
        use crate::error::Exit;
        match exit {
            None => RunOutcome::Promoted,
            Some(Exit::Rejected) => RunOutcome::Rejected,
            Some(Exit::Paused) => RunOutcome::Paused,
            Some(Exit::Busy) => RunOutcome::Busy,
            Some(Exit::Blocked) => RunOutcome::Blocked,
            Some(Exit::Interrupted) => RunOutcome::Interrupted,
            Some(Exit::Unpushed) => RunOutcome::Unpushed,
            Some(Exit::Usage) => RunOutcome::Invalid,
            Some(Exit::Failed | Exit::Success) => RunOutcome::Failed,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            RunOutcome::Promoted => "promoted",
            RunOutcome::RolledBack => "rolled_back",
            RunOutcome::Rejected => "rejected",
            RunOutcome::Paused => "paused",
            RunOutcome::Busy => "busy",
            RunOutcome::Blocked => "blocked",
            RunOutcome::Interrupted => "interrupted",
            RunOutcome::Unpushed => "unpushed",
            RunOutcome::Invalid => "invalid",
            RunOutcome::Failed => "failed",
        }
    }
}

/// What a run ends with.
pub struct StepSummary<'a> {
    pub release: &'a str,
    pub version: &'a str,
    pub outcome: RunOutcome,
    pub rows: Vec<Row>,
    /// Why it did not succeed.
    pub error: Option<String>,
    pub notes: Option<&'a str>,
    /// The targets that failed in this run's environments and are not live since.
    pub failed_targets: Vec<FailedTarget>,
}

/// A target of an environment that failed (docs/plan.md, "`targets` and `waves`").
#[derive(Debug, Clone, PartialEq)]
pub struct FailedTarget {
    pub env: String,
    pub target: String,
    pub error: String,
}

/// The targets whose last visit of `targets` (environments) ended in `target_failed`
/// with no `live` of theirs after it.
pub fn failed_targets(file: &ReleaseFile, targets: &[String]) -> Vec<FailedTarget> {
    let mut failed: Vec<FailedTarget> = Vec::new();
    for env in targets {
        let mine: Vec<&Event> = file
            .events
            .iter()
            .filter(|e| e.env.as_deref() == Some(env.as_str()))
            .collect();
        let visit = mine
            .iter()
            .rposition(|e| matches!(e.kind, EventKind::Entered { .. }))
            .unwrap_or(0);
        for event in &mine[visit..] {
            let Some(target) = &event.target else {
                continue;
            };
            match &event.kind {
                EventKind::TargetFailed { error, .. } => {
                    failed.retain(|f| !(f.env == *env && f.target == *target));
                    failed.push(FailedTarget {
                        env: env.clone(),
                        target: target.clone(),
                        error: error.clone(),
                    });
                }
                EventKind::Live => failed.retain(|f| !(f.env == *env && f.target == *target)),
                _ => {}
            }
        }
    }
    failed
}

/// `%`, CR and LF are escaped in a workflow command's message; `:` and `,` too in a
/// property value.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

fn command(line: &str) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}

impl Actions {
    /// `Some` when running as a GitHub Actions step.
    pub fn from_env() -> Option<Actions> {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        if std::env::var("GITHUB_ACTIONS").ok().as_deref() != Some("true") {
            return None;
        }
        Some(Actions {
            group: RefCell::new(None),
            step_summary: var("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            output: var("GITHUB_OUTPUT").map(PathBuf::from),
        })
    }

    /// One recorded event: a new environment opens its group (closing the one before).
    pub fn event(&self, event: &Event) {
        if let Some(env) = &event.env {
            let mut group = self.group.borrow_mut();
            if group.as_deref() != Some(env.as_str()) {
                if group.is_some() {
                    command("::endgroup::");
                }
                command(&format!("::group::{}", escape_data(env)));
                *group = Some(env.clone());
            }
        }
    }

    pub fn end_group(&self) {
        if self.group.borrow_mut().take().is_some() {
            command("::endgroup::");
        }
    }

    pub fn error(&self, message: &str) {
        command(&format!(
            "::error title={}::{}",
            escape_property("relctl"),
            escape_data(message)
        ));
    }

    pub fn warning(&self, message: &str) {
        command(&format!("::warning title=relctl::{}", escape_data(message)));
    }

    pub fn notice(&self, message: &str) {
        command(&format!("::notice title=relctl::{}", escape_data(message)));
    }

    /// Ends the run for Actions: closes the group, annotates a failure, appends the
    /// step summary and writes the step outputs.
    pub fn finish(&self, summary: &StepSummary) -> anyhow::Result<()> {
        self.end_group();
        if let Some(error) = &summary.error {
            if summary.outcome == RunOutcome::Paused {
                self.notice(error);
            } else {
                self.error(error);
            }
        }
        if let Some(path) = &self.step_summary {
            append(path, &markdown(summary))?;
        }
        if let Some(path) = &self.output {
            append(
                path,
                &format!(
                    "release_id={}\noutcome={}\n",
                    one_line(summary.release),
                    one_line(summary.outcome.name())
                ),
            )?;
        }
        Ok(())
    }
}

fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

fn append(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

/// Table cells cannot hold `|` or line breaks.
fn cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

pub fn markdown(summary: &StepSummary) -> String {
    let mut out = format!(
        "### relctl: {} ({}) {}\n\n",
        cell(summary.release),
        cell(summary.version),
        summary.outcome.name().replace('_', " ")
    );
    if !summary.rows.is_empty() {
        out.push_str("| environment | status | duration |\n| --- | --- | --- |\n");
        for row in &summary.rows {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                cell(&row.env),
                cell(&row.status),
                row.duration
                    .map_or_else(|| "–".to_string(), format_duration)
            ));
        }
        out.push('\n');
    }
    if let Some(error) = &summary.error {
        out.push_str(&format!("> {}\n\n", one_line(error)));
    }
    if !summary.failed_targets.is_empty() {
        out.push_str(
            "**Targets that failed**\n\n| environment | target | error |\n| --- | --- | --- |\n",
        );
        for f in &summary.failed_targets {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                cell(&f.env),
                cell(&f.target),
                cell(&f.error)
            ));
        }
        out.push('\n');
    }
    if let Some(notes) = summary.notes {
        out.push_str(&format!(
            "<details><summary>Release notes</summary>\n\n{}\n</details>\n\n",
            notes.trim_end()
        ));
    }
    out
}

fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 60 {
        format!("{:.1} s", d.as_secs_f64())
    } else if secs < 3600 {
        format!("{}m {:02}s", secs / 60, secs % 60)
    } else {
        format!("{}h {:02}m", secs / 3600, (secs % 3600) / 60)
    }
}

/// Each target's status and time spent there, from the release's record.
pub fn rows(file: &ReleaseFile, targets: &[String], now: DateTime<Utc>) -> Vec<Row> {
    let state = engine::fold(Some(file));
    let refused = engine::refused_by_budget(file).map(|(env, _, _)| env);
    targets
        .iter()
        .map(|env| {
            let run = state.env(env);
            let status = match run.outcome {
                Some(Outcome::Live) => "live",
                Some(Outcome::RolledBack) => "rolled back",
                Some(Outcome::Aborted) => "aborted",
                None if !run.entered && refused == Some(env.as_str()) => {
                    "refused by its error budget"
                }
                None if !run.entered => "not started",
                None if run.awaiting.is_some() => "awaiting approval",
                None if run.inconclusive.is_some() => "paused (inconclusive)",
                None if run.failed.is_some() => "failed",
                None if run.rolling_back => "rolling back",
                None => "in progress",
            };
            // From the last time it entered to the event that ended the visit (or now).
            let mine = file
                .events
                .iter()
                .filter(|e| e.env.as_deref() == Some(env.as_str()));
            let entered = mine
                .clone()
                .filter(|e| matches!(e.kind, EventKind::Entered { .. }))
                .map(|e| e.at)
                .next_back();
            let duration = entered.map(|start| {
                let end = mine
                    .filter(|e| e.at >= start)
                    .filter(|e| {
                        matches!(
                            e.kind,
                            EventKind::Live
                                | EventKind::RolledBack { .. }
                                | EventKind::Aborted { .. }
                        )
                    })
                    .map(|e| e.at)
                    .next_back()
                    .unwrap_or(now);
                (end - start).to_std().unwrap_or_default()
            });
            Row {
                env: env.clone(),
                status: status.to_string(),
                duration,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_commands_are_escaped() {
        assert_eq!(escape_data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }

    #[test]
    fn summary_markdown() {
        let text = markdown(&StepSummary {
            release: "checkout-4f2a9c1be0d3",
            version: "1.4.2",
            outcome: RunOutcome::RolledBack,
            rows: vec![Row {
                env: "production".into(),
                status: "rolled back to a|b".into(),
                duration: Some(Duration::from_secs(75)),
            }],
            error: None,
            notes: None,
            failed_targets: Vec::new(),
        });
        assert_eq!(
            text,
            "### relctl: checkout-4f2a9c1be0d3 (1.4.2) rolled back\n\n\
             | environment | status | duration |\n| --- | --- | --- |\n\
             | production | rolled back to a\\|b | 1m 15s |\n\n"
        );
        let text = markdown(&StepSummary {
            release: "checkout-4f2a9c1be0d3",
            version: "1.4.2",
            outcome: RunOutcome::Failed,
            rows: Vec::new(),
            error: None,
            notes: None,
            failed_targets: vec![FailedTarget {
                env: "production".into(),
                target: "eu-west".into(),
                error: "HTTP 502 | bad gateway".into(),
            }],
        });
        assert!(
            text.contains(
                "**Targets that failed**\n\n| environment | target | error |\n| --- | --- | --- |\n\
                 | production | eu-west | HTTP 502 \\| bad gateway |\n"
            ),
            "{text}"
        );
    }
}
