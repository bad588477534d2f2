//! The organisation's view (`relctl status --all`, `relctl releases`) and release ids
//! people can type: a unique prefix for every command that takes a release.

use serde_json::Value;

use crate::common::Run;
use crate::common::setup::{CANARY, HEX, OLD, Setup, artifact, release};

/// Shares its first three hex digits with `HEX`.
const SIBLING: &str = "4f2b000000000000000000000000000000000000000000000000000000000001";

const APPROVAL: &str =
    "    approval: { approvers: [\"*@sre.acme.io\"], min: 1, allow_self: false }\n";

fn usage_error(run: &Run, message: &str) {
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains(message), "{}", run.stderr);
}

#[test]
fn approve_resume_history_and_notes_take_a_prefix() {
    let s = Setup::new(APPROVAL, CANARY);
    let dev = |args: &[&str]| s.relctl_as("dev@acme.io", args);
    assert_eq!(dev(&["promote", "--artifact", &artifact(OLD)]).code, 4);
    // The digest part alone, as a person reads it off a dashboard.
    let run = s.relctl_as(
        "bob@sre.acme.io",
        &["approve", "0123", "--env", "production"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = dev(&["resume", "checkout-0123"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
    let run = dev(&["history", "checkout-01"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with(&release(OLD)), "{}", run.stdout);
    let run = dev(&["notes", "012345"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(&release(OLD)), "{}", run.stdout);
}

#[test]
fn reject_and_abort_take_a_prefix() {
    let s = Setup::new(APPROVAL, CANARY);
    let dev = |args: &[&str]| s.relctl_as("dev@acme.io", args);
    assert_eq!(dev(&["promote", "--artifact", &artifact(HEX)]).code, 4);
    let run = s.relctl_as(
        "bob@sre.acme.io",
        &["reject", "4f2a", "--env", "production", "--reason", "no"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(s.events(HEX).contains(&"rejected".to_string()));
    // resume rolls the rejected release back, and gives up the lock.
    assert_eq!(dev(&["resume", "4f2a9c"]).code, 3);
    assert!(s.events(HEX).contains(&"rolled_back".to_string()));
    assert_eq!(dev(&["promote", "--artifact", &artifact(OLD)]).code, 4);
    let run = dev(&["abort", "checkout-012", "--reason", "wrong build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(s.events(OLD).contains(&"aborted".to_string()));
}

#[test]
fn rollback_to_takes_a_prefix() {
    let s = Setup::new("", CANARY);
    assert_eq!(s.promote(OLD, &["--version", "1.0.0"]).code, 0);
    assert_eq!(s.promote(HEX, &["--version", "1.1.0"]).code, 0);
    let run = s.relctl(&[
        "rollback",
        "--env",
        "production",
        "--to",
        "0123",
        "--reason",
        "5xx",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(s.platform.running("production"), Some((artifact(OLD), 100)));
}

#[test]
fn an_ambiguous_prefix_names_every_release_it_matches_and_changes_nothing() {
    let s = Setup::new("", CANARY);
    assert_eq!(s.promote(OLD, &[]).code, 0);
    assert_eq!(s.promote(SIBLING, &[]).code, 0);
    assert_eq!(s.promote(HEX, &[]).code, 0);
    let both = format!("matches {}, {}", release(HEX), release(SIBLING));
    for given in ["checkout-4f2", "4f2"] {
        usage_error(
            &s.relctl(&["history", given]),
            &format!("ambiguous: `{given}` {both}"),
        );
    }
    let deploys = s.platform.deploys().len();
    let commits = s.env.records_log();
    usage_error(
        &s.relctl(&[
            "rollback",
            "--env",
            "production",
            "--to",
            "4f",
            "--reason",
            "x",
        ]),
        &format!("ambiguous: `4f` {both}"),
    );
    usage_error(
        &s.relctl(&["approve", "4f2", "--env", "production"]),
        "ambiguous: `4f2`",
    );
    assert_eq!(s.platform.deploys().len(), deploys, "nothing was deployed");
    assert_eq!(s.env.records_log(), commits, "nothing was recorded");
}

#[test]
fn an_unknown_release_is_exit_2_with_the_closest_id() {
    let s = Setup::new("", CANARY);
    assert_eq!(s.promote(OLD, &[]).code, 0);
    assert_eq!(s.promote(HEX, &[]).code, 0);
    let typo = "checkout-4f2a9c1be0d4";
    let expected = format!(
        "there is no release `{typo}` in the record; did you mean `{}`?",
        release(HEX)
    );
    for args in [
        vec!["history", typo],
        vec!["notes", typo],
        vec!["resume", typo],
        vec!["abort", typo],
        vec!["approve", typo, "--env", "production"],
        vec!["reject", typo, "--env", "production", "--reason", "x"],
    ] {
        let run = s.relctl(&args);
        usage_error(&run, &expected);
        assert!(
            run.stderr
                .contains("hint: `relctl releases` lists the releases"),
            "{}",
            run.stderr
        );
    }
    // An empty id (a variable that was not set) is said to be empty, with no guess.
    for args in [vec!["resume", ""], vec!["abort", " "]] {
        let run = s.relctl(&args);
        usage_error(&run, "the release id is empty");
        assert!(!run.stderr.contains("did you mean"), "{}", run.stderr);
    }
    // rollback --to lists the releases it would go back to instead.
    let run = s.relctl(&[
        "rollback",
        "--env",
        "production",
        "--to",
        typo,
        "--reason",
        "x",
    ]);
    usage_error(&run, &format!("{typo} was never live in production"));
    assert!(
        run.stderr
            .contains(&format!("candidates: {}", release(OLD))),
        "{}",
        run.stderr
    );
    // The digest part mistyped.
    usage_error(
        &s.relctl(&["history", "4f3a"]),
        &format!("did you mean `{}`?", release(HEX)),
    );
    // Nothing close, or too little typed to tell: no guess.
    for given in ["nothing-like-it", "7", "qq", "c7c"] {
        let run = s.relctl(&["history", given]);
        usage_error(
            &run,
            &format!("there is no release `{given}` in the record"),
        );
        assert!(
            !run.stderr.contains("did you mean"),
            "{given}: {}",
            run.stderr
        );
    }
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 100)));
}

#[test]
fn releases_lists_newest_first_with_where_each_is_live_and_rejected() {
    let s = Setup::new("", CANARY);
    assert_eq!(s.promote(OLD, &["--version", "1.0.0"]).code, 0);
    assert_eq!(s.promote(SIBLING, &["--version", "1.1.0"]).code, 0);
    assert_eq!(s.promote(HEX, &["--version", "1.2.0"]).code, 0);
    assert_eq!(
        s.relctl(&["rollback", "--env", "production", "--reason", "5xx"])
            .code,
        0
    );
    let run = s.relctl(&["releases"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        [
            "RELEASE", "VERSION", "CREATED", "LIVE", "IN", "REJECTED", "IN", "REFUSED", "ABORTED"
        ]
    );
    let rows: Vec<Vec<&str>> = lines[1..]
        .iter()
        .map(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            // RELEASE VERSION date time UTC LIVE REJECTED
            vec![cells[0], cells[1], cells[5], cells[6]]
        })
        .collect();
    assert_eq!(
        rows,
        [
            vec![release(HEX).as_str(), "1.2.0", "dev,staging", "production"],
            vec![release(SIBLING).as_str(), "1.1.0", "production", "-"],
            vec![release(OLD).as_str(), "1.0.0", "-", "-"],
        ]
    );

    let run = s.relctl(&["releases", "--limit", "1", "--output", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: Value = serde_json::from_str(&run.stdout).expect("json");
    let listed = json["releases"].as_array().expect("releases");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["release"], release(HEX).as_str());
    assert_eq!(listed[0]["app"], "checkout");
    assert_eq!(listed[0]["version"], "1.2.0");
    assert_eq!(listed[0]["live"], serde_json::json!(["dev", "staging"]));
    assert_eq!(listed[0]["rejected"], serde_json::json!(["production"]));
    assert!(
        listed[0]["created"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );

    let run = s.relctl(&["releases", "--env", "nowhere"]);
    usage_error(&run, "there is no environment `nowhere` in the record");
}

/// Two apps' plans in one repository (a monorepo), one record: `checkout` and
/// `payments`, each through dev, staging and production. Every environment stands
/// differently; see `org`.
struct Org {
    s: Setup,
}

const P1: &str = "a100000000000000000000000000000000000000000000000000000000000001";
const P2: &str = "a200000000000000000000000000000000000000000000000000000000000002";
const P3: &str = "a300000000000000000000000000000000000000000000000000000000000003";

fn payments(hex: &str) -> String {
    format!("ghcr.io/acme/payments@sha256:{hex}")
}

impl Org {
    fn relctl(&self, app: &str, args: &[&str]) -> Run {
        let plan = format!("{app}/release.yaml");
        let mut all = vec!["--plan", plan.as_str()];
        all.extend_from_slice(args);
        self.s.relctl_as("dev@acme.io", &all)
    }
}

/// checkout: dev and staging live (HEX), production rolled back (from HEX to OLD).
/// payments: dev locked (P3's deploy failed there), staging live (P2), production
/// paused for approval (P2; P1 live).
fn org() -> Org {
    let s = Setup::new("", CANARY);
    let plan = std::fs::read_to_string(s.env.path().join("release.yaml")).expect("plan");
    std::fs::remove_file(s.env.path().join("release.yaml")).expect("remove the plan");
    s.env.write("checkout/release.yaml", &plan);
    let payments_plan = crate::common::setup::plan(&s.platform, APPROVAL, CANARY)
        .replace("app: checkout", "app: payments")
        .replace("acme/checkout", "acme/payments");
    s.env.write("payments/release.yaml", payments_plan);
    let org = Org { s };
    let ok = |run: Run, code: i32| assert_eq!(run.code, code, "{}", run.stderr);
    ok(
        org.relctl(
            "checkout",
            &[
                "promote",
                "--artifact",
                &artifact(OLD),
                "--version",
                "1.0.0",
            ],
        ),
        0,
    );
    ok(
        org.relctl(
            "checkout",
            &[
                "promote",
                "--artifact",
                &artifact(HEX),
                "--version",
                "1.1.0",
            ],
        ),
        0,
    );
    ok(
        org.relctl(
            "checkout",
            &["rollback", "--env", "production", "--reason", "5xx"],
        ),
        0,
    );
    ok(
        org.relctl(
            "payments",
            &["promote", "--artifact", &payments(P1), "--version", "2.0.0"],
        ),
        4,
    );
    ok(
        org.s.relctl_as(
            "ops@sre.acme.io",
            &[
                "--plan",
                "payments/release.yaml",
                "approve",
                "a1",
                "--env",
                "production",
            ],
        ),
        0,
    );
    ok(org.relctl("payments", &["resume", "a1"]), 0);
    ok(
        org.relctl(
            "payments",
            &["promote", "--artifact", &payments(P2), "--version", "2.1.0"],
        ),
        4,
    );
    org.s.platform.fail_next_deploys(&[500, 500, 500]);
    ok(
        org.relctl(
            "payments",
            &[
                "promote",
                "--artifact",
                &payments(P3),
                "--to",
                "dev",
                "--version",
                "2.2.0",
            ],
        ),
        1,
    );
    org
}

fn pay(hex: &str) -> String {
    format!("payments-{}", &hex[..12])
}

#[test]
fn status_all_shows_every_app_in_every_environment() {
    let org = org();
    let run = org.relctl("checkout", &["status", "--all", "--output", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: Value = serde_json::from_str(&run.stdout).expect("json");
    let rows: Vec<Vec<String>> = json["environments"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            [
                "app", "env", "release", "version", "kind", "standing", "who",
            ]
            .iter()
            .map(|k| r[*k].as_str().unwrap_or("-").to_string())
            .collect()
        })
        .collect();
    let row = |cells: [&str; 7]| cells.map(str::to_string).to_vec();
    let (hex, old) = (release(HEX), release(OLD));
    let locked = format!("locked (failed): {}", pay(P3));
    let paused = format!("paused for approval: {}", pay(P2));
    let rolled = format!("rolled back from {hex}");
    let me = "dev@acme.io";
    assert_eq!(
        rows,
        [
            row(["checkout", "dev", &hex, "1.1.0", "live", "live", me]),
            row([
                "checkout",
                "production",
                &old,
                "1.0.0",
                "rolled back",
                &rolled,
                me
            ]),
            row(["checkout", "staging", &hex, "1.1.0", "live", "live", me]),
            row(["payments", "dev", &pay(P2), "2.1.0", "locked", &locked, me]),
            row([
                "payments",
                "production",
                &pay(P1),
                "2.0.0",
                "paused for approval",
                &paused,
                me
            ]),
            row(["payments", "staging", &pay(P2), "2.1.0", "live", "live", me]),
        ]
    );
    assert!(
        json["environments"][0]["since"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{json}"
    );

    // The table: the same, one line each.
    let run = org.relctl("payments", &["status", "--all"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["APP", "ENV", "RELEASE", "VERSION", "SINCE", "STATE", "WHO"]
    );
    assert_eq!(lines.len(), 7, "{}", run.stdout);
    for (line, r) in lines[1..].iter().zip(&rows) {
        let start = format!("{}  ", r[..4].join(" "))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(
            line.split_whitespace()
                .take(4)
                .collect::<Vec<_>>()
                .join(" "),
            start,
            "{}",
            run.stdout
        );
        assert!(line.contains(&r[5]), "{line}");
        assert!(line.trim_end().ends_with(me), "{line}");
    }
}

#[test]
fn status_all_filters_by_app_and_environment() {
    let org = org();
    let envs = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["status", "--all", "--output", "json"];
        all.extend_from_slice(args);
        let run = org.relctl("checkout", &all);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let json: Value = serde_json::from_str(&run.stdout).expect("json");
        json["environments"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| {
                format!(
                    "{}/{}",
                    r["app"].as_str().unwrap_or("-"),
                    r["env"].as_str().unwrap_or("-")
                )
            })
            .collect()
    };
    assert_eq!(
        envs(&["--app", "payments"]),
        ["payments/dev", "payments/production", "payments/staging"]
    );
    assert_eq!(
        envs(&["--env", "production"]),
        ["checkout/production", "payments/production"]
    );
    assert_eq!(
        envs(&["--app", "checkout", "--env", "dev"]),
        ["checkout/dev"]
    );
    let run = org.relctl("checkout", &["status", "--all", "--app", "billing"]);
    usage_error(&run, "there is no app `billing` in the record");
    assert!(run.stderr.contains("checkout, payments"), "{}", run.stderr);
    usage_error(
        &org.relctl("checkout", &["status", "--all", "--env", "prod"]),
        "there is no environment `prod` in the record",
    );
    // What an earlier view kept is never shown for a file that changed since.
    let standing = |env: &str| {
        let run = org.relctl(
            "checkout",
            &[
                "status", "--all", "--app", "checkout", "--env", env, "--output", "json",
            ],
        );
        let json: Value = serde_json::from_str(&run.stdout).expect("json");
        json["environments"][0]["standing"]
            .as_str()
            .unwrap_or("-")
            .to_string()
    };
    assert_eq!(standing("staging"), "live");
    let run = org.relctl(
        "checkout",
        &["rollback", "--env", "staging", "--reason", "x"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        standing("staging"),
        format!("rolled back from {}", release(HEX))
    );
}

#[test]
fn the_organisation_view_needs_no_plan_given_the_records_repository() {
    let org = org();
    let elsewhere = tempfile::tempdir().expect("a temp dir");
    let repo = org.s.env.path().to_string_lossy().into_owned();
    let outside = |args: &[&str]| {
        org.s.env.run_with(args, |c| {
            c.current_dir(elsewhere.path());
        })
    };
    let from_plan = org.relctl("checkout", &["status", "--all", "--output", "json"]);
    let run = outside(&["status", "--all", "--records", &repo, "--output", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows = |run: &Run| {
        let json: Value = serde_json::from_str(&run.stdout).expect("json");
        json["environments"].clone()
    };
    assert_eq!(rows(&run), rows(&from_plan));
    // --records and --app each imply --all.
    let run = outside(&["status", "--records", &repo, "--app", "checkout"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("checkout"), "{}", run.stdout);
    // By URL: through relctl's own clone of it.
    org.s
        .env
        .git(&["clone", "-q", "--bare", "--no-local", ".", "records.git"]);
    let url = format!("file://{}/records.git", repo);
    let run = outside(&["status", "--all", "--records", &url, "--output", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(rows(&run), rows(&from_plan));
    // Every app's releases; then one app's; then those that have been in production.
    let listed = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["releases", "--records", &repo, "--output", "json"];
        all.extend_from_slice(args);
        let run = outside(&all);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let json: Value = serde_json::from_str(&run.stdout).expect("json");
        json["releases"]
            .as_array()
            .expect("releases")
            .iter()
            .map(|r| r["release"].as_str().unwrap_or("-").to_string())
            .collect()
    };
    let (hex, old) = (release(HEX), release(OLD));
    assert_eq!(
        listed(&[]),
        [pay(P3), pay(P2), pay(P1), hex.clone(), old.clone()]
    );
    assert_eq!(listed(&["--app", "checkout"]), [hex.clone(), old.clone()]);
    assert_eq!(
        listed(&["--env", "production"]),
        [pay(P2), pay(P1), hex, old]
    );
    assert_eq!(listed(&["--limit", "2"]), [pay(P3), pay(P2)]);
    // Without --records or a plan, nothing to read.
    let run = outside(&["status", "--all"]);
    assert_ne!(run.code, 0);
    usage_error(
        &outside(&["status", "--all", "--records", &repo, "--branch", "nope"]),
        "has no records branch `nope`",
    );
}

/// Eight apps, each in its own repository on its own machine (its own HOME, so its own
/// clone of the records repository), promote at once through one bare records
/// repository: every promotion finishes, and every event each of them recorded is on
/// the shared branch, once.
#[test]
fn eight_apps_promoting_at_once_through_one_remote_lose_no_event() {
    let env = crate::common::TestEnv::new();
    let platform = crate::common::platform::Platform::start();
    crate::common::git(
        env.path(),
        &["init", "-q", "--bare", "-b", "main", "records.git"],
    );
    let url = env
        .path()
        .join("records.git")
        .to_string_lossy()
        .into_owned();
    let apps: Vec<String> = (1..=8).map(|n| format!("svc-{n}")).collect();
    let mut children = Vec::new();
    for (n, app) in apps.iter().enumerate() {
        let dir = env.path().join(app);
        std::fs::create_dir_all(&dir).expect("the app's directory");
        crate::common::git(&dir, &["init", "-q", "-b", "main"]);
        let plan = crate::common::setup::plan(&platform, "", CANARY)
            .replace(
                "app: checkout\n",
                &format!("app: {app}\nrecord: {{ url: \"{url}\" }}\n"),
            )
            .replace("acme/checkout", &format!("acme/{app}"));
        std::fs::write(dir.join("release.yaml"), plan).expect("write the plan");
        crate::common::git(&dir, &["add", "-A"]);
        crate::common::git(&dir, &["commit", "-q", "-m", "plan"]);
        let runner = env.operator(&format!("ci-{n}@acme.io")).in_dir(&dir);
        let artifact = format!("ghcr.io/acme/{app}@sha256:{HEX}");
        let child = runner
            .std_command()
            .args(["promote", "--artifact", &artifact])
            .env("DEPLOY_TOKEN", crate::common::setup::SECRET)
            .env("RELCTL_BACKOFF_MS", "1")
            .env("RELCTL_POLL_MS", "20")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start promote");
        children.push((runner, child));
    }
    for (app, (_runner, child)) in apps.iter().zip(children) {
        let out = child.wait_with_output().expect("promote ends");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{app}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let records = env.path().join("records.git");
    let log = crate::common::git(
        &records,
        &[
            "log",
            "--format=%(trailers:key=Relctl-App,valueonly,separator=%x2C)%x09%(trailers:key=Relctl-Event,valueonly,separator=%x2C)",
            "relctl/records",
        ],
    );
    for app in &apps {
        let id = format!("{app}-{}", &HEX[..12]);
        let file = crate::common::git(
            &records,
            &[
                "show",
                &format!("relctl/records:{}", relctl::format::release_path(app, &id)),
            ],
        );
        let events = file
            .lines()
            .filter(|l| l.trim_start().starts_with("event: "))
            .count();
        let commits = log
            .lines()
            .filter(|l| l.split('\t').next().map(str::trim) == Some(app.as_str()))
            .count();
        assert!(events > 10, "{app}: {events} events");
        assert_eq!(commits, events, "{app}: one commit per recorded event");
        assert!(file.contains("event: live"), "{app}");
    }
    let run = env.run(&[
        "status",
        "--all",
        "--records",
        &url,
        "--env",
        "production",
        "--output",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: Value = serde_json::from_str(&run.stdout).expect("json");
    let live: Vec<&str> = json["environments"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["kind"] == "live")
        .filter_map(|r| r["app"].as_str())
        .collect();
    assert_eq!(live, apps.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn a_records_url_that_cannot_be_reached_never_shows_its_token() {
    let env = crate::common::TestEnv::new();
    // A port nothing listens on: taken from the OS, then let go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    for url in [
        format!("https://user:tok3n-secret@127.0.0.1:{port}/platform/records.git"),
        format!("https://tok3n-secret@127.0.0.1:{port}/platform/records.git"),
    ] {
        for args in [
            vec!["status", "--all", "--records", &url],
            vec!["releases", "--records", &url, "--output", "json"],
        ] {
            let run = env.run(&args);
            assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
            assert!(
                !run.stderr.contains("tok3n-secret") && !run.stdout.contains("tok3n-secret"),
                "{args:?}: {}{}",
                run.stdout,
                run.stderr
            );
            assert!(run.stderr.contains("could not reach"), "{}", run.stderr);
            assert!(
                !run.stderr.contains("has no records branch"),
                "{}",
                run.stderr
            );
        }
    }
}

#[test]
fn one_record_file_edited_badly_does_not_hide_the_other_apps() {
    let org = org();
    org.s
        .edit_record("apps/d/f/payments/environments/staging.yaml", |_| {
            "live: [unclosed\n".to_string()
        });
    let run = org.relctl("checkout", &["status", "--all"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("apps/d/f/payments/environments/staging.yaml"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("could not be read"), "{}", run.stderr);
    // Every other row is there; the broken one says so.
    let rows: Vec<&str> = run.stdout.lines().collect();
    assert!(
        rows.iter().any(|l| l.starts_with("payments")
            && l.contains("staging")
            && l.contains("unreadable")),
        "{}",
        run.stdout
    );
    assert_eq!(
        rows.iter().filter(|l| l.starts_with("checkout")).count(),
        3,
        "{}",
        run.stdout
    );
}
