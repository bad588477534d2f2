//! Records written in an older layout (src/format/layout.rs), and their move into
//! today's by one commit of its own on the next write (`migrate`):
//!
//! - before the record was keyed by app: `environments/<env>.yaml` and `releases/…` at
//!   the top of the branch. They are read as the apps their files name (a release
//!   file's `app:`; an environment file's entries name releases);
//! - before the apps were sharded: each app's files directly under `apps/<app>/`;
//! - in one level of shards: `apps/<xx>/<app>/`.
//!
//! What an entry of `apps/` is, is told by its name and what it holds (`split_apps`):
//! named by one hex digit and holding only such names, a shard of today's two levels;
//! named by two hex digits and holding only apps whose names hash to it, a shard of
//! one level; otherwise an app's directory (which holds `environments/` and
//! `releases/`). An app's files move as they are, the same bytes, to
//! `apps/<x>/<y>/<app>/`.
//!
//! An environment file holding releases of several apps (two plans that shared one
//! record before it was keyed by app) is split by the app of each release: each app
//! gets the entries of its own releases; its most recent one is what is live for it
//! when the file's `live` is another app's (deploying that release did not touch this
//! app's service). The lock and the rollback note go with the release they name.
//! A file whose releases are all one app's is moved as it is: the same blob, so
//! `git log --follow` follows it.

use std::collections::{BTreeMap, HashMap};

use super::files::{encode, read_env_at};
use super::journal::Author;
use super::layout::{self, SUMMARY_FILE, legacy as old, trailer};
use crate::engine::EnvFile;
use crate::record::{Change, Commit, Snapshot, Store};

/// Whether the record still has files at its top, outside `apps/`.
pub fn at_top(snapshot: &Snapshot) -> anyhow::Result<bool> {
    Ok(snapshot
        .dirs("")?
        .iter()
        .any(|d| d == old::ENVIRONMENTS || d == old::RELEASES))
}

/// Whether `app` writing must move the record first: files at its top, or an app's
/// directory in an older layout under `apps/` (`layout::Apps`). Every event asks, so it
/// looks at no more than the top, `apps/`, and the one or two entries of `apps/` this
/// write could share a name with: the first-level shard `app` is written into, and
/// `apps/<app>` when `app` is named like such a shard. An entry of `apps/` not named
/// like a first-level shard is an older layout's (a shard of one level, or an app); an
/// app of `Apps::Unsharded` named by one hex digit is otherwise seen when it writes
/// itself, or when the move runs for another reason.
pub fn present(snapshot: &Snapshot, app: &str) -> anyhow::Result<bool> {
    if at_top(snapshot)? {
        return Ok(true);
    }
    let entries = snapshot.dirs(layout::APPS)?;
    if entries.iter().any(|e| !layout::is_shard_name(e)) {
        return Ok(true);
    }
    let first = layout::first_shard(app);
    for name in [first.as_str(), app] {
        if entries.iter().any(|e| e == name) && is_app_dir(snapshot, name)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether the entry `name` of `apps/`, named like a first-level shard, is the
/// directory of an app of `Apps::Unsharded` rather than a shard: a shard holds only
/// second-level shards, an app's directory holds `layout::APP_HOLDS`.
fn is_app_dir(snapshot: &Snapshot, name: &str) -> anyhow::Result<bool> {
    Ok(snapshot
        .dirs(&format!("{}/{name}", layout::APPS))?
        .iter()
        .any(|held| !layout::is_shard_name(held)))
}

/// The apps the entry `name` of `apps/` holds when it is a shard of `Apps::OneLevel`,
/// `None` when it is an app's directory of `Apps::Unsharded`: such a shard is named by
/// two hex digits and holds only apps whose names hash to it.
fn one_level_apps(snapshot: &Snapshot, name: &str) -> anyhow::Result<Option<Vec<String>>> {
    if !layout::is_one_level_shard_name(name) {
        return Ok(None);
    }
    let held = snapshot.dirs(&format!("{}/{name}", layout::APPS))?;
    Ok((!held.iter().any(|app| layout::one_level_shard(app) != name)).then_some(held))
}

/// The apps under `apps/`, by the layout each is in (`layout::Apps`): an app is in
/// one only, unless a write went to the two levels while it was left in an older
/// layout (`present`), and is then listed in both.
#[derive(Default)]
pub struct Found {
    /// `apps/<x>/<y>/<app>/`.
    pub sharded: Vec<String>,
    /// `apps/<xx>/<app>/` and `apps/<app>/`, with their layout.
    pub older: Vec<(String, layout::Apps)>,
}

/// Every app under `apps/`, in whichever layout (`Found`). Reads `apps/` and the shard
/// directories, no app's directory.
pub fn split_apps(snapshot: &Snapshot) -> anyhow::Result<Found> {
    let mut found = Found::default();
    for entry in snapshot.dirs(layout::APPS)? {
        if layout::is_shard_name(&entry) {
            let dir = format!("{}/{entry}", layout::APPS);
            let seconds = snapshot.dirs(&dir)?;
            if seconds.iter().all(|s| layout::is_shard_name(s)) {
                for second in seconds {
                    found
                        .sharded
                        .extend(snapshot.dirs(&format!("{dir}/{second}"))?);
                }
                continue;
            }
        } else if let Some(held) = one_level_apps(snapshot, &entry)? {
            found
                .older
                .extend(held.into_iter().map(|app| (app, layout::Apps::OneLevel)));
            continue;
        }
        found.older.push((entry, layout::Apps::Unsharded));
    }
    Ok(found)
}

/// Every file under `dir`, as paths relative to it.
fn files_under(snapshot: &Snapshot, dir: &str) -> anyhow::Result<Vec<String>> {
    let mut files = snapshot.list(dir)?;
    for sub in snapshot.dirs(dir)? {
        for file in files_under(snapshot, &format!("{dir}/{sub}"))? {
            files.push(format!("{sub}/{file}"));
        }
    }
    Ok(files)
}

/// Every release id under the top-level `releases/` (sharded or not).
pub fn release_ids(snapshot: &Snapshot) -> anyhow::Result<Vec<String>> {
    Ok(release_files(snapshot)?
        .into_iter()
        .map(|(_, id)| id)
        .collect())
}

/// (path, id) of every release file under the top-level `releases/`.
fn release_files(snapshot: &Snapshot) -> anyhow::Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    let mut add = |dir: &str, names: Vec<String>| {
        for name in names {
            if name != SUMMARY_FILE
                && let Some(id) = layout::name_of(&name)
            {
                files.push((format!("{dir}/{name}"), id.to_string()));
            }
        }
    };
    add(old::RELEASES, snapshot.list(old::RELEASES)?);
    for shard in snapshot.dirs(old::RELEASES)? {
        let dir = format!("{}/{shard}", old::RELEASES);
        add(&dir, snapshot.list(&dir)?);
    }
    Ok(files)
}

/// The app a top-level release file names (its `app:` line), or else the app its id
/// names; `fallback` for an id that names none.
fn app_of(snapshot: &Snapshot, id: &str, fallback: &str) -> anyhow::Result<String> {
    for path in [old::release_path(id), old::flat_release_path(id)] {
        if let Some(bytes) = snapshot.read(&path)? {
            if let Some(app) = app_line(&bytes) {
                return Ok(app);
            }
            break;
        }
    }
    Ok(layout::app_of_id(id).unwrap_or(fallback).to_string())
}

/// The top-level `app:` of a release file, as relctl writes it (a line before
/// `events:`); the YAML parser when it looks any different.
fn app_line(bytes: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?;
    let head = text.split("\nevents:").next().unwrap_or(text);
    let skimmed = head
        .lines()
        .find_map(|l| l.strip_prefix("app:"))
        .map(|v| v.trim().trim_matches('"').to_string())
        .filter(|v| !v.is_empty() && !v.contains(['\'', '"', '#', ' ']));
    skimmed.or_else(|| {
        serde_saphyr::from_str::<crate::engine::ReleaseFile>(text)
            .ok()
            .map(|f| f.app)
    })
}

/// A top-level environment file as one file per app, by the app of each release it
/// names (see the module's comment). An app named by nothing in it gets no file.
pub fn split_env(snapshot: &Snapshot, file: EnvFile) -> anyhow::Result<BTreeMap<String, EnvFile>> {
    split_env_with(file, &mut |id| app_of(snapshot, id, id))
}

fn split_env_with(
    file: EnvFile,
    app_of: &mut dyn FnMut(&str) -> anyhow::Result<String>,
) -> anyhow::Result<BTreeMap<String, EnvFile>> {
    let mut apps: BTreeMap<String, EnvFile> = BTreeMap::new();
    let environment = file.environment.clone();
    fn part<'m>(
        apps: &'m mut BTreeMap<String, EnvFile>,
        environment: &str,
        app: String,
    ) -> &'m mut EnvFile {
        apps.entry(app).or_insert_with(|| EnvFile {
            environment: environment.to_string(),
            ..EnvFile::default()
        })
    }
    let live_app = match file.live {
        Some(live) => {
            let app = app_of(&live.release)?;
            part(&mut apps, &environment, app.clone()).live = Some(live);
            Some(app)
        }
        None => None,
    };
    for entry in file.previous {
        let app = app_of(&entry.release)?;
        let own = live_app.is_some() && live_app.as_deref() != Some(app.as_str());
        let p = part(&mut apps, &environment, app);
        if own && p.live.is_none() {
            // Live for its app until the other app's release replaced it in the file.
            p.live = Some(entry);
        } else {
            p.previous.push(entry);
        }
    }
    if let Some(lock) = file.lock {
        let app = app_of(&lock.release)?;
        part(&mut apps, &environment, app).lock = Some(lock);
    }
    for id in file.rejected {
        let app = app_of(&id)?;
        part(&mut apps, &environment, app).rejected.push(id);
    }
    if let Some(note) = file.rolled_back {
        let app = app_of(&note.from)?;
        part(&mut apps, &environment, app).rolled_back = Some(note);
    }
    Ok(apps)
}

/// Moves a record written in an older layout into the shards, `apps/<x>/<y>/<app>/`,
/// with one commit of its own, `Relctl-Event: migrated`, before `author` writes
/// anything else. Files at the top go with the app they name; those naming none (an
/// environment file that holds nothing) go to `app`, the app writing. Nothing happens
/// to a record already moved.
pub fn migrate(store: &Store, author: &Author, app: &str) -> anyhow::Result<()> {
    store.append(&mut |snapshot| {
        if !present(snapshot, app)? {
            return Ok(None);
        }
        let top = at_top(snapshot)?;
        let mut moved = moves(snapshot, app)?;
        reshard_moves(snapshot, &mut moved)?;
        let mut summary = Vec::new();
        for (name, (releases, envs)) in &moved.apps {
            summary.push(format!(
                "{name} ({releases} release{}, {envs} environment{})",
                if *releases == 1 { "" } else { "s" },
                if *envs == 1 { "" } else { "s" }
            ));
        }
        let mut trailers = vec![(trailer::EVENT.to_string(), "migrated".to_string())];
        for name in moved.apps.keys() {
            trailers.push((trailer::APP.to_string(), name.clone()));
        }
        trailers.push((trailer::ACTOR.to_string(), author.actor.clone()));
        let what = if top {
            format!("moved the record under {}/", layout::APPS)
        } else {
            format!(
                "moved the apps into shard directories, {}/<x>/<y>/<app>/",
                layout::APPS
            )
        };
        Ok(Some(Commit {
            summary: format!("{what}: {}", summary.join(", ")),
            trailers,
            actor: author.actor.clone(),
            changes: moved.changes,
            removed: moved.removed,
        }))
    })?;
    Ok(())
}

/// What a migration writes and takes away, and per app (releases, environments) moved.
struct Moves {
    changes: Vec<Change>,
    removed: Vec<String>,
    apps: BTreeMap<String, (usize, usize)>,
}

/// The files of every app in an older layout under `apps/`, the same bytes, at the
/// same place under the app's shards; a file already there (written since) is kept.
fn reshard_moves(snapshot: &Snapshot, moves: &mut Moves) -> anyhow::Result<()> {
    for (app, older) in split_apps(snapshot)?.older {
        let from = older.app_dir(&app);
        let to = layout::app_dir(&app);
        let counts = moves.apps.entry(app.clone()).or_default();
        for file in files_under(snapshot, &from)? {
            let path = format!("{from}/{file}");
            let Some(bytes) = snapshot.read(&path)? else {
                continue;
            };
            moves.removed.push(path);
            let dest = format!("{to}/{file}");
            if snapshot.blob_id(&dest)?.is_some() {
                continue;
            }
            match file.split_once('/') {
                Some((dir, name)) if dir == layout::APP_HOLDS[0] => {
                    counts.1 += usize::from(layout::name_of(name).is_some());
                }
                Some((dir, rest)) if dir == layout::APP_HOLDS[1] => {
                    let name = rest.rsplit('/').next().unwrap_or(rest);
                    counts.0 +=
                        usize::from(name != SUMMARY_FILE && layout::name_of(name).is_some());
                }
                _ => {}
            }
            moves.changes.push(Change {
                path: dest,
                content: bytes,
            });
        }
    }
    Ok(())
}

fn moves(snapshot: &Snapshot, writer: &str) -> anyhow::Result<Moves> {
    let mut moves = Moves {
        changes: Vec::new(),
        removed: Vec::new(),
        apps: BTreeMap::new(),
    };
    // Release files: the same bytes, under their app.
    let mut app_of_release: HashMap<String, String> = HashMap::new();
    for (path, id) in release_files(snapshot)? {
        let Some(bytes) = snapshot.read(&path)? else {
            continue;
        };
        let app = app_line(&bytes)
            .or_else(|| layout::app_of_id(&id).map(str::to_string))
            .unwrap_or_else(|| writer.to_string());
        moves.apps.entry(app.clone()).or_default().0 += 1;
        moves.changes.push(Change {
            path: layout::release_path(&app, &id),
            content: bytes,
        });
        moves.removed.push(path);
        app_of_release.insert(id, app);
    }
    // Summaries: each app's lines beside its files; one app's file as it is.
    for shard in snapshot.dirs(old::RELEASES)? {
        let path = format!("{}/{shard}/{SUMMARY_FILE}", old::RELEASES);
        let Some(bytes) = snapshot.read(&path)? else {
            continue;
        };
        moves.removed.push(path);
        let text = String::from_utf8_lossy(&bytes);
        let mut lines = text.lines();
        let header = lines.next().unwrap_or_default();
        let mut by_app: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for line in lines {
            let id = line.split_once('\t').map_or(line, |(id, _)| id);
            let app = app_of_release
                .get(id)
                .map(String::as_str)
                .or_else(|| layout::app_of_id(id))
                .unwrap_or(writer);
            by_app.entry(app).or_default().push(line);
        }
        let whole = by_app.len() == 1;
        for (app, lines) in by_app {
            let dir = layout::releases_dir(app);
            let content = if whole {
                bytes.clone()
            } else {
                let mut out = format!("{header}\n");
                for line in lines {
                    out.push_str(line);
                    out.push('\n');
                }
                out.into_bytes()
            };
            moves.changes.push(Change {
                path: format!("{dir}/{shard}/{SUMMARY_FILE}"),
                content,
            });
        }
    }
    // Environment files: split by the app of each release they name.
    for name in snapshot.list(old::ENVIRONMENTS)? {
        let Some(env) = layout::name_of(&name) else {
            continue;
        };
        let path = old::env_path(env);
        let (Some(bytes), Some(file)) = (snapshot.read(&path)?, read_env_at(snapshot, &path)?)
        else {
            continue;
        };
        moves.removed.push(path);
        let mut parts = split_env_with(file, &mut |id| match app_of_release.get(id) {
            Some(app) => Ok(app.clone()),
            None => app_of(snapshot, id, writer),
        })?;
        if parts.is_empty() {
            parts.insert(writer.to_string(), EnvFile::default());
        }
        let whole = parts.len() == 1;
        for (app, part) in parts {
            let to = layout::env_path(&app, env);
            let content = if whole {
                bytes.clone()
            } else {
                encode(&part, &to)?
            };
            moves.apps.entry(app).or_default().1 += 1;
            moves.changes.push(Change { path: to, content });
        }
    }
    Ok(moves)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::at as t;
    use crate::engine::{Live, Lock};

    fn live(release: &str) -> Live {
        Live {
            release: release.into(),
            by: "me".into(),
            artifact: format!("ghcr.io/acme/x@sha256:{release}"),
            digest: "sha256:00".into(),
            version: "1".into(),
            since: t("2026-11-01T00:00:00Z"),
        }
    }

    #[test]
    fn a_shared_environment_file_is_split_by_app() {
        let file = EnvFile {
            environment: "production".into(),
            live: Some(live("b-000000000002")),
            previous: vec![
                live("a-000000000002"),
                live("b-000000000001"),
                live("a-000000000001"),
            ],
            lock: Some(Lock {
                release: "a-000000000003".into(),
                by: "me".into(),
                since: t("2026-11-01T00:00:00Z"),
            }),
            rejected: vec!["a-000000000009".into()],
            targets: Default::default(),
            targets_not_live: Vec::new(),
            rolled_back: None,
        };
        let parts = split_env_with(file, &mut |id| {
            Ok(layout::app_of_id(id).unwrap_or(id).to_string())
        })
        .expect("split");
        let a = &parts["a"];
        let b = &parts["b"];
        assert_eq!(
            a.live.as_ref().map(|l| l.release.as_str()),
            Some("a-000000000002")
        );
        assert_eq!(a.previous, vec![live("a-000000000001")]);
        assert!(a.lock.is_some() && b.lock.is_none());
        assert_eq!(a.rejected, vec!["a-000000000009".to_string()]);
        assert_eq!(
            b.live.as_ref().map(|l| l.release.as_str()),
            Some("b-000000000002")
        );
        assert_eq!(b.previous, vec![live("b-000000000001")]);
    }

    #[test]
    fn one_app_without_a_live_release_keeps_its_previous_ones() {
        let file = EnvFile {
            environment: "dev".into(),
            previous: vec![live("a-000000000001")],
            ..EnvFile::default()
        };
        let parts = split_env_with(file.clone(), &mut |_| Ok("a".into())).expect("split");
        assert_eq!(parts["a"], file);
    }

    fn record(files: &[String]) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("a temp dir");
        git2::Repository::init(dir.path()).expect("git init");
        let store = Store::open(dir.path(), "relctl/records", None).expect("the store");
        let commit = Commit {
            summary: "files".into(),
            trailers: Vec::new(),
            actor: "tester@example.com".into(),
            changes: files
                .iter()
                .map(|path| Change {
                    path: path.clone(),
                    content: b"x: 1\n".to_vec(),
                })
                .collect(),
            removed: Vec::new(),
        };
        store
            .append(&mut |_| Ok(Some(commit.clone())))
            .expect("a commit");
        (dir, store)
    }

    #[test]
    fn an_older_layout_is_seen_by_the_writes_it_concerns() {
        use layout::Apps;
        // Today's shards only: nothing to move.
        let (_dir, store) = record(&[
            layout::env_path("checkout", "dev"),
            layout::env_path("c", "dev"),
        ]);
        let snapshot = store.snapshot().expect("a snapshot");
        assert!(!present(&snapshot, "checkout").expect("present"));
        assert!(!present(&snapshot, "svc-a").expect("present"));
        // One level of shards, or an app not named like a shard: any write moves them.
        for older in [
            Apps::OneLevel.env_path("checkout", "dev"),
            Apps::Unsharded.env_path("old", "dev"),
        ] {
            let (_dir, store) = record(&[older]);
            let snapshot = store.snapshot().expect("a snapshot");
            assert!(present(&snapshot, "svc-a").expect("present"));
        }
        // An app named `c` directly under apps/: seen by `c`, and by `checkout`, whose
        // first-level shard is `apps/c/`; not by `svc-a` (`apps/6/`), which writes
        // beside it without touching it.
        let (_dir, store) = record(&[Apps::Unsharded.env_path("c", "dev")]);
        let snapshot = store.snapshot().expect("a snapshot");
        assert!(present(&snapshot, "c").expect("present"));
        assert!(present(&snapshot, "checkout").expect("present"));
        assert!(!present(&snapshot, "svc-a").expect("present"));
        let found = split_apps(&snapshot).expect("apps");
        assert!(found.sharded.is_empty());
        assert_eq!(found.older, [("c".to_string(), Apps::Unsharded)]);
    }

    #[test]
    fn the_app_line_is_read_from_the_head() {
        assert_eq!(
            app_line(b"release: a-1\napp: svc-a\nartifact: x\nevents:\n- at: x\n  app: no\n"),
            Some("svc-a".to_string())
        );
    }
}
