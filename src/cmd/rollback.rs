//! `relctl rollback`: the incident path. Redeploy what was live before, now.

use serde_json::json;

use super::{Context, release};
use crate::cli::OutputMode;
use crate::engine::{EventKind, Live};
use crate::error::{Error, Exit};
use crate::record::Snapshot;
use crate::runner::{self, Header, Options, journal};

/// Redeploy the previous live release of an environment, skipping analysis and approval
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The environment to roll back
    #[arg(long, value_name = "ENV")]
    pub env: String,

    /// The release to go back to (must have been live there before)
    #[arg(long, value_name = "RELEASE")]
    pub to: Option<String>,

    /// Why (recorded)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<()> {
    let plan = super::load_plan(ctx)?;
    super::environment(&plan, &args.env)?;
    let store = runner::open_store(&plan)?;
    let sync = store.sync();
    let snapshot = store.snapshot()?;
    let file = journal::read_env(&snapshot, &args.env)?;
    let under_way = file
        .lock
        .as_ref()
        .filter(|l| {
            file.live
                .as_ref()
                .is_none_or(|live| live.release != l.release)
        })
        .map(|l| l.release.clone());
    let env = &args.env;
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
    let to = match &args.to {
        Some(wanted) => match candidates.iter().find(|l| &l.release == wanted) {
            Some(live) => Some(live.clone()),
            None => live_long_ago(&snapshot, env, wanted)?.filter(|l| l.release != rolled_back),
        }
        .ok_or_else(|| {
            let known: Vec<&str> = candidates.iter().map(|l| l.release.as_str()).collect();
            Error::usage(format!("{wanted} was never live in {env} before {rolled_back}"))
                .with_hint(if known.is_empty() { "nothing else was ever live there".to_string() } else { format!("candidates: {}", known.join(", ")) })
        })?,
        None => candidates.first().cloned().ok_or_else(|| {
            Error::new(Exit::Failed, format!("nothing was live in {env} before {rolled_back}: there is nothing to roll back to"))
        })?,
    };
    let header = match journal::read_release(&snapshot, &rolled_back)? {
        Some(f) => release::header_of(&f),
        None => {
            let live = file
                .live
                .clone()
                .filter(|l| l.release == rolled_back)
                .unwrap_or_else(|| to.clone());
            Header {
                release: rolled_back.clone(),
                app: plan.app.clone(),
                artifact: live.artifact,
                digest: live.digest,
                version: live.version,
                source_commit: None,
                source_commit_time: None,
                notes: None,
            }
        }
    };
    drop(snapshot);
    let reason = args.reason.unwrap_or_else(|| "rollback".into());
    let runner = release::runner(ctx, &plan, store, header.clone(), Options::default())?;
    if let Ok(s) = &sync
        && let Some(error) = &s.error
    {
        ctx.printer.warn(&format!(
            "cannot reach the records remote ({error}): rolling back from the local record"
        ));
    }
    let preempted = under_way.as_ref().map(|_| &header);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = rt.block_on(runner.rollback_env(env, &to, preempted, &reason));
    let row = |status: String, duration| {
        vec![crate::ui::github::Row {
            env: env.clone(),
            status,
            duration,
        }]
    };
    match &result {
        Ok(took) => runner.conclude(
            "rolled_back",
            None,
            Some(row(format!("rolled back to {}", to.release), Some(*took))),
        ),
        Err(e) => runner.conclude("failed", Some(e), Some(row("rollback failed".into(), None))),
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
    if pending > 0 {
        ctx.printer.warn(&format!(
            "{pending} record commit(s) are not pushed yet; the next relctl command pushes them"
        ));
    }
    Ok(())
}

/// A release that went live in `env` longer ago than its environment file remembers
/// (it keeps the last `engine::event::PREVIOUS_KEPT`): its own release file says when.
fn live_long_ago(snapshot: &Snapshot, env: &str, id: &str) -> anyhow::Result<Option<Live>> {
    let Some(file) = journal::read_release(snapshot, id)? else {
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
