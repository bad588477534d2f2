//! The release plan: its types, loading with `file:line:column` errors, and validation.

mod check;
pub mod diag;
pub mod find;
pub mod jq;
mod load;
#[cfg(test)]
pub(crate) mod proptests;
mod read;
pub mod template;
pub mod types;
pub mod walk;
mod windows;
pub mod yaml;

use std::path::Path;

use sha2::{Digest, Sha256};

pub use diag::Diagnostics;
pub use find::find;
pub use types::*;
pub use windows::{instant, wall_instant};

use crate::error::Error;

/// The message for a plan with problems: a summary line, then one indented
/// `file:line:column: message` line per problem.
pub fn describe(d: &Diagnostics) -> String {
    let n = d.list.len();
    let mut text = format!(
        "{} has {n} problem{}",
        d.file.display(),
        if n == 1 { "" } else { "s" }
    );
    for line in d.to_string().lines() {
        text.push_str("\n  ");
        text.push_str(line);
    }
    text
}

/// What a valid plan may still get wrong, each at its position (`relctl validate` shows
/// them as warnings).
pub fn warnings(plan: &Plan) -> Diagnostics {
    let mut d = Diagnostics::new(&plan.path);
    check::warnings(plan, &mut d);
    d.sorted()
}

/// How a value `relctl init` leaves for the user to fill in starts: `<fill in: …>`.
pub const PLACEHOLDER: &str = "<fill in";

/// The longest `app`.
pub const APP_MAX: usize = read::NAME_MAX;

/// Whether `app` may name an app: it starts every release id, which commands take as
/// an argument, so lowercase letters, digits and dashes, at most 63, not starting
/// with a dash.
pub fn valid_app(app: &str) -> bool {
    app.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && app.bytes().next().is_some_and(|b| b != b'-')
        && app.len() <= APP_MAX
}

/// How a plan's jq expressions are checked when it is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jq {
    /// Compiled, so that a filter jaq does not define is a problem of the plan too:
    /// `validate`, and the commands that go on to run them (src/cmd/mod.rs,
    /// `load_plan_to_run`), so a bad expression stops them before they act.
    Compile,
    /// Parsed only (a syntax error is still a problem of the plan); each is compiled
    /// when first run. Compiling them all, most of it jaq's standard library, was about
    /// a tenth of a rollback's work before its deploy call, and `status` runs none.
    Parse,
}

/// Read, parse and check a plan, its jq expressions compiled. On failure the error
/// carries every problem.
pub fn load(path: &Path) -> anyhow::Result<Plan> {
    load_with(path, Jq::Compile)
}

/// `load`, checking the jq expressions as `jq` says.
pub fn load_with(path: &Path, jq: Jq) -> anyhow::Result<Plan> {
    let bytes = read(path)?;
    parse_with(path, &bytes, jq).map_err(|d| Error::usage(describe(&d)).into())
}

/// The plan file's bytes, or a usage error that says how to point at one.
pub fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    // A directory or a pipe is not a plan: say so rather than fail oddly or wait forever.
    if let Ok(meta) = std::fs::metadata(path)
        && !meta.is_file()
    {
        let what = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file"
        };
        let err = Error::usage(format!(
            "cannot read the plan {}: it is {what}",
            path.display()
        ));
        return Err(if meta.is_dir() {
            err.with_hint(format!(
                "the plan is a file: --plan {}",
                path.join("release.yaml").display()
            ))
        } else {
            err
        }
        .into());
    }
    std::fs::read(path).map_err(|e| {
        let err = Error::usage(format!("cannot read the plan {}: {e}", path.display()));
        if e.kind() == std::io::ErrorKind::NotFound {
            err.with_hint(
                "pass --plan PATH or set RELCTL_PLAN; `relctl init` writes a starter plan",
            )
        } else {
            err
        }
        .into()
    })
}

/// Every `<fill in: …>` still in the plan is one problem, said as such, in place of
/// whatever else is wrong with the value it stands in for.
fn placeholders(root: &yaml::Node, d: &mut Diagnostics) {
    fn walk<'n>(node: &'n yaml::Node, found: &mut Vec<(&'n yaml::Node, &'n str)>) {
        match &node.value {
            yaml::Value::Str(s) if s.trim_start().starts_with(PLACEHOLDER) => found.push((node, s)),
            yaml::Value::Seq(items) => items.iter().for_each(|i| walk(i, found)),
            yaml::Value::Map(entries) => entries.iter().for_each(|(_, v)| walk(v, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(root, &mut found);
    d.list
        .retain(|p| !found.iter().any(|(node, _)| p.pos == Some(node.pos)));
    for (node, text) in found {
        d.at(
            node.pos,
            format!("`{text}` is a placeholder from `relctl init`: fill in your own value"),
        );
    }
}

/// Parse and check plan bytes, its jq expressions compiled; `path` is used for
/// messages and the record.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Plan, Diagnostics> {
    parse_with(path, bytes, Jq::Compile)
}

/// `parse`, checking the jq expressions as `jq` says.
pub fn parse_with(path: &Path, bytes: &[u8], jq: Jq) -> Result<Plan, Diagnostics> {
    let mut d = Diagnostics::new(path);
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(bytes)));
    let root = match yaml::parse(bytes) {
        Ok(root) => root,
        Err(e) => {
            d.at(e.pos, e.message);
            return Err(d);
        }
    };
    let plan = load::plan(&root, path.to_path_buf(), digest, &mut d);
    if let Some(plan) = &plan {
        check::plan(plan, &mut d, jq);
    }
    placeholders(&root, &mut d);
    match plan {
        Some(plan) if d.is_empty() => Ok(plan),
        _ => Err(d.sorted()),
    }
}
