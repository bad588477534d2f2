//! `relctl status`: what is live in each environment, from the record.

use crate::error::Error;

use super::Context;

/// Show what is live in each environment, and record commits not yet pushed
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this environment
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
}

pub fn run(_args: Args, ctx: &Context) -> anyhow::Result<()> {
    super::load_plan(ctx)?;
    Err(Error::not_implemented("status").into())
}
