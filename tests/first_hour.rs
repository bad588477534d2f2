//! The first hour: `relctl init` in a fresh repository, then only what it printed, up to
//! a promotion through dev and staging; the plan found from a subdirectory; and every
//! way `init` and plan discovery refuse.

use std::path::Path;

use crate::common::platform::Platform;
use crate::common::setup::{CANARY, HEX, Setup, artifact, quick, release};
use crate::common::{Run, TESTER, TestEnv, git, ok};

/// The commands a run printed for the user to type: its stdout lines that start with
/// `relctl `, as a shell would split them (without `relctl`), with `$DIGEST` set to
/// `sha256:<hex>`.
fn printed_commands(run: &Run, hex: &str) -> Vec<Vec<String>> {
    run.stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("relctl "))
        .map(|l| {
            l.split_whitespace()
                .map(|w| {
                    w.trim_matches('"')
                        .replace("$DIGEST", &format!("sha256:{hex}"))
                })
                .collect()
        })
        .collect()
}

/// What the printed next steps say to fill in, by key (`vars.deploy_url`, …).
fn to_fill(run: &Run) -> Vec<String> {
    let line = run
        .stdout
        .lines()
        .find_map(|l| l.split_once("fill in ").map(|(_, rest)| rest.to_string()))
        .unwrap_or_default();
    line.split(", ")
        .filter_map(|item| item.split_whitespace().next())
        .map(|key| key.trim_end_matches(';').to_string())
        .collect()
}

/// The plan with the value of `vars.<key>` set to `value`, as a user edits it.
fn fill_var(plan: &str, key: &str, value: &str) -> String {
    plan.lines()
        .map(
            |line| match line.trim_start().strip_prefix(&format!("{key}:")) {
                Some(_) => format!("  {key}: \"{value}\""),
                None => line.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("\n")
}

fn fresh_repository(env: &TestEnv, remote: &str) {
    env.git(&["init", "-q", "-b", "main"]);
    env.git(&["remote", "add", "origin", remote]);
}

#[test]
fn first_hour_from_init_to_a_promotion_through_dev_and_staging() {
    let env = TestEnv::new();
    let platform = Platform::start();
    fresh_repository(&env, "https://github.com/acme/shop.git");

    let init = env.run(&["init"]);
    ok(&init);
    assert!(
        init.stderr
            .contains("app `shop` (from the remote github.com/acme/shop)"),
        "{}",
        init.stderr
    );
    let plan = std::fs::read_to_string(env.path().join("release.yaml")).expect("the plan");
    assert!(plan.contains("name: ghcr.io/acme/shop "), "{plan}");
    assert!(
        plan.contains(&format!("approvers: [\"{TESTER}\"]")),
        "{plan}"
    );

    // The one thing to fill in with a GitHub remote: the deploy endpoint.
    assert_eq!(to_fill(&init), ["vars.deploy_url"], "{}", init.stdout);
    std::fs::write(
        env.path().join("release.yaml"),
        fill_var(&plan, "deploy_url", &platform.url()),
    )
    .expect("edit the plan");

    let commands = printed_commands(&init, HEX);
    assert_eq!(commands.len(), 3, "{}", init.stdout);
    assert_eq!(commands[0], ["validate"]);
    assert_eq!(commands[1][0], "plan");
    assert_eq!(commands[2][0], "promote");
    for command in &commands {
        let args: Vec<&str> = command.iter().map(String::as_str).collect();
        let run = env.run_with(&args, quick);
        ok(&run);
    }

    let image = format!("ghcr.io/acme/shop@sha256:{HEX}");
    assert_eq!(
        platform.deploys(),
        [
            ("dev".to_string(), image.clone(), 100),
            ("staging".to_string(), image.clone(), 100),
        ]
    );
    assert_eq!(platform.running("staging"), Some((image, 100)));
    assert_eq!(platform.running("production"), None);

    let id = format!("shop-{}", &HEX[..12]);
    let status = env.run(&["status"]);
    ok(&status);
    let line = |name: &str| {
        status
            .stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_default()
            .to_string()
    };
    assert!(line("dev").contains(&id), "{}", status.stdout);
    assert!(line("staging").contains(&id), "{}", status.stdout);
    assert!(!line("production").contains(&id), "{}", status.stdout);
    let record = env.git(&[
        "show",
        &format!(
            "relctl/records:{}",
            relctl::format::release_path("shop", &id)
        ),
    ]);
    assert!(record.contains(&format!("actor: {TESTER}")), "{record}");
}

#[test]
fn init_with_a_token_in_the_remote_never_shows_it() {
    let env = TestEnv::new();
    fresh_repository(&env, "https://bob:ghp_s3cr3tT0ken@github.com/acme/shop.git");
    let init = env.run(&["init"]);
    ok(&init);
    let plan = std::fs::read_to_string(env.path().join("release.yaml")).expect("the plan");
    for text in [&init.stdout, &init.stderr, &plan] {
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(!text.contains("bob"), "{text}");
    }
    assert!(plan.contains("name: ghcr.io/acme/shop "), "{plan}");
}

#[test]
fn init_names_the_app_after_the_directory_without_a_remote() {
    for (dir, app) in [
        ("My Service_2", "my-service-2"),
        // Names YAML would read as a number or a boolean are quoted.
        ("2fast", "\"2fast\""),
        ("0", "\"0\""),
        ("1e5", "\"1e5\""),
        ("no", "\"no\""),
        ("Überdienst", "berdienst"),
    ] {
        let env = TestEnv::new();
        let project = env.path().join(dir);
        std::fs::create_dir(&project).expect("a project dir");
        git(&project, &["init", "-q", "-b", "main"]);
        let run = env.operator(TESTER).in_dir(&project).run(&["init"]);
        ok(&run);
        let plan = std::fs::read_to_string(project.join("release.yaml")).expect("the plan");
        assert!(plan.contains(&format!("\napp: {app} ")), "{dir}: {plan}");
        // No registry to guess: the artifact is to fill in, and validate says so.
        assert!(
            run.stderr
                .contains("artifact to fill in (no git remote to guess it from)"),
            "{}",
            run.stderr
        );
        let fill = to_fill(&run);
        assert_eq!(fill, ["vars.deploy_url", "artifact.name"], "{}", run.stdout);
        let run = env.operator(TESTER).in_dir(&project).run(&["validate"]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("release.yaml has 2 problems")
                && run.stderr.matches("placeholder from `relctl init`").count() == 2,
            "{}",
            run.stderr
        );
    }
}

#[test]
fn init_for_a_remote_on_another_host_names_the_app_and_leaves_the_artifact_to_fill_in() {
    let env = TestEnv::new();
    fresh_repository(&env, "ssh://git@git.example.com:2222/team/Billing_API.git");
    let run = env.run(&["init"]);
    ok(&run);
    assert!(
        run.stderr.contains(
            "app `billing-api` (from the remote git.example.com/team/Billing_API, made from \
             `Billing_API`), artifact to fill in (no registry known for \
             git.example.com/team/Billing_API)"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(
        to_fill(&run),
        ["vars.deploy_url", "artifact.name"],
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("\"YOUR_IMAGE@$DIGEST\""),
        "{}",
        run.stdout
    );
}

#[test]
fn init_for_a_gitlab_remote_guesses_its_registry_and_exec_takes_a_command() {
    let env = TestEnv::new();
    fresh_repository(&env, "git@gitlab.com:Group/Sub/Proj.git");
    let run = env.run(&["init", "--provider", "exec"]);
    ok(&run);
    let plan = std::fs::read_to_string(env.path().join("release.yaml")).expect("the plan");
    assert!(
        plan.contains("name: registry.gitlab.com/group/sub/proj "),
        "{plan}"
    );
    assert_eq!(to_fill(&run), ["vars.deploy_command"], "{}", run.stdout);
    std::fs::write(
        env.path().join("release.yaml"),
        fill_var(&plan, "deploy_command", "./deploy.sh"),
    )
    .expect("edit the plan");
    ok(&env.run(&["validate"]));
}

#[test]
fn init_example_prints_the_reference_and_writes_nothing() {
    let env = TestEnv::new();
    let run = env.run(&["init", "--example"]);
    ok(&run);
    let reference =
        std::fs::read_to_string(crate::common::repo_root().join("release.example.yaml"))
            .expect("release.example.yaml");
    assert_eq!(run.stdout, reference);
    assert!(!env.path().join("release.yaml").exists());
}

#[test]
fn init_never_overwrites_a_plan_unless_forced() {
    let env = TestEnv::new();
    fresh_repository(&env, "https://github.com/acme/shop.git");
    env.write("release.yaml", "mine\n");
    let run = env.run(&["init"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("release.yaml already exists"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    assert_eq!(run.stdout, "");
    let kept = std::fs::read_to_string(env.path().join("release.yaml")).expect("the plan");
    assert_eq!(kept, "mine\n");

    ok(&env.run(&["init", "--force"]));
    let replaced = std::fs::read_to_string(env.path().join("release.yaml")).expect("the plan");
    assert!(replaced.contains("app: shop"), "{replaced}");
}

#[test]
fn init_in_a_subdirectory_writes_there_and_says_which_plan_it_hides() {
    let env = TestEnv::new();
    fresh_repository(&env, "https://github.com/acme/shop.git");
    env.write("release.yaml", "version: 1\n");
    let service = env.path().join("services/cart");
    std::fs::create_dir_all(&service).expect("a service dir");
    let run = env.operator(TESTER).in_dir(&service).run(&["init"]);
    ok(&run);
    let plan = std::fs::read_to_string(service.join("release.yaml")).expect("the plan");
    assert!(plan.contains("\napp: cart "), "{plan}");
    assert!(plan.contains("name: ghcr.io/acme/shop "), "{plan}");
    assert!(
        run.stderr
            .contains("warning: ../../release.yaml is a plan too: from here down, relctl now uses the new release.yaml"),
        "{}",
        run.stderr
    );
}

#[test]
fn init_outside_a_git_repository_says_to_make_one() {
    let env = TestEnv::new();
    let run = env.run(&["init"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("is not inside a git repository"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: ") && run.stderr.contains("git init"),
        "{}",
        run.stderr
    );
    assert!(!env.path().join("release.yaml").exists());
}

/// Makes a directory unwritable for this process (and the relctl it starts) until
/// dropped: read-only permissions, and for root, who ignores those, the immutable flag.
struct Unwritable<'a>(&'a Path, bool);

impl<'a> Unwritable<'a> {
    fn new(dir: &'a Path) -> Option<Unwritable<'a>> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).ok()?;
        let probe = dir.join(".probe");
        let mut guard = Unwritable(dir, false);
        if std::fs::write(&probe, "").is_ok() {
            let _ = std::fs::remove_file(&probe);
            guard.1 = std::process::Command::new("chattr")
                .arg("+i")
                .arg(dir)
                .status()
                .is_ok_and(|s| s.success());
            if !guard.1 || std::fs::write(&probe, "").is_ok() {
                return None;
            }
        }
        Some(guard)
    }
}

impl Drop for Unwritable<'_> {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        if self.1 {
            let _ = std::process::Command::new("chattr")
                .arg("-i")
                .arg(self.0)
                .status();
        }
        let _ = std::fs::set_permissions(self.0, std::fs::Permissions::from_mode(0o755));
    }
}

#[test]
fn init_in_a_directory_it_cannot_write_says_so() {
    let env = TestEnv::new();
    fresh_repository(&env, "https://github.com/acme/shop.git");
    let Some(_guard) = Unwritable::new(env.path()) else {
        eprintln!("skipped: this machine cannot make a directory unwritable");
        return;
    };
    let run = env.run(&["init"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("error: cannot write ") && run.stderr.contains("release.yaml"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
}

#[test]
fn promote_from_a_subdirectory_uses_the_plan_at_the_repository_root() {
    let s = Setup::new("", CANARY);
    // A smoke test in dev, named relative to the plan, writing where it runs.
    let plan = std::fs::read_to_string(s.env.path().join("release.yaml")).expect("the plan");
    let plan = plan.replacen(
        "  - name: dev\n    deploy: platform\n",
        "  - name: dev\n    deploy: platform\n    steps:\n      - deploy: {}\n      - exec: { command: [\"./scripts/smoke\", \"{{ env.name }}\"] }\n",
        1,
    );
    s.env.write("release.yaml", plan);
    let smoke = s.env.write(
        "scripts/smoke",
        "#!/bin/sh\necho \"smoke $1\" >> smoke.log\n",
    );
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&smoke)
        .status()
        .expect("chmod");
    let sub = s.env.path().join("src/deep");
    std::fs::create_dir_all(&sub).expect("a subdirectory");

    let reference = artifact(HEX);
    let run = s.env.run_with(
        &["-v", "promote", "--artifact", &reference, "--to", "staging"],
        |c| {
            quick(c);
            c.current_dir(&sub);
        },
    );
    ok(&run);
    assert!(
        run.stderr.contains("using the plan ../../release.yaml"),
        "{}",
        run.stderr
    );
    assert_eq!(
        s.platform.deploys(),
        [
            ("dev".to_string(), reference.clone(), 100),
            ("staging".to_string(), reference.clone(), 100),
        ]
    );
    // Recorded in the plan's repository, by the tester as git knows them.
    let record = s.record_file(&relctl::format::release_path("checkout", &release(HEX)));
    assert!(record.contains(&format!("actor: {TESTER}")), "{record}");
    assert!(record.contains("actor_source: git"), "{record}");
    // The smoke test ran beside the plan, not in the subdirectory.
    let log = std::fs::read_to_string(s.env.path().join("smoke.log")).expect("smoke.log");
    assert_eq!(log, "smoke dev\n");
    assert!(!sub.join("smoke.log").exists());

    let status = s.env.run_with(&["status"], |c| {
        c.current_dir(&sub);
    });
    ok(&status);
    assert!(status.stdout.contains(&release(HEX)), "{}", status.stdout);
}

#[test]
fn a_plan_in_the_current_directory_wins_over_the_one_above() {
    let s = Setup::new("", CANARY);
    let sub = s.env.path().join("svc");
    std::fs::create_dir_all(&sub).expect("a subdirectory");
    std::fs::write(sub.join("release.yaml"), "version: 1\n").expect("a second plan");
    let run = s.env.run_with(&["validate"], |c| {
        c.current_dir(&sub);
    });
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("error: release.yaml has"),
        "{}",
        run.stderr
    );
}

#[test]
fn no_plan_above_the_repository_root() {
    let env = TestEnv::new();
    env.write("release.yaml", "version: 1\n");
    let project = env.path().join("project");
    std::fs::create_dir_all(project.join("src")).expect("a project");
    git(&project, &["init", "-q", "-b", "main"]);
    let run = env
        .operator(TESTER)
        .in_dir(&project.join("src"))
        .run(&["validate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("or its parents up to the repository's root"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hint: `relctl init`"), "{}", run.stderr);
}

#[test]
fn outside_a_repository_only_the_current_directory_is_searched() {
    let env = TestEnv::new();
    env.write("release.yaml", "version: 1\n");
    let sub = env.path().join("sub");
    std::fs::create_dir_all(&sub).expect("a subdirectory");
    let run = env.operator(TESTER).in_dir(&sub).run(&["status"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "no release.yaml in {} (not inside a git repository, so only there)",
            sub.display()
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hint: `relctl init`"), "{}", run.stderr);
}
