//! Problems found in a plan, each with its position, reported all at once.

use std::fmt;
use std::path::{Path, PathBuf};

use super::yaml::Pos;

#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub pos: Option<Pos>,
    pub message: String,
}

/// Every problem found in one plan file. Its `Display` is one `file:line:col: message`
/// line per problem.
#[derive(Debug, Clone)]
pub struct Diagnostics {
    pub file: PathBuf,
    pub list: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new(file: &Path) -> Self {
        Diagnostics {
            file: file.to_path_buf(),
            list: Vec::new(),
        }
    }

    pub fn at(&mut self, pos: Pos, message: impl Into<String>) {
        self.list.push(Diagnostic {
            pos: Some(pos),
            // One line per problem: a message that quotes a multi-line value (a
            // block-scalar template or jq expression) shows its line breaks escaped.
            message: crate::text::one_line(&shorten(message.into())).into_owned(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Problems in file order.
    pub fn sorted(mut self) -> Self {
        self.list.sort_by_key(|d| d.pos);
        self
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        for d in &self.list {
            match d.pos {
                Some(p) => writeln!(f, "{file}:{}:{}: {}", p.line, p.col, d.message)?,
                None => writeln!(f, "{file}: {}", d.message)?,
            }
        }
        Ok(())
    }
}

/// Characters of a message kept whole. A longer one quotes a huge value from the plan
/// (a hostile one can hold a line of a megabyte): its start and end are kept.
const MESSAGE_MAX: usize = 480;

fn shorten(message: String) -> String {
    let chars = message.chars().count();
    if chars <= MESSAGE_MAX {
        return message;
    }
    let (head, tail) = (MESSAGE_MAX / 2, MESSAGE_MAX / 4);
    let start: String = message.chars().take(head).collect();
    let end: String = message.chars().skip(chars - tail).collect();
    format!(
        "{start}…({} characters left out)…{end}",
        chars - head - tail
    )
}

/// The closest of `candidates` to `word`, when close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// How many characters to insert, delete or change to turn `a` into `b`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(cur)
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_words() {
        assert_eq!(
            did_you_mean("nmae", ["name", "deploy", "steps"]),
            Some("name")
        );
        assert_eq!(
            did_you_mean("approvl", ["approval", "freeze"]),
            Some("approval")
        );
        assert_eq!(did_you_mean("zzzzzz", ["name", "deploy"]), None);
    }

    #[test]
    fn huge_messages_keep_their_start_and_end() {
        let mut d = Diagnostics::new(Path::new("release.yaml"));
        let value = "k".repeat(100_000);
        d.at(
            Pos { line: 2, col: 6 },
            format!("found `{value}é`, expected a name"),
        );
        let message = &d.list[0].message;
        assert!(message.chars().count() < 600, "{message}");
        assert!(message.starts_with("found `kkk"), "{message}");
        assert!(message.ends_with("kké`, expected a name"), "{message}");
        assert!(message.contains("characters left out"), "{message}");
        d.at(Pos { line: 1, col: 1 }, "short");
        assert_eq!(d.list[1].message, "short");
        d.at(
            Pos { line: 3, col: 1 },
            "invalid template `{{ a\n}`: unexpected `}`",
        );
        assert_eq!(
            d.list[2].message,
            "invalid template `{{ a\\n}`: unexpected `}`"
        );
        assert_eq!(d.to_string().lines().count(), 3);
    }
}
