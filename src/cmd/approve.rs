//! `relctl approve`: record an approval by the caller.

use crate::error::Error;

use super::Context;

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

pub fn run(_args: Args, ctx: &Context) -> anyhow::Result<()> {
    super::load_plan(ctx)?;
    Err(Error::not_implemented("approve").into())
}
