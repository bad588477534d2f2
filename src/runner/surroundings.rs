//! What the runner takes from the process environment, read once where the command
//! starts: the plan's secrets, the CI job's link, GitHub Actions, whether a record left
//! unpushed is an error (CI), and the test hooks that shorten backoff and polling.

use std::time::Duration;

use super::push::PushPolicy;
use crate::plan::Plan;
use crate::providers::{Secrets, http::RetryDelay};

/// The process environment as a run sees it.
pub struct Surroundings {
    /// Every secret the plan uses.
    pub secrets: Secrets,
    /// A link to the CI job running this, recorded with each event.
    pub ci: Option<String>,
    /// Groups, annotations, the step summary and outputs under GitHub Actions.
    pub github: Option<crate::ui::github::Actions>,
    /// The retry backoff of provider calls.
    pub backoff: RetryDelay,
    /// How long to sleep between polls of the record (approvals, locks).
    pub poll: Duration,
    /// Under CI, a record left unpushed is an error after a bounded retry.
    pub push: PushPolicy,
}

impl Surroundings {
    /// Reads it all now: a secret the plan uses and the environment lacks stops the
    /// run before anything changes.
    pub fn read(plan: &Plan) -> anyhow::Result<Self> {
        Ok(Surroundings {
            secrets: crate::plan::template::secrets(plan)?,
            ci: ci_link(),
            github: crate::ui::github::Actions::from_env(),
            backoff: RetryDelay::from_env(),
            poll: poll_interval(),
            push: push_policy(),
        })
    }
}

/// How long to sleep between polls of the record (approvals, locks); tests shorten it
/// with a hook.
fn poll_interval() -> Duration {
    crate::hooks::get(crate::hooks::Hook::PollMs)
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(2), Duration::from_millis)
}

/// `CI` and `RELCTL_PUSH_RETRY`, for a command that records without a run (approve,
/// reject, unlock) or before it has one (rollback).
pub fn push_policy() -> PushPolicy {
    PushPolicy::from_vars(|k| std::env::var(k).ok())
}

/// A link to the CI job running this, when one is known.
pub fn ci_link() -> Option<String> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(server), Some(repo), Some(run)) = (
        var("GITHUB_SERVER_URL"),
        var("GITHUB_REPOSITORY"),
        var("GITHUB_RUN_ID"),
    ) {
        return Some(format!("{server}/{repo}/actions/runs/{run}"));
    }
    var("CI_JOB_URL").or_else(|| var("BUILD_URL"))
}
