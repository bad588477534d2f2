//! `relctl demo`: the whole loop with nothing installed.

use std::io::{BufRead, BufReader};

use crate::common::TestEnv;

#[test]
fn the_demo_promotes_v2_everywhere() {
    let env = TestEnv::new();
    let dir = env.path().join("records");
    let run = env.run(&["demo", "--dir", dir.to_str().unwrap_or_default()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("approver@demo.relctl approves"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("── v2.0.0 is live everywhere"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("production error-rate 0.002 ≤ 0.01 ✓ 3/3"),
        "{}",
        run.stderr
    );
    let production = run
        .stdout
        .lines()
        .find(|l| l.starts_with("production"))
        .unwrap_or_default()
        .to_string();
    assert!(
        production.contains("v2.0.0") && production.contains("live"),
        "{}",
        run.stdout
    );
    let log = env.git(&[
        "-C",
        dir.to_str().unwrap_or_default(),
        "log",
        "--format=%s",
        "relctl/records",
    ]);
    assert!(log.contains("production: live"), "{log}");
}

#[test]
fn the_failing_demo_rolls_production_back() {
    let env = TestEnv::new();
    let run = env.run(&["demo", "--fail", "--dir", "records"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("production was rolled back to v1.0.0 by itself"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("> 0.01 ✗ 1/3"), "{}", run.stderr);
    let production = run
        .stdout
        .lines()
        .find(|l| l.starts_with("production"))
        .unwrap_or_default()
        .to_string();
    assert!(production.contains("v1.0.0"), "{}", run.stdout);
    let staging = run
        .stdout
        .lines()
        .find(|l| l.starts_with("staging"))
        .unwrap_or_default()
        .to_string();
    assert!(staging.contains("v2.0.0"), "{}", run.stdout);
}

#[test]
fn serve_keeps_the_simulator_up_until_ctrl_c() {
    let env = TestEnv::new();
    let mut child = env
        .std_command()
        .args(["demo", "--serve", "--dir", "records"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the demo");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    assert!(
        first.starts_with("The simulated service runs on http://127.0.0.1:"),
        "{first}"
    );
    let url = first
        .split_whitespace()
        .nth(5)
        .unwrap_or_default()
        .to_string();
    for line in lines.by_ref() {
        if line
            .unwrap_or_default()
            .contains("Ctrl-C stops the service")
        {
            break;
        }
    }
    // The plan it wrote is valid and points at the simulator.
    let plan = std::fs::read_to_string(env.path().join("records/release.yaml")).expect("the plan");
    assert!(plan.contains(&url), "{url} not in the plan");
    assert_eq!(
        env.run(&["--plan", "records/release.yaml", "validate"])
            .code,
        0
    );
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    assert_eq!(child.wait().expect("demo ends").code(), Some(0));
}
