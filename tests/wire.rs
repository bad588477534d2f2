//! The record over the transports people use: HTTPS with a token (and git's own
//! `http.extraHeader`, as actions/checkout leaves a clone) and SSH with a key. Each
//! promotes through three environments with an approval from a second clone, and
//! rolls back, against a real server; wrong credentials fail saying which was tried;
//! no credential shows in what relctl prints or records.

use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::common::git_server::{ConnectProxy, HttpsGit, SshGit, keygen};
use crate::common::platform::Platform;
use crate::common::setup::{CANARY, HEX, OLD, SECRET, artifact, plan, release};
use crate::common::{Clones, Operator, Run, TestEnv, git};

/// The token the HTTPS server wants, and a wrong one.
const TOKEN: &str = "ghs_wire7Token0fTheRecordsRemote";
const WRONG: &str = "ghs_notTheTokenTheServerWants99";
const APPROVAL: &str = "    approval: { approvers: [\"alice@acme.io\"] }\n";
const RECORD: &str = "app: checkout\nrecord: { remote: origin }\n";

/// Two clones of `origin.git` holding a three-environment plan whose production needs
/// alice's approval; the remote is then reached through a server, not by path.
struct Project {
    env: TestEnv,
    platform: Platform,
    clones: Clones,
}

impl Project {
    fn new() -> Project {
        let env = TestEnv::new();
        let platform = Platform::start();
        let text = plan(&platform, APPROVAL, CANARY).replace("app: checkout\n", RECORD);
        let clones = env.clones(&[("release.yaml", &text)]);
        Project {
            env,
            platform,
            clones,
        }
    }

    /// Points clone `dir` at `url` for its records remote.
    fn serve_through(&self, dir: &Path, url: &str) {
        git(dir, &["remote", "set-url", "origin", url]);
    }

    /// Points clone `dir` at `server`'s copy of the remote, trusting its CA in the clone.
    fn serve_https(&self, dir: &Path, server: &HttpsGit) {
        self.serve_through(dir, &server.url("origin.git"));
        let ca = server.ca.to_str().unwrap_or_default();
        git(dir, &["config", "http.sslCAInfo", ca]);
    }

    /// The records branch's commit subjects on the server, newest first.
    fn served_log(&self) -> String {
        git(
            &self.clones.remote,
            &["log", "--format=%s", "relctl/records"],
        )
    }

    /// Everything on the server's records branch: every version of every file, and
    /// every commit message.
    fn served_record(&self) -> String {
        git(
            &self.clones.remote,
            &["log", "-p", "--format=%B", "relctl/records"],
        )
    }
}

/// relctl run by `who` in `dir` with the deploy secret and `vars`.
fn relctl(who: &Operator, dir: &Path, vars: &[(&str, &str)], args: &[&str]) -> Run {
    who.run_with(args, |cmd| {
        cmd.current_dir(dir)
            .env("DEPLOY_TOKEN", SECRET)
            .env("RELCTL_BACKOFF_MS", "1")
            // A record left unpushed fails the run (exit 7) instead of warning.
            .env("CI", "true")
            .env("RELCTL_PUSH_RETRY", "1s")
            .envs(vars.iter().copied());
    })
}

fn expect(run: &Run, code: i32) {
    assert_eq!(
        run.code, code,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
}

/// The forms a credential could leak in: as is, and base64 of it and of the Basic
/// pair actions/checkout builds from it.
fn leaks(token: &str) -> Vec<String> {
    let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    vec![
        token.to_string(),
        b64(token),
        b64(&format!("x-access-token:{token}")),
    ]
}

fn assert_no_leak(what: &str, text: &str, token: &str) {
    for leak in leaks(token) {
        assert!(!text.contains(&leak), "{what} holds {leak:?}:\n{text}");
    }
}

/// The whole story, by bob in clone one and alice (the approver) in clone two: OLD is
/// promoted, waits for approval, alice approves it from her clone, bob resumes it to
/// production; HEX goes to dev and alice rolls dev back. Every event is on the
/// server, and both clones agree with it. `bob` and `alice` carry what each needs to
/// reach the server.
fn promote_approve_and_roll_back(
    p: &Project,
    bob: (&Operator, &[(&str, &str)]),
    alice: (&Operator, &[(&str, &str)]),
) -> Vec<Run> {
    let (one, two) = (&p.clones.one, &p.clones.two);
    let mut runs = Vec::new();
    let mut step = |who: (&Operator, &[(&str, &str)]), dir: &PathBuf, args: &[&str], code| {
        let run = relctl(who.0, dir, who.1, args);
        expect(&run, code);
        runs.push(run);
    };
    step(bob, one, &["promote", "--artifact", &artifact(OLD)], 4);
    assert!(
        p.served_log().contains("awaiting approval"),
        "{}",
        p.served_log()
    );
    step(
        alice,
        two,
        &["approve", &release(OLD), "--env", "production"],
        0,
    );
    step(bob, one, &["resume", &release(OLD)], 0);
    step(
        bob,
        one,
        &["promote", "--artifact", &artifact(HEX), "--to", "dev"],
        0,
    );
    step(
        alice,
        two,
        &["rollback", "--env", "dev", "--reason", "5xx spike"],
        0,
    );
    step(alice, two, &["--output", "json", "status"], 0);

    let served = p.served_log();
    for event in ["awaiting approval", "approved", "rolled back"] {
        assert!(
            served.to_lowercase().contains(event),
            "no {event:?} in:\n{served}"
        );
    }
    // Nothing waits in either clone: the server has every commit each one made.
    for dir in [one, two] {
        let local = git(dir, &["rev-parse", "relctl/records"]);
        let held = std::process::Command::new("git")
            .current_dir(&p.clones.remote)
            .args([
                "merge-base",
                "--is-ancestor",
                local.trim(),
                "relctl/records",
            ])
            .status()
            .expect("run git");
        assert!(
            held.success(),
            "{} has not pushed everything",
            dir.display()
        );
    }
    let status: serde_json::Value =
        serde_json::from_str(&runs[runs.len() - 1].stdout).expect("status as JSON");
    let live = |env: &str| {
        status["environments"]
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["env"] == env))
            .and_then(|row| row["release"].as_str())
            .map(str::to_string)
    };
    assert_eq!(live("production"), Some(release(OLD)), "{status}");
    assert_eq!(live("dev"), Some(release(OLD)), "{status}");
    assert_eq!(
        p.platform.running("production").map(|(image, _)| image),
        Some(artifact(OLD))
    );
    runs
}

/// Serves the project's remote over https, requiring `TOKEN`.
fn https(p: &Project) -> HttpsGit {
    let certs = p.env.path().join("certs");
    std::fs::create_dir_all(&certs).expect("a certificates dir");
    HttpsGit::start(p.env.path(), &certs, TOKEN)
}

#[test]
fn over_https_a_token_and_a_bearer_header_carry_a_promotion_approval_and_rollback() {
    let p = Project::new();
    let server = https(&p);
    let url = server.url("origin.git");
    // bob, a CI job: the token in RELCTL_GIT_TOKEN, the CA in the clone's http.sslCAInfo.
    p.serve_through(&p.clones.one, &url);
    git(
        &p.clones.one,
        &[
            "config",
            "http.sslCAInfo",
            server.ca.to_str().unwrap_or_default(),
        ],
    );
    let bob = p.env.operator("bob@acme.io");
    // Every diagnostic on, so that the search for the token below covers the logs.
    let bob_vars = [("RELCTL_GIT_TOKEN", TOKEN), ("RELCTL_LOG", "trace")];
    // alice, at her laptop: a Bearer header in her git config, the CA in SSL_CERT_FILE.
    p.serve_through(&p.clones.two, &url);
    let alice = p.env.operator("alice@acme.io");
    git(
        alice.home(),
        &[
            "config",
            "--file",
            ".gitconfig",
            &format!("http.{}/.extraHeader", url.trim_end_matches("/origin.git")),
            &format!("Authorization: Bearer {TOKEN}"),
        ],
    );
    let ca = server.ca.to_string_lossy().into_owned();
    let alice_vars = [("SSL_CERT_FILE", ca.as_str()), ("RELCTL_LOG", "trace")];

    let runs = promote_approve_and_roll_back(&p, (&bob, &bob_vars), (&alice, &alice_vars));

    let bearer = format!("Authorization: Bearer {TOKEN}");
    let sent: Vec<Vec<String>> = server.authorizations();
    assert!(
        sent.iter()
            .any(|headers| headers.iter().any(|h| bearer.ends_with(h.as_str()))),
        "alice's header never reached the server"
    );
    for run in &runs {
        assert_no_leak(
            "the output",
            &format!("{}{}", run.stdout, run.stderr),
            TOKEN,
        );
    }
    assert_no_leak("the record", &p.served_record(), TOKEN);
}

/// Where actions/checkout keeps the token it persists for later steps.
enum Checkout {
    /// In the clone's `.git/config` (up to v5).
    InLocalConfig,
    /// In a file under RUNNER_TEMP that the clone's config includes for its own git
    /// dir (`includeIf.gitdir:<workspace>/.git.path`, v6).
    IncludedFromRunnerTemp,
}

#[test]
fn a_clone_left_as_actions_checkout_v4_leaves_it_pushes_with_no_other_setup() {
    checkout_left_clone_pushes(Checkout::InLocalConfig);
}

#[test]
fn a_clone_left_as_actions_checkout_v6_leaves_it_pushes_with_no_other_setup() {
    checkout_left_clone_pushes(Checkout::IncludedFromRunnerTemp);
}

/// A job's clone whose only credential is the `http.<origin>/.extraheader` checkout
/// writes (`AUTHORIZATION: basic base64(x-access-token:TOKEN)`) promotes and pushes.
fn checkout_left_clone_pushes(form: Checkout) {
    let p = Project::new();
    let server = https(&p);
    let url = server.url("origin.git");
    let one = &p.clones.one;
    p.serve_through(one, &url);
    let runner = tempfile::tempdir().expect("a runner temp dir");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{TOKEN}"));
    let key = format!("http.{}/.extraheader", url.trim_end_matches("/origin.git"));
    let value = format!("AUTHORIZATION: basic {basic}");
    match form {
        Checkout::InLocalConfig => {
            git(one, &["config", "--local", &key, &value]);
        }
        Checkout::IncludedFromRunnerTemp => {
            let credentials = runner.path().join("git-credentials-1.config");
            let file = credentials.to_str().unwrap_or_default();
            git(one, &["config", "--file", file, &key, &value]);
            let git_dir = one.join(".git");
            for include in [
                format!("includeIf.gitdir:{}.path", git_dir.display()),
                format!("includeIf.gitdir:{}/worktrees/*.path", git_dir.display()),
            ] {
                git(one, &["config", "--local", &include, file]);
            }
        }
    }
    let runner = tempfile::tempdir().expect("a runner temp dir");
    let summary = runner.path().join("summary.md");
    let output = runner.path().join("output");
    let ca = server.ca.to_string_lossy().into_owned();
    let vars = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap_or_default()),
        ("GITHUB_OUTPUT", output.to_str().unwrap_or_default()),
        // The runner's trust store, which here holds the test's CA.
        ("SSL_CERT_FILE", ca.as_str()),
    ];
    let ci = p.env.operator("ci@acme.io");
    let run = relctl(
        &ci,
        one,
        &vars,
        &[
            "-vv",
            "promote",
            "--artifact",
            &artifact(HEX),
            "--to",
            "staging",
        ],
    );
    expect(&run, 0);
    assert!(p.served_log().contains("live"), "{}", p.served_log());
    assert_eq!(
        git(one, &["rev-parse", "relctl/records"]),
        git(&p.clones.remote, &["rev-parse", "relctl/records"])
    );
    let header = format!("AUTHORIZATION: basic {basic}");
    assert!(
        server
            .authorizations()
            .iter()
            .all(|headers| headers.iter().any(|h| header.ends_with(h.as_str()))),
        "a request went without checkout's header: {:?}",
        server.authorizations().len()
    );
    let written = [&summary, &output]
        .iter()
        .map(|path| std::fs::read_to_string(path).unwrap_or_default())
        .collect::<String>();
    assert_no_leak(
        "the output",
        &format!("{}{}{written}", run.stdout, run.stderr),
        TOKEN,
    );
    assert_no_leak(
        "the output",
        &format!("{}{}", run.stdout, run.stderr),
        &basic,
    );
    assert_no_leak("the record", &p.served_record(), TOKEN);
}

#[test]
fn a_wrong_token_fails_saying_which_credential_was_refused_and_how_to_give_one() {
    let p = Project::new();
    let server = https(&p);
    let url = server.url("origin.git");
    p.serve_through(&p.clones.one, &url);
    let ca = server.ca.to_string_lossy().into_owned();
    let bob = p.env.operator("bob@acme.io");
    let run = relctl(
        &bob,
        &p.clones.one,
        &[("RELCTL_GIT_TOKEN", WRONG), ("SSL_CERT_FILE", ca.as_str())],
        &["promote", "--artifact", &artifact(HEX)],
    );
    expect(&run, 2);
    assert!(
        run.stderr.contains("the server refused RELCTL_GIT_TOKEN"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("to provide one: set RELCTL_GIT_TOKEN to a token allowed to push"),
        "{}",
        run.stderr
    );
    assert_no_leak(
        "the output",
        &format!("{}{}", run.stdout, run.stderr),
        WRONG,
    );
    assert!(p.platform.deploys().is_empty());

    // A wrong header from actions/checkout is named by its key.
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{WRONG}"));
    let key = format!("http.{}/.extraheader", url.trim_end_matches("/origin.git"));
    git(
        &p.clones.one,
        &[
            "config",
            "--local",
            &key,
            &format!("AUTHORIZATION: basic {basic}"),
        ],
    );
    let run = relctl(
        &bob,
        &p.clones.one,
        &[("SSL_CERT_FILE", ca.as_str())],
        &["-vv", "promote", "--artifact", &artifact(HEX)],
    );
    expect(&run, 2);
    assert!(
        run.stderr.contains(&format!(
            "the server refused the Authorization header of git's `{key}`"
        )),
        "{}",
        run.stderr
    );
    assert_no_leak(
        "the output",
        &format!("{}{}", run.stdout, run.stderr),
        WRONG,
    );

    // A token in the URL, as GitLab's runner writes the job token there, is named
    // and never shown.
    git(&p.clones.one, &["config", "--local", "--unset", &key]);
    let with_password = url.replacen("https://", &format!("https://gitlab-ci-token:{WRONG}@"), 1);
    p.serve_through(&p.clones.one, &with_password);
    let run = relctl(
        &bob,
        &p.clones.one,
        &[("SSL_CERT_FILE", ca.as_str())],
        &["-vv", "promote", "--artifact", &artifact(HEX)],
    );
    expect(&run, 2);
    assert!(
        run.stderr
            .contains("the server refused the password in the remote's URL"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("https://gitlab-ci-token:***@127.0.0.1"),
        "{}",
        run.stderr
    );
    assert_no_leak(
        "the output",
        &format!("{}{}", run.stdout, run.stderr),
        WRONG,
    );
}

#[test]
fn an_untrusted_certificate_is_refused_with_how_to_trust_its_ca() {
    let p = Project::new();
    let server = https(&p);
    p.serve_through(&p.clones.one, &server.url("origin.git"));
    let bob = p.env.operator("bob@acme.io");
    let run = relctl(
        &bob,
        &p.clones.one,
        &[("RELCTL_GIT_TOKEN", TOKEN)],
        &["promote", "--artifact", &artifact(HEX)],
    );
    expect(&run, 2);
    assert!(run.stderr.contains("http.sslCAInfo"), "{}", run.stderr);
    assert!(
        server.authorizations().is_empty(),
        "the token went to an untrusted server"
    );
}

#[test]
fn git_s_http_proxy_carries_the_fetch_and_the_push() {
    let p = Project::new();
    let server = https(&p);
    let proxy = ConnectProxy::start();
    let one = &p.clones.one;
    p.serve_https(one, &server);
    git(one, &["config", "http.proxy", &proxy.url()]);
    let bob = p.env.operator("bob@acme.io");
    let run = relctl(
        &bob,
        one,
        &[("RELCTL_GIT_TOKEN", TOKEN)],
        &["promote", "--artifact", &artifact(HEX), "--to", "dev"],
    );
    expect(&run, 0);
    assert!(p.served_log().contains("live"), "{}", p.served_log());
    let tunnels = proxy.tunnels();
    assert!(!tunnels.is_empty(), "nothing went through the proxy");
    assert_eq!(
        tunnels.len(),
        server.authorizations().len(),
        "a request bypassed the proxy"
    );
}

/// A promote through a records remote over https asks it once for what it holds before
/// deciding what the release is, and once before each commit it pushes: one fetch more
/// than pushes, not two (its run goes on from the first).
#[test]
fn a_promote_fetches_once_before_its_run_and_once_per_commit() {
    let p = Project::new();
    let server = https(&p);
    let one = &p.clones.one;
    p.serve_https(one, &server);
    let bob = p.env.operator("bob@acme.io");
    let run = relctl(
        &bob,
        one,
        &[("RELCTL_GIT_TOKEN", TOKEN)],
        &["promote", "--artifact", &artifact(HEX), "--to", "dev"],
    );
    expect(&run, 0);
    let commits = p.served_log().lines().count();
    assert!(commits >= 4, "{}", p.served_log());
    assert_eq!(server.pushes(), commits, "one push a commit");
    assert_eq!(server.fetches(), commits + 1, "{}", p.served_log());
}

/// An SSH server serving the project's remote, and a person whose HOME holds a key
/// (authorized or not) and, when `known`, the server's host key in known_hosts.
fn ssh_person(
    p: &Project,
    server: &SshGit,
    email: &str,
    authorized: bool,
    known: bool,
) -> Operator {
    let who = p.env.operator(email);
    let ssh = who.home().join(".ssh");
    std::fs::create_dir_all(&ssh).expect("a .ssh dir");
    keygen(&ssh.join("id_ed25519"));
    if authorized {
        server.authorize(&ssh.join("id_ed25519.pub"));
    }
    if known {
        std::fs::write(ssh.join("known_hosts"), server.known_hosts_line()).expect("known_hosts");
    }
    who
}

fn sshd(p: &Project) -> SshGit {
    let dir = p.env.path().join("sshd");
    std::fs::create_dir_all(&dir).expect("an sshd dir");
    SshGit::start(&dir)
}

#[test]
fn over_ssh_keys_carry_a_promotion_approval_and_rollback() {
    let p = Project::new();
    let server = sshd(&p);
    let url = server.url(&p.clones.remote);
    p.serve_through(&p.clones.one, &url);
    p.serve_through(&p.clones.two, &url);
    let bob = ssh_person(&p, &server, "bob@acme.io", true, true);
    let alice = ssh_person(&p, &server, "alice@acme.io", true, true);
    promote_approve_and_roll_back(&p, (&bob, &[]), (&alice, &[]));
}

#[test]
fn an_unknown_key_fails_saying_which_key_was_offered_and_how_to_give_one() {
    let p = Project::new();
    let server = sshd(&p);
    p.serve_through(&p.clones.one, &server.url(&p.clones.remote));
    let bob = ssh_person(&p, &server, "bob@acme.io", false, true);
    let run = relctl(
        &bob,
        &p.clones.one,
        &[],
        &["promote", "--artifact", &artifact(HEX)],
    );
    expect(&run, 2);
    let key = bob.home().join(".ssh").join("id_ed25519");
    assert!(
        run.stderr
            .contains(&format!("the SSH server refused the key {}", key.display())),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("to provide one: give a key write access"),
        "{}",
        run.stderr
    );
    assert!(p.platform.deploys().is_empty());
}

#[test]
fn an_unknown_host_key_is_refused_not_added() {
    let p = Project::new();
    let server = sshd(&p);
    p.serve_through(&p.clones.one, &server.url(&p.clones.remote));
    let bob = ssh_person(&p, &server, "bob@acme.io", true, false);
    let run = relctl(
        &bob,
        &p.clones.one,
        &[],
        &["promote", "--artifact", &artifact(HEX)],
    );
    expect(&run, 2);
    assert!(
        run.stderr.contains("not in ~/.ssh/known_hosts"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "`ssh-keyscan -p {} 127.0.0.1 >> ~/.ssh/known_hosts`",
            server.port
        )),
        "{}",
        run.stderr
    );
    assert!(!bob.home().join(".ssh").join("known_hosts").exists());
}
