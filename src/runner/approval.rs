//! A release at an approval gate: asked in place on a terminal (the question through
//! the ui), else recorded as waiting, and with `--wait-approval` polled until an
//! approver decides or the wait ends.

use std::time::Instant;

use anyhow::Context as _;

use super::Runner;
use crate::engine::{self, EventKind, ReleaseState};
use crate::error::{Error, Exit};
use crate::plan::Approval;

/// The gate a release waits at: `step: None` is the environment's own approval.
pub(super) struct Gate<'g> {
    pub env: &'g str,
    pub step: Option<usize>,
    pub approval: &'g Approval,
    /// Who approved so far.
    pub have: &'g [String],
}

impl Runner<'_> {
    /// One turn of waiting at `gate`: the prompt when this run may ask and the caller
    /// may approve; else `awaiting_approval` recorded once, then exit 4 (paused), or
    /// with `--wait-approval` one poll of the record within its deadline.
    pub(super) async fn await_approval(
        &self,
        gate: &Gate<'_>,
        state: &ReleaseState,
        deadline: &mut Option<Instant>,
    ) -> anyhow::Result<()> {
        let (env, step) = (gate.env, gate.step);
        let run = state.env(env);
        if self.opts.interactive {
            match self.may_approve(gate, state) {
                Ok(()) => return self.prompt(gate).await,
                // Said once, not on every poll of --wait-approval.
                Err(why) if run.awaiting != Some(step) => self
                    .printer
                    .warn(&format!("you cannot approve this yourself: {why}")),
                Err(_) => {}
            }
        }
        if run.awaiting != Some(step) {
            self.record_event(Some(env), EventKind::AwaitingApproval { step })?;
        }
        let paused = || {
            Error::new(
                Exit::Paused,
                format!(
                    "{} is waiting for approval in {env} ({}/{} so far)",
                    self.release(),
                    gate.have.len(),
                    gate.approval.min
                ),
            )
            .with_hint(format!(
                "an approver runs `relctl approve {} --env {env}`; then `relctl resume {}` continues",
                self.release(),
                self.release()
            ))
        };
        let Some(limit) = self.opts.wait_approval else {
            return Err(paused().into());
        };
        if deadline.is_none() && run.awaiting == Some(step) {
            // Recorded as waiting by an earlier run: no event line says this one waits.
            self.printer.status(&format!(
                "{} is waiting for approval in {env} ({}/{} so far); waiting up to {}",
                self.release(),
                gate.have.len(),
                gate.approval.min,
                crate::duration::format(limit)
            ));
        }
        let deadline = *deadline.get_or_insert_with(|| crate::duration::deadline(limit));
        if Instant::now() >= deadline {
            return Err(paused().into());
        }
        let spinner = self.printer.spinner(format!(
            "{env:<12} awaiting approval ({}/{})",
            gate.have.len(),
            gate.approval.min
        ));
        tokio::time::sleep(self.poll).await;
        drop(spinner);
        self.sync()
    }

    /// Whether the person running this may approve the gate, or why not.
    fn may_approve(&self, gate: &Gate<'_>, state: &ReleaseState) -> Result<(), String> {
        if self.author.actor_source == engine::ActorSource::None {
            return Err("no identity is known (set git's user.email, or RELCTL_ACTOR)".to_string());
        }
        if gate.approval.signed {
            if !self.store.signs() {
                return Err("the gate asks for a signed approval and git has no SSH signing key configured (docs/trust.md)".to_string());
            }
            // An approval of ours that does not count would only be asked for again.
            if self
                .approved_uncounted(gate)
                .map_err(|err| format!("{err:#}"))?
            {
                return Err(
                    "your approval is recorded but does not count (the warning above says why)"
                        .to_string(),
                );
            }
        }
        engine::decide::approver_allowed(
            gate.approval,
            &self.author.actor,
            state.started_by.as_deref(),
        )
    }

    /// Whether the record holds an approval of this gate by the caller, counted or not.
    fn approved_uncounted(&self, gate: &Gate<'_>) -> anyhow::Result<bool> {
        let snapshot = self.store.snapshot()?;
        let file = crate::format::read_release(&snapshot, &self.header.app, self.release())?;
        Ok(file.is_some_and(|file| {
            file.events.iter().any(|e| {
                e.env.as_deref() == Some(gate.env)
                    && matches!(&e.kind, EventKind::Approved { step, by, .. }
                        if *step == gate.step && engine::decide::same_person(by, &self.author.actor))
            })
        }))
    }

    /// Asks on the terminal and records the answer: approved, or rejected.
    async fn prompt(&self, gate: &Gate<'_>) -> anyhow::Result<()> {
        let (env, step) = (gate.env, gate.step);
        let place = step.map_or_else(
            || format!("into {env}"),
            |s| format!("past step {} in {env}", s + 1),
        );
        let question = format!(
            "Approve {} {place} as {}? ({}/{} approvals)",
            self.release(),
            self.author.actor,
            gate.have.len(),
            gate.approval.min
        );
        let answer = match tokio::task::spawn_blocking(move || crate::ui::confirm(&question))
            .await
            .context("asking for approval")?
        {
            Ok(answer) => answer,
            // Only SIGINT and SIGTERM have handlers, so a read they cut short is the
            // person at the terminal (or the system) stopping the run.
            Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
                return Err(
                    Error::new(Exit::Interrupted, "interrupted at the approval prompt").into(),
                );
            }
            Err(e) => return Err(e).context("asking for approval"),
        };
        if answer {
            self.record_event(
                Some(env),
                EventKind::Approved {
                    step,
                    by: self.author.actor.clone(),
                    comment: None,
                },
            )
        } else {
            self.record_event(
                Some(env),
                EventKind::Rejected {
                    by: self.author.actor.clone(),
                    reason: "declined at the prompt".into(),
                },
            )
        }
    }
}
