//! The usual fixture: a project whose `release.yaml` promotes `checkout` through dev,
//! staging and production against the platform double, with its record in a real git
//! repository, and the constants and helpers its tests share.

use std::process::{Child, Stdio};

use super::platform::Platform;
use super::{Run, TestEnv};

pub const HEX: &str = "4f2a9c1be0d3a7f6e5c4b3a2918070605040302010f0e0d0c0b0a09080706050";
pub const OLD: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
pub const SECRET: &str = "s3cr3t-t0ken-value";

pub fn artifact(hex: &str) -> String {
    format!("ghcr.io/acme/checkout@sha256:{hex}")
}

pub fn release(hex: &str) -> String {
    format!("checkout-{}", &hex[..12])
}

/// A three-environment plan against the platform double. `production` takes `extra`
/// (YAML lines at environment level, indented by four spaces) and `steps`.
pub fn plan(platform: &Platform, production_extra: &str, production_steps: &str) -> String {
    format!(
        r#"version: 1
app: checkout
artifact: {{ name: ghcr.io/acme/checkout }}
vars: {{ api: "{url}" }}
providers:
  deploy:
    platform:
      type: http
      request:
        method: POST
        url: "{{{{ vars.api }}}}/deploy/{{{{ env.name }}}}"
        headers: {{ Authorization: "Bearer {{{{ secret.DEPLOY_TOKEN }}}}" }}
        body: {{ image: "{{{{ artifact.ref }}}}", weight: "{{{{ step.weight }}}}", release: "{{{{ release.id }}}}" }}
        timeout: 5s
        retries: 2
      wait: {{ url: "{{{{ vars.api }}}}/deployments/{{{{ response.id }}}}", interval: 100ms, timeout: 2s, success: '.state == "ready"', failure: '.state == "failed"' }}
      verify_digest: '.digest'
environments:
  - name: dev
    deploy: platform
  - name: staging
    deploy: platform
  - name: production
    deploy: platform
{production_extra}    steps:
{production_steps}"#,
        url = platform.url()
    )
}

pub const CANARY: &str = "      - deploy: { weight: 10 }\n      - deploy: {}\n";

/// The deploy calls of a promotion through the three environments, `CANARY` in production.
pub fn canary_deploys(hex: &str) -> Vec<(String, String, u64)> {
    let image = artifact(hex);
    vec![
        ("dev".to_string(), image.clone(), 100),
        ("staging".to_string(), image.clone(), 100),
        ("production".to_string(), image.clone(), 10),
        ("production".to_string(), image, 100),
    ]
}

pub struct Setup {
    pub env: TestEnv,
    pub platform: Platform,
}

impl Setup {
    /// The three-environment plan (`plan`).
    pub fn new(production_extra: &str, production_steps: &str) -> Setup {
        Setup::with_plan(|platform| plan(platform, production_extra, production_steps))
    }

    /// A git repository whose `release.yaml` is the plan `write` makes for the
    /// platform double.
    pub fn with_plan(write: impl FnOnce(&Platform) -> String) -> Setup {
        let env = TestEnv::new();
        env.init_repo();
        let platform = Platform::start();
        env.write("release.yaml", write(&platform));
        Setup { env, platform }
    }

    pub fn relctl(&self, args: &[&str]) -> Run {
        self.env.run_with(args, quick)
    }

    /// relctl run by another person, whose git identity is `actor`, in this project.
    pub fn relctl_as(&self, actor: &str, args: &[&str]) -> Run {
        self.env.operator(actor).run_with(args, quick)
    }

    pub fn promote(&self, hex: &str, extra: &[&str]) -> Run {
        let artifact = artifact(hex);
        let mut args = vec!["promote", "--artifact", artifact.as_str()];
        args.extend_from_slice(extra);
        self.relctl(&args)
    }

    /// relctl as the tester, started with `args` and left running (`spawn`).
    pub fn spawn(&self, args: &[&str]) -> Child {
        spawn(self.env.std_command(), args)
    }

    /// The record edited by hand in a worktree of its branch, as people undo a bad
    /// event: `edit` gets the text of `path` and returns the new one, committed.
    pub fn edit_record(&self, path: &str, edit: impl FnOnce(&str) -> String) {
        let worktree = self.env.path().join("records-edit");
        let arg = worktree.to_str().expect("a UTF-8 temp path");
        self.env
            .git(&["worktree", "add", "-q", arg, "relctl/records"]);
        let file = worktree.join(path);
        let text = std::fs::read_to_string(&file).expect("the record file");
        let edited = edit(&text);
        assert_ne!(edited, text, "the edit changes the file");
        std::fs::write(&file, edited).expect("edit the record");
        super::git(&worktree, &["commit", "-q", "-am", "edit by hand"]);
        self.env.git(&["worktree", "remove", arg]);
    }

    /// The record file at `path` on the records branch.
    pub fn record_file(&self, path: &str) -> String {
        self.env.git(&["show", &format!("relctl/records:{path}")])
    }

    /// The last `n` event names of a release, oldest first.
    pub fn last_events(&self, hex: &str, n: usize) -> Vec<String> {
        let events = self.events(hex);
        events[events.len().saturating_sub(n)..].to_vec()
    }

    /// Event names of a release, oldest first, from its record file.
    pub fn events(&self, hex: &str) -> Vec<String> {
        self.record_file(&relctl::format::release_path("checkout", &release(hex)))
            .lines()
            .filter_map(|l| l.trim().strip_prefix("event: ").map(str::to_string))
            .collect()
    }
}

/// The deploy secret, and short backoff and polls so tests do not wait.
pub const QUICK: [(&str, &str); 3] = [
    ("DEPLOY_TOKEN", SECRET),
    ("RELCTL_BACKOFF_MS", "1"),
    ("RELCTL_POLL_MS", "20"),
];

/// `QUICK`'s environment on a command.
pub fn quick(c: &mut assert_cmd::Command) {
    c.envs(QUICK);
}

/// relctl as `cmd` is set up (who, where, what else), with `QUICK`'s environment and
/// `args`, started and left running; stdout and stderr are piped for
/// `wait::finish`.
pub fn spawn(mut cmd: std::process::Command, args: &[&str]) -> Child {
    cmd.args(args)
        .envs(QUICK)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start relctl")
}
