//! Which recorded approvals a signed gate counts (docs/trust.md): each approval is
//! traced to the record commit that added it, and counts only when that commit is signed
//! by a key the allowed-signers file gives the approver both at the release's source
//! commit (as its first record commit recorded it, on the plan repository's trusted
//! branch) and at that branch's tip; the approver must be one of the gate's approvers
//! and, under `allow_self: false`, not the principal that started the release.

use std::path::Path;

use anyhow::Result;
use git2::Oid;

use crate::engine::decide::{approver_allowed, same_person};
use crate::engine::{self, Event, EventKind, ReleaseFile, ReleaseState};
use crate::format::trailer;
use crate::plan::{Approval, Plan};
use crate::record::Store;
use crate::signing::{self, Problem};

/// What is said of an approval whose record commit the records remote does not have.
pub const UNPUSHED: &str =
    "not yet on the records remote (in this clone only; the next command that writes pushes it)";

/// What checking one approval at a signed gate found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Which event of the release file it is.
    pub index: usize,
    pub env: String,
    pub step: Option<usize>,
    /// Who the approval says approved.
    pub by: String,
    /// The record commit that added it, when one was found.
    pub commit: Option<Oid>,
    /// The signing key's fingerprint, when the commit carries a readable signature.
    pub fingerprint: Option<String>,
    /// `None`: it counts.
    pub refused: Option<Refusal>,
    /// Its record commit is in this clone only, not yet on the records remote (made
    /// with `--offline`, or a push that did not get through).
    pub unpushed: bool,
    /// A rejection rather than an approval: checked the same way, but obeyed whether
    /// it verifies or not (a rejection only stops the release; docs/trust.md).
    pub rejection: bool,
}

/// Why an approval at a signed gate does not count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No record commit that added it (the record was edited by hand).
    NoCommit,
    /// The allowed signers could not be read; why.
    NoAllowedSigners(String),
    /// The release's source commit cannot anchor the allowed signers; why.
    Anchor(String),
    /// The key is admitted at the source commit but not at the trusted branch's tip
    /// (named): it was revoked since.
    Revoked(String, Problem),
    Signature(Problem),
    /// A later record commit (named) changed or removed what the release file had
    /// recorded, saying what: the release acted on is not the one approved.
    Rewritten(Oid, String),
    NotApprover(String),
    SelfApproval,
    /// The key signed another principal's approval (named) at the same gate in the same
    /// visit: one key is one person, however many principals the file gives it.
    SameKey(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NoCommit => f.write_str("no record commit added it (the record was changed by hand)"),
            Refusal::NoAllowedSigners(why) => write!(f, "the allowed signers could not be read: {why}"),
            Refusal::Anchor(why) => f.write_str(why),
            Refusal::Revoked(at, problem) => write!(
                f,
                "{problem} at {at}, the tip of the plan repository's trusted branch (a key removed there no longer counts)"
            ),
            Refusal::Signature(problem) => problem.fmt(f),
            Refusal::Rewritten(commit, what) => write!(
                f,
                "the release's record was rewritten after it: record commit {commit} {what}"
            ),
            Refusal::NotApprover(why) => f.write_str(why),
            Refusal::SelfApproval => f.write_str(
                "self-approval: signed by the principal (or with the key) that started the release (allow_self: false)",
            ),
            Refusal::SameKey(first) => write!(
                f,
                "signed with the key that already approved here as {first}: one key counts once at a gate, whatever principals the allowed signers give it"
            ),
        }
    }
}

impl Verdict {
    /// Whether the signature holds: counted, or refused only by the plan's policy (not
    /// an approver, self-approval) rather than for the signature.
    pub fn verified(&self) -> bool {
        if self.rejection {
            return self.refused.is_none();
        }
        matches!(
            self.refused,
            None | Some(Refusal::NotApprover(_) | Refusal::SelfApproval)
        )
    }

    /// "approval by alice@acme.io in production", for messages.
    pub fn describe(&self) -> String {
        let what = if self.rejection {
            "rejection"
        } else {
            "approval"
        };
        match self.step {
            None => format!("{what} by {} in {}", self.by, self.env),
            Some(step) => format!("{what} by {} in {} (step {})", self.by, self.env, step + 1),
        }
    }

    /// What a command says of it when `refused` holds it.
    pub fn refused_line(&self, why: &Refusal) -> String {
        match self.rejection {
            true => format!(
                "{} does not verify: {why}; it is obeyed all the same, since a rejection only stops the release",
                self.describe()
            ),
            false => format!("{} is not counted: {why}", self.describe()),
        }
    }
}

/// Whether any gate of the plan asks for signatures.
pub fn required(plan: &Plan) -> bool {
    plan.environments.iter().any(|env| {
        env.approval.as_ref().is_some_and(|a| a.signed)
            || (0..env.steps.len()).any(|i| env.gate_approval(Some(i)).is_some_and(|a| a.signed))
    })
}

/// What `relctl validate` finds of the allowed-signers files of the plan's signed gates.
#[derive(Debug, Default)]
pub struct SignersChecked {
    /// Missing at HEAD, or lines that do not parse (at HEAD or in the working tree).
    pub problems: Vec<String>,
    /// A working-tree copy that is not what is committed: it does not count yet.
    pub warnings: Vec<String>,
    /// Which copy was checked, one line a file.
    pub checked: Vec<String>,
}

/// The allowed-signers files of the plan's signed gates, checked as committed at HEAD of
/// the plan's repository (what a release started now would read at its source commit)
/// and as they are in the working tree, when that differs.
pub fn allowed_signers_problems(plan: &Plan) -> SignersChecked {
    let mut paths: Vec<&str> = Vec::new();
    for env in &plan.environments {
        for step in std::iter::once(None).chain((0..env.steps.len()).map(Some)) {
            if let Some(approval) = env.gate_approval(step).filter(|a| a.signed)
                && !paths.contains(&approval.allowed_signers.as_str())
            {
                paths.push(&approval.allowed_signers);
            }
        }
    }
    let mut found = SignersChecked::default();
    if paths.is_empty() {
        return found;
    }
    let dir = crate::identity::plan_dir(plan);
    let head = git2::Repository::discover(&dir).ok().and_then(|repo| {
        let head = repo.head().ok()?.peel_to_commit().ok()?.id();
        Some((repo, head))
    });
    let Some((repo, head)) = head else {
        found.problems.push(format!(
            "the signed gates read their allowed signers through git, and {} is not in a git repository with a commit",
            dir.display()
        ));
        return found;
    };
    let short = head.to_string().chars().take(12).collect::<String>();
    let malformed = |bytes: &[u8], path: &str, suffix: &str| -> Vec<String> {
        match crate::allowed_signers::parse(bytes) {
            Ok(_) => Vec::new(),
            Err(malformed) => malformed
                .iter()
                .map(|m| format!("{path}:{}: {}{suffix}", m.line, m.what))
                .collect(),
        }
    };
    for path in paths {
        let working = repo
            .workdir()
            .and_then(|dir| std::fs::read(dir.join(path)).ok());
        let uncommitted = " (in the working tree, not committed)";
        match read_at(&repo, head, path) {
            Err(why) => {
                let tree = match working {
                    Some(_) => "; the working tree has it, uncommitted",
                    None => "",
                };
                found.problems.push(format!(
                    "{path}: not in the plan's repository at HEAD ({why}){tree}; the signed gates read it through git, so commit it"
                ));
                if let Some(bytes) = &working {
                    found.problems.extend(malformed(bytes, path, uncommitted));
                }
            }
            Ok(bytes) => {
                found.problems.extend(malformed(&bytes, path, ""));
                found
                    .checked
                    .push(format!("{path}: checked as committed at HEAD ({short})"));
                match working {
                    None if repo.workdir().is_some() => found.warnings.push(format!(
                        "{path} is deleted in the working tree; the copy committed at HEAD ({short}) was checked, and is what a release started now reads"
                    )),
                    Some(work) if work != bytes => {
                        found.problems.extend(malformed(&work, path, uncommitted));
                        found.warnings.push(format!(
                            "{path} in the working tree differs from the copy committed at HEAD ({short}): a release reads the one committed at its source commit, so the change counts only once it is committed (and on the trusted branch); both copies were checked"
                        ));
                    }
                    _ => {}
                }
            }
        }
    }
    found
}

/// The signed gate an approval event is for, `None` when its gate is not signed; for a
/// rejection (which names no step), the environment's first signed gate.
fn signed_gate<'p>(plan: &'p Plan, event: &Event) -> Option<&'p Approval> {
    let env = plan.environment(event.env.as_deref()?)?;
    match &event.kind {
        EventKind::Approved { step, .. } => env.gate_approval(*step).filter(|a| a.signed),
        EventKind::Rejected { .. } => std::iter::once(None)
            .chain((0..env.steps.len()).map(Some))
            .filter_map(|gate| env.gate_approval(gate))
            .find(|a| a.signed),
        _ => None,
    }
}

/// Every approval at a signed gate of `file`, checked.
pub fn check(store: &Store, plan: &Plan, file: &ReleaseFile) -> Result<Vec<Verdict>> {
    let approvals: Vec<(usize, &Event, &Approval)> = file
        .events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| signed_gate(plan, e).map(|a| (i, e, a)))
        .collect();
    if approvals.is_empty() {
        return Ok(Vec::new());
    }
    let history = crate::rewrites::walk(store, file)?;
    let anchor = Anchor::find(plan, file, &history);
    // Each gate's file, read once at both commits; the start is checked against the
    // first gate's.
    let mut files: Vec<(&str, Result<Allowed, Refusal>)> = Vec::new();
    for (_, _, approval) in &approvals {
        if !files
            .iter()
            .any(|(path, _)| *path == approval.allowed_signers)
        {
            files.push((&approval.allowed_signers, anchor.allowed(approval)));
        }
    }
    let allowed_by = |approval: &Approval| {
        files
            .iter()
            .find(|(path, _)| *path == approval.allowed_signers)
            .map(|(_, allowed)| allowed)
    };
    let commits = commits_adding(store, file)?;
    let allowed_first = match files.first() {
        Some((_, Ok(allowed))) => Some(allowed.source.as_slice()),
        _ => None,
    };
    let starter = starter(store, &history, file, allowed_first)?;
    let mut verdicts = Vec::with_capacity(approvals.len());
    for (index, event, approval) in approvals {
        let (step, by, rejection) = match &event.kind {
            EventKind::Approved { step, by, .. } => (*step, by, false),
            EventKind::Rejected { by, .. } => (None, by, true),
            _ => continue,
        };
        let commit = commit_of(&commits, index, event);
        let mut verdict = Verdict {
            index,
            env: event.env.clone().unwrap_or_default(),
            step,
            by: by.clone(),
            commit,
            fingerprint: None,
            refused: None,
            rejection,
            unpushed: match commit {
                Some(commit) => !store.on_remote(commit)?,
                None => false,
            },
        };
        let Some(allowed) = allowed_by(approval) else {
            continue;
        };
        // A moved source commit is said as such, by the anchor (for every approval).
        let rewrite = verdict.commit.and_then(|c| history.after(c));
        verdict.refused = match rewrite.filter(|r| !r.source) {
            Some(rewrite) => Some(Refusal::Rewritten(rewrite.commit, rewrite.what.clone())),
            None => refusal(store, approval, allowed, &starter, &mut verdict)?,
        };
        verdicts.push(verdict);
    }
    one_key_one_approval(file, &mut verdicts);
    Ok(verdicts)
}

/// The principal whose approval, counted at `env`'s gate `step` in its current visit,
/// was signed with the key `fingerprint`, when that is someone other than `by`: an
/// approval `by` signed with it would not count (`one_key_one_approval`).
pub fn key_counted_as(
    file: &ReleaseFile,
    verdicts: &[Verdict],
    (env, step): (&str, Option<usize>),
    fingerprint: &str,
    by: &str,
) -> Option<String> {
    let visit_start = file
        .events
        .iter()
        .rposition(|e| matches!(e.kind, EventKind::Entered { .. }) && e.env.as_deref() == Some(env))
        .unwrap_or(0);
    verdicts
        .iter()
        .filter(|v| v.index > visit_start && v.env == env && v.step == step)
        .filter(|v| v.refused.is_none() && !v.rejection)
        .find(|v| v.fingerprint.as_deref() == Some(fingerprint) && !same_person(&v.by, by))
        .map(|v| v.by.clone())
}

/// At each gate, in each visit of its environment (an `entered` event starts one), an
/// approval counts only if no approval counted before it there was signed with the same
/// key: `dave@acme.io,dave@sre.acme.io <key>` in the allowed signers is one approver.
fn one_key_one_approval(file: &ReleaseFile, verdicts: &mut [Verdict]) {
    // (env, step, fingerprint) → the principal whose approval that key signed.
    let mut seen: Vec<(&str, Option<usize>, String, String)> = Vec::new();
    let mut next = 0;
    for (index, event) in file.events.iter().enumerate() {
        if let (EventKind::Entered { .. }, Some(env)) = (&event.kind, &event.env) {
            seen.retain(|(e, ..)| *e != env.as_str());
        }
        while next < verdicts.len() && verdicts[next].index < index {
            next += 1;
        }
        let Some(verdict) = verdicts.get_mut(next).filter(|v| v.index == index) else {
            continue;
        };
        if verdict.rejection || verdict.refused.is_some() {
            continue;
        }
        let Some(fingerprint) = verdict.fingerprint.clone() else {
            continue;
        };
        let env = event.env.as_deref().unwrap_or_default();
        match seen
            .iter()
            .find(|(e, step, f, _)| *e == env && *step == verdict.step && *f == fingerprint)
        {
            Some((.., first)) if !same_person(first, &verdict.by) => {
                verdict.refused = Some(Refusal::SameKey(first.clone()));
            }
            Some(_) => {}
            None => seen.push((env, verdict.step, fingerprint, verdict.by.clone())),
        }
    }
}

/// Why `verdict`'s approval does not count, if it does not; its fingerprint filled in.
fn refusal(
    store: &Store,
    approval: &Approval,
    allowed: &Result<Allowed, Refusal>,
    starter: &Starter,
    verdict: &mut Verdict,
) -> Result<Option<Refusal>> {
    let Some(commit) = verdict.commit else {
        return Ok(Some(Refusal::NoCommit));
    };
    let Some((signature, data)) = store.signature_of(commit)? else {
        return Ok(Some(Refusal::Signature(Problem::Unsigned)));
    };
    let allowed = match allowed {
        Ok(allowed) => allowed,
        Err(why) => return Ok(Some(why.clone())),
    };
    let checked = signing::check(&allowed.source, &verdict.by, &data, &signature)?;
    verdict.fingerprint = checked.fingerprint.clone();
    if let Some(problem) = checked.problem {
        return Ok(Some(Refusal::Signature(problem)));
    }
    if let Some(problem) = signing::check(&allowed.trusted, &verdict.by, &data, &signature)?.problem
    {
        return Ok(Some(Refusal::Revoked(allowed.trusted_ref.clone(), problem)));
    }
    if let Err(why) = approver_allowed(approval, &verdict.by, None) {
        return Ok(Some(Refusal::NotApprover(why)));
    }
    if !approval.allow_self && !verdict.rejection {
        let same_key = starter.fingerprint.is_some() && starter.fingerprint == checked.fingerprint;
        let same_principal = starter
            .principals
            .iter()
            .chain(starter.actor.iter())
            .any(|p| same_person(p, &verdict.by));
        if same_key || same_principal {
            return Ok(Some(Refusal::SelfApproval));
        }
    }
    Ok(None)
}

/// Why an approval `by` would make at `approval`'s gate, signing with the key whose
/// public half is `public` (when known), would not count: checked before it is
/// recorded, against the same allowed signers and starter a gate counts with.
pub fn refusal_before(
    store: &Store,
    plan: &Plan,
    file: &ReleaseFile,
    approval: &Approval,
    by: &str,
    public: Option<&str>,
) -> Result<Option<String>> {
    let history = crate::rewrites::walk(store, file)?;
    let allowed = match Anchor::find(plan, file, &history).allowed(approval) {
        Ok(allowed) => allowed,
        Err(refusal) => return Ok(Some(refusal.to_string())),
    };
    if let Some(public) = public {
        let mut words = public.split_whitespace();
        let key = (
            words.next().unwrap_or_default(),
            words.next().unwrap_or_default(),
        );
        // Whether the file gives the key to `by`: `Err` when only by lines out of date.
        let gives = |bytes: &[u8]| -> Result<bool, String> {
            let entries = crate::allowed_signers::parse(bytes).unwrap_or_default();
            let lines: Vec<_> = entries
                .iter()
                .filter(|e| {
                    (e.keytype.as_str(), e.key.as_str()) == key
                        && crate::allowed_signers::admits(e, by)
                })
                .collect();
            let now = crate::clock::now();
            if lines.is_empty() {
                return Ok(false);
            }
            match lines
                .iter()
                .map(|e| crate::allowed_signers::out_of_date(e, now))
                .collect::<Option<Vec<String>>>()
            {
                Some(why) => Err(why.join("; ")),
                None => Ok(true),
            }
        };
        for (bytes, at) in [
            (
                &allowed.source,
                "at the release's source commit".to_string(),
            ),
            (
                &allowed.trusted,
                format!(
                    "at {}, the tip of the plan repository's trusted branch",
                    allowed.trusted_ref
                ),
            ),
        ] {
            match gives(bytes) {
                Ok(true) => {}
                Ok(false) => {
                    return Ok(Some(format!(
                        "your signing key is not one {} gives to {by} ({at})",
                        approval.allowed_signers
                    )));
                }
                Err(why) => {
                    return Ok(Some(format!(
                        "{} gives your signing key to {by} with a time limit, and it is {why} ({at}): an approval signed with it would not count",
                        approval.allowed_signers
                    )));
                }
            }
        }
    }
    if !approval.allow_self {
        let starter = starter(store, &history, file, Some(&allowed.source))?;
        if starter
            .principals
            .iter()
            .chain(starter.actor.iter())
            .any(|p| same_person(p, by))
        {
            return Ok(Some(Refusal::SelfApproval.to_string()));
        }
    }
    Ok(None)
}

/// The record commits that changed or removed what `file` had recorded, for a plan
/// with signed gates (empty otherwise: the walk is only paid where it counts).
pub fn rewrites(
    store: &Store,
    plan: &Plan,
    file: &ReleaseFile,
) -> Result<Vec<crate::rewrites::Rewrite>> {
    if !required(plan) {
        return Ok(Vec::new());
    }
    Ok(crate::rewrites::walk(store, file)?.rewrites)
}

/// Whether the record commit that started the release (the one that first wrote its
/// file) is signed; `None` when no record commit wrote it.
pub fn start_signed(store: &Store, file: &ReleaseFile) -> Result<Option<bool>> {
    match crate::rewrites::walk(store, file)?.first {
        Some((oid, _)) => Ok(Some(store.signature_of(oid)?.is_some())),
        None => Ok(None),
    }
}

/// What `promote` and `history` say of a release whose start is not signed under a
/// plan with signed gates.
pub fn unsigned_start(release: &str) -> String {
    format!(
        "the start of {release} is not signed: with allow_self: false, approvals are checked against the recorded starter only"
    )
}

/// The release as a signed gate sees it: `file` without the approvals `verdicts` refuse.
pub fn counted(file: &ReleaseFile, verdicts: &[Verdict]) -> ReleaseFile {
    let refused: Vec<usize> = verdicts
        .iter()
        .filter(|v| v.refused.is_some() && !v.rejection)
        .map(|v| v.index)
        .collect();
    let mut file = file.clone();
    let mut index = 0;
    file.events.retain(|_| {
        index += 1;
        !refused.contains(&(index - 1))
    });
    file
}

/// Why an approval at a release whose source commit moved does not count.
pub fn moved_reason(commit: Oid) -> String {
    format!("the release's source commit was changed after it started (commit {commit})")
}

/// The folded state counting only the approvals that verify, and every verdict.
pub fn state(
    store: &Store,
    plan: &Plan,
    file: &ReleaseFile,
) -> Result<(ReleaseState, Vec<Verdict>)> {
    let verdicts = check(store, plan, file)?;
    Ok((engine::fold(Some(&counted(file, &verdicts))), verdicts))
}

/// The signed `approval` steps `state` (folded from the approvals counted) has done
/// without the approvals counted for them: a `step_done` written by hand, which the
/// engine does not let past the gate. One line each, for `verify` and `history`.
pub fn unapproved_steps(plan: &Plan, state: &ReleaseState) -> Vec<String> {
    let mut found = Vec::new();
    for env in &plan.environments {
        let Some(run) = state.envs.get(&env.name) else {
            continue;
        };
        for (index, step) in env.steps.iter().enumerate() {
            if !matches!(step.kind, crate::plan::StepKind::Approval(_))
                || !run.done.contains(&index)
            {
                continue;
            }
            let Some(approval) = env.gate_approval(Some(index)).filter(|a| a.signed) else {
                continue;
            };
            let have = engine::decide::counted_approvals(
                run,
                Some(index),
                approval,
                state.started_by.as_deref(),
            );
            if have.len() < approval.min as usize {
                found.push(format!(
                    "step {} (approval) in {} is recorded done with {} of the {} counted approval(s) it needs",
                    index + 1,
                    env.name,
                    have.len(),
                    approval.min
                ));
            }
        }
    }
    found
}

/// Who started the release: the actor its first record commit wrote (an edit since
/// changes nothing here), and who signed that commit, as far as the allowed signers say.
#[derive(Debug, Default)]
struct Starter {
    actor: Option<String>,
    fingerprint: Option<String>,
    principals: Vec<String>,
}

fn starter(
    store: &Store,
    history: &crate::rewrites::History,
    file: &ReleaseFile,
    allowed: Option<&[u8]>,
) -> Result<Starter> {
    let (commit, first) = match &history.first {
        Some((commit, first)) => (Some(*commit), first),
        None => (None, file),
    };
    let mut starter = match (commit, allowed) {
        (Some(commit), Some(allowed)) => signer_of(store, commit, allowed)?,
        _ => Starter::default(),
    };
    starter.actor = first.events.first().map(|e| e.actor.clone());
    Ok(starter)
}

fn signer_of(store: &Store, commit: Oid, allowed: &[u8]) -> Result<Starter> {
    let Some((signature, data)) = store.signature_of(commit)? else {
        return Ok(Starter::default());
    };
    // Only a signature that holds says who started it.
    Ok(match signing::signer(allowed, &data, &signature)? {
        Some((fingerprint, principals)) => Starter {
            actor: None,
            fingerprint: Some(fingerprint),
            principals,
        },
        None => Starter::default(),
    })
}

/// An allowed-signers file as a signed gate reads it: at the release's source commit
/// and at the tip of the plan repository's trusted branch.
struct Allowed {
    source: Vec<u8>,
    trusted: Vec<u8>,
    /// The trusted branch, for messages (`origin/main`).
    trusted_ref: String,
}

/// Where the allowed signers are read: the plan's repository, the source commit the
/// release's first record commit recorded, and the trusted branch whose tip must also
/// admit a key and must contain the source commit. `Err` says why they cannot be read.
struct Anchor {
    at: Result<(git2::Repository, Oid, Trusted), Refusal>,
}

impl Anchor {
    fn find(plan: &Plan, file: &ReleaseFile, history: &crate::rewrites::History) -> Anchor {
        if let Some(merge) = history.merge() {
            return Anchor {
                at: Err(Refusal::Anchor(format!(
                    "the release's record was merged by hand: record commit {} {}, so who started it and what was decided cannot be told",
                    merge.commit, merge.what
                ))),
            };
        }
        let at = match started_source(history, file) {
            Source::Changed(commit) => Err(Refusal::Anchor(moved_reason(commit))),
            Source::At(None) => Err(Refusal::NoAllowedSigners(
                "the release has no recorded source commit to read them at".into(),
            )),
            Source::At(Some(source)) => on_trusted(plan, &source),
        };
        Anchor { at }
    }

    /// `approval`'s allowed-signers file at both commits.
    fn allowed(&self, approval: &Approval) -> Result<Allowed, Refusal> {
        let (repo, source, trusted) = self.at.as_ref().map_err(Clone::clone)?;
        let path = &approval.allowed_signers;
        let read = |commit: Oid, named: &str| {
            let bytes = read_at(repo, commit, path).map_err(|why| {
                Refusal::NoAllowedSigners(format!("{path} is not readable at {named}: {why}"))
            })?;
            match crate::allowed_signers::parse(&bytes) {
                Ok(_) => Ok(bytes),
                Err(malformed) => Err(Refusal::NoAllowedSigners(format!(
                    "{} (at {named})",
                    crate::allowed_signers::describe(path, &malformed)
                ))),
            }
        };
        Ok(Allowed {
            source: read(*source, &format!("the source commit {source}"))?,
            trusted: read(trusted.tip, &trusted.name)?,
            trusted_ref: trusted.name.clone(),
        })
    }
}

/// The tip of the plan repository's trusted branch (docs/trust.md): a fixed setting,
/// never what the checking clone has checked out.
#[derive(Debug, Clone)]
pub struct Trusted {
    pub name: String,
    pub tip: Oid,
}

/// The git setting that names the trusted branch (`origin/main`).
pub const TRUSTED_SETTING: &str = "relctl.trustedBranch";

/// The trusted branch of the repository `repo`: `relctl.trustedBranch` when set, else
/// the remote's default branch (`origin/HEAD`); in a repository without `origin`, the
/// local `main` or `master`. A clone of a remote that did not record its default branch
/// (a CI checkout made by `git init` and `git fetch`) is not guessed for: anyone who may
/// push a branch could create `origin/main` where the default is another (docs/trust.md).
/// `Err` says why there is none.
pub fn trusted(repo: &git2::Repository) -> Result<Trusted, String> {
    // Branches only, spelt out: a tag named `origin/main` (which a fetch brings) is not
    // the branch.
    let tip_of = |name: &str| {
        [format!("refs/remotes/{name}"), format!("refs/heads/{name}")]
            .iter()
            .find_map(|full| repo.find_reference(full).ok()?.peel_to_commit().ok())
            .map(|c| c.id())
    };
    let found = |name: &str| {
        tip_of(name).map(|tip| Trusted {
            name: name.to_string(),
            tip,
        })
    };
    if let Ok(name) = repo.config().and_then(|c| c.get_string(TRUSTED_SETTING)) {
        // `origin/HEAD` is the remote's default branch only as the symbolic ref a clone
        // makes; a plain ref of that name is a branch someone pushed as `HEAD`.
        if name == "HEAD" || name.ends_with("/HEAD") {
            let symbolic = repo
                .find_reference(&format!("refs/remotes/{name}"))
                .ok()
                .and_then(|r| r.symbolic_target().ok().flatten().map(str::to_string));
            return match symbolic
                .as_deref()
                .and_then(|t| t.strip_prefix("refs/remotes/"))
            {
                Some(target) => found(target).ok_or_else(|| {
                    format!("{name} names {target}, which this clone has not fetched")
                }),
                None => Err(format!(
                    "{TRUSTED_SETTING} names {name}, which is not the remote's default branch here (not a symbolic ref); name the branch itself"
                )),
            };
        }
        return found(&name).ok_or_else(|| {
            format!(
                "{TRUSTED_SETTING} names {name}, which is not a branch of the plan's repository"
            )
        });
    }
    if repo.find_remote("origin").is_ok() {
        let head = repo.find_reference("refs/remotes/origin/HEAD");
        let default = head
            .as_ref()
            .ok()
            .and_then(|h| h.symbolic_target().ok().flatten())
            .and_then(|t| t.strip_prefix("refs/remotes/"));
        return match default {
            Some(name) => found(name).ok_or_else(|| {
                format!("origin/HEAD names {name}, which this clone has not fetched")
            }),
            None => Err(format!(
                "this clone does not know the remote's default branch (no origin/HEAD), and relctl does not guess it; ask the remote with `git remote set-head origin --auto`, or name the branch whose allowed signers are trusted with `git config {TRUSTED_SETTING} origin/BRANCH`"
            )),
        };
    }
    ["main", "master"]
        .iter()
        .find_map(|name| found(name))
        .ok_or_else(|| {
            format!(
                "the plan's repository has no trusted branch (no origin remote, no main or master); name one with `git config {TRUSTED_SETTING} BRANCH`"
            )
        })
}

/// The plan's repository, `source` and the trusted branch, when `source` is on it.
fn on_trusted(plan: &Plan, source: &str) -> Result<(git2::Repository, Oid, Trusted), Refusal> {
    let dir = crate::identity::plan_dir(plan);
    let unreadable = || {
        Refusal::NoAllowedSigners(format!(
            "the plan's repository at {} could not be opened",
            dir.display()
        ))
    };
    let repo = git2::Repository::discover(&dir).map_err(|_| unreadable())?;
    let trusted = trusted(&repo).map_err(Refusal::NoAllowedSigners)?;
    let not_on = || Refusal::Anchor(format!("source commit {source} is not on {}", trusted.name));
    let oid = Oid::from_str(source).map_err(|_| not_on())?;
    let contained = oid == trusted.tip
        || (repo.find_commit(oid).is_ok()
            && repo.graph_descendant_of(trusted.tip, oid).unwrap_or(false));
    if !contained {
        return Err(not_on());
    }
    Ok((repo, oid, trusted))
}

/// A file's bytes at `commit`; the error says why in words, not in git's codes.
fn read_at(repo: &git2::Repository, commit: Oid, path: &str) -> Result<Vec<u8>, String> {
    let tree = repo
        .find_commit(commit)
        .and_then(|c| c.tree())
        .map_err(|_| "the commit is not in the plan's repository".to_string())?;
    let entry = tree
        .get_path(Path::new(path))
        .map_err(|_| "there is no such file".to_string())?;
    let blob = repo
        .find_blob(entry.id())
        .map_err(|_| "it is not a file".to_string())?;
    Ok(blob.content().to_vec())
}

/// The source commit a release's record says it was started from.
enum Source {
    /// As its first record commit recorded it, unchanged since.
    At(Option<String>),
    /// This record commit changed it.
    Changed(Oid),
}

/// The release's source commit as the commit that first wrote its file gave it (top
/// level and in the `started` event alike), or the commit that changed either.
fn started_source(history: &crate::rewrites::History, file: &ReleaseFile) -> Source {
    if let Some(rewrite) = history.moved_source() {
        return Source::Changed(rewrite.commit);
    }
    match &history.first {
        Some((commit, first)) => match crate::rewrites::source_of(first) {
            (top, started) if top != started => Source::Changed(*commit),
            (top, _) => Source::At(top.map(str::to_string)),
        },
        None => Source::At(file.source_commit.clone()),
    }
}

/// A record commit, and the events it wrote with their places in the release file.
type Added = (Oid, Vec<(usize, Event)>);

/// For each record commit of the release, the events it added, with their indices.
fn commits_adding(store: &Store, file: &ReleaseFile) -> Result<Vec<Added>> {
    let ours = |e: &crate::record::LogEntry| e.trailer(trailer::RELEASE) == Some(&file.release);
    let mut added = Vec::new();
    for entry in store.log_where(None, &ours)? {
        let (at, parent) = store.snapshot_at(entry.oid)?;
        let after = events_in(&at, file)?;
        let before = match parent {
            Some(parent) => events_in(&store.snapshot_at(parent)?.0, file)?,
            None => Vec::new(),
        };
        // By position: the events at indices the parent did not have, or had otherwise.
        // A copy of an old approval appended later is at a new index, so the commit that
        // put it there (a hand-made one) answers for it, not the one that signed the
        // original.
        let new: Vec<(usize, Event)> = after
            .into_iter()
            .enumerate()
            .filter(|(i, e)| before.get(*i) != Some(e))
            .collect();
        added.push((entry.oid, new));
    }
    Ok(added)
}

fn events_in(snapshot: &crate::record::Snapshot, file: &ReleaseFile) -> Result<Vec<Event>> {
    // A file that does not read there added nothing a signature can vouch for.
    Ok(
        crate::format::read_release(snapshot, &file.app, &file.release)
            .ok()
            .flatten()
            .map(|f| f.events)
            .unwrap_or_default(),
    )
}

/// The commit that added the event at `index` of the release file, as it is there: the
/// newest one, if that index was written more than once.
fn commit_of(commits: &[Added], index: usize, event: &Event) -> Option<Oid> {
    commits
        .iter()
        .find(|(_, added)| added.iter().any(|(i, e)| *i == index && e == event))
        .map(|(oid, _)| *oid)
}
