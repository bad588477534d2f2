//! jq expressions (`success`, `failure`, `verify_digest`, `value`), compiled and run with jaq.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data, unwrap_valr};
use jaq_json::Val;

type Filter = jaq_core::Filter<data::JustLut<Val>>;

/// jaq's parser and evaluator recurse once per level of nesting, so an expression
/// nested a thousand levels deep (`((((…`, `----…1`) overflows the stack and aborts the
/// process. Expressions are bounded before they are parsed; real ones are far inside.
const MAX_BYTES: usize = 1024;
const MAX_DEPTH: usize = 64;

fn bounded(code: &str) -> Result<(), String> {
    let refuse = |why: String| {
        let shown = crate::providers::secrets::head(code, 60);
        Err(format!("invalid jq expression `{shown}`: {why}"))
    };
    if code.len() > MAX_BYTES {
        return refuse(format!(
            "it is {} bytes long; jq expressions are limited to {MAX_BYTES}",
            code.len()
        ));
    }
    // Brackets, and runs of prefix minus, outside string literals.
    let (mut depth, mut deepest, mut minus) = (0usize, 0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for c in code.chars() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        minus = match c {
            '-' => minus + 1,
            c if c.is_whitespace() => minus,
            _ => 0,
        };
        deepest = deepest.max(depth + minus);
    }
    if deepest > MAX_DEPTH {
        return refuse(format!("it nests deeper than {MAX_DEPTH} levels"));
    }
    Ok(())
}

/// Compiled expressions, by their text: compiled when first checked or run (a command
/// that runs none, a rollback up to its deploy call or `status`, compiles none), and
/// each deploy's wait, digest check and measurement runs one again, so compiling (most
/// of it jaq's standard library, about half a millisecond) happens once per expression
/// and thread. Errors are not kept: they are compiled again, to be reported again.
fn compiled(code: &str) -> Result<Rc<Filter>, String> {
    thread_local! {
        static COMPILED: RefCell<HashMap<String, Rc<Filter>>> = RefCell::new(HashMap::new());
    }
    if let Some(filter) = COMPILED.with_borrow(|kept| kept.get(code).cloned()) {
        return Ok(filter);
    }
    let filter = Rc::new(compile(code)?);
    COMPILED.with_borrow_mut(|kept| {
        // Plans hold a handful; a bound keeps a long process from keeping every one.
        if kept.len() >= COMPILED_KEPT {
            kept.clear();
        }
        kept.insert(code.to_string(), filter.clone());
    });
    Ok(filter)
}

const COMPILED_KEPT: usize = 256;

/// jaq's standard definitions, parsed once per thread: parsing their source again for
/// every expression was half of compiling one (jaq hands them out as source text).
fn prelude() -> Vec<jaq_core::load::parse::Def<&'static str>> {
    thread_local! {
        static PRELUDE: Vec<jaq_core::load::parse::Def<&'static str>> = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs())
            .collect();
    }
    PRELUDE.with(Vec::clone)
}

fn compile(code: &str) -> Result<Filter, String> {
    bounded(code)?;
    let defs = prelude();
    let funs = jaq_core::funs()
        .chain(jaq_std::funs())
        .chain(jaq_json::funs());
    let arena = Arena::default();
    let modules = Loader::new(defs)
        .load(&arena, File { code, path: () })
        .map_err(|errs| describe_load(code, errs))?;
    Compiler::default()
        .with_funs(funs)
        .compile(modules)
        .map_err(|errs| {
            let names: Vec<String> = errs
                .into_iter()
                .flat_map(|(_, list)| list)
                .map(|(name, undefined)| format!("undefined {} `{name}`", undefined.as_str()))
                .collect();
            format!("invalid jq expression `{code}`: {}", names.join(", "))
        })
}

fn describe_load(code: &str, errs: jaq_core::load::Errors<&str, ()>) -> String {
    use jaq_core::load::Error;
    let offset = |s: &str| (s.as_ptr() as usize).saturating_sub(code.as_ptr() as usize) + 1;
    let mut problems = Vec::new();
    for (_, err) in errs {
        match err {
            Error::Io(list) => problems.extend(list.into_iter().map(|(_, msg)| msg)),
            Error::Lex(list) => problems.extend(list.into_iter().map(|(expect, at)| {
                format!("expected {} at character {}", expect.as_str(), offset(at))
            })),
            Error::Parse(list) => problems.extend(list.into_iter().map(|(expect, at)| {
                format!("expected {} at character {}", expect.as_str(), offset(at))
            })),
        }
    }
    format!("invalid jq expression `{code}`: {}", problems.join("; "))
}

/// Checks that an expression compiles.
pub fn check(code: &str) -> Result<(), String> {
    compiled(code).map(|_| ())
}

/// Checks that an expression parses, without compiling it: a syntax error is reported
/// as `check` reports it, a filter jaq does not define only when it is compiled. A few
/// microseconds, where compiling is about a thousand times that.
pub fn check_syntax(code: &str) -> Result<(), String> {
    bounded(code)?;
    let arena = Arena::default();
    Loader::new(std::iter::empty())
        .load(&arena, File { code, path: () })
        .map(|_| ())
        .map_err(|errs| describe_load(code, errs))
}

/// Runs an expression on a JSON value and returns every output.
pub fn eval(code: &str, input: &serde_json::Value) -> Result<Vec<serde_json::Value>, String> {
    let filter = compiled(code)?;
    let input = jaq_json::read::parse_single(input.to_string().as_bytes())
        .map_err(|e| format!("cannot read the input of `{code}`: {e:?}"))?;
    let ctx = Ctx::<data::JustLut<Val>>::new(&filter.lut, Vars::new([]));
    filter
        .id
        .run((ctx, input))
        .map(unwrap_valr)
        .map(|out| match out {
            Ok(val) => serde_json::from_str(&val.to_string())
                .map_err(|e| format!("`{code}` gave a value that is not JSON: {e}")),
            Err(e) => Err(format!("`{code}` failed: {e}")),
        })
        .collect()
}

/// Runs an expression that must give exactly one boolean (`success`, `failure`).
pub fn eval_bool(code: &str, input: &serde_json::Value) -> Result<bool, String> {
    match eval(code, input)?.as_slice() {
        [serde_json::Value::Bool(b)] => Ok(*b),
        [serde_json::Value::Null] | [] => Ok(false),
        other => Err(format!(
            "`{code}` must give true or false, it gave {}",
            show(other)
        )),
    }
}

/// Runs an expression that must give exactly one number (a metric's `value`).
pub fn eval_number(code: &str, input: &serde_json::Value) -> Result<Option<f64>, String> {
    match eval(code, input)?.as_slice() {
        [serde_json::Value::Number(n)] => Ok(n.as_f64()),
        [serde_json::Value::String(s)] if s.trim().parse::<f64>().is_ok() => {
            Ok(s.trim().parse().ok())
        }
        [serde_json::Value::Null] | [] => Ok(None),
        other => Err(format!(
            "`{code}` must give a number, it gave {}",
            show(other)
        )),
    }
}

/// Runs an expression that must give one string (`verify_digest`).
pub fn eval_string(code: &str, input: &serde_json::Value) -> Result<String, String> {
    match eval(code, input)?.as_slice() {
        [serde_json::Value::String(s)] => Ok(s.clone()),
        other => Err(format!(
            "`{code}` must give a string, it gave {}",
            show(other)
        )),
    }
}

fn show(values: &[serde_json::Value]) -> String {
    match values {
        [] => "nothing".into(),
        [one] => one.to_string(),
        many => format!("{} values", many.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compiles_and_runs() {
        assert!(check(r#".state == "ready""#).is_ok());
        assert!(check(".a | length > 2 and (.b | test(\"x\"))").is_ok());
        assert!(check(".state ==").is_err());
        assert!(check("nosuchfn(1)").unwrap_err().contains("undefined"));
        let doc = json!({"state": "ready", "rate": 0.5, "digest": "sha256:ab"});
        assert_eq!(eval_bool(r#".state == "ready""#, &doc), Ok(true));
        assert_eq!(eval_number(".rate", &doc), Ok(Some(0.5)));
        assert_eq!(eval_number(".missing", &doc), Ok(None));
        assert!(eval_number(".state", &doc).is_err());
        assert_eq!(eval_string(".digest", &doc).as_deref(), Ok("sha256:ab"));
        assert!(eval("error(\"boom\")", &doc).is_err());
    }

    #[test]
    fn an_expression_is_compiled_once_and_an_error_every_time() {
        let first = compiled(".x == 1").expect("compiles");
        let again = compiled(".x == 1").expect("compiles");
        assert!(Rc::ptr_eq(&first, &again));
        assert_eq!(eval_bool(".x == 1", &json!({"x": 1})), Ok(true));
        assert!(check(".x ==").is_err());
        assert!(check(".x ==").is_err());
    }

    #[test]
    fn parsing_alone_finds_what_compiling_finds_but_unknown_filters() {
        for code in [".state ==", "[.a", ".a | )", "\"open"] {
            assert_eq!(check_syntax(code), check(code), "{code}");
            assert!(check_syntax(code).is_err(), "{code}");
        }
        assert!(check_syntax(r#".state == "ready" and (.digest | test("sha"))"#).is_ok());
        assert!(check_syntax("nosuchfn(1)").is_ok());
        assert!(check("nosuchfn(1)").is_err());
        let deep = format!("{}.a{}", "(".repeat(100), ")".repeat(100));
        assert_eq!(check_syntax(&deep), check(&deep));
    }

    #[test]
    fn refuses_expressions_deep_enough_to_overflow_the_stack() {
        let deep = format!("{}.a{}", "(".repeat(2000), ")".repeat(2000));
        let err = check(&deep).unwrap_err();
        assert!(err.contains("limited to 1024"), "{err}");
        let deep = format!("{}.a{}", "(".repeat(100), ")".repeat(100));
        assert!(
            check(&deep)
                .unwrap_err()
                .contains("nests deeper than 64 levels")
        );
        let negated = format!("{}1", "-".repeat(500));
        assert!(check(&negated).unwrap_err().contains("nests deeper"));
        let err = eval(&negated, &json!(null)).unwrap_err();
        assert!(err.contains("nests deeper"), "{err}");
        // Brackets inside strings are text, and real expressions pass.
        assert!(check(&format!("\"{}\" | length", "(".repeat(200))).is_ok());
        assert!(check("[.items[] | select(.a - -1 > 0)] | length").is_ok());
    }
}
