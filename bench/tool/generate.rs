//! Records at scale: a records branch of N releases, in exactly the files relctl writes.
//!
//! Three real promotions through the platform double (a baseline, a healthy release, a
//! canary that fails its analysis and is rolled back) give templates: their
//! `apps/<x>/<y>/bench/releases/<zz>/<id>.yaml`, read back with relctl's own types. Each generated release is a
//! template with its identity, baselines and times changed, serialised as relctl does,
//! and `apps/<x>/<y>/bench/environments/<env>.yaml` is folded from the same events as relctl folds them
//! (what is live, the earlier live releases it keeps, the latest rejected ones). The files go in
//! through `Store::append` many per commit, not one commit per event, or 100,000
//! releases would take hours. The last release is then promoted for real by the relctl
//! binary, so the branch ends with real event commits.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, bail, ensure};
use chrono::{DateTime, Duration, Utc};
use relctl::engine::{EnvFile, Event, EventKind, Live, ReleaseFile};
use relctl::format::{self, summary};
use relctl::record::{Change, Commit, Store};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::platform::Platform;

pub const BRANCH: &str = "relctl/records";
pub const ACTOR: &str = "bench@example.com";
const ENVS: [&str; 3] = ["dev", "staging", "production"];
/// The app of bench/release.yaml.in: where its files are in the record.
const APP: &str = "bench";

/// One release's identity.
#[derive(Clone)]
pub struct Identity {
    pub hex: String,
    pub version: String,
}

impl Identity {
    pub fn new(seed: &str, version: impl Into<String>) -> Identity {
        Identity {
            hex: hex::encode(Sha256::digest(seed.as_bytes())),
            version: version.into(),
        }
    }

    pub fn id(&self) -> String {
        format!("bench-{}", &self.hex[..12])
    }

    pub fn digest(&self) -> String {
        format!("sha256:{}", self.hex)
    }

    pub fn artifact(&self) -> String {
        format!("registry.example/bench/app@sha256:{}", self.hex)
    }
}

/// The plan of bench/release.yaml.in, pointed at `api`.
pub fn write_plan(dir: &Path, api: &str) -> anyhow::Result<PathBuf> {
    let path = dir.join("release.yaml");
    let plan = include_str!("../release.yaml.in").replace("@API@", api);
    std::fs::write(&path, plan).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// `relctl` with the environment every benchmark run gets.
pub fn relctl(bin: &Path, plan: &Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.arg("--plan")
        .arg(plan)
        .args(["--output", "plain", "--no-input"])
        .env("RELCTL_ACTOR", ACTOR)
        .env("NO_COLOR", "1")
        .env_remove("RELCTL_NOW")
        .env_remove("RELCTL_LOG");
    cmd
}

pub fn promote(bin: &Path, plan: &Path, who: &Identity, expect: i32) -> anyhow::Result<()> {
    let out = relctl(bin, plan)
        .args([
            "promote",
            "--artifact",
            &who.artifact(),
            "--version",
            &who.version,
        ])
        .output()
        .context("running relctl promote")?;
    let code = out.status.code().unwrap_or(-1);
    ensure!(
        code == expect,
        "relctl promote {} exited {code}, expected {expect}:\n{}",
        who.version,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

pub fn init_repo(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir)?;
    let mut opts = git2::RepositoryInitOptions::new();
    opts.initial_head("main");
    git2::Repository::init_opts(dir, &opts)
        .with_context(|| format!("git init {}", dir.display()))?;
    Ok(())
}

/// The same serialisation as relctl's journal (src/runner/journal.rs); `seed` checks
/// that it gives back byte for byte what relctl wrote.
pub fn encode<T: serde::Serialize>(value: &T) -> anyhow::Result<Vec<u8>> {
    let mut options = serde_saphyr::SerializerOptions::default();
    options.folded_wrap_chars = usize::MAX;
    options.min_fold_chars = usize::MAX;
    Ok(serde_saphyr::to_string_with_options(value, options)?.into_bytes())
}

/// One real release, read back from the record, to copy.
struct Template {
    who: Identity,
    file: ReleaseFile,
    /// What was live in each environment when it entered: the release its events
    /// name as the one before it.
    bases: BTreeMap<String, Live>,
    /// Events from this index on happened after it went live in production (an
    /// incident's rollback); they are moved later, so time to restore is not zero.
    after_live: usize,
}

impl Template {
    fn new(who: Identity, file: ReleaseFile) -> Template {
        let bases = file
            .events
            .iter()
            .filter_map(|e| match (&e.env, &e.kind) {
                (Some(env), EventKind::Entered { baseline: Some(b) }) => {
                    Some((env.clone(), b.clone()))
                }
                _ => None,
            })
            .collect();
        let after_live = file
            .events
            .iter()
            .rposition(|e| {
                e.env.as_deref() == Some("production") && matches!(e.kind, EventKind::Live)
            })
            .map_or(file.events.len(), |i| i + 1);
        Template {
            who,
            file,
            bases,
            after_live,
        }
    }
}

/// How a generated release goes.
#[derive(Clone, Copy)]
enum Kind {
    /// Live everywhere.
    Good,
    /// Its production canary fails its analysis and is rolled back (every tenth).
    Failed,
    /// Live everywhere, then production is rolled back off it by `relctl rollback`
    /// (one in twenty): the failures and restores the report counts.
    Incident,
}

fn kind(i: usize) -> Kind {
    match (i % 10, i % 20) {
        (9, _) => Kind::Failed,
        (_, 4) => Kind::Incident,
        _ => Kind::Good,
    }
}

struct Templates {
    good: Template,
    failed: Template,
    incident: Template,
    /// The commit the seed releases were built from.
    source: Option<String>,
    /// How long after its `live` event an environment file says the release went live.
    since_lag: Duration,
}

impl Templates {
    fn of(&self, kind: Kind) -> &Template {
        match kind {
            Kind::Good => &self.good,
            Kind::Failed => &self.failed,
            Kind::Incident => &self.incident,
        }
    }
}

/// A commit on `main` (an empty tree: only its time matters) at `secs`.
fn source_commit(
    repo: &git2::Repository,
    tree: &git2::Tree<'_>,
    parent: Option<&git2::Commit<'_>>,
    secs: i64,
    message: &str,
) -> anyhow::Result<git2::Oid> {
    let when = git2::Time::new(secs, 0);
    let sig = git2::Signature::new("dev", "dev@example.com", &when)?;
    let parents: Vec<&git2::Commit<'_>> = parent.into_iter().collect();
    Ok(repo.commit(None, &sig, &sig, message, tree, &parents)?)
}

fn seed(bin: &Path, dir: &Path, platform: &Platform) -> anyhow::Result<Templates> {
    init_repo(dir)?;
    let repo = git2::Repository::open(dir)?;
    let tree = repo.find_tree(repo.treebuilder(None)?.write()?)?;
    let source = source_commit(&repo, &tree, None, Utc::now().timestamp() - 3600, "seed")?;
    repo.reference("refs/heads/main", source, true, "seed")?;
    let plan = write_plan(dir, &platform.url())?;
    let base = Identity::new("seed-a", "9.0.0-seed-a");
    let good = Identity::new("seed-b", "9.0.0-seed-b");
    let failed = Identity::new("seed-c", "9.0.0-seed-c-fail");
    let incident = Identity::new("seed-d", "9.0.0-seed-d");
    promote(bin, &plan, &base, 0)?;
    promote(bin, &plan, &good, 0)?;
    promote(bin, &plan, &failed, 3)?;
    promote(bin, &plan, &incident, 0)?;
    let out = relctl(bin, &plan)
        .args(["rollback", "--env", "production", "--reason", "incident"])
        .output()?;
    ensure!(
        out.status.success(),
        "relctl rollback failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = Store::open(dir, BRANCH, None)?;
    let snapshot = store.snapshot()?;
    let read = |who: &Identity| -> anyhow::Result<Template> {
        let path = format::release_path(APP, &who.id());
        let file = format::read_release(&snapshot, APP, &who.id())?
            .with_context(|| format!("{path} is missing from the seed records"))?;
        let bytes = snapshot.read(&path)?.unwrap_or_default();
        ensure!(
            encode(&file)? == bytes,
            "the generator's serialisation differs from relctl's for {path}"
        );
        Ok(Template::new(who.clone(), file))
    };
    let good = read(&good)?;
    let failed = read(&failed)?;
    let incident = read(&incident)?;
    let staging = format::read_env(&snapshot, APP, "staging")?;
    let since = staging.live.context("nothing live in staging")?.since;
    let live_at = incident
        .file
        .events
        .iter()
        .find(|e| e.env.as_deref() == Some("staging") && matches!(e.kind, EventKind::Live))
        .context("the seed release never went live in staging")?
        .at;
    Ok(Templates {
        good,
        failed,
        incident,
        source: Some(source.to_string()),
        since_lag: since - live_at,
    })
}

/// Replaces one release's identity by another's in recorded text.
struct Rewrite {
    pairs: Vec<(String, String)>,
}

impl Rewrite {
    fn new() -> Rewrite {
        Rewrite { pairs: Vec::new() }
    }

    fn pair(&mut self, from: &str, to: &str) {
        if !from.is_empty() && from != to {
            self.pairs.push((from.to_string(), to.to_string()));
        }
    }

    /// Longest first: a digest before the id made of its first 12 characters.
    fn swap(&mut self, from: &Live, to: &Live) {
        self.pair(&from.digest, &to.digest);
        self.pair(
            from.digest.trim_start_matches("sha256:"),
            to.digest.trim_start_matches("sha256:"),
        );
        self.pair(&from.release, &to.release);
        self.pair(&from.version, &to.version);
    }

    /// A commit, and its short form as notes show it.
    fn commit(&mut self, from: &str, to: &str) {
        self.pair(from, to);
        self.pair(&from[..from.len().min(7)], &to[..to.len().min(7)]);
    }

    fn text(&self, text: &mut String) {
        for (from, to) in &self.pairs {
            if text.contains(from.as_str()) {
                *text = text.replace(from.as_str(), to);
            }
        }
    }

    fn json(&self, value: &mut Value) {
        match value {
            Value::String(s) => self.text(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.json(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.json(v)),
            _ => {}
        }
    }
}

fn live_of(who: &Identity, by: &str, since: DateTime<Utc>) -> Live {
    Live {
        release: who.id(),
        by: by.to_string(),
        artifact: who.artifact(),
        digest: who.digest(),
        version: who.version.clone(),
        since,
    }
}

/// The identity of generated release `i`.
pub fn identity(i: usize) -> Identity {
    Identity::new(
        &format!("bench-release-{i}"),
        format!("1.{}.{}", i / 1000, i % 1000),
    )
}

/// The environments' state files, changed as relctl changes them.
#[derive(Default)]
struct Envs {
    files: BTreeMap<&'static str, EnvFile>,
}

impl Envs {
    fn live(&self, env: &str) -> Option<&Live> {
        self.files.get(env).and_then(|f| f.live.as_ref())
    }

    /// One release's events, as the runner's `mark_live` and `roll_back` and
    /// `relctl rollback` change the files.
    fn apply(&mut self, who: &Identity, event: &Event, lag: Duration) {
        let Some(env) = ENVS.iter().find(|e| event.env.as_deref() == Some(**e)) else {
            return;
        };
        let file = self.files.entry(env).or_insert_with(|| EnvFile {
            environment: env.to_string(),
            ..EnvFile::default()
        });
        let id = who.id();
        match &event.kind {
            EventKind::Live => {
                if let Some(old) = file.live.take()
                    && old.release != id
                {
                    file.push_previous(old);
                }
                file.live = Some(live_of(who, &event.actor, event.at + lag));
                file.lock = None;
                file.rolled_back = None;
            }
            EventKind::RolledBack {
                to: Some(to),
                reason,
                ..
            } if file.live.as_ref().is_some_and(|l| l.release == id) => {
                // `relctl rollback` off a live release, back to the one before it.
                let Some(back_to) = file.previous.iter().find(|p| &p.release == to).cloned() else {
                    return;
                };
                let now = event.at + lag;
                if let Some(old) = file.live.take() {
                    file.push_previous(old);
                }
                file.previous.retain(|p| p.release != back_to.release);
                file.live = Some(Live {
                    since: now,
                    by: event.actor.clone(),
                    ..back_to.clone()
                });
                file.lock = None;
                if !file.rejected.contains(&id) {
                    file.rejected.push(id.clone());
                }
                file.rolled_back = Some(relctl::engine::RollbackNote {
                    from: id,
                    to: back_to.release,
                    by: event.actor.clone(),
                    at: now,
                    reason: reason.clone(),
                });
            }
            EventKind::RolledBack { .. } => {
                file.lock = None;
                if !file.rejected.contains(&id) {
                    file.rejected.push(id);
                }
            }
            _ => {}
        }
    }

    fn changes(self) -> anyhow::Result<Vec<Change>> {
        let mut changes = Vec::new();
        for (env, file) in &self.files {
            // The latest rejections only, as relctl keeps them.
            let mut file = file.clone();
            format::bound_rejected(&mut file);
            changes.push(Change {
                path: format::env_path(APP, env),
                content: encode(&file)?,
            });
        }
        Ok(changes)
    }
}

/// Release `i` made from a template: its identity, its baselines, its source commit
/// and its times (`restore`: how long after going live an incident is rolled back).
fn release(
    who: &Identity,
    template: &Template,
    templates: &Templates,
    envs: &Envs,
    source: &str,
    start: DateTime<Utc>,
    restore: Duration,
) -> ReleaseFile {
    let offset = start - template.file.events[0].at;
    let own_template = live_of(&template.who, ACTOR, start);
    let own = live_of(who, ACTOR, start);
    let rewrite_for = |env: Option<&str>| {
        let mut rewrite = Rewrite::new();
        rewrite.swap(&own_template, &own);
        if let Some(from) = templates.source.as_deref() {
            rewrite.commit(from, source);
        }
        if let Some(env) = env
            && let (Some(from), Some(to)) = (template.bases.get(env), envs.live(env))
        {
            rewrite.swap(from, to);
        }
        rewrite
    };
    let mut file = template.file.clone();
    file.release = who.id();
    file.artifact = who.artifact();
    file.digest = who.digest();
    file.version = who.version.clone();
    file.source_commit = Some(source.to_string());
    if let Some(notes) = &mut file.notes {
        rewrite_for(Some("production")).text(notes);
    }
    for (index, event) in file.events.iter_mut().enumerate() {
        event.at += offset;
        if index >= template.after_live {
            event.at += restore;
        }
        let env = event.env.clone();
        let baseline = env.as_deref().and_then(|env| envs.live(env)).cloned();
        let rewrite = rewrite_for(env.as_deref());
        match &mut event.kind {
            EventKind::Started {
                artifact,
                digest,
                version,
                source_commit,
                ..
            } => {
                *artifact = who.artifact();
                *digest = who.digest();
                *version = who.version.clone();
                *source_commit = Some(source.to_string());
            }
            EventKind::Entered { baseline: b } => *b = baseline,
            EventKind::Intent { request, .. } => rewrite.json(request),
            EventKind::StepDone { detail, .. } => rewrite.json(detail),
            EventKind::StepFailed { error, .. } => rewrite.text(error),
            EventKind::Measured { summary, .. } => rewrite.text(summary),
            EventKind::RollbackStarted { reason }
            | EventKind::Inconclusive { reason, .. }
            | EventKind::Aborted { reason }
            | EventKind::Unlocked { reason } => rewrite.text(reason),
            EventKind::RolledBack { to, reason, .. } => {
                *to = baseline.as_ref().map(|b| b.release.clone());
                rewrite.text(reason);
            }
            _ => {}
        }
    }
    file
}

pub struct Generated {
    pub releases: usize,
    pub commits: usize,
    pub release_bytes: usize,
    pub env_bytes: usize,
    pub seconds: f64,
    /// Of which: the seed promotions, writing the releases, the three promotions.
    pub phases: [f64; 3],
    /// The last release, promoted for real on top of the generated ones.
    pub promote_ms: f64,
}

pub fn generate(
    bin: &Path,
    dir: &Path,
    releases: usize,
    per_commit: usize,
) -> anyhow::Result<Generated> {
    ensure!(releases >= 2, "generate at least 2 releases");
    let began = Instant::now();
    let platform = Platform::start()?;
    let seed_dir = dir.with_extension("seed");
    let templates = seed(bin, &seed_dir, &platform)?;
    std::fs::remove_dir_all(&seed_dir).ok();
    let seeded = began.elapsed().as_secs_f64();

    init_repo(dir)?;
    let store = Store::open(dir, BRANCH, None)?;
    let repo = git2::Repository::open(dir)?;
    let empty = repo.find_tree(repo.treebuilder(None)?.write()?)?;
    // The source commits are made in memory and written as one pack, as a clone
    // would have them, rather than as 100,000 loose files.
    let odb = repo.odb()?;
    let mempack = odb.add_new_mempack_backend(1000)?;
    // The generated releases span the year before the last one, evenly, each built
    // from a commit of its own made an hour before it starts.
    let end = Utc::now() - Duration::hours(1);
    let step = Duration::days(365) / releases as i32;
    let lead = Duration::hours(1);
    let bulk = releases - 1;
    let mut source: Option<git2::Commit<'_>> = None;
    let mut envs = Envs::default();
    let mut changes = Vec::new();
    // Each directory's summary file, as relctl keeps it (`format::journal::summary_change`),
    // and the ones the batch being written changed.
    let mut summaries: BTreeMap<String, String> = BTreeMap::new();
    let mut touched: BTreeSet<String> = BTreeSet::new();
    let (mut commits, mut release_bytes, mut env_bytes) = (0, 0, 0);
    let mut first = 0;
    for i in 0..bulk {
        let who = identity(i);
        let start = end - step * (bulk - i) as i32;
        let oid = source_commit(
            &repo,
            &empty,
            source.as_ref(),
            (start - lead).timestamp(),
            &format!("change {i}"),
        )?;
        source = Some(repo.find_commit(oid)?);
        let template = templates.of(kind(i));
        let mut file = release(
            &who,
            template,
            &templates,
            &envs,
            &oid.to_string(),
            start,
            step / 2,
        );
        file.source_commit_time = DateTime::from_timestamp((start - lead).timestamp(), 0);
        for event in &file.events {
            envs.apply(&who, event, templates.since_lag);
        }
        let content = encode(&file)?;
        release_bytes += content.len();
        let path = format::release_path(APP, &who.id());
        if let Some(beside) = format::summary_beside(&path) {
            let blob = git2::Oid::hash_object(git2::ObjectType::Blob, &content)?;
            let line = summary::encode(&blob, &summary::ReleaseLine::of(&file));
            let text = summaries.entry(beside.clone()).or_default();
            *text = summary::with_line(text, &who.id(), line.as_deref());
            touched.insert(beside);
        }
        changes.push(Change { path, content });
        let last = i + 1 == bulk;
        if changes.len() < per_commit && !last {
            continue;
        }
        if last {
            let files = std::mem::take(&mut envs).changes()?;
            env_bytes = files.iter().map(|c| c.content.len()).sum();
            changes.extend(files);
        }
        for path in std::mem::take(&mut touched) {
            let content = summaries
                .get(&path)
                .cloned()
                .unwrap_or_default()
                .into_bytes();
            changes.push(Change { path, content });
        }
        let batch = std::mem::take(&mut changes);
        let summary = format!(
            "relctl-bench: releases {}..{} of {releases}, generated",
            first + 1,
            i + 1
        );
        let mut batch = Some(batch);
        store.append(&mut |_| {
            Ok(batch.take().map(|changes| Commit {
                summary: summary.clone(),
                trailers: vec![("Relctl-Actor".into(), ACTOR.into())],
                actor: ACTOR.into(),
                changes,
                removed: Vec::new(),
            }))
        })?;
        commits += 1;
        first = i + 1;
    }

    let written = began.elapsed().as_secs_f64();
    // The last release is built from the newest commit, and promoted for real.
    let head = source_commit(
        &repo,
        &empty,
        source.as_ref(),
        (Utc::now() - lead).timestamp(),
        &format!("change {bulk}"),
    )?;
    let mut pack = git2::Buf::new();
    mempack.dump(&repo, &mut pack)?;
    let mut writer = odb.packwriter()?;
    std::io::Write::write_all(&mut writer, &pack)?;
    writer.commit()?;
    mempack.reset()?;
    repo.reference("refs/heads/main", head, true, "relctl-bench: sources")?;
    let plan = write_plan(dir, &platform.url())?;
    // Three times from the same tip; the last one stays.
    let refname = format!("refs/heads/{BRANCH}");
    let tip = repo.refname_to_id(&refname)?;
    let mut times = Vec::new();
    for _ in 0..3 {
        repo.reference(&refname, tip, true, "relctl-bench: promote again")?;
        let t0 = Instant::now();
        promote(bin, &plan, &identity(bulk), 0)?;
        times.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    let promote_ms = times[1];
    let real = store.log(None)?.len() - commits;
    Ok(Generated {
        releases,
        commits: commits + real,
        release_bytes,
        env_bytes,
        seconds: began.elapsed().as_secs_f64(),
        phases: [
            seeded,
            written - seeded,
            began.elapsed().as_secs_f64() - written,
        ],
        promote_ms,
    })
}

impl Generated {
    pub fn json(&self) -> Value {
        json!({
            "releases": self.releases,
            "commits": self.commits,
            "release_bytes": self.release_bytes,
            "env_bytes": self.env_bytes,
            "seconds": self.seconds,
            "phases": self.phases,
            "promote_ms": self.promote_ms,
        })
    }
}

/// Fails when a path would not be read back as relctl wrote it.
pub fn verify(dir: &Path, sample: usize) -> anyhow::Result<()> {
    let store = Store::open(dir, BRANCH, None)?;
    let snapshot = store.snapshot()?;
    let mut names = Vec::new();
    for shard in 0..=u8::MAX {
        let listed = snapshot.list(&format!("{}/{shard:02x}", format::releases_dir(APP)))?;
        names.extend(listed.into_iter().filter(|n| n.ends_with(".yaml")));
    }
    if names.is_empty() {
        bail!("no releases in {}", dir.display());
    }
    for name in names.iter().step_by((names.len() / sample).max(1)) {
        let id = name.trim_end_matches(".yaml");
        let path = format::release_path(APP, id);
        let file = format::read_release(&snapshot, APP, id)?.context("listed but unreadable")?;
        let bytes = encode(&file)?;
        ensure!(
            Some(&bytes) == snapshot.read(&path)?.as_ref(),
            "{path} does not round-trip through relctl's types"
        );
        let beside = format::summary_beside(&path).context("a release outside the directories")?;
        let text = String::from_utf8(snapshot.read(&beside)?.unwrap_or_default())?;
        let blob = git2::Oid::hash_object(git2::ObjectType::Blob, &bytes)?;
        let own = summary::ReleaseLine::of(&file);
        ensure!(
            summary::read(&text).any(|(r, oid, s)| r == id && oid == blob && s == own),
            "{beside} has no line for {path} as relctl writes it"
        );
    }
    for env in ENVS {
        let file = format::read_env(&snapshot, APP, env)?;
        let path = format::env_path(APP, env);
        ensure!(
            Some(encode(&file)?) == snapshot.read(&path)?,
            "{path} does not round-trip through relctl's types"
        );
    }
    Ok(())
}
