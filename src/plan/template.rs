//! Templates (`{{ … }}`) with strict undefined names: checked against the names a
//! plan can use when it is validated, rendered with real values when it runs.
//!
//! Only the plan's own text is trusted. A value from outside it (a version, the
//! platform's answers) is escaped for where the template lands, so it cannot change
//! what a URL or a query means; trusted values come in marked safe (see
//! runner/context.rs), and `| raw` is the plan author's explicit way out.

use std::collections::BTreeMap;
use std::fmt::Write;

use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior};

use super::types::{Body, Text};

/// Where a template stands decides which names it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everything a step sees.
    Step,
    /// `wait` and `verify_digest` also see `response.*`, the deploy call's JSON answer.
    Response,
}

/// Where a rendered template lands: it decides how a value from outside the plan is
/// escaped there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Landing {
    /// Text that stays one value whatever it holds: a body leaf (JSON-encoded as a
    /// whole), an `exec` argument or variable, a password. Nothing to escape.
    Text,
    /// A URL: an outside value is percent-encoded as one path segment or query value.
    Url,
    /// A PromQL query: an outside value is escaped for a double-quoted string.
    Query,
}

impl Landing {
    fn name(self) -> &'static str {
        match self {
            Landing::Text => "text",
            Landing::Url => "url",
            Landing::Query => "promql",
        }
    }
}

fn environment(landing: Landing) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // A custom escape mode for every template: filters that build strings (`join`,
    // `replace`, `format`, `e`) then escape what they take in through the formatter
    // below too, rather than as HTML.
    env.set_auto_escape_callback(move |_| AutoEscape::Custom(landing.name().into()));
    env.set_formatter(move |out, _state, value| {
        let text = value.to_string();
        if value.is_safe() {
            return out.write_str(&text).map_err(Error::from);
        }
        let escaped = match landing {
            Landing::Text => text,
            Landing::Url => url_component(&text)?,
            Landing::Query => promql_string(&text),
        };
        out.write_str(&escaped).map_err(Error::from)
    });
    // One way out, named for what it does: `raw`. (`safe` would be a second one.)
    env.remove_filter("safe");
    env.add_filter("raw", |value: Value| {
        Value::from_safe_string(value.to_string())
    });
    env
}

/// A value as one URL path segment or query value: everything but the unreserved
/// characters (RFC 3986: letters, digits, `-._~`) percent-encoded, so it cannot add a
/// `/`, `?`, `&`, `#` or `%`. A value that is only `.` or `..` would still walk the
/// path (URL parsers treat `%2E%2E` as `..` too): refused.
fn url_component(value: &str) -> Result<String, Error> {
    if value == "." || value == ".." {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("`{value}` cannot stand in a URL: it would move along the path"),
        ));
    }
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    Ok(out)
}

/// A value as the inside of a PromQL double-quoted string (Go's escapes): a quote,
/// a backslash or a line break cannot end the string or the line.
fn promql_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// Every problem with one template: syntax, and names the plan cannot provide.
pub fn check(text: &Text, scope: Scope, vars: &BTreeMap<String, String>) -> Vec<String> {
    let env = environment(Landing::Text);
    let template = match env.template_from_str(&text.raw) {
        Ok(t) => t,
        Err(e) => {
            return vec![format!(
                "invalid template `{}`: {}",
                text.raw,
                e.detail().unwrap_or("syntax error")
            )];
        }
    };
    let mut names: Vec<String> = template.undeclared_variables(true).into_iter().collect();
    names.sort();
    let mut problems: Vec<String> = names
        .into_iter()
        .filter_map(|name| check_name(&name, scope, vars).err())
        .collect();
    // minijinja looks filters up only when it renders: say it now.
    let mut state = env.empty_state();
    for filter in filters_used(&text.raw) {
        let unknown = matches!(
            state.apply_filter(&filter, &[Value::from("")]),
            Err(e) if e.kind() == ErrorKind::UnknownFilter
        );
        if unknown {
            let hint = if filter == "safe" {
                " (`| raw` inserts a value as it is, unescaped)"
            } else {
                ""
            };
            problems.push(format!("unknown filter `{filter}` in template{hint}"));
        }
    }
    problems
}

/// A query's values from outside the plan are escaped as PromQL strings: that keeps
/// them data only inside a double-quoted string, so that is where they must stand.
pub fn check_query(text: &Text) -> Vec<String> {
    let env = environment(Landing::Query);
    let mut problems = Vec::new();
    let mut quote: Option<char> = None;
    let mut comment = false;
    for piece in pieces(&text.raw) {
        match piece {
            Piece::Text(literal) => {
                let mut chars = literal.chars();
                while let Some(c) = chars.next() {
                    match (comment, quote, c) {
                        (true, _, '\n') => comment = false,
                        (true, _, _) => {}
                        (false, Some(q), '\\') if q != '`' => {
                            chars.next();
                        }
                        (false, Some(q), c) if c == q => quote = None,
                        (false, Some(_), _) => {}
                        (false, None, '"' | '\'' | '`') => quote = Some(c),
                        (false, None, '#') => comment = true,
                        _ => {}
                    }
                }
            }
            Piece::Tag { open: '{', body } if quote != Some('"') && !comment => {
                let source = format!("{{{{{body}}}}}");
                let Ok(template) = env.template_from_str(&source) else {
                    continue;
                };
                let mut outside: Vec<String> = template
                    .undeclared_variables(true)
                    .into_iter()
                    .filter(|name| !is_trusted(name))
                    .collect();
                outside.sort();
                if !outside.is_empty() && !filters_in(body).iter().any(|f| f == "raw") {
                    problems.push(format!(
                        "`{}` stands outside a double-quoted string in a PromQL query: a value from outside the plan is escaped as a string there, so put it inside \"…\" (or write `| raw` to insert it as it is)",
                        source.trim()
                    ));
                }
            }
            Piece::Tag { .. } => {}
        }
    }
    problems
}

/// Names whose values come from the plan itself (`app`, `vars.*`, `env.name`, the
/// step's numbers) or from the operator (`secret.*`): templates render them as they
/// are. runner/context.rs marks their values so.
pub fn is_trusted(name: &str) -> bool {
    let head = name.split('.').next().unwrap_or(name);
    matches!(head, "app" | "vars" | "env" | "secret" | "step" | "target")
}

/// A piece of a template: literal text, or a tag (`{{ … }}`, `{% … %}`, `{# … #}`)
/// by its opening character and what stands between its delimiters.
enum Piece<'a> {
    Text(&'a str),
    Tag { open: char, body: &'a str },
}

fn pieces(raw: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = raw;
    while !rest.is_empty() {
        let found = rest.match_indices('{').find_map(|(at, _)| {
            let open = rest[at + 1..].chars().next()?;
            matches!(open, '{' | '%' | '#').then_some((at, open))
        });
        let Some((at, open)) = found else {
            out.push(Piece::Text(rest));
            break;
        };
        out.push(Piece::Text(&rest[..at]));
        let close = match open {
            '{' => "}}",
            '%' => "%}",
            _ => "#}",
        };
        let body = &rest[at + 2..];
        let end = if open == '#' {
            body.find(close)
        } else {
            outside_strings(body)
                .into_iter()
                .find(|(i, _)| body[*i..].starts_with(close))
                .map(|(i, _)| i)
        }
        .unwrap_or(body.len());
        out.push(Piece::Tag {
            open,
            body: &body[..end],
        });
        rest = body.get(end + close.len()..).unwrap_or("");
    }
    out
}

/// The characters of a tag's body that are not inside one of its string literals.
fn outside_strings(body: &str) -> Vec<(usize, char)> {
    let mut out = Vec::new();
    let mut quote: Option<char> = None;
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (Some(_), '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, c) => out.push((i, c)),
        }
    }
    out
}

/// The filters a tag's body applies: the name after each `|`.
fn filters_in(body: &str) -> Vec<String> {
    outside_strings(body)
        .into_iter()
        .filter(|(_, c)| *c == '|')
        .map(|(i, _)| {
            body[i + 1..]
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|name| !name.is_empty())
        .collect()
}

/// The filters a template applies, in `{{ … }}` and `{% … %}`.
fn filters_used(raw: &str) -> Vec<String> {
    pieces(raw)
        .into_iter()
        .filter_map(|piece| match piece {
            Piece::Tag {
                open: '{' | '%',
                body,
            } => Some(filters_in(body)),
            _ => None,
        })
        .flatten()
        .collect()
}

fn check_name(name: &str, scope: Scope, vars: &BTreeMap<String, String>) -> Result<(), String> {
    let (head, rest) = name.split_once('.').unwrap_or((name, ""));
    let fields: &[&str] = match head {
        "app" => &[],
        "vars" => {
            if rest.is_empty() || vars.contains_key(rest) {
                return Ok(());
            }
            let known: Vec<&str> = vars.keys().map(String::as_str).collect();
            let hint = match super::diag::did_you_mean(rest, known.iter().copied()) {
                Some(close) => format!(" (did you mean `vars.{close}`?)"),
                None if known.is_empty() => " (the plan defines no vars)".into(),
                None => format!(" (vars defines: {})", known.join(", ")),
            };
            return Err(format!("undefined name `{name}` in template{hint}"));
        }
        "secret" => {
            return match rest.split_once('.') {
                Some((key, _)) => Err(format!(
                    "undefined name `{name}` in template (`secret.{key}` is a string: it has no fields)"
                )),
                None => Ok(()),
            };
        }
        "env" => &["name"],
        // A target's vars differ from target to target and a provider serves many
        // environments: a `target.vars.*` no target defines fails when it is rendered.
        "target" if rest == "name" || rest == "vars" || rest.starts_with("vars.") => {
            return Ok(());
        }
        "target" => &["name", "vars"],
        "release" => &["id", "version"],
        "artifact" => &["ref", "name", "digest"],
        "step" => &["index", "weight"],
        "baseline" => &["id", "version", "digest"],
        "response" if scope == Scope::Response => return Ok(()),
        "response" => {
            return Err(format!(
                "`{name}` is only available in `wait` and `verify_digest`"
            ));
        }
        _ => {
            let tops = [
                "app", "vars", "secret", "env", "release", "artifact", "step", "baseline", "target",
            ];
            let hint = super::diag::did_you_mean(head, tops)
                .map(|c| format!(" (did you mean `{c}`?)"))
                .unwrap_or_default();
            return Err(format!("undefined name `{name}` in template{hint}"));
        }
    };
    let (field, deeper) = rest.split_once('.').unwrap_or((rest, ""));
    if fields.contains(&field) && !deeper.is_empty() {
        return Err(format!(
            "undefined name `{name}` in template (`{head}.{field}` is a value: it has no fields)"
        ));
    }
    if (fields.is_empty() && rest.is_empty())
        || fields.contains(&field)
        || (rest.is_empty() && !fields.is_empty())
    {
        Ok(())
    } else {
        let expected = if fields.is_empty() {
            format!("`{head}` has no fields")
        } else {
            format!("`{head}` has: {}", fields.join(", "))
        };
        Err(format!("undefined name `{name}` in template ({expected})"))
    }
}

/// Every secret the plan uses, read from the environment now (a missing one is an
/// error), and the credentials written into its URLs (`http://user:password@host`,
/// `http://TOKEN@host`), masked alike wherever a provider's text appears.
pub fn secrets(plan: &super::Plan) -> Result<crate::providers::Secrets, crate::error::Error> {
    let secrets = crate::providers::Secrets::from_env(secret_names(plan))?;
    let min = crate::providers::secrets::MIN_LEN;
    if url_texts(plan).any(|text| {
        crate::providers::secrets::url_userinfo(text.trim())
            .and_then(|(_, userinfo, _)| userinfo.split_once(':'))
            .is_some_and(|(_, password)| {
                let password = crate::providers::secrets::percent_decoded(password);
                !password.is_empty() && password.chars().count() < min
            })
            && crate::providers::secrets::url_credentials(text).is_some()
    }) {
        return Err(crate::error::Error::usage(format!(
            "a password written into a URL of the plan is shorter than {min} characters: relctl could not mask it safely"
        ))
        .with_hint("use a longer password, or keep it out of the URL: `{{ secret.NAME }}` in the provider's auth or headers"));
    }
    Ok(secrets.with("url credentials", url_credentials(plan)))
}

/// The text of the plan's templates and of its (and its targets') `vars`: where a URL
/// with credentials may be written.
fn url_texts(plan: &super::Plan) -> impl Iterator<Item = &str> {
    super::walk::templates(plan)
        .into_iter()
        .map(|(text, _)| text.raw.as_str())
        .chain(plan.vars.values().map(String::as_str))
        .chain(
            plan.environments
                .iter()
                .flat_map(|e| e.targets.iter().flat_map(|t| t.vars.values()))
                .map(String::as_str),
        )
}

/// The credentials in the plan's http(s) URLs: in any of its templates' text, and in its
/// `vars` (a URL kept there and used as `{{ vars.prom }}`); each as written and, when it
/// holds `%XX` escapes, as sent (decoded).
pub fn url_credentials(plan: &super::Plan) -> Vec<String> {
    let texts = url_texts(plan);
    let mut out: Vec<String> = texts
        .filter_map(crate::providers::secrets::url_credentials)
        .flat_map(|credential| {
            [
                credential.to_string(),
                crate::providers::secrets::percent_decoded(credential),
            ]
        })
        .filter(|credential| credential.chars().count() >= crate::providers::secrets::MIN_LEN)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The names of every `secret.*` the plan's templates use: all must be set before a run.
pub fn secret_names(plan: &super::Plan) -> std::collections::BTreeSet<String> {
    let env = environment(Landing::Text);
    super::walk::templates(plan)
        .into_iter()
        .filter_map(|(text, _)| {
            env.template_from_str(&text.raw)
                .ok()
                .map(|t| t.undeclared_variables(true))
        })
        .flatten()
        .filter_map(|name| {
            name.strip_prefix("secret.")
                .map(|s| s.split('.').next().unwrap_or(s).to_string())
        })
        .collect()
}

/// Renders a template to a string, escaping outside values for where it lands.
pub fn render(text: &Text, landing: Landing, ctx: &minijinja::Value) -> Result<String, String> {
    environment(landing)
        .render_str(&text.raw, ctx)
        .map_err(|e| {
            format!(
                "cannot render `{}`: {}",
                text.raw,
                describe(&e, &text.raw, ctx)
            )
        })
}

/// Renders the value of header `name`. No value, trusted or not, may bring a control
/// character into it: a line break would end the header and begin another.
pub fn render_header(name: &str, text: &Text, ctx: &minijinja::Value) -> Result<String, String> {
    let value = render(text, Landing::Text, ctx)?;
    match value.chars().enumerate().find(|(_, c)| c.is_control()) {
        None => Ok(value),
        Some((at, c)) => Err(format!(
            "header `{name}` may not carry control characters: rendered from `{}`, it has `{}` (U+{:04X}) at position {}",
            text.raw,
            c.escape_debug(),
            u32::from(c),
            at + 1
        )),
    }
}

/// Renders a body leaf by leaf into JSON. A leaf that is exactly one `{{ expr }}` keeps
/// the expression's type (a weight stays a number); any other leaf becomes a string.
pub fn render_body(body: &Body, ctx: &minijinja::Value) -> Result<serde_json::Value, String> {
    Ok(match body {
        Body::Null => serde_json::Value::Null,
        Body::Bool(b) => serde_json::Value::Bool(*b),
        Body::Number(n) => serde_json::Value::Number(n.clone()),
        Body::Text(text) => match single_expression(&text.raw) {
            Some(expr) => {
                let env = environment(Landing::Text);
                let value = env
                    .compile_expression(expr)
                    .and_then(|e| e.eval(ctx))
                    .map_err(|e| {
                        format!(
                            "cannot render `{}`: {}",
                            text.raw,
                            describe(&e, &text.raw, ctx)
                        )
                    })?;
                serde_json::to_value(&value)
                    .map_err(|e| format!("cannot render `{}`: {e}", text.raw))?
            }
            None => serde_json::Value::String(render(text, Landing::Text, ctx)?),
        },
        Body::List(items) => serde_json::Value::Array(
            items
                .iter()
                .map(|i| render_body(i, ctx))
                .collect::<Result<_, _>>()?,
        ),
        Body::Map(entries) => serde_json::Value::Object(
            entries
                .iter()
                .map(|(k, v)| Ok((k.clone(), render_body(v, ctx)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

fn single_expression(raw: &str) -> Option<&str> {
    let inner = raw.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    (!inner.contains("{{") && !inner.contains("}}")).then_some(inner.trim())
}

/// Why `raw` did not render: for an undefined name, which one (`target.vars.cluster`
/// that a target does not define, say).
fn describe(err: &minijinja::Error, raw: &str, ctx: &minijinja::Value) -> String {
    match err.kind() {
        minijinja::ErrorKind::UndefinedError => match undefined_name(raw, ctx) {
            Some(name) => format!("undefined name `{name}`"),
            None => "a name in it is undefined".into(),
        },
        _ => err
            .detail()
            .map_or_else(|| err.kind().to_string(), str::to_string),
    }
}

/// The first name `raw` uses that `ctx` does not define, field by field.
fn undefined_name(raw: &str, ctx: &minijinja::Value) -> Option<String> {
    let env = environment(Landing::Text);
    let names = match env.template_from_str(raw) {
        Ok(template) => template.undeclared_variables(true),
        // A single expression (a body leaf), as a template.
        Err(_) => return None,
    };
    let mut names: Vec<String> = names.into_iter().collect();
    names.sort();
    names.into_iter().find(|name| {
        let mut value = ctx.clone();
        name.split('.').any(|field| {
            value = value.get_attr(field).unwrap_or(minijinja::Value::UNDEFINED);
            value.is_undefined()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::yaml::Pos;

    fn text(raw: &str) -> Text {
        Text {
            raw: raw.into(),
            pos: Pos::default(),
        }
    }

    #[test]
    fn checks_names_by_scope() {
        let vars = BTreeMap::from([("api".to_string(), "x".to_string())]);
        assert!(
            check(
                &text("{{ vars.api }}/{{ app }}/{{ env.name }}/{{ secret.TOKEN }}"),
                Scope::Step,
                &vars
            )
            .is_empty()
        );
        assert!(check(&text("{{ response.id }}"), Scope::Response, &vars).is_empty());
        let errs = check(&text("{{ response.id }}"), Scope::Step, &vars);
        assert!(errs[0].contains("only available"), "{errs:?}");
        let errs = check(&text("{{ vars.apu }}"), Scope::Step, &vars);
        assert!(errs[0].contains("did you mean `vars.api`"), "{errs:?}");
        let errs = check(&text("{{ env.nmae }}"), Scope::Step, &vars);
        assert!(errs[0].contains("`env` has: name"), "{errs:?}");
        assert!(!check(&text("{{ relase.id }}"), Scope::Step, &vars).is_empty());
        // A value has no fields: found when the plan is checked, not when it renders.
        let errs = check(&text("{{ secret.TOKEN.a }}"), Scope::Step, &vars);
        assert!(errs[0].contains("`secret.TOKEN` is a string"), "{errs:?}");
        let errs = check(&text("{{ env.name.x }}"), Scope::Step, &vars);
        assert!(errs[0].contains("`env.name` is a value"), "{errs:?}");
        assert!(check(&text("{{ app "), Scope::Step, &vars)[0].contains("invalid template"));
        let errs = check(
            &text("{{ app | safe }}/{{ app | raw | upper }}"),
            Scope::Step,
            &vars,
        );
        assert_eq!(
            errs,
            ["unknown filter `safe` in template (`| raw` inserts a value as it is, unescaped)"]
        );
        let errs = check(
            &text("{{ 'a|b' | uper }}{% if app|lower %}{% endif %}"),
            Scope::Step,
            &vars,
        );
        assert_eq!(errs, ["unknown filter `uper` in template"]);
    }

    #[test]
    fn body_leaves_keep_their_type_and_cannot_break_shape() {
        let ctx = minijinja::context! { step => minijinja::context! { weight => 50 }, name => "a\"}, \"x\": {" };
        let body = Body::Map(vec![
            ("weight".into(), Body::Text(text("{{ step.weight }}"))),
            ("label".into(), Body::Text(text("w={{ step.weight }}"))),
            ("evil".into(), Body::Text(text("{{ name }}"))),
        ]);
        let json = render_body(&body, &ctx).unwrap();
        assert_eq!(json["weight"], serde_json::json!(50));
        assert_eq!(json["label"], serde_json::json!("w=50"));
        assert_eq!(json["evil"], serde_json::json!("a\"}, \"x\": {"));
        assert_eq!(json.as_object().unwrap().len(), 3);
        assert!(render(&text("{{ nothing.here }}"), Landing::Text, &ctx).is_err());
    }

    /// A context like a run's: `vars.*` trusted (safe), the rest from outside.
    fn outside(version: &str, id: &str) -> minijinja::Value {
        let trusted = |s: &str| Value::from_safe_string(s.to_string());
        minijinja::context! {
            vars => minijinja::context! { api => trusted("http://platform/v1?x=\"a b\"") },
            release => minijinja::context! { version => version },
            response => minijinja::context! { id => id },
        }
    }

    #[test]
    fn outside_values_are_percent_encoded_in_urls_and_the_plans_text_is_not() {
        let ctx = outside("1.0", "../../admin?x=1&y=2#z");
        let url = render(
            &text("{{ vars.api }}/d/{{ response.id }}"),
            Landing::Url,
            &ctx,
        );
        assert_eq!(
            url.unwrap(),
            "http://platform/v1?x=\"a b\"/d/..%2F..%2Fadmin%3Fx%3D1%26y%3D2%23z"
        );
        let ctx = outside("1.0+build 5%", "é");
        let url = render(
            &text("/v/{{ release.version }}?id={{ response.id }}"),
            Landing::Url,
            &ctx,
        );
        assert_eq!(url.unwrap(), "/v/1.0%2Bbuild%205%25?id=%C3%A9");
        // A value that is only dots would still walk the path, encoded or not.
        let err = render(
            &text("/d/{{ response.id }}"),
            Landing::Url,
            &outside("1", ".."),
        );
        assert!(err.unwrap_err().contains("`..` cannot stand in a URL"));
        // The author's way out, explicit in the plan.
        let raw = render(
            &text("/d/{{ response.id | raw }}"),
            Landing::Url,
            &outside("1", "a/b"),
        );
        assert_eq!(raw.unwrap(), "/d/a/b");
    }

    #[test]
    fn outside_values_are_promql_strings_in_queries() {
        let crafted = "1\"}[1m])) * 0 or vector(0) #";
        let query = render(
            &text("sum(rate(x{version=\"{{ release.version }}\"}[1m]))"),
            Landing::Query,
            &outside(crafted, ""),
        );
        assert_eq!(
            query.unwrap(),
            "sum(rate(x{version=\"1\\\"}[1m])) * 0 or vector(0) #\"}[1m]))"
        );
        let query = render(
            &text("\"{{ release.version }}\""),
            Landing::Query,
            &outside("a\\\nb\r\t\u{1b}'", ""),
        );
        assert_eq!(query.unwrap(), "\"a\\\\\\nb\\r\\t\\u001b'\"");
        // Filters that build strings escape what they take in too.
        for t in [
            "{{ release.version | e }}",
            "{{ [release.version] | join(',') }}",
            "{{ release.version | upper }}",
        ] {
            let query = render(&text(t), Landing::Query, &outside("A\"B", "")).unwrap();
            assert!(query.eq_ignore_ascii_case("A\\\"B"), "{t}: {query}");
        }
        // `safe` is not a second way out.
        assert!(
            render(
                &text("{{ release.version | safe }}"),
                Landing::Query,
                &outside("a", "")
            )
            .is_err()
        );
    }

    #[test]
    fn a_header_may_not_carry_control_characters() {
        let ctx = outside("1", "x\r\nX-Admin: 1");
        let err = render_header("X-Deployment", &text("id {{ response.id }}"), &ctx).unwrap_err();
        assert!(
            err.starts_with("header `X-Deployment` may not carry control characters"),
            "{err}"
        );
        assert!(err.contains("`\\r` (U+000D) at position 5"), "{err}");
        let ok = render_header(
            "X-Deployment",
            &text("id {{ response.id }}"),
            &outside("1", "a \"b\""),
        );
        assert_eq!(ok.unwrap(), "id a \"b\"");
    }

    #[test]
    fn outside_values_in_a_query_must_stand_in_a_double_quoted_string() {
        let ok = [
            r#"sum(x{version="{{ release.version }}",job="{{ vars.api }}"}) # {{ baseline.id }}"#,
            r#"x{a="\"{{ baseline.version }}\""} offset {{ vars.api }}"#,
            r#"x{a='{{ vars.api }}'}[{{ step.weight }}m] and {{ response.id | raw }}"#,
        ];
        for q in ok {
            assert_eq!(check_query(&text(q)), Vec::<String>::new(), "{q}");
        }
        let errs = check_query(&text(
            "x{a='{{ release.version }}'} + x{b=~`{{ artifact.digest }}`} + {{ baseline.id ~ app }}",
        ));
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(
            errs[0].starts_with("`{{ release.version }}` stands outside a double-quoted string"),
            "{errs:?}"
        );
    }
}
