//! Reading the branch back as a list of commits, newest first, with their trailers.

use anyhow::{Context as _, Result};
use chrono::{DateTime, FixedOffset};
use git2::Oid;

use super::store::Store;

/// One commit of the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub oid: Oid,
    /// When the commit was first made (kept when it is replayed onto a remote tip).
    pub time: DateTime<FixedOffset>,
    /// The author's name: the actor the engine gave.
    pub actor: String,
    pub summary: String,
    pub trailers: Vec<(String, String)>,
    /// Its parents, first first: more than one for a merge, which relctl never writes.
    pub parents: Vec<Oid>,
}

impl LogEntry {
    /// The first trailer with this key, compared without regard to case as git does.
    pub fn trailer(&self, key: &str) -> Option<&str> {
        self.trailers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

impl Store {
    /// Commits on the local branch, newest first, at most `limit` of them. The
    /// branch is a line, so following first parents reads only what is returned.
    pub fn log(&self, limit: Option<usize>) -> Result<Vec<LogEntry>> {
        self.log_where(limit, &|_| true)
    }

    /// The commits `keep` keeps, newest first, at most `limit` of them: the branch is
    /// read only as far back as it takes to find them.
    pub fn log_where(
        &self,
        limit: Option<usize>,
        keep: &dyn Fn(&LogEntry) -> bool,
    ) -> Result<Vec<LogEntry>> {
        let mut entries = Vec::new();
        let mut next = self.tip()?;
        while let Some(oid) = next
            && limit.is_none_or(|limit| entries.len() < limit)
        {
            let commit = self.repo.find_commit(oid).with_context(|| {
                format!(
                    "reading commit {oid} of {} in {}",
                    self.branch,
                    self.path().display()
                )
            })?;
            let entry = entry(&commit)?;
            if keep(&entry) {
                entries.push(entry);
            }
            next = commit.parent_ids().next();
        }
        Ok(entries)
    }
}

fn entry(commit: &git2::Commit<'_>) -> Result<LogEntry> {
    let oid = commit.id();
    let message = String::from_utf8_lossy(commit.message_bytes());
    let trailers = git2::message_trailers_strs(&message)
        .with_context(|| format!("reading the trailers of commit {oid}"))?
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
    let author = commit.author();
    let when = author.when();
    let time = FixedOffset::east_opt(when.offset_minutes() * 60)
        .and_then(|zone| {
            DateTime::from_timestamp(when.seconds(), 0).map(|utc| utc.with_timezone(&zone))
        })
        .with_context(|| format!("commit {oid} has an impossible time"))?;
    Ok(LogEntry {
        oid,
        time,
        actor: String::from_utf8_lossy(author.name_bytes()).into_owned(),
        summary: message.lines().next().unwrap_or_default().to_string(),
        trailers,
        parents: commit.parent_ids().collect(),
    })
}
