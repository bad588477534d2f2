//! `relctl promote`: take a release through the environments, gate by gate.

use crate::error::Error;

use super::Context;

/// Promote an artifact through the environments in order
#[derive(Debug, clap::Args)]
#[command(after_help = "Re-running promote for a release under way continues it.")]
pub struct Args {
    /// The artifact: NAME@sha256:<64 hex>, or a bare sha256:<64 hex>
    #[arg(long, value_name = "REF")]
    pub artifact: String,

    /// Promote up to this environment (default: the last)
    #[arg(long, value_name = "ENV", conflicts_with = "env")]
    pub to: Option<String>,

    /// Promote into exactly this environment
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,

    /// A human version for the release (default: the short digest)
    #[arg(long, value_name = "V")]
    pub version: Option<String>,

    /// Without a terminal, wait for approvals (up to DUR) instead of exiting 4
    #[arg(long, value_name = "DUR", num_args = 0..=1, default_missing_value = "24h")]
    pub wait_approval: Option<String>,

    /// Wait for a locked environment (up to DUR) instead of exiting 5
    #[arg(long, value_name = "DUR", num_args = 0..=1, default_missing_value = "1h")]
    pub wait_lock: Option<String>,

    /// Promote although the order or soak rule says no (recorded with your name)
    #[arg(long)]
    pub force: bool,

    /// Promote into a frozen environment (needs --reason; recorded)
    #[arg(long, requires = "reason")]
    pub override_freeze: bool,

    /// Why: recorded with --force or --override-freeze
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<()> {
    let (_plan, _artifact) = super::plan_and_artifact(ctx, &args.artifact)?;
    Err(Error::not_implemented("promote").into())
}
