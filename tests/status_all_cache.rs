//! The organisation's view keeps each app's rows between views (`.git/relctl-status.cache`,
//! by the tree of the app's directory): a view never shows a row the record no longer
//! says, whatever the cache holds.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::Run;
use crate::common::setup::{CANARY, HEX, OLD, Setup, release};

const APPROVAL: &str =
    "    approval: { approvers: [\"*@sre.acme.io\"], min: 1, allow_self: false }\n";

const NEW: &str = "5e00000000000000000000000000000000000000000000000000000000000005";

const CACHE: &str = "relctl-status.cache";

/// `status --all --output json` of the records repository `dir`, run outside it.
fn view(s: &Setup, dir: &Path, args: &[&str]) -> Run {
    let elsewhere = s.env.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).expect("a directory");
    let records = dir.to_string_lossy().into_owned();
    let mut all = vec!["status", "--all", "--records", records.as_str()];
    all.extend_from_slice(args);
    let run = s.env.run_with(&all, |c| {
        c.current_dir(&elsewhere);
    });
    assert_eq!(run.code, 0, "{}", run.stderr);
    run
}

/// The rows of a JSON view, each as `app/env release version standing who`.
fn rows(run: &Run) -> Vec<String> {
    let json: Value = serde_json::from_str(&run.stdout).expect("json");
    json["environments"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            let f = |k: &str| r[k].as_str().unwrap_or("-").to_string();
            format!(
                "{}/{} {} {} {} {}",
                f("app"),
                f("env"),
                f("release"),
                f("version"),
                f("standing"),
                f("who")
            )
        })
        .collect()
}

/// The view with the cache of `git_dir` as it is, then without it: both, as JSON and as
/// a table, must say the same.
fn warm_and_cold(s: &Setup, dir: &Path, git_dir: &Path) -> Vec<String> {
    let warm = view(s, dir, &["--output", "json"]);
    let warm_table = view(s, dir, &[]);
    std::fs::remove_file(git_dir.join(CACHE)).expect("the view keeps a cache");
    let cold = view(s, dir, &["--output", "json"]);
    assert_eq!(warm.stdout, cold.stdout);
    assert_eq!(warm_table.stdout, view(s, dir, &[]).stdout);
    rows(&warm)
}

fn ok(run: Run) {
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn a_view_after_a_promotion_a_rollback_or_a_lock_change_shows_the_new_state() {
    let s = Setup::new(APPROVAL, CANARY);
    let dir = s.env.path().to_path_buf();
    let git = dir.join(".git");
    let me = "tester@example.com";
    let row = |env: &str, hex: &str, version: &str, standing: &str, who: &str| {
        format!("checkout/{env} {} {version} {standing} {who}", release(hex))
    };
    // OLD waits for an approval in production.
    assert_eq!(s.promote(OLD, &["--version", "1.0.0"]).code, 4);
    view(&s, &dir, &[]);
    let paused = format!("paused for approval: {}", release(OLD));
    let rows = warm_and_cold(&s, &dir, &git);
    assert_eq!(rows[1], format!("checkout/production - - {paused} {me}"));

    // The release file of the release holding the lock changes, the environment's file
    // does not: the row says where the release is now.
    let path = relctl::format::release_path("checkout", &release(OLD));
    s.edit_record(&path, |text| {
        let cut = text.rfind("- at:").expect("a last event");
        assert!(text[cut..].contains("awaiting_approval"), "{text}");
        text[..cut].to_string()
    });
    let rows = warm_and_cold(&s, &dir, &git);
    let under_way = format!("in progress: {}", release(OLD));
    assert_eq!(rows[1], format!("checkout/production - - {under_way} {me}"));

    // Approved and resumed: live.
    s.relctl(&["abort", &release(OLD), "--reason", "edited by hand"]);
    assert_eq!(s.promote(HEX, &["--version", "1.1.0"]).code, 4);
    ok(s.relctl_as(
        "ops@sre.acme.io",
        &["approve", &release(HEX), "--env", "production"],
    ));
    ok(s.relctl(&["resume", &release(HEX)]));
    let rows = warm_and_cold(&s, &dir, &git);
    assert_eq!(rows[1], row("production", HEX, "1.1.0", "live", me));
    assert_eq!(rows[2], row("staging", HEX, "1.1.0", "live", me));

    // Rolled back in staging.
    ok(s.relctl(&["rollback", "--env", "staging", "--reason", "5xx"]));
    let rows = warm_and_cold(&s, &dir, &git);
    let rolled = format!("rolled back from {}", release(HEX));
    assert_eq!(rows[2], row("staging", OLD, "1.0.0", &rolled, me));

    // A lock taken, then let go.
    assert_eq!(s.promote(NEW, &["--version", "1.2.0"]).code, 4,);
    let rows = warm_and_cold(&s, &dir, &git);
    let paused = format!("paused for approval: {}", release(NEW));
    assert_eq!(
        rows[1],
        format!("checkout/production {} 1.1.0 {paused} {me}", release(HEX))
    );
    ok(s.relctl(&["abort", &release(NEW), "--reason", "not now"]));
    let rows = warm_and_cold(&s, &dir, &git);
    assert_eq!(rows[1], row("production", HEX, "1.1.0", "live", me));
}

#[test]
fn a_cache_that_is_garbage_cut_short_edited_or_of_another_version_is_not_read() {
    let s = Setup::new("", CANARY);
    ok(s.promote(HEX, &["--version", "1.1.0"]));
    let dir = s.env.path().to_path_buf();
    let cache = dir.join(".git").join(CACHE);
    let truth = view(&s, &dir, &["--output", "json"]).stdout;
    let kept = std::fs::read_to_string(&cache).expect("the view keeps a cache");
    // The same rows with another version: what a cache read wrongly would show.
    let edited = kept.replace("\t1.1.0\t", "\t6.6.6\t");
    assert_ne!(edited, kept);
    let shown = |text: &[u8]| {
        std::fs::write(&cache, text).expect("write the cache");
        view(&s, &dir, &["--output", "json"]).stdout
    };
    // Edited by hand, the row's tree id left alone: its end line's sum no longer adds up.
    assert_eq!(shown(edited.as_bytes()), truth);
    // The same edit with the sum made again, as `relctl` writes it, is read (it is only
    // a shortcut for the view): so each of the others below would show 6.6.6 if read.
    let forged = {
        use sha2::Digest as _;
        let end = edited.trim_end().rfind('\n').expect("an end line") + 1;
        let (body, last) = edited.split_at(end);
        let count = last.split('\t').nth(1).expect("a count");
        let sum = hex::encode(&sha2::Sha256::digest(body.as_bytes())[..8]);
        format!("{body}end\t{count}\t{sum}\n")
    };
    assert!(shown(forged.as_bytes()).contains("6.6.6"));
    let (header, rest) = forged.split_once('\n').expect("a header");
    let other_versions = [
        format!("{}\n{rest}", header.replace("rows 1", "rows 2")),
        format!("{}0\n{rest}", header),
        format!("relctl glance 1\n{rest}"),
    ];
    for other in &other_versions {
        assert_eq!(shown(other.as_bytes()), truth, "{other}");
        // It is written again, as this relctl writes it.
        assert_eq!(std::fs::read_to_string(&cache).expect("cache"), kept);
    }
    let end = forged.trim_end().rfind('\n').expect("an end line");
    let cut_short = [
        &forged[..end + 1],
        &forged[..end],
        &forged[..forged.len() / 2],
        &forged[..forged.len() - 2],
    ];
    for cut in cut_short {
        assert_eq!(shown(cut.as_bytes()), truth, "{cut}");
    }
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    assert_eq!(shown(&garbage), truth);
    let mut bad_line = forged.clone().into_bytes();
    bad_line.splice(
        header.len() + 1..header.len() + 1,
        b"x\t\\q\n".iter().copied(),
    );
    assert_eq!(shown(&bad_line), truth);
    assert_eq!(shown(b""), truth);
    // A directory where the file should be: the view still shows the record.
    std::fs::remove_file(&cache).expect("remove the cache");
    std::fs::create_dir(&cache).expect("a directory");
    assert_eq!(view(&s, &dir, &["--output", "json"]).stdout, truth);
}

/// checkout and payments, each with its plan in its own directory of one repository,
/// OLD then HEX live everywhere.
fn two_apps() -> Setup {
    let s = Setup::new("", CANARY);
    let plan = std::fs::read_to_string(s.env.path().join("release.yaml")).expect("plan");
    std::fs::remove_file(s.env.path().join("release.yaml")).expect("remove the plan");
    s.env.write("checkout/release.yaml", &plan);
    s.env.write(
        "payments/release.yaml",
        plan.replace("app: checkout", "app: payments")
            .replace("acme/checkout", "acme/payments"),
    );
    for app in ["checkout", "payments"] {
        let plan = format!("{app}/release.yaml");
        for (hex, version) in [(OLD, "1.0.0"), (HEX, "1.1.0")] {
            let image = format!("ghcr.io/acme/{app}@sha256:{hex}");
            ok(s.relctl(&[
                "--plan",
                &plan,
                "promote",
                "--artifact",
                &image,
                "--version",
                version,
            ]));
        }
    }
    s
}

#[test]
fn filters_by_app_and_environment_are_right_with_a_warm_cache() {
    let s = two_apps();
    let dir = s.env.path().to_path_buf();
    let names = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["--output", "json"];
        all.extend_from_slice(args);
        rows(&view(&s, &dir, &all))
            .iter()
            .map(|r| r.split(' ').next().unwrap_or("-").to_string())
            .collect()
    };
    let everything = [
        "checkout/dev",
        "checkout/production",
        "checkout/staging",
        "payments/dev",
        "payments/production",
        "payments/staging",
    ];
    assert_eq!(names(&[]), everything);
    assert_eq!(
        names(&["--app", "payments"]),
        ["payments/dev", "payments/production", "payments/staging"]
    );
    assert_eq!(
        names(&["--env", "production"]),
        ["checkout/production", "payments/production"]
    );
    assert_eq!(
        names(&["--app", "checkout", "--env", "dev"]),
        ["checkout/dev"]
    );
    // A view of one app and one environment keeps what it made of the whole app, and
    // what earlier views made of the others.
    assert_eq!(names(&[]), everything);

    let standing = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["--output", "json"];
        all.extend_from_slice(args);
        let json: Value = serde_json::from_str(&view(&s, &dir, &all).stdout).expect("json");
        json["environments"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| r["standing"].as_str().unwrap_or("-").to_string())
            .collect()
    };
    let rolled = format!("rolled back from {}", release(HEX));
    ok(s.relctl(&[
        "--plan",
        "checkout/release.yaml",
        "rollback",
        "--env",
        "production",
        "--reason",
        "5xx",
    ]));
    // Seen first by a view of the other app, then of one environment.
    assert_eq!(standing(&["--app", "payments"]), ["live"; 3]);
    assert_eq!(
        standing(&["--env", "production"]),
        [rolled.as_str(), "live"]
    );
    assert_eq!(
        standing(&["--app", "checkout", "--env", "production"]),
        [rolled.as_str()]
    );
    assert_eq!(
        standing(&[]),
        ["live", rolled.as_str(), "live", "live", "live", "live"]
    );
    ok(s.relctl(&[
        "--plan",
        "payments/release.yaml",
        "rollback",
        "--env",
        "staging",
        "--reason",
        "5xx",
    ]));
    let paid = format!("rolled back from payments-{}", &HEX[..12]);
    assert_eq!(
        standing(&["--app", "checkout"]),
        ["live", rolled.as_str(), "live"]
    );
    assert_eq!(standing(&["--env", "staging"]), ["live", paid.as_str()]);
    assert_eq!(
        standing(&[]),
        [
            "live",
            rolled.as_str(),
            "live",
            "live",
            "live",
            paid.as_str()
        ]
    );

    // A file edited badly by hand fails the views that show it, and only those.
    s.edit_record(&relctl::format::env_path("payments", "dev"), |_| {
        "live: [\n".to_string()
    });
    let records = dir.to_string_lossy().into_owned();
    let shown = |env: &str| {
        s.env
            .run(&["status", "--all", "--records", &records, "--env", env])
    };
    for _ in 0..2 {
        let run = shown("dev");
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(
            run.stderr.contains("payments/environments/dev.yaml"),
            "{}",
            run.stderr
        );
        let run = shown("staging");
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(!run.stderr.contains("dev.yaml"), "{}", run.stderr);
        assert!(run.stdout.contains(&paid), "{}", run.stdout);
    }
}

#[test]
fn each_clone_shows_its_own_record_whatever_cache_it_holds() {
    let s = Setup::new("", CANARY);
    ok(s.promote(OLD, &["--version", "1.0.0"]));
    ok(s.promote(HEX, &["--version", "1.1.0"]));
    let a = s.env.path().to_path_buf();
    let b: PathBuf = s.env.path().join("clone.git");
    s.env.git(&[
        "clone",
        "-q",
        "--bare",
        "--no-local",
        ".",
        b.to_str().expect("a UTF-8 path"),
    ]);
    let live = rows(&view(&s, &a, &["--output", "json"]));
    assert_eq!(rows(&view(&s, &b, &["--output", "json"])), live);
    let before = std::fs::read(b.join(CACHE)).expect("a bare clone keeps its own cache");

    ok(s.relctl(&["rollback", "--env", "production", "--reason", "5xx"]));
    let rolled_back = rows(&view(&s, &a, &["--output", "json"]));
    assert_ne!(rolled_back, live);
    // The clone has not fetched: it shows its own record, even with the other's cache.
    assert_eq!(rows(&view(&s, &b, &["--output", "json"])), live);
    std::fs::copy(a.join(".git").join(CACHE), b.join(CACHE)).expect("copy the cache");
    assert_eq!(rows(&view(&s, &b, &["--output", "json"])), live);
    // The first one, given the clone's cache from before the rollback, shows the
    // rollback.
    std::fs::write(a.join(".git").join(CACHE), &before).expect("write the cache");
    assert_eq!(rows(&view(&s, &a, &["--output", "json"])), rolled_back);
    // Fetched, the clone shows it too.
    crate::common::git(&b, &["fetch", "-q", "origin", "+refs/heads/*:refs/heads/*"]);
    assert_eq!(rows(&view(&s, &b, &["--output", "json"])), rolled_back);
}
