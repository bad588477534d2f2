//! The plan's types (schema version 1; release.example.yaml annotates every key). Every
//! templated or user-named value keeps its position so later checks and run-time errors
//! can point back at the file.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};

pub use super::yaml::Pos;

/// A string from the plan and where it stands: a template, a jq expression or a name.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    pub raw: String,
    pub pos: Pos,
}

#[derive(Debug, Clone)]
pub struct Plan {
    /// The file it was read from, and the sha256 of its bytes (recorded with every event).
    pub path: PathBuf,
    pub digest: String,
    pub app: String,
    pub artifact_name: String,
    pub record: RecordSpec,
    pub vars: BTreeMap<String, String>,
    pub deploy_providers: BTreeMap<String, DeployProvider>,
    pub metrics_providers: BTreeMap<String, MetricsProvider>,
    pub flag_providers: BTreeMap<String, FlagProvider>,
    pub environments: Vec<Environment>,
    pub analyses: BTreeMap<String, Analysis>,
    pub notify: Vec<Notify>,
}

/// The records branch when the plan names none.
pub const DEFAULT_RECORDS_BRANCH: &str = "relctl/records";

#[derive(Debug, Clone, PartialEq)]
pub struct RecordSpec {
    /// Relative to the plan's directory.
    pub repo: PathBuf,
    pub branch: String,
    pub remote: Option<String>,
    /// A records repository shared by URL, which relctl clones for itself; excludes
    /// `repo` and `remote`.
    pub url: Option<String>,
}

// Plans hold a handful of providers; boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum DeployProvider {
    Http(HttpDeploy),
    Exec(Exec),
}

#[derive(Debug, Clone)]
pub struct HttpDeploy {
    pub request: Request,
    pub wait: Option<Wait>,
    pub verify_digest: Option<Text>,
}

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub url: Text,
    pub headers: Vec<(String, Text)>,
    pub body: Option<Body>,
    pub timeout: Duration,
    pub retries: u32,
}

/// A structured request body: its shape is fixed by the plan, only leaves are templated.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Text(Text),
    List(Vec<Body>),
    Map(Vec<(String, Body)>),
}

#[derive(Debug, Clone)]
pub struct Wait {
    pub method: String,
    pub url: Text,
    pub headers: Vec<(String, Text)>,
    pub interval: Duration,
    pub timeout: Duration,
    pub success: Text,
    pub failure: Option<Text>,
}

/// A command run without a shell: argv is templated word by word.
#[derive(Debug, Clone)]
pub struct Exec {
    pub command: Vec<Text>,
    pub env: Vec<(String, Text)>,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub enum MetricsProvider {
    Prometheus {
        url: Text,
        timeout: Duration,
        auth: Option<Auth>,
    },
    Http {
        request: Request,
        value: Text,
    },
}

/// Where feature flags are switched (`providers.flags`).
#[derive(Debug, Clone)]
pub enum FlagProvider {
    Unleash(Unleash),
}

/// Unleash's Admin API: its base URL, a token (admin or personal, usually from
/// `secret.*`), the project the flags are in, and which Unleash environment each relctl
/// environment is.
#[derive(Debug, Clone)]
pub struct Unleash {
    pub url: Text,
    pub token: Text,
    pub project: String,
    /// relctl environment → Unleash environment.
    pub environments: BTreeMap<String, String>,
    pub timeout: Duration,
}

impl FlagProvider {
    /// The Unleash environment relctl's `env` is, if the provider maps it.
    pub fn environment(&self, env: &str) -> Option<&str> {
        match self {
            FlagProvider::Unleash(u) => u.environments.get(env).map(String::as_str),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Auth {
    Bearer(Text),
    Basic { username: Text, password: Text },
}

#[derive(Debug, Clone)]
pub struct Environment {
    pub name: String,
    pub pos: Pos,
    pub deploy: Text,
    pub steps: Vec<Step>,
    pub soak: Option<Duration>,
    pub approval: Option<Approval>,
    /// Deployment windows, `freeze` entries among them (as one-off deny windows).
    pub windows: Vec<Window>,
    pub error_budget: Option<ErrorBudget>,
    pub rollback_on_failure: bool,
    /// The places the environment is made of (regions, clusters); empty for an
    /// environment that is one place. Every step runs once per target.
    pub targets: Vec<Target>,
    /// The targets in the order they are promoted: every target stands in one wave.
    pub waves: Vec<Wave>,
    /// What a target that fails does to the others.
    pub on_target_failure: TargetFailure,
    /// `requires: { all_targets: false }`: this environment may be entered when the
    /// one before it is live in only some of its targets.
    pub accepts_partial: bool,
}

/// What happens when one target of an environment fails (`on_target_failure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetFailure {
    /// Every target that received the release goes back to what was live before.
    Rollback,
    /// The run stops where it is and keeps the lock (exit 1); `resume` retries.
    Stop,
    /// The other targets carry on; the environment ends partly live.
    Continue,
}

impl TargetFailure {
    pub fn name(self) -> &'static str {
        match self {
            TargetFailure::Rollback => "rollback",
            TargetFailure::Stop => "stop",
            TargetFailure::Continue => "continue",
        }
    }
}

/// One place of an environment (docs/plan.md, "`targets` and `waves`").
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub pos: Pos,
    /// `target.vars.*` in templates: the plan's own text, trusted as `vars.*` is.
    pub vars: BTreeMap<String, String>,
    /// Its own deploy provider, else the environment's `deploy`.
    pub deploy: Option<Text>,
}

/// Targets promoted together: at most `parallel` at once; the next wave starts when
/// every target of this one is live and, with `soak`, has been for that long.
#[derive(Debug, Clone)]
pub struct Wave {
    pub pos: Pos,
    pub targets: Vec<Text>,
    pub parallel: u32,
    pub soak: Option<Duration>,
}

impl Environment {
    pub fn target(&self, name: &str) -> Option<&Target> {
        self.targets.iter().find(|t| t.name == name)
    }

    /// The deploy provider's name for `target` (its own, else the environment's).
    pub fn deploy_of<'a>(&'a self, target: Option<&'a Target>) -> &'a Text {
        target
            .and_then(|t| t.deploy.as_ref())
            .unwrap_or(&self.deploy)
    }
}

#[derive(Debug, Clone)]
pub struct Step {
    pub kind: StepKind,
    pub pos: Pos,
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum StepKind {
    /// A deploy at a traffic weight (percent); `None` is full weight.
    Deploy {
        weight: Option<u8>,
    },
    Pause(Duration),
    Analysis(Text),
    /// An approval gate; `None` uses the environment's approvers.
    Approval(Option<Approval>),
    Http(HttpStep),
    Exec(ExecStep),
    /// The environment's `error_budget` read again: a gate that rolls back when it says no.
    ErrorBudget,
    /// A feature flag switched in the environment; its undo restores what it was.
    Flag(FlagStep),
}

/// `flag: { name, enabled?, rollout?, stickiness?, groupId? }`.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagStep {
    /// The flag provider; `None` when the plan has exactly one.
    pub provider: Option<Text>,
    pub name: String,
    /// On or off; with a `rollout` and no `enabled`, on.
    pub enabled: Option<bool>,
    /// The percentage of a gradual rollout (Unleash's `flexibleRollout`).
    pub rollout: Option<u8>,
    pub stickiness: Option<String>,
    pub group_id: Option<String>,
}

impl FlagStep {
    /// A step naming only `name`, through the plan's only flag provider: how a flag the
    /// record names is reached when the plan no longer has the step that switched it.
    pub fn named(name: &str) -> FlagStep {
        FlagStep {
            provider: None,
            name: name.to_string(),
            enabled: None,
            rollout: None,
            stickiness: None,
            group_id: None,
        }
    }

    /// Whether the flag is to be on once the step is done.
    pub fn turns_on(&self) -> bool {
        self.enabled.unwrap_or(true)
    }

    /// What the step does, as the record and `relctl plan` say it: `flag new-checkout
    /// 25%`, `flag new-checkout on`, `flag new-checkout off`.
    pub fn action(&self) -> String {
        match (self.turns_on(), self.rollout) {
            (true, Some(r)) => format!("flag {} {r}%", self.name),
            (false, Some(r)) => format!("flag {} off ({r}% when on)", self.name),
            (true, None) => format!("flag {} on", self.name),
            (false, None) => format!("flag {} off", self.name),
        }
    }
}

impl StepKind {
    /// What the step does, without its settings.
    pub fn action(&self) -> StepAction {
        match self {
            StepKind::Deploy { .. } => StepAction::Deploy,
            StepKind::Pause(_) => StepAction::Pause,
            StepKind::Analysis(_) => StepAction::Analysis,
            StepKind::Approval(_) => StepAction::Approval,
            StepKind::Http(_) => StepAction::Http,
            StepKind::Exec(_) => StepAction::Exec,
            StepKind::ErrorBudget => StepAction::ErrorBudget,
            StepKind::Flag(_) => StepAction::Flag,
        }
    }

    /// The step's kind as the plan spells it, and as the record names its action.
    pub fn name(&self) -> &'static str {
        self.action().name()
    }
}

/// The kinds of step, without their settings: what a recorded step event was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepAction {
    Deploy,
    Pause,
    Analysis,
    Approval,
    Http,
    Exec,
    ErrorBudget,
    Flag,
}

impl StepAction {
    pub fn name(self) -> &'static str {
        match self {
            StepAction::Deploy => "deploy",
            StepAction::Pause => "pause",
            StepAction::Analysis => "analysis",
            StepAction::Approval => "approval",
            StepAction::Http => "http",
            StepAction::Exec => "exec",
            StepAction::ErrorBudget => "error_budget",
            StepAction::Flag => "flag",
        }
    }

    /// The kind of step a recorded action (`deploy 10%`, `analysis health`, `exec`) is:
    /// the record keeps the action as text, its first word the kind.
    pub fn of_recorded(action: &str) -> Option<StepAction> {
        let word = action.split_whitespace().next()?;
        [
            StepAction::Deploy,
            StepAction::Pause,
            StepAction::Analysis,
            StepAction::Approval,
            StepAction::Http,
            StepAction::Exec,
            StepAction::ErrorBudget,
            StepAction::Flag,
        ]
        .into_iter()
        .find(|a| a.name() == word)
    }
}

#[derive(Debug, Clone)]
pub struct HttpCall {
    pub request: Request,
    pub success: Option<Text>,
}

#[derive(Debug, Clone)]
pub struct HttpStep {
    pub call: HttpCall,
    pub undo: Option<HttpCall>,
}

#[derive(Debug, Clone)]
pub struct ExecStep {
    pub exec: Exec,
    pub undo: Option<Exec>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Approval {
    /// Exact identities or `*@domain` patterns.
    pub approvers: Vec<String>,
    pub min: u32,
    pub allow_self: bool,
    /// Count only approvals whose record commit is signed by a key the allowed-signers
    /// file gives the approver (docs/trust.md).
    pub signed: bool,
    /// That file, a path in the plan's repository read at the release's source commit.
    pub allowed_signers: String,
    /// Whether the plan wrote `signed` (and `allowed_signers`) here: an `approval`
    /// step's own keys that leave them out take the environment's (docs/plan.md).
    pub signed_set: bool,
    pub allowed_signers_set: bool,
}

impl Environment {
    /// The approval a gate asks for (`gate: None` is the environment's own): an
    /// `approval` step's own keys, else the environment's.
    pub fn gate_approval(&self, gate: Option<usize>) -> Option<&Approval> {
        match gate.and_then(|step| self.steps.get(step)).map(|s| &s.kind) {
            Some(StepKind::Approval(Some(own))) => Some(own),
            _ => self.approval.as_ref(),
        }
    }
}

/// Where a signed gate reads its allowed signers when the plan does not say.
pub const DEFAULT_ALLOWED_SIGNERS: &str = ".relctl/allowed_signers";

/// A deployment window: while an environment has allow windows it is open only inside
/// one of them; a deny window closes it regardless (src/engine/window.rs decides).
#[derive(Debug, Clone)]
pub struct Window {
    pub kind: WindowKind,
    pub name: String,
    /// The IANA zone its wall-clock times and dates are read in.
    pub zone: jiff::tz::TimeZone,
    pub zone_name: String,
    pub span: Span,
    /// Written as a `freeze` entry: blocks as rule `freeze` and says "frozen".
    pub freeze: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowKind {
    Allow,
    Deny,
}

impl WindowKind {
    pub fn name(self) -> &'static str {
        match self {
            WindowKind::Allow => "allow",
            WindowKind::Deny => "deny",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Span {
    /// Every week: `(start, end)` in seconds from Monday 00:00 wall-clock time; `end` may
    /// pass the end of the week (a window from Sunday night into Monday).
    Weekly(Vec<(i64, i64)>),
    /// Once: `[from, to)` instants.
    Once(Vec<(DateTime<Utc>, DateTime<Utc>)>),
}

/// An SLO whose error budget gates entering an environment (docs/plan.md,
/// "`error_budget`").
#[derive(Debug, Clone)]
pub struct ErrorBudget {
    /// The Prometheus metrics provider that is asked.
    pub provider: Text,
    /// The objective as a fraction (99.9% is 0.999).
    pub objective: f64,
    pub period: Duration,
    pub source: BudgetSource,
    /// The least share of the budget (0–1) that must be left to enter.
    pub min_remaining: f64,
    /// What an unreadable budget (Prometheus down, no data) does.
    pub on_error: OnError,
}

impl ErrorBudget {
    /// The objective as the plan writes it (99.9), without the noise of floating point.
    pub fn objective_percent(&self) -> f64 {
        (self.objective * 100.0 * 1e9).round() / 1e9
    }
}

/// Where an `error_ratio` query takes its window.
pub const BUDGET_WINDOW: &str = "{{ window }}";

/// Where the error ratio over a window comes from.
#[derive(Debug, Clone)]
pub enum BudgetSource {
    /// A PromQL query with `{{ window }}` where the window goes (`5m`, `1h`, `30d`).
    Query(String),
    /// Sloth's recording rules `slo:sli_error:ratio_rate<window>`.
    Sloth { service: String, slo: String },
    /// Pyrra's recording rules `<metric>:burnrate<window>` (`metric` without `_total`)
    /// and its generic `pyrra_availability` for the period.
    Pyrra { metric: String, slo: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    Block,
    Pass,
}

#[derive(Debug, Clone)]
pub struct Analysis {
    /// Where its `initial_delay` is written, or the analysis itself when it has none.
    pub pos: Pos,
    pub interval: Duration,
    pub count: u32,
    pub initial_delay: Duration,
    pub failure_limit: u32,
    pub inconclusive_limit: u32,
    pub consecutive_error_limit: u32,
    pub metrics: Vec<Metric>,
}

#[derive(Debug, Clone)]
pub struct Metric {
    pub name: String,
    pub provider: Text,
    pub query: Option<Text>,
    pub compare: Option<Compare>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub no_data: NoData,
    pub reduce: Option<Reduce>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoData {
    Fail,
    Inconclusive,
    Pass,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reduce {
    Sum,
    Min,
    Max,
    Avg,
}

#[derive(Debug, Clone)]
pub struct Compare {
    pub canary: Text,
    pub baseline: Text,
    pub direction: Direction,
    pub confidence: f64,
    pub tolerance: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Increase,
    Decrease,
    Either,
}

#[derive(Debug, Clone)]
pub struct Notify {
    pub url: Text,
    pub events: Vec<String>,
    pub format: NotifyFormat,
    pub headers: Vec<(String, Text)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyFormat {
    Json,
    Slack,
}

/// Events a notify hook can subscribe to.
pub const NOTIFY_EVENTS: &[&str] = &[
    "started",
    "deploying",
    "awaiting_approval",
    "approved",
    "rejected",
    "analysis_failed",
    "rolled_back",
    "failed",
    "succeeded",
    "aborted",
];

impl Analysis {
    /// When round `k` (from 0) is due: `started + initial_delay + k·interval`, or `None`
    /// past the last time chrono can hold (validation keeps plans far from it).
    pub fn round_at(&self, started: DateTime<Utc>, k: u32) -> Option<DateTime<Utc>> {
        self.interval
            .checked_mul(k)
            .and_then(|d| d.checked_add(self.initial_delay))
            .and_then(|d| crate::duration::after(started, d))
    }
}

impl Plan {
    pub fn environment(&self, name: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.name == name)
    }

    /// The provider a flag step uses: the one it names, else the plan's only one.
    pub fn flag_provider(&self, step: &FlagStep) -> Option<(&str, &FlagProvider)> {
        match &step.provider {
            Some(name) => self
                .flag_providers
                .get_key_value(&name.raw)
                .map(|(k, v)| (k.as_str(), v)),
            None if self.flag_providers.len() == 1 => self
                .flag_providers
                .iter()
                .next()
                .map(|(k, v)| (k.as_str(), v)),
            None => None,
        }
    }
}
