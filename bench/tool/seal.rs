//! Putting a records repository back as it was, between two timed runs of a command
//! that writes to it: its branch at the tip it had, and exactly the packs it had.
//! Resetting the branch alone leaves each run's packs behind (or merged with the ones
//! before: src/record/packs.rs), so every run would begin from a different pack
//! directory and do different work.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

const BRANCH: &str = "refs/heads/relctl/records";

/// Where the seal keeps the tip and hard links to the pack files.
fn seal_dir(repo: &git2::Repository) -> PathBuf {
    repo.path().join("relctl-bench.seal")
}

fn files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        paths.push(entry?.path());
    }
    Ok(paths)
}

fn open(dir: &Path) -> anyhow::Result<git2::Repository> {
    git2::Repository::open(dir).with_context(|| format!("opening {}", dir.display()))
}

/// Notes the branch's tip of the repository at `dir`, and links its pack files aside.
pub fn seal(dir: &Path) -> anyhow::Result<()> {
    let repo = open(dir)?;
    let tip = repo
        .refname_to_id(BRANCH)
        .with_context(|| format!("reading {BRANCH} in {}", dir.display()))?;
    let seal = seal_dir(&repo);
    if seal.exists() {
        std::fs::remove_dir_all(&seal).context("removing the old seal")?;
    }
    std::fs::create_dir_all(seal.join("pack")).context("making the seal")?;
    for path in files(&repo.path().join("objects/pack"))? {
        let name = path.file_name().context("a pack file's name")?;
        std::fs::hard_link(&path, seal.join("pack").join(name))
            .with_context(|| format!("linking {}", path.display()))?;
    }
    std::fs::write(seal.join("tip"), tip.to_string()).context("writing the seal")?;
    Ok(())
}

/// Puts the repository at `dir` back as `seal` found it: the branch at its tip, and the
/// pack directory holding exactly the files it held.
pub fn reset(dir: &Path) -> anyhow::Result<()> {
    let repo = open(dir)?;
    let seal = seal_dir(&repo);
    let tip = std::fs::read_to_string(seal.join("tip")).context("reading the seal")?;
    let tip = git2::Oid::from_str(tip.trim()).context("the seal's tip")?;
    let packs = repo.path().join("objects/pack");
    for path in files(&packs)? {
        std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
    }
    for path in files(&seal.join("pack"))? {
        let name = path.file_name().context("a pack file's name")?;
        std::fs::hard_link(&path, packs.join(name))
            .with_context(|| format!("linking {}", path.display()))?;
    }
    repo.reference(BRANCH, tip, true, "relctl-bench reset")
        .with_context(|| format!("moving {BRANCH} in {}", dir.display()))?;
    Ok(())
}
