//! Running an analysis step: measure every metric on the plan's schedule, record each
//! measurement, and judge the run with `crate::analysis`. The schedule is anchored at
//! the step's recorded intent, so a resumed analysis continues its count.

use chrono::{DateTime, Utc};

use super::Runner;
use super::context::Scope;
use super::steps::{self, StepError};
use crate::analysis::{self, Measurement, Phase, Verdict};
use crate::engine::EventKind;
use crate::error::{Error, Exit};
use crate::plan::template::{Landing, render, render_header};
use crate::plan::{Analysis, Metric, MetricsProvider};
use crate::providers::metrics::{self, PromAuth, Prometheus};

/// How an analysis ended.
pub enum Ended {
    Successful(String),
    Failed(String),
    Inconclusive(String),
}

impl Runner<'_> {
    /// Takes the measurements still due and judges the run. `recorded` holds the
    /// measurements a previous (interrupted) run of this step already made.
    pub(super) async fn analyse(
        &self,
        env: &str,
        step: usize,
        analysis: &Analysis,
        scope: &Scope<'_>,
        started: DateTime<Utc>,
        recorded: &[(String, Phase)],
    ) -> anyhow::Result<Ended> {
        let mut history: Vec<Vec<Phase>> = analysis
            .metrics
            .iter()
            .map(|m| {
                recorded
                    .iter()
                    .filter(|(name, _)| *name == m.name)
                    .map(|(_, p)| *p)
                    .collect()
            })
            .collect();
        loop {
            let verdicts: Vec<_> = history
                .iter()
                .map(|h| analysis::assess_metric(analysis, h))
                .collect();
            let run = analysis::assess_run(&verdicts);
            if let Verdict::Done(phase) = run.verdict {
                return Ok(ended(analysis, &verdicts, run.metric, phase));
            }
            // Round k happens at start + initial_delay + k·interval, whatever came before.
            let round = history.iter().map(|h| h.len()).max().unwrap_or(0) as u32;
            let due = analysis.round_at(started, round).ok_or_else(|| {
                Error::new(
                    Exit::Failed,
                    format!("round {} of the analysis in {env} is due past the last time relctl can count to", round + 1),
                )
            })?;
            let wait = due
                .signed_duration_since(crate::clock::now())
                .to_std()
                .unwrap_or_default();
            tokio::time::sleep(wait).await;
            for (i, metric) in analysis.metrics.iter().enumerate() {
                if verdicts[i].verdict != Verdict::Running {
                    continue;
                }
                let (measurement, comparison) = self.measure(metric, scope, started).await;
                let index = history[i].iter().filter(|p| **p != Phase::Error).count() as u32 + 1;
                let summary =
                    self.measured_line(metric, &measurement, comparison.as_ref(), index, analysis);
                self.record_step(
                    env,
                    scope.target_name(),
                    EventKind::Measured {
                        step,
                        metric: metric.name.clone(),
                        index,
                        value: measurement.value,
                        phase: measurement.phase,
                        summary,
                        comparison,
                    },
                )?;
                history[i].push(measurement.phase);
            }
        }
    }

    /// The line a measurement is recorded and shown with: `… 3/5`.
    fn measured_line(
        &self,
        metric: &Metric,
        measurement: &Measurement,
        comparison: Option<&analysis::Comparison>,
        index: u32,
        analysis: &Analysis,
    ) -> String {
        match (&measurement.message, comparison) {
            (Some(message), _) if measurement.phase == Phase::Error => {
                format!(
                    "{} error: {} ! {index}/{}",
                    metric.name,
                    self.secrets.mask(message),
                    analysis.count
                )
            }
            (_, Some(c)) => {
                analysis::comparison_line(metric, c, measurement.phase, index, analysis.count)
            }
            _ => analysis::summary_line(
                &metric.name,
                measurement.value,
                metric,
                measurement.phase,
                index,
                analysis.count,
            ),
        }
    }

    /// One measurement of an instant `metric` now, as an analysis round takes it, its
    /// error masked (`relctl check`).
    pub async fn measure_now(&self, metric: &Metric, scope: &Scope<'_>) -> Measurement {
        let mut measured = self.measure(metric, scope, crate::clock::now()).await.0;
        measured.message = measured.message.map(|m| self.secrets.mask(&m));
        measured
    }

    /// A baseline comparison made once, read-only, over the `window` just past (`relctl
    /// check`): the measurement, and the comparison it rests on.
    pub async fn compare_now(
        &self,
        metric: &Metric,
        scope: &Scope<'_>,
        window: std::time::Duration,
    ) -> (Measurement, Option<analysis::Comparison>) {
        let now = crate::clock::now();
        let started = crate::duration::before(now, window).unwrap_or(now);
        let (mut measured, compared) = self.measure(metric, scope, started).await;
        measured.message = measured.message.map(|m| self.secrets.mask(&m));
        (measured, compared)
    }

    async fn measure(
        &self,
        metric: &Metric,
        scope: &Scope<'_>,
        started: DateTime<Utc>,
    ) -> (Measurement, Option<analysis::Comparison>) {
        match self.value(metric, scope, started).await {
            Ok(Sampled::Value(value)) => (Measurement::from_value(metric, value), None),
            Ok(Sampled::Compared(c)) => (Measurement::from_comparison(metric, &c), Some(c)),
            Err(message) => (Measurement::error(self.secrets.mask(&message)), None),
        }
    }

    async fn value(
        &self,
        metric: &Metric,
        scope: &Scope<'_>,
        started: DateTime<Utc>,
    ) -> Result<Sampled, String> {
        let provider = self
            .plan
            .metrics_providers
            .get(&metric.provider.raw)
            .ok_or_else(|| format!("no metrics provider `{}`", metric.provider.raw))?;
        let ctx = scope.value();
        match provider {
            MetricsProvider::Prometheus { url, timeout, auth } => {
                let prom = Prometheus {
                    url: render(url, Landing::Url, &ctx)?,
                    timeout: *timeout,
                    auth: prometheus_auth(auth.as_ref(), &ctx)?,
                };
                self.prometheus_value(&prom, metric, scope, started, &ctx)
                    .await
            }
            MetricsProvider::Http { request, value } => {
                let call =
                    steps::request(scope, request, None).map_err(|e: StepError| e.message)?;
                metrics::http_value(
                    self.client().map_err(|e| format!("{e:#}"))?,
                    &call,
                    &value.raw,
                    &self.backoff,
                    &self.secrets,
                )
                .await
                .map(Sampled::Value)
                .map_err(|e| e.to_string())
            }
        }
    }

    /// A Prometheus metric's value: one instant query, or a canary and a baseline range
    /// compared.
    async fn prometheus_value(
        &self,
        prom: &Prometheus,
        metric: &Metric,
        scope: &Scope<'_>,
        started: DateTime<Utc>,
        ctx: &minijinja::Value,
    ) -> Result<Sampled, String> {
        match queries(metric, scope.baseline.is_some(), ctx)? {
            Queries::Instant(query) => metrics::instant(
                self.client().map_err(|e| format!("{e:#}"))?,
                prom,
                &query,
                metric.reduce,
                &self.secrets,
            )
            .await
            .map(Sampled::Value)
            .map_err(|e| e.to_string()),
            // Nothing was live before: there is no baseline to compare with.
            Queries::NoBaseline => Ok(Sampled::Compared(analysis::Comparison::no_data(0, 0))),
            Queries::Compare {
                canary,
                baseline,
                how,
            } => {
                let now = crate::clock::now();
                let window = now
                    .signed_duration_since(started)
                    .to_std()
                    .unwrap_or_default();
                let step = analysis::range_step(window);
                let mut samples = Vec::with_capacity(2);
                for query in [canary, baseline] {
                    samples.push(
                        metrics::range(
                            self.client().map_err(|e| format!("{e:#}"))?,
                            prom,
                            &query,
                            started,
                            now,
                            step,
                            &self.secrets,
                        )
                        .await
                        .map_err(|e| e.to_string())?,
                    );
                }
                Ok(Sampled::Compared(analysis::compare(
                    &samples[0],
                    &samples[1],
                    how,
                )))
            }
        }
    }

    /// Records an inconclusive analysis and pauses the release (exit 4).
    pub(super) fn inconclusive(
        &self,
        (env, on): (&str, Option<&str>),
        step: usize,
        reason: String,
    ) -> anyhow::Result<()> {
        self.record_step(
            env,
            on,
            EventKind::Inconclusive {
                step,
                reason: reason.clone(),
            },
        )?;
        Err(Error::new(
            Exit::Paused,
            format!(
                "{}: the analysis in {env} was inconclusive ({reason})",
                self.header.release
            ),
        )
        .with_hint(format!(
            "`relctl resume {0}` runs the analysis again; `relctl abort {0}` rolls {env} back",
            self.header.release
        ))
        .into())
    }
}

/// How an analysis ended, from its verdicts once the run is done: `metric` is the one
/// that decided it.
fn ended(
    analysis: &Analysis,
    verdicts: &[analysis::MetricVerdict],
    metric: Option<usize>,
    phase: Phase,
) -> Ended {
    let explain = metric
        .and_then(|i| {
            Some(format!(
                "{}: {}",
                analysis.metrics.get(i)?.name,
                verdicts.get(i)?.explain(analysis)
            ))
        })
        .unwrap_or_default();
    match phase {
        Phase::Successful => Ended::Successful(explain),
        Phase::Inconclusive => Ended::Inconclusive(explain),
        Phase::Failed | Phase::Error => {
            Ended::Failed(format!("analysis {}: {explain}", phase.as_str()))
        }
    }
}

/// The credentials a Prometheus provider sends, rendered.
pub(super) fn prometheus_auth(
    auth: Option<&crate::plan::Auth>,
    ctx: &minijinja::Value,
) -> Result<Option<PromAuth>, String> {
    Ok(match auth {
        Some(crate::plan::Auth::Bearer(t)) => {
            Some(PromAuth::Bearer(render_header("Authorization", t, ctx)?))
        }
        Some(crate::plan::Auth::Basic { username, password }) => Some(PromAuth::Basic {
            username: render(username, Landing::Text, ctx)?,
            password: render(password, Landing::Text, ctx)?,
        }),
        None => None,
    })
}

enum Sampled {
    Value(Option<f64>),
    Compared(analysis::Comparison),
}

/// What a Prometheus metric asks, rendered: outside values in it escaped as PromQL
/// strings. `relctl plan` shows the same.
pub enum Queries<'a> {
    Instant(String),
    Compare {
        canary: String,
        baseline: String,
        how: &'a crate::plan::Compare,
    },
    /// A comparison with nothing live before: no data, nothing asked.
    NoBaseline,
}

/// What measuring `metric` would ask, as `relctl plan` shows it: the queries as they
/// will be sent, or the request, secrets masked.
pub fn describe(plan: &crate::plan::Plan, metric: &Metric, scope: &Scope) -> serde_json::Value {
    use serde_json::json;
    let secrets = scope.secrets;
    let described = match plan.metrics_providers.get(&metric.provider.raw) {
        Some(MetricsProvider::Prometheus { .. }) => {
            queries(metric, scope.baseline.is_some(), &scope.value()).map(|q| match q {
                Queries::Instant(query) => json!({ "query": secrets.mask(&query) }),
                Queries::Compare {
                    canary, baseline, ..
                } => {
                    json!({ "canary": secrets.mask(&canary), "baseline": secrets.mask(&baseline) })
                }
                Queries::NoBaseline => {
                    json!({ "no_data": "nothing was live before to compare with" })
                }
            })
        }
        Some(MetricsProvider::Http { request, .. }) => steps::request(scope, request, None)
            .map(|call| json!({ "request": call.describe(secrets) }))
            .map_err(|e| e.message),
        None => Err(format!("no metrics provider `{}`", metric.provider.raw)),
    };
    let mut out = described.unwrap_or_else(|e| json!({ "error": secrets.mask(&e) }));
    out["name"] = json!(metric.name);
    out
}

pub fn queries<'a>(
    metric: &'a Metric,
    baseline: bool,
    ctx: &minijinja::Value,
) -> Result<Queries<'a>, String> {
    if let Some(compare) = &metric.compare {
        if !baseline {
            return Ok(Queries::NoBaseline);
        }
        return Ok(Queries::Compare {
            canary: render(&compare.canary, Landing::Query, ctx)?,
            baseline: render(&compare.baseline, Landing::Query, ctx)?,
            how: compare,
        });
    }
    let query = metric.query.as_ref().ok_or("the metric has no query")?;
    Ok(Queries::Instant(render(query, Landing::Query, ctx)?))
}
