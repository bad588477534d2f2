use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Barrier, Mutex};

use anyhow::Result;
use git2::Repository;
use tempfile::TempDir;

use super::store::MAX_ATTEMPTS;
use super::*;
use crate::error::{Error, Exit, exit_of, hint_of};

const BRANCH: &str = "relctl/records";

/// The git command line, kept away from the user's configuration.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `git fsck` finds nothing wrong (dangling objects from lost races are fine).
fn fsck(dir: &Path) {
    let out = git(dir, &["fsck", "--strict", "--no-dangling", "--no-progress"]);
    assert!(
        out.trim().is_empty(),
        "git fsck in {}: {out}",
        dir.display()
    );
}

fn init(dir: &Path) -> PathBuf {
    Repository::init(dir).expect("git init");
    dir.to_path_buf()
}

fn commit(summary: &str, actor: &str, files: &[(&str, &str)]) -> Commit {
    Commit {
        summary: summary.to_string(),
        trailers: vec![("Relctl-Event".to_string(), summary.to_string())],
        actor: actor.to_string(),
        changes: files
            .iter()
            .map(|(path, content)| Change {
                path: path.to_string(),
                content: content.as_bytes().to_vec(),
            })
            .collect(),
        removed: Vec::new(),
    }
}

fn text(snap: &Snapshot<'_>, path: &str) -> Option<String> {
    snap.read(path)
        .expect("read")
        .map(|bytes| String::from_utf8(bytes).expect("utf-8"))
}

/// The counter file, plus one.
fn increment(actor: &str) -> impl FnMut(&Snapshot<'_>) -> Result<Option<Commit>> + '_ {
    move |snap| {
        let n: u64 = text(snap, "counter").map_or(0, |n| n.parse().expect("number"));
        Ok(Some(commit(
            "increment",
            actor,
            &[("counter", &(n + 1).to_string())],
        )))
    }
}

/// Take the `lock` file unless someone holds it.
fn take_lock(who: &str) -> impl FnMut(&Snapshot<'_>) -> Result<Option<Commit>> + '_ {
    move |snap| match text(snap, "lock") {
        Some(holder) if holder != "free" => {
            Err(Error::new(Exit::Busy, format!("locked by {holder}")).into())
        }
        _ => Ok(Some(commit("take lock", who, &[("lock", who)]))),
    }
}

fn add(store: &Store, summary: &str, files: &[(&str, &str)]) -> Appended {
    store
        .append(&mut |_| Ok(Some(commit(summary, "tester", files))))
        .expect("append")
        .expect("a commit")
}

fn counter(store: &Store) -> u64 {
    text(&store.snapshot().expect("snapshot"), "counter").map_or(0, |n| n.parse().expect("number"))
}

/// Every commit has at most one parent and the log reaches the root.
fn assert_line(store: &Store, commits: usize) {
    let log = store.log(None).expect("log");
    assert_eq!(log.len(), commits);
    for entry in &log {
        let commit = store.repo.find_commit(entry.oid).expect("commit");
        assert!(commit.parent_count() <= 1);
    }
    let root = log.last().expect("a root");
    assert_eq!(
        store
            .repo
            .find_commit(root.oid)
            .expect("root")
            .parent_count(),
        0
    );
}

/// A bare remote and clones that know it as `origin`.
struct Shared {
    tmp: TempDir,
    bare: PathBuf,
}

impl Shared {
    fn new() -> Shared {
        let tmp = TempDir::new().expect("tempdir");
        let bare = tmp.path().join("remote.git");
        Repository::init_bare(&bare).expect("git init --bare");
        Shared { tmp, bare }
    }

    fn clone(&self, name: &str) -> Store {
        let dir = self.tmp.path().join(name);
        if !dir.exists() {
            let repo = Repository::init(&dir).expect("git init");
            repo.remote("origin", self.bare.to_str().expect("utf-8 path"))
                .expect("git remote add");
        }
        Store::open(&dir, BRANCH, Some("origin")).expect("open")
    }

    fn remote_tip(&self) -> Option<git2::Oid> {
        let repo = Repository::open(&self.bare).expect("open bare");
        repo.refname_to_id(&format!("refs/heads/{BRANCH}")).ok()
    }

    fn fsck_all(&self) {
        fsck(&self.bare);
        for entry in std::fs::read_dir(self.tmp.path()).expect("read tempdir") {
            let path = entry.expect("entry").path();
            if path != self.bare && path.join(".git").exists() {
                fsck(&path);
            }
        }
    }
}

#[test]
fn snapshot_reads_and_lists_nested_files() {
    let tmp = TempDir::new().unwrap();
    let store = Store::open(&init(tmp.path()), BRANCH, None).unwrap();
    let empty = store.snapshot().unwrap();
    assert_eq!(empty.tip(), None);
    assert_eq!(empty.read("releases/a.yaml").unwrap(), None);
    assert!(empty.list("releases").unwrap().is_empty());
    drop(empty);

    let first = add(
        &store,
        "first",
        &[
            ("releases/b.yaml", "b1"),
            ("releases/a.yaml", "a1"),
            ("environments/prod.yaml", "prod1"),
            ("top.txt", "top"),
        ],
    );
    assert_eq!(
        first,
        Appended {
            oid: first.oid,
            pushed: false,
            push_error: None
        }
    );
    let second = add(&store, "second", &[("releases/a.yaml", "a2")]);

    let snap = store.snapshot().unwrap();
    assert_eq!(snap.tip(), Some(second.oid));
    assert_eq!(text(&snap, "releases/a.yaml").as_deref(), Some("a2"));
    assert_eq!(text(&snap, "releases/b.yaml").as_deref(), Some("b1"));
    assert_eq!(
        text(&snap, "environments/prod.yaml").as_deref(),
        Some("prod1")
    );
    assert_eq!(text(&snap, "releases/c.yaml"), None);
    assert_eq!(snap.list("releases").unwrap(), ["a.yaml", "b.yaml"]);
    assert_eq!(snap.list("releases/").unwrap(), ["a.yaml", "b.yaml"]);
    assert_eq!(snap.list("").unwrap(), ["top.txt"]);
    assert!(snap.list("nowhere").unwrap().is_empty());
    assert!(snap.read("releases").is_err(), "a directory is not a file");

    let parent = store
        .repo
        .find_commit(second.oid)
        .unwrap()
        .parent_id(0)
        .unwrap();
    assert_eq!(parent, first.oid);
    fsck(tmp.path());
}

#[test]
fn bad_paths_are_refused() {
    let tmp = TempDir::new().unwrap();
    let store = Store::open(&init(tmp.path()), BRANCH, None).unwrap();
    for path in [
        "",
        "/abs",
        "a//b",
        "../up",
        "a/./b",
        ".git/config",
        "x/.GIT/y",
        "dir/",
    ] {
        let result = store.append(&mut |_| Ok(Some(commit("bad", "tester", &[(path, "x")]))));
        assert!(result.is_err(), "{path:?} was accepted");
    }
    assert_eq!(store.snapshot().unwrap().tip(), None);
}

#[test]
fn message_trailers_signature_and_log() {
    let tmp = TempDir::new().unwrap();
    let store = Store::open(&init(tmp.path()), BRANCH, None).unwrap();
    let trailers = [
        ("Relctl-Release", "web-42"),
        ("Relctl-Env", "prod"),
        ("Relctl-Event", "deployed"),
        ("Relctl-Actor", "alice@example.com"),
    ];
    let mut event = commit(
        "web-42: deployed to prod",
        "alice@example.com",
        &[("releases/web-42.yaml", "x")],
    );
    event.trailers = trailers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let first = store
        .append(&mut |_| Ok(Some(event.clone())))
        .unwrap()
        .unwrap();

    let raw = store.repo.find_commit(first.oid).unwrap();
    assert_eq!(
        raw.message().unwrap(),
        "web-42: deployed to prod\n\nRelctl-Release: web-42\nRelctl-Env: prod\n\
         Relctl-Event: deployed\nRelctl-Actor: alice@example.com\n"
    );
    assert_eq!(raw.author().email().unwrap(), "alice@example.com");
    assert_eq!(raw.committer().email().unwrap(), "alice@example.com");

    let mut multi = commit("two\nlines", "ci bot/7", &[("x", "1")]);
    multi.trailers = vec![("Note".into(), "a\nb".into())];
    store.append(&mut |_| Ok(Some(multi.clone()))).unwrap();
    add(&store, "third", &[("x", "2")]);
    let named = commit("fourth", "Jane Doe <jane@example.com>", &[("x", "3")]);
    store.append(&mut |_| Ok(Some(named.clone()))).unwrap();

    let log = store.log(None).unwrap();
    let summaries: Vec<&str> = log.iter().map(|e| e.summary.as_str()).collect();
    assert_eq!(
        summaries,
        ["fourth", "third", "two lines", "web-42: deployed to prod"]
    );
    assert_eq!(log[3].oid, first.oid);
    assert_eq!(log[3].trailers, event.trailers);
    assert_eq!(log[3].trailer("relctl-env"), Some("prod"));
    assert_eq!(log[3].actor, "alice@example.com");
    assert_eq!(log[2].trailers, [("Note".to_string(), "a b".to_string())]);
    assert_eq!(log[2].actor, "ci bot/7");
    let bot = store.repo.find_commit(log[2].oid).unwrap();
    assert_eq!(bot.author().email().unwrap(), "ci-bot-7@relctl.invalid");
    let jane = store.repo.find_commit(log[0].oid).unwrap();
    assert_eq!(jane.author().name().unwrap(), "Jane Doe");
    assert_eq!(jane.author().email().unwrap(), "jane@example.com");
    assert!(
        (chrono::Utc::now() - log[0].time.to_utc())
            .num_minutes()
            .abs()
            < 5
    );

    let limited = store.log(Some(2)).unwrap();
    assert_eq!(limited, log[..2]);
    assert!(store.log(Some(0)).unwrap().is_empty());

    let bad_key = Commit {
        trailers: vec![("Bad Key".into(), "v".into())],
        ..commit("s", "a", &[])
    };
    assert!(store.append(&mut |_| Ok(Some(bad_key.clone()))).is_err());
    let no_summary = commit(" \n", "a", &[]);
    assert!(store.append(&mut |_| Ok(Some(no_summary.clone()))).is_err());
    let no_actor = commit("s", " <> ", &[]);
    assert!(store.append(&mut |_| Ok(Some(no_actor.clone()))).is_err());
    fsck(tmp.path());
}

#[test]
fn control_characters_in_a_message_are_written_visibly() {
    let tmp = TempDir::new().unwrap();
    let store = Store::open(&init(tmp.path()), BRANCH, None).unwrap();
    let mut event = commit("failed: a\0b \x1b[2J", "alice@example.com", &[("x", "1")]);
    event.trailers = vec![("Note".into(), "\x1b]0;title\x07".into())];
    let appended = store
        .append(&mut |_| Ok(Some(event.clone())))
        .unwrap()
        .unwrap();
    let raw = store.repo.find_commit(appended.oid).unwrap();
    assert_eq!(
        raw.message().unwrap(),
        "failed: a\\0b \\x1b[2J\n\nNote: \\x1b]0;title\\x07\n"
    );
    fsck(tmp.path());
}

#[test]
fn build_declining_or_failing_commits_nothing() {
    let tmp = TempDir::new().unwrap();
    let store = Store::open(&init(tmp.path()), BRANCH, None).unwrap();
    assert_eq!(store.append(&mut |_| Ok(None)).unwrap(), None);
    let err = store
        .append(&mut |_| Err(Error::new(Exit::Busy, "locked").into()))
        .unwrap_err();
    assert_eq!(exit_of(&err), Exit::Busy);
    assert_eq!(store.snapshot().unwrap().tip(), None);
    assert!(store.log(None).unwrap().is_empty());
}

#[test]
fn open_explains_what_is_wrong() {
    let tmp = TempDir::new().unwrap();
    let plain = tmp.path().join("plain");
    std::fs::create_dir(&plain).unwrap();
    let err = Store::open(&plain, BRANCH, None).err().unwrap();
    assert_eq!(exit_of(&err), Exit::Usage);
    assert!(
        err.to_string().contains("not inside a git repository"),
        "{err}"
    );
    assert!(hint_of(&err).unwrap().contains("git init"));

    let err = Store::open(&tmp.path().join("missing"), BRANCH, None)
        .err()
        .unwrap();
    assert_eq!(exit_of(&err), Exit::Usage);
    assert!(err.to_string().contains("does not exist"), "{err}");

    let repo = init(&tmp.path().join("repo"));
    let nested = repo.join("a/b");
    std::fs::create_dir_all(&nested).unwrap();
    let store = Store::open(&nested, BRANCH, None).unwrap();
    assert_eq!(
        store.path().canonicalize().unwrap(),
        repo.canonicalize().unwrap()
    );

    let err = Store::open(&repo, BRANCH, Some("upstream")).err().unwrap();
    assert_eq!(exit_of(&err), Exit::Usage);
    assert!(
        err.to_string().contains("no remote named `upstream`"),
        "{err}"
    );
    assert!(hint_of(&err).unwrap().contains("git remote add upstream"));

    let err = Store::open(&repo, "bad..name", None).err().unwrap();
    assert_eq!(exit_of(&err), Exit::Usage);

    git(
        &repo,
        &["symbolic-ref", "HEAD", &format!("refs/heads/{BRANCH}")],
    );
    let err = Store::open(&repo, BRANCH, None).err().unwrap();
    assert_eq!(exit_of(&err), Exit::Usage);
    assert!(err.to_string().contains("checked out"), "{err}");
}

#[test]
fn never_touches_worktree_index_or_head() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    git(dir, &["init", "-q", "-b", "main"]);
    std::fs::write(dir.join("app.txt"), "one\n").unwrap();
    std::fs::write(dir.join("release.yaml"), "plan\n").unwrap();
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "initial"]);
    std::fs::write(dir.join("staged.txt"), "staged\n").unwrap();
    git(dir, &["add", "staged.txt"]);
    std::fs::write(dir.join("app.txt"), "one\ndirty\n").unwrap();
    std::fs::write(dir.join("untracked.txt"), "untracked\n").unwrap();

    let files = [
        "app.txt",
        "release.yaml",
        "staged.txt",
        "untracked.txt",
        ".git/HEAD",
        ".git/index",
    ];
    let state = || {
        let mut state: Vec<Vec<u8>> = files
            .iter()
            .map(|f| std::fs::read(dir.join(f)).unwrap())
            .collect();
        state.push(git(dir, &["rev-parse", "HEAD", "refs/heads/main"]).into_bytes());
        state.push(git(dir, &["status", "--porcelain=v1", "--untracked-files=all"]).into_bytes());
        state
    };
    let before = state();
    let store = Store::open(dir, BRANCH, None).unwrap();
    for i in 0..30 {
        add(
            &store,
            &format!("event {i}"),
            &[("releases/app.txt", &i.to_string()), ("app.txt", "record")],
        );
    }
    assert_eq!(state(), before);
    assert_line(&store, 30);
    fsck(dir);
}

#[test]
fn lost_race_builds_again_on_the_new_tip() {
    let tmp = TempDir::new().unwrap();
    let dir = init(tmp.path());
    let store = Store::open(&dir, BRANCH, None).unwrap();
    let other = Store::open(&dir, BRANCH, None).unwrap();
    add(&store, "start", &[("counter", "0")]);

    let mut seen = Vec::new();
    let appended = store
        .append(&mut |snap| {
            seen.push(snap.tip());
            if seen.len() == 1 {
                other.append(&mut increment("other")).unwrap();
            }
            increment("me")(snap)
        })
        .unwrap()
        .unwrap();
    assert_eq!(seen.len(), 2);
    assert_ne!(seen[0], seen[1]);
    let parent = store
        .repo
        .find_commit(appended.oid)
        .unwrap()
        .parent_id(0)
        .unwrap();
    assert_eq!(Some(parent), seen[1]);
    assert_eq!(counter(&store), 2);
    assert_line(&store, 3);
    fsck(&dir);
}

#[test]
fn gives_up_busy_when_the_branch_keeps_moving() {
    let tmp = TempDir::new().unwrap();
    let dir = init(tmp.path());
    let store = Store::open(&dir, BRANCH, None).unwrap();
    let other = Store::open(&dir, BRANCH, None).unwrap();
    let mut calls = 0;
    let err = store
        .append(&mut |snap| {
            calls += 1;
            other.append(&mut increment("other")).unwrap();
            increment("me")(snap)
        })
        .unwrap_err();
    assert_eq!(exit_of(&err), Exit::Busy);
    assert!(err.to_string().contains("kept moving"), "{err}");
    assert_eq!(calls, MAX_ATTEMPTS);
    assert_eq!(counter(&store), MAX_ATTEMPTS as u64);
    fsck(&dir);
}

#[test]
fn concurrent_appends_from_threads_lose_nothing() {
    let tmp = TempDir::new().unwrap();
    let dir = init(tmp.path());
    let start = Barrier::new(8);
    std::thread::scope(|scope| {
        for t in 0..8 {
            let (dir, start) = (&dir, &start);
            scope.spawn(move || {
                let store = Store::open(dir, BRANCH, None).unwrap();
                let actor = format!("thread-{t}");
                start.wait();
                for _ in 0..25 {
                    let appended = store.append(&mut increment(&actor)).unwrap().unwrap();
                    assert!(!appended.pushed);
                }
            });
        }
    });
    let store = Store::open(&dir, BRANCH, None).unwrap();
    assert_eq!(counter(&store), 200);
    assert_line(&store, 200);
    fsck(&dir);
}

/// Writers that do not take turns race on the compare-and-swap alone: some may
/// give up, but every append that says it committed is there, none overwritten.
#[test]
fn racing_without_turns_loses_no_update() {
    let tmp = TempDir::new().unwrap();
    let dir = init(tmp.path());
    let start = Barrier::new(6);
    let committed = Mutex::new(0);
    std::thread::scope(|scope| {
        for t in 0..6 {
            let (dir, start, committed) = (&dir, &start, &committed);
            scope.spawn(move || {
                let mut store = Store::open(dir, BRANCH, None).unwrap();
                store.take_turns = false;
                let actor = format!("thread-{t}");
                start.wait();
                for _ in 0..15 {
                    match store.append(&mut increment(&actor)) {
                        Ok(appended) => {
                            assert!(appended.is_some());
                            *committed.lock().unwrap() += 1;
                        }
                        Err(err) => assert_eq!(exit_of(&err), Exit::Busy, "{err:#}"),
                    }
                }
            });
        }
    });
    let committed = committed.into_inner().unwrap();
    assert!(committed > 0);
    let store = Store::open(&dir, BRANCH, None).unwrap();
    assert_eq!(counter(&store), committed as u64);
    assert_line(&store, committed);
    fsck(&dir);
}

#[test]
fn without_a_remote_nothing_is_pending() {
    let tmp = TempDir::new().unwrap();
    let store = Store::open(&init(tmp.path()), BRANCH, None).unwrap();
    add(&store, "one", &[("a", "1")]);
    assert_eq!(store.unpushed().unwrap(), 0);
    assert_eq!(
        store.sync().unwrap(),
        Sync {
            pushed: 0,
            pending: 0,
            error: None
        }
    );
}

#[test]
fn two_clones_appending_alternately_see_everything() {
    let shared = Shared::new();
    let (a, b) = (shared.clone("a"), shared.clone("b"));
    for i in 0..10 {
        let store = if i % 2 == 0 { &a } else { &b };
        let name = if i % 2 == 0 { "a" } else { "b" };
        let appended = store
            .append(&mut |snap| {
                let mut event = increment(name)(snap)?.unwrap();
                event.changes.push(Change {
                    path: format!("releases/{name}-{i}.yaml"),
                    content: b"x".to_vec(),
                });
                Ok(Some(event))
            })
            .unwrap()
            .unwrap();
        assert!(appended.pushed, "{appended:?}");
        assert_eq!(shared.remote_tip(), Some(appended.oid));
        assert_eq!(store.unpushed().unwrap(), 0);
    }
    for store in [&a, &b] {
        assert_eq!(
            store.sync().unwrap(),
            Sync {
                pushed: 0,
                pending: 0,
                error: None
            }
        );
        assert_eq!(counter(store), 10);
        assert_eq!(
            store.snapshot().unwrap().list("releases").unwrap().len(),
            10
        );
        assert_line(store, 10);
    }
    assert_eq!(a.snapshot().unwrap().tip(), shared.remote_tip());
    assert_eq!(b.snapshot().unwrap().tip(), shared.remote_tip());
    shared.fsck_all();
}

#[test]
fn a_fresh_clone_adopts_the_remote_branch() {
    let shared = Shared::new();
    let a = shared.clone("a");
    add(&a, "first", &[("counter", "1")]);
    let b = shared.clone("b");
    assert_eq!(b.snapshot().unwrap().tip(), None);
    assert_eq!(b.unpushed().unwrap(), 0, "nothing local yet");
    let appended = b.append(&mut increment("b")).unwrap().unwrap();
    assert!(appended.pushed);
    assert_eq!(counter(&b), 2);
    assert_line(&b, 2);
    shared.fsck_all();
}

/// Clone `a` reads the tip, then `b` commits and pushes before `a` does.
fn rejected_push_is_rebuilt(direct_local_push: bool) {
    let shared = Shared::new();
    let mut a = shared.clone("a");
    a.direct_local_push = direct_local_push;
    let b = shared.clone("b");
    add(&a, "start", &[("counter", "0")]);

    let mut seen = Vec::new();
    let appended = a
        .append(&mut |snap| {
            seen.push(snap.tip());
            if seen.len() == 1 {
                assert!(b.append(&mut increment("b")).unwrap().unwrap().pushed);
            }
            increment("a")(snap)
        })
        .unwrap()
        .unwrap();
    assert!(appended.pushed, "{appended:?}");
    assert_eq!(seen.len(), 2, "built again after the rejected push");
    assert_eq!(seen[1], b.snapshot().unwrap().tip());
    assert_eq!(shared.remote_tip(), Some(appended.oid));
    assert_eq!(counter(&a), 2);
    assert_line(&a, 3);
    assert_eq!(a.unpushed().unwrap(), 0);
    shared.fsck_all();
}

#[test]
fn rejected_push_is_rebuilt_on_the_new_tip() {
    rejected_push_is_rebuilt(true);
}

#[test]
fn rejected_push_through_libgit2_transport_is_rebuilt() {
    rejected_push_is_rebuilt(false);
}

/// After a rejected push, only the commit being appended is built again; commits
/// that were already waiting are replayed onto the new tip as they are.
#[test]
fn rejected_push_replays_waiting_commits_and_rebuilds_its_own() {
    let shared = Shared::new();
    let (a, b) = (shared.clone("a"), shared.clone("b"));
    add(&a, "start", &[("counter", "0")]);
    let away = shared.tmp.path().join("away.git");
    std::fs::rename(&shared.bare, &away).unwrap();
    assert!(!add(&a, "waiting", &[("releases/a.yaml", "a")]).pushed);
    std::fs::rename(&away, &shared.bare).unwrap();

    let mut calls = 0;
    let appended = a
        .append(&mut |snap| {
            calls += 1;
            if calls == 1 {
                assert!(b.append(&mut increment("b")).unwrap().unwrap().pushed);
            }
            increment("a")(snap)
        })
        .unwrap()
        .unwrap();
    assert!(appended.pushed, "{appended:?}");
    assert_eq!(calls, 2);
    let summaries: Vec<String> = a
        .log(None)
        .unwrap()
        .into_iter()
        .map(|e| e.summary)
        .collect();
    assert_eq!(summaries, ["increment", "waiting", "increment", "start"]);
    assert_eq!(counter(&a), 2);
    assert_eq!(shared.remote_tip(), Some(appended.oid));
    shared.fsck_all();
}

/// A remote that keeps refusing without moving is not a race: the commit stays
/// local and says why, and a later sync pushes it.
#[test]
fn a_refusing_remote_keeps_the_commit_local() {
    let shared = Shared::new();
    let a = shared.clone("a");
    add(&a, "start", &[("counter", "0")]);
    let lock = shared.bare.join(format!("refs/heads/{BRANCH}.lock"));
    std::fs::write(&lock, "").unwrap();

    let appended = a.append(&mut increment("a")).unwrap().unwrap();
    assert!(!appended.pushed);
    let why = appended.push_error.unwrap();
    assert!(why.contains("refused"), "{why}");
    assert_eq!(a.unpushed().unwrap(), 1);
    let refused = a.sync().unwrap();
    assert_eq!((refused.pushed, refused.pending), (0, 1));
    assert!(refused.error.unwrap().contains("refused"));

    std::fs::remove_file(&lock).unwrap();
    assert_eq!(
        a.sync().unwrap(),
        Sync {
            pushed: 1,
            pending: 0,
            error: None
        }
    );
    assert_eq!(shared.remote_tip(), Some(appended.oid));
    shared.fsck_all();
}

#[test]
fn lock_race_across_clones_has_one_winner() {
    let shared = Shared::new();
    let (a, b) = (shared.clone("a"), shared.clone("b"));
    let mut calls = 0;
    let err = a
        .append(&mut |snap| {
            calls += 1;
            if calls == 1 {
                // b takes the lock after a looked and before a pushes.
                let won = b.append(&mut take_lock("b")).unwrap().unwrap();
                assert!(won.pushed);
            }
            take_lock("a")(snap)
        })
        .unwrap_err();
    assert_eq!(exit_of(&err), Exit::Busy);
    assert_eq!(calls, 2);
    assert_eq!(text(&a.snapshot().unwrap(), "lock").as_deref(), Some("b"));
    // a's own lock commit was dropped, not kept or pushed.
    assert_eq!(a.snapshot().unwrap().tip(), shared.remote_tip());
    assert_eq!(a.unpushed().unwrap(), 0);
    assert_line(&a, 1);
    shared.fsck_all();
}

/// Another relctl in the same clone cannot build on a commit while its push is under
/// way: when the remote refuses that commit (another clone took the lock first), the
/// commit is dropped, never kept here to be acted on, and the other relctl's commit
/// goes out on the remote's tip.
#[test]
fn a_lock_commit_the_remote_refused_is_dropped_with_another_writer_in_the_clone() {
    use std::cell::{Cell, RefCell};
    use std::fs::{OpenOptions, TryLockError};
    use std::rc::Rc;

    let shared = Shared::new();
    let (a, b) = (shared.clone("a"), shared.clone("b"));
    add(&a, "start", &[("counter", "0")]);
    let dir = a.path().to_path_buf();
    let turns = a.common_dir().join("relctl.lock");
    let held = Rc::new(Cell::new(None));
    let other = Rc::new(RefCell::new(None));
    let (held_in, other_in) = (held.clone(), other.clone());
    *a.before_push.borrow_mut() = Some(Box::new(move || {
        if held_in.get().is_some() {
            return;
        }
        let file = OpenOptions::new()
            .write(true)
            .open(&turns)
            .expect("open relctl.lock");
        held_in.set(Some(matches!(
            file.try_lock(),
            Err(TryLockError::WouldBlock)
        )));
        // A second relctl of this clone appends now, while a pushes.
        let dir = dir.clone();
        *other_in.borrow_mut() = Some(std::thread::spawn(move || {
            let a2 = Store::open(&dir, BRANCH, Some("origin")).expect("open");
            let appended = a2
                .append(&mut increment("a2"))
                .expect("append")
                .expect("a commit");
            appended.pushed
        }));
    }));
    let mut calls = 0;
    let err = a
        .append(&mut |snap| {
            calls += 1;
            if calls == 1 {
                // b takes the lock after a looked and before a pushes.
                assert!(b.append(&mut take_lock("b")).unwrap().unwrap().pushed);
            }
            take_lock("a")(snap)
        })
        .unwrap_err();
    assert_eq!(exit_of(&err), Exit::Busy, "{err:#}");
    assert_eq!(held.get(), Some(true), "the turn is held while pushing");
    let second = other.borrow_mut().take().expect("the second writer ran");
    assert!(
        second.join().expect("the second writer"),
        "its commit was pushed"
    );

    let remote = shared.clone("c");
    remote.sync().unwrap();
    let snap = remote.snapshot().unwrap();
    assert_eq!(text(&snap, "lock").as_deref(), Some("b"));
    assert_eq!(text(&snap, "counter").as_deref(), Some("1"));
    let summaries: Vec<String> = (remote.log(None).unwrap().into_iter())
        .map(|e| format!("{} {}", e.summary, e.actor))
        .collect();
    assert!(
        !summaries.iter().any(|s| s.ends_with(" a")),
        "{summaries:?}"
    );
    assert_eq!(a.snapshot().unwrap().tip(), shared.remote_tip());
    assert_eq!(a.unpushed().unwrap(), 0);
    shared.fsck_all();
}

/// When something that does not take turns (git itself) commits on top of a commit
/// the remote then refuses, that commit can no longer be dropped: the append stops with
/// exit 5 rather than let its caller act on a view the remote contradicts.
#[test]
fn a_refused_commit_that_git_built_on_stops_the_append() {
    let shared = Shared::new();
    let (a, b) = (shared.clone("a"), shared.clone("b"));
    add(&a, "start", &[("counter", "0")]);
    let dir = a.path().to_path_buf();
    *a.before_push.borrow_mut() = Some(Box::new(move || {
        let branch = format!("refs/heads/{BRANCH}");
        let tip = git(&dir, &["rev-parse", &branch]);
        let tree = format!("{}^{{tree}}", tip.trim());
        let other = git(
            &dir,
            &["commit-tree", &tree, "-p", tip.trim(), "-m", "by git"],
        );
        git(&dir, &["update-ref", &branch, other.trim()]);
    }));
    let mut calls = 0;
    let err = a
        .append(&mut |snap| {
            calls += 1;
            if calls == 1 {
                assert!(b.append(&mut take_lock("b")).unwrap().unwrap().pushed);
            }
            take_lock("a")(snap)
        })
        .unwrap_err();
    assert_eq!(exit_of(&err), Exit::Busy, "{err:#}");
    assert!(
        format!("{err:#}").contains("something other than relctl"),
        "{err:#}"
    );
    assert_eq!(calls, 1, "nothing was built on the stale view again");
}

#[test]
fn lock_race_in_threads_has_one_winner_each_round() {
    let shared = Shared::new();
    let (a, b) = (shared.clone("a"), shared.clone("b"));
    drop((a, b));
    let rounds = 10;
    let barrier = Barrier::new(2);
    let winners = Mutex::new(vec![Vec::new(); rounds]);
    std::thread::scope(|scope| {
        for name in ["a", "b"] {
            let (shared, barrier, winners) = (&shared, &barrier, &winners);
            scope.spawn(move || {
                let store = shared.clone(name);
                for round in 0..rounds {
                    barrier.wait();
                    let won = match store.append(&mut take_lock(name)) {
                        Ok(Some(appended)) => {
                            assert!(appended.pushed, "{appended:?}");
                            true
                        }
                        Ok(None) => unreachable!(),
                        Err(err) => {
                            assert_eq!(exit_of(&err), Exit::Busy, "{err:#}");
                            false
                        }
                    };
                    if won {
                        winners.lock().unwrap()[round].push(name);
                    }
                    barrier.wait();
                    if won {
                        add(&store, "release lock", &[("lock", "free")]);
                    }
                    barrier.wait();
                }
            });
        }
    });
    for (round, won) in winners.into_inner().unwrap().iter().enumerate() {
        assert_eq!(won.len(), 1, "round {round}: {won:?}");
    }
    let a = shared.clone("a");
    a.sync().unwrap();
    assert_line(&a, rounds * 2);
    shared.fsck_all();
}

#[test]
fn clones_racing_in_threads_lose_nothing() {
    let shared = Shared::new();
    let start = Barrier::new(2);
    std::thread::scope(|scope| {
        for name in ["a", "b"] {
            let (shared, start) = (&shared, &start);
            scope.spawn(move || {
                let store = shared.clone(name);
                start.wait();
                for _ in 0..10 {
                    let appended = store.append(&mut increment(name)).unwrap().unwrap();
                    assert!(appended.pushed, "{appended:?}");
                }
            });
        }
    });
    let a = shared.clone("a");
    a.sync().unwrap();
    assert_eq!(counter(&a), 20);
    assert_line(&a, 20);
    assert_eq!(a.snapshot().unwrap().tip(), shared.remote_tip());
    shared.fsck_all();
}

#[test]
fn unreachable_remote_keeps_commits_until_sync() {
    let shared = Shared::new();
    let a = shared.clone("a");
    add(&a, "online", &[("counter", "1")]);
    let away = shared.tmp.path().join("away.git");
    std::fs::rename(&shared.bare, &away).unwrap();

    for _ in 0..3 {
        let appended = a.append(&mut increment("a")).unwrap().unwrap();
        assert!(!appended.pushed);
        let why = appended.push_error.unwrap();
        assert!(why.contains("origin"), "{why}");
    }
    assert_eq!(counter(&a), 4);
    assert_eq!(a.unpushed().unwrap(), 3);
    let offline = a.sync().unwrap();
    assert_eq!((offline.pushed, offline.pending), (0, 3));
    assert!(offline.error.is_some());

    std::fs::rename(&away, &shared.bare).unwrap();
    assert_eq!(
        a.sync().unwrap(),
        Sync {
            pushed: 3,
            pending: 0,
            error: None
        }
    );
    assert_eq!(a.unpushed().unwrap(), 0);
    assert_eq!(shared.remote_tip(), a.snapshot().unwrap().tip());
    assert_eq!(
        a.sync().unwrap(),
        Sync {
            pushed: 0,
            pending: 0,
            error: None
        }
    );
    shared.fsck_all();
}

#[test]
fn a_relative_remote_path_is_taken_from_the_working_tree() {
    let shared = Shared::new();
    let dir = shared.tmp.path().join("rel");
    Repository::init(&dir)
        .unwrap()
        .remote("origin", "../remote.git")
        .unwrap();
    let store = Store::open(&dir, BRANCH, Some("origin")).unwrap();
    let appended = store.append(&mut increment("rel")).unwrap().unwrap();
    assert!(appended.pushed, "{appended:?}");
    assert_eq!(shared.remote_tip(), Some(appended.oid));
    let again = store.append(&mut increment("rel")).unwrap().unwrap();
    assert!(again.pushed, "{again:?}");
    assert_eq!(store.unpushed().unwrap(), 0);
    shared.fsck_all();
}

#[test]
fn network_remote_that_refuses_connections_keeps_the_commit() {
    let tmp = TempDir::new().unwrap();
    let dir = init(tmp.path());
    Repository::open(&dir)
        .unwrap()
        .remote("origin", "http://127.0.0.1:1/records.git")
        .unwrap();
    let store = Store::open(&dir, BRANCH, Some("origin")).unwrap();
    let appended = store.append(&mut increment("a")).unwrap().unwrap();
    assert!(!appended.pushed);
    assert!(appended.push_error.unwrap().contains("127.0.0.1:1"));
    assert_eq!(store.unpushed().unwrap(), 1);
    assert_eq!(store.sync().unwrap().pending, 1);
}

#[test]
fn offline_commits_are_replayed_onto_the_remote_tip() {
    let shared = Shared::new();
    let (a, b) = (shared.clone("a"), shared.clone("b"));
    add(&a, "start", &[("releases/start.yaml", "s")]);
    let away = shared.tmp.path().join("away.git");
    std::fs::rename(&shared.bare, &away).unwrap();
    let offline = add(&a, "offline a", &[("releases/a.yaml", "a")]);
    assert!(!offline.pushed);
    std::fs::rename(&away, &shared.bare).unwrap();
    assert!(add(&b, "b", &[("releases/b.yaml", "b")]).pushed);

    // a's next append replays its waiting commit onto b's, then pushes both.
    let appended = add(&a, "a again", &[("releases/c.yaml", "c")]);
    assert!(appended.pushed);
    let summaries: Vec<String> = a
        .log(None)
        .unwrap()
        .into_iter()
        .map(|e| e.summary)
        .collect();
    assert_eq!(summaries, ["a again", "offline a", "b", "start"]);
    let snap = a.snapshot().unwrap();
    assert_eq!(
        snap.list("releases").unwrap(),
        ["a.yaml", "b.yaml", "c.yaml", "start.yaml"]
    );
    assert_eq!(a.unpushed().unwrap(), 0);
    assert_eq!(shared.remote_tip(), snap.tip());
    shared.fsck_all();
}

#[test]
fn branches_started_apart_are_joined() {
    let shared = Shared::new();
    let (a, b) = (shared.clone("a"), shared.clone("b"));
    let away = shared.tmp.path().join("away.git");
    std::fs::rename(&shared.bare, &away).unwrap();
    add(&b, "b1", &[("b1", "x")]);
    add(&b, "b2", &[("b2", "x")]);
    std::fs::rename(&away, &shared.bare).unwrap();
    add(&a, "a1", &[("a1", "x")]);
    assert_eq!(
        b.sync().unwrap(),
        Sync {
            pushed: 2,
            pending: 0,
            error: None
        }
    );
    let summaries: Vec<String> = b
        .log(None)
        .unwrap()
        .into_iter()
        .map(|e| e.summary)
        .collect();
    assert_eq!(summaries, ["b2", "b1", "a1"]);
    assert_line(&b, 3);
    shared.fsck_all();
}

#[test]
fn conflicting_offline_commits_are_kept_and_named() {
    let shared = Shared::new();
    let (a, b) = (shared.clone("a"), shared.clone("b"));
    add(&a, "start", &[("environments/prod.yaml", "free")]);
    let away = shared.tmp.path().join("away.git");
    std::fs::rename(&shared.bare, &away).unwrap();
    let mine = add(&a, "a takes prod", &[("environments/prod.yaml", "a")]);
    std::fs::rename(&away, &shared.bare).unwrap();
    assert!(add(&b, "b takes prod", &[("environments/prod.yaml", "b")]).pushed);

    let err = a.sync().unwrap_err();
    let message = format!("{err:#}");
    assert!(message.contains("a takes prod"), "{message}");
    assert!(message.contains("environments/prod.yaml"), "{message}");
    assert!(message.contains(&mine.oid.to_string()[..10]), "{message}");
    assert!(hint_of(&err).unwrap().contains("a takes prod"));
    assert_eq!(
        a.snapshot().unwrap().tip(),
        Some(mine.oid),
        "local branch unchanged"
    );
    assert!(
        a.append(&mut increment("a")).is_err(),
        "no append on top of a conflict"
    );
    assert_eq!(a.snapshot().unwrap().tip(), Some(mine.oid));
    shared.fsck_all();
}

/// A commit keyed by its `Relctl-App` trailer.
fn keyed(store: &Store, summary: &str, key: &str, files: &[(&str, &str)]) -> Appended {
    let mut commit = commit(summary, "tester", files);
    commit
        .trailers
        .push(("Relctl-App".to_string(), key.to_string()));
    store
        .append(&mut |_| Ok(Some(commit.clone())))
        .expect("append")
        .expect("a commit")
}

#[test]
fn a_conflict_holds_back_only_the_commits_of_its_key() {
    let shared = Shared::new();
    let (a, b) = (shared.clone("a").keyed_by("Relctl-App"), shared.clone("b"));
    add(&a, "start", &[("x/env", "free"), ("y/env", "free")]);
    let away = shared.tmp.path().join("away.git");
    std::fs::rename(&shared.bare, &away).unwrap();
    keyed(&a, "a takes x", "x", &[("x/env", "a")]);
    keyed(&a, "a takes y", "y", &[("y/env", "a")]);
    let last_x = keyed(&a, "x again", "x", &[("x/notes", "1")]);
    std::fs::rename(&away, &shared.bare).unwrap();
    assert!(add(&b, "b takes x", &[("x/env", "b")]).pushed);

    // y's commit goes on to the remote; both of x's are held apart, the one that did
    // not conflict too.
    assert_eq!(
        a.sync().unwrap(),
        Sync {
            pushed: 1,
            pending: 0,
            error: None
        }
    );
    let summaries: Vec<String> = (a.log(None).unwrap().into_iter())
        .map(|e| e.summary)
        .collect();
    assert_eq!(summaries, ["a takes y", "b takes x", "start"]);
    let refname = format!("refs/relctl/held/{BRANCH}/x");
    assert_eq!(
        a.held().unwrap(),
        [super::Held {
            key: "x".into(),
            refname: refname.clone()
        }]
    );
    assert_eq!(a.read_ref(&refname).unwrap(), Some(last_x.oid));
    let snap = a.snapshot().unwrap();
    assert_eq!(text(&snap, "x/env").as_deref(), Some("b"));
    assert_eq!(text(&snap, "x/notes"), None);
    drop(snap);

    // Writing for x stops until the ref is gone; writing for y does not.
    let for_x = shared.clone("a").keyed_by("Relctl-App").writing_for("x");
    let err = for_x.append(&mut increment("a")).unwrap_err();
    assert!(
        format!("{err:#}").contains(&format!("record commit(s) of `x` made in this clone conflict with what remote `origin` has: they are kept at {refname}")),
        "{err:#}"
    );
    assert!(for_x.sync().is_err());
    let for_y = shared.clone("a").keyed_by("Relctl-App").writing_for("y");
    assert!(keyed(&for_y, "y again", "y", &[("y/notes", "1")]).pushed);
    git(
        &shared.tmp.path().join("a"),
        &["update-ref", "-d", &refname],
    );
    assert!(keyed(&for_x, "x after", "x", &[("x/notes", "2")]).pushed);
    shared.fsck_all();
}

#[test]
fn refresh_brings_a_reader_up_to_date_and_says_how_old_a_failed_view_is() {
    let shared = Shared::new();
    let (a, b) = (shared.clone("a"), shared.clone("b"));
    assert!(!b.reached().unwrap(), "a fresh clone has never fetched");
    add(&a, "from a", &[("counter", "1")]);
    let timeout = std::time::Duration::from_secs(30);
    assert_eq!(b.refresh(timeout).unwrap(), Freshness::Fetched);
    assert_eq!(counter(&b), 1);
    assert!(b.reached().unwrap());
    let fetched = b.last_fetch().expect("the time of the fetch");

    add(&b, "from b", &[("counter", "2")]);
    std::fs::rename(&shared.bare, shared.tmp.path().join("away.git")).unwrap();
    match b.refresh(timeout).unwrap() {
        Freshness::Stale {
            why,
            as_of,
            unpushed,
        } => {
            assert!(why.contains("which does not exist"), "{why}");
            // b's append fetched last.
            assert!(as_of.is_some_and(|t| t >= fetched), "{as_of:?}");
            assert_eq!(unpushed, 0, "b's commit went out with its append");
        }
        other => panic!("{other:?}"),
    }
    let offline = shared.clone("b").offline(true);
    assert!(matches!(
        offline.refresh(timeout).unwrap(),
        Freshness::Offline { as_of: Some(_), .. }
    ));
}

#[test]
fn a_branch_holding_other_files_is_refused_and_hand_commits_pass() {
    let tmp = TempDir::new().unwrap();
    let dir = init(tmp.path());
    let store = Store::open(&dir, BRANCH, None).unwrap();
    add(&store, "event", &[("environments/dev.yaml", "live: {}\n")]);
    drop(store);
    // A commit made by hand on the records branch (no trailers) is still a record.
    let tree = tmp.path().join("tree");
    git(
        &dir,
        &["worktree", "add", "-q", tree.to_str().unwrap(), BRANCH],
    );
    std::fs::write(tree.join("environments/dev.yaml"), "live: null\n").unwrap();
    git(&tree, &["commit", "-q", "-am", "fixed by hand"]);
    let layout: &'static [&'static str] = &["environments", "releases"];
    Store::open(&dir, BRANCH, None)
        .unwrap()
        .holding_only(layout)
        .expect("a records branch");
    // Code committed on it makes it somebody else's.
    std::fs::write(tree.join("Cargo.toml"), "[package]\n").unwrap();
    git(&tree, &["add", "Cargo.toml"]);
    git(&tree, &["commit", "-q", "-m", "code"]);
    let err = Store::open(&dir, BRANCH, None)
        .unwrap()
        .holding_only(layout)
        .err()
        .expect("refused");
    assert_eq!(exit_of(&err), Exit::Usage);
    assert!(err.to_string().contains("it holds Cargo.toml"), "{err}");
    assert!(hint_of(&err).is_some_and(|h| h.contains("record.branch")));
}

/// The loose object files under `objects/` (none when every commit went in as a pack).
fn loose_objects(dir: &Path) -> Vec<PathBuf> {
    let objects = dir.join(".git/objects");
    let mut loose = Vec::new();
    for entry in std::fs::read_dir(&objects).expect("objects") {
        let path = entry.expect("entry").path();
        let fan_out = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_hexdigit()));
        if fan_out {
            loose.extend(
                std::fs::read_dir(&path)
                    .expect("fan-out")
                    .map(|e| e.expect("entry").path()),
            );
        }
    }
    loose
}

/// The packs in the repository whose git directory is `git_dir`.
fn packs(git_dir: &Path) -> usize {
    std::fs::read_dir(git_dir.join("objects/pack"))
        .expect("objects/pack")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "pack"))
        })
        .count()
}

/// Each commit's objects reach the repository as one pack, not a file per object, and
/// the small packs that leaves are merged as stores close: git reads every commit, and
/// the packs stay few however many commands wrote.
#[test]
fn commits_are_written_as_packs_and_the_packs_stay_few() {
    let tmp = TempDir::new().unwrap();
    let dir = init(tmp.path());
    let mut most = 0;
    for i in 0..60 {
        let store = Store::open(&dir, BRANCH, None).unwrap();
        add(
            &store,
            &format!("commit {i}"),
            &[
                (&format!("apps/a/releases/{i}.yaml"), &format!("n: {i}\n")),
                ("counter", &i.to_string()),
            ],
        );
        drop(store);
        most = most.max(packs(&dir.join(".git")));
    }
    assert_eq!(loose_objects(&dir), Vec::<PathBuf>::new());
    assert!(most <= 10, "{most} packs at once");
    fsck(&dir);
    let store = Store::open(&dir, BRANCH, None).unwrap();
    assert_line(&store, 60);
    assert_eq!(
        git(&dir, &["show", &format!("{BRANCH}:apps/a/releases/0.yaml")]),
        "n: 0\n"
    );
    assert_eq!(git(&dir, &["rev-list", "--count", BRANCH]).trim(), "60");
}

/// A reader that found the packs before a writer merged them reads on after it: the
/// objects are in the merged pack, and it looks again.
#[test]
fn a_reader_reads_on_across_a_merge_of_the_packs() {
    let tmp = TempDir::new().unwrap();
    let dir = init(tmp.path());
    for i in 0..3 {
        let store = Store::open(&dir, BRANCH, None).unwrap();
        add(&store, "file", &[(&format!("f{i}"), &format!("{i}"))]);
    }
    let reader = Store::open_to_read(&dir, BRANCH, None).unwrap();
    let before = reader.snapshot().unwrap();
    assert_eq!(text(&before, "f0").as_deref(), Some("0"));
    let packs_before = packs(&dir.join(".git"));
    for i in 3..12 {
        let store = Store::open(&dir, BRANCH, None).unwrap();
        add(&store, "file", &[(&format!("f{i}"), &format!("{i}"))]);
    }
    assert!(
        packs(&dir.join(".git")) < packs_before + 9,
        "the packs were merged"
    );
    for i in 0..12 {
        let now = reader.snapshot().unwrap();
        assert_eq!(text(&now, &format!("f{i}")), Some(i.to_string()));
    }
    assert_eq!(text(&before, "f2").as_deref(), Some("2"));
    fsck(&dir);
}

/// A commit's signature and signed bytes are read as libgit2 reads them from disk.
#[test]
fn a_signature_is_split_from_its_commit_as_libgit2_splits_it() {
    let tmp = TempDir::new().unwrap();
    let repo = Repository::init(tmp.path()).unwrap();
    let tree = repo.treebuilder(None).unwrap().write().unwrap();
    let tree = repo.find_tree(tree).unwrap();
    let who = git2::Signature::now("A", "a@example.com").unwrap();
    let buffer = repo
        .commit_create_buffer(&who, &who, "subject\n\nbody\n", &tree, &[])
        .unwrap();
    let signature = "-----BEGIN SSH SIGNATURE-----\nAAAA\nBBBB\n-----END SSH SIGNATURE-----";
    let oid = repo
        .commit_signed(buffer.as_str().unwrap(), signature, None)
        .unwrap();
    let (expected_signature, expected_data) = repo.extract_signature(&oid, None).unwrap();
    let odb = repo.odb().unwrap();
    let object = odb.read(oid).unwrap();
    let (signature, data) = super::store::split_signature(object.data()).expect("signed");
    assert_eq!(signature.as_bytes(), &*expected_signature);
    assert_eq!(data, &*expected_data);
    let unsigned = repo.commit(None, &who, &who, "plain", &tree, &[]).unwrap();
    assert!(super::store::split_signature(odb.read(unsigned).unwrap().data()).is_none());
}

/// A remote on this machine receives a pack per push, and merges them as a store does:
/// after many pushes from two clones it holds a few packs, all of it readable.
#[test]
fn a_remote_on_this_machine_keeps_few_packs_however_many_pushes_it_takes() {
    let shared = Shared::new();
    for i in 0..30 {
        let store = shared.clone(if i % 2 == 0 { "a" } else { "b" });
        store.sync().expect("sync");
        add(&store, "file", &[(&format!("f{i}"), &format!("{i}"))]);
    }
    let packs = packs(&shared.bare);
    assert!(packs <= 10, "{packs} packs in the remote");
    shared.fsck_all();
    assert_eq!(
        git(&shared.bare, &["rev-list", "--count", BRANCH]).trim(),
        "30"
    );
}

/// The index relctl writes for a commit's pack is the one git writes for that pack,
/// byte for byte, and git reads the pack through it.
#[test]
fn a_pack_index_relctl_writes_is_the_one_git_writes() {
    let tmp = TempDir::new().unwrap();
    let dir = init(tmp.path());
    let store = Store::open(&dir, BRANCH, None).unwrap();
    add(&store, "one", &[("a/b/c.yaml", "one\n"), ("counter", "1")]);
    add(&store, "two", &[("a/b/d.yaml", "two\n"), ("counter", "2")]);
    let pack_dir = dir.join(".git/objects/pack");
    let mut checked = 0;
    for entry in std::fs::read_dir(&pack_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "pack") {
            continue;
        }
        let ours = std::fs::read(path.with_extension("idx")).unwrap();
        let theirs = tmp.path().join("git.idx");
        let pack = path.to_str().expect("utf-8 path");
        git(
            &dir,
            &["index-pack", "-o", theirs.to_str().expect("utf-8"), pack],
        );
        assert_eq!(ours, std::fs::read(&theirs).unwrap(), "{}", path.display());
        std::fs::remove_file(&theirs).unwrap();
        checked += 1;
    }
    assert_eq!(checked, 2, "one pack a commit");
    assert!(
        std::fs::read_dir(&pack_dir).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("tmp_")),
        "no temporary file is left"
    );
    fsck(&dir);
    assert_eq!(
        text(&store.snapshot().unwrap(), "a/b/d.yaml").as_deref(),
        Some("two\n")
    );
}

/// A repository whose path is not UTF-8 (a directory named in Latin-1, say) records and
/// reads as any other.
#[test]
fn a_repository_whose_path_is_not_utf8_records_and_reads() {
    use std::os::unix::ffi::OsStrExt as _;
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join(std::ffi::OsStr::from_bytes(b"caf\xe9"));
    std::fs::create_dir(&dir).unwrap();
    let dir = init(&dir);
    let store = Store::open(&dir, BRANCH, None).unwrap();
    add(&store, "one", &[("counter", "1")]);
    add(&store, "two", &[("counter", "2")]);
    drop(store);
    let store = Store::open(&dir, BRANCH, None).unwrap();
    assert_eq!(counter(&store), 2);
    fsck(&dir);
}
