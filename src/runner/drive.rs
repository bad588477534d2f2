//! The decision loop: read the record, ask the engine for the next decision, act on
//! it, until the release is live everywhere or something stops it; and the small
//! runtime that turns SIGINT/SIGTERM into an `interrupted` event.

use std::time::Instant;

use anyhow::Context as _;

use crate::engine::{self, Decision, EnvFile, Event, EventKind, Inputs, Live, Lock, Rule};
use crate::error::{Error, Exit};

use super::{Runner, push};

impl Runner<'_> {
    /// Drives the release until it is live in every target, or something stops it.
    /// One function on purpose: each turn reads the record once, asks the engine for one
    /// decision and acts on it, and the checks before acting (taken over, recorded at
    /// all, extended) must stay in this order where a reader sees it whole.
    pub async fn run(&self) -> anyhow::Result<()> {
        self.only_the_plans_artifact()?;
        self.claim.drive();
        let mut approval_deadline: Option<Instant> = None;
        let mut lock_deadline: Option<Instant> = None;
        let mut window_deadline: Option<Instant> = None;
        // How many events the record held when this run began.
        let mut seen: Option<usize> = None;
        // The approvals a signed gate refused that this run has said so about.
        let mut told = std::collections::BTreeSet::new();
        loop {
            let snapshot = self.store.snapshot()?;
            let release = crate::format::read_release(&snapshot, &self.header.app, self.release())?;
            let events = release.as_ref().map_or(&[][..], |f| f.events.as_slice());
            let seen = *seen.get_or_insert(events.len());
            if let Some(taken) = self.taken_over(events.get(seen..).unwrap_or_default()) {
                return Err(taken);
            }
            let state = match &release {
                Some(file) if crate::trust::required(self.plan) => {
                    let (state, verdicts) = crate::trust::state(&self.store, self.plan, file)?;
                    self.tell_refused(&verdicts, &mut told);
                    // Going on from an environment the record says it went live in
                    // needs that to have been through its signed gates (docs/trust.md).
                    let unapproved = crate::went_live::live_unapproved(self.plan, file, &verdicts);
                    if let Some((env, why)) = unapproved.first() {
                        return Err(self.live_unapproved(file, env, why));
                    }
                    state
                }
                _ => engine::fold(release.as_ref()),
            };
            let envs = crate::format::read_envs(
                &snapshot,
                &self.header.app,
                self.plan.environments.iter().map(|e| e.name.as_str()),
            )?;
            let inputs = Inputs {
                plan: self.plan,
                release: self.release(),
                state: &state,
                envs: &envs,
                targets: &self.opts.targets,
                now: crate::clock::now(),
                lifted: &self.opts.lifted,
            };
            let decision = engine::next(&inputs);
            tracing::debug!(?decision, "next");
            // A release is recorded once it acts: a promote refused by a gate or a lock
            // leaves the record as it found it.
            let acts = !matches!(
                decision,
                Decision::Done | Decision::Blocked { .. } | Decision::Busy { .. }
            );
            if acts && release.is_none() {
                // Another run may have started it meanwhile: then decide on its record.
                match self.record_started() {
                    Err(e)
                        if e.downcast_ref::<crate::format::StartedMeanwhile>()
                            .is_some() => {}
                    started => started?,
                }
                continue;
            }
            // Asked to go further than the record says: recorded, so that `resume`
            // continues to the furthest target any promote asked for.
            if acts && let Some(targets) = self.further(&state.targets) {
                self.record_event(None, EventKind::Extended { targets })?;
                continue;
            }
            // Acting where another run of the release was (one that died, or one still
            // going elsewhere): the record says so first, and that run stops at its next
            // record (src/runner/claim.rs).
            let acting_in = match &decision {
                Decision::Step { env, .. }
                | Decision::Wave { env, .. }
                | Decision::MarkLive { env }
                | Decision::RollBack { env, .. } => Some(env.as_str()),
                _ => None,
            };
            if let Some(env) = acting_in
                && let Some(run) = self.claim.to_take_over(self.release(), envs.get(env))
            {
                self.again(self.record_event(Some(env), EventKind::TakenOver { run }))?;
                continue;
            }
            match decision {
                Decision::Done => return Ok(()),
                Decision::Blocked { env, rule, reason } => {
                    self.wait_for_window(&env, rule, &reason, &mut window_deadline)
                        .await?;
                }
                Decision::Busy { env, holder, other } => {
                    self.wait_for_lock(&env, (&holder, other.as_deref()), &mut lock_deadline)
                        .await?;
                }
                Decision::Enter { env } => {
                    self.check_budget(&env).await?;
                    let file = envs.get(&env).cloned().unwrap_or_default();
                    if let Err(e) = self.enter(&inputs, &env, file) {
                        self.lost_the_race(e, &env, &mut lock_deadline)?;
                    }
                }
                Decision::Step { env, index } => {
                    if index == 0 {
                        self.check_budget_after_approval(&env).await?;
                    }
                    self.again(self.step(&env, index, &state.env(&env), None).await)?
                }
                Decision::Wave {
                    env,
                    wave,
                    not_before,
                } => {
                    if wave == 0 {
                        self.check_budget_after_approval(&env).await?;
                    }
                    self.again(self.wave(&env, wave, not_before, &state.env(&env)).await)?
                }
                Decision::AwaitApproval {
                    env,
                    step,
                    approval,
                    have,
                } => {
                    let gate = super::approval::Gate {
                        env: &env,
                        step,
                        approval: &approval,
                        have: &have,
                    };
                    let waited = self.await_approval(&gate, &state, &mut approval_deadline);
                    self.again(waited.await)?;
                }
                Decision::MarkLive { env } => self.again(self.mark_live(&env, &state.env(&env)))?,
                Decision::RollBack { env, reason } => {
                    return self.roll_back(&env, &state.env(&env), &reason).await;
                }
            }
        }
    }

    /// The release's record says it went live in `env` without the approvals its signed
    /// gates count: nothing more is done (exit 1).
    fn live_unapproved(&self, file: &engine::ReleaseFile, env: &str, why: &str) -> anyhow::Error {
        let branch = self.store.branch();
        Error::new(
            Exit::Failed,
            format!(
                "the record of {} says it went live in {env}, but {env} has a signed gate and {why}; nothing was deployed",
                file.release
            ),
        )
        .with_hint(format!(
            "its record was changed outside relctl: `relctl verify {}` and `git log -p {branch}` show what",
            file.release
        ))
        .into()
    }

    /// Says once why each approval a signed gate does not count was refused.
    fn tell_refused(
        &self,
        verdicts: &[crate::trust::Verdict],
        told: &mut std::collections::BTreeSet<usize>,
    ) {
        for verdict in verdicts {
            if let Some(why) = &verdict.refused
                && told.insert(verdict.index)
            {
                self.printer.warn(&verdict.refused_line(why));
            }
        }
    }

    /// The release's first event: what it is and where it is going.
    fn record_started(&self) -> anyhow::Result<()> {
        if crate::trust::required(self.plan) && !self.store.signs() {
            self.printer
                .warn(&crate::trust::unsigned_start(&self.header.release));
        }
        self.record_event(
            None,
            EventKind::Started {
                artifact: self.header.artifact.clone(),
                digest: self.header.digest.clone(),
                version: self.header.version.clone(),
                source_commit: self.header.source_commit.clone(),
                targets: self.opts.targets.clone(),
            },
        )
    }

    /// Every environment the release is to reach when this run asks for more than
    /// `recorded`, in the plan's order; `None` when it asks for nothing new.
    fn further(&self, recorded: &[String]) -> Option<Vec<String>> {
        if self.opts.targets.iter().all(|t| recorded.contains(t)) {
            return None;
        }
        Some(
            self.plan
                .environments
                .iter()
                .map(|e| &e.name)
                .filter(|name| recorded.contains(name) || self.opts.targets.contains(name))
                .cloned()
                .collect(),
        )
    }

    /// Someone else rolled back or aborted this release while this run was under way
    /// (`since` are the events recorded since it began; this loop records neither):
    /// exit 3, saying who and when, instead of carrying on or reading it as a policy.
    /// A record this run tried to make found that another run of the release took its
    /// lock over, or went on without it (src/runner/claim.rs): said as `taken_over` says
    /// it when that run was a rollback or an abort, else exit 5. Any other error is
    /// returned as it is.
    pub(super) fn taken_over_by(&self, err: anyhow::Error) -> anyhow::Error {
        let Some(lost) = err.downcast_ref::<super::claim::Lost>() else {
            return err;
        };
        // A run that never held the lock decided on a view that is gone: the decision
        // loop reads the record again (`again`).
        if !self.claim.held() {
            return err;
        }
        let since = self.claim.last_recorded();
        let incident = (self.store.snapshot().ok())
            .and_then(|s| crate::format::read_release(&s, &self.header.app, self.release()).ok())
            .flatten()
            .and_then(|file| {
                let later: Vec<Event> = (file.events.into_iter())
                    .filter(|e| since.is_none_or(|t| e.at >= t))
                    .collect();
                self.taken_over(&later)
            });
        incident.unwrap_or_else(|| {
            Error::new(
                Exit::Busy,
                format!(
                    "{}: {lost}; this run stopped without acting further",
                    self.release()
                ),
            )
            .with_hint(
                "the other run goes on from where this one was (the release was being driven \
                 from two places at once); `relctl status` shows where each environment stands",
            )
            .into()
        })
    }

    /// `acted`, except that a run that never held its release's lock and found its view
    /// of an environment gone (another run of the release went on there) goes on: the
    /// loop reads the record again and decides on what is there now.
    fn again(&self, acted: anyhow::Result<()>) -> anyhow::Result<()> {
        match acted {
            Err(err) if err.downcast_ref::<super::claim::Lost>().is_some() => {
                if self.claim.gone() > GONE_RETRIES {
                    return Err(Error::new(
                        Exit::Busy,
                        format!(
                            "{}: {err}, and kept going on there while this run decided",
                            self.release()
                        ),
                    )
                    .with_hint("`relctl status` shows where each environment stands")
                    .into());
                }
                tracing::debug!(%err, "another run of the release went on: deciding again");
                Ok(())
            }
            acted => acted,
        }
    }

    fn taken_over(&self, since: &[Event]) -> Option<anyhow::Error> {
        // The first of them says what the other person did: `abort` records `aborted`
        // before it rolls back, `rollback` starts rolling back before it marks a
        // release under way aborted.
        // A target's own rollback is this run's (`on_target_failure: continue`).
        let event = since.iter().find(|e| {
            e.target.is_none()
                && matches!(
                    e.kind,
                    EventKind::Aborted { .. }
                        | EventKind::RollbackStarted { .. }
                        | EventKind::RolledBack { .. }
                )
        })?;
        let what = match (&event.kind, event.env.as_deref()) {
            (EventKind::Aborted { reason }, _) if reason.is_empty() => "aborted".to_string(),
            (EventKind::Aborted { reason }, _) => format!("aborted ({reason})"),
            (EventKind::RollbackStarted { reason }, Some(env))
            | (EventKind::RolledBack { reason, .. }, Some(env)) => {
                format!("rolled back in {env} ({reason})")
            }
            _ => "rolled back".to_string(),
        };
        Some(
            Error::new(
                Exit::Rejected,
                format!(
                    "{}: this run was taken over: {what} by {} at {}",
                    self.release(),
                    event.actor,
                    event.at.format("%Y-%m-%d %H:%M:%SZ")
                ),
            )
            .with_hint("this run stopped without acting further; `relctl status` shows where each environment stands, `relctl history` what happened")
            .into(),
        )
    }

    /// A policy that says no: exit 6, with how to lift it.
    pub(super) fn blocked(&self, env: &str, rule: Rule, reason: &str) -> anyhow::Error {
        let hint = match rule {
            Rule::Replaced => format!(
                "`relctl rollback --env {env} --to {}` puts it back; {}",
                self.release(),
                lift_hint(rule)
            ),
            _ => lift_hint(rule).to_string(),
        };
        Error::new(
            Exit::Blocked,
            format!("{}: cannot enter {env}: {reason}", self.release()),
        )
        .with_hint(hint)
        .into()
    }

    /// A policy said no: exit 6, or, when it is a closed deployment window and
    /// `--wait-window` was given, one poll of the record and the clock within its deadline.
    async fn wait_for_window(
        &self,
        env: &str,
        rule: Rule,
        reason: &str,
        deadline: &mut Option<Instant>,
    ) -> anyhow::Result<()> {
        let limit = match self.opts.wait_window {
            Some(limit) if matches!(rule, Rule::Window | Rule::Freeze) => limit,
            _ => return Err(self.blocked(env, rule, reason)),
        };
        let deadline = *deadline.get_or_insert_with(|| {
            self.printer.status(&format!(
                "{reason}; waiting for it to open (up to {})",
                crate::duration::format(limit)
            ));
            crate::duration::deadline(limit)
        });
        if Instant::now() >= deadline {
            return Err(Error::new(
                Exit::Blocked,
                format!(
                    "{}: cannot enter {env}: {reason} (still closed after {})",
                    self.release(),
                    crate::duration::format(limit)
                ),
            )
            .into());
        }
        tokio::time::sleep(self.poll).await;
        self.sync()
    }

    /// Another release holds `env`: exit 5, or with `--wait-lock` one poll of the
    /// record within its deadline.
    async fn wait_for_lock(
        &self,
        env: &str,
        (holder, other): (&str, Option<&str>),
        deadline: &mut Option<Instant>,
    ) -> anyhow::Result<()> {
        let Some(limit) = self.opts.wait_lock else {
            // Another release's lock: what its people do with it. This release's own
            // rollback that has not finished: `holder` says how to take it over.
            let hint = match other {
                Some(other) => format!(
                    "wait with --wait-lock; a release paused or failed there goes on with \
                     `relctl resume {other}` or ends with `relctl abort {other}` \
                     (`relctl status` shows which); only if no relctl runs it any more: \
                     `relctl unlock --env {env} --reason TEXT`"
                ),
                None => "wait with --wait-lock for that rollback to finish; \
                         `relctl status` shows it"
                    .to_string(),
            };
            return Err(
                Error::new(Exit::Busy, format!("{env} is locked by {holder}"))
                    .with_hint(hint)
                    .into(),
            );
        };
        let deadline = *deadline.get_or_insert_with(|| crate::duration::deadline(limit));
        if Instant::now() >= deadline {
            return Err(Error::new(
                Exit::Busy,
                format!(
                    "{env} is still locked by {holder} after {}",
                    crate::duration::format(limit)
                ),
            )
            .into());
        }
        tokio::time::sleep(self.poll).await;
        self.sync()
    }

    /// Entering failed. Another release entered first (the lock's compare-and-swap
    /// was lost): with --wait-lock that is a lock to wait for, so the loop reads the
    /// record again, within the same deadline. Anything else is the run's error.
    fn lost_the_race(
        &self,
        e: anyhow::Error,
        env: &str,
        deadline: &mut Option<Instant>,
    ) -> anyhow::Result<()> {
        let Some(limit) = self.opts.wait_lock else {
            return Err(e);
        };
        let deadline = *deadline.get_or_insert_with(|| crate::duration::deadline(limit));
        if crate::error::exit_of(&e) != Exit::Busy || Instant::now() >= deadline {
            return Err(e);
        }
        tracing::debug!("lost the race to enter {env}: {e:#}");
        Ok(())
    }

    fn enter(&self, inputs: &Inputs, env: &str, file: EnvFile) -> anyhow::Result<()> {
        for (rule, why) in engine::decide::blocking_rules(inputs, env) {
            if self.opts.lifted.contains(&rule) {
                let reason = format!(
                    "{why}; {}",
                    self.opts.reason.as_deref().unwrap_or("no reason given")
                );
                self.record_event(
                    Some(env),
                    EventKind::Overridden {
                        rule: rule.name().into(),
                        reason,
                    },
                )?;
            }
        }
        let release = self.release().to_string();
        let actor = self.author.actor.clone();
        let baseline = file.live.clone();
        if let Some(live) = &baseline {
            let app = &self.header.app;
            self.check_live(live, &|s| crate::format::env_file(s, app, env))?;
        }
        self.record(
            Some(env),
            EventKind::Entered {
                baseline: baseline.clone(),
            },
            &mut |f| {
                if let Some(lock) = f.lock.as_ref().filter(|l| l.release != release) {
                    return Err(Error::new(
                        Exit::Busy,
                        format!(
                            "{} is locked by {} (by {})",
                            f.environment, lock.release, lock.by
                        ),
                    )
                    .into());
                }
                if f.live != baseline {
                    return Err(Error::new(
                        Exit::Busy,
                        format!("{} changed while we entered it; run again", f.environment),
                    )
                    .into());
                }
                f.lock = Some(Lock {
                    release: release.clone(),
                    by: actor.clone(),
                    since: crate::clock::now(),
                    run: None,
                });
                Ok(())
            },
        )
    }

    fn mark_live(&self, env: &str, run: &engine::EnvRun) -> anyhow::Result<()> {
        // Targets left behind by `on_target_failure: continue` (not those that ran the
        // release on a visit before this one).
        let targets = self.plan.environment(env).map(|e| e.targets.as_slice());
        let file = crate::format::read_env(&self.store.snapshot()?, &self.header.app, env)?;
        let not_live: Vec<String> = targets
            .unwrap_or_default()
            .iter()
            .filter(|t| {
                run.targets.get(&t.name).and_then(|t| t.outcome) != Some(engine::Outcome::Live)
                    && !crate::format::targets::runs_already(&file, &t.name, self.release())
            })
            .map(|t| t.name.clone())
            .collect();
        self.dropped(env, run, targets.unwrap_or_default())?;
        if !not_live.is_empty() {
            self.printer.warn(&format!(
                "{} is live in {env} but not in its targets {} (on_target_failure: continue)",
                self.release(),
                not_live.join(", ")
            ));
        }
        let target = self.own_deployable();
        let release = self.release().to_string();
        let actor = self.author.actor.clone();
        self.record(Some(env), EventKind::Live, &mut |f| {
            if let Some(old) = f.live.take()
                && old.release != release
            {
                f.push_previous(old);
            }
            f.live = Some(Live {
                release: release.clone(),
                by: actor.clone(),
                artifact: target.artifact.clone(),
                digest: target.digest.clone(),
                version: target.version.clone(),
                since: crate::clock::now(),
            });
            f.lock = None;
            f.rolled_back = None;
            f.targets_not_live = not_live.clone();
            // Brought back on purpose (`--force`) and live: a rollback may go back to it.
            f.rejected.retain(|r| *r != release);
            Ok(())
        })
    }

    /// Targets this visit acted on that the plan no longer lists (removed while the
    /// release was under way): said, and recorded as `target_dropped`, before the
    /// environment is marked live without them; the environment file forgets them.
    fn dropped(
        &self,
        env: &str,
        run: &engine::EnvRun,
        targets: &[crate::plan::Target],
    ) -> anyhow::Result<()> {
        let gone: Vec<&String> = run
            .targets
            .keys()
            .filter(|name| !targets.iter().any(|t| &t.name == *name))
            .collect();
        for name in gone {
            self.printer.warn(&format!(
                "{env}/{name} is no longer in the plan: {} goes live in {env} without it (it runs what its last deploy left)",
                self.release()
            ));
            self.record_in(
                (Some(env), Some(name)),
                EventKind::TargetDropped {
                    reason: "removed from the plan while the release was under way".into(),
                },
                &mut |f| {
                    f.targets.remove(name.as_str());
                    f.targets_not_live.retain(|t| t != name);
                    Ok(())
                },
            )?;
        }
        Ok(())
    }

    /// Records that the run was interrupted, where it stood.
    pub fn interrupted(&self) -> anyhow::Result<()> {
        let snapshot = self.store.snapshot()?;
        let Some(file) = crate::format::read_release(&snapshot, &self.header.app, self.release())?
        else {
            // Stopped while waiting for a lock, before anything was recorded.
            return Err(Error::new(
                Exit::Interrupted,
                format!("{} was interrupted before it started", self.release()),
            )
            .with_hint("nothing was recorded; run the same promote again")
            .into());
        };
        let state = engine::fold(Some(&file));
        // Stopped while waiting to go further than the record says (`--wait-window`
        // into the next environment): the request is recorded, so resume goes on.
        if let Some(targets) = self.further(&state.targets) {
            self.record_event(None, EventKind::Extended { targets })?;
        }
        let (env, step) = match state.current() {
            Some((env, run)) => (Some(env.to_string()), run.in_flight.map(|(s, _)| s)),
            None => (None, None),
        };
        self.record_event(env.as_deref(), EventKind::Interrupted { step })?;
        Err(Error::new(
            Exit::Interrupted,
            format!("{} was interrupted", self.release()),
        )
        .with_hint(format!(
            "`relctl resume {}` continues from the record",
            self.release()
        ))
        .into())
    }
}

impl Runner<'_> {
    /// Before anything is recorded: the release and what is live where it goes must be
    /// the plan's artifact (a plan that claims another plan's `app` stops here, naming
    /// the file, instead of after it has started or taken a lock; README, "The record").
    fn only_the_plans_artifact(&self) -> anyhow::Result<()> {
        let (app, release) = (&self.header.app, self.release());
        self.check_artifact(release, &self.header.artifact, &|s| {
            crate::format::release_file(s, app, release)
        })?;
        let snapshot = self.store.snapshot()?;
        let header = &self.header;
        crate::format::check_own(&snapshot, app, release, &header.artifact, &header.digest)?;
        let envs =
            crate::format::read_envs(&snapshot, app, self.opts.targets.iter().map(String::as_str))?;
        for (env, file) in &envs {
            if let Some(live) = &file.live {
                self.check_live(live, &|s| crate::format::env_file(s, app, env))?;
            }
        }
        Ok(())
    }
}

/// How a rule that blocked a promotion is lifted (or waited for).
pub fn lift_hint(rule: Rule) -> &'static str {
    match rule {
        Rule::Freeze => "to promote anyway: --override-freeze --reason TEXT (recorded)",
        Rule::Window => {
            "wait for it to open with --wait-window; to promote anyway: --override-freeze --reason TEXT (recorded)"
        }
        _ => "to promote anyway: --force --reason TEXT (recorded with your name)",
    }
}

/// Runs a release to its end on a small runtime, turning SIGINT/SIGTERM into an
/// `interrupted` event (exit 130), and prints the final summary.
pub fn drive(runner: &Runner) -> anyhow::Result<()> {
    let _turn = driving_alone(runner)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = rt.block_on(async {
        // Both handlers are in place before the run takes its first step, so a Ctrl-C
        // that comes while it decides is recorded, never the default death.
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("listening for SIGTERM")?;
        let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
            .context("listening for SIGINT")?;
        // Catching up with the records remote comes first, inside the run: what stops
        // it (a remote never reached, an app held apart) ends with the summary too.
        let run = async {
            runner.sync()?;
            runner.run().await
        };
        tokio::select! {
            result = run => match result {
                // Stopped by a signal that the run saw first: at the approval prompt,
                // or while it waited for the records remote, which is not asked again
                // (where the run stood is recorded in this clone).
                Err(err) if crate::error::exit_of(&err) == Exit::Interrupted => {
                    if crate::record::signalled_while_waiting() {
                        runner.store.keep_local("interrupted while waiting for the records remote");
                    }
                    runner.interrupted()
                }
                result => result,
            },
            _ = int.recv() => runner.interrupted(),
            _ = term.recv() => runner.interrupted(),
        }
    });
    let result = push::after_run(
        result,
        &runner.store,
        runner.printer,
        runner.github.as_ref(),
        runner.push,
        true,
    );
    runner.finish(&result)?;
    result
}

/// One process at a time drives a release from one repository: a second `promote` or
/// `resume` of a release that another relctl here is driving (deploying, waiting for a
/// gate) stops with exit 5 before it acts. The turn is the kernel's, so a process that
/// died (kill -9, a closed laptop) gives it back and `resume` continues at once.
fn driving_alone(runner: &Runner) -> anyhow::Result<Option<std::fs::File>> {
    let release = runner.release();
    match super::turn::Turn::try_take(&runner.store, &format!("relctl-run-{release}.lock")) {
        super::turn::Turn::Taken(file) => Ok(Some(file)),
        super::turn::Turn::Unavailable => Ok(None),
        super::turn::Turn::Busy(_) => Err(Error::new(
            Exit::Busy,
            format!("{release} is being driven by another relctl from this repository"),
        )
        .with_hint(format!(
            "let that one finish (`relctl status` shows where it stands); once it has ended, \
             `relctl resume {release}` continues from the record"
        ))
        .into()),
    }
}

/// How many decisions in a row a run may find gone before it stops (`again`): each one
/// means another run of the release recorded meanwhile, and that run is driving it.
const GONE_RETRIES: u32 = 20;
