//! The shared harness: each test gets a temp dir and runs the real binary there with a
//! clean environment, so nothing from the developer's machine leaks in.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

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
    pub fn command(&self) -> Command {
        let mut cmd = Command::cargo_bin("relctl").expect("the relctl binary");
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
