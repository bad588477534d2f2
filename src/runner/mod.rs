//! The runner: asks the engine what to do next, does it through the providers, and
//! records each event before and after. Every decision is made on a fresh read of the
//! record, so a resumed or concurrent run sees what really happened.

pub mod analysis;
pub mod context;
pub mod incident;
pub mod push;
pub use crate::format::{Author, Header};
pub mod steps;

use std::cell::Cell;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{DateTime, Utc};

use self::context::{Scope, Target};
use self::steps::Tools;
use crate::engine::{self, Decision, EnvFile, EnvRun, EventKind, Inputs, Live, Lock, Rule};
use crate::error::{Error, Exit};
use crate::plan::{Plan, StepKind};
use crate::providers::{Secrets, http::Backoff};
use crate::record::Store;
use crate::ui::Printer;

/// How a run may behave, from the command line.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub targets: Vec<String>,
    pub lifted: Vec<Rule>,
    pub reason: Option<String>,
    pub wait_approval: Option<Duration>,
    pub wait_lock: Option<Duration>,
    /// Ask for approvals in place (a terminal, and prompts allowed).
    pub interactive: bool,
}

pub struct Runner<'a> {
    pub plan: &'a Plan,
    pub printer: &'a Printer,
    pub store: Store,
    pub author: Author,
    pub header: Header,
    pub secrets: Secrets,
    pub opts: Options,
    /// Built at the first call: a run that calls nothing builds none.
    client: std::cell::OnceCell<reqwest::Client>,
    backoff: Backoff,
    push_warned: Cell<bool>,
    /// Notify hooks, told about each recorded event they subscribe to.
    pub notifier: Option<crate::providers::notify::Notifier>,
    /// Groups, annotations, the step summary and outputs under GitHub Actions.
    pub github: Option<crate::ui::github::Actions>,
}

/// How long to sleep between polls of the record (approvals, locks); tests shorten it
/// with a hook.
fn poll_interval() -> Duration {
    crate::hooks::get(crate::hooks::Hook::PollMs)
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(2), Duration::from_millis)
}

/// `--offline`, for every store this process opens.
static OFFLINE: AtomicBool = AtomicBool::new(false);

/// Keep every store of this process off its remote (`--offline`).
pub fn set_offline(offline: bool) {
    OFFLINE.store(offline, Ordering::Relaxed);
}

/// Opens the plan's record store, to record in it.
pub fn open_store(plan: &Plan) -> anyhow::Result<Store> {
    let (dir, branch, remote) = record_place(plan);
    Store::open(&dir, branch, remote)?
        .offline(OFFLINE.load(Ordering::Relaxed))
        .holding_only(crate::format::LAYOUT)
}

/// Opens the plan's record store for a command that only reads it.
pub fn open_store_to_read(plan: &Plan) -> anyhow::Result<Store> {
    let (dir, branch, remote) = record_place(plan);
    Store::open_to_read(&dir, branch, remote)?
        .offline(OFFLINE.load(Ordering::Relaxed))
        .holding_only(crate::format::LAYOUT)
}

/// The repository, branch and remote of the plan's record.
fn record_place(plan: &Plan) -> (std::path::PathBuf, &str, Option<&str>) {
    let base = plan
        .path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    (
        base.join(&plan.record.repo),
        &plan.record.branch,
        plan.record.remote.as_deref(),
    )
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

/// The commit the plan's repository is on (the release's source) and its committer
/// time, which the record keeps so that `report` needs no source repository.
pub fn source_commit(plan: &Plan) -> Option<(String, DateTime<Utc>)> {
    let base = crate::notes::plan_dir(plan);
    let repo = git2::Repository::discover(base).ok()?;
    let commit = repo.head().ok()?.peel_to_commit().ok()?;
    let time = DateTime::from_timestamp(commit.time().seconds(), 0)?;
    Some((commit.id().to_string(), time))
}

impl<'a> Runner<'a> {
    pub fn new(
        plan: &'a Plan,
        printer: &'a Printer,
        store: Store,
        author: Author,
        header: Header,
        secrets: Secrets,
        opts: Options,
    ) -> anyhow::Result<Self> {
        let notifier =
            crate::providers::notify::Notifier::new(plan, store.path(), store.remote(), &secrets);
        Ok(Runner {
            plan,
            printer,
            store,
            author,
            header,
            secrets,
            opts,
            client: std::cell::OnceCell::new(),
            backoff: Backoff::from_env(),
            push_warned: Cell::new(false),
            notifier,
            github: crate::ui::github::Actions::from_env(),
        })
    }

    fn release(&self) -> &str {
        &self.header.release
    }

    /// The HTTP client, ready once the first call needs it.
    fn client(&self) -> anyhow::Result<&reqwest::Client> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let client = crate::providers::http::client().context("building the HTTP client")?;
        Ok(self.client.get_or_init(|| client))
    }

    fn own_target(&self) -> Target {
        let name = self
            .header
            .artifact
            .rsplit_once('@')
            .map_or(self.header.artifact.as_str(), |(n, _)| n)
            .to_string();
        Target {
            release: self.header.release.clone(),
            artifact: self.header.artifact.clone(),
            name,
            digest: self.header.digest.clone(),
            version: self.header.version.clone(),
        }
    }

    /// Pushes what earlier runs left unpushed and fetches what others recorded. A
    /// remote this clone has never reached is an error: a typo'd URL would otherwise
    /// turn every lock into a local one.
    pub fn sync(&self) -> anyhow::Result<()> {
        let sync = self.store.sync()?;
        let Some(error) = sync.error else {
            return Ok(());
        };
        if !self.store.reached()? {
            return Err(push::never_reached(&self.store, &error));
        }
        if !self.push_warned.replace(true) {
            self.printer.warn(&format!(
                "cannot reach the records remote ({error}): deciding from the local record; {} unpushed commit(s) and what this run records stay local until a later command pushes them",
                sync.pending
            ));
        }
        Ok(())
    }

    /// Records one event and prints it.
    pub fn record(
        &self,
        env: Option<&str>,
        kind: EventKind,
        update: &mut dyn FnMut(&mut EnvFile) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let (event, appended) =
            crate::format::record(&self.store, &self.author, &self.header, env, kind, update)?;
        if let Some(github) = &self.github {
            github.event(&event);
        }
        self.printer.event(self.release(), &event)?;
        if let (false, Some(error)) = (appended.pushed, appended.push_error)
            && !self.push_warned.replace(true)
        {
            self.printer.warn(&format!(
                "the record was not pushed ({error}); it stays local and the next command pushes it"
            ));
        }
        self.notify(env, &event, appended.oid);
        Ok(())
    }

    fn note(&self, env: Option<&str>, kind: EventKind) -> anyhow::Result<()> {
        self.record(env, kind, &mut |_| Ok(()))
    }

    /// Drives the release until it is live in every target, or something stops it.
    pub async fn run(&self) -> anyhow::Result<()> {
        let mut approval_deadline: Option<Instant> = None;
        let mut lock_deadline: Option<Instant> = None;
        loop {
            let snapshot = self.store.snapshot()?;
            let release = crate::format::read_release(&snapshot, self.release())?;
            let state = engine::fold(release.as_ref());
            let envs = crate::format::read_envs(
                &snapshot,
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
            if release.is_none()
                && !matches!(
                    decision,
                    Decision::Done | Decision::Blocked { .. } | Decision::Busy { .. }
                )
            {
                self.note(
                    None,
                    EventKind::Started {
                        artifact: self.header.artifact.clone(),
                        digest: self.header.digest.clone(),
                        version: self.header.version.clone(),
                        source_commit: self.header.source_commit.clone(),
                        targets: self.opts.targets.clone(),
                    },
                )?;
                continue;
            }
            match decision {
                Decision::Done => return Ok(()),
                Decision::Blocked { env, rule, reason } => {
                    let hint = match rule {
                        Rule::Freeze => {
                            "to promote anyway: --override-freeze --reason TEXT (recorded)"
                        }
                        _ => "to promote anyway: --force --reason TEXT (recorded with your name)",
                    };
                    return Err(Error::new(
                        Exit::Blocked,
                        format!("{}: cannot enter {env}: {reason}", self.release()),
                    )
                    .with_hint(hint)
                    .into());
                }
                Decision::Busy { env, holder } => {
                    let Some(limit) = self.opts.wait_lock else {
                        return Err(Error::new(Exit::Busy, format!("{env} is locked by {holder}"))
                            .with_hint(format!("wait with --wait-lock, or if that release is gone: relctl unlock --env {env} --reason TEXT"))
                            .into());
                    };
                    let deadline =
                        *lock_deadline.get_or_insert_with(|| crate::duration::deadline(limit));
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
                    tokio::time::sleep(poll_interval()).await;
                    self.sync()?;
                }
                Decision::Enter { env } => {
                    let entered =
                        self.enter(&inputs, &env, envs.get(&env).cloned().unwrap_or_default());
                    if let Err(e) = entered {
                        // Another release entered first (the lock's compare-and-swap
                        // was lost): with --wait-lock that is a lock to wait for, so
                        // read the record again, within the same deadline.
                        let Some(limit) = self.opts.wait_lock else {
                            return Err(e);
                        };
                        let deadline =
                            *lock_deadline.get_or_insert_with(|| crate::duration::deadline(limit));
                        if crate::error::exit_of(&e) != Exit::Busy || Instant::now() >= deadline {
                            return Err(e);
                        }
                        tracing::debug!("lost the race to enter {env}: {e:#}");
                    }
                }
                Decision::Step { env, index } => self.step(&env, index, &state.env(&env)).await?,
                Decision::AwaitApproval {
                    env,
                    step,
                    approval,
                    have,
                } => {
                    let run = state.env(&env);
                    if self.opts.interactive {
                        let allowed = if self.author.actor_source == engine::ActorSource::None {
                            Err(
                                "no identity is known (set git's user.email, or RELCTL_ACTOR)"
                                    .to_string(),
                            )
                        } else {
                            engine::decide::approver_allowed(
                                &approval,
                                &self.author.actor,
                                state.started_by.as_deref(),
                            )
                        };
                        match allowed {
                            Ok(()) => {
                                self.prompt(&env, step, &approval, &have).await?;
                                continue;
                            }
                            // Said once, not on every poll of --wait-approval.
                            Err(why) if run.awaiting != Some(step) => self
                                .printer
                                .warn(&format!("you cannot approve this yourself: {why}")),
                            Err(_) => {}
                        }
                    }
                    if run.awaiting != Some(step) {
                        self.note(Some(&env), EventKind::AwaitingApproval { step })?;
                    }
                    let paused = || {
                        Error::new(
                            Exit::Paused,
                            format!("{} is waiting for approval in {env} ({}/{} so far)", self.release(), have.len(), approval.min),
                        )
                        .with_hint(format!(
                            "an approver runs `relctl approve {} --env {env}`; then `relctl resume {}` continues",
                            self.release(),
                            self.release()
                        ))
                    };
                    let Some(limit) = self.opts.wait_approval else {
                        return Err(paused().into());
                    };
                    let deadline =
                        *approval_deadline.get_or_insert_with(|| crate::duration::deadline(limit));
                    if Instant::now() >= deadline {
                        return Err(paused().into());
                    }
                    let spinner = self.printer.spinner(format!(
                        "{env:<12} awaiting approval ({}/{})",
                        have.len(),
                        approval.min
                    ));
                    tokio::time::sleep(poll_interval()).await;
                    drop(spinner);
                    self.sync()?;
                }
                Decision::MarkLive { env } => self.mark_live(&env)?,
                Decision::RollBack { env, reason } => {
                    return self.roll_back(&env, &state.env(&env), &reason).await;
                }
            }
        }
    }

    fn enter(&self, inputs: &Inputs, env: &str, file: EnvFile) -> anyhow::Result<()> {
        for (rule, why) in engine::decide::blocking_rules(inputs, env) {
            if self.opts.lifted.contains(&rule) {
                let reason = format!(
                    "{why}; {}",
                    self.opts.reason.as_deref().unwrap_or("no reason given")
                );
                self.note(
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
                });
                Ok(())
            },
        )
    }

    fn scope<'s>(
        &'s self,
        env: &'s str,
        target: &'s Target,
        baseline: Option<&'s Live>,
        step: usize,
        weight: u8,
    ) -> Scope<'s> {
        Scope {
            plan: self.plan,
            secrets: &self.secrets,
            env,
            target,
            baseline,
            step,
            weight,
            response: None,
        }
    }

    /// Runs step `index` of `env_name`: an analysis through the analysis runner, any
    /// other step prepared as `relctl plan` shows it (src/runner/steps.rs) and performed.
    async fn step(&self, env_name: &str, index: usize, run: &EnvRun) -> anyhow::Result<()> {
        let env = self
            .plan
            .environment(env_name)
            .context("the plan lost an environment")?;
        let step = &env.steps[index];
        let target = self.own_target();
        let weight = steps::step_weight(env, index);
        let scope = self.scope(env_name, &target, run.baseline.as_ref(), index, weight);
        if let StepKind::Analysis(name) = &step.kind {
            return self
                .analysis_step(env_name, index, &name.raw, run, &scope)
                .await;
        }
        let provider = self.plan.deploy_providers.get(&env.deploy.raw);
        let prepared = steps::prepare(&scope, env, index, provider, self.release())
            .context("the plan lost a deploy provider")?;
        let action = if let StepKind::Deploy { weight: Some(w) } = step.kind {
            format!("{} {w}%", step.kind.name())
        } else {
            step.kind.name().to_string()
        };
        let prepared = match prepared {
            Ok(p) => p,
            Err(e) => return self.step_failed(env_name, index, &action, e),
        };
        let started = match run.in_flight {
            Some((i, at)) if i == index => at,
            _ => {
                let request = steps::describe(&prepared, &scope);
                self.note(
                    Some(env_name),
                    EventKind::Intent {
                        step: index,
                        action: action.clone(),
                        request,
                    },
                )?;
                crate::clock::now()
            }
        };
        let t0 = Instant::now();
        let tools = Tools {
            client: self.client()?,
            backoff: &self.backoff,
        };
        let what = match &step.kind {
            StepKind::Pause(d) => {
                let until = crate::duration::after(started, *d)
                    .map(|t| t.format(" (until %H:%M:%S UTC)").to_string())
                    .unwrap_or_default();
                format!("pause {}{until}", crate::duration::format(*d))
            }
            _ => action.clone(),
        };
        let spinner = self.printer.spinner(format!(
            "{env_name:<12} step {}/{} {what}",
            index + 1,
            env.steps.len()
        ));
        let result = steps::perform(prepared, &scope, provider, &tools, Some(started)).await;
        drop(spinner);
        match result {
            Ok(detail) => self.note(
                Some(env_name),
                EventKind::StepDone {
                    step: index,
                    action,
                    detail,
                    ms: t0.elapsed().as_millis() as u64,
                },
            ),
            Err(e) => self.step_failed(env_name, index, &action, e),
        }
    }

    /// Runs the analysis `name` at step `index`, resumed where it stood if it was under
    /// way, and records how it ended.
    async fn analysis_step(
        &self,
        env_name: &str,
        index: usize,
        name: &str,
        run: &EnvRun,
        scope: &Scope<'_>,
    ) -> anyhow::Result<()> {
        let analysis = self
            .plan
            .analyses
            .get(name)
            .context("the plan lost an analysis")?;
        let started = match run.in_flight {
            Some((i, at)) if i == index => at,
            _ => {
                let request = serde_json::json!({ "analysis": name });
                self.note(
                    Some(env_name),
                    EventKind::Intent {
                        step: index,
                        action: "analysis".into(),
                        request,
                    },
                )?;
                crate::clock::now()
            }
        };
        let recorded = run.measurements.get(&index).cloned().unwrap_or_default();
        let t0 = Instant::now();
        let action = format!("analysis {name}");
        match self
            .analyse(env_name, index, analysis, scope, started, &recorded)
            .await?
        {
            analysis::Ended::Successful(summary) => self.note(
                Some(env_name),
                EventKind::StepDone {
                    step: index,
                    action,
                    detail: serde_json::json!({ "result": summary }),
                    ms: t0.elapsed().as_millis() as u64,
                },
            ),
            analysis::Ended::Failed(reason) => self.step_failed(
                env_name,
                index,
                &action,
                steps::StepError {
                    message: reason,
                    gate: true,
                },
            ),
            analysis::Ended::Inconclusive(reason) => self.inconclusive(env_name, index, reason),
        }
    }

    fn step_failed(
        &self,
        env: &str,
        index: usize,
        action: &str,
        e: steps::StepError,
    ) -> anyhow::Result<()> {
        let error = self.secrets.mask(&e.message);
        self.note(
            Some(env),
            EventKind::StepFailed {
                step: index,
                action: action.to_string(),
                error: error.clone(),
                gate: e.gate,
            },
        )?;
        if e.gate {
            return Ok(()); // the next decision rolls the environment back
        }
        Err(Error::new(
            Exit::Failed,
            format!(
                "{} failed in {env} at step {} ({action}): {error}",
                self.release(),
                index + 1
            ),
        )
        .with_hint(format!(
            "the record says where it stopped; fix the cause and run `relctl resume {}`",
            self.release()
        ))
        .into())
    }

    async fn prompt(
        &self,
        env: &str,
        step: Option<usize>,
        approval: &crate::plan::Approval,
        have: &[String],
    ) -> anyhow::Result<()> {
        let gate = step.map_or_else(
            || format!("into {env}"),
            |s| format!("past step {} in {env}", s + 1),
        );
        let question = format!(
            "Approve {} {gate} as {}? ({}/{} approvals)",
            self.release(),
            self.author.actor,
            have.len(),
            approval.min
        );
        let answer = tokio::task::spawn_blocking(move || {
            dialoguer::Confirm::new()
                .with_prompt(question)
                .default(false)
                .interact()
        })
        .await
        .context("asking for approval")?
        .context("asking for approval")?;
        if answer {
            self.note(
                Some(env),
                EventKind::Approved {
                    step,
                    by: self.author.actor.clone(),
                    comment: None,
                },
            )
        } else {
            self.note(
                Some(env),
                EventKind::Rejected {
                    by: self.author.actor.clone(),
                    reason: "declined at the prompt".into(),
                },
            )
        }
    }

    fn mark_live(&self, env: &str) -> anyhow::Result<()> {
        let target = self.own_target();
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
            // Brought back on purpose (`--force`) and live: a rollback may go back to it.
            f.rejected.retain(|r| *r != release);
            Ok(())
        })
    }

    /// Records that the run was interrupted, where it stood.
    pub fn interrupted(&self) -> anyhow::Result<()> {
        let snapshot = self.store.snapshot()?;
        let Some(file) = crate::format::read_release(&snapshot, self.release())? else {
            // Stopped while waiting for a lock, before anything was recorded.
            return Err(Error::new(
                Exit::Interrupted,
                format!("{} was interrupted before it started", self.release()),
            )
            .with_hint("nothing was recorded; run the same promote again")
            .into());
        };
        let state = engine::fold(Some(&file));
        let (env, step) = match state.current() {
            Some((env, run)) => (Some(env.to_string()), run.in_flight.map(|(s, _)| s)),
            None => (None, None),
        };
        self.note(env.as_deref(), EventKind::Interrupted { step })?;
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

/// Runs a release to its end on a small runtime, turning SIGINT/SIGTERM into an
/// `interrupted` event (exit 130), and prints the final summary.
pub fn drive(runner: &Runner) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = rt.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("listening for SIGTERM")?;
        tokio::select! {
            result = runner.run() => result,
            _ = tokio::signal::ctrl_c() => runner.interrupted(),
            _ = term.recv() => runner.interrupted(),
        }
    });
    let result = push::after_run(
        result,
        &runner.store,
        runner.printer,
        runner.github.as_ref(),
        true,
    );
    runner.summary(&result)?;
    result
}

impl Runner<'_> {
    /// Tells the notify hooks about a recorded event they subscribe to, and records
    /// the notifications that failed so far.
    fn notify(&self, env: Option<&str>, event: &crate::engine::Event, oid: git2::Oid) {
        use crate::providers::notify;
        let Some(notifier) = &self.notifier else {
            return;
        };
        let last = self.opts.targets.last().map(String::as_str);
        if let Some(name) = notify::subscribed(&event.kind, env, last) {
            let target = self.own_target();
            let ctx = self
                .scope(env.unwrap_or_default(), &target, None, 0, 100)
                .value();
            let link = notifier.link(&oid.to_string());
            let message = notify::message(
                event,
                name,
                self.release(),
                &self.plan.app,
                &self.header.version,
                link,
            );
            notifier.send(&ctx, &message);
        }
        self.notify_failed(notifier.failures());
    }

    /// A notification that failed is a `notify_failed` event in the record, never a
    /// failed release; the first failure of each hook in a run is a warning too.
    fn notify_failed(&self, failures: Vec<crate::providers::notify::Failure>) {
        for f in failures {
            if f.first {
                let text = format!(
                    "cannot notify {} of the `{}` event: {}",
                    f.hook, f.event, f.error
                );
                self.printer.warn(&format!(
                    "{text}. The release is not affected; each notification this hook \
                     misses is recorded as `notify_failed`, and this warning is not repeated \
                     in this run"
                ));
                if let Some(github) = &self.github {
                    github.warning(&text);
                }
            }
            let kind = EventKind::NotifyFailed {
                hook: f.hook,
                error: f.error,
            };
            let recorded = crate::format::record(
                &self.store,
                &self.author,
                &self.header,
                f.env.as_deref(),
                kind,
                &mut |_| Ok(()),
            );
            match recorded {
                Ok((event, _)) if self.printer.mode() == crate::ui::OutputMode::Json => {
                    let _ = self.printer.event(self.release(), &event);
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("cannot record the failed notification: {e:#}"),
            }
        }
    }

    /// Ends a run for its hooks: waits for the notifications still being sent (and
    /// records those that failed), then writes the GitHub Actions summary and outputs.
    /// `rows` replaces the environments' lines read from the record.
    pub fn conclude(
        &self,
        outcome: &str,
        error: Option<&anyhow::Error>,
        rows: Option<Vec<crate::ui::github::Row>>,
    ) {
        if let Some(notifier) = &self.notifier {
            let wait = if outcome == "interrupted" {
                Duration::from_secs(2)
            } else {
                crate::providers::notify::FLUSH
            };
            self.notify_failed(notifier.finish(wait));
        }
        let Some(github) = &self.github else {
            return;
        };
        let file = self
            .store
            .snapshot()
            .and_then(|s| crate::format::read_release(&s, self.release()))
            .ok()
            .flatten();
        let rows = rows.unwrap_or_else(|| {
            file.as_ref()
                .map(|f| crate::ui::github::rows(f, &self.opts.targets, crate::clock::now()))
                .unwrap_or_default()
        });
        let summary = crate::ui::github::Summary {
            release: self.release(),
            version: &self.header.version,
            outcome,
            rows,
            error: error.map(|e| format!("{e:#}")),
            notes: file.as_ref().and_then(|f| f.notes.as_deref()),
        };
        if let Err(e) = github.finish(&summary) {
            self.printer
                .warn(&format!("cannot write the GitHub Actions summary: {e:#}"));
        }
    }

    fn summary(&self, result: &anyhow::Result<()>) -> anyhow::Result<()> {
        let outcome = match result {
            Ok(()) => "promoted",
            Err(e) => match crate::error::exit_of(e) {
                Exit::Rejected => "rejected",
                Exit::Paused => "paused",
                Exit::Busy => "busy",
                Exit::Blocked => "blocked",
                Exit::Interrupted => "interrupted",
                Exit::Unpushed => "unpushed",
                Exit::Usage => "invalid",
                Exit::Failed | Exit::Success => "failed",
            },
        };
        self.conclude(outcome, result.as_ref().err(), None);
        if self.printer.mode() == crate::ui::OutputMode::Json {
            let exit = result
                .as_ref()
                .err()
                .map_or(0, |e| crate::error::exit_of(e).code());
            return self.printer.stream(&serde_json::json!({
                "summary": true,
                "release": self.release(),
                "outcome": outcome,
                "exit": exit,
                "targets": self.opts.targets,
            }));
        }
        if result.is_ok() {
            self.printer.status(&format!(
                "{} is live in {}",
                self.release(),
                self.opts.targets.join(", ")
            ));
        }
        Ok(())
    }
}
