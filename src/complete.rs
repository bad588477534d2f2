//! Dynamic shell completion: what a Tab offers for an environment, an app or a release,
//! read from the plan and the local record. The shells' scripts (src/generated.rs)
//! call relctl back with `COMPLETE=<shell>`, and clap_complete asks these functions.
//! They run on every Tab, so they read only local files (never the records remote),
//! and they offer nothing, silently, when there is no plan or no record.

use std::ffi::OsString;
use std::path::PathBuf;

use clap_complete::CompletionCandidate;

use crate::engine::EnvFile;
use crate::plan::Plan;

/// The plan's environments, in the plan's order.
pub fn environments() -> Vec<CompletionCandidate> {
    let Some(plan) = plan() else {
        return Vec::new();
    };
    plan.environments
        .iter()
        .map(|e| CompletionCandidate::new(&e.name))
        .collect()
}

/// The apps relctl knows: the plan's `app`. The one place that lists them, for every
/// argument that names an app.
pub fn apps() -> Vec<CompletionCandidate> {
    plan()
        .map(|plan| vec![CompletionCandidate::new(&plan.app).help(Some("the plan's app".into()))])
        .unwrap_or_default()
}

/// The plan's app's releases in the record, each once: first those the environment
/// files name, by where they stand (per environment in the plan's order, the one under
/// way, the one live, those that were live before and those rejected there), then
/// every other release of the app.
pub fn releases() -> Vec<CompletionCandidate> {
    let Some(plan) = plan() else {
        return Vec::new();
    };
    let Ok((envs, all)) = record(&plan) else {
        return Vec::new();
    };
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for env in &plan.environments {
        let Some(file) = envs.get(&env.name) else {
            continue;
        };
        for (id, help) in standing(&env.name, file) {
            if seen.insert(id.clone()) {
                out.push(CompletionCandidate::new(id).help(Some(help.into())));
            }
        }
    }
    for id in all {
        if seen.insert(id.clone()) {
            out.push(CompletionCandidate::new(id));
        }
    }
    out
}

/// The releases one environment file names, with a word on where each stands.
fn standing(env: &str, file: &EnvFile) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(lock) = &file.lock {
        out.push((lock.release.clone(), format!("under way in {env}")));
    }
    if let Some(live) = &file.live {
        out.push((
            live.release.clone(),
            format!("{}, live in {env}", live.version),
        ));
    }
    for before in &file.previous {
        out.push((
            before.release.clone(),
            format!("{}, was live in {env}", before.version),
        ));
    }
    for rejected in &file.rejected {
        out.push((rejected.clone(), format!("rejected in {env}")));
    }
    out
}

/// The plan's app's environment files and release ids, read from the local repository.
type Record = (std::collections::BTreeMap<String, EnvFile>, Vec<String>);
fn record(plan: &Plan) -> anyhow::Result<Record> {
    let store = crate::runner::open_store_to_read(plan)?;
    let snapshot = store.snapshot()?;
    let envs = crate::format::read_envs(
        &snapshot,
        &plan.app,
        plan.environments.iter().map(|e| e.name.as_str()),
    )?;
    Ok((envs, crate::format::release_ids(&snapshot, &plan.app)?))
}

/// The plan the completed command line would use, if it loads: the one it names, else
/// the one relctl would find from here (src/plan/find.rs).
fn plan() -> Option<Plan> {
    let cwd = std::env::current_dir().ok()?;
    let path = crate::plan::find(plan_path(std::env::args_os()).as_deref(), &cwd).ok()?;
    crate::plan::load_with(&path, crate::plan::Jq::Parse).ok()
}

/// The plan a command line names: its `--plan`, else `RELCTL_PLAN`, as the global
/// flag reads them (src/cli.rs); `None` when neither does.
fn plan_path(args: impl IntoIterator<Item = OsString>) -> Option<PathBuf> {
    let mut args = args.into_iter();
    let mut named = None;
    while let Some(arg) = args.next() {
        if arg == "--plan" {
            named = args.next();
        } else if let Some(value) = arg.to_str().and_then(|a| a.strip_prefix("--plan=")) {
            named = Some(value.into());
        }
    }
    named
        .filter(|p| !p.is_empty())
        .or_else(|| std::env::var_os("RELCTL_PLAN").filter(|p| !p.is_empty()))
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_is_the_last_plan_flag_on_the_line() {
        let args = |words: &[&str]| words.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            plan_path(args(&[
                "relctl",
                "--",
                "relctl",
                "--plan",
                "a.yaml",
                "status",
                "--plan=b.yaml"
            ])),
            Some(PathBuf::from("b.yaml"))
        );
        assert_eq!(
            plan_path(args(&[
                "relctl",
                "--",
                "relctl",
                "--plan",
                "deploy/release.yaml",
                "status"
            ])),
            Some(PathBuf::from("deploy/release.yaml"))
        );
    }
}
