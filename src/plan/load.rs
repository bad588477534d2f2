//! From the positioned YAML tree to the typed plan. Shape problems (unknown keys, wrong
//! types, bad durations) are found here; references between names in `check`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::diag::Diagnostics;
use super::read::{self, Fields, Within};
use super::types::*;
use super::yaml::{Node, Value, key_text};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

const fn within(min_ms: u64, max_secs: u64) -> Within {
    Within {
        min: Duration::from_millis(min_ms),
        max: Duration::from_secs(max_secs),
    }
}

const HOUR: u64 = 3600;
const DAY: u64 = 24 * HOUR;

// How short and how long each duration may be (docs/plan.md, "Durations and their
// bounds"): a call given no time to answer fails every time, a poll without an interval
// is a busy loop, and a value past the maximum is a typo that would overflow the clock.

/// `timeout` of an HTTP request or of a Prometheus query.
const CALL_TIMEOUT: Within = within(1000, HOUR);
const WAIT_INTERVAL: Within = within(100, HOUR);
const WAIT_TIMEOUT: Within = within(1000, DAY);
const EXEC_TIMEOUT: Within = within(1000, DAY);
const PAUSE: Within = within(0, 7 * DAY);
const SOAK: Within = within(0, 30 * DAY);
/// `interval` and `initial_delay` of an analysis.
const ANALYSIS_WAIT: Within = within(0, DAY);
/// From an analysis' start to its last round: `initial_delay + interval·(count - 1)`.
const ANALYSIS_LENGTH: Duration = Duration::from_secs(7 * DAY);
/// Each measurement is a commit in the record.
const COUNT_MAX: u32 = 10_000;
/// An SLO's `period`: a rate window Prometheus keeps data for.
const SLO_PERIOD: Within = within(60_000, 365 * DAY);

/// Everything of the plan that could be read; `None` only when the root is not a mapping.
pub fn plan(root: &Node, path: PathBuf, digest: String, d: &mut Diagnostics) -> Option<Plan> {
    let mut f = Fields::of(root, "the plan", d)?;
    if let Some(v) = f.require("version", d)
        && read::uint(v, "version", d).is_some_and(|v| v != 1)
    {
        d.at(
            v.pos,
            "unsupported plan `version`; this relctl reads version 1",
        );
    }
    let app = f.require("app", d).and_then(|n| {
        let app = read::string(n, "app", d)?;
        if !super::valid_app(&app) {
            d.at(
                n.pos,
                format!(
                    "`app` must be lowercase letters, digits and dashes, found `{}` (at most 63 characters, not starting with a dash)",
                    app.escape_debug()
                ),
            );
        }
        Some(app)
    });
    let artifact_name = f.require("artifact", d).and_then(|n| artifact(n, d));
    let record = f
        .get("record")
        .map_or_else(|| Some(default_record()), |n| record(n, d));
    let vars = f.get("vars").map(|n| vars(n, d)).unwrap_or_default();
    let (deploy_providers, metrics_providers, flag_providers) = f
        .get("providers")
        .map(|n| providers(n, d))
        .unwrap_or_default();
    let environments = f
        .require("environments", d)
        .and_then(|n| read::list(n, "environments", d))
        .map(|items| items.iter().filter_map(|n| environment(n, d)).collect())
        .unwrap_or_default();
    let analyses = f
        .get("analyses")
        .and_then(|n| read::entries(n, "analyses", d))
        .map(|entries| {
            entries
                .iter()
                .filter_map(|(k, v)| {
                    read::check_name(&key_text(k), k.pos, "analysis", d);
                    Some((key_text(k), analysis(&key_text(k), v, d)?))
                })
                .collect()
        })
        .unwrap_or_default();
    let notify = f
        .get("notify")
        .and_then(|n| read::list(n, "notify", d))
        .map(|items| items.iter().filter_map(|n| notify(n, d)).collect())
        .unwrap_or_default();
    f.finish(d);
    Some(Plan {
        path,
        digest,
        app: app.unwrap_or_default(),
        artifact_name: artifact_name.unwrap_or_default(),
        record: record.unwrap_or_else(default_record),
        vars,
        deploy_providers,
        metrics_providers,
        flag_providers,
        environments,
        analyses,
        notify,
    })
}

fn artifact(node: &Node, d: &mut Diagnostics) -> Option<String> {
    let mut f = Fields::of(node, "`artifact`", d)?;
    let name = f.require("name", d).and_then(|n| {
        let name = read::string(n, "name", d)?;
        if let Some(problem) = crate::artifact::check_name(&name) {
            d.at(n.pos, problem);
        }
        Some(name)
    });
    f.finish(d);
    name
}

fn default_record() -> RecordSpec {
    RecordSpec {
        repo: PathBuf::from("."),
        branch: super::DEFAULT_RECORDS_BRANCH.into(),
        remote: None,
        url: None,
    }
}

fn record(node: &Node, d: &mut Diagnostics) -> Option<RecordSpec> {
    let mut f = Fields::of(node, "`record`", d)?;
    let mut spec = default_record();
    let repo = f.get("repo");
    if let Some(s) = repo.and_then(|n| read::string(n, "repo", d)) {
        spec.repo = PathBuf::from(s);
    }
    if let Some(n) = f.get("branch")
        && let Some(b) = read::string(n, "branch", d)
    {
        if !git2::Reference::is_valid_name(&format!("refs/heads/{b}")) {
            d.at(
                n.pos,
                format!("`branch` `{b}` is not a valid git branch name"),
            );
        }
        spec.branch = b;
    }
    let remote = f.get("remote");
    spec.remote = remote.and_then(|n| read::string(n, "remote", d));
    if let Some(n) = f.get("url") {
        spec.url = records_url(n, d);
        // The clone relctl keeps of a shared records repository is neither the
        // repository beside the plan nor one of its remotes.
        for (key, given) in [("repo", repo), ("remote", remote)] {
            if given.is_some() {
                d.at(
                    n.pos,
                    format!(
                        "`url` and `{key}` cannot both be set: with `url`, relctl keeps its own \
                         clone of the shared records repository (remove one of them)"
                    ),
                );
            }
        }
    }
    f.finish(d);
    Some(spec)
}

/// `record.url`: a URL git can fetch from and push to, or an absolute path to a
/// repository on this machine; a relative path would depend on where relctl runs.
fn records_url(node: &Node, d: &mut Diagnostics) -> Option<String> {
    let url = read::string(node, "url", d)?;
    let scp_like = url
        .split_once(':')
        .is_some_and(|(host, _)| !host.is_empty() && !host.contains('/') && host.len() > 1);
    let problem = if url.trim().is_empty() {
        Some("`url` is empty".to_string())
    } else if let Some((scheme, _)) = url.split_once("://") {
        (!["https", "http", "ssh", "git", "file"].contains(&scheme)).then(|| {
            format!(
                "`url` scheme `{scheme}` is not one relctl reaches (https, http, ssh, git, file)"
            )
        })
    } else if scp_like || std::path::Path::new(&url).is_absolute() {
        None
    } else {
        Some(format!(
            "`url` `{url}` is a relative path; give an absolute path or a URL, or use `repo` for a repository beside the plan"
        ))
    };
    if let Some(problem) = problem {
        d.at(node.pos, problem);
        return None;
    }
    Some(url)
}

fn vars(node: &Node, d: &mut Diagnostics) -> BTreeMap<String, String> {
    read::entries(node, "vars", d)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|(k, v)| Some((key_text(k), read::scalar(v, &key_text(k), d)?)))
                .collect()
        })
        .unwrap_or_default()
}

type ProviderMaps = (
    BTreeMap<String, DeployProvider>,
    BTreeMap<String, MetricsProvider>,
    BTreeMap<String, FlagProvider>,
);

fn providers(node: &Node, d: &mut Diagnostics) -> ProviderMaps {
    let Some(mut f) = Fields::of(node, "`providers`", d) else {
        return Default::default();
    };
    let named = |key: &'static str, f: &mut Fields, d: &mut Diagnostics| -> Vec<(String, Node)> {
        let entries = f.get(key).and_then(|n| read::entries(n, key, d));
        let mut named = Vec::new();
        for (k, v) in entries.unwrap_or_default() {
            let name = key_text(k);
            read::check_name(&name, k.pos, "provider", d);
            named.push((name, v.clone()));
        }
        named
    };
    let deploy_nodes = named("deploy", &mut f, d);
    let metrics_nodes = named("metrics", &mut f, d);
    let flag_nodes = named("flags", &mut f, d);
    f.finish(d);
    let deploy = deploy_nodes
        .iter()
        .filter_map(|(name, n)| Some((name.clone(), deploy_provider(name, n, d)?)))
        .collect();
    let metrics = metrics_nodes
        .iter()
        .filter_map(|(name, n)| Some((name.clone(), metrics_provider(name, n, d)?)))
        .collect();
    let flags = flag_nodes
        .iter()
        .filter_map(|(name, n)| Some((name.clone(), flag_provider(name, n, d)?)))
        .collect();
    (deploy, metrics, flags)
}

fn flag_provider(name: &str, node: &Node, d: &mut Diagnostics) -> Option<FlagProvider> {
    let mut f = Fields::of(node, format!("flag provider `{name}`"), d)?;
    provider_type(&mut f, &["unleash"], d)?;
    let url = f.require("url", d).and_then(|n| read::text(n, "url", d));
    let token = f
        .require("token", d)
        .and_then(|n| read::text(n, "token", d));
    let project = f.get("project").map_or(Some("default".to_string()), |n| {
        read::string(n, "project", d)
    });
    let environments = f.require("environments", d).and_then(|n| {
        let entries = read::entries(n, "environments", d)?;
        let mut map: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in entries {
            let unleash = read::string(v, &key_text(k), d)?;
            // One Unleash environment for two of relctl's: the kill switch of one would
            // switch the other's flags behind its record's back.
            if let Some((other, _)) = map.iter().find(|(_, u)| **u == unleash) {
                d.at(
                    v.pos,
                    format!(
                        "flag provider `{name}`: `environments.{}` maps to Unleash environment `{unleash}`, as `environments.{other}` does: each relctl environment needs its own (a flag switched in one would switch in the other)",
                        key_text(k)
                    ),
                );
                return None;
            }
            map.insert(key_text(k), unleash);
        }
        Some(map)
    });
    let timeout = f
        .get("timeout")
        .and_then(|n| read::duration_within(n, "timeout", CALL_TIMEOUT, d));
    f.finish(d);
    Some(FlagProvider::Unleash(Unleash {
        url: url?,
        token: token?,
        project: project?,
        environments: environments?,
        timeout: timeout.unwrap_or(FLAG_TIMEOUT),
    }))
}

/// How long one call to a flag provider may take: a kill switch must not hang.
const FLAG_TIMEOUT: Duration = Duration::from_secs(10);

fn flag_step(node: &Node, d: &mut Diagnostics) -> Option<FlagStep> {
    let mut f = Fields::of(node, "a `flag` step", d)?;
    let provider = f.get("provider").and_then(|n| read::text(n, "provider", d));
    let name = f.require("name", d).and_then(|n| {
        let name = read::string(n, "name", d)?;
        let wrong = if name.trim().is_empty() {
            Some("is empty")
        } else if name.chars().any(char::is_control) {
            Some("holds a control character (a newline, a tab)")
        } else if name.trim() != name {
            Some("starts or ends with whitespace")
        } else {
            None
        };
        if let Some(wrong) = wrong {
            d.at(
                n.pos,
                format!("a `flag` step's `name` {wrong}: it names a flag in Unleash"),
            );
            return None;
        }
        Some(name)
    });
    let asked = f.get("enabled").is_some() || f.get("rollout").is_some();
    let enabled = f
        .get("enabled")
        .and_then(|n| read::boolean(n, "enabled", d));
    let rollout = f.get("rollout").and_then(|n| {
        // Below 0 as above 100: the same message, not a whole number's range.
        let r = match n.value {
            Value::Int(i) if i < 0 => i,
            _ => i64::from(read::uint(n, "rollout", d)?),
        };
        if !(0..=100).contains(&r) {
            d.at(
                n.pos,
                format!("`rollout` is a percentage from 0 to 100, found {r}"),
            );
            return None;
        }
        Some(r as u8)
    });
    let stickiness = f
        .get("stickiness")
        .and_then(|n| read::string(n, "stickiness", d));
    let group_id = f.get("groupId").and_then(|n| read::string(n, "groupId", d));
    let pos = f.pos;
    f.finish(d);
    if enabled.is_none() && rollout.is_none() {
        // Given but wrong is said where it is wrong; only nothing asked is said here.
        if !asked {
            d.at(
                pos,
                "a `flag` step needs `enabled` or `rollout` (or both): what is the flag to become?",
            );
        }
        return None;
    }
    Some(FlagStep {
        provider,
        name: name?,
        enabled,
        rollout,
        stickiness,
        group_id,
    })
}

fn provider_type(
    f: &mut Fields,
    choices: &[&'static str],
    d: &mut Diagnostics,
) -> Option<&'static str> {
    let n = f.require("type", d)?;
    let pairs: Vec<(&str, &'static str)> = choices.iter().map(|c| (*c, *c)).collect();
    read::choice(n, "type", &pairs, d)
}

fn deploy_provider(name: &str, node: &Node, d: &mut Diagnostics) -> Option<DeployProvider> {
    let mut f = Fields::of(node, format!("deploy provider `{name}`"), d)?;
    let provider = match provider_type(&mut f, &["http", "exec"], d)? {
        "http" => {
            let request = f.require("request", d).and_then(|n| request(n, "POST", d));
            let wait = f.get("wait").and_then(|n| wait(n, d));
            let verify_digest = f
                .get("verify_digest")
                .and_then(|n| read::text(n, "verify_digest", d));
            DeployProvider::Http(HttpDeploy {
                request: request?,
                wait,
                verify_digest,
            })
        }
        _ => DeployProvider::Exec(exec_fields(&mut f, d)?),
    };
    f.finish(d);
    Some(provider)
}

fn metrics_provider(name: &str, node: &Node, d: &mut Diagnostics) -> Option<MetricsProvider> {
    let mut f = Fields::of(node, format!("metrics provider `{name}`"), d)?;
    let provider = match provider_type(&mut f, &["prometheus", "http"], d)? {
        "prometheus" => {
            let url = f.require("url", d).and_then(|n| read::text(n, "url", d));
            let timeout = f
                .get("timeout")
                .and_then(|n| read::duration_within(n, "timeout", CALL_TIMEOUT, d));
            let auth = f.get("auth").and_then(|n| auth(n, d));
            MetricsProvider::Prometheus {
                url: url?,
                timeout: timeout.unwrap_or(DEFAULT_TIMEOUT),
                auth,
            }
        }
        _ => {
            let request = f.require("request", d).and_then(|n| request(n, "GET", d));
            let value = f
                .require("value", d)
                .and_then(|n| read::text(n, "value", d));
            MetricsProvider::Http {
                request: request?,
                value: value?,
            }
        }
    };
    f.finish(d);
    Some(provider)
}

fn auth(node: &Node, d: &mut Diagnostics) -> Option<Auth> {
    let mut f = Fields::of(node, "`auth`", d)?;
    let bearer = f.get("bearer").and_then(|n| read::text(n, "bearer", d));
    let username = f.get("username").and_then(|n| read::text(n, "username", d));
    let password = f.get("password").and_then(|n| read::text(n, "password", d));
    let pos = f.pos;
    f.finish(d);
    match (bearer, username, password) {
        (Some(token), None, None) => Some(Auth::Bearer(token)),
        (None, Some(username), Some(password)) => Some(Auth::Basic { username, password }),
        _ => {
            d.at(
                pos,
                "`auth` takes either `bearer`, or `username` and `password`",
            );
            None
        }
    }
}

fn headers(node: &Node, d: &mut Diagnostics) -> Vec<(String, Text)> {
    read::entries(node, "headers", d)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|(k, v)| Some((key_text(k), read::text(v, &key_text(k), d)?)))
                .collect()
        })
        .unwrap_or_default()
}

fn method(node: &Node, d: &mut Diagnostics) -> Option<String> {
    let m = read::string(node, "method", d)?.to_ascii_uppercase();
    const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    if !METHODS.contains(&m.as_str()) {
        d.at(
            node.pos,
            format!(
                "`method` must be one of {}, found `{m}`",
                METHODS.join(", ")
            ),
        );
        return None;
    }
    Some(m)
}

fn request(node: &Node, default_method: &str, d: &mut Diagnostics) -> Option<Request> {
    let mut f = Fields::of(node, "`request`", d)?;
    let method = f
        .get("method")
        .map_or(Some(default_method.to_string()), |n| method(n, d));
    let url = f.require("url", d).and_then(|n| read::text(n, "url", d));
    let headers = f.get("headers").map(|n| headers(n, d)).unwrap_or_default();
    let body = f.get("body").map(body);
    let timeout = f
        .get("timeout")
        .and_then(|n| read::duration_within(n, "timeout", CALL_TIMEOUT, d));
    let retries = f.get("retries").and_then(|n| read::uint(n, "retries", d));
    f.finish(d);
    Some(Request {
        method: method?,
        url: url?,
        headers,
        body,
        timeout: timeout.unwrap_or(DEFAULT_TIMEOUT),
        retries: retries.unwrap_or(3),
    })
}

fn body(node: &Node) -> Body {
    match &node.value {
        Value::Null => Body::Null,
        Value::Bool(b) => Body::Bool(*b),
        Value::Int(i) => Body::Number((*i).into()),
        Value::Float(x) => serde_json::Number::from_f64(*x).map_or(Body::Null, Body::Number),
        Value::Str(s) => Body::Text(Text {
            raw: s.clone(),
            pos: node.pos,
        }),
        Value::Seq(items) => Body::List(items.iter().map(body).collect()),
        Value::Map(entries) => Body::Map(
            entries
                .iter()
                .map(|(k, v)| (key_text(k), body(v)))
                .collect(),
        ),
    }
}

fn wait(node: &Node, d: &mut Diagnostics) -> Option<Wait> {
    let mut f = Fields::of(node, "`wait`", d)?;
    let method = f
        .get("method")
        .map_or(Some("GET".to_string()), |n| method(n, d));
    let url = f.require("url", d).and_then(|n| read::text(n, "url", d));
    let headers = f.get("headers").map(|n| headers(n, d)).unwrap_or_default();
    let interval = f
        .get("interval")
        .and_then(|n| read::duration_within(n, "interval", WAIT_INTERVAL, d));
    let timeout = f
        .get("timeout")
        .and_then(|n| read::duration_within(n, "timeout", WAIT_TIMEOUT, d));
    let success = f
        .require("success", d)
        .and_then(|n| read::text(n, "success", d));
    let failure = f.get("failure").and_then(|n| read::text(n, "failure", d));
    f.finish(d);
    Some(Wait {
        method: method?,
        url: url?,
        headers,
        interval: interval.unwrap_or(Duration::from_secs(2)),
        timeout: timeout.unwrap_or(Duration::from_secs(600)),
        success: success?,
        failure,
    })
}

fn exec_fields(f: &mut Fields, d: &mut Diagnostics) -> Option<Exec> {
    let command = f.require("command", d).and_then(|n| {
        let items = read::list(n, "command", d)?;
        if items.is_empty() {
            d.at(n.pos, "`command` must name a program");
            return None;
        }
        items
            .iter()
            .map(|i| read::text(i, "command", d))
            .collect::<Option<Vec<_>>>()
    });
    let env = f.get("env").map(|n| headers(n, d)).unwrap_or_default();
    let timeout = f
        .get("timeout")
        .and_then(|n| read::duration_within(n, "timeout", EXEC_TIMEOUT, d));
    Some(Exec {
        command: command?,
        env,
        timeout: timeout.unwrap_or(Duration::from_secs(600)),
    })
}

fn exec(node: &Node, what: &str, d: &mut Diagnostics) -> Option<Exec> {
    let mut f = Fields::of(node, what, d)?;
    let exec = exec_fields(&mut f, d);
    f.finish(d);
    exec
}

fn environment(node: &Node, d: &mut Diagnostics) -> Option<Environment> {
    let mut f = Fields::of(node, "an environment", d)?;
    let name = f
        .require("name", d)
        .and_then(|n| read::name(n, "environment", d));
    if let Some(name) = &name {
        f.rename(format!("environment `{}`", name.escape_debug()));
    }
    let deploy = f
        .require("deploy", d)
        .and_then(|n| read::text(n, "deploy", d));
    let steps = f
        .get("steps")
        .and_then(|n| read::list(n, "steps", d))
        .map(|items| items.iter().filter_map(|n| step(n, d)).collect::<Vec<_>>());
    let mut accepts_partial = false;
    let soak = f.get("requires").and_then(|n| {
        let mut r = Fields::of(n, "`requires`", d)?;
        let soak = r
            .get("soak")
            .and_then(|s| read::duration_within(s, "soak", SOAK, d));
        if let Some(all) = r
            .get("all_targets")
            .and_then(|b| read::boolean(b, "all_targets", d))
        {
            accepts_partial = !all;
        }
        r.finish(d);
        soak
    });
    let approval = f.get("approval").and_then(|n| approval(n, d));
    let steps = steps.map(|steps| inherit_signing(steps, approval.as_ref()));
    let mut windows: Vec<Window> = f
        .get("freeze")
        .and_then(|n| read::list(n, "freeze", d))
        .map(|items| {
            items
                .iter()
                .filter_map(|n| super::windows::freeze(n, d))
                .collect()
        })
        .unwrap_or_default();
    let error_budget = f.get("error_budget").and_then(|n| error_budget(n, d));
    if let Some(n) = f.get("windows") {
        windows.extend(super::windows::windows(n, d));
    }
    let rollback_on_failure = f
        .get("rollback")
        .and_then(|n| {
            let mut r = Fields::of(n, "`rollback`", d)?;
            let on = r
                .get("on_failure")
                .and_then(|b| read::boolean(b, "on_failure", d));
            r.finish(d);
            on
        })
        .unwrap_or(true);
    let targets: Vec<Target> = f
        .get("targets")
        .and_then(|n| read::list(n, "targets", d))
        .map(|items| items.iter().filter_map(|n| target(n, d)).collect())
        .unwrap_or_default();
    let waves_node = f.get("waves");
    let mut waves: Vec<Wave> = waves_node
        .and_then(|n| read::list(n, "waves", d))
        .map(|items| items.iter().filter_map(|n| wave(n, d)).collect())
        .unwrap_or_default();
    let on_target_failure = f
        .get("on_target_failure")
        .and_then(|n| {
            let choices = [
                ("rollback", TargetFailure::Rollback),
                ("stop", TargetFailure::Stop),
                ("continue", TargetFailure::Continue),
            ];
            read::choice(n, "on_target_failure", &choices, d)
        })
        .unwrap_or(TargetFailure::Rollback);
    let pos = f.pos;
    if let Some(n) = waves_node
        && targets.is_empty()
    {
        d.at(
            n.pos,
            "`waves` group `targets`: this environment lists none",
        );
    }
    if waves_node.is_none() && !targets.is_empty() {
        // Without `waves`, one wave of every target, one at a time.
        waves.push(Wave {
            pos,
            targets: targets
                .iter()
                .map(|t| Text {
                    raw: t.name.clone(),
                    pos: t.pos,
                })
                .collect(),
            parallel: 1,
            soak: None,
        });
    }
    f.finish(d);
    let steps = steps.unwrap_or_else(|| {
        vec![Step {
            kind: StepKind::Deploy { weight: None },
            pos,
        }]
    });
    Some(Environment {
        name: name?,
        pos,
        deploy: deploy?,
        steps,
        soak,
        approval,
        windows,
        error_budget,
        rollback_on_failure,
        targets,
        waves,
        on_target_failure,
        accepts_partial,
    })
}

fn target(node: &Node, d: &mut Diagnostics) -> Option<Target> {
    let mut f = Fields::of(node, "a target", d)?;
    let name = f
        .require("name", d)
        .and_then(|n| read::name(n, "target", d));
    if let Some(name) = &name {
        f.rename(format!("target `{}`", name.escape_debug()));
    }
    let vars = f
        .get("vars")
        .map(|n| {
            untemplated(n, name.as_deref().unwrap_or("?"), d);
            vars(n, d)
        })
        .unwrap_or_default();
    let deploy = f.get("deploy").and_then(|n| read::text(n, "deploy", d));
    let pos = f.pos;
    f.finish(d);
    Some(Target {
        name: name?,
        pos,
        vars,
        deploy,
    })
}

/// A target's vars are plain text, put into templates as they are: a template in one
/// (`{{ secret.PW }}`) would reach the platform as those characters, so it is refused.
fn untemplated(node: &Node, target: &str, d: &mut Diagnostics) {
    let Value::Map(entries) = &node.value else {
        return;
    };
    for (key, value) in entries {
        let Value::Str(text) = &value.value else {
            continue;
        };
        if text.contains("{{") || text.contains("{%") {
            d.at(
                value.pos,
                format!(
                    "`vars.{}` of target `{}` holds a template: a target's vars are plain text, never rendered; put the template where the var is used (a provider's url, headers or body)",
                    key_text(key),
                    target.escape_debug()
                ),
            );
        }
    }
}

fn wave(node: &Node, d: &mut Diagnostics) -> Option<Wave> {
    let mut f = Fields::of(node, "a wave", d)?;
    let targets = f
        .require("targets", d)
        .and_then(|n| read::list(n, "targets", d))
        .map(|items| {
            items
                .iter()
                .filter_map(|n| read::text(n, "targets", d))
                .collect::<Vec<_>>()
        });
    // A bad `parallel` is reported here; the wave is kept (at 1), so its targets are
    // not also reported as standing in no wave.
    let parallel = match f.get("parallel") {
        None => 1,
        Some(n) => match n.value {
            Value::Int(i) if i < 1 => {
                d.at(n.pos, "`parallel` must be 1 or more");
                1
            }
            _ => read::uint(n, "parallel", d).unwrap_or(1),
        },
    };
    let soak = f
        .get("soak")
        .and_then(|s| read::duration_within(s, "soak", SOAK, d));
    let pos = f.pos;
    f.finish(d);
    Some(Wave {
        pos,
        targets: targets?,
        parallel,
        soak,
    })
}

const STEP_KINDS: [&str; 8] = [
    "deploy",
    "pause",
    "analysis",
    "approval",
    "http",
    "exec",
    "error_budget",
    "flag",
];

fn step(node: &Node, d: &mut Diagnostics) -> Option<Step> {
    let entries = match &node.value {
        Value::Map(entries) if entries.len() == 1 => entries,
        _ => {
            d.at(
                node.pos,
                format!(
                    "a step must be one of `{}: …`, found {}",
                    STEP_KINDS.join(": …`, `"),
                    node.kind()
                ),
            );
            return None;
        }
    };
    let (key, value) = &entries[0];
    let pos = key.pos;
    let kind = match key_text(key).as_str() {
        "deploy" => {
            let weight = match &value.value {
                Value::Null => None,
                _ => {
                    let mut f = Fields::of(value, "a `deploy` step", d)?;
                    let weight = f.get("weight").and_then(|w| {
                        let n = read::uint(w, "weight", d)?;
                        if !(1..=100).contains(&n) {
                            d.at(
                                w.pos,
                                format!("`weight` is a percentage from 1 to 100, found {n}"),
                            );
                            return None;
                        }
                        Some(n as u8)
                    });
                    f.finish(d);
                    weight
                }
            };
            StepKind::Deploy { weight }
        }
        "pause" => StepKind::Pause(read::duration_within(value, "pause", PAUSE, d)?),
        "analysis" => StepKind::Analysis(read::text(value, "analysis", d)?),
        "error_budget" => match &value.value {
            Value::Null => StepKind::ErrorBudget,
            Value::Map(m) if m.is_empty() => StepKind::ErrorBudget,
            _ => {
                d.at(
                    value.pos,
                    "an `error_budget` step takes no settings (`- error_budget: {}`): it reads the environment's `error_budget`",
                );
                return None;
            }
        },
        "approval" => match &value.value {
            Value::Null => StepKind::Approval(None),
            Value::Map(m) if m.is_empty() => StepKind::Approval(None),
            _ => StepKind::Approval(Some(approval(value, d)?)),
        },
        "http" => {
            let mut f = Fields::of(value, "an `http` step", d)?;
            let call = http_call(&mut f, d);
            let undo = f.get("undo").and_then(|n| {
                let mut u = Fields::of(n, "`undo`", d)?;
                let call = http_call(&mut u, d);
                u.finish(d);
                call
            });
            f.finish(d);
            StepKind::Http(HttpStep { call: call?, undo })
        }
        "exec" => {
            let mut f = Fields::of(value, "an `exec` step", d)?;
            let exec = exec_fields(&mut f, d);
            let undo = f.get("undo").and_then(|n| self::exec(n, "`undo`", d));
            f.finish(d);
            StepKind::Exec(ExecStep { exec: exec?, undo })
        }
        "flag" => StepKind::Flag(flag_step(value, d)?),
        other => {
            let hint = super::diag::did_you_mean(other, STEP_KINDS)
                .map(|c| format!(" (did you mean `{c}`?)"))
                .unwrap_or_else(|| format!(" (expected one of: {})", STEP_KINDS.join(", ")));
            d.at(pos, format!("unknown step `{other}`{hint}"));
            return None;
        }
    };
    Some(Step { kind, pos })
}

fn http_call(f: &mut Fields, d: &mut Diagnostics) -> Option<HttpCall> {
    let request = f.require("request", d).and_then(|n| request(n, "POST", d));
    let success = f.get("success").and_then(|n| read::text(n, "success", d));
    Some(HttpCall {
        request: request?,
        success,
    })
}

/// An `approval` step with its own keys in an environment whose gate is signed is signed
/// too, against the same file, unless it says otherwise: a step that names its own
/// approvers must not quietly let self-asserted identities through (docs/plan.md).
fn inherit_signing(mut steps: Vec<Step>, env: Option<&Approval>) -> Vec<Step> {
    let Some(env) = env.filter(|a| a.signed) else {
        return steps;
    };
    for step in &mut steps {
        if let StepKind::Approval(Some(own)) = &mut step.kind {
            if !own.signed_set {
                own.signed = true;
            }
            if !own.allowed_signers_set {
                own.allowed_signers = env.allowed_signers.clone();
            }
        }
    }
    steps
}

fn approval(node: &Node, d: &mut Diagnostics) -> Option<Approval> {
    let mut f = Fields::of(node, "`approval`", d)?;
    let approvers = f.require("approvers", d).and_then(|n| {
        let items = read::list(n, "approvers", d)?;
        let list: Vec<String> = items
            .iter()
            .filter_map(|i| read::string(i, "approvers", d))
            .collect();
        for (item, who) in items.iter().zip(&list) {
            let valid = match who.strip_prefix("*@") {
                Some(domain) => !domain.is_empty() && !domain.contains(['*', '@']),
                None => !who.is_empty() && !who.contains('*'),
            };
            if !valid {
                d.at(
                    item.pos,
                    format!("approver `{who}` must be an identity or `*@domain`"),
                );
            }
        }
        if list.is_empty() {
            d.at(n.pos, "`approvers` must name at least one approver");
        }
        Some(list)
    });
    let min = f.get("min").and_then(|n| {
        let min = read::uint(n, "min", d)?;
        if min == 0 {
            d.at(n.pos, "`min` must be at least 1");
        }
        Some(min)
    });
    let allow_self = f
        .get("allow_self")
        .and_then(|n| read::boolean(n, "allow_self", d));
    let signed = f.get("signed").and_then(|n| read::boolean(n, "signed", d));
    let allowed_signers = f.get("allowed_signers").and_then(|n| {
        let path = read::string(n, "allowed_signers", d)?;
        let inside = !path.is_empty()
            && !path.starts_with('/')
            && path.split('/').all(|part| !part.is_empty() && part != "..");
        if !inside {
            d.at(
                n.pos,
                format!(
                    "`allowed_signers` must be a path inside the plan's repository, not `{path}`"
                ),
            );
        }
        Some(path)
    });
    f.finish(d);
    Some(Approval {
        approvers: approvers?,
        min: min.unwrap_or(1),
        allow_self: allow_self.unwrap_or(true),
        signed: signed.unwrap_or(false),
        signed_set: signed.is_some(),
        allowed_signers_set: allowed_signers.is_some(),
        allowed_signers: allowed_signers
            .unwrap_or_else(|| super::types::DEFAULT_ALLOWED_SIGNERS.to_string()),
    })
}

fn error_budget(node: &Node, d: &mut Diagnostics) -> Option<ErrorBudget> {
    let mut f = Fields::of(node, "`error_budget`", d)?;
    let provider = f
        .require("provider", d)
        .and_then(|n| read::text(n, "provider", d));
    let percent = |key: &'static str, n: &Node, d: &mut Diagnostics| {
        let x = read::number(n, key, d)?;
        if !(0.0..100.0).contains(&x) || (key == "objective" && x == 0.0) {
            d.at(
                n.pos,
                format!("`{key}` is a percentage below 100 (99.9 for 99.9%), found {x}"),
            );
            return None;
        }
        // An objective below 50% leaves half the requests to fail: a fraction
        // (`0.999`) written for a percentage.
        if key == "objective" && x < 50.0 {
            d.at(
                n.pos,
                format!("`objective` is a percentage (99.9 for 99.9%), found {x}: that allows {}% of requests to fail", 100.0 - x),
            );
            return None;
        }
        Some(x / 100.0)
    };
    let objective = f
        .require("objective", d)
        .and_then(|n| percent("objective", n, d));
    let period = f
        .require("period", d)
        .and_then(|n| read::duration_within(n, "period", SLO_PERIOD, d));
    let query_node = f.get("error_ratio");
    let query = query_node.and_then(|n| {
        let query = read::string(n, "error_ratio", d)?;
        // `{{ window }}` is the one name read in it; any other template text would be
        // sent to Prometheus as it is written.
        let rest = query.replace(BUDGET_WINDOW, "");
        if let Some(other) = ["{{", "{%", "{#"].iter().find(|t| rest.contains(**t)) {
            d.at(
                n.pos,
                format!("`error_ratio` may use no template but `{BUDGET_WINDOW}` (written just so), found `{other}…` in `{query}`"),
            );
            return None;
        }
        if !query.contains(BUDGET_WINDOW) {
            d.at(
                n.pos,
                format!("`error_ratio` must say where the window goes with `{BUDGET_WINDOW}`, as in `rate(errors[{BUDGET_WINDOW}])`"),
            );
            return None;
        }
        Some(BudgetSource::Query(query))
    });
    let sloth_node = f.get("sloth");
    let sloth = sloth_node.and_then(|n| {
        let mut s = Fields::of(n, "`sloth`", d)?;
        let service = s
            .require("service", d)
            .and_then(|n| read::string(n, "service", d));
        let slo = s.require("slo", d).and_then(|n| read::string(n, "slo", d));
        s.finish(d);
        Some(BudgetSource::Sloth {
            service: service?,
            slo: slo?,
        })
    });
    let pyrra_node = f.get("pyrra");
    let pyrra = pyrra_node.and_then(|n| {
        let mut s = Fields::of(n, "`pyrra`", d)?;
        let metric = s.require("metric", d).and_then(|n| {
            let metric = read::string(n, "metric", d)?;
            let mut chars = metric.chars();
            let name = chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
            if !name {
                d.at(
                    n.pos,
                    format!("`metric` must be a Prometheus metric name (`http_requests_total`), found `{metric}`"),
                );
                return None;
            }
            Some(metric)
        });
        let slo = s.require("slo", d).and_then(|n| read::string(n, "slo", d));
        s.finish(d);
        Some(BudgetSource::Pyrra {
            // Pyrra names its rules after the counter without `_total`.
            metric: metric?.trim_end_matches("_total").to_string(),
            slo: slo?,
        })
    });
    let min_remaining = f
        .get("min_remaining")
        .and_then(|n| percent("min_remaining", n, d));
    let on_error = f.get("on_error").and_then(|n| {
        read::choice(
            n,
            "on_error",
            &[("block", OnError::Block), ("pass", OnError::Pass)],
            d,
        )
    });
    let pos = f.pos;
    f.finish(d);
    match [query_node, sloth_node, pyrra_node].iter().flatten().count() {
        0 => d.at(
            pos,
            "`error_budget` needs `error_ratio` (a query), `sloth` or `pyrra` (their recording rules)",
        ),
        1 => {}
        _ => d.at(
            pos,
            "`error_budget` takes one of `error_ratio`, `sloth` and `pyrra`, not several",
        ),
    }
    let source = query.or(sloth).or(pyrra);
    Some(ErrorBudget {
        provider: provider?,
        objective: objective?,
        period: period?,
        source: source?,
        min_remaining: min_remaining.unwrap_or(0.0),
        on_error: on_error.unwrap_or(OnError::Block),
    })
}

fn analysis(name: &str, node: &Node, d: &mut Diagnostics) -> Option<Analysis> {
    let mut f = Fields::of(node, format!("analysis `{name}`"), d)?;
    let dur = |key: &'static str, f: &mut Fields, d: &mut Diagnostics| {
        f.get(key)
            .and_then(|n| read::duration_within(n, key, ANALYSIS_WAIT, d))
    };
    let int = |key: &'static str, f: &mut Fields, d: &mut Diagnostics| {
        f.get(key).and_then(|n| read::uint(n, key, d))
    };
    let interval = dur("interval", &mut f, d);
    let delay_pos = f.get("initial_delay").map_or(f.pos, |n| n.pos);
    let initial_delay = dur("initial_delay", &mut f, d);
    let count = f.get("count").and_then(|n| {
        let c = read::uint(n, "count", d)?;
        if !(1..=COUNT_MAX).contains(&c) {
            d.at(
                n.pos,
                format!("`count` must be from 1 to {COUNT_MAX}, found {c}"),
            );
            return None;
        }
        Some(c)
    });
    let failure_limit = int("failure_limit", &mut f, d);
    let inconclusive_limit = int("inconclusive_limit", &mut f, d);
    let consecutive_error_limit = int("consecutive_error_limit", &mut f, d);
    let metrics = f.require("metrics", d).and_then(|n| {
        let items = read::list(n, "metrics", d)?;
        if items.is_empty() {
            d.at(n.pos, "`metrics` must list at least one metric");
        }
        let metrics: Vec<Metric> = items.iter().filter_map(|i| metric(i, d)).collect();
        for (i, m) in metrics.iter().enumerate() {
            if metrics[..i].iter().any(|earlier| earlier.name == m.name) {
                d.at(
                    m.provider.pos,
                    format!("metric `{}` is defined twice in analysis `{name}`", m.name),
                );
            }
        }
        Some(metrics)
    });
    let pos = f.pos;
    f.finish(d);
    let analysis = Analysis {
        pos: delay_pos,
        interval: interval.unwrap_or(Duration::from_secs(60)),
        count: count.unwrap_or(1),
        initial_delay: initial_delay.unwrap_or_default(),
        failure_limit: failure_limit.unwrap_or(0),
        inconclusive_limit: inconclusive_limit.unwrap_or(0),
        consecutive_error_limit: consecutive_error_limit.unwrap_or(4),
        metrics: metrics?,
    };
    let length = analysis
        .interval
        .checked_mul(analysis.count - 1)
        .and_then(|d| d.checked_add(analysis.initial_delay));
    if length.is_none_or(|l| l > ANALYSIS_LENGTH) {
        d.at(
            pos,
            format!(
                "analysis `{name}` would last longer than {} (`initial_delay` + `interval` × (`count` - 1))",
                crate::duration::format(ANALYSIS_LENGTH)
            ),
        );
    }
    Some(analysis)
}

fn metric(node: &Node, d: &mut Diagnostics) -> Option<Metric> {
    let mut f = Fields::of(node, "a metric", d)?;
    let name = f
        .require("name", d)
        .and_then(|n| read::name(n, "metric", d));
    let provider = f
        .require("provider", d)
        .and_then(|n| read::text(n, "provider", d));
    let query = f.get("query").and_then(|n| read::text(n, "query", d));
    let compare_node = f.get("compare");
    let compare = compare_node.and_then(|n| compare(n, d));
    let min_node = f.get("min");
    let max_node = f.get("max");
    let judged = min_node.is_some() || max_node.is_some() || compare_node.is_some();
    let min = min_node.and_then(|n| read::number(n, "min", d));
    let max = max_node.and_then(|n| read::number(n, "max", d));
    let no_data = f.get("no_data").and_then(|n| {
        read::choice(
            n,
            "no_data",
            &[
                ("fail", NoData::Fail),
                ("inconclusive", NoData::Inconclusive),
                ("pass", NoData::Pass),
            ],
            d,
        )
    });
    let reduce = f.get("reduce").and_then(|n| {
        read::choice(
            n,
            "reduce",
            &[
                ("sum", Reduce::Sum),
                ("min", Reduce::Min),
                ("max", Reduce::Max),
                ("avg", Reduce::Avg),
            ],
            d,
        )
    });
    let pos = f.pos;
    f.finish(d);
    if let (Some(lo), Some(hi)) = (min, max)
        && lo > hi
    {
        d.at(
            pos,
            format!("metric `min` ({lo}) is above its `max` ({hi})"),
        );
    }
    if query.is_some() && compare.is_some() {
        d.at(pos, "a metric takes either `query` or `compare`, not both");
    }
    if !judged {
        d.at(
            pos,
            format!(
                "metric `{}` needs `min`, `max` or `compare` to judge its values",
                name.as_deref().unwrap_or("?")
            ),
        );
    }
    Some(Metric {
        name: name?,
        provider: provider?,
        query,
        compare,
        min,
        max,
        no_data: no_data.unwrap_or(NoData::Inconclusive),
        reduce,
    })
}

fn compare(node: &Node, d: &mut Diagnostics) -> Option<Compare> {
    let mut f = Fields::of(node, "`compare`", d)?;
    let canary = f
        .require("canary", d)
        .and_then(|n| read::text(n, "canary", d));
    let baseline = f
        .require("baseline", d)
        .and_then(|n| read::text(n, "baseline", d));
    let direction = f.get("direction").and_then(|n| {
        read::choice(
            n,
            "direction",
            &[
                ("increase", Direction::Increase),
                ("decrease", Direction::Decrease),
                ("either", Direction::Either),
            ],
            d,
        )
    });
    let fraction = |key: &'static str, f: &mut Fields, d: &mut Diagnostics| {
        let n = f.get(key)?;
        let x = read::number(n, key, d)?;
        if !(0.0..1.0).contains(&x) || x == 0.0 {
            d.at(n.pos, format!("`{key}` must be between 0 and 1, found {x}"));
        }
        Some(x)
    };
    let confidence = fraction("confidence", &mut f, d);
    let tolerance = f.get("tolerance").and_then(|n| {
        let x = read::number(n, "tolerance", d)?;
        if x < 0.0 {
            d.at(n.pos, "`tolerance` must not be negative");
        }
        Some(x)
    });
    f.finish(d);
    Some(Compare {
        canary: canary?,
        baseline: baseline?,
        direction: direction.unwrap_or(Direction::Increase),
        confidence: confidence.unwrap_or(0.98),
        tolerance: tolerance.unwrap_or(0.25),
    })
}

fn notify(node: &Node, d: &mut Diagnostics) -> Option<Notify> {
    let mut f = Fields::of(node, "a notify hook", d)?;
    let url = f.require("url", d).and_then(|n| read::text(n, "url", d));
    let events = f.get("events").and_then(|n| {
        let items = read::list(n, "events", d)?;
        let mut events = Vec::new();
        for item in items {
            let Some(e) = read::string(item, "events", d) else {
                continue;
            };
            if NOTIFY_EVENTS.contains(&e.as_str()) {
                events.push(e);
            } else {
                let hint = super::diag::did_you_mean(&e, NOTIFY_EVENTS.iter().copied())
                    .map(|c| format!(" (did you mean `{c}`?)"))
                    .unwrap_or_else(|| format!(" (events: {})", NOTIFY_EVENTS.join(", ")));
                d.at(item.pos, format!("unknown notify event `{e}`{hint}"));
            }
        }
        Some(events)
    });
    let format = f.get("format").and_then(|n| {
        read::choice(
            n,
            "format",
            &[("json", NotifyFormat::Json), ("slack", NotifyFormat::Slack)],
            d,
        )
    });
    let headers = f.get("headers").map(|n| headers(n, d)).unwrap_or_default();
    f.finish(d);
    Some(Notify {
        url: url?,
        events: events.unwrap_or_else(|| NOTIFY_EVENTS.iter().map(|e| e.to_string()).collect()),
        format: format.unwrap_or(NotifyFormat::Json),
        headers,
    })
}
