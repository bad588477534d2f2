//! `relctl history`: the recorded events, newest first, or one release in full.

use crate::error::Error;

use super::Context;

/// Show recorded events, newest first, or one release in full
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Show this release in full
    pub release: Option<String>,

    /// Only this environment
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,

    /// At most this many entries
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,
}

pub fn run(_args: Args, ctx: &Context) -> anyhow::Result<()> {
    super::load_plan(ctx)?;
    Err(Error::not_implemented("history").into())
}
