//! Baseline comparison as Kayenta's Mann-Whitney classifier does it: a Hodges-Lehmann
//! shift of the canary over the baseline, its confidence interval from the Wilcoxon
//! rank-sum test (normal approximation, as R's `wilcox.test(conf.int = TRUE)`), and a
//! verdict on whether that interval clears a tolerance band around zero.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::plan::types::{Compare, Direction};

/// What a comparison says about the canary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    /// Shifted upwards, and the direction makes an increase a failure.
    High,
    /// Shifted downwards, and the direction makes a decrease a failure.
    Low,
    Pass,
    /// The canary or the baseline had no usable value.
    NoData,
}

/// The verdict with the numbers behind it, in the metric's own unit. Without data the
/// three numbers are NaN (`null` in JSON and in the record, read back as NaN).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub result: Classification,
    /// Hodges-Lehmann estimate of the shift: the median of all differences canary - baseline.
    #[serde(
        deserialize_with = "nan_if_null",
        serialize_with = "null_if_not_finite"
    )]
    pub estimate: f64,
    #[serde(
        deserialize_with = "nan_if_null",
        serialize_with = "null_if_not_finite"
    )]
    pub lower: f64,
    #[serde(
        deserialize_with = "nan_if_null",
        serialize_with = "null_if_not_finite"
    )]
    pub upper: f64,
    /// How many usable values each side had: a shift judged on one point a side is a
    /// difference of two numbers, not a test.
    #[serde(default)]
    pub canary_points: usize,
    #[serde(default)]
    pub baseline_points: usize,
}

impl Comparison {
    /// No data from one side or both.
    pub fn no_data(canary_points: usize, baseline_points: usize) -> Comparison {
        Comparison {
            result: Classification::NoData,
            estimate: f64::NAN,
            lower: f64::NAN,
            upper: f64::NAN,
            canary_points,
            baseline_points,
        }
    }

    /// Fewer than two values on a side: whatever the verdict, nothing was tested.
    pub fn too_few_points(&self) -> bool {
        self.canary_points < 2 || self.baseline_points < 2
    }
}

/// The most points a range query asks for over one comparison window.
const POINTS_MAX: u64 = 250;

/// The spacing of a range query's points over `window`: at least a second, and close
/// enough for about 250 points.
pub fn range_step(window: Duration) -> Duration {
    Duration::from_secs((window.as_secs() / POINTS_MAX).max(1))
}

/// How many points a range query over `window` gives each side, at most.
pub fn window_points(window: Duration) -> u64 {
    window.as_secs() / range_step(window).as_secs() + 1
}

/// `null` is read back as NaN.
fn nan_if_null<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// The record refuses to read `.nan` and `.inf`, and JSON has neither: a number that is
/// not finite is written as `null`.
fn null_if_not_finite<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    finite_or_null(&Some(*v), s)
}

/// An optional number, `null` when it is not finite (see `null_if_not_finite`).
pub fn finite_or_null<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    v.filter(|v| v.is_finite()).serialize(s)
}

/// Compare a canary's sample with the baseline's.
///
/// Values that are not finite are dropped first: NaN is Prometheus' "no data", and an
/// infinity has no difference to take a median of. With nothing left on either side the
/// result is `NoData`. Identical samples, or samples whose values are all one and the
/// same, pass (Kayenta's shortcuts) although the numbers are still given.
///
/// The decision is Kayenta's: High when the interval's lower end is above
/// `tolerance * |estimate|`, Low when its upper end is below `-tolerance * |estimate|`,
/// each only if `direction` makes that way a failure. As the interval holds the estimate,
/// High needs a positive shift whose interval excludes zero and whose near end is still
/// at least `tolerance` of the shift: a shift that is significant but so vaguely known
/// that it might be much smaller passes. The band scales with the shift, not with the
/// baseline's level, so a small shift measured very precisely is still High.
pub fn compare(canary: &[f64], baseline: &[f64], c: &Compare) -> Comparison {
    let x = finite_sorted(canary);
    let y = finite_sorted(baseline);
    let (Some(&x_first), Some(&x_last), Some(&y_first), Some(&y_last)) =
        (x.first(), x.last(), y.first(), y.last())
    else {
        return Comparison::no_data(x.len(), y.len());
    };
    let estimate = hodges_lehmann(&x, &y);
    let (lower, upper) = interval(&x, &y, c.confidence);
    let identical = x == y;
    let single_valued = x_first == x_last && y_first == y_last && x_first == y_first;
    let result = if identical || single_valued {
        Classification::Pass
    } else {
        classify(estimate, lower, upper, c.direction, c.tolerance)
    };
    Comparison {
        result,
        estimate: unsigned_zero(estimate),
        lower: unsigned_zero(lower),
        upper: unsigned_zero(upper),
        canary_points: x.len(),
        baseline_points: y.len(),
    }
}

/// `-0.0` as `0`: a difference of equal values is no shift, and the record should not
/// say `-0.0`.
pub(crate) fn unsigned_zero(v: f64) -> f64 {
    if v == 0.0 { 0.0 } else { v }
}

fn classify(
    estimate: f64,
    lower: f64,
    upper: f64,
    direction: Direction,
    tolerance: f64,
) -> Classification {
    // `max` also turns a NaN tolerance into 0; the plan rejects both anyway.
    let band = tolerance.max(0.0) * estimate.abs();
    let increase_fails = matches!(direction, Direction::Increase | Direction::Either);
    let decrease_fails = matches!(direction, Direction::Decrease | Direction::Either);
    if increase_fails && lower > band {
        Classification::High
    } else if decrease_fails && upper < -band {
        Classification::Low
    } else {
        Classification::Pass
    }
}

fn finite_sorted(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// The median of the n·m differences x_i - y_j, found without building them: a sample of
/// a thousand points a side would otherwise take eight megabytes per comparison.
/// `x` and `y` are sorted, finite and non-empty.
fn hodges_lehmann(x: &[f64], y: &[f64]) -> f64 {
    let pairs = x.len() as u128 * y.len() as u128;
    if pairs % 2 == 1 {
        kth_difference(x, y, pairs / 2 + 1)
    } else {
        // Halves first: the sum of two huge differences could overflow.
        kth_difference(x, y, pairs / 2) / 2.0 + kth_difference(x, y, pairs / 2 + 1) / 2.0
    }
}

/// The k-th smallest difference (1-based): the least float d with at least k differences
/// ≤ d, found by bisecting the ordered floats, so it is one of the differences exactly.
fn kth_difference(x: &[f64], y: &[f64], k: u128) -> f64 {
    let (lo, hi) = shift_range(x, y);
    if count_at_most(x, y, lo) >= k {
        return lo;
    }
    // Invariant: fewer than k differences are ≤ lo, at least k are ≤ hi.
    let (mut lo, mut hi) = (order_key(lo), order_key(hi));
    while i128::from(hi) - i128::from(lo) > 1 {
        let mid = midpoint(lo, hi);
        if count_at_most(x, y, from_order_key(mid)) >= k {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    from_order_key(hi)
}

/// How many differences x_i - y_j are ≤ d. A computed difference grows with x_i and
/// shrinks with y_j (rounding keeps order), so one pass with two pointers does.
fn count_at_most(x: &[f64], y: &[f64], d: f64) -> u128 {
    let m = y.len();
    let mut j = 0;
    let mut count = 0u128;
    for &xi in x {
        while j < m && xi - y[j] > d {
            j += 1;
        }
        count += (m - j) as u128;
    }
    count
}

/// The smallest and the largest difference.
fn shift_range(x: &[f64], y: &[f64]) -> (f64, f64) {
    let first = |s: &[f64]| s.first().copied().unwrap_or(0.0);
    let last = |s: &[f64]| s.last().copied().unwrap_or(0.0);
    (first(x) - last(y), last(x) - first(y))
}

/// The two-sided interval for the shift at `confidence`, R's way: each end is the shift
/// μ at which the continuity-corrected z of (x - μ) against y equals the critical value.
fn interval(x: &[f64], y: &[f64], confidence: f64) -> (f64, f64) {
    let (lo, hi) = shift_range(x, y);
    if lo >= hi {
        // Every difference is the same number: the shift is known exactly. R gives up
        // here (all observations tied), but there is nothing uncertain to report.
        return (lo, lo);
    }
    // An unusable confidence gets the widest interval, which can only pass.
    let confidence = if confidence.is_nan() {
        1.0
    } else {
        confidence.clamp(0.0, 1.0)
    };
    let z = normal_quantile(1.0 - (1.0 - confidence) / 2.0);
    (root(x, y, lo, hi, z, false), root(x, y, lo, hi, -z, true))
}

/// The shift at which `z_of_shift` crosses `zq`. The statistic is a step function of the
/// shift that falls as the shift grows, jumping where x_i - μ passes some y_j, so its
/// crossing is a jump: bisecting over the ordered floats pins it to adjacent floats in at
/// most 64 steps, where R's `uniroot` stops at a tolerance of 1e-4.
///
/// Where the statistic equals `zq` on a whole stretch (at a confidence near 0 both ends
/// look for z = 0, which holds between two differences), the lower end takes the
/// stretch's start and the upper end its finish, so the interval still holds the estimate.
fn root(x: &[f64], y: &[f64], lo: f64, hi: f64, zq: f64, upper_end: bool) -> f64 {
    let f = |shift: f64| z_of_shift(x, y, shift) - zq;
    // True while the bound is still further right.
    let before = |v: f64| if upper_end { v >= 0.0 } else { v > 0.0 };
    let (mut f_lo, mut f_hi) = (f(lo), f(hi));
    // As R: an end already past the critical value is the answer.
    if !before(f_lo) {
        return lo;
    }
    if before(f_hi) {
        return hi;
    }
    let (mut lo, mut hi) = (order_key(lo), order_key(hi));
    while i128::from(hi) - i128::from(lo) > 1 {
        let mid = midpoint(lo, hi);
        let f_mid = f(from_order_key(mid));
        if before(f_mid) {
            (lo, f_lo) = (mid, f_mid);
        } else {
            (hi, f_hi) = (mid, f_mid);
        }
    }
    // Of the two floats around the jump, the one whose statistic is nearer the critical
    // value: at a tie that is the difference itself (6, not the float after it).
    if f_lo.abs() <= f_hi.abs() {
        from_order_key(lo)
    } else {
        from_order_key(hi)
    }
}

/// The Wilcoxon rank-sum z of (x - shift) against y: ties get their average rank and
/// shrink the variance, and the continuity correction pulls toward zero (R's `correct`).
fn z_of_shift(x: &[f64], y: &[f64], shift: f64) -> f64 {
    let (n, m) = (x.len() as f64, y.len() as f64);
    let (mut i, mut j) = (0, 0);
    let mut placed = 0.0;
    let mut rank_sum = 0.0;
    let mut ties = 0.0;
    // Both sides stay sorted (x_i - shift keeps x's order), so ranks come from a merge.
    loop {
        let v = match (x.get(i).map(|xi| xi - shift), y.get(j)) {
            (Some(a), Some(&b)) => a.min(b),
            (Some(a), None) => a,
            (None, Some(&b)) => b,
            (None, None) => break,
        };
        let mut in_x = 0.0;
        while x.get(i).is_some_and(|xi| xi - shift == v) {
            i += 1;
            in_x += 1.0;
        }
        let mut in_y = 0.0;
        while y.get(j).is_some_and(|&yj| yj == v) {
            j += 1;
            in_y += 1.0;
        }
        let t = in_x + in_y;
        if t == 0.0 {
            // Cannot happen with finite input; leaving beats looping forever.
            break;
        }
        rank_sum += in_x * (placed + (t + 1.0) / 2.0);
        ties += t * t * t - t;
        placed += t;
    }
    let dz = rank_sum - n * (n + 1.0) / 2.0 - n * m / 2.0;
    let correction = if dz > 0.0 {
        0.5
    } else if dz < 0.0 {
        -0.5
    } else {
        0.0
    };
    let total = n + m;
    let sigma = (n * m / 12.0 * ((total + 1.0) - ties / (total * (total - 1.0)))).sqrt();
    if sigma > 0.0 && sigma.is_finite() {
        (dz - correction) / sigma
    } else {
        // Everything tied: no evidence of a shift either way.
        0.0
    }
}

/// A key whose integer order is the order of the floats (as `f64::total_cmp`), so that
/// bisection can halve the number of floats between two ends rather than their distance.
fn order_key(v: f64) -> i64 {
    let bits = v.to_bits() as i64;
    bits ^ ((((bits >> 63) as u64) >> 1) as i64)
}

fn from_order_key(key: i64) -> f64 {
    // The mapping is its own inverse.
    f64::from_bits((key ^ ((((key >> 63) as u64) >> 1) as i64)) as u64)
}

fn midpoint(lo: i64, hi: i64) -> i64 {
    // In i128: the distance between two keys may not fit an i64.
    ((i128::from(lo) + i128::from(hi)) / 2) as i64
}

/// The standard normal quantile, Wichura's AS 241 (PPND16): about 1e-16 relative error,
/// the algorithm behind R's `qnorm`.
fn normal_quantile(p: f64) -> f64 {
    if p.is_nan() {
        return f64::NAN;
    }
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let poly = |coef: &[f64], r: f64| coef.iter().rev().fold(0.0, |acc, &c| acc * r + c);
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q * poly(&A, r) / poly(&B, r);
    }
    let r = if q < 0.0 { p } else { 1.0 - p };
    let r = (-r.ln()).sqrt();
    let value = if r <= 5.0 {
        let r = r - 1.6;
        poly(&C, r) / poly(&D, r)
    } else {
        let r = r - 5.0;
        poly(&E, r) / poly(&F, r)
    };
    if q < 0.0 { -value } else { value }
}

// AS 241 coefficients, lowest power first, rounded to the nearest f64.
const A: [f64; 8] = [
    3.3871328727963665,
    133.14166789178438,
    1971.5909503065513,
    13731.69376550946,
    45921.95393154987,
    67265.7709270087,
    33430.57558358813,
    2509.0809287301227,
];
const B: [f64; 8] = [
    1.0,
    42.31333070160091,
    687.1870074920579,
    5394.196021424751,
    21213.794301586597,
    39307.89580009271,
    28729.085735721943,
    5226.495278852546,
];
const C: [f64; 8] = [
    1.4234371107496835,
    4.630337846156546,
    5.769497221460691,
    3.6478483247632045,
    1.2704582524523684,
    0.2417807251774506,
    0.022723844989269184,
    0.0007745450142783414,
];
const D: [f64; 8] = [
    1.0,
    2.053191626637759,
    1.6763848301838038,
    0.6897673349851,
    0.14810397642748008,
    0.015198666563616457,
    0.0005475938084995345,
    1.0507500716444169e-09,
];
const E: [f64; 8] = [
    6.657904643501103,
    5.463784911164114,
    1.7848265399172913,
    0.29656057182850487,
    0.026532189526576124,
    0.0012426609473880784,
    2.7115555687434876e-05,
    2.0103343992922881e-07,
];
const F: [f64; 8] = [
    1.0,
    0.599832206555888,
    0.1369298809227358,
    0.014875361290850615,
    0.0007868691311456133,
    1.8463183175100548e-05,
    1.421511758316446e-07,
    2.0442631033899397e-15,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::types::Pos;
    use crate::plan::types::Text;

    fn spec(direction: Direction, confidence: f64) -> Compare {
        let text = |raw: &str| Text {
            raw: raw.into(),
            pos: Pos::default(),
        };
        Compare {
            canary: text("canary"),
            baseline: text("baseline"),
            direction,
            confidence,
            tolerance: 0.25,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    #[track_caller]
    fn assert_numbers(c: &Comparison, estimate: f64, lower: f64, upper: f64) {
        assert!(
            close(c.estimate, estimate) && close(c.lower, lower) && close(c.upper, upper),
            "got {c:?}, want estimate {estimate} in [{lower}, {upper}]"
        );
    }

    const X: [f64; 4] = [10.0, 20.0, 30.0, 40.0];
    const Y: [f64; 4] = [1.0, 2.0, 3.0, 4.0];

    #[test]
    fn known_interval_of_r() {
        // wilcox.test(c(10,20,30,40), c(1,2,3,4), conf.int = TRUE, exact = FALSE)
        let c = compare(&X, &Y, &spec(Direction::Increase, 0.95));
        assert_numbers(&c, 22.5, 6.0, 39.0);
        // The ends land on the differences themselves, not a float beside them.
        assert_eq!((c.lower, c.upper), (6.0, 39.0));
        assert_eq!(c.result, Classification::High);
    }

    #[test]
    fn reversal_mirrors_the_interval() {
        let c = compare(&Y, &X, &spec(Direction::Either, 0.95));
        assert_numbers(&c, -22.5, -39.0, -6.0);
        assert_eq!(c.result, Classification::Low);
        let c = compare(&Y, &X, &spec(Direction::Increase, 0.95));
        assert_eq!(c.result, Classification::Pass);
    }

    #[test]
    fn matches_a_port_of_r_with_ties() {
        // Expected values from a line-by-line port of R's wilcox.test (exact = FALSE,
        // correct = TRUE, uniroot replaced by a fine bisection), independent of this
        // module's merge ranking and float-order bisection.
        let x = [1.0, 2.0, 2.0, 3.0, 5.0, 8.0];
        let y = [1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 4.0];
        let c = compare(&x, &y, &spec(Direction::Either, 0.95));
        assert_numbers(&c, 1.0, -1.0, 4.0);
        assert_eq!(c.result, Classification::Pass);

        let x = [0.12, 0.5, 0.5, 0.7, 1.3, 2.0, 2.0, 2.0, 3.1];
        let y = [0.1, 0.2, 0.5, 0.5, 0.9, 1.0, 1.1];
        let c = compare(&x, &y, &spec(Direction::Either, 0.9));
        assert_numbers(&c, 0.8, 0.0, 1.5);

        let y = [
            0.0100, 0.0110, 0.0090, 0.0105, 0.0095, 0.0120, 0.0080, 0.0102, 0.0098, 0.0101,
        ];
        let x: Vec<f64> = y.iter().map(|v| v * 3.0).collect();
        let c = compare(&x, &y, &spec(Direction::Either, 0.98));
        assert_numbers(&c, 0.0201, 0.0174, 0.0226);
    }

    #[test]
    fn overlapping_samples_pass() {
        let baseline = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        let canary = [1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5];
        let c = compare(&canary, &baseline, &spec(Direction::Either, 0.98));
        assert_eq!(c.result, Classification::Pass);
        assert!(c.lower < 0.0 && c.upper > 0.0, "{c:?}");
        assert_numbers(&c, 0.5, c.lower, c.upper);
    }

    #[test]
    fn degraded_canary_fails_only_in_its_direction() {
        let baseline = [
            0.0100, 0.0110, 0.0090, 0.0105, 0.0095, 0.0120, 0.0080, 0.0102, 0.0098, 0.0101,
        ];
        let canary: Vec<f64> = baseline.iter().map(|v| v * 3.0).collect();
        let high = compare(&canary, &baseline, &spec(Direction::Increase, 0.98));
        assert_eq!(high.result, Classification::High, "{high:?}");
        assert!(high.lower > 0.01 && high.estimate > 0.015, "{high:?}");
        let either = compare(&canary, &baseline, &spec(Direction::Either, 0.98));
        assert_eq!(either.result, Classification::High);
        let decrease = compare(&canary, &baseline, &spec(Direction::Decrease, 0.98));
        assert_eq!(decrease.result, Classification::Pass);
        // The same pair reversed is an improvement for an increase-only metric.
        let better = compare(&baseline, &canary, &spec(Direction::Increase, 0.98));
        assert_eq!(better.result, Classification::Pass);
        let worse = compare(&baseline, &canary, &spec(Direction::Decrease, 0.98));
        assert_eq!(worse.result, Classification::Low);
    }

    #[test]
    fn empty_or_nan_only_is_no_data() {
        let s = spec(Direction::Either, 0.98);
        assert_eq!(compare(&[], &Y, &s).result, Classification::NoData);
        assert_eq!(compare(&X, &[], &s).result, Classification::NoData);
        let nan = compare(&[f64::NAN, f64::INFINITY], &Y, &s);
        assert_eq!(nan.result, Classification::NoData);
        assert!(nan.estimate.is_nan());
    }

    #[test]
    fn nan_values_are_dropped() {
        let s = spec(Direction::Increase, 0.95);
        let x = [10.0, f64::NAN, 20.0, 30.0, f64::NEG_INFINITY, 40.0];
        let y = [f64::NAN, 1.0, 2.0, 3.0, 4.0];
        assert_eq!(compare(&x, &y, &s), compare(&X, &Y, &s));
    }

    #[test]
    fn identical_and_single_valued_samples_pass() {
        let s = spec(Direction::Either, 0.98);
        let same = compare(&[3.0, 1.0, 2.0], &[1.0, 2.0, 3.0], &s);
        assert_eq!(same.result, Classification::Pass);
        assert_eq!(same.estimate, 0.0);
        let flat = compare(&[5.0, 5.0], &[5.0, 5.0, 5.0], &s);
        assert_eq!(flat.result, Classification::Pass);
        assert_numbers(&flat, 0.0, 0.0, 0.0);
    }

    #[test]
    fn two_constant_samples_give_an_exact_shift() {
        // R stops here ("all observations are tied"); the shift is plainly 4.
        let c = compare(
            &[5.0, 5.0, 5.0],
            &[1.0, 1.0],
            &spec(Direction::Increase, 0.98),
        );
        assert_numbers(&c, 4.0, 4.0, 4.0);
        assert_eq!(c.result, Classification::High);
    }

    #[test]
    fn tolerance_band_scales_with_the_estimate() {
        // At 0.95 the lower end is 6 against an estimate of 22.5: High while the band
        // (tolerance × 22.5) is below 6, Pass once it is above.
        let mut s = spec(Direction::Increase, 0.95);
        s.tolerance = 0.26;
        assert_eq!(compare(&X, &Y, &s).result, Classification::High);
        s.tolerance = 0.27;
        assert_eq!(compare(&X, &Y, &s).result, Classification::Pass);
    }

    #[test]
    fn odd_confidence_does_not_panic() {
        for confidence in [f64::NAN, -1.0, 0.0, 1.0, 2.0, f64::INFINITY] {
            let c = compare(&X, &Y, &spec(Direction::Either, confidence));
            assert!(c.lower <= c.estimate && c.estimate <= c.upper, "{c:?}");
        }
        // No confidence at all: every shift where z is 0, around the estimate 22.5.
        let c = compare(&X, &Y, &spec(Direction::Either, 0.0));
        assert_eq!((c.lower, c.upper), (19.0, 26.0));
        // Full confidence is the whole range of differences.
        let c = compare(&X, &Y, &spec(Direction::Either, 1.0));
        assert_eq!((c.lower, c.upper), (6.0, 39.0));
    }

    #[test]
    fn extreme_values_do_not_panic() {
        let s = spec(Direction::Either, 0.98);
        let huge = [f64::MAX, -f64::MAX, 0.0, f64::MIN_POSITIVE];
        let c = compare(&huge, &[-f64::MAX, 1.0, f64::MAX], &s);
        assert!(c.lower <= c.upper, "{c:?}");
        let _ = compare(&[f64::MAX; 3], &[-f64::MAX; 2], &s);
    }

    #[test]
    fn hodges_lehmann_is_the_median_of_differences() {
        let x = [0.3, 7.0, -2.5, 1.0, 1.0];
        let y = [0.1, 4.0, 4.0, -8.0];
        let mut d: Vec<f64> = x
            .iter()
            .flat_map(|a| y.iter().map(move |b| a - b))
            .collect();
        d.sort_by(f64::total_cmp);
        let want = (d[9] + d[10]) / 2.0;
        let c = compare(&x, &y, &spec(Direction::Either, 0.9));
        assert_eq!(c.estimate, want);
    }

    #[test]
    fn normal_quantile_matches_known_values() {
        let cases = [
            (0.5, 0.0),
            (0.975, 1.959_963_984_540_054),
            (0.99, 2.326_347_874_040_841),
            (0.999, 3.090_232_306_167_813),
            (0.1, -1.281_551_565_544_600_8),
            (1e-10, -6.361_340_902_404_056),
        ];
        for (p, z) in cases {
            let got = normal_quantile(p);
            assert!(
                (got - z).abs() <= 1e-14 * z.abs().max(1.0),
                "q({p}) = {got}, want {z}"
            );
        }
        assert_eq!(normal_quantile(1.0), f64::INFINITY);
        assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
    }

    #[test]
    fn order_keys_keep_float_order() {
        let v = [
            f64::NEG_INFINITY,
            -1e300,
            -1.0,
            -0.0,
            0.0,
            1e-300,
            1.0,
            f64::INFINITY,
        ];
        for pair in v.windows(2) {
            assert!(order_key(pair[0]) < order_key(pair[1]), "{pair:?}");
        }
        for x in v {
            assert_eq!(from_order_key(order_key(x)).to_bits(), x.to_bits());
        }
    }

    #[test]
    fn serde_round_trips_no_data() {
        let c = compare(&[], &[], &spec(Direction::Either, 0.98));
        let json = serde_json::to_string(&c).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"result":"no_data","estimate":null,"lower":null,"upper":null,"canary_points":0,"baseline_points":0}"#
        );
        let back: Comparison = serde_json::from_str(&json).unwrap();
        assert_eq!(back.result, Classification::NoData);
        assert!(back.lower.is_nan());
        // Written before the sample sizes were recorded.
        let old: Comparison =
            serde_json::from_str(r#"{"result":"pass","estimate":1,"lower":0,"upper":2}"#).unwrap();
        assert_eq!((old.canary_points, old.baseline_points), (0, 0));
    }

    proptest::proptest! {
        // No regression files: they would land outside this module's folder.
        #![proptest_config(proptest::test_runner::Config {
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        })]

        #[test]
        fn interval_holds_the_estimate(
            x in proptest::collection::vec(-1e6f64..1e6, 1..30),
            y in proptest::collection::vec(-1e6f64..1e6, 1..30),
            confidence in 0.5f64..0.999,
        ) {
            let c = compare(&x, &y, &spec(Direction::Either, confidence));
            proptest::prop_assert!(c.lower <= c.estimate && c.estimate <= c.upper, "{:?}", c);
        }

        #[test]
        fn any_input_gives_an_answer(
            x in proptest::collection::vec(proptest::num::f64::ANY, 0..12),
            y in proptest::collection::vec(proptest::num::f64::ANY, 0..12),
            confidence in proptest::num::f64::ANY,
        ) {
            let _ = compare(&x, &y, &spec(Direction::Either, confidence));
        }
    }
}
