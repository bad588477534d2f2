//! Whether an environment's deployment windows let a release in at an instant, and when
//! they next do. Pure: the clock is an argument. With allow windows the environment is
//! open only inside one of them; a deny window (a `freeze` among them) closes it
//! regardless. Weekly windows are wall-clock times in their zone, so they keep their
//! hours across a daylight-saving change.

use chrono::{DateTime, Utc};

use crate::plan::{Span, Window, WindowKind};

const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;
/// How far ahead the next opening is looked for, past the last one-off window's end.
const WEEKS_AHEAD: i64 = 3;
const MOST_WEEKS: i64 = 520;

/// Why an environment is closed now, and when it next opens.
#[derive(Debug, Clone)]
pub struct Closed<'a> {
    /// The deny window it is inside, or `None`: outside every allow window.
    pub deny: Option<&'a Window>,
    pub until: Option<DateTime<Utc>>,
}

impl Closed<'_> {
    /// Whether a `freeze` entry closes it (rule `freeze`, not `window`).
    pub fn is_freeze(&self) -> bool {
        self.deny.is_some_and(|w| w.freeze)
    }

    /// "production is closed (deny window "weekend") until Mon 2026-12-07 06:00 Europe/Berlin"
    pub fn describe(&self, env: &str, windows: &[Window]) -> String {
        if let Some(w) = self.deny.filter(|w| w.freeze) {
            let until = self.until.map_or_else(
                || "further notice".to_string(),
                |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
            );
            return format!("{env} is frozen until {until} ({})", w.name);
        }
        let (why, zone_of) = match self.deny {
            Some(w) => (format!("deny window \"{}\"", w.name), Some(w)),
            None => {
                let allow: Vec<&Window> = windows
                    .iter()
                    .filter(|w| w.kind == WindowKind::Allow)
                    .collect();
                let names: Vec<String> = allow.iter().map(|w| format!("\"{}\"", w.name)).collect();
                let plural = if names.len() == 1 { "" } else { "s" };
                (
                    format!("outside allow window{plural} {}", names.join(", ")),
                    allow.first().copied(),
                )
            }
        };
        let until = match (self.until, zone_of) {
            (Some(t), Some(w)) => format!("until {}", wall_clock(t, w)),
            (Some(t), None) => format!("until {}", t.format("%a %Y-%m-%d %H:%M UTC")),
            (None, _) => "and does not open again in the windows' range".to_string(),
        };
        format!("{env} is closed ({why}) {until}")
    }
}

/// `t` on the wall clock of `w`'s zone: "Mon 2026-12-07 06:00 Europe/Berlin".
pub fn wall_clock(t: DateTime<Utc>, w: &Window) -> String {
    match timestamp(t) {
        Some(ts) => format!(
            "{} {}",
            ts.to_zoned(w.zone.clone()).strftime("%a %Y-%m-%d %H:%M"),
            w.zone_name
        ),
        None => t.format("%a %Y-%m-%d %H:%M UTC").to_string(),
    }
}

/// `None` when the windows let a release in at `now`.
pub fn closed(windows: &[Window], now: DateTime<Utc>) -> Option<Closed<'_>> {
    let deny = windows
        .iter()
        .filter(|w| w.kind == WindowKind::Deny && inside(w, now))
        // A freeze says so first: it is what `--override-freeze` was made for.
        .min_by_key(|w| !w.freeze);
    if deny.is_none() && allowed(windows, now) {
        return None;
    }
    Some(Closed {
        deny,
        until: next_open(windows, now),
    })
}

fn allowed(windows: &[Window], t: DateTime<Utc>) -> bool {
    let mut allow = windows.iter().filter(|w| w.kind == WindowKind::Allow);
    allow.clone().next().is_none() || allow.any(|w| inside(w, t))
}

fn open_at(windows: &[Window], t: DateTime<Utc>) -> bool {
    allowed(windows, t)
        && !windows
            .iter()
            .any(|w| w.kind == WindowKind::Deny && inside(w, t))
}

/// Whether `t` falls inside `w`.
pub fn inside(w: &Window, t: DateTime<Utc>) -> bool {
    match &w.span {
        Span::Once(spans) => spans.iter().any(|(from, to)| *from <= t && t < *to),
        Span::Weekly(spans) => {
            let Some(second) = second_of_week(w, t) else {
                return false;
            };
            spans
                .iter()
                .any(|(a, b)| (*a..*b).contains(&second) || (*a..*b).contains(&(second + WEEK)))
        }
    }
}

/// Seconds since Monday 00:00 on `w`'s wall clock.
fn second_of_week(w: &Window, t: DateTime<Utc>) -> Option<i64> {
    let local = timestamp(t)?.to_zoned(w.zone.clone()).datetime();
    Some(
        i64::from(local.weekday().to_monday_zero_offset()) * DAY
            + i64::from(local.hour()) * 3600
            + i64::from(local.minute()) * 60
            + i64::from(local.second()),
    )
}

/// The first instant after `now` at which the windows let a release in: the
/// environment can only open where a window begins or ends, so those are tried in order.
pub fn next_open(windows: &[Window], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let last_once = windows
        .iter()
        .filter_map(|w| match &w.span {
            Span::Once(spans) => spans.iter().map(|(_, to)| *to).max(),
            Span::Weekly(_) => None,
        })
        .max()
        .unwrap_or(now);
    let weeks = ((last_once - now).num_days().max(0) / 7 + WEEKS_AHEAD).min(MOST_WEEKS);
    let mut edges: Vec<DateTime<Utc>> = Vec::new();
    for w in windows {
        match &w.span {
            Span::Once(spans) => edges.extend(spans.iter().flat_map(|(a, b)| [*a, *b])),
            Span::Weekly(spans) => edges.extend(weekly_edges(w, spans, now, weeks)),
        }
    }
    edges.retain(|t| *t > now);
    edges.sort();
    edges.dedup();
    edges.into_iter().find(|t| open_at(windows, *t))
}

/// Where each weekly span begins and ends, from the week before `now` for `weeks` more.
fn weekly_edges(
    w: &Window,
    spans: &[(i64, i64)],
    now: DateTime<Utc>,
    weeks: i64,
) -> Vec<DateTime<Utc>> {
    let Some(ts) = timestamp(now) else {
        return Vec::new();
    };
    let local = ts.to_zoned(w.zone.clone()).date();
    let back = i64::from(local.weekday().to_monday_zero_offset());
    let Ok(monday) = local.checked_sub(jiff::Span::new().days(back)) else {
        return Vec::new();
    };
    let midnight = monday.to_datetime(jiff::civil::Time::midnight());
    let mut edges = Vec::new();
    for week in -1..=weeks {
        for (a, b) in spans {
            for offset in [*a, *b] {
                let at = midnight
                    .checked_add(jiff::SignedDuration::from_secs(week * WEEK + offset))
                    .ok()
                    .and_then(|dt| crate::plan::wall_instant(dt, &w.zone));
                edges.extend(at);
            }
        }
    }
    edges
}

fn timestamp(t: DateTime<Utc>) -> Option<jiff::Timestamp> {
    jiff::Timestamp::new(t.timestamp(), t.timestamp_subsec_nanos().try_into().ok()?).ok()
}
