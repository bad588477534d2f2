//! What promote, resume, approve, reject and abort share: who acts, finding the release
//! in the record, the check before a decision at an approval gate, and setting up a
//! runner.

use std::time::Duration;

use super::Context;
use crate::artifact::Artifact;
use crate::engine::decide::approver_allowed;
use crate::engine::{self, ActorSource, EnvRun, Outcome, ReleaseFile, ReleaseState};
use crate::error::{Error, Exit};
use crate::format;
use crate::identity::{self, Identity};
use crate::plan::diag::edit_distance;
use crate::plan::{Approval, Environment, Plan, template};
use crate::providers::Secrets;
use crate::record::{Snapshot, Store};
use crate::runner::{self, Author, Header, Options, Runner, Surroundings};

/// Who acts, under which plan: stamped on every event this command records. When no
/// identity is known the actor is `unknown`, and the record says so.
pub fn author(plan: &Plan) -> Author {
    author_in(plan, runner::ci_link())
}

/// The author, with the CI job link the command read from its environment.
fn author_in(plan: &Plan, ci: Option<String>) -> Author {
    let identity = Identity::resolve(plan);
    Author {
        actor: identity.actor,
        actor_source: identity.source,
        plan_digest: plan.digest.clone(),
        ci,
    }
}

/// promote and resume under a plan with `allow_self: false` must know who runs them:
/// a release started by nobody could be approved by the person who started it.
pub fn check_identity(plan: &Plan, command: &str) -> anyhow::Result<()> {
    if identity::needed_by(plan) {
        Identity::resolve(plan).require(&format!(
            "`relctl {command}` under a plan with `allow_self: false`"
        ))?;
    }
    Ok(())
}

pub fn header_of(file: &ReleaseFile) -> Header {
    Header {
        release: file.release.clone(),
        app: file.app.clone(),
        artifact: file.artifact.clone(),
        digest: file.digest.clone(),
        version: file.version.clone(),
        source_commit: file.source_commit.clone(),
        source_commit_time: file.source_commit_time,
        notes: file.notes.clone(),
    }
}

/// The record's release `file` is this artifact's: the release id holds only the first
/// 12 hex characters of the digest, so another digest can share it. That is refused
/// (exit 2) before anything is deployed or recorded.
pub fn same_digest(file: &ReleaseFile, artifact: &Artifact) -> anyhow::Result<()> {
    let digest = artifact.digest();
    if file.digest == digest {
        return Ok(());
    }
    Err(crate::format::digest_taken(
        &artifact.to_string(),
        &digest,
        file,
    ))
}

/// A duration given on the command line (exit 2 when it does not parse).
pub fn duration_flag(flag: &str, value: Option<&str>) -> anyhow::Result<Option<Duration>> {
    value
        .map(|v| crate::duration::parse(v).map_err(|e| Error::usage(format!("{flag}: {e}")).into()))
        .transpose()
}

/// The release file and its folded state, or exit 2 when the record has no such release.
pub fn find(store: &Store, app: &str, id: &str) -> anyhow::Result<(ReleaseFile, ReleaseState)> {
    find_after(store, app, id, Ok(crate::record::Sync::default()))
}

/// `find`, after `sync`: when the release is missing and the remote could not be
/// reached, the error says so, since the release may well be on the remote. `id` may be
/// a prefix (see `resolve`).
pub fn find_after(
    store: &Store,
    app: &str,
    id: &str,
    sync: anyhow::Result<crate::record::Sync>,
) -> anyhow::Result<(ReleaseFile, ReleaseState)> {
    // The remote was reached but this clone cannot take its record in (its commits
    // conflict, or are held apart): that is the error, before anything about the release.
    let sync = sync?;
    let snapshot = store.snapshot()?;
    let found = match resolve(&snapshot, app, id)? {
        Some(full) => format::read_release(&snapshot, app, &full)?,
        None => None,
    };
    let Some(file) = found else {
        let err = match sync.error {
            Some(why) => Error::usage(format!(
                "there is no release `{id}` in this clone's record, and the records remote \
                 could not be reached to look there: {why}"
            ))
            .with_hint("fix the access to the remote (README: \"Sharing records through a remote\"), then run this again"),
            None => missing(&snapshot, app, id)?,
        };
        return Err(err.into());
    };
    let state = engine::fold(Some(&file));
    Ok((file, state))
}

/// A release this plan may act on: one of its own artifact. A plan that claims another
/// plan's `app` (another team's, or one copied) finds that app's releases are another
/// artifact's, as does one whose release file was edited to name another artifact; it
/// records nothing about them, as promote and rollback deploy nothing (README, "The
/// record"). Exit 1, naming the file, whose hint says to check the plan first.
pub fn owned(store: &Store, plan: &crate::plan::Plan, file: &ReleaseFile) -> anyhow::Result<()> {
    if format::is_named(&file.artifact, &plan.artifact_name) {
        return Ok(());
    }
    let snapshot = store.snapshot()?;
    let path = format::release_file(&snapshot, &file.app, &file.release)?;
    format::check_artifact(
        &snapshot,
        &path,
        &file.release,
        &file.artifact,
        &plan.artifact_name,
    )
}

/// The release of `app` that `given` stands for, as every command taking a release
/// reads it: the id itself, else the one id of the app's that begins with `given`, else
/// the one whose digest part (after the app's name) does (`4f2a` for
/// `checkout-4f2a9c1be0d3`). `None` when no id
/// matches; more than one is a usage error (exit 2) that names them.
pub fn resolve(snapshot: &Snapshot, app: &str, given: &str) -> anyhow::Result<Option<String>> {
    if given.is_empty() {
        return Ok(None);
    }
    if format::read_release(snapshot, app, given)?.is_some() {
        return Ok(Some(given.to_string()));
    }
    let ids = format::release_ids(snapshot, app)?;
    let mut matching: Vec<&String> = ids.iter().filter(|id| id.starts_with(given)).collect();
    if matching.is_empty() {
        matching = ids
            .iter()
            .filter(|id| digest_part(id).starts_with(given))
            .collect();
    }
    matching.sort();
    match matching.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.to_string())),
        many => {
            const SHOWN: usize = 10;
            let mut names = many
                .iter()
                .take(SHOWN)
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            if many.len() > SHOWN {
                names.push_str(&format!(" and {} more", many.len() - SHOWN));
            }
            Err(
                Error::usage(format!("ambiguous: `{given}` matches {names}"))
                    .with_hint("give more of the release id")
                    .into(),
            )
        }
    }
}

/// The error for a release the record does not hold, with the closest id it does.
fn missing(snapshot: &Snapshot, app: &str, given: &str) -> anyhow::Result<Error> {
    if given.trim().is_empty() {
        return Ok(Error::usage("the release id is empty")
            .with_hint("`relctl releases` lists the releases the record holds"));
    }
    let ids = format::release_ids(snapshot, app)?;
    let close = closest(given, &ids)
        .map(|c| format!("; did you mean `{c}`?"))
        .unwrap_or_default();
    Ok(Error::usage(format!(
        "there is no release `{given}` in the record{close}"
    ))
    .with_hint("`relctl releases` lists the releases the record holds"))
}

/// The part of a release id after the app's name: the digest's first 12 hex.
fn digest_part(id: &str) -> &str {
    id.rsplit_once('-').map_or(id, |(_, tail)| tail)
}

/// The id `given` is closest to, as typed: compared with as many characters of each
/// id (or of its digest part) as were given, within a few typing mistakes.
fn closest<'a>(given: &str, ids: &'a [String]) -> Option<&'a str> {
    let len = given.chars().count();
    let head = |s: &str| s.chars().take(len).collect::<String>();
    ids.iter()
        .map(|id| {
            let distance =
                edit_distance(given, &head(id)).min(edit_distance(given, &head(digest_part(id))));
            (distance, id.as_str())
        })
        // One mistake in four characters typed, three at most: a guess from one or
        // two characters would name any release.
        .filter(|(d, _)| *d <= (len / 4).min(3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, id)| id)
}

/// Every secret the plan uses, read now: a missing one stops the run before anything changes.
pub fn secrets(plan: &Plan) -> anyhow::Result<Secrets> {
    Ok(template::secrets(plan)?)
}

pub fn interactive(ctx: &Context) -> bool {
    let terminal = crate::ui::Terminal::detect();
    !crate::ui::resolve_no_input(ctx.no_input, terminal, |k| std::env::var(k).ok())
        && terminal.stderr
}

pub fn runner<'a>(
    ctx: &'a Context,
    plan: &'a Plan,
    store: Store,
    header: Header,
    opts: Options,
) -> anyhow::Result<Runner<'a>> {
    // The process environment, read once for the whole run.
    let surroundings = Surroundings::read(plan)?;
    Runner::new(
        plan,
        ctx.printer,
        store,
        author_in(plan, surroundings.ci.clone()),
        header,
        opts,
        surroundings,
    )
}

/// What a person decides at an approval gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Approve,
    Reject,
}

impl Verdict {
    fn command(self) -> &'static str {
        match self {
            Verdict::Approve => "approve",
            Verdict::Reject => "reject",
        }
    }
}

/// The gate `release` waits at in `env` (`None` is the environment's own approval),
/// once it is sure the caller may decide it: the caller must be known (exit 2), the
/// release must be waiting for an approval there (exit 2 otherwise, saying where it
/// stands), and the caller must be one of that gate's approvers and, under
/// `allow_self: false`, not its starter (exit 6). approve and reject both ask this.
pub fn decidable_gate(
    env: &Environment,
    release: &str,
    state: &ReleaseState,
    author: &Author,
    verdict: Verdict,
) -> anyhow::Result<Option<usize>> {
    if author.actor_source == ActorSource::None {
        return Err(identity::unknown(&format!("`relctl {}`", verdict.command())).into());
    }
    let run = state.env(&env.name);
    let gate = waiting_gate(env, &run, state.started_by.as_deref()).map_err(|stands| {
        let error = Error::usage(format!(
            "{release} is not waiting for an approval in {}: {stands}",
            env.name
        ));
        match (verdict, run.outcome) {
            (Verdict::Reject, Some(Outcome::Live)) => error.with_hint(format!(
                "to take it out of {0}, `relctl rollback --env {0} --reason TEXT`",
                env.name
            )),
            _ => error.with_hint("`relctl status` shows where each release stands"),
        }
    })?;
    if let Some(approval) = gate_approval(env, gate) {
        approver_allowed(approval, &author.actor, state.started_by.as_deref()).map_err(|why| {
            let what = match verdict {
                Verdict::Approve => "approval",
                Verdict::Reject => "rejection",
            };
            Error::new(
                Exit::Blocked,
                format!(
                    "{what} refused: {why} (you are {}, from {})",
                    author.actor,
                    author.actor_source.name()
                ),
            )
        })?;
    }
    Ok(gate)
}

/// The approval rule of a gate (`None` is the environment's own): an approval step's
/// own, else the environment's.
/// A decision at a gate that asks for signatures needs a key to sign it with (exit 2).
pub fn check_signing(approval: Option<&Approval>, store: &Store, what: &str) -> anyhow::Result<()> {
    if approval.is_some_and(|a| a.signed) && !store.signs() {
        return Err(crate::signing::missing_key(what).into());
    }
    Ok(())
}

pub fn gate_approval(env: &Environment, gate: Option<usize>) -> Option<&Approval> {
    env.gate_approval(gate)
}

/// The gate an environment's run waits at, or where it stands instead.
fn waiting_gate(
    env: &Environment,
    run: &EnvRun,
    started_by: Option<&str>,
) -> Result<Option<usize>, String> {
    match run.outcome {
        Some(Outcome::Live) => return Err("it is live there".into()),
        Some(Outcome::RolledBack) => return Err("it was rolled back there".into()),
        Some(Outcome::Aborted) => return Err("it was aborted there".into()),
        None => {}
    }
    if !run.entered {
        return Err("it is not there yet".into());
    }
    if let Some((by, _)) = &run.rejected {
        return Err(format!(
            "{by} rejected it there already; it is rolled back by the promote waiting on it or by `relctl resume`"
        ));
    }
    // A signed approval step recorded done without the approvals counted for it (by
    // hand) still holds the release (src/engine/decide.rs), so it still takes them.
    let held = |step: usize| {
        env.gate_approval(Some(step))
            .filter(|a| a.signed)
            .is_some_and(|a| {
                crate::engine::decide::counted_approvals(run, Some(step), a, started_by).len()
                    < a.min as usize
            })
    };
    match (run.waiting_at(), run.awaiting) {
        (Some(gate), _) => Ok(gate),
        (None, Some(Some(step))) if held(step) => Ok(Some(step)),
        (None, Some(_)) => Err("it is under way there, past its approval".into()),
        (None, None) => Err("it is under way there and has not asked for an approval".into()),
    }
}
