//! Rollbacks and aborts that must not be fooled: one person's rollbacks racing in one
//! clone, a deploy the platform took but relctl did not confirm, a platform that
//! answers a known `Idempotency-Key` from its cache, and the refusals around them.

use crate::common::ok;
use crate::common::platform::Platform;
use crate::common::setup::{CANARY, HEX, OLD, Setup, artifact, release};
use crate::common::wait::finish;
use crate::reliability::{env_file, kinds, release_file};
use crate::runbook::{production_deploys_since, spawn_rollback_with};

const ALICE: &str = "alice@acme.io";
/// 63 zeros and a 1: a digest no release here has.
const Z: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000001";

/// A 64-hex digest whose release id (its first 12) differs for each `n`.
fn digest(n: u8) -> String {
    format!("{:02x}{}", 0xc0 + n, "0".repeat(62))
}

/// Deploy calls the platform carried out in `env` from the `n`th on.
fn applied_since(platform: &Platform, env: &str, n: usize) -> Vec<(String, u64)> {
    platform.applied()[n..]
        .iter()
        .filter(|(e, _, _)| e == env)
        .map(|(_, image, weight)| (image.clone(), *weight))
        .collect()
}

/// Rounds of one incident each: a new release goes live, then the same engineer's three
/// terminals roll production back at the same moment (with `extra` arguments). Each time
/// all three exit 0, one rolls back, the others report it, the platform sees one redeploy.
fn race_three_rollbacks_in_one_clone(extra: &[&str]) {
    let s = Setup::new("", CANARY);
    ok(&s.promote(OLD, &["--version", "1.0.0"]));
    for round in 1..=4 {
        let bad = digest(round);
        ok(&s.promote(&bad, &["--version", &format!("1.{round}.0")]));
        let calls = s.platform.deploys().len();
        let children = [0; 3].map(|_| spawn_rollback_with(&s.env, s.env.path(), ALICE, extra));
        let runs = children.map(finish);
        let all = || {
            runs.iter()
                .map(|r| r.stderr.as_str())
                .collect::<Vec<_>>()
                .join("\n---\n")
        };
        for run in &runs {
            ok(run);
        }
        let rolled = runs
            .iter()
            .filter(|r| r.stderr.contains("rolled production back from"))
            .count();
        assert_eq!(rolled, 1, "round {round}:\n{}", all());
        for other in runs
            .iter()
            .filter(|r| !r.stderr.contains("rolled production back from"))
        {
            let reported = other.stderr.contains(&format!(
                "production is already on {} (1.0.0): rolled back from {}",
                release(OLD),
                release(&bad)
            )) || other.stderr.contains(&format!(
                "production is being rolled back from {} by {ALICE}",
                release(&bad)
            ));
            assert!(reported, "round {round}:\n{}", all());
            assert!(other.stderr.contains("nothing deployed"), "{}", all());
        }
        assert_eq!(
            production_deploys_since(&s.platform, calls),
            [(artifact(OLD), 100)],
            "round {round}: one redeploy\n{}",
            all()
        );
        let file = release_file(s.env.path(), &release(&bad));
        let started = kinds(&file)
            .iter()
            .filter(|k| **k == "rollback_started")
            .count();
        assert_eq!(started, 1, "round {round}: {:?}", kinds(&file));
        let production = env_file(s.env.path(), "production");
        assert_eq!(production.lock, None);
        assert_eq!(production.live.map(|l| l.release), Some(release(OLD)));
    }
}

#[test]
fn three_rollbacks_by_one_person_in_one_clone_deploy_once() {
    race_three_rollbacks_in_one_clone(&[]);
}

#[test]
fn three_rollbacks_to_one_release_in_one_clone_deploy_once() {
    race_three_rollbacks_in_one_clone(&["--to", &release(OLD)]);
}

#[test]
fn an_abort_after_a_deploy_the_platform_did_not_confirm_redeploys_what_was_live() {
    let s = Setup::new("", CANARY);
    ok(&s.promote(OLD, &["--version", "1.0.0"]));
    // The platform takes HEX's deploy into dev but reports another digest: relctl stops.
    s.platform.report_digest(Z);
    let run = s.promote(HEX, &["--version", "1.1.0"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(s.platform.running("dev"), Some((artifact(HEX), 100)));
    s.platform.report_true_digest();
    let calls = s.platform.applied().len();

    let run = s.relctl(&["abort", &release(HEX), "--reason", "digest mismatch"]);
    ok(&run);
    assert!(
        run.stderr
            .contains(&format!("dev rolled back to {}", release(OLD))),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("nothing was deployed"),
        "{}",
        run.stderr
    );
    assert_eq!(
        applied_since(&s.platform, "dev", calls),
        [(artifact(OLD), 100)]
    );
    assert_eq!(s.platform.running("dev"), Some((artifact(OLD), 100)));

    // What the record now says is what the platform runs: a rollback reports it.
    let calls = s.platform.applied().len();
    let run = s.relctl(&["rollback", "--env", "dev"]);
    ok(&run);
    assert!(
        run.stderr.contains(&format!(
            "dev is already on {} (1.0.0): rolled back from {}",
            release(OLD),
            release(HEX)
        )),
        "{}",
        run.stderr
    );
    assert_eq!(s.platform.applied().len(), calls);
}

#[test]
fn a_rollback_of_a_deploy_whose_wait_failed_redeploys_what_was_live() {
    let s = Setup::new("", CANARY);
    ok(&s.promote(OLD, &["--version", "1.0.0"]));
    ok(&s.promote(HEX, &["--version", "1.1.0", "--to", "staging"]));
    // Production's canary is accepted but never becomes ready: the wait times out.
    s.platform.never_ready();
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 10)));
    s.platform.ready_again();
    let calls = s.platform.applied().len();
    let run = s.relctl(&["abort", &release(HEX)]);
    ok(&run);
    assert_eq!(
        applied_since(&s.platform, "production", calls),
        [(artifact(OLD), 100)],
        "the abort redeployed what was live before"
    );
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
    let status = s.relctl(&["status", "--env", "production"]);
    assert!(
        status
            .stdout
            .contains(&format!("rolled back (from {})", release(HEX))),
        "{}",
        status.stdout
    );
}

#[test]
fn a_forced_promotion_after_a_rollback_is_deployed_by_a_platform_that_honours_keys() {
    let s = Setup::new("", CANARY);
    s.platform.honour_idempotency_keys();
    ok(&s.promote(OLD, &["--version", "1.0.0"]));
    ok(&s.promote(HEX, &["--version", "1.1.0"]));
    ok(&s.relctl(&["rollback", "--env", "production", "--reason", "5xx"]));
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));

    let calls = s.platform.applied().len();
    let run = s.promote(HEX, &["--force", "--reason", "fixed upstream"]);
    ok(&run);
    assert_eq!(
        applied_since(&s.platform, "production", calls),
        [(artifact(HEX), 10), (artifact(HEX), 100)],
        "the second visit's calls were new to the platform"
    );
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 100)));

    // A second incident rolls HEX back to OLD again: a new redeploy, not a cached one.
    let calls = s.platform.applied().len();
    ok(&s.relctl(&["rollback", "--env", "production", "--reason", "5xx again"]));
    assert_eq!(
        applied_since(&s.platform, "production", calls),
        [(artifact(OLD), 100)]
    );
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
    let keys: Vec<String> = s
        .platform
        .requests()
        .iter()
        .filter(|r| r.path == "/deploy/production")
        .map(|r| r.header("idempotency-key").unwrap_or_default().to_string())
        .collect();
    let id = release(HEX);
    let to = release(OLD);
    assert_eq!(
        keys[2..],
        [
            format!("{id}/production/1/0"),
            format!("{id}/production/1/1"),
            format!("{id}/production/1/rollback/{to}"),
            format!("{id}/production/2/0"),
            format!("{id}/production/2/1"),
            format!("{id}/production/2/rollback/{to}"),
        ]
    );
}

#[test]
fn plan_shows_the_keys_promote_sends() {
    let s = Setup::new("", CANARY);
    ok(&s.promote(OLD, &["--version", "1.0.0"]));
    ok(&s.promote(HEX, &["--version", "1.1.0", "--to", "staging"]));
    let run = s.relctl(&[
        "--output",
        "json",
        "plan",
        "--artifact",
        &artifact(HEX),
        "--to",
        "production",
    ]);
    ok(&run);
    let planned: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON object");
    let keys: Vec<&str> = planned["actions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["request"]["idempotency_key"].as_str())
        .collect();
    ok(&s.promote(HEX, &[]));
    let sent: Vec<String> = s
        .platform
        .requests()
        .iter()
        .filter(|r| r.path == "/deploy/production")
        .map(|r| r.header("idempotency-key").unwrap_or_default().to_string())
        .skip(2)
        .collect();
    let id = release(HEX);
    assert_eq!(
        sent,
        [
            format!("{id}/production/1/0"),
            format!("{id}/production/1/1")
        ]
    );
    assert_eq!(keys, sent, "{}", run.stdout);
}

#[test]
fn abort_of_a_live_release_is_refused_and_points_at_rollback() {
    let s = Setup::new("", CANARY);
    ok(&s.promote(OLD, &["--version", "1.0.0"]));
    let before = s.env.git(&["rev-parse", "relctl/records"]);
    let run = s.relctl(&["abort", &release(OLD)]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "error: {} is not under way: it is live in dev, staging, production",
            release(OLD)
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("hint: to take it out of production: relctl rollback --env production"),
        "{}",
        run.stderr
    );
    assert_eq!(
        s.env.git(&["rev-parse", "relctl/records"]),
        before,
        "nothing recorded"
    );
    assert!(!s.events(OLD).contains(&"aborted".to_string()));
}

#[test]
fn rollback_to_hint_lists_only_releases_it_would_accept() {
    let s = Setup::new("", CANARY);
    let first = digest(1);
    ok(&s.promote(&first, &["--version", "0.9.0"]));
    ok(&s.promote(OLD, &["--version", "1.0.0"]));
    ok(&s.promote(HEX, &["--version", "1.1.0"]));
    // HEX is rolled back (rejected in production), then promoted past it on purpose.
    ok(&s.relctl(&["rollback", "--env", "production"]));
    let third = digest(2);
    ok(&s.promote(&third, &["--version", "1.2.0"]));
    let run = s.relctl(&[
        "rollback",
        "--env",
        "production",
        "--to",
        "checkout-ffffffffffff",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let hint = run
        .stderr
        .lines()
        .find(|l| l.starts_with("hint: candidates: "))
        .unwrap_or_else(|| panic!("no candidates hint:\n{}", run.stderr));
    assert!(hint.contains(&release(OLD)), "{hint}");
    assert!(hint.contains(&release(&first)), "{hint}");
    assert!(!hint.contains(&release(HEX)), "{hint}");
}
