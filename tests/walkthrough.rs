//! `relctl demo --serve` prints a walkthrough of the real commands; followed literally,
//! in order, each command ends as the walkthrough says and the releases end where it
//! says they will.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::common::{Run, TestEnv};

/// How long the demo may take to set the stage (v1.0.0 everywhere) and print.
const READY_WITHIN: Duration = Duration::from_secs(60);

/// One `$` line of the walkthrough and the exit code its comment announces (0 unless
/// it says `# exit N`).
struct Step {
    line: String,
    exit: i32,
}

fn steps(walkthrough: &str) -> Vec<Step> {
    walkthrough
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("$ "))
        .map(|line| {
            let exit = line
                .split_once("# exit ")
                .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            Step {
                line: line.to_string(),
                exit,
            }
        })
        .collect()
}

/// Starts `relctl demo --serve` in a directory whose name a shell would split, and reads its stdout up to the ready line, with a deadline.
fn serve(env: &TestEnv) -> (Serving, String) {
    let mut child = env
        .std_command()
        .args(["demo", "--serve", "--dir", "my records"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the demo");
    let stdout = child.stdout.take().expect("the demo's stdout");
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + READY_WITHIN;
    let mut text = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                text.push_str(&line);
                text.push('\n');
                if line == "Ctrl-C stops the service." {
                    return (Serving(Some(child)), text);
                }
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the demo printed no ready line ({e:?}); so far:\n{text}");
            }
        }
    }
}

/// Runs one walkthrough line through `sh -c`, after the `export` lines before it, as
/// someone who pasted them into one terminal would; `relctl` is not on PATH.
fn run(env: &TestEnv, exports: &str, line: &str) -> Run {
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!("{exports}{line}"))
        .current_dir(env.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.home())
        .env("NO_COLOR", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", env.home().join(".gitconfig"))
        .output()
        .expect("run sh");
    Run::from(output)
}

/// The serving demo; killed if the test fails before it stops it.
struct Serving(Option<Child>);

impl Drop for Serving {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Sends SIGTERM and waits, with a deadline, for the demo to exit 0.
fn stop(mut serving: Serving) {
    let Some(mut child) = serving.0.take() else {
        return;
    };
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let pid = child.id();
    let (send, ended) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = send.send(child.wait());
    });
    match ended.recv_timeout(Duration::from_secs(10)) {
        Ok(Ok(status)) => assert_eq!(status.code(), Some(0), "the demo did not end cleanly"),
        other => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("the demo did not stop on SIGTERM: {other:?}");
        }
    }
}

fn live_in(status: &str, env: &str) -> String {
    status
        .lines()
        .find(|l| l.starts_with(env))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn the_serve_walkthrough_works_when_followed_literally() {
    let env = TestEnv::new();
    let (child, walkthrough) = serve(&env);
    let steps = steps(&walkthrough);
    let commands: Vec<&str> = steps.iter().map(|s| s.line.as_str()).collect();
    // Every command the demo teaches is there, in order.
    let order = [
        " validate",
        " promote ",
        " approve ",
        " resume ",
        " promote ",
        " approve ",
        " resume ",
        " rollback ",
        " status",
        " history",
    ];
    let mut at = 0;
    for word in order {
        at += commands[at..]
            .iter()
            .position(|c| c.contains(word))
            .unwrap_or_else(|| panic!("no `{word}` after step {at}:\n{walkthrough}"));
        at += 1;
    }
    let mut exports = String::new();
    let mut ran = Vec::new();
    for step in &steps {
        if step.line.starts_with("export ") {
            exports.push_str(&step.line);
            exports.push('\n');
            continue;
        }
        let run = run(&env, &exports, &step.line);
        assert_eq!(
            run.code, step.exit,
            "`{}` exited {}, the walkthrough says {}\nstdout:\n{}\nstderr:\n{}",
            step.line, run.code, step.exit, run.stdout, run.stderr
        );
        if step.exit == 3 {
            assert!(
                run.stderr.contains("rolled back"),
                "the failing release was not rolled back:\n{}",
                run.stderr
            );
        }
        ran.push(run);
    }
    // It ends with status and history: production back on v1.0.0 by the rollback,
    // staging still on the bad build, and both rollbacks in the history.
    let [.., status, history] = ran.as_slice() else {
        panic!("the walkthrough ran no commands:\n{walkthrough}");
    };
    assert!(
        live_in(&status.stdout, "production").contains("v1.0.0"),
        "{}",
        status.stdout
    );
    assert!(
        live_in(&status.stdout, "staging").contains("v3.0.0"),
        "{}",
        status.stdout
    );
    let rollback = commands
        .iter()
        .find(|c| c.contains(" rollback "))
        .copied()
        .unwrap_or_default();
    let to = rollback
        .split_once("--to ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or_default();
    assert!(
        history
            .stdout
            .contains(&format!("production: rolled back to {to} in ")),
        "{}",
        history.stdout
    );
    assert!(
        history
            .stdout
            .contains("rolling back: step 2 failed: analysis failed"),
        "{}",
        history.stdout
    );
    let approvals = crate::common::git(
        &env.path().join("my records"),
        &[
            "log",
            "--format=%(trailers:key=Relctl-Actor,valueonly)",
            "relctl/records",
        ],
    );
    assert!(approvals.contains("approver@demo.relctl"), "{approvals}");
    stop(child);
}

#[test]
fn the_demo_says_it_approved_and_resumed_by_itself() {
    let env = TestEnv::new();
    let run = env.run(&["demo", "--dir", "my records"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The closing commands work when pasted: a directory with a space is quoted.
    let git_log = run
        .stderr
        .lines()
        .chain(run.stdout.lines())
        .find(|l| l.trim_start().starts_with("git -C") && l.contains(" log "))
        .unwrap_or_default()
        .trim()
        .to_string();
    let pasted = std::process::Command::new("sh")
        .args(["-c", &git_log])
        .current_dir(env.path())
        .output()
        .expect("sh");
    assert!(pasted.status.success(), "{git_log}: {pasted:?}");
    assert!(
        String::from_utf8_lossy(&pasted.stdout).contains("live"),
        "{git_log}"
    );
    // Without a terminal nobody is asked: the narration says who approved and that
    // the demo goes on by itself, not that a command is needed to continue.
    assert!(
        run.stderr
            .contains("auto-approved (no terminal to ask you on): approver@demo.relctl approves"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("the demo resumes the release itself, as `relctl resume demo-"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "── v2.0.0 is live everywhere (production auto-approved by approver@demo.relctl)"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn on_a_terminal_the_demo_says_you_approved_at_the_prompt() {
    let env = TestEnv::new();
    let tmux = crate::terminal::Tmux::start(env.path(), env.home(), &["demo", "--dir", "records"]);
    tmux.keep_screen();
    tmux.wait_for_screen("into production as you@demo.relctl?");
    tmux.keys("y");
    assert_eq!(
        crate::terminal::exit_code(env.path()),
        0,
        "{}",
        tmux.screen()
    );
    let screen = tmux.screen();
    assert!(
        screen.contains("── v2.0.0 is live everywhere (you approved production at the prompt)"),
        "{screen}"
    );
    assert!(!screen.contains("no terminal to ask you on"), "{screen}");
}

#[test]
fn ctrl_c_at_the_demo_prompt_does_not_offer_a_resume_that_cannot_work() {
    let env = TestEnv::new();
    let tmux = crate::terminal::Tmux::start(env.path(), env.home(), &["demo", "--dir", "records"]);
    tmux.keep_screen();
    tmux.wait_for_screen("into production as you@demo.relctl?");
    tmux.keys("C-c");
    assert_eq!(
        crate::terminal::exit_code(env.path()),
        130,
        "{}",
        tmux.screen()
    );
    let screen = tmux.screen();
    assert!(
        screen.contains("its simulated service stopped with it"),
        "{screen}"
    );
    assert!(
        screen.contains("cannot be resumed without that service"),
        "{screen}"
    );
    assert!(
        !screen.contains("relctl resume demo-d44b793b9686"),
        "{screen}"
    );
}
