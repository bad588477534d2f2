//! Reading an environment file with its `rejected` list taken out by lines. A file
//! written before the list was bounded (below) names every release ever rolled back
//! there (15,000 names, about 300 KB, after 100,000 releases of which 15 in 100 fail),
//! so the list is most of the file, and the YAML parser spends thousands of
//! instructions on each name: at 100,000 releases it made `status` mostly parsing. relctl writes it as `rejected:` at the top level followed by one
//! `- <release id>` line per release; when the list is exactly that, those lines are
//! read here and the rest of the file goes to the parser. Anything else (a quoted name,
//! another layout, a file written by hand) goes to the parser whole. Writing is the
//! same in reverse: every event in the environment writes the file again, and the
//! serializer spent about 1,300 instructions on each name, so a list of names that YAML
//! reads as their text is written here by lines, the rest of the file by the serializer
//! (`encode`), giving the same bytes.
//!
//! The list is bounded: it keeps the latest `KEPT` names, and a file written before the
//! bound (with every release ever rolled back there) is cut to them the next time it is
//! written. Whether a release was rejected in an environment is decided by `rejected`:
//! the list, or else the release's own file, which records every rollback and
//! rejection of it (`engine::rejected_in`). That read is one small file the command
//! reads anyway (the release it promotes, or the one a rollback goes back to).

use crate::engine::{EnvFile, RollbackNote};
use crate::record::Snapshot;

/// How many of the releases rejected in an environment its file names, the latest.
/// Every event in the environment reads and rewrites the file, so a list that kept
/// every one made each event slower with every release rolled back (300 KB at 100,000
/// releases, BENCHMARKS.md).
pub const KEPT: usize = 20;

/// `file`'s list cut to the latest `KEPT` names (the list is oldest first), as every
/// write of an environment file leaves it.
pub fn bound(file: &mut EnvFile) {
    let over = file.rejected.len().saturating_sub(KEPT);
    file.rejected.drain(..over);
}

/// Whether release `id` of `app` was rolled back or rejected in `env` (whose file is
/// `file`) and has not gone live there since: named by the file's list, or by its own
/// release file.
pub fn rejected(
    snapshot: &Snapshot,
    app: &str,
    file: &EnvFile,
    env: &str,
    id: &str,
) -> anyhow::Result<bool> {
    if file.rejected.iter().any(|r| r == id) {
        return Ok(true);
    }
    // The release's own file, skimmed: on a rollback's way to its deploy call the file
    // is read for nothing else, and parsing its events was a third of that way.
    if let Some(said) = super::files::release_text(snapshot, app, id)?
        .and_then(|text| super::scan::skim_rejected_in(&text, env))
    {
        return Ok(said);
    }
    Ok(super::files::read_release(snapshot, app, id)?
        .is_some_and(|release| crate::engine::rejected_in(&release, env)))
}

const KEY: &str = "rejected:\n";

/// An environment file's text, read as the YAML parser would read it.
pub fn parse(text: &str) -> Result<EnvFile, serde_saphyr::Error> {
    if let Some((rest, rejected)) = split(text) {
        let mut file: EnvFile = serde_saphyr::from_str(&rest)?;
        if file.rejected.is_empty() {
            file.rejected = rejected;
            return Ok(file);
        }
    }
    serde_saphyr::from_str(text)
}

/// The text without its `rejected` list, and the list; `None` unless the list is
/// written exactly as relctl writes it.
fn split(text: &str) -> Option<(String, Vec<String>)> {
    let start = if text.starts_with(KEY) {
        0
    } else {
        text.find(&format!("\n{KEY}"))? + 1
    };
    let body = start + KEY.len();
    let mut names = Vec::new();
    let mut end = body;
    for line in text[body..].split_inclusive('\n') {
        let Some(item) = line.strip_prefix("- ") else {
            break;
        };
        let name = item.strip_suffix('\n').unwrap_or(item);
        if !plain(name) {
            return None;
        }
        names.push(name.to_string());
        end += line.len();
    }
    let after = &text[end..];
    // What follows must be the next top-level key (or nothing), and not this key again.
    let next_is_key = after.is_empty() || after.starts_with(|c: char| c.is_ascii_alphabetic());
    if names.is_empty()
        || !next_is_key
        || after.starts_with(KEY)
        || after.contains(&format!("\n{KEY}"))
    {
        return None;
    }
    Some((format!("{}{after}", &text[..start]), names))
}

/// An environment file as YAML: the bytes `files::encode` gives for it, with the
/// `rejected` list written by lines when every name in it is `plain` (it is written
/// after `lock` and before `rolled_back`, the last key).
pub fn encode(file: &EnvFile, path: &str) -> anyhow::Result<Vec<u8>> {
    if file.rejected.is_empty() || !file.rejected.iter().all(|name| written_plain(name)) {
        return super::files::encode(file, path);
    }
    let head = EnvFile {
        environment: file.environment.clone(),
        live: file.live.clone(),
        previous: file.previous.clone(),
        lock: file.lock.clone(),
        targets: file.targets.clone(),
        rejected: Vec::new(),
        targets_not_live: Vec::new(),
        rolled_back: None,
    };
    let mut bytes = super::files::encode(&head, path)?;
    let names: usize = file.rejected.iter().map(|name| name.len() + 3).sum();
    bytes.reserve(KEY.len() + names);
    bytes.extend_from_slice(KEY.as_bytes());
    for name in &file.rejected {
        bytes.extend_from_slice(b"- ");
        bytes.extend_from_slice(name.as_bytes());
        bytes.push(b'\n');
    }
    #[derive(serde::Serialize)]
    struct Tail<'a> {
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        targets_not_live: &'a [String],
        #[serde(skip_serializing_if = "Option::is_none")]
        rolled_back: Option<&'a RollbackNote>,
    }
    if !file.targets_not_live.is_empty() || file.rolled_back.is_some() {
        let tail = Tail {
            targets_not_live: &file.targets_not_live,
            rolled_back: file.rolled_back.as_ref(),
        };
        bytes.extend(super::files::encode(&tail, path)?);
    }
    Ok(bytes)
}

/// A name the serializer writes as its text, unquoted: `plain`, and made only of
/// characters it never quotes (ASCII letters, digits and `-`).
fn written_plain(name: &str) -> bool {
    plain(name) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// A name YAML reads as exactly its text: letters, digits, `-`, `.` and `_`, starting
/// with a letter, and not a word YAML gives another meaning (`true`, `null`, …).
fn plain(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        && !matches!(
            name.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n" | "nan" | "inf"
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Live, Lock, RollbackNote};

    use crate::clock::at as t;

    fn live(release: &str) -> Live {
        Live {
            release: release.into(),
            artifact: format!("ghcr.io/acme/checkout@sha256:{release}"),
            digest: "sha256:4f2a".into(),
            version: "1.0.0".into(),
            since: t("2026-11-01T10:00:00Z"),
            by: "alice@acme.io".into(),
        }
    }

    fn file(rejected: &[&str], note: Option<&str>) -> EnvFile {
        EnvFile {
            environment: "production".into(),
            live: Some(live("checkout-4f2a9c1be0d3")),
            previous: vec![live("checkout-0123456789ab")],
            lock: Some(Lock {
                release: "checkout-4f2a9c1be0d3".into(),
                by: "alice@acme.io".into(),
                since: t("2026-11-01T10:00:00Z"),
                run: None,
            }),
            rejected: rejected.iter().map(|r| r.to_string()).collect(),
            targets: Default::default(),
            targets_not_live: Vec::new(),
            rolled_back: note.map(|reason| RollbackNote {
                from: "checkout-9e518f301a8d".into(),
                to: "checkout-4f2a9c1be0d3".into(),
                by: "bob@acme.io".into(),
                at: t("2026-11-02T10:00:00Z"),
                reason: reason.into(),
            }),
        }
    }

    fn written(file: &EnvFile) -> String {
        let bytes =
            super::super::files::encode(file, &crate::format::env_path("checkout", "production"));
        String::from_utf8(bytes.expect("serialises")).expect("UTF-8")
    }

    #[test]
    fn files_as_relctl_writes_them_read_the_same_either_way() {
        let cases = [
            file(&["checkout-9e518f301a8d", "checkout-ff3c50e47215"], None),
            file(
                &["checkout-9e518f301a8d"],
                Some("p99 up\nrejected:\n- checkout-x"),
            ),
            file(&[], Some("error rate")),
            // Names YAML reads otherwise are quoted: the parser takes the whole file.
            file(&["checkout-1", "123", "true", "null", "a b", "x: y"], None),
        ];
        for case in cases {
            let text = written(&case);
            let whole: EnvFile = serde_saphyr::from_str(&text).expect("parses");
            assert_eq!(whole, case, "{text}");
            assert_eq!(parse(&text).expect("parses"), case, "{text}");
        }
        let text = written(&file(
            &["checkout-9e518f301a8d", "checkout-ff3c50e47215"],
            None,
        ));
        let (rest, names) = split(&text).expect("the list is taken out");
        assert_eq!(names, ["checkout-9e518f301a8d", "checkout-ff3c50e47215"]);
        assert!(!rest.contains("checkout-ff3c50e47215"), "{rest}");
    }

    #[test]
    fn the_list_written_by_lines_is_what_the_serializer_writes() {
        let many: Vec<String> = (0..300)
            .map(|i| format!("svc-{}-{:012x}", i % 7, i * 7919))
            .collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let cases = [
            file(&["checkout-9e518f301a8d", "checkout-ff3c50e47215"], None),
            file(
                &many,
                Some("p99 up\nrejected:\n- checkout-x\nrolled_back: x"),
            ),
            file(&["checkout-9e518f301a8d"], Some("error rate: 5%")),
            file(&[], Some("error rate")),
            file(&[], None),
            file(&["a", "checkout-1", "x-1-2-3", "NaNa"], Some("")),
            // Targets a release did not reach come between the list and the note.
            EnvFile {
                targets_not_live: vec!["eu-west".into(), "us-east".into()],
                ..file(&["checkout-9e518f301a8d"], Some("p99 up"))
            },
            EnvFile {
                targets_not_live: vec!["eu-west".into()],
                ..file(&["checkout-9e518f301a8d"], None)
            },
            // Names the serializer quotes: it writes the whole file.
            file(
                &["checkout-1", "123", "true", "null", "a b", "x: y", "a_b"],
                None,
            ),
        ];
        let path = crate::format::env_path("checkout", "production");
        for case in cases {
            let mut lonely = case.clone();
            lonely.previous.clear();
            lonely.lock = None;
            for case in [case, lonely] {
                let by_lines =
                    String::from_utf8(encode(&case, &path).expect("encodes")).expect("UTF-8");
                assert_eq!(by_lines, written(&case));
                assert_eq!(parse(&by_lines).expect("parses"), case, "{by_lines}");
            }
        }
    }

    #[test]
    fn anything_but_relctls_own_layout_goes_to_the_parser() {
        // Quoted, indented, flow-style, repeated, or followed by more items deeper in.
        for text in [
            "environment: dev\nrejected:\n- 'checkout-1'\n",
            "environment: dev\nrejected:\n  - checkout-1\n",
            "environment: dev\nrejected: [checkout-1]\n",
            "environment: dev\nrejected:\n- checkout-1\n  # note\n",
            "environment: dev\nrejected:\n- checkout-1\nrejected:\n- checkout-2\n",
        ] {
            assert_eq!(split(text), None, "{text}");
        }
        let file = parse("environment: dev\nrejected:\n  - checkout-1\n").expect("parses");
        assert_eq!(file.rejected, ["checkout-1"]);
        assert!(parse("environment: dev\nrejected:\n- checkout-1\n- [\n").is_err());
    }
}
