//! The command line: global flags and the one `Command` enum. Each subcommand's
//! arguments live beside its implementation in `src/cmd/`.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::cmd;
use crate::manual;
use crate::ui::{ColorChoice, OutputMode};

/// Promote one immutable artifact through your environments, with gates,
/// automatic rollback and a release record in git.
#[derive(Debug, Parser)]
#[command(
    name = "relctl",
    version,
    about,
    max_term_width = 100,
    after_long_help = manual::help_examples(None)
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// `--plan`/`RELCTL_PLAN` as given; empty (`RELCTL_PLAN=` in a CI job) means not given.
#[derive(Debug, Clone)]
pub struct PlanFlag(pub Option<PathBuf>);

fn plan_flag(value: &str) -> Result<PlanFlag, std::convert::Infallible> {
    Ok(PlanFlag((!value.is_empty()).then(|| PathBuf::from(value))))
}

#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// The release plan [default: the nearest release.yaml, from here up to the repository's root]
    #[arg(long, global = true, env = "RELCTL_PLAN", value_name = "PATH", value_parser = plan_flag)]
    pub plan: Option<PlanFlag>,

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
    #[command(after_long_help = manual::help_examples(Some("init")))]
    Init(cmd::init::Args),
    #[command(after_long_help = manual::help_examples(Some("validate")))]
    Validate(cmd::validate::Args),
    #[command(after_long_help = manual::help_examples(Some("plan")))]
    Plan(cmd::plan::Args),
    #[command(after_long_help = manual::help_examples(Some("check")))]
    Check(cmd::check::Args),
    #[command(after_long_help = manual::help_examples(Some("promote")))]
    Promote(cmd::promote::Args),
    #[command(after_long_help = manual::help_examples(Some("resume")))]
    Resume(cmd::resume::Args),
    #[command(after_long_help = manual::help_examples(Some("approve")))]
    Approve(cmd::approve::Args),
    #[command(after_long_help = manual::help_examples(Some("reject")))]
    Reject(cmd::reject::Args),
    #[command(after_long_help = manual::help_examples(Some("abort")))]
    Abort(cmd::abort::Args),
    #[command(after_long_help = manual::help_examples(Some("rollback")))]
    Rollback(cmd::rollback::Args),
    #[command(after_long_help = manual::help_examples(Some("status")))]
    Status(cmd::status::Args),
    #[command(after_long_help = manual::help_examples(Some("history")))]
    History(cmd::history::Args),
    #[command(after_long_help = manual::help_examples(Some("verify")))]
    Verify(cmd::verify::Args),
    #[command(after_long_help = manual::help_examples(Some("releases")))]
    Releases(cmd::releases::Args),
    #[command(after_long_help = manual::help_examples(Some("notes")))]
    Notes(cmd::notes::Args),
    #[command(after_long_help = manual::help_examples(Some("report")))]
    Report(cmd::report::Args),
    #[command(after_long_help = manual::help_examples(Some("unlock")))]
    Unlock(cmd::unlock::Args),
    #[command(after_long_help = manual::help_examples(Some("demo")))]
    Demo(cmd::demo::Args),
    #[command(after_long_help = manual::help_examples(Some("completions")))]
    Completions(cmd::completions::Args),
    #[command(after_long_help = manual::help_examples(Some("man")))]
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
