//! One module per subcommand: its `Args` and its `run`. Dispatch is the single match below.

pub mod abort;
pub mod approve;
pub mod check;
pub mod completions;
pub mod demo;
pub mod history;
pub mod init;
pub mod man;
pub mod notes;
mod org_rows;
pub mod plan;
pub mod promote;
pub mod reject;
pub mod release;
pub mod releases;
pub mod report;
pub mod resume;
pub mod rollback;
pub mod status;
pub mod unlock;
pub mod validate;
pub mod verify;

use anyhow::Context as _;

use crate::cli::Command;
use crate::ui::Printer;

/// The plan named by `--plan`, loaded and checked, its jq expressions parsed but not
/// compiled: a command that runs none of them (`status`, `history`), or runs one only
/// after its deploy call (`rollback`, `abort`), does not pay for compiling them all.
pub fn load_plan(ctx: &Context) -> anyhow::Result<crate::plan::Plan> {
    load_plan_as(ctx, crate::plan::Jq::Parse)
}

/// The plan for a command that runs a release forward (`promote`, `resume`, `check`,
/// `plan`): its jq expressions compiled too, so a filter jaq does not define stops the
/// command before it acts, as `validate` reports it.
pub fn load_plan_to_run(ctx: &Context) -> anyhow::Result<crate::plan::Plan> {
    load_plan_as(ctx, crate::plan::Jq::Compile)
}

fn load_plan_as(ctx: &Context, jq: crate::plan::Jq) -> anyhow::Result<crate::plan::Plan> {
    let plan = crate::plan::load_with(&plan_path(ctx)?, jq)?;
    crate::identity::check_actor(&plan)?;
    Ok(plan)
}

/// The plan file a command uses: `--plan` (or `RELCTL_PLAN`), else the nearest
/// `release.yaml` from the current directory up to the repository's root.
pub fn plan_path(ctx: &Context) -> anyhow::Result<std::path::PathBuf> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    crate::plan::find(ctx.plan, &cwd)
}

/// An environment the command line named, or a usage error that lists the plan's.
pub fn environment<'p>(
    plan: &'p crate::plan::Plan,
    name: &str,
) -> anyhow::Result<&'p crate::plan::Environment> {
    plan.environment(name).ok_or_else(|| {
        let names: Vec<&str> = plan.environments.iter().map(|e| e.name.as_str()).collect();
        crate::error::Error::usage(format!("there is no environment `{name}` in the plan"))
            .with_hint(format!("environments: {}", names.join(", ")))
            .into()
    })
}

/// The plan and the artifact a command was given, both checked before anything else.
pub fn plan_and_artifact(
    ctx: &Context,
    reference: &str,
) -> anyhow::Result<(crate::plan::Plan, crate::artifact::Artifact)> {
    let plan = load_plan_to_run(ctx)?;
    let artifact = crate::artifact::Artifact::parse(reference, &plan.artifact_name)?;
    Ok((plan, artifact))
}

/// How long a command that only reads waits for the records remote before it shows
/// the local record (and says how old it is).
const READ_FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The plan's record for a command that only reads it: fetched first (unless
/// `--offline`), within `READ_FETCH_TIMEOUT`; when that fails, a warning says how old
/// the view is. Returns the store and whether the view is current.
pub fn read_record(
    ctx: &Context,
    plan: &crate::plan::Plan,
) -> anyhow::Result<(crate::record::Store, crate::record::Freshness)> {
    refreshed(ctx, crate::runner::open_store_to_read(plan)?)
}

/// `store` fetched for a command that only reads it, as `read_record` says.
fn refreshed(
    ctx: &Context,
    store: crate::record::Store,
) -> anyhow::Result<(crate::record::Store, crate::record::Freshness)> {
    use crate::record::Freshness;
    let freshness = store.refresh(READ_FETCH_TIMEOUT)?;
    let remote = store
        .remote_shown()
        .unwrap_or_else(|| "the remote".to_string());
    let as_of = |time: Option<chrono::DateTime<chrono::Utc>>| match time {
        Some(time) => format!(
            "as of {} (the last fetch)",
            time.format("%Y-%m-%d %H:%M:%S UTC")
        ),
        None => "as this clone has it (never fetched)".to_string(),
    };
    match &freshness {
        Freshness::Stale {
            why,
            as_of: time,
            unpushed,
        } => ctx.printer.warn(&format!(
            "could not reach {remote} ({why}): showing the record {}, {unpushed} commit(s) not pushed",
            as_of(*time)
        )),
        Freshness::Locked { why, unpushed } => ctx.printer.warn(&format!(
            "fetched {remote}, but this clone's records branch could not take its newer \
             commits in ({why}): showing this clone's record as it is, {unpushed} commit(s) \
             not pushed"
        )),
        Freshness::Conflict { why, unpushed } => ctx.printer.warn(&format!(
            "{unpushed} record commit(s) made here are not pushed, and one of them conflicts \
             with what {remote} has ({why}): showing this clone's record without {remote}'s \
             newer commits; every command that records stops until that is settled"
        )),
        Freshness::Offline {
            as_of: time,
            unpushed,
        } => ctx.printer.status(&format!(
            "--offline: showing the record {}{}",
            as_of(*time),
            match unpushed {
                0 => String::new(),
                n => format!(", with {n} commit(s) made here that {remote} does not have yet"),
            }
        )),
        Freshness::CheckedOut { behind } if *behind > 0 => ctx.printer.warn(&format!(
            "the records branch `{}` is checked out in {}, so relctl leaves it as it is: \
             showing it {behind} commit(s) behind {remote}",
            store.branch(),
            store.path().display()
        )),
        Freshness::Fetched => {
            let unpushed = store.unpushed()?;
            if unpushed > 0 {
                ctx.printer.warn(&not_pushed(&store, &remote, unpushed));
            }
        }
        Freshness::Local | Freshness::CheckedOut { .. } => {}
    }
    for held in store.held()? {
        ctx.printer.warn(&format!(
            "record commit(s) of `{app}` made here conflict with what {remote} has: they are \
             kept at {refname}, and `{app}` is shown as {remote} has it; commands that record \
             for `{app}` stop until that is settled (docs/record.md, \"Commits that conflict \
             with the remote's\")",
            app = held.key,
            refname = held.refname,
        ));
    }
    Ok((store, freshness))
}

/// How current the record shown is, for `--output json`: with `held`, the apps whose
/// commits made here conflict with the remote's (shown as the remote has them).
pub fn view(
    freshness: &crate::record::Freshness,
    held: &[crate::record::Held],
) -> serde_json::Value {
    use crate::record::Freshness;
    let mut view = match freshness {
        Freshness::Local => serde_json::json!({ "fetched": null }),
        Freshness::Fetched => serde_json::json!({ "fetched": true }),
        Freshness::CheckedOut { behind } => {
            serde_json::json!({ "fetched": true, "behind": behind })
        }
        Freshness::Offline { as_of, .. } => serde_json::json!({ "fetched": false, "as_of": as_of }),
        Freshness::Stale { why, as_of, .. } => {
            serde_json::json!({ "fetched": false, "as_of": as_of, "error": why })
        }
        Freshness::Conflict { why, .. } => serde_json::json!({ "fetched": true, "conflict": why }),
        Freshness::Locked { why, .. } => serde_json::json!({ "fetched": true, "error": why }),
    };
    if !held.is_empty() {
        view["held"] = held
            .iter()
            .map(|h| serde_json::json!({ "app": h.key, "ref": h.refname }))
            .collect();
    }
    view
}

/// What a reader says when this clone holds record commits the remote lacks (recorded
/// with `--offline`, or a push that did not get through): what is shown includes them,
/// the remote does not. A reader does not push them (docs/record.md, "Reading it
/// while commits wait to be pushed").
fn not_pushed(store: &crate::record::Store, remote: &str, unpushed: usize) -> String {
    let push_now = match (store.shared_url(), store.remote()) {
        (None, Some(name)) => format!(
            "; to push them now: git -C {} push {name} {}",
            store.path().display(),
            store.branch()
        ),
        _ => String::new(),
    };
    format!(
        "{unpushed} record commit(s) here are not on {remote} yet (made with --offline, while the remote was down, or refused by it): \
         what is shown includes them, {remote} does not; the next relctl command that writes pushes them{push_now}"
    )
}

/// The record the organisation's views read (`status --all`, `releases`): the records
/// repository named by `--records` (a directory or a URL; its `branch`, else the
/// default one), with no plan; else the plan's record, and the plan. Either is fetched
/// first, as `read_record` does.
pub fn org_record(
    ctx: &Context,
    records: Option<&str>,
    branch: Option<&str>,
) -> anyhow::Result<(
    crate::record::Store,
    crate::record::Freshness,
    Option<crate::plan::Plan>,
)> {
    let Some(dir) = records else {
        let plan = load_plan(ctx)?;
        let (store, freshness) = read_record(ctx, &plan)?;
        return Ok((store, freshness, Some(plan)));
    };
    let branch = branch.unwrap_or(crate::plan::DEFAULT_RECORDS_BRANCH);
    let (store, freshness) = refreshed(ctx, crate::runner::open_records_to_read(dir, branch)?)?;
    if store.snapshot()?.tip().is_none() {
        let shown = crate::providers::secrets::mask_url_password(dir);
        let error = match &freshness {
            crate::record::Freshness::Stale { why, .. } => crate::error::Error::usage(format!(
                "could not reach {shown} ({why}), and this machine has no copy of its records branch `{branch}`"
            ))
            .with_hint("check the URL and your access to it; `--offline` reads only a copy fetched before"),
            _ => crate::error::Error::usage(format!("{shown} has no records branch `{branch}`"))
                .with_hint("name the branch with --branch (a plan's `record.branch`)"),
        };
        return Err(error.into());
    }
    Ok((store, freshness, None))
}

/// What every command gets: the plan's path if `--plan` gave one (`plan_path` finds it
/// otherwise), whether prompts are ruled out (`--no-input`), and the printer.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub plan: Option<&'a std::path::Path>,
    pub no_input: bool,
    pub printer: &'a Printer,
}

/// The longest `--reason`, in characters: a reason is a sentence or two, printed in
/// full by every later refusal and `status` line that quotes it (README, "Promote").
pub const REASON_MAX: usize = 1000;

/// A reason is recorded for people to read later: one with no words in it says nothing,
/// and one longer than `REASON_MAX` is not a reason but something pasted.
fn check_reason(reason: Option<&str>) -> anyhow::Result<()> {
    match reason {
        Some(reason) if reason.trim().is_empty() => Err(crate::error::Error::usage(
            "--reason is empty: it is recorded to say why",
        )
        .with_hint("give the reason in words, e.g. --reason 'hotfix for INC-123'")
        .into()),
        Some(reason) if reason.chars().count() > REASON_MAX => {
            Err(crate::error::Error::usage(format!(
                "--reason is {} characters long; at most {REASON_MAX} are recorded",
                reason.chars().count()
            ))
            .with_hint("say why in a sentence and link to the rest, e.g. --reason 'INC-123: see the incident log'")
            .into())
        }
        _ => Ok(()),
    }
}

pub fn dispatch(command: Command, ctx: &Context) -> anyhow::Result<()> {
    check_reason(command.reason())?;
    match command {
        Command::Init(args) => init::run(args, ctx),
        Command::Validate(args) => validate::run(args, ctx),
        Command::Plan(args) => plan::run(args, ctx),
        Command::Check(args) => check::run(args, ctx),
        Command::Promote(args) => promote::run(args, ctx),
        Command::Resume(args) => resume::run(args, ctx),
        Command::Approve(args) => approve::run(args, ctx),
        Command::Reject(args) => reject::run(args, ctx),
        Command::Abort(args) => abort::run(args, ctx),
        Command::Rollback(args) => rollback::run(args, ctx),
        Command::Status(args) => status::run(args, ctx),
        Command::History(args) => history::run(args, ctx),
        Command::Verify(args) => verify::run(args, ctx),
        Command::Releases(args) => releases::run(args, ctx),
        Command::Notes(args) => notes::run(args, ctx),
        Command::Report(args) => report::run(args, ctx),
        Command::Unlock(args) => unlock::run(args, ctx),
        Command::Demo(args) => demo::run(args, ctx),
        Command::Completions(args) => completions::run(args, ctx),
        Command::Man(args) => man::run(args, ctx),
    }
}
