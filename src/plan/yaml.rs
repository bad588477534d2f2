//! A YAML document as a tree whose every node knows its line and column, so that each
//! problem in a plan can be reported where it is. Hostile input is bounded: file size,
//! nesting depth and alias expansion all have limits.

use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// Plans larger than this are refused before parsing.
pub const MAX_BYTES: usize = 1 << 20;
const MAX_DEPTH: usize = 64;
/// Nodes an alias may copy in, all aliases together (defeats "billion laughs").
const MAX_ALIAS_NODES: usize = 10_000;

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

impl Pos {
    fn of(span: &Span) -> Pos {
        Pos {
            line: span.start.line(),
            col: span.start.col() + 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
}

impl Node {
    /// What a user would call this kind of value, for "expected X, found Y".
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "nothing",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// A problem that stops the document from being read at all.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

/// Parse bytes into a tree (an empty document is `Null`).
pub fn parse(bytes: &[u8]) -> Result<Node, SyntaxError> {
    if bytes.len() > MAX_BYTES {
        return Err(SyntaxError {
            pos: Pos { line: 1, col: 1 },
            message: format!(
                "the plan is {} bytes; plans are limited to {} bytes",
                bytes.len(),
                MAX_BYTES
            ),
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let before = &bytes[..e.valid_up_to()];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let col = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
        SyntaxError {
            pos: Pos { line, col },
            message: "the plan is not valid UTF-8".into(),
        }
    })?;
    Builder::default().run(text)
}

#[derive(Default)]
struct Builder {
    anchors: HashMap<usize, Node>,
    alias_nodes: usize,
    /// Open collections: the node being built, its anchor, for maps a pending key and
    /// the keys seen so far (a set, so a mapping with many keys is not quadratic).
    stack: Vec<(Node, usize, Option<Node>, HashSet<String>)>,
    root: Option<Node>,
    documents: usize,
}

impl Builder {
    fn run(mut self, text: &str) -> Result<Node, SyntaxError> {
        let mut parser = Parser::new_from_str(text);
        while let Some(next) = parser.next_event() {
            let (event, span) = next.map_err(|e| SyntaxError {
                pos: Pos {
                    line: e.marker().line(),
                    col: e.marker().col() + 1,
                },
                message: match e.info() {
                    info if info.contains("recursion limit") => {
                        format!("the plan nests deeper than {MAX_DEPTH} levels")
                    }
                    info => info.to_string(),
                },
            })?;
            self.event(event, span)?;
        }
        Ok(self.root.unwrap_or(Node {
            value: Value::Null,
            pos: Pos { line: 1, col: 1 },
        }))
    }

    fn event(&mut self, event: Event, span: Span) -> Result<(), SyntaxError> {
        let pos = Pos::of(&span);
        let fail = |message: String| Err(SyntaxError { pos, message });
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return fail("a plan is one YAML document; found a second `---`".into());
                }
            }
            Event::Scalar(text, style, anchor, _) => {
                let value = if style == ScalarStyle::Plain {
                    resolve_plain(&text)
                } else {
                    Value::Str(text.into_owned())
                };
                self.push(Node { value, pos }, anchor)?;
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.stack.len() >= MAX_DEPTH {
                    return fail(format!("the plan nests deeper than {MAX_DEPTH} levels"));
                }
                let value = if matches!(event, Event::SequenceStart(..)) {
                    Value::Seq(Vec::new())
                } else {
                    Value::Map(Vec::new())
                };
                self.stack
                    .push((Node { value, pos }, anchor, None, HashSet::new()));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((node, anchor, _, _)) = self.stack.pop() {
                    self.push(node, anchor)?;
                }
            }
            Event::Alias(id) => {
                let Some(node) = self.anchors.get(&id).cloned() else {
                    return fail("an alias refers to an unknown anchor".into());
                };
                self.alias_nodes += count(&node);
                if self.alias_nodes > MAX_ALIAS_NODES {
                    return fail(format!(
                        "aliases expand to more than {MAX_ALIAS_NODES} nodes; refusing to expand further"
                    ));
                }
                self.push(Node { pos, ..node }, 0)?;
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
        Ok(())
    }

    fn push(&mut self, node: Node, anchor: usize) -> Result<(), SyntaxError> {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let Some((parent, _, pending_key, keys)) = self.stack.last_mut() else {
            self.root = Some(node);
            return Ok(());
        };
        match &mut parent.value {
            Value::Seq(items) => items.push(node),
            Value::Map(entries) => match pending_key.take() {
                None => {
                    if !matches!(
                        node.value,
                        Value::Str(_)
                            | Value::Int(_)
                            | Value::Bool(_)
                            | Value::Null
                            | Value::Float(_)
                    ) {
                        return Err(SyntaxError {
                            pos: node.pos,
                            message: format!(
                                "a mapping key must be a plain value, found {}",
                                node.kind()
                            ),
                        });
                    }
                    let key = key_text(&node);
                    if !keys.insert(key.clone()) {
                        return Err(SyntaxError {
                            pos: node.pos,
                            message: format!("duplicate key `{key}`"),
                        });
                    }
                    *pending_key = Some(node);
                }
                Some(key) => entries.push((key, node)),
            },
            _ => {}
        }
        Ok(())
    }
}

/// The text of a mapping key, whatever YAML resolved it to.
pub fn key_text(node: &Node) -> String {
    match &node.value {
        Value::Str(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Seq(_) | Value::Map(_) => String::new(),
    }
}

fn count(node: &Node) -> usize {
    1 + match &node.value {
        Value::Seq(items) => items.iter().map(count).sum(),
        Value::Map(entries) => entries.iter().map(|(k, v)| count(k) + count(v)).sum(),
        _ => 0,
    }
}

/// YAML 1.2 core schema for unquoted scalars.
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" => return Value::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && let Ok(i) = text.parse::<i64>()
    {
        return Value::Int(i);
    }
    let looks_numeric = digits
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_digit() || b == b'.')
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    if looks_numeric && let Ok(f) = text.parse::<f64>() {
        return Value::Float(f);
    }
    Value::Str(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_types() {
        let doc = parse(b"a: 1\nb:\n  - x\n  - 'true'\nc: true\nd: 0.5\n").unwrap();
        let Value::Map(entries) = doc.value else {
            panic!("not a map")
        };
        assert_eq!(entries[0].1.value, Value::Int(1));
        assert_eq!(entries[0].1.pos, Pos { line: 1, col: 4 });
        let Value::Seq(items) = &entries[1].1.value else {
            panic!("not a seq")
        };
        assert_eq!(items[1].value, Value::Str("true".into()));
        assert_eq!(items[1].pos, Pos { line: 4, col: 5 });
        assert_eq!(entries[2].1.value, Value::Bool(true));
        assert_eq!(entries[3].1.value, Value::Float(0.5));
    }

    #[test]
    fn refuses_hostile_documents() {
        let laughs = "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n";
        assert!(
            parse(laughs.as_bytes())
                .unwrap_err()
                .message
                .contains("aliases")
        );
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(
            parse(deep.as_bytes())
                .unwrap_err()
                .message
                .contains("nests deeper")
        );
        let err = parse(b"a: 1\nb: \xff\xfe\n").unwrap_err();
        assert_eq!(err.pos, Pos { line: 2, col: 4 });
        assert!(parse(&vec![b' '; MAX_BYTES + 1]).is_err());
        assert!(
            parse(b"a: 1\na: 2\n")
                .unwrap_err()
                .message
                .contains("duplicate key")
        );
        assert!(parse(b"a: 1\n---\nb: 2\n").is_err());
        assert!(parse(b"a: [1, 2\n").is_err());
    }
}
