//! Apps spread over two levels of 16 shard directories, `apps/<x>/<y>/<app>/`: a record
//! in the one-level shards `apps/<xx>/<app>/` (what relctl wrote before) and one whose
//! apps are directly under `apps/`, named like shards, are read as they are and moved
//! by one commit with their history.

use crate::apps::{NEWER, live, pair};
use crate::common::{TestEnv, ok};
use crate::org_layout::{bundle_fixture, everything};

fn row(app: &str, env: &str, release: &str) -> (String, String, String) {
    (app.to_string(), env.to_string(), release.to_string())
}

/// The commits on the records branch since `tip`, oldest first.
fn commits_since(env: &TestEnv, tip: &str) -> Vec<String> {
    env.git(&["rev-list", "--reverse", &format!("{tip}..relctl/records")])
        .lines()
        .map(str::to_string)
        .collect()
}

/// Every file on the records branch.
fn files(env: &TestEnv) -> Vec<String> {
    env.git(&["ls-tree", "-r", "--name-only", "relctl/records"])
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_record_in_one_level_of_shards_is_read_and_moved_by_one_commit_with_its_history() {
    let env = bundle_fixture("tests/fixtures/records-shards/two-apps.bundle");
    let old_tip = env.git(&["rev-parse", "relctl/records"]).trim().to_string();
    assert!(
        files(&env)
            .iter()
            .all(|f| f.starts_with("apps/c7/checkout/") || f.starts_with("apps/df/payments/")),
        "the fixture is in one level of shards: {:?}",
        files(&env)
    );
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
    assert_eq!(live(&env, "release.yaml"), checkout);
    assert_eq!(live(&env, "payments/release.yaml"), payments);
    assert_eq!(everything(&env), org);
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
    let history = env.run(&["history", "checkout-a1a1a1a1a1a1"]);
    ok(&history);
    assert!(
        history.stdout.contains("version 1.0.0"),
        "{}",
        history.stdout
    );
    // Reading wrote nothing.
    assert_eq!(env.git(&["rev-parse", "relctl/records"]).trim(), old_tip);

    // The next write moves every app into the two levels first, by one commit of its own.
    let image = format!("ghcr.io/acme/checkout@sha256:{NEWER}");
    ok(&env.run(&["promote", "--artifact", &image, "--env", "dev"]));
    let new = commits_since(&env, &old_tip);
    let migration = new.first().expect("new commits");
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
    let moved = files(&env);
    assert!(
        moved
            .iter()
            .all(|f| f.starts_with("apps/c/7/checkout/") || f.starts_with("apps/d/f/payments/")),
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
    for (old, new) in [
        (
            "apps/c7/checkout/releases/a1/checkout-a1a1a1a1a1a1.yaml",
            "apps/c/7/checkout/releases/a1/checkout-a1a1a1a1a1a1.yaml",
        ),
        (
            "apps/c7/checkout/releases/a2/summary.tsv",
            "apps/c/7/checkout/releases/a2/summary.tsv",
        ),
        (
            "apps/df/payments/environments/staging.yaml",
            "apps/d/f/payments/environments/staging.yaml",
        ),
    ] {
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
        "apps/c/7/checkout/releases/a1/checkout-a1a1a1a1a1a1.yaml",
    ]);
    assert!(
        followed.contains("checkout-a1a1a1a1a1a1: started 1.0.0 for dev → staging"),
        "{followed}"
    );
    let history = env.run(&["history", "checkout-a1a1a1a1a1a1"]);
    ok(&history);
    assert!(
        history.stdout.contains("version 1.0.0"),
        "{}",
        history.stdout
    );
    // Each app as it was, the new release live in dev; still rejected where it was.
    let id = format!("checkout-{}", &NEWER[..12]);
    assert_eq!(
        live(&env, "release.yaml"),
        vec![pair("dev", &id), pair("staging", "checkout-a1a1a1a1a1a1")]
    );
    assert_eq!(live(&env, "payments/release.yaml"), payments);
    let mut org = org;
    org[0] = row("checkout", "dev", &id);
    assert_eq!(everything(&env), org);
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

/// An app named `c`, directly under `apps/` as the relctl before the shards wrote it,
/// where `checkout` would now write its first-level shard `apps/c/`: the app's
/// directory is told from a shard by what it holds, and checkout's first write moves
/// it into its own shards before writing beside it.
#[test]
fn an_app_named_like_a_shard_is_moved_before_another_app_writes_into_that_shard() {
    let env = TestEnv::new();
    env.init_repo();
    crate::apps::fixture_plans(&env);
    let plan = std::fs::read_to_string(env.path().join("release.yaml")).expect("the plan");
    env.write("c/release.yaml", plan.replace("checkout", "c"));
    let image = format!("ghcr.io/acme/c@sha256:{NEWER}");
    ok(&env.run(&["--plan", "c/release.yaml", "promote", "--artifact", &image]));
    // Where the relctl before the shards kept it: apps/c/ (the same files).
    crate::record_sync::edit_records(env.path(), "apps/c as before the shards", |tree| {
        crate::common::git(tree, &["mv", "apps/2/e/c", "apps/c"]);
    });
    let c = format!("c-{}", &NEWER[..12]);
    assert!(
        files(&env).iter().all(|f| f.starts_with("apps/c/")),
        "{:?}",
        files(&env)
    );
    assert_eq!(
        live(&env, "c/release.yaml"),
        vec![pair("dev", &c), pair("staging", &c)]
    );
    let old_tip = env.git(&["rev-parse", "relctl/records"]).trim().to_string();

    let image = format!("ghcr.io/acme/checkout@sha256:{NEWER}");
    ok(&env.run(&["promote", "--artifact", &image, "--env", "dev"]));
    let new = commits_since(&env, &old_tip);
    let message = env.git(&["show", "-s", "--format=%B", &new[0]]);
    assert!(
        message.starts_with(
            "moved the apps into shard directories, apps/<x>/<y>/<app>/: c (1 release, 2 environments)"
        ),
        "{message}"
    );
    let moved = files(&env);
    assert!(
        moved
            .iter()
            .all(|f| f.starts_with("apps/2/e/c/") || f.starts_with("apps/c/7/checkout/")),
        "{moved:?}"
    );
    let checkout = format!("checkout-{}", &NEWER[..12]);
    assert_eq!(
        everything(&env),
        vec![
            row("c", "dev", &c),
            row("c", "staging", &c),
            row("checkout", "dev", &checkout),
        ]
    );
    assert_eq!(
        live(&env, "c/release.yaml"),
        vec![pair("dev", &c), pair("staging", &c)]
    );
}
