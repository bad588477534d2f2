//! Telling others how a run goes: the notify hooks (and the record of those that
//! failed), the GitHub Actions summary and outputs, and the final line or JSON summary.

use std::time::Duration;

use crate::engine::EventKind;
use crate::ui::github::RunOutcome;

use super::Runner;

impl Runner<'_> {
    /// Tells the notify hooks about a recorded event they subscribe to, and records
    /// the notifications that failed so far.
    pub(super) fn notify(&self, env: Option<&str>, event: &crate::engine::Event, oid: git2::Oid) {
        use crate::providers::notify;
        let Some(notifier) = &self.notifier else {
            return;
        };
        let last = self.opts.targets.last().map(String::as_str);
        if let Some(name) = notify::subscribed(&event.kind, env, last) {
            let target = self.own_deployable();
            let ctx = self
                .scope(env.unwrap_or_default(), &target, None, 0, 100, None)
                .value();
            let link = notifier.link(&oid.to_string());
            let message = notify::message(
                event,
                name,
                self.release(),
                &self.plan.app,
                &self.header.version,
                link,
            );
            notifier.send(&ctx, &message);
        }
        self.notify_failed(notifier.failures());
    }

    /// A notification that failed is a `notify_failed` event in the record, never a
    /// failed release; the first failure of each hook in a run is a warning too.
    fn notify_failed(&self, failures: Vec<crate::providers::notify::Failure>) {
        for f in failures {
            if f.first {
                let text = format!(
                    "cannot notify {} of the `{}` event: {}",
                    f.hook, f.event, f.error
                );
                self.printer.warn(&format!(
                    "{text}. The release is not affected; each notification this hook \
                     misses is recorded as `notify_failed`, and this warning is not repeated \
                     in this run"
                ));
                if let Some(github) = &self.github {
                    github.warning(&text);
                }
            }
            let kind = EventKind::NotifyFailed {
                hook: f.hook,
                error: f.error,
            };
            let recorded = crate::format::record(
                &self.store,
                &self.author,
                &self.header,
                f.env.as_deref(),
                kind,
                &mut |_| Ok(()),
            );
            match recorded {
                Ok((event, _)) if self.printer.mode() == crate::ui::OutputMode::Json => {
                    let _ = self.printer.event(self.release(), &event);
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("cannot record the failed notification: {e:#}"),
            }
        }
    }

    /// Ends a run for its hooks: waits for the notifications still being sent (and
    /// records those that failed), then writes the GitHub Actions summary and outputs.
    /// `rows` replaces the environments' lines read from the record.
    pub fn conclude(
        &self,
        outcome: RunOutcome,
        error: Option<&anyhow::Error>,
        rows: Option<Vec<crate::ui::github::Row>>,
    ) {
        if let Some(notifier) = &self.notifier {
            let wait = if outcome == RunOutcome::Interrupted {
                Duration::from_secs(2)
            } else {
                crate::providers::notify::FLUSH
            };
            self.notify_failed(notifier.finish(wait));
        }
        let Some(github) = &self.github else {
            return;
        };
        let file = self
            .store
            .snapshot()
            .and_then(|s| crate::format::read_release(&s, &self.header.app, self.release()))
            .ok()
            .flatten();
        let rows = rows.unwrap_or_else(|| {
            file.as_ref()
                .map(|f| crate::ui::github::rows(f, &self.opts.targets, crate::clock::now()))
                .unwrap_or_default()
        });
        let summary = crate::ui::github::StepSummary {
            release: self.release(),
            version: &self.header.version,
            outcome,
            rows,
            error: error.map(|e| format!("{e:#}")),
            notes: file.as_ref().and_then(|f| f.notes.as_deref()),
            failed_targets: file
                .as_ref()
                .map(|f| crate::ui::github::failed_targets(f, &self.opts.targets))
                .unwrap_or_default(),
        };
        if let Err(e) = github.finish(&summary) {
            self.printer
                .warn(&format!("cannot write the GitHub Actions summary: {e:#}"));
        }
    }

    /// Ends a run: its hooks and GitHub Actions told (`conclude`), then the JSON summary
    /// line, or the line that says where the release is live.
    pub(super) fn finish(&self, result: &anyhow::Result<()>) -> anyhow::Result<()> {
        let outcome = RunOutcome::of(result.as_ref().err().map(crate::error::exit_of));
        self.conclude(outcome, result.as_ref().err(), None);
        if self.printer.mode() == crate::ui::OutputMode::Json {
            let exit = result
                .as_ref()
                .err()
                .map_or(0, |e| crate::error::exit_of(e).code());
            let mut summary = serde_json::json!({
                "summary": true,
                "release": self.release(),
                "outcome": outcome.name(),
                "exit": exit,
                "targets": self.opts.targets,
            });
            if let Err(e) = result {
                crate::ui::add_error(&mut summary, e);
            }
            return self.printer.stream(&summary);
        }
        if result.is_ok() {
            self.printer.status(&format!(
                "{} is live in {}",
                self.release(),
                self.live_in_targets().join(", ")
            ));
        }
        Ok(())
    }

    /// The run's targets that the record says run the release now: a target it passed
    /// through on its way further may run a newer release since.
    fn live_in_targets(&self) -> Vec<&str> {
        let targets = self.opts.targets.iter().map(String::as_str);
        let envs = self.store.snapshot().and_then(|snapshot| {
            crate::format::read_envs(&snapshot, &self.header.app, targets.clone())
        });
        let Ok(envs) = envs else {
            return targets.collect();
        };
        targets
            .filter(|env| {
                envs.get(*env)
                    .and_then(|f| f.live.as_ref())
                    .is_none_or(|l| l.release == self.release())
            })
            .collect()
    }
}
