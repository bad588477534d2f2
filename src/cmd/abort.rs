//! `relctl abort`: stop a release under way and roll back the environment it was entering.

use crate::error::Error;

use super::Context;

/// Stop a release under way; its environment goes back to what was live before
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The release id (<app>-<12 hex>)
    pub release: String,

    /// Why (recorded)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

pub fn run(_args: Args, ctx: &Context) -> anyhow::Result<()> {
    super::load_plan(ctx)?;
    Err(Error::not_implemented("abort").into())
}
