//! Reading an environment file with its `rejected` list taken out by lines. The list
//! names every release ever rolled back there (15,000 names, about 300 KB, after 100,000
//! releases of which 15 in 100 fail), so it is most of the file, and the YAML parser
//! spends thousands of instructions on each name: at 100,000 releases it made `status`
//! mostly parsing. relctl writes it as `rejected:` at the top level followed by one
//! `- <release id>` line per release; when the list is exactly that, those lines are
//! read here and the rest of the file goes to the parser. Anything else (a quoted name,
//! another layout, a file written by hand) goes to the parser whole.

use crate::engine::EnvFile;

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
            }),
            rejected: rejected.iter().map(|r| r.to_string()).collect(),
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
