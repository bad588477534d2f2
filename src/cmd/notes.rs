//! `relctl notes`: markdown release notes from the source history.

use super::{Context, release};
use crate::error::Error;
use crate::notes::{self, Subject};
use crate::ui::OutputMode;

/// Write release notes: the commits between what is live in ENV and this release
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The release id (<app>-<12 hex>), or the start of it or of its hex digits
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::complete::releases))]
    pub release: String,

    /// Compare with what is live in this environment (default: the last)
    #[arg(long, value_name = "ENV", add = clap_complete::ArgValueCandidates::new(crate::complete::environments))]
    pub env: Option<String>,
}

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<()> {
    let plan = super::load_plan(ctx)?;
    let env = target_env(&plan, args.env.as_deref())?;
    let (store, _) = super::read_record(ctx, &plan)?;
    let (file, _) = release::find(&store, &plan.app, &args.release)?;
    let snapshot = store.snapshot()?;
    let live = notes::base_of(&snapshot, &plan.app, Some(&file), &file.release, &env)?;
    let base = notes::base_with_commit(&snapshot, &plan.app, live)?;
    drop(snapshot);
    let repo = notes::source_repo(&plan)?;
    let subject = Subject {
        release: &file.release,
        version: &file.version,
        source_commit: file.source_commit.as_deref(),
    };
    let notes = notes::compute(&repo, &subject, &env, base)?;
    if ctx.printer.mode() == OutputMode::Json {
        let mut value = serde_json::to_value(&notes)?;
        value["markdown"] = notes.markdown().into();
        return ctx.printer.json(&value);
    }
    ctx.printer.data(&notes.markdown())
}

/// `--env`, checked against the plan, else the plan's last environment.
pub fn target_env(plan: &crate::plan::Plan, env: Option<&str>) -> anyhow::Result<String> {
    let names = || {
        plan.environments
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match env {
        Some(env) if plan.environment(env).is_some() => Ok(env.to_string()),
        Some(env) => Err(
            Error::usage(format!("there is no environment `{env}` in the plan"))
                .with_hint(format!("environments: {}", names()))
                .into(),
        ),
        None => plan
            .environments
            .last()
            .map(|e| e.name.clone())
            .ok_or_else(|| Error::usage("the plan has no environments").into()),
    }
}
