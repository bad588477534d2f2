//! `relctl plan`: the dry run of promote. Changes nothing.

use crate::error::Error;

use super::Context;

/// Show what promote would do, templates rendered and secrets masked
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The artifact: NAME@sha256:<64 hex>, or a bare sha256:<64 hex>
    #[arg(long, value_name = "REF")]
    pub artifact: String,

    /// Plan up to this environment (default: the last)
    #[arg(long, value_name = "ENV")]
    pub to: Option<String>,
}

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<()> {
    let (_plan, _artifact) = super::plan_and_artifact(ctx, &args.artifact)?;
    Err(Error::not_implemented("plan").into())
}
