//! Under GitHub Actions: groups per environment, error annotations, the step summary
//! and the step outputs.

use serde_json::Value;

use crate::common::Run;
use crate::common::setup::{CANARY, HEX, OLD, SECRET, Setup, artifact, release};

struct Actions {
    s: Setup,
    summary: std::path::PathBuf,
    output: std::path::PathBuf,
}

impl Actions {
    fn new() -> Actions {
        let s = Setup::new("", CANARY);
        let summary = s.env.path().join("step-summary.md");
        let output = s.env.path().join("step-output.txt");
        // Outputs and summaries are appended to, never overwritten.
        std::fs::write(&output, "earlier=1\n").expect("write");
        Actions { s, summary, output }
    }

    fn relctl(&self, args: &[&str]) -> Run {
        self.s.env.run_with(args, |c| {
            c.env("DEPLOY_TOKEN", SECRET)
                .env("RELCTL_BACKOFF_MS", "1")
                .env("CI", "true")
                .env("GITHUB_ACTIONS", "true")
                .env("GITHUB_STEP_SUMMARY", &self.summary)
                .env("GITHUB_OUTPUT", &self.output);
        })
    }

    fn summary(&self) -> String {
        std::fs::read_to_string(&self.summary).unwrap_or_default()
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }
}

/// The workflow commands in stderr, in order.
fn commands(run: &Run) -> Vec<&str> {
    run.stderr.lines().filter(|l| l.starts_with("::")).collect()
}

#[test]
fn a_promotion_is_grouped_summarised_and_output() {
    let a = Actions::new();
    let run = a.relctl(&[
        "promote",
        "--artifact",
        &artifact(HEX),
        "--version",
        "1.4.2",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "", "stdout stays data only");
    assert_eq!(
        commands(&run),
        [
            "::group::dev",
            "::endgroup::",
            "::group::staging",
            "::endgroup::",
            "::group::production",
            "::endgroup::"
        ]
    );
    // The environment's progress lines are inside its group.
    let lines: Vec<&str> = run.stderr.lines().collect();
    let open = lines.iter().position(|l| *l == "::group::production");
    let live = lines.iter().position(|l| l.ends_with("production live"));
    assert!(open < live, "{}", run.stderr);
    let summary = a.summary();
    assert!(
        summary.starts_with(&format!("### relctl: {} (1.4.2) promoted\n", release(HEX))),
        "{summary}"
    );
    for env in ["dev", "staging", "production"] {
        assert!(summary.contains(&format!("| {env} | live | ")), "{summary}");
    }
    assert!(
        summary.contains("<summary>Release notes</summary>"),
        "{summary}"
    );
    assert_eq!(
        a.output(),
        format!("earlier=1\nrelease_id={}\noutcome=promoted\n", release(HEX))
    );
}

#[test]
fn a_failure_is_an_error_annotation() {
    let a = Actions::new();
    // dev and staging deploy, production's first deploy is refused.
    a.s.platform.fail_next_deploys(&[200, 200, 403]);
    let run = a.relctl(&["promote", "--artifact", &artifact(HEX)]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let commands = commands(&run);
    let error = commands
        .iter()
        .find(|c| c.starts_with("::error title=relctl::"))
        .expect("an error annotation");
    assert!(
        error.contains(&format!("{} failed in production at step 1", release(HEX))),
        "{error}"
    );
    assert!(error.contains("403 Forbidden"), "{error}");
    assert!(!error.contains(SECRET));
    assert_eq!(commands.last(), Some(error), "after the last group closed");
    let summary = a.summary();
    assert!(summary.contains(" failed\n"), "{summary}");
    assert!(summary.contains("| production | failed | "), "{summary}");
    assert!(summary.contains("| staging | live | "), "{summary}");
    assert!(a.output().ends_with("outcome=failed\n"), "{}", a.output());
}

#[test]
fn a_rollback_is_summarised_and_json_stdout_stays_json() {
    let a = Actions::new();
    assert_eq!(
        a.relctl(&[
            "promote",
            "--artifact",
            &artifact(OLD),
            "--version",
            "1.0.0"
        ])
        .code,
        0
    );
    let run = a.relctl(&[
        "promote",
        "--artifact",
        &artifact(HEX),
        "--version",
        "1.1.0",
        "--output",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for line in run.stdout.lines() {
        let _: Value = serde_json::from_str(line).expect("only JSON on stdout");
    }
    assert!(
        commands(&run).contains(&"::group::production"),
        "{}",
        run.stderr
    );

    let run = a.relctl(&["rollback", "--env", "production", "--reason", "5xx"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(commands(&run), ["::group::production", "::endgroup::"]);
    let summary = a.summary();
    let last = summary
        .rsplit("### relctl: ")
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(
        last.starts_with(&format!("{} (1.1.0) rolled back\n", release(HEX))),
        "{summary}"
    );
    assert!(
        last.contains(&format!(
            "| production | rolled back to {} | ",
            release(OLD)
        )),
        "{summary}"
    );
    assert!(
        a.output().ends_with(&format!(
            "release_id={}\noutcome=rolled_back\n",
            release(HEX)
        )),
        "{}",
        a.output()
    );
}
