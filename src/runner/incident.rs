//! Rolling an environment back: after a failed gate, a rejection or an abort (the
//! release's own environment), and for `relctl rollback`, the incident path (redeploy
//! what was live before at full weight, skipping analysis and approval, preempting a
//! release under way, never frozen). Both undo the release's completed steps and
//! redeploy what was live before the same way (`undo`, `redeploy`, one idempotency key).

use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::Runner;
use super::context::Deployable;
use super::steps::{self, Prepared, Tools, Visit};
use crate::engine::{self, EnvFile, EnvRun, EventKind, Live, Lock, RollbackNote};
use crate::error::{Error, Exit};
use crate::format;
use crate::plan::{Environment, StepKind, Target};

/// The environment moved between `relctl rollback`'s decision and its first commit
/// (another rollback, a release entering): the caller decides again on the new tip.
#[derive(Debug, thiserror::Error)]
#[error("{0} changed while the rollback was deciding")]
pub struct Changed(pub String);

impl Runner<'_> {
    /// The runner's release in `env` as the record says now: what a rollback reads once
    /// it holds the environment, since a run elsewhere may have recorded since.
    fn run_now(&self, env_name: &str) -> anyhow::Result<engine::EnvRun> {
        let snapshot = self.store.snapshot()?;
        let file = format::read_release(&snapshot, &self.header.app, self.release())?;
        Ok(engine::fold(file.as_ref()).env(env_name))
    }

    /// `relctl rollback`: rolls `env` back to `to`. The runner's own release is the one
    /// rolled back (its completed steps undone unless `skip_undo`, marked rejected
    /// there); `preempted` says it is a release under way, which is marked aborted. The
    /// environment must still be as `seen` when the rollback takes it, else [`Changed`].
    /// `only` rolls back one target of the environment (`--target`): the environment
    /// stays live with the release, that target listed in `targets_not_live`. Each
    /// target goes back to what it ran itself before, unless `to` was `chosen` (`--to`).
    pub async fn rollback_env(
        &self,
        env_name: &str,
        to: &Live,
        seen: &EnvFile,
        (preempted, skip_undo, chosen): (bool, bool, bool),
        only: Option<&str>,
        reason: &str,
    ) -> anyhow::Result<Duration> {
        let start = Instant::now();
        let actor = self.author.actor.clone();
        let own = self.header.release.clone();
        self.record_in(
            (Some(env_name), only),
            EventKind::RollbackStarted {
                reason: reason.to_string(),
            },
            &mut |f| {
                // The compare-and-swap that makes two rollbacks at once deploy once: the
                // second one finds the lock taken (or the release gone) and decides again.
                if f.live != seen.live || f.lock != seen.lock {
                    return Err(Changed(f.environment.clone()).into());
                }
                f.lock = Some(Lock {
                    release: own.clone(),
                    by: actor.clone(),
                    since: crate::clock::now(),
                    run: None,
                });
                Ok(())
            },
        )?;
        // Under way, unless an abort whose rollback did not finish already ended it.
        if preempted && self.run_now(env_name)?.outcome.is_none() {
            let reason = format!("preempted by a rollback of {env_name}: {reason}");
            self.record_event(Some(env_name), EventKind::Aborted { reason })?;
        }
        let run = self.run_now(env_name)?;
        let from = |s: &crate::record::Snapshot| format::env_file(s, &self.header.app, env_name);
        let hint = "the environment's lock is held by the rollback; run the same rollback again";
        let env = self
            .plan
            .environment(env_name)
            .context("the plan lost an environment")?;
        if env.targets.is_empty() {
            self.undo(env_name, &run, skip_undo, None).await?;
            self.redeploy(env_name, &run, to, &from, hint, None).await?;
        } else {
            // Every target (or the one asked for) that runs the release or received it
            // goes back to what it ran before.
            let back = super::targets::Back {
                to: Some(to),
                chosen,
                reason,
                skip_undo,
                every: true,
                only: only.is_some(),
                from: &from,
                hint,
            };
            let targets = env
                .targets
                .iter()
                .filter(|t| only.is_none_or(|o| o == t.name))
                .collect();
            self.roll_back_targets(env, &run, &back, targets).await?;
            if only.is_some() {
                return Ok(start.elapsed());
            }
        }
        let took = start.elapsed();
        let back_to = to.clone();
        let by = self.author.actor.clone();
        self.record(
            Some(env_name),
            EventKind::RolledBack {
                to: Some(to.release.clone()),
                reason: reason.to_string(),
                ms: Some(took.as_millis() as u64),
                nothing_deployed: false,
            },
            &mut |f| {
                if let Some(old) = f.live.take()
                    && old.release != back_to.release
                {
                    f.push_previous(old);
                }
                f.previous.retain(|p| p.release != back_to.release);
                f.live = Some(Live {
                    since: crate::clock::now(),
                    by: by.clone(),
                    ..back_to.clone()
                });
                f.lock = None;
                f.targets_not_live = not_live(f, env);
                rejected_here(f, &own, &back_to.release, &by, reason);
                Ok(())
            },
        )?;
        Ok(took)
    }

    /// After a failed gate, a rejection or an abort: undo the environment's completed
    /// steps in reverse, redeploy what was live before at full weight, and mark this
    /// release rejected there. Ends with exit 3.
    pub async fn roll_back(
        &self,
        env_name: &str,
        run: &EnvRun,
        reason: &str,
    ) -> anyhow::Result<()> {
        let env = self
            .plan
            .environment(env_name)
            .context("the plan lost an environment")?;
        if !run.rolling_back {
            self.record_event(
                Some(env_name),
                EventKind::RollbackStarted {
                    reason: reason.to_string(),
                },
            )?;
        }
        // What was deployed is read again now that the rollback holds the environment:
        // a run of the release elsewhere (an abort's target) may have recorded a step's
        // intent since `run` was read, and can record none after (src/runner/claim.rs).
        let run = &self.run_now(env_name)?;
        let hint = format!(
            "`relctl resume {}` retries the rollback; `relctl rollback --env {env_name}` is the manual path",
            self.release()
        );
        let own = self.release();
        let from = |s: &crate::record::Snapshot| format::release_file(s, &self.header.app, own);
        let deployed = if env.targets.is_empty() {
            self.undo(env_name, run, false, None).await?;
            deployed(env, run)
        } else {
            // Every target that received the release goes back, as promote went: a
            // bounded number at once.
            let back = super::targets::Back {
                to: run.baseline.as_ref().filter(|_| env.rollback_on_failure),
                chosen: false,
                reason,
                skip_undo: false,
                every: false,
                only: false,
                from: &from,
                hint: &hint,
            };
            self.roll_back_targets(env, run, &back, super::targets::received(env, run))
                .await?
        };
        let mut to = None;
        match (&run.baseline, deployed && env.rollback_on_failure) {
            (Some(baseline), true) => {
                if env.targets.is_empty() {
                    self.redeploy(env_name, run, baseline, &from, &hint, None)
                        .await?;
                }
                to = Some(baseline.release.clone());
            }
            (None, true) => self.printer.warn(&format!(
                "nothing was live in {env_name} before {}: it is left as the deploy left it",
                self.release()
            )),
            _ => {}
        }
        let release = self.release().to_string();
        let by = self.author.actor.clone();
        self.record(
            Some(env_name),
            EventKind::RolledBack {
                to: to.clone(),
                reason: reason.to_string(),
                ms: None,
                nothing_deployed: !deployed,
            },
            &mut |f| {
                if f.lock.as_ref().is_some_and(|l| l.release == release) {
                    f.lock = None;
                }
                if format::targets::recorded(f) {
                    f.targets_not_live = not_live(f, env);
                }
                // A visit for targets added since leaves the release live where it was.
                let live_here = f.live.as_ref().is_some_and(|l| l.release == release);
                match &to {
                    _ if live_here => {}
                    Some(to) => rejected_here(f, &release, to, &by, reason),
                    None if !f.rejected.contains(&release) => f.rejected.push(release.clone()),
                    None => {}
                }
                Ok(())
            },
        )?;
        let what = if deployed {
            "was rolled back"
        } else {
            "was stopped before anything was deployed"
        };
        Err(Error::new(
            Exit::Rejected,
            format!("{} {what} in {env_name}: {reason}", self.release()),
        )
        .into())
    }

    /// Puts back the flags the release changed (first: the fastest lever; even with
    /// `skip`), then runs the `undo` of every completed `http`/`exec` step of `run` not
    /// undone yet, in reverse order, each recorded; with `skip`, records each as
    /// skipped instead.
    pub(super) async fn undo(
        &self,
        env_name: &str,
        run: &EnvRun,
        skip: bool,
        place: Option<&Target>,
    ) -> anyhow::Result<()> {
        self.restore_flags(env_name, run).await?;
        let env = self
            .plan
            .environment(env_name)
            .context("the plan lost an environment")?;
        let own = self.own_deployable();
        let on = place.map(|t| t.name.as_str());
        let visit = Visit::recorded(self.release(), env_name, run).of_target(on);
        let tools = Tools {
            client: self.client()?,
            backoff: &self.backoff,
        };
        for (index, step) in env.steps.iter().enumerate().rev() {
            if !run.done.contains(&index) || run.undone.contains(&index) {
                continue;
            }
            let scope = self.scope(env_name, &own, run.baseline.as_ref(), index, 0, place);
            let prepared = match &step.kind {
                StepKind::Http(h) => match &h.undo {
                    Some(undo) => steps::http_call(&scope, undo, Some(visit.undo_key(index))),
                    None => continue,
                },
                StepKind::Exec(e) => match &e.undo {
                    Some(undo) => steps::command(&scope, undo).map(Prepared::Exec),
                    None => continue,
                },
                _ => continue,
            };
            let error = if skip {
                None
            } else {
                let result = match prepared {
                    Ok(p) => steps::perform(p, &scope, None, &tools, None)
                        .await
                        .map(|_| ()),
                    Err(e) => Err(e),
                };
                result.err().map(|e| self.secrets.mask(&e.message))
            };
            self.record_step(
                env_name,
                on,
                EventKind::Undone {
                    step: index,
                    error,
                    skipped: skip,
                    found: None,
                },
            )?;
        }
        Ok(())
    }

    /// Redeploys `to` at full weight, for both kinds of rollback of `run`'s visit; a
    /// failure is recorded (the environment stays locked by the rollback) and is exit 1
    /// with `hint`.
    pub(super) async fn redeploy(
        &self,
        env_name: &str,
        run: &EnvRun,
        to: &Live,
        from: &dyn Fn(&crate::record::Snapshot) -> anyhow::Result<String>,
        hint: &str,
        place: Option<&Target>,
    ) -> anyhow::Result<()> {
        let on = place.map(|t| t.name.as_str());
        self.check_live(to, from)?;
        let path = from(&self.store.snapshot()?)?;
        crate::went_live::check(&self.store, self.plan, env_name, &to.release, &path)?;
        let env = self
            .plan
            .environment(env_name)
            .context("the plan lost an environment")?;
        let provider = self
            .plan
            .deploy_providers
            .get(&env.deploy_of(place).raw)
            .context("the plan lost a deploy provider")?;
        let tools = Tools {
            client: self.client()?,
            backoff: &self.backoff,
        };
        let target = Deployable::from(to);
        let scope = self.scope(env_name, &target, Some(to), env.steps.len(), 100, place);
        let shown = match on {
            Some(target) => format!("{env_name}/{target}"),
            None => env_name.to_string(),
        };
        let spinner = self
            .printer
            .spinner(format!("{shown:<12} rolling back to {}", to.release));
        let key = Visit::recorded(self.release(), env_name, run)
            .of_target(on)
            .rollback_key(&to.release);
        let result = match steps::deploy(&scope, provider, key) {
            Ok(prepared) => steps::perform(prepared, &scope, Some(provider), &tools, None).await,
            Err(e) => Err(e),
        };
        drop(spinner);
        let Err(e) = result else {
            return Ok(());
        };
        let error = self.secrets.mask(&e.message);
        self.record_step(
            env_name,
            on,
            EventKind::RollbackFailed {
                to: to.release.clone(),
                error: error.clone(),
            },
        )?;
        Err(Error::new(
            Exit::Failed,
            format!("rolling {shown} back to {} failed: {error}", to.release),
        )
        .with_hint(hint)
        .into())
    }
}

/// Whether a deploy of `run` may have reached the platform: a deploy whose intent was
/// recorded may have, whatever relctl made of its answer (a digest it did not confirm,
/// a wait that failed), so the canary may be running and what was live before goes back.
pub(super) fn deployed(env: &Environment, run: &EnvRun) -> bool {
    env.steps
        .iter()
        .enumerate()
        .any(|(i, s)| matches!(s.kind, StepKind::Deploy { .. }) && run.intended.contains(&i))
}

/// The targets of `env` that do not run what is live, as the file records them; none
/// in a file that does not (an environment without targets, or one written before).
fn not_live(f: &EnvFile, env: &Environment) -> Vec<String> {
    if !format::targets::recorded(f) {
        return Vec::new();
    }
    let all: Vec<&str> = env.targets.iter().map(|t| t.name.as_str()).collect();
    format::targets::not_live(f, &all)
}

/// Marks `from` rejected in the environment and notes the rollback to `to`, which
/// `status` shows and a second `relctl rollback` reports instead of going back again.
fn rejected_here(f: &mut EnvFile, from: &str, to: &str, by: &str, reason: &str) {
    if !f.rejected.iter().any(|r| r == from) {
        f.rejected.push(from.to_string());
    }
    f.rolled_back = Some(RollbackNote {
        from: from.to_string(),
        to: to.to_string(),
        by: by.to_string(),
        at: crate::clock::now(),
        reason: reason.to_string(),
    });
}
