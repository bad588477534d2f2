//! `relctl validate`: check the plan and report every problem with its position.

use serde_json::json;

use super::Context;
use crate::error::Error;
use crate::plan;
use crate::ui::OutputMode;

/// Check the plan: syntax, unknown keys, references, templates, jq, durations
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, ctx: &Context) -> anyhow::Result<()> {
    let path = &super::plan_path(ctx)?;
    let bytes = plan::read(path)?;
    let result = plan::parse(path, &bytes);
    let json = ctx.printer.mode() == OutputMode::Json;
    match result {
        Ok(plan) => {
            let signers = crate::trust::allowed_signers_problems(&plan);
            let problems = signers.problems;
            if !problems.is_empty() {
                if json {
                    for message in &problems {
                        ctx.printer.json(&json!({
                            "file": path.display().to_string(),
                            "message": message,
                        }))?;
                    }
                    ctx.printer
                        .json(&json!({ "valid": false, "problems": problems.len() }))?;
                }
                return Err(Error::usage(problems.join("\n"))
                    .with_hint("the allowed-signers file is OpenSSH's format: `PRINCIPALS [namespaces=\"git\"] KEYTYPE BASE64-KEY` a line (docs/trust.md)")
                    .into());
            }
            let warnings = plan::warnings(&plan);
            if json {
                for message in &signers.warnings {
                    ctx.printer.json(&json!({
                        "file": path.display().to_string(),
                        "message": message,
                        "severity": "warning",
                    }))?;
                }
                for w in &warnings.list {
                    ctx.printer.json(&json!({
                        "file": path.display().to_string(),
                        "line": w.pos.map(|p| p.line),
                        "column": w.pos.map(|p| p.col),
                        "message": w.message,
                        "severity": "warning",
                    }))?;
                }
                ctx.printer.json(&json!({
                    "valid": true,
                    "problems": 0,
                    "file": path.display().to_string(),
                    "environments": plan.environments.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
                    "warnings": warnings.list.len() + signers.warnings.len(),
                    "allowed_signers": signers.checked,
                }))?;
            } else {
                for line in warnings.to_string().lines() {
                    ctx.printer.warn(line);
                }
                for line in &signers.warnings {
                    ctx.printer.warn(line);
                }
                for line in &signers.checked {
                    ctx.printer.status(line);
                }
                let names: Vec<&str> = plan.environments.iter().map(|e| e.name.as_str()).collect();
                ctx.printer.status(&format!(
                    "{} is valid: app `{}`, environments {}",
                    path.display(),
                    plan.app,
                    names.join(" → ")
                ));
            }
            Ok(())
        }
        Err(diagnostics) => {
            if json {
                for d in &diagnostics.list {
                    ctx.printer.json(&json!({
                        "file": path.display().to_string(),
                        "line": d.pos.map(|p| p.line),
                        "column": d.pos.map(|p| p.col),
                        "message": d.message,
                    }))?;
                }
                ctx.printer
                    .json(&json!({ "valid": false, "problems": diagnostics.list.len() }))?;
            }
            Err(Error::usage(plan::describe(&diagnostics)).into())
        }
    }
}
