//! `relctl reject`: record a rejection; the release stops before that environment.

use crate::error::Error;

use super::Context;

/// Reject a release for an environment
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The release id (<app>-<12 hex>)
    pub release: String,

    /// The environment the rejection is for
    #[arg(long, value_name = "ENV")]
    pub env: String,

    /// Why (recorded)
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
}

pub fn run(_args: Args, ctx: &Context) -> anyhow::Result<()> {
    super::load_plan(ctx)?;
    Err(Error::not_implemented("reject").into())
}
