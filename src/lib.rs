//! relctl: promote one immutable artifact through environments, gate by gate, and
//! keep every step as a release record in git.
//!
//! The engine decides, providers act, the record remembers.

pub mod allowed_signers;
pub mod analysis;
pub mod artifact;
pub mod cli;
pub mod clock;
pub mod cmd;
pub mod complete;
pub mod demo;
pub mod duration;
pub mod engine;
pub mod error;
pub mod forge;
pub mod format;
pub mod generated;
pub mod hooks;
pub mod identity;
pub mod manual;
pub mod notes;
pub mod plan;
pub mod providers;
pub mod record;
pub mod rewrites;
pub mod runner;
pub mod signing;
pub mod text;
pub mod trust;
pub mod ui;
pub mod version;
pub mod went_live;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::error::{Exit, exit_of};
use crate::ui::{Printer, Terminal};

/// Parse the command line, run the command, and turn the outcome into an exit code.
pub fn main() -> ExitCode {
    // Before anything else touches git, while this is the only thread.
    record::start_git();
    generated::complete_if_asked();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() {
                Exit::Usage.code()
            } else {
                0
            });
        }
    };
    let global = &cli.global;
    let terminal = Terminal::detect();
    init_logging(
        global.verbose,
        ui::resolve_color(global.color.into(), terminal.stderr, |name| {
            std::env::var(name).ok()
        }),
    );
    runner::set_offline(global.offline);
    let printer = Printer::new(
        global.output.map(Into::into),
        global.color.into(),
        global.quiet,
        terminal,
    );
    let ctx = cmd::Context {
        plan: global.plan.as_ref().and_then(|p| p.0.as_deref()),
        no_input: global.no_input,
        printer: &printer,
    };
    match cmd::dispatch(cli.command, &ctx) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if ui::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            printer.error(&err);
            ExitCode::from(exit_of(&err).code())
        }
    }
}

/// stderr for diagnostics, where a write that fails (stderr closed, a full disk, a
/// reader gone) is dropped: a diagnostic must never stop a release half-way, and
/// tracing's own fallback would panic writing the same error to the same stderr.
struct Diagnostics;

impl std::io::Write for Diagnostics {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

/// Diagnostics go to stderr through `tracing`: `-v` debug, `-vv` trace, `RELCTL_LOG` overrides.
/// Only relctl's own: a dependency's log line repeats an error relctl reports itself
/// (the TLS verifier logs every certificate it refuses). Coloured only as stderr's
/// colour is resolved (`--color`, `NO_COLOR`, a terminal), like every other message.
fn init_logging(verbose: u8, color: bool) {
    let default = match verbose {
        0 => "relctl=warn",
        1 => "relctl=debug",
        _ => "relctl=trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("RELCTL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| Diagnostics)
        .with_ansi(color)
        .without_time()
        .try_init();
}
