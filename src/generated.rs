//! What `completions/` and `man/` hold, generated from the clap definitions.
//! The drift test regenerates these in memory and compares them with the committed files.

use clap::CommandFactory;
use clap_complete::{Generator, Shell};

use crate::cli::Cli;
use crate::manual;

pub const SHELLS: [Shell; 5] = [
    Shell::Bash,
    Shell::Zsh,
    Shell::Fish,
    Shell::PowerShell,
    Shell::Elvish,
];

/// The completion script for one shell, and the file name it is committed under. The
/// script registers relctl itself as the completer: on each Tab the shell runs
/// `COMPLETE=<shell> relctl -- <words>` and offers what it prints, the plan's
/// environments and the record's releases included (src/complete.rs).
pub fn completion(shell: Shell) -> (String, Vec<u8>) {
    let mut out = Vec::new();
    if let Some(completer) = clap_complete::env::Shells::builtins().completer(&shell.to_string()) {
        // Into memory: writing to a Vec cannot fail.
        let _ = completer.write_registration(COMPLETE_VAR, "relctl", "relctl", "relctl", &mut out);
    }
    (shell.file_name("relctl"), out)
}

/// The variable that turns a run of relctl into a completion request.
pub const COMPLETE_VAR: &str = "COMPLETE";

/// Answers a completion request (`COMPLETE=<shell>` set) and exits; returns otherwise.
pub fn complete_if_asked() {
    clap_complete::CompleteEnv::with_factory(Cli::command)
        .var(COMPLETE_VAR)
        .bin("relctl")
        .complete();
}

/// Every man page: `relctl.1` and one `relctl-<subcommand>.1` per subcommand.
pub fn man_pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = Cli::command();
    cmd.build();
    let mut pages = Vec::new();
    pages.push(("relctl.1".to_string(), render(cmd.clone(), None)?));
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("relctl-{}", sub.get_name());
        let page = sub.clone().name(name.clone()).bin_name(name.clone());
        pages.push((format!("{name}.1"), render(page, Some(sub.get_name()))?));
    }
    Ok(pages)
}

/// clap_mangen's page, with the sections it does not know before VERSION: EXIT STATUS,
/// ENVIRONMENT, FILES, EXAMPLES (those `--help` ends with) and SEE ALSO.
fn render(cmd: clap::Command, subcommand: Option<&str>) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let cmd = cmd.after_long_help(None::<&'static str>);
    let sections = sections(&cmd, subcommand);
    clap_mangen::Man::new(cmd).render(&mut out)?;
    let page = String::from_utf8_lossy(&out).into_owned();
    let page = match page.find(".SH VERSION") {
        Some(at) => format!("{}{sections}{}", &page[..at], &page[at..]),
        None => page + &sections,
    };
    Ok(page.into_bytes())
}

fn sections(cmd: &clap::Command, subcommand: Option<&str>) -> String {
    let mut roff = String::new();
    roff.push_str(".SH \"EXIT STATUS\"\n");
    for (exit, meaning) in manual::EXIT_STATUS {
        roff.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            exit.code(),
            text(meaning)
        ));
    }
    roff.push_str(".PP\nThe long form, for CI: docs/ci.md in the repository.\n");
    roff.push_str(".SH ENVIRONMENT\n");
    for (name, meaning) in manual::ENVIRONMENT {
        roff.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", text(name), text(meaning)));
    }
    roff.push_str(".SH FILES\n");
    for (name, meaning) in manual::FILES {
        roff.push_str(&format!(".TP\n\\fI{}\\fR\n{}\n", text(name), text(meaning)));
    }
    roff.push_str(".SH EXAMPLES\n");
    for (line, what) in manual::examples(subcommand) {
        roff.push_str(&format!(
            ".PP\n{}\n.RS 4\n.nf\n\\fB{}\\fR\n.fi\n.RE\n",
            text(what),
            text(line)
        ));
    }
    let see_also: Vec<String> = match subcommand {
        Some(_) => vec!["relctl(1)".to_string()],
        None => cmd
            .get_subcommands()
            .filter(|s| s.get_name() != "help")
            .map(|s| format!("relctl-{}(1)", s.get_name()))
            .collect(),
    };
    // No hyphenation: a page's name is not split across lines.
    roff.push_str(&format!(
        ".SH \"SEE ALSO\"\n.nh\n{}\n.hy\n",
        text(&see_also.join(", "))
    ));
    roff
}

/// Text as roff prints it: backslashes and dashes escaped, no line read as a request.
fn text(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\e")
        .replace('-', "\\-")
        .replace('\'', "\\*(Aq");
    if escaped.starts_with('.') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}
