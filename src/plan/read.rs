//! Small typed readers over the positioned YAML tree. Each reports a problem where it
//! stands and gives `None`, so loading goes on and every problem is found in one pass.

use std::time::Duration;

use super::diag::{Diagnostics, did_you_mean};
use super::types::Text;
use super::yaml::{Node, Pos, Value, key_text};

/// The keys of one mapping; keys nobody asked for are reported by [`Fields::finish`].
pub struct Fields<'a> {
    pub pos: Pos,
    what: String,
    entries: &'a [(Node, Node)],
    used: Vec<bool>,
    asked: Vec<&'static str>,
}

impl<'a> Fields<'a> {
    /// `what` names the mapping in messages ("environment `staging`", "the plan").
    pub fn of(node: &'a Node, what: impl Into<String>, d: &mut Diagnostics) -> Option<Fields<'a>> {
        let what = what.into();
        match &node.value {
            Value::Map(entries) => Some(Fields {
                pos: node.pos,
                what,
                used: vec![false; entries.len()],
                entries,
                asked: Vec::new(),
            }),
            _ => {
                d.at(
                    node.pos,
                    format!("{what} must be a mapping, found {}", node.kind()),
                );
                None
            }
        }
    }

    /// Names the mapping anew once its own name is known ("environment `staging`").
    pub fn rename(&mut self, what: impl Into<String>) {
        self.what = what.into();
    }

    pub fn get(&mut self, key: &'static str) -> Option<&'a Node> {
        self.asked.push(key);
        let i = self.entries.iter().position(|(k, _)| key_text(k) == key)?;
        self.used[i] = true;
        Some(&self.entries[i].1)
    }

    pub fn require(&mut self, key: &'static str, d: &mut Diagnostics) -> Option<&'a Node> {
        let found = self.get(key);
        if found.is_none() {
            d.at(self.pos, format!("{} is missing `{key}`", self.what));
        }
        found
    }

    /// Reports every key that no reader asked for, with a suggestion when one is close.
    pub fn finish(self, d: &mut Diagnostics) {
        for ((key, _), used) in self.entries.iter().zip(&self.used) {
            if *used {
                continue;
            }
            let name = key_text(key);
            let hint = match did_you_mean(&name, self.asked.iter().copied()) {
                Some(close) => format!(" (did you mean `{close}`?)"),
                None => format!(" (expected one of: {})", self.asked.join(", ")),
            };
            d.at(
                key.pos,
                format!("unknown key `{name}` in {}{hint}", self.what),
            );
        }
    }
}

fn wrong(node: &Node, field: &str, expected: &str, d: &mut Diagnostics) {
    d.at(
        node.pos,
        format!("`{field}` must be {expected}, found {}", node.kind()),
    );
}

pub fn string(node: &Node, field: &str, d: &mut Diagnostics) -> Option<String> {
    match &node.value {
        Value::Str(s) => Some(s.clone()),
        _ => {
            wrong(node, field, "a string", d);
            None
        }
    }
}

/// A scalar as text (vars may be written as numbers or booleans).
pub fn scalar(node: &Node, field: &str, d: &mut Diagnostics) -> Option<String> {
    match &node.value {
        Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) => Some(key_text(node)),
        _ => {
            wrong(node, field, "a string", d);
            None
        }
    }
}

pub fn text(node: &Node, field: &str, d: &mut Diagnostics) -> Option<Text> {
    string(node, field, d).map(|raw| Text { raw, pos: node.pos })
}

pub fn boolean(node: &Node, field: &str, d: &mut Diagnostics) -> Option<bool> {
    match node.value {
        Value::Bool(b) => Some(b),
        _ => {
            wrong(node, field, "true or false", d);
            None
        }
    }
}

pub fn uint(node: &Node, field: &str, d: &mut Diagnostics) -> Option<u32> {
    match node.value {
        Value::Int(i) if (0..=i64::from(u32::MAX)).contains(&i) => Some(i as u32),
        Value::Int(_) => {
            d.at(
                node.pos,
                format!("`{field}` must be a whole number from 0 to {}", u32::MAX),
            );
            None
        }
        _ => {
            wrong(node, field, "a whole number", d);
            None
        }
    }
}

pub fn number(node: &Node, field: &str, d: &mut Diagnostics) -> Option<f64> {
    match node.value {
        Value::Int(i) => Some(i as f64),
        Value::Float(f) if f.is_finite() => Some(f),
        Value::Float(f) => {
            let found = if f.is_nan() {
                "NaN"
            } else if f > 0.0 {
                "infinity"
            } else {
                "-infinity"
            };
            d.at(
                node.pos,
                format!("`{field}` must be a finite number, found {found}"),
            );
            None
        }
        _ => {
            wrong(node, field, "a finite number", d);
            None
        }
    }
}

/// The shortest and the longest a duration in the plan may be.
#[derive(Debug, Clone, Copy)]
pub struct Within {
    pub min: Duration,
    pub max: Duration,
}

/// A duration inside `within`: beyond it a value is a typo (`100000000d`) or a busy
/// loop (`interval: 0ms`), never a plan. docs/plan.md ("Durations and their bounds")
/// lists them.
pub fn duration_within(
    node: &Node,
    field: &str,
    within: Within,
    d: &mut Diagnostics,
) -> Option<Duration> {
    let value = duration(node, field, d)?;
    let written = || node.as_str().unwrap_or("0").trim().to_string();
    let format = crate::duration::format;
    if value < within.min {
        d.at(
            node.pos,
            format!(
                "`{field}` must be at least {}, found {}",
                format(within.min),
                written()
            ),
        );
        return None;
    }
    if value > within.max {
        d.at(
            node.pos,
            format!(
                "`{field}` must be at most {}, found {}",
                format(within.max),
                written()
            ),
        );
        return None;
    }
    Some(value)
}

/// Why `name` cannot name an environment, an analysis, a metric or a provider: names
/// become file names in the record, commit trailers and words on a progress line.
pub fn name_problem(name: &str) -> Option<&'static str> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    if name.is_empty() {
        Some("is empty")
    } else if name.len() > NAME_MAX {
        Some("is longer than 63 characters")
    } else if !name.bytes().all(allowed) {
        Some("may hold only ASCII letters, digits, `-`, `_` and `.`")
    } else if !name.as_bytes()[0].is_ascii_alphanumeric() {
        Some("must start with a letter or a digit")
    } else {
        None
    }
}

/// The longest name: a DNS label's length, so a name can also name a host or a namespace.
pub const NAME_MAX: usize = 63;

/// A name (see [`name_problem`]); `what` says what it names ("environment").
pub fn name(node: &Node, what: &str, d: &mut Diagnostics) -> Option<String> {
    let name = string(node, "name", d)?;
    check_name(&name, node.pos, what, d);
    Some(name)
}

/// Reports `name` at `pos` when it is not a valid name.
pub fn check_name(name: &str, pos: Pos, what: &str, d: &mut Diagnostics) {
    if let Some(problem) = name_problem(name) {
        d.at(
            pos,
            format!("{what} name `{}` {problem}", name.escape_debug()),
        );
    }
}

pub fn duration(node: &Node, field: &str, d: &mut Diagnostics) -> Option<Duration> {
    match &node.value {
        Value::Int(0) => Some(Duration::ZERO),
        Value::Str(s) => match crate::duration::parse(s) {
            Ok(dur) => Some(dur),
            Err(e) => {
                d.at(node.pos, format!("`{field}`: {e}"));
                None
            }
        },
        Value::Int(_) => {
            d.at(node.pos, format!("`{field}` needs a unit, e.g. 30s or 10m"));
            None
        }
        _ => {
            wrong(node, field, "a duration like 30s or 10m", d);
            None
        }
    }
}

pub fn list<'a>(node: &'a Node, field: &str, d: &mut Diagnostics) -> Option<&'a [Node]> {
    match &node.value {
        Value::Seq(items) => Some(items),
        _ => {
            wrong(node, field, "a list", d);
            None
        }
    }
}

pub fn entries<'a>(node: &'a Node, field: &str, d: &mut Diagnostics) -> Option<&'a [(Node, Node)]> {
    match &node.value {
        Value::Map(entries) => Some(entries),
        _ => {
            wrong(node, field, "a mapping", d);
            None
        }
    }
}

/// A string that must be one of `choices`.
pub fn choice<T: Copy>(
    node: &Node,
    field: &str,
    choices: &[(&str, T)],
    d: &mut Diagnostics,
) -> Option<T> {
    let s = string(node, field, d)?;
    match choices.iter().find(|(name, _)| *name == s) {
        Some((_, value)) => Some(*value),
        None => {
            let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
            d.at(
                node.pos,
                format!("`{field}` must be one of {}, found `{s}`", names.join(", ")),
            );
            None
        }
    }
}
