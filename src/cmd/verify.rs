//! `relctl verify`: check again every approval at a signed gate, of one release or of
//! every release of the plan's app, against the allowed signers it was counted with.

use serde_json::json;

use super::Context;
use crate::error::{Error, Exit};
use crate::trust::{self, Verdict};
use crate::ui::OutputMode;

/// Check the signatures of the approvals at signed gates (exit 1 when any fails)
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this release (default: every release of the plan's app)
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::complete::releases))]
    pub release: Option<String>,
}

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<()> {
    let plan = super::load_plan(ctx)?;
    let (store, _) = super::read_record(ctx, &plan)?;
    let ids = match &args.release {
        Some(id) => vec![id.clone()],
        None => crate::format::release_ids(&store.snapshot()?, &plan.app)?,
    };
    let json = ctx.printer.mode() == OutputMode::Json;
    let (mut checked, mut failed, mut unpushed) = (0, 0, 0);
    let mut text = String::new();
    // What changed the record outside relctl: rewritten release files, environment
    // entries that disagree with their releases.
    let mut changed = Vec::new();
    let mut only = None;
    for id in &ids {
        let (file, _) = super::release::find(&store, &plan.app, id)?;
        if args.release.is_some() {
            only = Some(file.release.clone());
        }
        for rewrite in trust::rewrites(&store, &plan, &file)? {
            changed.push((
                json!({"release": id, "rewritten_by": rewrite.commit.to_string(), "what": rewrite.what}),
                format!("FAIL  {id}  record commit {} {}\n", rewrite.commit, rewrite.what),
            ));
        }
        let (state, verdicts) = trust::state(&store, &plan, &file)?;
        for what in trust::unapproved_steps(&plan, &state) {
            changed.push((
                json!({"release": id, "what": what}),
                format!("FAIL  {id}  {what}\n"),
            ));
        }
        for (_, why) in crate::went_live::live_unapproved(&plan, &file, &verdicts) {
            changed.push((
                json!({"release": id, "what": why}),
                format!("FAIL  {id}  {why}\n"),
            ));
        }
        for verdict in verdicts {
            // A rejection is said only when it does not verify (it was obeyed anyway).
            if verdict.rejection && verdict.verified() {
                continue;
            }
            checked += 1;
            let broken = !verdict.verified();
            failed += usize::from(broken);
            unpushed += usize::from(verdict.unpushed);
            if json {
                let mut value = json_of(&verdict);
                value["release"] = json!(id);
                ctx.printer.json(&value)?;
            } else {
                text.push_str(&line(id, &verdict, broken));
            }
        }
    }
    let envs = plan.environments.iter().map(|e| e.name.as_str());
    for (path, release, why) in
        crate::format::entries_disagreeing(&store.snapshot()?, &plan.app, envs, only.as_deref())?
    {
        changed.push((
            json!({"release": release, "environment_file": path, "what": why}),
            format!("FAIL  {release}  {path} disagrees with the release: {why}\n"),
        ));
    }
    for (path, release, why) in
        crate::went_live::entries_unsupported(&store, &plan, only.as_deref())?
    {
        changed.push((
            json!({"release": release, "environment_file": path, "what": why}),
            format!("FAIL  {release}  {path} names it as live, but {why}\n"),
        ));
    }
    for (path, commit, why) in crate::went_live::edits_unexplained(&store, &plan, only.as_deref())?
    {
        changed.push((
            json!({"environment_file": path, "changed_by": commit.to_string(), "what": why}),
            format!("FAIL  {path}  {why}\n"),
        ));
    }
    for (value, line) in &changed {
        if json {
            ctx.printer.json(value)?;
        } else {
            text.push_str(line);
        }
    }
    if !json {
        ctx.printer.data(&crate::text::visible(&text))?;
    }
    if !changed.is_empty() {
        return Err(Error::new(
            Exit::Failed,
            format!(
                "{} change(s) to the record made outside relctl{}",
                changed.len(),
                if failed > 0 {
                    format!("; {failed} of {checked} signed approval(s) do not verify")
                } else {
                    String::new()
                }
            ),
        )
        .with_hint("`git log -p` on the records branch shows each change; docs/trust.md says what to look at")
        .into());
    }
    if failed > 0 {
        return Err(Error::new(
            Exit::Failed,
            format!("{failed} of {checked} signed approval(s) do not verify"),
        )
        .with_hint("an approval that does not verify was never counted; docs/trust.md says what to look at")
        .into());
    }
    match (checked, unpushed) {
        (0, _) => ctx.printer.status("no approvals at signed gates to verify"),
        (_, 0) => ctx.printer.status(&format!(
            "{checked} signed approval(s) checked; every signature verifies"
        )),
        _ => ctx.printer.warn(&format!(
            "{checked} signed approval(s) checked; every signature verifies, but {unpushed} of them \
             are only in this clone, not yet on the records remote: the next command that writes pushes them"
        )),
    }
    Ok(())
}

/// One approval's check as `--output json` gives it (here and in `history`).
pub fn json_of(v: &Verdict) -> serde_json::Value {
    json!({
        "env": v.env,
        "step": v.step.map(|s| s + 1),
        "by": v.by,
        "commit": v.commit.map(|c| c.to_string()),
        "fingerprint": v.fingerprint,
        "verified": v.verified(),
        "counted": v.refused.is_none(),
        "reason": v.refused.as_ref().map(ToString::to_string),
        "rejection": v.rejection,
        "pushed": !v.unpushed,
    })
}

fn line(id: &str, verdict: &Verdict, broken: bool) -> String {
    let mark = if broken { "FAIL" } else { "ok  " };
    let key = verdict.fingerprint.as_deref().unwrap_or("no key");
    let why = match &verdict.refused {
        None => "verified".to_string(),
        Some(why) if broken && verdict.rejection => {
            format!("{why} (obeyed: a rejection only stops the release)")
        }
        Some(why) if broken => why.to_string(),
        Some(why) => format!("verified, not counted: {why}"),
    };
    let why = match verdict.unpushed {
        true => format!("{why}; {}", trust::UNPUSHED),
        false => why,
    };
    format!("{mark}  {id}  {}  {key}  {why}\n", verdict.describe())
}
