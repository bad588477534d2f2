//! Notify hooks: the events a hook subscribes to reach it, in order, as JSON or as a
//! Slack message; a hook that is down is a warning, never a failed release.

use serde_json::Value;

use crate::promote::{CANARY, HEX, OLD, SECRET, Setup, plan, release};

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

fn with_hooks(hooks: &str) -> Setup {
    let s = Setup::new("", CANARY);
    let text = format!("{}notify:\n{hooks}", plan(&s.platform, "", CANARY));
    s.env.write("release.yaml", text);
    let check = s.relctl(&["validate"]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    s
}

fn names(bodies: &[Value]) -> Vec<&str> {
    bodies
        .iter()
        .map(|b| b["event"].as_str().unwrap_or("?"))
        .collect()
}

#[test]
fn hooks_hear_the_events_they_subscribe_to() {
    let s = with_hooks(
        r#"  - url: "{{ vars.api }}/hooks/all"
    headers: { X-Token: "{{ secret.DEPLOY_TOKEN }}", X-App: "{{ app }}" }
  - url: "{{ vars.api }}/hooks/slack"
    format: slack
    events: [succeeded, rolled_back]
"#,
    );
    let run = s.promote(HEX, &["--version", "1.4.2"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    let bodies = s.platform.hook_bodies("all");
    assert_eq!(
        names(&bodies),
        [
            "started",
            "deploying",
            "deploying",
            "deploying",
            "deploying",
            "succeeded"
        ]
    );
    let hooks: Vec<_> = s
        .platform
        .requests()
        .into_iter()
        .filter(|r| r.path == "/hooks/all")
        .collect();
    assert_eq!(hooks[0].method, "POST");
    assert_eq!(hooks[0].header("x-token"), Some(SECRET));
    assert_eq!(hooks[0].header("x-app"), Some("checkout"));
    assert_eq!(hooks[0].header("content-type"), Some("application/json"));

    let done = &bodies[5];
    assert_eq!(done["release"], release(HEX));
    assert_eq!(done["environment"], "production");
    assert_eq!(done["outcome"], "promoted");
    assert_eq!(done["summary"], "live");
    assert_eq!(done["version"], "1.4.2");
    assert_eq!(bodies[1]["environment"], "dev");
    assert_eq!(bodies[1]["outcome"], "in_progress");
    assert_eq!(bodies[0]["environment"], Value::Null);
    // The link is the record commit of that event (no forge remote: its id).
    let link = done["link"].as_str().unwrap_or_default();
    assert_eq!(link.len(), 40, "{link}");
    let subject = s.env.git(&["log", "-1", "--format=%s", link]);
    assert_eq!(subject.trim(), format!("{} production: live", release(HEX)));

    // Slack gets text only, and only what it asked for.
    let slack = s.platform.hook_bodies("slack");
    assert_eq!(slack.len(), 1);
    let text = slack[0]["text"].as_str().unwrap_or_default();
    assert_eq!(slack[0].as_object().map(|o| o.len()), Some(1));
    assert!(
        text.starts_with(&format!(
            ":tada: *{}* (1.4.2) succeeded in production: live (record ",
            release(HEX)
        )),
        "{text}"
    );

    // A rollback is heard too.
    assert_eq!(s.promote(OLD, &[]).code, 0);
    let run = s.relctl(&["rollback", "--env", "production", "--reason", "5xx spike"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let slack = s.platform.hook_bodies("slack");
    let last = slack
        .last()
        .and_then(|b| b["text"].as_str())
        .unwrap_or_default();
    assert!(
        last.contains(&format!(
            "rolled back in production: rolled back to {}",
            release(HEX)
        )),
        "{last}"
    );
    let all = s.platform.hook_bodies("all");
    let last = all.last().expect("a body");
    assert_eq!(last["event"], "rolled_back");
    assert_eq!(last["release"], release(OLD));
    assert_eq!(last["outcome"], "rolled_back");
}

#[test]
fn a_dead_hook_is_a_warning_and_a_record_never_a_failure() {
    let port = closed_port();
    let s = with_hooks(&format!(
        r#"  - url: "http://127.0.0.1:{port}/hooks/dead?token={{{{ secret.DEPLOY_TOKEN }}}}"
    events: [started, succeeded]
  - url: "{{{{ vars.api }}}}/hooks/broken"
    events: [succeeded]
"#
    ));
    let run = s.promote(HEX, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let shown = format!("http://127.0.0.1:{port}/hooks/dead?…");
    assert!(
        run.stderr.contains(&format!(
            "warning: cannot notify {shown} of the `started` event"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("/hooks/broken of the `succeeded` event"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("500 Internal Server Error"),
        "{}",
        run.stderr
    );
    // The broken hook was tried twice (one retry), the dead one never answered.
    assert_eq!(s.platform.hook_bodies("broken").len(), 2);
    let events = s.events(HEX);
    assert_eq!(
        events.iter().filter(|e| *e == "notify_failed").count(),
        3,
        "{events:?}"
    );
    assert_eq!(events.iter().filter(|e| *e == "live").count(), 3);
    let file = s.record_file(&relctl::format::release_path("checkout", &release(HEX)));
    assert!(file.contains(&format!("hook: {shown}")), "{file}");
    // The secret in the hook's URL is nowhere.
    assert!(!file.contains(SECRET), "{file}");
    assert!(!run.stderr.contains(SECRET), "{}", run.stderr);
    assert!(!s.env.records_log().contains(SECRET));
    // status is not confused by the warnings.
    let status = s.relctl(&["status", "--env", "production"]);
    assert!(status.stdout.contains("live"), "{}", status.stdout);
}

#[test]
fn json_output_carries_the_failed_notification_before_the_summary() {
    let port = closed_port();
    let s = with_hooks(&format!(
        "  - url: \"http://127.0.0.1:{port}/hooks/dead\"\n    events: [succeeded]\n"
    ));
    let run = s.promote(HEX, &["--output", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let last = lines.last().expect("a summary");
    assert_eq!(last["summary"], true);
    assert_eq!(last["exit"], 0);
    let failed = lines
        .iter()
        .find(|l| l["event"] == "notify_failed")
        .expect("a notify_failed line");
    assert_eq!(failed["env"], "production");
    assert_eq!(
        failed["hook"],
        format!("http://127.0.0.1:{port}/hooks/dead")
    );
}
