//! Which plan file a command uses when `--plan` (or `RELCTL_PLAN`) does not say: the
//! nearest `release.yaml` from the current directory up to the repository's root (the
//! directory holding `.git`), or only the current directory outside a repository.

use std::path::{Path, PathBuf};

use crate::error::Error;

/// The plan's file name, looked for in the current directory and its parents.
pub const FILE_NAME: &str = "release.yaml";

/// The plan to use: `explicit` as given, else the nearest `release.yaml` between `cwd`
/// and its repository's root, as a path relative to `cwd` (`release.yaml`,
/// `../release.yaml`, …) so that messages stay short and paths in the plan keep
/// resolving against the plan's own directory.
pub fn find(explicit: Option<&Path>, cwd: &Path) -> anyhow::Result<PathBuf> {
    if let Some(path) = explicit {
        tracing::debug!(
            "using the plan {} (from --plan or RELCTL_PLAN)",
            path.display()
        );
        return Ok(path.to_path_buf());
    }
    let root = repository_root(cwd);
    let searched: Vec<&Path> = match root {
        Some(root) => cwd
            .ancestors()
            .take_while(|dir| dir.starts_with(root))
            .collect(),
        None => vec![cwd],
    };
    for (up, dir) in searched.iter().enumerate() {
        if dir.join(FILE_NAME).is_file() {
            let path = std::iter::repeat_n(Path::new(".."), up)
                .collect::<PathBuf>()
                .join(FILE_NAME);
            tracing::debug!(
                "using the plan {} (found in {})",
                path.display(),
                dir.display()
            );
            return Ok(path);
        }
    }
    let place = match root {
        Some(root) if root == cwd => format!("in {}, the repository's root", cwd.display()),
        Some(root) => format!(
            "in {} or its parents up to the repository's root {}",
            cwd.display(),
            root.display()
        ),
        None => format!(
            "in {} (not inside a git repository, so only there)",
            cwd.display()
        ),
    };
    Err(Error::usage(format!("no {FILE_NAME} {place}"))
        .with_hint(
            "`relctl init` writes a starter plan here; or pass --plan PATH (or set RELCTL_PLAN)",
        )
        .into())
}

/// The nearest directory at or above `dir` that holds `.git` (a directory, or the file
/// a worktree or submodule has), if any.
pub fn repository_root(dir: &Path) -> Option<&Path> {
    dir.ancestors().find(|d| d.join(".git").exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(dirs: &[&str], files: &[&str]) -> tempfile::TempDir {
        let temp = tempfile::tempdir().unwrap();
        for d in dirs {
            std::fs::create_dir_all(temp.path().join(d)).unwrap();
        }
        for f in files {
            std::fs::write(temp.path().join(f), "").unwrap();
        }
        temp
    }

    #[test]
    fn explicit_path_wins() {
        let temp = tree(&["repo/.git"], &["repo/release.yaml"]);
        let path = find(Some(Path::new("other.yaml")), &temp.path().join("repo")).unwrap();
        assert_eq!(path, Path::new("other.yaml"));
    }

    #[test]
    fn nearest_plan_up_to_the_repository_root() {
        let temp = tree(
            &["repo/.git", "repo/a/b", "repo/svc/x"],
            &["repo/release.yaml", "repo/svc/release.yaml"],
        );
        let repo = temp.path().join("repo");
        assert_eq!(find(None, &repo).unwrap(), Path::new("release.yaml"));
        assert_eq!(
            find(None, &repo.join("a/b")).unwrap(),
            Path::new("../../release.yaml")
        );
        assert_eq!(
            find(None, &repo.join("svc/x")).unwrap(),
            Path::new("../release.yaml")
        );
    }

    #[test]
    fn never_above_the_repository_root() {
        let temp = tree(&["repo/.git", "repo/a"], &["release.yaml"]);
        let err = find(None, &temp.path().join("repo/a")).unwrap_err();
        assert!(
            err.to_string().contains("up to the repository's root"),
            "{err}"
        );
    }

    #[test]
    fn outside_a_repository_only_the_current_directory() {
        let temp = tree(&["a"], &["release.yaml"]);
        // The temp dir may itself sit inside some repository; only test when it does not.
        if repository_root(temp.path()).is_none() {
            let err = find(None, &temp.path().join("a")).unwrap_err();
            assert!(err.to_string().contains("only there"), "{err}");
            assert_eq!(find(None, temp.path()).unwrap(), Path::new("release.yaml"));
        }
    }
}
