//! Targets whose releases differ: what each target runs is recorded, so a rollback
//! takes each back to what it ran itself, status shows each one's own release, and a
//! target added or removed in the plan is said so; what `relctl plan` shows of a
//! target's own provider and templates.

use crate::common::platform::Platform;
use crate::common::setup::{HEX, OLD, Setup, artifact, release};
use crate::waves::{deployed, failing_in_wave_two, plan_then, production};

/// A third release, after OLD and HEX.
const NEW: &str = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";

/// The words of `status --targets`' line for `target`.
fn status_line(setup: &Setup, target: &str) -> Vec<String> {
    let table = setup.relctl(&["status", "--targets"]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    table
        .stdout
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(target))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

/// OLD live on six targets; HEX live but for t03 (left on OLD by `continue`); NEW, the
/// release promoted next, is to fail on `fails`.
fn t03_left_on_old(fails: Option<&str>) -> Setup {
    let setup = failing_in_wave_two("continue", "");
    assert_eq!(setup.promote(HEX, &[]).code, 0);
    assert_eq!(
        setup.platform.running("production.t03"),
        Some((artifact(OLD), 100))
    );
    if let Some(target) = fails {
        setup.platform.fail_next_deploy_to(target, 500);
    }
    setup
}

#[test]
fn a_rollback_of_the_environment_takes_each_target_back_to_what_it_ran_itself() {
    let setup = t03_left_on_old(None);
    assert_eq!(setup.promote(NEW, &[]).code, 0);
    let run = setup.relctl(&["rollback", "--env", "production", "--reason", "5xx"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // t03 never ran HEX (it failed there): it goes back to OLD, the others to HEX.
    assert_eq!(
        deployed(&setup, &artifact(HEX))
            .iter()
            .filter(|t| *t == "t03")
            .count(),
        1
    );
    for (t, hex) in [("t01", HEX), ("t03", OLD), ("t06", HEX)] {
        assert_eq!(
            setup.platform.running(&format!("production.{t}")),
            Some((artifact(hex), 100)),
            "{t}"
        );
    }
    assert_eq!(
        status_line(&setup, "t03"),
        ["production", "t03", "2", &release(OLD), "not", "live"]
    );
    assert_eq!(
        status_line(&setup, "t01"),
        ["production", "t01", "1", &release(HEX), "live"]
    );
    let file = production(&setup);
    assert!(file.contains("targets_not_live:\n- t03"), "{file}");
}

#[test]
fn an_automatic_rollback_takes_each_target_that_received_the_release_back_to_its_own() {
    let setup = t03_left_on_old(Some("production.t04"));
    setup.env.write(
        "release.yaml",
        plan_then(
            &setup.platform,
            6,
            2,
            2,
            "    on_target_failure: rollback\n",
            "",
        ),
    );
    let run = setup.promote(NEW, &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    for (t, hex) in [
        ("t01", HEX),
        ("t03", OLD),
        ("t04", HEX),
        ("t05", HEX),
        ("t06", HEX),
    ] {
        assert_eq!(
            setup.platform.running(&format!("production.{t}")),
            Some((artifact(hex), 100)),
            "{t}"
        );
    }
    // HEX, which failed on t03, was never sent there again; wave 3 was not touched.
    assert_eq!(
        deployed(&setup, &artifact(HEX))
            .iter()
            .filter(|t| *t == "t03")
            .count(),
        1
    );
    let new = deployed(&setup, &artifact(NEW));
    assert!(new.contains(&"t03".to_string()), "{new:?}");
    assert!(!new.contains(&"t05".to_string()), "{new:?}");
    assert_eq!(
        deployed(&setup, &artifact(HEX))
            .iter()
            .filter(|t| *t == "t06")
            .count(),
        1
    );
    assert_eq!(
        status_line(&setup, "t03"),
        ["production", "t03", "2", &release(OLD), "not", "live"]
    );
}

#[test]
fn an_environment_file_without_targets_reads_as_before() {
    let setup = t03_left_on_old(None);
    // As a file written before each target's release was recorded.
    let path = "apps/c/7/checkout/environments/production.yaml";
    setup.edit_record(path, |text| {
        let start = text.find("targets:\n").expect("targets recorded");
        let end = text[start..]
            .find("\nrejected:")
            .or_else(|| text[start..].find("\ntargets_not_live:"))
            .expect("a key after targets")
            + start
            + 1;
        format!("{}{}", &text[..start], &text[end..])
    });
    assert_eq!(
        status_line(&setup, "t03"),
        ["production", "t03", "2", &release(OLD), "not", "live"]
    );
    assert_eq!(
        status_line(&setup, "t02"),
        ["production", "t02", "1", &release(HEX), "live"]
    );
    let run = setup.relctl(&["rollback", "--env", "production", "--target", "t02"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        setup.platform.running("production.t02"),
        Some((artifact(OLD), 100))
    );
}

#[test]
fn rolling_back_a_target_already_back_says_there_is_nothing_to_do() {
    let setup = t03_left_on_old(None);
    let first = setup.relctl(&["rollback", "--env", "production", "--target", "t02"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let calls = setup.platform.requests().len();
    let events = setup.events(HEX).len();
    for target in ["t02", "t03"] {
        let again = setup.relctl(&["rollback", "--env", "production", "--target", target]);
        assert_eq!(again.code, 0, "{}", again.stderr);
        let said = format!("{}{}", again.stdout, again.stderr);
        assert!(said.contains("nothing to roll back"), "{said}");
        assert!(said.contains(&release(OLD)), "{said}");
    }
    assert_eq!(setup.platform.requests().len(), calls, "no call");
    assert_eq!(setup.events(HEX).len(), events, "no event recorded");
}

#[test]
fn rolling_back_a_stopped_release_leaves_the_targets_it_never_reached() {
    let setup = failing_in_wave_two("stop", "");
    assert_eq!(setup.promote(HEX, &[]).code, 1);
    let before = deployed(&setup, &artifact(OLD)).len();
    let run = setup.relctl(&["rollback", "--env", "production", "--reason", "stuck"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut back: Vec<String> = deployed(&setup, &artifact(OLD))
        .into_iter()
        .skip(before)
        .collect();
    back.sort();
    // Wave 3 (t05, t06) never received it: no call goes there.
    assert_eq!(back, ["t01", "t02", "t03", "t04"]);
    for t in ["t01", "t05"] {
        assert_eq!(
            setup.platform.running(&format!("production.{t}")),
            Some((artifact(OLD), 100)),
            "{t}"
        );
    }
    let status = setup.relctl(&["status"]);
    assert!(
        status.stdout.contains("6/6 targets live"),
        "{}",
        status.stdout
    );
}

/// `production` with three targets: `eu` on the environment's provider, `us` on its own
/// HTTP provider, `ex` on its own command; `cluster` is the var each target's calls
/// name, `us_vars` what `us` defines.
fn own_providers(platform: &Platform, us_vars: &str) -> String {
    format!(
        r#"version: 1
app: checkout
artifact: {{ name: ghcr.io/acme/checkout }}
providers:
  deploy:
    regional:
      type: http
      request:
        method: POST
        url: "{url}/deploy/{{{{ target.vars.cluster }}}}"
        body: {{ image: "{{{{ artifact.ref }}}}" }}
    legacy:
      type: http
      request:
        method: PUT
        url: "{url}/legacy/{{{{ target.vars.cluster }}}}"
        body: {{ image: "{{{{ artifact.ref }}}}" }}
    shell:
      type: exec
      command: ["echo", "deploying", "{{{{ target.vars.cluster }}}}"]
      timeout: 10s
environments:
  - name: production
    deploy: regional
    targets:
      - {{ name: eu, vars: {{ cluster: c-eu }} }}
      - {{ name: us, vars: {us_vars}, deploy: legacy }}
      - {{ name: ex, vars: {{ cluster: c-ex }}, deploy: shell }}
    waves:
      - {{ targets: [eu, us, ex] }}
"#,
        url = platform.url()
    )
}

#[test]
fn plan_shows_each_targets_own_deploy_provider() {
    let setup = Setup::with_plan(|p| own_providers(p, "{ cluster: c-us }"));
    let run = setup.relctl(&["plan", "--artifact", &artifact(HEX)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let line = |target: &str| {
        run.stdout
            .lines()
            .find(|l| l.contains(&format!("production/{target} step 1 deploy")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line("eu").contains("POST") && line("eu").contains("/deploy/c-eu"),
        "{}",
        run.stdout
    );
    assert!(
        line("us").contains("PUT") && line("us").contains("/legacy/c-us"),
        "{}",
        run.stdout
    );
    assert!(line("ex").contains("echo deploying c-ex"), "{}", run.stdout);
    assert!(!line("ex").contains("POST"), "{}", run.stdout);
}

#[test]
fn plan_refuses_a_targets_template_it_cannot_render_naming_the_name() {
    let setup = Setup::with_plan(|p| own_providers(p, "{ region: us-1 }"));
    let run = setup.relctl(&["plan", "--artifact", &artifact(HEX)]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("production/us"), "{}", run.stderr);
    assert!(
        run.stderr.contains("`target.vars.cluster`"),
        "{}",
        run.stderr
    );
}

#[test]
fn validate_refuses_a_template_in_a_targets_vars() {
    let setup = Setup::with_plan(|p| own_providers(p, "{ cluster: \"{{ secret.PW }}\" }"));
    let run = setup.relctl(&["validate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("release.yaml:27:38"), "{}", run.stderr);
    assert!(
        run.stderr.contains("`vars.cluster` of target `us`"),
        "{}",
        run.stderr
    );
    let promote = setup.promote(HEX, &[]);
    assert_eq!(promote.code, 2, "{}", promote.stderr);
    assert!(setup.platform.requests().is_empty());
}

/// The six-target plan under `policy` without `t03` (`drop`), or with a `t07` in a wave
/// of its own (`add`).
fn changed_plan(setup: &Setup, policy: &str, drop: bool, add: bool) {
    let extra = format!("    on_target_failure: {policy}\n");
    let mut text = plan_then(&setup.platform, 6, 2, 2, &extra, "");
    if drop {
        text = text
            .replace("      - { name: t03, vars: { region: r-t03 } }\n", "")
            .replace("[t03, t04]", "[t04]");
    }
    if add {
        text = text
            .replace(
                "    waves:\n",
                "      - { name: t07, vars: { region: r-t07 } }\n    waves:\n",
            )
            .replace(
                "      - { targets: [t05, t06], parallel: 2 }\n",
                "      - { targets: [t05, t06], parallel: 2 }\n      - { targets: [t07] }\n",
            );
        assert!(text.contains("[t07]"), "{text}");
    }
    setup.env.write("release.yaml", text);
}

#[test]
fn a_target_removed_from_the_plan_during_a_release_is_said_and_recorded() {
    let setup = failing_in_wave_two("stop", "");
    assert_eq!(setup.promote(HEX, &[]).code, 1);
    changed_plan(&setup, "stop", true, false);
    let run = setup.relctl(&["resume", &release(HEX)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("production/t03 is no longer in the plan"),
        "{}",
        run.stderr
    );
    assert!(setup.events(HEX).contains(&"target_dropped".to_string()));
    let status = setup.relctl(&["status"]);
    assert!(
        status.stdout.contains("5/5 targets live"),
        "{}",
        status.stdout
    );
    assert!(
        !production(&setup).contains("t03"),
        "{}",
        production(&setup)
    );
}

#[test]
fn a_target_added_after_the_release_went_live_is_not_live_until_promoted_again() {
    let setup = failing_in_wave_two("rollback", "");
    changed_plan(&setup, "rollback", false, true);
    assert_eq!(
        status_line(&setup, "t07"),
        ["production", "t07", "4", "-", "not", "live"]
    );
    let status = setup.relctl(&["status"]);
    assert!(
        status.stdout.contains("6/7 targets live"),
        "{}",
        status.stdout
    );
    let plan = setup.relctl(&["plan", "--artifact", &artifact(OLD)]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        plan.stdout.contains("production/t07 step 1 deploy"),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("production/t01 step"),
        "{}",
        plan.stdout
    );
    let before = setup.platform.requests().len();
    let run = setup.promote(OLD, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let calls: Vec<String> = setup.platform.requests()[before..]
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(calls, ["/deploy/production.t07"], "only the target added");
    let status = setup.relctl(&["status"]);
    assert!(
        status.stdout.contains("7/7 targets live"),
        "{}",
        status.stdout
    );
    let again = setup.promote(OLD, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        setup.platform.requests().len(),
        before + 1,
        "nothing more to do"
    );
}

#[test]
fn a_rollback_of_one_target_takes_it_back_to_what_it_ran_and_says_so() {
    let setup = t03_left_on_old(None);
    assert_eq!(setup.promote(NEW, &[]).code, 0);
    let run = setup.relctl(&["rollback", "--env", "production", "--target", "t03"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "rolled production/t03 back from {} to {}",
            release(NEW),
            release(OLD)
        )),
        "{}",
        run.stderr
    );
    assert_eq!(
        setup.platform.running("production.t03"),
        Some((artifact(OLD), 100))
    );
    assert_eq!(
        deployed(&setup, &artifact(HEX))
            .iter()
            .filter(|t| *t == "t03")
            .count(),
        1
    );
}

#[test]
fn a_rollback_to_a_release_that_failed_on_a_target_leaves_that_target_alone() {
    let setup = t03_left_on_old(None);
    assert_eq!(setup.promote(NEW, &[]).code, 0);
    let events = || {
        setup
            .relctl(&["history", "--limit", "500", "--output", "json"])
            .stdout
            .lines()
            .count()
    };
    let before = events();
    let one = setup.relctl(&[
        "rollback",
        "--env",
        "production",
        "--target",
        "t03",
        "--to",
        &release(HEX),
        "--reason",
        "5xx",
    ]);
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert!(
        one.stderr.contains(&format!(
            "production/t03 is left on {}: {} never went live there (it failed or was left behind); nothing deployed",
            release(NEW),
            release(HEX)
        )),
        "{}\n{}",
        one.stdout,
        one.stderr
    );
    assert_ne!(
        setup.platform.running("production.t03"),
        Some((artifact(HEX), 100))
    );
    assert_eq!(events(), before, "nothing recorded");
    let run = setup.relctl(&[
        "rollback",
        "--env",
        "production",
        "--to",
        &release(HEX),
        "--reason",
        "5xx",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "production/t03 is left on {}: {} never went live there",
            release(NEW),
            release(HEX)
        )),
        "{}",
        run.stderr
    );
    // HEX failed on t03: it is never sent there; the others go back to HEX.
    assert_eq!(
        deployed(&setup, &artifact(HEX))
            .iter()
            .filter(|t| *t == "t03")
            .count(),
        1
    );
    assert_eq!(
        setup.platform.running("production.t01"),
        Some((artifact(HEX), 100))
    );
    assert_ne!(
        setup.platform.running("production.t03"),
        Some((artifact(HEX), 100))
    );
}

/// Three targets, `t01` alone then `t02` and `t03` together, two steps each, under
/// `on_target_failure: stop`. `t02` deploys by a command that, while a file `hold`
/// exists, finishes its step only once the record says a target failed: so it has done
/// one step when the run stops (the pattern is bracketed so that the plan's own copy,
/// which the record keeps, does not match it).
fn stop_with_a_partner_part_way(platform: &Platform) -> String {
    format!(
        r#"version: 1
app: checkout
artifact: {{ name: ghcr.io/acme/checkout }}
providers:
  deploy:
    regional:
      type: http
      request:
        method: POST
        url: "{url}/deploy/production.{{{{ target.name }}}}"
        body: {{ image: "{{{{ artifact.ref }}}}", weight: "{{{{ step.weight }}}}" }}
        retries: 0
    held:
      type: exec
      command:
        - sh
        - -c
        - 'i=0; while [ -e hold ] && ! git grep -q "event: target_[f]ailed" relctl/records -- && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done'
      timeout: 30s
environments:
  - name: production
    deploy: regional
    on_target_failure: stop
    targets:
      - {{ name: t01 }}
      - {{ name: t02, deploy: held }}
      - {{ name: t03 }}
    waves:
      - {{ targets: [t01] }}
      - {{ targets: [t02, t03], parallel: 2 }}
    steps:
      - deploy: {{ weight: 10 }}
      - deploy: {{}}
  - name: dr
    deploy: regional
"#,
        url = platform.url()
    )
}

#[test]
fn after_stop_status_says_stopped_though_a_target_of_the_wave_is_part_way() {
    let setup = Setup::with_plan(stop_with_a_partner_part_way);
    let first = setup.promote(OLD, &["--to", "production"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    setup.env.write("hold", "");
    setup.platform.fail_next_deploy_to("production.t03", 500);
    let run = setup.promote(HEX, &["--to", "production"]);
    assert_eq!(run.code, 1, "{}", run.stderr);

    let status = setup.relctl(&["status", "--env", "production"]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(
        status.stdout.contains(&format!(
            "stopped: target t03 failed; `relctl resume {}` continues",
            release(HEX)
        )),
        "{}",
        status.stdout
    );
    assert!(!status.stdout.contains("in progress"), "{}", status.stdout);
    // t02 did its first step and went no further: it is not running.
    assert_eq!(
        status_line(&setup, "t02"),
        ["production", "t02", "2", &release(OLD), "stopped"]
    );
    assert_eq!(
        status_line(&setup, "t03"),
        ["production", "t03", "2", &release(OLD), "failed"]
    );
    let json = setup.relctl(&["status", "--env", "production", "--output", "json"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap_or_default();
    let row = &value["environments"][0];
    assert_eq!(row["kind"], "locked", "{value}");
    assert_eq!(
        row["standing"],
        format!("locked (stopped): {}", release(HEX)).as_str(),
        "{value}"
    );
}

#[test]
fn plan_after_a_target_was_added_shows_it_once_then_the_next_environment() {
    let dr = "  - name: dr\n    deploy: single\n";
    let setup = Setup::with_plan(|p| plan_then(p, 6, 2, 2, "", dr));
    assert_eq!(setup.promote(OLD, &[]).code, 0);
    let text = plan_then(&setup.platform, 6, 2, 2, "", dr)
        .replace(
            "    waves:\n",
            "      - { name: t07, vars: { region: r-t07 } }\n    waves:\n",
        )
        .replace("[t05, t06]", "[t05, t06, t07]");
    setup.env.write("release.yaml", text);
    let run = setup.relctl(&["plan", "--artifact", &artifact(OLD)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let t07 = run
        .stdout
        .lines()
        .filter(|l| l.contains("production/t07 step 1"))
        .count();
    assert_eq!(t07, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("dr ")),
        "{}",
        run.stdout
    );
}
