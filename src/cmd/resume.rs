//! `relctl resume`: continue a paused or interrupted release from its record.

use super::{Context, release};
use crate::runner::{self, Options};

/// Continue a release that paused or was interrupted
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The release id (<app>-<12 hex>), or the start of it or of its hex digits
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::complete::releases))]
    pub release: String,

    /// Without a terminal, wait for approvals (up to DUR) instead of exiting 4
    #[arg(long, value_name = "DUR", num_args = 0..=1, default_missing_value = "24h")]
    pub wait_approval: Option<String>,
}

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<()> {
    let plan = super::load_plan_to_run(ctx)?;
    release::check_identity(&plan, "resume")?;
    let store = runner::open_store(&plan)?;
    let wait_approval = release::duration_flag("--wait-approval", args.wait_approval.as_deref())?;
    // The release may have been started from another clone: look on the remote too.
    let sync = store.sync();
    let (file, state) = release::find_after(&store, &plan.app, &args.release, sync)?;
    release::owned(&store, &plan, &file)?;
    let opts = Options {
        targets: state.targets.clone(),
        wait_approval,
        interactive: release::interactive(ctx),
        ..Options::default()
    };
    let runner = release::runner(ctx, &plan, store, release::header_of(&file), opts)?;
    runner::drive(&runner)
}
