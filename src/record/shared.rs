//! A records repository shared by URL (`record.url`): relctl's own bare clone of it
//! under the user's cache directory, made on first use (safely when several processes
//! start at once) and reached through its remote `origin` like any records remote.
//! Credentials in the URL are used to reach it and kept nowhere else.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use git2::{ErrorCode, Repository};
use sha2::{Digest as _, Sha256};

use super::remote::shown_url;
use super::store::{Access, Store};
use crate::error::Error;

/// The clone's name for the shared repository.
const REMOTE: &str = "origin";

impl Store {
    /// Open relctl's clone of the records repository at `url`, to record in it.
    pub fn open_shared(url: &str, branch: &str) -> Result<Store> {
        Store::open_shared_as(url, branch, Access::Write)
    }

    /// Open relctl's clone of the records repository at `url` for a command that
    /// only reads it.
    pub fn open_shared_to_read(url: &str, branch: &str) -> Result<Store> {
        Store::open_shared_as(url, branch, Access::Read)
    }

    fn open_shared_as(url: &str, branch: &str, access: Access) -> Result<Store> {
        let dir = clone_for(&cache_root()?, url, branch)?;
        let mut store = Store::open_as(&dir, branch, Some(REMOTE), access)?;
        store.url = Some(url.to_string());
        Ok(store)
    }

    /// The shared records repository's URL as it may be shown (any password masked),
    /// when the record is kept in one (`record.url`).
    pub fn shared_url(&self) -> Option<String> {
        self.url.as_deref().map(shown_url)
    }

    /// Where the record is shared, for messages: the shared URL, else the remote's name.
    pub fn remote_shown(&self) -> Option<String> {
        self.shared_url().or_else(|| self.remote.clone())
    }
}

/// `$XDG_CACHE_HOME/relctl/records`, else `~/.cache/relctl/records`.
fn cache_root() -> Result<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|path| path.is_absolute())
    };
    let cache = var("XDG_CACHE_HOME").or_else(|| var("HOME").map(|home| home.join(".cache")));
    match cache {
        Some(cache) => Ok(cache.join("relctl").join("records")),
        None => Err(Error::usage(
            "no cache directory for relctl's clone of the records repository (`record.url`): \
             neither XDG_CACHE_HOME nor HOME is set to an absolute path",
        )
        .with_hint("set XDG_CACHE_HOME (or HOME) to a directory relctl may write")
        .into()),
    }
}

/// `url` without what may be a credential: the user name and password of a
/// `scheme://user:password@host/…` URL (some servers take a token as the user name),
/// and of an scp-like `user:password@host:path`. An scp-like `user@host:path` has no
/// password and is kept as it is.
fn without_credentials(url: &str) -> String {
    match crate::providers::secrets::url_userinfo(url) {
        Some((before, userinfo, after)) if !before.is_empty() || userinfo.contains(':') => {
            format!("{before}{after}")
        }
        _ => url.to_string(),
    }
}

/// The clone's directory name: readable host and path, then a hash of the URL
/// (without credentials), so that two URLs never share a clone.
fn dir_name(url: &str) -> String {
    const READABLE: usize = 60;
    let url = without_credentials(url);
    let hash = hex::encode(&Sha256::digest(url.as_bytes())[..6]);
    let place = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
    let readable: String = place
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let readable = readable.trim_matches(['_', '.']);
    let start = readable
        .char_indices()
        .map(|(i, _)| i)
        .find(|&i| readable.len() - i <= READABLE)
        .unwrap_or(0);
    format!("{}-{hash}", &readable[start..])
}

/// relctl's clone of `url` under `root`, made now if there is none: a bare
/// repository made in a directory of its own and renamed into place, so that of
/// several processes starting at once one makes it and the others use it.
fn clone_for(root: &Path, url: &str, branch: &str) -> Result<PathBuf> {
    let dir = root.join(dir_name(url));
    if !dir.exists() {
        make_clone(root, &dir, url)?;
    }
    check_clone(&dir, url, branch)?;
    Ok(dir)
}

fn make_clone(root: &Path, dir: &Path, url: &str) -> Result<()> {
    let unwritable = |err: anyhow::Error| -> anyhow::Error {
        err.context(
            Error::usage(format!(
                "cannot make relctl's clone of the records repository in {}",
                root.display()
            ))
            .with_hint(
                "relctl keeps its clone of a shared records repository (`record.url`) under \
                 the user's cache directory: make it writable, or set XDG_CACHE_HOME to a \
                 directory that is",
            ),
        )
    };
    std::fs::create_dir_all(root)
        .with_context(|| format!("creating {}", root.display()))
        .map_err(unwritable)?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let partial = root.join(format!(
        ".{name}.{}.{:016x}.new",
        std::process::id(),
        rand::random::<u64>()
    ));
    let made = Repository::init_bare(&partial)
        .and_then(|repo| repo.remote(REMOTE, &without_credentials(url)).map(drop))
        .with_context(|| format!("creating a git repository at {}", partial.display()))
        .map_err(unwritable);
    if let Err(err) = made {
        let _ = std::fs::remove_dir_all(&partial);
        return Err(err);
    }
    match std::fs::rename(&partial, dir) {
        Ok(()) => {
            tracing::debug!(clone = %dir.display(), "made relctl's clone of the records repository");
            Ok(())
        }
        // Another relctl made it first: use theirs.
        Err(_) if dir.exists() => {
            let _ = std::fs::remove_dir_all(&partial);
            Ok(())
        }
        Err(err) => {
            let _ = std::fs::remove_dir_all(&partial);
            Err(unwritable(anyhow::Error::new(err).context(format!(
                "moving {} to {}",
                partial.display(),
                dir.display()
            ))))
        }
    }
}

/// The clone at `dir` must be one of `url`: its commits not yet pushed belong to
/// that repository, and must never be pushed to another.
fn check_clone(dir: &Path, url: &str, branch: &str) -> Result<()> {
    let wanted = without_credentials(url);
    let found = match Repository::open_bare(dir) {
        Ok(repo) => match repo.find_remote(REMOTE) {
            Ok(remote) => Some(String::from_utf8_lossy(remote.url_bytes()).into_owned()),
            Err(err) if err.code() == ErrorCode::NotFound => None,
            Err(err) => {
                return Err(err).with_context(|| format!("reading {}", dir.display()));
            }
        },
        Err(_) => None,
    };
    if found.as_deref() == Some(wanted.as_str()) {
        return Ok(());
    }
    let what = match &found {
        Some(other) => format!("is a clone of {}", shown_url(other)),
        None => "is not a git repository with a remote `origin`".to_string(),
    };
    Err(Error::usage(format!(
        "relctl's clone of the records repository {} at {} {what}",
        shown_url(url),
        dir.display()
    ))
    .with_hint(format!(
        "it was changed outside relctl, and relctl will not push its record commits to \
         another repository; nothing was recorded or deployed. Move it away and relctl \
         makes a new clone from the URL (`git -C {} log {REMOTE}/{branch}..{branch}` lists \
         the record commits it holds that were never pushed)",
        dir.display()
    ))
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_credential_reaches_the_clone_directory() {
        let url = "https://ci-bot:ghs_s3cret@git.example.com/platform/records.git";
        assert_eq!(
            without_credentials(url),
            "https://git.example.com/platform/records.git"
        );
        let name = dir_name(url);
        assert!(
            !name.contains("s3cret") && !name.contains("ci-bot"),
            "{name}"
        );
        assert!(
            name.starts_with("git.example.com_platform_records.git-"),
            "{name}"
        );
        // The same repository whoever reaches it; another repository elsewhere.
        assert_eq!(
            name,
            dir_name("https://git.example.com/platform/records.git")
        );
        assert_ne!(name, dir_name("https://git.example.com/platform/other.git"));
        assert_eq!(
            without_credentials("git@github.com:acme/records.git"),
            "git@github.com:acme/records.git"
        );
        assert!(dir_name("/srv/git/records.git").starts_with("srv_git_records.git-"));
        // scp-like, with a password: neither reaches the directory's name.
        let name = dir_name("ci:s3cr3t@git.example.com:platform/records.git");
        assert!(!name.contains("s3cr3t"), "{name}");
        assert_eq!(name, dir_name("git.example.com:platform/records.git"));
    }

    #[test]
    fn processes_starting_at_once_make_one_clone() {
        let root = std::env::temp_dir().join(format!(
            "relctl-shared-{}-{:x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        let url = "https://git.example.com/platform/records.git";
        let made: Vec<PathBuf> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| clone_for(&root, url, "relctl/records")))
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().expect("a thread").expect("a clone"))
                .collect()
        });
        assert!(made.iter().all(|dir| dir == &made[0]), "{made:?}");
        let entries: Vec<_> = std::fs::read_dir(&root)
            .expect("the cache")
            .flatten()
            .map(|entry| entry.file_name())
            .collect();
        assert_eq!(entries.len(), 1, "no half-made clone is left: {entries:?}");
        std::fs::remove_dir_all(&root).expect("clean up");
    }
}
