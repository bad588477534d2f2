//! A failing http/exec step fails its environment like a failed gate: undo, redeploy
//! what was live before, exit 3. And the environment lock between releases.

use crate::common::setup::{CANARY, HEX, OLD, Setup, artifact, release};

fn smoke_steps(script: &str) -> String {
    format!(
        r#"      - deploy: {{ weight: 10 }}
      - http:
          request: {{ method: PUT, url: "{{{{ vars.api }}}}/flags/checkout-v2", body: {{ enabled: true }} }}
          success: '.enabled == true'
          undo: {{ request: {{ method: PUT, url: "{{{{ vars.api }}}}/flags/checkout-v2", body: {{ enabled: false }} }} }}
      - exec: {{ command: ["sh", "-c", "{script}"], timeout: 10s }}
      - deploy: {{}}
"#
    )
}

#[test]
fn a_failing_smoke_test_rolls_back_and_runs_the_undo() {
    let s = Setup::new("", &smoke_steps("exit 0"));
    assert_eq!(s.promote(OLD, &[]).code, 0);
    assert_eq!(
        s.platform.flag("checkout-v2"),
        Some(serde_json::json!({ "enabled": true }))
    );
    // The new release's smoke test fails in production.
    s.env.write(
        "release.yaml",
        crate::common::setup::plan(
            &s.platform,
            "",
            &smoke_steps("echo smoke failed >&2; exit 7"),
        ),
    );
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("rolled back in production"),
        "{}",
        run.stderr
    );
    // The undo ran (flag off), and the old release runs again at full weight.
    assert_eq!(
        s.platform.flag("checkout-v2"),
        Some(serde_json::json!({ "enabled": false }))
    );
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
    let events = s.events(HEX);
    let tail: Vec<&str> = events
        .iter()
        .rev()
        .take(4)
        .rev()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tail,
        ["step_failed", "rollback_started", "undone", "rolled_back"]
    );
    let record = s.record_file(&relctl::format::release_path("checkout", &release(HEX)));
    assert!(record.contains("smoke failed"), "{record}");
    let production = s.record_file("apps/c/7/checkout/environments/production.yaml");
    assert!(
        production.contains(&format!("release: {}", release(OLD))),
        "{production}"
    );
    assert!(production.contains("lock: null"), "{production}");
}

#[test]
fn a_second_release_waits_for_the_environment_lock() {
    let approval = "    approval: { approvers: [\"alice@acme.io\"] }\n";
    let s = Setup::new(approval, CANARY);
    // The first release pauses at production's approval, holding its lock.
    assert_eq!(s.promote(OLD, &[]).code, 4);
    let run = s.promote(HEX, &["--force", "--reason", "test"]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("production is locked by {}", release(OLD))),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--wait-lock"), "{}", run.stderr);
    // The hint names what ends the holder, not only how to break its lock.
    assert!(
        run.stderr.contains(&format!(
            "`relctl resume {0}` or ends with `relctl abort {0}`",
            release(OLD)
        )),
        "{}",
        run.stderr
    );
    let run = s.promote(HEX, &["--force", "--reason", "test", "--wait-lock=100ms"]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(run.stderr.contains("still locked"), "{}", run.stderr);
}
