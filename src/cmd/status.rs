//! `relctl status`: what is live in each environment, from the record.

use serde_json::{Value, json};

use super::Context;
use super::org_rows::{self, Line, Row, RowLock};
use crate::engine::{self, EnvFile, ReleaseFile};
use crate::format;
use crate::plan::Environment;
use crate::record::Freshness;
use crate::ui::OutputMode;

/// Show what is live in each environment, and record commits not yet pushed
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this environment
    #[arg(long, value_name = "ENV", add = clap_complete::ArgValueCandidates::new(crate::complete::environments))]
    pub env: Option<String>,

    /// Every app and environment in the record: the organisation's view
    #[arg(long)]
    pub all: bool,

    /// Only this app, in the organisation's view (implies --all)
    #[arg(long, value_name = "APP")]
    pub app: Option<String>,

    /// Also a table of each target of environments with targets (always in JSON)
    #[arg(long)]
    pub targets: bool,

    #[command(flatten)]
    pub records: RecordsArgs,
}

/// Where the organisation's views read the record when there is no plan.
#[derive(Debug, Clone, clap::Args)]
pub struct RecordsArgs {
    /// Read this records repository (a directory or a URL) instead of the plan's; needs no plan
    #[arg(long, value_name = "DIR|URL")]
    pub records: Option<String>,

    /// The records branch in --records [default: relctl/records]
    #[arg(long, value_name = "BRANCH", requires = "records")]
    pub branch: Option<String>,
}

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<()> {
    if args.all || args.app.is_some() || args.records.records.is_some() {
        return all(&args, ctx);
    }
    let plan = super::load_plan(ctx)?;
    let names: Vec<&str> = match &args.env {
        Some(env) => vec![super::environment(&plan, env)?.name.as_str()],
        None => plan.environments.iter().map(|e| e.name.as_str()).collect(),
    };
    let (store, freshness) = super::read_record(ctx, &plan)?;
    let snapshot = store.snapshot()?;
    // Per environment with flags, the release whose record names them (to read them).
    let mut flagged: Vec<(String, crate::runner::Header)> = Vec::new();
    // Releases live here that were aborted between two environments, and where.
    let mut aborted: Vec<(String, Vec<String>, engine::state::Halt)> = Vec::new();
    let mut rows = names
        .iter()
        .map(|name| {
            // An environment with targets stands at a wave, not a step (its targets' rows).
            let steps = plan
                .environment(name)
                .filter(|e| e.targets.is_empty())
                .map_or(0, |e| e.steps.len());
            let file = format::read_env(&snapshot, &plan.app, name)?;
            let made = row(name, &file, &mut |release| {
                let holder = format::read_release(&snapshot, &plan.app, release)?;
                Ok(holding_of(holder.as_ref(), name, steps))
            })?;
            let mut row = row_value(&made, &file);
            if let Some(env) = plan.environment(name) {
                closed(&mut row, env, crate::clock::now());
                if !env.targets.is_empty() {
                    let holder = match &file.lock {
                        Some(lock) => format::read_release(&snapshot, &plan.app, &lock.release)?,
                        None => None,
                    };
                    targets(&mut row, env, &file, holder.as_ref());
                }
            }
            // The flags of the release under way, then of the one live (whose flags stay
            // on while another is under way), then of the one live before it if its flags
            // are not put back (`rollback --flags-only` acts on it), as the record knows
            // them. One before only: status reads no more release files than that.
            let mut flags: Vec<Value> = Vec::new();
            let current = (file.lock.iter().map(|l| (&l.release, true)))
                .chain(file.live.iter().map(|l| (&l.release, true)));
            for (release, always) in
                current.chain(file.previous.iter().take(1).map(|l| (&l.release, false)))
            {
                let Some(record) = format::read_release(&snapshot, &plan.app, release)? else {
                    continue;
                };
                let state = engine::fold(Some(&record));
                // Live here, but aborted between two environments: it goes no further.
                if let Some(halt) = &state.aborted
                    && file.live.as_ref().is_some_and(|l| &l.release == release)
                {
                    row["aborted"] = halt_value(halt);
                    match aborted.iter_mut().find(|(id, _, _)| id == release) {
                        Some((_, envs, _)) => envs.push(name.to_string()),
                        None => {
                            aborted.push((release.clone(), vec![name.to_string()], halt.clone()))
                        }
                    }
                }
                let run = state.env(name);
                if !always && !run.flags_to_put_back() {
                    continue;
                }
                for flag in flags_of(&run) {
                    if !flags.iter().any(|f| f["flag"] == flag["flag"]) {
                        flags.push(flag);
                    }
                }
                if !flags.is_empty() && !flagged.iter().any(|(e, _)| e == name) {
                    flagged.push((name.to_string(), super::release::header_of(&record)));
                }
            }
            if !flags.is_empty() {
                row["flags"] = json!(flags);
                row["flags_as"] = json!("recorded");
            }
            Ok(row)
        })
        .collect::<anyhow::Result<Vec<Value>>>()?;
    drop(snapshot);
    read_flags(ctx, &plan, &flagged, &mut rows);
    let unpushed = store.unpushed().unwrap_or(0);
    if ctx.printer.mode() == OutputMode::Json {
        return ctx.printer.json(&json!({
            "environments": rows,
            "unpushed": unpushed,
            "remote": store.remote_shown(),
            "view": super::view(&freshness, &store.held()?),
        }));
    }
    let columns = [
        "ENV", "RELEASE", "VERSION", "DIGEST", "SINCE", "STATE", "WHO",
    ];
    let keys = [
        "env", "release", "version", "digest", "since", "state", "who",
    ];
    let cells: Vec<Vec<String>> = rows.iter().map(|r| cells(&keys, r)).collect();
    let mut text = crate::ui::table::table(&columns, &cells);
    if args.targets {
        text.push_str(&target_table(&rows));
    }
    let mut next: Vec<String> = rows
        .iter()
        .flat_map(|r| [r["next"].as_str(), r["closed"].as_str()])
        .flatten()
        .map(str::to_string)
        .collect();
    next.extend(aborted.iter().map(|(release, envs, halt)| {
        format!(
            "{release}, live in {}, was {} and goes no further (`relctl promote --force` takes it on)",
            envs.join(", "),
            halt.describe()
        )
    }));
    for r in &rows {
        let flags = r["flags"].as_array().cloned().unwrap_or_default();
        if flags.is_empty() {
            continue;
        }
        let shown: Vec<String> = flags
            .iter()
            .map(|f| {
                let (flag, state) = (
                    f["flag"].as_str().unwrap_or("?"),
                    f["state"].as_str().unwrap_or("?"),
                );
                match (f["unread"].as_str(), f["recorded"].as_str()) {
                    (Some(why), _) => {
                        format!("{flag} {state} (as recorded; Unleash not read: {why})")
                    }
                    (None, Some(was)) => {
                        format!("{flag} {state} (recorded: {was}; changed outside relctl)")
                    }
                    (None, None) => format!("{flag} {state}"),
                }
            })
            .collect();
        let now = if r["flags_as"] == "unleash" {
            " (Unleash now)"
        } else {
            ""
        };
        next.push(format!(
            "flags in {}: {}{now}",
            r["env"].as_str().unwrap_or("?"),
            shown.join(", ")
        ));
    }
    if !next.is_empty() {
        text.push('\n');
        for line in next {
            text.push_str(&line);
            text.push('\n');
        }
    }
    if unpushed > 0 {
        let next = match freshness {
            Freshness::Conflict { .. } => "they conflict with it (above)",
            _ => "the next relctl command that writes pushes them",
        };
        text.push_str(&format!(
            "\n{unpushed} record commit(s) not pushed to {} yet; {next}\n",
            store.remote_shown().as_deref().unwrap_or("the remote")
        ));
    }
    ctx.printer.data(&crate::text::visible(&text))
}

/// An abort of a whole release (`ReleaseState::aborted`) as `status` and `releases`
/// give it in JSON.
pub(super) fn halt_value(halt: &engine::state::Halt) -> Value {
    json!({
        "by": halt.by,
        "at": halt.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "reason": halt.reason,
    })
}

/// A row's table cells: `-` where the JSON has nothing.
fn cells(keys: &[&str], row: &Value) -> Vec<String> {
    keys.iter()
        .map(|k| cell(k, row[*k].as_str()).unwrap_or_else(|| "-".to_string()))
        .collect()
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

/// `status --all`: one row per app and environment the record holds. Each app's rows
/// are kept by the tree of its directory for the next view (src/cmd/org_rows.rs).
fn all(args: &Args, ctx: &Context) -> anyhow::Result<()> {
    let (store, freshness, _) = super::org_record(
        ctx,
        args.records.records.as_deref(),
        args.records.branch.as_deref(),
    )?;
    // Only read: libgit2 need not hash every file it inflates (src/record/libgit2.rs).
    let snapshot = store.snapshot()?;
    let apps = format::apps(&snapshot)?;
    if let Some(app) = &args.app
        && !apps.contains(app)
    {
        return Err(unknown("app", app, &apps).into());
    }
    let cache = org_rows::read(store.common_dir());
    let mut kept = org_rows::parse(&cache, args.app.as_deref());
    // Each app shown: its name, the tree its rows were made from when they may be kept,
    // and its rows.
    let mut shown: Vec<(&str, Option<git2::Oid>, Vec<Line>)> = Vec::new();
    let mut changed = false;
    for app in apps
        .iter()
        .filter(|a| args.app.as_ref().is_none_or(|w| w == *a))
    {
        let tree = format::app_tree(&snapshot, app)?;
        match (tree, kept.rows.remove(app.as_str())) {
            (Some(tree), Some((was, lines))) if was == tree => {
                shown.push((app, Some(tree), lines));
            }
            (tree, was) => {
                let (lines, own) = app_lines(ctx, &snapshot, app, args.env.as_deref())?;
                let tree = tree.filter(|_| own);
                changed |= tree.is_some() || was.is_some();
                shown.push((app, tree, lines));
            }
        }
    }
    // A view of every app keeps only theirs; one of a single app keeps the others'.
    changed |= !kept.rows.is_empty();
    if changed {
        org_rows::save(
            store.common_dir(),
            (shown.iter())
                .filter_map(|(app, tree, lines)| Some((*app, (*tree)?, lines.as_slice()))),
            kept.others.values().copied(),
        );
    }
    let lines: Vec<(&str, &Line)> = shown
        .iter()
        .flat_map(|(app, _, lines)| lines.iter().map(move |l| (*app, l)))
        .filter(|(_, l)| args.env.as_ref().is_none_or(|e| e == l.env()))
        .collect();
    if lines.is_empty()
        && let Some(env) = &args.env
        && !shown
            .iter()
            .any(|(_, _, lines)| lines.iter().any(|l| l.env() == env))
    {
        let mut envs = Vec::new();
        for app in &apps {
            envs.extend(format::environments(&snapshot, app)?);
        }
        envs.sort();
        envs.dedup();
        return Err(unknown("environment", env, &envs).into());
    }
    let unreadable = lines
        .iter()
        .filter(|(_, l)| matches!(l, Line::Unreadable(_)))
        .count();
    if ctx.printer.mode() == OutputMode::Json {
        let mut out = Vec::with_capacity(lines.len() * 400 + 128);
        out.extend_from_slice(b"{\"environments\":");
        org_rows::json(&lines, &mut out)?;
        out.extend_from_slice(b",\"remote\":");
        serde_json::to_writer(&mut out, &store.remote_shown())?;
        out.extend_from_slice(b",\"unpushed\":");
        serde_json::to_writer(&mut out, &store.unpushed().unwrap_or(0))?;
        out.extend_from_slice(b",\"view\":");
        serde_json::to_writer(&mut out, &super::view(&freshness, &store.held()?))?;
        out.extend_from_slice(b"}\n");
        ctx.printer.data_bytes(&out)?;
    } else {
        ctx.printer
            .data(&crate::text::visible(&org_rows::table(&lines)))?;
    }
    if unreadable > 0 {
        return Err(crate::error::Error::new(
            crate::error::Exit::Failed,
            format!("{unreadable} environment file(s) of the record could not be read (above)"),
        )
        .into());
    }
    Ok(())
}

/// `app`'s rows, one per environment the record has a file for, made from its files;
/// and whether every file they were made from is in the app's directory (so that they
/// may be kept by its tree). A file that cannot be read is warned about when the view
/// shows its environment (`shown`: all, or only that one).
fn app_lines(
    ctx: &Context,
    snapshot: &crate::record::Snapshot,
    app: &str,
    shown: Option<&str>,
) -> anyhow::Result<(Vec<Line<'static>>, bool)> {
    let envs = format::environments(snapshot, app)?;
    let mut own = !envs.is_empty();
    let mut lines = Vec::with_capacity(envs.len());
    for env in envs {
        // One file edited badly by hand must not hide every other app: its row says
        // so, and the command fails once the view is printed.
        let file = match format::glance_env(snapshot, app, &env) {
            Ok((file, in_dir)) => {
                own &= in_dir;
                file
            }
            Err(err) => {
                if shown.is_none_or(|e| e == env) {
                    ctx.printer.warn(&format!("{err:#}"));
                }
                own = false;
                lines.push(Line::Unreadable(env));
                continue;
            }
        };
        let made = row(&env, &file, &mut |release| {
            let (holder, in_dir) = format::glance_release(snapshot, app, release)?;
            own &= in_dir;
            Ok(holding_of(holder.as_ref(), &env, 0))
        });
        match made {
            Ok(made) => lines.push(Line::Row(made)),
            // An environment the view does not show does not fail it.
            Err(_) if shown.is_some_and(|e| e != env) => {
                own = false;
                lines.push(Line::Unreadable(env));
            }
            Err(err) => return Err(err),
        }
    }
    Ok((lines, own))
}

/// An app or environment `--app` or `--env` named that the record does not hold: exit 2.
pub(super) fn unknown(what: &str, name: &str, known: &[String]) -> crate::error::Error {
    crate::error::Error::usage(format!("there is no {what} `{name}` in the record")).with_hint(
        if known.is_empty() {
            "the record holds none yet".to_string()
        } else {
            format!("the record holds: {}", known.join(", "))
        },
    )
}

/// Where the release holding an environment's lock stands there, in `status`'s words,
/// and the step it is at when in progress.
type Holding = (&'static str, Option<usize>);

/// How long status waits for the flag providers, all flags together: past it, a flag
/// shows as recorded.
const FLAG_READ: std::time::Duration = std::time::Duration::from_secs(3);

/// Each recorded flag of `rows` read now from its provider: `state` and `enabled` become
/// what it says (with `recorded` when that differs), or stay as recorded with `unread`
/// saying why; `flags_as` is `unleash` when every flag of the row was read.
fn read_flags(
    ctx: &Context,
    plan: &crate::plan::Plan,
    flagged: &[(String, crate::runner::Header)],
    rows: &mut [Value],
) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let deadline = tokio::time::Instant::now() + FLAG_READ;
    for row in rows.iter_mut() {
        let Some((env, header)) = flagged.iter().find(|(e, _)| row["env"] == e.as_str()) else {
            continue;
        };
        let runner = crate::runner::open_store_to_read(plan).and_then(|store| {
            super::release::runner(ctx, plan, store, header.clone(), Default::default())
        });
        let mut all = true;
        for f in row["flags"].as_array_mut().into_iter().flatten() {
            let name = f["flag"].as_str().unwrap_or_default().to_string();
            let read = match &runner {
                Ok(runner) => rt.block_on(async {
                    let step = flag_step(plan, env, &name);
                    tokio::time::timeout_at(deadline, runner.flag_now(env, &step))
                        .await
                        .unwrap_or_else(|_| {
                            Err(format!(
                                "no answer within {}",
                                crate::duration::format(FLAG_READ)
                            ))
                        })
                }),
                Err(e) => Err(format!("{e:#}")),
            };
            match read {
                Ok(state) => {
                    if f["state"] != state.summary().as_str() {
                        f["recorded"] = f["state"].clone();
                    }
                    f["state"] = json!(state.summary());
                    f["enabled"] = json!(state.enabled);
                }
                Err(why) => {
                    all = false;
                    f["unread"] = json!(why);
                }
            }
        }
        row["flags_as"] = json!(if all { "unleash" } else { "recorded" });
    }
}

/// The flag step of `env` that switches `name` (its provider), else one naming only it
/// (the plan's only flag provider).
fn flag_step(plan: &crate::plan::Plan, env: &str, name: &str) -> crate::plan::FlagStep {
    let steps = plan
        .environment(env)
        .map(|e| e.steps.as_slice())
        .unwrap_or_default();
    steps
        .iter()
        .find_map(|s| match &s.kind {
            crate::plan::StepKind::Flag(f) if f.name == name => Some(f.clone()),
            _ => None,
        })
        .unwrap_or_else(|| crate::plan::FlagStep::named(name))
}

/// The flags a release's steps changed in an environment, as the record last knew them:
/// `{flag, state, enabled}` (`state` as `on at 25%`, `off`).
fn flags_of(run: &engine::EnvRun) -> Vec<Value> {
    run.flag_states
        .iter()
        .filter_map(|(flag, state)| {
            let state: crate::providers::flags::FlagState =
                serde_json::from_value(state.clone()).ok()?;
            Some(json!({ "flag": flag, "state": state.summary(), "enabled": state.enabled }))
        })
        .collect()
}

/// Where `release` (holding `env`'s lock) stands in `env`, from its release file;
/// `steps` is how many steps the plan gives `env`.
fn holding_of(release: Option<&ReleaseFile>, env: &str, steps: usize) -> Holding {
    let holder = engine::fold(release);
    let run = holder.env(env);
    let what = if holder.interrupted {
        "interrupted"
    } else if run.rollback_failed.is_some() {
        "rollback failed"
    } else if run.waiting_at().is_some() {
        "awaiting approval"
    } else if run.inconclusive.is_some() {
        "paused (inconclusive)"
    } else if run.failed.is_some() {
        "paused (failed)"
    } else if run.rolling_back {
        "rolling back"
    } else if stopped(&run) {
        "stopped"
    } else {
        "in progress"
    };
    (what, run.position(steps))
}

/// Whether a run in an environment with targets was stopped by a target that failed
/// under `on_target_failure: stop`: no target starts another step after it, and none
/// has one under way.
fn stopped(run: &engine::EnvRun) -> bool {
    let targets = run.targets.values();
    targets
        .clone()
        .any(|t| matches!(t.target_failed, Some((crate::plan::TargetFailure::Stop, _))))
        && targets.clone().all(|t| t.in_flight.is_none())
}

/// An environment with targets: each target's release and state (`targets`), how many
/// run the release that is live or being promoted (`targets_live`, `3/12`), said in
/// `state` too. A release holding the lock is read from its own events; otherwise each
/// target runs what the environment file records for it (src/format/targets.rs).
fn targets(row: &mut Value, env: &Environment, file: &EnvFile, holder: Option<&ReleaseFile>) {
    let live = file.live.as_ref().map(|l| l.release.as_str());
    let ran = |name: &str| crate::format::targets::of(file, name).release;
    let run = holder.map(|h| (h.release.as_str(), engine::fold(Some(h)).env(&env.name)));
    let halted = run.as_ref().is_some_and(|(_, run)| stopped(run));
    let wave_of = |name: &str| {
        env.waves
            .iter()
            .position(|w| w.targets.iter().any(|t| t.raw == name))
            .map(|w| w + 1)
    };
    let mut count = 0;
    let rows: Vec<Value> = env
        .targets
        .iter()
        .map(|t| {
            let (release, state) = match &run {
                Some((holding, run)) if run.entered => {
                    let own = run.targets.get(&t.name);
                    match target_state(own, halted) {
                        "live" => (Some(holding.to_string()), "live"),
                        // Live on a visit before this one (this visit is for a target
                        // added since).
                        "waiting" if ran(&t.name).as_deref() == Some(*holding) => {
                            (Some(holding.to_string()), "live")
                        }
                        state => (ran(&t.name), state),
                    }
                }
                _ => match ran(&t.name) {
                    Some(release) if Some(release.as_str()) == live => (Some(release), "live"),
                    _ if live.is_none() => (None, "empty"),
                    release => (release, "not live"),
                },
            };
            if state == "live" {
                count += 1;
            }
            json!({ "target": t.name, "wave": wave_of(&t.name), "release": release, "state": state })
        })
        .collect();
    let summary = format!("{count}/{} targets live", env.targets.len());
    if let Some(state) = row["state"].as_str() {
        row["state"] = json!(match stopped_by(&rows, holder, state) {
            Some(stopped) => format!("{stopped} ({summary})"),
            None => format!("{state} ({summary})"),
        });
    }
    row["targets_live"] = json!(summary);
    row["targets"] = json!(rows);
}

/// A release `stopped` by a target that failed (`on_target_failure: stop`): said with
/// the targets that failed and how to go on.
fn stopped_by(rows: &[Value], holder: Option<&ReleaseFile>, state: &str) -> Option<String> {
    let holder = holder.filter(|_| state.starts_with("stopped"))?;
    let failed: Vec<&str> = rows
        .iter()
        .filter(|r| r["state"] == "failed")
        .filter_map(|r| r["target"].as_str())
        .collect();
    let noun = if failed.len() == 1 {
        "target"
    } else {
        "targets"
    };
    (!failed.is_empty()).then(|| {
        format!(
            "stopped: {noun} {} failed; `relctl resume {}` continues",
            failed.join(", "),
            holder.release
        )
    })
}

/// Where one target stands in the run of the release holding the lock; `halted`: that
/// run was stopped by a failed target, so a target part-way is not running (`stopped`).
fn target_state(own: Option<&engine::EnvRun>, halted: bool) -> &'static str {
    let Some(own) = own else {
        return "waiting";
    };
    match (
        own.outcome,
        &own.target_failed,
        own.rollback_failed.is_some(),
    ) {
        (Some(engine::Outcome::Live), _, _) => "live",
        (Some(engine::Outcome::RolledBack), _, _) => "rolled back",
        (_, _, true) => "rollback failed",
        (_, Some(_), _) => "failed",
        _ if own.failed.is_some() || own.gate_failed.is_some() => "failed",
        _ if own.in_flight.is_none() && !own.done.is_empty() && halted => "stopped",
        _ if own.in_flight.is_some() || !own.done.is_empty() => "in progress",
        _ => "waiting",
    }
}

/// `status --targets`: one line per target of each environment with targets.
fn target_table(rows: &[Value]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .flat_map(|r| {
            let env = r["env"].as_str().unwrap_or_default().to_string();
            r["targets"].as_array().into_iter().flatten().map(move |t| {
                vec![
                    env.clone(),
                    t["target"].as_str().unwrap_or("-").to_string(),
                    t["wave"].as_u64().map_or("-".into(), |w| w.to_string()),
                    t["release"].as_str().unwrap_or("-").to_string(),
                    t["state"].as_str().unwrap_or("-").to_string(),
                ]
            })
        })
        .collect();
    if cells.is_empty() {
        return String::new();
    }
    format!(
        "\n{}",
        crate::ui::table::table(&["ENV", "TARGET", "WAVE", "RELEASE", "STATE"], &cells)
    )
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

/// One environment's row; `steps` is how many steps the plan gives it (0 when there is
/// no plan to say). `state` says where it stands in the words `status` always used;
/// `kind` in one of the organisation's view's: live, in progress, paused for approval,
/// locked (stopped with the lock held: interrupted, paused on a failure, a rollback
/// that failed), rolled back, empty; `standing` is `kind` with the release it is about.
fn row(
    name: &str,
    file: &EnvFile,
    holding: &mut dyn FnMut(&str) -> anyhow::Result<Holding>,
) -> anyhow::Result<Row<'static>> {
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
    let mut kind = match (&file.rolled_back, live) {
        (Some(_), _) => "rolled back",
        (None, Some(_)) => "live",
        (None, None) => "empty",
    };
    let mut standing = match &file.rolled_back {
        Some(note) => format!("rolled back from {}", note.from),
        None => kind.to_string(),
    };
    if let Some(lock) = &file.lock {
        let (what, position) = holding(&lock.release)?;
        match what {
            "interrupted" => {
                next = Some(format!(
                    "{} was interrupted in {name}; `relctl resume {}` continues it",
                    lock.release, lock.release
                ))
            }
            "rollback failed" => {
                next = Some(format!(
                    "rolling {name} back failed; `relctl rollback --env {name}` tries again"
                ))
            }
            _ => {}
        }
        kind = match what {
            "awaiting approval" => "paused for approval",
            "in progress" | "rolling back" => "in progress",
            _ => "locked",
        };
        standing = match kind {
            "locked" => format!(
                "locked ({}): {}",
                what.trim_start_matches("paused (").trim_end_matches(')'),
                lock.release
            ),
            _ => format!("{kind}: {}", lock.release),
        };
        state = format!("{what}: {}", lock.release);
        if what == "in progress"
            && let Some(step) = position
        {
            state.push_str(&format!(" (step {step})"));
        }
        who = Some(lock.by.clone());
    }
    Ok(Row {
        env: name.to_string().into(),
        release: live.map(|l| l.release.clone().into()),
        version: live.map(|l| l.version.clone().into()),
        digest: live.map(|l| l.digest.clone().into()),
        since: live.map(|l| {
            (l.since)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                .into()
        }),
        state: state.into(),
        kind: kind.into(),
        standing: standing.into(),
        who: who.filter(|w| !w.is_empty()).map(Into::into),
        lock: file.lock.as_ref().map(RowLock::of),
        next: next.map(Into::into),
    })
}

/// A row as `status --output json` shows it, the environment's lock as its file says.
fn row_value(row: &Row, file: &EnvFile) -> Value {
    json!({
        "env": row.env,
        "release": row.release,
        "version": row.version,
        "digest": row.digest,
        "since": row.since,
        "state": row.state,
        "kind": row.kind,
        "standing": row.standing,
        "who": row.who,
        "lock": file.lock,
        "next": row.next,
    })
}
