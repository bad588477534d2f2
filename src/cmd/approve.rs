//! `relctl approve`: record an approval by the caller.

use super::Context;
use super::release::{self, Verdict};
use crate::engine::EventKind;
use crate::format;
use crate::runner;

/// Approve a release into an environment (as RELCTL_ACTOR, else git user.email)
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The release id (<app>-<12 hex>)
    pub release: String,

    /// The environment the approval is for
    #[arg(long, value_name = "ENV")]
    pub env: String,

    /// A comment kept with the approval
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
}

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<()> {
    let plan = super::load_plan(ctx)?;
    let env = super::environment(&plan, &args.env)?;
    let store = runner::open_store(&plan)?;
    let _ = store.sync();
    let (file, state) = release::find(&store, &args.release)?;
    let author = release::author(&plan);
    let gate = release::decidable_gate(env, &args.release, &state, &author, Verdict::Approve)?;
    let kind = EventKind::Approved {
        step: gate,
        by: author.actor.clone(),
        comment: args.comment,
    };
    let (event, appended) = format::record(
        &store,
        &author,
        &release::header_of(&file),
        Some(&args.env),
        kind,
        &mut |_| Ok(()),
    )?;
    ctx.printer.event(&args.release, &event)?;
    runner::push::report_one(&appended, &store, ctx.printer, "the approval")?;
    ctx.printer.status(&format!(
        "`relctl resume {}` continues the release once enough approvals are in",
        args.release
    ));
    Ok(())
}
