//! `relctl unlock`: break a stale environment lock, on the record.

use crate::error::Error;

use super::Context;

/// Break a stale environment lock (recorded with the reason)
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The environment to unlock
    #[arg(long, value_name = "ENV")]
    pub env: String,

    /// Why (recorded)
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
}

pub fn run(_args: Args, ctx: &Context) -> anyhow::Result<()> {
    super::load_plan(ctx)?;
    Err(Error::not_implemented("unlock").into())
}
