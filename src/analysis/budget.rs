//! Judging an error budget (docs/plan.md, "`error_budget`"): the share of the budget
//! left over the SLO's period, and the burn rates against the multi-window thresholds
//! of the SRE workbook. Pure: the runner reads the error ratios, this judges them.

use serde::{Deserialize, Serialize};

/// The short windows every budget reads besides its period, in the order they are shown.
pub const WINDOWS: [&str; 4] = ["5m", "30m", "1h", "6h"];

/// A burn rate that blocks when both of its windows exceed it: (long, short, rate).
pub const THRESHOLDS: [(&str, &str, f64); 2] = [("1h", "5m", 14.4), ("6h", "30m", 6.0)];

/// How far apart two figures may be and still count as equal: floating point makes
/// 0.0005 of a 0.001 budget 49.999999999994% left, which is the 50% floor, not below it.
const TOLERANCE: f64 = 1e-9;

/// How fast the budget burns over one window: the error ratio over the budget's ratio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Burn {
    pub window: String,
    pub rate: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetVerdict {
    Pass,
    Blocked,
    /// The error ratios could not be read (Prometheus down, no data).
    Unread,
}

/// What judging a budget found.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    /// The share of the period's budget left (1 is all of it; negative: overspent).
    pub remaining: f64,
    pub burns: Vec<Burn>,
    /// Why it blocks, with the numbers; `None` passes.
    pub blocked: Option<String>,
}

/// Judges `period_ratio`, the error ratio over the SLO's period, and `ratios`, the
/// `(window, ratio)` over each of `WINDOWS`; `objective` and `min_remaining` are
/// fractions (99.9% is 0.999).
pub fn judge(
    objective: f64,
    min_remaining: f64,
    period_ratio: f64,
    ratios: &[(String, f64)],
) -> Judged {
    let allowed = 1.0 - objective;
    let remaining = 1.0 - period_ratio / allowed;
    let burns: Vec<Burn> = ratios
        .iter()
        .map(|(window, ratio)| Burn {
            window: window.clone(),
            rate: ratio / allowed,
        })
        .collect();
    let rate = |window: &str| {
        burns
            .iter()
            .find(|b| b.window == window)
            .map_or(0.0, |b| b.rate)
    };
    let mut why = Vec::new();
    if remaining < min_remaining - TOLERANCE {
        why.push(format!(
            "{} of the error budget is left, below the {} floor",
            percent(remaining),
            percent(min_remaining)
        ));
    }
    for (long, short, threshold) in THRESHOLDS {
        let above = |rate: f64| rate > threshold + TOLERANCE * threshold;
        if above(rate(long)) && above(rate(short)) {
            why.push(format!(
                "burning {} over {long} and {} over {short} (both above {threshold}×)",
                times(rate(long)),
                times(rate(short))
            ));
        }
    }
    Judged {
        remaining,
        burns,
        blocked: (!why.is_empty()).then(|| why.join("; ")),
    }
}

/// The numbers in one line: `12.5% of the budget left; burn rate 5m 500×, 30m …`.
pub fn summary(remaining: f64, burns: &[Burn]) -> String {
    format!(
        "{} of the budget left; burn rate {}",
        percent(remaining),
        rates(burns)
    )
}

/// The burn rates by window: `5m 500×, 30m 500×, 1h 500×, 6h 500×`.
pub fn rates(burns: &[Burn]) -> String {
    let rates: Vec<String> = burns
        .iter()
        .map(|b| format!("{} {}", b.window, times(b.rate)))
        .collect();
    rates.join(", ")
}

fn percent(share: f64) -> String {
    format!("{}%", round(share * 100.0))
}

fn times(rate: f64) -> String {
    format!("{}×", round(rate))
}

/// Three significant digits at most, without trailing zeros.
fn round(x: f64) -> String {
    let text = format!("{x:.2}");
    let text = if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        text
    };
    match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ratios(r: [f64; 4]) -> Vec<(String, f64)> {
        WINDOWS
            .iter()
            .zip(r)
            .map(|(w, r)| (w.to_string(), r))
            .collect()
    }

    #[test]
    fn a_fast_burn_blocks_only_when_both_windows_of_a_pair_exceed() {
        // 99.9%: a budget ratio of 0.001; 0.02 is a 20× burn.
        let fast = judge(0.999, 0.0, 0.0001, &ratios([0.02, 0.0, 0.02, 0.0]));
        let why = fast.blocked.expect("14.4× over 1h and 5m blocks");
        assert!(why.contains("20× over 1h and 20× over 5m"), "{why}");
        let short_only = judge(0.999, 0.0, 0.0001, &ratios([0.02, 0.0, 0.001, 0.0]));
        assert_eq!(short_only.blocked, None);
        let slow = judge(0.999, 0.0, 0.0001, &ratios([0.0, 0.007, 0.0, 0.007]));
        assert!(
            slow.blocked
                .expect("6× over 6h and 30m")
                .contains("7× over 6h")
        );
    }

    #[test]
    fn an_exhausted_budget_blocks_below_its_floor() {
        let spent = judge(0.999, 0.0, 0.002, &ratios([0.0; 4]));
        assert!((spent.remaining + 1.0).abs() < 1e-9, "{}", spent.remaining);
        assert!(
            spent
                .blocked
                .expect("overspent")
                .contains("-100% of the error budget")
        );
        let low = judge(0.999, 0.25, 0.0008, &ratios([0.0; 4]));
        assert!(low.blocked.is_some_and(|w| w.contains("20% of the error budget is left, below the 25% floor")));
        assert_eq!(judge(0.999, 0.0, 0.0005, &ratios([0.0; 4])).blocked, None);
    }

    #[test]
    fn a_figure_at_its_threshold_does_not_block() {
        // 1 - 0.0005 / 0.001 is 0.49999999999994 in floating point: the 50% floor itself.
        assert_eq!(judge(0.999, 0.5, 0.0005, &ratios([0.0; 4])).blocked, None);
        // 0.0144 / 0.001 is 14.4× exactly as shown: at the threshold, not above it.
        let at = judge(0.999, 0.0, 0.0, &ratios([0.0144, 0.0, 0.0144, 0.0]));
        assert_eq!(at.blocked, None);
        let above = judge(0.999, 0.0, 0.0, &ratios([0.0145, 0.0, 0.0145, 0.0]));
        assert!(above.blocked.is_some());
    }
}
