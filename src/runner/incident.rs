//! `relctl rollback`, the incident path: redeploy what was live before at full weight,
//! skipping analysis and approval, preempting a release under way, never frozen.

use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::Runner;
use super::context::Target;
use super::journal::{self, Header};
use super::steps::{self, Tools};
use crate::engine::{EventKind, Live, Lock, RollbackNote};
use crate::error::{Error, Exit};

impl Runner<'_> {
    /// Rolls `env` back to `to`. The runner's own release is the one rolled back (marked
    /// rejected there); `preempted` is a release under way that loses its lock.
    pub async fn rollback_env(
        &self,
        env_name: &str,
        to: &Live,
        preempted: Option<&Header>,
        reason: &str,
    ) -> anyhow::Result<Duration> {
        let start = Instant::now();
        let env = self
            .plan
            .environment(env_name)
            .context("the plan lost an environment")?;
        let provider = self
            .plan
            .deploy_providers
            .get(&env.deploy.raw)
            .context("the plan lost a deploy provider")?;
        let actor = self.author.actor.clone();
        let own = self.header.release.clone();
        if let Some(other) = preempted {
            let reason = format!("preempted by a rollback of {env_name}: {reason}");
            let (event, _) = journal::record(
                &self.store,
                &self.author,
                other,
                Some(env_name),
                EventKind::Aborted { reason },
                &mut |_| Ok(()),
            )?;
            self.printer.event(&other.release, &event)?;
        }
        let taker = preempted.map(|h| h.release.clone());
        self.record(Some(env_name), EventKind::RollbackStarted { reason: reason.to_string() }, &mut |f| {
            // Take the lock over from whoever holds it: an incident does not wait.
            if let Some(lock) = &f.lock
                && Some(&lock.release) != taker.as_ref()
                && lock.release != own
            {
                tracing::warn!(holder = %lock.release, "taking over the lock of {}", f.environment);
            }
            f.lock = Some(Lock { release: own.clone(), by: actor.clone(), since: crate::clock::now() });
            Ok(())
        })?;
        let target = Target::from(to);
        let scope = self.scope(env_name, &target, Some(to), env.steps.len(), 100);
        let key = format!("{}/{env_name}/rollback/{}", self.header.release, to.release);
        let tools = Tools {
            client: self.client()?,
            backoff: &self.backoff,
        };
        let spinner = self
            .printer
            .spinner(format!("{env_name:<12} rolling back to {}", to.release));
        let result = match steps::deploy(&scope, provider, key) {
            Ok(prepared) => steps::perform(prepared, &scope, Some(provider), &tools, None).await,
            Err(e) => Err(e),
        };
        drop(spinner);
        if let Err(e) = result {
            return Err(Error::new(
                Exit::Failed,
                format!(
                    "rolling {env_name} back to {} failed: {}",
                    to.release,
                    self.secrets.mask(&e.message)
                ),
            )
            .with_hint(
                "the environment's lock is held by the rollback; run the same rollback again",
            )
            .into());
        }
        let took = start.elapsed();
        let from = self.header.release.clone();
        let back_to = to.clone();
        let reason_text = reason.to_string();
        let by = self.author.actor.clone();
        self.record(
            Some(env_name),
            EventKind::RolledBack {
                to: Some(to.release.clone()),
                reason: reason.to_string(),
                ms: Some(took.as_millis() as u64),
            },
            &mut |f| {
                let now = crate::clock::now();
                if let Some(old) = f.live.take()
                    && old.release != back_to.release
                {
                    f.push_previous(old);
                }
                f.previous.retain(|p| p.release != back_to.release);
                f.live = Some(Live {
                    since: now,
                    by: by.clone(),
                    ..back_to.clone()
                });
                f.lock = None;
                if !f.rejected.contains(&from) {
                    f.rejected.push(from.clone());
                }
                f.rolled_back = Some(RollbackNote {
                    from: from.clone(),
                    to: back_to.release.clone(),
                    by: by.clone(),
                    at: now,
                    reason: reason_text.clone(),
                });
                Ok(())
            },
        )?;
        Ok(took)
    }
}
