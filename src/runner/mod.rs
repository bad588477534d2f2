//! The runner: asks the engine what to do next, does it through the providers, and
//! records each event before and after. Every decision is made on a fresh read of the
//! record, so a resumed or concurrent run sees what really happened.
//!
//! `drive.rs` runs the decision loop, `approval.rs` waits at a gate, `run_step.rs`
//! runs one step, `incident.rs` rolls back, `flags.rs` switches flags and puts them back, `report.rs` tells the hooks, GitHub
//! Actions and the terminal how it went;
//! `surroundings.rs` is what the process environment says, read once; `open.rs`
//! opens the plan's record; `steps.rs` prepares and performs a step through the
//! providers, `analysis.rs` an analysis; `context.rs` is what templates see;
//! `push.rs` what a run does about an unpushed record; `claim.rs` which run holds an
//! environment; `waves.rs` runs an environment's
//! targets wave by wave and `targets.rs` rolls them back.

pub mod analysis;
mod approval;
pub mod budget;
mod claim;
pub mod context;
mod drive;
mod flags;
pub mod incident;
mod open;
pub mod push;
mod report;
mod run_step;
pub mod steps;
mod surroundings;
mod targets;
pub mod turn;
mod waves;

pub use crate::format::{Author, Header};
pub use drive::{drive, lift_hint};
pub use open::{open_records_to_read, open_store, open_store_to_read, set_offline, source_commit};
pub use surroundings::{Surroundings, ci_link, push_policy};

use std::cell::Cell;
use std::time::Duration;

use anyhow::Context as _;

use self::context::{Deployable, Scope};
use crate::engine::{EnvFile, EventKind, Live, Rule};
use crate::plan::Plan;
use crate::providers::{Secrets, http::RetryDelay};
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
    /// Wait (up to this long) for a closed deployment window to open instead of exit 6.
    pub wait_window: Option<Duration>,
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
    backoff: RetryDelay,
    /// How long to sleep between polls of the record (approvals, locks).
    poll: Duration,
    push_warned: Cell<bool>,
    /// Notify hooks, told about each recorded event they subscribe to.
    pub notifier: Option<crate::providers::notify::Notifier>,
    /// Groups, annotations, the step summary and outputs under GitHub Actions.
    pub github: Option<crate::ui::github::Actions>,
    /// Under CI, a record left unpushed is an error after a bounded retry.
    pub push: push::PushPolicy,
    /// This run's name in the locks its release holds.
    claim: claim::Claim,
    /// A sync made just before the run, which its first `sync` goes on from.
    caught_up: std::cell::RefCell<Option<anyhow::Result<crate::record::Sync>>>,
}

impl<'a> Runner<'a> {
    pub fn new(
        plan: &'a Plan,
        printer: &'a Printer,
        store: Store,
        author: Author,
        header: Header,
        opts: Options,
        surroundings: Surroundings,
    ) -> anyhow::Result<Self> {
        let secrets = surroundings.secrets;
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
            backoff: surroundings.backoff,
            poll: surroundings.poll,
            push_warned: Cell::new(false),
            notifier,
            github: surroundings.github,
            push: surroundings.push,
            claim: claim::Claim::new(),
            caught_up: std::cell::RefCell::new(None),
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

    /// relctl deploys only the plan's artifact: `artifact`, which the record gives
    /// `release` in the file `from` names, must be one (format::check_artifact).
    fn check_artifact(
        &self,
        release: &str,
        artifact: &str,
        from: &dyn Fn(&crate::record::Snapshot) -> anyhow::Result<String>,
    ) -> anyhow::Result<()> {
        if crate::format::is_named(artifact, &self.plan.artifact_name) {
            return Ok(());
        }
        let snapshot = self.store.snapshot()?;
        let path = from(&snapshot)?;
        crate::format::check_artifact(
            &snapshot,
            &path,
            release,
            artifact,
            &self.plan.artifact_name,
        )
    }

    /// `live`, read from the environment file `from` names, must be the plan's artifact
    /// and agree with its release's own file (format::check_entry).
    fn check_live(
        &self,
        live: &crate::engine::Live,
        from: &dyn Fn(&crate::record::Snapshot) -> anyhow::Result<String>,
    ) -> anyhow::Result<()> {
        self.check_artifact(&live.release, &live.artifact, from)?;
        let snapshot = self.store.snapshot()?;
        let path = from(&snapshot)?;
        crate::format::check_entry(&snapshot, &path, &self.header.app, live)
    }

    fn own_deployable(&self) -> Deployable {
        let name = self
            .header
            .artifact
            .rsplit_once('@')
            .map_or(self.header.artifact.as_str(), |(n, _)| n)
            .to_string();
        Deployable {
            release: self.header.release.clone(),
            artifact: self.header.artifact.clone(),
            name,
            digest: self.header.digest.clone(),
            version: self.header.version.clone(),
        }
    }

    /// The command synced the store just before the run (`promote`, to know what the
    /// release is): the run's first `sync` is that one, not a second round trip.
    pub fn caught_up(&self, synced: anyhow::Result<crate::record::Sync>) {
        *self.caught_up.borrow_mut() = Some(synced);
    }

    /// Pushes what earlier runs left unpushed and fetches what others recorded. A
    /// remote this clone has never reached is an error: a typo'd URL would otherwise
    /// turn every lock into a local one.
    pub fn sync(&self) -> anyhow::Result<()> {
        let caught_up = self.caught_up.borrow_mut().take();
        let sync = match caught_up {
            Some(synced) => synced?,
            None => self.store.sync()?,
        };
        let Some(error) = sync.error else {
            return Ok(());
        };
        if !self.store.reached()? {
            return Err(push::never_reached(&self.store, &error));
        }
        if !self.push_warned.replace(true) {
            self.printer.warn(&format!(
                "{error}; deciding from the local record: {} unpushed commit(s) and what this run records stay local until a later command pushes them",
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
        self.record_in((env, None), kind, update)
    }

    /// `record`, for an event about one target of an environment.
    pub(crate) fn record_in(
        &self,
        (env, target): (Option<&str>, Option<&str>),
        kind: EventKind,
        update: &mut dyn FnMut(&mut EnvFile) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let release = self.release().to_string();
        let actor = self.author.actor.clone();
        let named = Cell::new(false);
        let mut claiming = |f: &mut EnvFile| {
            if let Some(lost) = self.claim.lost(&release, &kind, f) {
                return Err(lost.into());
            }
            let before = f.lock.clone();
            update(f)?;
            named.set(
                self.claim
                    .take(&release, &actor, (&kind, before.as_ref()), f),
            );
            Ok(())
        };
        let recorded = crate::format::record_at(
            &self.store,
            &self.author,
            &self.header,
            (env, target),
            kind.clone(),
            &mut claiming,
        );
        let (event, appended) = match recorded {
            Err(err) => return Err(self.taken_over_by(err)),
            Ok(recorded) => recorded,
        };
        self.claim.recorded(event.at, named.get());
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

    /// Records one event that changes no environment file, and prints it.
    fn record_event(&self, env: Option<&str>, kind: EventKind) -> anyhow::Result<()> {
        self.record(env, kind, &mut |_| Ok(()))
    }

    /// Records one event of a step in `env`, for `target` when it has targets.
    fn record_step(&self, env: &str, target: Option<&str>, kind: EventKind) -> anyhow::Result<()> {
        self.record_in((Some(env), target), kind, &mut |_| Ok(()))
    }

    fn scope<'s>(
        &'s self,
        env: &'s str,
        target: &'s Deployable,
        baseline: Option<&'s Live>,
        step: usize,
        weight: u8,
        place: Option<&'s crate::plan::Target>,
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
            place,
        }
    }
}
