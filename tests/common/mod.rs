//! The shared harness: each test gets a temp dir and runs the real binary there with a
//! clean environment, so nothing from the developer's machine leaks in.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

pub mod platform;
pub mod prometheus;
pub mod service;
pub mod tls;

pub struct TestEnv {
    dir: tempfile::TempDir,
}

/// What a run printed and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Run {
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
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dirs");
        }
        std::fs::write(&path, content).expect("write file");
        path
    }

    /// The relctl binary, in this env's dir, with a clean environment.
    pub fn std_command(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("relctl"));
        cmd.current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("NO_COLOR", "1")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", self.path().join(".gitconfig"))
            .env("RELCTL_ACTOR", "tester@example.com");
        cmd
    }

    pub fn command(&self) -> Command {
        Command::from_std(self.std_command())
    }

    /// Makes the temp dir a git repository with one commit on `main`.
    pub fn init_repo(&self) {
        git(self.path(), &["init", "-q", "-b", "main"]);
        git(self.path(), &["config", "user.email", "dev@example.com"]);
        git(self.path(), &["config", "user.name", "Dev"]);
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
