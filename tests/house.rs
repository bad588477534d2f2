//! One way to do each thing: both kinds of rollback key their redeploy alike, and
//! `relctl plan` shows a step as promote performs it.

use serde_json::Value;

use crate::common::setup::{HEX, OLD, Setup, artifact, release};

/// Production deploys a canary, then runs `script` as a gate.
fn gated(script: &str) -> String {
    format!(
        "      - deploy: {{ weight: 10 }}\n      - exec: {{ command: [\"sh\", \"-c\", \"{script}\"], timeout: 10s }}\n      - deploy: {{}}\n"
    )
}

/// The idempotency keys of the deploy calls into production, in order.
fn production_keys(s: &Setup) -> Vec<String> {
    s.platform
        .requests()
        .iter()
        .filter(|r| r.path == "/deploy/production")
        .map(|r| r.header("idempotency-key").unwrap_or_default().to_string())
        .collect()
}

#[test]
fn a_failed_gate_and_relctl_rollback_key_their_redeploy_alike() {
    let expected = format!("{}/production/1/rollback/{}", release(HEX), release(OLD));
    // A gate fails: the environment goes back to OLD by itself.
    let s = Setup::new("", &gated("exit 0"));
    assert_eq!(s.promote(OLD, &[]).code, 0);
    s.env.write(
        "release.yaml",
        crate::common::setup::plan(&s.platform, "", &gated("exit 7")),
    );
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
    assert_eq!(production_keys(&s).last(), Some(&expected));

    // HEX goes live, then an operator rolls production back to OLD.
    let s = Setup::new("", &gated("exit 0"));
    assert_eq!(s.promote(OLD, &[]).code, 0);
    assert_eq!(s.promote(HEX, &[]).code, 0);
    let run = s.relctl(&["rollback", "--env", "production", "--reason", "5xx"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
    assert_eq!(production_keys(&s).last(), Some(&expected));
}

#[test]
fn plan_shows_an_analysis_at_the_weight_promote_measures_it() {
    let steps = "      - deploy: { weight: 10 }\n      - analysis: health\n      - deploy: {}\n";
    let s = Setup::new("", steps);
    let plan = std::fs::read_to_string(s.env.path().join("release.yaml")).expect("the plan");
    let plan = plan.replace(
        "environments:",
        &format!(
            "  metrics:\n    stats: {{ type: http, request: {{ url: \"{}/stats/w{{{{ step.weight }}}}\" }}, value: '.error_rate' }}\nenvironments:",
            s.platform.url()
        ),
    ) + "analyses:\n  health:\n    metrics:\n      - name: errors\n        provider: stats\n        max: 0.05\n";
    s.env.write("release.yaml", plan);
    s.platform
        .set_stats("w10", serde_json::json!({ "error_rate": 0.0 }));

    let run = s.relctl(&["--output", "json", "plan", "--artifact", &artifact(HEX)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let shown: Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    let analysis = shown["actions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["env"] == "production" && a["action"] == "analysis")
        .cloned()
        .expect("production's analysis");
    let url = analysis["request"]["metrics"][0]["request"]["url"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(url.ends_with("/stats/w10"), "{analysis}");

    // Promote measures at the same address.
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let measured: Vec<String> = s
        .platform
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/stats/"))
        .map(|r| format!("{}{}", s.platform.url(), r.path))
        .collect();
    assert_eq!(measured, [url]);
}
