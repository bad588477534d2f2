//! An organisation's records: APPS apps, each through ENVS environments with RELEASES
//! releases, written straight into git objects (one pack, one commit) rather than
//! through relctl, which would take hundreds of thousands of commands. Every file is
//! one relctl reads back with its own types, at the path the record keyed by app
//! gives it (src/format/layout.rs): each release file holds its start and, per
//! environment, its entry and going live; each environment file what is live, the
//! earlier releases it keeps, the releases rolled back there (one in ten, in the last
//! environment). One app in ten has its last release under way in the last
//! environment, holding the lock, so `status --all` reads those release files too.
//! Summary files are left out: only `report` reads them, and it reads the release
//! files when they are missing.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use chrono::{Duration, Utc};
use relctl::engine::{EnvFile, Event, EventKind, Live, Lock, ReleaseFile, RollbackNote};
use relctl::format;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::generate::{ACTOR, BRANCH, encode, init_repo};

/// The environments of every generated app.
pub const ENVS: [&str; 4] = ["dev", "qa", "staging", "production"];

fn event(at: chrono::DateTime<Utc>, env: Option<&str>, kind: EventKind) -> Event {
    Event {
        at,
        actor: ACTOR.to_string(),
        env: env.map(str::to_string),
        target: None,
        kind,
        relctl: env!("CARGO_PKG_VERSION").to_string(),
        plan: "0".repeat(64),
        ci: None,
        actor_source: None,
    }
}

/// A tree of blobs and subtrees, built bottom up.
#[derive(Default)]
struct Dir {
    files: BTreeMap<String, git2::Oid>,
    dirs: BTreeMap<String, Dir>,
}

impl Dir {
    fn add(&mut self, path: &str, blob: git2::Oid) {
        match path.split_once('/') {
            Some((dir, rest)) => self
                .dirs
                .entry(dir.to_string())
                .or_default()
                .add(rest, blob),
            None => {
                self.files.insert(path.to_string(), blob);
            }
        }
    }

    fn write(&self, repo: &git2::Repository) -> anyhow::Result<git2::Oid> {
        let mut tree = repo.treebuilder(None)?;
        for (name, dir) in &self.dirs {
            tree.insert(name, dir.write(repo)?, 0o040000)?;
        }
        for (name, blob) in &self.files {
            tree.insert(name, *blob, 0o100644)?;
        }
        Ok(tree.write()?)
    }
}

/// Writes the records branch at `dir` (a new repository, or `into`'s branch when that
/// repository exists: its files are kept and the apps added) and says what it made.
pub fn generate(dir: &Path, apps: usize, releases: usize) -> anyhow::Result<Value> {
    let began = Instant::now();
    let existing = git2::Repository::open(dir).ok();
    if existing.is_none() {
        init_repo(dir)?;
    }
    let repo = git2::Repository::open(dir)?;
    let odb = repo.odb()?;
    let mempack = odb.add_new_mempack_backend(1000)?;
    let refname = format!("refs/heads/{BRANCH}");
    let parent = repo
        .refname_to_id(&refname)
        .ok()
        .map(|oid| repo.find_commit(oid))
        .transpose()?;
    let mut root = Dir::default();
    let end = Utc::now() - Duration::hours(1);
    let step = Duration::days(365) / releases.max(1) as i32;
    let (mut files, mut bytes) = (0usize, 0usize);
    for a in 0..apps {
        let app = format!("app-{a:04}");
        let mut envs: BTreeMap<&str, EnvFile> = ENVS
            .iter()
            .map(|e| {
                (
                    *e,
                    EnvFile {
                        environment: e.to_string(),
                        ..EnvFile::default()
                    },
                )
            })
            .collect();
        for r in 0..releases {
            let hex = hex::encode(Sha256::digest(format!("org-{a}-{r}").as_bytes()));
            let id = format!("{app}-{}", &hex[..12]);
            let artifact = format!("registry.example/{app}@sha256:{hex}");
            let version = format!("1.0.{r}");
            let start = end - step * (releases - r) as i32;
            let under_way = r + 1 == releases && a % 10 == 0;
            let failed = r % 10 == 9 && !under_way;
            let mut events = vec![event(
                start,
                None,
                EventKind::Started {
                    artifact: artifact.clone(),
                    digest: format!("sha256:{hex}"),
                    version: version.clone(),
                    source_commit: None,
                    targets: ENVS.iter().map(|e| e.to_string()).collect(),
                },
            )];
            for (n, env) in ENVS.iter().enumerate() {
                let at = start + Duration::minutes(10 * n as i64 + 1);
                let file = envs.get_mut(env).context("an environment")?;
                events.push(event(
                    at,
                    Some(env),
                    EventKind::Entered {
                        baseline: file.live.clone(),
                    },
                ));
                let last = n + 1 == ENVS.len();
                if last && under_way {
                    file.lock = Some(Lock {
                        release: id.clone(),
                        by: ACTOR.to_string(),
                        since: at,
                        run: None,
                    });
                    break;
                }
                if last && failed {
                    events.push(event(
                        at + Duration::minutes(5),
                        Some(env),
                        EventKind::RolledBack {
                            to: file.live.as_ref().map(|l| l.release.clone()),
                            reason: "analysis failed".into(),
                            ms: None,
                            nothing_deployed: false,
                        },
                    ));
                    file.rejected.push(id.clone());
                    continue;
                }
                events.push(event(at + Duration::minutes(5), Some(env), EventKind::Live));
                let live = Live {
                    release: id.clone(),
                    by: ACTOR.to_string(),
                    artifact: artifact.clone(),
                    digest: format!("sha256:{hex}"),
                    version: version.clone(),
                    since: at + Duration::minutes(5),
                };
                if let Some(before) = file.live.replace(live) {
                    file.push_previous(before);
                }
                file.rolled_back = None;
            }
            let release = ReleaseFile {
                release: id.clone(),
                app: app.clone(),
                artifact,
                digest: format!("sha256:{hex}"),
                version,
                source_commit: None,
                source_commit_time: None,
                notes: None,
                events,
            };
            let content = encode(&release)?;
            bytes += content.len();
            root.add(&format::release_path(&app, &id), repo.blob(&content)?);
            files += 1;
        }
        // One app in ten had its production rolled back by hand after its last release.
        if a % 10 == 5
            && let Some(file) = envs.get_mut("production")
            && let Some(live) = file.live.take()
            && !file.previous.is_empty()
        {
            let back = file.previous.remove(0);
            file.rejected.push(live.release.clone());
            file.rolled_back = Some(RollbackNote {
                from: live.release,
                to: back.release.clone(),
                by: ACTOR.to_string(),
                at: end,
                reason: "incident".into(),
            });
            file.live = Some(Live { since: end, ..back });
        }
        for (env, file) in &mut envs {
            format::bound_rejected(file);
            let content = encode(file)?;
            bytes += content.len();
            root.add(&format::env_path(&app, env), repo.blob(&content)?);
            files += 1;
        }
    }
    // Keep what the branch held, apps and all, beside the new apps.
    let tree = match &parent {
        Some(commit) => merge(&repo, &commit.tree()?, &root)?,
        None => root.write(&repo)?,
    };
    let tree = repo.find_tree(tree)?;
    let sig = git2::Signature::now("bench", ACTOR)?;
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    let message = format!(
        "relctl-bench: {apps} apps of {releases} releases, generated\n\nRelctl-Actor: {ACTOR}\n"
    );
    let commit = repo.commit(None, &sig, &sig, &message, &tree, &parents)?;
    let mut pack = git2::Buf::new();
    mempack.dump(&repo, &mut pack)?;
    let mut writer = odb.packwriter()?;
    std::io::Write::write_all(&mut writer, &pack)?;
    writer.commit()?;
    mempack.reset()?;
    repo.reference(&refname, commit, true, "relctl-bench: generated apps")?;
    Ok(json!({
        "apps": apps,
        "releases": apps * releases,
        "files": files,
        "bytes": bytes,
        "seconds": began.elapsed().as_secs_f64(),
    }))
}

/// `dir`'s entries added to `base` (a tree already in the repository).
fn merge(repo: &git2::Repository, base: &git2::Tree<'_>, dir: &Dir) -> anyhow::Result<git2::Oid> {
    let mut tree = repo.treebuilder(Some(base))?;
    for (name, sub) in &dir.dirs {
        let oid = match base.get_name(name).map(|e| e.id()) {
            Some(existing) => merge(repo, &repo.find_tree(existing)?, sub)?,
            None => sub.write(repo)?,
        };
        tree.insert(name, oid, 0o040000)?;
    }
    for (name, blob) in &dir.files {
        tree.insert(name, *blob, 0o100644)?;
    }
    Ok(tree.write()?)
}
