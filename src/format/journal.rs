//! Appending an event to the record: the release file (and, for the events that
//! settle its line, the summary beside it) and the environment's file rewritten in one
//! commit, with the trailers that say what it records.

use anyhow::Context as _;
use chrono::{DateTime, Utc};

use super::files::{self, encode, read_env, read_release_at};
use super::layout::{FORMAT, FORMAT_TEXT, env_path, release_path, summary_beside, trailer};
use super::summary::{self, Mark, ReleaseLine};
use crate::engine::{EnvFile, Event, EventKind, ReleaseFile};
use crate::record::{Appended, Change, Commit, Snapshot, Store};

/// The summary file beside a release file, with the release's line for the file
/// written as `blob`.
pub fn summary_change(
    snapshot: &Snapshot,
    path: String,
    id: &str,
    release: &ReleaseFile,
    blob: git2::Oid,
) -> anyhow::Result<Change> {
    // A summary that is not text is rebuilt: it is only ever a shortcut.
    let old = snapshot
        .read(&path)?
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default();
    let line = summary::encode(&blob, &ReleaseLine::of(release));
    Ok(Change {
        content: summary::with_line(&old, id, line.as_deref()).into_bytes(),
        path,
    })
}

/// The file naming the branch's layout (`layout::FORMAT`), when the branch lacks it:
/// written with the first event on it, so relctls that write another layout refuse it.
pub(super) fn format_change(snapshot: &Snapshot) -> anyhow::Result<Option<Change>> {
    Ok(snapshot.blob_id(FORMAT)?.is_none().then(|| Change {
        path: FORMAT.to_string(),
        content: FORMAT_TEXT.as_bytes().to_vec(),
    }))
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

/// The release id of `artifact` (`digest`) is taken by `file`, another digest's: the
/// release id holds only the first 12 hex characters of a digest. Exit 2.
pub fn digest_taken(artifact: &str, digest: &str, file: &ReleaseFile) -> anyhow::Error {
    crate::error::Error::usage(format!(
        "{artifact} is not release {}: that id is taken by {} and the release id holds only the first 12 hex characters of a digest; this digest is {digest}",
        file.release, file.digest
    ))
    .with_hint("nothing was deployed or recorded; build the artifact again (any change gives a new digest) and promote that")
    .into()
}

/// A run that decided to enter an environment before the abort of the whole release
/// (`relctl abort` between two environments) was recorded: it enters none after it
/// (`ReleaseState::aborted`), whatever it decided before it could see it. Exit 3, as
/// for any run taken over.
fn entering_aborted(release: &str, halt: &crate::engine::state::Halt) -> anyhow::Error {
    crate::error::Error::new(
        crate::error::Exit::Rejected,
        format!(
            "{release}: this run was taken over: {}; it enters no environment",
            halt.describe()
        ),
    )
    .with_hint(
        "`relctl status` shows where each environment stands, `relctl history` what happened",
    )
    .into()
}

/// A `started` found the release's file there when it came to be recorded: a run of it
/// elsewhere started it first. The run decides again on that record, so a release is
/// started once (src/runner/drive.rs).
#[derive(Debug, thiserror::Error)]
#[error("the release was started elsewhere while this run decided")]
pub struct StartedMeanwhile;

/// An abort found the release elsewhere than it decided when it came to be recorded: a
/// run of it entered the next environment, or another abort (a second on-call running
/// the same runbook) ended it first. The abort decides again (src/cmd/abort.rs), so a
/// release is aborted once, where it stands. The words say what moved.
#[derive(Debug, thiserror::Error)]
#[error("{0} while the abort was deciding")]
pub struct AbortMoved(pub String);

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
    record_at(store, author, header, (env, None), kind, update)
}

/// `record`, for an event about one target of `env` (`(env, Some(target))`).
pub fn record_at(
    store: &Store,
    author: &Author,
    header: &Header,
    (env, target): (Option<&str>, Option<&str>),
    kind: EventKind,
    update: &mut dyn FnMut(&mut EnvFile) -> anyhow::Result<()>,
) -> anyhow::Result<(Event, Appended)> {
    let mut written = None;
    let mut unmoved = false;
    let mut append = |unmoved: &mut bool| {
        store.append(&mut |snapshot| {
            // A record in an older layout is moved first, by a commit of its own.
            if super::legacy::present(snapshot, &header.app)? {
                *unmoved = true;
                return Ok(None);
            }
            *unmoved = false;
            let now = crate::clock::now();
            let event = Event {
                at: now,
                actor: author.actor.clone(),
                env: env.map(str::to_string),
                target: target.map(str::to_string),
                kind: kind.clone(),
                relctl: env!("CARGO_PKG_VERSION").to_string(),
                plan: author.plan_digest.clone(),
                ci: author.ci.clone(),
                actor_source: Some(author.actor_source),
            };
            let found = read_release_at(snapshot, &header.app, &header.release)?;
            // Two runs that each found the id free (a digest sharing its 12 hex characters
            // promoted at the same moment elsewhere): only the first one's is recorded.
            if let Some((_, file)) = found.as_ref().filter(|(_, f)| f.digest != header.digest) {
                return Err(digest_taken(&header.artifact, &header.digest, file));
            }
            // A start, and an abort against what a run of the release did meanwhile,
            // checked on the tip.
            if let Some((_, file)) = found.as_ref() {
                match (&kind, env) {
                    (EventKind::Started { .. }, _) => return Err(StartedMeanwhile.into()),
                    (EventKind::Entered { .. }, _) => {
                        if let Some(halt) = crate::engine::fold(Some(file)).aborted {
                            return Err(entering_aborted(&header.release, &halt));
                        }
                    }
                    (EventKind::Aborted { .. }, None) => {
                        let state = crate::engine::fold(Some(file));
                        let file_of = |env: &str| read_env(snapshot, &header.app, env);
                        if let Some((inside, _)) = state.unfinished(&header.release, &file_of)? {
                            let moved = format!("the release entered {inside}");
                            return Err(AbortMoved(moved).into());
                        }
                        if state.aborted.is_some() {
                            return Err(AbortMoved("the release was aborted".into()).into());
                        }
                    }
                    (EventKind::Aborted { .. }, Some(env))
                        if crate::engine::fold(Some(file)).env(env).outcome.is_some() =>
                    {
                        let moved = format!("the release's visit to {env} ended");
                        return Err(AbortMoved(moved).into());
                    }
                    _ => {}
                }
            }
            let (path, mut release) = found.unwrap_or_else(|| {
                (
                    release_path(&header.app, &header.release),
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
            let blob = files::written(&content, &release)
                .with_context(|| format!("hashing the record file for {}", header.release))?;
            let mut changes = Vec::with_capacity(3);
            // The summary (the largest file in a big record) is written again only by
            // the events its line holds and those a command may end with, so the line of
            // a release at rest names its file.
            let summarised = Mark::of_kind(&kind).is_some() || kind.may_end_work();
            if let Some(summary_path) = summary_beside(&path).filter(|_| summarised) {
                changes.push(summary_change(
                    snapshot,
                    summary_path,
                    &header.release,
                    &release,
                    blob,
                )?);
            }
            changes.push(Change { content, path });
            if let Some(format) = format_change(snapshot)? {
                changes.push(format);
            }
            let mut trailers = vec![
                (trailer::APP.to_string(), header.app.clone()),
                (trailer::RELEASE.to_string(), header.release.clone()),
            ];
            if let Some(env) = env {
                let mut file = read_env(snapshot, &header.app, env)?;
                let before = file.clone();
                update(&mut file)?;
                if file != before {
                    super::rejected::bound(&mut file);
                    let path = env_path(&header.app, env);
                    let content = super::rejected::encode(&file, &path)?;
                    // Only a cache of what was decoded: a hash that fails costs a parse.
                    let _ = files::written(&content, &file);
                    changes.push(Change { content, path });
                }
                trailers.push((trailer::ENV.to_string(), env.to_string()));
                if let Some(target) = target {
                    trailers.push((trailer::TARGET.to_string(), target.to_string()));
                }
            }
            trailers.push((trailer::EVENT.to_string(), kind.name().to_string()));
            trailers.push((trailer::ACTOR.to_string(), author.actor.clone()));
            let summary = match (env, target) {
                (Some(env), Some(target)) => {
                    format!("{} {env}/{target}: {}", header.release, kind.describe())
                }
                (Some(env), None) => format!("{} {env}: {}", header.release, kind.describe()),
                (None, _) => format!("{}: {}", header.release, kind.describe()),
            };
            written = Some(event);
            Ok(Some(Commit {
                summary,
                trailers,
                actor: author.actor.clone(),
                changes,
                removed: Vec::new(),
            }))
        })
    };
    let mut appended = append(&mut unmoved)?;
    if unmoved {
        super::legacy::migrate(store, author, &header.app)?;
        appended = append(&mut unmoved)?;
    }
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
    use crate::format::files::read_release;

    /// A repository with an empty records store, an author, and the header of release
    /// `checkout-4f2a9c1be0d3` for digest `sha256:HEX` (which starts with its 12).
    fn fixture(hex: &str) -> (tempfile::TempDir, Store, Author, Header) {
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
            artifact: format!("ghcr.io/acme/checkout@sha256:{hex}"),
            digest: format!("sha256:{hex}"),
            version: "1.0.0".into(),
            source_commit: None,
            source_commit_time: None,
            notes: None,
        };
        (dir, store, author, header)
    }

    #[test]
    fn a_file_read_again_is_the_one_at_the_tip() {
        let (_dir, store, author, header) = fixture("4f2a9c1be0d3");
        let lock = |take: bool| {
            move |f: &mut EnvFile| {
                f.lock = take.then(|| Lock {
                    release: "checkout-4f2a9c1be0d3".into(),
                    by: "tester@example.com".into(),
                    since: crate::clock::now(),
                    run: None,
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
            read_env(&snapshot, "checkout", "dev")
                .expect("the file")
                .lock
                .is_some()
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
        let release = read_release(&snapshot, "checkout", &header.release).expect("read");
        assert_eq!(release.map(|r| r.events.len()), Some(3));
    }

    /// A release id another digest took first (two runs that each found it free): the
    /// event is refused with exit 2 and nothing is written.
    #[test]
    fn an_event_under_another_digest_of_a_taken_id_is_refused() {
        let (_dir, store, author, first) = fixture("4f2a9c1be0d3aa");
        let second = Header {
            artifact: "ghcr.io/acme/checkout@sha256:4f2a9c1be0d3bb".into(),
            digest: "sha256:4f2a9c1be0d3bb".into(),
            ..first.clone()
        };
        let started = || EventKind::Extended {
            targets: vec!["dev".into()],
        };
        record(&store, &author, &first, None, started(), &mut |_| Ok(())).expect("record");
        let tip = store.snapshot().expect("a snapshot").tip();
        let err = record(&store, &author, &second, None, started(), &mut |_| Ok(()))
            .expect_err("refused");
        assert_eq!(crate::error::exit_of(&err), crate::error::Exit::Usage);
        assert!(
            format!("{err:#}").contains("that id is taken by sha256:4f2a9c1be0d3aa"),
            "{err:#}"
        );
        assert_eq!(store.snapshot().expect("a snapshot").tip(), tip);
    }

    /// A second `started` (two runs that each found the release new) is refused, and
    /// nothing is written: the release is started once.
    #[test]
    fn a_release_is_started_once() {
        let (_dir, store, author, header) = fixture("4f2a9c1be0d3");
        let started = || EventKind::Started {
            artifact: header.artifact.clone(),
            digest: header.digest.clone(),
            version: header.version.clone(),
            source_commit: None,
            targets: vec!["dev".into()],
        };
        let mut none = |_: &mut EnvFile| Ok(());
        record(&store, &author, &header, None, started(), &mut none).expect("started");
        let tip = store.snapshot().expect("a snapshot").tip();
        let err = record(&store, &author, &header, None, started(), &mut none)
            .expect_err("started already");
        assert!(err.downcast_ref::<StartedMeanwhile>().is_some(), "{err:#}");
        assert_eq!(store.snapshot().expect("a snapshot").tip(), tip);
    }

    /// A second abort of a release (two on-calls running the same runbook), inside an
    /// environment or between two, finds it aborted already and writes nothing.
    #[test]
    fn a_release_is_aborted_once() {
        let (_dir, store, author, header) = fixture("4f2a9c1be0d3");
        let mut none = |_: &mut EnvFile| Ok(());
        let extended = EventKind::Extended {
            targets: vec!["dev".into(), "staging".into()],
        };
        record(&store, &author, &header, None, extended, &mut none).expect("record");
        let entered = EventKind::Entered { baseline: None };
        record(&store, &author, &header, Some("dev"), entered, &mut none).expect("entered");
        let aborted = || EventKind::Aborted {
            reason: "bad".into(),
        };
        record(&store, &author, &header, Some("dev"), aborted(), &mut none).expect("aborted");
        let refused = |env: Option<&str>, said: &str| {
            let tip = store.snapshot().expect("a snapshot").tip();
            let err = record(&store, &author, &header, env, aborted(), &mut |_| Ok(()))
                .expect_err("aborted already");
            assert!(
                matches!(err.downcast_ref::<AbortMoved>(), Some(AbortMoved(why)) if why == said),
                "{err:#}"
            );
            assert_eq!(store.snapshot().expect("a snapshot").tip(), tip);
        };
        refused(Some("dev"), "the release's visit to dev ended");
        // Between environments, and not aborted as a whole yet: it may be, once.
        record(&store, &author, &header, None, aborted(), &mut none).expect("as a whole");
        refused(None, "the release was aborted");
    }

    /// A release aborted between two environments enters none after it, even by a run
    /// that decided to before it could see the abort; `--force` past the rule
    /// `rejected-before` (recorded `overridden`) may enter again. A release inside an
    /// environment is not aborted as a whole.
    #[test]
    fn a_release_aborted_between_environments_enters_none_after() {
        let (_dir, store, author, header) = fixture("4f2a9c1be0d3");
        let mut none = |_: &mut EnvFile| Ok(());
        let extended = EventKind::Extended {
            targets: vec!["dev".into(), "staging".into()],
        };
        record(&store, &author, &header, None, extended, &mut none).expect("record");
        let entered = || EventKind::Entered { baseline: None };
        record(&store, &author, &header, Some("dev"), entered(), &mut none).expect("entered");
        let aborted = || EventKind::Aborted {
            reason: "bad".into(),
        };
        // Inside dev, the release is aborted there, not as a whole.
        let tip = store.snapshot().expect("a snapshot").tip();
        let err =
            record(&store, &author, &header, None, aborted(), &mut none).expect_err("inside dev");
        assert!(
            matches!(err.downcast_ref::<AbortMoved>(), Some(AbortMoved(why)) if why == "the release entered dev"),
            "{err:#}"
        );
        assert_eq!(store.snapshot().expect("a snapshot").tip(), tip);
        record(
            &store,
            &author,
            &header,
            Some("dev"),
            EventKind::Live,
            &mut none,
        )
        .expect("live");
        record(&store, &author, &header, None, aborted(), &mut none).expect("aborted");
        let err = record(
            &store,
            &author,
            &header,
            Some("staging"),
            entered(),
            &mut none,
        )
        .expect_err("refused");
        assert_eq!(crate::error::exit_of(&err), crate::error::Exit::Rejected);
        assert!(
            format!("{err:#}").contains("aborted by tester@example.com"),
            "{err:#}"
        );
        let overridden = EventKind::Overridden {
            rule: crate::engine::Rule::RejectedBefore.name().into(),
            reason: "fixed".into(),
        };
        record(
            &store,
            &author,
            &header,
            Some("staging"),
            overridden,
            &mut none,
        )
        .expect("override");
        record(
            &store,
            &author,
            &header,
            Some("staging"),
            entered(),
            &mut none,
        )
        .expect("entered");
    }
}
