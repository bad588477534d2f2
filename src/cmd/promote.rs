//! `relctl promote`: take a release through the environments, gate by gate.

use super::{Context, release};
use crate::engine::Rule;
use crate::runner::{self, Header, Options};

/// Promote an artifact through the environments in order
#[derive(Debug, clap::Args)]
#[command(after_help = "Re-running promote for a release under way continues it.")]
pub struct Args {
    /// The artifact: NAME@sha256:<64 hex>, or a bare sha256:<64 hex>
    #[arg(long, value_name = "REF")]
    pub artifact: String,

    /// Promote up to this environment (default: the last)
    #[arg(long, value_name = "ENV", conflicts_with = "env", add = clap_complete::ArgValueCandidates::new(crate::complete::environments))]
    pub to: Option<String>,

    /// Promote into exactly this environment
    #[arg(long, value_name = "ENV", add = clap_complete::ArgValueCandidates::new(crate::complete::environments))]
    pub env: Option<String>,

    /// A human version for the release (default: the short digest)
    #[arg(long, value_name = "V", value_parser = crate::version::parse)]
    pub version: Option<String>,

    /// Without a terminal, wait for approvals (up to DUR) instead of exiting 4
    #[arg(long, value_name = "DUR", num_args = 0..=1, default_missing_value = "24h")]
    pub wait_approval: Option<String>,

    /// Wait for a locked environment (up to DUR) instead of exiting 5
    #[arg(long, value_name = "DUR", num_args = 0..=1, default_missing_value = "1h")]
    pub wait_lock: Option<String>,

    /// Wait for a closed deployment window to open (up to DUR) instead of exiting 6
    #[arg(long, value_name = "DUR", num_args = 0..=1, default_missing_value = "24h")]
    pub wait_window: Option<String>,

    /// Promote although the order, soak or error-budget rule says no (needs --reason; recorded with your name)
    #[arg(long, requires = "reason")]
    pub force: bool,

    /// Promote into a frozen environment or a closed deployment window (needs --reason; recorded)
    #[arg(long, requires = "reason")]
    pub override_freeze: bool,

    /// Why: recorded with --force or --override-freeze
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<()> {
    let (plan, artifact) = super::plan_and_artifact(ctx, &args.artifact)?;
    release::check_identity(&plan, "promote")?;
    let targets = targets(&plan, args.to.as_deref(), args.env.as_deref())?;
    let mut lifted = Vec::new();
    if args.force {
        lifted.extend([
            Rule::Order,
            Rule::Soak,
            Rule::RejectedBefore,
            Rule::Replaced,
            Rule::ErrorBudget,
        ]);
    }
    if args.override_freeze {
        lifted.extend([Rule::Freeze, Rule::Window]);
    }
    let opts = Options {
        targets,
        lifted,
        reason: args.reason,
        wait_approval: release::duration_flag("--wait-approval", args.wait_approval.as_deref())?,
        wait_lock: release::duration_flag("--wait-lock", args.wait_lock.as_deref())?,
        wait_window: release::duration_flag("--wait-window", args.wait_window.as_deref())?,
        interactive: release::interactive(ctx),
    };
    release::secrets(&plan)?;
    let store = runner::open_store(&plan)?;
    let id = artifact.release_id(&plan.app);
    // What the release is, decided on what the remote holds: another clone may have
    // recorded this id, for this digest or another (README, "Artifacts"). A catch-up
    // that fails is reported by the run, which goes on from it rather than fetch again
    // (runner::drive).
    let synced = store.sync();
    let snapshot = store.snapshot()?;
    let header = match crate::format::read_release(&snapshot, &plan.app, &id)? {
        Some(existing) => {
            release::same_digest(&existing, &artifact)?;
            if let Some(asked) = args.version.as_deref().filter(|v| *v != existing.version) {
                ctx.printer.warn(&format!(
                    "{id} is version {} in the record (since it was first promoted); --version {asked} is ignored",
                    existing.version
                ));
            }
            release::header_of(&existing)
        }
        None => {
            let version = args.version.unwrap_or_else(|| artifact.short().to_string());
            let (source_commit, source_commit_time) = runner::source_commit(&plan).unzip();
            // Against what is live where it is going; made once, kept in the record.
            let notes = opts.targets.last().and_then(|last| {
                let subject = crate::notes::Subject {
                    release: &id,
                    version: &version,
                    source_commit: source_commit.as_deref(),
                };
                crate::notes::at_start(&plan, &snapshot, &subject, last)
            });
            Header {
                release: id,
                app: plan.app.clone(),
                artifact: artifact.to_string(),
                digest: artifact.digest(),
                version,
                source_commit,
                source_commit_time,
                notes,
            }
        }
    };
    drop(snapshot);
    let runner = release::runner(ctx, &plan, store, header, opts)?;
    runner.caught_up(synced);
    runner::drive(&runner)
}

/// The environments to go through: up to `--to` (default: all), or exactly `--env`.
pub fn targets(
    plan: &crate::plan::Plan,
    to: Option<&str>,
    env: Option<&str>,
) -> anyhow::Result<Vec<String>> {
    let names: Vec<String> = plan.environments.iter().map(|e| e.name.clone()).collect();
    let position = |name: &str| -> anyhow::Result<usize> {
        let env = super::environment(plan, name)?;
        Ok(names
            .iter()
            .position(|n| *n == env.name)
            .unwrap_or_default())
    };
    Ok(match (to, env) {
        (_, Some(env)) => vec![names[position(env)?].clone()],
        (Some(to), None) => names[..=position(to)?].to_vec(),
        (None, None) => names,
    })
}
