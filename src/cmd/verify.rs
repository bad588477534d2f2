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
    let (mut checked, mut failed, mut unpushed, mut moved) = (0, 0, 0, 0);
    let mut text = String::new();
    let signed = trust::required(&plan);
    for id in &ids {
        let (file, _) = super::release::find(&store, &plan.app, id)?;
        let verdicts = trust::check(&store, &plan, &file)?;
        // With no approval yet, a moved source commit still voids every one to come.
        if signed
            && verdicts.is_empty()
            && let Some(commit) = trust::moved_source(&store, &file)?
        {
            moved += 1;
            let why = trust::moved_reason(commit);
            if json {
                ctx.printer.json(&json!({
                    "release": id, "verified": false, "counted": false, "reason": why,
                }))?;
            } else {
                text.push_str(&format!("FAIL  {id}  no approvals yet  {why}\n"));
            }
        }
        for verdict in verdicts {
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
    if !json {
        ctx.printer.data(&crate::text::visible(&text))?;
    }
    if failed + moved > 0 {
        let mut what = Vec::new();
        if failed > 0 {
            what.push(format!(
                "{failed} of {checked} signed approval(s) do not verify"
            ));
        }
        if moved > 0 {
            what.push(format!(
                "{moved} release(s) had their source commit changed after they started"
            ));
        }
        let what = what.join("; ");
        return Err(Error::new(Exit::Failed, what)
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
        "pushed": !v.unpushed,
    })
}

fn line(id: &str, verdict: &Verdict, broken: bool) -> String {
    let mark = if broken { "FAIL" } else { "ok  " };
    let key = verdict.fingerprint.as_deref().unwrap_or("no key");
    let why = match &verdict.refused {
        None => "verified".to_string(),
        Some(why) if broken => why.to_string(),
        Some(why) => format!("verified, not counted: {why}"),
    };
    let why = match verdict.unpushed {
        true => format!("{why}; {}", trust::UNPUSHED),
        false => why,
    };
    format!("{mark}  {id}  {}  {key}  {why}\n", verdict.describe())
}
