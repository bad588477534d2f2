//! Values from outside the plan cannot change what a query, URL, header or body means:
//! `--version` has a safe form, and the record's versions and the platform's answers
//! are escaped where a template puts them (docs/plan.md, "Templates: trusted and
//! untrusted values").

use std::time::Duration;

use serde_json::Value;

use crate::common::platform::Platform;
use crate::common::prometheus::Prometheus;
use crate::common::service::TestService;
use crate::common::setup::{CANARY, HEX, OLD, SECRET, Setup, artifact};
use crate::common::{Run, TestEnv, git};

const DEADLINE: Duration = Duration::from_secs(30);

/// A version crafted to end the query's string, neutralise the ratio and comment out
/// the rest of the line: `sum(rate(…{version="1"}[1m])) * 0 or vector(0) # …` is 0.
const CRAFTED: &str = r#"1"}[1m])) * 0 or vector(0) #"#;
/// The same text as a PromQL double-quoted string holds it.
const CRAFTED_IN_PROMQL: &str = r#"1\"}[1m])) * 0 or vector(0) #"#;

/// The share of 5xx among `version`'s requests, as docs/plan.md's example measures it.
fn ratio(version: &str) -> String {
    format!(
        r#"sum(rate(http_requests_total{{app="checkout",version="{version}",code=~"5.."}}[5s])) / sum(rate(http_requests_total{{app="checkout",version="{version}"}}[5s]))"#
    )
}

/// What a test's plan adds to the usual one-environment plan.
#[derive(Default)]
struct Extra<'a> {
    /// Appended to the deploy call's URL.
    url: &'a str,
    /// More `key: value` entries of the deploy call's headers (flow style).
    headers: &'a str,
    /// More `key: value` entries of the deploy call's body (flow style).
    body: &'a str,
    /// The deploy provider's `wait`, or nothing.
    wait: &'a str,
    /// The `health` analysis' query (default: the error ratio of the release).
    query: &'a str,
}

/// One environment, `production`, deploying through the platform double with `steps`;
/// Prometheus at `prom` measures the `health` analysis.
fn plan(platform: &Platform, prom: &str, steps: &str, extra: &Extra) -> String {
    let query = if extra.query.is_empty() {
        ratio("{{ release.version }}")
    } else {
        extra.query.to_string()
    };
    format!(
        r#"version: 1
app: checkout
artifact: {{ name: ghcr.io/acme/checkout }}
vars: {{ api: "{api}" }}
providers:
  deploy:
    platform:
      type: http
      request:
        method: POST
        url: "{{{{ vars.api }}}}/deploy/{{{{ env.name }}}}{url}"
        headers: {{ Authorization: "Bearer {{{{ secret.DEPLOY_TOKEN }}}}"{headers} }}
        body: {{ image: "{{{{ artifact.ref }}}}", weight: "{{{{ step.weight }}}}"{body} }}
        retries: 0
{wait}  metrics:
    prom: {{ type: prometheus, url: "{prom}", timeout: 2s }}
environments:
  - name: production
    deploy: platform
    steps:
{steps}analyses:
  health:
    interval: 1s
    count: 1
    metrics:
      - name: error-rate
        provider: prom
        query: '{query}'
        max: 0.05
"#,
        api = platform.url(),
        url = extra.url,
        headers = extra.headers,
        body = extra.body,
        wait = extra.wait,
    )
}

const DEPLOY: &str = "      - deploy: {}\n";
const NOWHERE: &str = "http://127.0.0.1:9";

fn relctl(env: &TestEnv, args: &[&str]) -> Run {
    env.run_with(args, |c| {
        c.env("DEPLOY_TOKEN", SECRET)
            .env("RELCTL_BACKOFF_MS", "1")
            .env("RELCTL_POLL_MS", "20");
    })
}

fn promote(env: &TestEnv, hex: &str, version: &str) -> Run {
    relctl(
        env,
        &[
            "promote",
            "--artifact",
            &artifact(hex),
            "--version",
            version,
        ],
    )
}

/// A test dir with a repository and the platform double; `OLD` is live in production
/// as version `v1`, and then the record says its version is `live_version` — as a
/// record written before versions were checked, or edited by hand, can.
fn with_baseline(live_version: &str) -> (TestEnv, Platform) {
    let Setup { env, platform } =
        Setup::with_plan(|platform| plan(platform, NOWHERE, DEPLOY, &Extra::default()));
    let run = promote(&env, OLD, "v1");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let worktree = env.path().join("records-checkout");
    let worktree_arg = worktree.to_str().expect("a UTF-8 temp path");
    env.git(&["worktree", "add", "-q", worktree_arg, "relctl/records"]);
    let file = worktree.join("apps/c/7/checkout/environments/production.yaml");
    let text = std::fs::read_to_string(&file).expect("the environment's record");
    let (live, rest) = text.split_once("version: v1").expect("the live version");
    assert!(live.contains("live:"), "{text}");
    // A JSON string is a YAML double-quoted scalar.
    let quoted = serde_json::to_string(live_version).expect("a JSON string");
    std::fs::write(&file, format!("{live}version: {quoted}{rest}")).expect("edit the record");
    git(&worktree, &["commit", "-q", "-am", "edit the live version"]);
    env.git(&["worktree", "remove", worktree_arg]);
    (env, platform)
}

fn paths(platform: &Platform) -> Vec<String> {
    platform.requests().into_iter().map(|r| r.path).collect()
}

#[test]
fn a_crafted_version_is_refused_naming_the_character() {
    let s = Setup::new("", CANARY);
    let run = s.promote(HEX, &["--version", CRAFTED]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(r#"'"' (at position 2) is not allowed in a version"#),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("letters, digits, `.`, `-`, `+` and `_`"),
        "{}",
        run.stderr
    );
    let run = s.promote(HEX, &["--version", "1.0/../admin"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("'/' (at position 4)"), "{}", run.stderr);
    let long = "1".repeat(129);
    assert_eq!(s.promote(HEX, &["--version", &long]).code, 2);
    assert!(s.platform.requests().is_empty(), "nothing was deployed");
    assert_eq!(s.env.records_log(), "", "nothing was recorded");
    // The documented form goes through.
    let run = s.promote(HEX, &["--version", "v2.0.0-rc.1+build_7", "--to", "dev"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn a_hostile_baseline_version_in_a_query_is_judged_on_the_series_it_names() {
    let (env, platform) = with_baseline(CRAFTED);
    let service = TestService::start();
    let prometheus = Prometheus::start(&[service.addr()]);
    // The series the query names: the baseline's, half of its requests errors.
    service.set_traffic(CRAFTED, 100, 0.5);
    prometheus.wait_for(
        &ratio(CRAFTED_IN_PROMQL),
        |s| s.len() == 1 && s[0].value.is_finite(),
        DEADLINE,
    );
    let steps = "      - deploy: { weight: 10 }\n      - analysis: health\n      - deploy: {}\n";
    let query = ratio("{{ baseline.version }}");
    let extra = Extra {
        query: &query,
        ..Extra::default()
    };
    env.write(
        "release.yaml",
        plan(&platform, &prometheus.url(), steps, &extra),
    );
    let run = promote(&env, HEX, "v2");
    // Unescaped, the query would have been `… * 0 or vector(0)`: 0, and a pass.
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("error-rate 0.5 > 0.05 ✗ 1/1"),
        "{}",
        run.stderr
    );
    assert_eq!(platform.running("production"), Some((artifact(OLD), 100)));
}

#[test]
fn a_platform_id_reaches_the_platform_percent_encoded() {
    let wait = "      wait: { url: \"{{ vars.api }}/deployments/{{ response.id }}\", interval: 100ms, timeout: 2s, success: '.state == \"ready\"' }\n";
    let extra = Extra {
        wait,
        ..Extra::default()
    };
    let Setup { env, platform } = Setup::with_plan(|platform| {
        platform.answer_id("../../admin");
        plan(platform, NOWHERE, DEPLOY, &extra)
    });
    let run = promote(&env, HEX, "v2");
    assert_eq!(run.code, 0, "{}", run.stderr);
    // One path segment, its slashes encoded: it cannot walk up to `/admin`.
    assert_eq!(
        paths(&platform),
        ["/deploy/production", "/deployments/..%2F..%2Fadmin"]
    );
}

#[test]
fn a_header_with_a_line_break_is_refused() {
    let wait = "      wait: { url: \"{{ vars.api }}/deployments/{{ response.id }}\", headers: { X-Deployment: \"{{ response.id }}\" }, interval: 100ms, timeout: 2s, success: '.state == \"ready\"' }\n";
    let extra = Extra {
        wait,
        ..Extra::default()
    };
    let Setup { env, platform } = Setup::with_plan(|platform| {
        platform.answer_id("7\r\nX-Admin: true");
        plan(platform, NOWHERE, DEPLOY, &extra)
    });
    let run = promote(&env, HEX, "v2");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("header `X-Deployment` may not carry control characters"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("`\\r` (U+000D) at position 2"),
        "{}",
        run.stderr
    );
    assert_eq!(paths(&platform), ["/deploy/production"], "no wait was sent");
}

/// The deploy call of the plans below: the baseline's version in the URL's query, a
/// header and a body leaf.
fn extra_with_baseline<'a>(query: &'a str) -> Extra<'a> {
    Extra {
        url: "?from={{ baseline.version }}",
        headers: ", X-From: \"{{ baseline.version }}\"",
        body: ", previous: \"{{ baseline.version }}\"",
        query,
        ..Extra::default()
    }
}

#[test]
fn a_json_body_leaf_with_quotes_stays_one_leaf() {
    let hostile = r#"v1", "admin": true, "x": ""#;
    let (env, platform) = with_baseline(hostile);
    env.write(
        "release.yaml",
        plan(&platform, NOWHERE, DEPLOY, &extra_with_baseline("")),
    );
    let run = promote(&env, HEX, "v2");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let deploy = platform.requests().pop().expect("the deploy call");
    let body = deploy.body.as_object().expect("a JSON object");
    let mut keys: Vec<&str> = body.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["image", "previous", "weight"]);
    assert_eq!(body["previous"], Value::from(hostile));
    assert_eq!(deploy.header("x-from"), Some(hostile));
}

#[test]
fn plan_prints_the_escaped_forms() {
    let (env, platform) = with_baseline(CRAFTED);
    let steps = "      - deploy: { weight: 10 }\n      - analysis: health\n      - deploy: {}\n";
    let query = format!(
        "{} + 0 * sum(up{{job=\"{{{{ vars.api }}}}\"}})",
        ratio("{{ baseline.version }}")
    );
    env.write(
        "release.yaml",
        plan(&platform, NOWHERE, steps, &extra_with_baseline(&query)),
    );
    let run = relctl(&env, &["plan", "--artifact", &artifact(HEX)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let url = platform.url();
    // In the URL, percent-encoded; the plan's own `vars.api` as written.
    let encoded = "1%22%7D%5B1m%5D%29%29%20%2A%200%20or%20vector%280%29%20%23";
    assert!(
        run.stdout.contains(&format!(
            "production   step 1 deploy POST {url}/deploy/production?from={encoded} "
        )),
        "{}",
        run.stdout
    );
    // In the body, one JSON string.
    let leaf = serde_json::to_string(CRAFTED).expect("a JSON string");
    assert!(
        run.stdout.contains(&format!("\"previous\":{leaf}")),
        "{}",
        run.stdout
    );
    // In the query, a PromQL string; the plan's own `vars.api` as written.
    let escaped = format!(
        "error-rate query: {} + 0 * sum(up{{job=\"{url}\"}})",
        ratio(CRAFTED_IN_PROMQL)
    );
    assert!(run.stdout.contains(&escaped), "{}", run.stdout);
    assert!(!run.stdout.contains(&ratio(CRAFTED)), "{}", run.stdout);
    // The same, as JSON.
    let run = relctl(
        &env,
        &["--output", "json", "plan", "--artifact", &artifact(HEX)],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan: Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    let actions = plan["actions"].as_array().expect("actions");
    assert_eq!(
        actions[0]["request"]["url"],
        Value::from(format!("{url}/deploy/production?from={encoded}"))
    );
    assert_eq!(
        actions[0]["request"]["headers"]["X-From"],
        Value::from(CRAFTED)
    );
    assert_eq!(actions[1]["request"]["metrics"][0]["name"], "error-rate");
    assert!(
        actions[1]["request"]["metrics"][0]["query"]
            .as_str()
            .is_some_and(|q| q.contains(CRAFTED_IN_PROMQL)),
        "{}",
        actions[1]
    );
    assert!(paths(&platform).len() == 1, "plan sent nothing");
}

#[test]
fn raw_inserts_a_value_as_it_is_and_safe_is_not_a_filter() {
    let wait = "      wait: { url: \"{{ vars.api }}/deployments/{{ response.id | raw }}\", interval: 100ms, timeout: 2s, success: '.state == \"ready\"' }\n";
    let extra = Extra {
        wait,
        ..Extra::default()
    };
    let Setup { env, platform } = Setup::with_plan(|platform| {
        platform.answer_id("x/../ok");
        plan(platform, NOWHERE, DEPLOY, &extra)
    });
    let run = promote(&env, HEX, "v2");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(paths(&platform), ["/deploy/production", "/deployments/ok"]);
    env.write(
        "release.yaml",
        plan(
            &platform,
            NOWHERE,
            DEPLOY,
            &Extra {
                wait: &wait.replace("| raw", "| safe"),
                ..Extra::default()
            },
        ),
    );
    let run = env.run(&["validate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "unknown filter `safe` in template (`| raw` inserts a value as it is, unescaped)"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn validate_wants_outside_values_inside_a_query_string() {
    let extra = Extra {
        query: "sum(rate(x{version=`{{ release.version }}`}[5s]))",
        ..Extra::default()
    };
    let Setup {
        env,
        platform: _platform,
    } = Setup::with_plan(|platform| plan(platform, NOWHERE, DEPLOY, &extra));
    let run = env.run(&["validate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "release.yaml:29:16: `{{ release.version }}` stands outside a double-quoted string in a PromQL query"
        ),
        "{}",
        run.stderr
    );
}
