//! `relctl notes`: markdown release notes from the source history.

use crate::error::Error;

use super::Context;

/// Write release notes: the commits between what is live in ENV and this release
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The release id (<app>-<12 hex>)
    pub release: String,

    /// Compare with what is live in this environment (default: the last)
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
}

pub fn run(_args: Args, ctx: &Context) -> anyhow::Result<()> {
    super::load_plan(ctx)?;
    Err(Error::not_implemented("notes").into())
}
