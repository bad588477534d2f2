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

/// An error budget read and judged: the `budget_checked` event that records it, the
/// numbers in one line, and why it says no.
pub struct BudgetRead {
    pub event: EventKind,
    pub summary: String,
    pub blocked: Option<String>,
}

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

    /// Reads `env`'s error budget again before its first deploy when the environment
    /// waits for an approval: the wait may have been long, and an approved release does
    /// not deploy into a budget that started burning meanwhile.
    pub(super) async fn check_budget_after_approval(&self, env: &str) -> anyhow::Result<()> {
        match self.plan.environment(env) {
            Some(e) if e.approval.is_some() && e.error_budget.is_some() => {
                self.check_budget(env).await
            }
            _ => Ok(()),
        }
    }

    /// Reads and judges `env`'s error budget (none: it says yes), records what was read
    /// and decided, and says why it says no.
    pub(super) async fn budget_says_no(&self, env: &str) -> anyhow::Result<Option<String>> {
        let Some(read) = self.judge_budget(env).await else {
            return Ok(None);
        };
        self.record_event(Some(env), read.event)?;
        Ok(read.blocked)
    }

    /// Reads and judges `env`'s error budget, recording nothing (`None`: it has none):
    /// what promote records, and why it says no. `relctl check` asks this too.
    pub async fn judge_budget(&self, env: &str) -> Option<BudgetRead> {
        let slo = self
            .plan
            .environment(env)
            .and_then(|e| e.error_budget.as_ref())?;
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
        Some(BudgetRead {
            summary: summary.clone(),
            event: EventKind::BudgetChecked {
                objective: slo.objective_percent(),
                period: crate::duration::format(slo.period),
                remaining,
                burn_rates,
                verdict,
                summary,
            },
            blocked,
        })
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
            let query = query(slo, window);
            let value = metrics::instant(client, &prom, &query, None, &self.secrets)
                .await
                .map_err(|e| e.to_string())?;
            match value {
                Some(ratio) if (0.0..=1.0).contains(&ratio) => {
                    ratios.push((window.to_string(), ratio))
                }
                // An error ratio is a share of requests: anything else is a wrong query.
                Some(ratio) => {
                    return Err(format!(
                        "`{query}` gave {ratio}, which is not an error ratio (a share of \
                         requests, from 0 to 1)"
                    ));
                }
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
        .map(|window| query(slo, window))
        .collect();
    serde_json::json!({
        "objective": slo.objective_percent(),
        "period": period,
        "provider": slo.provider.raw,
        "queries": queries,
    })
}

/// The query that reads the error ratio over `window`: one of `budget::WINDOWS`, or the
/// SLO's period as `duration::format` writes it (`30d`).
///
/// Sloth's recording rules are `slo:sli_error:ratio_rate<window>`, labelled with the
/// service and the SLO. Pyrra's are `<metric>:burnrate<window>` labelled `slo`, over
/// windows it scales with the SLO's period (the workbook's 5m, 30m, 1h and 6h are its
/// windows for 28d; for 30d they are 5m, 32m, 1h4m and 6h26m); over the period itself
/// Pyrra records an availability, `pyrra_availability` (its generic rules).
pub fn query(slo: &ErrorBudget, window: &str) -> String {
    let is_period = window == crate::duration::format(slo.period);
    match &slo.source {
        BudgetSource::Query(query) => query.replace(BUDGET_WINDOW, window),
        BudgetSource::Sloth { service, slo } => format!(
            "max(slo:sli_error:ratio_rate{window}{{sloth_service=\"{}\",sloth_slo=\"{}\"}})",
            label(service),
            label(slo)
        ),
        BudgetSource::Pyrra { slo: name, .. } if is_period => {
            format!("1 - min(pyrra_availability{{slo=\"{}\"}})", label(name))
        }
        BudgetSource::Pyrra { metric, slo: name } => format!(
            "max({metric}:burnrate{}{{slo=\"{}\"}})",
            pyrra_window(slo.period, window),
            label(name)
        ),
    }
}

/// Pyrra's window for the workbook's `window` under an SLO of `period`: scaled from its
/// 28-day windows and rounded to the minute, as Pyrra names its rules.
fn pyrra_window(period: std::time::Duration, window: &str) -> String {
    const DAYS_28_MS: u128 = 28 * 24 * 3600 * 1000;
    let base_ms = crate::duration::parse(window)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    let scaled_ms = period.as_millis() * base_ms / DAYS_28_MS;
    let minutes = (scaled_ms + 30_000) / 60_000;
    let minutes = u64::try_from(minutes).unwrap_or(u64::MAX / 60);
    crate::duration::format(std::time::Duration::from_secs(minutes * 60))
}

/// A label value inside double quotes.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::pyrra_window;
    use std::time::Duration;

    const DAY: u64 = 86_400;

    #[test]
    fn pyrra_windows_scale_with_the_period_as_pyrra_names_its_rules() {
        let at = |days: u64| {
            ["5m", "30m", "1h", "6h"].map(|w| pyrra_window(Duration::from_secs(days * DAY), w))
        };
        assert_eq!(at(28), ["5m", "30m", "1h", "6h"]);
        assert_eq!(at(30), ["5m", "32m", "1h4m", "6h26m"]);
        assert_eq!(at(7), ["1m", "8m", "15m", "1h30m"]);
    }
}
