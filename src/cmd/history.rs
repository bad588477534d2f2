//! `relctl history`: the recorded events, newest first, or one release in full.

use serde_json::json;

use super::Context;
use crate::format::trailer;
use crate::ui::OutputMode;

/// Show recorded events, newest first, or one release in full
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Show this release in full (its id, or the start of it or of its hex digits)
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::complete::releases))]
    pub release: Option<String>,

    /// Only this environment
    #[arg(long, value_name = "ENV", add = clap_complete::ArgValueCandidates::new(crate::complete::environments))]
    pub env: Option<String>,

    /// At most this many record commits (a RELEASE is always shown whole)
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,
}

/// Whether a record commit is `app`'s: it names the app (a commit moving the record
/// under `apps/` names every app it moved), or, written before commits named their
/// app, its release is one of the app's.
fn of_app(e: &crate::record::LogEntry, app: &str) -> bool {
    let mut named = e
        .trailers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(trailer::APP))
        .peekable();
    if named.peek().is_some() {
        return named.any(|(_, v)| v == app);
    }
    e.trailer(trailer::RELEASE)
        .and_then(crate::format::app_of_id)
        .is_none_or(|a| a == app)
}

/// What `history` says of an approval at a signed gate: who signed it, with which key,
/// and whether it verified.
fn signature_line(v: &crate::trust::Verdict) -> String {
    let key = v.fingerprint.as_deref().unwrap_or("no key");
    let line = match &v.refused {
        None => format!("signed by {} with {key}: verified", v.by),
        Some(why) if v.verified() => {
            format!(
                "signed by {} with {key}: verified, not counted: {why}",
                v.by
            )
        }
        Some(why) => format!("signature with {key}: not verified: {why}"),
    };
    match v.unpushed {
        true => format!("{line}; {}", crate::trust::UNPUSHED),
        false => line,
    }
}

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<()> {
    let plan = super::load_plan(ctx)?;
    if let Some(env) = &args.env {
        // A misspelt environment is a mistake to say, not an empty history.
        super::environment(&plan, env)?;
    }
    let (store, _) = super::read_record(ctx, &plan)?;
    let json = ctx.printer.mode() == OutputMode::Json;
    if let Some(id) = &args.release {
        let (file, _) = super::release::find(&store, &plan.app, id)?;
        let (state, verdicts) = crate::trust::state(&store, &plan, &file)?;
        let unapproved = crate::trust::unapproved_steps(&plan, &state);
        let rewrites = crate::trust::rewrites(&store, &plan, &file)?;
        let start_signed = if crate::trust::required(&plan) {
            crate::trust::start_signed(&store, &file)?
        } else {
            None
        };
        if json {
            let mut value = serde_json::to_value(&file)?;
            if !verdicts.is_empty() {
                value["signatures"] = verdicts.iter().map(super::verify::json_of).collect();
            }
            if let Some(signed) = start_signed {
                value["start_signed"] = json!(signed);
            }
            if !rewrites.is_empty() {
                value["rewritten"] = rewrites
                    .iter()
                    .map(|r| json!({"commit": r.commit.to_string(), "what": r.what}))
                    .collect();
            }
            if !unapproved.is_empty() {
                value["unapproved_steps"] = json!(unapproved);
            }
            return ctx.printer.json(&value);
        }
        let mut text = format!(
            "{}  {}  version {}{}\n",
            file.release,
            file.artifact,
            file.version,
            file.source_commit
                .as_deref()
                // The record holds whatever text was given as the source commit.
                .map(|c| format!("  source {}", c.chars().take(12).collect::<String>()))
                .unwrap_or_default()
        );
        for (index, event) in file
            .events
            .iter()
            .enumerate()
            .filter(|(_, e)| args.env.is_none() || e.env == args.env)
        {
            text.push_str(&format!(
                "{}  {:<12} {}  ({})\n",
                event.at.format("%Y-%m-%d %H:%M:%S"),
                crate::ui::events::place(event).unwrap_or_else(|| "-".into()),
                event.kind.describe(),
                event.actor
            ));
            if index == 0 && start_signed == Some(false) {
                text.push_str(&format!(
                    "{:<34}start not signed: with allow_self: false, approvals are checked against the recorded starter only\n",
                    ""
                ));
            }
            if let Some(verdict) = verdicts.iter().find(|v| v.index == index) {
                text.push_str(&format!("{:<34}{}\n", "", signature_line(verdict)));
            }
        }
        for rewrite in &rewrites {
            text.push_str(&format!(
                "REWRITTEN  record commit {} {} (not an append by relctl: approvals given before it do not count)\n",
                rewrite.commit, rewrite.what
            ));
        }
        for what in &unapproved {
            text.push_str(&format!(
                "UNAPPROVED  {what} (a step_done not backed by approvals: the gate still holds)\n"
            ));
        }
        return ctx.printer.data(&crate::text::visible(&text));
    }
    let wanted = |e: &crate::record::LogEntry| {
        of_app(e, &plan.app)
            && args
                .env
                .as_deref()
                .is_none_or(|env| e.trailer(trailer::ENV) == Some(env))
    };
    let entries = store.log_where(Some(args.limit), &wanted)?;
    let mut text = String::new();
    for e in &entries {
        if json {
            ctx.printer.json(&json!({
                "commit": e.oid.to_string(), "time": e.time.to_rfc3339(), "actor": e.actor, "summary": e.summary,
                "release": e.trailer(trailer::RELEASE), "env": e.trailer(trailer::ENV), "target": e.trailer(trailer::TARGET), "event": e.trailer(trailer::EVENT),
            }))?;
        } else {
            text.push_str(&format!(
                "{}  {}  ({})\n",
                e.time.format("%Y-%m-%d %H:%M:%S"),
                e.summary,
                e.actor
            ));
        }
    }
    // A record written before relctl escaped outside text may still hold raw controls.
    ctx.printer.data(&crate::text::visible(&text))
}
