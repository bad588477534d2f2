//! `relctl resume`: continue a paused or interrupted release from its record.

use crate::error::Error;

use super::Context;

/// Continue a release that paused or was interrupted
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The release id (<app>-<12 hex>)
    pub release: String,

    /// Without a terminal, wait for approvals (up to DUR) instead of exiting 4
    #[arg(long, value_name = "DUR", num_args = 0..=1, default_missing_value = "24h")]
    pub wait_approval: Option<String>,
}

pub fn run(_args: Args, ctx: &Context) -> anyhow::Result<()> {
    super::load_plan(ctx)?;
    Err(Error::not_implemented("resume").into())
}
