//! An environment of many targets promoted in waves: the plan's `targets` and `waves`,
//! their validation, what `relctl plan` shows, and a promotion against the platform
//! double that runs every step once per target, wave after wave, a bounded number at
//! once, each call with its own idempotency key.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::common::TestEnv;
use crate::common::platform::Platform;
use crate::common::setup::{HEX, OLD, Setup, artifact, release};

/// Target names `t01`…`tNN`.
pub(crate) fn names(count: usize) -> Vec<String> {
    (1..=count).map(|i| format!("t{i:02}")).collect()
}

/// `production` with `count` targets (each with a `region` var) in waves of `size`
/// targets, `parallel` at a time; `extra` goes at environment level, `after` (whole
/// environments) after it.
pub(crate) fn plan(
    platform: &Platform,
    count: usize,
    size: usize,
    parallel: u32,
    extra: &str,
) -> String {
    plan_then(platform, count, size, parallel, extra, "")
}

pub(crate) fn plan_then(
    platform: &Platform,
    count: usize,
    size: usize,
    parallel: u32,
    extra: &str,
    after: &str,
) -> String {
    let targets: String = names(count)
        .iter()
        .map(|t| format!("      - {{ name: {t}, vars: {{ region: r-{t} }} }}\n"))
        .collect();
    let waves: String = names(count)
        .chunks(size)
        .map(|chunk| {
            format!(
                "      - {{ targets: [{}], parallel: {parallel} }}\n",
                chunk.join(", ")
            )
        })
        .collect();
    format!(
        r#"version: 1
app: checkout
artifact: {{ name: ghcr.io/acme/checkout }}
vars: {{ api: "{url}" }}
providers:
  deploy:
    regional:
      type: http
      request:
        method: POST
        url: "{{{{ vars.api }}}}/deploy/{{{{ env.name }}}}.{{{{ target.name }}}}"
        headers: {{ Authorization: "Bearer {{{{ secret.DEPLOY_TOKEN }}}}" }}
        body: {{ image: "{{{{ artifact.ref }}}}", weight: "{{{{ step.weight }}}}", region: "{{{{ target.vars.region }}}}" }}
        timeout: 5s
        retries: 0
    single:
      type: http
      request:
        method: POST
        url: "{{{{ vars.api }}}}/deploy/{{{{ env.name }}}}"
        body: {{ image: "{{{{ artifact.ref }}}}", weight: "{{{{ step.weight }}}}" }}
        timeout: 5s
        retries: 0
environments:
  - name: production
    deploy: regional
{extra}    targets:
{targets}    waves:
{waves}{after}"#,
        url = platform.url()
    )
}

pub(crate) fn deploy_calls(platform: &Platform) -> Vec<crate::common::platform::Request> {
    platform
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/deploy/"))
        .collect()
}

#[test]
fn twelve_targets_in_three_waves_go_live_four_at_a_time_each_call_with_its_own_key() {
    let setup = Setup::with_plan(|p| plan(p, 12, 4, 4, ""));
    // Long enough that calls made together overlap at the platform.
    setup.platform.slow_deploys(Duration::from_millis(400));
    let run = setup.promote(HEX, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    let calls = deploy_calls(&setup.platform);
    let paths: Vec<&str> = calls.iter().map(|r| r.path.as_str()).collect();
    let expected: BTreeSet<String> = names(12)
        .iter()
        .map(|t| format!("/deploy/production.{t}"))
        .collect();
    assert_eq!(calls.len(), 12, "one deploy per target: {paths:?}");
    assert_eq!(
        paths.iter().map(|p| p.to_string()).collect::<BTreeSet<_>>(),
        expected
    );
    // Each target's own vars reached its call.
    for call in &calls {
        let target = call.path.trim_start_matches("/deploy/production.");
        assert_eq!(call.body["region"], format!("r-{target}"), "{call:?}");
    }
    let keys: BTreeSet<&str> = calls
        .iter()
        .filter_map(|r| r.header("idempotency-key"))
        .collect();
    assert_eq!(keys.len(), 12, "a key per target: {keys:?}");
    // Wave by wave: no call of a wave before every call of the wave before it.
    let wave_of = |path: &str| {
        let n: usize = path
            .trim_start_matches("/deploy/production.t")
            .parse()
            .unwrap_or(99);
        (n - 1) / 4
    };
    let waves: Vec<usize> = paths.iter().map(|p| wave_of(p)).collect();
    let mut sorted = waves.clone();
    sorted.sort();
    assert_eq!(waves, sorted, "calls in wave order: {paths:?}");
    let most = setup.platform.most_concurrent_deploys();
    assert!(
        (2..=4).contains(&most),
        "at most 4 at once, and more than one: {most}"
    );

    // One record: the environment is live, its lock released; every target's events
    // name it.
    let env_file = setup.record_file("apps/c/7/checkout/environments/production.yaml");
    assert!(
        env_file.contains(&format!("release: {}", release(HEX))),
        "{env_file}"
    );
    assert!(env_file.contains("lock: null"), "{env_file}");
    let release_file = setup.record_file(&relctl::format::release_path("checkout", &release(HEX)));
    for t in names(12) {
        assert!(
            release_file.contains(&format!("target: {t}")),
            "{t} in {release_file}"
        );
    }
    let events = setup.events(HEX);
    assert_eq!(
        events.iter().filter(|e| *e == "live").count(),
        13,
        "{events:?}"
    );
}

#[test]
fn plan_shows_the_waves_and_each_targets_call() {
    let setup = Setup::with_plan(|p| plan(p, 4, 2, 2, "    requires: { soak: 0s }\n"));
    let run = setup.relctl(&["plan", "--artifact", &artifact(HEX)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("wave 1/2: t01, t02 (2 at a time)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("wave 2/2: t03, t04"), "{}", run.stdout);
    assert!(
        run.stdout.contains("production/t04 step 1 deploy POST"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("/deploy/production.t04"),
        "{}",
        run.stdout
    );
}

/// `relctl validate` on `plan`: its exit code and stderr.
fn validate(plan: &str) -> (i32, String) {
    let env = TestEnv::new();
    env.write("release.yaml", plan);
    let run = env.run(&["validate"]);
    (run.code, run.stderr)
}

#[test]
fn mistakes_in_targets_and_waves_are_reported_with_their_place() {
    let platform = Platform::start();
    let good = plan(&platform, 3, 3, 2, "");
    let (code, stderr) = validate(&good);
    assert_eq!(code, 0, "{stderr}");

    let cases = [
        (
            "      - { targets: [t01, t02, t03], parallel: 2 }\n",
            "      - { targets: [t01, t02, t09], parallel: 2 }\n",
            "unknown target `t09`",
        ),
        (
            "      - { targets: [t01, t02, t03], parallel: 2 }\n",
            "      - { targets: [t01, t02], parallel: 2 }\n      - { targets: [t02, t03] }\n",
            "target `t02` stands in two waves of environment `production`",
        ),
        (
            "      - { name: t03, vars: { region: r-t03 } }\n",
            "      - { name: t02, vars: { region: r-t03 } }\n",
            "target `t02` of environment `production` is defined twice",
        ),
        (
            "parallel: 2 }",
            "parallel: 0 }",
            "`parallel` must be 1 or more",
        ),
        (
            "parallel: 2 }",
            "parallel: -1 }",
            "`parallel` must be 1 or more",
        ),
        (
            "parallel: 2 }",
            "parallel: 4294967296 }",
            "`parallel` must be a whole number from 0 to 4294967295",
        ),
        (
            "      - { targets: [t01, t02, t03], parallel: 2 }\n",
            "      - { targets: [t01, t01, t02, t03], parallel: 2 }\n",
            "target `t01` is named twice in one wave",
        ),
    ];
    for (from, to, message) in cases {
        let broken = good.replacen(from, to, 1);
        assert_ne!(broken, good, "{from}");
        let (code, stderr) = validate(&broken);
        assert_eq!(code, 2, "{message}: {stderr}");
        assert!(stderr.contains(message), "{message}: {stderr}");
        assert!(stderr.contains("release.yaml:"), "names the file: {stderr}");
        if message.contains("parallel") {
            assert!(!stderr.contains("stands in no wave"), "{message}: {stderr}");
        }
    }
    // The place: the wave's line and column.
    let broken = good.replacen("t02, t03], parallel", "t02, t09], parallel", 1);
    let line = broken
        .lines()
        .position(|l| l.contains("t09"))
        .map(|i| i + 1)
        .unwrap_or_default();
    let (_, stderr) = validate(&broken);
    assert!(
        stderr.contains(&format!("release.yaml:{line}:")),
        "{stderr}"
    );
}

#[test]
fn an_environment_without_targets_is_recorded_as_before() {
    let setup = Setup::new("", "      - deploy: {}\n");
    let run = setup.promote(HEX, &["--to", "dev"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let release_file = setup.record_file(&relctl::format::release_path("checkout", &release(HEX)));
    assert!(!release_file.contains("target:"), "{release_file}");
    let keys: Vec<String> = setup
        .platform
        .requests()
        .iter()
        .filter_map(|r| r.header("idempotency-key").map(str::to_string))
        .collect();
    assert_eq!(keys, vec![format!("{}/dev/1/0", release(HEX))]);
}

/// Six targets in three waves of two, two at a time, under `policy`, with `after`
/// environments; OLD is live everywhere first.
pub(crate) fn failing_in_wave_two(policy: &str, after: &str) -> Setup {
    let extra = format!("    on_target_failure: {policy}\n");
    let setup = Setup::with_plan(|p| plan_then(p, 6, 2, 2, &extra, after));
    let first = setup.promote(OLD, &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    setup.platform.fail_next_deploy_to("production.t03", 500);
    setup
}

/// The targets deploy calls went to with `image`, in order.
pub(crate) fn deployed(setup: &Setup, image: &str) -> Vec<String> {
    deploy_calls(&setup.platform)
        .iter()
        .filter(|r| r.body["image"] == image)
        .filter_map(|r| {
            r.path
                .strip_prefix("/deploy/production.")
                .map(str::to_string)
        })
        .collect()
}

pub(crate) fn production(setup: &Setup) -> String {
    setup.record_file("apps/c/7/checkout/environments/production.yaml")
}

#[test]
fn under_rollback_a_failing_target_takes_back_every_target_that_received_the_release() {
    let setup = failing_in_wave_two("rollback", "");
    let run = setup.promote(HEX, &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("target t03 failed"), "{}", run.stderr);
    let mut new = deployed(&setup, &artifact(HEX));
    new.sort();
    assert_eq!(new, ["t01", "t02", "t03", "t04"], "wave 3 never started");
    let mut back: Vec<String> = deployed(&setup, &artifact(OLD))
        .into_iter()
        .skip(6) // the first promotion's
        .collect();
    back.sort();
    assert_eq!(
        back,
        ["t01", "t02", "t03", "t04"],
        "each target that got it goes back"
    );
    let file = production(&setup);
    assert!(
        file.contains(&format!("release: {}", release(OLD))),
        "{file}"
    );
    assert!(file.contains("lock: null"), "{file}");
    assert!(
        file.contains(&format!("- {}", release(HEX))),
        "rejected: {file}"
    );
    let events = setup.events(HEX);
    assert!(events.contains(&"target_failed".to_string()), "{events:?}");
    let release_file = setup.record_file(&relctl::format::release_path("checkout", &release(HEX)));
    assert!(release_file.contains("policy: rollback"), "{release_file}");
    // The rollback redeploys are keyed per target too.
    let keys: BTreeSet<String> = deploy_calls(&setup.platform)
        .iter()
        .filter(|r| r.body["image"] == artifact(OLD).as_str())
        .skip(6)
        .filter_map(|r| r.header("idempotency-key").map(str::to_string))
        .collect();
    assert_eq!(keys.len(), 4, "{keys:?}");
}

#[test]
fn under_stop_a_failing_target_keeps_the_lock_and_resume_ends_as_an_uninterrupted_run() {
    let setup = failing_in_wave_two("stop", "");
    let run = setup.promote(HEX, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("target t03"), "{}", run.stderr);
    let file = production(&setup);
    assert!(
        file.contains(&format!("lock:\n  release: {}", release(HEX))),
        "the lock is kept: {file}"
    );
    assert!(
        !deployed(&setup, &artifact(HEX))
            .iter()
            .any(|t| t == "t05" || t == "t06"),
        "wave 3 waits"
    );

    let resumed = setup.relctl(&["resume", &release(HEX)]);
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    let new = deployed(&setup, &artifact(HEX));
    let mut once: Vec<&String> = new.iter().collect();
    once.sort();
    assert_eq!(
        once,
        ["t01", "t02", "t03", "t03", "t04", "t05", "t06"],
        "only t03 is tried again"
    );
    let file = production(&setup);
    assert!(
        file.contains(&format!("release: {}", release(HEX))),
        "{file}"
    );
    assert!(file.contains("lock: null"), "{file}");
    assert!(!file.contains("targets_not_live"), "{file}");
}

const AFTER: &str = "  - name: after\n    deploy: single\n";

#[test]
fn under_continue_the_others_go_live_and_the_next_environment_waits_for_all_of_them() {
    let setup = failing_in_wave_two("continue", AFTER);
    let run = setup.promote(HEX, &["--to", "production"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("not in its targets t03"),
        "{}",
        run.stderr
    );
    let mut new = deployed(&setup, &artifact(HEX));
    new.sort();
    assert_eq!(new, ["t01", "t02", "t03", "t04", "t05", "t06"]);
    let file = production(&setup);
    assert!(
        file.contains(&format!("release: {}", release(HEX))),
        "{file}"
    );
    assert!(file.contains("targets_not_live:\n- t03"), "{file}");
    assert!(file.contains("lock: null"), "{file}");
    // Left behind, the failed target went back to what was live before.
    assert_eq!(
        setup.platform.running("production.t03"),
        Some((artifact(OLD), 100))
    );

    let next = setup.promote(HEX, &[]);
    assert_eq!(next.code, 6, "{}", next.stderr);
    assert!(
        next.stderr.contains("not in its targets t03"),
        "{}",
        next.stderr
    );
}

#[test]
fn under_continue_a_plan_may_let_the_next_environment_take_a_partly_live_one() {
    let after = format!("{AFTER}    requires: {{ all_targets: false }}\n");
    let setup = failing_in_wave_two("continue", &after);
    let run = setup.promote(HEX, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let after_file = setup.record_file("apps/c/7/checkout/environments/after.yaml");
    assert!(
        after_file.contains(&format!("release: {}", release(HEX))),
        "{after_file}"
    );
}

/// Each target's events, as (target, event) sorted: what a run leaves in the record,
/// whatever order concurrent targets wrote it in.
/// The release's events by target, sorted, without the `taken_over` a resume records
/// where it goes on from the run that died.
fn per_target_events(setup: &Setup) -> Vec<(String, String)> {
    let text = setup.record_file(&relctl::format::release_path("checkout", &release(HEX)));
    let file: serde_json::Value = serde_saphyr::from_str(&text).unwrap_or_default();
    let mut events: Vec<(String, String)> = file["events"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["target"].as_str().unwrap_or("-").to_string(),
                e["event"].as_str().unwrap_or_default().to_string(),
            )
        })
        .filter(|(_, event)| event != "taken_over")
        .collect();
    events.sort();
    events
}

#[test]
fn sigkill_in_the_middle_of_a_wave_then_resume_ends_as_an_uninterrupted_run() {
    let whole = Setup::with_plan(|p| plan(p, 6, 2, 2, ""));
    assert_eq!(whole.promote(HEX, &[]).code, 0);
    let expected = per_target_events(&whole);
    // started, entered, then 3 commits per target: wave 2 is commits 9 to 14.
    for k in [9, 10, 11, 13] {
        let setup = Setup::with_plan(|p| plan(p, 6, 2, 2, ""));
        let run = setup
            .env
            .run_with(&["promote", "--artifact", &artifact(HEX)], |c| {
                crate::common::setup::quick(c);
                c.env("RELCTL_FAULT_CRASH_AFTER", k.to_string());
            });
        assert_ne!(run.code, 0, "k={k}: the process was meant to die");
        assert_eq!(setup.events(HEX).len(), k, "k={k}");
        let resumed = setup.relctl(&["resume", &release(HEX)]);
        assert_eq!(resumed.code, 0, "k={k}: {}", resumed.stderr);
        assert_eq!(per_target_events(&setup), expected, "k={k}");
        for t in names(6) {
            assert_eq!(
                setup.platform.running(&format!("production.{t}")),
                Some((artifact(HEX), 100)),
                "k={k}: {t}"
            );
        }
        // A call repeated after the crash is the same call: same target, same key.
        let calls = deploy_calls(&setup.platform);
        let keys: BTreeSet<(String, String)> = calls
            .iter()
            .filter_map(|r| Some((r.path.clone(), r.header("idempotency-key")?.to_string())))
            .collect();
        assert_eq!(keys.len(), 6, "k={k}: one key per target: {keys:?}");
    }
}

#[test]
fn rollback_of_an_environment_with_targets_takes_every_target_back() {
    let setup = Setup::with_plan(|p| plan(p, 6, 3, 3, ""));
    assert_eq!(setup.promote(OLD, &[]).code, 0);
    assert_eq!(setup.promote(HEX, &[]).code, 0);
    setup.platform.slow_deploys(Duration::from_millis(300));
    let run = setup.relctl(&["rollback", "--env", "production", "--reason", "5xx"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for t in names(6) {
        assert_eq!(
            setup.platform.running(&format!("production.{t}")),
            Some((artifact(OLD), 100)),
            "{t}"
        );
    }
    let back: Vec<_> = deploy_calls(&setup.platform).into_iter().skip(12).collect();
    assert_eq!(back.len(), 6, "one redeploy per target");
    let keys: BTreeSet<&str> = back
        .iter()
        .filter_map(|r| r.header("idempotency-key"))
        .collect();
    assert_eq!(keys.len(), 6, "{keys:?}");
    let most = setup.platform.most_concurrent_deploys();
    assert!(
        (2..=3).contains(&most),
        "bounded by the widest wave: {most}"
    );
    let file = production(&setup);
    assert!(
        file.contains(&format!("release: {}", release(OLD))),
        "{file}"
    );
    assert!(file.contains("lock: null"), "{file}");
}

#[test]
fn status_counts_the_targets_live_and_shows_each_on_request_and_in_json() {
    let setup = failing_in_wave_two("stop", "");
    assert_eq!(setup.promote(HEX, &[]).code, 1);
    let run = setup.relctl(&["status"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("3/6 targets live"), "{}", run.stdout);
    assert!(!run.stdout.contains("TARGET"), "{}", run.stdout);

    let table = setup.relctl(&["status", "--targets"]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    let line = |t: &str| {
        table
            .stdout
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(t))
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .unwrap_or_default()
    };
    assert_eq!(
        line("t01"),
        ["production", "t01", "1", &release(HEX), "live"]
    );
    assert_eq!(
        line("t03"),
        ["production", "t03", "2", &release(OLD), "failed"]
    );
    assert_eq!(
        line("t05"),
        ["production", "t05", "3", &release(OLD), "waiting"]
    );

    let json = setup.relctl(&["status", "--output", "json"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap_or_default();
    let production = &value["environments"][0];
    assert_eq!(production["targets_live"], "3/6 targets live", "{value}");
    assert_eq!(production["targets"].as_array().map(Vec::len), Some(6));
    assert_eq!(production["targets"][2]["state"], "failed");

    assert_eq!(setup.relctl(&["resume", &release(HEX)]).code, 0);
    let after = setup.relctl(&["status"]);
    assert!(
        after.stdout.contains("6/6 targets live"),
        "{}",
        after.stdout
    );
}

#[test]
fn rollback_of_one_target_leaves_the_others_live() {
    let setup = Setup::with_plan(|p| plan(p, 4, 2, 2, ""));
    assert_eq!(setup.promote(OLD, &[]).code, 0);
    assert_eq!(setup.promote(HEX, &[]).code, 0);
    let run = setup.relctl(&["rollback", "--env", "production", "--target", "t02"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("rolled production/t02 back"),
        "{}",
        run.stderr
    );
    for (t, image) in [("t01", HEX), ("t02", OLD), ("t03", HEX), ("t04", HEX)] {
        assert_eq!(
            setup.platform.running(&format!("production.{t}")),
            Some((artifact(image), 100)),
            "{t}"
        );
    }
    let file = production(&setup);
    assert!(
        file.contains(&format!("release: {}", release(HEX))),
        "{file}"
    );
    assert!(file.contains("targets_not_live:\n- t02"), "{file}");
    assert!(file.contains("lock: null"), "{file}");
    let status = setup.relctl(&["status"]);
    assert!(
        status.stdout.contains("3/4 targets live"),
        "{}",
        status.stdout
    );

    let unknown = setup.relctl(&["rollback", "--env", "production", "--target", "t09"]);
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("t01, t02, t03, t04"),
        "{}",
        unknown.stderr
    );
}

/// Three targets in one wave, a canary at 10% judged by an analysis of each target's
/// own error rate (the double's `/stats/VERSION-TARGET`), t03's failing.
fn canary_per_target() -> Setup {
    let setup = Setup::with_plan(|p| {
        let metrics = format!(
            r#"  metrics:
    stats: {{ type: http, request: {{ url: "{api}/stats/{{{{ release.version }}}}-{{{{ target.name }}}}" }}, value: '.error_rate' }}
"#,
            api = p.url()
        );
        let text = plan(
            p,
            3,
            3,
            3,
            "    on_target_failure: continue\n    steps:\n      - deploy: { weight: 10 }\n      - analysis: health\n      - deploy: {}\n",
        );
        let text = text.replacen("environments:", &format!("{metrics}environments:"), 1);
        format!(
            "{text}analyses:\n  health:\n    interval: 0s\n    count: 1\n    metrics:\n      - name: errors\n        provider: stats\n        max: 0.05\n"
        )
    });
    for (target, rate) in [("t01", 0.01), ("t02", 0.01), ("t03", 0.5)] {
        setup.platform.set_stats(
            &format!("v2-{target}"),
            serde_json::json!({ "error_rate": rate }),
        );
    }
    setup
}

#[test]
fn check_measures_each_targets_canary_once() {
    let setup = canary_per_target();
    // Without --version, a release's version is its digest's first 12 hex digits.
    for (target, rate) in [("t01", 0.01), ("t02", 0.01), ("t03", 0.5)] {
        setup.platform.set_stats(
            &format!("{}-{target}", &HEX[..12]),
            serde_json::json!({ "error_rate": rate }),
        );
    }
    let run = setup.relctl(&["check", "--env", "production", "--artifact", &artifact(HEX)]);
    let gate = |target: &str| {
        run.stdout
            .lines()
            .find(|l| l.contains(&format!("analysis (step 2): errors @ {target}")))
            .map(|l| l.split_whitespace().nth(6).unwrap_or_default().to_string())
            .unwrap_or_default()
    };
    assert_eq!(gate("t01"), "pass", "{}\n{}", run.stdout, run.stderr);
    assert_eq!(gate("t02"), "pass", "{}", run.stdout);
    assert_eq!(gate("t03"), "fails", "{}", run.stdout);
}

#[test]
fn an_analysis_judges_each_targets_canary_on_its_own() {
    let setup = canary_per_target();
    let run = setup.promote(HEX, &["--version", "v2"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("not in its targets t03"),
        "{}",
        run.stderr
    );
    // t03's canary never went to full weight; the others did.
    let weights: Vec<(String, u64)> = deploy_calls(&setup.platform)
        .iter()
        .map(|r| {
            (
                r.path.trim_start_matches("/deploy/production.").to_string(),
                r.body["weight"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    for t in ["t01", "t02"] {
        assert!(weights.contains(&(t.to_string(), 100)), "{t}: {weights:?}");
    }
    assert!(!weights.contains(&("t03".to_string(), 100)), "{weights:?}");
    let release_file = setup.record_file(&relctl::format::release_path("checkout", &release(HEX)));
    let measured_t03 = release_file
        .split("\n- ")
        .any(|e| e.contains("event: measured") && e.contains("target: t03"));
    assert!(
        measured_t03,
        "each target's measurements name it: {release_file}"
    );
}

#[test]
fn a_flag_step_in_an_environment_with_targets_is_refused_by_validate() {
    let platform = Platform::start();
    let flags = "  flags:\n    unleash:\n      type: unleash\n      url: http://127.0.0.1:9\n      token: \"{{ secret.UNLEASH_TOKEN }}\"\n      environments: { production: production }\nenvironments:\n";
    let steps =
        "    steps:\n      - deploy: {}\n      - flag: { name: new-checkout, rollout: 10 }\n";
    let text = plan_then(&platform, 3, 3, 2, "", steps).replacen("environments:\n", flags, 1);
    let (code, stderr) = validate(&text);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr
            .contains("flag step `new-checkout` is in environment `production`, which has targets"),
        "{stderr}"
    );
    assert!(stderr.contains("release.yaml:"), "names the file: {stderr}");
}

#[test]
fn a_failed_target_is_named_in_the_github_summary_and_the_notification() {
    let hooks = "notify:\n  - url: \"{{ vars.api }}/hooks/all\"\n    events: [failed]\n";
    let setup = failing_in_wave_two("stop", hooks);
    let summary = setup.env.path().join("step-summary.md");
    let run = setup
        .env
        .run_with(&["promote", "--artifact", &artifact(HEX)], |c| {
            crate::common::setup::quick(c);
            c.env("GITHUB_ACTIONS", "true")
                .env("GITHUB_STEP_SUMMARY", &summary);
        });
    assert_eq!(run.code, 1, "{}", run.stderr);
    let text = std::fs::read_to_string(&summary).unwrap_or_default();
    assert!(
        text.contains("**Targets that failed**") && text.contains("| production | t03 | "),
        "{text}"
    );
    assert!(!text.contains("| production | t01 | "), "{text}");
    let bodies = setup.platform.hook_bodies("all");
    let failed: Vec<_> = bodies.iter().filter(|b| b["event"] == "failed").collect();
    assert!(!failed.is_empty(), "{bodies:?}");
    assert!(
        failed
            .iter()
            .all(|b| b["target"] == "t03" && b["environment"] == "production"),
        "{failed:?}"
    );
}

#[test]
fn history_names_the_target_of_each_targets_event() {
    let setup = failing_in_wave_two("stop", "");
    assert_eq!(setup.promote(HEX, &[]).code, 1);
    let run = setup.relctl(&["history", &release(HEX)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let failed = run
        .stdout
        .lines()
        .find(|l| l.contains("target failed"))
        .unwrap_or_default();
    assert!(failed.contains(" production/t03 "), "{}", run.stdout);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.contains(" production/t01 ") && l.contains("live")),
        "{}",
        run.stdout
    );
}

#[test]
fn an_environment_approval_is_asked_once_before_the_first_wave() {
    let setup = Setup::with_plan(|p| {
        plan(
            p,
            4,
            2,
            2,
            "    approval: { approvers: [\"alice@acme.io\"] }\n",
        )
    });
    let run = setup.promote(HEX, &["--no-input"]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        deploy_calls(&setup.platform).is_empty(),
        "no target before the approval"
    );
    let approved = setup.relctl_as(
        "alice@acme.io",
        &["approve", &release(HEX), "--env", "production"],
    );
    assert_eq!(approved.code, 0, "{}", approved.stderr);
    let resumed = setup.relctl(&["resume", &release(HEX)]);
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    let mut targets = deployed(&setup, &artifact(HEX));
    targets.sort();
    assert_eq!(targets, ["t01", "t02", "t03", "t04"], "each target once");
    let history = setup.relctl(&["history", &release(HEX)]);
    assert_eq!(
        history.stdout.matches("approved by alice@acme.io").count(),
        1,
        "{}",
        history.stdout
    );
}

#[test]
fn the_history_list_names_each_events_target() {
    let setup = failing_in_wave_two("stop", "");
    assert_eq!(setup.promote(HEX, &[]).code, 1);
    let run = setup.relctl(&["history", "--limit", "200"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.contains(&format!("{} production/t03: target failed", release(HEX)))),
        "{}",
        run.stdout
    );
    let json = setup.relctl(&["history", "--limit", "200", "--output", "json"]);
    assert!(
        json.stdout
            .lines()
            .any(|l| l.contains("\"target\":\"t03\"") && l.contains("\"event\":\"target_failed\"")),
        "{}",
        json.stdout
    );
}

#[test]
fn after_stop_status_says_which_target_stopped_the_release_and_how_to_go_on() {
    let setup = failing_in_wave_two("stop", "");
    let run = setup.promote(HEX, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let status = setup.relctl(&["status"]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(
        status.stdout.contains("stopped: target t03 failed"),
        "{}",
        status.stdout
    );
    assert!(status.stdout.contains("relctl resume"), "{}", status.stdout);
    assert!(!status.stdout.contains("in progress"), "{}", status.stdout);
}

#[test]
fn a_target_left_behind_under_continue_shows_the_release_it_still_runs() {
    let setup = failing_in_wave_two("continue", "");
    assert_eq!(setup.promote(HEX, &[]).code, 0);
    let table = setup.relctl(&["status", "--targets"]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    let t03: Vec<&str> = table
        .stdout
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("t03"))
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_default();
    assert_eq!(
        t03,
        ["production", "t03", "2", &release(OLD), "not", "live"],
        "{}",
        table.stdout
    );
    let json = setup.relctl(&["status", "--output", "json"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap_or_default();
    let t03 = &value["environments"][0]["targets"][2];
    assert_eq!(t03["state"], "not live", "{value}");
    assert_eq!(t03["release"], release(OLD).as_str(), "{value}");
}
