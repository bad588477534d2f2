//! Durations as plans and flags write them: `500ms`, `30s`, `10m`, `1h30m`, `2d`, and
//! the time arithmetic done with them, which never panics however large they are.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

/// Parse a duration made of one or more `<number><unit>` parts (units: ms, s, m, h, d).
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration".into());
    }
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!(
                "invalid duration `{text}` (expected e.g. 30s, 10m, 1h30m)"
            ));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("duration `{text}` is too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let part = match unit {
            "ms" => Duration::from_millis(number),
            "s" => Duration::from_secs(number),
            "m" => number
                .checked_mul(60)
                .map(Duration::from_secs)
                .ok_or("too large")?,
            "h" => number
                .checked_mul(3600)
                .map(Duration::from_secs)
                .ok_or("too large")?,
            "d" => number
                .checked_mul(86400)
                .map(Duration::from_secs)
                .ok_or("too large")?,
            "" if rest.is_empty() => {
                return Err(format!("duration `{text}` needs a unit (ms, s, m, h, d)"));
            }
            "" => {
                return Err(format!(
                    "invalid duration `{text}` (expected e.g. 30s, 10m, 1h30m)"
                ));
            }
            other => {
                return Err(format!(
                    "unknown unit `{other}` in duration `{text}` (use ms, s, m, h, d)"
                ));
            }
        };
        total = total
            .checked_add(part)
            .ok_or_else(|| format!("duration `{text}` is too large"))?;
    }
    Ok(total)
}

/// The shortest way to write a duration back: `1h30m`, `45s`, `250ms`.
pub fn format(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    if !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    let mut secs = d.as_secs();
    let mut out = String::new();
    for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    out
}

/// `t` minus `d`, or `None` when that is before the first time chrono can hold.
pub fn before(t: DateTime<Utc>, d: Duration) -> Option<DateTime<Utc>> {
    chrono::TimeDelta::from_std(d)
        .ok()
        .and_then(|d| t.checked_sub_signed(d))
}

/// `t` plus `d`, or `None` when that is past the last time chrono can hold.
pub fn after(t: DateTime<Utc>, d: Duration) -> Option<DateTime<Utc>> {
    chrono::TimeDelta::from_std(d)
        .ok()
        .and_then(|d| t.checked_add_signed(d))
}

/// The instant `d` from now. One too far for the platform's clock is a century away,
/// which no run outlives.
pub fn deadline(d: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 86_400);
    let now = Instant::now();
    now.checked_add(d)
        .or_else(|| now.checked_add(CENTURY))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        for (text, secs) in [
            ("30s", 30),
            ("10m", 600),
            ("1h30m", 5400),
            ("2d", 172800),
            ("0", 0),
        ] {
            assert_eq!(parse(text), Ok(Duration::from_secs(secs)), "{text}");
        }
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(format(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format(Duration::from_millis(250)), "250ms");
        for bad in [
            "",
            "10",
            "ten minutes",
            "5x",
            "1.5h",
            "-3s",
            "99999999999999999999d",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn arithmetic_with_huge_durations_does_not_panic() {
        let huge = parse("100000000d").unwrap_or(Duration::MAX);
        assert_eq!(after(crate::clock::at("2026-11-30T10:00:00Z"), huge), None);
        assert_eq!(
            after(DateTime::<Utc>::MAX_UTC, Duration::from_secs(1)),
            None
        );
        assert_eq!(
            after(
                crate::clock::at("2026-11-30T10:00:00Z"),
                Duration::from_secs(90)
            ),
            Some(crate::clock::at("2026-11-30T10:01:30Z"))
        );
        assert!(deadline(Duration::MAX) > Instant::now());
        assert!(deadline(huge) > Instant::now());
    }
}
