//! Judging canary analysis (docs/plan.md, "Analyses and metric gates"): a value against
//! its metric's bounds, a metric's measurements against the analysis limits, a run from
//! its metrics, and a canary's sample against the baseline's. Pure functions: the engine measures,
//! this judges.

pub mod budget;
mod compare;
mod judge;

pub use compare::{Classification, Comparison, compare, finite_or_null, range_step, window_points};
pub use judge::{
    Measurement, MetricVerdict, Phase, Reason, RunVerdict, Tally, Verdict, assess_metric,
    assess_run, comparison_line, comparison_summary, judge_comparison, judge_value, summary_line,
};
