//! What `--help` and the man pages say beyond the flags: each command's examples, the
//! exit statuses, the environment relctl reads and the files it uses. One source, so
//! `relctl promote --help` and relctl-promote(1) show the same examples. The long form
//! of each is in docs/ (ci.md: exit codes and environment; record.md: the files).

use crate::error::Exit;

/// An example: the command line, and what it does.
pub type Example = (&'static str, &'static str);

/// The examples of `relctl` itself (`None`) or of one subcommand.
pub fn examples(command: Option<&str>) -> &'static [Example] {
    match command {
        None => &[
            ("relctl validate", "check release.yaml"),
            (
                "relctl promote --artifact ghcr.io/acme/checkout@sha256:<64 hex>",
                "dev → staging → production",
            ),
            (
                "relctl rollback --env production --reason \"5xx spike\"",
                "the incident path",
            ),
            ("relctl status", "what is live where"),
        ],
        Some("init") => &[
            (
                "relctl init",
                "write a starter release.yaml for this repository",
            ),
            (
                "relctl init --provider exec",
                "deploy with a command (kubectl, helm) instead of an HTTP call",
            ),
            (
                "relctl init --example > release.example.yaml",
                "the full annotated reference, every key",
            ),
        ],
        Some("validate") => &[
            (
                "relctl validate",
                "check ./release.yaml, every problem at once",
            ),
            (
                "relctl validate --plan deploy/release.yaml --output json",
                "one JSON line per problem",
            ),
        ],
        Some("plan") => &[
            (
                "relctl plan --artifact ghcr.io/acme/checkout@sha256:<64 hex>",
                "every call promote would make, rendered, secrets masked",
            ),
            (
                "relctl plan --artifact sha256:<64 hex> --to staging",
                "only as far as staging",
            ),
        ],
        Some("promote") => &[
            (
                "relctl promote --artifact ghcr.io/acme/checkout@sha256:<64 hex> --version 1.4.2",
                "through every environment, in order",
            ),
            (
                "relctl promote --artifact sha256:<64 hex> --to staging",
                "stop after staging",
            ),
            (
                "relctl promote --env production --artifact sha256:<64 hex> --force --reason \"hotfix\"",
                "straight into production, recorded with the reason",
            ),
        ],
        Some("resume") => &[
            (
                "relctl resume checkout-4f2a9c1be0d3",
                "continue after an approval, a pause or a crash",
            ),
            (
                "relctl resume checkout-4f2a9c1be0d3 --wait-approval 2h",
                "wait for the approvals still missing",
            ),
        ],
        Some("approve") => &[
            (
                "relctl approve checkout-4f2a9c1be0d3 --env production",
                "approve the gate the release waits at",
            ),
            (
                "relctl approve checkout-4f2a9c1be0d3 --env production --comment \"canary looks fine\"",
                "with a comment in the record",
            ),
        ],
        Some("reject") => &[(
            "relctl reject checkout-4f2a9c1be0d3 --env production --reason \"not on a Friday\"",
            "the waiting promote (or the next resume) rolls it back, exit 3",
        )],
        Some("abort") => &[(
            "relctl abort checkout-4f2a9c1be0d3 --reason \"wrong build\"",
            "stop it and roll its environment back",
        )],
        Some("rollback") => &[
            (
                "relctl rollback --env production --reason \"5xx spike\"",
                "back to what was live before, now",
            ),
            (
                "relctl rollback --env production --to checkout-0123456789ab",
                "back to an older release that was live there",
            ),
            (
                "relctl rollback --env production --no-undo",
                "skip the undo of the release's http and exec steps",
            ),
            (
                "relctl rollback --env production --flags-only",
                "the kill switch: put the release's feature flags back, keep its code",
            ),
        ],
        Some("check") => &[
            (
                "relctl check --env production",
                "what would block the release live in staging from entering production",
            ),
            (
                "relctl check --env production --artifact ghcr.io/acme/checkout@sha256:<64 hex> --output json",
                "every gate's verdict for one artifact, for scripts; exit 6 if one blocks",
            ),
        ],
        Some("status") => &[
            (
                "relctl status",
                "what is live where, and who is mid-release",
            ),
            (
                "relctl status --env production --output json",
                "full digests and times, for scripts",
            ),
            (
                "relctl status --all --records git@github.com:acme/records.git",
                "every app in every environment, no plan needed",
            ),
        ],
        Some("releases") => &[
            (
                "relctl releases",
                "this plan's app's releases, newest first",
            ),
            (
                "relctl releases --env production --limit 50 --output json",
                "those that have been in production, for scripts",
            ),
        ],
        Some("history") => &[
            (
                "relctl history --env production --limit 10",
                "the last ten events there, newest first",
            ),
            (
                "relctl history checkout-4f2a9c1be0d3",
                "one release in full: steps, measurements, approvals",
            ),
        ],
        Some("verify") => &[
            (
                "relctl verify checkout-4f2a9c1be0d3",
                "check the signature of every approval at a signed gate of that release",
            ),
            (
                "relctl verify",
                "every release of the plan's app; exit 1 when any signature does not verify",
            ),
        ],
        Some("notes") => &[
            (
                "relctl notes checkout-4f2a9c1be0d3",
                "markdown: the commits since what is live in the last environment",
            ),
            (
                "relctl notes checkout-4f2a9c1be0d3 --env staging --output json",
                "against staging, as JSON",
            ),
        ],
        Some("report") => &[
            (
                "relctl report",
                "the four delivery measures for the last environment",
            ),
            (
                "relctl report --env production --since 30d",
                "over the last 30 days",
            ),
        ],
        Some("unlock") => &[(
            "relctl unlock --env production --reason \"runner killed\"",
            "break a lock held by a run that died",
        )],
        Some("demo") => &[
            ("relctl demo", "a whole release against a simulated service"),
            ("relctl demo --fail", "the canary fails and is rolled back"),
            (
                "relctl demo --serve",
                "keep the simulator running and try the commands by hand",
            ),
        ],
        Some("completions") => &[
            (
                "relctl completions bash > /etc/bash_completion.d/relctl",
                "bash",
            ),
            ("relctl completions zsh > \"${fpath[1]}/_relctl\"", "zsh"),
            (
                "relctl completions fish > ~/.config/fish/completions/relctl.fish",
                "fish",
            ),
        ],
        Some("man") => &[
            ("relctl man | man -l -", "read relctl(1)"),
            (
                "relctl man --dir /usr/local/share/man/man1",
                "install every page",
            ),
        ],
        Some(_) => &[],
    }
}

/// The examples as `--help` ends with them.
pub fn help_examples(command: Option<&str>) -> String {
    let mut text = String::from("Examples:\n");
    for (line, what) in examples(command) {
        text.push_str(&format!("  # {what}\n  {line}\n"));
    }
    let page = command.map_or("relctl".to_string(), |c| format!("relctl-{c}"));
    text.push_str(&format!(
        "\nExit codes, environment and files: man {page} (relctl man --dir DIR writes the pages)"
    ));
    text
}

/// Every exit status, and what it means.
pub const EXIT_STATUS: [(Exit, &str); 9] = [
    (
        Exit::Success,
        "done: promoted, rolled back, or the query answered",
    ),
    (
        Exit::Failed,
        "failed: a deploy or provider error that was not a gate's decision (after retries); the record says where",
    ),
    (
        Exit::Usage,
        "usage or plan error: bad flags, invalid plan or artifact reference, missing secret; nothing was changed",
    ),
    (
        Exit::Rejected,
        "rejected: a gate failed (analysis failed, approval rejected) and the environment was rolled back",
    ),
    (
        Exit::Paused,
        "paused: waiting for an approval or for a decision on an inconclusive analysis; resume continues",
    ),
    (
        Exit::Busy,
        "busy: the environment is locked by another release, the release is being driven by another relctl here, or the records branch kept moving",
    ),
    (
        Exit::Blocked,
        "blocked by policy: a freeze or a closed deployment window, not live in the previous environment, soak not over, rejected before, an approver refused",
    ),
    (
        Exit::Unpushed,
        "unpushed: under CI, the run's record did not reach the records remote after retrying",
    ),
    (
        Exit::Interrupted,
        "interrupted by SIGINT or SIGTERM; the record says where; resume continues",
    ),
];

/// The environment variables relctl reads, and what for (docs/ci.md has them all).
pub const ENVIRONMENT: [(&str, &str); 19] = [
    (
        "RELCTL_PLAN",
        "the plan, as --plan (default: the nearest release.yaml up to the repository root)",
    ),
    (
        "RELCTL_ACTOR",
        "who is acting, recorded on every event; else git's user.email, else the CI's user",
    ),
    (
        "RELCTL_LOG",
        "a tracing filter for diagnostics (RELCTL_LOG=debug), over -v",
    ),
    (
        "RELCTL_GIT_TOKEN",
        "a token offered to the records remote over HTTPS when it asks",
    ),
    (
        "RELCTL_PUSH_RETRY",
        "under CI, how long an unpushed record is retried before exit 7 (default 30s)",
    ),
    (
        "CI",
        "set and not false: never prompt, and a record that did not reach the remote is exit 7",
    ),
    (
        "NO_COLOR, CLICOLOR_FORCE",
        "no colour when NO_COLOR is set; colour without a terminal when CLICOLOR_FORCE is set and not 0",
    ),
    (
        "GITHUB_ACTIONS, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY",
        "on GitHub Actions: groups, annotations, step outputs and the step summary",
    ),
    (
        "GITHUB_ACTOR, GITLAB_CI, GITLAB_USER_EMAIL",
        "the CI's user, when neither RELCTL_ACTOR nor git knows one",
    ),
    (
        "GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID, CI_JOB_URL, BUILD_URL",
        "the CI job's link, recorded with each event",
    ),
    (
        "SSL_CERT_FILE, SSL_CERT_DIR",
        "certificates trusted instead of the system's",
    ),
    (
        "GIT_SSL_CAINFO",
        "a CA bundle trusted for the records remote besides the system's",
    ),
    (
        "GIT_CONFIG_GLOBAL, GIT_CONFIG_SYSTEM, GIT_CONFIG_NOSYSTEM",
        "git's configuration files, read as git reads them",
    ),
    (
        "HOME, SSH_AUTH_SOCK",
        "~/.gitconfig, ~/.ssh keys and known_hosts; ssh-agent for SSH remotes",
    ),
    (
        "XDG_CACHE_HOME",
        "where relctl keeps its clone of a record.url (else ~/.cache/relctl/records)",
    ),
    (
        "PATH",
        "demo --serve spells relctl as `relctl` when the one on PATH is itself",
    ),
    (
        "HTTPS_PROXY, https_proxy, NO_PROXY, no_proxy",
        "proxies for the records remote, as git reads them",
    ),
    (
        "secret.NAME",
        "a plan's {{ secret.NAME }} is the environment variable NAME, read before anything runs",
    ),
    (
        "RELCTL_APP, RELCTL_ENV, RELCTL_RELEASE, RELCTL_VERSION, RELCTL_ARTIFACT, RELCTL_DIGEST, RELCTL_STEP, RELCTL_WEIGHT, RELCTL_BASELINE",
        "set for exec providers and steps (not read by relctl)",
    ),
];

/// The files relctl reads and writes.
pub const FILES: [(&str, &str); 5] = [
    (
        "release.yaml",
        "the plan (docs/plan.md): --plan or RELCTL_PLAN, else the nearest release.yaml from the current directory up to the repository root",
    ),
    (
        "relctl/records",
        "the records branch of the plan's git repository (record.repo, record.branch): apps/XX/APP/environments/ENV.yaml and apps/XX/APP/releases/YY/RELEASE.yaml (docs/record.md)",
    ),
    (
        ".git/relctl-report.cache",
        "what relctl report read from release files; may be deleted at any time",
    ),
    (
        "~/.gitconfig",
        "user.email (who is acting), http.extraHeader, credential helpers, proxies",
    ),
    (
        "~/.ssh/known_hosts, ~/.ssh/id_ed25519",
        "the records remote's host key, and a key to offer it over SSH",
    ),
];

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::cli::Cli;

    #[test]
    fn every_command_has_examples_of_itself() {
        for sub in Cli::command().get_subcommands() {
            let name = sub.get_name();
            let examples = examples(Some(name));
            assert!(!examples.is_empty(), "`relctl {name}` has no examples");
            for (line, _) in examples {
                assert!(
                    line.starts_with(&format!("relctl {name}")),
                    "an example of `relctl {name}` runs something else: {line}"
                );
            }
        }
    }
}
