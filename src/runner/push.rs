//! Whether what a command recorded reached the records remote. A record left only in
//! this clone is invisible to everyone else (a waiting promote never sees the
//! approval), and on a CI runner it is thrown away with the runner, so there it is an
//! error after a bounded retry.

use std::time::{Duration, Instant};

use crate::error::{Error, Exit};
use crate::record::{Appended, Store};
use crate::ui::Printer;
use crate::ui::github::Actions;

/// How long a CI run keeps trying to push what it recorded before it gives up.
const CI_RETRY: Duration = Duration::from_secs(30);

/// What the process environment says about pushing, read where the command starts
/// (`surroundings::push_policy`): whether this runs under CI, where the clone is
/// thrown away and a record left in it is an error, and for how long to retry then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushPolicy {
    /// `CI` set and not `false`.
    pub under_ci: bool,
    /// `RELCTL_PUSH_RETRY` (a duration), else 30 s.
    pub retry: Duration,
}

impl PushPolicy {
    /// The policy from the variables `var` gives.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> PushPolicy {
        PushPolicy {
            under_ci: var("CI").is_some_and(|v| !v.is_empty() && v != "false"),
            retry: var("RELCTL_PUSH_RETRY")
                .and_then(|v| crate::duration::parse(&v).ok())
                .unwrap_or(CI_RETRY),
        }
    }
}

/// The error for a remote this clone has never reached and cannot reach now.
pub fn never_reached(store: &Store, why: &str) -> anyhow::Error {
    if let Some(url) = store.shared_url() {
        return Error::usage(format!(
            "the records repository {url} has never been reached from this machine: {why}"
        ))
        .with_hint(
            "check `record.url` in the plan and your access to it; nothing was recorded or \
             deployed. `--offline` goes on with a record kept only in relctl's clone of it \
             on this machine",
        )
        .into();
    }
    let remote = store.remote().unwrap_or("origin");
    Error::usage(format!(
        "the records remote `{remote}` has never been reached from this clone: {why}"
    ))
    .with_hint(format!(
        "check the URL (`git remote get-url {remote}`) and your access to it; nothing was \
         recorded or deployed. `--offline` goes on with a record kept only in this clone"
    ))
    .into()
}

/// The end of a run: its own outcome, then whether its record reached the remote.
/// Under CI a record left behind is an error (exit 7) when the run itself succeeded,
/// and an extra error message otherwise; elsewhere it is a warning. `summarised`: the
/// run's error goes on to the GitHub Actions summary, which annotates it.
pub fn after_run(
    result: anyhow::Result<()>,
    store: &Store,
    printer: &Printer,
    github: Option<&Actions>,
    policy: PushPolicy,
    summarised: bool,
) -> anyhow::Result<()> {
    if result
        .as_ref()
        .is_err_and(|e| crate::error::exit_of(e) == Exit::Interrupted)
    {
        // Stopped on purpose (a cancelled job): no time for retries.
        return result;
    }
    let annotate = |err: &anyhow::Error| {
        if let Some(github) = github {
            github.error(&format!("{err:#}"));
        }
    };
    match (
        result,
        ensure_pushed(store, printer, policy, "this run's record"),
    ) {
        (Ok(()), Err(unpushed)) => {
            if !summarised {
                annotate(&unpushed);
            }
            Err(unpushed)
        }
        (Err(err), Err(unpushed)) => {
            annotate(&unpushed);
            printer.error(&unpushed);
            Err(err)
        }
        (result, Ok(())) => result,
    }
}

/// Checks that nothing is left unpushed; under CI, pushes again for a bounded time.
pub fn ensure_pushed(
    store: &Store,
    printer: &Printer,
    policy: PushPolicy,
    what: &str,
) -> anyhow::Result<()> {
    let Some(remote) = store.remote_shown() else {
        return Ok(());
    };
    if store.is_offline() {
        let pending = store.unpushed()?;
        if pending > 0 {
            printer.status(&format!(
                "{pending} record commit(s) kept in this clone (--offline); the next relctl \
                 command run without --offline pushes them to {remote}"
            ));
        }
        return Ok(());
    }
    let pending = store.unpushed()?;
    if pending == 0 || !policy.under_ci {
        return Ok(());
    }
    printer.status(&format!(
        "{pending} record commit(s) not pushed to {remote} yet: retrying for up to {} s \
         (CI is set, and this clone may not outlive the job)",
        policy.retry.as_secs()
    ));
    let deadline = Instant::now() + policy.retry;
    let mut pause = Duration::from_secs(1);
    let mut why = None;
    loop {
        let sync = store.sync()?;
        if sync.pending == 0 {
            printer.status(&format!("{what} reached {remote} after retrying"));
            return Ok(());
        }
        why = sync.error.or(why);
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let place = match store.shared_url() {
                Some(url) => format!("the records repository {url}"),
                None => format!("the records remote `{remote}`"),
            };
            let message = format!(
                "{} record commit(s) did not reach {place} after {} s of retrying{}",
                sync.pending,
                policy.retry.as_secs(),
                why.map(|w| format!(": {w}")).unwrap_or_default()
            );
            let push = match store.shared_url() {
                Some(_) => format!(
                    "`git -C {} push origin {}`",
                    store.path().display(),
                    store.branch()
                ),
                None => format!("`git push {remote} {}`", store.branch()),
            };
            return Err(Error::new(Exit::Unpushed, message)
                .with_hint(format!(
                    "the record exists only in this CI workspace; fix the remote (URL, \
                     credentials, branch protection), then push it from here with {push} \
                     or run the job again"
                ))
                .into());
        }
        std::thread::sleep(pause.min(left));
        pause = (pause * 2).min(Duration::from_secs(8));
    }
}

/// After a command that records one event for others to see (approve, reject,
/// unlock): says when it did not reach the remote, and under CI retries as a run does
/// (and annotates the error under GitHub Actions).
pub fn report_one(
    appended: &Appended,
    store: &Store,
    printer: &Printer,
    policy: PushPolicy,
    github: Option<&Actions>,
    what: &str,
) -> anyhow::Result<()> {
    if appended.pushed || store.remote().is_none() {
        return Ok(());
    }
    let remote = store.remote_shown().unwrap_or_else(|| "origin".to_string());
    if !store.is_offline() && !policy.under_ci {
        let why = appended
            .push_error
            .as_deref()
            .map(|w| format!(" ({w})"))
            .unwrap_or_default();
        printer.warn(&format!(
            "{what} is recorded in this clone only: it did not reach `{remote}`{why}; \
             nobody else sees it (a promote waiting elsewhere does not) until a later relctl \
             command here pushes it"
        ));
        return Ok(());
    }
    let pushed = ensure_pushed(store, printer, policy, what);
    if let (Err(err), Some(github)) = (&pushed, github) {
        github.error(&format!("{err:#}"));
    }
    pushed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(vars: &[(&str, &str)]) -> PushPolicy {
        PushPolicy::from_vars(|k| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn ci_is_any_value_but_empty_or_false() {
        assert!(!policy(&[]).under_ci);
        assert!(!policy(&[("CI", "")]).under_ci);
        assert!(!policy(&[("CI", "false")]).under_ci);
        assert!(policy(&[("CI", "true")]).under_ci);
        assert!(policy(&[("CI", "1")]).under_ci);
    }

    #[test]
    fn the_retry_is_30_s_unless_a_duration_is_given() {
        assert_eq!(policy(&[]).retry, Duration::from_secs(30));
        assert_eq!(
            policy(&[("RELCTL_PUSH_RETRY", "2s")]).retry,
            Duration::from_secs(2)
        );
        assert_eq!(
            policy(&[("RELCTL_PUSH_RETRY", "soon")]).retry,
            Duration::from_secs(30)
        );
    }
}
