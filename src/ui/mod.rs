//! The one printer that owns stdout and stderr: data to stdout, everything else to
//! stderr; colour and output mode resolved once, at start-up.

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

pub mod events;
pub mod github;
pub mod table;

use console::style;

use crate::error;

/// How to print: for people on a terminal, for people in a log, or JSON lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    Human,
    Plain,
    Json,
}

/// When to use colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

pub struct Printer {
    mode: OutputMode,
    quiet: bool,
    /// Set once a write to stdout found it closed (`relctl promote --output json | head`).
    stdout_closed: AtomicBool,
}

/// What the terminal and the environment say, read once so tests can pin them.
#[derive(Debug, Clone, Copy)]
pub struct Terminal {
    pub stdout: bool,
    pub stderr: bool,
    pub stdin: bool,
}

impl Terminal {
    pub fn detect() -> Self {
        Terminal {
            stdout: io::stdout().is_terminal(),
            stderr: io::stderr().is_terminal(),
            stdin: io::stdin().is_terminal(),
        }
    }
}

/// Colour: `--color`, then `NO_COLOR`, then `CLICOLOR_FORCE`, then "is it a terminal".
pub fn resolve_color(
    choice: ColorChoice,
    is_terminal: bool,
    env: impl Fn(&str) -> Option<String>,
) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            if env("NO_COLOR").is_some_and(|v| !v.is_empty()) {
                false
            } else if env("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0") {
                true
            } else {
                is_terminal
            }
        }
    }
}

/// Output mode: `--output`, else human when stderr (where people read progress) is a terminal.
pub fn resolve_mode(choice: Option<OutputMode>, terminal: Terminal) -> OutputMode {
    choice.unwrap_or(if terminal.stderr {
        OutputMode::Human
    } else {
        OutputMode::Plain
    })
}

/// `--no-input` is implied without a terminal on stdin, and in CI.
pub fn resolve_no_input(
    flag: bool,
    terminal: Terminal,
    env: impl Fn(&str) -> Option<String>,
) -> bool {
    flag || !terminal.stdin || env("CI").is_some_and(|v| !v.is_empty() && v != "false")
}

impl Printer {
    /// A printer for `output` (`None`: by the terminal), colour as `color` and the
    /// environment say, silent but for errors and data when `quiet`.
    pub fn new(
        output: Option<OutputMode>,
        color: ColorChoice,
        quiet: bool,
        terminal: Terminal,
    ) -> Self {
        let env = |name: &str| std::env::var(name).ok();
        console::set_colors_enabled(resolve_color(color, terminal.stdout, env));
        console::set_colors_enabled_stderr(resolve_color(color, terminal.stderr, env));
        Printer {
            mode: resolve_mode(output, terminal),
            quiet,
            stdout_closed: AtomicBool::new(false),
        }
    }

    pub fn mode(&self) -> OutputMode {
        self.mode
    }

    /// Data for stdout: a table, a report, a script. A closed pipe ends the command quietly.
    pub fn data(&self, text: &str) -> anyhow::Result<()> {
        self.data_bytes(text.as_bytes())
    }

    pub fn data_bytes(&self, bytes: &[u8]) -> anyhow::Result<()> {
        let mut out = io::stdout().lock();
        let written = out.write_all(bytes).and_then(|()| out.flush());
        if written
            .as_ref()
            .is_err_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
        {
            self.stdout_closed.store(true, Ordering::Relaxed);
        }
        Ok(written?)
    }

    /// One JSON object on its own line on stdout (`--output json`).
    pub fn json(&self, value: &serde_json::Value) -> anyhow::Result<()> {
        self.data(&format!("{value}\n"))
    }

    /// One JSON line of a release's stream (its events, its summary). Closing stdout
    /// does not stop a release: from then on its stream is dropped, and the release
    /// goes on, records, reports on stderr and exits with its own code.
    pub fn stream(&self, value: &serde_json::Value) -> anyhow::Result<()> {
        if self.stdout_closed.load(Ordering::Relaxed) {
            return Ok(());
        }
        match self.json(value) {
            Err(e) if is_broken_pipe(&e) => {
                tracing::debug!("stdout is closed; the rest of the stream is dropped");
                Ok(())
            }
            other => other,
        }
    }

    /// A message for people, on stderr; silent with `--quiet`.
    pub fn status(&self, message: &str) {
        if !self.quiet {
            let _ = writeln!(io::stderr(), "{}", crate::text::visible(message));
        }
    }

    pub fn warn(&self, message: &str) {
        warn(message);
    }

    /// The one error format: `error: …`, `  caused by: …` per cause, then `hint: …`.
    pub fn error(&self, err: &anyhow::Error) {
        let _ = io::stderr().write_all(render_error(err).as_bytes());
    }
}

/// Every part of it `visible`: an error may quote text from outside (a reason, a
/// server's answer) that a terminal would act on (docs/ci.md, "Output").
pub fn render_error(err: &anyhow::Error) -> String {
    use crate::text::visible;
    let mut text = format!(
        "{} {}\n",
        style("error:").red().bold().for_stderr(),
        visible(&err.to_string())
    );
    for cause in err.chain().skip(1) {
        // A cause from another tool's message may carry its own `error: ` (a parser's).
        let cause = cause.to_string();
        let cause = cause.strip_prefix("error: ").unwrap_or(&cause);
        text.push_str(&format!("  caused by: {}\n", visible(cause)));
    }
    if let Some(hint) = error::hint_of(err) {
        text.push_str(&format!(
            "{} {}\n",
            style("hint:").cyan().bold().for_stderr(),
            visible(hint)
        ));
    }
    text
}

/// A failed run's summary object (`--output json`) says why: `error`, the message with
/// its causes, and `hint` when there is one (docs/ci.md, "Output").
pub fn add_error(summary: &mut serde_json::Value, err: &anyhow::Error) {
    summary["error"] = serde_json::json!(format!("{err:#}"));
    if let Some(hint) = crate::error::hint_of(err) {
        summary["hint"] = serde_json::json!(hint);
    }
}

/// Asks a yes-or-no question on the terminal (no unless answered yes); blocks until
/// answered.
pub fn confirm(question: &str) -> Result<bool, dialoguer::Error> {
    dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact()
}

/// True when the error is stdout being closed under us (`relctl history | head`).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

impl Printer {
    /// A spinner on stderr for something that takes a while (human mode on a terminal
    /// only); it shows the message and the time elapsed, and vanishes when dropped.
    pub fn spinner(&self, message: String) -> Option<indicatif::ProgressBar> {
        if self.mode != OutputMode::Human || self.quiet || !io::stderr().is_terminal() {
            return None;
        }
        let bar = indicatif::ProgressBar::new_spinner();
        let style = indicatif::ProgressStyle::with_template("{spinner:.cyan} {msg} {elapsed:.dim}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.set_message(message);
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Some(bar)
    }
}

/// A warning on stderr, for code that has no printer at hand (the record's replay).
pub fn warn(message: &str) {
    let _ = writeln!(
        io::stderr(),
        "{} {}",
        style("warning:").yellow().bold().for_stderr(),
        crate::text::visible(message)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn a_cause_that_says_error_itself_is_not_prefixed_twice() {
        console::set_colors_enabled_stderr(false);
        let err = anyhow::anyhow!("error: line 2: unexpected token").context("reading the file");
        assert_eq!(
            render_error(&err),
            "error: reading the file\n  caused by: line 2: unexpected token\n"
        );
    }

    #[test]
    fn color_resolution_order() {
        use ColorChoice::*;
        assert!(resolve_color(Always, false, env(&[("NO_COLOR", "1")])));
        assert!(!resolve_color(Never, true, env(&[("CLICOLOR_FORCE", "1")])));
        assert!(!resolve_color(Auto, true, env(&[("NO_COLOR", "1")])));
        assert!(resolve_color(Auto, true, env(&[("NO_COLOR", "")])));
        assert!(resolve_color(Auto, false, env(&[("CLICOLOR_FORCE", "1")])));
        assert!(!resolve_color(Auto, false, env(&[("CLICOLOR_FORCE", "0")])));
        assert!(!resolve_color(
            Auto,
            true,
            env(&[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")])
        ));
        assert!(resolve_color(Auto, true, env(&[])));
        assert!(!resolve_color(Auto, false, env(&[])));
    }

    #[test]
    fn output_mode_and_input() {
        let tty = Terminal {
            stdout: true,
            stderr: true,
            stdin: true,
        };
        let pipe = Terminal {
            stdout: false,
            stderr: false,
            stdin: false,
        };
        assert_eq!(resolve_mode(None, tty), OutputMode::Human);
        assert_eq!(resolve_mode(None, pipe), OutputMode::Plain);
        assert_eq!(resolve_mode(Some(OutputMode::Json), tty), OutputMode::Json);
        assert!(!resolve_no_input(false, tty, env(&[])));
        assert!(resolve_no_input(false, tty, env(&[("CI", "true")])));
        assert!(resolve_no_input(false, pipe, env(&[])));
        assert!(resolve_no_input(true, tty, env(&[])));
    }
}
