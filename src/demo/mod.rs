//! `relctl demo`: the whole loop on this machine. A simulated service on loopback, a
//! records repository, a plan pointed at the simulator, and two releases promoted
//! through the same code paths a real plan uses.

mod sim;
mod unleash;
mod walkthrough;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use sha2::{Digest, Sha256};

use crate::cmd::{self, Context};
use crate::error::{Error, Exit, exit_of};

pub use sim::Simulator;

const APP: &str = "demo";
const IMAGE: &str = "registry.demo.relctl/shop";
const YOU: &str = "you@demo.relctl";
const APPROVER: &str = "approver@demo.relctl";

/// What `relctl demo` was asked to do.
pub struct Options {
    pub fail: bool,
    pub serve: bool,
    pub dir: Option<PathBuf>,
}

/// A digest for a demo version: the sha256 of its name, so reruns agree.
fn digest(version: &str) -> String {
    hex::encode(Sha256::digest(format!("{IMAGE}:{version}").as_bytes()))
}

/// The feature flag the demo's v2.0.0 ramps in production, and the kill switch turns off.
const FLAG: &str = "new-checkout";

/// The demo's plan, pointed at the simulator; like release.example.yaml, smaller. With
/// `flags`, production ends with a flag ramp (10% → analysis → 100%) against the
/// simulated Unleash; the stage-setting release goes out without it.
fn plan(url: &str, flags: bool) -> String {
    let (provider, ramp) = if flags {
        (
            "  flags:\n    unleash:\n      type: unleash\n      url: \"{{ vars.api }}/unleash\"\n      token: demo-admin-token\n      environments: { production: production }\n"
                .to_string(),
            format!(
                "      - flag: {{ name: {FLAG}, rollout: 10 }}\n      - analysis: health\n      - flag: {{ name: {FLAG}, rollout: 100 }}\n"
            ),
        )
    } else {
        (String::new(), String::new())
    };
    format!(
        r#"# The plan relctl demo wrote: a real plan, pointed at the simulated service.
version: 1
app: {APP}
artifact: {{ name: {IMAGE} }}
vars: {{ api: "{url}" }}
providers:
  deploy:
    platform:
      type: http
      request:
        method: POST
        url: "{{{{ vars.api }}}}/deploy/{{{{ env.name }}}}"
        body: {{ image: "{{{{ artifact.ref }}}}", version: "{{{{ release.version }}}}", weight: "{{{{ step.weight }}}}" }}
        timeout: 5s
      wait: {{ url: "{{{{ vars.api }}}}/deployments/{{{{ response.id }}}}", interval: 100ms, timeout: 10s, success: '.state == "ready"' }}
      verify_digest: '.digest'
  metrics:
    stats:
      type: http
      request: {{ url: "{{{{ vars.api }}}}/stats/{{{{ release.version }}}}" }}
      value: '.error_rate'
{provider}environments:
  - name: dev
    deploy: platform
  - name: staging
    deploy: platform
    steps:
      - deploy: {{}}
      - analysis: health
  - name: production
    deploy: platform
    approval: {{ approvers: ["*@demo.relctl"], min: 1 }}
    steps:
      - deploy: {{ weight: 10 }}
      - analysis: health
      - deploy: {{ weight: 50 }}
      - pause: 1s
      - deploy: {{}}
{ramp}analyses:
  health:
    interval: 1s
    count: 3
    metrics:
      - {{ name: error-rate, provider: stats, max: 0.01, no_data: inconclusive }}
"#
    )
}

pub fn run(options: Options, ctx: &Context) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the simulated service's runtime")?;
    let (dir, _temp) = match &options.dir {
        Some(dir) => (dir.clone(), None),
        None => {
            let temp = std::env::temp_dir().join(format!("relctl-demo-{}", std::process::id()));
            (temp.clone(), Some(temp))
        }
    };
    claim(&dir)?;
    let sim = Simulator::start(&runtime).context("starting the simulated service")?;
    let plan_path = dir.join("release.yaml");
    prepare_repo(&dir)?;
    let write_plan = |flags| {
        std::fs::write(&plan_path, plan(&sim.url(), flags))
            .with_context(|| format!("writing {}", plan_path.display()))
    };
    write_plan(false)?;
    let say = |text: &str| ctx.printer.status(text);
    say(&format!(
        "relctl demo: a simulated service on {} and a records repository in {}",
        sim.url(),
        dir.display()
    ));
    let demo_ctx = Context {
        plan: Some(&plan_path),
        ..*ctx
    };

    say("\n── setting the stage: v1.0.0 goes live in dev, staging and production");
    release(&demo_ctx, "v1.0.0", true)?;
    say(&format!(
        "\n── the plan grows a feature flag: production ramps `{FLAG}` 10% → analysis → 100% after the deploy"
    ));
    write_plan(true)?;
    if options.serve {
        return serve(&sim, &plan_path, ctx, &runtime);
    }
    if options.fail {
        sim.fail("v2.0.0");
        say("\n── v2.0.0 misbehaves once it meets production traffic: watch the canary analysis");
    } else {
        say(
            "\n── v2.0.0: dev, staging with analysis, then production with approval, canary and analysis",
        );
    }
    let (outcome, approval) = match release(&demo_ctx, "v2.0.0", false) {
        Ok(approval) => (Ok(()), Some(approval)),
        Err(e) => (Err(e), None),
    };
    let asked = cmd::release::interactive(&demo_ctx);
    match (&outcome, approval) {
        (Ok(()), Some(Approval::Auto)) => {
            say(&format!(
                "\n── v2.0.0 is live everywhere (production auto-approved by {APPROVER})"
            ));
        }
        (Ok(()), _) => {
            say("\n── v2.0.0 is live everywhere (you approved production at the prompt)")
        }
        (Err(e), _) if exit_of(e) == Exit::Rejected => say(match (options.fail, asked) {
            (true, false) => {
                "\n── the canary failed its analysis: production was rolled back to v1.0.0 by itself"
            }
            (true, true) => {
                "\n── v2.0.0 was rejected in production (by its canary analysis or at your \
                 prompt, above): production was rolled back to v1.0.0 by itself"
            }
            (false, _) => {
                "\n── you declined at the prompt: production was rolled back to v1.0.0 by itself"
            }
        }),
        (Err(_), _) => {}
    }
    if let Err(e) = &outcome
        && exit_of(e) == Exit::Interrupted
    {
        return Err(interrupted(&dir, &plan_path));
    }
    if outcome.is_ok() {
        kill_switch(&demo_ctx)?;
    }
    say("");
    let status = cmd::status::Args {
        env: None,
        all: false,
        app: None,
        targets: false,
        records: cmd::status::RecordsArgs {
            records: None,
            branch: None,
        },
    };
    cmd::status::run(status, &demo_ctx)?;
    say(&format!(
        "\nThe record is a git branch in {0}:\n  git -C {0} log --format='%h %s' relctl/records\n  git -C {0} show relctl/records:{2}\n  relctl --plan {1} history",
        walkthrough::shell_word(&dir.display().to_string()),
        walkthrough::shell_word(&plan_path.display().to_string()),
        crate::format::env_path(APP, "production")
    ));
    match outcome {
        Err(e) if exit_of(&e) == Exit::Rejected => Ok(()),
        other => other,
    }
}

/// The demo stopped by Ctrl-C: its simulated service stops with it, so unlike a real
/// promotion nothing can resume the release; say so, and where its record stays.
fn interrupted(dir: &Path, plan_path: &Path) -> anyhow::Error {
    let dir = walkthrough::shell_word(&dir.display().to_string());
    let plan = walkthrough::shell_word(&plan_path.display().to_string());
    Error::new(
        Exit::Interrupted,
        "the demo was interrupted; its simulated service stopped with it",
    )
    .with_hint(format!(
        "the release cannot be resumed without that service; its record stays in {dir} \
         (`relctl --plan {plan} history`), and `relctl demo` starts again"
    ))
    .into()
}

/// The kill switch: `new-checkout` goes back to what it was before v2.0.0 (off), and
/// v2.0.0's code stays live, as `relctl rollback --env production --flags-only` does.
fn kill_switch(ctx: &Context) -> anyhow::Result<()> {
    ctx.printer.status(&format!(
        "\n── the kill switch: `{FLAG}` misbehaves; `relctl rollback --env production --flags-only` \
         puts the flag back as it was before v2.0.0 and leaves its code live"
    ));
    cmd::rollback::run(
        cmd::rollback::Args {
            env: "production".into(),
            to: None,
            reason: Some(format!("{FLAG} misbehaves")),
            no_undo: false,
            flags_only: true,
            target: None,
        },
        ctx,
    )
}

/// How production's approval was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Approval {
    /// By the demo's approver: the stage-setting release, or no terminal to ask on.
    Auto,
    /// By you, at the prompt on the terminal.
    Prompt,
}

/// A demo version's artifact reference and release id.
fn named(version: &'static str) -> walkthrough::Named {
    walkthrough::Named {
        version,
        artifact: format!("{IMAGE}@sha256:{}", digest(version)),
        id: format!("{APP}-{}", &digest(version)[..12]),
    }
}

/// Promotes one demo version through every environment. Approvals are asked on a
/// terminal; without one (or for the stage-setting release) they are given by the
/// demo's approver, and it says so.
fn release(ctx: &Context, version: &'static str, auto_approve: bool) -> anyhow::Result<Approval> {
    let named = named(version);
    let id = named.id;
    // SAFETY: the demo sets only its own actor, and no other thread reads the
    // environment while it does (the simulator's tasks never do).
    unsafe { std::env::set_var("RELCTL_ACTOR", YOU) };
    let args = cmd::promote::Args {
        artifact: named.artifact,
        to: None,
        env: None,
        version: Some(version.to_string()),
        wait_approval: None,
        wait_lock: None,
        wait_window: None,
        force: false,
        override_freeze: false,
        reason: None,
    };
    let no_prompt = auto_approve || !cmd::release::interactive(ctx);
    let unasked = Context {
        no_input: true,
        ..*ctx
    };
    let mut result = cmd::promote::run(args, if no_prompt { &unasked } else { ctx });
    let mut approval = if no_prompt {
        Approval::Auto
    } else {
        Approval::Prompt
    };
    while let Err(e) = &result {
        if exit_of(e) != Exit::Paused {
            break;
        }
        let why = if auto_approve {
            "to set the stage"
        } else {
            "no terminal to ask you on"
        };
        ctx.printer.status(&format!(
            "   auto-approved ({why}): {APPROVER} approves, as \
             `RELCTL_ACTOR={APPROVER} relctl approve {id} --env production` would"
        ));
        unsafe { std::env::set_var("RELCTL_ACTOR", APPROVER) };
        cmd::approve::run(
            cmd::approve::Args {
                release: id.clone(),
                env: "production".into(),
                comment: Some("approved by relctl demo".into()),
            },
            ctx,
        )?;
        unsafe { std::env::set_var("RELCTL_ACTOR", YOU) };
        ctx.printer.status(&format!(
            "   the demo resumes the release itself, as `relctl resume {id}` would"
        ));
        approval = Approval::Auto;
        result = cmd::resume::run(
            cmd::resume::Args {
                release: id.clone(),
                wait_approval: None,
            },
            &unasked,
        );
    }
    result.map(|()| approval)
}

/// The file that marks a directory as the demo's own, so that running it again there
/// is allowed, and what the demo writes in it.
const MARKER: &str = ".relctl-demo";
const MARKER_TEXT: &str = "Made by `relctl demo`, which may write here again.\n";

/// Everything the demo writes into its directory: one that holds anything else is not
/// the demo's, whatever its marker says.
const DEMO_FILES: [&str; 3] = [MARKER, "release.yaml", ".git"];

/// True when `dir` holds the demo's marker, as the demo writes it, and nothing but the
/// demo's own files.
fn made_by_demo(dir: &Path) -> anyhow::Result<bool> {
    let marker = dir.join(MARKER);
    if !marker.is_file() {
        return Ok(false);
    }
    let text = std::fs::read(&marker).with_context(|| format!("reading {}", marker.display()))?;
    if text != MARKER_TEXT.as_bytes() {
        return Ok(false);
    }
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        if !DEMO_FILES.iter().any(|name| entry.file_name() == *name) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Makes sure the demo may write into `dir`: it does not exist yet, it is empty, or an
/// earlier demo made it (`made_by_demo`). Anything else (a project, with its release.yaml, git config and
/// records branch) is a usage error, before anything is written.
fn claim(dir: &Path) -> anyhow::Result<()> {
    let refuse = |why: &str| {
        Error::usage(format!(
            "relctl demo writes only into a new or empty directory, and `{}` {why}",
            dir.display()
        ))
        .with_hint(
            "the demo writes its own release.yaml, git config and records there; pass \
             `--dir` a new or empty directory, or leave it out for a temporary one",
        )
    };
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if made_by_demo(dir)? {
                return Ok(());
            }
            if entries.next().is_some() {
                return Err(refuse("is not empty, and not a directory the demo made").into());
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            return Err(refuse("is a file").into());
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    }
    std::fs::write(dir.join(MARKER), MARKER_TEXT)
        .with_context(|| format!("writing {}", dir.join(MARKER).display()))
}

fn prepare_repo(dir: &Path) -> anyhow::Result<()> {
    let repo = match git2::Repository::open(dir) {
        Ok(repo) => repo,
        Err(_) => git2::Repository::init(dir)
            .with_context(|| format!("creating a git repository in {}", dir.display()))?,
    };
    let mut config = repo
        .config()
        .context("reading the demo repository's config")?;
    config
        .set_str("user.email", YOU)
        .context("configuring the demo repository")?;
    config
        .set_str("user.name", "relctl demo")
        .context("configuring the demo repository")?;
    Ok(())
}

/// Keeps the simulator up for the walkthrough, which it prints, until Ctrl-C or SIGTERM.
fn serve(
    sim: &Simulator,
    plan: &Path,
    ctx: &Context,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<()> {
    sim.fail("v3.0.0");
    let plan = std::path::absolute(plan).with_context(|| format!("locating {}", plan.display()))?;
    let url = sim.url();
    let text = walkthrough::Walkthrough {
        url: &url,
        plan: &plan,
        approver: APPROVER,
        live: &named("v1.0.0"),
        good: &named("v2.0.0"),
        bad: &named("v3.0.0"),
    }
    .text();
    ctx.printer.data(&text)?;
    runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("listening for SIGTERM")?;
        tokio::select! {
            stopped = tokio::signal::ctrl_c() => stopped.context("waiting for Ctrl-C"),
            _ = term.recv() => Ok(()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_only_new_empty_or_its_own_directories() {
        let temp = std::env::temp_dir().join(format!("relctl-demo-claim-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&temp);
        let new = temp.join("new");
        claim(&new).unwrap();
        // Its own: again, also once it holds the demo's files.
        std::fs::write(new.join("release.yaml"), "version: 1\n").unwrap();
        claim(&new).unwrap();
        let empty = temp.join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        claim(&empty).unwrap();
        let project = temp.join("project");
        std::fs::create_dir_all(&project).unwrap();
        std::fs::write(project.join("release.yaml"), "mine\n").unwrap();
        let err = claim(&project).unwrap_err();
        assert_eq!(exit_of(&err), Exit::Usage);
        assert!(!project.join(MARKER).exists());
        let err = claim(&project.join("release.yaml")).unwrap_err();
        assert_eq!(exit_of(&err), Exit::Usage);
        let _ = std::fs::remove_dir_all(&temp);
    }
}
