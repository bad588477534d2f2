//! Text from outside relctl (a platform's answer, a command's output) holding a NUL or
//! terminal escapes is recorded and printed visibly, never raw; and the small refusals
//! that keep what people type and read meaningful: blank reasons and secrets, a
//! misspelt environment, an unbounded `--since`, a directory the demo did not make.

use crate::common::setup::{HEX, OLD, Setup, release};
use crate::common::{Run, TestEnv};

/// What a hostile or broken platform or command may print: a NUL, a title change, a
/// screen clear.
const HOSTILE: &[u8] = b"a\0b \x1b]0;title\x07 \x1b[2J";

/// No byte a terminal or git would act on in `text`.
fn assert_no_raw_controls(what: &str, text: &str) {
    assert!(
        !text.contains('\0') && !text.contains('\x1b') && !text.contains('\x07'),
        "{what} holds a raw control character:\n{text:?}"
    );
}

/// The whole records branch, patches included, as `git log -p` shows it.
fn records_patch(s: &Setup) -> String {
    s.env.git(&["log", "-p", "relctl/records"])
}

#[test]
fn a_platform_answer_with_nul_and_escapes_is_recorded_visibly() {
    let s = Setup::new("", "      - deploy: {}\n");
    s.platform.answer_next_deploy_raw(400, HOSTILE);
    let run = s.promote(HEX, &["--to", "dev"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_no_raw_controls("stderr", &run.stderr);
    // The answer is shown, escaped, and the failure is in the record.
    assert!(
        run.stderr.contains(r"a\0b \x1b]0;title\x07 \x1b[2J"),
        "{}",
        run.stderr
    );
    let events = s.events(HEX);
    assert_eq!(
        events.last().map(String::as_str),
        Some("step_failed"),
        "{events:?}"
    );
    assert_no_raw_controls("the record", &records_patch(&s));
    let history = s.relctl(&["history"]);
    assert_eq!(history.code, 0, "{}", history.stderr);
    assert_no_raw_controls("history", &history.stdout);
    assert!(history.stdout.contains(r"\x1b[2J"), "{}", history.stdout);
    let full = s.relctl(&["history", &release(HEX)]);
    assert_eq!(full.code, 0, "{}", full.stderr);
    assert_no_raw_controls("history of the release", &full.stdout);
    // The record is whole: the release resumes from the failed step, as after any failure.
    let resumed = s.relctl(&["resume", &release(HEX)]);
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    assert_eq!(s.events(HEX).last().map(String::as_str), Some("live"));
}

fn exec_steps(script: &str) -> String {
    format!(
        "      - deploy: {{ weight: 10 }}\n      - exec: {{ command: [\"sh\", \"-c\", \"{script}\"], timeout: 10s }}\n      - deploy: {{}}\n"
    )
}

#[test]
fn an_exec_step_printing_nul_and_escapes_fails_and_rolls_back_on_the_record() {
    let s = Setup::new("", &exec_steps("exit 0"));
    assert_eq!(s.promote(OLD, &[]).code, 0);
    // printf writes the NUL and the escapes itself (YAML turns `\\` into `\`).
    let script = r"printf 'out\\000put \\033[2J'; printf 'smoke\\000failed \\033]0;title\\007 \\033[2J' >&2; exit 3";
    s.env.write(
        "release.yaml",
        crate::common::setup::plan(&s.platform, "", &exec_steps(script)),
    );
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_no_raw_controls("stderr", &run.stderr);
    assert!(run.stderr.contains(r"smoke\0failed"), "{}", run.stderr);
    assert_eq!(
        s.last_events(HEX, 3),
        ["step_failed", "rollback_started", "rolled_back"]
    );
    let production = s.record_file("apps/c/7/checkout/environments/production.yaml");
    assert!(
        production.contains(&format!("release: {}", release(OLD))),
        "{production}"
    );
    assert!(production.contains("lock: null"), "{production}");
    assert_no_raw_controls("the record", &records_patch(&s));
    let history = s.relctl(&["history", &release(HEX)]);
    assert_eq!(history.code, 0, "{}", history.stderr);
    assert_no_raw_controls("history", &history.stdout);
}

#[test]
fn history_of_a_misspelt_environment_is_a_usage_error() {
    let s = Setup::new("", "      - deploy: {}\n");
    assert_eq!(s.promote(HEX, &["--to", "dev"]).code, 0);
    let run = s.relctl(&["history", "--env", "prodution"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("there is no environment `prodution` in the plan"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
    assert_eq!(s.relctl(&["history", "--env", "dev"]).code, 0);
}

#[test]
fn a_blank_or_overlong_reason_is_refused_everywhere() {
    let s = Setup::new("", "      - deploy: {}\n");
    assert_eq!(s.promote(OLD, &["--to", "dev"]).code, 0);
    let id = release(OLD);
    for reason in ["", "   "] {
        let runs: Vec<(&str, Run)> = vec![
            (
                "promote",
                s.promote(HEX, &["--to", "dev", "--force", "--reason", reason]),
            ),
            (
                "rollback",
                s.relctl(&["rollback", "--env", "dev", "--reason", reason]),
            ),
            ("abort", s.relctl(&["abort", &id, "--reason", reason])),
            (
                "unlock",
                s.relctl(&["unlock", "--env", "dev", "--reason", reason]),
            ),
            (
                "reject",
                s.relctl(&["reject", &id, "--env", "dev", "--reason", reason]),
            ),
        ];
        for (command, run) in runs {
            assert_eq!(run.code, 2, "{command} --reason {reason:?}: {}", run.stderr);
            assert!(
                run.stderr.contains("--reason is empty"),
                "{command}: {}",
                run.stderr
            );
        }
    }
    // A reason longer than a reason: something pasted.
    let long = "x".repeat(1001);
    let run = s.relctl(&["abort", &id, "--reason", &long]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("--reason is 1001 characters long; at most 1000 are recorded"),
        "{}",
        run.stderr
    );
    // Nothing was deployed or recorded past the first release.
    assert_eq!(s.platform.deploys().len(), 1);
    assert_eq!(s.events(OLD).last().map(String::as_str), Some("live"));
}

#[test]
fn a_whitespace_only_secret_is_refused() {
    let s = Setup::new("", "      - deploy: {}\n");
    let artifact = crate::common::setup::artifact(HEX);
    let run = s
        .env
        .run_with(&["promote", "--artifact", &artifact, "--to", "dev"], |c| {
            crate::common::setup::quick(c);
            c.env("DEPLOY_TOKEN", "      ");
        });
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("DEPLOY_TOKEN (set but only whitespace)"),
        "{}",
        run.stderr
    );
    assert!(s.platform.deploys().is_empty());
}

#[test]
fn report_since_is_bounded() {
    let s = Setup::new("", "      - deploy: {}\n");
    let run = s.relctl(&["report", "--env", "dev", "--since", "100000000d"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("at most 36500d"), "{}", run.stderr);
    assert_eq!(run.stdout, "");
    let run = s.relctl(&["report", "--env", "dev", "--since", "36500d"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn demo_refuses_a_project_with_an_empty_marker() {
    let env = TestEnv::new();
    env.init_repo();
    let project = env.write("release.yaml", "version: 1\napp: mine\n");
    env.write(".relctl-demo", "");
    let run = env.run(&["demo", "--dir", "."]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("not a directory the demo made"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(project).unwrap_or_default(),
        "version: 1\napp: mine\n"
    );
    let branches = env.git(&["branch", "--list", "relctl/records"]);
    assert_eq!(branches.trim(), "");
}

#[test]
fn verbose_diagnostics_are_not_coloured_in_a_pipe() {
    let s = Setup::new("", "      - deploy: {}\n");
    // Neither NO_COLOR nor a terminal: colour is decided by stderr being a pipe.
    let artifact = crate::common::setup::artifact(HEX);
    let run = s.env.run_with(
        &["-v", "promote", "--artifact", &artifact, "--to", "dev"],
        |c| {
            crate::common::setup::quick(c);
            c.env_remove("NO_COLOR");
        },
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("DEBUG"), "{}", run.stderr);
    assert!(!run.stderr.contains('\x1b'), "{:?}", run.stderr);
}

/// A reason holding terminal escapes, a carriage return and a line break (typed, or
/// pasted from a log) is shown escaped and on one line wherever relctl prints it: the
/// abort's own lines, the refusal of a later promote, `status` and `history`.
#[test]
fn a_hostile_reason_is_shown_escaped_and_on_one_line() {
    let s = Setup::new(
        "    approval: { approvers: [\"carol@example.com\"] }\n",
        "      - deploy: {}\n",
    );
    assert_eq!(
        s.promote(OLD, &[]).code,
        4,
        "OLD waits at production's gate"
    );
    assert_eq!(s.promote(HEX, &[]).code, 5, "production is OLD's");
    let id = release(HEX);
    let reason = "bad\x1b[2J\rFAKE: approved by boss@ops.io\nsecond line";
    let shown = "bad\\x1b[2J\\rFAKE: approved by boss@ops.io\\nsecond line";
    let runs = [
        ("abort", s.relctl(&["abort", &id, "--reason", reason])),
        ("promote", s.promote(HEX, &[])),
        ("status", s.relctl(&["status"])),
        ("history", s.relctl(&["history", &id])),
    ];
    for (command, run) in runs {
        let out = format!("{}{}", run.stdout, run.stderr);
        assert_no_raw_controls(command, &out);
        assert!(!out.contains('\r'), "{command}: {out:?}");
        if command != "abort" {
            assert!(out.contains(shown), "{command}: {out}");
        }
    }
}
