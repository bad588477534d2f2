//! Waiting for a condition or a process, always with a deadline: a test never sleeps
//! for a fixed time, and one that waits too long fails saying what it waited for.

use std::process::Child;
use std::time::{Duration, Instant};

use super::Run;

/// Long enough for a loaded 2-core machine; tests wait for conditions, not for this.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// Polls `done` until it holds or `limit` passes; whether it held.
pub fn poll_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while !done() {
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// Polls `done` until it holds, failing the test with `what` after `DEADLINE`.
pub fn wait_until(what: &str, done: impl FnMut() -> bool) {
    wait_until_within(DEADLINE, what, done);
}

/// Polls `done` until it holds, failing the test with `what` after `limit`.
pub fn wait_until_within(limit: Duration, what: &str, done: impl FnMut() -> bool) {
    assert!(poll_until(limit, done), "waited {limit:?} for {what}");
}

/// How a started relctl ended and what it printed (what was piped), within `DEADLINE`.
pub fn finish(child: Child) -> Run {
    finish_within(child, DEADLINE)
}

/// How a started relctl ended and what it printed, within `limit`; past it the process
/// is killed and the test fails.
pub fn finish_within(child: Child, limit: Duration) -> Run {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(output) => Run::from(output.expect("relctl's output")),
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("relctl (pid {pid}) still ran after {limit:?}");
        }
    }
}
