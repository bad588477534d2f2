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

/// Whether `app` writing must move the record first: files at its top, `app` itself in
/// an older layout (`place`), or another app there that the move would take. Every
/// event asks, so in a record already moved it looks at no more than the top, `apps/`,
/// `app`'s own places and the entries of `apps/` this write could share a name with:
/// the first-level shard `app` is written into, and `apps/<app>` when `app` is named
/// like such a shard. The whole of `apps/` is read (`split_apps`) only when an entry of
/// it is not named like a first-level shard, which only an older layout writes. An app
/// of `Apps::Unsharded` named by one hex digit, or a shard displaced elsewhere, is
/// otherwise seen when one of its apps writes, or when the move runs for another reason.
///
/// An error when `app` is in two places (`place`): nothing may be written for it.
pub fn present(snapshot: &Snapshot, app: &str) -> anyhow::Result<bool> {
    if at_top(snapshot)? {
        return Ok(true);
    }
    if place(snapshot, app)?.is_some_and(|p| p != layout::Apps::Sharded) {
        return Ok(true);
    }
    let entries = snapshot.dirs(layout::APPS)?;
    let first = layout::first_shard(app);
    for name in [first.as_str(), app] {
        if entries.iter().any(|e| e == name)
            && holds_app(snapshot, &format!("{}/{name}", layout::APPS))?
        {
            return Ok(true);
        }
    }
    if entries.iter().all(|e| layout::is_shard_name(e)) {
        return Ok(false);
    }
    Ok(!split_apps(snapshot)?.movable().is_empty())
}

/// Whether the directory `dir` is an app's: it holds `layout::APP_HOLDS`.
fn holds_app(snapshot: &Snapshot, dir: &str) -> anyhow::Result<bool> {
    for held in layout::APP_HOLDS {
        if snapshot.dir_id(&format!("{dir}/{held}"))?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The layout under `apps/` that `app`'s directory is in (`layout::Apps`), `None` when
/// it has none there. An app's directory in two places is an error naming both (see
/// `split`): relctl does not choose between two records of one app, and reads and
/// writes nothing for it until one is taken away.
pub fn place(snapshot: &Snapshot, app: &str) -> anyhow::Result<Option<layout::Apps>> {
    let mut found: Option<layout::Apps> = None;
    for candidate in layout::Apps::ALL {
        if holds_app(snapshot, &candidate.app_dir(app))? {
            if let Some(first) = found {
                return Err(split(snapshot, app, &[first, candidate]));
            }
            found = Some(candidate);
        }
    }
    Ok(found)
}

/// The error for an app whose directory is in more than one place: written to by a
/// relctl that did not know the two levels of shards, after it had displaced them
/// (docs/record.md, "A record split by an older relctl").
fn split(snapshot: &Snapshot, app: &str, places: &[layout::Apps]) -> anyhow::Error {
    split_many(snapshot, &[(app.to_string(), places.to_vec())])
}

/// The same error for every app in more than one place (`Found::split`), each named
/// with its places.
fn split_many(snapshot: &Snapshot, apps: &[(String, Vec<layout::Apps>)]) -> anyhow::Error {
    let each: Vec<String> = apps
        .iter()
        .map(|(app, places)| {
            let dirs: Vec<String> = places
                .iter()
                .map(|p| format!("{}/", p.app_dir(app)))
                .collect();
            format!("`{app}` in two places, {}", dirs.join(" and "))
        })
        .collect();
    let (what, whom) = match apps {
        [(app, _)] => (format!("app {}", each.join("")), format!("`{app}`")),
        _ => (format!("apps {}", each.join("; ")), "them".to_string()),
    };
    crate::error::Error::new(
        crate::error::Exit::Failed,
        format!(
            "the record on {} holds {what}: a relctl that did not know the two levels of \
             shards wrote to it; relctl does not choose between them, and reads and writes \
             nothing for {whom} until one is taken away",
            snapshot.branch(),
        ),
    )
    .with_hint(format!(
        "upgrade every clone and CI runner that writes to this record, then keep one \
         place's files and take away only the other's environments/ and releases/ with \
         one commit on {}, as docs/record.md shows (\"A record split by an older relctl\")",
        snapshot.branch()
    ))
    .into()
}

/// An error naming every app `found` has in more than one place, for the commands that
/// read every app (`status --all`, `releases --records`).
pub fn check_not_split(snapshot: &Snapshot, found: &Found) -> anyhow::Result<()> {
    let split: Vec<(String, Vec<layout::Apps>)> = found
        .places()
        .into_iter()
        .filter(|(_, places)| places.len() > 1)
        .map(|(app, places)| (app.to_string(), places))
        .collect();
    if split.is_empty() {
        return Ok(());
    }
    Err(split_many(snapshot, &split))
}

/// The apps under `apps/`, by the layout each is in (`layout::Apps`). An app is in one
/// only, unless a relctl that did not know the two levels wrote it while another copy
/// was displaced (`place`): it is then listed once per place.
#[derive(Default)]
pub struct Found {
    /// `apps/<x>/<y>/<app>/`.
    pub sharded: Vec<String>,
    /// Every other layout under `apps/`, with the layout.
    pub older: Vec<(String, layout::Apps)>,
}

impl Found {
    /// Each app with the layouts it is in, in the order of `layout::Apps::ALL` (the
    /// order `place` finds them, so that each command names them alike).
    pub fn places(&self) -> BTreeMap<&str, Vec<layout::Apps>> {
        let mut places: BTreeMap<&str, Vec<layout::Apps>> = BTreeMap::new();
        for app in &self.sharded {
            places.entry(app).or_default().push(layout::Apps::Sharded);
        }
        for (app, placed) in &self.older {
            places.entry(app).or_default().push(*placed);
        }
        for each in places.values_mut() {
            each.sort_by_key(|p| layout::Apps::ALL.iter().position(|a| a == p));
        }
        places
    }

    /// The apps in an older layout, each in that one place only: what the move takes.
    pub fn movable(&self) -> Vec<(String, layout::Apps)> {
        self.places()
            .into_iter()
            .filter_map(|(app, places)| match places.as_slice() {
                [one] if *one != layout::Apps::Sharded => Some((app.to_string(), *one)),
                _ => None,
            })
            .collect()
    }
}

/// Every app under `apps/`, in whichever layout (`Found`). Reads `apps/` and the shard
/// directories; an app's directory only when it is named by one hex digit, as a shard
/// displaced by a relctl that took it for an app is (`layout::Apps::MovedShard`). A
/// directory that is neither a shard nor an app's (it holds no `layout::APP_HOLDS`) is
/// no app, and left as it is.
pub fn split_apps(snapshot: &Snapshot) -> anyhow::Result<Found> {
    use layout::Apps;
    let mut found = Found::default();
    for entry in snapshot.dirs(layout::APPS)? {
        let dir = format!("{}/{entry}", layout::APPS);
        if layout::is_shard_name(&entry) {
            for second in snapshot.dirs(&dir)? {
                if !layout::is_shard_name(&second) {
                    continue;
                }
                let second_dir = format!("{dir}/{second}");
                for app in snapshot.dirs(&second_dir)? {
                    let at = format!("{second_dir}/{app}");
                    apps_at(
                        snapshot,
                        &mut found,
                        &at,
                        &app,
                        Apps::Sharded,
                        Apps::MovedShardTwice,
                    )?;
                }
            }
            if holds_app(snapshot, &dir)? {
                found.older.push((entry, Apps::Unsharded));
            }
        } else if let Some(held) = one_level_apps(snapshot, &entry)? {
            for app in held {
                let at = format!("{dir}/{app}");
                apps_at(
                    snapshot,
                    &mut found,
                    &at,
                    &app,
                    Apps::OneLevel,
                    Apps::MovedShard,
                )?;
            }
        } else if holds_app(snapshot, &dir)? {
            found.older.push((entry, Apps::Unsharded));
        }
    }
    Ok(found)
}

/// The app `name` at `dir`, in the layout `placed`; and when `name` is one hex digit
/// and `dir` holds such names, the first-level shard `name` displaced there: its apps,
/// in the layout `displaced`, each where that layout puts it.
fn apps_at(
    snapshot: &Snapshot,
    found: &mut Found,
    dir: &str,
    name: &str,
    placed: layout::Apps,
    displaced: layout::Apps,
) -> anyhow::Result<()> {
    if !layout::is_shard_name(name) {
        push(found, name.to_string(), placed);
        return Ok(());
    }
    let held = snapshot.dirs(dir)?;
    if held.iter().any(|h| layout::APP_HOLDS.contains(&h.as_str())) {
        push(found, name.to_string(), placed);
    }
    for second in held.iter().filter(|h| layout::is_shard_name(h)) {
        for app in snapshot.dirs(&format!("{dir}/{second}"))? {
            if displaced.app_dir(&app) == format!("{dir}/{second}/{app}") {
                push(found, app, displaced);
            }
        }
    }
    Ok(())
}

fn push(found: &mut Found, app: String, placed: layout::Apps) {
    if placed == layout::Apps::Sharded {
        found.sharded.push(app);
    } else {
        found.older.push((app, placed));
    }
}

/// The apps the entry `name` of `apps/` holds when it is a shard of `Apps::OneLevel`,
/// `None` otherwise: such a shard is named by two hex digits and holds only apps whose
/// names hash to it.
fn one_level_apps(snapshot: &Snapshot, name: &str) -> anyhow::Result<Option<Vec<String>>> {
    if !layout::is_one_level_shard_name(name) {
        return Ok(None);
    }
    let held = snapshot.dirs(&format!("{}/{name}", layout::APPS))?;
    Ok((!held.iter().any(|app| layout::one_level_shard(app) != name)).then_some(held))
}

/// Where a commit replayed onto `ours` writes (src/record/remote.rs): when `ours`
/// names the two levels of shards (`layout::FORMAT`) and the commit does not (a relctl
/// that did not know them wrote it, and it waited unpushed while the record was moved),
/// each app directory of an older layout in the commit or its parent that `ours` has
/// no longer, (from, to) for its `layout::APP_HOLDS`: its events are replayed where
/// the record now keeps the app, instead of starting a second copy of it.
pub fn relocations(
    before: &Snapshot,
    theirs: &Snapshot,
    ours: &Snapshot,
) -> anyhow::Result<Vec<(String, String)>> {
    if ours.blob_id(layout::FORMAT)?.is_none() || theirs.blob_id(layout::FORMAT)?.is_some() {
        return Ok(Vec::new());
    }
    let mut moved = Vec::new();
    let mut older = split_apps(before)?.older;
    older.extend(split_apps(theirs)?.older);
    for (app, placed) in older {
        let from = placed.app_dir(&app);
        if holds_app(ours, &from)? {
            continue;
        }
        let to = layout::app_dir(&app);
        for hold in layout::APP_HOLDS {
            let pair = (format!("{from}/{hold}"), format!("{to}/{hold}"));
            if !moved.contains(&pair) {
                moved.push(pair);
            }
        }
    }
    Ok(moved)
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
        moved
            .changes
            .extend(super::journal::format_change(snapshot)?);
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
/// same place under the app's shards: only what its directory holds of
/// `layout::APP_HOLDS` (a directory may also hold a displaced shard, whose apps move on
/// their own). An app in two places (`Found::split`) stays where it is.
fn reshard_moves(snapshot: &Snapshot, moves: &mut Moves) -> anyhow::Result<()> {
    for (app, older) in split_apps(snapshot)?.movable() {
        let from = older.app_dir(&app);
        let to = layout::app_dir(&app);
        let counts = moves.apps.entry(app.clone()).or_default();
        for hold in layout::APP_HOLDS {
            for file in files_under(snapshot, &format!("{from}/{hold}"))? {
                let path = format!("{from}/{hold}/{file}");
                let Some(bytes) = snapshot.read(&path)? else {
                    continue;
                };
                let name = file.rsplit('/').next().unwrap_or(&file);
                let counted = name != SUMMARY_FILE && layout::name_of(name).is_some();
                if hold == layout::APP_HOLDS[0] {
                    counts.1 += usize::from(counted);
                } else {
                    counts.0 += usize::from(counted);
                }
                moves.removed.push(path);
                moves.changes.push(Change {
                    path: format!("{to}/{hold}/{file}"),
                    content: bytes,
                });
            }
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
                run: None,
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
