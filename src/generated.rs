//! What `completions/` and `man/` hold, generated from the clap definitions.
//! The drift test regenerates these in memory and compares them with the committed files.

use clap::CommandFactory;
use clap_complete::{Generator, Shell};

use crate::cli::Cli;

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
    pages.push(("relctl.1".to_string(), render(cmd.clone())?));
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("relctl-{}", sub.get_name());
        let page = sub.clone().name(name.clone()).bin_name(name.clone());
        pages.push((format!("{name}.1"), render(page)?));
    }
    Ok(pages)
}

fn render(cmd: clap::Command) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut out)?;
    Ok(out)
}
