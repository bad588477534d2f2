//! Rolling back an environment with targets: each target that received the release
//! (or, for `relctl rollback`, every target) has its steps undone and what was live
//! before redeployed to it, a bounded number at once, each recorded as its own.

use super::Runner;
use super::waves::{Pending, bounded, target_run};
use crate::engine::{EnvRun, EventKind, Live, Outcome};
use crate::plan::{Environment, Target};

/// Where the targets go back to, and how.
pub(super) struct Back<'a> {
    /// What was live before; `None` leaves each target as the deploy left it (nothing
    /// was live before, or `rollback: { on_failure: false }`).
    pub to: Option<&'a Live>,
    pub reason: &'a str,
    pub skip_undo: bool,
    /// Redeploy `to` to every target (`relctl rollback`), not only to those a deploy
    /// of this release may have reached.
    pub every: bool,
    /// One target rolled back on its own (`relctl rollback --target`): its last event
    /// frees the environment's lock and lists it in `targets_not_live`.
    pub only: bool,
    /// The record file that gives `to`, for the artifact check.
    pub from: &'a dyn Fn(&crate::record::Snapshot) -> anyhow::Result<String>,
    /// What to do when a redeploy fails.
    pub hint: &'a str,
}

/// The targets this release acted on in `run` (an intent recorded): the ones a rollback
/// after a failure takes back.
pub(super) fn received<'e>(env: &'e Environment, run: &EnvRun) -> Vec<&'e Target> {
    env.targets
        .iter()
        .filter(|t| {
            run.targets
                .get(&t.name)
                .is_some_and(|own| !own.intended.is_empty())
        })
        .collect()
}

impl Runner<'_> {
    /// Takes `targets` of `env` back as `back` says, at most the widest wave's
    /// `parallel` at once; whether a deploy may have reached any of them. Targets
    /// already rolled back on this visit (an interrupted rollback resumed) are skipped.
    pub(super) async fn roll_back_targets(
        &self,
        env: &Environment,
        run: &EnvRun,
        back: &Back<'_>,
        targets: Vec<&Target>,
    ) -> anyhow::Result<bool> {
        let deployed = targets
            .iter()
            .any(|t| super::incident::deployed(env, &target_run(run, t)));
        let limit = env.waves.iter().map(|w| w.parallel).max().unwrap_or(1);
        let runs = targets
            .into_iter()
            .filter(|t| {
                run.targets.get(&t.name).and_then(|own| own.outcome) != Some(Outcome::RolledBack)
            })
            .map(|target| {
                let future: Pending<'_, anyhow::Result<()>> =
                    Box::pin(self.roll_back_target(env, target, run, back));
                future
            })
            .collect();
        for result in bounded(runs, limit as usize).await {
            result?;
        }
        Ok(deployed)
    }

    async fn roll_back_target(
        &self,
        env: &Environment,
        target: &Target,
        run: &EnvRun,
        back: &Back<'_>,
    ) -> anyhow::Result<()> {
        let own = target_run(run, target);
        self.undo(&env.name, &own, back.skip_undo, Some(target))
            .await?;
        let deployed = super::incident::deployed(env, &own);
        if let Some(to) = back.to.filter(|_| deployed || back.every) {
            self.redeploy(&env.name, &own, to, back.from, back.hint, Some(target))
                .await?;
        }
        let own_release = self.header.release.clone();
        let name = target.name.clone();
        self.record_in(
            (Some(&env.name), Some(&target.name)),
            EventKind::RolledBack {
                to: back.to.map(|l| l.release.clone()),
                reason: back.reason.to_string(),
                ms: None,
                nothing_deployed: !deployed && !back.every,
            },
            &mut |f| {
                if back.only {
                    if f.lock.as_ref().is_some_and(|l| l.release == own_release) {
                        f.lock = None;
                    }
                    if !f.targets_not_live.contains(&name) {
                        f.targets_not_live.push(name.clone());
                    }
                }
                Ok(())
            },
        )
    }
}
