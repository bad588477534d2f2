//! An environment file at a glance: what is live, the lock and the last rollback,
//! without its `previous` and `rejected` lists. The lists are most of the file (20
//! earlier releases of six fields each, and every release ever rolled back there) and
//! most of the time parsing it, and a view of every app's environments (`status
//! --all`) needs neither. relctl writes each list as a top-level key on a line of its
//! own followed by indented or `- ` lines, so those lines are left out and the rest
//! goes to the YAML parser; a file that does not read that way is read whole instead.
//!
//! What a file says at a glance is kept between commands by its blob id (a blob never
//! changes, so neither does what it says), beside the repository's objects in
//! `relctl-status.cache`: a view of a thousand apps then reads no file that has not
//! changed since the last one.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use git2::Oid;

use super::files::{decode_with, read_env, read_release};
use super::layout::{env_path, release_path};
use crate::engine::{EnvFile, ReleaseFile};
use crate::record::Snapshot;

/// Environment files at a glance, by blob id: those kept from earlier views and those
/// read by this one; and notes the view made of release files, by blob id and
/// environment (`<blob>:<env>`).
pub struct Glances {
    path: PathBuf,
    kept: HashMap<Oid, EnvFile>,
    used: HashSet<Oid>,
    notes: HashMap<String, String>,
    used_notes: HashSet<String>,
    changed: bool,
}

const CACHE_FILE: &str = "relctl-status.cache";
const CACHE_HEADER: &str = "relctl glance 1";

impl Glances {
    /// The glances kept in the repository whose shared git directory is `common_dir`;
    /// none when the cache is missing or unreadable (it is only ever a shortcut).
    pub fn open(common_dir: &Path) -> Glances {
        let path = common_dir.join(CACHE_FILE);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let mut lines = text.lines();
        let (mut kept, mut notes) = (HashMap::new(), HashMap::new());
        if lines.next() == Some(CACHE_HEADER) {
            for (key, value) in lines.filter_map(|line| line.split_once('\t')) {
                if key.contains(':') {
                    notes.insert(key.to_string(), value.to_string());
                } else if let (Ok(oid), Ok(file)) =
                    (Oid::from_str(key), serde_json::from_str(value))
                {
                    kept.insert(oid, file);
                }
            }
        }
        Glances {
            path,
            kept,
            used: HashSet::new(),
            notes,
            used_notes: HashSet::new(),
            changed: false,
        }
    }

    /// `app`'s file for environment `env` with its `previous` and `rejected` lists left
    /// empty: for views of many environments, never for a decision.
    pub fn env(&mut self, snapshot: &Snapshot, app: &str, env: &str) -> anyhow::Result<EnvFile> {
        let path = env_path(app, env);
        let Some(id) = snapshot.blob_id(&path)? else {
            // A record not yet moved under `apps/`: its shared file is read whole.
            return read_env(snapshot, app, env);
        };
        self.used.insert(id);
        if let Some(file) = self.kept.get(&id) {
            return Ok(file.clone());
        }
        let Some(Glance(file)) = decode_with(snapshot, &path, parse)? else {
            return read_env(snapshot, app, env);
        };
        self.kept.insert(id, file.clone());
        self.changed = true;
        Ok(file)
    }

    /// What `make` says of release `id` of `app` for environment `env`, from its file
    /// (`None` when the record has none): kept by the file's blob id, so it is made
    /// again only when the file changed. `make` must say it in one line.
    pub fn release_note(
        &mut self,
        snapshot: &Snapshot,
        app: &str,
        id: &str,
        env: &str,
        make: impl FnOnce(Option<&ReleaseFile>) -> String,
    ) -> anyhow::Result<String> {
        let Some(blob) = snapshot.blob_id(&release_path(app, id))? else {
            return Ok(make(read_release(snapshot, app, id)?.as_ref()));
        };
        let key = format!("{blob}:{env}");
        self.used_notes.insert(key.clone());
        if let Some(note) = self.notes.get(&key) {
            return Ok(note.clone());
        }
        let note = make(read_release(snapshot, app, id)?.as_ref());
        if !note.contains('\n') {
            self.notes.insert(key, note.clone());
            self.changed = true;
        }
        Ok(note)
    }

    /// Keeps what this view read for the next one, through a temporary file and a
    /// rename, so that a reader never sees half of it. Glances no view read any more
    /// are dropped once they outnumber the ones read. A cache that cannot be written
    /// only costs the next view time.
    pub fn save(mut self) {
        let stale = self.kept.len() - self.used.len().min(self.kept.len());
        if stale > self.used.len() {
            self.kept.retain(|oid, _| self.used.contains(oid));
            self.changed = true;
        }
        if self.notes.len() > 2 * self.used_notes.len() + 64 {
            self.notes.retain(|key, _| self.used_notes.contains(key));
            self.changed = true;
        }
        if !self.changed {
            return;
        }
        let mut text = String::with_capacity(self.kept.len() * 400 + 32);
        text.push_str(CACHE_HEADER);
        text.push('\n');
        for (oid, file) in &self.kept {
            if let Ok(json) = serde_json::to_string(file) {
                text.push_str(&format!("{oid}\t{json}\n"));
            }
        }
        for (key, note) in &self.notes {
            text.push_str(&format!("{key}\t{note}\n"));
        }
        let temp = self
            .path
            .with_extension(format!("{}.tmp", std::process::id()));
        let written = std::fs::write(&temp, text).and_then(|()| std::fs::rename(&temp, &self.path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temp);
            tracing::debug!("cannot write the status cache {}: {e}", self.path.display());
        }
    }
}

/// An environment file read at a glance: its lists are empty whatever the file holds.
/// A type of its own, so that the decoded-file cache never hands it to a reader that
/// wants the whole file.
#[derive(Debug, Clone)]
pub struct Glance(EnvFile);

/// The top-level keys left out.
const LISTS: [&str; 2] = ["previous:\n", "rejected:\n"];

pub fn parse(text: &str) -> Result<Glance, serde_saphyr::Error> {
    let mut kept = String::with_capacity(text.len().min(4096));
    let mut skipping = false;
    for line in text.split_inclusive('\n') {
        if line.starts_with(|c: char| !c.is_whitespace() && c != '-') {
            skipping = LISTS.contains(&line);
        }
        if !skipping {
            kept.push_str(line);
        }
    }
    match serde_saphyr::from_str::<EnvFile>(&kept) {
        Ok(mut file) => {
            file.previous.clear();
            file.rejected.clear();
            Ok(Glance(file))
        }
        Err(_) => serde_saphyr::from_str(text).map(Glance),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_whole_file_says_but_the_lists() {
        let text = "environment: production\nlive:\n  release: a-000000000001\n  by: x@example.com\n  artifact: r@sha256:00\n  digest: sha256:00\n  version: \"1\"\n  since: \"2026-01-01T00:00:00Z\"\nprevious:\n- release: a-000000000000\n  by: x@example.com\n  artifact: r@sha256:01\n  digest: sha256:01\n  version: \"0\"\n  since: \"2025-01-01T00:00:00Z\"\nlock:\n  release: a-000000000002\n  by: y@example.com\n  since: \"2026-01-02T00:00:00Z\"\nrejected:\n- a-00000000000f\nrolled_back: null\n";
        let mut whole: EnvFile = serde_saphyr::from_str(text).expect("the whole file");
        assert_eq!(whole.previous.len(), 1);
        assert_eq!(whole.rejected.len(), 1);
        whole.previous.clear();
        whole.rejected.clear();
        assert_eq!(parse(text).expect("at a glance").0, whole);
    }
}
