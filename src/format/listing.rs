//! Which apps, environments and releases the record holds: the app directories in the
//! shards of `apps/`, and the apps of a record in an older layout (src/format/legacy.rs).

use std::collections::BTreeSet;

use super::layout::{self, legacy as old};
use super::legacy;
use crate::record::Snapshot;

/// Every app the record holds, sorted: each `apps/<x>/<y>/<app>/`, each app in an
/// older layout under `apps/` (`layout::Apps`), and the apps named by the release files
/// of a record not yet moved under `apps/` (by their ids, which are
/// `<app>-<12 hex digits>`).
pub fn apps(snapshot: &Snapshot) -> anyhow::Result<Vec<String>> {
    let found = legacy::split_apps(snapshot)?;
    legacy::check_not_split(snapshot, &found)?;
    let mut apps: BTreeSet<String> = found
        .sharded
        .into_iter()
        .chain(found.older.into_iter().map(|(app, _)| app))
        .collect();
    if legacy::at_top(snapshot)? {
        for id in legacy::release_ids(snapshot)? {
            if let Some(app) = layout::app_of_id(&id) {
                apps.insert(app.to_string());
            }
        }
    }
    Ok(apps.into_iter().collect())
}

/// The id of the tree of `app`'s directory (`layout::app_dir`), `None` when the record
/// has none (its files are in an older layout). Everything the record holds for the app
/// is in that tree, so a view can keep what it made of the app by this id. The trees
/// above it were read by `apps`: the id comes from its parent's entry, no tree is read.
pub fn app_tree(snapshot: &Snapshot, app: &str) -> anyhow::Result<Option<git2::Oid>> {
    snapshot.dir_id(&layout::app_dir(app))
}

/// The environments the record has a file for under `app`, sorted: those of its
/// `environments/` directory (in its shards, or where an older layout under `apps/` put
/// it), or, in a record not yet moved under `apps/`, the top-level environment files
/// that hold one of `app`'s releases.
pub fn environments(snapshot: &Snapshot, app: &str) -> anyhow::Result<Vec<String>> {
    let mut names = match legacy::place(snapshot, app)? {
        Some(layout) => names_in(snapshot, &layout.environments_dir(app))?,
        None => BTreeSet::new(),
    };
    if names.is_empty() && legacy::at_top(snapshot)? {
        for name in snapshot.list(old::ENVIRONMENTS)? {
            let Some(env) = layout::name_of(&name) else {
                continue;
            };
            if super::files::read_env(snapshot, app, env)? != empty(env) {
                names.insert(env.to_string());
            }
        }
    }
    Ok(names.into_iter().collect())
}

/// The environments named by the files of `dir`.
fn names_in(snapshot: &Snapshot, dir: &str) -> anyhow::Result<BTreeSet<String>> {
    Ok(snapshot
        .list(dir)?
        .iter()
        .filter_map(|f| layout::name_of(f))
        .map(str::to_string)
        .collect())
}

fn empty(env: &str) -> crate::engine::EnvFile {
    crate::engine::EnvFile {
        environment: env.to_string(),
        ..Default::default()
    }
}

/// The ids of `app`'s releases, sorted: the release files of its `releases/` directory
/// (in its shards, or where an older layout under `apps/` put it), or, in a record not
/// yet moved under `apps/`, the top-level release files whose ids name `app`. Reads the
/// release directories only, no release file.
pub fn release_ids(snapshot: &Snapshot, app: &str) -> anyhow::Result<Vec<String>> {
    let mut ids = match legacy::place(snapshot, app)? {
        Some(layout) => ids_in(snapshot, &layout.releases_dir(app))?,
        None => BTreeSet::new(),
    };
    if ids.is_empty() && legacy::at_top(snapshot)? {
        ids.extend(
            legacy::release_ids(snapshot)?
                .into_iter()
                .filter(|id| layout::app_of_id(id) == Some(app)),
        );
    }
    Ok(ids.into_iter().collect())
}

/// The release ids of the files in the shards of the release directory `dir`.
fn ids_in(snapshot: &Snapshot, dir: &str) -> anyhow::Result<BTreeSet<String>> {
    let mut ids = BTreeSet::new();
    for shard in snapshot.dirs(dir)? {
        for name in snapshot.list(&format!("{dir}/{shard}"))? {
            if name != layout::SUMMARY_FILE
                && let Some(id) = layout::name_of(&name)
            {
                ids.insert(id.to_string());
            }
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::layout::Apps;
    use crate::record::{Change, Commit, Store};

    fn write(store: &Store, files: &[&str]) {
        let changes: Vec<Change> = files
            .iter()
            .map(|path| Change {
                path: path.to_string(),
                content: b"x: 1\n".to_vec(),
            })
            .collect();
        let commit = Commit {
            summary: "files".into(),
            trailers: Vec::new(),
            actor: "tester@example.com".into(),
            changes,
            removed: Vec::new(),
        };
        store
            .append(&mut |_| Ok(Some(commit.clone())))
            .expect("a commit");
    }

    #[test]
    fn apps_environments_and_releases_are_listed_by_app() {
        let dir = tempfile::tempdir().expect("a temp dir");
        git2::Repository::init(dir.path()).expect("git init");
        let store = Store::open(dir.path(), "relctl/records", None).expect("the store");
        write(
            &store,
            &[
                &layout::release_path("svc-a", "svc-a-4f2a9c1be0d3"),
                &layout::release_path("svc-a", "svc-a-0123456789ab"),
                &format!(
                    "{}/4f/{}",
                    layout::releases_dir("svc-a"),
                    layout::SUMMARY_FILE
                ),
                &layout::env_path("svc-a", "production"),
                &layout::release_path("svc-b", "svc-b-4f2a9c1be0d3"),
            ],
        );
        let snapshot = store.snapshot().expect("a snapshot");
        assert_eq!(apps(&snapshot).expect("apps"), ["svc-a", "svc-b"]);
        assert_eq!(
            release_ids(&snapshot, "svc-a").expect("ids"),
            ["svc-a-0123456789ab", "svc-a-4f2a9c1be0d3"]
        );
        assert_eq!(
            environments(&snapshot, "svc-a").expect("envs"),
            ["production"]
        );
        assert!(environments(&snapshot, "svc-b").expect("envs").is_empty());
        assert!(release_ids(&snapshot, "svc-c").expect("ids").is_empty());
        drop(snapshot);
        // Apps in the older layouts, some named like shards, are listed beside them.
        write(
            &store,
            &[
                &Apps::Unsharded.release_path("old", "old-4f2a9c1be0d3"),
                &Apps::Unsharded.env_path("ab", "dev"),
                &Apps::Unsharded.env_path("e", "dev"),
                &Apps::OneLevel.release_path("one", "one-4f2a9c1be0d3"),
                &Apps::OneLevel.env_path("7", "qa"),
            ],
        );
        let snapshot = store.snapshot().expect("a snapshot");
        assert_eq!(
            apps(&snapshot).expect("apps"),
            ["7", "ab", "e", "old", "one", "svc-a", "svc-b"]
        );
        assert_eq!(environments(&snapshot, "e").expect("envs"), ["dev"]);
        assert_eq!(environments(&snapshot, "7").expect("envs"), ["qa"]);
        assert_eq!(
            release_ids(&snapshot, "one").expect("ids"),
            ["one-4f2a9c1be0d3"]
        );
        assert_eq!(environments(&snapshot, "ab").expect("envs"), ["dev"]);
        assert_eq!(
            release_ids(&snapshot, "old").expect("ids"),
            ["old-4f2a9c1be0d3"]
        );
        drop(snapshot);
        // A record written before apps/ names its apps by its release ids.
        write(&store, &["releases/4f/legacy-4f2a9c1be0d3.yaml"]);
        let snapshot = store.snapshot().expect("a snapshot");
        assert_eq!(
            apps(&snapshot).expect("apps"),
            ["7", "ab", "e", "legacy", "old", "one", "svc-a", "svc-b"]
        );
        assert_eq!(
            release_ids(&snapshot, "legacy").expect("ids"),
            ["legacy-4f2a9c1be0d3"]
        );
    }
}
