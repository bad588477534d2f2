//! `relctl rollback`: the incident path. Redeploy what was live before, now.

use crate::error::Error;

use super::Context;

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

pub fn run(_args: Args, ctx: &Context) -> anyhow::Result<()> {
    super::load_plan(ctx)?;
    Err(Error::not_implemented("rollback").into())
}
