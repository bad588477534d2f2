//! Under a signed gate, what an environment file says was live there is taken only as
//! far as the releases' own records support it (docs/trust.md): a rollback target or a
//! promotion's baseline must be a release whose record shows it went live in that
//! environment through the environment's signed gates, with approvals that count, and
//! was never rewritten. An environment without a signed gate pays nothing.

use anyhow::Result;

use crate::engine::decide::counted_approvals;
use crate::engine::{EventKind, Outcome, ReleaseFile};
use crate::error::{Error, Exit};
use crate::plan::{Approval, Environment, Plan, StepKind};
use crate::record::Store;
use crate::trust::{self, Refusal};

/// The signed gates of `env`: its own (`None`) and its `approval` steps'.
fn signed_gates(env: &Environment) -> Vec<(Option<usize>, &Approval)> {
    let own = env.approval.as_ref().map(|a| (None, a));
    let steps = env
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s.kind, StepKind::Approval(_)))
        .filter_map(|(i, _)| env.gate_approval(Some(i)).map(|a| (Some(i), a)));
    own.into_iter()
        .chain(steps)
        .filter(|(_, a)| a.signed)
        .collect()
}

/// Why release `file` (`None`: it has no release file) is not one that went live in
/// `env` through its signed gates, `None` when it is or `env` has no signed gate.
pub fn unsupported(
    store: &Store,
    plan: &Plan,
    env: &Environment,
    file: Option<&ReleaseFile>,
) -> Result<Option<String>> {
    let gates = signed_gates(env);
    if gates.is_empty() {
        return Ok(None);
    }
    let Some(file) = file else {
        return Ok(Some("the record holds no release file for it".into()));
    };
    if let Some(rewrite) = crate::rewrites::walk(store, file)?.rewrites.first() {
        return Ok(Some(format!(
            "its record was rewritten: record commit {} {}",
            rewrite.commit, rewrite.what
        )));
    }
    let verdicts = trust::check(store, plan, file)?;
    if let Some((_, why)) = live_unapproved(plan, file, &verdicts)
        .into_iter()
        .find(|(e, _)| *e == env.name)
    {
        return Ok(Some(why));
    }
    let state = crate::engine::fold(Some(&trust::counted(file, &verdicts)));
    if state.env(&env.name).outcome != Some(Outcome::Live) {
        return Ok(Some(never_live(&env.name)));
    }
    Ok(None)
}

/// The environments with a signed gate where `file`'s record says the release went live
/// without the approvals those gates count (a `live` event written by hand, say), with
/// why: (environment, why). `verdicts` are `trust::check`'s for `file`.
pub fn live_unapproved(
    plan: &Plan,
    file: &ReleaseFile,
    verdicts: &[trust::Verdict],
) -> Vec<(String, String)> {
    // A key revoked since still stood when the release went live there.
    let verdicts: Vec<_> = verdicts
        .iter()
        .cloned()
        .map(|mut v| {
            if matches!(v.refused, Some(Refusal::Revoked(..))) {
                v.refused = None;
            }
            v
        })
        .collect();
    let state = crate::engine::fold(Some(&trust::counted(file, &verdicts)));
    let mut found = Vec::new();
    for env in plan
        .environments
        .iter()
        .filter(|e| !signed_gates(e).is_empty())
    {
        // The visit that went live: the last `live` there, after the last `entered`
        // (a later visit not yet live is judged when it goes live).
        let here = |e: &crate::engine::Event| {
            e.env.as_deref() == Some(env.name.as_str()) && e.target.is_none()
        };
        let last = |kind: fn(&EventKind) -> bool| {
            file.events.iter().rposition(|e| here(e) && kind(&e.kind))
        };
        let live = last(|k| matches!(k, EventKind::Live));
        let entered = last(|k| matches!(k, EventKind::Entered { .. }));
        let Some(live) = live.filter(|l| Some(*l) >= entered) else {
            continue;
        };
        // A visit that was rejected, rolled back or aborted is over: no `live` follows
        // in it (going live again takes a new visit), whatever approvals it had.
        let ended = file.events[entered.map_or(0, |e| e + 1)..live]
            .iter()
            .find_map(|e| match &e.kind {
                EventKind::Aborted { .. } => Some("aborted"),
                EventKind::Rejected { .. } if here(e) => Some("rejected there"),
                EventKind::RolledBack { .. } if here(e) => Some("rolled back there"),
                _ => None,
            });
        if let Some(ended) = ended {
            found.push((
                env.name.clone(),
                format!(
                    "its record says it went live in {} after it was {ended} on the same visit, which relctl never does",
                    env.name
                ),
            ));
            continue;
        }
        let run = state.env(&env.name);
        for (step, approval) in signed_gates(env) {
            let have = counted_approvals(&run, step, approval, state.started_by.as_deref());
            if have.len() < approval.min as usize {
                let gate = match step {
                    None => format!("{}'s signed gate", env.name),
                    Some(step) => format!("the signed approval step {} in {}", step + 1, env.name),
                };
                found.push((
                    env.name.clone(),
                    format!(
                        "it went live in {} past {gate} with {} of the {} counted approval(s) it needs",
                        env.name,
                        have.len(),
                        approval.min
                    ),
                ));
                break;
            }
        }
    }
    found
}

/// `release`, named by the environment file `path` as live (or live before) in `env`,
/// must be one its record shows went live there through `env`'s signed gates; else an
/// error (exit 1) naming both, and nothing is deployed.
pub fn check(store: &Store, plan: &Plan, env: &str, release: &str, path: &str) -> Result<()> {
    let Some(environment) = plan.environment(env) else {
        return Ok(());
    };
    if signed_gates(environment).is_empty() {
        return Ok(());
    }
    let snapshot = store.snapshot()?;
    let file = crate::format::read_release(&snapshot, &plan.app, release)?;
    let Some(why) = unsupported(store, plan, environment, file.as_ref())? else {
        return Ok(());
    };
    let branch = snapshot.branch();
    Err(Error::new(
        Exit::Failed,
        format!(
            "the record file {branch}:{path} names {release} as live in {env}, but {env} has a signed gate and {why}; nothing was deployed"
        ),
    )
    .with_hint(format!(
        "it or the release's own file was changed outside relctl: `relctl verify` and `git log -p {branch} -- {path}` show what; `relctl rollback --env {env} --to RELEASE` picks another release that went live there"
    ))
    .into())
}

fn never_live(env: &str) -> String {
    format!("its record does not show it went live in {env}")
}

/// The entries (live, and live before) of the environment files of `plan`'s environments
/// with a signed gate whose release's record has no `live` event there, or no record:
/// (environment file, release, why), for `verify`. `only`: this release's entries only.
pub fn entries_unsupported(
    store: &Store,
    plan: &Plan,
    only: Option<&str>,
) -> Result<Vec<(String, String, String)>> {
    let snapshot = store.snapshot()?;
    let mut found = Vec::new();
    for env in plan
        .environments
        .iter()
        .filter(|e| !signed_gates(e).is_empty())
    {
        let file = crate::format::read_env(&snapshot, &plan.app, &env.name)?;
        for live in file.live.iter().chain(&file.previous) {
            if only.is_some_and(|r| r != live.release) {
                continue;
            }
            let own = crate::format::read_release(&snapshot, &plan.app, &live.release)?;
            let why = match &own {
                None => Some("the record holds no release file for it".to_string()),
                Some(own)
                    if !own.events.iter().any(|e| {
                        e.env.as_deref() == Some(env.name.as_str())
                            && matches!(e.kind, EventKind::Live)
                    }) =>
                {
                    Some(never_live(&env.name))
                }
                // An approval that does not count is said for the release itself.
                Some(_) => None,
            };
            if let Some(why) = why {
                let path = crate::format::env_file(&snapshot, &plan.app, &env.name)?;
                found.push((path, live.release.clone(), why));
            }
        }
    }
    Ok(found)
}

/// The record commits that changed what an environment with a signed gate says is live
/// or was live before (`live`, `previous`) otherwise than relctl does: only the commit
/// that appends a release's `live` event there makes it live (the one live before
/// moving to the front of `previous`), and only one appending a `rolled_back` event
/// there makes its `to` live again (leaving `previous`). A hand edit that drops, adds or
/// reorders an entry would change where `rollback` goes (docs/trust.md). For `verify`:
/// (environment file, commit, what changed). `only`: the edits naming this release.
pub fn edits_unexplained(
    store: &Store,
    plan: &Plan,
    only: Option<&str>,
) -> Result<Vec<(String, git2::Oid, String)>> {
    let envs: Vec<&str> = plan
        .environments
        .iter()
        .filter(|e| !signed_gates(e).is_empty())
        .map(|e| e.name.as_str())
        .collect();
    if envs.is_empty() {
        return Ok(Vec::new());
    }
    let mut found = Vec::new();
    for entry in store.log(None)? {
        let (at, parent) = store.snapshot_at(entry.oid)?;
        let before = match parent {
            Some(parent) => Some(store.snapshot_at(parent)?.0),
            None => None,
        };
        for env in &envs {
            let path = crate::format::env_file(&at, &plan.app, env)?;
            let bytes = |s: &crate::record::Snapshot| -> Result<Option<Vec<u8>>> {
                let path = crate::format::env_file(s, &plan.app, env)?;
                s.read(&path)
            };
            let old_bytes = match &before {
                Some(before) => bytes(before)?,
                None => None,
            };
            if bytes(&at)? == old_bytes {
                continue;
            }
            let new = crate::format::read_env(&at, &plan.app, env)?;
            let old = match &before {
                Some(before) => crate::format::read_env(before, &plan.app, env)?,
                None => crate::engine::EnvFile::default(),
            };
            let names = |f: &crate::engine::EnvFile| -> (Option<String>, Vec<String>) {
                (
                    f.live.as_ref().map(|l| l.release.clone()),
                    f.previous.iter().map(|p| p.release.clone()).collect(),
                )
            };
            let (old_live, old_previous) = names(&old);
            let (new_live, new_previous) = names(&new);
            if (&old_live, &old_previous) == (&new_live, &new_previous) {
                continue;
            }
            if only.is_some_and(|r| {
                !old_live
                    .iter()
                    .chain(&old_previous)
                    .chain(&new_live)
                    .chain(&new_previous)
                    .any(|n| n == r)
            }) {
                continue;
            }
            let event = appended_event(&entry, &at, before.as_ref(), &plan.app)?;
            let explained = event.as_ref().is_some_and(|(release, event)| {
                if event.env.as_deref() != Some(*env) || event.target.is_some() {
                    return false;
                }
                let made_live = match &event.kind {
                    crate::engine::EventKind::Live => release.clone(),
                    crate::engine::EventKind::RolledBack { to: Some(to), .. } => to.clone(),
                    _ => return false,
                };
                let mut previous = old_previous.clone();
                // As the commands do it: EnvFile::push_previous, then a rollback's retain.
                if let Some(old) = old_live.as_ref().filter(|o| **o != made_live) {
                    previous.insert(0, old.clone());
                    previous.truncate(crate::engine::event::PREVIOUS_KEPT);
                }
                if matches!(event.kind, crate::engine::EventKind::RolledBack { .. }) {
                    previous.retain(|p| *p != made_live);
                }
                new_live.as_deref() == Some(made_live.as_str()) && previous == new_previous
            });
            if !explained {
                let show = |live: &Option<String>, previous: &[String]| {
                    format!(
                        "live {}, before it [{}]",
                        live.as_deref().unwrap_or("nothing"),
                        previous.join(", ")
                    )
                };
                found.push((
                    path,
                    entry.oid,
                    format!(
                        "record commit {} changed {env}'s live releases from {} to {} without the event that would (a change made by hand: `rollback` goes by this list)",
                        entry.oid,
                        show(&old_live, &old_previous),
                        show(&new_live, &new_previous)
                    ),
                ));
            }
        }
    }
    Ok(found)
}

/// The one event `entry` appended to the release its trailer names, with that release,
/// when it appended exactly one (as every record commit does).
fn appended_event(
    entry: &crate::record::LogEntry,
    at: &crate::record::Snapshot,
    before: Option<&crate::record::Snapshot>,
    app: &str,
) -> Result<Option<(String, crate::engine::Event)>> {
    if entry.parents.len() > 1 {
        return Ok(None);
    }
    let Some(release) = entry.trailer(crate::format::trailer::RELEASE) else {
        return Ok(None);
    };
    let Some(now) = crate::format::read_release(at, app, release)? else {
        return Ok(None);
    };
    let then = match before {
        Some(before) => crate::format::read_release(before, app, release)?
            .map(|f| f.events)
            .unwrap_or_default(),
        None => Vec::new(),
    };
    if now.events.len() != then.len() + 1 || now.events[..then.len()] != then[..] {
        return Ok(None);
    }
    Ok(now.events.last().cloned().map(|e| (release.to_string(), e)))
}
