//! `relctl report`: the DORA measures from a record whose history the test writes,
//! with the clock pinned so every event lands at a known time.

use serde_json::Value;

use crate::common::Run;
use crate::common::setup::{CANARY, HEX, OLD, SECRET, Setup, artifact};
use crate::notes::commit;

const THIRD: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
const DEV: (&str, &str) = ("Dev", "dev@acme.io");

fn at(s: &Setup, now: &str, args: &[&str]) -> Run {
    s.env.run_with(args, |c| {
        c.env("DEPLOY_TOKEN", SECRET)
            .env("RELCTL_BACKOFF_MS", "1")
            .env("RELCTL_NOW", now);
    })
}

/// Three releases into production, the third rolled back 90 minutes after going live.
/// Lead times (source commit to live): 2h, 24h and 6h.
fn history() -> Setup {
    let s = Setup::new("", CANARY);
    commit(&s.env, "one", DEV, "2026-11-01T08:00:00Z");
    let promote = |hex: &str, now: &str| {
        let run = at(&s, now, &["promote", "--artifact", &artifact(hex)]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    };
    promote(OLD, "2026-11-01T10:00:00Z");
    commit(&s.env, "two", DEV, "2026-11-02T09:00:00Z");
    promote(HEX, "2026-11-03T09:00:00Z");
    commit(&s.env, "three", DEV, "2026-11-05T00:00:00Z");
    promote(THIRD, "2026-11-05T06:00:00Z");
    let run = at(
        &s,
        "2026-11-05T07:30:00Z",
        &["rollback", "--env", "production", "--reason", "5xx"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    s
}

fn report(s: &Setup, args: &[&str]) -> Value {
    let mut all = vec!["report", "--output", "json"];
    all.extend_from_slice(args);
    let run = at(s, "2026-11-10T00:00:00Z", &all);
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).expect("one JSON object")
}

#[test]
fn report_gives_the_four_measures_and_their_counts() {
    let s = history();
    let r = report(&s, &["--since", "10d"]);
    assert_eq!(r["env"], "production");
    assert_eq!(r["from"], "2026-10-31T00:00:00Z");
    assert_eq!(r["until"], "2026-11-10T00:00:00Z");
    assert_eq!(r["days"], 10.0);
    let f = &r["deployment_frequency"];
    assert_eq!(f["deployments"], 3);
    assert_eq!(f["per_day"], 0.3);
    assert_eq!(f["bucket"], "weekly");
    let l = &r["lead_time"];
    assert_eq!(l["median_seconds"], 6 * 3600);
    assert_eq!(
        (l["measured"].clone(), l["skipped"].clone()),
        (3.into(), 0.into())
    );
    let c = &r["change_failure_rate"];
    assert_eq!(c["failed"], 1);
    assert_eq!(c["deployments"], 3);
    assert_eq!(c["rate"], 0.333);
    let t = &r["time_to_restore"];
    assert_eq!(t["median_seconds"], 90 * 60);
    assert_eq!(t["restored"], 1);

    // A shorter period holds only the third release.
    let r = report(&s, &["--since", "5d"]);
    assert_eq!(r["deployment_frequency"]["deployments"], 1);
    assert_eq!(r["deployment_frequency"]["per_day"], 0.2);
    assert_eq!(r["lead_time"]["median_seconds"], 6 * 3600);
    assert_eq!(r["change_failure_rate"]["rate"], 1.0);

    // Another environment: the same deployments, never rolled back.
    let r = report(&s, &["--env", "dev", "--since", "10d"]);
    assert_eq!(r["deployment_frequency"]["deployments"], 3);
    assert_eq!(r["change_failure_rate"]["failed"], 0);
    assert_eq!(r["change_failure_rate"]["rate"], 0.0);
    assert_eq!(r["time_to_restore"]["median_seconds"], Value::Null);

    // Without --since, the period starts with the first deployment.
    let r = report(&s, &[]);
    assert_eq!(r["from"], "2026-11-01T10:00:00Z");
    assert_eq!(r["deployment_frequency"]["deployments"], 3);
}

#[test]
fn report_table_for_people() {
    let s = history();
    let run = at(&s, "2026-11-10T00:00:00Z", &["report", "--since", "10d"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "production: 2026-10-31 00:00 UTC to 2026-11-10 00:00 UTC (10 days)\n\n\
         MEASURE                VALUE              BASED ON\n\
         deployment frequency   0.30/day (weekly)  3 releases went live in 10 days\n\
         lead time for changes  6h (median)        3 releases from source commit to live\n\
         change failure rate    33.3%              1 of 3 rolled back\n\
         time to restore        1h 30m (median)    1 rollback from live to rolled back\n"
    );
}

#[test]
fn report_on_an_empty_record_and_bad_flags() {
    let s = Setup::new("", CANARY);
    let run = s.relctl(&["report"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("production: no deployments yet"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("0 of 0 rolled back"), "{}", run.stdout);
    assert_eq!(s.relctl(&["report", "--since", "a week"]).code, 2);
    assert_eq!(s.relctl(&["report", "--env", "qa"]).code, 2);
}

#[test]
fn report_cache_follows_the_record_and_survives_damage() {
    let s = history();
    // Records without summaries (an older relctl's): the files are read, and cached.
    edit_records(&s, |tree| {
        crate::common::git(
            tree,
            &["rm", "-q", "apps/c/7/checkout/releases/*/summary.tsv"],
        );
    });
    let figures = |r: &Value| {
        (
            r["deployment_frequency"]["deployments"].clone(),
            r["change_failure_rate"]["failed"].clone(),
            r["lead_time"]["median_seconds"].clone(),
            r["time_to_restore"]["median_seconds"].clone(),
        )
    };
    let first = figures(&report(&s, &["--since", "10d"]));
    let cache = s.env.path().join(".git").join("relctl-report.cache");
    assert!(cache.exists(), "the first report leaves its cache");
    // A second report (from the cache) says the same; a damaged cache is read again.
    assert_eq!(figures(&report(&s, &["--since", "10d"])), first);
    std::fs::write(&cache, "relctl report cache 1\nnot a line\n").expect("write");
    assert_eq!(figures(&report(&s, &["--since", "10d"])), first);
    std::fs::write(&cache, "something else entirely").expect("write");
    assert_eq!(figures(&report(&s, &["--since", "10d"])), first);
    // A new release is counted: its file is new, so it is read.
    commit(&s.env, "four", DEV, "2026-11-08T00:00:00Z");
    let fourth = "1111111111111111111111111111111111111111111111111111111111111111";
    let run = at(
        &s,
        "2026-11-08T12:00:00Z",
        &["promote", "--artifact", &artifact(fourth)],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let r = report(&s, &["--since", "10d"]);
    assert_eq!(r["deployment_frequency"]["deployments"], 4);
    // Lead times 2h, 24h, 6h and 12h: the median is 9h.
    assert_eq!(r["lead_time"]["median_seconds"], 9 * 3600);
}

#[test]
fn lead_times_need_only_the_records() {
    let s = history();
    // Each release file keeps its source commit's time.
    let recorded = s.env.git(&[
        "grep",
        "-h",
        "source_commit_time",
        "relctl/records",
        "--",
        "apps/c/7/checkout/releases/",
    ]);
    let mut times: Vec<&str> = recorded.lines().collect();
    times.sort_unstable();
    assert_eq!(
        times,
        [
            "source_commit_time: \"2026-11-01T08:00:00Z\"",
            "source_commit_time: \"2026-11-02T09:00:00Z\"",
            "source_commit_time: \"2026-11-05T00:00:00Z\"",
        ],
        "{recorded}"
    );
    // A clone of the records branch alone has none of the source commits; the report
    // made there measures the same lead times.
    let path = s.env.path().display().to_string();
    s.env.git(&[
        "clone",
        "-q",
        "--single-branch",
        "--branch",
        "relctl/records",
        &path,
        "records-only",
    ]);
    let clone = s.env.path().join("records-only");
    crate::common::git(&clone, &["checkout", "-q", "--detach"]);
    std::fs::copy(
        s.env.path().join("release.yaml"),
        s.env.path().join("records-only/release.yaml"),
    )
    .expect("copy the plan");
    let r = report(
        &s,
        &["--since", "10d", "--plan", "records-only/release.yaml"],
    );
    let l = &r["lead_time"];
    assert_eq!(l["median_seconds"], 6 * 3600);
    assert_eq!(
        (l["measured"].clone(), l["skipped"].clone()),
        (3.into(), 0.into())
    );
}

#[test]
fn release_files_written_before_release_directories_are_read_and_moved_with_the_record() {
    let s = Setup::new("", CANARY);
    for (hex, now) in [(OLD, "2026-11-01T10:00:00Z"), (HEX, "2026-11-03T09:00:00Z")] {
        let run = at(&s, now, &["promote", "--artifact", &artifact(hex)]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    // Put the record where records kept it before apps/ and before the release
    // directories: environments/<env>.yaml and releases/<id>.yaml, without summaries.
    edit_records(&s, |tree| {
        crate::common::git(
            tree,
            &["mv", "apps/c/7/checkout/environments", "environments"],
        );
        for hex in [OLD, HEX] {
            let id = crate::common::setup::release(hex);
            let sharded = relctl::format::release_path("checkout", &id);
            let (dir, _) = sharded.rsplit_once('/').expect("a directory");
            crate::common::git(tree, &["rm", "-q", &format!("{dir}/summary.tsv")]);
            std::fs::create_dir_all(tree.join("releases")).expect("releases/");
            crate::common::git(tree, &["mv", &sharded, &format!("releases/{id}.yaml")]);
        }
    });
    // Read where they are.
    let r = report(&s, &["--since", "10d"]);
    assert_eq!(r["deployment_frequency"]["deployments"], 2);

    let run = at(
        &s,
        "2026-11-03T10:00:00Z",
        &["rollback", "--env", "production", "--reason", "5xx"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Moved into their app's release directories, the rollback written there.
    let id = crate::common::setup::release(HEX);
    let files = s
        .env
        .git(&["ls-tree", "-r", "--name-only", "relctl/records"]);
    assert!(
        !files.contains("\nreleases/") && !files.starts_with("releases/"),
        "{files}"
    );
    let file = s.env.git(&[
        "show",
        &format!(
            "relctl/records:{}",
            relctl::format::release_path("checkout", &id)
        ),
    ]);
    assert!(file.contains("event: rolled_back"), "{file}");
    let r = report(&s, &["--since", "10d"]);
    assert_eq!(r["deployment_frequency"]["deployments"], 2);
    assert_eq!(r["change_failure_rate"]["failed"], 1);
    assert_eq!(r["time_to_restore"]["median_seconds"], 3600);
}

/// The records branch checked out in a worktree of its own, for editing by hand.
fn edit_records(s: &Setup, edit: impl FnOnce(&std::path::Path)) {
    let tree = s.env.path().join("records-tree");
    let tree_arg = tree.display().to_string();
    s.env
        .git(&["worktree", "add", "-q", &tree_arg, "relctl/records"]);
    edit(&tree);
    crate::common::git(&tree, &["commit", "-q", "-am", "by hand"]);
    s.env.git(&["worktree", "remove", &tree_arg]);
}

#[test]
fn reports_use_the_records_summaries_only_where_they_match_the_files() {
    let s = history();
    let third = crate::common::setup::release(THIRD);
    let file = relctl::format::release_path("checkout", &third);
    let (dir, _) = file.rsplit_once('/').expect("a directory");
    let summary_path = format!("{dir}/summary.tsv");
    let blob = s.env.git(&["rev-parse", &format!("relctl/records:{file}")]);
    let summary = s
        .env
        .git(&["show", &format!("relctl/records:{summary_path}")]);
    assert!(summary.starts_with("relctl summary 1\n"), "{summary}");
    assert!(
        summary.contains(&format!("{third}\t{}\t", blob.trim())),
        "each release's line names its file's blob:\n{summary}"
    );
    let cache = s.env.path().join(".git").join("relctl-report.cache");
    let failed = |s: &Setup| {
        let _ = std::fs::remove_file(&cache);
        report(s, &["--since", "10d"])["change_failure_rate"]["failed"].clone()
    };
    assert_eq!(failed(&s), 1);
    assert!(
        !cache.exists(),
        "every file was summarised, yet a cache was written"
    );

    // A summary line is believed while it names the file's blob: take the rollback out
    // of it, and the report (with no cache) counts no failure.
    edit_records(&s, |tree| {
        let path = tree.join(&summary_path);
        let text = std::fs::read_to_string(&path).expect("read the summary");
        let edited: Vec<String> = text
            .lines()
            .map(|line| {
                if !line.starts_with(&format!("{third}\t")) {
                    return line.to_string();
                }
                let (head, events) = line.rsplit_once('\t').expect("events");
                let kept: Vec<&str> = events
                    .split(';')
                    .filter(|e| !(e.starts_with('R') && e.ends_with(",production")))
                    .collect();
                format!("{head}\t{}", kept.join(";"))
            })
            .collect();
        std::fs::write(&path, edited.join("\n") + "\n").expect("write the summary");
    });
    assert_eq!(failed(&s), 0);

    // Once the file changes (by hand here), the line names another blob: the file is
    // read, and the rollback counts again.
    edit_records(&s, |tree| {
        let path = tree.join(&file);
        let text = std::fs::read_to_string(&path).expect("read the release file");
        std::fs::write(&path, text + "# checked\n").expect("write the release file");
    });
    assert_eq!(failed(&s), 1);
    // The cache keeps what the summaries do not say: that one file.
    let cached = std::fs::read_to_string(&cache).expect("the file read is cached");
    assert_eq!(cached.lines().count(), 2, "{cached}");
}
