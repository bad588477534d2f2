//! The record at organisation scale: an environment file that does not grow with every
//! release rolled back there, and apps spread over shard directories.

use serde_json::Value;

use crate::apps::{NEWER, fixture_plans, live, pair};
use crate::common::platform::Platform;
use crate::common::setup::{OLD, Setup, artifact, release};
use crate::common::{TestEnv, ok};

/// The bound on the environment file's `rejected` list (src/format/rejected.rs).
const KEPT: usize = 20;

/// `checkout` straight to one environment, `production`, against the platform double.
fn production_only(platform: &Platform) -> String {
    format!(
        r#"version: 1
app: checkout
artifact: {{ name: ghcr.io/acme/checkout }}
providers:
  deploy:
    platform:
      type: http
      request:
        method: POST
        url: "{url}/deploy/{{{{ env.name }}}}"
        headers: {{ Authorization: "Bearer {{{{ secret.DEPLOY_TOKEN }}}}" }}
        body: {{ image: "{{{{ artifact.ref }}}}", weight: "{{{{ step.weight }}}}", release: "{{{{ release.id }}}}" }}
        timeout: 5s
environments:
  - name: production
    deploy: platform
"#,
        url = platform.url()
    )
}

/// A digest of its own for each `i`: its two hex digits, 32 times.
fn digest(i: usize) -> String {
    format!("{i:02x}").repeat(32)
}

/// The names production's file lists as rejected there.
fn listed_rejected(s: &Setup) -> Vec<String> {
    let text = s.record_file(&relctl::format::env_path("checkout", "production"));
    let mut lines = text.lines().skip_while(|l| *l != "rejected:").skip(1);
    let mut names = Vec::new();
    while let Some(name) = lines.next().and_then(|l| l.strip_prefix("- ")) {
        names.push(name.to_string());
    }
    names
}

fn json(run: &crate::common::Run) -> Value {
    ok(run);
    serde_json::from_str(run.stdout.trim()).expect("one JSON object")
}

/// Whether `relctl releases` says `hex`'s release was rejected in production.
fn shown_rejected(s: &Setup, hex: &str) -> bool {
    let listed = json(&s.relctl(&["--output", "json", "releases", "--limit", "100"]));
    let releases = listed["releases"].as_array().expect("a list").clone();
    let own = releases
        .iter()
        .find(|r| r["release"] == release(hex))
        .unwrap_or_else(|| panic!("{} is listed: {listed}", release(hex)));
    own["rejected"] == serde_json::json!(["production"])
}

/// The first release rolled back, then more than the file keeps: the file names only
/// the latest, and the first is still refused as it was, from its own record.
#[test]
fn a_release_rejected_long_ago_is_still_refused() {
    let s = Setup::with_plan(production_only);
    ok(&s.promote(OLD, &["--version", "1.0.0"]));
    let first = digest(1);
    ok(&s.promote(&first, &["--version", "1.1.0"]));
    ok(&s.relctl(&["rollback", "--env", "production", "--reason", "pager"]));
    for i in 2..=KEPT + 2 {
        ok(&s.promote(&digest(i), &["--version", &format!("1.{i}.0")]));
        ok(&s.relctl(&["rollback", "--env", "production", "--reason", "pager"]));
    }
    let listed = listed_rejected(&s);
    assert_eq!(listed.len(), KEPT, "{listed:?}");
    assert!(!listed.contains(&release(&first)), "{listed:?}");
    assert_eq!(listed.last(), Some(&release(&digest(KEPT + 2))));

    // A rollback does not go back to it, by name, as before.
    let calls = s.platform.deploys().len();
    let run = s.relctl(&["rollback", "--env", "production", "--to", &release(&first)]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "error: {} was rolled back in production: a rollback does not go back to it",
            release(&first)
        )),
        "{}",
        run.stderr
    );
    // plan and promote still see the rule, and promote is refused (exit 6).
    let plan = s.relctl(&["plan", "--artifact", &artifact(&first)]);
    ok(&plan);
    assert!(
        plan.stdout.contains("would block (rejected-before)"),
        "{}",
        plan.stdout
    );
    let promote = s.promote(&first, &[]);
    assert_eq!(promote.code, 6, "{}", promote.stderr);
    assert!(
        promote.stderr.contains(&format!(
            "{} was rolled back in production before",
            release(&first)
        )),
        "{}",
        promote.stderr
    );
    assert_eq!(s.platform.deploys().len(), calls, "nothing deployed");
    // `releases` still says where it was rejected.
    assert!(shown_rejected(&s, &first));
    assert!(!shown_rejected(&s, OLD));

    // Brought back on purpose and live, it is no longer rejected there: a later
    // rollback may go back to it.
    ok(&s.promote(&first, &["--force", "--reason", "fixed upstream"]));
    assert!(!shown_rejected(&s, &first));
    ok(&s.promote(&digest(200), &["--version", "2.0.0"]));
    let back = s.relctl(&["rollback", "--env", "production"]);
    ok(&back);
    assert_eq!(
        s.platform.deploys().last().map(|d| d.1.clone()),
        Some(artifact(&first))
    );
}

/// An environment file written before the bound, naming every release ever rolled
/// back there, reads as before and is cut to the latest names by the next write;
/// what it named is still refused.
#[test]
fn a_long_list_from_before_the_bound_reads_and_is_cut_on_the_next_write() {
    let s = Setup::with_plan(production_only);
    ok(&s.promote(OLD, &["--version", "1.0.0"]));
    let first = digest(1);
    ok(&s.promote(&first, &["--version", "1.1.0"]));
    ok(&s.relctl(&["rollback", "--env", "production", "--reason", "pager"]));
    let path = relctl::format::env_path("checkout", "production");
    // As an older relctl left it: many more names after this one.
    s.edit_record(&path, |text| {
        let mut text = text.to_string();
        for i in 0..3 * KEPT {
            text = text.replacen(
                &format!("- {}\n", release(&first)),
                &format!("- {}\n- checkout-{:012x}\n", release(&first), 0xabc000 + i),
                1,
            );
        }
        text
    });
    assert_eq!(listed_rejected(&s).len(), 3 * KEPT + 1);
    let status = s.relctl(&["status"]);
    ok(&status);
    assert!(status.stdout.contains(&release(OLD)), "{}", status.stdout);

    ok(&s.promote(&digest(2), &["--version", "1.2.0"]));
    let listed = listed_rejected(&s);
    assert_eq!(listed.len(), KEPT, "{listed:?}");
    assert!(!listed.contains(&release(&first)), "{listed:?}");
    let run = s.relctl(&["rollback", "--env", "production", "--to", &release(&first)]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("was rolled back in production: a rollback does not go back to it"),
        "{}",
        run.stderr
    );
    let promote = s.promote(&first, &[]);
    assert_eq!(promote.code, 6, "{}", promote.stderr);
}

/// The records branch in the layout before the shards (tests/fixtures/records-apps/).
fn unsharded_fixture() -> crate::common::TestEnv {
    bundle_fixture("tests/fixtures/records-apps/two-apps.bundle")
}

/// A repository whose records branch is the bundle at `path` (under the repository's
/// root), with the fixtures' two plans (`checkout`, `payments`).
pub fn bundle_fixture(path: &str) -> crate::common::TestEnv {
    let env = crate::common::TestEnv::new();
    env.init_repo();
    let bundle = crate::common::repo_root().join(path);
    let bundle = bundle.to_str().expect("a UTF-8 path");
    env.git(&["fetch", "-q", bundle, "relctl/records:relctl/records"]);
    fixture_plans(&env);
    env
}

/// `status --all --output json` as (app, env, release) rows.
pub fn everything(env: &crate::common::TestEnv) -> Vec<(String, String, String)> {
    let all = json(&env.run(&["status", "--all", "--output", "json"]));
    all["environments"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            let cell = |k: &str| r[k].as_str().unwrap_or("-").to_string();
            (cell("app"), cell("env"), cell("release"))
        })
        .collect()
}

#[test]
fn a_record_from_before_the_shards_is_read_and_moved_by_one_commit_with_its_history() {
    let env = unsharded_fixture();
    two_apps_read_then_moved(
        &env,
        &[
            (
                "apps/checkout/releases/a1/checkout-a1a1a1a1a1a1.yaml",
                "apps/c/7/checkout/releases/a1/checkout-a1a1a1a1a1a1.yaml",
            ),
            (
                "apps/payments/environments/staging.yaml",
                "apps/d/f/payments/environments/staging.yaml",
            ),
        ],
    );
}

pub fn row(app: &str, env: &str, release: &str) -> (String, String, String) {
    (app.to_string(), env.to_string(), release.to_string())
}

/// The commits on the records branch since `tip`, oldest first.
pub fn commits_since(env: &TestEnv, tip: &str) -> Vec<String> {
    env.git(&["rev-list", "--reverse", &format!("{tip}..relctl/records")])
        .lines()
        .map(str::to_string)
        .collect()
}

/// Every file on the records branch.
pub fn files(env: &TestEnv) -> Vec<String> {
    env.git(&["ls-tree", "-r", "--name-only", "relctl/records"])
        .lines()
        .map(str::to_string)
        .collect()
}

/// The two apps of the fixtures in older layouts (tests/fixtures/records-apps, directly
/// under `apps/`; tests/fixtures/records-shards, one level of shards: the same commands
/// made both) read as they are, then moved into `apps/<x>/<y>/<app>/` by one commit
/// of the next write, each file's blob unchanged: `paths` pairs a path before the move
/// with its path after.
pub fn two_apps_read_then_moved(env: &TestEnv, paths: &[(&str, &str)]) {
    let old_tip = env.git(&["rev-parse", "relctl/records"]).trim().to_string();
    let checkout = vec![
        pair("dev", "checkout-a2a2a2a2a2a2"),
        pair("staging", "checkout-a1a1a1a1a1a1"),
    ];
    let payments = vec![
        pair("dev", "payments-b1b1b1b1b1b1"),
        pair("staging", "payments-b1b1b1b1b1b1"),
    ];
    let org = vec![
        row("checkout", "dev", "checkout-a2a2a2a2a2a2"),
        row("checkout", "staging", "checkout-a1a1a1a1a1a1"),
        row("payments", "dev", "payments-b1b1b1b1b1b1"),
        row("payments", "staging", "payments-b1b1b1b1b1b1"),
    ];
    // Read as it is: each app's state, the organisation's view, releases and history.
    assert_eq!(live(env, "release.yaml"), checkout);
    assert_eq!(live(env, "payments/release.yaml"), payments);
    assert_eq!(everything(env), org);
    let table = env.run(&["status", "--all"]);
    ok(&table);
    assert!(
        table.stdout.contains("checkout") && table.stdout.contains("payments-b1b1b1b1b1b1"),
        "{}",
        table.stdout
    );
    let listed = env.run(&["--output", "json", "releases", "--app", "checkout"]);
    ok(&listed);
    let listed: serde_json::Value = serde_json::from_str(listed.stdout.trim()).expect("JSON");
    let ids: Vec<&str> = listed["releases"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|r| r["release"].as_str())
        .collect();
    assert_eq!(ids, ["checkout-a2a2a2a2a2a2", "checkout-a1a1a1a1a1a1"]);
    assert_eq!(
        listed["releases"][0]["rejected"],
        serde_json::json!(["staging"])
    );
    let refused = env.run(&["rollback", "--env", "staging", "--to", "checkout-a2a2"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    let history_reads = || {
        let history = env.run(&["history", "checkout-a1a1a1a1a1a1"]);
        ok(&history);
        assert!(
            history.stdout.contains("version 1.0.0"),
            "{}",
            history.stdout
        );
    };
    history_reads();
    // Reading wrote nothing.
    assert_eq!(env.git(&["rev-parse", "relctl/records"]).trim(), old_tip);

    // The next write moves every app into the two levels first, by one commit of its own.
    let image = format!("ghcr.io/acme/checkout@sha256:{NEWER}");
    ok(&env.run(&["promote", "--artifact", &image, "--env", "dev"]));
    let new = commits_since(env, &old_tip);
    let migration = new.first().expect("new commits");
    assert_eq!(
        env.git(&["rev-parse", &format!("{migration}^")]).trim(),
        old_tip
    );
    let message = env.git(&["show", "-s", "--format=%B", migration]);
    assert!(
        message.starts_with(
            "moved the apps into shard directories, apps/<x>/<y>/<app>/: checkout (2 releases, 2 environments), payments (1 release, 2 environments)"
        ),
        "{message}"
    );
    assert!(message.contains("Relctl-Event: migrated"), "{message}");
    assert!(message.contains("Relctl-App: checkout"), "{message}");
    assert!(message.contains("Relctl-App: payments"), "{message}");
    // Only the move: the promotion's events come after it.
    assert!(
        env.git(&["show", "-s", "--format=%B", &new[1]])
            .contains("Relctl-Event: started"),
        "{}",
        env.git(&["log", "--format=%s", "-3", "relctl/records"])
    );
    // Every file under apps/<x>/<y>/<app>/, none left in the one-level shards; a tree
    // of at most 16 entries at each level above an app.
    let moved = files(env);
    assert!(
        moved.iter().all(|f| f == relctl::format::FORMAT
            || f.starts_with("apps/c/7/checkout/")
            || f.starts_with("apps/d/f/payments/")),
        "{moved:?}"
    );
    assert!(
        moved.contains(&format!(
            "apps/c/7/checkout/releases/9f/checkout-{}.yaml",
            &NEWER[..12]
        )),
        "{moved:?}"
    );
    assert_eq!(
        env.git(&["ls-tree", "--name-only", "relctl/records", "apps/"])
            .trim(),
        "apps/c\napps/d"
    );
    // The same blobs at their new places: git follows a file across the move.
    for (old, new) in paths {
        assert_eq!(
            env.git(&["rev-parse", &format!("{migration}:{new}")]),
            env.git(&["rev-parse", &format!("{old_tip}:{old}")])
        );
    }
    let followed = env.git(&[
        "log",
        "--follow",
        "--format=%s",
        "relctl/records",
        "--",
        &relctl::format::release_path("checkout", "checkout-a1a1a1a1a1a1"),
    ]);
    assert!(
        followed.contains("checkout-a1a1a1a1a1a1: started 1.0.0 for dev → staging"),
        "{followed}"
    );
    history_reads();
    // Each app as it was, the new release live in dev; still rejected where it was.
    let id = format!("checkout-{}", &NEWER[..12]);
    assert_eq!(
        live(env, "release.yaml"),
        vec![pair("dev", &id), pair("staging", "checkout-a1a1a1a1a1a1")]
    );
    assert_eq!(live(env, "payments/release.yaml"), payments);
    let mut org = org;
    org[0] = row("checkout", "dev", &id);
    assert_eq!(everything(env), org);
    let refused = env.run(&["rollback", "--env", "staging", "--to", "checkout-a2a2"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    // Moved once: the next write (by the other app) moves nothing.
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
    let migrated = env.git(&[
        "log",
        "--format=%H",
        "--grep=Relctl-Event: migrated",
        "relctl/records",
    ]);
    assert_eq!(migrated.lines().count(), 1, "{migrated}");
}
