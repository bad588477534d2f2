//! Property tests for everything a plan author (or an attacker) controls: the loader on
//! arbitrary bytes and on mutated valid plans, templates, and jq expressions. Nothing
//! panics, and every rejection is a clear error: a message that is not empty, one line
//! long, and (for the loader) placed at a line and column inside the file.

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::Config;

use super::template::{self, Scope};
use super::types::{Body, Text};
use super::yaml::Pos;
use super::{Diagnostics, jq, parse};

pub(crate) fn config() -> Config {
    Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    }
}

pub(crate) const EXAMPLE: &str = include_str!("../../release.example.yaml");

/// A small valid plan with every kind of thing the loader reads.
pub(crate) const SMALL: &str = r#"version: 1
app: checkout
artifact: { name: ghcr.io/acme/checkout }
vars: { api: "http://127.0.0.1:1" }
providers:
  deploy:
    platform:
      type: http
      request:
        url: "{{ vars.api }}/deploy/{{ env.name }}"
        body: { image: "{{ artifact.ref }}", weight: "{{ step.weight }}" }
      wait: { url: "{{ vars.api }}/d/{{ response.id }}", success: '.state == "ready"' }
      verify_digest: '.digest'
  metrics:
    prom: { type: prometheus, url: "http://127.0.0.1:9", timeout: 5s }
environments:
  - name: staging
    deploy: platform
  - name: production
    deploy: platform
    approval: { approvers: ["a@b.io"], min: 1 }
    freeze: [ { from: "2026-12-20T00:00:00Z", to: "2027-01-04T00:00:00Z" } ]
    steps:
      - deploy: { weight: 10 }
      - analysis: health
      - pause: 1m
      - deploy: {}
analyses:
  health:
    interval: 30s
    count: 2
    metrics:
      - name: errors
        provider: prom
        query: 'rate(errors{version="{{ release.version }}"}[1m])'
        max: 0.01
"#;

/// What every rejection must look like: at least one problem, each with a message
/// that says something on one line, at a real position no further than the file goes.
fn assert_clear(d: &Diagnostics, input: &[u8]) {
    assert!(!d.list.is_empty(), "a rejection without a problem");
    let lines = input.split(|b| *b == b'\n').count();
    for problem in &d.list {
        let message = problem.message.trim();
        assert!(!message.is_empty(), "an empty message in {d:?}");
        assert!(
            !problem.message.contains('\n'),
            "a message over several lines: {:?}",
            problem.message
        );
        let pos = problem.pos.expect("every problem has a position");
        assert!(pos.line >= 1 && pos.col >= 1, "position {pos:?}");
        assert!(pos.line <= lines + 1, "line {} of {lines}", pos.line);
    }
}

fn check_parse(input: &[u8]) {
    if let Err(d) = parse(Path::new("release.yaml"), input) {
        assert_clear(&d, input);
    }
}

/// Pieces of YAML and of plans, to build inputs that get past the parser.
fn yaml_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("version: 1\n".to_string()),
        Just("app: checkout\n".to_string()),
        Just("environments:\n".to_string()),
        Just("  - name: dev\n".to_string()),
        Just("    deploy: platform\n".to_string()),
        Just("    steps:\n".to_string()),
        Just("      - deploy: { weight: 10 }\n".to_string()),
        Just("providers: {}\n".to_string()),
        Just("analyses: {}\n".to_string()),
        Just("\n".to_string()),
        Just("  ".to_string()),
        Just("\t".to_string()),
        Just("- ".to_string()),
        Just(": ".to_string()),
        Just("? ".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just(", ".to_string()),
        Just("&a ".to_string()),
        Just("*a".to_string()),
        Just("!!str ".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("# c\n".to_string()),
        Just("---\n".to_string()),
        Just("|\n  x\n".to_string()),
        Just("{{ app }}".to_string()),
        Just("{{".to_string()),
        Just("~".to_string()),
        Just(".inf".to_string()),
        Just("-1".to_string()),
        Just("1e999".to_string()),
        Just("0x1F".to_string()),
        Just("30s".to_string()),
        "[a-z_]{1,8}",
        "\\PC{0,6}",
    ]
}

/// One edit to a valid plan.
#[derive(Debug, Clone)]
pub(crate) enum Mutation {
    /// Delete bytes from `at` (a fraction of the length) for `len` bytes.
    Delete { at: f64, len: usize },
    /// Insert text at `at`.
    Insert { at: f64, text: String },
    /// Replace line `a` with a copy of line `b` (fractions of the line count).
    CopyLine { a: f64, b: f64 },
    /// Swap two lines.
    Swap { a: f64, b: f64 },
    /// Indent a line by more, or by less.
    Indent { line: f64, more: bool },
    /// Cut the file at `at`.
    Truncate { at: f64 },
}

pub(crate) fn mutation() -> impl Strategy<Value = Mutation> {
    let at = 0.0..1.0f64;
    prop_oneof![
        (at.clone(), 1..40usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (at.clone(), yaml_piece()).prop_map(|(at, text)| Mutation::Insert { at, text }),
        (at.clone(), at.clone()).prop_map(|(a, b)| Mutation::CopyLine { a, b }),
        (at.clone(), at.clone()).prop_map(|(a, b)| Mutation::Swap { a, b }),
        (at.clone(), any::<bool>()).prop_map(|(line, more)| Mutation::Indent { line, more }),
        at.prop_map(|at| Mutation::Truncate { at }),
    ]
}

fn index(fraction: f64, len: usize) -> usize {
    ((fraction * len as f64) as usize).min(len.saturating_sub(1))
}

pub(crate) fn apply(text: &str, m: &Mutation) -> String {
    let bytes = text.as_bytes();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let joined = |lines: Vec<String>| lines.join("\n") + "\n";
    let by_line = matches!(
        m,
        Mutation::CopyLine { .. } | Mutation::Swap { .. } | Mutation::Indent { .. }
    );
    if by_line && lines.is_empty() {
        // An earlier mutation left no line to work on.
        return text.to_string();
    }
    match m {
        Mutation::Delete { at, len } => {
            let start = index(*at, bytes.len());
            let end = (start + len).min(bytes.len());
            let mut out = bytes[..start].to_vec();
            out.extend_from_slice(&bytes[end..]);
            String::from_utf8_lossy(&out).into_owned()
        }
        Mutation::Insert { at, text: piece } => {
            let mut i = index(*at, text.len());
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            format!("{}{piece}{}", &text[..i], &text[i..])
        }
        Mutation::CopyLine { a, b } => {
            let (a, b) = (index(*a, lines.len()), index(*b, lines.len()));
            lines[a] = lines[b].clone();
            joined(lines)
        }
        Mutation::Swap { a, b } => {
            let (a, b) = (index(*a, lines.len()), index(*b, lines.len()));
            lines.swap(a, b);
            joined(lines)
        }
        Mutation::Indent { line, more } => {
            let i = index(*line, lines.len());
            lines[i] = if *more {
                format!("  {}", lines[i])
            } else {
                lines[i].trim_start().to_string()
            };
            joined(lines)
        }
        Mutation::Truncate { at } => {
            let mut i = index(*at, text.len());
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            text[..i].to_string()
        }
    }
}

#[test]
fn the_bases_are_valid() {
    for base in [SMALL, EXAMPLE] {
        if let Err(d) = parse(Path::new("release.yaml"), base.as_bytes()) {
            panic!("{d}");
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        check_parse(&bytes);
    }

    #[test]
    fn yaml_shaped_input_is_accepted_or_refused_clearly(
        pieces in proptest::collection::vec(yaml_piece(), 0..40)
    ) {
        check_parse(pieces.concat().as_bytes());
    }

    #[test]
    fn mutated_valid_plans_are_accepted_or_refused_clearly(
        example in any::<bool>(),
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let mut text = if example { EXAMPLE } else { SMALL }.to_string();
        for m in &mutations {
            text = apply(&text, m);
        }
        check_parse(text.as_bytes());
    }
}

fn text(raw: &str) -> Text {
    Text {
        raw: raw.to_string(),
        pos: Pos { line: 1, col: 1 },
    }
}

/// What a step's templates can see, with real values.
fn context() -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(context_json()))
}

fn context_json() -> serde_json::Value {
    serde_json::json!({
        "app": "checkout",
        "vars": { "api": "http://127.0.0.1:1" },
        "secret": { "TOKEN": "s3cr3t" },
        "env": { "name": "production" },
        "release": { "id": "checkout-4f2a9c1be0d3", "version": "1.4.2" },
        "artifact": { "ref": "a@sha256:00", "name": "a", "digest": "sha256:00" },
        "step": { "index": 0, "weight": 10 },
        "baseline": null,
        "response": { "id": "d-1", "state": "ready" },
    })
}

/// `context()` with every `secret.*` the template names set, as a run sets them (any
/// name is a secret the plan may read from the environment), and with something live
/// before (without it, `baseline` is none and its fields are undefined, as docs/plan.md
/// says).
fn context_for(raw: &str) -> minijinja::Value {
    let mut ctx = context_json();
    ctx["baseline"] = serde_json::json!({
        "id": "checkout-0123456789ab",
        "version": "1.4.1",
        "digest": "sha256:01",
    });
    let names = minijinja::Environment::new()
        .template_from_str(raw)
        .map(|t| t.undeclared_variables(true))
        .unwrap_or_default();
    for name in names {
        if let Some(secret) = name.strip_prefix("secret.") {
            let key = secret.split('.').next().unwrap_or(secret);
            ctx["secret"][key] = serde_json::json!("s3cr3t");
        }
    }
    minijinja::Value::from(minijinja::value::Serde(ctx))
}

/// Pieces of templates: syntax, names a plan has (and some it has not), filters.
fn template_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{{ ".to_string()),
        Just(" }}".to_string()),
        Just("{% ".to_string()),
        Just(" %}".to_string()),
        Just("{# ".to_string()),
        Just(" #}".to_string()),
        Just("app".to_string()),
        Just("vars.api".to_string()),
        Just("vars.nope".to_string()),
        Just("env.name".to_string()),
        Just("secret.TOKEN".to_string()),
        Just("response.id".to_string()),
        Just("release.version".to_string()),
        Just("step.weight".to_string()),
        Just("baseline.id".to_string()),
        Just("nothing.here".to_string()),
        Just(" | upper".to_string()),
        Just(" | default('x')".to_string()),
        Just(" ~ ".to_string()),
        Just(" + 1".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("'q'".to_string()),
        Just("if app".to_string()),
        Just("else".to_string()),
        Just("endif".to_string()),
        Just("for x in [1, 2]".to_string()),
        Just("endfor".to_string()),
        Just("set y = 2".to_string()),
        Just("raw".to_string()),
        Just("endraw".to_string()),
        "[a-z.]{1,6}",
        "\\PC{0,4}",
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn templates_are_checked_and_rendered_without_panic(
        raw in prop_oneof![
            "\\PC{0,80}",
            proptest::collection::vec(template_piece(), 0..12).prop_map(|p| p.concat()),
        ],
        response in any::<bool>(),
    ) {
        let vars = BTreeMap::from([("api".to_string(), "x".to_string())]);
        let scope = if response { Scope::Response } else { Scope::Step };
        for problem in template::check(&text(&raw), scope, &vars) {
            prop_assert!(!problem.trim().is_empty());
        }
        let ctx = context();
        if let Err(e) = template::render(&text(&raw), template::Landing::Url, &ctx) {
            prop_assert!(e.starts_with("cannot render `"), "{e}");
        }
        let body = Body::Map(vec![("k".into(), Body::Text(text(&raw)))]);
        if let Err(e) = template::render_body(&body, &ctx) {
            prop_assert!(e.starts_with("cannot render `"), "{e}");
        }
    }

    #[test]
    fn a_template_that_checks_clean_only_names_what_a_plan_provides(
        pieces in proptest::collection::vec(template_piece(), 0..12),
    ) {
        // Whatever checks clean in the step scope renders, or fails for a reason
        // other than an undefined name (a type error such as `'q' + 1`).
        let raw = pieces.concat();
        let vars = BTreeMap::from([("api".to_string(), "x".to_string())]);
        if template::check(&text(&raw), Scope::Step, &vars).is_empty()
            && let Err(e) = template::render(&text(&raw), template::Landing::Query, &context_for(&raw))
        {
            prop_assert!(!e.contains("undefined"), "{raw}: {e}");
        }
    }
}

/// Pieces of jq from which no expression can run forever or grow without bound
/// (no `recurse`, `repeat`, `range`, `limit`, `while`, `until`, `def`).
fn jq_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(".".to_string()),
        Just(".a".to_string()),
        Just(".b".to_string()),
        Just("[]".to_string()),
        Just(" | ".to_string()),
        Just(", ".to_string()),
        Just(" == ".to_string()),
        Just(" != ".to_string()),
        Just(" < ".to_string()),
        Just(" and ".to_string()),
        Just(" or ".to_string()),
        Just("not".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just(":".to_string()),
        Just("\"x\"".to_string()),
        Just("1".to_string()),
        Just("2".to_string()),
        Just("null".to_string()),
        Just("true".to_string()),
        Just("length".to_string()),
        Just("keys".to_string()),
        Just("select(".to_string()),
        Just("map(".to_string()),
        Just("tostring".to_string()),
        Just("tonumber".to_string()),
        Just("type".to_string()),
        Just("?".to_string()),
        Just(" // ".to_string()),
        Just(" + ".to_string()),
        Just(" - ".to_string()),
        Just(" * ".to_string()),
        Just(" / ".to_string()),
        Just(" % ".to_string()),
        Just("..".to_string()),
        Just("error".to_string()),
        Just("if ".to_string()),
        Just(" then ".to_string()),
        Just(" else ".to_string()),
        Just(" end".to_string()),
        Just(" as $x | ".to_string()),
        Just("$x".to_string()),
        Just("test(\"a\")".to_string()),
    ]
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        (-1e6..1e6f64).prop_map(|f| serde_json::json!(f)),
        "\\PC{0,8}".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map("[ab]", inner, 0..3)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_jq_is_compiled_or_refused_clearly(code in "\\PC{0,120}") {
        if let Err(e) = jq::check(&code) {
            prop_assert!(e.starts_with("invalid jq expression `"), "{e}");
        }
    }

    #[test]
    fn jq_runs_on_any_json_without_panic(
        pieces in proptest::collection::vec(jq_piece(), 1..14),
        input in json_value(),
    ) {
        let code = pieces.concat();
        if jq::check(&code).is_err() {
            return Ok(());
        }
        for result in [
            jq::eval(&code, &input).map(|_| ()),
            jq::eval_bool(&code, &input).map(|_| ()),
            jq::eval_number(&code, &input).map(|_| ()),
            jq::eval_string(&code, &input).map(|_| ()),
        ] {
            if let Err(e) = result {
                prop_assert!(!e.trim().is_empty());
                prop_assert!(e.contains(&code), "`{code}` not named in: {e}");
            }
        }
    }

    #[test]
    fn a_field_comparison_holds_for_any_name_and_value(
        name in "\\PC{0,12}",
        value in "\\PC{0,12}",
    ) {
        // The way a plan compares a field with a text, whatever they hold.
        let code = format!(
            ".[{}] == {}",
            serde_json::Value::String(name.clone()),
            serde_json::Value::String(value.clone())
        );
        let mut doc = serde_json::Map::new();
        doc.insert(name, serde_json::Value::String(value));
        let doc = serde_json::Value::Object(doc);
        prop_assert_eq!(jq::eval_bool(&code, &doc), Ok(true));
        prop_assert_eq!(jq::eval_bool(&code, &serde_json::json!({})), Ok(false));
    }
}
