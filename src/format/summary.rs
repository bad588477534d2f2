//! A release file in one line: what `relctl report` needs of it (its source commit and
//! that commit's time, and its `entered`, `live` and `rolled_back` events). Each record
//! commit keeps one line per release in `releases/<xx>/summary.tsv` beside the release files,
//! each naming the blob it summarises, so that a report made in a fresh clone reads
//! 256 small files rather than every release file; a line whose blob is not the file's
//! (written by hand, by an older relctl, or left by an event that leaves the line as it
//! was: see `EventKind::may_end_work`) is ignored and the file read instead.
//! `report` keeps its local cache in the same line format.

use chrono::{DateTime, Utc};
use git2::Oid;

use crate::engine::{EventKind, ReleaseFile};

/// The first line of a summary file; another one (a later relctl's) is not read.
const HEADER: &str = "relctl summary 1";

/// The events that make deployments and failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Entered,
    Live,
    RolledBack,
}

impl Mark {
    pub fn of(name: &str) -> Option<Mark> {
        match name {
            "entered" => Some(Mark::Entered),
            "live" => Some(Mark::Live),
            "rolled_back" => Some(Mark::RolledBack),
            _ => None,
        }
    }

    /// The mark an event of `kind` puts in a release's line, if any.
    pub fn of_kind(kind: &EventKind) -> Option<Mark> {
        match kind {
            EventKind::Entered { .. } => Some(Mark::Entered),
            EventKind::Live => Some(Mark::Live),
            EventKind::RolledBack { .. } => Some(Mark::RolledBack),
            _ => None,
        }
    }

    fn code(self) -> char {
        match self {
            Mark::Entered => 'E',
            Mark::Live => 'L',
            Mark::RolledBack => 'R',
        }
    }

    fn from_code(c: char) -> Option<Mark> {
        match c {
            'E' => Some(Mark::Entered),
            'L' => Some(Mark::Live),
            'R' => Some(Mark::RolledBack),
            _ => None,
        }
    }
}

/// What the report needs of one release file, for every environment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReleaseLine {
    pub source_commit: Option<String>,
    /// When the source commit was made: as the release file records it, or as the plan's
    /// repository says (release files written before relctl recorded it).
    pub commit_time: Option<i64>,
    /// `entered`, `live` and `rolled_back`, in order: (environment, event, time).
    pub events: Vec<(String, Mark, DateTime<Utc>)>,
}

impl ReleaseLine {
    pub fn of(file: &ReleaseFile) -> ReleaseLine {
        let events = file
            .events
            .iter()
            .filter_map(|e| Some((e.env.clone()?, Mark::of_kind(&e.kind)?, e.at)))
            .collect();
        ReleaseLine {
            source_commit: file.source_commit.clone(),
            commit_time: file.source_commit_time.map(|t| t.timestamp()),
            events,
        }
    }

    /// The visits to `env` that went live: (live, rolled back). `entered` starts a
    /// visit, `live` makes it a deployment, `rolled_back` after that makes it a failure.
    pub fn visits(&self, env: &str) -> Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> {
        let mut visits: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> = Vec::new();
        let mut open = None;
        for (e, mark, at) in &self.events {
            if e != env {
                continue;
            }
            match mark {
                Mark::Entered => open = None,
                Mark::Live => {
                    visits.push((*at, None));
                    open = Some(visits.len() - 1);
                }
                Mark::RolledBack => {
                    if let Some(i) = open.take() {
                        visits[i].1 = Some(*at);
                    }
                }
            }
        }
        visits
    }
}

/// One line: `blob \t source commit|- \t commit time|- \t events`, events
/// `;`-separated as `<E|L|R><unix nanoseconds>,<environment>`. `None` for what the
/// format cannot hold (the file is then read instead).
pub fn encode(oid: &Oid, s: &ReleaseLine) -> Option<String> {
    let mut line = format!(
        "{oid}\t{}\t{}\t",
        s.source_commit.as_deref().unwrap_or("-"),
        s.commit_time.map_or("-".to_string(), |t| t.to_string())
    );
    if s.source_commit
        .as_deref()
        .is_some_and(|c| c.is_empty() || c.contains(['\t', '\n', '\r']) || c == "-")
    {
        return None;
    }
    for (i, (env, mark, at)) in s.events.iter().enumerate() {
        if env.contains(['\t', '\n', '\r', ';']) {
            return None;
        }
        if i > 0 {
            line.push(';');
        }
        line.push(mark.code());
        line.push_str(&at.timestamp_nanos_opt()?.to_string());
        line.push(',');
        line.push_str(env);
    }
    Some(line)
}

pub fn decode(line: &str) -> Option<(Oid, ReleaseLine)> {
    let mut parts = line.split('\t');
    let oid = Oid::from_str(parts.next()?).ok()?;
    let source_commit = match parts.next()? {
        "-" => None,
        c => Some(c.to_string()),
    };
    let commit_time = match parts.next()? {
        "-" => None,
        t => Some(t.parse().ok()?),
    };
    let events = match parts.next()? {
        "" => Vec::new(),
        events => events
            .split(';')
            .map(|e| {
                let mark = Mark::from_code(e.chars().next()?)?;
                let (nanos, env) = e.get(1..)?.split_once(',')?;
                let at = DateTime::from_timestamp_nanos(nanos.parse().ok()?);
                Some((env.to_string(), mark, at))
            })
            .collect::<Option<Vec<_>>>()?,
    };
    if parts.next().is_some() {
        return None;
    }
    Some((
        oid,
        ReleaseLine {
            source_commit,
            commit_time,
            events,
        },
    ))
}

/// `text` (a summary file, or "" for none) with release `id`'s line set to `line`
/// (removed for `None`); lines stay sorted by release.
pub fn with_line(text: &str, id: &str, line: Option<&str>) -> String {
    let mut lines: Vec<&str> = text
        .lines()
        .skip_while(|l| *l == HEADER)
        .filter(|l| l.split_once('\t').is_some_and(|(other, _)| other != id))
        .collect();
    let own = line.map(|line| format!("{id}\t{line}"));
    if let Some(own) = &own {
        let at = lines.partition_point(|l| l.split_once('\t').is_some_and(|(other, _)| other < id));
        lines.insert(at, own);
    }
    let mut out = String::with_capacity(text.len() + 256);
    out.push_str(HEADER);
    out.push('\n');
    for l in lines {
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// The lines of a summary file: (release, blob, summary). Nothing from a file with
/// another header; a line that does not decode is left out.
pub fn read(text: &str) -> impl Iterator<Item = (&str, Oid, ReleaseLine)> {
    let mut lines = text.lines();
    let known = lines.next() == Some(HEADER);
    lines.filter(move |_| known).filter_map(|l| {
        let (id, rest) = l.split_once('\t')?;
        let (oid, summary) = decode(rest)?;
        Some((id, oid, summary))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::clock::at as t;

    #[test]
    fn lines_round_trip_and_stay_sorted() {
        let oid = Oid::from_str("0123456789abcdef0123456789abcdef01234567").expect("oid");
        let s = ReleaseLine {
            source_commit: Some("e9775ec".into()),
            commit_time: Some(1_762_000_000),
            events: vec![
                (
                    "production".into(),
                    Mark::Entered,
                    t("2026-11-01T10:00:00Z"),
                ),
                ("production".into(), Mark::Live, t("2026-11-01T10:05:00Z")),
            ],
        };
        let line = encode(&oid, &s).expect("encodable");
        assert_eq!(decode(&line), Some((oid, s.clone())));
        let text = with_line("", "b-1", Some(&line));
        let text = with_line(&text, "a-1", Some(&line));
        let text = with_line(&text, "c-1", Some(&line));
        let ids: Vec<&str> = read(&text).map(|(id, _, _)| id).collect();
        assert_eq!(ids, ["a-1", "b-1", "c-1"]);
        let text = with_line(&text, "b-1", None);
        let all: Vec<_> = read(&text).collect();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].2, s);
        // Another format's file is not read; a bad line is skipped.
        assert_eq!(read("relctl summary 9\na-1\tx").count(), 0);
        assert_eq!(read(&format!("{HEADER}\na-1\tnot a line\n")).count(), 0);
        let odd = ReleaseLine {
            events: vec![("a;b".into(), Mark::Live, t("2026-11-01T00:00:00Z"))],
            ..ReleaseLine::default()
        };
        assert_eq!(encode(&oid, &odd), None);
    }
}
