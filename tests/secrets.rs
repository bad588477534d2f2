//! Secrets a platform echoes back in another encoding (an error body, a `wait` answer,
//! a URL) are masked everywhere relctl writes: stderr, `--output json`, the record.

use crate::common::platform::{Platform, echoed};
use crate::common::{Run, TestEnv};

/// Has a space, `/`, quotes, a non-ASCII letter and `+`: every encoding differs.
const SECRET: &str = "s3cr3t t0ken/\"é\"+x";

/// A one-environment plan whose deploy provider is `provider` (YAML at the provider's
/// level, indented by six spaces).
fn setup(provider: &str) -> (TestEnv, Platform) {
    let env = TestEnv::new();
    env.init_repo();
    let platform = Platform::start();
    env.write(
        "release.yaml",
        format!(
            r#"version: 1
app: checkout
artifact: {{ name: ghcr.io/acme/checkout }}
vars: {{ api: "{url}" }}
providers:
  deploy:
    platform:
      type: http
{provider}environments:
  - name: production
    deploy: platform
"#,
            url = platform.url()
        ),
    );
    (env, platform)
}

fn promote(env: &TestEnv, secret: &str) -> Run {
    env.run_with(
        &[
            "promote",
            "--artifact",
            "ghcr.io/acme/checkout@sha256:4f2a9c1be0d3a7f6e5c4b3a2918070605040302010f0e0d0c0b0a09080706050",
            "--output",
            "json",
        ],
        |c| {
            c.env("DEPLOY_TOKEN", secret)
                .env("RELCTL_BACKOFF_MS", "1")
                .env("RELCTL_POLL_MS", "20");
        },
    )
}

/// Everything relctl wrote: stdout, stderr, and every commit of the records branch
/// with its patch.
fn written(env: &TestEnv, run: &Run) -> String {
    let records = env.git(&["log", "-p", "--format=%H%n%B", "relctl/records"]);
    format!("{}\n{}\n{records}", run.stdout, run.stderr)
}

fn assert_no_encoding_of_the_secret(text: &str) {
    assert!(!text.contains(SECRET), "the secret as is:\n{text}");
    for (how, encoded) in echoed(SECRET) {
        assert!(
            !text.contains(&encoded),
            "the secret ({how}) `{encoded}`:\n{text}"
        );
    }
    // The Basic header's credentials, as the record quotes them.
    assert!(!text.contains("ZGVwbG95ZXI6"), "Basic credentials:\n{text}");
}

#[test]
fn an_echoed_error_body_shows_no_encoding_of_a_secret() {
    let (env, platform) = setup(
        r#"      request:
        method: POST
        url: "{{ vars.api }}/echo/400"
        body: { echo: "{{ secret.DEPLOY_TOKEN }}", image: "{{ artifact.ref }}" }
"#,
    );
    let run = promote(&env, SECRET);
    assert_eq!(run.code, 1, "{}", run.stderr);
    // The platform did echo it, in every encoding.
    assert_eq!(platform.requests().len(), 1);
    assert!(run.stderr.contains("400"), "{}", run.stderr);
    assert!(run.stderr.contains(r#""json":"***""#), "{}", run.stderr);
    assert!(
        run.stderr.contains(r#""basic":"Basic ***""#),
        "{}",
        run.stderr
    );
    let record = env.git(&[
        "show",
        &format!(
            "relctl/records:{}",
            relctl::format::release_path("checkout", "checkout-4f2a9c1be0d3")
        ),
    ]);
    assert!(record.contains("step_failed"), "{record}");
    assert!(record.contains("***"), "{record}");
    // The JSON stream carries the failed step, masked.
    let failed = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["event"] == "step_failed")
        .unwrap_or_default();
    assert!(failed.to_string().contains("***"), "{}", run.stdout);
    assert_no_encoding_of_the_secret(&written(&env, &run));
}

#[test]
fn an_echoed_wait_answer_and_url_show_no_encoding_of_a_secret() {
    let (env, platform) = setup(
        r#"      request:
        method: POST
        url: "{{ vars.api }}/echo/200"
        body: { echo: "{{ secret.DEPLOY_TOKEN }}" }
      wait:
        url: "{{ vars.api }}/echo/200?token={{ secret.DEPLOY_TOKEN }}"
        interval: 100ms
        timeout: 2s
        success: '.state == "ready"'
        failure: '.state == "failed"'
"#,
    );
    let run = promote(&env, SECRET);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        platform.requests().iter().any(|r| r.path == "/echo/200"),
        "the wait was polled: {}",
        run.stderr
    );
    // The URL as relctl shows it, and as the platform echoed it (percent-encoded).
    assert!(run.stderr.contains("/echo/200?token=***"), "{}", run.stderr);
    assert!(
        run.stderr.contains(r#""query":"token=***""#),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(r#""unicode":"***""#), "{}", run.stderr);
    assert_no_encoding_of_the_secret(&written(&env, &run));
}

#[test]
fn a_secret_too_short_to_mask_is_refused_before_anything_runs() {
    let (env, platform) = setup(
        r#"      request:
        method: POST
        url: "{{ vars.api }}/echo/400"
        body: { echo: "{{ secret.DEPLOY_TOKEN }}" }
"#,
    );
    let run = promote(&env, "e");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error: the secret is too short to mask safely: DEPLOY_TOKEN"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint:") && run.stderr.contains("at least 6 characters"),
        "{}",
        run.stderr
    );
    assert!(platform.requests().is_empty());
    assert_eq!(env.records_log(), "");
    // Six characters are enough.
    let run = promote(&env, "abc123");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains(r#""json":"***""#), "{}", run.stderr);
}
