//! `relctl rollback`: the incident path. Redeploy what was live before, now.

use serde_json::json;

use super::{Context, release};
use crate::engine::{self, EnvFile, EventKind, Live, Lock, RollbackNote};
use crate::error::{Error, Exit};
use crate::format;
use crate::record::Snapshot;
use crate::runner::turn::Turn;
use crate::runner::{self, Header, Options, incident::Changed};
use crate::ui::OutputMode;
use crate::ui::github::RunOutcome;

/// Redeploy the previous live release of an environment, skipping analysis and approval
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The environment to roll back
    #[arg(long, value_name = "ENV", add = clap_complete::ArgValueCandidates::new(crate::complete::environments))]
    pub env: String,

    /// The release to go back to (must have been live there before; the start of its id will do)
    #[arg(long, value_name = "RELEASE", add = clap_complete::ArgValueCandidates::new(crate::complete::releases))]
    pub to: Option<String>,

    /// Why (recorded)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,

    /// Skip the `undo` of the rolled-back release's http/exec steps (recorded); flags are put back all the same
    #[arg(long, conflicts_with = "flags_only")]
    pub no_undo: bool,

    /// Only put back the feature flags of the release whose flags are on (the kill switch); nothing is redeployed (recorded)
    #[arg(long, conflicts_with = "to")]
    pub flags_only: bool,
    /// Roll back only this target of the environment; the others stay as they are
    #[arg(long, value_name = "NAME", conflicts_with = "flags_only")]
    pub target: Option<String>,
}

/// How often the environment may change under a rollback before it gives up.
const ATTEMPTS: usize = 5;

/// What `relctl rollback` finds it should do.
enum Decision {
    /// A rollback already brought the environment back to what is live.
    Done { live: Live, note: RollbackNote },
    /// Someone else's rollback of the environment is running.
    Running { lock: Lock },
    /// Roll `header`'s release back to `to`; `preempted` when it is under way.
    Roll {
        header: Header,
        to: Live,
        preempted: bool,
    },
}

/// What a rollback that deploys nothing still pushes.
const THIS_CLONE: &str = "this clone's record";

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<()> {
    let start = std::time::Instant::now();
    let plan = super::load_plan(ctx)?;
    let windows = &super::environment(&plan, &args.env)?.windows;
    let env = &args.env;
    if let Some(target) = &args.target {
        one_target(&plan, env, target)?;
    }
    let mut reason = args.reason.clone().unwrap_or_else(|| "rollback".into());
    // An incident does not wait for a window: the rollback goes on, and says so.
    if let Some(closed) = crate::engine::window::closed(windows, crate::clock::now()) {
        let closed = closed.describe(env, windows);
        ctx.printer.warn(&format!(
            "{closed}; a rollback is never held back by a window"
        ));
        reason = format!("{reason} (ran while {closed})");
    }
    // Before a runner exists: whether a record left unpushed is an error (CI).
    let push = runner::push_policy();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let _turn = one_at_a_time(ctx, &plan, env)?;
    if args.flags_only {
        return flags_only(ctx, &plan, env, &reason, &rt, start);
    }
    // The environment's lock when this rollback first looked: the one `--to` takes over.
    let mut first_seen = None;
    for _ in 0..ATTEMPTS {
        let store = runner::open_store(&plan)?;
        // A record that conflicts with the remote's cannot say what is live: stop (exit
        // 1, naming the commits) rather than roll back from it; `--offline` decides from
        // this clone's record anyway, except for an app whose commits are held apart
        // (docs/record.md, "Commits that conflict with the remote's"), which stops here
        // either way. A remote that cannot be reached is only a warning.
        let unreached = store.sync()?.error;
        if let Some(error) = &unreached {
            ctx.printer
                .warn(&format!("{error}; deciding from the local record"));
        }
        let snapshot = store.snapshot()?;
        let file = format::read_env(&snapshot, &plan.app, env)?;
        let to = (args.to.as_deref())
            .map(|to| {
                // A release the record does not hold was never live there either: the
                // error then lists the releases `--to` would accept.
                Ok::<_, anyhow::Error>(
                    release::resolve(&snapshot, &plan.app, to)?.unwrap_or_else(|| to.to_string()),
                )
            })
            .transpose()?;
        let seen: &Option<Lock> = first_seen.get_or_insert_with(|| file.lock.clone());
        // A rollback that took the environment while this one was deciding is running:
        // `--to` takes over only what was there before it was run.
        let take_over = args.to.is_some() && file.lock == *seen;
        if let (Some(target), Some(lock)) = (&args.target, &file.lock) {
            return Err(Error::new(
                Exit::Busy,
                format!(
                    "{env} is locked by {}: its target {target} cannot be rolled back alone now",
                    lock.release
                ),
            )
            .with_hint(format!(
                "`relctl rollback --env {env}` takes every target back; or let {} finish",
                lock.release
            ))
            .into());
        }
        let decided = decide(&store, &plan, &file, env, take_over, to.as_deref());
        let decided = match decided {
            // Nothing to redeploy (the first release there, say): the flags, the fastest
            // lever, go back all the same before the refusal; not for a plan whose
            // artifact is not the one live there (another app's plan), nor for one
            // without flags.
            Err(refused)
                if args.to.is_none()
                    && !plan.flag_providers.is_empty()
                    && crate::error::exit_of(&refused) == Exit::Failed
                    && (file.lock.is_some() || file.live.is_some())
                    && file
                        .live
                        .as_ref()
                        .is_none_or(|l| format::is_named(&l.artifact, &plan.artifact_name)) =>
            {
                drop(snapshot);
                drop(store);
                if let Err(e) = flags_only(ctx, &plan, env, &reason, &rt, start) {
                    ctx.printer
                        .warn(&format!("the flags could not be put back either: {e:#}"));
                }
                return Err(refused);
            }
            decided => decided?,
        };
        let (header, to, preempted) = match decided {
            Decision::Roll {
                header,
                to,
                preempted,
            } => (header, to, preempted),
            Decision::Done { live, note } => {
                done(ctx, env, &live, &note)?;
                return runner::push::ensure_pushed(&store, ctx.printer, push, THIS_CLONE);
            }
            Decision::Running { lock } => {
                running(ctx, env, &lock)?;
                return runner::push::ensure_pushed(&store, ctx.printer, push, THIS_CLONE);
            }
        };
        if let Some(target) = &args.target
            && let Some(runs) = not_running(&file, target, &header.release)
        {
            nothing_to_do(ctx, env, target, &header.release, runs.as_deref())?;
            return runner::push::ensure_pushed(&store, ctx.printer, push, THIS_CLONE);
        }
        if let (Some(target), Some(_)) = (&args.target, &args.to) {
            let never = format::read_release(&snapshot, &plan.app, &to.release)?
                .is_some_and(|r| format::targets::never_live_on(&r, env, target));
            if never {
                left_alone(ctx, env, target, &to.release, &file)?;
                return runner::push::ensure_pushed(&store, ctx.printer, push, THIS_CLONE);
            }
        }
        // One target goes back to what it ran itself before, unless `--to` says.
        let to = match &args.target {
            Some(target) if args.to.is_none() => {
                own_previous(&snapshot, &plan.app, &file, target)?.unwrap_or(to)
            }
            _ => to,
        };
        drop(snapshot);
        let runner = release::runner(ctx, &plan, store, header.clone(), Options::default())?;
        let result = rt.block_on(runner.rollback_env(
            env,
            &to,
            &file,
            (preempted, args.no_undo, args.to.is_some()),
            args.target.as_deref(),
            &reason,
        ));
        if let Err(e) = &result
            && e.chain().any(|c| c.is::<Changed>())
        {
            tracing::debug!("{e:#}: deciding again");
            continue;
        }
        // A rollback never waits for the remote before it deploys; under CI, what it
        // recorded must still reach the remote before the job's workspace goes.
        let shown = match &args.target {
            Some(target) => format!("{env}/{target}"),
            None => env.to_string(),
        };
        let finished = finish(ctx, &runner, &shown, &header.release, &to, result);
        return runner::push::after_run(
            finished,
            &runner.store,
            ctx.printer,
            runner.github.as_ref(),
            runner.push,
            false,
        );
    }
    Err(Error::new(
        Exit::Busy,
        format!("{env} kept changing while the rollback tried to take it"),
    )
    .with_hint("`relctl status` shows what is happening there; run the rollback again")
    .into())
}

/// `--flags-only`: the flags of the release in `env` whose flags are on go back to what
/// they were before it — the one under way, else the one live, else the most recent one
/// live there before — the first of them with a flag not put back yet, else the first
/// whose flags were put back (each of its flags not as that left it is put back again);
/// nothing is redeployed, nothing locked.
fn flags_only(
    ctx: &Context,
    plan: &crate::plan::Plan,
    env: &str,
    reason: &str,
    rt: &tokio::runtime::Runtime,
    start: std::time::Instant,
) -> anyhow::Result<()> {
    let push = runner::push_policy();
    let store = runner::open_store(plan)?;
    if let Some(error) = store.sync()?.error {
        ctx.printer
            .warn(&format!("{error}; deciding from the local record"));
    }
    let snapshot = store.snapshot()?;
    let file = format::read_env(&snapshot, &plan.app, env)?;
    let live = file.live.as_ref().map(|l| l.release.clone());
    let mut candidates: Vec<String> = Vec::new();
    let in_env = (file.lock.iter().map(|l| &l.release))
        .chain(file.live.iter().map(|l| &l.release))
        .chain(file.previous.iter().map(|l| &l.release));
    for release in in_env {
        if !candidates.contains(release) {
            candidates.push(release.clone());
        }
    }
    let Some(first) = candidates.first().cloned() else {
        return Err(Error::new(
            Exit::Failed,
            format!("nothing is live in {env}: there are no flags to put back"),
        )
        .into());
    };
    // Else the first one whose flags were put back: a flag of it turned on again since
    // is put back again.
    let (mut chosen, mut restored) = (None, None);
    for release in &candidates {
        if let Some(record) = format::read_release(&snapshot, &plan.app, release)? {
            let run = engine::fold(Some(&record)).env(env);
            if run.flags_to_put_back() {
                chosen = Some(record);
                break;
            }
            if restored.is_none() && !run.flags_before.is_empty() {
                restored = Some(record);
            }
        }
    }
    let record = match chosen.or(restored) {
        Some(record) => record,
        None => match format::read_release(&snapshot, &plan.app, &first)? {
            Some(record) => record,
            None => {
                return Err(Error::new(
                    Exit::Failed,
                    format!(
                        "{first} is in {env} but the record has no file for it: its flags are unknown"
                    ),
                )
                .into());
            }
        },
    };
    drop(snapshot);
    let release = record.release.clone();
    let header = release::header_of(&record);
    let runner = release::runner(ctx, plan, store, header, Options::default())?;
    let code = if live.as_deref() == Some(release.as_str()) {
        format!("{release} stays live (nothing redeployed)")
    } else {
        format!("nothing redeployed ({release} is not live in {env})")
    };
    let result = rt
        .block_on(runner.restore_flags_only(env, reason, start))
        .and_then(|restored| {
            let json = ctx.printer.mode() == OutputMode::Json;
            match restored {
                None if json => ctx.printer.json(&json!({
                    "summary": true, "outcome": "no_flags", "exit": 0, "env": env, "release": release,
                })),
                None => {
                    ctx.printer.status(&format!(
                        "no release in {env} changed a flag that is not put back already, and each flag is as it was put back ({}); nothing done",
                        candidates.join(", ")
                    ));
                    Ok(())
                }
                Some((flags, took)) if json => ctx.printer.json(&json!({
                    "summary": true, "outcome": "flags_restored", "exit": 0, "env": env,
                    "release": release, "flags": flags, "ms": took.as_millis() as u64,
                })),
                Some((flags, took)) => {
                    ctx.printer.status(&format!(
                        "put back {} in {env} in {:.2} s, as before {release}; {code}",
                        flags.join(", "),
                        took.as_secs_f64()
                    ));
                    Ok(())
                }
            }
        });
    runner::push::after_run(
        result,
        &runner.store,
        ctx.printer,
        runner.github.as_ref(),
        push,
        false,
    )
}

/// `--target` names a target of the environment: exit 2 otherwise, listing them.
fn one_target(plan: &crate::plan::Plan, env: &str, target: &str) -> anyhow::Result<()> {
    let environment = super::environment(plan, env)?;
    if environment.target(target).is_some() {
        return Ok(());
    }
    let names: Vec<&str> = environment
        .targets
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    let hint = if names.is_empty() {
        format!("{env} has no targets: `relctl rollback --env {env}` rolls it back")
    } else {
        format!("its targets: {}", names.join(", "))
    };
    Err(Error::usage(format!("{env} has no target `{target}`"))
        .with_hint(hint)
        .into())
}

/// Rollbacks of one environment from one repository run one after the other: each holds
/// a file lock in the git directory from its first look at the record to its last
/// record, so the next one decides on what it did, and one whose process died gives its
/// turn back. (Between clones, the record's compare-and-swap decides.) `None` where the
/// file system has no locks.
fn one_at_a_time(
    ctx: &Context,
    plan: &crate::plan::Plan,
    env: &str,
) -> anyhow::Result<Option<std::fs::File>> {
    let store = runner::open_store(plan)?;
    match Turn::try_take(&store, &format!("relctl-rollback-{env}.lock")) {
        Turn::Taken(file) => Ok(Some(file)),
        Turn::Unavailable => Ok(None),
        Turn::Busy(file) => {
            ctx.printer.status(&format!(
                "another rollback of {env} is running from this repository: waiting for it to end"
            ));
            Ok(Some(runner::turn::wait(file)?))
        }
    }
}

/// Ends a rollback that ran: the hooks and summary, then what it did.
fn finish(
    ctx: &Context,
    runner: &runner::Runner,
    env: &str,
    rolled_back: &str,
    to: &Live,
    result: anyhow::Result<std::time::Duration>,
) -> anyhow::Result<()> {
    let row = |status: String, duration| {
        vec![crate::ui::github::Row {
            env: env.to_string(),
            status,
            duration,
        }]
    };
    match &result {
        Ok(took) => runner.conclude(
            RunOutcome::RolledBack,
            None,
            Some(row(format!("rolled back to {}", to.release), Some(*took))),
        ),
        Err(e) => runner.conclude(
            RunOutcome::Failed,
            Some(e),
            Some(row("rollback failed".into(), None)),
        ),
    }
    let took = result?;
    let pending = runner.store.unpushed().unwrap_or(0);
    if ctx.printer.mode() == OutputMode::Json {
        return ctx.printer.json(&json!({
            "summary": true, "outcome": "rolled_back", "exit": 0, "env": env,
            "from": rolled_back, "to": to.release, "ms": took.as_millis() as u64, "unpushed": pending,
        }));
    }
    ctx.printer.status(&format!(
        "rolled {env} back from {rolled_back} to {} ({}) in {:.2} s",
        to.release,
        to.version,
        took.as_secs_f64()
    ));
    if pending > 0 && !runner.push.under_ci {
        ctx.printer.warn(&format!(
            "{pending} record commit(s) are not pushed yet; the next relctl command that writes pushes them"
        ));
    }
    Ok(())
}

/// Nothing but the plan's artifact is deployed, whatever the record says: a `to` naming
/// another is an error naming the file it came from (README, "The record").
fn only_the_plans_artifact(
    snapshot: &Snapshot,
    plan: &crate::plan::Plan,
    env: &str,
    to: &Live,
    candidates: &[Live],
) -> anyhow::Result<()> {
    if format::is_named(&to.artifact, &plan.artifact_name) {
        return Ok(());
    }
    let app = plan.app.as_str();
    let from = if candidates.iter().any(|l| l.release == to.release) {
        format::env_file(snapshot, app, env)?
    } else {
        format::release_file(snapshot, app, &to.release)?
    };
    format::check_artifact(
        snapshot,
        &from,
        &to.release,
        &to.artifact,
        &plan.artifact_name,
    )
}

/// What to do, from the environment's file and the releases' records. A rollback never
/// goes back to a release rolled back in the environment, and a second rollback of the
/// same incident deploys nothing: `--to` is how to go further back. `take_over`: a
/// rollback holding the environment may be taken over (`--to`, on what it first saw).
fn decide(
    store: &crate::record::Store,
    plan: &crate::plan::Plan,
    file: &EnvFile,
    env: &str,
    take_over: bool,
    wanted: Option<&str>,
) -> anyhow::Result<Decision> {
    let app = plan.app.as_str();
    let snapshot = &store.snapshot()?;
    if let Some(lock) = &file.lock
        && !take_over
    {
        let holder = format::read_release(snapshot, app, &lock.release)?;
        let run = engine::fold(holder.as_ref()).env(env);
        // A rollback that failed is taken over; one that is running is left to finish,
        // whoever started it, the same person included: the record cannot tell a
        // running rollback from one whose process died (`--to` takes that one over).
        if run.rolling_back && run.rollback_failed.is_none() {
            return Ok(Decision::Running { lock: lock.clone() });
        }
    }
    let under_way = file
        .lock
        .as_ref()
        .filter(|l| {
            file.live
                .as_ref()
                .is_none_or(|live| live.release != l.release)
        })
        .map(|l| l.release.clone());
    if let (None, None, Some(live), Some(note)) =
        (&under_way, &file.lock, &file.live, &file.rolled_back)
        && note.to == live.release
        && wanted.is_none_or(|w| w == live.release)
    {
        return Ok(Decision::Done {
            live: live.clone(),
            note: note.clone(),
        });
    }
    // With a release under way, going back means going back to what is live; otherwise
    // to what was live before that.
    let (rolled_back, candidates) = match (&under_way, &file.live) {
        (Some(r), live) => (
            r.clone(),
            live.iter()
                .chain(&file.previous)
                .cloned()
                .collect::<Vec<_>>(),
        ),
        (None, Some(live)) => (live.release.clone(), file.previous.clone()),
        (None, None) => {
            return Err(Error::new(
                Exit::Failed,
                format!("nothing is live in {env}: there is nothing to roll back"),
            )
            .into());
        }
    };
    let to = target(snapshot, app, file, env, wanted, &rolled_back, &candidates)?;
    only_the_plans_artifact(snapshot, plan, env, &to, &candidates)?;
    let path = format::env_file(snapshot, app, env)?;
    format::check_entry(snapshot, &path, app, &to)?;
    crate::went_live::check(store, plan, env, &to.release, &path)?;
    let header = header_of(snapshot, app, file, &rolled_back, &to)?;
    Ok(Decision::Roll {
        header,
        to,
        preempted: under_way.is_some(),
    })
}

/// The release to go back to: `--to`'s, or the most recent one live before that was not
/// rolled back there.
fn target(
    snapshot: &Snapshot,
    app: &str,
    file: &EnvFile,
    env: &str,
    wanted: Option<&str>,
    rolled_back: &str,
    candidates: &[Live],
) -> anyhow::Result<Live> {
    let rejected = |id: &str| format::rejected(snapshot, app, file, env, id);
    Ok(match wanted {
        Some(wanted) if rejected(wanted)? => {
            return Err(Error::usage(format!(
                "{wanted} was rolled back in {env}: a rollback does not go back to it"
            ))
            .with_hint(format!(
                "to bring it back on purpose: relctl promote --env {env} --artifact REF --force --reason TEXT"
            ))
            .into());
        }
        Some(wanted) => {
            let found = match candidates.iter().find(|l| l.release == wanted) {
                Some(live) => Some(live.clone()),
                None => {
                    live_long_ago(snapshot, app, env, wanted)?.filter(|l| l.release != *rolled_back)
                }
            };
            if let Some(live) = found {
                return Ok(live);
            }
            // Only what `--to` would accept: never a release rolled back there.
            let mut known = Vec::new();
            for live in candidates {
                if !rejected(&live.release)? {
                    known.push(live.release.as_str());
                }
            }
            return Err(Error::usage(format!(
                "{wanted} was never live in {env} before {rolled_back}"
            ))
            .with_hint(match (known.is_empty(), candidates.is_empty()) {
                (false, _) => format!("candidates: {}", known.join(", ")),
                (true, true) => "nothing else was ever live there".to_string(),
                (true, false) => format!(
                    "every release live there before was rolled back there; to redeploy one on purpose: relctl promote --env {env} --artifact REF --force --reason TEXT"
                ),
            })
            .into());
        }
        None => match (first_not(candidates, rejected)?, candidates.first()) {
            (Some(live), _) => live.clone(),
            (None, Some(_)) => {
                return Err(Error::new(
                    Exit::Failed,
                    format!("every release live in {env} before {rolled_back} was rolled back there: there is nothing to roll back to"),
                )
                .with_hint(format!("redeploy a known-good artifact: relctl promote --env {env} --artifact REF --force --reason TEXT"))
                .into());
            }
            (None, None) => {
                return Err(Error::new(
                    Exit::Failed,
                    format!("nothing was live in {env} before {rolled_back}: there is nothing to roll back to"),
                )
                .into());
            }
        },
    })
}

/// The first of `candidates` not `rejected` there.
fn first_not(
    candidates: &[Live],
    rejected: impl Fn(&str) -> anyhow::Result<bool>,
) -> anyhow::Result<Option<&Live>> {
    for live in candidates {
        if !rejected(&live.release)? {
            return Ok(Some(live));
        }
    }
    Ok(None)
}

/// The identity of the release rolled back: its record's, or what the environment's
/// file says of it when its record is gone.
fn header_of(
    snapshot: &Snapshot,
    app: &str,
    file: &EnvFile,
    rolled_back: &str,
    to: &Live,
) -> anyhow::Result<Header> {
    Ok(match format::read_release(snapshot, app, rolled_back)? {
        Some(f) => release::header_of(&f),
        None => {
            let live = file
                .live
                .clone()
                .filter(|l| l.release == rolled_back)
                .unwrap_or_else(|| to.clone());
            Header {
                release: rolled_back.to_string(),
                app: app.to_string(),
                artifact: live.artifact,
                digest: live.digest,
                version: live.version,
                source_commit: None,
                source_commit_time: None,
                notes: None,
            }
        }
    })
}

/// The environment is already where a rollback took it: say so, deploy nothing.
fn done(ctx: &Context, env: &str, live: &Live, note: &RollbackNote) -> anyhow::Result<()> {
    let at = note.at.format("%Y-%m-%d %H:%M:%S UTC");
    if ctx.printer.mode() == OutputMode::Json {
        return ctx.printer.json(&json!({
            "summary": true, "outcome": "already_rolled_back", "exit": 0, "env": env,
            "live": live.release, "from": note.from, "by": note.by, "at": note.at, "reason": note.reason,
        }));
    }
    ctx.printer.status(&format!(
        "{env} is already on {} ({}): rolled back from {} at {at} by {} ({}); nothing deployed",
        live.release, live.version, note.from, note.by, note.reason
    ));
    ctx.printer.status(&format!(
        "hint: to go further back, name the release: relctl rollback --env {env} --to RELEASE"
    ));
    Ok(())
}

/// What `target` runs (`Some(None)`: nothing relctl deployed) when that is not
/// `release`, the one a rollback would take it back from; `None` when it runs it.
fn not_running(file: &EnvFile, target: &str, release: &str) -> Option<Option<String>> {
    let runs = format::targets::of(file, target).release;
    (runs.as_deref() != Some(release)).then_some(runs)
}

/// What `target` ran before the release it runs, as the environment file records it
/// (the first not rolled back there); `None` when it records nothing.
fn own_previous(
    snapshot: &Snapshot,
    app: &str,
    file: &EnvFile,
    target: &str,
) -> anyhow::Result<Option<Live>> {
    let ran = format::targets::of(file, target);
    let Some(id) = ran.previous.iter().find(|p| !file.rejected.contains(p)) else {
        return Ok(None);
    };
    Ok(format::targets::live_of(snapshot, app, file, id)?.map(|(live, _)| live))
}

/// The target does not run the release a rollback would take it back from (it was
/// rolled back alone already, or left behind): say so, deploy and record nothing.
fn nothing_to_do(
    ctx: &Context,
    env: &str,
    target: &str,
    release: &str,
    runs: Option<&str>,
) -> anyhow::Result<()> {
    if ctx.printer.mode() == OutputMode::Json {
        return ctx.printer.json(&json!({
            "summary": true, "outcome": "nothing_to_do", "exit": 0, "env": env,
            "target": target, "release": runs, "from": release,
        }));
    }
    let runs = runs.map_or("nothing relctl deployed".to_string(), |r| r.to_string());
    ctx.printer.status(&format!(
        "{env}/{target} runs {runs}, not {release}: nothing to roll back; nothing deployed"
    ));
    Ok(())
}

/// `--to` names a release that never went live on `target` (it failed there, or was
/// left behind): the target is left as it is, and nothing is deployed or recorded.
fn left_alone(
    ctx: &Context,
    env: &str,
    target: &str,
    to: &str,
    file: &EnvFile,
) -> anyhow::Result<()> {
    let runs = format::targets::of(file, target).release;
    if ctx.printer.mode() == OutputMode::Json {
        return ctx.printer.json(&json!({
            "summary": true, "outcome": "nothing_to_do", "exit": 0, "env": env,
            "target": target, "release": runs, "to": to,
        }));
    }
    let runs = runs.unwrap_or_else(|| "nothing relctl deployed".to_string());
    ctx.printer.status(&format!(
        "{env}/{target} is left on {runs}: {to} never went live there (it failed or was left behind); nothing deployed"
    ));
    Ok(())
}

/// Someone else's rollback holds the environment: say whose, deploy nothing.
fn running(ctx: &Context, env: &str, lock: &Lock) -> anyhow::Result<()> {
    let since = lock.since.format("%Y-%m-%d %H:%M:%S UTC");
    if ctx.printer.mode() == OutputMode::Json {
        return ctx.printer.json(&json!({
            "summary": true, "outcome": "rollback_running", "exit": 0, "env": env,
            "from": lock.release, "by": lock.by, "since": lock.since,
        }));
    }
    ctx.printer.status(&format!(
        "{env} is being rolled back from {} by {} (since {since}); nothing deployed",
        lock.release, lock.by
    ));
    ctx.printer.status(&format!(
        "hint: `relctl status --env {env}` shows when it is done; if that rollback has stopped, relctl rollback --env {env} --to RELEASE takes it over"
    ));
    Ok(())
}

/// A release that went live in `env` longer ago than its environment file remembers
/// (it keeps the last `engine::event::PREVIOUS_KEPT`): its own release file says when.
fn live_long_ago(
    snapshot: &Snapshot,
    app: &str,
    env: &str,
    id: &str,
) -> anyhow::Result<Option<Live>> {
    let Some(file) = format::read_release(snapshot, app, id)? else {
        return Ok(None);
    };
    Ok(file
        .events
        .iter()
        .rev()
        .find(|e| e.env.as_deref() == Some(env) && matches!(e.kind, EventKind::Live))
        .map(|e| Live {
            release: file.release.clone(),
            by: e.actor.clone(),
            artifact: file.artifact.clone(),
            digest: file.digest.clone(),
            version: file.version.clone(),
            since: e.at,
        }))
}
