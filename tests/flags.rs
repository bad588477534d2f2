//! Feature flags as release steps, against the real Unleash tests/run starts
//! (tests/common/unleash.rs): a ramp 5% → analysis → 25% → analysis → 100%, a failed
//! analysis that puts the flag back exactly as it was, the kill switch, and the errors
//! a user meets (an unknown flag, a refused token, a dead Unleash, an environment the
//! provider does not map).

use std::net::TcpListener;

use serde_json::json;

use crate::common::setup::{HEX, OLD, SECRET, artifact, release};
use crate::common::unleash::Unleash;
use crate::common::{Run, Setup};

pub(crate) const ADMIN_SECRET: &str = "UNLEASH_TOKEN";

/// A plan whose production deploys, then runs `steps` (YAML list items, indented by 6);
/// `at5` and `at25` are analyses reading the platform's stats for `v2` and `v2-25`.
pub(crate) fn plan(api: &str, unleash_url: &str, environments: &str, steps: &str) -> String {
    format!(
        r#"version: 1
app: checkout
artifact: {{ name: ghcr.io/acme/checkout }}
providers:
  deploy:
    platform:
      type: http
      request:
        url: "{api}/deploy/{{{{ env.name }}}}"
        body: {{ image: "{{{{ artifact.ref }}}}", weight: "{{{{ step.weight }}}}" }}
      verify_digest: '.digest'
  metrics:
    stats: {{ type: http, request: {{ url: "{api}/stats/{{{{ release.version }}}}" }}, value: '.error_rate' }}
    stats25: {{ type: http, request: {{ url: "{api}/stats/{{{{ release.version }}}}-25" }}, value: '.error_rate' }}
  flags:
    unleash:
      type: unleash
      url: "{unleash_url}"
      token: "{{{{ secret.{ADMIN_SECRET} }}}}"
      project: default
      environments: {{ {environments} }}
environments:
  - name: production
    deploy: platform
    steps:
      - deploy: {{}}
{steps}analyses:
  at5:
    interval: 0s
    count: 1
    metrics:
      - {{ name: error-rate, provider: stats, max: 0.01 }}
  at25:
    interval: 0s
    count: 1
    metrics:
      - {{ name: error-rate, provider: stats25, max: 0.01 }}
"#
    )
}

pub(crate) fn ramp(flag: &str) -> String {
    format!(
        "      - exec: {{ command: [\"true\"], undo: {{ command: [\"true\"] }} }}\n      - flag: {{ name: {flag}, rollout: 5 }}\n      - analysis: at5\n      - flag: {{ name: {flag}, rollout: 25 }}\n      - analysis: at25\n      - flag: {{ name: {flag}, rollout: 100 }}\n"
    )
}

pub(crate) struct Rig {
    pub(crate) s: Setup,
    pub(crate) unleash: Unleash,
}

pub(crate) fn rig(unleash: Unleash, url: &str, environments: &str, steps: &str) -> Rig {
    let s = Setup::with_plan(|platform| plan(&platform.url(), url, environments, steps));
    s.platform.set_stats("v2", json!({ "error_rate": 0.0 }));
    s.platform.set_stats("v2-25", json!({ "error_rate": 0.0 }));
    Rig { s, unleash }
}

/// A plan ramping its own new flag in production against the shared Unleash.
pub(crate) fn ramp_rig() -> (Rig, String) {
    let unleash = Unleash::shared();
    let flag = unleash.new_flag("ramp");
    let url = unleash.url.clone();
    (
        rig(unleash, &url, "production: production", &ramp(&flag)),
        flag,
    )
}

impl Rig {
    pub(crate) fn relctl(&self, args: &[&str]) -> Run {
        let token = self.unleash.admin.clone();
        self.s.env.run_with(args, |c| {
            c.env("DEPLOY_TOKEN", SECRET)
                .env(ADMIN_SECRET, token)
                .env("RELCTL_BACKOFF_MS", "1");
        })
    }

    pub(crate) fn promote(&self) -> Run {
        self.relctl(&["promote", "--artifact", &artifact(HEX), "--version", "v2"])
    }

    pub(crate) fn record(&self) -> String {
        self.s
            .record_file(&relctl::format::release_path("checkout", &release(HEX)))
    }
}

/// The `(event, step)` of each event of a release file, in order.
pub(crate) fn steps_of(record: &str) -> Vec<(String, Option<usize>)> {
    let mut out: Vec<(String, Option<usize>)> = Vec::new();
    for line in record.lines() {
        let line = line.trim().trim_start_matches("- ");
        if let Some(event) = line.strip_prefix("event: ") {
            out.push((event.to_string(), None));
        } else if let (Some(step), Some(last)) = (line.strip_prefix("step: "), out.last_mut()) {
            last.1 = last.1.or(step.parse().ok());
        }
    }
    out
}

#[test]
fn a_flag_ramps_to_100_percent_with_analyses_between_and_each_change_recorded() {
    let (r, flag) = ramp_rig();
    assert_eq!(r.unleash.exposure(&flag), (false, vec![]));
    let plan = r.relctl(&["plan", "--artifact", &artifact(HEX)]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    for percent in [5, 25, 100] {
        assert!(
            plan.stdout.contains(&format!(
                "flag {flag} {percent}% (flag provider unleash, its environment production;"
            )),
            "{}",
            plan.stdout
        );
    }
    let run = r.promote();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        r.unleash.exposure(&flag),
        (true, vec!["flexibleRollout 100".to_string()]),
        "the flag ends on for everyone, with one strategy (no hidden one beside it)"
    );
    let record = r.record();
    for percent in [5, 25, 100] {
        assert!(
            record.contains(&format!("action: flag {flag} {percent}%")),
            "{record}"
        );
    }
    assert_eq!(record.matches("state: on at").count(), 3, "{record}");
    assert!(
        !record.contains(&r.unleash.admin),
        "the token is never recorded"
    );
    assert!(!run.stderr.contains(&r.unleash.admin), "{}", run.stderr);
    let status = r.relctl(&["status"]);
    assert!(
        status
            .stdout
            .contains(&format!("flags in production: {flag} on at 100%")),
        "{}",
        status.stdout
    );
    let json = r.relctl(&["status", "--output", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).expect("status JSON");
    assert_eq!(
        json["environments"][0]["flags"],
        json!([{ "flag": flag, "state": "on at 100%", "enabled": true }])
    );
}

#[test]
fn a_failed_analysis_at_25_percent_puts_the_flag_back_exactly_as_it_was_before_anything_else() {
    let (r, flag) = ramp_rig();
    // Before the release: on for the QA team only, by a strategy a person set.
    r.unleash.add_strategy(
        &flag,
        json!({
            "name": "flexibleRollout",
            "parameters": { "rollout": "100", "stickiness": "default", "groupId": flag },
            "constraints": [{ "contextName": "userId", "operator": "IN", "values": ["qa@acme.test"] }],
        }),
    );
    r.unleash.switch(&flag, true);
    let before = r.unleash.seen_by_clients(&flag);
    let qa_only = (true, vec!["flexibleRollout 100".to_string()]);
    assert_eq!(r.unleash.exposure(&flag), qa_only);
    r.s.platform
        .set_stats("v2-25", json!({ "error_rate": 0.5 }));
    let run = r.promote();
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        r.unleash.seen_by_clients(&flag)["strategies"],
        before["strategies"],
        "the flag's strategies are as before the release"
    );
    assert_eq!(r.unleash.exposure(&flag), qa_only);
    // The flag steps (3 and 5 in the plan, 2 and 4 in the record) are put back first,
    // then the exec step's undo.
    let undone: Vec<Option<usize>> = steps_of(&r.record())
        .into_iter()
        .filter(|(e, _)| e == "undone")
        .map(|(_, step)| step)
        .collect();
    assert_eq!(undone, vec![Some(4), Some(2), Some(1)], "{}", r.record());
}

#[test]
fn an_unknown_flag_stops_the_release_with_exit_1_naming_it() {
    let unleash = Unleash::shared();
    let url = unleash.url.clone();
    let r = rig(
        unleash,
        &url,
        "production: production",
        "      - flag: { name: no-such-flag-anywhere, rollout: 5 }\n",
    );
    let run = r.promote();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("flag `no-such-flag-anywhere`: Unleash has no flag `no-such-flag-anywhere` in project `default`"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_environment_unleash_does_not_have_is_exit_1_naming_it() {
    let unleash = Unleash::shared();
    let flag = unleash.new_flag("env");
    let url = unleash.url.clone();
    let r = rig(
        unleash,
        &url,
        "production: prod-eu",
        &format!("      - flag: {{ name: {flag}, enabled: true }}\n"),
    );
    let run = r.promote();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "flag `{flag}`: Unleash has no environment `prod-eu` in project `default` (its environments: development, production)"
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn a_refused_token_is_exit_1_with_unleash_s_answer_and_the_token_masked() {
    let unleash = Unleash::shared();
    let flag = unleash.new_flag("token");
    let url = unleash.url.clone();
    let r = rig(
        unleash,
        &url,
        "production: production",
        &format!("      - flag: {{ name: {flag}, rollout: 5 }}\n"),
    );
    let wrong = "*:*.not-a-token-unleash-knows";
    let run = r.s.env.run_with(
        &["promote", "--artifact", &artifact(HEX), "--version", "v2"],
        |c| {
            c.env("DEPLOY_TOKEN", SECRET).env(ADMIN_SECRET, wrong);
        },
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "flag `{flag}`: Unleash at {url} refused the token (HTTP 401"
        )),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(wrong), "{}", run.stderr);
    assert_eq!(r.unleash.exposure(&flag), (false, vec![]));
}

#[test]
fn a_dead_unleash_is_exit_1_saying_it_did_not_answer() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let dead = format!("http://127.0.0.1:{port}");
    let s = Setup::with_plan(|platform| {
        plan(
            &platform.url(),
            &dead,
            "production: production",
            "      - flag: { name: new-checkout, enabled: false }\n",
        )
    });
    let run = s.env.run_with(
        &["promote", "--artifact", &artifact(HEX), "--version", "v2"],
        |c| {
            c.env("DEPLOY_TOKEN", SECRET)
                .env(ADMIN_SECRET, "dead-token");
        },
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "flag `new-checkout`: Unleash at {dead} did not answer"
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn validate_refuses_a_flag_step_in_an_environment_the_provider_does_not_map() {
    let s = Setup::with_plan(|platform| {
        plan(
            &platform.url(),
            "http://127.0.0.1:1",
            "staging: development",
            "      - flag: { name: new-checkout, rollout: 5 }\n",
        )
    });
    let run = s.relctl(&["validate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "flag step `new-checkout` is in environment `production`, which the flag provider's `environments` does not map"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn rollback_flags_only_turns_the_flag_off_and_leaves_the_code_live() {
    let (r, flag) = ramp_rig();
    let run = r.promote();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        r.unleash.exposure(&flag),
        (true, vec!["flexibleRollout 100".to_string()])
    );
    let run = r.relctl(&[
        "rollback",
        "--env",
        "production",
        "--flags-only",
        "--reason",
        "checkout errors",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        r.unleash.exposure(&flag),
        (false, vec![]),
        "clients see the flag as it was before the release: off, no strategy"
    );
    assert!(
        run.stderr
            .contains(&format!("put back {flag} in production in"))
            && run.stderr.contains("stays live (nothing redeployed)"),
        "{}",
        run.stderr
    );
    assert_eq!(
        r.s.platform.running("production"),
        Some((artifact(HEX), 100)),
        "the code stayed"
    );
    let record = r.record();
    assert!(record.contains("event: flags_restored"), "{record}");
    let status = r.relctl(&["status", "--env", "production"]);
    assert!(
        status.stdout.contains(&release(HEX))
            && status
                .stdout
                .contains(&format!("flags in production: {flag} off")),
        "still live, the flag off: {}",
        status.stdout
    );
    // Again: nothing left to put back.
    let again = r.relctl(&["rollback", "--env", "production", "--flags-only"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stderr.contains("nothing done"), "{}", again.stderr);
}

#[test]
fn rollback_puts_the_flags_back_before_it_redeploys_what_was_live() {
    let unleash = Unleash::shared();
    let flag = unleash.new_flag("rollback");
    let url = unleash.url.clone();
    // v1 went live under a plan without flags; v2's plan ramps the flag.
    let r = rig(unleash, &url, "production: production", "");
    let v1 = r.relctl(&["promote", "--artifact", &artifact(OLD), "--version", "v1"]);
    assert_eq!(v1.code, 0, "{}", v1.stderr);
    r.s.env.write(
        "release.yaml",
        plan(
            &r.s.platform.url(),
            &url,
            "production: production",
            &ramp(&flag),
        ),
    );
    let run = r.promote();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = r.relctl(&["rollback", "--env", "production", "--reason", "bad"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(r.unleash.exposure(&flag), (false, vec![]));
    assert_eq!(
        r.s.platform.running("production"),
        Some((artifact(OLD), 100))
    );
    let events: Vec<(String, Option<usize>)> = steps_of(&r.record())
        .into_iter()
        .skip_while(|(e, _)| e != "rollback_started")
        .collect();
    let names: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(
        names,
        [
            "rollback_started",
            "undone",
            "undone",
            "undone",
            "undone",
            "rolled_back"
        ],
        "{}",
        r.record()
    );
    let undone: Vec<Option<usize>> = events[1..5].iter().map(|(_, s)| *s).collect();
    assert_eq!(undone, [Some(6), Some(4), Some(2), Some(1)], "flags first");
}

#[test]
fn the_demo_ramps_a_flag_then_pulls_the_kill_switch_with_nothing_installed() {
    let env = crate::common::TestEnv::new();
    let dir = env.path().join("records");
    let run = env.run(&["demo", "--dir", dir.to_str().unwrap_or_default()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ten = run.stderr.find("flag new-checkout 10% done");
    let hundred = run.stderr.find("flag new-checkout 100% done");
    let killed = run.stderr.find("flags put back in");
    assert!(
        ten.is_some() && ten < hundred && hundred < killed,
        "the ramp, then the kill switch: {}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("put back new-checkout in production in"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("flags in production: new-checkout off"),
        "{}",
        run.stdout
    );
    let production = run
        .stdout
        .lines()
        .find(|l| l.starts_with("production"))
        .unwrap_or_default();
    assert!(
        production.contains("v2.0.0"),
        "the code stayed: {}",
        run.stdout
    );
}

#[test]
fn a_kill_switch_that_unleash_refuses_is_exit_1_and_the_next_one_puts_the_flag_back() {
    let (r, flag) = ramp_rig();
    let run = r.promote();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let refused =
        r.s.env
            .run_with(&["rollback", "--env", "production", "--flags-only"], |c| {
                c.env(ADMIN_SECRET, "*:*.not-a-token-unleash-knows");
            });
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains(&format!(
            "putting the flags back in production failed: flag `{flag}`: Unleash at {} refused the token",
            r.unleash.url
        )),
        "{}",
        refused.stderr
    );
    assert_eq!(
        r.unleash.exposure(&flag),
        (true, vec!["flexibleRollout 100".to_string()])
    );
    let run = r.relctl(&["rollback", "--env", "production", "--flags-only"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(r.unleash.exposure(&flag), (false, vec![]));
}

#[test]
fn a_token_that_an_error_answer_splits_at_its_cut_shows_nowhere() {
    let token = "*:*.d4c539d14bcf6bd0a1b2c3d4e5f60718";
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let url = format!("http://{}", listener.local_addr().expect("its address"));
    let body = format!("{}{token}", "x".repeat(180));
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            let answer = format!(
                "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    let s = Setup::with_plan(|platform| {
        plan(
            &platform.url(),
            &url,
            "production: production",
            "      - flag: { name: new-checkout, rollout: 5 }\n",
        )
    });
    let run = s.env.run_with(
        &["promote", "--artifact", &artifact(HEX), "--version", "v2"],
        |c| {
            c.env("DEPLOY_TOKEN", SECRET).env(ADMIN_SECRET, token);
        },
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("refused the token"), "{}", run.stderr);
    let record = s.env.git(&["log", "-p", "relctl/records"]);
    // No run of 8 of the token's characters, wherever the cut fell.
    for start in 0..token.len() - 8 {
        let piece = &token[start..start + 8];
        assert!(!run.stderr.contains(piece), "{piece} in {}", run.stderr);
        assert!(!run.stdout.contains(piece), "{piece} in {}", run.stdout);
        assert!(!record.contains(piece), "{piece} in the record");
    }
}

#[test]
fn a_flag_whose_strategies_hold_a_secret_is_left_alone_and_the_secret_recorded_nowhere() {
    let unleash = Unleash::shared();
    let flag = unleash.new_flag("secret");
    unleash.add_strategy(
        &flag,
        json!({
            "name": "flexibleRollout",
            "parameters": { "rollout": "5", "stickiness": "default", "groupId": unleash.admin.clone() }
        }),
    );
    let url = unleash.url.clone();
    let r = rig(
        unleash,
        &url,
        "production: production",
        &format!("      - flag: {{ name: {flag}, rollout: 25 }}\n"),
    );
    let run = r.promote();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("its strategies in Unleash hold a secret of this plan"),
        "{}",
        run.stderr
    );
    let admin = r.unleash.admin.clone();
    let record = r.s.env.git(&["log", "-p", "relctl/records"]);
    assert!(!record.contains(&admin), "the token is in the record");
    assert!(!run.stderr.contains(&admin) && !run.stdout.contains(&admin));
}
