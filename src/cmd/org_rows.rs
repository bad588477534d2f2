//! The rows of the organisation's view (`status --all`): how they are shown, as a table
//! and as JSON, and how they are kept between views.
//!
//! An app's rows are made from its environment files and the release files of the
//! releases holding their locks, all of them in the app's directory
//! (`format::app_dir`), and from nothing else (no plan, no clock). So they are kept by
//! the id of that directory's tree, beside the repository's objects in
//! `relctl-status.cache`: an app whose directory did not change since the last view
//! needs no file read, no row made. The cache is only a shortcut for this view: any
//! doubt about it (another header, a line that does not read, no end line) and it is
//! not read at all; nothing decides anything from it.
//!
//! The file is one line a row, fields separated by tabs (`FIELDS`), each as `escape`
//! writes it, rows of one app together; then `end`, the number of rows and a sum of
//! the lines before it (`checksum`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use git2::Oid;
use serde::Serialize;

/// One app's environment in the view; `None` where the record says nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Row<'a> {
    pub env: Cow<'a, str>,
    pub release: Option<Cow<'a, str>>,
    pub version: Option<Cow<'a, str>>,
    pub digest: Option<Cow<'a, str>>,
    /// RFC 3339, to the second.
    pub since: Option<Cow<'a, str>>,
    pub state: Cow<'a, str>,
    pub kind: Cow<'a, str>,
    pub standing: Cow<'a, str>,
    pub who: Option<Cow<'a, str>>,
    pub lock: Option<RowLock<'a>>,
    pub next: Option<Cow<'a, str>>,
}

/// The environment's lock as `--output json` shows it (its fields in JSON's order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowLock<'a> {
    pub by: Cow<'a, str>,
    pub release: Cow<'a, str>,
    /// As the record's time serialises to JSON.
    pub since: Cow<'a, str>,
}

impl RowLock<'static> {
    pub fn of(lock: &crate::engine::Lock) -> RowLock<'static> {
        let since = match serde_json::to_value(lock.since) {
            Ok(serde_json::Value::String(since)) => since,
            _ => lock.since.to_rfc3339(),
        };
        RowLock {
            by: lock.by.clone().into(),
            release: lock.release.clone().into(),
            since: since.into(),
        }
    }
}

/// A line of the view: a row, or an environment whose file could not be read. Nearly
/// every line is a row: boxing it would cost an allocation each.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum Line<'a> {
    Row(Row<'a>),
    Unreadable(String),
}

impl Line<'_> {
    pub fn env(&self) -> &str {
        match self {
            Line::Row(row) => &row.env,
            Line::Unreadable(env) => env,
        }
    }
}

/// One row in `--output json`: every field, in the order of the keys of a JSON object.
#[derive(Serialize)]
struct Shown<'r> {
    app: &'r str,
    digest: Option<&'r str>,
    env: &'r str,
    kind: &'r str,
    lock: Option<&'r RowLock<'r>>,
    next: Option<&'r str>,
    release: Option<&'r str>,
    since: Option<&'r str>,
    standing: &'r str,
    state: &'r str,
    version: Option<&'r str>,
    who: Option<&'r str>,
}

/// The view's rows, `(app, line)`, as the `environments` array of `--output json`.
pub fn json(lines: &[(&str, &Line)], out: &mut Vec<u8>) -> serde_json::Result<()> {
    out.push(b'[');
    for (i, (app, line)) in lines.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match line {
            Line::Row(r) => serde_json::to_writer(
                &mut *out,
                &Shown {
                    app,
                    digest: r.digest.as_deref(),
                    env: &r.env,
                    kind: &r.kind,
                    lock: r.lock.as_ref(),
                    next: r.next.as_deref(),
                    release: r.release.as_deref(),
                    since: r.since.as_deref(),
                    standing: &r.standing,
                    state: &r.state,
                    version: r.version.as_deref(),
                    who: r.who.as_deref(),
                },
            )?,
            Line::Unreadable(env) => serde_json::to_writer(
                &mut *out,
                &serde_json::json!({
                    "app": app, "env": env, "kind": "unreadable",
                    "standing": "unreadable: see the warning above",
                }),
            )?,
        }
    }
    out.push(b']');
    Ok(())
}

/// The view as a table: `-` where the record says nothing.
pub fn table(lines: &[(&str, &Line)]) -> String {
    let cells: Vec<[Cow<str>; 7]> = lines
        .iter()
        .map(|(app, line)| match line {
            Line::Row(r) => [
                Cow::Borrowed(*app),
                Cow::Borrowed(&*r.env),
                Cow::Borrowed(r.release.as_deref().unwrap_or("-")),
                Cow::Borrowed(r.version.as_deref().unwrap_or("-")),
                r.since.as_deref().map_or(Cow::Borrowed("-"), since_cell),
                Cow::Borrowed(&*r.standing),
                Cow::Borrowed(r.who.as_deref().unwrap_or("-")),
            ],
            Line::Unreadable(env) => [
                Cow::Borrowed(*app),
                Cow::Borrowed(env.as_str()),
                Cow::Borrowed("-"),
                Cow::Borrowed("-"),
                Cow::Borrowed("-"),
                Cow::Borrowed("unreadable: see the warning above"),
                Cow::Borrowed("-"),
            ],
        })
        .collect();
    crate::ui::table::table(
        &["APP", "ENV", "RELEASE", "VERSION", "SINCE", "STATE", "WHO"],
        &cells,
    )
}

/// A time of the record as the tables show it: `2026-01-01 09:30 UTC`.
pub fn since_cell(rfc3339: &str) -> Cow<'static, str> {
    // What `to_rfc3339_opts(Secs, true)` writes for years 0–9999: `YYYY-MM-DDTHH:MM:SSZ`.
    let b = rfc3339.as_bytes();
    if b.len() == 20 && b[10] == b'T' && b[19] == b'Z' && rfc3339.is_ascii() {
        let mut cell = String::with_capacity(20);
        cell.push_str(&rfc3339[..10]);
        cell.push(' ');
        cell.push_str(&rfc3339[11..16]);
        cell.push_str(" UTC");
        return Cow::Owned(cell);
    }
    Cow::Owned(
        chrono::DateTime::parse_from_rfc3339(rfc3339)
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|_| rfc3339.to_string()),
    )
}

const CACHE_FILE: &str = "relctl-status.cache";

/// Another relctl, or another way of making rows, writes another header: its cache is
/// not read. Change the number whenever what `status::row` makes of the files changes.
fn header() -> String {
    format!("relctl status rows 1 {}", env!("CARGO_PKG_VERSION"))
}

/// app, tree, env, release, version, digest, since, state, kind, standing, who, the
/// lock's by, release and since, next.
const FIELDS: usize = 15;

/// What a cache file keeps: each app's rows, with the tree of the app's directory they
/// were made from; and, for a view of one app, the lines of the others as they are (not
/// read, to be written back).
#[derive(Default)]
pub struct Kept<'t> {
    pub rows: HashMap<&'t str, (Oid, Vec<Line<'t>>)>,
    pub others: HashMap<&'t str, &'t str>,
}

/// The cache file of the repository whose shared git directory is `common_dir`; empty
/// when there is none or it cannot be read.
pub fn read(common_dir: &Path) -> String {
    std::fs::read_to_string(common_dir.join(CACHE_FILE)).unwrap_or_default()
}

/// The rows `text` (a cache file) keeps, of app `only` when given; none at all unless
/// every line read reads, and the file ends as it is written.
pub fn parse<'t>(text: &'t str, only: Option<&str>) -> Kept<'t> {
    parse_all(text, only).unwrap_or_default()
}

fn parse_all<'t>(text: &'t str, only: Option<&str>) -> Option<Kept<'t>> {
    // Every line ends with a line break, the last one too.
    let body = text.strip_prefix(header().as_str())?.strip_prefix('\n')?;
    let body = body.strip_suffix('\n')?;
    let mut kept = Kept::default();
    let mut last: Option<(&str, &str)> = None;
    // Where the lines of the app being read started, in `body`.
    let mut block = 0;
    let mut at = 0;
    for (rows, line) in body.split('\n').enumerate() {
        let start = at;
        at += line.len() + 1;
        if let Some(end) = line.strip_prefix("end\t") {
            // The end line is the last one, and sums up every line before it.
            let (count, sum) = end.split_once('\t')?;
            return (count.parse() == Ok(rows)
                && at > body.len()
                && sum == checksum(&text[..text.len() - line.len() - 1]))
            .then_some(kept);
        }
        let (app, rest) = line.split_once('\t')?;
        let (tree, rest) = rest.split_once('\t')?;
        if last != Some((app, tree)) {
            // An app's rows are together, made from one tree.
            if kept.rows.contains_key(app) || kept.others.contains_key(app) {
                return None;
            }
            last = Some((app, tree));
            block = start;
            if only.is_none_or(|o| o == app) {
                kept.rows
                    .insert(app, (Oid::from_str(tree).ok()?, Vec::new()));
            }
        }
        if only.is_some_and(|o| o != app) {
            kept.others.insert(app, &body[block..at.min(body.len())]);
            continue;
        }
        let row = parse_row(rest)?;
        kept.rows.get_mut(app)?.1.push(Line::Row(row));
    }
    // No end line: the file was cut short.
    None
}

/// A row's fields after the app and the tree, split in one pass over the line.
fn parse_row(line: &str) -> Option<Row<'_>> {
    let mut f: [Option<Cow<str>>; FIELDS - 2] = Default::default();
    let mut n = 0;
    let mut start = 0;
    let mut escaped = false;
    let bytes = line.as_bytes();
    for i in 0..=bytes.len() {
        match bytes.get(i) {
            Some(b'\\') => escaped = true,
            Some(b'\t') | None => {
                let field = &line[start..i];
                *f.get_mut(n)? = if escaped {
                    unescape(field)?
                } else {
                    Some(Cow::Borrowed(field))
                };
                n += 1;
                start = i + 1;
                escaped = false;
            }
            Some(_) => {}
        }
    }
    if n != f.len() {
        return None;
    }
    let [
        env,
        release,
        version,
        digest,
        since,
        state,
        kind,
        standing,
        who,
        by,
        locked,
        at,
        next,
    ] = f;
    let lock = match (by, locked, at) {
        (Some(by), Some(release), Some(since)) => Some(RowLock { by, release, since }),
        (None, None, None) => None,
        _ => return None,
    };
    Some(Row {
        env: env?,
        release,
        version,
        digest,
        since,
        state: state?,
        kind: kind?,
        standing: standing?,
        who,
        lock,
        next,
    })
}

/// Keeps `apps` (each app's name, the tree of its directory, its rows) for the next
/// view, through a temporary file and a rename, so that a reader never sees half of
/// it. A cache that cannot be written only costs the next view time.
/// `others` are lines of other apps as a cache file had them (`Kept::others`).
pub fn save<'a>(
    common_dir: &Path,
    apps: impl Iterator<Item = (&'a str, Oid, &'a [Line<'a>])>,
    others: impl Iterator<Item = &'a str>,
) {
    let path = common_dir.join(CACHE_FILE);
    let mut text = header();
    text.push('\n');
    let mut rows = 0;
    for lines in others {
        text.push_str(lines);
        rows += lines.matches('\n').count();
    }
    for (app, tree, lines) in apps {
        // Kept only under a name that needs no escaping (the file's apps are read as
        // they are written).
        if app.contains(['\\', '\t', '\n', '\r']) {
            continue;
        }
        let tree = tree.to_string();
        for line in lines {
            let Line::Row(r) = line else {
                continue;
            };
            let lock = r.lock.as_ref();
            let fields = [
                Some(app),
                Some(tree.as_str()),
                Some(&*r.env),
                r.release.as_deref(),
                r.version.as_deref(),
                r.digest.as_deref(),
                r.since.as_deref(),
                Some(&*r.state),
                Some(&*r.kind),
                Some(&*r.standing),
                r.who.as_deref(),
                lock.map(|l| &*l.by),
                lock.map(|l| &*l.release),
                lock.map(|l| &*l.since),
                r.next.as_deref(),
            ];
            for (i, value) in fields.iter().enumerate() {
                if i > 0 {
                    text.push('\t');
                }
                escape(*value, &mut text);
            }
            text.push('\n');
            rows += 1;
        }
    }
    let sum = checksum(&text);
    text.push_str(&format!("end\t{rows}\t{sum}\n"));
    let temp = path.with_extension(format!("{}.tmp", std::process::id()));
    let written = std::fs::write(&temp, text).and_then(|()| std::fs::rename(&temp, &path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        tracing::debug!("cannot write the status cache {}: {e}", path.display());
    }
}

/// The end line's sum of the lines before it (the first 16 hex digits of their
/// SHA-256): a file changed anywhere but by `save`, even a row edited by hand with its
/// tree id left alone, is not read. It keeps out damage, not a forger: whoever may
/// write the git directory may change what any git command shows.
fn checksum(text: &str) -> String {
    use sha2::Digest as _;
    hex::encode(&sha2::Sha256::digest(text.as_bytes())[..8])
}

/// A field: `\N` for nothing; else the text with backslashes, tabs and line breaks
/// written as `\\`, `\t`, `\n`, `\r`.
fn escape(value: Option<&str>, out: &mut String) {
    let Some(value) = value else {
        out.push_str("\\N");
        return;
    };
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// A field as `escape` wrote it: `Some(None)` for nothing, `None` for what it never writes.
fn unescape(field: &str) -> Option<Option<Cow<'_, str>>> {
    if !field.contains('\\') {
        return Some(Some(Cow::Borrowed(field)));
    }
    if field == "\\N" {
        return Some(None);
    }
    let mut text = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            text.push(c);
            continue;
        }
        text.push(match chars.next()? {
            '\\' => '\\',
            't' => '\t',
            'n' => '\n',
            'r' => '\r',
            _ => return None,
        });
    }
    Some(Some(Cow::Owned(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(who: Option<&str>, lock: bool) -> Line<'static> {
        Line::Row(Row {
            env: "production".into(),
            release: Some("checkout-4f2a9c1be0d3".into()),
            version: Some("".into()),
            digest: None,
            since: Some("2026-01-01T09:30:00Z".into()),
            state: "live".into(),
            kind: "live".into(),
            standing: "live".into(),
            who: who.map(|w| Cow::Owned(w.to_string())),
            lock: lock.then(|| RowLock {
                by: "ci\\bot".into(),
                release: "checkout-0123456789ab".into(),
                since: "2026-01-02T00:00:00Z".into(),
            }),
            next: None,
        })
    }

    #[test]
    fn rows_read_back_as_they_were_kept() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let tree = Oid::from_str("4f2a9c1be0d3a7f6e5c4b3a29180706050403020").expect("an id");
        let lines = vec![
            row(Some("a\tb\nc\\N\r"), true),
            row(None, false),
            row(Some("\\N"), false),
        ];
        let other = "payments\t4f2a9c1be0d3a7f6e5c4b3a29180706050403021\tdev\n";
        save(
            dir.path(),
            [("checkout", tree, &lines[..])].into_iter(),
            [other].into_iter(),
        );
        let text = read(dir.path());
        let kept = parse(&text, Some("checkout"));
        assert_eq!(kept.rows.len(), 1);
        assert_eq!(kept.rows["checkout"], (tree, lines.clone()));
        // A view of one app does not read the others' lines, and keeps them as they are.
        assert_eq!(kept.others["payments"], other);
        assert!(parse(&text, None).rows.is_empty());
        // A row edited by hand, its tree id left alone: the sum no longer adds up.
        let edited = text.replacen("checkout-", "checkout-1", 1);
        assert_ne!(edited, text);
        assert!(parse(&edited, None).rows.is_empty());
        let text = text.replacen(other, "", 1);
        let body = &text[..text.rfind("end\t").expect("an end line")];
        let text = format!("{body}end\t3\t{}\n", checksum(body));
        assert_eq!(parse(&text, None).rows["checkout"], (tree, lines));
        // Cut short anywhere, or with another header: nothing is read.
        for cut in [text.len() - 1, text.len() - 8, text.len() / 2] {
            assert!(
                parse(&text[..cut], None).rows.is_empty(),
                "{:?}",
                &text[..cut]
            );
        }
        assert!(
            parse(&text.replacen("rows 1", "rows 0", 1), None)
                .rows
                .is_empty()
        );
        assert!(parse(&text.replacen("\\N", "\\x", 1), None).rows.is_empty());
    }

    #[test]
    fn a_time_shows_as_the_tables_show_it() {
        for t in [
            "2026-01-01T09:30:59Z",
            "2026-01-01T09:30:59+02:00",
            "+10000-01-01T00:00:00Z",
        ] {
            let slow = chrono::DateTime::parse_from_rfc3339(t)
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_else(|_| t.to_string());
            assert_eq!(since_cell(t), slow);
        }
    }
}
