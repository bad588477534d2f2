//! One step of the loop: an analysis through the analysis runner, any other step
//! prepared (src/runner/steps.rs), its intent recorded, performed, and how it ended
//! recorded.

use std::time::Instant;

use anyhow::Context as _;

use super::context::Scope;
use super::steps::Tools;
use crate::engine::{EnvRun, EventKind};
use crate::error::{Error, Exit};
use crate::plan::{StepKind, Target};

use super::{Runner, analysis, steps};

impl Runner<'_> {
    /// Runs step `index` of `env_name`: an analysis through the analysis runner, any
    /// other step prepared as `relctl plan` shows it (src/runner/steps.rs) and performed.
    pub(super) async fn step(
        &self,
        env_name: &str,
        index: usize,
        run: &EnvRun,
        place: Option<&Target>,
    ) -> anyhow::Result<()> {
        let on = place.map(|t| t.name.as_str());
        let env = self
            .plan
            .environment(env_name)
            .context("the plan lost an environment")?;
        let step = &env.steps[index];
        let target = self.own_deployable();
        if matches!(step.kind, StepKind::Deploy { .. }) {
            let (app, release) = (&self.header.app, self.release());
            self.check_artifact(release, &target.artifact, &|s| {
                crate::format::release_file(s, app, release)
            })?;
        }
        let weight = steps::step_weight(env, index);
        let scope = self.scope(
            env_name,
            &target,
            run.baseline.as_ref(),
            index,
            weight,
            place,
        );
        if let StepKind::Analysis(name) = &step.kind {
            return self
                .analysis_step(env_name, index, &name.raw, run, &scope)
                .await;
        }
        if matches!(step.kind, StepKind::ErrorBudget) {
            return self.budget_step(env_name, index, on).await;
        }
        if let StepKind::Flag(flag) = &step.kind {
            return self.flag_step(env_name, index, flag, run, &scope).await;
        }
        let provider = self.plan.deploy_providers.get(&env.deploy_of(place).raw);
        let prepared = steps::prepare(
            &scope,
            env,
            index,
            provider,
            steps::Visit::recorded(self.release(), env_name, run).of_target(on),
        )
        .context("the plan lost a deploy provider")?;
        let action = action_of(&step.kind);
        let prepared = match prepared {
            Ok(p) => p,
            Err(e) => return self.step_failed((env_name, on), index, &action, e),
        };
        let place_name = match on {
            Some(target) => format!("{env_name}/{target}"),
            None => env_name.to_string(),
        };
        let started = match run.in_flight {
            Some((i, at)) if i == index => {
                // Begun by a run that stopped before its outcome was recorded: the
                // platform may have acted on it, so it is done again as it was (a pause
                // goes on from when it began).
                let again = match step.kind {
                    StepKind::Deploy { .. } | StepKind::Http(_) => {
                        Some("sent again with the same Idempotency-Key")
                    }
                    StepKind::Exec(_) => Some("run again"),
                    _ => None,
                };
                if let Some(again) = again {
                    self.printer.status(&format!(
                        "{place_name} step {}/{}: begun at {} and no outcome recorded; {again}",
                        index + 1,
                        env.steps.len(),
                        at.format("%Y-%m-%d %H:%M:%SZ")
                    ));
                }
                at
            }
            _ => {
                let request = steps::describe(&prepared, &scope);
                self.record_step(
                    env_name,
                    on,
                    EventKind::Intent {
                        step: index,
                        action: action.clone(),
                        request,
                    },
                )?;
                crate::clock::now()
            }
        };
        let t0 = Instant::now();
        let tools = Tools {
            client: self.client()?,
            backoff: &self.backoff,
        };
        let what = shown(&step.kind, &action, started);
        let spinner = self.printer.spinner(format!(
            "{place_name:<12} step {}/{} {what}",
            index + 1,
            env.steps.len()
        ));
        let result = steps::perform(prepared, &scope, provider, &tools, Some(started)).await;
        drop(spinner);
        // A pause lasts from when it began, whichever run began it; anything else took
        // what this run's attempt took.
        let ms = match step.kind {
            StepKind::Pause(_) => (crate::clock::now() - started).num_milliseconds().max(0) as u64,
            _ => t0.elapsed().as_millis() as u64,
        };
        match result {
            Ok(detail) => self.record_step(
                env_name,
                on,
                EventKind::StepDone {
                    step: index,
                    action,
                    detail,
                    ms,
                },
            ),
            Err(e) => self.step_failed((env_name, on), index, &action, e),
        }
    }

    /// Runs the analysis `name` at step `index`, resumed where it stood if it was under
    /// way, and records how it ended.
    async fn analysis_step(
        &self,
        env_name: &str,
        index: usize,
        name: &str,
        run: &EnvRun,
        scope: &Scope<'_>,
    ) -> anyhow::Result<()> {
        let analysis = self
            .plan
            .analyses
            .get(name)
            .context("the plan lost an analysis")?;
        let on = scope.target_name();
        let started = match run.in_flight {
            Some((i, at)) if i == index => at,
            _ => {
                let request = serde_json::json!({ "analysis": name });
                self.record_step(
                    env_name,
                    on,
                    EventKind::Intent {
                        step: index,
                        action: "analysis".into(),
                        request,
                    },
                )?;
                crate::clock::now()
            }
        };
        let recorded = run.measurements.get(&index).cloned().unwrap_or_default();
        let t0 = Instant::now();
        let action = format!("analysis {name}");
        match self
            .analyse(env_name, index, analysis, scope, started, &recorded)
            .await?
        {
            analysis::Ended::Successful(summary) => self.record_step(
                env_name,
                on,
                EventKind::StepDone {
                    step: index,
                    action,
                    detail: serde_json::json!({ "result": summary }),
                    ms: t0.elapsed().as_millis() as u64,
                },
            ),
            analysis::Ended::Failed(reason) => self.step_failed(
                (env_name, on),
                index,
                &action,
                steps::StepError {
                    message: reason,
                    gate: true,
                },
            ),
            analysis::Ended::Inconclusive(reason) => {
                self.inconclusive((env_name, on), index, reason)
            }
        }
    }

    /// Reads the environment's error budget again (`- error_budget: {}`): one that says
    /// no fails the step as a gate, which rolls the environment back.
    async fn budget_step(
        &self,
        env_name: &str,
        index: usize,
        on: Option<&str>,
    ) -> anyhow::Result<()> {
        let action = StepKind::ErrorBudget.name().to_string();
        self.record_step(
            env_name,
            on,
            EventKind::Intent {
                step: index,
                action: action.clone(),
                request: serde_json::Value::Null,
            },
        )?;
        let t0 = Instant::now();
        match self.budget_says_no(env_name).await? {
            None => self.record_step(
                env_name,
                on,
                EventKind::StepDone {
                    step: index,
                    action,
                    detail: serde_json::Value::Null,
                    ms: t0.elapsed().as_millis() as u64,
                },
            ),
            Some(why) => self.step_failed(
                (env_name, on),
                index,
                &action,
                steps::StepError {
                    message: format!("the error budget says no: {why}"),
                    gate: true,
                },
            ),
        }
    }

    pub(super) fn step_failed(
        &self,
        (env, on): (&str, Option<&str>),
        index: usize,
        action: &str,
        e: steps::StepError,
    ) -> anyhow::Result<()> {
        let error = self.secrets.mask(&e.message);
        self.record_step(
            env,
            on,
            EventKind::StepFailed {
                step: index,
                action: action.to_string(),
                error: error.clone(),
                gate: e.gate,
            },
        )?;
        if e.gate && on.is_none() {
            return Ok(()); // the next decision rolls the environment back
        }
        let place = match on {
            Some(target) => format!("{env} (target {target})"),
            None => env.to_string(),
        };
        Err(Error::new(
            Exit::Failed,
            format!(
                "{} failed in {place} at step {} ({action}): {error}",
                self.release(),
                index + 1
            ),
        )
        .with_hint(format!(
            "the record says where it stopped; fix the cause and run `relctl resume {}`",
            self.release()
        ))
        .into())
    }
}

/// A step's action as the record names it: its kind, and a deploy's weight.
fn action_of(kind: &StepKind) -> String {
    match kind {
        StepKind::Deploy { weight: Some(w) } => format!("{} {w}%", kind.name()),
        _ => kind.name().to_string(),
    }
}

/// What the spinner says a step is doing: its action, and when a pause ends.
fn shown(kind: &StepKind, action: &str, started: chrono::DateTime<chrono::Utc>) -> String {
    match kind {
        StepKind::Pause(d) => {
            let until = crate::duration::after(started, *d)
                .map(|t| t.format(" (until %H:%M:%S UTC)").to_string())
                .unwrap_or_default();
            format!("pause {}{until}", crate::duration::format(*d))
        }
        _ => action.to_string(),
    }
}
