//! Release notes: the commits between what was live in an environment and a release's
//! source commit, read from the plan's git repository and written as markdown, each
//! commit linked to its forge page (src/forge.rs).

use std::path::Path;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use git2::{Oid, Repository, Sort};
use serde::Serialize;

use crate::engine::{EventKind, Live, ReleaseFile};
use crate::error::{Error, Exit};
use crate::forge::commit_url;
use crate::format;
use crate::plan::Plan;
use crate::record::Snapshot;

/// At most this many commits are listed: with nothing to compare with, the whole
/// history would be.
pub const CAP: usize = 200;

/// One commit of the notes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Commit {
    pub sha: String,
    pub short: String,
    pub subject: String,
    pub author: String,
    pub email: String,
    pub time: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// What the notes compare with: the release live in the environment before this one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Base {
    pub release: String,
    pub version: String,
    /// Its source commit, when its record has one.
    pub commit: Option<String>,
}

/// The notes of one release for one environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notes {
    pub release: String,
    pub version: String,
    pub env: String,
    /// This release's source commit.
    pub commit: String,
    pub base: Option<Base>,
    /// Newest first.
    pub commits: Vec<Commit>,
    /// The range held more than `CAP` commits; the newest are listed.
    pub truncated: bool,
    /// Commits of the base this release does not have (it goes back in history), when
    /// it has none of its own.
    pub behind: usize,
}

/// What a release is, for its notes.
pub struct Subject<'a> {
    pub release: &'a str,
    pub version: &'a str,
    pub source_commit: Option<&'a str>,
}

/// The directory around the plan (the current one for a bare file name).
pub fn plan_dir(plan: &Plan) -> &Path {
    plan.path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// The plan's git repository: where source commits live.
pub fn source_repo(plan: &Plan) -> anyhow::Result<Repository> {
    let dir = plan_dir(plan);
    Repository::discover(dir).map_err(|e| {
        Error::new(
            Exit::Failed,
            format!(
                "{} is not inside a git repository: {}",
                dir.display(),
                e.message()
            ),
        )
        .with_hint("release notes are read from the git history around the plan")
        .into()
    })
}

/// What was live in `env` before `release`: the baseline it entered over when it has
/// entered `env`, otherwise what is live there now (or, if that is this release, what
/// was before it).
pub fn base_of(
    snapshot: &Snapshot,
    app: &str,
    file: Option<&ReleaseFile>,
    release: &str,
    env: &str,
) -> anyhow::Result<Option<Live>> {
    let entered = file.and_then(|f| {
        f.events.iter().rev().find_map(|e| match &e.kind {
            EventKind::Entered { baseline } if e.env.as_deref() == Some(env) => {
                Some(baseline.clone())
            }
            _ => None,
        })
    });
    if let Some(baseline) = entered {
        return Ok(baseline);
    }
    let state = format::read_env(snapshot, app, env)?;
    Ok(state
        .live
        .into_iter()
        .chain(state.previous)
        .find(|l| l.release != release))
}

/// The base with its source commit, read from its release file.
pub fn base_with_commit(
    snapshot: &Snapshot,
    app: &str,
    live: Option<Live>,
) -> anyhow::Result<Option<Base>> {
    let Some(live) = live else { return Ok(None) };
    let commit = format::read_release(snapshot, app, &live.release)?.and_then(|f| f.source_commit);
    Ok(Some(Base {
        release: live.release,
        version: live.version,
        commit,
    }))
}

fn find(repo: &Repository, sha: &str, whose: &str) -> anyhow::Result<Oid> {
    let missing = || {
        Error::new(
            Exit::Failed,
            format!(
                "the source commit {sha} of {whose} is not in the git repository at {}",
                repo.workdir().unwrap_or_else(|| repo.path()).display()
            ),
        )
        .with_hint(
            "fetch the history first (`git fetch`; `git fetch --unshallow` in a shallow CI clone)",
        )
    };
    let oid = Oid::from_str(sha).map_err(|_| missing())?;
    match repo.find_commit(oid) {
        Ok(_) => Ok(oid),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Err(missing().into()),
        Err(e) => Err(e).with_context(|| format!("reading commit {sha} of {whose}")),
    }
}

/// The commits reachable from `from` and not from `hide`, newest first, at most `CAP`
/// (and whether there were more).
fn walk(
    repo: &Repository,
    from: Oid,
    hide: Option<Oid>,
    link: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<(Vec<Commit>, bool)> {
    let mut walk = repo.revwalk().context("walking the git history")?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
        .context("walking the git history")?;
    walk.push(from).context("walking the git history")?;
    if let Some(hide) = hide {
        walk.hide(hide).context("walking the git history")?;
    }
    let mut commits = Vec::new();
    for oid in walk {
        let oid = oid.context("walking the git history")?;
        if commits.len() == CAP {
            return Ok((commits, true));
        }
        let commit = repo
            .find_commit(oid)
            .with_context(|| format!("reading commit {oid}"))?;
        let sha = oid.to_string();
        let author = commit.author();
        let time = DateTime::from_timestamp(commit.time().seconds(), 0).unwrap_or_default();
        commits.push(Commit {
            short: sha[..7].to_string(),
            subject: commit
                .summary()
                .ok()
                .flatten()
                .unwrap_or_default()
                .trim()
                .to_string(),
            author: author.name().unwrap_or_default().to_string(),
            email: author.email().unwrap_or_default().to_string(),
            time,
            link: link(&sha),
            sha,
        });
    }
    Ok((commits, false))
}

/// The notes of `subject` in `env`, compared with `base`. Its own source commit must be
/// recorded and, like the base's, present in `repo`.
pub fn compute(
    repo: &Repository,
    subject: &Subject,
    env: &str,
    base: Option<Base>,
) -> anyhow::Result<Notes> {
    let Some(sha) = subject.source_commit else {
        return Err(Error::new(
            Exit::Failed,
            format!("{} has no recorded source commit", subject.release),
        )
        .with_hint("it was promoted from outside a git repository; notes need the commit it was built from")
        .into());
    };
    let own = find(repo, sha, subject.release)?;
    let hide = match base
        .as_ref()
        .and_then(|b| b.commit.as_deref().map(|c| (b, c)))
    {
        Some((b, commit)) => Some(find(repo, commit, &b.release)?),
        None => None,
    };
    let origin = repo
        .find_remote("origin")
        .ok()
        .and_then(|r| r.url().ok().map(str::to_string));
    let link = |sha: &str| origin.as_deref().and_then(|url| commit_url(url, sha));
    let (commits, truncated) = walk(repo, own, hide, &link)?;
    let behind = match hide {
        Some(base) if commits.is_empty() && base != own => {
            walk(repo, base, Some(own), &|_| None)?.0.len()
        }
        _ => 0,
    };
    Ok(Notes {
        release: subject.release.to_string(),
        version: subject.version.to_string(),
        env: env.to_string(),
        commit: own.to_string(),
        base,
        commits,
        truncated,
        behind,
    })
}

/// The notes a release about to start keeps in its record: compared with what is live
/// in `env` now. `None` when they cannot be made (no repository, commits missing): a
/// release never waits on its notes.
pub fn at_start(plan: &Plan, snapshot: &Snapshot, subject: &Subject, env: &str) -> Option<String> {
    let made = (|| {
        let live = base_of(snapshot, &plan.app, None, subject.release, env)?;
        let base = base_with_commit(snapshot, &plan.app, live)?;
        let repo = source_repo(plan)?;
        compute(&repo, subject, env, base)
    })();
    match made {
        Ok(notes) => Some(notes.markdown()),
        Err(e) => {
            tracing::debug!("no release notes for {}: {e:#}", subject.release);
            None
        }
    }
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

impl Notes {
    pub fn markdown(&self) -> String {
        let short: String = self.commit.chars().take(7).collect();
        let mut out = format!("## {} ({})\n\n", self.release, self.version);
        let n = plural(self.commits.len(), "commit");
        let intro = match &self.base {
            None => format!(
                "Nothing was live in {} before it: {n} up to `{short}`.",
                self.env
            ),
            Some(Base {
                release,
                version,
                commit: None,
            }) => format!(
                "{release} ({version}) in {} has no recorded source commit: {n} up to `{short}`.",
                self.env
            ),
            Some(Base {
                release, version, ..
            }) if self.commits.is_empty() && self.behind > 0 => format!(
                "No new commits since {release} ({version}) in {}: this release is {} behind it, and promoting it takes them out.",
                self.env,
                plural(self.behind, "commit")
            ),
            Some(Base {
                release, version, ..
            }) if self.commits.is_empty() => format!(
                "No new commits since {release} ({version}) in {}: both were built from `{short}`.",
                self.env
            ),
            Some(Base {
                release, version, ..
            }) => format!("{n} since {release} ({version}) in {}:", self.env),
        };
        out.push_str(&intro);
        out.push('\n');
        if !self.commits.is_empty() {
            out.push('\n');
        }
        for c in &self.commits {
            let hash = match &c.link {
                Some(link) => format!("[`{}`]({link})", c.short),
                None => format!("`{}`", c.short),
            };
            out.push_str(&format!("- {} ({hash}) — {}\n", c.subject, c.author));
        }
        if self.truncated {
            out.push_str(&format!(
                "\nOnly the {CAP} most recent commits are listed.\n"
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notes(base: Option<Base>, commits: usize, behind: usize) -> Notes {
        Notes {
            release: "checkout-4f2a9c1be0d3".into(),
            version: "1.4.2".into(),
            env: "production".into(),
            commit: "a".repeat(40),
            base,
            commits: (0..commits)
                .map(|i| Commit {
                    sha: format!("{i:040}"),
                    short: format!("{i:07}"),
                    subject: format!("change {i}"),
                    author: "Alice".into(),
                    email: "alice@example.com".into(),
                    time: DateTime::default(),
                    link: (i == 0).then(|| "https://github.com/acme/checkout/commit/0".into()),
                })
                .collect(),
            truncated: false,
            behind,
        }
    }

    #[test]
    fn markdown_says_what_it_compares_with() {
        let base = Base {
            release: "checkout-0123456789ab".into(),
            version: "1.4.1".into(),
            commit: Some("b".repeat(40)),
        };
        assert_eq!(
            notes(Some(base.clone()), 2, 0).markdown(),
            "## checkout-4f2a9c1be0d3 (1.4.2)\n\n2 commits since checkout-0123456789ab (1.4.1) in production:\n\n\
             - change 0 ([`0000000`](https://github.com/acme/checkout/commit/0)) — Alice\n\
             - change 1 (`0000001`) — Alice\n"
        );
        assert!(
            notes(None, 1, 0)
                .markdown()
                .contains("Nothing was live in production before it: 1 commit up to `aaaaaaa`.")
        );
        assert!(
            notes(Some(base.clone()), 0, 3)
                .markdown()
                .contains("this release is 3 commits behind it")
        );
        assert!(
            notes(Some(base), 0, 0)
                .markdown()
                .contains("both were built from `aaaaaaa`")
        );
    }
}
