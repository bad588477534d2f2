//! The branch itself: snapshots of its tip, commits written straight into the object
//! database, and the compare-and-swap that lets many writers share one branch without
//! overwriting each other or touching the user's working tree, index or HEAD.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use git2::{ErrorCode, FileMode, ObjectType, Oid, Repository, Signature, Tree};

use super::packs::Pending;
use super::remote::{Fetched, Pushed};
use crate::error::{Error, Exit};

/// How often the branch may move under one operation before we call it contended.
pub(super) const MAX_ATTEMPTS: usize = 50;

/// How long a commit keeps being built again on a records remote that other writers
/// keep moving, after `MAX_ATTEMPTS` lost rounds.
const REMOTE_PATIENCE: Duration = Duration::from_secs(60);

/// A rejected push with the remote unchanged is retried for this long before we
/// believe the remote means it (a hook, a protected branch) rather than a writer
/// that has not finished yet (its ref lock still held, on a busy machine).
pub(super) const REFUSAL_PATIENCE: Duration = Duration::from_secs(2);

/// The git repository and branch that hold the release record.
pub struct Store {
    pub(super) repo: Repository,
    pub(super) branch: String,
    /// `refs/heads/<branch>`
    pub(super) refname: String,
    pub(super) remote: Option<String>,
    /// The URL that reaches `remote`, credentials and all, when the plan gives it
    /// (`record.url`) rather than the repository's configuration, which never holds
    /// a credential of it.
    pub(super) url: Option<String>,
    /// Push to a remote on this machine by writing its objects and moving its ref
    /// with a compare-and-swap; libgit2's local transport overwrites the ref.
    pub(super) direct_local_push: bool,
    /// Queue behind other writers on this machine (see `take_turn`).
    pub(super) take_turns: bool,
    /// The branch is checked out in the working tree: it may be read, never moved.
    pub(super) checked_out: bool,
    /// `--offline`: the remote is neither fetched nor pushed; commits wait locally.
    pub(super) offline: bool,
    /// The only top-level entries the branch may hold (see `holding_only`).
    pub(super) layout: Option<&'static [&'static str]>,
    /// Why this command stopped asking the remote (see `give_up`).
    pub(super) given_up: RefCell<Option<String>>,
    /// Signs every commit this store writes, and re-signs a signed one of the same
    /// actor's that it replays; the actor is the first.
    pub(super) signer: Option<(String, Signer)>,
    /// Merges what a line merge cannot when a local commit is replayed on a remote
    /// tip that moved (see `Resolver`).
    pub(super) resolver: Option<Resolver>,
    /// Where a replayed commit's directories are on the tip it is replayed onto, when
    /// the tip moved them (see `Relocator`).
    pub(super) relocator: Option<Relocator>,
    /// The trailer whose value groups commits when they are replayed (src/record/held.rs).
    pub(super) key_trailer: Option<&'static str>,
    /// The key this store writes for, refused while it is held apart.
    pub(super) writes_for: Option<String>,
    /// Objects written and not yet in a pack (src/record/packs.rs).
    pub(super) pending: Pending,
    /// Called just before each push of an append: lets a test act at that moment.
    #[cfg(test)]
    pub(super) before_push: RefCell<Option<Box<dyn FnMut()>>>,
}

impl Drop for Store {
    /// Merges the small packs this store's writes left (src/record/packs.rs). The
    /// record is complete without it, so a failure is only a diagnostic.
    fn drop(&mut self) {
        if self.pending.wrote()
            && let Err(err) = super::packs::merge(&self.repo)
        {
            tracing::debug!(
                "merging the record's packs in {}: {err:#}",
                self.path().display()
            );
        }
    }
}

/// Makes the `gpgsig` header of a commit from the commit's bytes.
pub type Signer = Box<dyn Fn(&[u8]) -> Result<String>>;

/// Given a replayed commit's parent, the tip it is replayed onto and the commit itself,
/// and the files a line merge found in conflict, the whole files to write instead;
/// `None` when it is a real conflict.
pub type Resolver = Box<
    dyn Fn(&Snapshot<'_>, &Snapshot<'_>, &Snapshot<'_>, &[String]) -> Result<Option<Vec<Change>>>,
>;

/// Given a replayed commit's parent, the commit itself and the tip it is replayed onto,
/// the directories the tip keeps elsewhere (from, to): the commit's changes under
/// `from` are replayed under `to`. Empty when nothing moved.
pub type Relocator =
    Box<dyn Fn(&Snapshot<'_>, &Snapshot<'_>, &Snapshot<'_>) -> Result<Vec<(String, String)>>>;

/// What a command means to do with the branch: a reader may find it checked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    Read,
    Write,
}

thread_local! {
    /// Turns this thread holds: a build closure that appends must not wait for
    /// the turn its caller holds.
    static TURNS_HELD: Cell<usize> = const { Cell::new(0) };
}

/// A turn at writing the branch, given back when dropped.
pub(super) struct Turn(Option<std::fs::File>);

impl Drop for Turn {
    fn drop(&mut self) {
        if self.0.is_some() {
            TURNS_HELD.set(TURNS_HELD.get().saturating_sub(1));
        }
    }
}

/// The branch as one reader saw it: its tip and the files there.
pub struct Snapshot<'r> {
    repo: &'r Repository,
    branch: &'r str,
    tip: Option<Oid>,
    tree: Option<Tree<'r>>,
    /// The directories lookups went into, by path, and their trees: a lookup starts
    /// from the deepest one read before, so each tree is read once a snapshot (`status
    /// --all` looks into a thousand apps' directories through the same shard trees).
    dirs: RefCell<HashMap<String, Tree<'r>>>,
}

/// A whole file written at `path` ("releases/x.yaml").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    pub content: Vec<u8>,
}

/// One event's commit, as the engine describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub summary: String,
    pub trailers: Vec<(String, String)>,
    pub actor: String,
    pub changes: Vec<Change>,
    /// Files taken out of the branch (a file moved elsewhere is a change and a removal).
    pub removed: Vec<String>,
}

/// What an append left behind. `pushed` is false without a remote, and false with
/// `push_error` set when the commit is kept locally for a later `sync`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub oid: Oid,
    pub pushed: bool,
    pub push_error: Option<String>,
}

impl Appended {
    fn local(oid: Oid, push_error: Option<String>) -> Appended {
        Appended {
            oid,
            pushed: false,
            push_error,
        }
    }
}

/// What a sync did: commits pushed, commits still only local, and why if any are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sync {
    pub pushed: usize,
    pub pending: usize,
    pub error: Option<String>,
}

impl Store {
    /// Open the repository around `dir` to record in it. Cheap: nothing is fetched
    /// or walked.
    pub fn open(dir: &Path, branch: &str, remote: Option<&str>) -> Result<Store> {
        Store::open_as(dir, branch, remote, Access::Write)
    }

    /// Open it for a command that only reads, which may find the branch checked out.
    pub fn open_to_read(dir: &Path, branch: &str, remote: Option<&str>) -> Result<Store> {
        Store::open_as(dir, branch, remote, Access::Read)
    }

    pub(super) fn open_as(
        dir: &Path,
        branch: &str,
        remote: Option<&str>,
        access: Access,
    ) -> Result<Store> {
        let repo = match Repository::discover(dir) {
            Ok(repo) => repo,
            Err(err) if err.code() == ErrorCode::NotFound => {
                let what = if dir.exists() {
                    "is not inside a git repository"
                } else {
                    "does not exist"
                };
                return Err(Error::usage(format!("{} {what}", dir.display()))
                    .with_hint(
                        "the release record is kept in git: run `git init` there, \
                     or point `record.repo` in the plan at a repository",
                    )
                    .into());
            }
            Err(err) => {
                return Err(err)
                    .with_context(|| format!("opening the git repository at {}", dir.display()));
            }
        };
        let refname = format!("refs/heads/{branch}");
        if !git2::Reference::is_valid_name(&refname) {
            return Err(Error::usage(format!("`{branch}` is not a valid git branch name")).into());
        }
        let pending = Pending::attach(&repo, &repo.commondir().join("objects"))
            .with_context(|| format!("opening the git repository at {}", dir.display()))?;
        let mut store = Store {
            repo,
            branch: branch.to_string(),
            refname,
            remote: remote.map(str::to_string),
            url: None,
            direct_local_push: true,
            take_turns: true,
            checked_out: false,
            offline: false,
            layout: None,
            given_up: RefCell::new(None),
            signer: None,
            resolver: None,
            relocator: None,
            key_trailer: None,
            writes_for: None,
            pending,
            #[cfg(test)]
            before_push: RefCell::new(None),
        };
        store.checked_out = store.is_checked_out()?;
        if access == Access::Write && store.checked_out {
            return Err(store.checked_out_error());
        }
        if let Some(name) = remote {
            match store.repo.find_remote(name) {
                Ok(_) => {}
                Err(err) if matches!(err.code(), ErrorCode::NotFound | ErrorCode::InvalidSpec) => {
                    return Err(Error::usage(format!(
                        "the git repository at {} has no remote named `{name}`",
                        store.path().display()
                    ))
                    .with_hint(format!(
                        "add it with `git remote add {name} URL`, or change `record.remote` in the plan"
                    ))
                    .into());
                }
                Err(err) => {
                    return Err(err).with_context(|| {
                        format!("reading git remote `{name}` in {}", store.path().display())
                    });
                }
            }
        }
        Ok(store)
    }

    /// Neither fetch nor push: commits wait locally for a command run without it.
    pub fn offline(mut self, offline: bool) -> Store {
        self.offline = offline;
        self
    }

    pub fn is_offline(&self) -> bool {
        self.offline
    }

    /// Sign every commit written from now on with `signer`, the key of `actor`.
    pub fn signing(mut self, actor: &str, signer: Signer) -> Store {
        self.signer = Some((actor.to_string(), signer));
        self
    }

    /// Merge with `resolver` what a line merge cannot, when local commits are replayed.
    pub fn resolving(mut self, resolver: Resolver) -> Store {
        self.resolver = Some(resolver);
        self
    }

    /// Replay local commits under the directories `relocator` says the tip moved them to.
    pub fn relocating(mut self, relocator: Relocator) -> Store {
        self.relocator = Some(relocator);
        self
    }

    /// Whether this store signs what it writes.
    pub fn signs(&self) -> bool {
        self.signer.is_some()
    }

    /// Writes a commit object, signed when `sign` and this store has a signer.
    pub(super) fn write_commit_object(
        &self,
        author: &Signature<'_>,
        committer: &Signature<'_>,
        message: &str,
        tree: &Tree<'_>,
        parents: &[&git2::Commit<'_>],
        sign: bool,
    ) -> Result<Oid> {
        let context = || {
            format!(
                "writing a commit for branch {} in {}",
                self.branch,
                self.path().display()
            )
        };
        let Some((_, signer)) = self.signer.as_ref().filter(|_| sign) else {
            return self
                .repo
                .commit(None, author, committer, message, tree, parents)
                .with_context(context);
        };
        let buffer = self
            .repo
            .commit_create_buffer(author, committer, message, tree, parents)
            .with_context(context)?;
        let content = buffer
            .as_str()
            .context("a record commit is not UTF-8")
            .with_context(context)?;
        let signature = signer(content.as_bytes())?;
        self.repo
            .commit_signed(content, &signature, None)
            .with_context(context)
    }

    /// Whether a replayed commit by `author` (its author's name) is signed again: only
    /// one this store's signer made, since another person's key is not ours to use.
    pub(super) fn signs_for(&self, author: &[u8]) -> bool {
        self.signer
            .as_ref()
            .is_some_and(|(actor, _)| signature(actor).is_ok_and(|s| s.name_bytes() == author))
    }

    /// A commit's SSH signature and the bytes it signs; `None` when it is unsigned.
    pub fn signature_of(&self, oid: Oid) -> Result<Option<(String, Vec<u8>)>> {
        // Read here rather than by libgit2's `extract_signature`, which reads past the
        // end of an object still in memory (src/record/packs.rs).
        let context = || {
            format!(
                "reading the signature of commit {oid} in {}",
                self.path().display()
            )
        };
        let odb = self.repo.odb().with_context(context)?;
        let object = odb.read(oid).with_context(context)?;
        Ok(split_signature(object.data()))
    }

    /// The branch as it was at commit `oid`, and `oid`'s first parent.
    pub fn snapshot_at(&self, oid: Oid) -> Result<(Snapshot<'_>, Option<Oid>)> {
        let commit = self
            .repo
            .find_commit(oid)
            .with_context(|| format!("reading commit {oid} in {}", self.path().display()))?;
        let tree = commit
            .tree()
            .with_context(|| format!("reading commit {oid} in {}", self.path().display()))?;
        let parent = commit.parent_ids().next();
        Ok((
            Snapshot {
                repo: &self.repo,
                branch: &self.branch,
                tip: Some(oid),
                tree: Some(tree),
                dirs: RefCell::default(),
            },
            parent,
        ))
    }

    /// Whether the branch is checked out here: moving it would change the user's
    /// files under them.
    fn is_checked_out(&self) -> Result<bool> {
        if self.repo.is_bare() {
            return Ok(false);
        }
        match self.repo.find_reference("HEAD") {
            Ok(head) => Ok(head.symbolic_target_bytes() == Some(self.refname.as_bytes())),
            Err(err) if err.code() == ErrorCode::NotFound => Ok(false),
            Err(err) => {
                Err(err).with_context(|| format!("reading HEAD in {}", self.path().display()))
            }
        }
    }

    pub(super) fn checked_out_error(&self) -> anyhow::Error {
        Error::usage(format!(
            "the records branch `{}` is checked out in {}",
            self.branch,
            self.path().display()
        ))
        .with_hint("relctl writes that branch itself; switch the working tree to another branch")
        .into()
    }

    /// Whether the branch is checked out here (readers then leave it where it is).
    pub fn checked_out(&self) -> bool {
        self.checked_out
    }

    /// Refuse a branch whose tip holds top-level entries other than `layout` (the
    /// record's own directories), here and on the remote from now on: a branch relctl
    /// did not make, such as a code branch named as the records branch. One tree read
    /// at the tip says so, however long the history; commits made by hand on a real
    /// records branch pass.
    pub fn holding_only(mut self, layout: &'static [&'static str]) -> Result<Store> {
        self.layout = Some(layout);
        if let Some(tip) = self.tip()? {
            self.check_is_record(tip, None)?;
        }
        Ok(self)
    }

    /// `remote` names where the tip came from, for the message.
    pub(super) fn check_is_record(&self, tip: Oid, remote: Option<&str>) -> Result<()> {
        let Some(layout) = self.layout else {
            return Ok(());
        };
        let tree = self
            .repo
            .find_commit(tip)
            .and_then(|commit| commit.tree())
            .with_context(|| {
                format!(
                    "reading commit {tip} of branch {} in {}",
                    self.branch,
                    self.path().display()
                )
            })?;
        let foreign: Vec<String> = tree
            .iter()
            .map(|entry| String::from_utf8_lossy(entry.name_bytes()).into_owned())
            .filter(|name| !layout.contains(&name.as_str()))
            .collect();
        if foreign.is_empty() {
            return Ok(());
        }
        let shown = foreign
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        let more = if foreign.len() > 5 { ", …" } else { "" };
        let place = match remote {
            Some(remote) => format!("on remote `{remote}`"),
            None => format!("in {}", self.path().display()),
        };
        // A top-level entry named like one of the layout's own with another number
        // (`relctl-format-3` where this relctl writes `relctl-format-2`) names a layout
        // written by another relctl version: a new branch name would fork the record.
        let numbered = |name: &str| {
            name.rsplit_once('-')
                .filter(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                .map(|(prefix, _)| prefix.to_string())
        };
        if let Some((theirs, ours)) = foreign.iter().find_map(|name| {
            let prefix = numbered(name)?;
            let ours = layout
                .iter()
                .find(|own| numbered(own).as_ref() == Some(&prefix))?;
            Some((name, ours))
        }) {
            return Err(Error::usage(format!(
                "the branch `{}` {place} is written in a layout this relctl does not know: \
                 it holds {theirs}, where this relctl writes {ours}",
                self.branch
            ))
            .with_hint(
                "a newer relctl wrote it: upgrade this relctl (every clone and CI runner that \
                 writes to a shared record must be as new as the newest one that wrote it)",
            )
            .into());
        }
        let own = match layout {
            [] => String::new(),
            [one] => one.to_string(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
        };
        Err(Error::usage(format!(
            "the branch `{}` {place} is not a records branch relctl created: it holds {shown}{more}",
            self.branch
        ))
        .with_hint(format!(
            "relctl keeps its record on a branch of its own and writes only {} there; \
             set `record.branch` in the plan to a new name (the default is relctl/records) \
             and relctl creates it",
            own
        ))
        .into())
    }

    /// The working tree of the repository, or its git directory when bare.
    pub fn path(&self) -> &Path {
        self.repo.workdir().unwrap_or_else(|| self.repo.path())
    }

    pub fn branch(&self) -> &str {
        &self.branch
    }

    /// The git directory the repository's worktrees share: where file locks between
    /// relctl processes on this machine live.
    pub fn common_dir(&self) -> &Path {
        self.repo.commondir()
    }

    pub fn remote(&self) -> Option<&str> {
        self.remote.as_deref()
    }

    /// The local branch tip and its files.
    pub fn snapshot(&self) -> Result<Snapshot<'_>> {
        let tip = self.tip()?;
        let tree = match tip {
            None => None,
            Some(oid) => Some(
                self.repo
                    .find_commit(oid)
                    .and_then(|commit| commit.tree())
                    .with_context(|| {
                        format!(
                            "reading commit {oid} of branch {} in {}",
                            self.branch,
                            self.path().display()
                        )
                    })?,
            ),
        };
        Ok(Snapshot {
            repo: &self.repo,
            branch: &self.branch,
            tip,
            tree,
            dirs: RefCell::default(),
        })
    }

    /// Add one commit built by `build` from the tip it is shown.
    ///
    /// `build` may be called more than once: whenever the branch moved under it
    /// (here or on the remote) it is shown the new tip, so checks such as a lock
    /// are made again. `Ok(None)` from it means there is nothing to record any more.
    pub fn append(
        &self,
        build: &mut dyn FnMut(&Snapshot<'_>) -> Result<Option<Commit>>,
    ) -> Result<Option<Appended>> {
        self.refuse_held()?;
        let Some(remote) = self.remote.as_deref().filter(|_| !self.offline) else {
            return self.append_local(build, None);
        };
        if let Some(why) = self.given_up.borrow().clone() {
            return self.append_local(build, Some(why));
        }
        // Decide on what others pushed, not on a stale local view.
        let mut seen = match self.fetch(remote)? {
            Fetched::Tip(tip) => tip,
            Fetched::Unreachable(why) | Fetched::Busy(why) => {
                return self.append_local(build, Some(why));
            }
        };
        self.integrate(seen)?;
        let mut backoff = Backoff::default();
        // Every round lost here was won by another writer's push, so the branch is
        // moving on: with many writers at once (CI runners of many apps sharing one
        // records repository) a writer keeps trying for a while, not a number of rounds.
        let began = std::time::Instant::now();
        let mut lost = 0;
        while lost < MAX_ATTEMPTS || began.elapsed() < REMOTE_PATIENCE {
            lost += 1;
            // The turn is held until the commit is on the remote or dropped again: no
            // other relctl in this clone may build on a commit that was decided on a
            // stale view (a lock another clone took meanwhile), or that commit could
            // no longer be dropped and this run would act on a lock only it can see.
            let turn = self.take_turn();
            let Some((oid, parent)) = self.commit_cas(build)? else {
                return Ok(None);
            };
            let mut refusals = Refusals::default();
            loop {
                #[cfg(test)]
                if let Some(hook) = self.before_push.borrow_mut().as_mut() {
                    hook();
                }
                let why = match self.push(remote)? {
                    Pushed::Done(_) => {
                        return Ok(Some(Appended {
                            oid,
                            pushed: true,
                            push_error: None,
                        }));
                    }
                    Pushed::Failed(why) => return Ok(Some(Appended::local(oid, Some(why)))),
                    Pushed::Rejected(why) => why,
                };
                let now = match self.fetch(remote)? {
                    Fetched::Tip(tip) => tip,
                    Fetched::Unreachable(fetch_why) | Fetched::Busy(fetch_why) => {
                        return Ok(Some(Appended::local(oid, Some(fetch_why))));
                    }
                };
                if let Some(now) = now
                    && (now == oid || self.descends(now, oid)?)
                {
                    // Another relctl in this repository pushed our commit with its own.
                    return Ok(Some(Appended {
                        oid,
                        pushed: true,
                        push_error: None,
                    }));
                }
                if now == seen {
                    if refusals.exhausted(now) {
                        let why = format!("{} refused the push: {why}", self.remote_named(remote));
                        self.give_up(remote, &why);
                        return Ok(Some(Appended::local(oid, Some(why))));
                    }
                    backoff.wait();
                    continue;
                }
                seen = now;
                break;
            }
            tracing::debug!(branch = %self.branch, remote, "the remote moved; building again on its tip");
            // Our commit was decided on a stale view (a lock taken elsewhere, say):
            // drop it, replay only the commits that were already waiting, and build again.
            // Only our own commit was decided on a stale view: a conflict among those
            // waiting before it keeps it here, as any push error does.
            let replayed = match self.rebased(parent, seen, super::remote::Replay::Stop) {
                Ok(replayed) => replayed,
                Err(err) => return Ok(Some(Appended::local(oid, Some(format!("{err:#}"))))),
            };
            let Some(replayed) = replayed else {
                bail!("internal error: no tip after rebasing {}", self.branch);
            };
            if !self.move_ref(Some(oid), replayed, "rebuild on the remote tip")? {
                // Something that does not take turns (git itself, a file system without
                // locks) committed on top of ours, so ours can no longer be dropped. It
                // was decided on a stale view: nothing may act on it.
                return Err(self.moved_under_a_refused_commit(remote, oid));
            }
            drop(turn);
            // Another writer won: let the writers that collided spread out rather than
            // race again at once (with eight at once, some lost every round).
            backoff.wait();
        }
        Err(self.kept_moving())
    }

    /// The branch moved here while a commit the remote refused was being taken off it.
    fn moved_under_a_refused_commit(&self, remote: &str, oid: Oid) -> anyhow::Error {
        Error::new(
            Exit::Busy,
            format!(
                "{} moved on while commit {} was being written, and {} was changed in {} \
                 meanwhile by something other than relctl, on top of that commit; it stays \
                 here and nothing was done on it",
                self.remote_named(remote),
                &oid.to_string()[..10],
                self.branch,
                self.path().display(),
            ),
        )
        .with_hint(
            "run the command again: the next command pushes the commit, or holds it apart \
             if it conflicts with the remote's (docs/record.md)",
        )
        .into()
    }

    fn append_local(
        &self,
        build: &mut dyn FnMut(&Snapshot<'_>) -> Result<Option<Commit>>,
        push_error: Option<String>,
    ) -> Result<Option<Appended>> {
        Ok(self
            .commit_cas(build)?
            .map(|(oid, _)| Appended::local(oid, push_error)))
    }

    /// Build on the tip and move the branch to the result if nobody moved it
    /// meanwhile; the commit and the tip it was built on.
    fn commit_cas(
        &self,
        build: &mut dyn FnMut(&Snapshot<'_>) -> Result<Option<Commit>>,
    ) -> Result<Option<(Oid, Option<Oid>)>> {
        let _turn = self.take_turn();
        for _ in 0..MAX_ATTEMPTS {
            let snap = self.snapshot()?;
            let Some(commit) = build(&snap)? else {
                return Ok(None);
            };
            let oid = self.write_commit(&snap, &commit)?;
            if self.move_ref(snap.tip, oid, &commit.summary)? {
                return Ok(Some((oid, snap.tip)));
            }
            tracing::debug!(branch = %self.branch, "the branch moved while committing; building again");
        }
        Err(self.kept_moving())
    }

    /// Writers on this machine take turns through a file lock, so under contention
    /// they queue instead of losing the race to each other again and again. The
    /// compare-and-swap is still what keeps the branch right (git itself and other
    /// tools do not take turns); the lock only keeps it fair. Without one (a file
    /// system with no locks, a build closure that appends) the race decides.
    pub(super) fn take_turn(&self) -> Turn {
        if !self.take_turns || TURNS_HELD.get() > 0 {
            return Turn(None);
        }
        let path = self.common_dir().join("relctl.lock");
        let locked = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .and_then(|file| file.lock().map(|()| file));
        match locked {
            Ok(file) => {
                TURNS_HELD.set(TURNS_HELD.get() + 1);
                Turn(Some(file))
            }
            Err(err) => {
                tracing::debug!(path = %path.display(), %err, "writing without taking turns");
                Turn(None)
            }
        }
    }

    pub(super) fn kept_moving(&self) -> anyhow::Error {
        Error::new(
            Exit::Busy,
            format!(
                "the records branch {} kept moving: {MAX_ATTEMPTS} attempts lost to other writers",
                self.branch
            ),
        )
        .with_hint("many relctl runs are writing at once; try again")
        .into()
    }

    pub(super) fn tip(&self) -> Result<Option<Oid>> {
        self.read_ref(&self.refname)
    }

    pub(super) fn read_ref(&self, name: &str) -> Result<Option<Oid>> {
        match self.repo.refname_to_id(name) {
            Ok(oid) => Ok(Some(oid)),
            Err(err) if err.code() == ErrorCode::NotFound => Ok(None),
            Err(err) => {
                Err(err).with_context(|| format!("reading {name} in {}", self.path().display()))
            }
        }
    }

    /// Whether `commit` has `ancestor` in its history (and is not it).
    pub(super) fn descends(&self, commit: Oid, ancestor: Oid) -> Result<bool> {
        self.repo
            .graph_descendant_of(commit, ancestor)
            .with_context(|| {
                format!(
                    "comparing commits {commit} and {ancestor} in {}",
                    self.path().display()
                )
            })
    }

    /// Move the branch to `new` only if it is still at `expected`; false if another
    /// writer got there first.
    pub(super) fn move_ref(&self, expected: Option<Oid>, new: Oid, why: &str) -> Result<bool> {
        if self.checked_out {
            return Err(self.checked_out_error());
        }
        let log = format!(
            "relctl: {}",
            one_line(why.lines().next().unwrap_or_default())
        );
        self.flush(new)?;
        // The zero id means "must not exist yet": libgit2 checks it under the ref's
        // lock, where a plain create checks before taking the lock and can overwrite.
        let old = expected.unwrap_or(Oid::ZERO_SHA1);
        // Another process updating the branch holds its lock for a moment; a lock still
        // there after a while is a file a killed process left, which no retry removes.
        let began = std::time::Instant::now();
        let mut backoff = Backoff::default();
        loop {
            match self
                .repo
                .reference_matching(&self.refname, new, true, old, &log)
            {
                Ok(_) => return Ok(true),
                Err(err) if err.code() == ErrorCode::Locked => {
                    if began.elapsed() >= super::remote::CLONE_BUSY_PATIENCE {
                        return Err(self.stale_lock());
                    }
                    backoff.wait();
                }
                Err(err)
                    if matches!(
                        err.code(),
                        ErrorCode::Exists | ErrorCode::Modified | ErrorCode::NotFound
                    ) =>
                {
                    return Ok(false);
                }
                Err(err) => {
                    return Err(err).with_context(|| {
                        format!("moving branch {} in {}", self.branch, self.path().display())
                    });
                }
            }
        }
    }

    /// Puts the objects `tip` needs that were written in memory on disk, as one pack,
    /// before a ref points at it (src/record/packs.rs).
    pub(super) fn flush(&self, tip: Oid) -> Result<()> {
        self.pending.flush(&self.repo, tip).with_context(|| {
            format!(
                "writing the record's objects into {}",
                self.path().display()
            )
        })
    }

    /// The branch's lock file stayed: exit 5, naming it.
    fn stale_lock(&self) -> anyhow::Error {
        let file = self.common_dir().join(format!("{}.lock", self.refname));
        Error::new(
            Exit::Busy,
            format!(
                "the records branch {} is locked by {}: another git or relctl process is \
                 updating it, or one that was killed left the file behind",
                self.branch,
                file.display()
            ),
        )
        .with_hint(format!(
            "if no git or relctl command is running in {}, remove that file and run the \
             command again; nothing more was recorded",
            self.path().display()
        ))
        .into()
    }

    pub(super) fn empty_tree(&self) -> Result<Tree<'_>> {
        let oid = self
            .repo
            .treebuilder(None)
            .and_then(|builder| builder.write())
            .with_context(|| format!("writing the empty tree in {}", self.path().display()))?;
        self.repo
            .find_tree(oid)
            .with_context(|| format!("reading the empty tree in {}", self.path().display()))
    }

    /// Write the commit object (not the ref): the snapshot's tree with the changed
    /// files replaced, its tip as the parent.
    fn write_commit(&self, snap: &Snapshot<'_>, commit: &Commit) -> Result<Oid> {
        let signature = signature(&commit.actor)?;
        let message = message(commit)?;
        // Last write of a path wins, as it would on a file system.
        let mut blobs = BTreeMap::new();
        for change in &commit.changes {
            check_path(&change.path)?;
            let blob = self.repo.blob(&change.content).with_context(|| {
                format!("writing {} into {}", change.path, self.path().display())
            })?;
            blobs.insert(change.path.as_str(), blob);
        }
        let mut updates = git2::build::TreeUpdateBuilder::new();
        for path in &commit.removed {
            check_path(path)?;
            updates.remove(path);
        }
        for (path, blob) in blobs {
            updates.upsert(path, blob, FileMode::Blob);
        }
        let base = match &snap.tree {
            Some(tree) => tree.clone(),
            None => self.empty_tree()?,
        };
        let tree = updates
            .create_updated(&self.repo, &base)
            .and_then(|oid| self.repo.find_tree(oid))
            .with_context(|| {
                format!(
                    "writing the tree of branch {} in {}",
                    self.branch,
                    self.path().display()
                )
            })?;
        let parent =
            match snap.tip {
                None => None,
                Some(oid) => Some(self.repo.find_commit(oid).with_context(|| {
                    format!("reading commit {oid} in {}", self.path().display())
                })?),
            };
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        self.write_commit_object(&signature, &signature, &message, &tree, &parents, true)
    }
}

impl<'r> Snapshot<'r> {
    /// The records branch this is a view of, for messages.
    pub fn branch(&self) -> &str {
        self.branch
    }

    /// The branch tip, `None` before the first commit.
    pub fn tip(&self) -> Option<Oid> {
        self.tip
    }

    /// A file's bytes at the tip, `None` if there is no such file.
    pub fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        match self.blob_id(path)? {
            Some(id) => self.read_blob(id, path).map(Some),
            None => Ok(None),
        }
    }

    /// The blob id of a file at the tip, `None` if there is no such file.
    pub fn blob_id(&self, path: &str) -> Result<Option<Oid>> {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let Some(tree) = self.dir_tree(dir)? else {
            return Ok(None);
        };
        let Some(entry) = tree.get_name(name) else {
            return Ok(None);
        };
        if entry.kind() != Some(ObjectType::Blob) {
            bail!("{path} in the record is not a file");
        }
        Ok(Some(entry.id()))
    }

    /// The id of the tree of directory `dir`, `None` when there is no such directory.
    /// Read from its parent's entry: the tree itself is not read.
    pub fn dir_id(&self, dir: &str) -> Result<Option<Oid>> {
        let dir = dir.trim_matches('/');
        let (parent, name) = dir.rsplit_once('/').unwrap_or(("", dir));
        if name.is_empty() {
            return Ok(self.tree.as_ref().map(Tree::id));
        }
        let Some(tree) = self.dir_tree(parent)? else {
            return Ok(None);
        };
        Ok(tree
            .get_name(name)
            .filter(|entry| entry.kind() == Some(ObjectType::Tree))
            .map(|entry| entry.id()))
    }

    /// The tree of directory `dir` ("" for the top); `None` when there is no such
    /// directory. Each one read is kept for the next lookup (`dirs`).
    fn dir_tree(&self, dir: &str) -> Result<Option<Tree<'r>>> {
        let Some(tree) = &self.tree else {
            return Ok(None);
        };
        let dir = dir.trim_matches('/');
        if dir.is_empty() {
            return Ok(Some(tree.clone()));
        }
        if let Some(kept) = self.dirs.borrow().get(dir) {
            return Ok(Some(kept.clone()));
        }
        let Some(id) = self.dir_id(dir)? else {
            return Ok(None);
        };
        let found = self
            .repo
            .find_tree(id)
            .with_context(|| format!("reading {dir}/ from the record"))?;
        self.dirs
            .borrow_mut()
            .insert(dir.to_string(), found.clone());
        Ok(Some(found))
    }

    /// The bytes of the blob `id`, the file at `path` (named in errors).
    pub fn read_blob(&self, id: Oid, path: &str) -> Result<Vec<u8>> {
        let blob = self
            .repo
            .find_blob(id)
            .with_context(|| format!("reading {path} from the record"))?;
        Ok(blob.content().to_vec())
    }

    /// The names of the files directly under `dir` ("" for the top), in git's order.
    pub fn list(&self, dir: &str) -> Result<Vec<String>> {
        self.entries(dir, ObjectType::Blob)
    }

    /// The names of the directories directly under `dir` ("" for the top), in git's order.
    pub fn dirs(&self, dir: &str) -> Result<Vec<String>> {
        self.entries(dir, ObjectType::Tree)
    }

    fn entries(&self, dir: &str, kind: ObjectType) -> Result<Vec<String>> {
        let Some(tree) = self.dir_tree(dir)? else {
            return Ok(Vec::new());
        };
        Ok(tree
            .iter()
            .filter(|entry| entry.kind() == Some(kind))
            .map(|entry| String::from_utf8_lossy(entry.name_bytes()).into_owned())
            .collect())
    }
}

/// The summary line, a blank line, then one `Key: value` trailer a line.
fn message(commit: &Commit) -> Result<String> {
    let summary = one_line(&commit.summary);
    if summary.is_empty() {
        bail!("a record commit needs a summary");
    }
    let mut message = summary;
    message.push('\n');
    if !commit.trailers.is_empty() {
        message.push('\n');
    }
    for (key, value) in &commit.trailers {
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            bail!("`{key}` is not a valid git trailer key");
        }
        message.push_str(&format!("{key}: {}\n", one_line(value)));
    }
    Ok(message)
}

/// A commit's `gpgsig` header and the bytes it signs (the commit without that header),
/// as git reads them; `None` when the commit is not signed.
pub(super) fn split_signature(commit: &[u8]) -> Option<(String, Vec<u8>)> {
    let headers = commit
        .windows(2)
        .position(|w| w == b"\n\n")
        .map_or(commit.len(), |end| end + 1);
    let mut at = 0;
    while at < headers {
        let end = commit[at..headers]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(headers, |n| at + n + 1);
        if let Some(first) = commit[at..end].strip_prefix(b"gpgsig ") {
            let mut signature = first.strip_suffix(b"\n").unwrap_or(first).to_vec();
            let mut next = end;
            while next < headers && commit[next] == b' ' {
                let stop = commit[next..headers]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(headers, |n| next + n + 1);
                let line = &commit[next + 1..stop];
                signature.push(b'\n');
                signature.extend_from_slice(line.strip_suffix(b"\n").unwrap_or(line));
                next = stop;
            }
            let mut signed = commit[..at].to_vec();
            signed.extend_from_slice(&commit[next..]);
            return Some((String::from_utf8_lossy(&signature).into_owned(), signed));
        }
        at = end;
    }
    None
}

/// A line break would end the summary or split a trailer; a control character (a NUL
/// git cannot hold, an escape a terminal would act on) is written visibly.
fn one_line(text: &str) -> String {
    crate::text::visible(text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Author and committer for `actor`: an email stays an email, `Name <email>` is
/// split, anything else gets an address nobody can own.
pub(super) fn signature(actor: &str) -> Result<Signature<'static>> {
    let actor = actor.trim();
    let (name, email) = if let Some((name, rest)) = actor.split_once('<')
        && let Some(email) = rest.trim().strip_suffix('>')
        && is_email(email.trim())
    {
        let email = email.trim();
        let name = name.trim();
        (
            if name.is_empty() { email } else { name },
            email.to_string(),
        )
    } else if is_email(actor) {
        (actor, actor.to_string())
    } else {
        let local: String = actor
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-+".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let local = local.trim_matches(|c| c == '-' || c == '.');
        let local = if local.is_empty() { "relctl" } else { local };
        (actor, format!("{local}@relctl.invalid"))
    };
    // git keeps angle brackets and line breaks out of names.
    let name: String = one_line(name)
        .chars()
        .filter(|c| !"<>".contains(*c))
        .collect();
    if name.is_empty() {
        bail!("a record commit needs an actor");
    }
    Signature::now(&name, &email).with_context(|| format!("making a git signature for `{actor}`"))
}

fn is_email(text: &str) -> bool {
    let mut parts = text.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !text.chars().any(|c| c.is_whitespace() || "<>".contains(c))
}

/// Paths are the engine's, but a bad one would write a tree `git fsck` rejects.
fn check_path(path: &str) -> Result<()> {
    let bad = path.is_empty()
        || path.contains('\0')
        || path.split('/').any(|part| {
            part.is_empty() || part == "." || part == ".." || part.eq_ignore_ascii_case(".git")
        });
    if bad {
        bail!("`{path}` is not a valid path in the record");
    }
    Ok(())
}

/// Rejected pushes while the remote's tip stays where it was.
#[derive(Default)]
pub(super) struct Refusals {
    since: Option<(Option<Oid>, Instant)>,
}

impl Refusals {
    /// Notes a rejection with the remote at `tip`: true once rejections with the tip
    /// there have gone on for `REFUSAL_PATIENCE`.
    pub(super) fn exhausted(&mut self, tip: Option<Oid>) -> bool {
        match self.since {
            Some((seen, began)) if seen == tip => began.elapsed() >= REFUSAL_PATIENCE,
            _ => {
                self.since = Some((tip, Instant::now()));
                false
            }
        }
    }
}

/// Randomised, growing pauses between lost races, so writers that collided do not
/// collide again in lock-step.
#[derive(Default)]
pub(super) struct Backoff {
    round: u32,
}

impl Backoff {
    pub(super) fn wait(&mut self) {
        use std::hash::BuildHasher;
        let cap_micros = (100u64 << self.round.min(8)).min(25_000);
        self.round += 1;
        let random = std::collections::hash_map::RandomState::new().hash_one(self.round);
        std::thread::sleep(Duration::from_micros(random % cap_micros));
    }
}
