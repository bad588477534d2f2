//! Many apps in one record: each app's state apart (a monorepo's plans share the
//! default record), records written before apps/ read and moved with their history,
//! and no deploy of an artifact that is not the plan's.

use serde_json::Value;

use crate::common::platform::Platform;
use crate::common::setup::{CANARY, HEX, OLD, Setup, artifact, plan, quick, release};
use crate::common::{Run, TestEnv, git, ok, repo_root};

pub const NEWER: &str = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0";

/// The records branch written by relctl 0.1.0 (tests/fixtures/records-0.1.0/README.md).
fn fixture(bundle: &str) -> std::path::PathBuf {
    repo_root()
        .join("tests/fixtures/records-0.1.0")
        .join(bundle)
}

/// The fixture's plans (`checkout` at the top, `payments` beside it), deploying by
/// appending "<env> <image>" to `deploys.log`.
pub fn fixture_plans(env: &TestEnv) {
    let log = env.path().join("deploys.log");
    let log = log.to_str().expect("a UTF-8 temp path");
    for (path, app) in [
        ("release.yaml", "checkout"),
        ("payments/release.yaml", "payments"),
    ] {
        env.write(
            path,
            format!(
                r#"version: 1
app: {app}
artifact: {{ name: ghcr.io/acme/{app} }}
providers:
  deploy:
    shell:
      type: exec
      command: ["sh", "-c", "echo \"$0 $1\" >> \"$2\"", "{{{{ env.name }}}}", "{{{{ artifact.ref }}}}", "{log}"]
      timeout: 10s
environments:
  - name: dev
    deploy: shell
  - name: staging
    deploy: shell
"#
            ),
        );
    }
}

fn with_fixture(bundle: &str) -> TestEnv {
    let env = TestEnv::new();
    env.init_repo();
    let bundle = fixture(bundle);
    let bundle = bundle.to_str().expect("a UTF-8 path");
    env.git(&["fetch", "-q", bundle, "relctl/records:relctl/records"]);
    fixture_plans(&env);
    env
}

fn json(run: &Run) -> Value {
    ok(run);
    serde_json::from_str(run.stdout.trim()).expect("one JSON object")
}

/// (env, release) of each row of `relctl status --output json`.
pub fn live(env: &TestEnv, plan: &str) -> Vec<(String, String)> {
    let status = json(&env.run(&["--plan", plan, "--output", "json", "status"]));
    status["environments"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["env"].as_str().unwrap_or("-").to_string(),
                r["release"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

pub fn pair(env: &str, release: &str) -> (String, String) {
    (env.to_string(), release.to_string())
}

fn count(env: &TestEnv, args: &[&str]) -> usize {
    env.git(args).lines().count()
}

#[test]
fn a_record_from_relctl_0_1_0_is_read_and_moved_by_one_commit_with_its_history() {
    let env = with_fixture("one-app.bundle");
    let old_tip = env.git(&["rev-parse", "relctl/records"]).trim().to_string();
    let old_commits = count(&env, &["rev-list", "relctl/records"]);
    // Read as it is: what is live, and the history.
    let before = live(&env, "release.yaml");
    assert_eq!(
        before,
        vec![
            pair("dev", "checkout-a2a2a2a2a2a2"),
            pair("staging", "checkout-a1a1a1a1a1a1"),
        ]
    );
    let history = env.run(&["history", "--limit", "3"]);
    ok(&history);
    assert!(
        history
            .stdout
            .contains("checkout-a2a2a2a2a2a2 staging: rolled back to checkout-a1a1a1a1a1a1"),
        "{}",
        history.stdout
    );
    let shown = env.run(&["history", "checkout-a1a1a1a1a1a1"]);
    ok(&shown);
    assert!(shown.stdout.contains("version 1.0.0"), "{}", shown.stdout);
    // Reading wrote nothing.
    assert_eq!(env.git(&["rev-parse", "relctl/records"]).trim(), old_tip);

    // The next write moves it first, by one commit of its own.
    let image = format!("ghcr.io/acme/checkout@sha256:{NEWER}");
    ok(&env.run(&["promote", "--artifact", &image, "--env", "dev"]));
    let migrated = env.git(&[
        "log",
        "--format=%H",
        "--grep=Relctl-Event: migrated",
        "relctl/records",
    ]);
    assert_eq!(migrated.lines().count(), 1, "{migrated}");
    let migration = migrated.trim();
    assert_eq!(
        env.git(&["rev-parse", &format!("{migration}^")]).trim(),
        old_tip
    );
    let message = env.git(&["show", "-s", "--format=%B", migration]);
    assert!(
        message.starts_with("moved the record under apps/: checkout (2 releases, 2 environments)"),
        "{message}"
    );
    assert!(message.contains("Relctl-App: checkout"), "{message}");
    // Every old commit is kept; the tree is apps/ and the file naming its layout.
    git(
        env.path(),
        &["merge-base", "--is-ancestor", &old_tip, "relctl/records"],
    );
    assert!(count(&env, &["rev-list", "relctl/records"]) > old_commits + 1);
    assert_eq!(
        env.git(&["ls-tree", "--name-only", "relctl/records"])
            .trim(),
        format!("apps\n{}", relctl::format::FORMAT)
    );
    // The same blobs: git follows a release file across the move.
    let file = "apps/c/7/checkout/releases/a1/checkout-a1a1a1a1a1a1.yaml";
    assert_eq!(
        env.git(&["rev-parse", &format!("{migration}:{file}")]),
        env.git(&[
            "rev-parse",
            &format!("{old_tip}:releases/a1/checkout-a1a1a1a1a1a1.yaml")
        ])
    );
    assert_eq!(
        env.git(&[
            "rev-parse",
            &format!("{migration}:apps/c/7/checkout/environments/staging.yaml")
        ]),
        env.git(&["rev-parse", &format!("{old_tip}:environments/staging.yaml")])
    );
    let followed = env.git(&[
        "log",
        "--follow",
        "--format=%s",
        "relctl/records",
        "--",
        file,
    ]);
    assert!(
        followed.contains("checkout-a1a1a1a1a1a1: started 1.0.0 for dev → staging"),
        "{followed}"
    );
    // The new event names its app; staging is as it was.
    let last = env.git(&["log", "-1", "--format=%B", "relctl/records"]);
    assert!(last.contains("Relctl-App: checkout"), "{last}");
    let id = format!("checkout-{}", &NEWER[..12]);
    assert_eq!(
        live(&env, "release.yaml"),
        vec![pair("dev", &id), pair("staging", "checkout-a1a1a1a1a1a1")]
    );
    // Moved once: the next write moves nothing.
    ok(&env.run(&["rollback", "--env", "dev"]));
    assert_eq!(
        env.git(&[
            "log",
            "--format=%H",
            "--grep=Relctl-Event: migrated",
            "relctl/records"
        ])
        .lines()
        .count(),
        1
    );
    let log = std::fs::read_to_string(env.path().join("deploys.log")).expect("deploys");
    assert_eq!(
        log.lines().last(),
        Some(
            "dev ghcr.io/acme/checkout@sha256:a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2"
        )
    );
}

#[test]
fn a_record_two_apps_shared_before_apps_is_split_by_the_app_of_each_release() {
    let env = with_fixture("two-apps.bundle");
    // relctl 0.1.0 wrote payments over checkout in both environment files.
    let shared = env.git(&["show", "relctl/records:environments/staging.yaml"]);
    assert!(
        shared.contains("release: payments-b1b1b1b1b1b1"),
        "{shared}"
    );
    let checkout = vec![
        pair("dev", "checkout-a2a2a2a2a2a2"),
        pair("staging", "checkout-a1a1a1a1a1a1"),
    ];
    let payments = vec![
        pair("dev", "payments-b1b1b1b1b1b1"),
        pair("staging", "payments-b1b1b1b1b1b1"),
    ];
    assert_eq!(live(&env, "release.yaml"), checkout);
    assert_eq!(live(&env, "payments/release.yaml"), payments);
    let history = env.run(&["--plan", "payments/release.yaml", "history"]);
    ok(&history);
    assert!(
        !history.stdout.contains("  checkout-"),
        "{}",
        history.stdout
    );

    // Nothing of payments' was live in dev before it: nothing to go back to (0.1.0
    // took checkout's release for it).
    let run = env.run(&[
        "--plan",
        "payments/release.yaml",
        "rollback",
        "--env",
        "dev",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("nothing was live in dev before payments-b1b1b1b1b1b1"),
        "{}",
        run.stderr
    );

    // A payments write moves both apps; each keeps what it had.
    let old_tip = env.git(&["rev-parse", "relctl/records"]).trim().to_string();
    let image = format!("ghcr.io/acme/payments@sha256:{NEWER}");
    ok(&env.run(&[
        "--plan",
        "payments/release.yaml",
        "promote",
        "--artifact",
        &image,
        "--env",
        "dev",
    ]));
    let migration = env.git(&[
        "rev-list",
        "--reverse",
        &format!("{old_tip}..relctl/records"),
    ]);
    let migration = migration.lines().next().expect("new commits");
    let message = env.git(&["show", "-s", "--format=%B", migration]);
    assert!(
        message.starts_with(
            "moved the record under apps/: checkout (2 releases, 2 environments), payments (1 release, 2 environments)"
        ),
        "{message}"
    );
    assert_eq!(live(&env, "release.yaml"), checkout);
    assert_eq!(
        live(&env, "payments/release.yaml"),
        vec![
            pair("dev", &format!("payments-{}", &NEWER[..12])),
            pair("staging", "payments-b1b1b1b1b1b1")
        ]
    );
    // Split, the files hold one app's releases each.
    let staging = env.git(&[
        "show",
        "relctl/records:apps/c/7/checkout/environments/staging.yaml",
    ]);
    assert!(!staging.contains("payments"), "{staging}");
    let log = std::fs::read_to_string(env.path().join("deploys.log")).unwrap_or_default();
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        vec![format!("dev {image}")]
    );
}

#[test]
fn a_record_naming_another_artifact_is_an_error_and_never_deployed() {
    let s = Setup::new("", CANARY);
    ok(&s.promote(OLD, &[]));
    ok(&s.promote(HEX, &[]));
    let path = "apps/c/7/checkout/environments/production.yaml";
    s.edit_record(path, |text| {
        text.replace(
            &artifact(OLD),
            &format!("ghcr.io/acme/payments@sha256:{OLD}"),
        )
    });
    let deploys = s.platform.deploys().len();
    // The previous entry says another image: the rollback refuses, naming the file.
    let run = s.relctl(&["rollback", "--env", "production"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "error: the record file relctl/records:{path} gives release {} the artifact `ghcr.io/acme/payments@sha256:{OLD}`",
            release(OLD)
        )),
        "{}",
        run.stderr
    );
    assert_eq!(s.platform.deploys().len(), deploys);
    assert!(
        s.relctl(&["--output", "json", "status"])
            .stdout
            .contains(&release(HEX)),
        "nothing changed in production"
    );

    // The live entry says another image: a release entering over it (whose automatic
    // rollback would redeploy it) stops before the environment.
    s.edit_record(path, |text| {
        text.replacen(
            &artifact(HEX),
            &format!("ghcr.io/acme/payments@sha256:{HEX}"),
            1,
        )
    });
    let run = s.promote(NEWER, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "error: the record file relctl/records:{path} gives release {}",
            release(HEX)
        )),
        "{}",
        run.stderr
    );
    let production: Vec<_> = s.platform.deploys()[deploys..]
        .iter()
        .filter(|(env, _, _)| env == "production")
        .cloned()
        .collect();
    assert_eq!(production, vec![]);
}

/// Another app's plan under the same name (another artifact) rolling back: refused,
/// naming the file, with nothing said or done about flags before the refusal.
#[test]
fn a_rollback_by_a_plan_of_another_artifact_is_refused_before_touching_flags() {
    let s = Setup::new("", CANARY);
    ok(&s.promote(OLD, &[]));
    ok(&s.promote(HEX, &[]));
    let plan = std::fs::read_to_string(s.env.path().join("release.yaml")).expect("plan");
    s.env.write(
        "release.yaml",
        plan.replace("ghcr.io/acme/checkout", "ghcr.io/evil/checkout"),
    );
    let deploys = s.platform.deploys().len();
    let run = s.relctl(&["rollback", "--env", "production", "--reason", "takeover"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("which is not this plan's `ghcr.io/evil/checkout`"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("flag"), "{}", run.stderr);
    assert_eq!(s.platform.deploys().len(), deploys);
}

#[test]
fn a_release_file_naming_another_artifact_is_never_resumed() {
    let s = Setup::new("", GATED);
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 4, "paused for approval: {}", run.stderr);
    let path = relctl::format::release_path("checkout", &release(HEX));
    s.edit_record(&path, |text| {
        text.replace(
            &artifact(HEX),
            &format!("ghcr.io/acme/payments@sha256:{HEX}"),
        )
    });
    let deploys = s.platform.deploys().len();
    let commits = s.env.records_log();
    // Neither approved nor resumed: each names the file.
    let approve = s.relctl_as(
        "lead@example.com",
        &["approve", &release(HEX), "--env", "production"],
    );
    for run in [approve, s.relctl(&["resume", &release(HEX)])] {
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!(
                "error: the record file relctl/records:{path} gives release"
            )),
            "{}",
            run.stderr
        );
    }
    assert_eq!(s.platform.deploys().len(), deploys);
    assert_eq!(s.env.records_log(), commits, "nothing recorded");
}

#[test]
fn the_automatic_rollback_never_redeploys_a_baseline_of_another_artifact() {
    let s = Setup::new("", GATED);
    let lead = |args: &[&str]| ok(&s.relctl_as("lead@example.com", args));
    assert_eq!(s.promote(OLD, &[]).code, 4);
    lead(&["approve", &release(OLD), "--env", "production"]);
    ok(&s.relctl(&["resume", &release(OLD)]));
    assert_eq!(s.promote(HEX, &[]).code, 4);
    // The release file keeps the baseline each environment had when it entered.
    let path = relctl::format::release_path("checkout", &release(HEX));
    s.edit_record(&path, |text| {
        text.replace(
            &artifact(OLD),
            &format!("ghcr.io/acme/payments@sha256:{OLD}"),
        )
    });
    lead(&[
        "reject",
        &release(HEX),
        "--env",
        "production",
        "--reason",
        "no",
    ]);
    let deploys = s.platform.deploys().len();
    let run = s.relctl(&["resume", &release(HEX)]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "error: the record file relctl/records:{path} gives release {} the artifact `ghcr.io/acme/payments@sha256:{OLD}`",
            release(OLD)
        )),
        "{}",
        run.stderr
    );
    assert_eq!(s.platform.deploys().len(), deploys);
}

/// Production: a canary, an approval, then the full deploy.
const GATED: &str = "      - deploy: { weight: 10 }\n      - approval: { approvers: [\"lead@example.com\"] }\n      - deploy: {}\n";

/// One repository, two plans with the default record: svc-a/ and svc-b/.
fn monorepo(platform: &Platform, env: &TestEnv) {
    for app in ["svc-a", "svc-b"] {
        env.write(
            &format!("{app}/release.yaml"),
            plan(platform, "", "      - deploy: {}\n")
                .replace("app: checkout", &format!("app: {app}"))
                .replace("acme/checkout", &format!("acme/{app}")),
        );
    }
}

#[test]
fn a_monorepo_s_apps_keep_their_own_state_and_roll_back_to_their_own_image() {
    let env = TestEnv::new();
    env.init_repo();
    let platform = Platform::start();
    monorepo(&platform, &env);
    let image = |app: &str, hex: &str| format!("ghcr.io/acme/{app}@sha256:{hex}");
    let promote = |app: &str, hex: &str| {
        let plan = format!("{app}/release.yaml");
        let image = image(app, hex);
        env.run_with(&["--plan", &plan, "promote", "--artifact", &image], quick)
    };
    ok(&promote("svc-a", OLD));
    ok(&promote("svc-b", OLD));
    ok(&promote("svc-a", HEX));
    ok(&promote("svc-b", HEX));
    let id = |app: &str, hex: &str| format!("{app}-{}", &hex[..12]);
    for app in ["svc-a", "svc-b"] {
        assert_eq!(
            live(&env, &format!("{app}/release.yaml")),
            ["dev", "staging", "production"]
                .iter()
                .map(|e| pair(e, &id(app, HEX)))
                .collect::<Vec<_>>()
        );
    }
    let run = env.run_with(
        &[
            "--plan",
            "svc-b/release.yaml",
            "rollback",
            "--env",
            "production",
        ],
        quick,
    );
    ok(&run);
    assert_eq!(
        platform.deploys().last(),
        Some(&("production".to_string(), image("svc-b", OLD), 100))
    );
    let production = |app: &str| live(&env, &format!("{app}/release.yaml"))[2].1.clone();
    assert_eq!(production("svc-b"), id("svc-b", OLD));
    assert_eq!(production("svc-a"), id("svc-a", HEX));
    // Each app's files are its own; every commit names its app.
    assert_eq!(
        env.git(&["ls-tree", "--name-only", "relctl/records", "apps/"])
            .trim(),
        "apps/6\napps/8"
    );
    let apps = env.git(&[
        "log",
        "--format=%(trailers:key=Relctl-App,valueonly)",
        "relctl/records",
    ]);
    assert!(
        apps.lines()
            .filter(|l| !l.is_empty())
            .all(|l| l == "svc-a" || l == "svc-b"),
        "{apps}"
    );
    assert_eq!(
        count(
            &env,
            &[
                "log",
                "--format=%H",
                "--grep=Relctl-App: svc-a",
                "relctl/records"
            ]
        ) + count(
            &env,
            &[
                "log",
                "--format=%H",
                "--grep=Relctl-App: svc-b",
                "relctl/records"
            ]
        ),
        count(&env, &["rev-list", "relctl/records"])
    );
}

#[test]
fn a_plan_claiming_another_plans_app_stops_before_it_records_anything() {
    let env = TestEnv::new();
    env.init_repo();
    let platform = Platform::start();
    monorepo(&platform, &env);
    let image = "ghcr.io/acme/svc-a@sha256:".to_string() + OLD;
    ok(&env.run_with(
        &[
            "--plan",
            "svc-a/release.yaml",
            "promote",
            "--artifact",
            &image,
        ],
        quick,
    ));
    // Another team's plan names the same app with its own artifact.
    env.write(
        "evil/release.yaml",
        plan(&platform, "", "      - deploy: {}\n")
            .replace("app: checkout", "app: svc-a")
            .replace("acme/checkout", "evil/svc-a"),
    );
    let before = env.git(&["rev-parse", "relctl/records"]);
    let deploys = platform.deploys().len();
    let evil = format!("ghcr.io/evil/svc-a@sha256:{HEX}");
    let run = env.run_with(
        &[
            "--plan",
            "evil/release.yaml",
            "promote",
            "--artifact",
            &evil,
        ],
        quick,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("relctl/records:apps/6/4/svc-a/environments/dev.yaml"),
        "{}",
        run.stderr
    );
    assert_eq!(
        env.git(&["rev-parse", "relctl/records"]),
        before,
        "nothing recorded"
    );
    assert_eq!(platform.deploys().len(), deploys, "nothing deployed");

    // svc-a's own promote of its next release dies holding dev: the other plan can
    // neither break that lock nor abort, approve, reject or resume svc-a's releases.
    let next = "ghcr.io/acme/svc-a@sha256:".to_string() + HEX;
    let run = env.run_with(
        &[
            "--plan",
            "svc-a/release.yaml",
            "promote",
            "--artifact",
            &next,
        ],
        |c| {
            quick(c);
            c.env("RELCTL_FAULT_CRASH_AFTER", "2");
        },
    );
    assert_ne!(run.code, 0, "the promote was meant to die: {}", run.stderr);
    let before = env.git(&["rev-parse", "relctl/records"]);
    let svc_a_next = format!("svc-a-{}", &HEX[..12]);
    for args in [
        vec!["unlock", "--env", "dev", "--reason", "take over"],
        vec!["abort", &svc_a_next, "--reason", "take over"],
        vec!["resume", &svc_a_next],
        vec!["approve", &svc_a_next, "--env", "dev"],
        vec!["reject", &svc_a_next, "--env", "dev", "--reason", "no"],
    ] {
        let mut all = vec!["--plan", "evil/release.yaml"];
        all.extend(&args);
        let run = env.run_with(&all, quick);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!(
                "gives release {svc_a_next} the artifact `{next}`, which is not this plan's \
                 `ghcr.io/evil/svc-a`"
            )) && run
                .stderr
                .contains("if the plan's `app:` names another app"),
            "{args:?}: {}",
            run.stderr
        );
    }
    assert_eq!(
        env.git(&["rev-parse", "relctl/records"]),
        before,
        "nothing recorded"
    );
    assert_eq!(platform.deploys().len(), deploys, "nothing deployed");
}
