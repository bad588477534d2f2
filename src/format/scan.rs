//! Reading the record for `relctl report`, fast enough for 100,000 releases: each
//! release file's few relevant events come from a cache keyed by the file's blob id
//! when it has them (a blob never changes, so neither does what it says); the others
//! are read in parallel, in the order their objects lie in the packs, and skimmed
//! rather than parsed. Source commit times come from the release files (relctl records
//! them), or else from the plan's git repository.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use git2::Oid;

use super::layout;
use super::summary::{self, Mark, ReleaseLine};
use crate::engine::ReleaseFile;

/// What a report looks for: deployments into `env` that went live in `[start, now]`,
/// with their source commits looked up in the repository at `source`.
pub struct Scan<'a> {
    pub app: &'a str,
    pub env: &'a str,
    pub start: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
    pub source: Option<&'a Path>,
}

/// One release going live in the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    pub release: String,
    pub live: DateTime<Utc>,
    /// When the environment was rolled back off it, if it was.
    pub rolled_back: Option<DateTime<Utc>>,
    pub source_commit: Option<String>,
    /// When that commit was made, by the plan's git repository.
    pub commit_time: Option<DateTime<Utc>>,
}

/// Every deployment the scan looks for, oldest first.
pub fn deployments(records: &Path, branch: &str, scan: &Scan) -> anyhow::Result<Vec<Deployment>> {
    let repo = git2::Repository::open(records)
        .with_context(|| format!("opening the records repository {}", records.display()))?;
    let refname = format!("refs/heads/{branch}");
    let tip = match repo.refname_to_id(&refname) {
        Ok(oid) => oid,
        Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {refname}")),
    };
    let tree = repo
        .find_commit(tip)
        .and_then(|c| c.tree())
        .with_context(|| format!("reading the tip of {branch}"))?;
    // In its shards, or where an older layout under apps/ put it.
    let mut found = Default::default();
    for dir in layout::Apps::ALL.map(|l| l.releases_dir(scan.app)) {
        match tree.get_path(Path::new(&dir)) {
            Ok(entry) => {
                found = release_files(&repo, entry.id())
                    .with_context(|| format!("reading {dir}/ in the record"))?;
                break;
            }
            Err(e) if e.code() == git2::ErrorCode::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("reading {dir}/ in the record")),
        }
    }
    let (mut files, mut summaries) = found;
    // A record not yet moved under apps/: the app's releases at its top.
    match tree.get_path(Path::new(layout::legacy::RELEASES)) {
        Ok(entry) => {
            let (old, old_summaries) =
                release_files(&repo, entry.id()).context("reading releases/ in the record")?;
            files.extend(
                old.into_iter()
                    .filter(|(id, _)| layout::app_of_id(id) == Some(scan.app)),
            );
            summaries.extend(old_summaries);
        }
        Err(e) if e.code() == git2::ErrorCode::NotFound => {}
        Err(e) => return Err(e).context("reading releases/ in the record"),
    }
    // With a period, a release that last went live in `env` before it (by the
    // environment file) cannot count: if it is not known, it is not read either.
    let early = match scan.start {
        Some(start) => live_before(&repo, &tree, scan.app, scan.env, start),
        None => HashSet::new(),
    };
    let mut summarised = summaries;
    let unsummarised: Vec<(String, Oid)> = files
        .iter()
        .filter(|(name, oid)| !summarised.contains_key(oid) && !early.contains(name))
        .cloned()
        .collect();
    // The local cache holds what the summaries do not: it is read only when needed.
    let cache_path = repo.commondir().join("relctl-report.cache");
    let mut cache = if unsummarised.is_empty() {
        HashMap::new()
    } else {
        load_cache(&cache_path)
    };
    let mut missing: Vec<(String, Oid)> = unsummarised
        .into_iter()
        .filter(|(_, oid)| !cache.contains_key(oid))
        .collect();
    pack_order(&repo.commondir().join("objects").join("pack"), &mut missing);
    let dir = repo.path().to_path_buf();
    drop(tree);
    drop(repo);
    let read = read_all(&dir, &missing, scan.source)?;
    let mut changed = !read.is_empty();
    cache.extend(read);

    let source = scan.source.and_then(|p| git2::Repository::open(p).ok());
    let (mut found, mut learned) = (Vec::new(), Vec::new());
    for (release, oid) in &files {
        let (skimmed, in_cache) = match cache.get_mut(oid) {
            Some(skimmed) => (skimmed, true),
            None => match summarised.get_mut(oid) {
                Some(skimmed) => (skimmed, false),
                None => continue, // went live too early to count
            },
        };
        for (live, rolled_back) in skimmed.visits(scan.env) {
            if scan.start.is_some_and(|s| live < s) || live > scan.now {
                continue;
            }
            if skimmed.commit_time.is_none()
                && let Some(time) = commit_time(source.as_ref(), skimmed.source_commit.as_deref())
            {
                // Found in the plan's repository: kept in the cache, summarised or not.
                skimmed.commit_time = Some(time);
                changed = true;
                if !in_cache {
                    learned.push((*oid, skimmed.clone()));
                }
            }
            found.push(Deployment {
                release: release.clone(),
                live,
                rolled_back,
                source_commit: skimmed.source_commit.clone(),
                commit_time: skimmed
                    .commit_time
                    .and_then(|t| DateTime::from_timestamp(t, 0)),
            });
        }
    }
    cache.extend(learned);
    if changed {
        let current: HashSet<Oid> = files.iter().map(|(_, oid)| *oid).collect();
        cache.retain(|oid, _| current.contains(oid));
        save_cache(&cache_path, &cache);
    }
    found.sort_by(|a, b| a.live.cmp(&b.live).then_with(|| a.release.cmp(&b.release)));
    Ok(found)
}

/// Release files and summaries under `releases/`.
type Listed = (Vec<(String, Oid)>, HashMap<Oid, ReleaseLine>);

/// Every release file under `releases/`: (release id, blob), from its 256 directories
/// and, for records written before them, from `releases/` itself; and what the
/// directories' summary files say, by blob.
fn release_files(repo: &git2::Repository, releases: Oid) -> Result<Listed, git2::Error> {
    let mut files = Vec::new();
    let mut summaries = HashMap::new();
    let mut add = |entry: &git2::TreeEntry<'_>| {
        if let Some(name) = entry.name().ok().and_then(layout::name_of) {
            files.push((name.to_string(), entry.id()));
        }
    };
    for entry in repo.find_tree(releases)?.iter() {
        match entry.kind() {
            Some(git2::ObjectType::Blob) => add(&entry),
            Some(git2::ObjectType::Tree) => {
                for e in repo.find_tree(entry.id())?.iter() {
                    if e.kind() != Some(git2::ObjectType::Blob) {
                        continue;
                    }
                    if e.name() == Ok(layout::SUMMARY_FILE) {
                        let blob = repo.find_blob(e.id())?;
                        let text = String::from_utf8_lossy(blob.content());
                        summaries.extend(summary::read(&text).map(|(_, oid, s)| (oid, s)));
                    } else {
                        add(&e);
                    }
                }
            }
            _ => {}
        }
    }
    Ok((files, summaries))
}

/// The commit time of `sha` in the plan's repository, if it has that commit. The
/// existence check does not rescan the packs on a miss, so a shallow clone is cheap.
fn commit_time(repo: Option<&git2::Repository>, sha: Option<&str>) -> Option<i64> {
    let repo = repo?;
    let oid = Oid::from_str(sha?).ok()?;
    let odb = repo.odb().ok()?;
    if !odb.exists_ext(oid, git2::OdbLookupFlags::NO_REFRESH) {
        return None;
    }
    Some(repo.find_commit(oid).ok()?.time().seconds())
}

/// Reads and skims `files`, split over the cores; each thread has its own handles
/// on the repositories (git2 handles are not shared between threads).
fn read_all(
    dir: &Path,
    files: &[(String, Oid)],
    source: Option<&Path>,
) -> anyhow::Result<Vec<(Oid, ReleaseLine)>> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
        .min(files.len().div_ceil(256));
    let chunk = files.len().div_ceil(threads.max(1));
    let mut out = Vec::with_capacity(files.len());
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| scope.spawn(move || read_part(dir, part, source)))
            .collect();
        for handle in handles {
            let part = handle
                .join()
                .map_err(|_| anyhow::anyhow!("a thread reading the record panicked"))??;
            out.extend(part);
        }
        Ok(())
    })?;
    Ok(out)
}

fn read_part(
    dir: &Path,
    part: &[(String, Oid)],
    source: Option<&Path>,
) -> anyhow::Result<Vec<(Oid, ReleaseLine)>> {
    let repo = git2::Repository::open(dir)
        .with_context(|| format!("opening the records repository {}", dir.display()))?;
    // Opened at the first release file that does not record its commit's time.
    let mut source_repo: Option<Option<git2::Repository>> = None;
    let mut out = Vec::with_capacity(part.len());
    for (release, oid) in part {
        let blob = repo
            .find_blob(*oid)
            .with_context(|| format!("reading the release file of {release} from the record"))?;
        let text = std::str::from_utf8(blob.content())
            .with_context(|| format!("the release file of {release} in the record is not UTF-8"))?;
        let mut skimmed = match skim(text) {
            Some(skimmed) => skimmed,
            None => parse(text).with_context(|| {
                format!("cannot read the release file of {release} in the record")
            })?,
        };
        if skimmed.commit_time.is_none() {
            let repo = source_repo
                .get_or_insert_with(|| source.and_then(|p| git2::Repository::open(p).ok()));
            skimmed.commit_time = commit_time(repo.as_ref(), skimmed.source_commit.as_deref());
        }
        out.push((*oid, skimmed));
    }
    Ok(out)
}

/// The fast path. Record files are written by relctl in one layout: top-level keys,
/// then `events:`, a list of maps at column 0 whose first keys are `at`, `actor`,
/// `env` (when there is one) and `event`, everything else nested deeper. So it finds
/// each `\n  event: ` (a key at column 2 can only be an event's own), and for the few
/// that matter reads the lines just before it. `None` when a file does not look
/// exactly like that (as many `event:` keys as events, each preceded by its `at`,
/// `actor` and `env` lines): the YAML parser reads it.
fn skim(text: &str) -> Option<ReleaseLine> {
    const EVENTS: &str = "\nevents:\n";
    const EVENT: &str = "\n  event:";
    let split = memchr::memmem::find(text.as_bytes(), EVENTS.as_bytes())?;
    let head = &text[..=split];
    // From the newline before the first event, so each event starts with "\n- ".
    let body = &text[split + EVENTS.len() - 1..];
    let mut skimmed = ReleaseLine {
        source_commit: top_level(head, "source_commit:")?.map(str::to_string),
        ..ReleaseLine::default()
    };
    if let Some(time) = top_level(head, "source_commit_time:")? {
        skimmed.commit_time = Some(DateTime::parse_from_rfc3339(time).ok()?.timestamp());
    }
    let starts = memchr::memmem::find_iter(body.as_bytes(), "\n- ").count();
    let mut keys = 0;
    for hit in memchr::memmem::find_iter(body.as_bytes(), EVENT.as_bytes()) {
        keys += 1;
        let value = &body[hit + EVENT.len()..];
        let name = scalar(value.split_once('\n').map_or(value, |(line, _)| line))?;
        let Some(mark) = Mark::of(name) else {
            continue;
        };
        // Backwards from the `event:` line: `env` (if any), `actor`, `at`.
        let (mut rest, mut line) = last_line(&body[..hit]);
        let env = match line.strip_prefix("  env:") {
            Some(env) => {
                (rest, line) = last_line(rest);
                Some(scalar(env)?)
            }
            None => None,
        };
        if !line.starts_with("  actor:") {
            return None;
        }
        let at = scalar(last_line(rest).1.strip_prefix("- at:")?)?;
        // relctl writes these three with their environment, always.
        let at = DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc);
        skimmed.events.push((env?.to_string(), mark, at));
    }
    (starts > 0 && keys == starts).then_some(skimmed)
}

/// Whether a release file's events say the release is rolled back or rejected in
/// `env` and has not gone live there since (`engine::rejected_in`), read the way `skim`
/// reads: its environment's own `rolled_back`, `rejected` and `live` events, backwards
/// from each `event:` key over `target` (an event about one target does not count),
/// `env` and `actor`. `None` when the file does not look exactly as relctl writes it.
pub(super) fn skim_rejected_in(text: &str, env: &str) -> Option<bool> {
    const EVENTS: &str = "\nevents:\n";
    const EVENT: &str = "\n  event:";
    let split = memchr::memmem::find(text.as_bytes(), EVENTS.as_bytes())?;
    let body = &text[split + EVENTS.len() - 1..];
    let starts = memchr::memmem::find_iter(body.as_bytes(), "\n- ").count();
    let mut keys = 0;
    let mut rejected = false;
    for hit in memchr::memmem::find_iter(body.as_bytes(), EVENT.as_bytes()) {
        keys += 1;
        let value = &body[hit + EVENT.len()..];
        let says = match scalar(value.split_once('\n').map_or(value, |(line, _)| line))? {
            "rolled_back" | "rejected" => true,
            "live" => false,
            _ => continue,
        };
        let (mut rest, mut line) = last_line(&body[..hit]);
        let targeted = line.starts_with("  target:");
        if targeted {
            (rest, line) = last_line(rest);
        }
        // relctl writes these three with their environment, always.
        let event_env = scalar(line.strip_prefix("  env:")?)?;
        if !last_line(rest).1.starts_with("  actor:") {
            return None;
        }
        if !targeted && event_env == env {
            rejected = says;
        }
    }
    (starts > 0 && keys == starts).then_some(rejected)
}

/// The values of the top-level `keys` of a release file (in the part before `events:`),
/// in their order; `None` when one is missing or needs the real parser.
pub(super) fn skim_head(text: &str, keys: &[&str]) -> Option<Vec<String>> {
    let split = memchr::memmem::find(text.as_bytes(), b"\nevents:\n")?;
    let head = &text[..=split];
    keys.iter()
        .map(|key| top_level(head, key)?.map(str::to_string))
        .collect()
}

/// The value of a top-level `key` in the part before `events:`: `Some(None)` when it
/// is not there, `None` when it is there but needs the real parser.
fn top_level<'t>(head: &'t str, key: &str) -> Option<Option<&'t str>> {
    let mut found = None;
    let mut at = 0;
    while let Some(i) = memchr::memmem::find(&head.as_bytes()[at..], key.as_bytes()) {
        let start = at + i;
        at = start + key.len();
        if start > 0 && head.as_bytes()[start - 1] != b'\n' {
            continue; // inside another key or value
        }
        if found.is_some() {
            return None; // twice: let the parser say what it makes of that
        }
        let value = &head[at..];
        found = Some(scalar(
            value.split_once('\n').map_or(value, |(line, _)| line),
        )?);
    }
    Some(found)
}

/// `text` without its last line, and that line (both without the newline between).
fn last_line(text: &str) -> (&str, &str) {
    let (rest, line) = match memchr::memrchr(b'\n', text.as_bytes()) {
        Some(i) => (&text[..=i], &text[i + 1..]),
        None => ("", text),
    };
    let line = line.strip_suffix('\r').unwrap_or(line);
    (rest.strip_suffix('\n').unwrap_or(rest), line)
}

/// The lines of a text, without a trailing `\r`.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l))
}

/// A plain or simply quoted YAML scalar; `None` for anything needing the real parser.
fn scalar(raw: &str) -> Option<&str> {
    let value = raw.trim();
    if let Some(inner) = value.strip_prefix('"') {
        let inner = inner.strip_suffix('"')?;
        return (!inner.contains(['\\', '"'])).then_some(inner);
    }
    if let Some(inner) = value.strip_prefix('\'') {
        let inner = inner.strip_suffix('\'')?;
        return (!inner.contains('\'')).then_some(inner);
    }
    if value.is_empty()
        || value.starts_with(['|', '>', '&', '*', '!', '{', '[', '#'])
        || value.contains(" #")
    {
        return None;
    }
    Some(value)
}

/// The slow path: the whole file through the YAML parser.
fn parse(text: &str) -> anyhow::Result<ReleaseLine> {
    Ok(ReleaseLine::of(&serde_saphyr::from_str::<ReleaseFile>(
        text,
    )?))
}

/// The cache's first line; another one (an older relctl's) is ignored and rewritten.
const CACHE_HEADER: &str = "relctl report cache 1";

/// The cache, or an empty one when there is none or it cannot be read; a line that
/// does not decode is left out (and its file read again).
fn load_cache(path: &Path) -> HashMap<Oid, ReleaseLine> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return HashMap::new();
    };
    let mut lines = text.lines();
    if lines.next() != Some(CACHE_HEADER) {
        return HashMap::new();
    }
    lines.filter_map(summary::decode).collect()
}

/// Writes the cache whole, through a temporary file and a rename, so a reader never
/// sees half of it. A cache that cannot be written only costs the next report time.
fn save_cache(path: &Path, cache: &HashMap<Oid, ReleaseLine>) {
    let mut text = String::with_capacity(cache.len() * 160 + 32);
    text.push_str(CACHE_HEADER);
    text.push('\n');
    for line in cache.iter().filter_map(|(oid, s)| summary::encode(oid, s)) {
        text.push_str(&line);
        text.push('\n');
    }
    let temp = path.with_extension(format!("{}.tmp", std::process::id()));
    let written = std::fs::write(&temp, text).and_then(|()| std::fs::rename(&temp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        tracing::debug!("cannot write the report cache {}: {e}", path.display());
    }
}

/// Sorts files by where their blobs lie in the repository's packs. Read in that order,
/// each blob's delta base was usually just read and is still cached; read in name
/// order, every blob rebuilds its delta chain from scratch (five times slower on a
/// packed record). Loose objects keep their order, after the packed ones.
fn pack_order(dir: &Path, files: &mut [(String, Oid)]) {
    let mut packs: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "idx"))
        .filter_map(|p| std::fs::read(p).ok())
        .filter(|idx| idx.len() >= 8 + 1024 && idx[..8] == [0xff, b't', b'O', b'c', 0, 0, 0, 2])
        .collect();
    if packs.is_empty() {
        return;
    }
    packs.sort_by_key(|idx| std::cmp::Reverse(idx.len()));
    let place = |oid: &Oid| -> (usize, u64) {
        packs
            .iter()
            .enumerate()
            .find_map(|(i, idx)| idx_offset(idx, oid.as_bytes()).map(|o| (i, o)))
            .unwrap_or((usize::MAX, 0))
    };
    files.sort_by_cached_key(|(_, oid)| place(oid));
}

/// The pack offset of `oid` in a version 2 pack index (SHA-1), if it is there.
fn idx_offset(idx: &[u8], oid: &[u8]) -> Option<u64> {
    const HASH: usize = 20;
    let be32 = |at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(idx.get(at..at + 4)?.try_into().ok()?))
    };
    if oid.len() != HASH {
        return None;
    }
    let fanout = |b: usize| be32(8 + 4 * b).map(|n| n as usize);
    let count = fanout(255)?;
    let first = usize::from(oid[0]);
    let lo = if first == 0 { 0 } else { fanout(first - 1)? };
    let hi = fanout(first)?;
    let names = 8 + 1024;
    let name = |i: usize| idx.get(names + i * HASH..names + (i + 1) * HASH);
    let (mut lo, mut hi) = (lo, hi.min(count));
    while lo < hi {
        let mid = (lo + hi) / 2;
        match name(mid)?.cmp(oid) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => {
                let offsets = names + count * HASH + count * 4;
                let small = be32(offsets + mid * 4)?;
                if small & 0x8000_0000 == 0 {
                    return Some(u64::from(small));
                }
                let large = offsets + count * 4 + (small & 0x7fff_ffff) as usize * 8;
                return Some(u64::from_be_bytes(
                    idx.get(large..large + 8)?.try_into().ok()?,
                ));
            }
        }
    }
    None
}

/// The releases whose last time going live in `env` (`since` in the environment file)
/// is before `start`; empty when the file cannot be skimmed. Only ever used to skip
/// files, so an environment file that keeps only the latest releases costs time, not
/// figures.
fn live_before(
    repo: &git2::Repository,
    tree: &git2::Tree,
    app: &str,
    env: &str,
    start: DateTime<Utc>,
) -> HashSet<String> {
    let mut paths = layout::Apps::ALL.map(|l| l.env_path(app, env)).to_vec();
    paths.push(layout::legacy::env_path(env));
    let text = paths
        .iter()
        .find_map(|path| tree.get_path(Path::new(path)).ok())
        .and_then(|entry| repo.find_blob(entry.id()).ok())
        .and_then(|blob| String::from_utf8(blob.content().to_vec()).ok());
    let Some(text) = text else {
        return HashSet::new();
    };
    skim_env(&text)
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, since)| *since < start)
        .map(|(release, _)| release)
        .collect()
}

/// (release, since) of `live:` and every `previous:` entry of an environment file, in
/// the layout relctl writes; `None` when it looks any different.
fn skim_env(text: &str) -> Option<Vec<(String, DateTime<Utc>)>> {
    let mut out = Vec::new();
    let mut section = "";
    let mut release: Option<&str> = None;
    for line in lines(text) {
        if !line.starts_with([' ', '-']) {
            section = line.split_once(':').map_or("", |(k, _)| k);
            continue;
        }
        let field = match section {
            "live" => line.strip_prefix("  ")?,
            "previous" => match line.strip_prefix("- ") {
                Some(rest) => rest,
                None => line.strip_prefix("  ")?,
            },
            _ => continue,
        };
        if field.starts_with(' ') {
            continue;
        }
        match field.split_once(':') {
            Some(("release", value)) => release = Some(scalar(value)?),
            Some(("since", value)) => {
                let since = DateTime::parse_from_rfc3339(scalar(value)?).ok()?;
                out.push((release.take()?.to_string(), since.with_timezone(&Utc)));
            }
            _ => {}
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"release: checkout-4f2a9c1be0d3
app: checkout
artifact: ghcr.io/acme/checkout@sha256:4f2a
digest: sha256:4f2a
version: "1.4.2"
source_commit: e9775ec9bc6e3c90172b590cd55828623a6bce02
notes: |
  ## checkout-4f2a9c1be0d3

  - event: live
events:
- at: "2026-11-01T10:00:00Z"
  actor: me
  env: production
  event: entered
  baseline:
    release: checkout-000000000000
    artifact: ghcr.io/acme/checkout@sha256:0000
    digest: sha256:0000
    version: "1.4.1"
    since: "2026-10-01T10:00:00Z"
  relctl: "0.1.0"
  plan: sha256:1de3
- at: "2026-11-01T10:05:00Z"
  actor: me
  env: production
  event: live
  relctl: "0.1.0"
  plan: sha256:1de3
- at: "2026-11-01T11:00:00Z"
  actor: me
  env: staging
  event: rolled_back
  reason: x
  relctl: "0.1.0"
  plan: sha256:1de3
- at: "2026-11-01T11:30:00Z"
  actor: me
  env: production
  event: step_failed
  step: 1
  action: http
  gate: false
  error: |
    line one
    - at: x
    event: rolled_back
  relctl: "0.1.0"
  plan: sha256:1de3
- at: "2026-11-01T12:05:00Z"
  actor: me
  env: production
  event: rolled_back
  to: checkout-000000000000
  reason: rollback
  ms: 1200
  relctl: "0.1.0"
  plan: sha256:1de3
"#;

    use crate::clock::at as t;

    #[test]
    fn skimming_agrees_with_the_parser() {
        let skimmed = skim(FILE).expect("the fast path reads it");
        assert_eq!(parse(FILE).ok(), Some(skimmed.clone()));
        assert_eq!(
            skimmed.source_commit.as_deref(),
            Some("e9775ec9bc6e3c90172b590cd55828623a6bce02")
        );
        assert_eq!(
            skimmed.visits("production"),
            vec![(t("2026-11-01T10:05:00Z"), Some(t("2026-11-01T12:05:00Z")))]
        );
        // A rollback without going live first (a canary) is no deployment.
        assert_eq!(skimmed.visits("staging"), vec![]);
        // Anything unexpected goes to the parser.
        assert_eq!(skim("x: 1\nevents:\n- at: \"a\\\"b\"\n"), None);
        assert_eq!(skim("x: 1\nevents:\n- at: 1\n  step: 2\n"), None);
        assert_eq!(skim("release: x\n"), None);
    }

    /// `skim_rejected_in` says what `engine::rejected_in` says of the parsed file.
    fn rejection_agrees(text: &str, env: &str) -> bool {
        let parsed: ReleaseFile = serde_saphyr::from_str(text).expect("the parser reads it");
        let said = skim_rejected_in(text, env).expect("the fast path reads it");
        assert_eq!(
            said,
            crate::engine::rejected_in(&parsed, env),
            "{env}: {text}"
        );
        said
    }

    #[test]
    fn skimming_whether_a_release_is_rejected_agrees_with_the_parser() {
        // Rolled back in production (after going live), and in staging.
        assert!(rejection_agrees(FILE, "production"));
        assert!(rejection_agrees(FILE, "staging"));
        assert!(!rejection_agrees(FILE, "dev"));
        // Live again in production after the rollback.
        let again = format!(
            "{FILE}- at: \"2026-11-02T00:00:00Z\"\n  actor: me\n  env: production\n  event: live\n  relctl: \"0.1.0\"\n  plan: sha256:1de3\n"
        );
        assert!(!rejection_agrees(&again, "production"));
        // A rollback of one target of production is not the environment's.
        let target = format!(
            "{again}- at: \"2026-11-03T00:00:00Z\"\n  actor: me\n  env: production\n  target: eu\n  event: rolled_back\n  reason: x\n  relctl: \"0.1.0\"\n  plan: sha256:1de3\n"
        );
        assert!(!rejection_agrees(&target, "production"));
        // Rejected at an approval.
        let rejected = format!(
            "{FILE}- at: \"2026-11-03T00:00:00Z\"\n  actor: me\n  env: dev\n  event: rejected\n  by: me\n  reason: not yet\n  relctl: \"0.1.0\"\n  plan: sha256:1de3\n"
        );
        assert!(rejection_agrees(&rejected, "dev"));
        // Off the layout: the parser decides.
        let swapped = FILE.replacen(
            "  env: production\n  event: rolled_back\n",
            "  event: rolled_back\n  env: production\n",
            1,
        );
        assert_eq!(skim_rejected_in(&swapped, "production"), None);
        assert_eq!(skim_rejected_in("release: x\n", "production"), None);
    }

    #[test]
    fn skimming_the_head_agrees_with_the_parser() {
        let parsed: ReleaseFile = serde_saphyr::from_str(FILE).expect("parsed");
        assert_eq!(
            skim_head(FILE, &["artifact:", "digest:"]),
            Some(vec![parsed.artifact, parsed.digest])
        );
        // A key given twice, missing, or quoted with an escape: the parser decides.
        let twice = FILE.replacen("\nevents:", "\ndigest: sha256:00\nevents:", 1);
        assert_eq!(skim_head(&twice, &["digest:"]), None);
        assert_eq!(skim_head(FILE, &["missing:"]), None);
        let escaped = FILE.replacen("\nversion:", "\nartifact2: x\nversion:", 1);
        assert_eq!(
            skim_head(&escaped, &["artifact:"]).map(|v| v.len()),
            Some(1)
        );
    }

    #[test]
    fn skimming_reads_only_what_is_at_its_own_level() {
        // Lookalike lines nested in values are not keys (FILE has some in an error).
        let nested = FILE.replacen(
            "\n  - event: live\n",
            "\n  - event: live\n  source_commit: 0000\n  event: live\n",
            1,
        );
        assert_ne!(nested, FILE, "the test changes something");
        assert_eq!(skim(&nested), skim(FILE));
        assert_eq!(parse(&nested).ok(), skim(FILE));
        // Anything else off the layout goes to the parser: a key given twice, an
        // event without `event:`, an `env` after `event`, `actor` missing.
        let twice = FILE.replacen("\nevents:", "\nsource_commit: abc\nevents:", 1);
        assert_eq!(skim(&twice), None);
        let no_event = FILE.replacen("  event: entered\n", "", 1);
        assert_eq!(skim(&no_event), None);
        let swapped = FILE.replacen(
            "  env: production\n  event: live\n",
            "  event: live\n  env: production\n",
            1,
        );
        assert_ne!(swapped, FILE, "the test changes something");
        assert_eq!(skim(&swapped), None);
        let anonymous = FILE.replacen("  actor: ", "  who: ", 1);
        assert_eq!(skim(&anonymous), None);
    }

    #[test]
    fn a_recorded_commit_time_is_read_on_both_paths() {
        let with_time = FILE.replacen(
            "\nevents:",
            "\nsource_commit_time: \"2026-11-01T08:00:00Z\"\nevents:",
            1,
        );
        let skimmed = skim(&with_time).expect("the fast path reads it");
        assert_eq!(
            skimmed.commit_time,
            Some(t("2026-11-01T08:00:00Z").timestamp())
        );
        assert_eq!(parse(&with_time).ok(), Some(skimmed));
        assert_eq!(skim(FILE).and_then(|s| s.commit_time), None);
    }

    #[test]
    fn cache_lines_round_trip() {
        let oid = Oid::from_str("0123456789abcdef0123456789abcdef01234567").expect("oid");
        let mut skimmed = skim(FILE).expect("skimmed");
        skimmed.commit_time = Some(1_762_000_000);
        let line = summary::encode(&oid, &skimmed).expect("encodable");
        assert_eq!(summary::decode(&line), Some((oid, skimmed)));
        let empty = ReleaseLine::default();
        assert_eq!(
            summary::decode(&summary::encode(&oid, &empty).expect("line")),
            Some((oid, empty))
        );
        assert_eq!(summary::decode("not a line"), None);
        let odd = ReleaseLine {
            events: vec![("a;b".into(), Mark::Live, t("2026-11-01T00:00:00Z"))],
            ..ReleaseLine::default()
        };
        assert_eq!(summary::encode(&oid, &odd), None);
    }

    #[test]
    fn skimming_an_environment_file() {
        let text = "environment: production\nlive:\n  release: b\n  by: me\n  since: \"2026-11-02T00:00:00Z\"\nprevious:\n- release: a\n  by: me\n  since: 2026-11-01T00:00:00Z\nlock: null\nrejected:\n- a\n";
        assert_eq!(
            skim_env(text),
            Some(vec![
                ("b".to_string(), t("2026-11-02T00:00:00Z")),
                ("a".to_string(), t("2026-11-01T00:00:00Z")),
            ])
        );
    }
}
