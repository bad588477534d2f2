//! `relctl report`: the four DORA measures, from the record.

use crate::error::Error;

use super::Context;

/// Report delivery metrics: deployment frequency, lead time, change failure rate, time to restore
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this environment
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,

    /// Only releases within this long (e.g. 30d)
    #[arg(long, value_name = "DUR")]
    pub since: Option<String>,
}

pub fn run(_args: Args, ctx: &Context) -> anyhow::Result<()> {
    super::load_plan(ctx)?;
    Err(Error::not_implemented("report").into())
}
