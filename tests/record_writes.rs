//! What each record commit writes: a release directory's `summary.tsv` is written again
//! only by the events its lines hold and those a command may end with, so a release at
//! rest has a line naming its file, and `report` says the same as the files; and which
//! commands compile the plan's jq expressions before they act.

use std::collections::BTreeMap;

use crate::common::setup::{CANARY, HEX, OLD, Setup, artifact, quick, release};

/// `git` in the test's repository, its output trimmed.
fn git(s: &Setup, args: &[&str]) -> String {
    s.env.git(args).trim().to_string()
}

/// The release directory's summary file beside `hex`'s release file.
fn summary_of(hex: &str) -> String {
    let file = relctl::format::release_path("checkout", &release(hex));
    let (dir, _) = file.rsplit_once('/').expect("a directory");
    format!("{dir}/summary.tsv")
}

/// The blob at `path` in `commit`, or "" when it has none.
fn blob(s: &Setup, commit: &str, path: &str) -> String {
    std::process::Command::new("git")
        .current_dir(s.env.path())
        .args(["rev-parse", "-q", "--verify", &format!("{commit}:{path}")])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Every commit of the records branch, oldest first: (commit, event trailer).
fn commits(s: &Setup) -> Vec<(String, String)> {
    let log = git(
        s,
        &[
            "log",
            "--reverse",
            "--format=%H %(trailers:key=Relctl-Event,valueonly,separator=)",
            "relctl/records",
        ],
    );
    log.lines()
        .filter_map(|l| {
            let (commit, event) = l.split_once(' ')?;
            Some((commit.to_string(), event.trim().to_string()))
        })
        .collect()
}

/// Every release file on the records branch has a line in its directory's summary
/// that names the file's blob.
fn every_line_names_its_file(s: &Setup) {
    let tree = git(s, &["ls-tree", "-r", "relctl/records"]);
    let mut files = BTreeMap::new();
    for line in tree.lines() {
        let (meta, path) = line.split_once('\t').expect("an entry");
        let oid = meta.split_whitespace().nth(2).expect("a blob");
        files.insert(path.to_string(), oid.to_string());
    }
    let mut checked = 0;
    for (path, oid) in &files {
        if !path.contains("/releases/") || !path.ends_with(".yaml") {
            continue;
        }
        let (dir, name) = path.rsplit_once('/').expect("a directory");
        let id = name.trim_end_matches(".yaml");
        let summary = git(s, &["show", &format!("relctl/records:{dir}/summary.tsv")]);
        assert!(
            summary
                .lines()
                .any(|l| l.starts_with(&format!("{id}\t{oid}\t"))),
            "the line of {id} names its file's blob {oid}:\n{summary}"
        );
        checked += 1;
    }
    assert!(checked > 0, "the record holds release files:\n{tree}");
}

#[test]
fn mid_run_events_leave_the_summary_and_settled_releases_have_lines_naming_their_files() {
    let s = Setup::new("", CANARY);
    for hex in [OLD, HEX] {
        let run = s.promote(hex, &[]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    every_line_names_its_file(&s);
    let run = s.relctl(&["rollback", "--env", "production", "--reason", "5xx"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    every_line_names_its_file(&s);

    let summary = summary_of(HEX);
    let file = relctl::format::release_path("checkout", &release(HEX));
    let mut seen = Vec::new();
    for (commit, event) in commits(&s) {
        if blob(&s, &commit, &file).is_empty() {
            continue; // before HEX started
        }
        let parent = format!("{commit}^");
        if blob(&s, &commit, &file) == blob(&s, &parent, &file) {
            continue; // another release's event
        }
        let rewritten = blob(&s, &commit, &summary) != blob(&s, &parent, &summary);
        match event.as_str() {
            // The rollback's lock commit among them: only the release file (and the
            // environment's) change.
            "started" | "intent" | "step_done" | "rollback_started" => assert!(
                !rewritten,
                "{event} ({commit}) left the summary as it was:\n{}",
                git(&s, &["show", "--stat", &commit])
            ),
            "entered" | "live" | "rolled_back" => assert!(rewritten, "{event} wrote its line"),
            _ => {}
        }
        seen.push(event);
    }
    for event in ["intent", "step_done", "rollback_started", "rolled_back"] {
        assert!(seen.iter().any(|e| e == event), "{event} in {seen:?}");
    }
}

#[test]
fn a_report_from_the_summaries_says_what_the_files_say() {
    let s = Setup::new("", CANARY);
    let run = s.promote(OLD, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // HEX stops mid-way through production, right after a step's commit (as a crash
    // leaves it): its line names an earlier file.
    let image = artifact(HEX);
    let crashed = s.env.run_with(&["promote", "--artifact", &image], |c| {
        quick(c);
        c.env("RELCTL_FAULT_CRASH_AFTER", "12");
    });
    assert_ne!(crashed.code, 0, "{}", crashed.stderr);
    let events = s.events(HEX);
    assert_eq!(
        events.last().map(String::as_str),
        Some("step_done"),
        "{events:?}"
    );
    let file = relctl::format::release_path("checkout", &release(HEX));
    let oid = git(&s, &["rev-parse", &format!("relctl/records:{file}")]);
    let summary = git(
        &s,
        &["show", &format!("relctl/records:{}", summary_of(HEX))],
    );
    let line = summary
        .lines()
        .find(|l| l.starts_with(&format!("{}\t", release(HEX))))
        .expect("HEX has a line since it entered dev");
    assert!(!line.contains(&oid), "the line is stale: {line}");

    let cache = s.env.path().join(".git").join("relctl-report.cache");
    let reports = |s: &Setup| -> Vec<String> {
        ["dev", "staging", "production"]
            .iter()
            .flat_map(|env| {
                [&["--output", "json"][..], &[][..]].map(|output| {
                    let _ = std::fs::remove_file(&cache);
                    let mut args = vec!["report", "--env", env];
                    args.extend_from_slice(output);
                    // At one instant, so that only what they read can differ.
                    let run = s.env.run_with(&args, |c| {
                        quick(c);
                        c.env("RELCTL_NOW", "2030-01-01T00:00:00Z");
                    });
                    assert_eq!(run.code, 0, "{}", run.stderr);
                    run.stdout
                })
            })
            .collect()
    };
    let from_summaries = reports(&s);
    assert!(
        from_summaries[0].contains("\"deployments\":2"),
        "HEX went live in dev: {}",
        from_summaries[0]
    );
    // The same record without its summaries: every release file is read.
    let tree = s.env.path().join("records-tree");
    let arg = tree.display().to_string();
    s.env
        .git(&["worktree", "add", "-q", &arg, "relctl/records"]);
    crate::common::git(
        &tree,
        &["rm", "-q", "apps/*/checkout/releases/*/summary.tsv"],
    );
    crate::common::git(&tree, &["commit", "-q", "-m", "without summaries"]);
    s.env.git(&["worktree", "remove", &arg]);
    assert_eq!(reports(&s), from_summaries);
}

/// The setup's plan with its digest check calling a filter jaq does not define.
fn undefined_filter(s: &Setup) {
    let plan = std::fs::read_to_string(s.env.path().join("release.yaml")).expect("the plan");
    let bad = plan.replace("verify_digest: '.digest'", "verify_digest: 'digestify(.x)'");
    assert_ne!(bad, plan, "the plan has a digest check");
    s.env.write("release.yaml", bad);
}

#[test]
fn commands_that_run_no_jq_do_not_compile_it_and_those_that_do_refuse_a_bad_expression() {
    let s = Setup::new("", CANARY);
    let run = s.promote(OLD, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    undefined_filter(&s);
    let message = "invalid jq expression `digestify(.x)`: undefined filter `digestify`";
    // Reading the record needs no jq.
    for args in [&["status"][..], &["history"][..]] {
        let run = s.relctl(args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    }
    // validate, and a promote before it deploys anything, name the expression's place.
    for run in [s.relctl(&["validate"]), s.promote(HEX, &[])] {
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains(message), "{}", run.stderr);
        assert!(run.stderr.contains("release.yaml:"), "{}", run.stderr);
    }
    assert!(
        !s.env.records_log().contains(&release(HEX)),
        "HEX recorded nothing"
    );
    assert_eq!(s.platform.deploys().len(), 4, "only OLD's deploys");
    // A syntax error is still found by every command, a rollback's too.
    let plan = std::fs::read_to_string(s.env.path().join("release.yaml")).expect("the plan");
    s.env.write(
        "release.yaml",
        plan.replace("'digestify(.x)'", "'.digest =='"),
    );
    for args in [
        &["status"][..],
        &["rollback", "--env", "production", "--reason", "x"][..],
    ] {
        let run = s.relctl(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("invalid jq expression `.digest ==`: expected term"),
            "{}",
            run.stderr
        );
    }
    assert_eq!(s.platform.deploys().len(), 4, "nothing rolled back");
}
