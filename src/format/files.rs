//! Reading and writing the record's two kinds of file: a release file (the release's
//! identity and every event) and an environment file (what is live, what was before,
//! the lock), as YAML, with every decoded file kept by blob id for the command.

use std::collections::BTreeMap;

use anyhow::Context as _;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::layout::{env_path, legacy, release_path};
use super::rejected;
use crate::engine::{EnvFile, ReleaseFile};
use crate::error::{Error, Exit};
use crate::record::Snapshot;

pub(super) fn decode<T>(snapshot: &Snapshot, path: &str) -> anyhow::Result<Option<T>>
where
    T: DeserializeOwned + Clone + Send + Sync + 'static,
{
    decode_with(snapshot, path, |text| serde_saphyr::from_str(text))
}

pub(super) fn decode_with<T>(
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
    let file = match parse(&text) {
        Ok(file) => file,
        Err(err) if err.to_string().contains("unknown variant") => {
            return Err(newer(snapshot, path, &text, err));
        }
        Err(err) => return Err(anyhow::Error::from(err).context(unreadable(snapshot, path))),
    };
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

/// A record file naming an event or a value this relctl does not know: a newer relctl
/// wrote it (each event names the relctl that wrote it). Nothing is wrong with the file.
/// The parser places the error where the event ends, so the line that names the
/// unknown value (`event: NAME`, from the parser's `unknown variant `NAME``) is named
/// instead of the parser's own position, when it is found.
fn newer(
    snapshot: &Snapshot,
    path: &str,
    text: &str,
    parsed: serde_saphyr::Error,
) -> anyhow::Error {
    let at = format!("{}:{path}", snapshot.branch());
    let message = parsed.to_string();
    let named = message
        .split_once("unknown variant `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(name, _)| name)
        .and_then(|name| {
            let line = text.lines().position(|l| {
                l.trim_start_matches([' ', '-'])
                    .split_once(':')
                    .is_some_and(|(_, value)| value.trim() == name)
            })?;
            Some(format!(": `{name}`, line {}", line + 1))
        });
    let error = Error::new(
        Exit::Failed,
        format!(
            "cannot read the record file {at}: it holds an event this relctl ({}) does not know{}",
            env!("CARGO_PKG_VERSION"),
            named.as_deref().unwrap_or_default()
        ),
    )
    .with_hint(format!(
        "a newer relctl most likely wrote it (`git show {at}` names the relctl of each event): \
         upgrade this relctl, and leave the file as it is"
    ));
    match named {
        Some(_) => error.into(),
        None => anyhow::Error::from(parsed).context(error),
    }
}

/// Record files this process has decoded, by blob id. A command reads the same files
/// several times on one tip (a rollback reads the environment's file and the release's
/// to decide, then again to record that it starts; a promotion reads its release file
/// before every decision), and parsing the YAML is most of what reading costs.
/// Content-addressed, so never stale. What this process writes is kept too (`written`):
/// every event of a promotion rewrites its release file, and parsing the file the last
/// event wrote was 40% of a promotion's instructions.
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

/// `file`, about to be written as `content`: the next read of that blob (the next event's,
/// on the tip this commit makes) need not parse it again. relctl writes only what reads
/// back as the same value (src/format/journal.rs), so this is what the parse would give.
/// The blob id `content` will have.
pub(super) fn written<T: Clone + Send + Sync + 'static>(
    content: &[u8],
    file: &T,
) -> Result<git2::Oid, git2::Error> {
    let id = git2::Oid::hash_object(git2::ObjectType::Blob, content)?;
    decoded::keep(id, file);
    Ok(id)
}

pub fn encode<T: Serialize>(value: &T, path: &str) -> anyhow::Result<Vec<u8>> {
    // Long single-line values (artifact references) stay on one line, greppable.
    let mut options = serde_saphyr::SerializerOptions::default();
    options.folded_wrap_chars = usize::MAX;
    options.min_fold_chars = usize::MAX;
    serde_saphyr::to_string_with_options(value, options)
        .map(String::into_bytes)
        .with_context(|| format!("cannot write the record file {path}"))
}

/// Release `id` of `app`, if the record has it (under its directory in `apps/`, in any
/// layout there, or at the top of a record not yet moved there, when its file names
/// `app`).
pub fn read_release(
    snapshot: &Snapshot,
    app: &str,
    id: &str,
) -> anyhow::Result<Option<ReleaseFile>> {
    Ok(read_release_at(snapshot, app, id)?.map(|(_, file)| file))
}

/// A release's file and the path it is at.
pub(super) fn read_release_at(
    snapshot: &Snapshot,
    app: &str,
    id: &str,
) -> anyhow::Result<Option<(String, ReleaseFile)>> {
    if let Some(layout) = super::legacy::place(snapshot, app)? {
        let path = layout.release_path(app, id);
        if let Some(file) = decode(snapshot, &path)? {
            return Ok(Some((path, file)));
        }
    }
    Ok(read_legacy_release(snapshot, id)?.filter(|(_, file)| file.app == app))
}

/// The text of release `id`'s file in `app`'s directory (in whichever layout under
/// `apps/` it is), for the readers that skim it (src/format/scan.rs); `None` when it
/// has none there or it is not UTF-8.
pub(super) fn release_text(
    snapshot: &Snapshot,
    app: &str,
    id: &str,
) -> anyhow::Result<Option<String>> {
    let Some(placed) = super::legacy::place(snapshot, app)? else {
        return Ok(None);
    };
    let path = placed.release_path(app, id);
    let Some(blob) = snapshot.blob_id(&path)? else {
        return Ok(None);
    };
    // A rollback skims its target's file twice (was it rejected there; does the
    // environment's entry agree with it): the last one read is kept, by its blob.
    thread_local! {
        static LAST: std::cell::RefCell<Option<(git2::Oid, Option<String>)>> =
            const { std::cell::RefCell::new(None) };
    }
    if let Some(text) = LAST.with_borrow(|last| {
        last.as_ref()
            .filter(|(kept, _)| *kept == blob)
            .map(|(_, text)| text.clone())
    }) {
        return Ok(text);
    }
    let text = String::from_utf8(snapshot.read_blob(blob, &path)?).ok();
    LAST.set(Some((blob, text.clone())));
    Ok(text)
}

/// A release's file at the top of a record not yet moved under `apps/`, whatever app
/// it names, and the path it is at.
pub(super) fn read_legacy_release(
    snapshot: &Snapshot,
    id: &str,
) -> anyhow::Result<Option<(String, ReleaseFile)>> {
    for path in [legacy::release_path(id), legacy::flat_release_path(id)] {
        if let Some(file) = decode(snapshot, &path)? {
            return Ok(Some((path, file)));
        }
    }
    Ok(None)
}

/// `app`'s file for environment `env` (an empty one when there is none). A record not
/// yet moved under `apps/` is read as its files say: only `app`'s releases of its
/// top-level environment file (src/format/legacy.rs).
pub fn read_env(snapshot: &Snapshot, app: &str, env: &str) -> anyhow::Result<EnvFile> {
    let empty = || EnvFile {
        environment: env.to_string(),
        ..EnvFile::default()
    };
    if let Some(layout) = super::legacy::place(snapshot, app)?
        && let Some(file) = read_env_at(snapshot, &layout.env_path(app, env))?
    {
        return Ok(file);
    }
    let Some(shared) = read_env_at(snapshot, &legacy::env_path(env))? else {
        return Ok(empty());
    };
    Ok(super::legacy::split_env(snapshot, shared)?
        .remove(app)
        .unwrap_or_else(empty))
}

/// The environment file at `path`, as written (`None` when there is none).
pub(super) fn read_env_at(snapshot: &Snapshot, path: &str) -> anyhow::Result<Option<EnvFile>> {
    decode_with(snapshot, path, rejected::parse)
}

/// `app`'s files for the environments `names`, by name.
pub fn read_envs<'a>(
    snapshot: &Snapshot,
    app: &str,
    names: impl IntoIterator<Item = &'a str>,
) -> anyhow::Result<BTreeMap<String, EnvFile>> {
    names
        .into_iter()
        .map(|name| Ok((name.to_string(), read_env(snapshot, app, name)?)))
        .collect()
}

/// Where `app`'s file for `env` is read from: under its directory in `apps/`, in any
/// layout there, or at the top of a record not yet moved there. For messages.
pub fn env_file(snapshot: &Snapshot, app: &str, env: &str) -> anyhow::Result<String> {
    let placed = super::legacy::place(snapshot, app)?;
    for path in placed
        .map(|layout| layout.env_path(app, env))
        .into_iter()
        .chain([legacy::env_path(env)])
    {
        if snapshot.blob_id(&path)?.is_some() {
            return Ok(path);
        }
    }
    Ok(env_path(app, env))
}

/// Where release `id` of `app` is read from (where it would be written when the
/// record has no such file). For messages.
pub fn release_file(snapshot: &Snapshot, app: &str, id: &str) -> anyhow::Result<String> {
    Ok(match read_release_at(snapshot, app, id)? {
        Some((path, _)) => path,
        None => release_path(app, id),
    })
}

/// Whether `artifact` (`NAME@sha256:…`) is an artifact named `name`.
pub fn is_named(artifact: &str, name: &str) -> bool {
    artifact.rsplit_once('@').map_or(artifact, |(n, _)| n) == name
}

/// relctl deploys only the plan's artifact (`artifact.name`): a record file that gives
/// `release` another one (edited by hand, or written for another app) is an error
/// naming the file, and nothing is deployed. `path` is the file the artifact was read
/// from, `name` the plan's `artifact.name`.
pub fn check_artifact(
    snapshot: &Snapshot,
    path: &str,
    release: &str,
    artifact: &str,
    name: &str,
) -> anyhow::Result<()> {
    if is_named(artifact, name) {
        return Ok(());
    }
    let at = format!("{}:{path}", snapshot.branch());
    Err(Error::new(
        Exit::Failed,
        format!(
            "the record file {at} gives release {release} the artifact `{}`, which is not \
             this plan's `{name}`; nothing was deployed",
            crate::text::visible(artifact)
        ),
    )
    .with_hint(format!(
        "relctl deploys only the plan's `artifact.name`; if the plan's `app:` names another \
         app (the record holds that app's artifact), fix the plan; else the file was changed \
         outside relctl or written for another app: `git log -p {branch} -- {path}` shows who \
         changed it; put the last good version back with a commit on {branch}",
        branch = snapshot.branch()
    ))
    .into())
}

/// The blob release `id` of `app` is stored as, wherever the record keeps it (under
/// `apps/<x>/<y>/<app>/`, or where an older layout put it): the same bytes keep
/// the same id across relctl's own move (src/format/legacy.rs).
pub fn release_blob(snapshot: &Snapshot, app: &str, id: &str) -> anyhow::Result<Option<git2::Oid>> {
    let older = [legacy::release_path(id), legacy::flat_release_path(id)];
    let placed = super::legacy::place(snapshot, app)?;
    for path in placed
        .map(|layout| layout.release_path(app, id))
        .into_iter()
        .chain(older)
    {
        if let Some(blob) = snapshot.blob_id(&path)? {
            return Ok(Some(blob));
        }
    }
    Ok(None)
}

/// Why `digest` and `artifact` cannot be release `id`'s: the id names the first hex
/// digits of its digest, and the artifact is pinned by that digest. `None` when they
/// agree.
pub fn id_disagrees(id: &str, artifact: &str, digest: &str) -> Option<String> {
    let hex = id.rsplit_once('-').map_or(id, |(_, hex)| hex);
    let digest_hex = digest.strip_prefix("sha256:").unwrap_or_default();
    if hex.is_empty() || !digest_hex.starts_with(hex) {
        return Some(format!(
            "digest {} is not release {id}'s (its id names sha256:{hex}…)",
            crate::text::visible(digest)
        ));
    }
    if !artifact.ends_with(&format!("@{digest}")) {
        return Some(format!(
            "artifact {} is not pinned by its digest {}",
            crate::text::visible(artifact),
            crate::text::visible(digest)
        ));
    }
    None
}

/// Why an environment file's entry `live` disagrees with its release (the id's digest,
/// and the release's own file when the record has it), `None` when it agrees.
pub fn entry_disagrees(
    snapshot: &Snapshot,
    app: &str,
    live: &crate::engine::Live,
) -> anyhow::Result<Option<String>> {
    if let Some(why) = id_disagrees(&live.release, &live.artifact, &live.digest) {
        return Ok(Some(why));
    }
    // The two keys at the head of the release's file are all it needs: skimmed, unless
    // the file does not read the way relctl writes it.
    let skimmed = release_text(snapshot, app, &live.release)?.and_then(|text| {
        super::scan::skim_head(&text, &["artifact:", "digest:"])
            .map(|mut found| (found.remove(0), found.remove(0)))
    });
    let (artifact, digest) = match skimmed {
        Some(found) => found,
        None => match read_release(snapshot, app, &live.release)? {
            Some(own) => (own.artifact, own.digest),
            None => return Ok(None),
        },
    };
    Ok(
        (artifact != live.artifact || digest != live.digest).then(|| {
            format!(
                "it gives {} the artifact {}, its release file {}",
                live.release,
                crate::text::visible(&live.artifact),
                crate::text::visible(&artifact)
            )
        }),
    )
}

/// A release an environment file names is deployed only as its own release file gives
/// it: an entry that disagrees (edited by hand) is an error naming the file, and
/// nothing is deployed. `path` is the environment file.
pub fn check_entry(
    snapshot: &Snapshot,
    path: &str,
    app: &str,
    live: &crate::engine::Live,
) -> anyhow::Result<()> {
    let Some(why) = entry_disagrees(snapshot, app, live)? else {
        return Ok(());
    };
    let branch = snapshot.branch();
    Err(Error::new(
        Exit::Failed,
        format!(
            "the record file {branch}:{path} disagrees with release {}: {why}; nothing was deployed",
            live.release
        ),
    )
    .with_hint(format!(
        "it or the release's own file was changed outside relctl: `git log -p {branch} -- {path}` and `relctl verify` show who changed what; put the last good version back with a commit on {branch}"
    ))
    .into())
}

/// The same check for a release's own file (`release`, with the `artifact` and `digest`
/// it gives): its digest must be the one its id names.
pub fn check_own(
    snapshot: &Snapshot,
    app: &str,
    release: &str,
    artifact: &str,
    digest: &str,
) -> anyhow::Result<()> {
    let Some(why) = id_disagrees(release, artifact, digest) else {
        return Ok(());
    };
    let branch = snapshot.branch();
    let path = release_file(snapshot, app, release)?;
    Err(Error::new(
        Exit::Failed,
        format!("the record file {branch}:{path}: {why}; nothing was deployed"),
    )
    .with_hint(format!(
        "the file was changed outside relctl: `git log -p {branch} -- {path}` shows who changed it"
    ))
    .into())
}

/// Every entry (live, and each previous one) of `app`'s environment files for `envs`
/// that disagrees with its release, as `(file, release, why)`; only `release`'s when
/// given.
pub fn entries_disagreeing<'e>(
    snapshot: &Snapshot,
    app: &str,
    envs: impl Iterator<Item = &'e str>,
    release: Option<&str>,
) -> anyhow::Result<Vec<(String, String, String)>> {
    let mut found = Vec::new();
    for env in envs {
        let file = read_env(snapshot, app, env)?;
        for live in file.live.iter().chain(&file.previous) {
            if release.is_some_and(|r| r != live.release) {
                continue;
            }
            if let Some(why) = entry_disagrees(snapshot, app, live)? {
                found.push((env_file(snapshot, app, env)?, live.release.clone(), why));
            }
        }
    }
    Ok(found)
}
