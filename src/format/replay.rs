//! Replaying a local commit onto a remote tip that moved: when both sides appended
//! events to the same release file, the commit's own events are appended again to the
//! remote's version of the file (and the summary line beside it written for the
//! result), instead of the conflict a line merge of the YAML would see.

use std::collections::BTreeMap;

use super::files::{decode, encode};
use super::layout::summary_beside;
use super::summary::{self, ReleaseLine};
use crate::engine::{Event, EventKind, ReleaseFile};
use crate::record::{Change, Snapshot};

/// The files of `paths` (the ones a line merge found in conflict) merged by event:
/// `before` is the commit's parent, `theirs` the commit, `ours` the tip it is replayed
/// onto. `None` when any of them is not a release file both sides only appended to
/// (or the summary beside one). An approval or a rejection the commit made is dropped,
/// and `tell` told so, when the tip changed where the release stands in its environment
/// meanwhile (rejected, rolled back, entered again, live): it was a decision on a visit
/// that is over, and its author must decide again.
pub fn resolve(
    before: &Snapshot,
    ours: &Snapshot,
    theirs: &Snapshot,
    paths: &[String],
    tell: &dyn Fn(&str),
) -> anyhow::Result<Option<Vec<Change>>> {
    let mut changes = Vec::new();
    // The summaries to write again: each from the tip's, with the merged releases' lines.
    let mut summaries: BTreeMap<String, Vec<(ReleaseFile, Vec<u8>)>> = BTreeMap::new();
    for path in paths {
        if path.ends_with(".yaml") {
            let Some(merged) = reappend(before, ours, theirs, path, tell)? else {
                return Ok(None);
            };
            let content = encode(&merged, path)?;
            if let Some(summary) = summary_beside(path) {
                summaries
                    .entry(summary)
                    .or_default()
                    .push((merged, content.clone()));
            }
            changes.push(Change {
                path: path.clone(),
                content,
            });
        } else if !summaries.contains_key(path) {
            summaries.insert(path.clone(), Vec::new());
        }
    }
    for (path, releases) in summaries {
        if releases.is_empty() {
            // A summary in conflict without a release file merged beside it.
            return Ok(None);
        }
        let mut text = ours
            .read(&path)?
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .unwrap_or_default();
        for (release, content) in &releases {
            let blob = git2::Oid::hash_object(git2::ObjectType::Blob, content)?;
            let line = summary::encode(&blob, &ReleaseLine::of(release));
            text = summary::with_line(&text, &release.release, line.as_deref());
        }
        changes.push(Change {
            path,
            content: text.into_bytes(),
        });
    }
    Ok(Some(changes))
}

/// The tip's release file at `path` with the events the commit appended, when both
/// sides only appended events to the same release.
fn reappend(
    before: &Snapshot,
    ours: &Snapshot,
    theirs: &Snapshot,
    path: &str,
    tell: &dyn Fn(&str),
) -> anyhow::Result<Option<ReleaseFile>> {
    let read = |snapshot: &Snapshot| decode::<ReleaseFile>(snapshot, path).ok().flatten();
    let (Some(base), Some(mut tip), Some(mine)) = (read(before), read(ours), read(theirs)) else {
        return Ok(None);
    };
    let identity = |file: &ReleaseFile| ReleaseFile {
        events: Vec::new(),
        ..file.clone()
    };
    if identity(&base) != identity(&tip)
        || identity(&base) != identity(&mine)
        || !tip.events.starts_with(&base.events)
        || !mine.events.starts_with(&base.events)
    {
        return Ok(None);
    }
    let meanwhile = tip.events[base.events.len()..].to_vec();
    for event in &mine.events[base.events.len()..] {
        if tip.events.contains(event) {
            continue;
        }
        if let Some(moved) = moved_on(event, &meanwhile) {
            tell(&format!(
                "{} of {} in {} made while offline is dropped: meanwhile the release was {} there ({} at {}); decide again if it still stands",
                event.kind.describe(),
                tip.release,
                event.env.as_deref().unwrap_or("-"),
                moved.kind.describe(),
                moved.actor,
                moved.at.format("%Y-%m-%d %H:%M:%SZ")
            ));
            continue;
        }
        tip.events.push(event.clone());
    }
    Ok(Some(tip))
}

/// The event among `meanwhile` that ended the visit `decision` (an approval or a
/// rejection) was made in: the release rejected, rolled back, aborted, live or entered
/// again in that environment.
fn moved_on<'e>(decision: &Event, meanwhile: &'e [Event]) -> Option<&'e Event> {
    if !matches!(
        decision.kind,
        EventKind::Approved { .. } | EventKind::Rejected { .. }
    ) {
        return None;
    }
    meanwhile.iter().find(|e| {
        let here = e.env == decision.env || e.env.is_none();
        here && matches!(
            e.kind,
            EventKind::Entered { .. }
                | EventKind::Rejected { .. }
                | EventKind::RollbackStarted { .. }
                | EventKind::RolledBack { .. }
                | EventKind::Aborted { .. }
                | EventKind::Live
        )
    })
}
