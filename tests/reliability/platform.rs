//! Deploy platform faults. A deploy that cannot be confirmed stops the release with
//! exit 1 and keeps the environment's lock; the record says which step and why; the
//! retries and a later `resume` send the very same request under the same idempotency
//! key, so a platform that did act can recognise the repeat.

use relctl::engine::EventKind;
use serde_json::Value;

use super::fault_server::{Fault, FaultServer};
use super::{deploys_by_key, env_file, kinds, last, release_file, step_error};
use crate::common::Run;
use crate::common::setup::{CANARY, HEX, OLD, Setup, artifact, plan, release};

/// The three-environment plan of tests/common/setup.rs, its calls going through a fault
/// server, with a 1s request timeout (each attempt) and 3 attempts per call.
struct Rig {
    s: Setup,
    faults: FaultServer,
}

impl Rig {
    fn new() -> Rig {
        let s = Setup::new("", CANARY);
        let faults = FaultServer::start(s.platform.addr);
        s.env.write("release.yaml", rig_plan(&s, &faults.url()));
        Rig { s, faults }
    }

    fn promote(&self) -> Run {
        self.s.promote(HEX, &[])
    }

    fn resume(&self) -> Run {
        self.s.relctl(&["resume", &release(HEX)])
    }

    fn record(&self) -> relctl::engine::ReleaseFile {
        release_file(self.s.env.path(), &release(HEX))
    }

    fn dev_lock(&self) -> Option<String> {
        env_file(self.s.env.path(), "dev").lock.map(|l| l.release)
    }

    fn key(&self, env_step: &str) -> String {
        format!("{}/{env_step}", release(HEX))
    }

    /// What a finished release looks like: live everywhere, every lock free.
    fn assert_finished(&self) {
        assert_eq!(
            self.s.platform.running("production"),
            Some((artifact(HEX), 100))
        );
        let file = self.record();
        assert_eq!(kinds(&file).iter().filter(|k| **k == "live").count(), 3);
        for env in ["dev", "staging", "production"] {
            assert_eq!(env_file(self.s.env.path(), env).lock, None, "{env}");
        }
    }
}

fn rig_plan(s: &Setup, api: &str) -> String {
    plan(&s.platform, "", CANARY)
        .replace(&s.platform.url(), api)
        .replace("timeout: 5s", "timeout: 1s")
}

fn expect(run: &Run, code: i32, needles: &[&str]) {
    assert_eq!(
        run.code, code,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    for needle in needles {
        assert!(
            run.stderr.contains(needle),
            "expected `{needle}` in:\n{}",
            run.stderr
        );
    }
}

/// The `attempts` a deploy step's `step_done` recorded.
fn attempts(file: &relctl::engine::ReleaseFile, env: &str) -> u64 {
    file.events
        .iter()
        .find_map(|e| match &e.kind {
            relctl::engine::EventKind::StepDone {
                detail, step: 0, ..
            } if e.env.as_deref() == Some(env) => detail["attempts"].as_u64(),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no step_done for {env} step 1"))
}

/// The record of a deploy that gave up in dev: the intent came first, the failure is
/// not a gate's (no rollback), and dev stays locked by the release.
fn assert_stopped_in_dev(r: &Rig, error_needle: &str) {
    let file = r.record();
    assert_eq!(
        kinds(&file),
        ["started", "entered", "intent", "step_failed"],
        "the record"
    );
    let (error, gate) = step_error(&file);
    assert!(!gate, "a deploy failure is not a gate's decision");
    assert!(
        error.contains(error_needle),
        "`{error_needle}` not in {error}"
    );
    assert_eq!(r.dev_lock(), Some(release(HEX)), "dev stays locked");
    let status = r.s.relctl(&["--output", "json", "status", "--env", "dev"]);
    let status: Value = serde_json::from_str(&status.stdout).expect("status JSON");
    assert_eq!(
        status["environments"][0]["state"],
        format!("paused (failed): {}", release(HEX))
    );
}

#[test]
fn a_500_on_every_attempt_fails_with_exit_1_and_resume_sends_the_same_request() {
    let r = Rig::new();
    r.s.platform.fail_next_deploys(&[500, 500, 500]);
    let run = r.promote();
    let url = r.faults.url();
    expect(
        &run,
        1,
        &[
            &format!("POST {url}/deploy/dev: 500 Internal Server Error after 3 attempts"),
            &format!(
                "hint: the record says where it stopped; fix the cause and run `relctl resume {}`",
                release(HEX)
            ),
        ],
    );
    assert_stopped_in_dev(&r, "500 Internal Server Error after 3 attempts");
    assert_eq!(deploys_by_key(&r.s.platform), [(r.key("dev/1/0"), 3)]);
    assert_eq!(r.s.platform.running("dev"), None);

    let run = r.resume();
    expect(&run, 0, &[]);
    assert_eq!(
        deploys_by_key(&r.s.platform),
        [
            (r.key("dev/1/0"), 4),
            (r.key("staging/1/0"), 1),
            (r.key("production/1/0"), 1),
            (r.key("production/1/1"), 1)
        ]
    );
    r.assert_finished();
}

#[test]
fn a_503_then_success_is_retried_and_recorded_as_two_attempts() {
    let r = Rig::new();
    r.s.platform.fail_next_deploys(&[503]);
    expect(&r.promote(), 0, &[]);
    let file = r.record();
    assert_eq!(attempts(&file, "dev"), 2);
    assert_eq!(attempts(&file, "staging"), 1);
    assert!(!kinds(&file).contains(&"step_failed"));
    assert_eq!(deploys_by_key(&r.s.platform)[0], (r.key("dev/1/0"), 2));
    r.assert_finished();
}

#[test]
fn a_refused_connection_is_retried_then_fails_and_resume_after_the_fix_finishes() {
    let r = Rig::new();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a port");
    // The listener is gone: nothing listens there any more.
    let api = format!("http://{closed}");
    r.s.env.write("release.yaml", rig_plan(&r.s, &api));
    let run = r.promote();
    expect(
        &run,
        1,
        &[&format!("POST {api}/deploy/dev:"), "after 3 attempts"],
    );
    assert!(
        run.stderr.to_lowercase().contains("connection refused"),
        "{}",
        run.stderr
    );
    assert_stopped_in_dev(&r, "after 3 attempts");
    assert!(step_error(&r.record()).0.to_lowercase().contains("refused"));
    assert!(r.s.platform.requests().is_empty(), "nothing reached it");

    // The plan is fixed (the URL) and the release resumed from the record.
    r.s.env
        .write("release.yaml", rig_plan(&r.s, &r.faults.url()));
    expect(&r.resume(), 0, &[]);
    assert_eq!(deploys_by_key(&r.s.platform)[0], (r.key("dev/1/0"), 1));
    r.assert_finished();
}

#[test]
fn a_platform_that_never_answers_times_out_every_attempt() {
    let r = Rig::new();
    r.faults.always("/deploy/dev", Fault::Hang);
    let url = r.faults.url();
    expect(
        &r.promote(),
        1,
        &[&format!(
            "POST {url}/deploy/dev: no complete answer within 1s after 3 attempts"
        )],
    );
    assert_stopped_in_dev(&r, "no complete answer within 1s after 3 attempts");
    assert_eq!(r.faults.count("/deploy/dev", Fault::Hang), 3);
    assert!(r.s.platform.requests().is_empty(), "nothing reached it");

    r.faults.heal();
    expect(&r.resume(), 0, &[]);
    assert_eq!(deploys_by_key(&r.s.platform)[0], (r.key("dev/1/0"), 1));
    r.assert_finished();
}

#[test]
fn a_reset_mid_response_is_retried_with_the_same_key_and_body() {
    let r = Rig::new();
    r.faults.always("/deploy/dev", Fault::ResetMidResponse);
    let run = r.promote();
    expect(&run, 1, &["after 3 attempts"]);
    assert_stopped_in_dev(&r, "after 3 attempts");
    // The platform acted each time; only its answers were lost. Same key, same body.
    assert_eq!(deploys_by_key(&r.s.platform), [(r.key("dev/1/0"), 3)]);
    assert_eq!(r.s.platform.running("dev"), Some((artifact(HEX), 100)));

    // Once the network heals, resume repeats the unconfirmed step under its key.
    r.faults.heal();
    r.faults.next("/deploy/staging", &[Fault::ResetMidResponse]);
    expect(&r.resume(), 0, &[]);
    let file = r.record();
    assert_eq!(attempts(&file, "staging"), 2, "one reset, then an answer");
    assert_eq!(
        deploys_by_key(&r.s.platform)[..2],
        [(r.key("dev/1/0"), 4), (r.key("staging/1/0"), 2)]
    );
    r.assert_finished();
}

#[test]
fn a_body_dribbled_past_the_timeout_is_a_timeout_and_is_retried() {
    let r = Rig::new();
    r.faults.next("/deploy/dev", &[Fault::SlowBody]);
    expect(&r.promote(), 0, &[]);
    assert_eq!(r.faults.count("/deploy/dev", Fault::SlowBody), 1);
    assert_eq!(attempts(&r.record(), "dev"), 2);
    assert_eq!(deploys_by_key(&r.s.platform)[0], (r.key("dev/1/0"), 2));
    r.assert_finished();
}

#[test]
fn malformed_json_where_wait_and_verify_digest_need_it_fails_the_step() {
    // `wait` polls: an answer that is not JSON is never "ready"; the wait times out
    // and quotes the last answer.
    let r = Rig::new();
    r.faults.always("/deployments/dev", Fault::Malformed);
    let url = r.faults.url();
    expect(
        &r.promote(),
        1,
        &[
            &format!("GET {url}/deployments/dev: `.state == \"ready\"` still not true after"),
            r#"last: 200 OK: {"id": "dev", "state": "ready", "digest": "sha2"#,
        ],
    );
    assert_stopped_in_dev(&r, "still not true after");
    assert_eq!(deploys_by_key(&r.s.platform), [(r.key("dev/1/0"), 1)]);

    // The deploy call's own answer: `wait` needs `response.id` from it.
    let r = Rig::new();
    r.faults.next("/deploy/dev", &[Fault::Malformed]);
    expect(&r.promote(), 1, &["the deploy call's answer is not JSON"]);
    let (error, _) = step_error(&r.record());
    assert!(
        error.contains(r#"the deploy call's answer is not JSON, so `response` has nothing in it (it was: {"id": "dev", "state""#),
        "{error}"
    );
    assert_eq!(r.dev_lock(), Some(release(HEX)));

    // Without `wait`, `verify_digest` reads the deploy call's answer.
    let r = Rig::new();
    let no_wait: String = rig_plan(&r.s, &r.faults.url())
        .lines()
        .filter(|l| !l.trim_start().starts_with("wait:"))
        .map(|l| format!("{l}\n"))
        .collect();
    r.s.env.write("release.yaml", no_wait);
    r.faults.next("/deploy/dev", &[Fault::Malformed]);
    expect(
        &r.promote(),
        1,
        &["cannot read the running digest from the platform's answer"],
    );
    assert_stopped_in_dev(&r, "cannot read the running digest");
    r.faults.heal();
    expect(&r.resume(), 0, &[]);
    r.assert_finished();
}

#[test]
fn a_wrong_digest_fails_the_step_and_resume_finishes_once_the_platform_runs_it() {
    let r = Rig::new();
    r.s.platform.report_digest(&format!("sha256:{OLD}"));
    let expected = format!("the platform reports sha256:{OLD} running, expected sha256:{HEX}");
    expect(&r.promote(), 1, &[&expected]);
    assert_stopped_in_dev(&r, &expected);
    assert_eq!(deploys_by_key(&r.s.platform), [(r.key("dev/1/0"), 1)]);

    r.s.platform.report_true_digest();
    expect(&r.resume(), 0, &[]);
    let file = r.record();
    let verified = file.events.iter().any(|e| {
        matches!(&e.kind, relctl::engine::EventKind::StepDone { detail, .. }
            if e.env.as_deref() == Some("dev") && detail["verified"] == format!("sha256:{HEX}"))
    });
    assert!(verified, "{:?}", kinds(&file));
    assert_eq!(deploys_by_key(&r.s.platform)[0], (r.key("dev/1/0"), 2));
    assert!(matches!(
        last(&file, "live").env.as_deref(),
        Some("production")
    ));
    r.assert_finished();
}

#[test]
fn a_rollback_whose_redeploy_fails_stops_with_exit_1_and_resume_retries_it() {
    // production: a canary, then a feature flag call that is a gate.
    let steps = "      - deploy: { weight: 10 }\n      - http: { request: { method: PUT, url: \"{{ vars.api }}/flags/checkout-v2\", body: { enabled: true }, timeout: 1s, retries: 0 }, success: '.enabled == true' }\n      - deploy: {}\n";
    let s = Setup::new("", steps);
    let faults = FaultServer::start(s.platform.addr);
    let api = faults.url();
    s.env.write(
        "release.yaml",
        plan(&s.platform, "", steps)
            .replace(&s.platform.url(), &api)
            .replace("timeout: 5s", "timeout: 1s"),
    );
    expect(&s.promote(OLD, &[]), 0, &[]);

    // v2's flag call never answers (a gate failure), and the rollback's redeploy of
    // v1 gets 503s.
    faults.always("/flags/", Fault::Hang);
    faults.next(
        "/deploy/production",
        &[
            Fault::Pass,
            Fault::Status(503),
            Fault::Status(503),
            Fault::Status(503),
        ],
    );
    let run = s.promote(HEX, &[]);
    expect(
        &run,
        1,
        &[
            &format!(
                "rolling production back to {} failed: POST {api}/deploy/production: 503 Service Unavailable after 3 attempts",
                release(OLD)
            ),
            &format!("`relctl resume {}` retries the rollback", release(HEX)),
        ],
    );
    let file = release_file(s.env.path(), &release(HEX));
    let events = kinds(&file);
    assert_eq!(
        events[events.len() - 3..],
        ["step_failed", "rollback_started", "rollback_failed"]
    );
    match &last(&file, "rollback_failed").kind {
        EventKind::RollbackFailed { to, error } => {
            assert_eq!(to, &release(OLD));
            assert!(error.contains("503 Service Unavailable"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    let status = s.relctl(&["status", "--env", "production"]);
    assert!(
        status
            .stdout
            .contains(&format!("rollback failed: {}", release(HEX))),
        "{}",
        status.stdout
    );
    let (error, gate) = step_error(&file);
    assert!(
        gate && error.contains("no complete answer within 1s"),
        "{error}"
    );
    let production = env_file(s.env.path(), "production");
    assert_eq!(production.lock.map(|l| l.release), Some(release(HEX)));
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 10)));

    faults.heal();
    let run = s.relctl(&["resume", &release(HEX)]);
    expect(
        &run,
        3,
        &[&format!("{} was rolled back in production", release(HEX))],
    );
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
    let file = release_file(s.env.path(), &release(HEX));
    assert_eq!(kinds(&file).last(), Some(&"rolled_back"));
    assert_eq!(
        kinds(&file)
            .iter()
            .filter(|k| **k == "rollback_started")
            .count(),
        1,
        "the rollback was continued, not started again"
    );
    let production = env_file(s.env.path(), "production");
    assert_eq!(production.lock, None);
    assert_eq!(production.rejected, [release(HEX)]);
    // v2's flag call met the silent platform once (no retries); only v1's arrived.
    assert_eq!(faults.count("/flags/", Fault::Hang), 1);
}
