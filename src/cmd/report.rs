//! `relctl report`: the four DORA measures, from the record.
//!
//! A deployment is a release going live in the environment (its `live` event); it
//! failed when that environment was rolled back off it later (`rolled_back` after it).
//! src/format/scan.rs reads the record; this file turns deployments into figures and
//! prints them.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::Context;
use crate::error::Error;
use crate::ui::OutputMode;

pub use crate::format::scan::{Deployment, Scan, deployments};

/// Report delivery metrics: deployment frequency, lead time, change failure rate, time to restore
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this environment
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,

    /// Only releases within this long (e.g. 30d)
    #[arg(long, value_name = "DUR")]
    pub since: Option<String>,
}

/// The longest `--since`: a hundred years is older than any record, and a longer one
/// is a typo (`100000000d`) that would date the period before the calendar.
const SINCE_MAX: std::time::Duration = std::time::Duration::from_secs(36_500 * 86_400);

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<()> {
    let plan = super::load_plan(ctx)?;
    let env = super::notes::target_env(&plan, args.env.as_deref())?;
    let since = super::release::duration_flag("--since", args.since.as_deref())?;
    if let Some(since) = since.filter(|d| *d > SINCE_MAX) {
        return Err(Error::usage(format!(
            "--since {} reaches back further than a record can: at most {}",
            crate::duration::format(since),
            crate::duration::format(SINCE_MAX)
        ))
        .with_hint("leave --since out to report from the first deployment")
        .into());
    }
    let now = crate::clock::now();
    let start = since.map(|d| {
        chrono::Duration::from_std(d)
            .ok()
            .and_then(|d| now.checked_sub_signed(d))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    });
    let (store, _) = super::read_record(ctx, &plan)?;
    let source = crate::notes::source_repo(&plan)
        .ok()
        .map(|r| r.workdir().unwrap_or_else(|| r.path()).to_path_buf());
    let scan = Scan {
        app: &plan.app,
        env: &env,
        start,
        now,
        source: source.as_deref(),
    };
    let deployments = deployments(store.path(), store.branch(), &scan)?;
    let report = Report::new(&env, start, now, &deployments);
    if ctx.printer.mode() == OutputMode::Json {
        return ctx.printer.json(&report.json());
    }
    ctx.printer.data(&report.table())
}

fn median(mut values: Vec<i64>) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2
    } else {
        values[mid]
    })
}

/// The four measures and the counts behind them.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub env: String,
    pub from: Option<DateTime<Utc>>,
    pub until: DateTime<Utc>,
    pub days: f64,
    pub deployments: usize,
    pub per_day: f64,
    pub bucket: &'static str,
    /// Seconds from source commit to live.
    pub lead_time: Option<i64>,
    pub lead_measured: usize,
    pub lead_skipped: usize,
    pub failed: usize,
    /// Seconds from going live to the rollback done.
    pub restore: Option<i64>,
}

impl Report {
    pub fn new(
        env: &str,
        start: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        deployments: &[Deployment],
    ) -> Report {
        // Without --since the period starts with the first deployment; a period is at
        // least a day, so a burst of releases is not a rate of thousands a day.
        let from = start.or_else(|| deployments.first().map(|d| d.live));
        let seconds = from.map_or(0, |f| (now - f).num_seconds().max(0));
        let days = (seconds as f64 / 86_400.0).max(1.0);
        let per_day = deployments.len() as f64 / days;
        let bucket = if deployments.is_empty() {
            "none"
        } else if per_day >= 1.0 {
            "daily"
        } else if per_day >= 1.0 / 7.0 {
            "weekly"
        } else if per_day >= 1.0 / 30.0 {
            "monthly"
        } else {
            "less than monthly"
        };
        let leads: Vec<i64> = deployments
            .iter()
            .filter_map(|d| d.commit_time.map(|t| (d.live - t).num_seconds().max(0)))
            .collect();
        let restores: Vec<i64> = deployments
            .iter()
            .filter_map(|d| d.rolled_back.map(|r| (r - d.live).num_seconds().max(0)))
            .collect();
        Report {
            env: env.to_string(),
            from,
            until: now,
            days,
            deployments: deployments.len(),
            per_day,
            bucket,
            lead_measured: leads.len(),
            lead_skipped: deployments.len() - leads.len(),
            lead_time: median(leads),
            failed: restores.len(),
            restore: median(restores),
        }
    }

    pub fn failure_rate(&self) -> Option<f64> {
        (self.deployments > 0).then(|| self.failed as f64 / self.deployments as f64)
    }

    pub fn json(&self) -> serde_json::Value {
        let round = |x: f64| (x * 1000.0).round() / 1000.0;
        json!({
            "env": self.env,
            "from": self.from.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            "until": self.until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "days": round(self.days),
            "deployment_frequency": {
                "per_day": round(self.per_day),
                "bucket": self.bucket,
                "deployments": self.deployments,
            },
            "lead_time": {
                "median_seconds": self.lead_time,
                "measured": self.lead_measured,
                "skipped": self.lead_skipped,
            },
            "change_failure_rate": {
                "rate": self.failure_rate().map(round),
                "failed": self.failed,
                "deployments": self.deployments,
            },
            "time_to_restore": {
                "median_seconds": self.restore,
                "restored": self.failed,
            },
        })
    }

    pub fn table(&self) -> String {
        let day = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
        let mut out = match self.from {
            Some(from) => format!(
                "{}: {} to {} ({})\n\n",
                self.env,
                day(from),
                day(self.until),
                plural_days(self.days)
            ),
            None => format!("{}: no deployments yet\n\n", self.env),
        };
        let rows = [
            (
                "deployment frequency",
                format!("{:.2}/day ({})", self.per_day, self.bucket),
                format!(
                    "{} went live in {}",
                    plural(self.deployments, "release"),
                    plural_days(self.days)
                ),
            ),
            (
                "lead time for changes",
                self.lead_time
                    .map_or("-".into(), |s| format!("{} (median)", human(s))),
                format!(
                    "{} from source commit to live{}",
                    plural(self.lead_measured, "release"),
                    if self.lead_skipped > 0 {
                        format!(
                            "; {} without a known source commit",
                            plural(self.lead_skipped, "release")
                        )
                    } else {
                        String::new()
                    }
                ),
            ),
            (
                "change failure rate",
                self.failure_rate()
                    .map_or("-".into(), |r| format!("{:.1}%", r * 100.0)),
                format!("{} of {} rolled back", self.failed, self.deployments),
            ),
            (
                "time to restore",
                self.restore
                    .map_or("-".into(), |s| format!("{} (median)", human(s))),
                format!(
                    "{} from live to rolled back",
                    plural(self.failed, "rollback")
                ),
            ),
        ];
        let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(7);
        let w1 = rows
            .iter()
            .map(|r| r.1.chars().count())
            .max()
            .unwrap_or(0)
            .max(5);
        out.push_str(&format!("{:<w0$}  {:<w1$}  BASED ON\n", "MEASURE", "VALUE"));
        for (measure, value, based) in rows {
            out.push_str(&format!("{measure:<w0$}  {value:<w1$}  {based}\n"));
        }
        out
    }
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn plural_days(days: f64) -> String {
    if (days - days.round()).abs() < 0.05 {
        let n = days.round() as usize;
        plural(n, "day")
    } else {
        format!("{days:.1} days")
    }
}

/// A duration in seconds as people read it: `45s`, `12m`, `2h 10m`, `3d 4h`.
fn human(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => match (s % 3600) / 60 {
            0 => format!("{}h", s / 3600),
            m => format!("{}h {m}m", s / 3600),
        },
        _ => match (s % 86_400) / 3600 {
            0 => format!("{}d", s / 86_400),
            h => format!("{}d {h}h", s / 86_400),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::clock::at as t;

    #[test]
    fn figures() {
        let d = |live: &str, back: Option<&str>, commit: Option<&str>| Deployment {
            release: live.into(),
            live: t(live),
            rolled_back: back.map(t),
            source_commit: None,
            commit_time: commit.map(t),
        };
        let deployments = [
            d("2026-11-01T10:00:00Z", None, Some("2026-11-01T08:00:00Z")),
            d("2026-11-03T09:00:00Z", None, Some("2026-11-02T09:00:00Z")),
            d("2026-11-05T06:00:00Z", Some("2026-11-05T07:30:00Z"), None),
        ];
        let r = Report::new(
            "production",
            Some(t("2026-10-31T00:00:00Z")),
            t("2026-11-10T00:00:00Z"),
            &deployments,
        );
        assert_eq!(r.days, 10.0);
        assert_eq!(r.bucket, "weekly");
        assert_eq!(r.lead_time, Some((2 * 3600 + 24 * 3600) / 2));
        assert_eq!((r.lead_measured, r.lead_skipped), (2, 1));
        assert_eq!(r.failed, 1);
        assert_eq!(r.restore, Some(5400));
        assert_eq!(human(5400), "1h 30m");
        assert_eq!(human(93_600), "1d 2h");
    }
}
