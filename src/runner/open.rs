//! Where the plan's record is and how this process opens it: the records repository
//! beside the plan or relctl's clone of a shared one (`record.url`), `--offline` for
//! every store, and the source commit a release is built from.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};

use crate::plan::Plan;
use crate::record::Store;

/// `--offline`, for every store this process opens.
static OFFLINE: AtomicBool = AtomicBool::new(false);

/// Keep every store of this process off its remote (`--offline`).
pub fn set_offline(offline: bool) {
    OFFLINE.store(offline, Ordering::Relaxed);
}

/// Opens the plan's record store, to record in it.
pub fn open_store(plan: &Plan) -> anyhow::Result<Store> {
    let store = match &plan.record.url {
        Some(url) => Store::open_shared(url, &plan.record.branch)?,
        None => {
            let (dir, branch, remote) = record_place(plan);
            Store::open(&dir, branch, remote)?
        }
    };
    let store = signing(store, plan)?
        .resolving(resolver())
        .relocating(Box::new(crate::format::relocations))
        .keyed_by(crate::format::trailer::APP)
        .writing_for(&plan.app);
    store
        .offline(OFFLINE.load(Ordering::Relaxed))
        .holding_only(crate::format::LAYOUT)
}

/// How this process's stores settle a replay onto a remote tip that moved
/// (format::resolve), saying on stderr what it dropped.
fn resolver() -> crate::record::Resolver {
    Box::new(|before, ours, theirs, paths| {
        crate::format::resolve(before, ours, theirs, paths, &crate::ui::warn)
    })
}

/// Under a plan whose gates ask for signatures, every commit is signed with the
/// caller's git signing key when one is configured: an approval proves its approver,
/// a start its starter (docs/trust.md).
fn signing(store: Store, plan: &Plan) -> anyhow::Result<Store> {
    if !crate::trust::required(plan) {
        return Ok(store);
    }
    Ok(
        match crate::signing::configured(&crate::identity::plan_dir(plan))? {
            Some(key) => store.signing(
                &crate::identity::Identity::resolve(plan).actor,
                Box::new(move |data| key.sign(data)),
            ),
            None => store,
        },
    )
}

/// Opens the plan's record store for a command that only reads it.
pub fn open_store_to_read(plan: &Plan) -> anyhow::Result<Store> {
    let store = match &plan.record.url {
        Some(url) => Store::open_shared_to_read(url, &plan.record.branch)?,
        None => {
            let (dir, branch, remote) = record_place(plan);
            Store::open_to_read(&dir, branch, remote)?
        }
    };
    // A reader may replay unpushed commits onto the remote's tip: as a writer does.
    let store = signing(store, plan)?
        .resolving(resolver())
        .relocating(Box::new(crate::format::relocations))
        .keyed_by(crate::format::trailer::APP);
    store
        .offline(OFFLINE.load(Ordering::Relaxed))
        .holding_only(crate::format::LAYOUT)
}

/// Opens a records repository named on the command line (`--records`), without a plan,
/// to read `branch`: a directory as that repository has it, or a URL (as `record.url`
/// takes it) through relctl's clone of it.
pub fn open_records_to_read(place: &str, branch: &str) -> anyhow::Result<Store> {
    let scp_like = place
        .split_once(':')
        .is_some_and(|(host, _)| host.len() > 1 && !host.contains('/'));
    let store = if place.contains("://") || (scp_like && !Path::new(place).exists()) {
        Store::open_shared_to_read(place, branch)?
    } else {
        Store::open_to_read(Path::new(place), branch, None)?
    };
    store
        .keyed_by(crate::format::trailer::APP)
        .offline(OFFLINE.load(Ordering::Relaxed))
        .holding_only(crate::format::LAYOUT)
}

/// The repository, branch and remote of the plan's record.
fn record_place(plan: &Plan) -> (std::path::PathBuf, &str, Option<&str>) {
    let base = plan
        .path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir = base.join(&plan.record.repo);
    let remote = plan.record.remote.as_deref();
    // `--offline` leaves the remote alone, so a repository without it (a fresh copy of
    // a plan that names `origin`) is read and written as if the plan named none.
    let remote = remote.filter(|name| {
        !OFFLINE.load(Ordering::Relaxed)
            || git2::Repository::open(&dir).is_ok_and(|repo| repo.find_remote(name).is_ok())
    });
    (dir, &plan.record.branch, remote)
}

/// The commit the plan's repository is on (the release's source) and its committer
/// time, which the record keeps so that `report` needs no source repository.
pub fn source_commit(plan: &Plan) -> Option<(String, DateTime<Utc>)> {
    let base = crate::notes::plan_dir(plan);
    let repo = git2::Repository::discover(base).ok()?;
    let commit = repo.head().ok()?.peel_to_commit().ok()?;
    let time = DateTime::from_timestamp(commit.time().seconds(), 0)?;
    Some((commit.id().to_string(), time))
}
