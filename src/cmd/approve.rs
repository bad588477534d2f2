//! `relctl approve`: record an approval by the caller.

use super::Context;
use super::release::{self, Verdict};
use crate::engine::decide::{counted_approvals, same_person};
use crate::engine::{self, EventKind};
use crate::error::{Error, Exit};
use crate::format;
use crate::runner;

/// Approve a release into an environment (as RELCTL_ACTOR, else git user.email)
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The release id (<app>-<12 hex>), or the start of it or of its hex digits
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::complete::releases))]
    pub release: String,

    /// The environment the approval is for
    #[arg(long, value_name = "ENV", add = clap_complete::ArgValueCandidates::new(crate::complete::environments))]
    pub env: String,

    /// A comment kept with the approval
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
}

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<()> {
    // What CI and GitHub Actions say, read once: they decide what an unpushed record is.
    let (push, github) = (
        runner::push_policy(),
        crate::ui::github::Actions::from_env(),
    );
    let plan = super::load_plan(ctx)?;
    let env = super::environment(&plan, &args.env)?;
    let store = runner::open_store(&plan)?;
    let sync = store.sync();
    let (file, _) = release::find_after(&store, &plan.app, &args.release, sync)?;
    release::owned(&store, &plan, &file)?;
    let id = file.release.clone();
    // At a signed gate an approval that does not verify is as good as none: it may be
    // given again, signed.
    let (state, verdicts) = crate::trust::state(&store, &plan, &file)?;
    let author = release::author(&plan);
    let gate = release::decidable_gate(env, &id, &state, &author, Verdict::Approve)?;
    if let Some(earlier) = crate::engine::rolled_back_before(&plan, &state, &env.name) {
        return Err(Error::new(
            Exit::Blocked,
            format!(
                "approval refused: {0} was rolled back in {earlier} after it had gone on to {1}, \
                 so it cannot go further",
                id, env.name
            ),
        )
        .with_hint(format!(
            "`relctl abort {0}` ends it and takes {1} back (or `relctl reject {0} --env {1}`)",
            id, env.name
        ))
        .into());
    }
    let approval = release::gate_approval(env, gate);
    release::check_signing(approval, &store, "an approval")?;
    if let Some(approval) = approval.filter(|a| a.signed) {
        // An approval known not to count is not recorded: it would only look like one.
        let key = crate::signing::configured(&crate::identity::plan_dir(&plan))?;
        let public = key.as_ref().and_then(crate::signing::Key::public);
        let same_key = public
            .as_deref()
            .and_then(|p| p.split_whitespace().nth(1))
            .and_then(crate::signing::key_fingerprint)
            .and_then(|fingerprint| {
                let at = (env.name.as_str(), gate);
                crate::trust::key_counted_as(&file, &verdicts, at, &fingerprint, &author.actor)
            })
            .map(|first| crate::trust::Refusal::SameKey(first).to_string());
        let refused = match same_key {
            Some(why) => Some(why),
            None => crate::trust::refusal_before(
                &store,
                &plan,
                &file,
                approval,
                &author.actor,
                public.as_deref(),
            )?,
        };
        if let Some(why) = refused {
            return Err(Error::new(
                Exit::Blocked,
                format!("approval refused: it would not count: {why}"),
            )
            .with_hint("nothing was recorded; docs/trust.md says what a signed gate checks")
            .into());
        }
    }
    let counted = |state: &engine::ReleaseState| {
        approval.map_or((0, 0), |a| {
            let have =
                counted_approvals(&state.env(&env.name), gate, a, state.started_by.as_deref());
            (have.len(), a.min as usize)
        })
    };
    let mine = state
        .env(&env.name)
        .approvals
        .get(&gate)
        .is_some_and(|list| list.iter().any(|who| same_person(who, &author.actor)));
    if mine {
        let (have, min) = counted(&state);
        ctx.printer
            .status(&format!("already approved by you; {have}/{min}"));
        return Ok(());
    }
    let kind = EventKind::Approved {
        step: gate,
        by: author.actor.clone(),
        comment: args.comment,
    };
    let (event, appended) = format::record(
        &store,
        &author,
        &release::header_of(&file),
        Some(&args.env),
        kind,
        &mut |_| Ok(()),
    )?;
    ctx.printer.event(&id, &event)?;
    runner::push::report_one(
        &appended,
        &store,
        ctx.printer,
        push,
        github.as_ref(),
        "the approval",
    )?;
    let (file, _) = release::find(&store, &plan.app, &id)?;
    let (after, verdicts) = crate::trust::state(&store, &plan, &file)?;
    for verdict in verdicts
        .iter()
        .filter(|v| Some(v.index) == file.events.len().checked_sub(1))
    {
        if let Some(why) = &verdict.refused {
            ctx.printer
                .warn(&format!("this approval does not count: {why}"));
        }
    }
    let (have, min) = counted(&after);
    ctx.printer.status(&if have < min {
        format!("{have}/{min} approvals; {} more needed", min - have)
    } else {
        format!(
            "{have}/{min} approvals: a promote waiting with --wait-approval goes on by itself; otherwise `relctl resume {}` continues the release",
            id
        )
    });
    Ok(())
}
