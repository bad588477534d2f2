//! On a terminal, approval is asked in place. Driven through tmux, as a person would.

use std::path::Path;
use std::time::Duration;

use crate::common::wait::{poll_until, wait_until_within};

use crate::common::setup::{CANARY, HEX, SECRET, Setup, artifact};

pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts `relctl args…` in a detached tmux session with a clean environment and
    /// `home` as HOME (whose git configuration says who is at the terminal); its exit
    /// code lands in `exit` in the test dir.
    pub fn start(dir: &Path, home: &Path, args: &[&str]) -> Tmux {
        let unique = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let socket = format!("relctl-test-{}-{unique}", std::process::id());
        let binary = assert_cmd::cargo::cargo_bin("relctl");
        let words: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
        let script = format!(
            "cd '{}' && env -i PATH=\"$PATH\" HOME='{}' NO_COLOR=1 TERM=xterm GIT_CONFIG_NOSYSTEM=1 DEPLOY_TOKEN={SECRET} '{}' {}; echo $? > exit",
            dir.display(),
            home.display(),
            binary.display(),
            words.join(" ")
        );
        let status = std::process::Command::new("tmux")
            .args([
                "-L",
                &socket,
                "new-session",
                "-d",
                "-x",
                "160",
                "-y",
                "40",
                &script,
            ])
            .status()
            .expect("tmux runs (tests/run installs it)");
        assert!(status.success());
        Tmux { socket }
    }

    /// Keeps the screen readable after relctl exits (tmux closes the pane otherwise).
    pub fn keep_screen(&self) {
        let status = std::process::Command::new("tmux")
            .args([
                "-L",
                &self.socket,
                "set-option",
                "-g",
                "remain-on-exit",
                "on",
            ])
            .status()
            .expect("tmux set-option");
        assert!(status.success());
    }

    pub fn screen(&self) -> String {
        std::process::Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    pub fn wait_for_screen(&self, needle: &str) {
        assert!(
            poll_until(Duration::from_secs(30), || self.screen().contains(needle)),
            "never saw `{needle}` on screen:\n{}",
            self.screen()
        );
    }

    pub fn keys(&self, keys: &str) {
        let status = std::process::Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", keys])
            .status()
            .expect("tmux send-keys");
        assert!(status.success());
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = std::process::Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

pub fn exit_code(dir: &Path) -> i32 {
    let mut code = None;
    wait_until_within(Duration::from_secs(30), "relctl to finish", || {
        code = std::fs::read_to_string(dir.join("exit"))
            .ok()
            .and_then(|text| text.trim().parse().ok());
        code.is_some()
    });
    code.unwrap_or_default()
}

const APPROVAL: &str = "    approval: { approvers: [\"alice@acme.io\"] }\n";

#[test]
fn the_terminal_prompt_approves_in_place() {
    let s = Setup::new(APPROVAL, CANARY);
    let alice = s.env.operator("alice@acme.io");
    let tmux = Tmux::start(
        s.env.path(),
        alice.home(),
        &["promote", "--artifact", &artifact(HEX)],
    );
    tmux.wait_for_screen("as alice@acme.io?");
    tmux.keys("y");
    assert_eq!(exit_code(s.env.path()), 0, "{}", tmux.screen());
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 100)));
    let record = s.record_file(&relctl::format::release_path(
        "checkout",
        &crate::common::setup::release(HEX),
    ));
    assert!(record.contains("by: alice@acme.io"), "{record}");
}

#[test]
fn declining_at_the_prompt_rejects_with_exit_3() {
    let s = Setup::new(APPROVAL, CANARY);
    let alice = s.env.operator("alice@acme.io");
    let tmux = Tmux::start(
        s.env.path(),
        alice.home(),
        &["promote", "--artifact", &artifact(HEX)],
    );
    tmux.wait_for_screen("as alice@acme.io?");
    tmux.keys("n");
    assert_eq!(exit_code(s.env.path()), 3, "{}", tmux.screen());
    assert_eq!(s.platform.deploys().len(), 2, "production untouched");
}

#[test]
fn ctrl_c_at_the_prompt_is_recorded_as_interrupted_and_resume_asks_again() {
    let s = Setup::new(APPROVAL, CANARY);
    let alice = s.env.operator("alice@acme.io");
    let tmux = Tmux::start(
        s.env.path(),
        alice.home(),
        &["promote", "--artifact", &artifact(HEX)],
    );
    tmux.keep_screen();
    tmux.wait_for_screen("as alice@acme.io?");
    tmux.keys("C-c");
    assert_eq!(exit_code(s.env.path()), 130, "{}", tmux.screen());
    let screen = tmux.screen();
    assert!(screen.contains("was interrupted"), "{screen}");
    assert!(!screen.contains("read interrupted"), "{screen}");
    let record = s.record_file(&relctl::format::release_path(
        "checkout",
        &crate::common::setup::release(HEX),
    ));
    assert!(record.contains("interrupted"), "{record}");
    assert_eq!(s.platform.deploys().len(), 2, "production untouched");

    std::fs::remove_file(s.env.path().join("exit")).expect("the first exit file");
    let again = Tmux::start(
        s.env.path(),
        alice.home(),
        &["resume", &crate::common::setup::release(HEX)],
    );
    again.wait_for_screen("as alice@acme.io?");
    again.keys("y");
    assert_eq!(exit_code(s.env.path()), 0, "{}", again.screen());
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 100)));
}
