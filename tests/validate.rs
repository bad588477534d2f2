//! `relctl validate`: the example plan is valid, and each kind of mistake is reported
//! with its file, line and column — all of them at once.

use crate::common::{TestEnv, repo_root};

#[test]
fn the_example_plan_is_valid() {
    let env = TestEnv::new();
    let example = repo_root().join("release.example.yaml");
    let run = env.run(&["--plan", example.to_str().expect("utf-8 path"), "validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("is valid: app `checkout`, environments staging → production"),
        "{}",
        run.stderr
    );
}

/// A small valid plan; each case below breaks one thing in it.
const BASE: &str = r#"version: 1
app: checkout
artifact: { name: ghcr.io/acme/checkout }
vars: { api: "http://127.0.0.1:1" }
providers:
  deploy:
    platform:
      type: http
      request:
        url: "{{ vars.api }}/deploy/{{ env.name }}"
        body: { image: "{{ artifact.ref }}", weight: "{{ step.weight }}" }
  metrics:
    prom: { type: prometheus, url: "http://127.0.0.1:9" }
environments:
  - name: staging
    deploy: platform
  - name: production
    deploy: platform
    steps:
      - deploy: { weight: 10 }
      - analysis: health
      - deploy: {}
analyses:
  health:
    metrics:
      - name: errors
        provider: prom
        query: 'rate(errors{version="{{ release.version }}"}[1m])'
        max: 0.01
"#;

/// Validate `plan` and return the exit code and stderr.
fn validate(plan: &str) -> (i32, String) {
    let env = TestEnv::new();
    env.write("release.yaml", plan);
    let run = env.run(&["validate"]);
    (run.code, run.stderr)
}

fn expect_problem(plan: &str, position: &str, message: &str) {
    let (code, stderr) = validate(plan);
    assert_eq!(code, 2, "expected exit 2 for {message}\n{stderr}");
    let line = format!("release.yaml:{position}: {message}");
    assert!(stderr.contains(&line), "expected `{line}` in:\n{stderr}");
}

#[test]
fn the_base_plan_is_valid() {
    let (code, stderr) = validate(BASE);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn yaml_syntax_error() {
    expect_problem(
        &BASE.replace("app: checkout", "app: [checkout"),
        "3:9",
        "illegal placement of ':' indicator",
    );
}

#[test]
fn unknown_key_with_suggestion() {
    expect_problem(
        &BASE.replace(
            "    deploy: platform\n  - name: production",
            "    deploy: platform\n    aproval: {}\n  - name: production",
        ),
        "17:5",
        "unknown key `aproval` in environment `staging` (did you mean `approval`?)",
    );
}

#[test]
fn unknown_top_level_key() {
    expect_problem(
        &format!("{BASE}enviroments: []\n"),
        "30:1",
        "unknown key `enviroments` in the plan (did you mean `environments`?)",
    );
}

#[test]
fn wrong_type() {
    expect_problem(
        &BASE.replace("max: 0.01", "max: low"),
        "29:14",
        "`max` must be a finite number, found a string",
    );
}

#[test]
fn missing_required_field() {
    expect_problem(
        &BASE.replace("app: checkout\n", ""),
        "1:1",
        "the plan is missing `app`",
    );
}

#[test]
fn undefined_deploy_provider() {
    expect_problem(
        &BASE.replace(
            "  - name: staging\n    deploy: platform",
            "  - name: staging\n    deploy: platfrom",
        ),
        "16:13",
        "unknown deploy provider `platfrom` (did you mean `platform`?)",
    );
}

#[test]
fn undefined_analysis() {
    expect_problem(
        &BASE.replace("analysis: health", "analysis: wellness"),
        "21:19",
        "unknown analysis `wellness` (defined: health)",
    );
}

#[test]
fn undefined_metrics_provider() {
    expect_problem(
        &BASE.replace("provider: prom", "provider: graphite"),
        "27:19",
        "unknown metrics provider `graphite` (defined: prom)",
    );
}

#[test]
fn duplicate_environment() {
    expect_problem(
        &BASE.replace("name: production", "name: staging"),
        "17:5",
        "environment `staging` is defined twice",
    );
}

#[test]
fn bad_duration() {
    expect_problem(
        &BASE.replace(
            "      - deploy: {}\n",
            "      - pause: 10 minutes\n      - deploy: {}\n",
        ),
        "22:16",
        "`pause`: invalid duration `10 minutes` (expected e.g. 30s, 10m, 1h30m)",
    );
}

#[test]
fn duration_without_unit() {
    expect_problem(
        &BASE.replace("prometheus, url:", "prometheus, timeout: 30, url:"),
        "13:40",
        "`timeout` needs a unit, e.g. 30s or 10m",
    );
}

#[test]
fn template_with_undefined_name() {
    expect_problem(
        &BASE.replace("{{ vars.api }}", "{{ vars.apu }}"),
        "10:14",
        "undefined name `vars.apu` in template (did you mean `vars.api`?)",
    );
}

#[test]
fn template_with_unknown_field() {
    expect_problem(
        &BASE.replace("{{ env.name }}", "{{ env.nmae }}"),
        "10:14",
        "undefined name `env.nmae` in template (`env` has: name)",
    );
}

#[test]
fn template_syntax_error() {
    expect_problem(
        &BASE.replace("{{ artifact.ref }}", "{{ artifact.ref }"),
        "11:24",
        "invalid template `{{ artifact.ref }`: unexpected `}`, expected end of variable block",
    );
}

#[test]
fn response_outside_wait() {
    expect_problem(
        &BASE.replace("{{ step.weight }}", "{{ response.id }}"),
        "11:54",
        "`response.id` is only available in `wait` and `verify_digest`",
    );
}

#[test]
fn bad_jq_expression() {
    let plan = BASE.replace(
        "        body:",
        "        timeout: 5s\n      verify_digest: '.digest =='\n      request_extra: 1\n        body:",
    );
    // Keep the plan well-formed: put verify_digest at provider level instead.
    let plan = plan.replace(
        "      verify_digest: '.digest =='\n      request_extra: 1\n",
        "",
    );
    let plan = plan.replace(
        "  metrics:\n",
        "      verify_digest: '.digest =='\n  metrics:\n",
    );
    expect_problem(
        &plan,
        "13:22",
        "invalid jq expression `.digest ==`: expected term at character 11",
    );
}

#[test]
fn jq_with_undefined_function() {
    let plan = BASE.replace(
        "  metrics:\n",
        "      verify_digest: 'digestify(.x)'\n  metrics:\n",
    );
    expect_problem(
        &plan,
        "12:22",
        "invalid jq expression `digestify(.x)`: undefined filter `digestify`",
    );
}

#[test]
fn artifact_name_with_tag() {
    expect_problem(
        &BASE.replace("ghcr.io/acme/checkout }", "ghcr.io/acme/checkout:latest }"),
        "3:19",
        "artifact name `ghcr.io/acme/checkout:latest` must not carry a tag; releases are pinned by digest",
    );
}

#[test]
fn artifact_name_with_capitals() {
    expect_problem(
        &BASE.replace("ghcr.io/acme/checkout }", "ghcr.io/Acme/checkout }"),
        "3:19",
        "artifact name `ghcr.io/Acme/checkout`: `Acme` must be lowercase letters and digits, separated by `.`, `_`, `__` or `-`",
    );
}

#[test]
fn weight_out_of_range() {
    expect_problem(
        &BASE.replace("weight: 10 }", "weight: 150 }"),
        "20:27",
        "`weight` is a percentage from 1 to 100, found 150",
    );
}

#[test]
fn environment_ending_below_full_weight() {
    expect_problem(
        &BASE.replace("      - deploy: {}\n", ""),
        "17:5",
        "environment `production` ends at weight 10; its last `deploy` step must be at full weight",
    );
}

#[test]
fn unknown_step_kind() {
    expect_problem(
        &BASE.replace("- analysis: health", "- analyse: health"),
        "21:9",
        "unknown step `analyse` (did you mean `analysis`?)",
    );
}

#[test]
fn freeze_with_bad_time() {
    let plan = BASE.replace(
        "  - name: production\n    deploy: platform\n",
        "  - name: production\n    deploy: platform\n    freeze: [ { from: \"2026-12-20\", to: \"2027-01-04T00:00:00Z\" } ]\n",
    );
    expect_problem(
        &plan,
        "19:23",
        "`from` must be an RFC 3339 time like 2026-12-20T00:00:00Z",
    );
}

#[test]
fn approval_step_without_approvers() {
    expect_problem(
        &BASE.replace(
            "      - deploy: {}\n",
            "      - approval: {}\n      - deploy: {}\n",
        ),
        "22:9",
        "an `approval` step needs approvers",
    );
}

#[test]
fn unsupported_version() {
    expect_problem(
        &BASE.replace("version: 1", "version: 2"),
        "1:10",
        "unsupported plan `version`; this relctl reads version 1",
    );
}

#[test]
fn duplicate_key() {
    expect_problem(
        &BASE.replace("app: checkout\n", "app: checkout\napp: billing\n"),
        "3:1",
        "duplicate key `app`",
    );
}

#[test]
fn three_mistakes_are_reported_together_in_file_order() {
    let plan = BASE
        .replace("{{ vars.api }}", "{{ vars.apu }}")
        .replace("analysis: health", "analysis: wellness")
        .replace("max: 0.01", "max: low");
    let (code, stderr) = validate(&plan);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("error: release.yaml has 3 problems\n"),
        "{stderr}"
    );
    let lines: Vec<&str> = stderr.lines().skip(1).collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(
        lines[0].starts_with("  release.yaml:10:14: undefined name `vars.apu`"),
        "{stderr}"
    );
    assert!(
        lines[1].starts_with("  release.yaml:21:19: unknown analysis `wellness`"),
        "{stderr}"
    );
    assert!(
        lines[2].starts_with("  release.yaml:29:14: `max` must be a finite number"),
        "{stderr}"
    );
}

#[test]
fn problems_as_json() {
    let env = TestEnv::new();
    env.write(
        "release.yaml",
        BASE.replace("analysis: health", "analysis: wellness"),
    );
    let run = env.run(&["--output", "json", "validate"]);
    assert_eq!(run.code, 2);
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines[0]["line"], 21);
    assert_eq!(lines[0]["column"], 19);
    assert_eq!(lines[1], serde_json::json!({"valid": false, "problems": 1}));
}

#[test]
fn hostile_plans_are_refused_quickly_and_clearly() {
    let laughs = "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n";
    let (code, stderr) = validate(laughs);
    assert_eq!(code, 2);
    assert!(stderr.contains("aliases expand to more than"), "{stderr}");

    let (code, stderr) = validate(&("a: ".to_string() + &"[".repeat(500) + &"]".repeat(500)));
    assert_eq!(code, 2);
    assert!(stderr.contains("nests deeper than 64 levels"), "{stderr}");

    let env = TestEnv::new();
    env.write("release.yaml", b"version: 1\napp: \xff\xfe\n");
    let run = env.run(&["validate"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("release.yaml:2:6: the plan is not valid UTF-8"),
        "{}",
        run.stderr
    );

    env.write("release.yaml", vec![b'#'; 2 << 20]);
    let run = env.run(&["validate"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("plans are limited to 1048576 bytes"),
        "{}",
        run.stderr
    );
}
