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
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::complete::releases))]
    pub release: String,

    /// The environment the rejection is for
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
    let env = super::environment(&plan, &args.env)?;
    let store = runner::open_store(&plan)?;
    let sync = store.sync();
    let (file, state) = release::find_after(&store, &plan.app, &args.release, sync)?;
    release::owned(&store, &plan, &file)?;
    let author = release::author(&plan);
    let release_id = file.release.clone();
    let gate = release::decidable_gate(env, &release_id, &state, &author, Verdict::Reject)?;
    release::check_signing(release::gate_approval(env, gate), &store, "a rejection")?;
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
    runner::push::report_one(
        &appended,
        &store,
        ctx.printer,
        push,
        github.as_ref(),
        "the rejection",
    )?;
    ctx.printer.status(&format!(
        "a promote waiting for approval rolls {} back now; otherwise `relctl resume {}` does",
        args.env, release_id
    ));
    Ok(())
}
