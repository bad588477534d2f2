//! The shared harness: each test gets a temp dir and runs the real binary there with a
//! clean environment, so nothing from the developer's machine leaks in. relctl runs as
//! people run it: who they are comes from git's configuration in their own HOME (the
//! tester is tester@example.com; `operator` makes another person), never from
//! RELCTL_ACTOR unless a test is about it.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

pub mod git_server;
pub mod platform;
pub mod prometheus;
pub mod service;
pub mod setup;
pub mod silent;
pub mod snapshot;
pub mod tls;
pub mod unleash;
pub mod wait;

pub use setup::Setup;

pub struct TestEnv {
    dir: tempfile::TempDir,
    /// The tester's HOME, outside the project: its .gitconfig says who they are.
    home: tempfile::TempDir,
}

/// The tester's identity, from git's global configuration in their HOME.
pub const TESTER: &str = "tester@example.com";

/// What a run printed and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Exit code, stdout and stderr together, for snapshots.
    pub fn snapshot(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl TestEnv {
    pub fn new() -> TestEnv {
        TestEnv {
            dir: tempfile::tempdir().expect("a temp dir"),
            home: home(Some(TESTER)),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The tester's HOME.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dirs");
        }
        std::fs::write(&path, content).expect("write file");
        path
    }

    /// The relctl binary, in this env's dir, with a clean environment, as the tester.
    pub fn std_command(&self) -> std::process::Command {
        relctl_command(self.path(), self.home())
    }

    /// Another person running relctl in this env's dir: their own HOME, whose git
    /// configuration gives `email` as their identity.
    pub fn operator(&self, email: &str) -> Operator {
        Operator {
            home: home(Some(email)),
            dir: self.path().to_path_buf(),
        }
    }

    /// Someone whose git knows no user.email (a fresh machine or container).
    pub fn stranger(&self) -> Operator {
        Operator {
            home: home(None),
            dir: self.path().to_path_buf(),
        }
    }

    /// A bare remote (`origin.git` in this env's dir) holding one commit of `files`, and
    /// two clones of it, `one/` and `two/`: projects two people would run relctl in.
    pub fn clones(&self, files: &[(&str, &str)]) -> Clones {
        let remote = self.path().join("origin.git");
        git(
            self.path(),
            &["init", "-q", "--bare", "-b", "main", "origin.git"],
        );
        let url = remote.to_string_lossy().into_owned();
        git(self.path(), &["clone", "-q", &url, "seed"]);
        let seed = self.path().join("seed");
        for (name, content) in files {
            let path = seed.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("create dirs");
            }
            std::fs::write(path, content).expect("write file");
        }
        std::fs::write(seed.join("README"), "app\n").expect("write file");
        git(&seed, &["add", "-A"]);
        git(&seed, &["commit", "-q", "-m", "initial"]);
        git(&seed, &["push", "-q", "origin", "main"]);
        std::fs::remove_dir_all(&seed).expect("remove the seed clone");
        for name in ["one", "two"] {
            git(self.path(), &["clone", "-q", &url, name]);
        }
        Clones {
            one: self.path().join("one"),
            two: self.path().join("two"),
            remote,
        }
    }

    pub fn command(&self) -> Command {
        Command::from_std(self.std_command())
    }

    /// Makes the temp dir a git repository with one commit on `main`.
    pub fn init_repo(&self) {
        // Who runs relctl is the tester's global git identity: nothing repo-local
        // overrides it, as in most clones.
        git(self.path(), &["init", "-q", "-b", "main"]);
        self.write("README", "app\n");
        git(self.path(), &["add", "README"]);
        git(self.path(), &["commit", "-q", "-m", "initial"]);
    }

    /// `git` in this env's dir; panics on failure, returns stdout.
    pub fn git(&self, args: &[&str]) -> String {
        git(self.path(), args)
    }

    /// The records branch's commit subjects, newest first ("" before it exists).
    pub fn records_log(&self) -> String {
        std::process::Command::new("git")
            .current_dir(self.path())
            .args(["log", "--format=%s", "relctl/records"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command().args(args).output().expect("run relctl"))
    }

    pub fn run_with(&self, args: &[&str], configure: impl FnOnce(&mut Command)) -> Run {
        let mut cmd = self.command();
        configure(&mut cmd);
        Run::from(cmd.args(args).output().expect("run relctl"))
    }
}

/// Another person: their HOME, and the directory they run relctl in.
pub struct Operator {
    home: tempfile::TempDir,
    dir: PathBuf,
}

impl Operator {
    /// The same person, working in `dir` (their own clone).
    pub fn in_dir(mut self, dir: &Path) -> Operator {
        self.dir = dir.to_path_buf();
        self
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    pub fn std_command(&self) -> std::process::Command {
        relctl_command(&self.dir, self.home())
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, |_| {})
    }

    pub fn run_with(&self, args: &[&str], configure: impl FnOnce(&mut Command)) -> Run {
        let mut cmd = Command::from_std(self.std_command());
        configure(&mut cmd);
        Run::from(cmd.args(args).output().expect("run relctl"))
    }
}

/// Two clones of one bare remote (`TestEnv::clones`).
pub struct Clones {
    pub remote: PathBuf,
    pub one: PathBuf,
    pub two: PathBuf,
}

/// relctl in `dir` with a clean environment and `home` as HOME, whose .gitconfig is
/// the only git configuration it reads (no system one).
fn relctl_command(dir: &Path, home: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("relctl"));
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", home.join(".gitconfig"));
    cmd
}

/// A HOME whose git configuration says who its owner is (nothing for `None`).
fn home(email: Option<&str>) -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("a temp HOME");
    if let Some(email) = email {
        let name = email.split('@').next().unwrap_or(email);
        std::fs::write(
            home.path().join(".gitconfig"),
            format!("[user]\n\temail = {email}\n\tname = {name}\n"),
        )
        .expect("write .gitconfig");
    }
    home
}

/// Fails the test, showing what the run printed, unless it exited 0.
pub fn ok(run: &Run) {
    assert_eq!(
        run.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
}

/// The repository's root, for files such as release.example.yaml.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs git in `dir` with a clean configuration; panics when it fails.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Dev")
        .env("GIT_AUTHOR_EMAIL", "dev@example.com")
        .env("GIT_COMMITTER_NAME", "Dev")
        .env("GIT_COMMITTER_EMAIL", "dev@example.com")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
