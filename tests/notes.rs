//! `relctl notes`: the commits between what was live and a release's source commit.

use serde_json::Value;

use crate::common::TestEnv;
use crate::promote::{CANARY, HEX, OLD, Setup, release};

/// Commits a change with this subject, author and time (RFC 3339, for both author and
/// committer); returns its id.
pub fn commit(env: &TestEnv, subject: &str, author: (&str, &str), time: &str) -> String {
    let file = env.path().join("CHANGES");
    let mut text = std::fs::read_to_string(&file).unwrap_or_default();
    text.push_str(subject);
    text.push('\n');
    std::fs::write(&file, text).expect("write CHANGES");
    let run = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .current_dir(env.path())
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", author.0)
            .env("GIT_AUTHOR_EMAIL", author.1)
            .env("GIT_AUTHOR_DATE", time)
            .env("GIT_COMMITTER_NAME", "CI")
            .env("GIT_COMMITTER_EMAIL", "ci@example.com")
            .env("GIT_COMMITTER_DATE", time)
            .output()
            .expect("run git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    run(&["add", "CHANGES"]);
    run(&["commit", "-q", "-m", subject]);
    run(&["rev-parse", "HEAD"])
}

const ALICE: (&str, &str) = ("Alice Liddell", "alice@acme.io");
const BOB: (&str, &str) = ("Bob Ross", "bob@acme.io");

fn link(sha: &str) -> String {
    format!(
        "[`{}`](https://github.com/acme/checkout/commit/{sha})",
        &sha[..7]
    )
}

#[test]
fn notes_list_exactly_the_commits_since_what_was_live() {
    let s = Setup::new("", CANARY);
    s.env.git(&[
        "remote",
        "add",
        "origin",
        "https://github.com/acme/checkout.git",
    ]);
    let x = commit(&s.env, "Add the cart", ALICE, "2026-11-01T08:00:00Z");
    assert_eq!(s.promote(OLD, &["--version", "1.0.0"]).code, 0);
    let c2 = commit(
        &s.env,
        "Fix rounding in totals",
        BOB,
        "2026-11-02T09:00:00Z",
    );
    let c3 = commit(&s.env, "Retry payments once", ALICE, "2026-11-02T10:00:00Z");
    assert_eq!(s.promote(HEX, &["--version", "1.1.0"]).code, 0);

    let run = s.relctl(&["notes", &release(HEX), "--env", "production"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let expected = format!(
        "## {b} (1.1.0)\n\n2 commits since {a} (1.0.0) in production:\n\n\
         - Retry payments once ({}) — Alice Liddell\n\
         - Fix rounding in totals ({}) — Bob Ross\n",
        link(&c3),
        link(&c2),
        a = release(OLD),
        b = release(HEX),
    );
    assert_eq!(run.stdout, expected);
    // The default environment is the plan's last one.
    assert_eq!(s.relctl(&["notes", &release(HEX)]).stdout, expected);

    // The same notes were written into the record when the release started.
    let file = s.record_file(&relctl::format::release_path("checkout", &release(HEX)));
    assert!(file.contains("notes: |"), "{file}");
    assert!(
        file.contains(&format!("  - Retry payments once ({})", link(&c3))),
        "{file}"
    );

    // The first release: nothing was live, so everything up to its commit.
    let first = s.relctl(&["notes", &release(OLD)]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        first.stdout.contains(&format!(
            "Nothing was live in production before it: 2 commits up to `{}`.",
            &x[..7]
        )),
        "{}",
        first.stdout
    );
    assert!(first.stdout.contains("- initial ([`"), "{}", first.stdout);

    // JSON: the commits with their authors, and what they are compared with.
    let json = s.relctl(&["notes", &release(HEX), "--output", "json"]);
    let value: Value = serde_json::from_str(&json.stdout).expect("one JSON object");
    assert_eq!(value["base"]["release"], release(OLD));
    assert_eq!(value["base"]["commit"], x);
    let commits = value["commits"].as_array().expect("commits");
    assert_eq!(commits.len(), 2);
    assert_eq!(commits[0]["sha"], c3);
    assert_eq!(commits[1]["author"], "Bob Ross");
    assert_eq!(commits[1]["email"], "bob@acme.io");
    assert_eq!(value["markdown"], expected);
}

#[test]
fn notes_without_a_forge_have_bare_hashes_and_survive_a_rollback() {
    let s = Setup::new("", CANARY);
    commit(&s.env, "Add the cart", ALICE, "2026-11-01T08:00:00Z");
    assert_eq!(s.promote(OLD, &["--version", "1.0.0"]).code, 0);
    let y = commit(&s.env, "Fix rounding", BOB, "2026-11-02T09:00:00Z");
    assert_eq!(s.promote(HEX, &["--version", "1.1.0"]).code, 0);
    let line = format!("- Fix rounding (`{}`) — Bob Ross\n", &y[..7]);
    let run = s.relctl(&["notes", &release(HEX)]);
    assert!(run.stdout.ends_with(&line), "{}", run.stdout);
    // Rolled back: the release is still compared with what was live before it.
    assert_eq!(s.relctl(&["rollback", "--env", "production"]).code, 0);
    let run = s.relctl(&["notes", &release(HEX)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(&format!(
            "1 commit since {} (1.0.0) in production:",
            release(OLD)
        )),
        "{}",
        run.stdout
    );
    assert!(run.stdout.ends_with(&line), "{}", run.stdout);
}

#[test]
fn notes_errors_say_what_is_missing() {
    let s = Setup::new("", CANARY);
    // An unknown release or environment is a usage error.
    assert_eq!(s.relctl(&["notes", "checkout-ffffffffffff"]).code, 2);
    let run = s.relctl(&["notes", &release(OLD), "--env", "prod"]);
    assert_eq!(run.code, 2, "{}", run.stderr);

    // A release built from a commit the repository no longer has.
    s.env.git(&["checkout", "-q", "-b", "gone"]);
    commit(&s.env, "Experiment", ALICE, "2026-11-01T08:00:00Z");
    assert_eq!(s.promote(OLD, &[]).code, 0);
    s.env.git(&["checkout", "-q", "main"]);
    s.env.git(&["branch", "-q", "-D", "gone"]);
    s.env.git(&["reflog", "expire", "--expire=now", "--all"]);
    s.env.git(&["gc", "-q", "--prune=now"]);
    let run = s.relctl(&["notes", &release(OLD)]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("is not in the git repository"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: fetch the history"),
        "{}",
        run.stderr
    );
}
