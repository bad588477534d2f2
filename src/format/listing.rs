//! Which releases the record holds, from the names of their files alone.

use super::layout::{self, ENVIRONMENTS, RELEASES};
use crate::record::Snapshot;

/// Every release id the record holds, in no particular order: the files in the
/// release directories and, for records written before them, directly under `releases/`.
pub fn release_ids(snapshot: &Snapshot) -> anyhow::Result<Vec<String>> {
    let mut ids = names_in(snapshot, RELEASES)?;
    for dir in snapshot.dirs(RELEASES)? {
        ids.extend(names_in(snapshot, &format!("{RELEASES}/{dir}"))?);
    }
    Ok(ids)
}

fn names_in(snapshot: &Snapshot, dir: &str) -> anyhow::Result<Vec<String>> {
    Ok(snapshot
        .list(dir)?
        .iter()
        .filter_map(|name| layout::release_of(name).map(str::to_string))
        .collect())
}

/// The apps the record holds, sorted.
pub fn app_names(snapshot: &Snapshot) -> anyhow::Result<Vec<String>> {
    for id in release_ids(snapshot)? {
        if let Some(file) = super::read_release(snapshot, &id)? {
            return Ok(vec![file.app]);
        }
    }
    Ok(Vec::new())
}

/// The environments the record holds a file for under `app`, sorted.
pub fn env_names(snapshot: &Snapshot, _app: &str) -> anyhow::Result<Vec<String>> {
    let mut names: Vec<String> = snapshot
        .list(ENVIRONMENTS)?
        .iter()
        .filter_map(|name| name.strip_suffix(".yaml").map(str::to_string))
        .collect();
    names.sort();
    Ok(names)
}
