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
            message: message.into(),
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

fn edit_distance(a: &str, b: &str) -> usize {
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
}
