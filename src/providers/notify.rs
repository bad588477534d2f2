//! Notify hooks: each recorded event a hook subscribes to is POSTed to it as JSON (or as
//! Slack's `{"text": …}`) by a worker thread, in order, so a slow hook never holds a
//! release up. A hook that cannot be told is a warning, never a failure.

use std::cell::RefCell;
use std::collections::{BTreeSet, VecDeque};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};

use super::http::{self, Call, RetryDelay};
use super::secrets::Secrets;
use crate::engine::{Event, EventKind};
use crate::forge::{self, Forge};
use crate::plan::template::{self, Landing};
use crate::plan::{Notify, NotifyFormat, Plan, StepAction};

/// The longest one attempt may take; one retry at most.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// How long a command waits at its end for notifications still being sent.
pub const FLUSH: Duration = Duration::from_secs(15);

/// The events a hook may subscribe to (`NOTIFY_EVENTS` in src/plan/).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyEvent {
    Started,
    Deploying,
    AwaitingApproval,
    Approved,
    Rejected,
    AnalysisFailed,
    RolledBack,
    Failed,
    Succeeded,
    Aborted,
}

impl NotifyEvent {
    pub const ALL: [NotifyEvent; 10] = [
        NotifyEvent::Started,
        NotifyEvent::Deploying,
        NotifyEvent::AwaitingApproval,
        NotifyEvent::Approved,
        NotifyEvent::Rejected,
        NotifyEvent::AnalysisFailed,
        NotifyEvent::RolledBack,
        NotifyEvent::Failed,
        NotifyEvent::Succeeded,
        NotifyEvent::Aborted,
    ];

    /// The name a plan subscribes to and a hook is told.
    pub fn name(self) -> &'static str {
        match self {
            NotifyEvent::Started => "started",
            NotifyEvent::Deploying => "deploying",
            NotifyEvent::AwaitingApproval => "awaiting_approval",
            NotifyEvent::Approved => "approved",
            NotifyEvent::Rejected => "rejected",
            NotifyEvent::AnalysisFailed => "analysis_failed",
            NotifyEvent::Failed => "failed",
            NotifyEvent::RolledBack => "rolled_back",
            NotifyEvent::Succeeded => "succeeded",
            NotifyEvent::Aborted => "aborted",
        }
    }

    /// Where the release stands after this event.
    pub fn outcome(self) -> &'static str {
        match self {
            NotifyEvent::Started | NotifyEvent::Deploying | NotifyEvent::Approved => "in_progress",
            NotifyEvent::AwaitingApproval => "paused",
            NotifyEvent::Rejected | NotifyEvent::AnalysisFailed => "rejected",
            NotifyEvent::RolledBack => "rolled_back",
            NotifyEvent::Failed => "failed",
            NotifyEvent::Succeeded => "promoted",
            NotifyEvent::Aborted => "aborted",
        }
    }

    fn icon(self) -> &'static str {
        match self {
            NotifyEvent::Started => ":rocket:",
            NotifyEvent::Deploying => ":arrow_up:",
            NotifyEvent::AwaitingApproval => ":raised_hand:",
            NotifyEvent::Approved => ":white_check_mark:",
            NotifyEvent::Rejected | NotifyEvent::Aborted => ":no_entry:",
            NotifyEvent::AnalysisFailed => ":chart_with_downwards_trend:",
            NotifyEvent::RolledBack => ":leftwards_arrow_with_hook:",
            NotifyEvent::Failed => ":x:",
            NotifyEvent::Succeeded => ":tada:",
        }
    }
}

impl std::fmt::Display for NotifyEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The notify event a recorded event stands for, if any. `last_target` is where the
/// release is going: being live there is `succeeded`.
pub fn subscribed(
    kind: &EventKind,
    env: Option<&str>,
    last_target: Option<&str>,
) -> Option<NotifyEvent> {
    let action_of = |recorded: &str| StepAction::of_recorded(recorded);
    Some(match kind {
        EventKind::Started { .. } => NotifyEvent::Started,
        EventKind::Intent { action, .. } if action_of(action) == Some(StepAction::Deploy) => {
            NotifyEvent::Deploying
        }
        EventKind::AwaitingApproval { .. } => NotifyEvent::AwaitingApproval,
        EventKind::Approved { .. } => NotifyEvent::Approved,
        EventKind::Rejected { .. } => NotifyEvent::Rejected,
        EventKind::StepFailed { action, .. } if action_of(action) == Some(StepAction::Analysis) => {
            NotifyEvent::AnalysisFailed
        }
        EventKind::StepFailed { gate: false, .. } | EventKind::RollbackFailed { .. } => {
            NotifyEvent::Failed
        }
        EventKind::RolledBack { .. } => NotifyEvent::RolledBack,
        EventKind::Live if env.is_some() && env == last_target => NotifyEvent::Succeeded,
        EventKind::Aborted { .. } => NotifyEvent::Aborted,
        _ => return None,
    })
}

/// What a hook is told.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub release: String,
    pub environment: Option<String>,
    /// The environment's target the event is about (docs/plan.md, "`targets` and
    /// `waves`"): absent for an environment without targets and its own events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub event: NotifyEvent,
    pub outcome: String,
    pub summary: String,
    /// The record commit: its forge page when the records remote is a known forge,
    /// else its id.
    pub link: String,
    pub app: String,
    pub version: String,
    pub actor: String,
    pub at: String,
}

impl Message {
    /// The body a hook of `format` receives.
    pub fn body(&self, format: NotifyFormat) -> Value {
        match format {
            NotifyFormat::Json => serde_json::to_value(self).unwrap_or(Value::Null),
            NotifyFormat::Slack => json!({ "text": self.slack_text() }),
        }
    }

    fn slack_text(&self) -> String {
        let icon = self.event.icon();
        let escape = |t: &str| {
            t.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        let place = match (&self.environment, &self.target) {
            (Some(env), Some(target)) => format!(" in {}/{}", escape(env), escape(target)),
            (Some(env), None) => format!(" in {}", escape(env)),
            (None, _) => String::new(),
        };
        let link = if self.link.starts_with("https://") {
            format!("<{}|record>", self.link)
        } else {
            format!("record {}", self.link.chars().take(12).collect::<String>())
        };
        format!(
            "{icon} *{}* ({}) {}{place}: {} ({link})",
            escape(&self.release),
            escape(&self.version),
            self.event.name().replace('_', " "),
            escape(&self.summary),
        )
    }
}

/// A hook that could not be told about an event.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub env: Option<String>,
    pub event: NotifyEvent,
    /// The hook's URL as it may be shown: secrets masked, no credentials, no query.
    pub hook: String,
    pub error: String,
    /// The first failure of this hook in this run: the one worth a warning.
    pub first: bool,
}

/// The URL as records and messages may show it: secrets masked, credentials and the
/// query string left out.
pub fn shown_url(url: &str, secrets: &Secrets) -> String {
    let masked = secrets.mask(url);
    let Ok(mut parsed) = reqwest::Url::parse(url) else {
        return masked;
    };
    let _ = parsed.set_username("");
    let _ = parsed.set_password(None);
    let had_query = parsed.query().is_some();
    parsed.set_query(None);
    parsed.set_fragment(None);
    let mut shown = secrets.mask(parsed.as_str());
    if had_query {
        shown.push_str("?…");
    }
    shown
}

/// Jobs handed to the worker and not finished yet: (hook, env, event).
type Queue = Arc<Mutex<VecDeque<(String, Option<String>, NotifyEvent)>>>;

struct Job {
    call: Call,
    hook: String,
    env: Option<String>,
    event: NotifyEvent,
}

/// Sends notifications on a worker thread and hands back the ones that failed.
pub struct Notifier {
    hooks: Vec<Notify>,
    secrets: Secrets,
    /// The records remote's forge, for links to record commits.
    forge: Option<Forge>,
    jobs: RefCell<Option<mpsc::Sender<Job>>>,
    failures: mpsc::Receiver<Failure>,
    /// Failures found before anything was sent (a template that does not render).
    early: RefCell<Vec<Failure>>,
    queued: Queue,
    worker: RefCell<Option<JoinHandle<()>>>,
    /// The hooks whose failure was already handed back in this run.
    failed: RefCell<BTreeSet<String>>,
}

impl Notifier {
    /// A notifier for the plan's hooks, or `None` when it has none. `records` is the
    /// records repository and the remote it is shared through, for commit links.
    pub fn new(
        plan: &Plan,
        records: &std::path::Path,
        remote: Option<&str>,
        secrets: &Secrets,
    ) -> Option<Notifier> {
        if plan.notify.is_empty() {
            return None;
        }
        let forge = remote.and_then(|name| {
            let repo = git2::Repository::open(records).ok()?;
            let remote = repo.find_remote(name).ok()?;
            forge::forge(remote.url().ok()?)
        });
        let (jobs, inbox) = mpsc::channel::<Job>();
        let (report, failures) = mpsc::channel();
        let queued = Arc::new(Mutex::new(VecDeque::new()));
        let worker = {
            let secrets = secrets.clone();
            let queued = queued.clone();
            std::thread::Builder::new()
                .name("relctl-notify".into())
                .spawn(move || work(inbox, report, secrets, queued))
                .map_err(|e| tracing::warn!("cannot start the notify worker: {e}"))
                .ok()?
        };
        Some(Notifier {
            hooks: plan.notify.clone(),
            secrets: secrets.clone(),
            forge,
            jobs: RefCell::new(Some(jobs)),
            failures,
            early: RefCell::new(Vec::new()),
            queued,
            worker: RefCell::new(Some(worker)),
            failed: RefCell::new(BTreeSet::new()),
        })
    }

    /// The link to a record commit.
    pub fn link(&self, oid: &str) -> String {
        self.forge
            .as_ref()
            .map_or_else(|| oid.to_string(), |f| f.commit(oid))
    }

    /// Queues `message` for every hook subscribed to its event; `ctx` renders their
    /// templates (url, headers).
    pub fn send(&self, ctx: &minijinja::Value, message: &Message) {
        let jobs = self.jobs.borrow();
        let Some(jobs) = jobs.as_ref() else { return };
        for hook in &self.hooks {
            if !hook.events.iter().any(|e| e == message.event.name()) {
                continue;
            }
            let rendered = template::render(&hook.url, Landing::Url, ctx).and_then(|url| {
                let headers = hook
                    .headers
                    .iter()
                    .map(|(k, v)| template::render_header(k, v, ctx).map(|v| (k.clone(), v)))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((url, headers))
            });
            let (url, headers) = match rendered {
                Ok(r) => r,
                Err(e) => {
                    self.early.borrow_mut().push(Failure {
                        env: message.environment.clone(),
                        event: message.event,
                        hook: self.secrets.mask(&hook.url.raw),
                        error: self.secrets.mask(&e),
                        first: false,
                    });
                    continue;
                }
            };
            let shown = shown_url(&url, &self.secrets);
            let mut told = message.clone();
            told.summary = self.secrets.mask(&message.summary);
            let job = Job {
                call: Call {
                    method: "POST".into(),
                    url,
                    headers,
                    body: Some(told.body(hook.format)),
                    timeout: TIMEOUT,
                    retries: 1,
                    idempotency_key: None,
                },
                hook: shown,
                env: message.environment.clone(),
                event: message.event,
            };
            if let Ok(mut q) = self.queued.lock() {
                q.push_back((job.hook.clone(), job.env.clone(), job.event));
            }
            let _ = jobs.send(job);
        }
    }

    /// The failures known so far (the worker keeps sending the rest).
    pub fn failures(&self) -> Vec<Failure> {
        let mut out: Vec<Failure> = self.early.borrow_mut().drain(..).collect();
        out.extend(self.failures.try_iter());
        self.mark_first(out)
    }

    /// Marks each hook's first failure in this run.
    fn mark_first(&self, mut failures: Vec<Failure>) -> Vec<Failure> {
        let mut failed = self.failed.borrow_mut();
        for f in &mut failures {
            f.first = failed.insert(f.hook.clone());
        }
        failures
    }

    /// Stops taking notifications and waits (up to `wait`) for those queued; every
    /// failure not yet handed back, and every notification still unsent at the deadline.
    pub fn finish(&self, wait: Duration) -> Vec<Failure> {
        drop(self.jobs.borrow_mut().take());
        let mut out = self.failures();
        if self.worker.borrow().is_none() {
            return out;
        }
        let mut more = Vec::new();
        let deadline = crate::duration::deadline(wait);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.failures.recv_timeout(left) {
                Ok(failure) => more.push(failure),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    if let Some(worker) = self.worker.borrow_mut().take() {
                        let _ = worker.join();
                    }
                    break;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    // The worker is left behind; what it had not sent is reported unsent.
                    self.worker.borrow_mut().take();
                    let queued = self
                        .queued
                        .lock()
                        .map(|mut q| q.drain(..).collect::<Vec<_>>())
                        .unwrap_or_default();
                    more.extend(queued.into_iter().map(|(hook, env, event)| Failure {
                        env,
                        event,
                        hook,
                        error: format!(
                            "not sent: relctl stopped waiting for its hooks after {}",
                            crate::duration::format(wait)
                        ),
                        first: false,
                    }));
                    break;
                }
            }
        }
        out.extend(self.mark_first(more));
        out
    }
}

impl Drop for Notifier {
    /// A command that ends without `finish` still lets its notifications out.
    fn drop(&mut self) {
        for failure in self.finish(FLUSH) {
            tracing::warn!(
                "notifying {} of {} failed: {}",
                failure.hook,
                failure.event,
                failure.error
            );
        }
    }
}

/// The worker: sends each job in order. A hook that did not answer within the timeout
/// is not called again in this run, so a dead hook costs seconds once, not per event.
fn work(
    inbox: mpsc::Receiver<Job>,
    report: mpsc::Sender<Failure>,
    secrets: Secrets,
    queued: Queue,
) {
    let setup = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
        .and_then(|rt| {
            super::http::client()
                .map(|client| (rt, client))
                .map_err(|e| format!("cannot build the HTTP client: {e}"))
        });
    let backoff = RetryDelay {
        base: Duration::from_millis(200),
        max: Duration::from_secs(1),
    };
    let mut silent: BTreeSet<String> = BTreeSet::new();
    for job in inbox {
        let error = match &setup {
            Err(e) => Some(e.clone()),
            Ok(_) if silent.contains(&job.hook) => Some(format!(
                "not sent: the hook did not answer within {} earlier in this run",
                crate::duration::format(TIMEOUT)
            )),
            Ok((rt, client)) => {
                match rt.block_on(http::send(client, &job.call, &backoff, &secrets)) {
                    Ok(_) => None,
                    Err(e) => {
                        if e.timed_out() {
                            silent.insert(job.hook.clone());
                        }
                        // The call's own URL may hold a credential: show the hook's.
                        let full = secrets.mask(&job.call.url);
                        Some(e.to_string().replace(&full, &job.hook))
                    }
                }
            }
        };
        if let Ok(mut q) = queued.lock() {
            q.pop_front();
        }
        if let Some(error) = error {
            let _ = report.send(Failure {
                env: job.env,
                event: job.event,
                hook: job.hook,
                error,
                first: false,
            });
        }
    }
}

/// The message for a recorded event.
pub fn message(
    event: &Event,
    name: NotifyEvent,
    release: &str,
    app: &str,
    version: &str,
    link: String,
) -> Message {
    Message {
        release: release.to_string(),
        environment: event.env.clone(),
        target: event.target.clone(),
        event: name,
        outcome: name.outcome().to_string(),
        summary: event.kind.describe(),
        link,
        app: app.to_string(),
        version: version.to_string(),
        actor: event.actor.clone(),
        at: event.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_map_to_notify_events() {
        let last = Some("production");
        let deploy = EventKind::Intent {
            step: 0,
            action: "deploy 10%".into(),
            request: Value::Null,
        };
        assert_eq!(
            subscribed(&deploy, Some("dev"), last),
            Some(NotifyEvent::Deploying)
        );
        let exec = EventKind::Intent {
            step: 1,
            action: "exec".into(),
            request: Value::Null,
        };
        assert_eq!(subscribed(&exec, Some("dev"), last), None);
        let analysis = EventKind::StepFailed {
            step: 1,
            action: "analysis health".into(),
            error: "x".into(),
            gate: true,
        };
        assert_eq!(
            subscribed(&analysis, Some("production"), last),
            Some(NotifyEvent::AnalysisFailed)
        );
        let gate = EventKind::StepFailed {
            step: 1,
            action: "http".into(),
            error: "x".into(),
            gate: true,
        };
        assert_eq!(subscribed(&gate, Some("production"), last), None);
        let failed = EventKind::StepFailed {
            step: 0,
            action: "deploy".into(),
            error: "x".into(),
            gate: false,
        };
        assert_eq!(
            subscribed(&failed, Some("dev"), last),
            Some(NotifyEvent::Failed)
        );
        assert_eq!(subscribed(&EventKind::Live, Some("dev"), last), None);
        assert_eq!(
            subscribed(&EventKind::Live, Some("production"), last),
            Some(NotifyEvent::Succeeded)
        );
        assert_eq!(subscribed(&EventKind::Live, Some("production"), None), None);
        let names: Vec<&str> = NotifyEvent::ALL.iter().map(|e| e.name()).collect();
        assert_eq!(names, crate::plan::NOTIFY_EVENTS);
    }

    #[test]
    fn shown_urls_keep_no_credentials() {
        let secrets = Secrets::from_values([("TOKEN", "t0ps3cr3t")]);
        assert_eq!(
            shown_url(
                "https://user:pw@hooks.example.com/x/t0ps3cr3t?key=abc",
                &secrets
            ),
            "https://hooks.example.com/x/***?…"
        );
        assert_eq!(
            shown_url("http://127.0.0.1:9/hooks/a", &secrets),
            "http://127.0.0.1:9/hooks/a"
        );
    }

    #[test]
    fn slack_text_escapes_and_links() {
        let m = Message {
            release: "checkout-4f2a9c1be0d3".into(),
            environment: Some("production".into()),
            target: None,
            event: NotifyEvent::RolledBack,
            outcome: "rolled_back".into(),
            summary: "rolled back to <old> & done".into(),
            link: "https://github.com/acme/records/commit/abc".into(),
            app: "checkout".into(),
            version: "1.4.2".into(),
            actor: "a@b.c".into(),
            at: "2026-11-22T10:00:00Z".into(),
        };
        assert_eq!(
            m.body(NotifyFormat::Slack),
            json!({ "text": ":leftwards_arrow_with_hook: *checkout-4f2a9c1be0d3* (1.4.2) rolled back in production: rolled back to &lt;old&gt; &amp; done (<https://github.com/acme/records/commit/abc|record>)" })
        );
        assert_eq!(m.body(NotifyFormat::Json)["event"], "rolled_back");
        assert!(m.body(NotifyFormat::Json).get("target").is_none());
        let on_target = Message {
            target: Some("eu-west".into()),
            ..m
        };
        assert!(
            on_target.slack_text().contains(" in production/eu-west: "),
            "{}",
            on_target.slack_text()
        );
        assert_eq!(on_target.body(NotifyFormat::Json)["target"], "eu-west");
    }
}
