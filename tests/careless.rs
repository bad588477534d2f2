//! What a careless user does: the demo pointed at a real project, `--force` without a
//! reason, a dead notification hook, a tagged artifact reference, `| head` on a release.

use crate::common::TestEnv;
use crate::promote::{CANARY, HEX, Setup, artifact, plan};

#[test]
fn the_demo_refuses_a_directory_it_did_not_make() {
    let env = TestEnv::new();
    env.init_repo();
    let plan = "# my project's plan\nversion: 1\n";
    env.write("release.yaml", plan);
    let run = env.run(&["demo", "--dir", "."]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error: relctl demo writes only into a new or empty directory"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
    // Nothing of the project was touched.
    let written = std::fs::read_to_string(env.path().join("release.yaml")).unwrap_or_default();
    assert_eq!(written, plan);
    assert_eq!(env.git(&["config", "user.email"]).trim(), "dev@example.com");
    assert_eq!(env.records_log(), "");
    assert!(!env.path().join(".relctl-demo").exists());
}

#[test]
fn force_without_a_reason_is_refused() {
    let s = Setup::new("", CANARY);
    let run = s.promote(HEX, &["--force"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--reason"), "{}", run.stderr);
    assert!(s.platform.deploys().is_empty());
    let run = s.promote(HEX, &["--override-freeze"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(s.platform.deploys().is_empty());
    assert_eq!(s.env.records_log(), "");
    // With a reason it goes.
    let image = artifact(HEX);
    let run = s.relctl(&[
        "promote",
        "--artifact",
        &image,
        "--force",
        "--reason",
        "hotfix",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn a_dead_hook_warns_once_and_every_miss_is_recorded() {
    let s = Setup::new("", CANARY);
    let text = format!(
        "{}notify:\n  - url: \"{{{{ vars.api }}}}/hooks/broken\"\n",
        plan(&s.platform, "", CANARY)
    );
    s.env.write("release.yaml", text);
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let hook = format!("{}/hooks/broken", s.platform.url());
    assert_eq!(
        run.stderr.matches("warning:").count(),
        1,
        "one warning for the hook:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "warning: cannot notify {hook} of the `started` event: "
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("not repeated"), "{}", run.stderr);
    // started, four deploys, succeeded: each one told (and tried again), each one missed.
    assert_eq!(s.platform.hook_bodies("broken").len(), 12);
    let events = s.events(HEX);
    assert_eq!(
        events.iter().filter(|e| *e == "notify_failed").count(),
        6,
        "{events:?}"
    );
}
