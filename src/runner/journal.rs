//! The runner's view of the record: the release file and the environments' state files
//! read from the store, and events written back, one commit each.

use std::collections::BTreeMap;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::engine::{EnvFile, Event, EventKind, ReleaseFile};
use crate::error::{Error, Exit};
use crate::record::{Appended, Change, Commit, Snapshot, Store};
use crate::runner::rejected;
use crate::runner::summary::{self, Summary};

/// A release's file: `releases/<xx>/<id>.yaml`, `xx` the first two hex digits of the
/// digest its id ends with (`checkout-4f2a9c1be0d3` is in `releases/4f/`). Spread over
/// 256 directories, a commit rewrites a few small trees, not one entry per release.
pub fn release_path(id: &str) -> String {
    format!("releases/{}/{id}.yaml", shard(id))
}

/// Where releases were written before they were spread over directories; still read,
/// and a release found there is written there.
fn flat_release_path(id: &str) -> String {
    format!("releases/{id}.yaml")
}

fn shard(id: &str) -> String {
    let tail = id.rsplit('-').next().unwrap_or(id);
    match tail.get(..2) {
        Some(two) if two.bytes().all(|b| b.is_ascii_hexdigit()) => two.to_ascii_lowercase(),
        // Not an id relctl made from a digest: a digest of the id spreads it all the same.
        _ => {
            use sha2::Digest as _;
            hex::encode(&sha2::Sha256::digest(id.as_bytes())[..1])
        }
    }
}

/// The top-level directories of the records branch: all that relctl writes there.
pub const LAYOUT: &[&str] = &["environments", "releases"];

pub fn env_path(name: &str) -> String {
    format!("environments/{name}.yaml")
}

fn decode<T>(snapshot: &Snapshot, path: &str) -> anyhow::Result<Option<T>>
where
    T: DeserializeOwned + Clone + Send + Sync + 'static,
{
    decode_with(snapshot, path, |text| serde_saphyr::from_str(text))
}

fn decode_with<T>(
    snapshot: &Snapshot,
    path: &str,
    parse: fn(&str) -> Result<T, serde_saphyr::Error>,
) -> anyhow::Result<Option<T>>
where
    T: Clone + Send + Sync + 'static,
{
    let Some(id) = snapshot.blob_id(path)? else {
        return Ok(None);
    };
    if let Some(file) = decoded::recall(id) {
        return Ok(Some(file));
    }
    let bytes = snapshot.read_blob(id, path)?;
    let text = String::from_utf8(bytes)
        .map_err(anyhow::Error::from)
        .context(unreadable(snapshot, path))?;
    let file = parse(&text).context(unreadable(snapshot, path))?;
    decoded::keep(id, &file);
    Ok(Some(file))
}

/// A record file that does not parse was edited outside relctl (relctl only writes
/// what it can read back): name it where git can show it, and how to undo the edit.
fn unreadable(snapshot: &Snapshot, path: &str) -> Error {
    let at = format!("{}:{path}", snapshot.branch());
    Error::new(Exit::Failed, format!("cannot read the record file {at}")).with_hint(format!(
        "it was changed outside relctl: `git show {at}` shows it and `git log -p {branch} -- \
             {path}` who changed it; put the last good version back with a commit on {branch} \
             (`git revert <commit>` in a worktree of that branch), and push it if the record \
             has a remote",
        branch = snapshot.branch()
    ))
}

/// Record files this process has decoded, by blob id. A command reads the same files
/// several times on one tip (a rollback reads the environment's file and the release's
/// to decide, then again to record that it starts; a promotion reads its release file
/// before every decision), and parsing the YAML is most of what reading costs.
/// Content-addressed, so never stale; only what was read is kept, never what was written.
mod decoded {
    use std::any::Any;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};

    use git2::Oid;

    /// A command reads a few files; a bound keeps a long promotion from keeping every
    /// version of them.
    const KEPT: usize = 32;

    type Kept = Mutex<HashMap<Oid, Arc<dyn Any + Send + Sync>>>;

    fn kept() -> &'static Kept {
        static KEPT_FILES: OnceLock<Kept> = OnceLock::new();
        KEPT_FILES.get_or_init(Kept::default)
    }

    pub fn recall<T: Clone + 'static>(id: Oid) -> Option<T> {
        let kept = kept().lock().unwrap_or_else(|e| e.into_inner());
        kept.get(&id)?.downcast_ref::<T>().cloned()
    }

    pub fn keep<T: Clone + Send + Sync + 'static>(id: Oid, file: &T) {
        let mut kept = kept().lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= KEPT {
            kept.clear();
        }
        kept.insert(id, Arc::new(file.clone()));
    }
}

pub(super) fn encode<T: Serialize>(value: &T, path: &str) -> anyhow::Result<Vec<u8>> {
    // Long single-line values (artifact references) stay on one line, greppable.
    let mut options = serde_saphyr::SerializerOptions::default();
    options.folded_wrap_chars = usize::MAX;
    options.min_fold_chars = usize::MAX;
    serde_saphyr::to_string_with_options(value, options)
        .map(String::into_bytes)
        .with_context(|| format!("cannot write the record file {path}"))
}

pub fn read_release(snapshot: &Snapshot, id: &str) -> anyhow::Result<Option<ReleaseFile>> {
    Ok(read_release_at(snapshot, id)?.map(|(_, file)| file))
}

/// A release's file and the path it is at.
fn read_release_at(snapshot: &Snapshot, id: &str) -> anyhow::Result<Option<(String, ReleaseFile)>> {
    for path in [release_path(id), flat_release_path(id)] {
        if let Some(file) = decode(snapshot, &path)? {
            return Ok(Some((path, file)));
        }
    }
    Ok(None)
}

pub fn read_env(snapshot: &Snapshot, name: &str) -> anyhow::Result<EnvFile> {
    Ok(
        decode_with(snapshot, &env_path(name), rejected::parse)?.unwrap_or_else(|| EnvFile {
            environment: name.to_string(),
            ..EnvFile::default()
        }),
    )
}

pub fn read_envs<'a>(
    snapshot: &Snapshot,
    names: impl IntoIterator<Item = &'a str>,
) -> anyhow::Result<BTreeMap<String, EnvFile>> {
    names
        .into_iter()
        .map(|name| Ok((name.to_string(), read_env(snapshot, name)?)))
        .collect()
}

/// The summary file beside a release file, with the release's line for `content`.
pub fn summary_change(
    snapshot: &Snapshot,
    path: String,
    id: &str,
    release: &ReleaseFile,
    content: &[u8],
) -> anyhow::Result<Change> {
    let blob = git2::Oid::hash_object(git2::ObjectType::Blob, content)
        .with_context(|| format!("hashing the record file for {id}"))?;
    // A summary that is not text is rebuilt: it is only ever a shortcut.
    let old = snapshot
        .read(&path)?
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default();
    let line = summary::encode(&blob, &Summary::of(release));
    Ok(Change {
        content: summary::with_line(&old, id, line.as_deref()).into_bytes(),
        path,
    })
}

/// Who writes, under which plan: stamped on every event.
#[derive(Debug, Clone)]
pub struct Author {
    pub actor: String,
    /// Where `actor` came from, recorded beside it.
    pub actor_source: crate::engine::ActorSource,
    pub plan_digest: String,
    pub ci: Option<String>,
}

/// The identity written at the top of a new release file.
#[derive(Debug, Clone)]
pub struct Header {
    pub release: String,
    pub app: String,
    pub artifact: String,
    pub digest: String,
    pub version: String,
    pub source_commit: Option<String>,
    pub source_commit_time: Option<DateTime<Utc>>,
    /// Release notes, written when the release file is created.
    pub notes: Option<String>,
}

/// Appends one event to a release (and, through `update`, to an environment's state
/// file) as one commit. `update` runs on the tip it is written onto, so a lock it checks
/// is checked against the latest record; it may refuse with an error.
pub fn record(
    store: &Store,
    author: &Author,
    header: &Header,
    env: Option<&str>,
    kind: EventKind,
    update: &mut dyn FnMut(&mut EnvFile) -> anyhow::Result<()>,
) -> anyhow::Result<(Event, Appended)> {
    let mut written = None;
    let appended = store.append(&mut |snapshot| {
        let now = crate::clock::now();
        let event = Event {
            at: now,
            actor: author.actor.clone(),
            env: env.map(str::to_string),
            kind: kind.clone(),
            relctl: env!("CARGO_PKG_VERSION").to_string(),
            plan: author.plan_digest.clone(),
            ci: author.ci.clone(),
            actor_source: Some(author.actor_source),
        };
        let (path, mut release) =
            read_release_at(snapshot, &header.release)?.unwrap_or_else(|| {
                (
                    release_path(&header.release),
                    ReleaseFile {
                        release: header.release.clone(),
                        app: header.app.clone(),
                        artifact: header.artifact.clone(),
                        digest: header.digest.clone(),
                        version: header.version.clone(),
                        source_commit: header.source_commit.clone(),
                        source_commit_time: header.source_commit_time,
                        notes: header.notes.clone(),
                        events: Vec::new(),
                    },
                )
            });
        release.events.push(event.clone());
        let content = encode(&release, &path)?;
        let mut changes = Vec::with_capacity(3);
        if let Some(summary_path) = summary::path_beside(&path) {
            changes.push(summary_change(
                snapshot,
                summary_path,
                &header.release,
                &release,
                &content,
            )?);
        }
        changes.push(Change { content, path });
        let mut trailers = vec![("Relctl-Release".to_string(), header.release.clone())];
        if let Some(env) = env {
            let mut file = read_env(snapshot, env)?;
            let before = file.clone();
            update(&mut file)?;
            if file != before {
                let path = env_path(env);
                changes.push(Change {
                    content: encode(&file, &path)?,
                    path,
                });
            }
            trailers.push(("Relctl-Env".to_string(), env.to_string()));
        }
        trailers.push(("Relctl-Event".to_string(), kind.name().to_string()));
        trailers.push(("Relctl-Actor".to_string(), author.actor.clone()));
        let summary = match env {
            Some(env) => format!(
                "{} {env}: {}",
                header.release,
                crate::ui::events::describe(&kind)
            ),
            None => format!("{}: {}", header.release, crate::ui::events::describe(&kind)),
        };
        written = Some(event);
        Ok(Some(Commit {
            summary,
            trailers,
            actor: author.actor.clone(),
            changes,
        }))
    })?;
    crash_point();
    match (written, appended) {
        (Some(event), Some(appended)) => Ok((event, appended)),
        _ => anyhow::bail!("the record store wrote nothing for {}", kind.name()),
    }
}

/// Fault injection for the reliability tests: with the `CrashAfter` hook at k (a build
/// with test hooks only, src/hooks.rs), the process dies without any cleanup right after
/// its k-th record commit, as a SIGKILL would leave it.
fn crash_point() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COMMITS: AtomicUsize = AtomicUsize::new(0);
    let Some(limit) =
        crate::hooks::get(crate::hooks::Hook::CrashAfter).and_then(|v| v.parse::<usize>().ok())
    else {
        return;
    };
    if COMMITS.fetch_add(1, Ordering::SeqCst) + 1 >= limit {
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Lock;

    #[test]
    fn a_file_read_again_is_the_one_at_the_tip() {
        let dir = tempfile::tempdir().expect("a temp dir");
        git2::Repository::init(dir.path()).expect("git init");
        let store = Store::open(dir.path(), "relctl/records", None).expect("the store");
        let author = Author {
            actor: "tester@example.com".into(),
            actor_source: crate::engine::ActorSource::Env,
            plan_digest: "sha256:00".into(),
            ci: None,
        };
        let header = Header {
            release: "checkout-4f2a9c1be0d3".into(),
            app: "checkout".into(),
            artifact: "ghcr.io/acme/checkout@sha256:4f2a9c1be0d3".into(),
            digest: "sha256:4f2a9c1be0d3".into(),
            version: "1.0.0".into(),
            source_commit: None,
            source_commit_time: None,
            notes: None,
        };
        let lock = |take: bool| {
            move |f: &mut EnvFile| {
                f.lock = take.then(|| Lock {
                    release: "checkout-4f2a9c1be0d3".into(),
                    by: "tester@example.com".into(),
                    since: crate::clock::now(),
                });
                Ok(())
            }
        };
        let write = |take: bool| {
            let kind = EventKind::Entered { baseline: None };
            record(&store, &author, &header, Some("dev"), kind, &mut lock(take)).expect("record");
        };
        let held = || -> bool {
            let snapshot = store.snapshot().expect("a snapshot");
            read_env(&snapshot, "dev").expect("the file").lock.is_some()
        };
        write(true);
        // Read twice on one tip (the second from what the first decoded), then again
        // after each change: always what the tip says.
        assert!(held());
        assert!(held());
        write(false);
        assert!(!held());
        write(true);
        assert!(held());
        let snapshot = store.snapshot().expect("a snapshot");
        let release = read_release(&snapshot, &header.release).expect("read");
        assert_eq!(release.map(|r| r.events.len()), Some(3));
    }
}
