//! Loading deployment windows: `windows` (allow and deny, weekly or one-off, in an IANA
//! time zone) and the older `freeze` entries, which are one-off deny windows in UTC.

use chrono::{DateTime, Utc};
use jiff::civil;
use jiff::tz::TimeZone;

use super::diag::Diagnostics;
use super::read::{self, Fields};
use super::types::{Span, Window, WindowKind};
use super::yaml::Node;

const DAY: i64 = 86_400;
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// An environment's `windows` mapping: a default `zone`, `allow` and `deny` lists.
pub fn windows(node: &Node, d: &mut Diagnostics) -> Vec<Window> {
    let Some(mut f) = Fields::of(node, "`windows`", d) else {
        return Vec::new();
    };
    let zone = f
        .get("zone")
        .and_then(|n| zone(n, d))
        .unwrap_or_else(|| (TimeZone::UTC, "UTC".to_string()));
    let mut windows = Vec::new();
    for (key, kind) in [("allow", WindowKind::Allow), ("deny", WindowKind::Deny)] {
        if let Some(items) = f.get(key).and_then(|n| read::list(n, key, d)) {
            windows.extend(items.iter().filter_map(|n| window(n, kind, &zone, d)));
        }
    }
    f.finish(d);
    windows
}

/// A `freeze` entry: a deny window from one RFC 3339 time to another.
pub fn freeze(node: &Node, d: &mut Diagnostics) -> Option<Window> {
    let mut f = Fields::of(node, "a freeze window", d)?;
    let time = |key: &'static str, f: &mut Fields, d: &mut Diagnostics| {
        let n = f.require(key, d)?;
        let s = read::string(n, key, d)?;
        match DateTime::parse_from_rfc3339(&s) {
            Ok(t) => Some(t.with_timezone(&Utc)),
            Err(e) => {
                d.at(
                    n.pos,
                    format!("`{key}` must be an RFC 3339 time like 2026-12-20T00:00:00Z: {e}"),
                );
                None
            }
        }
    };
    let from = time("from", &mut f, d);
    let to = time("to", &mut f, d);
    let reason = f.get("reason").and_then(|n| read::string(n, "reason", d));
    let pos = f.pos;
    f.finish(d);
    let (from, to) = (from?, to?);
    if from >= to {
        d.at(pos, "a freeze window must end after it starts");
    }
    Some(Window {
        kind: WindowKind::Deny,
        name: reason.unwrap_or_else(|| "freeze".into()),
        zone: TimeZone::UTC,
        zone_name: "UTC".into(),
        span: Span::Once(vec![(from, to)]),
        freeze: true,
    })
}

fn zone(node: &Node, d: &mut Diagnostics) -> Option<(TimeZone, String)> {
    let name = read::string(node, "zone", d)?;
    match TimeZone::get(&name) {
        Ok(tz) => Some((tz, name)),
        Err(_) => {
            d.at(
                node.pos,
                format!(
                    "`zone` must be an IANA time zone like Europe/Berlin or UTC, found `{}`",
                    name.escape_debug()
                ),
            );
            None
        }
    }
}

fn window(
    node: &Node,
    kind: WindowKind,
    default_zone: &(TimeZone, String),
    d: &mut Diagnostics,
) -> Option<Window> {
    let mut f = Fields::of(node, "a window", d)?;
    let name = f
        .require("name", d)
        .and_then(|n| read::string(n, "name", d));
    if let Some(name) = &name {
        f.rename(format!("window `{}`", name.escape_debug()));
    }
    let zone = match f.get("zone") {
        Some(n) => zone(n, d),
        None => Some(default_zone.clone()),
    };
    let days = f.get("days");
    let start = f.get("start");
    let end = f.get("end");
    let dates = f.get("dates");
    let from = f.get("from");
    let to = f.get("to");
    let pos = f.pos;
    f.finish(d);
    let (zone, zone_name) = zone?;
    let weekly = days.is_some() || start.is_some() || end.is_some();
    let forms = [weekly, dates.is_some(), from.is_some() || to.is_some()];
    if forms.iter().filter(|f| **f).count() != 1 {
        d.at(
            pos,
            "a window is weekly (`start`, `end` and `days`), on `dates`, or once `from` … `to`",
        );
        return None;
    }
    let span = if weekly {
        let (Some(start), Some(end)) = (start, end) else {
            d.at(pos, "a weekly window needs both `start` and `end`");
            return None;
        };
        weekly_span(days, start, end, d)?
    } else if let Some(dates) = dates {
        let items = read::list(dates, "dates", d)?;
        let spans = items
            .iter()
            .map(|n| {
                let day = date(n, d)?;
                let start =
                    |day: civil::Date| instant(day.to_zoned(zone.clone()).ok()?.timestamp());
                let span = start(day).zip(day.tomorrow().ok().and_then(start));
                if span.is_none() {
                    d.at(n.pos, "a date must be within the years 1 to 9998");
                }
                span
            })
            .collect::<Option<Vec<_>>>()?;
        if spans.is_empty() {
            d.at(dates.pos, "`dates` must name at least one date");
        }
        Span::Once(spans)
    } else {
        let (Some(from), Some(to)) = (from, to) else {
            d.at(pos, "a one-off window needs both `from` and `to`");
            return None;
        };
        let (from, to) = (time(from, "from", &zone, d), time(to, "to", &zone, d));
        let (from, to) = (from?, to?);
        if from >= to {
            d.at(pos, "a window must end after it starts");
        }
        Span::Once(vec![(from, to)])
    };
    Some(Window {
        kind,
        name: name?,
        zone,
        zone_name,
        span,
        freeze: false,
    })
}

/// `start`/`end` as `HH:MM` on each of `days` (all week when absent), or as `DAY HH:MM`
/// for one span across days (`fri 22:00` to `mon 06:00`). An end at or before the start
/// is on the next day (or in the next week).
fn weekly_span(days: Option<&Node>, start: &Node, end: &Node, d: &mut Diagnostics) -> Option<Span> {
    let (s, e) = (day_time(start, "start", d), day_time(end, "end", d));
    let ((s_day, s), (e_day, e)) = (s?, e?);
    match (s_day, e_day) {
        (Some(s_day), Some(e_day)) => {
            if days.is_some() {
                d.at(
                    start.pos,
                    "with a day in `start` and `end`, leave out `days`",
                );
                return None;
            }
            let (a, mut b) = (s_day * DAY + s, e_day * DAY + e);
            if a == b {
                d.at(end.pos, "a window cannot end where it starts");
                return None;
            }
            if b < a {
                b += 7 * DAY;
            }
            Some(Span::Weekly(vec![(a, b)]))
        }
        (None, None) => {
            if s == e {
                d.at(end.pos, "a window cannot end where it starts");
                return None;
            }
            let e = if e < s { e + DAY } else { e };
            let days: Vec<i64> = match days {
                Some(n) => {
                    let items = read::list(n, "days", d)?;
                    let days = items
                        .iter()
                        .map(|n| {
                            let s = read::string(n, "days", d)?;
                            let day = weekday(&s);
                            if day.is_none() {
                                d.at(n.pos, bad_day(&s));
                            }
                            day
                        })
                        .collect::<Option<Vec<_>>>()?;
                    if days.is_empty() {
                        d.at(n.pos, "`days` must name at least one day");
                    }
                    days
                }
                None => (0..7).collect(),
            };
            Some(Span::Weekly(
                days.into_iter()
                    .map(|day| (day * DAY + s, day * DAY + e))
                    .collect(),
            ))
        }
        _ => {
            d.at(
                start.pos,
                "`start` and `end` both name a day (`fri 22:00`) or neither does (`22:00`)",
            );
            None
        }
    }
}

/// `HH:MM` or `DAY HH:MM`: the day (Monday is 0) and seconds into it (`24:00` is the end).
fn day_time(node: &Node, field: &str, d: &mut Diagnostics) -> Option<(Option<i64>, i64)> {
    let text = read::string(node, field, d)?;
    let (day, clock) = match text.trim().split_once(' ') {
        Some((day, clock)) => match weekday(day) {
            Some(day) => (Some(day), clock.trim()),
            None => {
                d.at(node.pos, bad_day(day));
                return None;
            }
        },
        None => (None, text.trim()),
    };
    let parsed = clock.split_once(':').and_then(|(h, m)| {
        let (h, m) = (h.parse::<i64>().ok()?, m.parse::<i64>().ok()?);
        ((0..24).contains(&h) && (0..60).contains(&m) || (h, m) == (24, 0))
            .then_some(h * 3600 + m * 60)
    });
    match parsed {
        Some(secs) => Some((day, secs)),
        None => {
            d.at(
                node.pos,
                format!(
                    "`{field}` must be a wall-clock time like 09:00 or a day and a time like `fri 22:00`, found `{}`",
                    text.escape_debug()
                ),
            );
            None
        }
    }
}

fn weekday(name: &str) -> Option<i64> {
    let lower = name.to_ascii_lowercase();
    DAYS.iter()
        .position(|d| lower.len() >= 3 && (lower == *d || full_day(d).starts_with(&lower)))
        .map(|i| i as i64)
}

fn full_day(short: &str) -> &'static str {
    match short {
        "mon" => "monday",
        "tue" => "tuesday",
        "wed" => "wednesday",
        "thu" => "thursday",
        "fri" => "friday",
        "sat" => "saturday",
        _ => "sunday",
    }
}

fn bad_day(found: &str) -> String {
    format!(
        "unknown day `{}`: days are {}",
        found.escape_debug(),
        DAYS.join(", ")
    )
}

fn date(node: &Node, d: &mut Diagnostics) -> Option<civil::Date> {
    let text = read::string(node, "dates", d)?;
    match text.parse::<civil::Date>() {
        Ok(date) => Some(date),
        Err(_) => {
            d.at(
                node.pos,
                format!(
                    "a date must be written like 2026-12-24, found `{}`",
                    text.escape_debug()
                ),
            );
            None
        }
    }
}

/// An RFC 3339 time, or a wall-clock `2026-12-24 18:00` (or a date) in `zone`.
fn time(node: &Node, field: &str, zone: &TimeZone, d: &mut Diagnostics) -> Option<DateTime<Utc>> {
    let text = read::string(node, field, d)?;
    if let Ok(t) = DateTime::parse_from_rfc3339(&text) {
        return Some(t.with_timezone(&Utc));
    }
    let local = text.parse::<civil::DateTime>().ok().or_else(|| {
        text.parse::<civil::Date>()
            .ok()
            .map(|d| d.to_datetime(civil::Time::midnight()))
    });
    match local.and_then(|l| wall_instant(l, zone)) {
        Some(t) => Some(t),
        None => {
            d.at(
                node.pos,
                format!(
                    "`{field}` must be a time like 2026-12-24T18:00 (in the window's zone) or 2026-12-24T17:00:00Z, found `{}`",
                    text.escape_debug()
                ),
            );
            None
        }
    }
}

/// `local`, a wall-clock time in `zone`, as an instant. A time a change of offset skips
/// (02:30 on the night summer time begins in Berlin) is the first moment after the
/// change (03:00), as docs/plan.md ("A window") says.
pub fn wall_instant(local: civil::DateTime, zone: &TimeZone) -> Option<DateTime<Utc>> {
    let ambiguous = zone.to_ambiguous_timestamp(local);
    let t = match ambiguous.offset() {
        jiff::tz::AmbiguousOffset::Gap { after, .. } => {
            // Read with the offset after the change, the time falls before it.
            let before_change = after.to_timestamp(local).ok()?;
            zone.following(before_change).next()?.timestamp()
        }
        _ => ambiguous.compatible().ok()?,
    };
    instant(t)
}

pub fn instant(t: jiff::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.as_second(), t.subsec_nanosecond().try_into().ok()?)
}
