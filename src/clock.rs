//! The clock. `RELCTL_NOW` (RFC 3339) pins it, so tests of freezes and soak times can
//! say what time it is.

use chrono::{DateTime, Utc};

pub fn now() -> DateTime<Utc> {
    std::env::var("RELCTL_NOW")
        .ok()
        .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .map_or_else(Utc::now, |t| t.with_timezone(&Utc))
}

/// A time written in RFC 3339, for tests (the epoch if it is not one).
#[cfg(test)]
pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}
