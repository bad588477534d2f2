//! Who acts: identity from git whatever the plan path, RELCTL_ACTOR and the CI's, the
//! refusal when none is known; reject under the same rules as approve; two people in
//! two clones of one remote.

use crate::common::setup::{CANARY, HEX, OLD, Setup, artifact, plan, quick, release};
use crate::common::{TESTER, TestEnv};

/// Anyone at acme.io approves production, but not a release they started.
const NOT_SELF: &str = "    approval: { approvers: [\"*@acme.io\"], min: 1, allow_self: false }\n";

fn release_file(s: &Setup) -> String {
    s.record_file(&relctl::format::release_path("checkout", &release(HEX)))
}

/// The `Relctl-Actor` trailer of every record commit, newest first.
fn actor_trailers(env: &TestEnv) -> Vec<String> {
    env.git(&[
        "log",
        "--format=%(trailers:key=Relctl-Actor,valueonly)",
        "relctl/records",
    ])
    .lines()
    .filter(|l| !l.is_empty())
    .map(str::to_string)
    .collect()
}

#[test]
fn with_the_default_plan_path_the_actor_is_gits_user_email() {
    let s = Setup::new("", CANARY);
    // `--plan` left at its default, `release.yaml`: a bare file name.
    let run = s.promote(HEX, &["--to", "dev"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let record = release_file(&s);
    assert!(record.contains(&format!("actor: {TESTER}")), "{record}");
    assert!(record.contains("actor_source: git"), "{record}");
    assert!(!record.contains("unknown"), "{record}");
    let trailers = actor_trailers(&s.env);
    assert!(!trailers.is_empty());
    assert!(trailers.iter().all(|t| t == TESTER), "{trailers:?}");
}

#[test]
fn an_approver_listed_by_email_is_accepted_through_git_with_the_default_plan() {
    let approval = "    approval: { approvers: [\"ops@acme.io\"] }\n";
    let s = Setup::new(approval, CANARY);
    assert_eq!(s.promote(HEX, &[]).code, 4);
    let run = s.relctl_as(
        "ops@acme.io",
        &["approve", &release(HEX), "--env", "production"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(s.relctl(&["resume", &release(HEX)]).code, 0);
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 100)));
    let record = release_file(&s);
    assert!(record.contains("by: ops@acme.io"), "{record}");
}

#[test]
fn allow_self_cannot_be_bypassed_through_another_plan_path() {
    let s = Setup::new(NOT_SELF, CANARY);
    let alice = s.env.operator("alice@acme.io");
    let started = alice.run_with(&["promote", "--artifact", &artifact(HEX)], quick);
    assert_eq!(started.code, 4, "{}", started.stderr);
    let absolute = s.env.path().join("release.yaml");
    let absolute = absolute.to_string_lossy();
    std::fs::create_dir_all(s.env.path().join("sub")).expect("mkdir");
    // The same person, however the plan is named: absolute, relative, from below.
    for (dir, plan) in [
        (s.env.path().to_path_buf(), absolute.as_ref()),
        (s.env.path().to_path_buf(), "./release.yaml"),
        (s.env.path().join("sub"), "../release.yaml"),
    ] {
        let alice = s.env.operator("alice@acme.io").in_dir(&dir);
        let run = alice.run(&[
            "--plan",
            plan,
            "approve",
            &release(HEX),
            "--env",
            "production",
        ]);
        assert_eq!(run.code, 6, "--plan {plan}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("alice@acme.io started this release and may not approve it"),
            "{}",
            run.stderr
        );
    }
    assert!(!s.events(HEX).contains(&"approved".to_string()));
    // Someone else at acme.io may.
    let run = s.relctl_as(
        "bob@acme.io",
        &["approve", &release(HEX), "--env", "production"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn without_an_identity_approve_and_reject_refuse_with_a_hint() {
    let approval = "    approval: { approvers: [\"ops@acme.io\"] }\n";
    let s = Setup::new(approval, CANARY);
    assert_eq!(s.promote(HEX, &[]).code, 4);
    let before = s.events(HEX);
    let stranger = s.env.stranger();
    for args in [
        vec!["approve", &release(HEX), "--env", "production"],
        vec![
            "reject",
            &release(HEX),
            "--env",
            "production",
            "--reason",
            "no",
        ],
    ] {
        let run = stranger.run(&args);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr
                .contains("needs to know who you are, and no identity was found"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("hint: set git's user.email")
                && run.stderr.contains("RELCTL_ACTOR"),
            "{}",
            run.stderr
        );
    }
    assert_eq!(s.events(HEX), before, "nothing was recorded");
}

#[test]
fn without_an_identity_a_plan_with_allow_self_false_is_not_promoted() {
    let s = Setup::new(NOT_SELF, CANARY);
    let run = s
        .env
        .stranger()
        .run_with(&["promote", "--artifact", &artifact(HEX)], quick);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("allow_self: false"), "{}", run.stderr);
    assert!(
        run.stderr.contains("hint: set git's user.email"),
        "{}",
        run.stderr
    );
    assert_eq!(s.env.records_log(), "", "nothing was recorded");
    assert!(s.platform.deploys().is_empty());
    // Nor resumed: the tester starts it, someone unknown cannot carry it on.
    assert_eq!(s.promote(HEX, &[]).code, 4);
    let before = s.events(HEX);
    let run = s.env.stranger().run_with(&["resume", &release(HEX)], quick);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(s.events(HEX), before);
}

#[test]
fn without_an_identity_other_commands_go_on_and_the_record_says_none_was_known() {
    let s = Setup::new("", CANARY);
    let run = s.env.stranger().run_with(
        &["promote", "--artifact", &artifact(HEX), "--to", "dev"],
        quick,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let record = release_file(&s);
    assert!(record.contains("actor: unknown"), "{record}");
    assert!(record.contains("actor_source: none"), "{record}");
}

#[test]
fn relctl_actor_and_the_ci_identity_are_recorded_with_their_source() {
    let s = Setup::new("", CANARY);
    // RELCTL_ACTOR wins over git.
    let run = s.env.run_with(
        &["promote", "--artifact", &artifact(HEX), "--to", "dev"],
        |c| {
            quick(c);
            c.env("RELCTL_ACTOR", "deploy-bot@acme.io");
        },
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let record = release_file(&s);
    assert!(record.contains("actor: deploy-bot@acme.io"), "{record}");
    assert!(record.contains("actor_source: env"), "{record}");
    // A GitHub Actions runner, whose git knows no user.email: the workflow's actor,
    // with the run's link.
    let run = s.env.stranger().run_with(
        &["promote", "--artifact", &artifact(OLD), "--to", "dev"],
        |c| {
            quick(c);
            c.env("GITHUB_ACTIONS", "true")
                .env("GITHUB_ACTOR", "octocat")
                .env("GITHUB_SERVER_URL", "https://github.com")
                .env("GITHUB_REPOSITORY", "acme/checkout")
                .env("GITHUB_RUN_ID", "42");
        },
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let record = s.record_file(&relctl::format::release_path("checkout", &release(OLD)));
    assert!(record.contains("actor: octocat"), "{record}");
    assert!(record.contains("actor_source: github-actions"), "{record}");
    assert!(
        record.contains("ci: https://github.com/acme/checkout/actions/runs/42"),
        "{record}"
    );
    // A GitLab CI job: the user who triggered it.
    let third = "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
    let run = s.env.stranger().run_with(
        &["promote", "--artifact", &artifact(third), "--to", "dev"],
        |c| {
            quick(c);
            c.env("GITLAB_CI", "true")
                .env("GITLAB_USER_EMAIL", "carol@acme.io");
        },
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let record = s.record_file(&relctl::format::release_path("checkout", &release(third)));
    assert!(record.contains("actor: carol@acme.io"), "{record}");
    assert!(record.contains("actor_source: gitlab-ci"), "{record}");
}

#[test]
fn reject_refuses_a_release_that_is_not_waiting_and_says_where_it_stands() {
    let s = Setup::new("", CANARY);
    assert_eq!(s.promote(HEX, &[]).code, 0);
    let before = s.events(HEX);
    let run = s.relctl(&[
        "reject",
        &release(HEX),
        "--env",
        "production",
        "--reason",
        "oops",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "{} is not waiting for an approval in production: it is live there",
            release(HEX)
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("relctl rollback --env production"),
        "{}",
        run.stderr
    );
    assert_eq!(s.events(HEX), before, "nothing was recorded");
    assert!(
        !s.record_file("apps/c/7/checkout/environments/production.yaml")
            .contains("rejected"),
        "the live release is not marked rejected"
    );
    // Where it never went, it is not waiting either.
    let s = Setup::new("", CANARY);
    assert_eq!(s.promote(HEX, &["--to", "dev"]).code, 0);
    let run = s.relctl(&[
        "reject",
        &release(HEX),
        "--env",
        "production",
        "--reason",
        "oops",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("it is not there yet"), "{}", run.stderr);
}

#[test]
fn reject_checks_the_waiting_gates_own_approvers_and_allow_self() {
    // No environment approval: the approval step names its own approvers.
    let steps = "      - deploy: { weight: 10 }\n      - approval: { approvers: [\"qa@acme.io\"] }\n      - deploy: {}\n";
    let s = Setup::new("", steps);
    assert_eq!(s.promote(HEX, &[]).code, 4);
    let run = s.relctl(&[
        "reject",
        &release(HEX),
        "--env",
        "production",
        "--reason",
        "no",
    ]);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "rejection refused: {TESTER} is not an approver here (approvers: qa@acme.io)"
        )),
        "{}",
        run.stderr
    );
    let run = s.relctl_as(
        "qa@acme.io",
        &[
            "reject",
            &release(HEX),
            "--env",
            "production",
            "--reason",
            "no",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // A second rejection finds it no longer waiting.
    let run = s.relctl_as(
        "qa@acme.io",
        &[
            "reject",
            &release(HEX),
            "--env",
            "production",
            "--reason",
            "no",
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("qa@acme.io rejected it there already"),
        "{}",
        run.stderr
    );

    // allow_self: false holds for a rejection as for an approval.
    let s = Setup::new(NOT_SELF, CANARY);
    assert_eq!(
        s.relctl_as("alice@acme.io", &["promote", "--artifact", &artifact(HEX)])
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
            "no",
        ],
    );
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr.contains("started this release"),
        "{}",
        run.stderr
    );
    assert!(!s.events(HEX).contains(&"rejected".to_string()));
}

#[test]
fn two_people_in_two_clones_approve_through_the_remote() {
    let env = TestEnv::new();
    let platform = crate::common::platform::Platform::start();
    let plan = plan(&platform, NOT_SELF, CANARY).replace(
        "app: checkout\n",
        "app: checkout\nrecord: { remote: origin }\n",
    );
    let clones = env.clones(&[("release.yaml", &plan)]);
    let alice = env.operator("alice@acme.io").in_dir(&clones.one);
    let bob = env.operator("bob@acme.io").in_dir(&clones.two);
    let run = alice.run_with(&["promote", "--artifact", &artifact(HEX)], quick);
    assert_eq!(run.code, 4, "{}", run.stderr);
    // Alice cannot approve her own release from Bob's clone either.
    let alice_there = env.operator("alice@acme.io").in_dir(&clones.two);
    let run = alice_there.run(&["approve", &release(HEX), "--env", "production"]);
    assert_eq!(run.code, 6, "{}", run.stderr);
    let run = bob.run(&["approve", &release(HEX), "--env", "production"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = alice.run_with(&["resume", &release(HEX)], quick);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(platform.running("production"), Some((artifact(HEX), 100)));
    let remote = crate::common::git(
        &clones.remote,
        &[
            "log",
            "--format=%(trailers:key=Relctl-Actor,valueonly)%s",
            "relctl/records",
        ],
    );
    assert!(remote.contains("bob@acme.io"), "{remote}");
    assert!(remote.contains("alice@acme.io"), "{remote}");
}
