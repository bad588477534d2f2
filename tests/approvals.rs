//! Approval gates: without a terminal, by another process, waiting, rejecting, and the
//! rules on who may approve.

use crate::common::setup::{CANARY, HEX, OLD, Setup, artifact, release, spawn};
use crate::common::{Run, ok};

const APPROVAL: &str = "    approval: { approvers: [\"alice@acme.io\", \"*@sre.acme.io\"], min: 1, allow_self: false }\n";

#[test]
fn without_a_terminal_promote_pauses_with_exit_4_and_resume_continues_after_approval() {
    let s = Setup::new(APPROVAL, CANARY);
    let run = s.relctl_as("dev@acme.io", &["promote", "--artifact", &artifact(HEX)]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("is waiting for approval in production (0/1 so far)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("relctl approve {} --env production", release(HEX))),
        "{}",
        run.stderr
    );
    assert_eq!(s.platform.deploys().len(), 2, "production was not touched");
    assert!(s.events(HEX).contains(&"awaiting_approval".to_string()));
    // A paused release keeps its lock.
    assert!(
        s.record_file("apps/c/7/checkout/environments/production.yaml")
            .contains(&format!("release: {}", release(HEX)))
    );

    let run = s.relctl_as(
        "bob@sre.acme.io",
        &[
            "approve",
            &release(HEX),
            "--env",
            "production",
            "--comment",
            "looks good",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = s.relctl_as("dev@acme.io", &["resume", &release(HEX)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 100)));
    let record = s.record_file(&relctl::format::release_path("checkout", &release(HEX)));
    assert!(record.contains("by: bob@sre.acme.io"), "{record}");
    assert!(record.contains("comment: looks good"), "{record}");
}

#[test]
fn self_approval_is_refused_when_allow_self_is_false() {
    let s = Setup::new(APPROVAL, CANARY);
    assert_eq!(
        s.relctl_as("alice@acme.io", &["promote", "--artifact", &artifact(HEX)])
            .code,
        4
    );
    let run = s.relctl_as(
        "alice@acme.io",
        &["approve", &release(HEX), "--env", "production"],
    );
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("alice@acme.io started this release and may not approve it"),
        "{}",
        run.stderr
    );
    assert!(!s.events(HEX).contains(&"approved".to_string()));
}

#[test]
fn an_approver_not_in_the_list_is_refused() {
    let s = Setup::new(APPROVAL, CANARY);
    assert_eq!(
        s.relctl_as("dev@acme.io", &["promote", "--artifact", &artifact(HEX)])
            .code,
        4
    );
    let run = s.relctl_as(
        "mallory@evil.example",
        &["approve", &release(HEX), "--env", "production"],
    );
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "mallory@evil.example is not an approver here (approvers: alice@acme.io, *@sre.acme.io)"
        ),
        "{}",
        run.stderr
    );
    // Domain patterns match the domain exactly, not a suffix.
    let run = s.relctl_as(
        "eve@notsre.acme.io",
        &["approve", &release(HEX), "--env", "production"],
    );
    assert_eq!(run.code, 6, "{}", run.stderr);
}

#[test]
fn approving_a_release_that_is_not_waiting_is_a_usage_error() {
    let s = Setup::new(APPROVAL, CANARY);
    assert_eq!(
        s.relctl_as(
            "dev@acme.io",
            &["promote", "--artifact", &artifact(HEX), "--to", "staging"]
        )
        .code,
        0
    );
    let run = s.relctl_as(
        "alice@acme.io",
        &["approve", &release(HEX), "--env", "production"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = s.relctl_as(
        "alice@acme.io",
        &["approve", "checkout-000000000000", "--env", "production"],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("there is no release `checkout-000000000000` in the record"),
        "{}",
        run.stderr
    );
}

#[test]
fn wait_approval_polls_until_another_process_approves() {
    let s = Setup::new(APPROVAL, CANARY);
    let dev = s.env.operator("dev@acme.io");
    let waiting = spawn(
        dev.std_command(),
        &[
            "promote",
            "--artifact",
            &artifact(HEX),
            "--wait-approval=1m",
        ],
    );
    crate::common::wait::wait_until("promote to reach the approval gate", || {
        s.env.records_log().contains("awaiting approval")
    });
    approved_it_goes_live(&s, waiting);
}

/// Alice approves HEX's gate in production: the run `waiting` there goes on and HEX is
/// live.
fn approved_it_goes_live(s: &Setup, mut waiting: std::process::Child) {
    let run = s.relctl_as(
        "alice@acme.io",
        &["approve", &release(HEX), "--env", "production"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let status = waiting.wait().expect("the waiting run ends");
    assert_eq!(status.code(), Some(0));
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 100)));
}

/// A second run that waits at a gate the record already says is waiting (a `resume
/// --wait-approval` after a promote stopped there) says that it waits, and for how long.
#[test]
fn a_run_waiting_at_a_gate_already_recorded_says_it_waits() {
    let s = Setup::new(APPROVAL, CANARY);
    let dev = s.env.operator("dev@acme.io");
    let run = dev.run_with(
        &["promote", "--artifact", &artifact(HEX)],
        crate::common::setup::quick,
    );
    assert_eq!(run.code, 4, "{}", run.stderr);
    let said = s.env.path().join("resume.err");
    let mut resume = dev.std_command();
    resume
        .args(["resume", &release(HEX), "--wait-approval=1m"])
        .envs(crate::common::setup::QUICK)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&said).expect("a file for stderr"));
    let waiting = resume.spawn().expect("start resume");
    let line = format!(
        "{} is waiting for approval in production (0/1 so far); waiting up to 1m",
        release(HEX)
    );
    crate::common::wait::wait_until("resume to say it waits", || {
        std::fs::read_to_string(&said).is_ok_and(|text| text.contains(&line))
    });
    approved_it_goes_live(&s, waiting);
}

#[test]
fn a_rejection_ends_the_release_with_exit_3() {
    let s = Setup::new(APPROVAL, CANARY);
    assert_eq!(
        s.relctl_as("dev@acme.io", &["promote", "--artifact", &artifact(HEX)])
            .code,
        4
    );
    let run = s.relctl_as(
        "alice@acme.io",
        &[
            "reject",
            &release(HEX),
            "--env",
            "production",
            "--reason",
            "not on a Friday",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = s.relctl_as("dev@acme.io", &["resume", &release(HEX)]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("rejected by alice@acme.io: not on a Friday"),
        "{}",
        run.stderr
    );
    // Nothing was deployed to production, so nothing was redeployed; the lock is free.
    assert_eq!(s.platform.deploys().len(), 2);
    let production = s.record_file("apps/c/7/checkout/environments/production.yaml");
    assert!(production.contains("lock: null"), "{production}");
    assert!(
        production.contains(&format!("- {}", release(HEX))),
        "{production}"
    );
    // Promote refuses it again (rejected before) unless forced.
    let run = s.relctl_as("dev@acme.io", &["promote", "--artifact", &artifact(HEX)]);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr.contains("was rolled back in production before"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_approval_step_gates_the_steps_after_it() {
    let steps = "      - deploy: { weight: 50 }\n      - approval: { approvers: [\"*@sre.acme.io\"] }\n      - deploy: {}\n";
    let s = Setup::new("", steps);
    let run = s.relctl_as("dev@acme.io", &["promote", "--artifact", &artifact(HEX)]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 50)));
    let run = s.relctl_as(
        "ops@sre.acme.io",
        &["approve", &release(HEX), "--env", "production"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        s.relctl_as("dev@acme.io", &["resume", &release(HEX)]).code,
        0
    );
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 100)));
}

#[test]
fn plan_says_who_an_approval_step_needs() {
    let steps = "      - deploy: { weight: 50 }\n      - approval: { approvers: [\"*@sre.acme.io\"], min: 2 }\n      - deploy: {}\n";
    let s = Setup::new("", steps);
    let run = s.relctl(&["plan", "--artifact", &artifact(HEX)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = format!("{}{}", run.stdout, run.stderr);
    assert!(
        out.contains(r#"needs 2 approval(s) from ["*@sre.acme.io"]"#),
        "{out}"
    );
    assert!(!out.contains("null"), "{out}");
}

/// OLD live in production; HEX paused at production's approval with half its traffic.
fn a_release_paused_at_half_of_production() -> Setup {
    let steps = "      - deploy: { weight: 50 }\n      - approval: { approvers: [\"*@sre.acme.io\"] }\n      - deploy: {}\n";
    let s = Setup::new("", steps);
    assert_eq!(
        s.relctl_as(
            "ops@sre.acme.io",
            &["promote", "--artifact", &artifact(OLD)]
        )
        .code,
        4
    );
    ok(&s.relctl_as(
        "ops@sre.acme.io",
        &["approve", &release(OLD), "--env", "production"],
    ));
    ok(&s.relctl_as("ops@sre.acme.io", &["resume", &release(OLD)]));
    assert_eq!(
        s.relctl_as("dev@acme.io", &["promote", "--artifact", &artifact(HEX)])
            .code,
        4
    );
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 50)));
    s
}

#[test]
fn abort_rolls_the_environment_back_to_what_was_live() {
    let s = a_release_paused_at_half_of_production();
    let run = s.relctl_as(
        "dev@acme.io",
        &[
            "--output",
            "json",
            "abort",
            &release(HEX),
            "--reason",
            "wrong build",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
    // It ends with its summary: what it aborted, where, and what runs there now.
    let summary: serde_json::Value =
        serde_json::from_str(run.stdout.lines().last().unwrap_or_default()).expect("a summary");
    assert_eq!(summary["summary"], true, "{}", run.stdout);
    assert_eq!(summary["outcome"], "aborted", "{}", run.stdout);
    assert_eq!(summary["exit"], 0);
    assert_eq!(summary["release"], release(HEX));
    assert_eq!(summary["env"], "production");
    assert_eq!(summary["live"], release(OLD));
    assert!(summary.get("error").is_none(), "{}", run.stdout);
    let events = s.events(HEX);
    assert!(
        events.ends_with(&[
            "aborted".to_string(),
            "rollback_started".to_string(),
            "rolled_back".to_string()
        ]),
        "{events:?}"
    );
    let production = s.record_file("apps/c/7/checkout/environments/production.yaml");
    assert!(
        production.contains(&format!("release: {}", release(OLD))),
        "{production}"
    );
    assert!(production.contains("lock: null"), "{production}");
    let run = s.relctl(&["abort", "checkout-000000000000"]);
    assert_eq!(run.code, 2);
}

/// An abort of HEX succeeded, and its last line says production runs OLD again.
fn aborted_back_to_old(run: &Run) {
    ok(run);
    assert!(
        run.stderr.contains(&format!(
            "{} aborted; production runs {}",
            release(HEX),
            release(OLD)
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn abort_ends_with_a_line_that_says_what_runs_in_the_environment_now() {
    let s = a_release_paused_at_half_of_production();
    let run = s.relctl_as(
        "dev@acme.io",
        &["abort", &release(HEX), "--reason", "errors"],
    );
    aborted_back_to_old(&run);
    // Afterwards, who aborted it, when and why is what a resume or a second abort says.
    let said = "was aborted in production by dev@acme.io at ";
    let run = s.relctl_as("ops@sre.acme.io", &["resume", &release(HEX)]);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr.contains(said) && run.stderr.contains("(errors) before"),
        "{}",
        run.stderr
    );
    let run = s.relctl_as("ops@sre.acme.io", &["abort", &release(HEX)]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(said)
            && run
                .stderr
                .contains("(errors) and is live in dev, staging; abort stops a release under way"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_second_promote_or_resume_of_a_release_being_driven_here_stops_with_exit_5() {
    let s = Setup::new(APPROVAL, CANARY);
    let dev = s.env.operator("dev@acme.io");
    let mut waiting = spawn(
        dev.std_command(),
        &[
            "promote",
            "--artifact",
            &artifact(HEX),
            "--wait-approval=1m",
        ],
    );
    crate::common::wait::wait_until("promote to reach the approval gate", || {
        s.env.records_log().contains("awaiting approval")
    });
    let events = s.events(HEX).len();
    // The same promote again, and a resume, while the first one is waiting at the gate.
    for args in [
        vec!["promote", "--artifact", &artifact(HEX)],
        vec!["resume", &release(HEX)],
    ] {
        let run = s.relctl_as("dev@acme.io", &args);
        assert_eq!(run.code, 5, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("is being driven by another relctl from this repository"),
            "{}",
            run.stderr
        );
    }
    assert_eq!(s.events(HEX).len(), events, "nothing was recorded");
    let run = s.relctl_as(
        "alice@acme.io",
        &["approve", &release(HEX), "--env", "production"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let status = waiting.wait().expect("promote ends");
    assert_eq!(status.code(), Some(0));
    // One deploy per environment and weight: the second promote deployed nothing.
    assert_eq!(
        s.platform.deploys(),
        crate::common::setup::canary_deploys(HEX)
    );
    // Once the first has ended, the release is anyone's again.
    ok(&s.relctl_as("dev@acme.io", &["resume", &release(HEX)]));
}

#[test]
fn a_release_rolled_back_behind_its_gate_can_be_neither_approved_nor_resumed() {
    let s = Setup::new(APPROVAL, CANARY);
    let as_dev = |args: &[&str]| s.relctl_as("dev@acme.io", args);
    assert_eq!(as_dev(&["promote", "--artifact", &artifact(OLD)]).code, 4);
    ok(&s.relctl_as(
        "alice@acme.io",
        &["approve", &release(OLD), "--env", "production"],
    ));
    ok(&as_dev(&["resume", &release(OLD)]));
    // The next release waits at production's gate; meanwhile staging is rolled back.
    assert_eq!(as_dev(&["promote", "--artifact", &artifact(HEX)]).code, 4);
    ok(&as_dev(&[
        "rollback", "--env", "staging", "--reason", "bad",
    ]));
    let run = s.relctl_as(
        "alice@acme.io",
        &["approve", &release(HEX), "--env", "production"],
    );
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("was rolled back in staging after it had gone on to production"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("relctl abort"), "{}", run.stderr);
    let run = as_dev(&["resume", &release(HEX)]);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "rolled back in staging after it had gone on to production: it cannot go further"
        ),
        "{}",
        run.stderr
    );
    // abort ends it: production is back on what was live before.
    ok(&as_dev(&[
        "abort",
        &release(HEX),
        "--reason",
        "staging rolled back",
    ]));
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
}

/// An abort whose rollback fails says so, and points at the rollback that finishes it
/// (an aborted release is not resumed); its JSON summary claims nothing about what runs.
#[test]
fn an_abort_whose_rollback_fails_points_at_the_rollback_that_finishes_it() {
    let s = a_release_paused_at_half_of_production();
    s.platform.fail_next_deploys(&[400]);
    let run = s.relctl_as("dev@acme.io", &["--output", "json", "abort", &release(HEX)]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("is aborted, but the rollback of production did not finish")
            && run
                .stderr
                .contains("`relctl rollback --env production` finishes it"),
        "{}",
        run.stderr
    );
    let summary: serde_json::Value =
        serde_json::from_str(run.stdout.lines().last().unwrap_or_default()).expect("a summary");
    assert_eq!(summary["outcome"], "failed", "{}", run.stdout);
    assert_eq!(summary["live"], serde_json::Value::Null, "{}", run.stdout);
    assert!(
        summary["hint"]
            .as_str()
            .is_some_and(|h| h.contains("rollback --env production"))
    );
    // The hint's way finishes it.
    ok(&s.relctl_as(
        "dev@acme.io",
        &[
            "rollback",
            "--env",
            "production",
            "--reason",
            "finish the abort",
        ],
    ));
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
}

/// A release paused in production whose lock was broken by hand (`relctl unlock`, as
/// after a runner was killed), then aborted: the abort takes production again and rolls
/// back what was deployed there, so the record and the platform agree on what runs.
#[test]
fn an_abort_after_an_unlock_rolls_back_what_was_deployed() {
    let s = a_release_paused_at_half_of_production();
    let run = s.relctl_as(
        "ops@sre.acme.io",
        &["unlock", "--env", "production", "--reason", "runner killed"],
    );
    ok(&run);
    assert!(
        run.stderr.contains(&format!(
            "what its run deployed in production stays there until `relctl resume {0}` \
             takes it again or `relctl abort {0}` rolls it back",
            release(HEX)
        )),
        "{}",
        run.stderr
    );
    let run = s.relctl_as(
        "ops@sre.acme.io",
        &["abort", &release(HEX), "--reason", "bad canary"],
    );
    aborted_back_to_old(&run);
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
    assert_eq!(
        s.last_events(HEX, 3),
        ["aborted", "rollback_started", "rolled_back"]
    );
    let production = s.record_file("apps/c/7/checkout/environments/production.yaml");
    assert!(production.contains("lock: null"), "{production}");
    assert!(
        production.contains(&format!("release: {}", release(OLD))),
        "{production}"
    );
}

/// The same, but another release took production after the unlock: what HEX deployed
/// there was replaced, so the abort rolls nothing back there (never over the newer
/// release) and marks HEX aborted as a whole.
#[test]
fn an_abort_after_an_unlock_leaves_an_environment_another_release_took_since() {
    let s = a_release_paused_at_half_of_production();
    let run = s.relctl_as(
        "ops@sre.acme.io",
        &["unlock", "--env", "production", "--reason", "runner killed"],
    );
    ok(&run);
    let third = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
    let run = s.relctl_as("dev@acme.io", &["promote", "--artifact", &artifact(third)]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_eq!(
        s.platform.running("production"),
        Some((artifact(third), 50))
    );
    let run = s.relctl_as(
        "ops@sre.acme.io",
        &["abort", &release(HEX), "--reason", "bad"],
    );
    ok(&run);
    assert!(
        run.stderr.contains(&format!(
            "{} is marked aborted and goes no further; it is live nowhere; what it deployed \
             in production was replaced by another release since",
            release(HEX)
        )),
        "{}",
        run.stderr
    );
    assert_eq!(
        s.platform.running("production"),
        Some((artifact(third), 50))
    );
    assert_eq!(s.last_events(HEX, 2), ["unlocked", "aborted"]);
}

/// HEX aborted (by the tester, "errors") by a process killed right after it recorded the
/// start of its rollback, before it redeployed anything.
fn abort_killed_in_its_rollback(s: &Setup) {
    let run = s
        .env
        .run_with(&["abort", &release(HEX), "--reason", "errors"], |c| {
            crate::common::setup::quick(c);
            c.env("RELCTL_FAULT_CRASH_AFTER", "2");
        });
    assert_ne!(run.code, 0, "the abort was meant to die: {}", run.stderr);
    assert_eq!(s.last_events(HEX, 2), ["aborted", "rollback_started"]);
}

/// The lock of an abort's rollback that did not finish is not broken by hand: unlock
/// refuses (exit 2, nothing recorded), naming the rollback that takes it over, which
/// does.
#[test]
fn unlock_of_a_rollback_that_did_not_finish_names_the_rollback_that_finishes_it() {
    let s = a_release_paused_at_half_of_production();
    abort_killed_in_its_rollback(&s);
    let commits = s.env.records_log();
    let run = s.relctl_as(
        "ops@sre.acme.io",
        &["unlock", "--env", "production", "--reason", "runner killed"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let finish = format!("relctl rollback --env production --to {}", release(OLD));
    assert!(
        run.stderr.contains(&format!(
            "production is held by a rollback of {} that did not finish",
            release(HEX)
        )) && run.stderr.contains(&finish),
        "{}",
        run.stderr
    );
    assert_eq!(s.env.records_log(), commits, "nothing recorded");
    let run = s.relctl_as(
        "ops@sre.acme.io",
        &[
            "rollback",
            "--env",
            "production",
            "--to",
            &release(OLD),
            "--reason",
            "finish it",
        ],
    );
    ok(&run);
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
}

/// An abort killed after it recorded the start of its rollback leaves production held
/// by that rollback: resume and a forced promote wait for it (exit 5) and deploy
/// nothing, a second abort names it (exit 2), and `relctl rollback` finishes it.
#[test]
fn an_abort_killed_in_its_rollback_is_finished_by_the_rollback_alone() {
    let s = a_release_paused_at_half_of_production();
    let deploys = s.platform.deploys().len();
    abort_killed_in_its_rollback(&s);
    let events = s.events(HEX);
    let resume = s.relctl_as("dev@acme.io", &["resume", &release(HEX)]);
    let forced = s.relctl_as(
        "dev@acme.io",
        &[
            "promote",
            "--artifact",
            &artifact(HEX),
            "--force",
            "--reason",
            "try",
        ],
    );
    for run in [resume, forced] {
        assert_eq!(run.code, 5, "{}", run.stderr);
        // Its own rollback holds production: no other release's commands are offered.
        assert!(
            run.stderr
                .contains("hint: wait with --wait-lock for that rollback to finish")
                && !run.stderr.contains("relctl resume a "),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("that has not finished")
                && run.stderr.contains(&format!(
                    "relctl rollback --env production --to {}",
                    release(OLD)
                )),
            "{}",
            run.stderr
        );
    }
    let run = s.relctl_as("dev@acme.io", &["abort", &release(HEX)]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "{} is aborted already, but the rollback of production did not finish",
            release(HEX)
        )),
        "{}",
        run.stderr
    );
    assert_eq!(s.events(HEX), events, "nothing more recorded");
    assert_eq!(s.platform.deploys().len(), deploys, "nothing deployed");
    let back = format!("relctl rollback --env production --to {}", release(OLD));
    assert!(run.stderr.contains(&back), "{}", run.stderr);
    let run = s.relctl_as(
        "ops@sre.acme.io",
        &[
            "rollback",
            "--env",
            "production",
            "--to",
            &release(OLD),
            "--reason",
            "finish the abort",
        ],
    );
    ok(&run);
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
    let events = s.events(HEX);
    assert_eq!(
        events.iter().filter(|e| *e == "aborted").count(),
        1,
        "{events:?}"
    );
    assert_eq!(
        events.last().map(String::as_str),
        Some("rolled_back"),
        "{events:?}"
    );
}
