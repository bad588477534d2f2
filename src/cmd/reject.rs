//! `relctl reject`: record a rejection of a release waiting for approval; the promote
//! waiting on it (or the next resume) rolls the environment back.

use super::Context;
use super::release::{self, Verdict};
use crate::engine::EventKind;
use crate::format;
use crate::runner;

/// Reject a release for an environment
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The release id (<app>-<12 hex>), or the start of it or of its hex digits
    pub release: String,

    /// The environment the rejection is for
    #[arg(long, value_name = "ENV")]
    pub env: String,

    /// Why (recorded)
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
}

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<()> {
    let plan = super::load_plan(ctx)?;
    let env = super::environment(&plan, &args.env)?;
    let store = runner::open_store(&plan)?;
    let sync = store.sync();
    let (file, state) = release::find_after(&store, &plan.app, &args.release, &sync)?;
    let author = release::author(&plan);
    let release_id = file.release.clone();
    release::decidable_gate(env, &release_id, &state, &author, Verdict::Reject)?;
    let kind = EventKind::Rejected {
        by: author.actor.clone(),
        reason: args.reason,
    };
    let (event, appended) = format::record(
        &store,
        &author,
        &release::header_of(&file),
        Some(&args.env),
        kind,
        &mut |f| {
            if !f.rejected.contains(&release_id) {
                f.rejected.push(release_id.clone());
            }
            Ok(())
        },
    )?;
    ctx.printer.event(&release_id, &event)?;
    runner::push::report_one(&appended, &store, ctx.printer, "the rejection")?;
    ctx.printer.status(&format!(
        "a promote waiting for approval rolls {} back now; otherwise `relctl resume {}` does",
        args.env, release_id
    ));
    Ok(())
}
