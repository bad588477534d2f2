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

/// The completion script for one shell, and the file name it is committed under.
pub fn completion(shell: Shell) -> (String, Vec<u8>) {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "relctl", &mut out);
    (shell.file_name("relctl"), out)
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
