//! The organisation's record at scale, and what sharing it on one machine must not
//! get wrong: a token in an scp-like records URL shows nowhere, and repositories that
//! share relctl's clone of one records URL (one HOME) wait for each other's locks on
//! it rather than report the remote unreachable.

use std::path::{Path, PathBuf};

use crate::common::platform::Platform;
use crate::common::setup::{HEX, OLD, plan, spawn};
use crate::common::wait::{finish, wait_until};
use crate::common::{Run, TestEnv, git, ok};

#[test]
fn a_password_in_an_scp_like_records_url_shows_nowhere() {
    const TOKEN: &str = "s3cr3tScpT0ken";
    let env = TestEnv::new();
    let url = format!("ci:{TOKEN}@example.invalid:org/records.git");
    let mut seen = String::new();
    for args in [
        vec!["status", "--all", "--records", url.as_str()],
        vec!["--output", "json", "status", "--all", "--records", &url],
        vec!["releases", "--records", &url],
    ] {
        let mut cmd = env.std_command();
        cmd.args(&args).env("RELCTL_LOG", "trace");
        let run = Run::from(cmd.output().expect("run relctl"));
        // Never reached: a usage error that names the URL, its password masked.
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr
                .contains("ci:***@example.invalid:org/records.git"),
            "{}",
            run.stderr
        );
        seen.push_str(&run.stdout);
        seen.push_str(&run.stderr);
    }
    assert!(!seen.contains(TOKEN), "the password was shown: {seen}");
    // Nor is it in the name of relctl's clone, nor in a file of it.
    let cache = env.home().join(".cache/relctl/records");
    let names: Vec<String> = std::fs::read_dir(&cache)
        .expect("relctl's clone under the cache")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(!names[0].contains(TOKEN), "{names:?}");
    let found = std::process::Command::new("grep")
        .args(["-r", "-l", "-a", TOKEN])
        .arg(&cache)
        .output()
        .expect("run grep");
    assert!(
        found.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&found.stdout)
    );
}

/// Two app repositories (checkout, billing) in one person's workspace, both keeping
/// their record in the bare repository `records.git` by `record.url`: one HOME, so
/// one clone of it under the cache.
struct Workspace {
    env: TestEnv,
    records: PathBuf,
    _platform: Platform,
}

impl Workspace {
    fn new() -> Workspace {
        let env = TestEnv::new();
        let platform = Platform::start();
        git(
            env.path(),
            &["init", "-q", "--bare", "-b", "main", "records.git"],
        );
        let records = env.path().join("records.git");
        let url = records.to_string_lossy().into_owned();
        for app in ["checkout", "billing"] {
            let dir = env.path().join(app);
            std::fs::create_dir_all(&dir).expect("the app's directory");
            git(&dir, &["init", "-q", "-b", "main"]);
            let text = plan(&platform, "", "      - deploy: {}\n")
                .replace(
                    "app: checkout\n",
                    &format!("app: {app}\nrecord: {{ url: \"{url}\" }}\n"),
                )
                .replace("ghcr.io/acme/checkout", &format!("ghcr.io/acme/{app}"));
            std::fs::write(dir.join("release.yaml"), text).expect("write the plan");
            git(&dir, &["add", "-A"]);
            git(&dir, &["commit", "-q", "-m", app]);
        }
        Workspace {
            env,
            records,
            _platform: platform,
        }
    }

    /// `relctl promote` of `app` at digest `hex` to dev, started in its repository.
    fn promote(&self, app: &str, hex: &str) -> std::process::Child {
        let mut cmd = self.env.std_command();
        cmd.current_dir(self.env.path().join(app));
        let artifact = format!("ghcr.io/acme/{app}@sha256:{hex}");
        spawn(cmd, &["promote", "--artifact", &artifact, "--to", "dev"])
    }

    /// relctl's one clone of the records repository.
    fn clone_dir(&self) -> PathBuf {
        let cache = self.env.home().join(".cache/relctl/records");
        let clones: Vec<PathBuf> = std::fs::read_dir(&cache)
            .expect("the cache")
            .flatten()
            .map(|entry| entry.path())
            .collect();
        assert_eq!(clones.len(), 1, "{clones:?}");
        clones[0].clone()
    }

    /// The lock git (and relctl) take to update the clone's tracking ref of the shared
    /// branch: held while the file exists.
    fn tracking_lock(&self) -> PathBuf {
        self.clone_dir()
            .join("refs/remotes/origin/relctl/records.lock")
    }

    /// The number of commits of `app` on the shared branch.
    fn pushed(&self, app: &str) -> usize {
        let log = git(
            &self.records,
            &[
                "log",
                "--format=%(trailers:key=Relctl-App,valueonly)",
                "relctl/records",
            ],
        );
        log.lines().filter(|line| line.trim() == app).count()
    }

    /// The number of events in `app`'s release of digest `hex`, as its clone has it.
    fn events(&self, app: &str, hex: &str) -> usize {
        let id = format!("{app}-{}", &hex[..12]);
        let path = relctl::format::release_path(app, &id);
        let text = git(
            &self.clone_dir(),
            &["show", &format!("relctl/records:{path}")],
        );
        text.lines()
            .filter(|line| line.trim_start().starts_with("event: "))
            .count()
    }
}

fn hold(lock: &Path) {
    std::fs::write(lock, "").expect("take the lock");
}

#[test]
fn a_promotion_waits_while_another_relctl_holds_a_lock_in_the_shared_clone() {
    let ws = Workspace::new();
    ok(&finish(ws.promote("checkout", OLD)));
    // Another relctl sharing the clone is updating the tracking ref: it holds its lock.
    let lock = ws.tracking_lock();
    hold(&lock);
    let billing = ws.promote("billing", HEX);
    // billing's first event reaches the shared branch (a push needs no lock here); its
    // next fetch must move the tracking ref, and waits for the lock.
    wait_until("billing's first event on the shared branch", || {
        ws.pushed("billing") > 0
    });
    std::fs::remove_file(&lock).expect("give the lock back");
    let run = finish(billing);
    ok(&run);
    assert!(!run.stderr.contains("cannot fetch"), "{}", run.stderr);
    assert!(!run.stderr.contains("not pushed"), "{}", run.stderr);
    // Every event of billing's promotion went out, none stayed in the clone.
    assert_eq!(ws.pushed("billing"), ws.events("billing", HEX));
}

#[test]
fn a_lock_left_in_the_shared_clone_is_reported_as_such_and_the_next_command_pushes() {
    let ws = Workspace::new();
    ok(&finish(ws.promote("checkout", OLD)));
    // A relctl killed while it updated the tracking ref left its lock file behind.
    let lock = ws.tracking_lock();
    hold(&lock);
    let run = finish(ws.promote("billing", HEX));
    // The release went live; its record stayed in the clone, and the warning says why:
    // the clone was busy, not the remote unreachable.
    ok(&run);
    assert!(run.stderr.contains("was busy for 3 s"), "{}", run.stderr);
    assert!(
        run.stderr.contains("another relctl or git on this machine"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&lock.display().to_string()),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("cannot fetch"), "{}", run.stderr);
    let events = ws.events("billing", HEX);
    assert!(ws.pushed("billing") < events);
    // Once the file is gone, the next command pushes what waited.
    std::fs::remove_file(&lock).expect("remove the lock file");
    ok(&finish(ws.promote("checkout", HEX)));
    assert_eq!(ws.pushed("billing"), events);
}
