//! Replaying a local commit onto a remote tip that moved: when both sides appended
//! events to the same release file, the commit's own events are appended again to the
//! remote's version of the file (and the summary line beside it written for the
//! result), instead of the conflict a line merge of the YAML would see.

use std::collections::BTreeMap;

use super::files::{decode, encode};
use super::layout::summary_beside;
use super::summary::{self, ReleaseLine};
use crate::engine::ReleaseFile;
use crate::record::{Change, Snapshot};

/// The files of `paths` (the ones a line merge found in conflict) merged by event:
/// `before` is the commit's parent, `theirs` the commit, `ours` the tip it is replayed
/// onto. `None` when any of them is not a release file both sides only appended to
/// (or the summary beside one).
pub fn resolve(
    before: &Snapshot,
    ours: &Snapshot,
    theirs: &Snapshot,
    paths: &[String],
) -> anyhow::Result<Option<Vec<Change>>> {
    let mut changes = Vec::new();
    // The summaries to write again: each from the tip's, with the merged releases' lines.
    let mut summaries: BTreeMap<String, Vec<(ReleaseFile, Vec<u8>)>> = BTreeMap::new();
    for path in paths {
        if path.ends_with(".yaml") {
            let Some(merged) = reappend(before, ours, theirs, path)? else {
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
    for event in &mine.events[base.events.len()..] {
        if !tip.events.contains(event) {
            tip.events.push(event.clone());
        }
    }
    Ok(Some(tip))
}
