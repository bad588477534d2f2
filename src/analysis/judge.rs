//! Judging an analysis (docs/plan.md, "Analyses and metric gates"): one value against
//! its metric's bounds, one metric's measurements against the analysis limits, and a run
//! from its metrics' verdicts. Semantics follow Argo Rollouts' AnalysisRun, except that
//! a run never succeeds without a successful measurement.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::compare::{Classification, Comparison, unsigned_zero};
use crate::plan::types::{Analysis, Metric, NoData};

/// The phase of one measurement, of a decided metric, or of a decided run. The order is
/// severity, so the worst of several is their `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Successful,
    Inconclusive,
    Error,
    Failed,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Successful => "successful",
            Phase::Inconclusive => "inconclusive",
            Phase::Error => "error",
            Phase::Failed => "failed",
        }
    }

    /// The mark progress lines show for it.
    pub fn mark(self) -> char {
        match self {
            Phase::Successful => '✓',
            Phase::Inconclusive => '?',
            Phase::Error => '!',
            Phase::Failed => '✗',
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One measurement as the record keeps it. `value` is `None` for no data and for an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub value: Option<f64>,
    pub phase: Phase,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Measurement {
    /// A value the provider returned, judged against the metric. NaN is kept as `None`:
    /// both mean no data, and JSON has no NaN.
    pub fn from_value(metric: &Metric, value: Option<f64>) -> Measurement {
        let value = value.filter(|v| !v.is_nan()).map(unsigned_zero);
        Measurement {
            value,
            phase: judge_value(metric, value),
            message: None,
        }
    }

    /// The provider failed (connection, timeout, a query it rejected, a non-number).
    pub fn error(message: impl Into<String>) -> Measurement {
        Measurement {
            value: None,
            phase: Phase::Error,
            message: Some(message.into()),
        }
    }

    /// A baseline comparison; its value is the estimated shift of the canary, and
    /// `comparison_line` says what it rests on.
    pub fn from_comparison(metric: &Metric, comparison: &Comparison) -> Measurement {
        Measurement {
            value: Some(comparison.estimate)
                .filter(|v| !v.is_nan())
                .map(unsigned_zero),
            phase: judge_comparison(metric, comparison),
            message: None,
        }
    }
}

/// A value against the metric's inclusive bounds. `None` and NaN are no data, judged as
/// the metric's `no_data` says. Infinities are values like any other (a `max` fails +∞).
pub fn judge_value(metric: &Metric, value: Option<f64>) -> Phase {
    let Some(v) = value.filter(|v| !v.is_nan()) else {
        return no_data(metric.no_data);
    };
    let below = metric.min.is_some_and(|min| v < min);
    let above = metric.max.is_some_and(|max| v > max);
    if below || above {
        Phase::Failed
    } else {
        Phase::Successful
    }
}

/// A baseline comparison: `compare` has already weighed the direction, so High or Low is
/// a shift the metric forbids.
pub fn judge_comparison(metric: &Metric, comparison: &Comparison) -> Phase {
    match comparison.result {
        Classification::High | Classification::Low => Phase::Failed,
        Classification::Pass => Phase::Successful,
        Classification::NoData => no_data(metric.no_data),
    }
}

fn no_data(policy: NoData) -> Phase {
    match policy {
        NoData::Fail => Phase::Failed,
        NoData::Inconclusive => Phase::Inconclusive,
        NoData::Pass => Phase::Successful,
    }
}

/// Where a metric or a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// More measurements are needed.
    Running,
    Done(Phase),
}

impl Verdict {
    pub fn phase(self) -> Option<Phase> {
        match self {
            Verdict::Running => None,
            Verdict::Done(phase) => Some(phase),
        }
    }
}

/// Why a metric stands where it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Measuring,
    /// `count` measurements, limits kept, at least one successful.
    Completed,
    /// `count` measurements, limits kept, none successful.
    NoSuccess,
    FailureLimit,
    InconclusiveLimit,
    ConsecutiveErrorLimit,
}

/// The measurements a verdict rests on: those up to and including the deciding one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Tally {
    pub successful: u32,
    pub failed: u32,
    pub inconclusive: u32,
    pub errors: u32,
    pub consecutive_errors: u32,
}

impl Tally {
    /// Measurements that count toward the analysis' `count`: every one but errors.
    pub fn counted(&self) -> u32 {
        self.successful
            .saturating_add(self.failed)
            .saturating_add(self.inconclusive)
    }

    fn add(&mut self, phase: Phase) {
        let bump = |n: &mut u32| *n = n.saturating_add(1);
        match phase {
            Phase::Successful => bump(&mut self.successful),
            Phase::Failed => bump(&mut self.failed),
            Phase::Inconclusive => bump(&mut self.inconclusive),
            Phase::Error => {
                bump(&mut self.errors);
                bump(&mut self.consecutive_errors);
            }
        }
        if phase != Phase::Error {
            self.consecutive_errors = 0;
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricVerdict {
    pub verdict: Verdict,
    pub reason: Reason,
    pub tally: Tally,
}

impl MetricVerdict {
    /// One line on why, e.g. `2 failed measurements, more than the limit of 1`.
    pub fn explain(&self, analysis: &Analysis) -> String {
        let t = &self.tally;
        let plural =
            |n: u32, what: &str| format!("{n} {what} measurement{}", if n == 1 { "" } else { "s" });
        match self.reason {
            Reason::Measuring => format!("{} of {}", t.counted(), analysis.count),
            Reason::Completed => format!(
                "{} of {}, {} successful",
                t.counted(),
                analysis.count,
                t.successful
            ),
            Reason::NoSuccess => {
                format!("{} of {} and none successful", t.counted(), analysis.count)
            }
            Reason::FailureLimit => format!(
                "{}, more than the limit of {}",
                plural(t.failed, "failed"),
                analysis.failure_limit
            ),
            Reason::InconclusiveLimit => format!(
                "{}, more than the limit of {}",
                plural(t.inconclusive, "inconclusive"),
                analysis.inconclusive_limit
            ),
            Reason::ConsecutiveErrorLimit => format!(
                "{} consecutive errors, more than the limit of {}",
                t.consecutive_errors, analysis.consecutive_error_limit
            ),
        }
    }
}

/// A metric's verdict from its measurements' phases, oldest first.
///
/// The phases are folded one by one and the first decision stands: the run stops
/// measuring a decided metric, and a fold over the whole list would forget a streak of
/// errors that a later success reset. After each measurement, in this order: Failed when
/// failed > `failure_limit`, Inconclusive when inconclusive > `inconclusive_limit`, Error
/// when consecutive errors > `consecutive_error_limit`, and once `count` measurements
/// are counted, Successful, or Inconclusive if none of them succeeded.
///
/// Errors do not count toward `count` (as in Argo, whose `count` excludes errors): `count`
/// is the number of judgements the plan asks for, and an error judges nothing. Counting
/// them would let a flaky metrics backend pass a canary on fewer looks than planned. The
/// run still ends: at most `consecutive_error_limit` errors fit between two counted
/// measurements. So errors alone never complete a metric; they end it as Error.
///
/// Measurements that passed by `no_data: pass` are successes like any other, and a metric
/// made only of them is Successful: the plan said that no data is good news (a counter of
/// errors that does not exist until the first error), and anything else would make that
/// setting mean nothing at the end of a run.
pub fn assess_metric(analysis: &Analysis, measurements: &[Phase]) -> MetricVerdict {
    let mut tally = Tally::default();
    let decided = |tally: Tally| {
        decide(analysis, &tally).map(|(phase, reason)| MetricVerdict {
            verdict: Verdict::Done(phase),
            reason,
            tally,
        })
    };
    // A `count` of 0 (the plan forbids it) is over before it starts.
    if let Some(verdict) = decided(tally) {
        return verdict;
    }
    for &phase in measurements {
        tally.add(phase);
        if let Some(verdict) = decided(tally) {
            return verdict;
        }
    }
    MetricVerdict {
        verdict: Verdict::Running,
        reason: Reason::Measuring,
        tally,
    }
}

fn decide(analysis: &Analysis, t: &Tally) -> Option<(Phase, Reason)> {
    if t.failed > analysis.failure_limit {
        Some((Phase::Failed, Reason::FailureLimit))
    } else if t.inconclusive > analysis.inconclusive_limit {
        Some((Phase::Inconclusive, Reason::InconclusiveLimit))
    } else if t.consecutive_errors > analysis.consecutive_error_limit {
        Some((Phase::Error, Reason::ConsecutiveErrorLimit))
    } else if t.counted() >= analysis.count {
        if t.successful == 0 {
            Some((Phase::Inconclusive, Reason::NoSuccess))
        } else {
            Some((Phase::Successful, Reason::Completed))
        }
    } else {
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunVerdict {
    pub verdict: Verdict,
    /// The first metric (by index) whose phase the run took; `None` while running.
    pub metric: Option<usize>,
}

/// A run's verdict from its metrics' verdicts. A Failed or Error metric ends the run at
/// once, whatever still runs: there is no point measuring a canary that will be rolled
/// back. Otherwise the run waits for every metric and takes the worst. A run without
/// metrics (the plan forbids it) has measured nothing, so it is Inconclusive.
pub fn assess_run(verdicts: &[MetricVerdict]) -> RunVerdict {
    let worst = verdicts
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.verdict.phase().map(|phase| (phase, i)))
        // The worst phase; among equals, the first metric.
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let running = verdicts.iter().any(|v| v.verdict == Verdict::Running);
    match worst {
        Some((phase, i)) if phase >= Phase::Error || !running => RunVerdict {
            verdict: Verdict::Done(phase),
            metric: Some(i),
        },
        _ if running => RunVerdict {
            verdict: Verdict::Running,
            metric: None,
        },
        _ => RunVerdict {
            verdict: Verdict::Done(Phase::Inconclusive),
            metric: None,
        },
    }
}

/// A progress line for one measurement, e.g. `error-rate 0.0021 ≤ 0.01 ✓ 3/5`: the value,
/// the bound it is held to, its mark and its place (`index` counts from 1). A provider
/// error reads `error` where the value would be, other missing values `no data`.
pub fn summary_line(
    metric_name: &str,
    value: Option<f64>,
    metric: &Metric,
    phase: Phase,
    index: u32,
    count: u32,
) -> String {
    let shown = match value.filter(|v| !v.is_nan()) {
        Some(v) => format_number(v),
        None if phase == Phase::Error => "error".to_string(),
        None => "no data".to_string(),
    };
    // The relation as it holds: a value above its max reads `> max`, not `≤ max`.
    let v = value.unwrap_or(f64::NAN);
    let bound = match (metric.min, metric.max) {
        (Some(min), _) if v < min => format!(" < {}", format_number(min)),
        (_, Some(max)) if v > max => format!(" > {}", format_number(max)),
        (Some(min), Some(max)) => {
            format!(" in [{}, {}]", format_number(min), format_number(max))
        }
        (None, Some(max)) => format!(" ≤ {}", format_number(max)),
        (Some(min), None) => format!(" ≥ {}", format_number(min)),
        (None, None) => String::new(),
    };
    let bound = if value.is_some_and(|v| !v.is_nan()) {
        bound
    } else {
        // "no data ≤ 0.01" would read as a claim about the missing value.
        String::new()
    };
    format!(
        "{metric_name} {shown}{bound} {} {index}/{count}",
        phase.mark()
    )
}

/// A progress line for one baseline comparison: the verdict, the shift and its interval
/// at the metric's confidence, and the points behind them, e.g.
/// `latency High: canary - baseline 0.12 in [0.05, 0.2] at 98%, 30 canary and 30
/// baseline points ✗ 1/3`. One point a side is said to be too few to judge.
pub fn comparison_line(
    metric: &Metric,
    c: &Comparison,
    phase: Phase,
    index: u32,
    count: u32,
) -> String {
    format!(
        "{} {} {} {index}/{count}",
        metric.name,
        comparison_summary(metric, c),
        phase.mark()
    )
}

/// What one comparison found, without the metric's name: `High: canary - baseline 0.12
/// in [0.05, 0.2] at 98%, 30 canary and 30 baseline points`.
pub fn comparison_summary(metric: &Metric, c: &Comparison) -> String {
    let verdict = match c.result {
        Classification::High => "High",
        Classification::Low => "Low",
        Classification::Pass => "Pass",
        Classification::NoData => "no data",
    };
    let shift = match (c.result, &metric.compare) {
        (Classification::NoData, _) => String::new(),
        (_, compare) => format!(
            " canary - baseline {} in [{}, {}]{},",
            format_number(c.estimate),
            format_number(c.lower),
            format_number(c.upper),
            compare
                .as_ref()
                .map(|k| format!(" at {}%", format_number(k.confidence * 100.0)))
                .unwrap_or_default(),
        ),
    };
    let points = if c.baseline_points == 1 {
        "point"
    } else {
        "points"
    };
    let too_few = if c.too_few_points() && c.result != Classification::NoData {
        ": too few to judge"
    } else {
        ""
    };
    format!(
        "{verdict}:{shift} {} canary and {} baseline {points}{too_few}",
        c.canary_points, c.baseline_points,
    )
}

/// Four significant digits without trailing zeros: metric values are rates and latencies
/// read at a glance, and 0.1 + 0.2 should not print as 0.30000000000000004.
pub(crate) fn format_number(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if v == 0.0 {
        return "0".to_string();
    }
    let magnitude = v.abs().log10().floor();
    if (-4.0..6.0).contains(&magnitude) {
        let decimals = (3.0 - magnitude).max(0.0) as usize;
        trim_zeros(format!("{v:.decimals$}"))
    } else {
        let text = format!("{v:.3e}");
        match text.split_once('e') {
            Some((mantissa, exponent)) => {
                format!("{}e{exponent}", trim_zeros(mantissa.to_string()))
            }
            None => text,
        }
    }
}

fn trim_zeros(text: String) -> String {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::analysis::compare;
    use crate::plan::types::Pos;
    use crate::plan::types::{Compare, Direction, Text};

    fn text(raw: &str) -> Text {
        Text {
            raw: raw.into(),
            pos: Pos::default(),
        }
    }

    fn metric(min: Option<f64>, max: Option<f64>, no_data: NoData) -> Metric {
        Metric {
            name: "error-rate".into(),
            provider: text("prom"),
            query: Some(text("q")),
            compare: None,
            min,
            max,
            no_data,
            reduce: None,
        }
    }

    /// count, failure_limit, inconclusive_limit, consecutive_error_limit
    fn analysis(count: u32, failures: u32, inconclusives: u32, errors: u32) -> Analysis {
        Analysis {
            pos: crate::plan::Pos { line: 1, col: 1 },
            interval: Duration::from_secs(60),
            count,
            initial_delay: Duration::ZERO,
            failure_limit: failures,
            inconclusive_limit: inconclusives,
            consecutive_error_limit: errors,
            metrics: vec![],
        }
    }

    /// `S`, `F`, `I`, `E` for the four phases.
    fn phases(s: &str) -> Vec<Phase> {
        s.chars()
            .filter_map(|c| match c {
                'S' => Some(Phase::Successful),
                'F' => Some(Phase::Failed),
                'I' => Some(Phase::Inconclusive),
                'E' => Some(Phase::Error),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn phase_order_and_serde() {
        use Phase::*;
        assert!(Successful < Inconclusive && Inconclusive < Error && Error < Failed);
        assert_eq!([Error, Failed, Successful].into_iter().max(), Some(Failed));
        assert_eq!(
            serde_json::to_string(&Inconclusive).unwrap(),
            r#""inconclusive""#
        );
        let back: Phase = serde_json::from_str(r#""successful""#).unwrap();
        assert_eq!(back, Successful);
    }

    #[test]
    fn values_against_bounds() {
        let max = metric(None, Some(0.01), NoData::Inconclusive);
        assert_eq!(judge_value(&max, Some(0.0021)), Phase::Successful);
        assert_eq!(judge_value(&max, Some(0.01)), Phase::Successful);
        assert_eq!(judge_value(&max, Some(0.0101)), Phase::Failed);
        assert_eq!(judge_value(&max, Some(f64::INFINITY)), Phase::Failed);
        assert_eq!(
            judge_value(&max, Some(f64::NEG_INFINITY)),
            Phase::Successful
        );
        let both = metric(Some(1.0), Some(2.0), NoData::Inconclusive);
        assert_eq!(judge_value(&both, Some(1.0)), Phase::Successful);
        assert_eq!(judge_value(&both, Some(2.0)), Phase::Successful);
        assert_eq!(judge_value(&both, Some(0.999)), Phase::Failed);
        assert_eq!(judge_value(&both, Some(2.001)), Phase::Failed);
        let min = metric(Some(0.99), None, NoData::Inconclusive);
        assert_eq!(judge_value(&min, Some(0.98)), Phase::Failed);
        assert_eq!(judge_value(&min, Some(1e9)), Phase::Successful);
    }

    #[test]
    fn no_data_follows_the_metric() {
        for (policy, want) in [
            (NoData::Fail, Phase::Failed),
            (NoData::Inconclusive, Phase::Inconclusive),
            (NoData::Pass, Phase::Successful),
        ] {
            let m = metric(None, Some(0.01), policy);
            assert_eq!(judge_value(&m, None), want);
            assert_eq!(judge_value(&m, Some(f64::NAN)), want);
        }
    }

    #[test]
    fn measurements_from_values_errors_and_comparisons() {
        let m = metric(None, Some(0.01), NoData::Inconclusive);
        let nan = Measurement::from_value(&m, Some(f64::NAN));
        assert_eq!((nan.value, nan.phase), (None, Phase::Inconclusive));
        let ok = Measurement::from_value(&m, Some(0.002));
        assert_eq!((ok.value, ok.phase), (Some(0.002), Phase::Successful));
        let err = Measurement::error("connection refused");
        assert_eq!(err.phase, Phase::Error);
        assert_eq!(
            serde_json::to_string(&err).unwrap(),
            r#"{"value":null,"phase":"error","message":"connection refused"}"#
        );
        assert_eq!(
            serde_json::to_string(&ok).unwrap(),
            r#"{"value":0.002,"phase":"successful"}"#
        );

        let spec = Compare {
            canary: text("c"),
            baseline: text("b"),
            direction: Direction::Increase,
            confidence: 0.95,
            tolerance: 0.25,
        };
        let high = compare(&[10.0, 20.0, 30.0, 40.0], &[1.0, 2.0, 3.0, 4.0], &spec);
        let judged = Measurement::from_comparison(&m, &high);
        assert_eq!(judged.phase, Phase::Failed);
        assert_eq!(judged.value, Some(22.5));
        let latency = Metric {
            name: "latency".into(),
            compare: Some(spec.clone()),
            ..m.clone()
        };
        assert_eq!(
            comparison_line(&latency, &high, judged.phase, 1, 3),
            "latency High: canary - baseline 22.5 in [6, 39] at 95%, 4 canary and 4 baseline points ✗ 1/3"
        );
        let none = compare(&[], &[1.0], &spec);
        assert_eq!(
            Measurement::from_comparison(&m, &none).phase,
            Phase::Inconclusive
        );
        assert_eq!(
            comparison_line(&latency, &none, Phase::Inconclusive, 2, 3),
            "latency no data: 0 canary and 1 baseline point ? 2/3"
        );
        // One point a side: the verdict is a difference of two numbers, and says so.
        let lone = compare(&[5.0], &[1.0], &spec);
        assert_eq!(
            comparison_line(&latency, &lone, Phase::Failed, 1, 3),
            "latency High: canary - baseline 4 in [4, 4] at 95%, 1 canary and 1 baseline point: too few to judge ✗ 1/3"
        );
        // No shift is 0, not -0.
        let same = compare(&[1.0, 2.0], &[1.0, 2.0], &spec);
        let flat = Measurement::from_comparison(&m, &same);
        assert_eq!(
            serde_json::to_string(&flat.value).unwrap(),
            "0.0",
            "{same:?}"
        );
        let zero = Measurement::from_value(&m, Some(-0.0));
        assert_eq!(serde_json::to_string(&zero.value).unwrap(), "0.0");
        let pass = metric(None, None, NoData::Pass);
        assert_eq!(judge_comparison(&pass, &none), Phase::Successful);
    }

    /// What, (count, failure, inconclusive, consecutive error limits), phases, expected.
    type Case = (
        &'static str,
        (u32, u32, u32, u32),
        &'static str,
        (Verdict, Reason),
    );

    #[test]
    fn metric_assessment_table() {
        use Phase::*;
        use Reason::*;
        let running = (Verdict::Running, Measuring);
        let done = |p: Phase, r: Reason| (Verdict::Done(p), r);
        #[rustfmt::skip]
        let cases: &[Case] = &[
            ("nothing measured yet", (5, 0, 0, 4), "", running),
            ("some successes, count not reached", (5, 0, 0, 4), "SSS", running),
            ("count reached", (5, 0, 0, 4), "SSSSS", done(Successful, Completed)),
            ("count of one", (1, 0, 0, 4), "S", done(Successful, Completed)),
            ("after the decision, the rest is ignored", (2, 0, 0, 4), "SSFFF", done(Successful, Completed)),
            ("first failure over a limit of 0", (5, 0, 0, 4), "SF", done(Failed, FailureLimit)),
            ("failures within the limit", (5, 2, 0, 4), "FSFS", running),
            ("failures within the limit, count reached", (5, 2, 0, 4), "FSFSS", done(Successful, Completed)),
            ("one failure too many", (5, 2, 0, 4), "FSFSF", done(Failed, FailureLimit)),
            ("first inconclusive over a limit of 0", (5, 0, 0, 4), "SI", done(Inconclusive, InconclusiveLimit)),
            ("inconclusives within the limit", (5, 0, 1, 4), "ISSSS", done(Successful, Completed)),
            ("inconclusive limit exceeded", (5, 0, 1, 4), "ISIS", done(Inconclusive, InconclusiveLimit)),
            ("all inconclusive within the limit: no success", (3, 0, 5, 4), "III", done(Inconclusive, NoSuccess)),
            ("all failed within the limit: no success", (2, 3, 0, 4), "FF", done(Inconclusive, NoSuccess)),
            ("failed and inconclusive within limits: no success", (2, 1, 1, 4), "FI", done(Inconclusive, NoSuccess)),
            ("one success among inconclusives is enough", (3, 0, 2, 4), "IIS", done(Successful, Completed)),
            ("errors within the limit keep it running", (5, 0, 0, 4), "EEEE", running),
            ("consecutive errors over the limit", (5, 0, 0, 4), "EEEEE", done(Error, ConsecutiveErrorLimit)),
            ("a success resets the error streak", (5, 0, 0, 2), "EESEES", running),
            ("an inconclusive resets the error streak too", (5, 0, 1, 1), "EIE", running),
            ("a streak after a reset still counts", (5, 0, 0, 2), "EESEEE", done(Error, ConsecutiveErrorLimit)),
            ("consecutive error limit of 0", (5, 0, 0, 0), "SE", done(Error, ConsecutiveErrorLimit)),
            ("errors do not count toward count", (3, 0, 0, 4), "SESES", done(Successful, Completed)),
            ("errors alone never complete a metric", (2, 0, 0, 9), "EEEEEEEE", running),
            ("errors within the limit and inconclusives: no success", (2, 0, 5, 4), "EIEI", done(Inconclusive, NoSuccess)),
            ("a streak decides before later successes", (5, 0, 0, 1), "EESSSSS", done(Error, ConsecutiveErrorLimit)),
            ("the first limit crossed wins", (5, 0, 0, 4), "IF", done(Inconclusive, InconclusiveLimit)),
            ("failure before inconclusive", (5, 0, 0, 4), "FI", done(Failed, FailureLimit)),
            ("a failure on the last counted measurement beats completion", (3, 0, 0, 4), "SSF", done(Failed, FailureLimit)),
            ("a failure within its limit at the count", (3, 1, 0, 4), "SSF", done(Successful, Completed)),
            ("count of zero: nothing succeeded", (0, 0, 0, 4), "", done(Inconclusive, NoSuccess)),
        ];
        assert!(cases.len() >= 25);
        for (what, (count, f, i, e), list, want) in cases {
            let got = assess_metric(&analysis(*count, *f, *i, *e), &phases(list));
            assert_eq!((got.verdict, got.reason), *want, "{what}: {list}");
        }
    }

    #[test]
    fn no_data_pass_alone_completes_a_metric() {
        let m = metric(None, Some(0.01), NoData::Pass);
        let list: Vec<Phase> = (0..3).map(|_| judge_value(&m, None)).collect();
        let v = assess_metric(&analysis(3, 0, 0, 4), &list);
        assert_eq!(v.verdict, Verdict::Done(Phase::Successful));
    }

    #[test]
    fn tally_stops_at_the_decision() {
        let v = assess_metric(&analysis(5, 0, 0, 4), &phases("SESFSSS"));
        assert_eq!(
            v.tally,
            Tally {
                successful: 2,
                failed: 1,
                inconclusive: 0,
                errors: 1,
                consecutive_errors: 0,
            }
        );
        assert_eq!(
            v.explain(&analysis(5, 0, 0, 4)),
            "1 failed measurement, more than the limit of 0"
        );
        let streak = assess_metric(&analysis(5, 0, 0, 2), &phases("SEEE"));
        assert_eq!(
            streak.explain(&analysis(5, 0, 0, 2)),
            "3 consecutive errors, more than the limit of 2"
        );
    }

    fn verdict(v: Verdict) -> MetricVerdict {
        MetricVerdict {
            verdict: v,
            reason: Reason::Measuring,
            tally: Tally::default(),
        }
    }

    #[test]
    fn run_assessment_table() {
        use Phase::*;
        let r = Verdict::Running;
        let d = Verdict::Done;
        #[rustfmt::skip]
        let cases: &[(&str, Vec<Verdict>, Verdict, Option<usize>)] = &[
            ("all running", vec![r, r], r, None),
            ("one done, one running", vec![d(Successful), r], r, None),
            ("inconclusive waits for the others", vec![d(Inconclusive), r], r, None),
            ("failed ends the run at once", vec![r, d(Failed), r], d(Failed), Some(1)),
            ("error ends the run at once", vec![d(Successful), d(Error), r], d(Error), Some(1)),
            ("all successful", vec![d(Successful), d(Successful)], d(Successful), Some(0)),
            ("worst of successful and inconclusive", vec![d(Successful), d(Inconclusive)], d(Inconclusive), Some(1)),
            ("failure beats inconclusive", vec![d(Inconclusive), d(Failed)], d(Failed), Some(1)),
            ("failure beats error", vec![d(Error), d(Failed), r], d(Failed), Some(1)),
            ("error beats inconclusive", vec![d(Inconclusive), d(Error)], d(Error), Some(1)),
            ("the first of equals is named", vec![d(Failed), d(Failed)], d(Failed), Some(0)),
            ("no metrics: nothing succeeded", vec![], d(Inconclusive), None),
        ];
        for (what, list, want, metric) in cases {
            let list: Vec<MetricVerdict> = list.iter().copied().map(verdict).collect();
            let got = assess_run(&list);
            assert_eq!((got.verdict, got.metric), (*want, *metric), "{what}");
        }
    }

    #[test]
    fn metrics_into_a_run() {
        let a = analysis(3, 0, 0, 1);
        let metrics = [
            assess_metric(&a, &phases("SSS")),
            assess_metric(&a, &phases("SS")),
        ];
        assert_eq!(assess_run(&metrics).verdict, Verdict::Running);
        let metrics = [
            assess_metric(&a, &phases("SS")),
            assess_metric(&a, &phases("EE")),
        ];
        assert_eq!(assess_run(&metrics).verdict, Verdict::Done(Phase::Error));
    }

    #[test]
    fn summary_lines() {
        let max = metric(None, Some(0.01), NoData::Inconclusive);
        let line = |v, m: &Metric, p| summary_line("error-rate", v, m, p, 3, 5);
        assert_eq!(
            line(Some(0.0021), &max, Phase::Successful),
            "error-rate 0.0021 ≤ 0.01 ✓ 3/5"
        );
        assert_eq!(
            line(Some(0.1 + 0.2), &max, Phase::Failed),
            "error-rate 0.3 > 0.01 ✗ 3/5"
        );
        assert_eq!(
            line(None, &max, Phase::Inconclusive),
            "error-rate no data ? 3/5"
        );
        assert_eq!(
            line(Some(f64::NAN), &max, Phase::Inconclusive),
            "error-rate no data ? 3/5"
        );
        assert_eq!(line(None, &max, Phase::Error), "error-rate error ! 3/5");
        let min = metric(Some(0.995), None, NoData::Inconclusive);
        assert_eq!(
            summary_line("success", Some(0.99912), &min, Phase::Successful, 1, 5),
            "success 0.9991 ≥ 0.995 ✓ 1/5"
        );
        let both = metric(Some(100.0), Some(250.0), NoData::Fail);
        assert_eq!(
            summary_line("p99-ms", Some(312.75), &both, Phase::Failed, 5, 5),
            "p99-ms 312.8 > 250 ✗ 5/5"
        );
        let unbounded = metric(None, None, NoData::Fail);
        assert_eq!(
            summary_line("shift", Some(22.5), &unbounded, Phase::Failed, 2, 5),
            "shift 22.5 ✗ 2/5"
        );
    }

    #[test]
    fn numbers_read_at_a_glance() {
        let cases = [
            (0.0, "0"),
            (-0.0, "0"),
            (5.0, "5"),
            (0.01, "0.01"),
            (0.0021, "0.0021"),
            (123.456, "123.5"),
            (99_999.6, "100000"),
            (1_234_567.0, "1.235e6"),
            (0.000_012_34, "1.234e-5"),
            (-2.5, "-2.5"),
            (f64::INFINITY, "inf"),
            (f64::NAN, "NaN"),
            (f64::MAX, "1.798e308"),
            (f64::MIN_POSITIVE, "2.225e-308"),
        ];
        for (v, want) in cases {
            assert_eq!(format_number(v), want, "{v}");
        }
    }
}
