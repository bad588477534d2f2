//! `relctl releases`: the releases the record holds, newest first.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;

use super::Context;
use super::status::{RecordsArgs, unknown};
use crate::engine::{EnvFile, ReleaseFile, refused_by_budget as refused};
use crate::format;
use crate::ui::OutputMode;

/// List releases, newest first: version, when created, where live and where rejected
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this app's releases [default: the plan's app; with --records, every app's]
    #[arg(long, value_name = "APP")]
    pub app: Option<String>,

    /// Only releases that have been in this environment
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,

    /// At most this many releases
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,

    #[command(flatten)]
    pub records: RecordsArgs,
}

/// One release, as listed.
struct Listed {
    file: ReleaseFile,
    created: Option<DateTime<Utc>>,
    live: Vec<String>,
    rejected: Vec<String>,
    /// Aborted between two environments: it goes no further.
    aborted: Option<crate::engine::state::Halt>,
}

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<()> {
    let (store, freshness, plan) = super::org_record(
        ctx,
        args.records.records.as_deref(),
        args.records.branch.as_deref(),
    )?;
    let snapshot = store.snapshot()?;
    let apps = format::apps(&snapshot)?;
    let app = args.app.clone().or_else(|| plan.map(|p| p.app));
    if let Some(app) = &args.app
        && !apps.contains(app)
    {
        return Err(unknown("app", app, &apps).into());
    }
    let mut listed = Vec::new();
    let mut env_known = args.env.is_none();
    let mut all_envs = Vec::new();
    for app in apps.iter().filter(|a| app.as_ref().is_none_or(|w| w == *a)) {
        let envs = format::environments(&snapshot, app)?;
        env_known |= args.env.as_ref().is_some_and(|e| envs.contains(e));
        let files = format::read_envs(&snapshot, app, envs.iter().map(String::as_str))?;
        all_envs.extend(envs);
        for id in format::release_ids(&snapshot, app)? {
            let Some(file) = format::read_release(&snapshot, app, &id)? else {
                continue;
            };
            if args
                .env
                .as_ref()
                .is_some_and(|env| !file.events.iter().any(|e| e.env.as_ref() == Some(env)))
            {
                continue;
            }
            let where_ = |pick: &dyn Fn(&str, &EnvFile) -> bool| {
                files
                    .iter()
                    .filter(|(name, f)| pick(name, f))
                    .map(|(name, _)| name.clone())
                    .collect::<Vec<_>>()
            };
            listed.push(Listed {
                created: file.events.first().map(|e| e.at),
                aborted: crate::engine::fold(Some(&file)).aborted,
                live: where_(&|_, f| f.live.as_ref().is_some_and(|l| l.release == id)),
                rejected: where_(&|env, f| {
                    f.rejected.contains(&id) || crate::engine::rejected_in(&file, env)
                }),
                file,
            });
        }
    }
    if !env_known && let Some(env) = &args.env {
        all_envs.sort();
        all_envs.dedup();
        return Err(unknown("environment", env, &all_envs).into());
    }
    listed.sort_by(|a, b| {
        b.created
            .cmp(&a.created)
            .then_with(|| a.file.release.cmp(&b.file.release))
    });
    listed.truncate(args.limit);
    let time = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true));
    if ctx.printer.mode() == OutputMode::Json {
        let releases: Vec<_> = listed
            .iter()
            .map(|l| {
                json!({
                    "release": l.file.release,
                    "app": l.file.app,
                    "version": l.file.version,
                    "artifact": l.file.artifact,
                    "digest": l.file.digest,
                    "created": time(l.created),
                    "live": l.live,
                    "rejected": l.rejected,
                    "aborted": l.aborted.as_ref().map(super::status::halt_value),
                    "refused": refused(&l.file).map(|(env, at, summary)| json!({
                        "env": env,
                        "rule": crate::engine::Rule::ErrorBudget.name(),
                        "at": time(Some(at)),
                        "summary": summary,
                    })),
                })
            })
            .collect();
        return ctx.printer.json(&json!({
            "releases": releases,
            "view": super::view(&freshness, &store.held()?),
        }));
    }
    let list = |names: &[String]| match names {
        [] => "-".to_string(),
        names => names.join(","),
    };
    let cells: Vec<Vec<String>> = listed
        .iter()
        .map(|l| {
            vec![
                l.file.release.clone(),
                l.file.version.clone(),
                l.created
                    .map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
                list(&l.live),
                list(&l.rejected),
                refused(&l.file).map_or("-".into(), |(env, at, _)| {
                    format!("{env} (error budget, {})", at.format("%Y-%m-%d %H:%M UTC"))
                }),
                l.aborted.as_ref().map_or("-".into(), |halt| {
                    format!("{} ({})", halt.by, halt.at.format("%Y-%m-%d %H:%M UTC"))
                }),
            ]
        })
        .collect();
    let text = crate::ui::table::table(
        &[
            "RELEASE",
            "VERSION",
            "CREATED",
            "LIVE IN",
            "REJECTED IN",
            "REFUSED",
            "ABORTED",
        ],
        &cells,
    );
    ctx.printer.data(&crate::text::visible(&text))
}
