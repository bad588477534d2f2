//! The kill switch and a flag's state hold against the real Unleash (tests/flags.rs has
//! the rig): a ramp under way or resumed after `rollback --flags-only` does not turn the
//! flag on again, a flag changed by hand mid-ramp stops the release, `--no-undo` still
//! puts flags back, the kill switch acts on the release whose flags are on, and a
//! restore records and names what it found.

use std::process::Child;

use serde_json::json;

use crate::common::setup::{HEX, OLD, artifact, release};
use crate::common::unleash::Unleash;
use crate::common::wait::{finish, wait_until};
use crate::flags::{ADMIN_SECRET, Rig, plan, ramp, ramp_rig, rig, steps_of};

/// A gate a person other than the tester passes: the ramp waits there after 5%.
const GATE: &str = "      - approval: { approvers: [\"alice@acme.io\"], allow_self: false }\n";

/// Production: deploy, flag 5%, an approval, flag 25%, flag 100%.
fn gated_rig() -> (Rig, String) {
    let unleash = Unleash::shared();
    let flag = unleash.new_flag("hold");
    let url = unleash.url.clone();
    let steps = format!(
        "      - flag: {{ name: {flag}, rollout: 5 }}\n{GATE}      - flag: {{ name: {flag}, rollout: 25 }}\n      - flag: {{ name: {flag}, rollout: 100 }}\n"
    );
    (rig(unleash, &url, "production: production", &steps), flag)
}

fn five(r: &Rig, flag: &str) -> bool {
    r.unleash.exposure(flag) == (true, vec!["flexibleRollout 5".to_string()])
}

fn spawn(r: &Rig, args: &[&str]) -> Child {
    let mut c = r.s.env.std_command();
    c.env(ADMIN_SECRET, &r.unleash.admin);
    crate::common::setup::spawn(c, args)
}

fn approve(r: &Rig) {
    let run = r.s.relctl_as(
        "alice@acme.io",
        &["approve", &release(HEX), "--env", "production"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}

fn kill_switch(r: &Rig) -> crate::common::Run {
    let run = r.relctl(&[
        "rollback",
        "--env",
        "production",
        "--flags-only",
        "--reason",
        "checkout errors",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run
}

#[test]
fn the_kill_switch_holds_against_a_promote_still_running_in_another_process() {
    let (r, flag) = gated_rig();
    let promote = spawn(
        &r,
        &[
            "promote",
            "--artifact",
            &artifact(HEX),
            "--version",
            "v2",
            "--wait-approval=1m",
        ],
    );
    wait_until("the ramp to wait at its approval", || {
        r.s.env.records_log().contains("awaiting approval")
    });
    assert!(five(&r, &flag));
    let killed = kill_switch(&r);
    assert!(
        killed.stderr.contains(&format!(
            "as before {}; nothing redeployed ({} is not live in production)",
            release(HEX),
            release(HEX)
        )),
        "the release acted on is named, and not said to stay live: {}",
        killed.stderr
    );
    assert_eq!(r.unleash.exposure(&flag), (false, vec![]));
    approve(&r);
    let run = finish(promote);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("the kill switch was pulled by")
            && run.stderr.contains("(checkout errors)")
            && run
                .stderr
                .contains(&format!("`relctl abort {}`", release(HEX))),
        "{}",
        run.stderr
    );
    assert_eq!(
        r.unleash.exposure(&flag),
        (false, vec![]),
        "the flag stays as the kill switch left it"
    );
    assert!(
        steps_of(&r.record()).contains(&("step_failed".to_string(), Some(3))),
        "{}",
        r.record()
    );
}

#[test]
fn the_kill_switch_holds_against_a_later_resume() {
    let (r, flag) = gated_rig();
    let run = r.promote();
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(five(&r, &flag));
    kill_switch(&r);
    approve(&r);
    let run = r.relctl(&["resume", &release(HEX)]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("the kill switch was pulled by"),
        "{}",
        run.stderr
    );
    assert_eq!(r.unleash.exposure(&flag), (false, vec![]));
    // Again: still held, still nothing turned on.
    let again = r.relctl(&["resume", &release(HEX)]);
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert_eq!(r.unleash.exposure(&flag), (false, vec![]));
}

#[test]
fn a_flag_turned_off_by_hand_mid_ramp_stops_the_release_and_is_left_as_it_is() {
    let (r, flag) = gated_rig();
    let run = r.promote();
    assert_eq!(run.code, 4, "{}", run.stderr);
    r.unleash.switch(&flag, false);
    approve(&r);
    let run = r.relctl(&["resume", &release(HEX)]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "flag `{flag}` was changed outside this release: its last step left it on at 5%, now off at 5%; relctl changed nothing"
        )),
        "{}",
        run.stderr
    );
    assert_eq!(
        r.unleash.exposure(&flag),
        (false, vec!["flexibleRollout 5".to_string()]),
        "nothing changed"
    );
    // Put back as the release left it, the ramp goes on.
    r.unleash.switch(&flag, true);
    let run = r.relctl(&["resume", &release(HEX)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        r.unleash.exposure(&flag),
        (true, vec!["flexibleRollout 100".to_string()])
    );
}

#[test]
fn rollback_no_undo_still_puts_the_flags_back() {
    let unleash = Unleash::shared();
    let flag = unleash.new_flag("noundo");
    let url = unleash.url.clone();
    let r = rig(unleash, &url, "production: production", "");
    let v1 = r.relctl(&["promote", "--artifact", &artifact(OLD), "--version", "v1"]);
    assert_eq!(v1.code, 0, "{}", v1.stderr);
    r.s.env.write(
        "release.yaml",
        plan(
            &r.s.platform.url(),
            &url,
            "production: production",
            &ramp(&flag),
        ),
    );
    let run = r.promote();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = r.relctl(&["rollback", "--env", "production", "--no-undo"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        r.unleash.exposure(&flag),
        (false, vec![]),
        "flags are not http/exec undos: put back all the same"
    );
    let record = r.record();
    assert!(
        record.contains("undo of step 2 skipped") || record.contains("skipped: true"),
        "the exec step's undo is skipped: {record}"
    );
}

/// Release A (OLD, v1) ramped to 100% and live in production, its analyses passing.
fn release_a_live(r: &Rig) {
    for version in ["v1", "v1-25"] {
        r.s.platform
            .set_stats(version, json!({ "error_rate": 0.0 }));
    }
    let a = r.relctl(&["promote", "--artifact", &artifact(OLD), "--version", "v1"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
}

#[test]
fn the_kill_switch_acts_on_the_live_release_whose_flag_is_on() {
    let (r, flag) = ramp_rig();
    release_a_live(&r);
    assert_eq!(
        r.unleash.exposure(&flag),
        (true, vec!["flexibleRollout 100".to_string()])
    );
    // B changes no flag and waits at an approval, under way.
    r.s.env.write(
        "release.yaml",
        plan(
            &r.s.platform.url(),
            &r.unleash.url,
            "production: production",
            GATE,
        ),
    );
    let b = r.promote();
    assert_eq!(b.code, 4, "{}", b.stderr);
    let run = kill_switch(&r);
    assert_eq!(r.unleash.exposure(&flag), (false, vec![]));
    assert!(
        run.stderr
            .contains(&format!("put back {flag} in production in"))
            && run.stderr.contains(&format!(
                "as before {0}; {0} stays live (nothing redeployed)",
                release(OLD)
            )),
        "{}",
        run.stderr
    );
    let status = r.relctl(&["status", "--env", "production"]);
    assert!(
        status
            .stdout
            .contains(&format!("flags in production: {flag} off (Unleash now)")),
        "the live release's flags show while another is under way: {}",
        status.stdout
    );
}

#[test]
fn a_restore_records_the_state_it_found_and_names_a_flag_changed_by_hand() {
    let (r, flag) = ramp_rig();
    let run = r.promote();
    assert_eq!(run.code, 0, "{}", run.stderr);
    r.unleash.add_strategy(
        &flag,
        json!({
            "name": "remoteAddress",
            "parameters": { "IPs": "10.0.0.1" },
        }),
    );
    let run = kill_switch(&r);
    assert!(
        run.stderr.contains(&format!(
            "warning: flag `{flag}` in production was changed by hand since {} left it (on at 100%, now on (2 strategies))",
            release(HEX)
        )),
        "{}",
        run.stderr
    );
    assert_eq!(
        r.unleash.exposure(&flag),
        (false, vec![]),
        "put back all the same"
    );
    let record = r.record();
    let found = record
        .split("event: undone")
        .nth(1)
        .unwrap_or_default()
        .split("event:")
        .next()
        .unwrap_or_default();
    assert!(
        found.contains("found:") && found.contains("remoteAddress"),
        "{record}"
    );
}

/// `relctl validate` of the flag rig's plan with `environments` and `steps`.
fn validate(environments: &str, steps: &str) -> crate::common::Run {
    let s = crate::common::Setup::with_plan(|platform| {
        plan(&platform.url(), "http://127.0.0.1:1", environments, steps)
    });
    s.relctl(&["validate"])
}

#[test]
fn validate_refuses_two_environments_mapped_to_one_unleash_environment() {
    let run = validate(
        "staging: production, production: production",
        "      - flag: { name: new-checkout, rollout: 5 }\n",
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("release.yaml:")
            && run.stderr.contains(
                "flag provider `unleash`: `environments.production` maps to Unleash environment `production`, as `environments.staging` does"
            ),
        "{}",
        run.stderr
    );
}

#[test]
fn validate_refuses_an_empty_flag_name_and_one_with_a_newline() {
    for (name, wrong) in [
        ("\"\"", "is empty"),
        ("\"new\\ncheckout\"", "holds a control character"),
    ] {
        let run = validate(
            "production: production",
            &format!("      - flag: {{ name: {name}, rollout: 5 }}\n"),
        );
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("a `flag` step's `name` {wrong}")),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn validate_says_only_what_is_wrong_with_a_rollout() {
    for rollout in ["101", "'5'"] {
        let run = validate(
            "production: production",
            &format!("      - flag: {{ name: new-checkout, rollout: {rollout} }}\n"),
        );
        assert_eq!(run.code, 2, "{rollout}: {}", run.stderr);
        assert!(
            !run.stderr.contains("needs `enabled` or `rollout`"),
            "{rollout}: {}",
            run.stderr
        );
    }
}

#[test]
fn a_token_with_a_trailing_newline_is_named_not_taken_for_an_outage() {
    let (r, flag) = ramp_rig();
    let token = format!("{}\n", r.unleash.admin);
    let run = r.s.env.run_with(
        &["promote", "--artifact", &artifact(HEX), "--version", "v2"],
        |c| {
            c.env("DEPLOY_TOKEN", crate::common::setup::SECRET)
                .env(ADMIN_SECRET, &token);
        },
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "flag `{flag}`: flag provider `unleash`'s token: header `Authorization` may not carry control characters: rendered from `{{{{ secret.{ADMIN_SECRET} }}}}`"
        )) && !run.stderr.contains("did not answer"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(&r.unleash.admin), "{}", run.stderr);
}

#[test]
fn a_kill_switch_on_an_archived_flag_says_it_is_archived() {
    let (r, flag) = ramp_rig();
    let run = r.promote();
    assert_eq!(run.code, 0, "{}", run.stderr);
    r.unleash.archive(&flag);
    let run = r.relctl(&["rollback", "--env", "production", "--flags-only"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("flag `{flag}`: the flag is archived in Unleash")),
        "{}",
        run.stderr
    );
}

#[test]
fn a_full_rollback_of_the_first_release_puts_its_flags_back_before_it_refuses() {
    let (r, flag) = ramp_rig();
    let run = r.promote();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = r.relctl(&["rollback", "--env", "production", "--reason", "bad"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("put back {flag} in production in"))
            && run.stderr.contains(&format!(
                "nothing was live in production before {}",
                release(HEX)
            )),
        "{}",
        run.stderr
    );
    assert_eq!(r.unleash.exposure(&flag), (false, vec![]));
}

#[test]
fn check_reads_each_flag_through_its_provider() {
    let unleash = Unleash::shared();
    let flag = unleash.new_flag("check");
    let url = unleash.url.clone();
    let r = rig(
        unleash,
        &url,
        "production: production",
        &format!(
            "      - flag: {{ name: {flag}, rollout: 5 }}\n      - flag: {{ name: no-such-flag-for-check, rollout: 5 }}\n"
        ),
    );
    let run = r.relctl(&["check", "--env", "production"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let line = |name: &str| {
        run.stdout
            .lines()
            .find(|l| l.contains(&format!("flag {name} ")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line(&flag).contains("pass") && line(&flag).contains("off now"),
        "{}",
        run.stdout
    );
    let missing = line("no-such-flag-for-check");
    assert!(
        missing.contains("error")
            && missing.contains("Unleash has no flag `no-such-flag-for-check`"),
        "{}",
        run.stdout
    );
    let refused = r.s.env.run_with(&["check", "--env", "production"], |c| {
        c.env(ADMIN_SECRET, "*:*.not-a-token-unleash-knows");
    });
    assert!(
        refused.stdout.contains("refused the token"),
        "{}",
        refused.stdout
    );
}

#[test]
fn status_reads_each_flag_from_unleash_and_says_when_it_changed_outside_relctl() {
    let (r, flag) = ramp_rig();
    let run = r.promote();
    assert_eq!(run.code, 0, "{}", run.stderr);
    r.unleash.switch(&flag, false);
    let status = r.relctl(&["status", "--env", "production"]);
    assert!(
        status.stdout.contains(&format!(
            "flags in production: {flag} off at 100% (recorded: on at 100%; changed outside relctl) (Unleash now)"
        )),
        "{}",
        status.stdout
    );
    // Without the token, what the record says, labelled, and why.
    let blind =
        r.s.relctl(&["status", "--env", "production", "--output", "json"]);
    assert_eq!(blind.code, 0, "{}", blind.stderr);
    let json: serde_json::Value = serde_json::from_str(&blind.stdout).expect("status JSON");
    let row = &json["environments"][0];
    assert_eq!(row["flags_as"], "recorded", "{row}");
    assert_eq!(row["flags"][0]["state"], "on at 100%", "{row}");
    assert!(
        row["flags"][0]["unread"]
            .as_str()
            .is_some_and(|why| why.contains(ADMIN_SECRET)),
        "{row}"
    );
}

#[test]
fn after_a_release_without_flags_goes_live_the_kill_switch_still_reaches_the_one_before() {
    let (r, flag) = ramp_rig();
    release_a_live(&r);
    r.s.env.write(
        "release.yaml",
        plan(
            &r.s.platform.url(),
            &r.unleash.url,
            "production: production",
            "",
        ),
    );
    let b = r.promote();
    assert_eq!(b.code, 0, "{}", b.stderr);
    let status = r.relctl(&["status", "--env", "production"]);
    assert!(
        status.stdout.contains(&format!(
            "flags in production: {flag} on at 100% (Unleash now)"
        )),
        "{}",
        status.stdout
    );
    let run = kill_switch(&r);
    assert_eq!(r.unleash.exposure(&flag), (false, vec![]));
    assert!(
        run.stderr.contains(&format!(
            "as before {0}; nothing redeployed ({0} is not live in production)",
            release(OLD)
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn the_kill_switch_pulled_again_puts_back_a_flag_turned_on_again_by_hand() {
    let (r, flag) = ramp_rig();
    let run = r.promote();
    assert_eq!(run.code, 0, "{}", run.stderr);
    kill_switch(&r);
    assert_eq!(r.unleash.exposure(&flag), (false, vec![]));
    r.unleash.switch(&flag, true);
    assert!(r.unleash.exposure(&flag).0, "on again by hand");
    let again = kill_switch(&r);
    assert!(
        again
            .stderr
            .contains(&format!("warning: flag `{flag}` in production is on"))
            && again
                .stderr
                .contains("now, but relctl had put it back to off")
            && !again.stderr.contains("nothing done"),
        "{}",
        again.stderr
    );
    assert_eq!(r.unleash.exposure(&flag), (false, vec![]), "off again");
    assert_eq!(
        r.record().matches("event: flags_restored").count(),
        2,
        "the second pull is recorded"
    );
    // Now it is as the kill switch left it: nothing to do, said so.
    let third = kill_switch(&r);
    assert!(third.stderr.contains("nothing done"), "{}", third.stderr);
}

#[test]
fn a_flag_whose_strategies_hold_a_secret_in_hex_or_upper_case_is_left_alone() {
    let admin = Unleash::shared().admin;
    let hex: String = admin.bytes().map(|b| format!("{b:02x}")).collect();
    for (form, encoded) in [("hex", hex), ("upper case", admin.to_uppercase())] {
        let unleash = Unleash::shared();
        let flag = unleash.new_flag("secret");
        unleash.add_strategy(
            &flag,
            json!({
                "name": "flexibleRollout",
                "parameters": { "rollout": "5", "stickiness": "default", "groupId": encoded.clone() }
            }),
        );
        let url = unleash.url.clone();
        let r = rig(
            unleash,
            &url,
            "production: production",
            &format!("      - flag: {{ name: {flag}, rollout: 25 }}\n"),
        );
        let run = r.promote();
        assert_eq!(run.code, 1, "{form}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("its strategies in Unleash hold a secret of this plan"),
            "{form}: {}",
            run.stderr
        );
        let record = r.s.env.git(&["log", "-p", "relctl/records"]);
        assert!(
            !record.contains(&encoded),
            "{form}: the secret is in the record"
        );
    }
}

#[test]
fn validate_refuses_a_flag_name_with_whitespace_around_it_and_a_negative_rollout() {
    for name in ["\" new-checkout\"", "\"new-checkout \""] {
        let run = validate(
            "production: production",
            &format!("      - flag: {{ name: {name}, rollout: 5 }}\n"),
        );
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("a `flag` step's `name` starts or ends with whitespace"),
            "{name}: {}",
            run.stderr
        );
    }
    let run = validate(
        "production: production",
        "      - flag: { name: new-checkout, rollout: -1 }\n",
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("`rollout` is a percentage from 0 to 100, found -1"),
        "{}",
        run.stderr
    );
}
