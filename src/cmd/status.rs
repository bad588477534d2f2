//! `relctl status`: what is live in each environment, from the record.

use serde_json::{Value, json};

use super::Context;
use crate::engine::{self, EnvFile};
use crate::format;
use crate::record::{Freshness, Snapshot};
use crate::ui::OutputMode;

/// Show what is live in each environment, and record commits not yet pushed
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this environment
    #[arg(long, value_name = "ENV", add = clap_complete::ArgValueCandidates::new(crate::complete::environments))]
    pub env: Option<String>,
}

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<()> {
    let plan = super::load_plan(ctx)?;
    let names: Vec<&str> = match &args.env {
        Some(env) => vec![super::environment(&plan, env)?.name.as_str()],
        None => plan.environments.iter().map(|e| e.name.as_str()).collect(),
    };
    let (store, freshness) = super::read_record(ctx, &plan)?;
    let snapshot = store.snapshot()?;
    let rows = names
        .iter()
        .map(|name| {
            let steps = plan.environment(name).map_or(0, |e| e.steps.len());
            let mut row = row(
                &snapshot,
                &plan.app,
                name,
                steps,
                &format::read_env(&snapshot, &plan.app, name)?,
            )?;
            if let Some(env) = plan.environment(name) {
                closed(&mut row, env, crate::clock::now());
            }
            Ok(row)
        })
        .collect::<anyhow::Result<Vec<Value>>>()?;
    let unpushed = store.unpushed().unwrap_or(0);
    if ctx.printer.mode() == OutputMode::Json {
        return ctx.printer.json(&json!({
            "environments": rows,
            "unpushed": unpushed,
            "remote": store.remote_shown(),
            "view": view(&freshness),
        }));
    }
    let columns = [
        "ENV", "RELEASE", "VERSION", "DIGEST", "SINCE", "STATE", "WHO",
    ];
    let keys = [
        "env", "release", "version", "digest", "since", "state", "who",
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            keys.iter()
                .map(|k| cell(k, r[*k].as_str()).unwrap_or_else(|| "-".to_string()))
                .collect()
        })
        .collect();
    let widths: Vec<usize> = (0..columns.len())
        .map(|i| {
            cells
                .iter()
                .map(|c| c[i].chars().count())
                .chain([columns[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |values: Vec<&str>| {
        let mut out: String = values
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:<w$}  "))
            .collect();
        out.truncate(out.trim_end().len());
        out.push('\n');
        out
    };
    let mut text = line(columns.to_vec());
    for c in &cells {
        text.push_str(&line(c.iter().map(String::as_str).collect()));
    }
    let next: Vec<&str> = rows
        .iter()
        .flat_map(|r| [r["next"].as_str(), r["closed"].as_str()])
        .flatten()
        .collect();
    if !next.is_empty() {
        text.push('\n');
        for line in next {
            text.push_str(line);
            text.push('\n');
        }
    }
    if unpushed > 0 {
        text.push_str(&format!(
            "\n{unpushed} record commit(s) not pushed to {} yet; the next relctl command pushes them\n",
            store.remote_shown().as_deref().unwrap_or("the remote")
        ));
    }
    ctx.printer.data(&text)
}

/// A table cell: the JSON's full digest shortened to 12 hex, its RFC 3339 time in minutes.
fn cell(key: &str, value: Option<&str>) -> Option<String> {
    let value = value?;
    Some(match key {
        "digest" => value
            .trim_start_matches("sha256:")
            .chars()
            .take(12)
            .collect(),
        "since" => chrono::DateTime::parse_from_rfc3339(value)
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|_| value.to_string()),
        _ => value.to_string(),
    })
}

/// How current the record shown is, for `--output json`.
fn view(freshness: &Freshness) -> Value {
    match freshness {
        Freshness::Local => json!({ "fetched": null }),
        Freshness::Fetched => json!({ "fetched": true }),
        Freshness::CheckedOut { behind } => json!({ "fetched": true, "behind": behind }),
        Freshness::Offline { as_of, .. } => json!({ "fetched": false, "as_of": as_of }),
        Freshness::Stale { why, as_of, .. } => {
            json!({ "fetched": false, "as_of": as_of, "error": why })
        }
    }
}

/// Whether the environment's deployment windows let a promotion in now: `closed` says
/// why not and until when, `closed_until` is that time (`null`: no opening in sight).
fn closed(row: &mut Value, env: &crate::plan::Environment, now: chrono::DateTime<chrono::Utc>) {
    let Some(closed) = engine::window::closed(&env.windows, now) else {
        row["closed"] = Value::Null;
        return;
    };
    row["closed"] = json!(closed.describe(&env.name, &env.windows));
    row["closed_until"] = json!(
        closed
            .until
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    );
}

/// One environment's row; `steps` is how many steps the plan gives it.
fn row(
    snapshot: &Snapshot,
    app: &str,
    name: &str,
    steps: usize,
    file: &EnvFile,
) -> anyhow::Result<Value> {
    let live = file.live.as_ref();
    let mut state = match (&file.rolled_back, live) {
        (Some(note), _) => format!("rolled back (from {})", note.from),
        (None, Some(_)) => "live".to_string(),
        (None, None) => "empty".to_string(),
    };
    let mut who = file
        .rolled_back
        .as_ref()
        .map(|n| n.by.clone())
        .or_else(|| live.map(|l| l.by.clone()));
    let mut next = None;
    if let Some(lock) = &file.lock {
        let holder = format::read_release(snapshot, app, &lock.release)?
            .map(|f| engine::fold(Some(&f)))
            .unwrap_or_default();
        let run = holder.env(name);
        let what = if holder.interrupted {
            next = Some(format!(
                "{} was interrupted in {name}; `relctl resume {}` continues it",
                lock.release, lock.release
            ));
            "interrupted"
        } else if run.rollback_failed.is_some() {
            next = Some(format!(
                "rolling {name} back failed; `relctl rollback --env {name}` tries again"
            ));
            "rollback failed"
        } else if run.waiting_at().is_some() {
            "awaiting approval"
        } else if run.inconclusive.is_some() {
            "paused (inconclusive)"
        } else if run.failed.is_some() {
            "paused (failed)"
        } else if run.rolling_back {
            "rolling back"
        } else {
            "in progress"
        };
        state = format!("{what}: {}", lock.release);
        if what == "in progress"
            && let Some(step) = run.position(steps)
        {
            state.push_str(&format!(" (step {step})"));
        }
        who = Some(lock.by.clone());
    }
    Ok(json!({
        "env": name,
        "release": live.map(|l| l.release.clone()),
        "version": live.map(|l| l.version.clone()),
        "digest": live.map(|l| l.digest.clone()),
        "since": live.map(|l| l.since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        "state": state,
        "who": who.filter(|w| !w.is_empty()),
        "lock": file.lock,
        "next": next,
    }))
}
