//! Signed approvals: real SSH keys made by ssh-keygen in each person's HOME, an
//! allowed-signers file committed in the plan's repository, and gates that count only
//! the approvals whose record commits verify.

use std::path::{Path, PathBuf};

use crate::common::setup::{CANARY, HEX, OLD, Setup, artifact, plan, quick, release};
use crate::common::{Operator, Run, git, ok};

const SIGNED: &str = "    approval: { approvers: [\"alice@acme.io\", \"bob@acme.io\", \"carol@acme.io\"], min: 1, allow_self: false, signed: true }\n";

/// A person with an ed25519 key in their HOME, configured as git's SSH signing key.
pub(crate) struct Person {
    pub(crate) op: Operator,
    pub(crate) email: String,
    public: String,
}

impl Person {
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.op.run_with(args, quick)
    }

    /// relctl as this person, but claiming to be `actor` through RELCTL_ACTOR.
    pub(crate) fn run_as(&self, actor: &str, args: &[&str]) -> Run {
        self.op.run_with(args, |c| {
            quick(c);
            c.env("RELCTL_ACTOR", actor);
        })
    }

    /// The line of an allowed-signers file giving this person's key to `principal`.
    pub(crate) fn allowed_as(&self, principal: &str) -> String {
        format!("{principal} namespaces=\"git\" {}\n", self.public.trim())
    }

    pub(crate) fn allowed(&self) -> String {
        self.allowed_as(&self.email)
    }
}

/// `email`, with a key when `key`, working in `dir`.
pub(crate) fn person(s: &Setup, email: &str, key: bool, dir: &Path) -> Person {
    let op = s.env.operator(email).in_dir(dir);
    let mut public = String::new();
    if key {
        let ssh = op.home().join(".ssh");
        std::fs::create_dir_all(&ssh).expect("create .ssh");
        let private = ssh.join("id_ed25519");
        let made = std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", email, "-f"])
            .arg(&private)
            .output()
            .expect("run ssh-keygen");
        assert!(made.status.success(), "{made:?}");
        public = std::fs::read_to_string(ssh.join("id_ed25519.pub")).expect("the public key");
        let config = op.home().join(".gitconfig");
        let mut text = std::fs::read_to_string(&config).expect("the .gitconfig");
        text.push_str(&format!(
            "[user]\n\tsigningkey = {}\n[gpg]\n\tformat = ssh\n",
            private.display()
        ));
        std::fs::write(&config, text).expect("write .gitconfig");
    }
    Person {
        op,
        email: email.to_string(),
        public,
    }
}

/// The project: a plan with a signed production gate, `record` in the plan when given,
/// and `allowed` committed as `.relctl/allowed_signers` (the release's source commit).
pub(crate) fn project(record: Option<&str>) -> Setup {
    project_with(record, CANARY)
}

/// `project`, with `steps` as production's steps.
pub(crate) fn project_with(record: Option<&str>, steps: &str) -> Setup {
    Setup::with_plan(|p| {
        let text = plan(p, SIGNED, steps);
        match record {
            Some(record) => {
                text.replacen("app: checkout\n", &format!("app: checkout\n{record}"), 1)
            }
            None => text,
        }
    })
}

pub(crate) fn commit_allowed(s: &Setup, allowed: &str) {
    s.env.write(".relctl/allowed_signers", allowed);
    s.env.git(&["add", "-A"]);
    s.env.git(&["commit", "-q", "-m", "allowed signers"]);
}

/// dev@acme.io starts the release; it pauses at production's gate.
pub(crate) fn start(dev: &Person) {
    let run = dev.run(&["promote", "--artifact", &artifact(HEX)]);
    assert_eq!(run.code, 4, "{}", run.stderr);
}

pub(crate) fn approve(p: &Person) -> Run {
    p.run(&["approve", &release(HEX), "--env", "production"])
}

/// Resume refuses to go on: exit 4, production untouched, and the reason said.
pub(crate) fn refused(s: &Setup, dev: &Person, reason: &str) {
    let run = dev.run(&["resume", &release(HEX)]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("is not counted"), "{}", run.stderr);
    assert!(run.stderr.contains(reason), "{}", run.stderr);
    assert_eq!(s.platform.running("production"), None);
}

pub(crate) struct Cast {
    pub(crate) dev: Person,
    pub(crate) alice: Person,
    pub(crate) bob: Person,
    pub(crate) mallory: Person,
}

/// alice and mallory in the allowed signers; bob an approver with a key not in them;
/// dev starts releases.
pub(crate) fn cast(s: &Setup) -> Cast {
    let here = s.env.path().to_path_buf();
    let cast = Cast {
        dev: person(s, "dev@acme.io", true, &here),
        alice: person(s, "alice@acme.io", true, &here),
        bob: person(s, "bob@acme.io", true, &here),
        mallory: person(s, "mallory@acme.io", true, &here),
    };
    commit_allowed(
        s,
        &[&cast.dev, &cast.alice, &cast.mallory]
            .iter()
            .map(|p| p.allowed())
            .collect::<String>(),
    );
    cast
}

#[test]
fn a_signed_approval_by_a_listed_approver_lets_the_release_continue_and_history_shows_the_key() {
    let s = project(None);
    let c = cast(&s);
    start(&c.dev);
    ok(&approve(&c.alice));
    let run = c.dev.run(&["resume", &release(HEX)]);
    ok(&run);
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 100)));
    // The approval's commit carries an SSH signature git itself reads.
    let raw = s.env.git(&["cat-file", "commit", "relctl/records~2"]);
    let history = c.dev.run(&["history", &release(HEX)]);
    ok(&history);
    let fingerprint = fingerprint_of(&c.alice);
    assert!(
        history.stdout.contains(&format!(
            "signed by alice@acme.io with {fingerprint}: verified"
        )),
        "{}\n{raw}",
        history.stdout
    );
    let verify = c.dev.run(&["verify", &release(HEX)]);
    ok(&verify);
    assert!(verify.stdout.starts_with("ok "), "{}", verify.stdout);
}

#[test]
fn an_unsigned_approval_is_not_counted() {
    let s = project(None);
    let c = cast(&s);
    start(&c.dev);
    // Recorded under the same plan without `signed`, then the plan asks again.
    let plan = std::fs::read_to_string(s.env.path().join("release.yaml")).expect("the plan");
    s.env
        .write("release.yaml", plan.replace(", signed: true", ""));
    ok(&approve(&c.bob));
    s.env.write("release.yaml", plan);
    refused(
        &s,
        &c.dev,
        "approval by bob@acme.io in production is not counted: unsigned",
    );
}

#[test]
fn an_approval_signed_by_a_key_not_in_the_allowed_signers_is_not_counted() {
    let s = project(None);
    let c = cast(&s);
    start(&c.dev);
    // Known before it is recorded: refused (exit 6), nothing recorded.
    let run = approve(&c.bob);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "approval refused: it would not count: your signing key is not one .relctl/allowed_signers gives to bob@acme.io"
        ),
        "{}",
        run.stderr
    );
    assert!(!s.events(HEX).contains(&"approved".to_string()));
    let run = c.dev.run(&["resume", &release(HEX)]);
    assert_eq!(run.code, 4, "{}", run.stderr);
}

#[test]
fn an_approval_commit_altered_after_signing_is_not_counted() {
    let s = project(None);
    let c = cast(&s);
    start(&c.dev);
    ok(&approve(&c.alice));
    // Rewrite the approval commit by hand, its signature header kept.
    let raw = s.env.git(&["cat-file", "commit", "relctl/records"]);
    let altered = raw.replacen(
        "approved by alice@acme.io",
        "approved by alice@acme.io (edited)",
        1,
    );
    assert_ne!(raw, altered);
    let oid = hash_commit(s.env.path(), &altered);
    s.env
        .git(&["update-ref", "refs/heads/relctl/records", &oid]);
    refused(
        &s,
        &c.dev,
        "bad signature (the commit was altered after it was signed",
    );
    let verify = c.dev.run(&["verify"]);
    assert_eq!(verify.code, 1, "{}", verify.stderr);
    assert!(verify.stdout.starts_with("FAIL "), "{}", verify.stdout);
}

#[test]
fn an_approval_by_a_principal_that_is_not_an_approver_is_refused() {
    let s = project(None);
    let c = cast(&s);
    start(&c.dev);
    let run = approve(&c.mallory);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("mallory@acme.io is not an approver here"),
        "{}",
        run.stderr
    );
    let run = c.dev.run(&["resume", &release(HEX)]);
    assert_eq!(run.code, 4, "{}", run.stderr);
}

#[test]
fn relctl_actor_pretending_to_be_an_approver_does_not_pass_a_signed_gate() {
    let s = project(None);
    let c = cast(&s);
    start(&c.dev);
    let run = c.mallory.run_as(
        "alice@acme.io",
        &["approve", &release(HEX), "--env", "production"],
    );
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("your signing key is not one .relctl/allowed_signers gives to alice@acme.io"),
        "{}",
        run.stderr
    );
    let run = c.dev.run(&["resume", &release(HEX)]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_eq!(s.platform.running("production"), None);
}

#[test]
fn the_principal_that_signed_the_start_may_not_approve_it() {
    let s = project(None);
    let c = cast(&s);
    // alice starts the release claiming to be someone else; her key signs the start.
    let run = c
        .alice
        .run_as("dev@acme.io", &["promote", "--artifact", &artifact(HEX)]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    let run = approve(&c.alice);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(run.stderr.contains("self-approval"), "{}", run.stderr);
    assert!(!s.events(HEX).contains(&"approved".to_string()));
}

#[test]
fn without_a_signing_key_approve_says_what_to_configure() {
    let s = project(None);
    let c = cast(&s);
    start(&c.dev);
    let here = s.env.path().to_path_buf();
    let carol = person(&s, "carol@acme.io", false, &here);
    let run = approve(&carol);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "git config user.signingkey ~/.ssh/id_ed25519.pub; git config gpg.format ssh"
        ),
        "{}",
        run.stderr
    );
    assert!(!s.events(HEX).contains(&"approved".to_string()));
}

#[test]
fn verify_catches_an_approval_tampered_with_on_the_remote_by_hand() {
    let (s, origin, c) = cast_on_remote();
    start(&c.dev);
    ok(&approve(&c.alice));
    ok(&c.dev.run(&["verify"]));
    // Someone with push access edits the approval on the remote.
    edit_on_remote(&s, &origin, |text| {
        text.replace("by: alice@acme.io", "by: bob@acme.io")
    });
    let run = c.dev.run(&["verify"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("approval by bob@acme.io in production")
            && run.stdout.contains("no record commit added it"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("1 of 1 signed approval(s) do not verify"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_signed_approval_replayed_onto_a_moved_remote_is_signed_again() {
    let (s, origin, c) = cast_on_remote();
    start(&c.dev);
    // alice approves offline; meanwhile another clone records a release.
    ok(&c
        .alice
        .run(&["--offline", "approve", &release(HEX), "--env", "production"]));
    let other = s.env.path().join("other");
    clone_other(&s, &origin);
    let someone = person(&s, "dev@acme.io", false, &other);
    let run = someone.run(&["promote", "--artifact", &artifact(OLD), "--to", "dev"]);
    ok(&run);
    // alice's next command puts her approval on the remote's new tip, signed again.
    let run = c.alice.run(&["resume", &release(HEX)]);
    ok(&run);
    assert_eq!(s.platform.running("production"), Some((artifact(HEX), 100)));
    // dev runs the other clone's release now: the end of the run does not claim it.
    assert!(
        run.stderr.contains(&format!(
            "{} is live in staging, production\n",
            release(HEX)
        )),
        "{}",
        run.stderr
    );
    ok(&c.dev.run(&["verify", &release(HEX)]));
}

/// A second clone of `origin`'s `main`, in `other/` beside the project: another machine.
pub(crate) fn clone_other(s: &Setup, origin: &Path) {
    let origin = origin.to_string_lossy();
    git(
        s.env.path(),
        &["clone", "-q", "-b", "main", &origin, "other"],
    );
}

/// `with_remote` with the `cast` in place and the plan pushed to `origin`: where most
/// signed tests begin.
pub(crate) fn cast_on_remote() -> (Setup, PathBuf, Cast) {
    let (s, origin) = with_remote();
    let c = cast(&s);
    s.env.git(&["push", "-q", "origin", "main"]);
    (s, origin, c)
}

/// The project with a bare remote `origin` for its record.
pub(crate) fn with_remote() -> (Setup, PathBuf) {
    with_remote_steps(CANARY)
}

/// `with_remote`, with `steps` as production's steps.
pub(crate) fn with_remote_steps(steps: &str) -> (Setup, PathBuf) {
    let s = project_with(Some("record: { remote: origin }\n"), steps);
    let origin = s.env.path().join("origin.git");
    s.env
        .git(&["init", "-q", "--bare", "-b", "main", "origin.git"]);
    s.env
        .git(&["remote", "add", "origin", &origin.to_string_lossy()]);
    // The remote's default branch known, as a clone of it would know it (docs/trust.md:
    // without it, no approval at a signed gate counts).
    s.env.git(&[
        "symbolic-ref",
        "refs/remotes/origin/HEAD",
        "refs/remotes/origin/main",
    ]);
    s.env
        .write(".gitignore", "origin.git/\nelsewhere/\nother/\n");
    (s, origin)
}

fn hash_commit(dir: &Path, raw: &str) -> String {
    use std::io::Write as _;
    let mut child = std::process::Command::new("git")
        .current_dir(dir)
        .args(["hash-object", "-t", "commit", "-w", "--stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run git hash-object");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(raw.as_bytes())
        .expect("write the commit");
    let out = child.wait_with_output().expect("git hash-object");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn fingerprint_of(p: &Person) -> String {
    let out = std::process::Command::new("ssh-keygen")
        .args(["-l", "-f"])
        .arg(p.op.home().join(".ssh/id_ed25519.pub"))
        .output()
        .expect("ssh-keygen -l");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

#[test]
fn on_a_terminal_a_signed_gate_is_not_asked_of_someone_without_a_key() {
    let s = project(None);
    let here = s.env.path().to_path_buf();
    let c = cast(&s);
    let carol = person(&s, "carol@acme.io", false, &here);
    let tmux = crate::terminal::Tmux::start(
        s.env.path(),
        carol.op.home(),
        &["promote", "--artifact", &artifact(HEX)],
    );
    tmux.keep_screen();
    assert_eq!(
        crate::terminal::exit_code(s.env.path()),
        4,
        "{}",
        tmux.screen()
    );
    let screen = tmux
        .screen()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        screen.contains("you cannot approve this yourself: the gate asks for a signed approval"),
        "{screen}"
    );
    // alice, whose key the allowed signers list, approves; the release goes on.
    ok(&approve(&c.alice));
    ok(&c.dev.run(&["resume", &release(HEX)]));
}

#[test]
fn allowed_signers_outside_the_repository_is_a_plan_error() {
    let s = Setup::new(
        "    approval: { approvers: [\"alice@acme.io\"], signed: true, allowed_signers: ../keys }\n",
        CANARY,
    );
    let run = s.relctl(&["validate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "`allowed_signers` must be a path inside the plan's repository, not `../keys`"
        ),
        "{}",
        run.stderr
    );
}

/// The release's record file at the tip of `origin`'s records branch, edited by `edit`
/// in a clone of its own and pushed back by hand.
pub(crate) fn edit_on_remote(s: &Setup, origin: &Path, edit: impl FnOnce(String) -> String) {
    let elsewhere = s.env.path().join("elsewhere");
    git(
        s.env.path(),
        &[
            "clone",
            "-q",
            "-b",
            "relctl/records",
            &origin.to_string_lossy(),
            "elsewhere",
        ],
    );
    let file = elsewhere.join(relctl::format::release_path("checkout", &release(HEX)));
    let text = std::fs::read_to_string(&file).expect("the release file");
    let edited = edit(text.clone());
    assert_ne!(text, edited);
    std::fs::write(&file, edited).expect("edit");
    git(&elsewhere, &["commit", "-q", "-am", "fix source"]);
    git(&elsewhere, &["push", "-q", "origin", "relctl/records"]);
}

#[test]
fn a_source_commit_moved_by_hand_to_a_commit_that_lists_an_attackers_key_voids_the_approvals() {
    let (s, origin, c) = cast_on_remote();
    let reviewed = s.env.git(&["rev-parse", "HEAD"]).trim().to_string();
    start(&c.dev);
    ok(&approve(&c.alice));
    // mallory pushes a side branch whose allowed signers give alice's name to her key…
    s.env.git(&["checkout", "-q", "-b", "evil"]);
    commit_allowed(&s, &c.mallory.allowed_as("alice@acme.io"));
    s.env.git(&["push", "-q", "origin", "evil"]);
    let evil = s.env.git(&["rev-parse", "HEAD"]).trim().to_string();
    s.env.git(&["checkout", "-q", "main"]);
    // …points the release at it with a record commit of her own, and approves as alice.
    edit_on_remote(&s, &origin, |text| text.replace(&reviewed, &evil));
    let run = c.mallory.run_as(
        "alice@acme.io",
        &["approve", &release(HEX), "--env", "production"],
    );
    assert_eq!(run.code, 6, "{}", run.stderr);
    // Every approval of the release stops counting, alice's own included.
    refused(
        &s,
        &c.dev,
        "is not counted: the release's source commit was changed after it started (commit ",
    );
    let verify = c.dev.run(&["verify", &release(HEX)]);
    assert_eq!(verify.code, 1, "{}\n{}", verify.stdout, verify.stderr);
    assert!(
        verify
            .stdout
            .contains("the release's source commit was changed after it started"),
        "{}",
        verify.stdout
    );
}

#[test]
fn a_key_revoked_on_the_trusted_branch_no_longer_counts_for_a_release_started_before() {
    let s = project(None);
    let c = cast(&s);
    let mut allowed: String = [&c.dev, &c.alice, &c.mallory, &c.bob]
        .iter()
        .map(|p| p.allowed())
        .collect();
    commit_allowed(&s, &allowed);
    start(&c.dev);
    ok(&approve(&c.bob));
    // bob's key is revoked on main after he approved a release started before it.
    allowed = allowed.replace(&c.bob.allowed(), "");
    commit_allowed(&s, &allowed);
    refused(
        &s,
        &c.dev,
        "approval by bob@acme.io in production is not counted: signed by a key that is not in the allowed signers at main",
    );
    // alice's key is listed at both: her approval counts.
    ok(&approve(&c.alice));
    ok(&c.dev.run(&["resume", &release(HEX)]));
}

#[test]
fn a_release_started_from_a_commit_not_on_the_trusted_branch_has_no_approvals_counted() {
    let s = project(None);
    let c = cast(&s);
    s.env.git(&["checkout", "-q", "-b", "side"]);
    s.env.write("side.txt", "unreviewed\n");
    s.env.git(&["add", "-A"]);
    s.env.git(&["commit", "-q", "-m", "side"]);
    let side = s.env.git(&["rev-parse", "HEAD"]).trim().to_string();
    start(&c.dev);
    // The trusted branch is main whatever is checked out.
    let run = approve(&c.alice);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("source commit {side} is not on main")),
        "{}",
        run.stderr
    );
    s.env.git(&["checkout", "-q", "main"]);
    // Nor is an approval taken from main.
    let run = approve(&c.mallory);
    assert_eq!(run.code, 6, "{}", run.stderr);
}

#[test]
fn an_offline_approval_is_pushed_on_top_of_one_made_meanwhile_and_both_count() {
    let (s, origin) = with_remote();
    let c = cast(&s);
    let other = s.env.path().join("other");
    let bob = person(&s, "bob@acme.io", true, &other);
    let allowed: String = [&c.dev, &c.alice, &bob]
        .iter()
        .map(|p| p.allowed())
        .collect();
    commit_allowed(&s, &allowed);
    s.env.git(&["push", "-q", "origin", "main"]);
    start(&c.dev);
    // bob, in his own clone, reads the record and approves offline.
    clone_other(&s, &origin);
    ok(&bob.run(&["status"]));
    ok(&bob.run(&["--offline", "approve", &release(HEX), "--env", "production"]));
    // Meanwhile alice approves online.
    ok(&approve(&c.alice));
    // bob's next command puts his approval on top of alice's, signed again.
    let run = bob.run(&["status"]);
    ok(&run);
    assert!(!run.stderr.contains("conflicts"), "{}", run.stderr);
    let run = bob.run(&["approve", &release(HEX), "--env", "production"]);
    ok(&run);
    assert!(
        run.stderr.contains("already approved by you"),
        "{}",
        run.stderr
    );
    let verify = c.dev.run(&["verify", &release(HEX)]);
    ok(&verify);
    assert!(
        verify
            .stderr
            .contains("2 signed approval(s) checked; every signature verifies"),
        "{}\n{}",
        verify.stdout,
        verify.stderr
    );
    let history = c.dev.run(&["history", &release(HEX)]);
    ok(&history);
    for who in ["alice@acme.io", "bob@acme.io"] {
        assert!(
            history
                .stdout
                .contains(&format!("signed by {who} with SHA256:")),
            "{}",
            history.stdout
        );
    }
}

#[test]
fn a_force_pushed_records_branch_is_named_as_such_and_verify_does_not_check_a_stale_record() {
    let (s, origin, c) = cast_on_remote();
    start(&c.dev);
    ok(&approve(&c.alice));
    // Someone drops alice's approval from the remote with a force-push.
    let elsewhere = s.env.path().join("elsewhere");
    git(
        s.env.path(),
        &[
            "clone",
            "-q",
            "-b",
            "relctl/records",
            &origin.to_string_lossy(),
            "elsewhere",
        ],
    );
    git(&elsewhere, &["reset", "-q", "--hard", "HEAD~1"]);
    git(
        &elsewhere,
        &["commit", "-q", "--allow-empty", "-m", "rewritten"],
    );
    git(
        &elsewhere,
        &["push", "-q", "--force", "origin", "relctl/records"],
    );
    for args in [
        vec!["verify"],
        vec!["status"],
        vec!["resume", &release(HEX)],
    ] {
        let run = c.dev.run(&args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(
                "relctl/records on origin was rewritten (not a fast-forward): your clone has 1 commit(s) the remote no longer has"
            ),
            "{args:?}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("could not reach"), "{}", run.stderr);
        assert!(!run.stdout.contains("ok "), "{}", run.stdout);
    }
    assert_eq!(s.platform.running("production"), None);
    // The hint's way to accept the remote's version sets the clone right.
    s.env.git(&[
        "fetch",
        "-q",
        "origin",
        "+refs/heads/relctl/records:refs/remotes/origin/relctl/records",
    ]);
    s.env
        .git(&["branch", "-f", "relctl/records", "origin/relctl/records"]);
    ok(&c.dev.run(&["status"]));
}

#[test]
fn a_malformed_allowed_signers_file_is_named_by_line_in_validate_and_at_approval() {
    let s = project(None);
    let c = cast(&s);
    let good: String = [&c.dev, &c.alice].iter().map(|p| p.allowed()).collect();
    commit_allowed(&s, &good);
    start(&c.dev);
    ok(&approve(&c.alice));
    // The file on the trusted branch is broken after alice approved.
    let bad_quote = c
        .mallory
        .allowed()
        .replace("namespaces=\"git\"", "namespaces=\"git");
    commit_allowed(&s, &format!("{good}{bad_quote}garbage\n"));
    let run = s.relctl(&["validate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    for problem in [
        ".relctl/allowed_signers:3: an unclosed `\"` in the options",
        ".relctl/allowed_signers:4: no key after the principals",
    ] {
        assert!(run.stderr.contains(problem), "{}", run.stderr);
    }
    refused(
        &s,
        &c.dev,
        "the allowed signers could not be read: .relctl/allowed_signers:3: an unclosed `\"` in the options",
    );
}

#[test]
fn a_missing_allowed_signers_file_is_a_validate_error_and_an_approval_reason_in_words() {
    let s = project(None);
    let here = s.env.path().to_path_buf();
    let (dev, alice) = (
        person(&s, "dev@acme.io", true, &here),
        person(&s, "alice@acme.io", true, &here),
    );
    let run = s.relctl(&["validate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(".relctl/allowed_signers: not in the plan's repository at HEAD"),
        "{}",
        run.stderr
    );
    start(&dev);
    let run = approve(&alice);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(".relctl/allowed_signers is not readable at the source commit"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("class=") && !run.stderr.contains("code="),
        "{}",
        run.stderr
    );
}

#[test]
fn a_start_without_a_signing_key_under_a_signed_plan_is_said_and_shown_in_history() {
    let s = project(None);
    let c = cast(&s);
    let here = s.env.path().to_path_buf();
    let ci = person(&s, "ci@acme.io", false, &here);
    let run = ci.run(&["promote", "--artifact", &artifact(HEX)]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "the start of {} is not signed: with allow_self: false, approvals are checked against the recorded starter only",
            release(HEX)
        )),
        "{}",
        run.stderr
    );
    let history = c.dev.run(&["history", &release(HEX)]);
    ok(&history);
    assert!(
        history.stdout.contains("start not signed"),
        "{}",
        history.stdout
    );
    // A signed start says nothing of the kind.
    let signed = c.dev.run(&["promote", "--artifact", &artifact(OLD)]);
    assert!(
        !signed.stderr.contains("is not signed"),
        "{}",
        signed.stderr
    );
}

#[test]
fn a_key_literal_with_no_agent_says_so_and_records_nothing() {
    let s = project(None);
    let c = cast(&s);
    start(&c.dev);
    // alice's git names her key as a `key::` literal, and no ssh-agent holds it.
    let config = c.alice.op.home().join(".gitconfig");
    let text = std::fs::read_to_string(&config).expect("the .gitconfig");
    let private = c.alice.op.home().join(".ssh/id_ed25519");
    let literal = format!("key::{}", c.alice.public.trim());
    std::fs::write(
        &config,
        text.replace(&private.display().to_string(), &literal),
    )
    .expect("write .gitconfig");
    let run = c
        .alice
        .op
        .run_with(&["approve", &release(HEX), "--env", "production"], |cmd| {
            quick(cmd);
            cmd.env_remove("SSH_AUTH_SOCK");
        });
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("ssh-agent has no key")
            && run.stderr.contains("is SSH_AUTH_SOCK set?")
            && !run.stderr.contains("/tmp"),
        "{}",
        run.stderr
    );
    assert!(!s.events(HEX).contains(&"approved".to_string()));
}

#[test]
fn a_copy_of_a_signed_approval_appended_by_hand_is_answered_for_by_the_commit_that_added_it() {
    let (s, origin, c) = cast_on_remote();
    start(&c.dev);
    ok(&approve(&c.alice));
    ok(&c.dev.run(&["verify"]));
    // Someone with push access appends a byte-for-byte copy of alice's approval (as if
    // from an earlier visit) in a commit of their own.
    edit_on_remote(&s, &origin, |text| {
        let lines: Vec<&str> = text.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.trim_start().starts_with("event: approved"))
            .expect("alice's approval");
        let start = (0..=at)
            .rev()
            .find(|i| lines[*i].trim_start().starts_with("- "))
            .expect("the event's first line");
        let indent = &lines[start][..lines[start].len() - lines[start].trim_start().len()];
        let end = (at + 1..lines.len())
            .find(|i| {
                lines[*i].starts_with(&format!("{indent}- ")) || !lines[*i].starts_with(indent)
            })
            .unwrap_or(lines.len());
        assert_eq!(end, lines.len(), "events are the file's last key");
        let copy = lines[start..end].join("\n");
        format!("{}\n{copy}\n", text.trim_end())
    });
    let run = c.dev.run(&["verify"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("no record commit added it"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_approval_made_offline_is_said_to_be_missing_from_the_remote_until_it_is_pushed() {
    let (s, _origin) = with_remote();
    let c = cast(&s);
    s.env.git(&["push", "-q", "origin", "main"]);
    start(&c.dev);
    ok(&c
        .alice
        .run(&["--offline", "approve", &release(HEX), "--env", "production"]));
    let offline = c.dev.run(&["--offline", "status"]);
    ok(&offline);
    assert!(
        offline
            .stderr
            .contains("with 1 commit(s) made here that origin does not have yet"),
        "{}",
        offline.stderr
    );
    let not_on_remote = "1 record commit(s) here are not on origin yet";
    let status = c.dev.run(&["status"]);
    ok(&status);
    assert!(status.stderr.contains(not_on_remote), "{}", status.stderr);
    assert!(
        status.stderr.contains("to push them now: git -C ")
            && status.stderr.contains(" push origin relctl/records"),
        "{}",
        status.stderr
    );
    let verify = c.dev.run(&["verify", &release(HEX)]);
    ok(&verify);
    assert!(
        verify
            .stdout
            .contains("verified; not yet on the records remote (in this clone only"),
        "{}",
        verify.stdout
    );
    assert!(
        verify.stderr.contains("1 of them are only in this clone")
            && !verify.stderr.contains("every signature verifies\n"),
        "{}",
        verify.stderr
    );
    let history = c.dev.run(&["history", &release(HEX)]);
    ok(&history);
    assert!(
        history
            .stdout
            .contains("verified; not yet on the records remote"),
        "{}",
        history.stdout
    );
    // Pushed as the hint says: nothing is left to say.
    s.env.git(&["push", "-q", "origin", "relctl/records"]);
    let verify = c.dev.run(&["verify", &release(HEX)]);
    ok(&verify);
    assert!(
        !verify.stdout.contains("not yet on")
            && !verify.stderr.contains("not on origin")
            && verify
                .stderr
                .contains("1 signed approval(s) checked; every signature verifies"),
        "{}\n{}",
        verify.stdout,
        verify.stderr
    );
}

#[test]
fn verify_names_a_moved_source_commit_of_a_release_with_no_approvals_yet() {
    let (s, origin, c) = cast_on_remote();
    let reviewed = s.env.git(&["rev-parse", "HEAD"]).trim().to_string();
    start(&c.dev);
    ok(&c.dev.run(&["verify", &release(HEX)]));
    s.env.git(&["checkout", "-q", "-b", "evil"]);
    commit_allowed(&s, &c.mallory.allowed_as("alice@acme.io"));
    let evil = s.env.git(&["rev-parse", "HEAD"]).trim().to_string();
    s.env.git(&["checkout", "-q", "main"]);
    edit_on_remote(&s, &origin, |text| text.replace(&reviewed, &evil));
    for args in [vec!["verify", &release(HEX)], vec!["verify"]] {
        let run = c.dev.run(&args);
        assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
        assert!(
            run.stdout
                .contains(&format!("FAIL  {}  record commit ", release(HEX)))
                && run.stdout.contains(&format!(
                    "changed the release's source_commit from `{reviewed}` to `{evil}`"
                )),
            "{}",
            run.stdout
        );
        assert!(
            run.stderr
                .contains("1 change(s) to the record made outside relctl"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn validate_says_which_allowed_signers_it_checked_and_names_a_working_tree_copy_that_is_not_committed()
 {
    let s = project(None);
    let c = cast(&s);
    let committed =
        std::fs::read_to_string(s.env.path().join(".relctl/allowed_signers")).expect("the file");
    let run = s.relctl(&["validate"]);
    ok(&run);
    assert!(
        run.stderr
            .contains(".relctl/allowed_signers: checked as committed at HEAD ("),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("working tree"), "{}", run.stderr);
    // bob added, not committed: valid, and said not to count yet.
    s.env.write(
        ".relctl/allowed_signers",
        format!("{committed}{}", c.bob.allowed()),
    );
    let run = s.relctl(&["validate"]);
    ok(&run);
    assert!(
        run.stderr.contains(
            ".relctl/allowed_signers in the working tree differs from the copy committed at HEAD ("
        ) && run
            .stderr
            .contains("so the change counts only once it is committed"),
        "{}",
        run.stderr
    );
    // A malformed working-tree copy is named by line, as not committed.
    s.env
        .write(".relctl/allowed_signers", format!("{committed}garbage\n"));
    let run = s.relctl(&["validate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            ".relctl/allowed_signers:4: no key after the principals (in the working tree, not committed)"
        ),
        "{}",
        run.stderr
    );
    // Deleted in the working tree: the committed copy was checked, and that is said.
    std::fs::remove_file(s.env.path().join(".relctl/allowed_signers")).expect("remove");
    let run = s.relctl(&["validate"]);
    ok(&run);
    assert!(
        run.stderr.contains(
            ".relctl/allowed_signers is deleted in the working tree; the copy committed at HEAD ("
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn validate_names_an_allowed_signers_file_written_but_never_committed() {
    let s = project(None);
    let here = s.env.path().to_path_buf();
    let alice = person(&s, "alice@acme.io", true, &here);
    s.env.write(
        ".relctl/allowed_signers",
        format!("{}garbage\n", alice.allowed()),
    );
    let run = s.relctl(&["validate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    for expected in [
        ".relctl/allowed_signers: not in the plan's repository at HEAD",
        "the working tree has it, uncommitted",
        ".relctl/allowed_signers:2: no key after the principals (in the working tree, not committed)",
    ] {
        assert!(run.stderr.contains(expected), "{expected}\n{}", run.stderr);
    }
}
