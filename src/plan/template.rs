//! Templates (`{{ … }}`) with strict undefined names: checked against the names a
//! plan can use when it is validated, rendered with real values when it runs.

use std::collections::BTreeMap;

use minijinja::{Environment, UndefinedBehavior};

use super::types::{Body, Text};

/// Where a template stands decides which names it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everything a step sees.
    Step,
    /// `wait` and `verify_digest` also see `response.*`, the deploy call's JSON answer.
    Response,
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env
}

/// Every problem with one template: syntax, and names the plan cannot provide.
pub fn check(text: &Text, scope: Scope, vars: &BTreeMap<String, String>) -> Vec<String> {
    let env = environment();
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
    names
        .into_iter()
        .filter_map(|name| check_name(&name, scope, vars).err())
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
        "secret" => return Ok(()),
        "env" => &["name"],
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
                "app", "vars", "secret", "env", "release", "artifact", "step", "baseline",
            ];
            let hint = super::diag::did_you_mean(head, tops)
                .map(|c| format!(" (did you mean `{c}`?)"))
                .unwrap_or_default();
            return Err(format!("undefined name `{name}` in template{hint}"));
        }
    };
    let field = rest.split('.').next().unwrap_or("");
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

/// The names of every `secret.*` the plan's templates use: all must be set before a run.
pub fn secret_names(plan: &super::Plan) -> std::collections::BTreeSet<String> {
    let env = environment();
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

/// Renders a template to a string.
pub fn render(text: &Text, ctx: &minijinja::Value) -> Result<String, String> {
    environment()
        .render_str(&text.raw, ctx)
        .map_err(|e| format!("cannot render `{}`: {}", text.raw, describe(&e)))
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
                let env = environment();
                let value = env
                    .compile_expression(expr)
                    .and_then(|e| e.eval(ctx))
                    .map_err(|e| format!("cannot render `{}`: {}", text.raw, describe(&e)))?;
                serde_json::to_value(&value)
                    .map_err(|e| format!("cannot render `{}`: {e}", text.raw))?
            }
            None => serde_json::Value::String(render(text, ctx)?),
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

fn describe(err: &minijinja::Error) -> String {
    match err.kind() {
        minijinja::ErrorKind::UndefinedError => "a name in it is undefined".into(),
        _ => err
            .detail()
            .map_or_else(|| err.kind().to_string(), str::to_string),
    }
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
        assert!(check(&text("{{ app "), Scope::Step, &vars)[0].contains("invalid template"));
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
        assert!(render(&text("{{ nothing.here }}"), &ctx).is_err());
    }
}
