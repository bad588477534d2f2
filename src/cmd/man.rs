//! `relctl man`: print the man page, or write every page into a directory.

use std::path::PathBuf;

use anyhow::Context as _;

use super::Context;
use crate::generated;

/// Print the relctl(1) man page, or write all pages into a directory
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write relctl.1 and one page per subcommand into this directory
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<()> {
    let pages = generated::man_pages().context("rendering the man pages")?;
    let Some(dir) = args.dir else {
        let (_, main_page) = &pages[0];
        return ctx.printer.data_bytes(main_page);
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, page) in &pages {
        let path = dir.join(name);
        std::fs::write(&path, page).with_context(|| format!("writing {}", path.display()))?;
    }
    ctx.printer.status(&format!(
        "wrote {} man pages into {}",
        pages.len(),
        dir.display()
    ));
    Ok(())
}
