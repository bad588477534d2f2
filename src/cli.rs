//! The command line: global flags and the one `Command` enum. Each subcommand's
//! arguments live beside its implementation in `src/cmd/`.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::cmd;
use crate::ui::{ColorChoice, OutputMode};

/// Promote one immutable artifact through your environments, with gates,
/// automatic rollback and a release record in git.
#[derive(Debug, Parser)]
#[command(name = "relctl", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// The release plan
    #[arg(
        long,
        global = true,
        env = "RELCTL_PLAN",
        default_value = "release.yaml",
        value_name = "PATH"
    )]
    pub plan: PathBuf,

    /// How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line
    #[arg(long, global = true, value_name = "MODE")]
    pub output: Option<OutputFlag>,

    /// When to use colour (honours NO_COLOR and CLICOLOR_FORCE)
    #[arg(long, global = true, default_value = "auto", value_name = "WHEN")]
    pub color: ColorFlag,

    /// Print only errors and data
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Never prompt (implied when stdin is not a terminal or CI is set)
    #[arg(long, global = true)]
    pub no_input: bool,

    /// Leave the records remote alone: read the local record, keep new commits here
    #[arg(long, global = true)]
    pub offline: bool,
}

/// `--output`, as the command line spells it; the printer's own is `ui::OutputMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFlag {
    Human,
    Plain,
    Json,
}

impl From<OutputFlag> for OutputMode {
    fn from(flag: OutputFlag) -> Self {
        match flag {
            OutputFlag::Human => OutputMode::Human,
            OutputFlag::Plain => OutputMode::Plain,
            OutputFlag::Json => OutputMode::Json,
        }
    }
}

/// `--color`, as the command line spells it; the printer's own is `ui::ColorChoice`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorFlag {
    Auto,
    Always,
    Never,
}

impl From<ColorFlag> for ColorChoice {
    fn from(flag: ColorFlag) -> Self {
        match flag {
            ColorFlag::Auto => ColorChoice::Auto,
            ColorFlag::Always => ColorChoice::Always,
            ColorFlag::Never => ColorChoice::Never,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Validate(cmd::validate::Args),
    Plan(cmd::plan::Args),
    Promote(cmd::promote::Args),
    Resume(cmd::resume::Args),
    Approve(cmd::approve::Args),
    Reject(cmd::reject::Args),
    Abort(cmd::abort::Args),
    Rollback(cmd::rollback::Args),
    Status(cmd::status::Args),
    History(cmd::history::Args),
    Releases(cmd::releases::Args),
    Notes(cmd::notes::Args),
    Report(cmd::report::Args),
    Unlock(cmd::unlock::Args),
    Demo(cmd::demo::Args),
    Completions(cmd::completions::Args),
    Man(cmd::man::Args),
}

impl Command {
    /// The `--reason` the command was given, for the check every reason passes.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Command::Promote(args) => args.reason.as_deref(),
            Command::Reject(args) => Some(&args.reason),
            Command::Abort(args) => args.reason.as_deref(),
            Command::Rollback(args) => args.reason.as_deref(),
            Command::Unlock(args) => Some(&args.reason),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
