//! Rollback latency: from the moment `relctl rollback` is spawned to the platform
//! double receiving its deploy call, and to the process's exit. The double runs in this
//! process, so both ends are read from one monotonic clock. Between runs the records
//! branch is put back where it was, so every run rolls back the same release.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use serde_json::{Value, json};

use crate::generate::{self, BRANCH};
use crate::platform::Platform;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

pub fn measure(bin: &Path, dir: &Path, runs: usize, warmup: usize) -> anyhow::Result<Value> {
    let platform = Platform::start()?;
    let plan = generate::write_plan(dir, &platform.url())?;
    let repo = git2::Repository::open(dir)?;
    let refname = format!("refs/heads/{BRANCH}");
    let tip = repo
        .refname_to_id(&refname)
        .with_context(|| format!("no records branch in {}", dir.display()))?;
    let (mut to_deploy, mut to_exit) = (Vec::new(), Vec::new());
    for run in 0..warmup + runs {
        repo.reference(
            &refname,
            tip,
            true,
            "relctl-bench: back to the generated tip",
        )?;
        platform.take_deploys();
        let started = Instant::now();
        let status = generate::relctl(bin, &plan)
            .args(["rollback", "--env", "production", "--reason", "bench"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .context("running relctl rollback")?;
        let exited = started.elapsed();
        ensure!(status.success(), "relctl rollback failed: {status}");
        let deploys = platform.take_deploys();
        let first = deploys
            .first()
            .context("the rollback made no deploy call")?;
        if run >= warmup {
            to_deploy.push(ms(first.duration_since(started)));
            to_exit.push(ms(exited));
        }
    }
    repo.reference(
        &refname,
        tip,
        true,
        "relctl-bench: back to the generated tip",
    )?;
    Ok(json!({
        "runs": runs,
        "deploy_ms": { "median": median(to_deploy.clone()), "min": to_deploy.iter().copied().fold(f64::MAX, f64::min), "max": to_deploy.iter().copied().fold(0.0, f64::max) },
        "exit_ms": { "median": median(to_exit.clone()), "min": to_exit.iter().copied().fold(f64::MAX, f64::min), "max": to_exit.iter().copied().fold(0.0, f64::max) },
    }))
}
