//! What promote, resume, approve, reject and abort share: finding the release in the
//! record and setting up a runner for it.

use std::time::Duration;

use super::Context;
use crate::engine::{self, ReleaseFile, ReleaseState};
use crate::error::Error;
use crate::plan::{Plan, template};
use crate::providers::Secrets;
use crate::record::Store;
use crate::runner::{self, Author, Header, Options, Runner, journal};

pub fn author(plan: &Plan) -> Author {
    Author {
        actor: runner::actor(plan),
        plan_digest: plan.digest.clone(),
        ci: runner::ci_link(),
    }
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

/// A duration given on the command line (exit 2 when it does not parse).
pub fn duration_flag(flag: &str, value: Option<&str>) -> anyhow::Result<Option<Duration>> {
    value
        .map(|v| crate::duration::parse(v).map_err(|e| Error::usage(format!("{flag}: {e}")).into()))
        .transpose()
}

/// The release file and its folded state, or exit 2 when the record has no such release.
pub fn find(store: &Store, id: &str) -> anyhow::Result<(ReleaseFile, ReleaseState)> {
    let snapshot = store.snapshot()?;
    let file = journal::read_release(&snapshot, id)?.ok_or_else(|| {
        Error::usage(format!("there is no release `{id}` in the record"))
            .with_hint("`relctl history` lists the releases the record holds")
    })?;
    let state = engine::fold(Some(&file));
    Ok((file, state))
}

/// Every secret the plan uses, read now: a missing one stops the run before anything changes.
pub fn secrets(plan: &Plan) -> anyhow::Result<Secrets> {
    Ok(Secrets::from_env(template::secret_names(plan))?)
}

pub fn interactive(ctx: &Context) -> bool {
    let terminal = crate::ui::Terminal::detect();
    !crate::ui::resolve_no_input(ctx.global.no_input, terminal, |k| std::env::var(k).ok())
        && terminal.stderr
}

pub fn runner<'a>(
    ctx: &'a Context,
    plan: &'a Plan,
    store: Store,
    header: Header,
    opts: Options,
) -> anyhow::Result<Runner<'a>> {
    let secrets = secrets(plan)?;
    Runner::new(
        plan,
        ctx.printer,
        store,
        author(plan),
        header,
        secrets,
        opts,
    )
}
