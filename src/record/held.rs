//! Commits held apart: when local commits are replayed onto a remote tip that moved
//! and one of them conflicts with what the remote recorded meanwhile, only the records
//! of that key (an app, by its commit trailer) stop. Its conflicting commit and every
//! later one of the same key are taken off the branch and kept under a ref of their
//! own, `refs/relctl/held/<branch>/<key>`; every other commit goes on to the remote.
//! A store that writes for a held key refuses to, until a person settles it
//! (docs/record.md, "Commits that conflict with the remote's").

use anyhow::{Context as _, Result};
use git2::{ErrorCode, Oid};

use super::Store;
use crate::error::{Error, Exit};

/// Where held commits are kept, per branch and key.
const PREFIX: &str = "refs/relctl/held/";

/// A key whose local commits conflict with the remote's, and where they are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub key: String,
    /// `refs/relctl/held/<branch>/<key>`: the last of them, the others before it.
    pub refname: String,
}

impl Store {
    /// Group local commits by the value of `trailer` when they are replayed, so that a
    /// conflict holds back only its own group (see the module's comment).
    pub fn keyed_by(mut self, trailer: &'static str) -> Store {
        self.key_trailer = Some(trailer);
        self
    }

    /// The key this store writes for: it refuses to write while that key is held.
    pub fn writing_for(mut self, key: &str) -> Store {
        self.writes_for = Some(key.to_string());
        self
    }

    fn held_ref(&self, key: &str) -> String {
        format!("{PREFIX}{}/{key}", self.branch)
    }

    /// The key of `commit`: its trailer's value, when it is one a ref may be named by
    /// (lowercase letters, digits and dashes, as an app's name is).
    pub(super) fn key_of(&self, commit: &git2::Commit<'_>) -> Option<String> {
        let trailer = self.key_trailer?;
        let message = String::from_utf8_lossy(commit.message_raw_bytes());
        let key = message.lines().rev().find_map(|line| {
            line.strip_prefix(trailer)?
                .strip_prefix(':')
                .map(|value| value.trim().to_string())
        })?;
        let valid = !key.is_empty()
            && !key.starts_with('-')
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        valid.then_some(key)
    }

    /// Keeps `last`, the last local commit of `key` taken off the branch, under the
    /// key's ref. A ref already there is left as it is: it holds the earlier ones,
    /// which are no longer on the branch.
    pub(super) fn hold(&self, key: &str, last: Oid) -> Result<()> {
        let refname = self.held_ref(key);
        self.flush(last)?;
        match self.repo.reference(
            &refname,
            last,
            false,
            "relctl: commits that conflict with the remote's",
        ) {
            Ok(_) => Ok(()),
            Err(err) if err.code() == ErrorCode::Exists => Ok(()),
            Err(err) => {
                Err(err).with_context(|| format!("keeping {refname} in {}", self.path().display()))
            }
        }
    }

    /// Every key held apart on this branch, by name.
    pub fn held(&self) -> Result<Vec<Held>> {
        let prefix = format!("{PREFIX}{}/", self.branch);
        let context = || format!("listing {prefix}* in {}", self.path().display());
        let mut held = Vec::new();
        for reference in self
            .repo
            .references_glob(&format!("{prefix}*"))
            .with_context(context)?
        {
            let reference = reference.with_context(context)?;
            let Ok(name) = reference.name() else {
                continue;
            };
            // A branch whose name is this one's and more (`relctl` and `relctl/records`)
            // has its keys one level further down: not this branch's.
            if let Some(key) = name.strip_prefix(&prefix).filter(|key| !key.contains('/')) {
                held.push(Held {
                    key: key.to_string(),
                    refname: name.to_string(),
                });
            }
        }
        held.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(held)
    }

    /// Exit 1 when the key this store writes for is held apart: its record here and
    /// the remote's disagree, and only a person can say which is true.
    pub(super) fn refuse_held(&self) -> Result<()> {
        let Some(key) = &self.writes_for else {
            return Ok(());
        };
        let refname = self.held_ref(key);
        if self.read_ref(&refname)?.is_none() {
            return Ok(());
        }
        let remote = self.remote.as_deref().unwrap_or("origin");
        let place = match self.url {
            Some(_) => "relctl's clone of the records repository",
            None => "this clone",
        };
        Err(Error::new(
            Exit::Failed,
            format!(
                "record commit(s) of `{key}` made in {place} conflict with what {} has: \
                 they are kept at {refname}, off {}; nothing more is recorded for `{key}` \
                 here until that is settled, and nothing was deployed",
                self.remote_named(remote),
                self.branch
            ),
        )
        .with_hint(format!(
            "see them with `git -C {dir} log --format='%h %s' --grep='^{trailer}: {key}$' \
             {remote}/{branch}..{refname}`; \
             to settle it, see docs/record.md, \"Commits that conflict with the remote's\"; \
             the other apps' records go on as usual",
            dir = self.path().display(),
            branch = self.branch,
            trailer = self.key_trailer.unwrap_or_default(),
        ))
        .into())
    }
}
