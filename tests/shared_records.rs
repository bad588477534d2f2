//! One records repository shared by URL (`record.url`): the repositories of two apps
//! and two CI runners' clones of one of them promote through it at once, each machine
//! through relctl's own clone under its cache directory. Also what goes wrong: a URL
//! never reached, a cache that cannot be written or whose clone was pointed elsewhere,
//! and a token in the URL, which shows nowhere.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::git_server::HttpsGit;
use crate::common::platform::Platform;
use crate::common::setup::{CANARY, HEX, OLD, SECRET, artifact, plan, release};
use crate::common::{Run, TestEnv, git, ok};

/// billing's release.
const BILL: &str = "b111111111111111111111111111111111111111111111111111111111111111";

/// The first 12 hex of a digest: the end of a release id.
fn short(hex: &str) -> &str {
    &hex[..12]
}

fn billing_artifact(hex: &str) -> String {
    format!("ghcr.io/acme/billing@sha256:{hex}")
}

/// checkout's three-environment plan (dev, staging, production), its record in the
/// records repository at `url`.
fn shop_plan(platform: &Platform, url: &str) -> String {
    plan(platform, "", CANARY).replace(
        "app: checkout\n",
        &format!("app: checkout\nrecord: {{ url: \"{url}\" }}\n"),
    )
}

/// billing's plan, the same shape; with `same_envs: false` its environments are
/// sandbox, preprod and prod, so that no file of the record is checkout's too.
fn billing_plan(platform: &Platform, url: &str, same_envs: bool) -> String {
    let text = shop_plan(platform, url)
        .replace("app: checkout\n", "app: billing\n")
        .replace("ghcr.io/acme/checkout", "ghcr.io/acme/billing");
    if same_envs {
        return text;
    }
    text.replace("  - name: dev\n", "  - name: sandbox\n")
        .replace("  - name: staging\n", "  - name: preprod\n")
        .replace("  - name: production\n", "  - name: prod\n")
}

/// A shared bare records repository, checkout's source repository with a laptop clone
/// (`shop`) and two CI runners' clones, and billing's repository on the same laptop.
struct Org {
    env: TestEnv,
    records: PathBuf,
    shop: Platform,
    billing: Platform,
    /// Each CI runner: its own HOME (so its own cache) and its clone of checkout.
    runners: Vec<(crate::common::Operator, PathBuf)>,
}

impl Org {
    fn new(same_envs: bool) -> Org {
        let env = TestEnv::new();
        let (shop, billing) = (Platform::start(), Platform::start());
        git(
            env.path(),
            &["init", "-q", "--bare", "-b", "main", "records.git"],
        );
        let records = env.path().join("records.git");
        let url = records.to_string_lossy().into_owned();
        // checkout's source: origin.git, cloned as one/ (the laptop) and two/ (a runner).
        let clones = env.clones(&[("release.yaml", &shop_plan(&shop, &url))]);
        git(
            env.path(),
            &[
                "clone",
                "-q",
                clones.remote.to_str().unwrap_or_default(),
                "three",
            ],
        );
        let runners = [
            ("ci-1@acme.io", clones.two),
            ("ci-2@acme.io", env.path().join("three")),
        ]
        .into_iter()
        .map(|(who, dir)| (env.operator(who), dir))
        .collect();
        let dir = env.path().join("billing");
        std::fs::create_dir_all(&dir).expect("billing's directory");
        git(&dir, &["init", "-q", "-b", "main"]);
        std::fs::write(
            dir.join("release.yaml"),
            billing_plan(&billing, &url, same_envs),
        )
        .expect("write billing's plan");
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-q", "-m", "billing"]);
        Org {
            env,
            records,
            shop,
            billing,
            runners,
        }
    }

    fn shop_dir(&self) -> PathBuf {
        self.env.path().join("one")
    }

    fn billing_dir(&self) -> PathBuf {
        self.env.path().join("billing")
    }

    /// relctl on the laptop (the tester's HOME) in `dir`.
    fn laptop(&self, dir: &Path, args: &[&str]) -> std::process::Command {
        let mut cmd = self.env.std_command();
        cmd.current_dir(dir);
        quick(&mut cmd, args);
        cmd
    }

    /// relctl on CI runner `n`, in its clone of checkout.
    fn runner(&self, n: usize, args: &[&str]) -> std::process::Command {
        let (who, dir) = &self.runners[n];
        let mut cmd = who.std_command();
        cmd.current_dir(dir).env("CI", "true");
        quick(&mut cmd, args);
        cmd
    }

    /// The (release, env, event) of every commit on the shared records branch.
    fn recorded(&self) -> Vec<(String, String, String)> {
        let format = "--format=%(trailers:key=Relctl-Release,valueonly,separator=%x2C)|\
                      %(trailers:key=Relctl-Env,valueonly,separator=%x2C)|\
                      %(trailers:key=Relctl-Event,valueonly,separator=%x2C)";
        let log = git(&self.records, &["log", format, "relctl/records"]);
        let mut events: Vec<_> = log
            .lines()
            .filter(|line| !line.is_empty())
            .map(|line| {
                let mut parts = line.split('|').map(str::to_string);
                let mut next = || parts.next().unwrap_or_default();
                (next(), next(), next())
            })
            .collect();
        events.sort();
        events
    }
}

/// The deploy secret and short waits; `--output json` so that every event is printed.
fn quick(cmd: &mut std::process::Command, args: &[&str]) {
    cmd.args(["--output", "json"])
        .args(args)
        .env("DEPLOY_TOKEN", SECRET)
        .env("RELCTL_BACKOFF_MS", "1")
        .env("RELCTL_POLL_MS", "20");
}

fn spawn(mut cmd: std::process::Command) -> Child {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start relctl")
}

fn finish(child: Child) -> Run {
    Run::from(child.wait_with_output().expect("relctl ends"))
}

fn output_of(cmd: std::process::Command) -> Run {
    finish(spawn(cmd))
}

/// `promote --artifact <artifact>` and `rest`.
fn promote_args(artifact: &str, rest: &[&str]) -> Vec<String> {
    ["promote", "--artifact", artifact]
        .iter()
        .chain(rest)
        .map(|s| s.to_string())
        .collect()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// The (release, env, event) of every event a run printed (`--output json`).
fn printed(run: &Run) -> Vec<(String, String, String)> {
    run.stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| event["event"].is_string())
        .map(|event| {
            let text = |key: &str| event[key].as_str().unwrap_or_default().to_string();
            (text("release"), text("env"), text("event"))
        })
        .collect()
}

/// The directories of relctl's clones under a HOME's cache.
fn clones_in(home: &Path) -> Vec<String> {
    let root = home.join(".cache/relctl/records");
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .map(|dir| {
            dir.flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn two_apps_and_two_ci_runners_promote_at_once_and_no_event_is_lost() {
    let org = Org::new(false);
    let (shop, billing) = (org.shop_dir(), org.billing_dir());
    // First use everywhere at once: both apps on the laptop (one HOME, so one clone
    // of the records repository, made by whichever comes first), both runners reading.
    let old_to_staging = promote_args(&artifact(OLD), &["--to", "staging"]);
    let bill_to_sandbox = promote_args(&billing_artifact(BILL), &["--to", "sandbox"]);
    let [shop_first, billing_first, status, history] = [
        spawn(org.laptop(&shop, &strs(&old_to_staging))),
        spawn(org.laptop(&billing, &strs(&bill_to_sandbox))),
        spawn(org.runner(0, &["status"])),
        spawn(org.runner(1, &["history"])),
    ]
    .map(finish);
    // Then four at once: two runners promoting checkout, billing going on, a status.
    let hex_to_dev = promote_args(&artifact(HEX), &["--env", "dev"]);
    let old_to_production = promote_args(&artifact(OLD), &["--env", "production"]);
    let bill_to_prod = promote_args(&billing_artifact(BILL), &["--to", "prod"]);
    let [ci_1, ci_2, billing_second, status_again] = [
        spawn(org.runner(0, &strs(&hex_to_dev))),
        spawn(org.runner(1, &strs(&old_to_production))),
        spawn(org.laptop(&billing, &strs(&bill_to_prod))),
        spawn(org.laptop(&shop, &["status"])),
    ]
    .map(finish);
    for run in [&status, &history, &status_again] {
        ok(run);
    }
    let promotions = [shop_first, billing_first, ci_1, ci_2, billing_second];
    for run in &promotions {
        ok(run);
    }

    // Every event the promotions printed is a commit on the shared branch, and
    // nothing else is.
    let mut events: Vec<_> = promotions.iter().flat_map(printed).collect();
    events.sort();
    assert!(events.len() > 30, "{events:?}");
    assert_eq!(org.recorded(), events);
    // Each app's platform got its own releases, where they were sent.
    let mut shop_deploys = org.shop.deploys();
    shop_deploys.sort();
    let mut expected = vec![
        ("dev".to_string(), artifact(OLD), 100),
        ("staging".to_string(), artifact(OLD), 100),
        ("dev".to_string(), artifact(HEX), 100),
        ("production".to_string(), artifact(OLD), 10),
        ("production".to_string(), artifact(OLD), 100),
    ];
    expected.sort();
    assert_eq!(shop_deploys, expected);
    assert_eq!(
        org.billing.deploys(),
        vec![
            ("sandbox".to_string(), billing_artifact(BILL), 100),
            ("preprod".to_string(), billing_artifact(BILL), 100),
            ("prod".to_string(), billing_artifact(BILL), 10),
            ("prod".to_string(), billing_artifact(BILL), 100),
        ]
    );
    // The laptop keeps one clone for both apps; each runner its own.
    let laptop = clones_in(org.env.home());
    assert_eq!(laptop.len(), 1, "{laptop:?}");
    assert!(laptop[0].contains("records.git-"), "{laptop:?}");
    for (who, _) in &org.runners {
        assert_eq!(clones_in(who.home()), laptop);
    }
    // The plan's repositories hold no records branch: the record is in one place.
    for dir in [&shop, &billing] {
        let branches = git(dir, &["branch", "-a", "--list", "*relctl*"]);
        assert!(branches.is_empty(), "{branches}");
    }

    // Someone on a fresh machine reads both apps' state through the URL.
    let fresh = org.env.operator("carol@acme.io");
    let mut status = fresh.std_command();
    status.current_dir(&billing);
    quick(&mut status, &["status"]);
    let status = output_of(status);
    ok(&status);
    let view: serde_json::Value = serde_json::from_str(&status.stdout).expect("status JSON");
    assert_eq!(view["view"]["fetched"], true, "{view}");
    let live: Vec<(&str, &str)> = view["environments"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    (
                        r["env"].as_str().unwrap_or_default(),
                        r["release"].as_str().unwrap_or("-"),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let bill = format!("billing-{}", short(BILL));
    assert_eq!(
        live,
        vec![
            ("sandbox", bill.as_str()),
            ("preprod", bill.as_str()),
            ("prod", bill.as_str())
        ]
    );
    let mut history = fresh.std_command();
    history.current_dir(&shop);
    quick(&mut history, &["history", "--env", "production"]);
    let history = output_of(history);
    ok(&history);
    assert!(history.stdout.contains(&release(OLD)), "{}", history.stdout);
    // report, notes and plan read the same record.
    let read = |args: &[&str]| {
        let mut cmd = fresh.std_command();
        cmd.current_dir(&shop)
            .args(args)
            .env("DEPLOY_TOKEN", SECRET);
        let run = output_of(cmd);
        ok(&run);
        run.stdout
    };
    let report = read(&["report", "--env", "production"]);
    assert!(report.contains("0 of 1 rolled back"), "{report}");
    let notes = read(&["notes", &release(OLD)]);
    assert!(
        notes.contains("Nothing was live in production before it"),
        "{notes}"
    );
    let dry_run = read(&["plan", "--artifact", &artifact(HEX)]);
    assert!(dry_run.contains("dev          already live"), "{dry_run}");
}

#[test]
fn a_promotion_of_one_app_does_not_wait_for_another_apps_lock() {
    let org = Org::new(true);
    let url = org.records.to_string_lossy().into_owned();
    // checkout's dev waits for an approval, and a paused release keeps its lock.
    let approval =
        "  - name: dev\n    deploy: platform\n    approval: { approvers: [\"alice@acme.io\"] }\n";
    std::fs::write(
        org.shop_dir().join("release.yaml"),
        shop_plan(&org.shop, &url).replace("  - name: dev\n    deploy: platform\n", approval),
    )
    .expect("write checkout's plan");
    let checkout = promote_args(&artifact(HEX), &["--env", "dev"]);
    let paused = output_of(org.laptop(&org.shop_dir(), &strs(&checkout)));
    assert_eq!(paused.code, 4, "{}", paused.stderr);

    // billing's dev is billing's: it goes live at once, from a CI runner elsewhere too.
    let billing = promote_args(&billing_artifact(BILL), &["--env", "dev"]);
    ok(&output_of(org.laptop(&org.billing_dir(), &strs(&billing))));
    assert_eq!(
        org.billing.running("dev"),
        Some((billing_artifact(BILL), 100))
    );
    // checkout's lock still holds for checkout.
    let other = promote_args(&artifact(OLD), &["--env", "dev"]);
    let busy = output_of(org.runner(0, &strs(&other)));
    assert_eq!(busy.code, 5, "{}", busy.stderr);
    assert!(
        busy.stderr
            .contains(&format!("dev is locked by {}", release(HEX))),
        "{}",
        busy.stderr
    );
    assert!(org.shop.deploys().is_empty());
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("the bound address").port()
}

/// One app's repository whose plan keeps its record at `url`.
fn app_with_record_at(url: &str) -> (TestEnv, Platform) {
    let env = TestEnv::new();
    env.init_repo();
    let platform = Platform::start();
    env.write("release.yaml", shop_plan(&platform, url));
    (env, platform)
}

fn promote(env: &TestEnv, hex: &str, configure: impl FnOnce(&mut std::process::Command)) -> Run {
    let mut cmd = env.std_command();
    cmd.args(["promote", "--artifact", &artifact(hex), "--to", "dev"])
        .env("DEPLOY_TOKEN", SECRET)
        .env("RELCTL_BACKOFF_MS", "1");
    configure(&mut cmd);
    output_of(cmd)
}

#[test]
fn a_records_url_never_reached_stops_promote_before_anything_is_deployed() {
    const TOKEN: &str = "glpat-n3verReachedT0ken";
    let url = format!("https://ci:{TOKEN}@127.0.0.1:{}/records.git", closed_port());
    let (env, platform) = app_with_record_at(&url);
    let run = promote(&env, HEX, |_| {});
    assert_eq!(run.code, 2, "{}", run.stderr);
    let shown = url.replace(TOKEN, "***");
    assert!(
        run.stderr.contains(&format!(
            "error: the records repository {shown} has never been reached from this machine"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: check `record.url`"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(TOKEN), "{}", run.stderr);
    assert!(platform.deploys().is_empty());
    // A reader still answers, from what this machine has (nothing), and says so.
    let mut status = env.std_command();
    status.arg("status");
    let status = output_of(status);
    ok(&status);
    assert!(
        status
            .stderr
            .contains(&format!("warning: could not reach {shown}")),
        "{}",
        status.stderr
    );
    assert!(!status.stderr.contains(TOKEN), "{}", status.stderr);

    // A path that does not exist is named as such.
    let missing = env.path().join("nowhere/records.git");
    env.write(
        "release.yaml",
        shop_plan(&platform, &missing.to_string_lossy()),
    );
    let run = promote(&env, HEX, |_| {});
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "is the path {}, which does not exist",
            missing.display()
        )),
        "{}",
        run.stderr
    );
    assert!(platform.deploys().is_empty());
}

#[test]
fn a_cache_directory_that_cannot_be_written_is_an_error_saying_where() {
    let records = TestEnv::new();
    git(
        records.path(),
        &["init", "-q", "--bare", "-b", "main", "records.git"],
    );
    let url = format!("file://{}", records.path().join("records.git").display());
    let (env, platform) = app_with_record_at(&url);
    // XDG_CACHE_HOME is a file: nothing can be made under it, even by root.
    let cache = env.write("not-a-dir", "");
    let run = promote(&env, HEX, |cmd| {
        cmd.env("XDG_CACHE_HOME", &cache);
    });
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "error: cannot make relctl's clone of the records repository in {}",
            cache.join("relctl/records").display()
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("caused by: "), "{}", run.stderr);
    assert!(run.stderr.contains("set XDG_CACHE_HOME"), "{}", run.stderr);
    assert!(platform.deploys().is_empty());

    // A cache directory that can be written is used, from XDG_CACHE_HOME.
    let cache = env.path().join("cache");
    let run = promote(&env, HEX, |cmd| {
        cmd.env("XDG_CACHE_HOME", &cache);
    });
    ok(&run);
    let made: Vec<_> = std::fs::read_dir(cache.join("relctl/records"))
        .expect("the clone's directory")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(made.len(), 1, "{made:?}");
    assert!(clones_in(env.home()).is_empty());
    let remote = git(
        &records.path().join("records.git"),
        &["log", "--format=%s", "relctl/records"],
    );
    assert!(
        remote.contains(&format!("{} dev: live", release(HEX))),
        "{remote}"
    );
}

#[test]
fn a_cache_clone_pointed_at_another_repository_is_refused() {
    let records = TestEnv::new();
    for name in ["records.git", "other.git"] {
        git(
            records.path(),
            &["init", "-q", "--bare", "-b", "main", name],
        );
    }
    let url = records.path().join("records.git");
    let (env, platform) = app_with_record_at(&url.to_string_lossy());
    ok(&promote(&env, OLD, |_| {}));
    let clones = clones_in(env.home());
    let clone = env.home().join(".cache/relctl/records").join(&clones[0]);
    let other = records.path().join("other.git");
    git(
        &clone,
        &["remote", "set-url", "origin", &other.to_string_lossy()],
    );

    let run = promote(&env, HEX, |_| {});
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "error: relctl's clone of the records repository {} at {} is a clone of {}",
            url.display(),
            clone.display(),
            other.display()
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Move it away"), "{}", run.stderr);
    assert_eq!(
        platform.deploys().len(),
        1,
        "nothing deployed after the first"
    );
    let branches = git(&other, &["branch", "--list"]);
    assert!(
        branches.is_empty(),
        "nothing pushed to the other: {branches}"
    );

    // Moved away, as the hint says: relctl makes a new clone and goes on.
    std::fs::rename(&clone, env.path().join("old-clone")).expect("move the clone away");
    ok(&promote(&env, HEX, |_| {}));
    assert_eq!(platform.deploys().len(), 2);
}

#[test]
fn the_actor_comes_from_the_plans_repository_not_relctls_clone() {
    let records = TestEnv::new();
    git(
        records.path(),
        &["init", "-q", "--bare", "-b", "main", "records.git"],
    );
    let shared = records.path().join("records.git");
    let url = format!("file://{}", shared.display());
    let (env, _platform) = app_with_record_at(&url);
    // The app's repository says who works in it, over the tester's global identity.
    env.git(&["config", "user.email", "shop-dev@acme.io"]);
    ok(&promote(&env, OLD, |_| {}));
    // Someone sets an identity in relctl's clone: it is not the plan's repository.
    let clones = clones_in(env.home());
    let clone = env.home().join(".cache/relctl/records").join(&clones[0]);
    git(&clone, &["config", "user.email", "cache@elsewhere.example"]);
    ok(&promote(&env, HEX, |_| {}));
    let actors = git(
        &shared,
        &[
            "log",
            "--format=%(trailers:key=Relctl-Actor,valueonly,separator=%x2C)|%ae",
            "relctl/records",
        ],
    );
    assert!(!actors.trim().is_empty());
    for line in actors.lines().filter(|l| !l.is_empty()) {
        assert_eq!(line, "shop-dev@acme.io|shop-dev@acme.io");
    }
}

#[test]
fn a_token_in_the_records_url_shows_nowhere() {
    const TOKEN: &str = "ghs_sh4redRecordsT0kenInTheUrl";
    let env = TestEnv::new();
    let served = env.path().join("served");
    std::fs::create_dir_all(&served).expect("a served directory");
    git(
        &served,
        &["init", "-q", "--bare", "-b", "main", "records.git"],
    );
    let certs = env.path().join("certs");
    std::fs::create_dir_all(&certs).expect("a certificates dir");
    let server = HttpsGit::start(&served, &certs, TOKEN);
    let url = server.url("records.git").replacen(
        "https://",
        &format!("https://x-access-token:{TOKEN}@"),
        1,
    );
    env.init_repo();
    let platform = Platform::start();
    env.write("release.yaml", shop_plan(&platform, &url));
    // The CA in the tester's global git configuration, as on a laptop.
    git(
        env.home(),
        &[
            "config",
            "--file",
            ".gitconfig",
            "http.sslCAInfo",
            server.ca.to_str().unwrap_or_default(),
        ],
    );
    let mut seen = String::new();
    for args in [
        vec![
            "-v",
            "promote",
            "--artifact",
            &artifact(HEX),
            "--to",
            "staging",
        ],
        vec!["-v", "status"],
        vec!["history"],
        vec!["--output", "json", "status"],
    ] {
        let mut cmd = env.std_command();
        cmd.args(&args)
            .env("DEPLOY_TOKEN", SECRET)
            .env("RELCTL_LOG", "trace");
        let run = output_of(cmd);
        ok(&run);
        seen.push_str(&run.stdout);
        seen.push_str(&run.stderr);
    }
    assert!(seen.contains(&release(HEX)), "{seen}");
    assert!(!seen.contains(TOKEN), "the token was shown: {seen}");
    // The record reached the server, which holds no trace of the token either.
    let record = git(
        &served.join("records.git"),
        &["log", "-p", "--format=%B", "relctl/records"],
    );
    assert!(
        record.contains(&format!("{} staging: live", release(HEX))),
        "{record}"
    );
    assert!(!record.contains(TOKEN), "{record}");
    // Nor does relctl's clone: not its name, not its configuration, not a file in it.
    let cache = env.home().join(".cache");
    let found = std::process::Command::new("grep")
        .args(["-r", "-l", "-a", TOKEN])
        .arg(&cache)
        .output()
        .expect("run grep");
    assert!(
        found.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&found.stdout)
    );
    let clones = clones_in(env.home());
    assert_eq!(clones.len(), 1);
    assert!(!clones[0].contains(TOKEN) && !clones[0].contains("x-access-token"));
    assert!(clones[0].starts_with("127.0.0.1_"), "{clones:?}");
}

#[test]
fn offline_and_under_ci_a_records_url_behaves_as_a_remote_does() {
    let records = TestEnv::new();
    git(
        records.path(),
        &["init", "-q", "--bare", "-b", "main", "records.git"],
    );
    let shared = records.path().join("records.git");
    let (env, platform) = app_with_record_at(&shared.to_string_lossy());
    // --offline on first use: the record stays in relctl's clone, and says so.
    let run = promote(&env, OLD, |cmd| {
        cmd.arg("--offline");
    });
    ok(&run);
    assert!(
        run.stderr.contains(&format!(
            "kept in this clone (--offline); the next relctl command run without --offline \
             pushes them to {}",
            shared.display()
        )),
        "{}",
        run.stderr
    );
    assert!(git(&shared, &["branch", "--list"]).is_empty());
    // The next command pushes it.
    let mut status = env.std_command();
    status.arg("status");
    ok(&output_of(status));
    ok(&promote(&env, OLD, |_| {}));
    let remote = git(&shared, &["log", "--format=%s", "relctl/records"]);
    assert!(
        remote.contains(&format!("{} dev: live", release(OLD))),
        "{remote}"
    );

    // Under CI, a record that cannot leave the machine fails the run (exit 7).
    let away = records.path().join("away.git");
    std::fs::rename(&shared, &away).expect("take the records repository away");
    let run = promote(&env, HEX, |cmd| {
        cmd.env("CI", "true").env("RELCTL_PUSH_RETRY", "1s");
    });
    assert_eq!(run.code, 7, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "did not reach the records repository {} after 1 s of retrying",
            shared.display()
        )),
        "{}",
        run.stderr
    );
    // The remote in relctl's own clone is not a name its users gave.
    assert!(!run.stderr.contains("remote `origin`"), "{}", run.stderr);
    assert!(run.stderr.contains("git -C "), "{}", run.stderr);
    assert_eq!(platform.running("dev"), Some((artifact(HEX), 100)));
    // Back again: the next command pushes what waited.
    std::fs::rename(&away, &shared).expect("bring it back");
    ok(&promote(&env, HEX, |_| {}));
    let remote = git(&shared, &["log", "--format=%s", "relctl/records"]);
    assert!(
        remote.contains(&format!("{} dev: live", release(HEX))),
        "{remote}"
    );
}

/// A `git://` server that accepts connections and never says a word.
fn silent_server() -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("the bound address").port();
    let held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in listener.incoming().flatten() {
            open.push(stream);
        }
    });
    (format!("git://127.0.0.1:{port}/records.git"), held)
}

#[test]
fn a_records_url_that_hangs_is_given_up_on_in_seconds() {
    let (url, _server) = silent_server();
    let (env, platform) = app_with_record_at(&url);
    let started = Instant::now();
    let run = promote(&env, HEX, |_| {});
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert!(run.stderr.contains(&format!("({url})")), "{}", run.stderr);
    assert!(run.stderr.contains("within 5 s"), "{}", run.stderr);
    assert!(platform.deploys().is_empty());
}

#[test]
fn validate_refuses_a_url_beside_repo_or_remote_and_a_relative_url() {
    let (env, platform) = app_with_record_at("/srv/git/records.git");
    let run = env.run(&["validate"]);
    ok(&run);
    let text = shop_plan(&platform, "/srv/git/records.git").replace(
        "record: { url: \"/srv/git/records.git\" }",
        "record: { remote: origin, url: \"/srv/git/records.git\" }",
    );
    env.write("release.yaml", text);
    let run = env.run(&["validate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "release.yaml:3:32: `url` and `remote` cannot both be set: with `url`, relctl keeps \
             its own clone of the shared records repository (remove one of them)"
        ),
        "{}",
        run.stderr
    );
    env.write("release.yaml", shop_plan(&platform, "records.git"));
    let run = env.run(&["validate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("release.yaml:3:16: `url` `records.git` is a relative path"),
        "{}",
        run.stderr
    );
}
