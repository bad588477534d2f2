//! Rolling back an environment with targets: each target that received the release
//! (or, for `relctl rollback`, also each that runs it) has its steps undone and is taken
//! back to what it ran itself before (the environment file's `targets:`,
//! src/format/targets.rs), a bounded number at once, each recorded as its own. A target
//! that neither runs the release nor received it is left alone.

use super::Runner;
use super::waves::{Pending, bounded, target_run};
use crate::engine::{EnvFile, EnvRun, EventKind, Live, Outcome};
use crate::format::targets::{self as runs, TargetLive};
use crate::plan::{Environment, Target};

/// Where the targets go back to, and how.
pub(super) struct Back<'a> {
    /// What was live before in the environment; `None` leaves each target as the deploy
    /// left it (nothing was live before, or `rollback: { on_failure: false }`).
    pub to: Option<&'a Live>,
    /// `to` was asked for (`relctl rollback --to`): every target taken back goes to it,
    /// not to what it ran itself before.
    pub chosen: bool,
    pub reason: &'a str,
    pub skip_undo: bool,
    /// `relctl rollback`: targets that run the release are taken back too, not only
    /// those a deploy of this visit may have reached.
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

/// Where one target goes back to: a release and the record file that gives it.
type Way = Option<(Live, String)>;

impl Runner<'_> {
    /// Takes `targets` of `env` back as `back` says, at most the widest wave's
    /// `parallel` at once; whether a deploy may have reached any of them. Targets
    /// already rolled back on this visit (an interrupted rollback resumed), and targets
    /// that neither run the release nor received it, are skipped.
    pub(super) async fn roll_back_targets(
        &self,
        env: &Environment,
        run: &EnvRun,
        back: &Back<'_>,
        targets: Vec<&Target>,
    ) -> anyhow::Result<bool> {
        let snapshot = self.store.snapshot()?;
        let file = crate::format::read_env(&snapshot, &self.header.app, &env.name)?;
        let deployed = targets
            .iter()
            .any(|t| super::incident::deployed(env, &target_run(run, t)));
        let limit = env.waves.iter().map(|w| w.parallel).max().unwrap_or(1);
        let mut ways = Vec::new();
        for target in targets {
            let own = target_run(run, target);
            if run.targets.get(&target.name).and_then(|own| own.outcome)
                == Some(Outcome::RolledBack)
            {
                continue;
            }
            let ran = runs::of(&file, &target.name);
            let runs_it = ran.release.as_deref() == Some(self.release());
            if !runs_it && own.intended.is_empty() {
                continue;
            }
            let way = self.way_back(&snapshot, &file, (env, target), &own, &ran, back)?;
            ways.push((target, way));
        }
        drop(snapshot);
        let runs = ways
            .into_iter()
            .map(|(target, way)| {
                let future: Pending<'_, anyhow::Result<()>> =
                    Box::pin(self.roll_back_target(env, target, run, back, way));
                future
            })
            .collect();
        for result in bounded(runs, limit as usize).await {
            result?;
        }
        Ok(deployed)
    }

    /// What one target goes back to: what it ran before this release when it runs it,
    /// what it still runs when a deploy of this release may have reached it, `back.to`
    /// when that was asked for; `None` leaves it as it is.
    fn way_back(
        &self,
        snapshot: &crate::record::Snapshot,
        file: &EnvFile,
        (env, target): (&Environment, &Target),
        own: &EnvRun,
        ran: &TargetLive,
        back: &Back<'_>,
    ) -> anyhow::Result<Way> {
        let Some(to) = back.to else {
            return Ok(None);
        };
        let runs_it = ran.release.as_deref() == Some(self.release());
        let reached = super::incident::deployed(env, own) || (runs_it && back.every);
        let id = if back.chosen {
            if !(reached || runs_it) {
                None
            } else if self.failed_on(snapshot, &to.release, &env.name, &target.name)? {
                // `--to` never sends a target a release that did not go live there.
                self.printer.warn(&format!(
                    "{}/{} is left on {}: {} never went live there (it failed or was left behind)",
                    env.name,
                    target.name,
                    ran.release.as_deref().unwrap_or("what it runs"),
                    to.release
                ));
                None
            } else {
                Some(to.release.clone())
            }
        } else if runs_it {
            let rejected = |id: &String| file.rejected.contains(id);
            ran.previous.iter().find(|p| !rejected(p)).cloned()
        } else if reached {
            ran.release.clone()
        } else {
            None
        };
        let Some(id) = id else {
            return Ok(None);
        };
        if id == to.release {
            return Ok(Some((to.clone(), (back.from)(snapshot)?)));
        }
        Ok(Some(
            match runs::live_of(snapshot, &self.header.app, file, &id)? {
                Some(way) => way,
                // The record holds no file for it: what the environment went back to.
                None => (to.clone(), (back.from)(snapshot)?),
            },
        ))
    }

    /// Whether `release`'s record shows it on `target` of `env` without ever going live
    /// there: it failed there, or `on_target_failure: continue` left the target behind.
    fn failed_on(
        &self,
        snapshot: &crate::record::Snapshot,
        release: &str,
        env: &str,
        target: &str,
    ) -> anyhow::Result<bool> {
        Ok(
            crate::format::read_release(snapshot, &self.header.app, release)?
                .is_some_and(|file| crate::format::targets::never_live_on(&file, env, target)),
        )
    }

    async fn roll_back_target(
        &self,
        env: &Environment,
        target: &Target,
        run: &EnvRun,
        back: &Back<'_>,
        way: Way,
    ) -> anyhow::Result<()> {
        let own = target_run(run, target);
        self.undo(&env.name, &own, back.skip_undo, Some(target))
            .await?;
        let deployed = super::incident::deployed(env, &own);
        if let Some((to, path)) = &way {
            let from = |_: &crate::record::Snapshot| Ok(path.clone());
            self.redeploy(&env.name, &own, to, &from, back.hint, Some(target))
                .await?;
        }
        let own_release = self.header.release.clone();
        let name = target.name.clone();
        let all: Vec<&str> = env.targets.iter().map(|t| t.name.as_str()).collect();
        let to = way.map(|(to, _)| to.release);
        self.record_in(
            (Some(&env.name), Some(&target.name)),
            EventKind::RolledBack {
                to: to.clone(),
                reason: back.reason.to_string(),
                ms: None,
                nothing_deployed: !deployed && to.is_none(),
            },
            &mut |f| {
                runs::went_back(f, &all, &name, &own_release, to.as_deref());
                if back.only {
                    if f.lock.as_ref().is_some_and(|l| l.release == own_release) {
                        f.lock = None;
                    }
                    f.targets_not_live = runs::not_live(f, &all);
                }
                Ok(())
            },
        )
    }
}
