//! `relctl unlock`: break a stale environment lock, on the record.

use super::{Context, release};
use crate::engine::EventKind;
use crate::format;
use crate::runner;

/// Break a stale environment lock (recorded with the reason)
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The environment to unlock
    #[arg(long, value_name = "ENV", add = clap_complete::ArgValueCandidates::new(crate::complete::environments))]
    pub env: String,

    /// Why (recorded)
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
}

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<()> {
    // What CI and GitHub Actions say, read once: they decide what an unpushed record is.
    let (push, github) = (
        runner::push_policy(),
        crate::ui::github::Actions::from_env(),
    );
    let plan = super::load_plan(ctx)?;
    super::environment(&plan, &args.env)?;
    let store = runner::open_store(&plan)?;
    // An unreachable remote is only a warning later; a record this clone cannot take in
    // (its commits for this app held apart, or in conflict) stops here, lock or none.
    store.sync()?;
    let snapshot = store.snapshot()?;
    let Some(lock) = format::read_env(&snapshot, &plan.app, &args.env)?.lock else {
        ctx.printer.status(&format!("{} is not locked", args.env));
        return Ok(());
    };
    let (file, state) = release::find(&store, &plan.app, &lock.release)?;
    release::owned(&store, &plan, &file)?;
    // A rollback (or an abort's) that did not finish holds it: what runs there is not
    // known until a rollback finishes, and once the lock is gone nothing would say so.
    // Taking that rollback over is the way on, never breaking its lock.
    let run = state.env(&args.env);
    if run.rollback_unfinished() {
        let to = run.back_to();
        return Err(crate::error::Error::usage(format!(
            "{} is held by a rollback of {} that did not finish (by {} since {}): what runs \
             there is not known until it finishes; its lock is not broken",
            args.env,
            lock.release,
            lock.by,
            lock.since.format("%Y-%m-%d %H:%M UTC"),
        ))
        .with_hint(format!(
            "`relctl rollback --env {env} --to {to}` takes that rollback over and finishes it",
            env = args.env
        ))
        .into());
    }
    drop(snapshot);
    let holder = lock.release.clone();
    let kind = EventKind::Unlocked {
        reason: args.reason,
    };
    let (event, appended) = format::record(
        &store,
        &release::author(&plan),
        &release::header_of(&file),
        Some(&args.env),
        kind,
        &mut |f| {
            if f.lock.as_ref().is_some_and(|l| l.release == holder) {
                f.lock = None;
            }
            Ok(())
        },
    )?;
    ctx.printer.event(&lock.release, &event)?;
    runner::push::report_one(
        &appended,
        &store,
        ctx.printer,
        push,
        github.as_ref(),
        "the unlock",
    )?;
    let held = format!(
        "{} is unlocked; {} held it since {} ({})",
        args.env,
        lock.release,
        lock.since.format("%Y-%m-%d %H:%M UTC"),
        lock.by,
    );
    ctx.printer.status(&if !run.intended.is_empty() {
        // Its steps there may have deployed: that stays until the release is taken on.
        format!(
            "{held}; what its run deployed in {env} stays there until `relctl resume {id}` \
                 takes it again or `relctl abort {id}` rolls it back",
            env = args.env,
            id = lock.release
        )
    } else {
        format!("{held}; `relctl resume {}` takes it again", lock.release)
    });
    Ok(())
}
