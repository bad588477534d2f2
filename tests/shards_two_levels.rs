//! Apps spread over two levels of 16 shard directories, `apps/<x>/<y>/<app>/`: a record
//! in the one-level shards `apps/<xx>/<app>/` (what relctl wrote before) and one whose
//! apps are directly under `apps/`, named like shards, are read as they are and moved
//! by one commit with their history.

use crate::apps::{NEWER, live, pair};
use crate::common::{TestEnv, ok};
use crate::org_layout::{
    bundle_fixture, commits_since, everything, files, row, two_apps_read_then_moved,
};

#[test]
fn a_record_in_one_level_of_shards_is_read_and_moved_by_one_commit_with_its_history() {
    let env = bundle_fixture("tests/fixtures/records-shards/two-apps.bundle");
    assert!(
        files(&env)
            .iter()
            .all(|f| f.starts_with("apps/c7/checkout/") || f.starts_with("apps/df/payments/")),
        "the fixture is in one level of shards: {:?}",
        files(&env)
    );
    two_apps_read_then_moved(
        &env,
        &[
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
        ],
    );
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
        files(&env)
            .iter()
            .all(|f| f == relctl::format::FORMAT || f.starts_with("apps/c/")),
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
        moved.iter().all(|f| f == relctl::format::FORMAT
            || f.starts_with("apps/2/e/c/")
            || f.starts_with("apps/c/7/checkout/")),
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
