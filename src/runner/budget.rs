//! The error-budget gate (docs/plan.md, "`error_budget`"): before entering an
//! environment, read its SLO's error ratios from Prometheus, judge them with
//! `crate::analysis::budget`, record what was read and decided, and say no (exit 6)
//! unless `--force` lifted the rule. An `error_budget` step reads it again mid-rollout:
//! a budget that says no there fails the step as a gate, which rolls back.

use super::Runner;
use crate::analysis::budget::{self, BudgetVerdict, Burn};
use crate::engine::{EventKind, Rule};
use crate::plan::template::{Landing, render};
use crate::plan::{BUDGET_WINDOW, BudgetSource, ErrorBudget, MetricsProvider, OnError};
use crate::providers::metrics::{self, Prometheus};

impl Runner<'_> {
    /// Checks `env`'s error budget, if it has one, before entering: records a
    /// `budget_checked` event, and an `overridden` one when `--force` lets a blocking
    /// budget through.
    pub(super) async fn check_budget(&self, env: &str) -> anyhow::Result<()> {
        let Some(why) = self.budget_says_no(env).await? else {
            return Ok(());
        };
        if !self.opts.lifted.contains(&Rule::ErrorBudget) {
            return Err(self.blocked(env, Rule::ErrorBudget, &why));
        }
        let reason = format!(
            "{why}; {}",
            self.opts.reason.as_deref().unwrap_or("no reason given")
        );
        self.record_event(
            Some(env),
            EventKind::Overridden {
                rule: Rule::ErrorBudget.name().into(),
                reason,
            },
        )
    }

    /// Reads and judges `env`'s error budget (none: it says yes), records what was read
    /// and decided, and says why it says no.
    pub(super) async fn budget_says_no(&self, env: &str) -> anyhow::Result<Option<String>> {
        let Some(slo) = self
            .plan
            .environment(env)
            .and_then(|e| e.error_budget.as_ref())
        else {
            return Ok(None);
        };
        let (verdict, remaining, burn_rates, summary, blocked) =
            match self.read_budget(env, slo).await {
                Ok((period, ratios)) => {
                    let judged = budget::judge(slo.objective, slo.min_remaining, period, &ratios);
                    let summary = budget::summary(judged.remaining, &judged.burns);
                    let verdict = match judged.blocked {
                        Some(_) => BudgetVerdict::Blocked,
                        None => BudgetVerdict::Pass,
                    };
                    let rates = budget::rates(&judged.burns);
                    let blocked = judged
                        .blocked
                        .map(|why| format!("{why} (burn rate {rates})"));
                    (
                        verdict,
                        Some(judged.remaining),
                        judged.burns,
                        summary,
                        blocked,
                    )
                }
                Err(why) => {
                    let why = self.secrets.mask(&why);
                    let blocked = (slo.on_error == OnError::Block)
                        .then(|| format!("its error budget could not be read: {why}"));
                    (
                        BudgetVerdict::Unread,
                        None,
                        Vec::<Burn>::new(),
                        why,
                        blocked,
                    )
                }
            };
        self.record_event(
            Some(env),
            EventKind::BudgetChecked {
                objective: slo.objective_percent(),
                period: crate::duration::format(slo.period),
                remaining,
                burn_rates,
                verdict,
                summary,
            },
        )?;
        Ok(blocked)
    }

    /// The error ratio over the period, and over each of the short windows.
    async fn read_budget(
        &self,
        env: &str,
        slo: &ErrorBudget,
    ) -> Result<(f64, Vec<(String, f64)>), String> {
        let target = self.own_deployable();
        let scope = self.scope(env, &target, None, 0, 100, None);
        let ctx = scope.value();
        let Some(MetricsProvider::Prometheus { url, timeout, auth }) =
            self.plan.metrics_providers.get(&slo.provider.raw)
        else {
            return Err(format!(
                "`{}` is not a prometheus provider",
                slo.provider.raw
            ));
        };
        let prom = Prometheus {
            url: render(url, Landing::Url, &ctx)?,
            timeout: *timeout,
            auth: super::analysis::prometheus_auth(auth.as_ref(), &ctx)?,
        };
        let client = self.client().map_err(|e| format!("{e:#}"))?;
        let period = crate::duration::format(slo.period);
        let mut ratios = Vec::with_capacity(budget::WINDOWS.len());
        for window in budget::WINDOWS.iter().copied().chain([period.as_str()]) {
            let query = query(&slo.source, window);
            let value = metrics::instant(client, &prom, &query, None, &self.secrets)
                .await
                .map_err(|e| e.to_string())?;
            match value.filter(|v| v.is_finite()) {
                Some(ratio) => ratios.push((window.to_string(), ratio)),
                None => return Err(format!("no data for `{query}`")),
            }
        }
        let (_, period_ratio) = ratios.pop().unwrap_or_default();
        Ok((period_ratio, ratios))
    }
}

/// What reading `slo` asks, as `relctl plan` shows an `error_budget` step.
pub fn describe(slo: &ErrorBudget) -> serde_json::Value {
    let period = crate::duration::format(slo.period);
    let queries: Vec<String> = budget::WINDOWS
        .iter()
        .copied()
        .chain([period.as_str()])
        .map(|window| query(&slo.source, window))
        .collect();
    serde_json::json!({
        "objective": slo.objective_percent(),
        "period": period,
        "provider": slo.provider.raw,
        "queries": queries,
    })
}

/// The query that reads the error ratio over `window` (`5m`, `30d`). Sloth's recording
/// rules are `slo:sli_error:ratio_rate<window>`, labelled with the service and the SLO.
pub fn query(source: &BudgetSource, window: &str) -> String {
    match source {
        BudgetSource::Query(query) => query.replace(BUDGET_WINDOW, window),
        BudgetSource::Sloth { service, slo } => format!(
            "max(slo:sli_error:ratio_rate{window}{{sloth_service=\"{}\",sloth_slo=\"{}\"}})",
            label(service),
            label(slo)
        ),
    }
}

/// A label value inside double quotes.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}
