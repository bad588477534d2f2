//! A step prepared as promote performs it and `relctl plan` shows it: templates
//! rendered, the idempotency key of the visit, the weight templates see, and the
//! record's description with secrets masked.

use std::path::Path;

use serde_json::json;

use super::{DeployCall, Prepared, Visit, describe, prepare, step_weight};
use crate::engine::EnvRun;
use crate::plan::Plan;
use crate::providers::Secrets;
use crate::runner::context::{Deployable, Scope};

const PLAN: &str = r#"version: 1
app: checkout
artifact: { name: ghcr.io/acme/checkout }
vars: { api: "https://deploy.example.com" }
providers:
  deploy:
    platform:
      type: http
      request:
        method: POST
        url: "{{ vars.api }}/deploy/{{ env.name }}?version={{ release.version }}"
        headers: { Authorization: "Bearer {{ secret.DEPLOY_TOKEN }}", X-Trace: "t-{{ secret.DEPLOY_TOKEN }}" }
        body: { image: "{{ artifact.ref }}", weight: "{{ step.weight }}", release: "{{ release.id }}" }
  metrics:
    stats: { type: http, request: { url: "{{ vars.api }}/stats" }, value: '.v' }
analyses:
  health:
    interval: 1s
    count: 1
    metrics:
      - name: up
        provider: stats
        max: 1
environments:
  - name: production
    deploy: platform
    steps:
      - deploy: { weight: 10 }
      - analysis: health
      - exec: { command: ["smoke", "--token={{ secret.DEPLOY_TOKEN }}", "{{ env.name }}"] }
      - pause: 5m
      - approval: { approvers: ["bob@acme.io"] }
      - deploy: {}
"#;

const TOKEN: &str = "s3cr3t-t0ken";
const RELEASE: &str = "checkout-4f2a9c1be0d3";

fn plan() -> Plan {
    crate::plan::parse(Path::new("release.yaml"), PLAN.as_bytes()).expect("a valid plan")
}

fn target(version: &str) -> Deployable {
    Deployable {
        release: RELEASE.into(),
        artifact: "ghcr.io/acme/checkout@sha256:4f2a".into(),
        name: "ghcr.io/acme/checkout".into(),
        digest: "sha256:4f2a".into(),
        version: version.into(),
    }
}

/// Step `index` of production prepared for `target`, on the release's second visit.
fn prepared(
    plan: &Plan,
    target: &Deployable,
    index: usize,
) -> (Option<Prepared>, serde_json::Value) {
    let secrets = Secrets::from_values([("DEPLOY_TOKEN", TOKEN)]);
    let env = plan.environment("production").expect("production");
    let scope = Scope {
        plan,
        secrets: &secrets,
        env: "production",
        target,
        baseline: None,
        step: index,
        weight: step_weight(env, index),
        response: None,
        place: None,
    };
    let visit = Visit {
        target: None,
        release: RELEASE,
        env: "production",
        number: 2,
    };
    let provider = plan.deploy_providers.get(&env.deploy.raw);
    match prepare(&scope, env, index, provider, visit) {
        None => (None, serde_json::Value::Null),
        Some(result) => {
            let step = result.map_err(|e| e.message).expect("the step prepares");
            let described = describe(&step, &scope);
            (Some(step), described)
        }
    }
}

#[test]
fn a_deploy_is_rendered_with_the_visits_key_and_the_secret_sent_but_not_described() {
    let plan = plan();
    let (step, described) = prepared(&plan, &target("1.4.2"), 0);
    let Some(Prepared::Deploy {
        call: DeployCall::Http { call, .. },
        ..
    }) = step
    else {
        panic!("a deploy over http");
    };
    assert_eq!(
        call.url,
        "https://deploy.example.com/deploy/production?version=1.4.2"
    );
    assert_eq!(
        call.headers,
        [
            ("Authorization".to_string(), format!("Bearer {TOKEN}")),
            ("X-Trace".to_string(), format!("t-{TOKEN}")),
        ]
    );
    assert_eq!(
        call.body,
        Some(json!({
            "image": "ghcr.io/acme/checkout@sha256:4f2a",
            "weight": 10,
            "release": RELEASE,
        }))
    );
    assert_eq!(
        call.idempotency_key.as_deref(),
        Some("checkout-4f2a9c1be0d3/production/2/0")
    );
    assert_eq!(
        described,
        json!({
            "method": "POST",
            "url": "https://deploy.example.com/deploy/production?version=1.4.2",
            "headers": { "Authorization": "***", "X-Trace": "t-***" },
            "body": { "image": "ghcr.io/acme/checkout@sha256:4f2a", "weight": 10, "release": RELEASE },
            "idempotency_key": "checkout-4f2a9c1be0d3/production/2/0",
        })
    );
    assert!(!described.to_string().contains(TOKEN));
}

#[test]
fn a_value_from_outside_the_plan_is_escaped_where_it_lands_in_a_url() {
    let plan = plan();
    let (step, _) = prepared(&plan, &target("1.0 beta&x=1"), 0);
    let Some(Prepared::Deploy {
        call: DeployCall::Http { call, .. },
        ..
    }) = step
    else {
        panic!("a deploy over http");
    };
    assert!(
        call.url
            .ends_with("/deploy/production?version=1.0%20beta%26x%3D1"),
        "{}",
        call.url
    );
}

#[test]
fn the_last_deploy_sees_full_weight_and_its_own_key() {
    let plan = plan();
    let (step, described) = prepared(&plan, &target("1.4.2"), 5);
    assert!(matches!(step, Some(Prepared::Deploy { .. })));
    assert_eq!(described["body"]["weight"], 100);
    assert_eq!(
        described["idempotency_key"],
        "checkout-4f2a9c1be0d3/production/2/5"
    );
}

#[test]
fn an_exec_step_renders_its_argv_and_environment_and_masks_the_secret_in_the_record() {
    let plan = plan();
    let (step, described) = prepared(&plan, &target("1.4.2"), 2);
    let Some(Prepared::Exec(invocation)) = step else {
        panic!("an exec step");
    };
    assert_eq!(
        invocation.argv,
        ["smoke", &format!("--token={TOKEN}"), "production"]
    );
    assert!(
        invocation
            .env
            .contains(&("RELCTL_RELEASE".to_string(), RELEASE.to_string()))
    );
    assert!(
        invocation
            .env
            .contains(&("RELCTL_WEIGHT".to_string(), "0".to_string()))
    );
    assert_eq!(
        described,
        json!({ "argv": ["smoke", "--token=***", "production"] })
    );
}

#[test]
fn a_pause_an_approval_and_an_analysis_prepare_as_what_they_are() {
    let plan = plan();
    let (pause, described) = prepared(&plan, &target("1"), 3);
    assert!(matches!(pause, Some(Prepared::Pause(d)) if d.as_secs() == 300));
    assert_eq!(described, json!({ "pause": "5m" }));
    let (approval, described) = prepared(&plan, &target("1"), 4);
    assert!(matches!(approval, Some(Prepared::Nothing)));
    assert_eq!(described, serde_json::Value::Null);
    // The analysis runner prepares an analysis (src/runner/analysis.rs).
    assert!(prepared(&plan, &target("1"), 1).0.is_none());
    // There is no seventh step.
    assert!(prepared(&plan, &target("1"), 6).0.is_none());
}

#[test]
fn an_analysis_measures_at_the_weight_of_the_deploy_before_it() {
    let plan = plan();
    let env = plan.environment("production").expect("production");
    let weights: Vec<u8> = (0..6).map(|i| step_weight(env, i)).collect();
    assert_eq!(weights, [10, 10, 0, 0, 0, 100]);
}

#[test]
fn a_visit_under_way_keeps_its_number_and_a_new_one_takes_the_next() {
    let inside = EnvRun {
        entered: true,
        visit: 1,
        ..EnvRun::default()
    };
    let left = EnvRun {
        entered: true,
        visit: 1,
        outcome: Some(crate::engine::Outcome::RolledBack),
        ..EnvRun::default()
    };
    let coming = |run: &EnvRun| Visit::coming(RELEASE, "production", run).step_key(0);
    assert_eq!(coming(&inside), "checkout-4f2a9c1be0d3/production/1/0");
    assert_eq!(coming(&left), "checkout-4f2a9c1be0d3/production/2/0");
    assert_eq!(
        coming(&EnvRun::default()),
        "checkout-4f2a9c1be0d3/production/1/0"
    );
    let recorded = Visit::recorded(RELEASE, "production", &left);
    assert_eq!(
        recorded.undo_key(2),
        "checkout-4f2a9c1be0d3/production/1/2/undo"
    );
    assert_eq!(
        recorded.rollback_key("checkout-0123456789ab"),
        "checkout-4f2a9c1be0d3/production/1/rollback/checkout-0123456789ab"
    );
}
