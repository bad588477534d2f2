//! The release plan: its types, loading with `file:line:column` errors, and validation.

mod check;
pub mod diag;
pub mod jq;
mod load;
#[cfg(test)]
pub(crate) mod proptests;
mod read;
pub mod template;
pub mod types;
pub mod walk;
pub mod yaml;

use std::path::Path;

use sha2::{Digest, Sha256};

pub use diag::Diagnostics;
pub use types::*;

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

/// Read, parse and check a plan. On failure the error carries every problem.
pub fn load(path: &Path) -> anyhow::Result<Plan> {
    let bytes = read(path)?;
    parse(path, &bytes).map_err(|d| Error::usage(describe(&d)).into())
}

/// The plan file's bytes, or a usage error that says how to point at one.
pub fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        let err = Error::usage(format!("cannot read the plan {}: {e}", path.display()));
        if e.kind() == std::io::ErrorKind::NotFound {
            err.with_hint(
                "pass --plan PATH or set RELCTL_PLAN; see release.example.yaml for the format",
            )
        } else {
            err
        }
        .into()
    })
}

/// Parse and check plan bytes; `path` is used for messages and the record.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Plan, Diagnostics> {
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
        check::plan(plan, &mut d);
    }
    match plan {
        Some(plan) if d.is_empty() => Ok(plan),
        _ => Err(d.sorted()),
    }
}
