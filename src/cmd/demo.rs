//! `relctl demo`: the whole loop on this machine, against an embedded simulated service.

use std::path::PathBuf;

use super::Context;

/// Run a whole release on this machine against an embedded simulated service
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Make the new version misbehave so the canary is rolled back
    #[arg(long)]
    pub fail: bool,

    /// Keep the simulated service running and print a walkthrough of the real commands
    #[arg(long)]
    pub serve: bool,

    /// Keep the records repository here (default: a temporary directory)
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<()> {
    crate::demo::run(
        crate::demo::Options {
            fail: args.fail,
            serve: args.serve,
            dir: args.dir,
        },
        ctx,
    )
}
