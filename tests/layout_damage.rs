//! Records damaged by a relctl that did not know the two levels of shards: it took a
//! first-level shard `apps/<x>/` for an app and moved it into that name's one-level shard
//! (tests/fixtures/records-displaced). Today's relctl reads the apps where they were
//! moved, moves them back by one commit, refuses an app written in two places, and marks
//! the branch so that such a relctl refuses it (docs/record.md).

use crate::apps::{NEWER, live, pair};
use crate::common::{TestEnv, ok};
use crate::org_layout::{bundle_fixture, commits_since, everything, files, row};

use relctl::format::FORMAT;

fn tip(env: &TestEnv) -> String {
    env.git(&["rev-parse", "relctl/records"]).trim().to_string()
}

fn deploys(env: &TestEnv) -> String {
    std::fs::read_to_string(env.path().join("deploys.log")).unwrap_or_default()
}

/// Asserts that a file on the records branch starts with `path` (a file's whole path,
/// or a directory's).
fn assert_holds(env: &TestEnv, path: &str) {
    let files = files(env);
    assert!(
        files.iter().any(|f| f.starts_with(path)),
        "{path}: {files:?}"
    );
}

fn damaged() -> TestEnv {
    bundle_fixture("tests/fixtures/records-displaced/damaged.bundle")
}

/// The organisation's view and checkout's own status as the fixture was left.
fn reads_as_written(env: &TestEnv) {
    assert_eq!(
        live(env, "release.yaml"),
        vec![
            pair("dev", "checkout-a2a2a2a2a2a2"),
            pair("staging", "checkout-a1a1a1a1a1a1")
        ]
    );
    assert_eq!(
        everything(env),
        vec![
            row("checkout", "dev", "checkout-a2a2a2a2a2a2"),
            row("checkout", "staging", "checkout-a1a1a1a1a1a1"),
            row("payments", "dev", "payments-b1b1b1b1b1b1"),
            row("payments", "staging", "payments-b1b1b1b1b1b1"),
        ]
    );
}

#[test]
fn a_displaced_shard_is_read_where_it_is_and_moved_back_by_the_next_write() {
    let env = damaged();
    assert_holds(&env, "apps/2e/c/7/checkout/environments/");
    let before = tip(&env);
    reads_as_written(&env);
    let history = env.run(&["history", "checkout-a1"]);
    ok(&history);
    assert!(
        history.stdout.contains("version 1.0.0"),
        "{}",
        history.stdout
    );
    assert_eq!(tip(&env), before, "reading wrote nothing");

    // The incident path: rolling dev back deploys checkout's previous image.
    let run = env.run(&["rollback", "--env", "dev", "--reason", "after the damage"]);
    ok(&run);
    let a1 = format!("dev ghcr.io/acme/checkout@sha256:{}", "a1".repeat(32));
    assert_eq!(deploys(&env).trim(), a1);
    let new = commits_since(&env, &before);
    let message = env.git(&["show", "-s", "--format=%B", &new[0]]);
    assert!(
        message.starts_with(
            "moved the apps into shard directories, apps/<x>/<y>/<app>/: \
             checkout (2 releases, 2 environments), payments (1 release, 2 environments)"
        ),
        "{message}"
    );
    assert!(message.contains("Relctl-Event: migrated"), "{message}");
    let moved = files(&env);
    assert!(
        moved.iter().all(|f| f == FORMAT
            || f.starts_with("apps/c/7/checkout/")
            || f.starts_with("apps/d/f/payments/")),
        "{moved:?}"
    );
    // The same blob, so git follows the file across the move.
    let follow = env.git(&[
        "log",
        "--follow",
        "--format=%s",
        "relctl/records",
        "--",
        "apps/c/7/checkout/environments/staging.yaml",
    ]);
    assert!(follow.contains("rolled back"), "{follow}");
    assert_eq!(
        live(&env, "release.yaml"),
        vec![
            pair("dev", "checkout-a1a1a1a1a1a1"),
            pair("staging", "checkout-a1a1a1a1a1a1")
        ]
    );
}

/// What relctl did with such a record before it knew of displaced shards: it took the
/// displaced shard `apps/2e/c/` for an app `c` of one level and moved it once more, to
/// `apps/2/e/c/`.
#[test]
fn a_shard_displaced_twice_is_read_and_moved_back_too() {
    let env = damaged();
    crate::record_sync::edit_records(env.path(), "moved apps/2e/c once more", |tree| {
        std::fs::create_dir_all(tree.join("apps/2/e")).expect("a directory");
        crate::common::git(tree, &["mv", "apps/2e/c", "apps/2/e/c"]);
    });
    assert_holds(&env, "apps/2/e/c/7/checkout/");
    reads_as_written(&env);
    let image = format!("ghcr.io/acme/checkout@sha256:{NEWER}");
    ok(&env.run(&["promote", "--artifact", &image, "--env", "dev"]));
    let moved = files(&env);
    assert!(
        moved
            .iter()
            .all(|f| !f.starts_with("apps/2/e/c/") && !f.starts_with("apps/2e/")),
        "{moved:?}"
    );
    let checkout = format!("checkout-{}", &NEWER[..12]);
    assert_eq!(
        live(&env, "release.yaml"),
        vec![
            pair("dev", &checkout),
            pair("staging", "checkout-a1a1a1a1a1a1")
        ]
    );
}

#[test]
fn an_app_written_in_two_places_is_refused_and_nothing_is_written() {
    let env = bundle_fixture("tests/fixtures/records-displaced/split.bundle");
    let before = tip(&env);
    let image = format!("ghcr.io/acme/checkout@sha256:{NEWER}");
    for args in [
        &["status"][..],
        &["status", "--all"],
        &["rollback", "--env", "dev", "--reason", "split"],
        &["promote", "--artifact", &image, "--env", "dev"],
    ] {
        let run = env.run(args);
        assert_eq!(run.code, 1, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(
                "holds app `checkout` in two places, apps/c7/checkout/ and apps/2e/c/7/checkout/"
            ),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("A record split by an older relctl"),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    assert_eq!(tip(&env), before, "nothing recorded");
    assert_eq!(deploys(&env), "", "nothing deployed");

    // Another app writes beside it: its own files move, checkout's stay as they are.
    let payments = format!("ghcr.io/acme/payments@sha256:{NEWER}");
    let plan = ["--plan", "payments/release.yaml"];
    ok(&env.run(
        &[
            &plan[..],
            &["promote", "--artifact", &payments, "--env", "dev"],
        ]
        .concat(),
    ));
    let after = files(&env);
    assert!(
        after.iter().any(|f| f.starts_with("apps/d/f/payments/")),
        "{after:?}"
    );
    assert!(
        after.iter().any(|f| f.starts_with("apps/c7/checkout/")),
        "{after:?}"
    );
    assert!(
        after.iter().any(|f| f.starts_with("apps/2e/c/7/checkout/")),
        "{after:?}"
    );
    // …and writes again without moving anything more.
    let again = tip(&env);
    ok(&env.run(&[&plan[..], &["rollback", "--env", "dev", "--reason", "r"]].concat()));
    let message = env.git(&["show", "-s", "--format=%s", &commits_since(&env, &again)[0]]);
    assert!(!message.starts_with("moved"), "{message}");

    // The repair docs/record.md gives: one commit keeps one copy, the next write moves it.
    crate::record_sync::edit_records(env.path(), "checkout: keep one record", |tree| {
        // docs/record.md, "A record split by an older relctl", as written there.
        let recipe = r#"keep=apps/c7/checkout; drop=apps/2e/c/7/checkout
for f in $(cd "$drop" && git ls-files releases environments | grep -v 'summary\.tsv$'); do
  [ -e "$keep/$f" ] || { mkdir -p "$(dirname "$keep/$f")" && git mv "$drop/$f" "$keep/$f"; }
done
git rm -r -q --ignore-unmatch "$drop/releases" "$drop/environments""#;
        let docs = std::fs::read_to_string(crate::common::repo_root().join("docs/record.md"))
            .expect("docs/record.md");
        for line in recipe.lines() {
            assert!(docs.contains(line), "docs/record.md no longer has: {line}");
        }
        let run = std::process::Command::new("sh")
            .args(["-ec", recipe])
            .current_dir(tree)
            .output()
            .expect("sh");
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    });
    ok(&env.run(&["promote", "--artifact", &image, "--env", "dev"]));
    let checkout = format!("checkout-{}", &NEWER[..12]);
    assert_eq!(
        live(&env, "release.yaml"),
        vec![
            pair("dev", &checkout),
            pair("staging", "checkout-a1a1a1a1a1a1")
        ]
    );
    assert_holds(
        &env,
        "apps/c/7/checkout/releases/a2/checkout-a2a2a2a2a2a2.yaml",
    );
}

/// A record written by today's relctl: checkout promoted to dev; and its image.
fn checkout_in_dev() -> (TestEnv, String) {
    let env = TestEnv::new();
    env.init_repo();
    crate::apps::fixture_plans(&env);
    let image = format!("ghcr.io/acme/checkout@sha256:{NEWER}");
    ok(&env.run(&["promote", "--artifact", &image, "--env", "dev"]));
    (env, image)
}

/// The first event on a branch writes the file naming its layout, in the same commit;
/// a branch from before it gets it with its next event. An older relctl refuses a branch
/// with a top-level entry it does not know, as this one does.
#[test]
fn the_branch_names_its_layout_so_an_older_relctl_refuses_it() {
    let (env, image) = checkout_in_dev();
    let first = env.git(&["rev-list", "--max-parents=0", "relctl/records"]);
    let shown = env.git(&["show", "--name-only", "--format=%s", first.trim()]);
    assert!(shown.contains(FORMAT), "{shown}");
    let text = env.git(&["show", &format!("relctl/records:{FORMAT}")]);
    assert!(text.contains("apps/<x>/<y>/<app>/"), "{text}");

    // A branch without it (written before it was) gets it with the next event.
    crate::record_sync::edit_records(env.path(), "as before the format file", |tree| {
        crate::common::git(tree, &["rm", "-q", FORMAT]);
    });
    let before = tip(&env);
    ok(&env.run(&["promote", "--artifact", &image, "--env", "staging"]));
    let new = commits_since(&env, &before);
    let first = env.git(&["show", "--name-only", "--format=%s", &new[0]]);
    assert!(
        first.contains(FORMAT) && !first.starts_with("moved"),
        "{first}"
    );
    assert!(files(&env).iter().any(|f| f == FORMAT));

    // A layout newer than this relctl knows names itself otherwise: refused, as this
    // layout is by the relctls before it.
    crate::record_sync::edit_records(env.path(), "a newer layout", |tree| {
        std::fs::write(tree.join("relctl-format-3"), "newer\n").expect("write");
        crate::common::git(tree, &["add", "relctl-format-3"]);
    });
    let before = tip(&env);
    for args in [&["status"][..], &["promote", "--artifact", &image]] {
        let run = env.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(
                "is written in a layout this relctl does not know: it holds relctl-format-3, \
                 where this relctl writes relctl-format-2"
            ) && run.stderr.contains("upgrade this relctl")
                && !run.stderr.contains("record.branch"),
            "{}",
            run.stderr
        );
    }
    assert_eq!(tip(&env), before);
}

/// A directory under `apps/` that is neither a shard nor an app's (it holds no
/// `environments/` or `releases/`) is no app: not listed, not moved, and no write
/// stumbles on it.
#[test]
fn a_directory_that_is_no_app_is_left_alone() {
    let (env, image) = checkout_in_dev();
    crate::record_sync::edit_records(env.path(), "notes beside the apps", |tree| {
        for dir in ["apps/notes", "apps/c/7/notes"] {
            std::fs::create_dir_all(tree.join(dir)).expect("a directory");
            std::fs::write(tree.join(dir).join("README.md"), "notes\n").expect("write");
        }
        crate::common::git(tree, &["add", "apps"]);
    });
    let before = tip(&env);
    ok(&env.run(&["promote", "--artifact", &image, "--env", "staging"]));
    let new = commits_since(&env, &before);
    let first = env.git(&["show", "-s", "--format=%s", &new[0]]);
    assert!(!first.starts_with("moved"), "{first}");
    let checkout = format!("checkout-{}", &NEWER[..12]);
    assert_eq!(
        everything(&env),
        vec![
            row("checkout", "dev", &checkout),
            row("checkout", "staging", &checkout)
        ]
    );
    let kept = files(&env);
    assert!(
        kept.contains(&"apps/notes/README.md".to_string()),
        "{kept:?}"
    );
}

/// An empty bare records repository, in a temp dir of its own (kept alive by the
/// first).
fn bare_remote() -> (TestEnv, std::path::PathBuf) {
    let remote = TestEnv::new();
    let bare = remote.path().join("records.git");
    let bare_arg = bare.to_str().expect("a UTF-8 path");
    crate::common::git(remote.path(), &["init", "-q", "--bare", bare_arg]);
    (remote, bare)
}

/// A repository with the fixtures' two plans, recording through its remote `origin`,
/// the bare repository `bare`, fetched.
fn clone_of(bare: &std::path::Path) -> TestEnv {
    let env = TestEnv::new();
    env.init_repo();
    crate::apps::fixture_plans(&env);
    for plan in ["release.yaml", "payments/release.yaml"] {
        let text = std::fs::read_to_string(env.path().join(plan)).expect("the plan");
        env.write(
            plan,
            text.replacen("\nartifact:", "\nrecord: { remote: origin }\nartifact:", 1),
        );
    }
    env.git(&[
        "remote",
        "add",
        "origin",
        bare.to_str().expect("a UTF-8 path"),
    ]);
    env.git(&["fetch", "-q", "origin"]);
    env
}

/// A clone whose relctl did not know the two levels left record commits unpushed (its
/// remote was down) while another clone's relctl moved the shared record into them.
/// Upgraded, its next write replays those commits where the record now keeps the app,
/// instead of writing a second copy of it beside the first.
#[test]
fn commits_left_unpushed_in_an_older_layout_are_replayed_where_the_record_moved_the_app() {
    let (_remote, bare) = bare_remote();
    let bundle = crate::common::repo_root().join("tests/fixtures/records-shards/two-apps.bundle");
    let bundle = bundle.to_str().expect("a UTF-8 path");
    // The remote had the record up to payments entering staging; the runner's clone
    // also has the four events after it, in one level of shards, never pushed.
    crate::common::git(
        &bare,
        &["fetch", "-q", bundle, "relctl/records:relctl/records"],
    );
    let pushed = crate::common::git(&bare, &["rev-parse", "relctl/records~4"]);
    crate::common::git(
        &bare,
        &["update-ref", "refs/heads/relctl/records", pushed.trim()],
    );

    let runner = clone_of(&bare);
    runner.git(&["fetch", "-q", bundle, "relctl/records:relctl/records"]);
    let laptop = clone_of(&bare);
    laptop.git(&["branch", "-q", "relctl/records", "origin/relctl/records"]);

    // The laptop's relctl moves the record into the two levels and pushes.
    let image = format!("ghcr.io/acme/checkout@sha256:{NEWER}");
    ok(&laptop.run(&["promote", "--artifact", &image, "--env", "dev"]));
    let moved = crate::common::git(&bare, &["ls-tree", "-r", "--name-only", "relctl/records"]);
    assert!(!moved.contains("apps/df/"), "{moved}");

    // The runner, upgraded, writes for checkout: payments' waiting events go first.
    ok(&runner.run(&["rollback", "--env", "dev", "--reason", "after the upgrade"]));
    let after = crate::common::git(&bare, &["ls-tree", "-r", "--name-only", "relctl/records"]);
    assert!(
        after.lines().all(|f| f == FORMAT
            || f.starts_with("apps/c/7/checkout/")
            || f.starts_with("apps/d/f/payments/")),
        "{after}"
    );
    assert!(
        after.contains("apps/d/f/payments/environments/staging.yaml"),
        "{after}"
    );
    let log = crate::common::git(&bare, &["log", "--format=%s", "relctl/records"]);
    assert!(log.contains("payments-b1b1b1b1b1b1 staging: live"), "{log}");
    assert_eq!(
        live(&laptop, "payments/release.yaml"),
        vec![
            pair("dev", "payments-b1b1b1b1b1b1"),
            pair("staging", "payments-b1b1b1b1b1b1")
        ]
    );
}

/// The views of every app name every app in two places at once, so that one repair
/// commit can take them all.
#[test]
fn the_views_of_every_app_name_every_app_in_two_places() {
    let env = bundle_fixture("tests/fixtures/records-displaced/split.bundle");
    crate::record_sync::edit_records(env.path(), "payments written twice", |tree| {
        std::fs::create_dir_all(tree.join("apps/d/f")).expect("a directory");
        crate::common::git(tree, &["mv", "apps/df/payments", "apps/d/f/payments"]);
        crate::common::git(tree, &["checkout", "HEAD", "--", "apps/df/payments"]);
    });
    for args in [&["status", "--all"][..], &["releases", "--records", "."]] {
        let run = env.run(args);
        assert_eq!(run.code, 1, "{args:?}: {}{}", run.stdout, run.stderr);
        for named in [
            "`checkout` in two places, apps/c7/checkout/ and apps/2e/c/7/checkout/",
            "`payments` in two places, apps/d/f/payments/ and apps/df/payments/",
        ] {
            assert!(run.stderr.contains(named), "{args:?}: {}", run.stderr);
        }
        assert!(
            run.stderr
                .contains("take away only the other's environments/ and releases/"),
            "{}",
            run.stderr
        );
    }
}

/// A clone whose unpushed commits conflict with the remote's (both recorded the same
/// environment of checkout): only checkout stops. Its commits are held apart under a
/// ref, the other app's waiting commits go on to the remote, a read names the app held,
/// a write for it stops before deploying, and docs/record.md's way to settle it
/// ("Commits that conflict with the remote's") lets it record again.
#[test]
fn a_conflict_holds_back_only_its_own_app_and_the_documented_way_settles_it() {
    let (_remote, bare) = bare_remote();
    let (laptop, runner) = (clone_of(&bare), clone_of(&bare));
    let image = |app: &str, hex: &str| format!("ghcr.io/acme/{app}@sha256:{hex}");
    let (a1, c3) = ("a1".repeat(32), "c3".repeat(32));
    let promote = |env: &TestEnv, plan: &str, offline: bool, artifact: &str| {
        let mut args = vec!["--plan", plan];
        if offline {
            args.push("--offline");
        }
        args.extend(["promote", "--artifact", artifact, "--env", "dev"]);
        env.run(&args)
    };
    ok(&promote(
        &laptop,
        "release.yaml",
        false,
        &image("checkout", &a1),
    ));
    ok(&runner.run(&["status"]));
    // The runner records offline: checkout, which the laptop records again meanwhile,
    // and payments, which nobody else touches.
    ok(&promote(
        &runner,
        "release.yaml",
        true,
        &image("checkout", NEWER),
    ));
    ok(&promote(
        &runner,
        "payments/release.yaml",
        true,
        &image("payments", &a1),
    ));
    ok(&promote(
        &laptop,
        "release.yaml",
        false,
        &image("checkout", &c3),
    ));
    let held = "refs/relctl/held/relctl/records/checkout";
    let remote_log = || crate::common::git(&bare, &["log", "--format=%s", "relctl/records"]);
    let runner_live = format!("checkout-{} dev: live", &NEWER[..12]);

    // A read: checkout as the remote has it, and a warning naming it.
    let status = runner.run(&["status"]);
    ok(&status);
    assert!(
        status.stderr.contains(&format!(
            "record commit(s) of `checkout` made here conflict with what origin has: they are kept at {held}"
        )) && !status.stderr.contains("could not reach"),
        "{}",
        status.stderr
    );
    assert!(
        status.stdout.contains(&format!("checkout-{}", &c3[..12])),
        "{}",
        status.stdout
    );
    let json = runner.run(&["--output", "json", "status", "--all"]);
    ok(&json);
    let view: serde_json::Value = serde_json::from_str(json.stdout.trim()).expect("JSON");
    assert_eq!(view["view"]["held"][0]["app"], "checkout", "{view}");
    assert_eq!(view["view"]["held"][0]["ref"], held, "{view}");
    assert!(view["view"]["conflict"].is_null(), "{view}");
    let json = runner.run(&["--output", "json", "releases"]);
    ok(&json);
    let view: serde_json::Value = serde_json::from_str(json.stdout.trim()).expect("JSON");
    assert_eq!(view["view"]["held"][0]["app"], "checkout", "{view}");
    let kept = runner.git(&["log", "--format=%s", held]);
    assert!(kept.contains(&runner_live), "{kept}");

    // The other app goes on: its waiting events and a new one reach the remote.
    ok(&promote(
        &runner,
        "payments/release.yaml",
        false,
        &image("payments", NEWER),
    ));
    let log = remote_log();
    for event in [
        format!("payments-{} dev: live", &a1[..12]),
        format!("payments-{} dev: live", &NEWER[..12]),
        format!("checkout-{} dev: live", &c3[..12]),
    ] {
        assert!(log.contains(&event), "{event}: {log}");
    }
    assert!(
        !log.contains(&format!("checkout-{}", &NEWER[..12])),
        "{log}"
    );

    // A write for checkout stops before it deploys, and says where to look; a promote
    // under --output json ends with its summary line, as every promote does.
    let before = deploys(&runner);
    let c4 = image("checkout", &"c4".repeat(32));
    for args in [
        &["rollback", "--env", "dev", "--reason", "back"][..],
        &[
            "unlock",
            "--env",
            "staging",
            "--reason",
            "nothing to unlock",
        ],
        &[
            "--output",
            "json",
            "promote",
            "--artifact",
            &c4,
            "--env",
            "dev",
        ],
    ] {
        let write = runner.run(args);
        assert_eq!(write.code, 1, "{}", write.stderr);
        if args[0] == "--output" {
            let last: serde_json::Value =
                serde_json::from_str(write.stdout.lines().last().unwrap_or_default())
                    .expect("a JSON summary");
            assert_eq!(last["summary"], true, "{}", write.stdout);
            assert_eq!(last["exit"], 1, "{}", write.stdout);
            assert!(
                last["error"]
                    .as_str()
                    .is_some_and(|e| e.contains("conflict with what remote `origin` has")),
                "{}",
                write.stdout
            );
        }
        assert!(
            write.stderr.contains(&format!(
                "record commit(s) of `checkout` made in this clone conflict with what remote `origin` has: they are kept at {held}"
            )) && write
                .stderr
                .contains("docs/record.md, \"Commits that conflict with the remote's\""),
            "{}",
            write.stderr
        );
    }
    assert_eq!(deploys(&runner), before, "nothing deployed");

    // docs/record.md's way, as written there.
    let recipe = r#"held=refs/relctl/held/relctl/records/$app
git -C "$R" log --format='%h %ci %s' --grep="^Relctl-App: $app\$" relctl/records..$held   # what they recorded
git -C "$R" branch "held-$app-$(date +%s)" "$held"                       # kept, if you want them
git -C "$R" rev-parse -q --verify "$held" >/dev/null && git -C "$R" update-ref -d "$held""#;
    let docs = std::fs::read_to_string(crate::common::repo_root().join("docs/record.md"))
        .expect("docs/record.md");
    for line in recipe.lines() {
        assert!(docs.contains(line), "docs/record.md no longer has: {line}");
    }
    let settle = |app: &str, flags: &str| {
        std::process::Command::new("sh")
            .args([flags, &recipe.replace("$(date +%s)", "1")])
            .env("R", runner.path())
            .env("app", app)
            .current_dir(runner.path())
            .output()
            .expect("sh")
    };
    // A mistyped app, every line run as pasted: the held ref stays.
    settle("chekout", "-c");
    runner.git(&["rev-parse", "--verify", held]);
    let run = settle("checkout", "-ec");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        String::from_utf8_lossy(&run.stdout)
            .contains(&format!("checkout-{} dev: live", &NEWER[..12])),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
    let kept = runner.git(&["log", "--format=%s", "held-checkout-1"]);
    assert!(kept.contains(&runner_live), "{kept}");
    // Settled: checkout records again, on the remote's record.
    ok(&promote(
        &runner,
        "release.yaml",
        false,
        &image("checkout", NEWER),
    ));
    let log = remote_log();
    assert!(log.contains(&runner_live), "{log}");
    let status = runner.run(&["status"]);
    ok(&status);
    assert!(!status.stderr.contains("conflict"), "{}", status.stderr);
}
