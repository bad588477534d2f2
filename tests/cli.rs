//! The command surface: help for every command, output and colour selection, exit codes
//! of usage errors, artifact references.

use crate::common::{TestEnv, repo_root};

const COMMANDS: &[&str] = &[
    "init",
    "validate",
    "plan",
    "promote",
    "resume",
    "approve",
    "reject",
    "abort",
    "rollback",
    "status",
    "history",
    "releases",
    "notes",
    "report",
    "unlock",
    "demo",
    "completions",
    "man",
];

#[test]
fn help_of_every_command() {
    let env = TestEnv::new();
    let run = env.run(&["--help"]);
    assert_eq!(run.code, 0);
    insta::assert_snapshot!("help", run.snapshot());
    for command in COMMANDS {
        let run = env.run(&[command, "--help"]);
        assert_eq!(run.code, 0, "{command} --help");
        insta::assert_snapshot!(format!("help-{command}"), run.snapshot());
    }
}

#[test]
fn bad_flags_are_usage_errors() {
    let env = TestEnv::new();
    let run = env.run(&["promote"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--artifact"), "{}", run.stderr);
    let run = env.run(&["promote", "--artifact", "x", "--to", "a", "--env", "b"]);
    assert_eq!(run.code, 2);
    let run = env.run(&["--output", "yaml", "status"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("possible values: human, plain, json"),
        "{}",
        run.stderr
    );
    let run = env.run(&["nosuchcommand"]);
    assert_eq!(run.code, 2);
}

#[test]
fn version_prints_the_crate_version() {
    let run = TestEnv::new().run(&["--version"]);
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stdout,
        format!("relctl {}\n", env!("CARGO_PKG_VERSION"))
    );
}

fn example_env() -> TestEnv {
    let env = TestEnv::new();
    let example =
        std::fs::read(repo_root().join("release.example.yaml")).expect("the example plan");
    env.write("release.yaml", example);
    env
}

const HEX: &str = "4f2a9c1be0d3a7f6e5c4b3a2918070605040302010f0e0d0c0b0a09080706050";

#[test]
fn artifact_references_are_checked_before_anything_else() {
    let env = example_env();
    for (reference, expected) in [
        (
            "ghcr.io/acme/checkout:1.4.2",
            "is pinned by a tag, not a digest",
        ),
        ("ghcr.io/acme/checkout", "has no digest"),
        (
            "ghcr.io/acme/checkout@sha256:4f2a9c1b",
            "has 8 hex characters; a sha256 digest has 64",
        ),
        (
            "ghcr.io/acme/billing@sha256:0000",
            "is not this plan's artifact `ghcr.io/acme/checkout`",
        ),
        ("ghcr.io/acme/checkout@md5:abc", "is not a sha256 digest"),
    ] {
        let run = env.run(&["plan", "--artifact", reference]);
        assert_eq!(run.code, 2, "{reference}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "{reference}: {}", run.stderr);
        assert!(run.stderr.contains("hint: "), "{reference}: {}", run.stderr);
    }
}

#[test]
fn a_valid_reference_reaches_the_command() {
    let env = example_env();
    for reference in [
        format!("ghcr.io/acme/checkout@sha256:{HEX}"),
        format!("sha256:{HEX}"),
    ] {
        let run = env.run(&["plan", "--artifact", &reference]);
        assert!(
            !run.stderr.contains("artifact"),
            "{reference}: {}",
            run.stderr
        );
    }
}

#[test]
fn notes_of_an_unknown_release_is_a_usage_error() {
    let env = example_env();
    env.init_repo();
    env.git(&[
        "remote",
        "add",
        "origin",
        "https://github.com/acme/checkout.git",
    ]);
    let run = env.run(&["notes", "x"]);
    assert_eq!(run.code, 2);
    // A warning may come first: the records remote (github.com) is not reachable here.
    assert_eq!(
        run.stderr.lines().find(|l| l.starts_with("error:")),
        Some("error: there is no release `x` in the record"),
        "{}",
        run.stderr
    );
}

#[test]
fn colour_follows_flag_then_no_color_then_terminal() {
    let env = TestEnv::new();
    let esc = "\u{1b}[";
    // Not a terminal, NO_COLOR set by the harness: plain.
    let run = env.run(&["validate"]);
    assert_eq!(run.code, 2);
    assert!(!run.stderr.contains(esc), "{:?}", run.stderr);
    // --color always wins over NO_COLOR.
    let run = env.run(&["--color", "always", "validate"]);
    assert!(run.stderr.contains(esc), "{:?}", run.stderr);
    // CLICOLOR_FORCE turns it on when NO_COLOR is absent.
    let run = env.run_with(&["validate"], |c| {
        c.env_remove("NO_COLOR").env("CLICOLOR_FORCE", "1");
    });
    assert!(run.stderr.contains(esc), "{:?}", run.stderr);
    // --color never wins over CLICOLOR_FORCE.
    let run = env.run_with(&["--color", "never", "validate"], |c| {
        c.env_remove("NO_COLOR").env("CLICOLOR_FORCE", "1");
    });
    assert!(!run.stderr.contains(esc), "{:?}", run.stderr);
}

#[test]
fn json_output_puts_only_json_on_stdout() {
    let env = example_env();
    let run = env.run(&["--output", "json", "validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let value: serde_json::Value =
        serde_json::from_str(run.stdout.trim()).expect("one JSON object");
    assert_eq!(value["valid"], true);
    assert_eq!(
        value["problems"], 0,
        "the same shape as an invalid plan's last line"
    );
    assert_eq!(
        value["environments"],
        serde_json::json!(["staging", "production"])
    );
    // Plain mode prints nothing on stdout for validate.
    let run = env.run(&["validate"]);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("is valid"), "{}", run.stderr);
    // --quiet silences the status line.
    let run = env.run(&["-q", "validate"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stderr, "");
}

#[test]
fn a_plan_path_that_is_a_directory_or_a_pipe_is_named_as_such() {
    let env = example_env();
    let run = env.run(&["--plan", ".", "validate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("it is a directory"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the plan is a file: --plan ./release.yaml"),
        "{}",
        run.stderr
    );
    // A FIFO would block a read forever: it is refused at once.
    let fifo = env.path().join("plan.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let run = env.run(&["--plan", "plan.fifo", "validate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("it is not a regular file"),
        "{}",
        run.stderr
    );
}

#[test]
fn plan_comes_from_flag_or_environment() {
    let env = example_env();
    std::fs::rename(
        env.path().join("release.yaml"),
        env.path().join("other.yaml"),
    )
    .expect("rename");
    let run = env.run(&["validate"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no release.yaml in "), "{}", run.stderr);
    assert_eq!(env.run(&["--plan", "other.yaml", "validate"]).code, 0);
    let run = env.run_with(&["validate"], |c| {
        c.env("RELCTL_PLAN", "other.yaml");
    });
    assert_eq!(run.code, 0, "{}", run.stderr);
    // An empty RELCTL_PLAN (a CI variable set to nothing) is as good as none.
    std::fs::rename(
        env.path().join("other.yaml"),
        env.path().join("release.yaml"),
    )
    .expect("rename");
    let run = env.run_with(&["validate"], |c| {
        c.env("RELCTL_PLAN", "");
    });
    assert_eq!(run.code, 0, "{}", run.stderr);
}
