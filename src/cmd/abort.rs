//! `relctl abort`: stop a release under way and roll back the environment it was entering.

use super::{Context, release};
use crate::engine::EventKind;
use crate::error::{Error, Exit};
use crate::format;
use crate::plan::Plan;
use crate::runner::{self, Options};
use crate::ui::OutputMode;
use crate::ui::github::RunOutcome;
use serde_json::json;

/// Stop a release under way; its environment goes back to what was live before
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The release id (<app>-<12 hex>), or the start of it or of its hex digits
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::complete::releases))]
    pub release: String,

    /// Why (recorded)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<()> {
    let plan = super::load_plan(ctx)?;
    let store = runner::open_store(&plan)?;
    // The release may have been started from another clone: look on the remote too.
    let sync = store.sync();
    let (file, state) = release::find_after(&store, &plan.app, &args.release, sync)?;
    release::owned(&store, &plan, &file)?;
    let id = file.release.clone();
    // Recorded as given; without one the record's reason is empty, and says no more.
    let reason = args.reason.clone().unwrap_or_default();
    let rollback_reason = match &args.reason {
        Some(why) => format!("aborted: {why}"),
        None => "aborted".to_string(),
    };
    let opts = Options {
        targets: state.targets.clone(),
        ..Options::default()
    };
    let runner = release::runner(ctx, &plan, store, release::header_of(&file), opts)?;
    runner.sync()?;
    let current = record_aborted(&runner, &plan, &id, &reason)?;
    let Some((env, run)) = current else {
        if ctx.printer.mode() == OutputMode::Json {
            return ctx.printer.stream(&json!({
                "summary": true, "release": id, "outcome": "aborted", "exit": 0, "env": null,
            }));
        }
        // Where it stays live, as the environments' files say: the abort takes it out
        // of none. A visit another release replaced since (its lock broken) is said too.
        let (_, state) = release::find(&runner.store, &plan.app, &id)?;
        let snapshot = runner.store.snapshot()?;
        let (mut live, mut replaced) = (Vec::new(), Vec::new());
        for env in &plan.environments {
            let file = format::read_env(&snapshot, &plan.app, &env.name)?;
            let run = state.env(&env.name);
            if file.live.as_ref().is_some_and(|l| l.release == id) {
                live.push(env.name.as_str());
            } else if run.unfinished() && run.superseded(&file, &id) {
                replaced.push(env.name.as_str());
            }
        }
        let replaced = match replaced.as_slice() {
            [] => String::new(),
            envs => format!(
                "; what it deployed in {} was replaced by another release since",
                envs.join(", ")
            ),
        };
        ctx.printer.status(&match live.as_slice() {
            [] => format!("{id} is marked aborted and goes no further; it is live nowhere{replaced}"),
            live => format!(
                "{id} was between environments, live in {}; it is marked aborted and goes no further (it stays live there){replaced}",
                live.join(", ")
            ),
        });
        return Ok(());
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = match rt.block_on(runner.roll_back(&env, &run, &rollback_reason)) {
        Err(e) if crate::error::exit_of(&e) == Exit::Rejected => Ok(()),
        // An aborted release is not resumed: the rollback is finished by hand.
        Err(e) => {
            let exit = crate::error::exit_of(&e);
            Err(e.context(
                Error::new(
                    exit,
                    format!("{id} is aborted, but the rollback of {env} did not finish"),
                )
                .with_hint(format!(
                    "`relctl rollback --env {env}` finishes it, once what failed is fixed"
                )),
            ))
        }
        ok => ok,
    };
    let result = runner::push::after_run(
        result,
        &runner.store,
        ctx.printer,
        runner.github.as_ref(),
        runner.push,
        false,
    );
    finish(ctx, &runner, &plan, &id, &env, &result)?;
    result
}

/// Records that `id` is aborted, in the environment it is inside, or as a whole when it
/// is between two: decided on what the remote holds now, not on what this clone had
/// before the sync, and checked in the same commit. A run of the release elsewhere may
/// go live there, or enter the next environment, meanwhile: then the release no longer
/// stands where the abort decided, and it decides again, so the release is aborted once.
/// Once recorded, that run does nothing more (src/runner/claim.rs; an abort of the
/// whole release, src/format/journal.rs). The environment and the release's run there,
/// if it is inside one.
fn record_aborted(
    runner: &runner::Runner,
    plan: &Plan,
    id: &str,
    reason: &str,
) -> anyhow::Result<Option<(String, crate::engine::EnvRun)>> {
    let mut tries = 0;
    loop {
        let (file, state) = release::find(&runner.store, &plan.app, id)?;
        let snapshot = runner.store.snapshot()?;
        let file_of = |env: &str| format::read_env(&snapshot, &plan.app, env);
        let current = state
            .unfinished(id, &file_of)?
            .map(|(env, run)| (env.to_string(), run.clone()));
        drop(snapshot);
        if current.is_none() {
            refuse_ended(runner, plan, &file, &state)?;
        }
        // A visit whose lock was broken (`relctl unlock`) is taken again for its rollback,
        // unless another release holds the environment now.
        let unlocked = current.as_ref().is_some_and(|(_, run)| !run.entered);
        let actor = runner.author.actor.clone();
        let recorded = runner.record(
            current.as_ref().map(|(env, _)| env.as_str()),
            EventKind::Aborted {
                reason: reason.to_string(),
            },
            &mut |f| match &f.lock {
                Some(lock) if lock.release == id => Ok(()),
                None if unlocked => {
                    f.lock = Some(crate::engine::Lock {
                        release: id.to_string(),
                        by: actor.clone(),
                        since: crate::clock::now(),
                        run: None,
                    });
                    Ok(())
                }
                Some(lock) if unlocked => Err(Error::new(
                    Exit::Busy,
                    format!(
                        "{id}'s lock on {} was broken, and {} holds it now (by {}): what {id} \
                         deployed there is for that release's run to replace",
                        f.environment, lock.release, lock.by
                    ),
                )
                .with_hint(format!(
                    "`relctl status --env {}` shows what runs there",
                    f.environment
                ))
                .into()),
                _ => Err(runner::incident::Changed(f.environment.clone()).into()),
            },
        );
        let moved = |err: &anyhow::Error| {
            err.downcast_ref::<runner::incident::Changed>().is_some()
                || err.downcast_ref::<format::AbortMoved>().is_some()
        };
        match recorded {
            Err(err) if moved(&err) && tries < 20 => tries += 1,
            recorded => return recorded.map(|()| current),
        }
    }
}

/// The line that ends an abort (docs/ci.md, "Output"): what runs in the environment
/// now; with `--output json`, the summary object, also when the rollback failed.
fn finish(
    ctx: &Context,
    runner: &runner::Runner,
    plan: &Plan,
    id: &str,
    env: &str,
    result: &anyhow::Result<()>,
) -> anyhow::Result<()> {
    // What runs there now: known only when the rollback finished.
    let live = result
        .as_ref()
        .ok()
        .and_then(|()| runner.store.snapshot().ok())
        .and_then(|s| format::read_env(&s, &plan.app, env).ok())
        .and_then(|f| f.live)
        .map(|l| l.release);
    if ctx.printer.mode() == OutputMode::Json {
        let (outcome, exit) = match result {
            Ok(()) => ("aborted", 0),
            Err(e) => {
                let exit = crate::error::exit_of(e);
                (RunOutcome::of(Some(exit)).name(), exit.code())
            }
        };
        let mut summary = json!({
            "summary": true, "release": id, "outcome": outcome, "exit": exit, "env": env,
            "live": live,
        });
        if let Err(e) = result {
            crate::ui::add_error(&mut summary, e);
        }
        return ctx.printer.stream(&summary);
    }
    if result.is_ok() {
        ctx.printer.status(&match live {
            Some(live) => format!("{id} aborted; {env} runs {live}"),
            None => format!("{id} aborted; no release is live in {env}"),
        });
    }
    Ok(())
}

/// A release that is not under way is not aborted: one aborted already (as a whole, or
/// in the environment it was in: a second on-call running the same runbook), one rolled
/// back where its run ended, and one live somewhere that reached every environment its
/// record names (there is nothing to stop, and marking it aborted would take nothing
/// out). Exit 2, pointing at the rollback that does take it out.
fn refuse_ended(
    runner: &runner::Runner,
    plan: &Plan,
    file: &crate::engine::ReleaseFile,
    state: &crate::engine::ReleaseState,
) -> anyhow::Result<()> {
    let id = file.release.as_str();
    if let Some(halt) = &state.aborted {
        return Err(Error::usage(format!(
            "{id} is not under way: it was {} and goes no further",
            halt.describe()
        ))
        .with_hint(
            "`relctl status` shows where it is live; `relctl rollback --env ENV --reason TEXT` \
             takes it out of one",
        )
        .into());
    }
    // Aborted in an environment whose rollback stopped before it finished: that
    // rollback is what is left to do.
    let stuck = state.envs.iter().find(|(_, run)| {
        run.rollback_unfinished() && run.outcome == Some(crate::engine::Outcome::Aborted)
    });
    if let Some((env, run)) = stuck {
        // It goes back to what was live before the visit, which `--to` names to take
        // over a rollback that stopped.
        let to = run.back_to();
        return Err(Error::usage(format!(
            "{id} is aborted already, but the rollback of {env} did not finish"
        ))
        .with_hint(format!(
            "`relctl rollback --env {env} --to {to}` takes it over and finishes it \
             (`relctl status --env {env}` shows where it stands)"
        ))
        .into());
    }
    let snapshot = runner.store.snapshot()?;
    let mut live = Vec::new();
    for env in &plan.environments {
        let file = format::read_env(&snapshot, &plan.app, &env.name)?;
        if file.live.is_some_and(|l| l.release == id) {
            live.push(env.name.as_str());
        }
    }
    // Where it was aborted or rolled back, its run ended: the last such environment.
    // Where its run ended: aborted (who, when, why; kept once the abort's rollback has
    // finished) or rolled back, in the last such environment.
    let ended = (state.targets.iter()).rev().find_map(|t| {
        let run = state.env(t);
        match (&run.aborted, run.outcome) {
            (Some(halt), _) => Some(halt.describe_in(Some(t))),
            (None, Some(crate::engine::Outcome::RolledBack)) => Some(format!("rolled back in {t}")),
            _ => None,
        }
    });
    let Some(last) = live.last() else {
        // Live nowhere: under way if it has not ended (it waits to enter its first
        // environment), which the abort stops.
        return match ended {
            None => Ok(()),
            Some(ended) => Err(Error::usage(format!(
                "{id} is not under way: it was {ended} and is live nowhere"
            ))
            .with_hint(format!(
                "`relctl history {id}` shows what happened; `relctl status` what runs where"
            ))
            .into()),
        };
    };
    // Still on its way: live short of the furthest environment it was asked to reach,
    // and neither rolled back nor aborted anywhere. A run of it is between two
    // environments (or waits to enter the next): it is stopped there.
    if ended.is_none()
        && state
            .targets
            .last()
            .is_some_and(|t| !live.contains(&t.as_str()))
    {
        return Ok(());
    }
    let ended = ended
        .map(|ended| format!(" was {ended} and"))
        .unwrap_or_default();
    Err(Error::usage(format!(
        "{id} is not under way: it{ended} is live in {}; abort stops a release under way",
        live.join(", ")
    ))
    .with_hint(format!(
        "to take it out of {last}: relctl rollback --env {last} --reason TEXT"
    ))
    .into())
}
