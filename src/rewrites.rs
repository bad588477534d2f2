//! A release file is an event log relctl only appends to: its header (artifact,
//! digest, version, source commit, app…) is written once with its first event, and each
//! later commit adds events after the ones already there. This module walks the records
//! branch for one release and names the commits that did anything else (changed or
//! removed what was recorded), following relctl's own move of the record under `apps/`
//! (the same bytes at a new path), and the merge commits that hold the file (relctl
//! writes none: a merge may bring in another line's version of it, whichever parent it
//! names first). docs/trust.md says what a signed gate makes of them.

use std::collections::HashMap;

use anyhow::Result;
use git2::Oid;

use crate::engine::{Event, ReleaseFile};
use crate::record::Store;

/// A record commit that changed or removed what the release file had recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    pub commit: Oid,
    /// What it changed, in words.
    pub what: String,
    /// Whether it changed the source commit (top level or in the `started` event).
    pub source: bool,
    /// Whether it is a merge: the release's record is then not one line, and which of
    /// its lines started the release or decided on it cannot be told.
    pub merge: bool,
}

/// The release file's history on the records branch.
#[derive(Debug, Default, Clone)]
pub struct History {
    /// The file as the commit that first wrote it wrote it, and that commit.
    pub first: Option<(Oid, ReleaseFile)>,
    /// Every rewrite, oldest first.
    pub rewrites: Vec<Rewrite>,
    /// Each commit's place on the branch, oldest first.
    place: HashMap<Oid, usize>,
}

impl History {
    /// The first rewrite made after `commit` (which wrote an event still there): what
    /// makes that event no longer the one its commit recorded in the release as it was.
    pub fn after(&self, commit: Oid) -> Option<&Rewrite> {
        let at = *self.place.get(&commit)?;
        self.rewrites
            .iter()
            .find(|r| self.place.get(&r.commit).is_some_and(|p| *p > at))
    }

    /// A rewrite that changed the release's source commit.
    pub fn moved_source(&self) -> Option<&Rewrite> {
        self.rewrites.iter().find(|r| r.source)
    }

    /// A merge commit that holds the release file in itself or in a parent.
    pub fn merge(&self) -> Option<&Rewrite> {
        self.rewrites.iter().find(|r| r.merge)
    }
}

/// The last walk this process made of each release, with the branch tip it read: a
/// command asks several times (counting, `history`'s marks, the start's signature) of
/// the same tip.
type Walked = HashMap<(String, String), (Option<Oid>, History)>;
static WALKED: std::sync::Mutex<Option<Walked>> = std::sync::Mutex::new(None);

/// Walks the records branch from its first commit, reading release `file.release` only
/// where its bytes changed.
pub fn walk(store: &Store, file: &ReleaseFile) -> Result<History> {
    let tip = store.snapshot()?.tip();
    let key = (file.app.clone(), file.release.clone());
    let recall = |walked: &mut Option<Walked>| {
        walked
            .get_or_insert_default()
            .get(&key)
            .filter(|(at, _)| *at == tip)
            .map(|(_, history)| history.clone())
    };
    if let Some(history) = WALKED.lock().ok().as_deref_mut().and_then(recall) {
        return Ok(history);
    }
    let history = walk_uncached(store, file)?;
    if let Ok(mut walked) = WALKED.lock() {
        walked
            .get_or_insert_default()
            .insert(key, (tip, history.clone()));
    }
    Ok(history)
}

fn walk_uncached(store: &Store, file: &ReleaseFile) -> Result<History> {
    let mut history = History::default();
    let mut last_blob = None;
    let mut last: Option<ReleaseFile> = None;
    for (place, entry) in store.log(None)?.iter().rev().enumerate() {
        history.place.insert(entry.oid, place);
        let (snapshot, _) = store.snapshot_at(entry.oid)?;
        let blob = crate::format::release_blob(&snapshot, &file.app, &file.release)?;
        // relctl writes a line of commits; a merge may bring in a side line's version of
        // the file (a rejection erased, a second start), whichever parent comes first.
        if entry.parents.len() > 1 {
            let mut held = blob.is_some();
            for parent in &entry.parents {
                let (at, _) = store.snapshot_at(*parent)?;
                held |= crate::format::release_blob(&at, &file.app, &file.release)?.is_some();
            }
            if held {
                history.rewrites.push(Rewrite {
                    commit: entry.oid,
                    what: format!(
                        "merged {} lines of the record that hold the release file (relctl writes no merges)",
                        entry.parents.len()
                    ),
                    source: false,
                    merge: true,
                });
            }
        }
        if blob == last_blob {
            continue;
        }
        last_blob = blob;
        let now = match blob {
            None => None,
            Some(_) => crate::format::read_release(&snapshot, &file.app, &file.release)
                .ok()
                .flatten(),
        };
        let Some(before) = &last else {
            if let Some(now) = &now {
                history
                    .first
                    .get_or_insert_with(|| (entry.oid, now.clone()));
                last = Some(now.clone());
            }
            continue;
        };
        let what = match &now {
            None if blob.is_none() => Some("removed the release file".to_string()),
            None => Some("left the release file unreadable".to_string()),
            Some(now) => changed(before, now),
        };
        if let Some(what) = what {
            let source = now
                .as_ref()
                .is_some_and(|now| source_of(now) != source_of(before));
            history.rewrites.push(Rewrite {
                commit: entry.oid,
                what,
                source,
                merge: false,
            });
        }
        if let Some(now) = now {
            last = Some(now);
        }
    }
    Ok(history)
}

/// The source commit a release file gives, top level and in its `started` event.
pub fn source_of(file: &ReleaseFile) -> (Option<&str>, Option<&str>) {
    let started = match file.events.first().map(|e| &e.kind) {
        Some(crate::engine::EventKind::Started { source_commit, .. }) => source_commit.as_deref(),
        _ => file.source_commit.as_deref(),
    };
    (file.source_commit.as_deref(), started)
}

/// What `after` changed of `before` rather than appending to it, `None` if nothing.
fn changed(before: &ReleaseFile, after: &ReleaseFile) -> Option<String> {
    let fields: [(&str, String, String); 8] = [
        ("release", before.release.clone(), after.release.clone()),
        ("app", before.app.clone(), after.app.clone()),
        ("artifact", before.artifact.clone(), after.artifact.clone()),
        ("digest", before.digest.clone(), after.digest.clone()),
        ("version", before.version.clone(), after.version.clone()),
        (
            "source_commit",
            before.source_commit.clone().unwrap_or_default(),
            after.source_commit.clone().unwrap_or_default(),
        ),
        (
            "source_commit_time",
            format!("{:?}", before.source_commit_time),
            format!("{:?}", after.source_commit_time),
        ),
        (
            "notes",
            before.notes.clone().unwrap_or_default(),
            after.notes.clone().unwrap_or_default(),
        ),
    ];
    if let Some((name, was, now)) = fields.iter().find(|(_, was, now)| was != now) {
        return Some(if *name == "notes" || *name == "source_commit_time" {
            format!("changed the release's {name}")
        } else {
            format!(
                "changed the release's {name} from `{}` to `{}`",
                crate::text::visible(was),
                crate::text::visible(now)
            )
        });
    }
    let describe = |i: usize, e: &Event| {
        format!(
            "event {} ({} by {})",
            i + 1,
            e.kind.describe(),
            crate::text::visible(&e.actor)
        )
    };
    if let Some((i, was)) = before
        .events
        .iter()
        .enumerate()
        .find(|(i, e)| after.events.get(*i).is_some_and(|now| now != *e))
    {
        return Some(format!("changed {}", describe(i, was)));
    }
    if after.events.len() < before.events.len() {
        let gone = &before.events[after.events.len()..];
        let mut what = format!(
            "removed {} event(s), from {}",
            gone.len(),
            describe(after.events.len(), &gone[0])
        );
        if let Some(last) = gone.last().filter(|_| gone.len() > 1) {
            what.push_str(&format!(" to {}", describe(before.events.len() - 1, last)));
        }
        return Some(what);
    }
    None
}
