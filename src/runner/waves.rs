//! An environment with targets, one wave at a time: every target of the wave not live
//! yet runs the environment's steps in order, at most the wave's `parallel` at once,
//! each recording its own events; a target is marked live when its steps are done.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use anyhow::Context as _;
use chrono::{DateTime, Utc};

use super::Runner;
use crate::engine::{EnvRun, EventKind, Outcome};
use crate::error::Exit;
use crate::plan::{Environment, Target, TargetFailure};

pub(super) type Pending<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

impl Runner<'_> {
    /// Runs wave `wave` of `env_name` (after the one before has soaked, `not_before`).
    /// Every target of the wave is given its chance; the first failure is the result.
    pub(super) async fn wave(
        &self,
        env_name: &str,
        wave: usize,
        not_before: Option<DateTime<Utc>>,
        run: &EnvRun,
    ) -> anyhow::Result<()> {
        let env = self
            .plan
            .environment(env_name)
            .context("the plan lost an environment")?;
        let spec = env.waves.get(wave).context("the plan lost a wave")?;
        if let Some(at) = not_before {
            let left = at
                .signed_duration_since(crate::clock::now())
                .to_std()
                .unwrap_or_default();
            if !left.is_zero() {
                self.printer.status(&format!(
                    "{env_name}: wave {} soaks for {} before wave {}",
                    wave,
                    crate::duration::format(left),
                    wave + 1
                ));
                tokio::time::sleep(left).await;
            }
        }
        let snapshot = self.store.snapshot()?;
        let file = crate::format::read_env(&snapshot, &self.header.app, env_name)?;
        drop(snapshot);
        // A target that runs the release already (this visit is for one added since).
        let targets: Vec<&Target> = spec
            .targets
            .iter()
            .filter_map(|name| env.target(&name.raw))
            .filter(|t| target_run(run, t).outcome != Some(Outcome::Live))
            .filter(|t| !crate::format::targets::runs_already(&file, &t.name, self.release()))
            .collect();
        self.printer.status(&format!(
            "{env_name}: wave {}/{}: {} ({} at a time)",
            wave + 1,
            env.waves.len(),
            targets
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            spec.parallel
        ));
        // Once a target has failed, no target of the wave starts another step unless
        // the plan says to carry on; a step under way finishes and is recorded.
        let failed = Cell::new(false);
        let runs = targets
            .into_iter()
            .map(|target| {
                let future: Pending<'_, anyhow::Result<Ended>> =
                    Box::pin(self.target_steps(env, target, run, &failed));
                future
            })
            .collect();
        let mut first_failure = None;
        for result in bounded(runs, spec.parallel as usize).await {
            if let Ended::Failed(e) = result? {
                first_failure.get_or_insert(e);
            }
        }
        match (first_failure, env.on_target_failure) {
            // `stop` ends the run here with the lock kept: exit 1, `resume` retries.
            (Some(e), TargetFailure::Stop) => Err(e),
            // `rollback`: the next decision rolls the environment back; `continue`: the
            // next wave goes on without the target.
            _ => Ok(()),
        }
    }

    /// One target's steps, from where its own events left it, then its `live`. A step
    /// that fails is the target's failure, recorded with the plan's policy.
    async fn target_steps(
        &self,
        env: &Environment,
        target: &Target,
        run: &EnvRun,
        failed: &Cell<bool>,
    ) -> anyhow::Result<Ended> {
        let own = target_run(run, target);
        let policy = env.on_target_failure;
        for index in 0..env.steps.len() {
            if own.done.contains(&index) {
                continue;
            }
            if failed.get() && policy != TargetFailure::Continue {
                return Ok(Ended::Held);
            }
            let Err(e) = self.step(&env.name, index, &own, Some(target)).await else {
                continue;
            };
            if crate::error::exit_of(&e) != Exit::Failed {
                return Err(e);
            }
            failed.set(true);
            let error = e.to_string();
            self.record_step(
                &env.name,
                Some(&target.name),
                EventKind::TargetFailed { policy, error },
            )?;
            if policy == TargetFailure::Continue {
                // Left behind, the target goes back to what was live before rather
                // than keep a canary that failed.
                self.left_behind(env, target, run).await?;
            }
            return Ok(Ended::Failed(e));
        }
        let all: Vec<&str> = env.targets.iter().map(|t| t.name.as_str()).collect();
        self.record_in(
            (Some(&env.name), Some(&target.name)),
            EventKind::Live,
            &mut |f| {
                crate::format::targets::runs(f, &all, &target.name, self.release());
                Ok(())
            },
        )?;
        Ok(Ended::Live)
    }
}

impl Runner<'_> {
    /// A target that failed under `on_target_failure: continue`: its steps undone and
    /// what was live before redeployed to it (when something was), recorded as its own
    /// `rolled_back`; the environment's other targets carry on.
    async fn left_behind(
        &self,
        env: &Environment,
        target: &Target,
        run: &EnvRun,
    ) -> anyhow::Result<()> {
        let snapshot = self.store.snapshot()?;
        let file = crate::format::read_release(&snapshot, &self.header.app, self.release())?;
        drop(snapshot);
        // This run's events of the target, its failure among them.
        let now = crate::engine::fold(file.as_ref()).env(&env.name);
        let run = EnvRun {
            targets: now.targets,
            ..run.clone()
        };
        let own = self.release();
        let from =
            |s: &crate::record::Snapshot| crate::format::release_file(s, &self.header.app, own);
        let hint = format!(
            "the other targets carry on; `relctl rollback --env {} --target {}` tries again",
            env.name, target.name
        );
        let back = super::targets::Back {
            to: run.baseline.as_ref().filter(|_| env.rollback_on_failure),
            chosen: false,
            reason: "the target failed (on_target_failure: continue)",
            skip_undo: false,
            every: false,
            only: false,
            from: &from,
            hint: &hint,
        };
        self.roll_back_targets(env, &run, &back, vec![target])
            .await
            .map(|_| ())
    }
}

/// How one target's turn in a wave ended.
enum Ended {
    Live,
    Failed(anyhow::Error),
    /// Another target failed and the plan does not carry on: this one went no further.
    Held,
}

/// A target's run as its steps see it: its own events, with the environment's visit
/// and baseline (which the environment's `entered` recorded).
pub(super) fn target_run(run: &EnvRun, target: &Target) -> EnvRun {
    EnvRun {
        entered: run.entered,
        visit: run.visit,
        baseline: run.baseline.clone(),
        ..run.targets.get(&target.name).cloned().unwrap_or_default()
    }
}

/// Runs `futures` at most `limit` at a time, in their order, on the current task, and
/// returns their results in that order. The runner is one task on one thread, so the
/// targets of a wave share it: each waits on the platform while another records.
pub(super) async fn bounded<'a, T: 'a>(futures: Vec<Pending<'a, T>>, limit: usize) -> Vec<T> {
    let gate = tokio::sync::Semaphore::new(limit.max(1));
    let gate = &gate;
    let mut slots: Vec<Option<Pending<'_, T>>> = futures
        .into_iter()
        .map(|future| {
            let queued: Pending<'_, T> = Box::pin(async move {
                // Never closed: acquiring fails only on a closed semaphore.
                let _permit = gate.acquire().await;
                future.await
            });
            Some(queued)
        })
        .collect();
    let mut results: Vec<Option<T>> = slots.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut waiting = false;
        for (slot, result) in slots.iter_mut().zip(results.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => {
                        *result = Some(value);
                        *slot = None;
                    }
                    Poll::Pending => waiting = true,
                }
            }
        }
        if waiting {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    results.into_iter().flatten().collect()
}
