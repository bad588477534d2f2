//! The clock. In a build with test hooks, `RELCTL_NOW` (RFC 3339) pins it, so tests of
//! freezes and soak times can say what time it is (see src/hooks.rs).

use chrono::{DateTime, Utc};

pub fn now() -> DateTime<Utc> {
    crate::hooks::get(crate::hooks::Hook::Now)
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
