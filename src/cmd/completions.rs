//! `relctl completions`: print a shell completion script.

use clap_complete::Shell;

use super::Context;
use crate::generated;

/// Print the completion script for a shell
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell
    pub shell: Shell,
}

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<()> {
    let (_, script) = generated::completion(args.shell);
    ctx.printer.data_bytes(&script)
}
