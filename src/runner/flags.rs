//! Flag steps: read the flag's state, record it with the intent, switch the flag through
//! its provider (src/providers/flags.rs) and record what it became; and their undo,
//! which puts back the state recorded before the release changed the flag. A rollback
//! restores flags before anything else: a flag flip takes a moment, a redeploy minutes.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::Context as _;
use serde_json::json;

use super::Runner;
use super::context::Scope;
use super::steps::StepError;
use crate::engine::{EnvRun, EventKind};
use crate::plan::template::{Landing, render, render_header};
use crate::plan::{FlagProvider, FlagStep, StepKind};
use crate::providers::flags::{Change, FlagState, Unleash};

impl Runner<'_> {
    /// The Unleash a flag step of `scope.env` talks to, its templates rendered.
    fn unleash<'s>(&'s self, scope: &Scope, flag: &FlagStep) -> Result<Unleash<'s>, StepError> {
        let Some((name, FlagProvider::Unleash(u))) = self.plan.flag_provider(flag) else {
            return Err(StepError::provider(format!(
                "flag `{}`: the plan has no flag provider for it",
                flag.name
            )));
        };
        let environment = u.environments.get(scope.env).ok_or_else(|| {
            StepError::provider(format!(
                "flag `{}`: flag provider `{name}` maps no Unleash environment to `{}`",
                flag.name, scope.env
            ))
        })?;
        let ctx = scope.value();
        let url = render(&u.url, Landing::Url, &ctx).map_err(StepError::provider)?;
        // A token with a line break (a secret file's last newline) is a plan error to
        // name, not an Unleash that does not answer.
        let token = render_header("Authorization", &u.token, &ctx).map_err(|e| {
            StepError::provider(format!(
                "flag `{}`: flag provider `{name}`'s token: {e}",
                flag.name
            ))
        })?;
        Ok(Unleash {
            client: self
                .client()
                .map_err(|e| StepError::provider(format!("{e:#}")))?,
            url: url.trim_end_matches('/').to_string(),
            token,
            project: u.project.clone(),
            environment: environment.clone(),
            timeout: u.timeout,
            secrets: &self.secrets,
        })
    }

    /// Runs flag step `index`: the flag's state before is read (or, resumed, taken from
    /// the recorded intent) and recorded, then the flag is changed. A flag that cannot
    /// be read or changed stops the release (exit 1) with Unleash's answer; so does a
    /// kill switch pulled on this visit, and a flag someone changed since the release's
    /// last step on it (nothing is changed then).
    pub(super) async fn flag_step(
        &self,
        env_name: &str,
        index: usize,
        flag: &FlagStep,
        run: &EnvRun,
        scope: &Scope<'_>,
    ) -> anyhow::Result<()> {
        let action = flag.action();
        if let Some(pulled) = &run.kill_switch {
            return self.flag_refused(
                env_name,
                index,
                &action,
                kill_switch(self.release(), env_name, pulled, flag),
            );
        }
        let unleash = match self.unleash(scope, flag) {
            Ok(u) => u,
            Err(e) => return self.step_failed((env_name, None), index, &action, e),
        };
        let resumed = matches!(run.in_flight, Some((i, _)) if i == index)
            && run.flags_before.contains_key(&index);
        if !resumed {
            let before = match unleash.read(&flag.name).await {
                Ok(state) => state,
                Err(e) => {
                    return self.step_failed(
                        (env_name, None),
                        index,
                        &action,
                        StepError::provider(e.0),
                    );
                }
            };
            if let Some(left) = run.flag_states.get(&flag.name)
                && let Ok(left) = serde_json::from_value::<FlagState>(left.clone())
                && left != before
            {
                let refusal = drifted(self.release(), env_name, &flag.name, &left, &before);
                return self.flag_refused(env_name, index, &action, refusal);
            }
            self.record_event(
                Some(env_name),
                EventKind::Intent {
                    step: index,
                    action: action.clone(),
                    request: json!({
                        "flag": flag.name,
                        "unleash": { "url": self.secrets.mask(&unleash.url), "project": unleash.project, "environment": unleash.environment },
                        "change": { "enabled": flag.turns_on(), "rollout": flag.rollout, "stickiness": flag.stickiness, "groupId": flag.group_id },
                        "before": before,
                    }),
                },
            )?;
        }
        let t0 = Instant::now();
        let change = Change {
            enabled: flag.turns_on(),
            rollout: flag.rollout,
            stickiness: flag.stickiness.clone(),
            group_id: flag.group_id.clone(),
        };
        let after = match unleash.apply(&flag.name, &change).await {
            Ok(after) => after,
            Err(e) => {
                return self.step_failed(
                    (env_name, None),
                    index,
                    &action,
                    StepError::provider(e.0),
                );
            }
        };
        if let Some(pulled) = self
            .pulled_meanwhile(env_name, &unleash, &flag.name)
            .await?
        {
            return self.flag_refused(
                env_name,
                index,
                &action,
                kill_switch(self.release(), env_name, &pulled, flag),
            );
        }
        self.record_event(
            Some(env_name),
            EventKind::StepDone {
                step: index,
                action,
                detail: json!({ "flag": flag.name, "after": after, "state": after.summary() }),
                ms: t0.elapsed().as_millis() as u64,
            },
        )
    }

    /// A kill switch (or a rollback) that put flag `name` back while a step was changing
    /// it did so from under the step: the flag is put back again, as that left it, and
    /// what pulled it is returned.
    async fn pulled_meanwhile(
        &self,
        env_name: &str,
        unleash: &Unleash<'_>,
        name: &str,
    ) -> anyhow::Result<Option<String>> {
        let now = self.recorded_run(env_name)?;
        let pulled = (now.kill_switch.clone()).or_else(|| {
            now.rolling_back
                .then(|| "a rollback put the flags back".to_string())
        });
        let (Some(pulled), Some(left)) = (pulled, now.flag_states.get(name)) else {
            return Ok(None);
        };
        if let Ok(left) = serde_json::from_value::<FlagState>(left.clone())
            && let Err(e) = unleash.restore(name, &left).await
        {
            self.printer.warn(&self.secrets.mask(&e.0));
        }
        Ok(Some(pulled))
    }

    /// The state of the flag step `flag` switches in `env_name`, read now and recorded
    /// nowhere (`relctl check`): what a flag step would meet first (the token, the flag,
    /// the environment), or why it would stop.
    pub async fn flag_now(&self, env_name: &str, flag: &FlagStep) -> Result<FlagState, String> {
        let own = self.own_deployable();
        let scope = self.scope(env_name, &own, None, 0, 0, None);
        let unleash = self.unleash(&scope, flag).map_err(|e| e.message)?;
        unleash
            .read(&flag.name)
            .await
            .map_err(|e| self.secrets.mask(&e.0))
    }

    /// The release's run in `env_name` as the record holds it now.
    fn recorded_run(&self, env_name: &str) -> anyhow::Result<EnvRun> {
        let snapshot = self.store.snapshot()?;
        let file = crate::format::read_release(&snapshot, &self.header.app, self.release())?;
        Ok(crate::engine::fold(file.as_ref()).env(env_name))
    }

    /// Stops the release at a flag step it will not run: recorded as the step's failure
    /// (the lock is kept, as for any failed step), exit 1 with what to do.
    fn flag_refused(
        &self,
        env_name: &str,
        index: usize,
        action: &str,
        (why, hint): (String, String),
    ) -> anyhow::Result<()> {
        let why = self.secrets.mask(&why);
        self.record_step(
            env_name,
            None,
            EventKind::StepFailed {
                step: index,
                action: action.to_string(),
                error: why.clone(),
                gate: false,
            },
        )?;
        Err(crate::error::Error::new(
            crate::error::Exit::Failed,
            format!(
                "{} stopped in {env_name} at step {} ({action}): {why}",
                self.release(),
                index + 1
            ),
        )
        .with_hint(hint)
        .into())
    }

    /// `relctl rollback --flags-only`: puts back the flags this release changed in
    /// `env_name` and records that its code stayed. `None` when there was nothing to put
    /// back; else the flags, and how long since `start`. A flag that could not be put
    /// back is exit 1 (it stays to be put back by the next try).
    pub async fn restore_flags_only(
        &self,
        env_name: &str,
        reason: &str,
        start: Instant,
    ) -> anyhow::Result<Option<(Vec<String>, std::time::Duration)>> {
        let snapshot = self.store.snapshot()?;
        let file = crate::format::read_release(&snapshot, &self.header.app, self.release())?;
        drop(snapshot);
        let run = crate::engine::fold(file.as_ref()).env(env_name);
        let mut outcomes = self.restore_flags(env_name, &run).await?;
        if outcomes.is_empty() {
            outcomes = self.restore_drifted(env_name, &run).await?;
        }
        if outcomes.is_empty() {
            return Ok(None);
        }
        let failed: Vec<&str> = outcomes.iter().filter_map(|(_, e)| e.as_deref()).collect();
        if !failed.is_empty() {
            return Err(crate::error::Error::new(
                crate::error::Exit::Failed,
                format!("putting the flags back in {env_name} failed: {}", failed.join("; ")),
            )
            .with_hint(format!(
                "run `relctl rollback --env {env_name} --flags-only` again; the record says which were put back"
            ))
            .into());
        }
        let took = start.elapsed();
        let flags: Vec<String> = outcomes.into_iter().map(|(name, _)| name).collect();
        self.record_event(
            Some(env_name),
            EventKind::FlagsRestored {
                reason: reason.to_string(),
                flags: flags.clone(),
                ms: took.as_millis() as u64,
            },
        )?;
        Ok(Some((flags, took)))
    }

    /// Puts back every flag the release's steps in `env_name` changed (those not put
    /// back yet), each to its state before the first of them, and records each step
    /// undone with the state found just before (a flag someone changed by hand since
    /// is put back all the same, with a warning naming it). Never skipped: a flag left
    /// on by a rollback is out of every later command's reach. Each flag, and why it
    /// could not be put back if it could not.
    pub(super) async fn restore_flags(
        &self,
        env_name: &str,
        run: &EnvRun,
    ) -> anyhow::Result<Vec<(String, Option<String>)>> {
        let mut restored = Vec::new();
        for (name, (indices, step, before)) in self.flags_of(env_name, run, false)? {
            let (found, error) = self
                .put_back(env_name, run, &name, indices[0], &step, before)
                .await;
            let left = run
                .flag_states
                .get(&name)
                .and_then(|v| serde_json::from_value::<FlagState>(v.clone()).ok());
            if let (Some(found), Some(left)) = (&found, &left)
                && found != left
            {
                self.printer.warn(&format!(
                    "flag `{name}` in {env_name} was changed by hand since {} left it ({}); put back as it was before the release all the same",
                    self.release(),
                    left.change_to(found)
                ));
            }
            restored.push((name.clone(), error.clone()));
            let found = found.map(|f| json!(f));
            for index in indices.into_iter().rev() {
                self.record_event(
                    Some(env_name),
                    EventKind::Undone {
                        step: index,
                        error: error.clone(),
                        skipped: false,
                        found: found.clone(),
                    },
                )?;
            }
        }
        Ok(restored)
    }

    /// The kill switch again, once every flag of the release in `env_name` was put back:
    /// each flag Unleash no longer holds as the restore left it (turned on again by
    /// hand, say) is put back again, with a warning naming it, what it is now and what
    /// the restore left. Each flag put back again, and why it could not be if it could
    /// not (one that cannot even be read counts: its state is unknown).
    async fn restore_drifted(
        &self,
        env_name: &str,
        run: &EnvRun,
    ) -> anyhow::Result<Vec<(String, Option<String>)>> {
        let own = self.own_deployable();
        let mut again = Vec::new();
        for (name, (indices, step, before)) in self.flags_of(env_name, run, true)? {
            let Ok(left) = serde_json::from_value::<FlagState>(before.clone()) else {
                continue;
            };
            let scope = self.scope(env_name, &own, run.baseline.as_ref(), indices[0], 0, None);
            let now = match self.unleash(&scope, &step) {
                Ok(unleash) => unleash.read(&name).await.map_err(|e| e.0),
                Err(e) => Err(e.message),
            };
            match now {
                Ok(now) if now == left => continue,
                Ok(now) => self.printer.warn(&format!(
                    "flag `{name}` in {env_name} is {} now, but relctl had put it back to {} (as before {}): putting it back again",
                    now.summary(),
                    left.summary(),
                    self.release()
                )),
                Err(e) => {
                    again.push((name, Some(self.secrets.mask(&e))));
                    continue;
                }
            }
            let (_, error) = self
                .put_back(env_name, run, &name, indices[0], &step, before)
                .await;
            again.push((name, error));
        }
        Ok(again)
    }

    /// The flags the release's steps in `env_name` changed — those not put back yet, or,
    /// with `all`, every one: each flag's steps, the step to reach its provider with (a
    /// plan changed since names the flag's provider no more: its only one is used), and
    /// its state before the first of them (what goes back).
    #[allow(clippy::type_complexity)]
    fn flags_of<'r>(
        &self,
        env_name: &str,
        run: &'r EnvRun,
        all: bool,
    ) -> anyhow::Result<BTreeMap<String, (Vec<usize>, FlagStep, &'r serde_json::Value)>> {
        let env = self
            .plan
            .environment(env_name)
            .context("the plan lost an environment")?;
        let mut flags: BTreeMap<String, (Vec<usize>, FlagStep, &serde_json::Value)> =
            BTreeMap::new();
        for (index, (name, before)) in &run.flags_before {
            if !all && run.undone.contains(index) {
                continue;
            }
            let step = match env.steps.get(*index).map(|s| &s.kind) {
                Some(StepKind::Flag(step)) if step.name == *name => step.clone(),
                _ => FlagStep::named(name),
            };
            flags
                .entry(name.clone())
                .or_insert((Vec::new(), step, before))
                .0
                .push(*index);
        }
        Ok(flags)
    }

    /// Puts flag `name` back to `before` through the provider of `step` (step `index`):
    /// the state it found just before, and why it could not, if it could not.
    async fn put_back(
        &self,
        env_name: &str,
        run: &EnvRun,
        name: &str,
        index: usize,
        step: &FlagStep,
        before: &serde_json::Value,
    ) -> (Option<FlagState>, Option<String>) {
        let own = self.own_deployable();
        let scope = self.scope(env_name, &own, run.baseline.as_ref(), index, 0, None);
        let result = match self.unleash(&scope, step) {
            Ok(unleash) => match serde_json::from_value::<FlagState>(before.clone()) {
                Ok(state) => unleash.restore(name, &state).await.map_err(|e| e.0),
                Err(e) => Err(format!(
                    "flag `{name}`: the state recorded before the release cannot be read: {e}"
                )),
            },
            Err(e) => Err(e.message),
        };
        match result {
            Ok(found) => (found, None),
            Err(e) => (None, Some(self.secrets.mask(&e))),
        }
    }
}

/// Why a flag step does not run after the kill switch, and what to do instead.
fn kill_switch(release: &str, env_name: &str, pulled: &str, flag: &FlagStep) -> (String, String) {
    (
        format!(
            "{pulled}; flag `{}` stays as it left it, and no later flag step of this release turns a flag on again",
            flag.name
        ),
        format!(
            "`relctl rollback --env {env_name}` takes the code back too, `relctl abort {release}` ends the release; to expose the flags again on purpose, end it and promote it again with `--force --reason TEXT`"
        ),
    )
}

/// Why a flag step does not change a flag someone changed since the release's last step
/// on it, and what to do.
fn drifted(
    release: &str,
    env_name: &str,
    name: &str,
    left: &FlagState,
    now: &FlagState,
) -> (String, String) {
    (
        format!(
            "flag `{name}` was changed outside this release: its last step left it {}; relctl changed nothing",
            left.change_to(now)
        ),
        format!(
            "to go on with the ramp, put the flag back as the release left it ({}) and run `relctl resume {release}`; to keep the change, `relctl abort {release}` or `relctl rollback --env {env_name}` (they put the flag back as it was before the release)",
            left.summary()
        ),
    )
}
