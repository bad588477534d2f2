//! Sharing the branch through a remote: fetch, replay of local commits onto the
//! remote tip, push, and authentication as git does it. A remote that cannot be
//! reached is reported, never fatal here: commits stay local until a later sync, and
//! the caller decides what an unreachable remote means for its command.

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, Utc};
use git2::{
    AutotagOption, Config, Cred, CredentialType, ErrorCode, FetchOptions, Oid, ProxyOptions,
    PushOptions, RemoteCallbacks, Repository, Sort,
};

use super::http_config::{HttpConfig, credential_secrets};
use super::store::{Backoff, MAX_ATTEMPTS, Refusals, Store, Sync};
use super::waiting::{self, ANSWER, WHOLE, Waited};
use crate::error::{Error, Exit};
use crate::providers::secrets::Secrets;

/// How long a fetch waits for a lock in this clone that another process holds (a
/// ref being updated by another relctl sharing the clone, as commands of several
/// repositories sharing one `record.url` do) before saying the clone is busy.
/// Shorter than a read's wait for the remote (src/cmd/mod.rs, `READ_FETCH_TIMEOUT`), so
/// that a read names the lock file rather than saying the remote did not answer.
pub(super) const CLONE_BUSY_PATIENCE: Duration = Duration::from_secs(3);

/// Whether `err` is a lock file of this repository held by another process. libgit2
/// says so with `Locked`, except when a fetch updates its refs, where only its message
/// does: "failed to lock file '…' for writing", or "failed to create locked file '…':
/// File exists" for a tracking ref another fetch is writing.
fn held_lock(err: &git2::Error) -> bool {
    let message = err.message();
    err.code() == ErrorCode::Locked
        || message.starts_with("failed to lock file ")
        || (message.starts_with("failed to create locked file ") && message.contains("exists"))
}

/// What a fetch saw of the remote branch.
pub(super) enum Fetched {
    /// Its tip, `None` when the remote has no such branch yet.
    Tip(Option<Oid>),
    /// Why the remote could not be reached.
    Unreachable(String),
    /// Why this clone could not take the fetch in: a lock of it stayed held by another
    /// process (`busy`). The command goes on as with an unreachable remote.
    Busy(String),
}

/// How current a reader's view of the branch is, after `refresh`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freshness {
    /// There is no remote: the local branch is the record.
    Local,
    /// Fetched just now: the local branch has everything the remote has.
    Fetched,
    /// Not fetched (`--offline`).
    Offline {
        as_of: Option<DateTime<Utc>>,
        unpushed: usize,
    },
    /// The remote could not be read (or not in time): the local branch as of the
    /// last successful fetch (`None`: never).
    Stale {
        why: String,
        as_of: Option<DateTime<Utc>>,
        unpushed: usize,
    },
    /// Fetched, but the branch is checked out here, so it was left where it is,
    /// `behind` commits short of the remote.
    CheckedOut { behind: usize },
    /// Fetched, but the `unpushed` commits made here conflict with the remote's (`why`):
    /// the local branch as it is, without the remote's newer commits. Every command that
    /// records stops on the same conflict until it is settled.
    Conflict { why: String, unpushed: usize },
    /// Fetched, but the branch could not be moved to take the remote's newer commits
    /// in (`why`: its lock file stayed): the local branch as it is.
    Locked { why: String, unpushed: usize },
}

/// One commit replayed (`Store::replay_one`).
enum Replayed<'r> {
    Onto(git2::Commit<'r>),
    Dropped,
    Conflict(git2::Index),
}

/// What a replay does with a commit that conflicts with the tip it is replayed onto.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Replay {
    /// Stops: nothing is moved.
    Stop,
    /// Holds apart that commit's key and goes on with the others (src/record/held.rs);
    /// a commit without a key still stops it.
    HoldApart,
}

pub(super) enum Pushed {
    Done(Oid),
    /// The remote did not take it, most likely because it moved.
    Rejected(String),
    /// The remote could not be reached or written.
    Failed(String),
}

impl Store {
    /// `refs/remotes/<remote>/<branch>`: the last tip seen on the remote.
    fn tracking(&self, remote: &str) -> String {
        format!("refs/remotes/{remote}/{}", self.branch)
    }

    /// Local commits not yet on the remote, as of the last fetch or push.
    pub fn unpushed(&self) -> Result<usize> {
        let Some(remote) = self.remote.as_deref() else {
            return Ok(0);
        };
        let remote_tip = self.read_ref(&self.tracking(remote))?;
        self.ahead(self.tip()?, remote_tip)
    }

    /// Whether `commit` is on the remote as of the last fetch or push (with no remote,
    /// the local branch is the record and it is).
    pub fn on_remote(&self, commit: Oid) -> Result<bool> {
        let Some(remote) = self.remote.as_deref() else {
            return Ok(true);
        };
        let remote_tip = self.read_ref(&self.tracking(remote))?;
        Ok(self.ahead(Some(commit), remote_tip)? == 0)
    }

    /// Brings the local branch up to what the last fetch saw of the remote (a `git
    /// clone` fetches the records branch into its tracking ref and makes no local
    /// branch): deciding without the remote means deciding from the record as of then,
    /// never from an empty one that would start a second history.
    fn catch_up_with_last_fetch(&self, remote: &str) -> Result<()> {
        if self.checked_out {
            return Ok(());
        }
        match self.read_ref(&self.tracking(remote))? {
            Some(tip) => self.integrate(Some(tip)),
            None => Ok(()),
        }
    }

    /// Whether this clone has ever talked to the remote: it has fetched from it, or
    /// has a remote-tracking ref for the branch (from a push, or from `git clone`).
    pub fn reached(&self) -> Result<bool> {
        let Some(remote) = self.remote.as_deref() else {
            return Ok(true);
        };
        Ok(self.fetch_stamp(remote).is_file() || self.read_ref(&self.tracking(remote))?.is_some())
    }

    /// When the branch was last fetched from the remote, as far as this clone knows.
    pub fn last_fetch(&self) -> Option<DateTime<Utc>> {
        let remote = self.remote.as_deref()?;
        let stamped = std::fs::read_to_string(self.fetch_stamp(remote))
            .ok()
            .and_then(|text| DateTime::parse_from_rfc3339(text.trim()).ok())
            .map(|time| time.with_timezone(&Utc));
        stamped.or_else(|| {
            // Fetched by git itself (a clone): the tracking ref's last move.
            let reflog = self.repo.reflog(&self.tracking(remote)).ok()?;
            let when = reflog.get(0)?.committer().when();
            DateTime::from_timestamp(when.seconds(), 0)
        })
    }

    /// `<git dir>/relctl/fetched/<remote>/<branch>`: the time of the last successful
    /// fetch, which a tracking ref cannot tell when the remote had not moved.
    fn fetch_stamp(&self, remote: &str) -> PathBuf {
        self.repo
            .commondir()
            .join("relctl")
            .join("fetched")
            .join(remote)
            .join(&self.branch)
    }

    fn stamp_fetch(&self, remote: &str) {
        let path = self.fetch_stamp(remote);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, format!("{}\n", Utc::now().to_rfc3339())));
        if let Err(err) = written {
            tracing::debug!(path = %path.display(), %err, "cannot note the time of the fetch");
        }
    }

    /// Bring the local branch up to what the remote has, for a command that only
    /// reads: the fetch gets `timeout`, after which the command goes on without it (a
    /// remote that hangs must not hang `status` in an incident). Nothing is pushed.
    pub fn refresh(&self, timeout: Duration) -> Result<Freshness> {
        let Some(remote) = self.remote.clone() else {
            return Ok(Freshness::Local);
        };
        if self.offline {
            if let Err(err) = self.catch_up_with_last_fetch(&remote) {
                tracing::debug!("{err:#}");
            }
            return Ok(Freshness::Offline {
                as_of: self.last_fetch(),
                unpushed: self.unpushed()?,
            });
        }
        let stale = |why: String| -> Result<Freshness> {
            // A reader shows what the last fetch saw; a conflict is a writer's to report.
            if let Err(err) = self.catch_up_with_last_fetch(&remote) {
                tracing::debug!("{err:#}");
            }
            Ok(Freshness::Stale {
                why,
                as_of: self.last_fetch(),
                unpushed: self.unpushed()?,
            })
        };
        // On a thread of its own with its own handle on the repository, so that a
        // fetch still waiting when the time is up is simply left behind.
        let fetched = self.away(&remote, timeout, "fetching from", Store::fetch_here)?;
        let tip = match fetched {
            Some(Fetched::Tip(tip)) => tip,
            Some(Fetched::Unreachable(why) | Fetched::Busy(why)) => return stale(why),
            None => {
                return stale(format!(
                    "no answer from {} within {} s",
                    self.remote_named(&remote),
                    timeout.as_secs()
                ));
            }
        };
        if self.checked_out {
            let local = self.tip()?;
            let behind = match tip {
                Some(tip) if Some(tip) != local => self.ahead(Some(tip), local)?,
                _ => 0,
            };
            return Ok(Freshness::CheckedOut { behind });
        }
        match self.integrate(tip) {
            Ok(()) => Ok(Freshness::Fetched),
            // The branch's lock stayed taken: the view is the clone's, and why is said.
            Err(err) if crate::error::exit_of(&err) == Exit::Busy => Ok(Freshness::Locked {
                why: format!("{err:#}"),
                unpushed: self.unpushed()?,
            }),
            // A reader shows what is here, and says why it is not the remote's.
            Err(err) => Ok(Freshness::Conflict {
                why: format!("{err:#}"),
                unpushed: self.unpushed()?,
            }),
        }
    }

    /// A second handle on the branch, for a thread of its own.
    fn handle(
        repo: Repository,
        branch: &str,
        remote: &str,
        url: Option<String>,
        layout: Option<&'static [&'static str]>,
    ) -> Result<Store> {
        let pending = super::packs::Pending::attach(&repo, &repo.commondir().join("objects"))?;
        Ok(Store {
            repo,
            branch: branch.to_string(),
            refname: format!("refs/heads/{branch}"),
            remote: Some(remote.to_string()),
            url,
            direct_local_push: true,
            take_turns: true,
            checked_out: false,
            offline: false,
            layout,
            given_up: RefCell::new(None),
            signer: None,
            resolver: None,
            relocator: None,
            key_trailer: None,
            writes_for: None,
            pending,
            #[cfg(test)]
            before_push: RefCell::new(None),
        })
    }

    /// Runs `work` for remote `name` on a thread of its own with a second handle on
    /// the repository, waiting up to `limit` (`None`: not done by then) and listening
    /// for Ctrl-C meanwhile (see `waiting`).
    fn away<T: Send + 'static>(
        &self,
        name: &str,
        limit: Duration,
        doing: &str,
        work: fn(&Store, &str) -> Result<T>,
    ) -> Result<Option<T>> {
        let git_dir = self.repo.path().to_path_buf();
        let (branch, layout, remote) = (self.branch.clone(), self.layout, name.to_string());
        let url = self.url.clone();
        let waited = waiting::wait_for(
            &format!("{doing} {}", self.remote_named(name)),
            limit,
            move || {
                let repo = Repository::open(&git_dir).with_context(|| {
                    format!("opening the git repository at {}", git_dir.display())
                })?;
                work(
                    &Store::handle(repo, &branch, &remote, url, layout)?,
                    &remote,
                )
            },
        )?;
        match waited {
            Waited::Done(result) => result.map(Some),
            Waited::TimedOut => Ok(None),
        }
    }

    /// Whether remote `name` (its push URL with `push`) is a path on this machine,
    /// which is read and written directly rather than waited for. A push to one that
    /// runs hooks on receiving is waited for, as across the network: a hook may hang.
    fn on_this_machine(&self, name: &str, push: bool) -> Result<bool> {
        let (_, url) = self.reach(name, push)?;
        Ok(match self.local_target(&url) {
            Some(path) if push => !Repository::open(&path)
                .is_ok_and(|target| super::hooked::receives_with_hooks(&target)),
            Some(_) => true,
            None => false,
        })
    }

    /// Remote `name` and the URL it is reached by (its push URL with `push`): the
    /// plan's URL of a shared records repository, else the one git's configuration
    /// gives.
    fn reach(&self, name: &str, push: bool) -> Result<(git2::Remote<'_>, String)> {
        if let Some(url) = &self.url {
            let remote = self.repo.remote_anonymous(url).with_context(|| {
                format!("reading the records repository URL {}", shown_url(url))
            })?;
            return Ok((remote, url.clone()));
        }
        let remote = self
            .repo
            .find_remote(name)
            .with_context(|| format!("reading git remote `{name}` in {}", self.path().display()))?;
        let url = match remote.pushurl_bytes().filter(|_| push) {
            Some(url) => url,
            None => remote.url_bytes(),
        };
        let url = String::from_utf8_lossy(url).into_owned();
        Ok((remote, url))
    }

    /// From now on, until the next `sync`, commits stay in this clone without remote
    /// `name` being asked again: it has just failed this command (`why`), and every
    /// record made while it keeps failing would wait for it again. A remote on this
    /// machine answers at once, so it is simply asked again.
    pub(super) fn give_up(&self, name: &str, why: &str) {
        if !self.on_this_machine(name, true).unwrap_or(false) {
            *self.given_up.borrow_mut() = Some(why.to_string());
        }
    }

    /// For a command that is ending (interrupted): nothing more is fetched or pushed,
    /// what it still records stays in this clone for the next command to push.
    pub fn keep_local(&self, why: &str) {
        *self.given_up.borrow_mut() = Some(why.to_string());
    }

    /// Bring the local branch up to date with the remote and push what is waiting.
    pub fn sync(&self) -> Result<Sync> {
        self.refuse_held()?;
        let Some(remote) = self.remote.as_deref() else {
            return Ok(Sync {
                pushed: 0,
                pending: 0,
                error: None,
            });
        };
        if self.offline {
            self.catch_up_with_last_fetch(remote)?;
            return Ok(Sync {
                pushed: 0,
                pending: self.unpushed()?,
                error: None,
            });
        }
        // A sync asks the remote again, whatever failed before.
        self.given_up.take();
        let mut backoff = Backoff::default();
        let mut refusals = Refusals::default();
        // Rounds lost to a remote that moved; rejections with it unchanged are
        // bounded by `Refusals` instead.
        let mut moved = 0;
        let mut last_tip = None;
        while moved < MAX_ATTEMPTS {
            let remote_tip = match self.fetch(remote)? {
                Fetched::Tip(tip) => tip,
                Fetched::Unreachable(why) | Fetched::Busy(why) => {
                    self.catch_up_with_last_fetch(remote)?;
                    return Ok(Sync {
                        pushed: 0,
                        pending: self.unpushed()?,
                        error: Some(why),
                    });
                }
            };
            if last_tip
                .replace(remote_tip)
                .is_some_and(|last| last != remote_tip)
            {
                moved += 1;
            }
            self.integrate(remote_tip)?;
            let ahead = self.ahead(self.tip()?, remote_tip)?;
            if ahead == 0 {
                return Ok(Sync {
                    pushed: 0,
                    pending: 0,
                    error: None,
                });
            }
            match self.push(remote)? {
                Pushed::Done(oid) => {
                    return Ok(Sync {
                        pushed: self.ahead(Some(oid), remote_tip)?,
                        pending: self.unpushed()?,
                        error: None,
                    });
                }
                Pushed::Failed(why) => {
                    return Ok(Sync {
                        pushed: 0,
                        pending: ahead,
                        error: Some(why),
                    });
                }
                Pushed::Rejected(why) => {
                    if refusals.exhausted(remote_tip) {
                        let why = format!("{} refused the push: {why}", self.remote_named(remote));
                        self.give_up(remote, &why);
                        return Ok(Sync {
                            pushed: 0,
                            pending: ahead,
                            error: Some(why),
                        });
                    }
                    backoff.wait();
                }
            }
        }
        Err(self.kept_moving())
    }

    /// Commits on `local` that `remote` lacks.
    pub(super) fn ahead(&self, local: Option<Oid>, remote: Option<Oid>) -> Result<usize> {
        let Some(local) = local else {
            return Ok(0);
        };
        let counted = match remote {
            Some(remote) => self
                .repo
                .graph_ahead_behind(local, remote)
                .map(|(ahead, _)| ahead),
            // Never pushed: the whole branch is waiting, and it is short.
            None => self.repo.revwalk().and_then(|mut walk| {
                walk.push(local)?;
                Ok(walk.count())
            }),
        };
        counted.with_context(|| {
            format!(
                "counting unpushed commits of {} in {}",
                self.branch,
                self.path().display()
            )
        })
    }

    /// Fetch the branch into its tracking ref and say where the remote's tip is. A
    /// remote across the network is waited for up to `WHOLE`; one that cannot be
    /// fetched from is given up on until the next `sync`.
    pub(super) fn fetch(&self, name: &str) -> Result<Fetched> {
        let fetched = if self.on_this_machine(name, false)? {
            self.fetch_here(name)?
        } else {
            self.away(name, WHOLE, "fetching from", Store::fetch_here)?
                .unwrap_or_else(|| {
                    Fetched::Unreachable(format!(
                        "{} did not finish a fetch within {} s",
                        self.remote_named(name),
                        WHOLE.as_secs()
                    ))
                })
        };
        match &fetched {
            Fetched::Unreachable(why) => self.give_up(name, why),
            // Each later fetch would wait as long again: the command's commits stay
            // here, and the next command pushes them.
            Fetched::Busy(why) => self.keep_local(why),
            Fetched::Tip(_) => {}
        }
        Ok(fetched)
    }

    /// `fetch`, on this thread, however long it takes.
    fn fetch_here(&self, name: &str) -> Result<Fetched> {
        let (named, url) = self.reach(name, false)?;
        if let Some(why) = self.missing_local(name, &url) {
            return Ok(Fetched::Unreachable(why));
        }
        let mut remote = match self.local_target(&url) {
            Some(path) if local_path(&url).is_some_and(|given| given.is_relative()) => {
                let path = path.to_string_lossy();
                self.repo.remote_anonymous(&path).with_context(|| {
                    format!(
                        "reading git remote `{name}` ({path}) in {}",
                        self.path().display()
                    )
                })?
            }
            _ => named,
        };
        let access = Access::new(&self.repo, &url);
        let tracking = self.tracking(name);
        // What the last fetch saw, before this fetch moves the tracking ref.
        let known = self.read_ref(&tracking)?;
        let refspec = format!("+{}:{tracking}", self.refname);
        let headers = access.headers();
        let mut options = FetchOptions::new();
        options
            .remote_callbacks(access.callbacks(&self.repo))
            .proxy_options(proxy())
            .custom_headers(&headers)
            .update_fetchhead(false)
            .download_tags(AutotagOption::None);
        // Another relctl (or git) on this machine updating a ref of this clone holds
        // its lock for a moment: wait for it rather than call the remote unreachable.
        let began = Instant::now();
        let mut backoff = Backoff::default();
        let fetched = loop {
            match remote.fetch(&[&refspec], Some(&mut options), Some("relctl: fetch")) {
                Err(err) if held_lock(&err) && began.elapsed() < CLONE_BUSY_PATIENCE => {
                    backoff.wait();
                }
                done => break done,
            }
        };
        if let Err(err) = fetched {
            if held_lock(&err) {
                let why = self.busy(&access.mask(err.message()));
                tracing::debug!(remote = name, error = why, "clone busy");
                return Ok(Fetched::Busy(why));
            }
            let why = access.explain(&err);
            tracing::debug!(remote = name, url = access.url, error = why, "fetch failed");
            return Ok(Fetched::Unreachable(format!(
                "cannot fetch {} from {} ({}): {why}",
                self.branch,
                self.remote_named(name),
                access.url
            )));
        }
        // The advertisement, not the tracking ref, says whether the branch exists
        // there: a fetch of a missing branch leaves a stale tracking ref alone.
        let tip = remote
            .list()
            .map_err(|err| anyhow::anyhow!(access.mask(err.message())))
            .with_context(|| format!("listing the branches of remote `{name}` ({})", access.url))?
            .iter()
            .find(|head| head.name() == self.refname)
            .map(|head| head.oid());
        if let Some(tip) = tip {
            self.check_is_record(tip, Some(name))?;
        }
        // The tracking ref is put back where it was, so that every command says so
        // until the clone is set right.
        if let (Some(known), Some(tip)) = (known, tip)
            && known != tip
            && !self.descends(tip, known)?
        {
            self.set_tracking(&tracking, Some(known))?;
            return Err(self.rewritten(name, known, tip));
        }
        self.set_tracking(&tracking, tip)?;
        self.stamp_fetch(name);
        tracing::debug!(remote = name, ?tip, "fetched");
        Ok(Fetched::Tip(tip))
    }

    /// Why a fetch did not land when a lock in this clone stayed held for
    /// `CLONE_BUSY_PATIENCE`; `held` is libgit2's message, which names the lock file.
    fn busy(&self, held: &str) -> String {
        format!(
            "{} was busy for {} s ({}): another relctl or git on this machine is using it; \
             if none is running, one that was killed left the lock file behind, and \
             removing it lets relctl fetch again",
            self.path().display(),
            CLONE_BUSY_PATIENCE.as_secs(),
            held.trim_end_matches([' ', ':']),
        )
    }

    /// The remote's branch no longer contains what this clone last saw there
    /// (`known`): it was force-pushed or deleted and made again. Nothing is replayed
    /// onto it, since the commits it dropped may be ones this clone did not write.
    fn rewritten(&self, name: &str, known: Oid, tip: Oid) -> anyhow::Error {
        let local = self.tip().ok().flatten().unwrap_or(known);
        let gone = self.ahead(Some(local), Some(tip)).unwrap_or(0);
        let short = |oid: Oid| oid.to_string()[..10].to_string();
        Error::new(
            Exit::Failed,
            format!(
                "{branch} on {name} was rewritten (not a fast-forward): your clone has {gone} commit(s) \
                 the remote no longer has (it had {known}, it now has {tip})",
                branch = self.branch,
                known = short(known),
                tip = short(tip),
            ),
        )
        .with_hint(format!(
            "nothing was changed here. relctl only ever adds commits to {branch}, so someone \
             force-pushed it: find out who and why first (docs/trust.md). To put the record back, \
             first find the clone furthest ahead (every clone that ran relctl since the rewrite \
             may hold commits the others lack: compare `git log {branch}` in each), and push \
             from that one only: `git -C {path} push --force {name} {branch}` (a force-push from \
             a clone that is behind drops the others' commits); to accept the remote's \
             (dropping this clone's): `git -C {path} fetch {name} \
             +refs/heads/{branch}:refs/remotes/{name}/{branch} && git -C {path} branch -f {branch} \
             {name}/{branch}`",
            branch = self.branch,
            path = crate::text::visible(self.path().display().to_string().trim_end_matches('/')),
        ))
        .into()
    }

    fn set_tracking(&self, tracking: &str, tip: Option<Oid>) -> Result<()> {
        let current = self.read_ref(tracking)?;
        if current == tip {
            return Ok(());
        }
        let done = match tip {
            Some(tip) => self
                .repo
                .reference(tracking, tip, true, "relctl: fetch")
                .map(drop),
            None => self
                .repo
                .find_reference(tracking)
                .and_then(|mut reference| reference.delete()),
        };
        match done {
            Ok(()) => Ok(()),
            // Another relctl is updating it to what it saw; either view is fine.
            Err(err) if matches!(err.code(), ErrorCode::Locked | ErrorCode::NotFound) => Ok(()),
            Err(err) => Err(err)
                .with_context(|| format!("updating {tracking} in {}", self.path().display())),
        }
    }

    /// Put the local branch on top of the remote tip: fast-forward it, or replay the
    /// local commits on it. On a conflict the local branch is left as it was.
    pub(super) fn integrate(&self, remote_tip: Option<Oid>) -> Result<()> {
        let _turn = self.take_turn();
        for _ in 0..MAX_ATTEMPTS {
            let local = self.tip()?;
            let Some(target) = self.rebased(local, remote_tip, Replay::HoldApart)? else {
                return Ok(());
            };
            if Some(target) == local || self.move_ref(local, target, "catch up with the remote")? {
                // The replay may have held apart the commits of the key this store
                // writes for (src/record/held.rs).
                return self.refuse_held();
            }
        }
        Err(self.kept_moving())
    }

    /// The commits of `tip` that `onto` lacks, replayed on `onto`; the new tip.
    pub(super) fn rebased(
        &self,
        tip: Option<Oid>,
        onto: Option<Oid>,
        replay: Replay,
    ) -> Result<Option<Oid>> {
        let (tip, onto) = match (tip, onto) {
            (None, onto) => return Ok(onto),
            (tip, None) => return Ok(tip),
            (Some(tip), Some(onto)) => (tip, onto),
        };
        let context = || {
            format!(
                "replaying local commits of {} onto the remote's in {}",
                self.branch,
                self.path().display()
            )
        };
        let base = match self.repo.merge_base(tip, onto) {
            Ok(base) => Some(base),
            // Two clones that each started the branch on their own.
            Err(err) if err.code() == ErrorCode::NotFound => None,
            Err(err) => return Err(err).with_context(context),
        };
        if base == Some(tip) {
            return Ok(Some(onto));
        }
        if base == Some(onto) {
            return Ok(Some(tip));
        }
        let mut walk = self.repo.revwalk().with_context(context)?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
            .and_then(|()| walk.push(tip))
            .and_then(|()| walk.hide(onto))
            .with_context(context)?;
        let commits = walk.collect::<Result<Vec<_>, _>>().with_context(context)?;
        let empty = self.empty_tree()?;
        let keys: Vec<Option<String>> = (commits.iter())
            .map(|&oid| Ok(self.key_of(&self.repo.find_commit(oid).with_context(context)?)))
            .collect::<Result<_>>()?;
        // Keys whose commits conflict: every commit of each is left out, the ones
        // before the conflict too (a release entered but never said live would be a
        // half-told story), so the replay starts again each time one is found.
        let mut held: Vec<&str> = Vec::new();
        'replay: loop {
            let mut head = self.repo.find_commit(onto).with_context(context)?;
            for (i, &oid) in commits.iter().enumerate() {
                let key = keys[i].as_deref();
                if key.is_some_and(|key| held.contains(&key)) {
                    continue;
                }
                let commit = self.repo.find_commit(oid).with_context(context)?;
                match self.replay_one(&commit, &head, &empty)? {
                    Replayed::Onto(next) => head = next,
                    Replayed::Dropped => {}
                    Replayed::Conflict(index) => {
                        match key.filter(|_| replay == Replay::HoldApart) {
                            Some(key) => {
                                tracing::debug!(%oid, key, "conflicts with the remote: held apart");
                                held.push(key);
                                continue 'replay;
                            }
                            None => return Err(self.conflict(&commits, i, &index)),
                        }
                    }
                }
            }
            for key in held {
                let last = (commits.iter().zip(&keys).rev())
                    .find(|(_, k)| k.as_deref() == Some(key))
                    .map(|(&oid, _)| oid);
                if let Some(last) = last {
                    self.hold(key, last)?;
                }
            }
            return Ok(Some(head.id()));
        }
    }

    /// `commit` replayed onto `head`: the new commit, none when its change is there
    /// already, or the conflict the store's resolver could not settle.
    fn replay_one<'r>(
        &'r self,
        commit: &git2::Commit<'r>,
        head: &git2::Commit<'r>,
        empty: &git2::Tree<'r>,
    ) -> Result<Replayed<'r>> {
        let oid = commit.id();
        let context = || format!("replaying commit {oid} onto {}", head.id());
        let before = match commit.parent_count() {
            0 => empty.clone(),
            _ => commit
                .parent(0)
                .and_then(|parent| parent.tree())
                .with_context(context)?,
        };
        let ours = head.tree().with_context(context)?;
        let theirs = commit.tree().with_context(context)?;
        let (before, theirs) = match self.moved_on_tip(commit, head)? {
            moved if moved.is_empty() => (before, theirs),
            moved => (
                self.relocated(&before, &moved)?,
                self.relocated(&theirs, &moved)?,
            ),
        };
        let mut index = self
            .repo
            .merge_trees(&before, &ours, &theirs, None)
            .with_context(context)?;
        if index.has_conflicts() && !self.resolve(commit, head, &mut index)? {
            return Ok(Replayed::Conflict(index));
        }
        let tree = index
            .write_tree_to(&self.repo)
            .and_then(|tree| self.repo.find_tree(tree))
            .with_context(context)?;
        // A commit whose change the resolver dropped (a decision on a visit that is
        // over) would be an empty commit saying it recorded something: it goes.
        if tree.id() == head.tree_id() {
            return Ok(Replayed::Dropped);
        }
        let message = String::from_utf8_lossy(commit.message_raw_bytes());
        // A new parent breaks the old signature: a signed commit is signed again
        // when it is this store's signer's own; anyone else's goes on unsigned, and
        // a signed gate then does not count it.
        let signed =
            self.signature_of(oid)?.is_some() && self.signs_for(commit.author().name_bytes());
        let replayed = self.write_commit_object(
            &commit.author(),
            &commit.committer(),
            &message,
            &tree,
            &[head],
            signed,
        )?;
        Ok(Replayed::Onto(
            self.repo.find_commit(replayed).with_context(context)?,
        ))
    }

    /// The directories `head` moved since `commit`'s parent, by the store's relocator.
    fn moved_on_tip(
        &self,
        commit: &git2::Commit<'_>,
        head: &git2::Commit<'_>,
    ) -> Result<Vec<(String, String)>> {
        let (Some(relocator), Some(parent)) = (&self.relocator, commit.parent_ids().next()) else {
            return Ok(Vec::new());
        };
        let before = self.snapshot_at(parent)?.0;
        let theirs = self.snapshot_at(commit.id())?.0;
        let ours = self.snapshot_at(head.id())?.0;
        relocator(&before, &theirs, &ours)
    }

    /// `tree` with every entry under each `from` of `moved` put under its `to`.
    fn relocated<'t>(
        &'t self,
        tree: &git2::Tree<'t>,
        moved: &[(String, String)],
    ) -> Result<git2::Tree<'t>> {
        let context = || format!("moving directories of tree {}", tree.id());
        let mut index = git2::Index::new().with_context(context)?;
        index.read_tree(tree).with_context(context)?;
        let entries: Vec<git2::IndexEntry> = index.iter().collect();
        for entry in entries {
            let path = String::from_utf8_lossy(&entry.path).into_owned();
            let Some(to) = moved.iter().find_map(|(from, to)| {
                path.strip_prefix(from.as_str())
                    .and_then(|rest| rest.strip_prefix('/'))
                    .map(|rest| format!("{to}/{rest}"))
            }) else {
                continue;
            };
            index.remove_path(Path::new(&path)).with_context(context)?;
            let flags = u16::try_from(to.len()).map_or(0xfff, |len| len.min(0xfff));
            index
                .add(&git2::IndexEntry {
                    flags,
                    path: to.into_bytes(),
                    ..entry
                })
                .with_context(context)?;
        }
        let id = index.write_tree_to(&self.repo).with_context(context)?;
        self.repo.find_tree(id).with_context(context)
    }

    /// Settles the conflicts of `index` (replaying `commit` onto `head`) with the
    /// store's resolver; whether it could.
    fn resolve(
        &self,
        commit: &git2::Commit<'_>,
        head: &git2::Commit<'_>,
        index: &mut git2::Index,
    ) -> Result<bool> {
        let (Some(resolver), Some(parent)) = (&self.resolver, commit.parent_ids().next()) else {
            return Ok(false);
        };
        let context = || format!("replaying commit {} onto {}", commit.id(), head.id());
        let paths: Vec<String> = index
            .conflicts()
            .with_context(context)?
            .filter_map(|c| c.ok())
            .filter_map(|c| c.our.or(c.their).or(c.ancestor))
            .map(|entry| String::from_utf8_lossy(&entry.path).into_owned())
            .collect();
        let before = self.snapshot_at(parent)?.0;
        let ours = self.snapshot_at(head.id())?.0;
        let theirs = self.snapshot_at(commit.id())?.0;
        let Some(changes) = resolver(&before, &ours, &theirs, &paths)? else {
            return Ok(false);
        };
        for change in changes {
            let path = Path::new(&change.path);
            let blob = self.repo.blob(&change.content).with_context(context)?;
            index.conflict_remove(path).ok();
            let entry = git2::IndexEntry {
                ctime: git2::IndexTime::new(0, 0),
                mtime: git2::IndexTime::new(0, 0),
                dev: 0,
                ino: 0,
                mode: u32::from(git2::FileMode::Blob),
                uid: 0,
                gid: 0,
                file_size: u32::try_from(change.content.len()).unwrap_or(u32::MAX),
                id: blob,
                flags: u16::try_from(change.path.len()).map_or(0xfff, |len| len.min(0xfff)),
                flags_extended: 0,
                path: change.path.into_bytes(),
            };
            index.add(&entry).with_context(context)?;
        }
        Ok(!index.has_conflicts())
    }

    fn conflict(&self, commits: &[Oid], at: usize, index: &git2::Index) -> anyhow::Error {
        let describe = |oid: Oid| {
            let summary = self
                .repo
                .find_commit(oid)
                .ok()
                .and_then(|commit| {
                    commit
                        .summary_bytes()
                        .map(|s| String::from_utf8_lossy(s).into_owned())
                })
                .unwrap_or_default();
            let short = oid.to_string();
            format!("{} {summary}", &short[..short.len().min(10)])
        };
        let paths: Vec<String> = index
            .conflicts()
            .map(|conflicts| {
                conflicts
                    .flatten()
                    .filter_map(|c| c.our.or(c.their).or(c.ancestor))
                    .map(|entry| String::from_utf8_lossy(&entry.path).into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let remote = self.remote.as_deref().unwrap_or("the remote");
        let waiting: Vec<String> = commits.iter().map(|&oid| describe(oid)).collect();
        Error::new(
            Exit::Failed,
            format!(
                "local commit {} on {} conflicts with what {remote} has (in {})",
                describe(commits[at]),
                self.branch,
                paths.join(", "),
            ),
        )
        .with_hint(format!(
            "nothing was changed; the local commits not yet pushed are: {}. \
             Compare with `git -C {dir} log {remote}/{branch}...{branch}`; to settle it, \
             see docs/record.md, \"Commits that conflict with the remote's\"",
            waiting.join("; "),
            branch = self.branch,
            dir = self.path().display(),
        ))
        .into()
    }

    /// Push the branch without force, then note what the remote now has. A remote
    /// across the network is waited for up to `WHOLE`; one that cannot be pushed to
    /// is given up on until the next `sync`.
    pub(super) fn push(&self, name: &str) -> Result<Pushed> {
        let pushed = if self.on_this_machine(name, true)? {
            self.push_here(name)?
        } else {
            self.away(name, WHOLE, "pushing to", Store::push_here)?
                .unwrap_or_else(|| {
                    Pushed::Failed(format!(
                        "{} did not finish taking a push within {} s",
                        self.remote_named(name),
                        WHOLE.as_secs()
                    ))
                })
        };
        if let Pushed::Failed(why) = &pushed {
            self.give_up(name, why);
        }
        Ok(pushed)
    }

    /// `push`, on this thread, however long it takes.
    fn push_here(&self, name: &str) -> Result<Pushed> {
        let (remote, url) = self.reach(name, true)?;
        if let Some(why) = self.missing_local(name, &url) {
            return Ok(Pushed::Failed(format!(
                "cannot push {}: {why}",
                self.branch
            )));
        }
        let pushed = match self.local_target(&url) {
            Some(path) if self.direct_local_push => self.push_direct(name, &path)?,
            _ => self.push_transport(remote, name, &url)?,
        };
        match &pushed {
            Pushed::Done(oid) => self.note_pushed(&self.tracking(name), *oid)?,
            Pushed::Rejected(why) | Pushed::Failed(why) => {
                tracing::debug!(
                    remote = name,
                    url = shown_url(&url),
                    why,
                    "push did not land"
                );
            }
        }
        Ok(pushed)
    }

    /// Why a remote on this machine cannot be reached when its path does not exist
    /// (libgit2 would call it an unsupported URL protocol).
    /// How messages name the remote: the records repository of `record.url` is known
    /// to its users by that URL, never by the name of the remote in relctl's own clone.
    pub(super) fn remote_named(&self, name: &str) -> String {
        match self.url {
            Some(_) => "the records repository".to_string(),
            None => format!("remote `{name}`"),
        }
    }

    fn missing_local(&self, name: &str, url: &str) -> Option<String> {
        let path = self.local_target(url)?;
        (!path.exists()).then(|| {
            format!(
                "{} is the path {}, which does not exist",
                self.remote_named(name),
                path.display()
            )
        })
    }

    /// A remote on this machine. A relative path is taken from the top of the
    /// working tree, as git takes it, not from wherever relctl was started.
    fn local_target(&self, url: &str) -> Option<PathBuf> {
        let path = local_path(url)?;
        Some(if path.is_relative() {
            self.path().join(path)
        } else {
            path
        })
    }

    /// Only forward: a slower writer must not make pushed commits look unpushed.
    fn note_pushed(&self, tracking: &str, oid: Oid) -> Result<()> {
        match self.read_ref(tracking)? {
            Some(current) if current == oid || self.descends(current, oid)? => Ok(()),
            _ => self.set_tracking(tracking, Some(oid)),
        }
    }

    fn push_transport(
        &self,
        mut remote: git2::Remote<'_>,
        name: &str,
        url: &str,
    ) -> Result<Pushed> {
        let Some(local) = self.tip()? else {
            bail!(
                "internal error: pushing {} before its first commit",
                self.branch
            );
        };
        let access = Access::new(&self.repo, url);
        let headers = access.headers();
        let refspec = format!("{0}:{0}", self.refname);
        let refused = RefCell::new(None);
        let sent = Cell::new(None);
        // What the server printed (`remote: …`): a hook that declines says why there.
        let said = RefCell::new(Vec::<u8>::new());
        let result = {
            let mut callbacks = access.callbacks(&self.repo);
            callbacks.sideband_progress(|data| {
                said.borrow_mut().extend_from_slice(data);
                true
            });
            callbacks.push_update_reference(|refname, status| {
                if let Some(status) = status {
                    *refused.borrow_mut() = Some(format!("{refname}: {status}"));
                }
                Ok(())
            });
            callbacks.push_negotiation(|updates| {
                for update in updates {
                    if update.dst_refname() == Ok(self.refname.as_str()) {
                        sent.set(Some(update.dst()));
                    }
                }
                Ok(())
            });
            let mut options = PushOptions::new();
            options
                .remote_callbacks(callbacks)
                .proxy_options(proxy())
                .custom_headers(&headers);
            remote.push(&[&refspec], Some(&mut options))
        };
        match result {
            Ok(()) => {}
            Err(err) if err.code() == ErrorCode::NotFastForward => {
                return Ok(Pushed::Rejected(access.mask(err.message())));
            }
            Err(err) => {
                return Ok(Pushed::Failed(format!(
                    "cannot push {} to {} ({}): {}",
                    self.branch,
                    self.remote_named(name),
                    access.url,
                    access.explain(&err)
                )));
            }
        }
        if let Some(why) = refused.into_inner() {
            let why = match remote_said(&said.into_inner()) {
                Some(said) => format!("{why}; the remote said: {said}"),
                None => why,
            };
            return Ok(Pushed::Rejected(access.mask(&why)));
        }
        Ok(Pushed::Done(sent.get().unwrap_or(local)))
    }

    /// A push to a repository on this machine, done as a server would: copy the
    /// missing objects, then move its ref only if it is still where it was. One that
    /// runs hooks on a push gets a `git push` instead (src/record/hooked.rs).
    fn push_direct(&self, name: &str, path: &std::path::Path) -> Result<Pushed> {
        let Some(local) = self.tip()? else {
            bail!(
                "internal error: pushing {} before its first commit",
                self.branch
            );
        };
        let failed = |what: &str, err: git2::Error| {
            Pushed::Failed(format!(
                "cannot push {} to {} ({}): {what}: {}",
                self.branch,
                self.remote_named(name),
                path.display(),
                err.message()
            ))
        };
        let target = match Repository::open(path) {
            Ok(target) => target,
            Err(err) => return Ok(failed("opening it", err)),
        };
        if !target.is_bare()
            && target
                .find_reference("HEAD")
                .is_ok_and(|head| head.symbolic_target_bytes() == Some(self.refname.as_bytes()))
        {
            return Ok(Pushed::Failed(format!(
                "cannot push {0} to {1} ({2}): {0} is checked out there",
                self.branch,
                self.remote_named(name),
                path.display()
            )));
        }
        // Hooks that a push runs there run for relctl's pushes too.
        if super::hooked::receives_with_hooks(&target) {
            let shown = self.remote_named(name);
            return Ok(super::hooked::push(
                self.repo.path(),
                path,
                local,
                &self.refname,
                &shown,
            ));
        }
        let current = match target.refname_to_id(&self.refname) {
            Ok(oid) => Some(oid),
            Err(err) if err.code() == ErrorCode::NotFound => None,
            Err(err) => return Ok(failed("reading its branch", err)),
        };
        if let Some(current) = current {
            if current == local {
                return Ok(Pushed::Done(local));
            }
            let known = self.repo.odb().is_ok_and(|odb| odb.exists(current));
            if !known || !self.descends(local, current)? {
                return Ok(Pushed::Rejected(format!(
                    "{} on {} has commits not in the local branch",
                    self.branch,
                    self.remote_named(name)
                )));
            }
        }
        if let Err(err) = copy_objects(&self.repo, &target, local, current) {
            return Ok(failed(
                "copying objects",
                git2::Error::from_str(&format!("{err:#}")),
            ));
        }
        let log = "relctl: push";
        let old = current.unwrap_or(Oid::ZERO_SHA1);
        match target.reference_matching(&self.refname, local, true, old, log) {
            Ok(_) => {
                // The remote gathers a pack per push: merge them as a store merges its own.
                if let Err(err) = super::packs::merge(&target) {
                    tracing::debug!("merging the packs of {}: {err:#}", path.display());
                }
                Ok(Pushed::Done(local))
            }
            Err(err)
                if matches!(
                    err.code(),
                    ErrorCode::Exists
                        | ErrorCode::Modified
                        | ErrorCode::Locked
                        | ErrorCode::NotFound
                ) =>
            {
                Ok(Pushed::Rejected(format!(
                    "{} on {} moved during the push: {}",
                    self.branch,
                    self.remote_named(name),
                    err.message()
                )))
            }
            Err(err) => Ok(failed("moving its branch", err)),
        }
    }
}

/// Objects of `tip` that `to` lacks, written there as one pack, so an object present
/// there always has everything below it (src/record/packs.rs).
fn copy_objects(from: &Repository, to: &Repository, tip: Oid, known: Option<Oid>) -> Result<()> {
    let target = to.odb()?;
    let mut missing = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut lacks = |oid: Oid| seen.insert(oid) && !target.exists(oid);
    let mut walk = from.revwalk()?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
    walk.push(tip)?;
    if let Some(known) = known {
        walk.hide(known)?;
    }
    for oid in walk {
        let oid = oid?;
        let mut trees = vec![from.find_commit(oid)?.tree_id()];
        while let Some(tree) = trees.pop() {
            if !lacks(tree) {
                continue;
            }
            missing.push(tree);
            for entry in from.find_tree(tree)?.iter() {
                match entry.kind() {
                    Some(git2::ObjectType::Tree) => trees.push(entry.id()),
                    Some(git2::ObjectType::Blob) if lacks(entry.id()) => missing.push(entry.id()),
                    _ => {}
                }
            }
        }
        if lacks(oid) {
            missing.push(oid);
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let (pack, index) = super::packs::pack_of(&from.odb()?, &missing)?;
    super::packs::put(&to.commondir().join("objects"), &pack, index)?;
    // A handle that already looked for these objects must look again.
    target.refresh().context("reading the object database")?;
    Ok(())
}

/// The last lines a server printed during a push, on one line: why a hook declined.
fn remote_said(output: &[u8]) -> Option<String> {
    const KEPT: usize = 5;
    // git's own progress, which a receiving git prints on the same channel as a hook.
    const PROGRESS: [&str; 7] = [
        "Resolving deltas",
        "Counting objects",
        "Compressing objects",
        "Writing objects",
        "Receiving objects",
        "Enumerating objects",
        "Total ",
    ];
    let text = String::from_utf8_lossy(output);
    let lines: Vec<&str> = text
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|line| !line.is_empty() && !PROGRESS.iter().any(|p| line.starts_with(p)))
        .collect();
    let last = &lines[lines.len().saturating_sub(KEPT)..];
    (!last.is_empty()).then(|| {
        last.join("; ")
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect()
    })
}

/// A plain path or a `file://` URL; anything with a scheme or `host:path` is not.
fn local_path(url: &str) -> Option<PathBuf> {
    if let Some(path) = url.strip_prefix("file://") {
        return Some(PathBuf::from(path));
    }
    if url.contains("://") {
        return None;
    }
    if let Some((before, _)) = url.split_once(':')
        && !before.contains('/')
        && before.len() > 1
    {
        return None;
    }
    Some(PathBuf::from(url))
}

/// How relctl reaches one network remote: the credentials and settings git's
/// configuration and the environment give for its URL, and a mask for every one of
/// them, applied to whatever this module says about the remote.
struct Access {
    http: HttpConfig,
    token: Option<String>,
    secrets: Secrets,
    /// The URL as shown: any password in it masked.
    url: String,
    /// Reached over http(s); otherwise over ssh, `git://` or the file system.
    over_http: bool,
    /// The URL holds a password, which libgit2 offers before asking relctl.
    url_password: bool,
}

impl Access {
    fn new(repo: &Repository, url: &str) -> Access {
        let http = repo
            .config()
            .map(|config| HttpConfig::for_url(&config, url))
            .unwrap_or_default();
        let token = std::env::var("RELCTL_GIT_TOKEN")
            .ok()
            .filter(|token| !token.is_empty());
        let secrets = credential_secrets(&http, token.as_deref(), url);
        let over_http = url.starts_with("https://") || url.starts_with("http://");
        if over_http {
            match &http.ca_file() {
                Some(file) => super::libgit2::trust_ca_file(file),
                None => super::libgit2::load_certificates(),
            }
        }
        let shown = shown_url(url);
        Access {
            token,
            url_password: shown != url,
            url: secrets.mask(&shown),
            secrets,
            http,
            over_http,
        }
    }

    /// git's `http.extraHeader` lines for this URL, sent with every request.
    fn headers(&self) -> Vec<&str> {
        self.http.headers.iter().map(String::as_str).collect()
    }

    fn mask(&self, text: &str) -> String {
        self.secrets.mask(text)
    }

    /// What went wrong, masked, with what to do about a host nobody vouched for.
    fn explain(&self, err: &git2::Error) -> String {
        let mut message = self.mask(err.message());
        if message.contains("timed out") {
            message.push_str(&format!(" (no answer within {} s)", ANSWER.as_secs()));
        }
        if err.code() != ErrorCode::Certificate {
            return message;
        }
        if self.over_http {
            format!(
                "{message}: the server's certificate is not issued by a CA this machine \
                 trusts; point git's `http.sslCAInfo` (or SSL_CERT_FILE) at the bundle of the \
                 CA that issued it"
            )
        } else {
            format!(
                "{message}: the server's host key is not in ~/.ssh/known_hosts, or differs from \
                 the one there (relctl checks it as ssh does, and never adds one); if it is \
                 new, add it with `{}` once you have checked its fingerprint",
                keyscan(&self.url)
            )
        }
    }

    /// Authenticate as git would: ssh-agent, then the usual key files, for ssh; the
    /// `Authorization` header of `http.extraHeader` (sent with every request, before
    /// any is asked for), then `RELCTL_GIT_TOKEN`, then the configured credential
    /// helpers, for https. libgit2 asks again after each refusal, so every way is
    /// offered once, and then the error says what was tried and how to give one.
    fn callbacks<'a>(&self, repo: &Repository) -> RemoteCallbacks<'a> {
        let config: Option<Config> = repo.config().ok();
        let token = self.token.clone();
        let mut sent_first: Vec<String> = Vec::new();
        if self.url_password {
            sent_first.push("the password in the remote's URL".to_string());
        }
        if let Some(key) = &self.http.authorization_from {
            sent_first.push(format!("the Authorization header of git's `{key}`"));
        }
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let agent = std::env::var_os("SSH_AUTH_SOCK").is_some_and(|sock| !sock.is_empty());
        let (mut username_sent, mut ssh_tries, mut https_tries, mut default_sent) =
            (false, 0, 0, false);
        let mut tried: Vec<String> = Vec::new();
        let mut callbacks = RemoteCallbacks::new();
        callbacks.credentials(move |url, username, allowed| {
            if allowed.contains(CredentialType::USERNAME) && !username_sent {
                username_sent = true;
                return Cred::username(username.unwrap_or("git"));
            }
            if allowed.contains(CredentialType::SSH_KEY) {
                let user = username.unwrap_or("git");
                let keys = SSH_KEYS
                    .iter()
                    .filter_map(|key| Some(home.as_ref()?.join(".ssh").join(key)))
                    .filter(|key| key.is_file());
                let from_agent = agent.then_some(None);
                let ways = from_agent.into_iter().chain(keys.map(Some)).skip(ssh_tries);
                for way in ways {
                    ssh_tries += 1;
                    let cred = match &way {
                        None => Cred::ssh_key_from_agent(user),
                        Some(key) => Cred::ssh_key(user, None, key, None),
                    };
                    if let Ok(cred) = cred {
                        tried.push(match way {
                            None => "the keys in ssh-agent".to_string(),
                            Some(key) => format!("the key {}", key.display()),
                        });
                        return Ok(cred);
                    }
                }
                return Err(git2::Error::from_str(&refused_ssh(user, &tried, agent)));
            }
            if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
                if https_tries == 0 {
                    https_tries += 1;
                    if let Some(token) = &token {
                        tried.push("RELCTL_GIT_TOKEN".to_string());
                        let user = username.unwrap_or("x-access-token");
                        return Cred::userpass_plaintext(user, token);
                    }
                }
                if https_tries == 1 {
                    https_tries += 1;
                    if let Some(config) = &config
                        && let Ok(cred) = Cred::credential_helper(config, url, username)
                    {
                        tried.push("what git's credential helper gave".to_string());
                        return Ok(cred);
                    }
                }
            }
            if allowed.contains(CredentialType::DEFAULT) && !default_sent {
                default_sent = true;
                tried.push("this machine's default (Negotiate) credentials".to_string());
                return Cred::default();
            }
            Err(git2::Error::from_str(&refused_https(&sent_first, &tried)))
        });
        callbacks
    }
}

/// The key files relctl offers after ssh-agent, in `~/.ssh`, as ssh tries them.
const SSH_KEYS: [&str; 3] = ["id_ed25519", "id_ecdsa", "id_rsa"];

fn refused_ssh(user: &str, tried: &[String], agent: bool) -> String {
    let what = if tried.is_empty() {
        format!(
            "no SSH key to offer as `{user}`: {}and no key file in ~/.ssh ({})",
            if agent {
                ""
            } else {
                "no ssh-agent (SSH_AUTH_SOCK is not set), "
            },
            SSH_KEYS.join(", ")
        )
    } else {
        format!(
            "the SSH server refused {} as `{user}`{}",
            tried.join(", then "),
            if agent {
                ""
            } else {
                " (no ssh-agent: SSH_AUTH_SOCK is not set)"
            }
        )
    };
    format!(
        "{what}; to provide one: give a key write access to the repository (a deploy key \
         or your account's keys) and load it into ssh-agent, or keep it without a \
         passphrase as ~/.ssh/{}",
        SSH_KEYS[0]
    )
}

/// `sent_first`: what went before any question (the URL's password, checkout's
/// header); `tried`: what relctl offered when asked.
fn refused_https(sent_first: &[String], tried: &[String]) -> String {
    let sent: Vec<&str> = sent_first.iter().chain(tried).map(String::as_str).collect();
    let what = if sent.is_empty() {
        "the server asks for credentials and relctl has none (no Authorization header in \
         git's http.extraHeader, RELCTL_GIT_TOKEN not set, no git credential helper answered)"
            .to_string()
    } else {
        format!("the server refused {}", sent.join(", then "))
    };
    format!(
        "{what}; to provide one: set RELCTL_GIT_TOKEN to a token allowed to push to the \
         repository, configure a git credential helper, or set `http.<url>.extraHeader` \
         (as actions/checkout does)"
    )
}

/// The `ssh-keyscan` command that fetches the host key of an ssh URL
/// (`ssh://user@host:port/path` or `user@host:path`) for `~/.ssh/known_hosts`.
fn keyscan(url: &str) -> String {
    let (authority, explicit) = match url.split_once("://") {
        Some((_, rest)) => (rest.split('/').next().unwrap_or(rest), true),
        None => (url.split(':').next().unwrap_or(url), false),
    };
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let port = explicit
        .then(|| host.rsplit_once(':'))
        .flatten()
        .filter(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()));
    match port {
        Some((host, port)) => format!("ssh-keyscan -p {port} {host} >> ~/.ssh/known_hosts"),
        None => format!("ssh-keyscan {host} >> ~/.ssh/known_hosts"),
    }
}

/// The URL as messages show it: any password in it masked (one rule with the metrics
/// provider's, `providers::secrets::mask_url_password`).
pub(super) fn shown_url(url: &str) -> String {
    crate::providers::secrets::mask_url_password(url)
}

/// Proxies from git's configuration and the environment, as git uses them.
fn proxy<'a>() -> ProxyOptions<'a> {
    let mut proxy = ProxyOptions::new();
    proxy.auto();
    proxy
}

#[cfg(test)]
mod wire_tests {
    use super::*;

    /// A tracking ref another fetch of this clone is writing is a lock to wait for,
    /// not an unreachable remote.
    #[test]
    fn a_tracking_ref_being_written_is_a_held_lock() {
        let held = |message: &str| held_lock(&git2::Error::from_str(message));
        assert!(held(
            "failed to create locked file '/w/.git/refs/remotes/origin/relctl/records.lock': File exists"
        ));
        assert!(held(
            "failed to lock file '/w/.git/FETCH_HEAD.lock' for writing: "
        ));
        assert!(!held(
            "failed to create locked file '/w/x.lock': Permission denied"
        ));
        assert!(!held("failed to resolve address for example.invalid"));
    }

    #[test]
    fn a_password_in_a_url_is_not_shown() {
        assert_eq!(
            shown_url("https://gitlab-ci-token:glcbt-abc@gitlab.com/acme/app.git"),
            "https://gitlab-ci-token:***@gitlab.com/acme/app.git"
        );
        assert_eq!(
            shown_url("https://ci@git.example.com/app"),
            "https://***@git.example.com/app"
        );
        assert_eq!(
            shown_url("git@github.com:acme/app"),
            "git@github.com:acme/app"
        );
    }

    #[test]
    fn the_keyscan_hint_names_the_host_and_port_of_the_url() {
        assert_eq!(
            keyscan("ssh://git@127.0.0.1:2222/srv/app.git"),
            "ssh-keyscan -p 2222 127.0.0.1 >> ~/.ssh/known_hosts"
        );
        assert_eq!(
            keyscan("git@github.com:acme/app.git"),
            "ssh-keyscan github.com >> ~/.ssh/known_hosts"
        );
        assert_eq!(
            keyscan("ssh://github.com/acme/app.git"),
            "ssh-keyscan github.com >> ~/.ssh/known_hosts"
        );
    }

    /// What a hook printed is said without git's progress lines around it.
    #[test]
    fn what_the_remote_said_leaves_out_gits_progress() {
        let printed = b"Resolving deltas:  92% (23/25)\rResolving deltas: 100% (25/25), done.\nrecords are frozen for the audit\nTotal 3 (delta 0)\n";
        assert_eq!(
            remote_said(printed).as_deref(),
            Some("records are frozen for the audit")
        );
    }
}
