//! Checks across the whole plan: names that refer to each other, templates (strict:
//! every name must exist), jq expressions, and rules an environment's steps must keep.

use std::collections::HashSet;

use super::diag::{Diagnostics, did_you_mean};
use super::jq;
use super::template::{self, Scope};
use super::types::*;

pub fn plan(plan: &Plan, d: &mut Diagnostics) {
    let mut seen = HashSet::new();
    for env in &plan.environments {
        if !seen.insert(env.name.as_str()) {
            d.at(
                env.pos,
                format!("environment `{}` is defined twice", env.name),
            );
        }
        environment(plan, env, d);
    }
    if plan.environments.is_empty() {
        d.at(Pos { line: 1, col: 1 }, "the plan defines no environments");
    }
    let tpl = |t: &Text, scope: Scope, d: &mut Diagnostics| {
        for problem in template::check(t, scope, &plan.vars) {
            d.at(t.pos, problem);
        }
    };
    for provider in plan.deploy_providers.values() {
        match provider {
            DeployProvider::Http(http) => {
                request(&http.request, &tpl, d);
                if let Some(wait) = &http.wait {
                    tpl(&wait.url, Scope::Response, d);
                    for (_, v) in &wait.headers {
                        tpl(v, Scope::Response, d);
                    }
                    jq_expr(&wait.success, d);
                    if let Some(f) = &wait.failure {
                        jq_expr(f, d);
                    }
                }
                if let Some(v) = &http.verify_digest {
                    jq_expr(v, d);
                }
            }
            DeployProvider::Exec(exec) => exec_templates(exec, &tpl, d),
        }
    }
    for provider in plan.metrics_providers.values() {
        match provider {
            MetricsProvider::Prometheus { url, auth, .. } => {
                tpl(url, Scope::Step, d);
                match auth {
                    Some(Auth::Bearer(t)) => tpl(t, Scope::Step, d),
                    Some(Auth::Basic { username, password }) => {
                        tpl(username, Scope::Step, d);
                        tpl(password, Scope::Step, d);
                    }
                    None => {}
                }
            }
            MetricsProvider::Http { request: r, value } => {
                request(r, &tpl, d);
                jq_expr(value, d);
            }
        }
    }
    for analysis in plan.analyses.values() {
        for metric in &analysis.metrics {
            let provider = plan.metrics_providers.get(&metric.provider.raw);
            if provider.is_none() {
                unknown(
                    d,
                    &metric.provider,
                    "metrics provider",
                    plan.metrics_providers.keys(),
                );
            }
            if let Some(q) = &metric.query {
                tpl(q, Scope::Step, d);
            }
            if let Some(c) = &metric.compare {
                tpl(&c.canary, Scope::Step, d);
                tpl(&c.baseline, Scope::Step, d);
            }
            match provider {
                Some(MetricsProvider::Prometheus { .. })
                    if metric.query.is_none() && metric.compare.is_none() =>
                {
                    d.at(
                        metric.provider.pos,
                        format!(
                            "metric `{}` reads Prometheus and needs a `query` or `compare`",
                            metric.name
                        ),
                    );
                }
                Some(MetricsProvider::Http { .. }) if metric.compare.is_some() => {
                    d.at(
                        metric.provider.pos,
                        format!(
                            "metric `{}`: `compare` needs a prometheus provider",
                            metric.name
                        ),
                    );
                }
                _ => {}
            }
        }
    }
    for hook in &plan.notify {
        tpl(&hook.url, Scope::Step, d);
        for (_, v) in &hook.headers {
            tpl(v, Scope::Step, d);
        }
    }
}

fn environment(plan: &Plan, env: &Environment, d: &mut Diagnostics) {
    if !plan.deploy_providers.contains_key(&env.deploy.raw) {
        unknown(
            d,
            &env.deploy,
            "deploy provider",
            plan.deploy_providers.keys(),
        );
    }
    let tpl = |t: &Text, d: &mut Diagnostics| {
        for problem in template::check(t, Scope::Step, &plan.vars) {
            d.at(t.pos, problem);
        }
    };
    let mut last_weight = None;
    for step in &env.steps {
        match &step.kind {
            StepKind::Deploy { weight } => last_weight = Some(weight.unwrap_or(100)),
            StepKind::Analysis(name) if !plan.analyses.contains_key(&name.raw) => {
                unknown(d, name, "analysis", plan.analyses.keys());
            }
            StepKind::Approval(None) if env.approval.is_none() => {
                d.at(step.pos, format!("an `approval` step needs approvers: give them here or in environment `{}`'s `approval`", env.name));
            }
            StepKind::Http(http) => {
                http_call(&http.call, &tpl, d);
                if let Some(undo) = &http.undo {
                    http_call(undo, &tpl, d);
                }
            }
            StepKind::Exec(exec) => {
                exec_templates(&exec.exec, &|t, _, d| tpl(t, d), d);
                if let Some(undo) = &exec.undo {
                    exec_templates(undo, &|t, _, d| tpl(t, d), d);
                }
            }
            _ => {}
        }
    }
    match last_weight {
        None => d.at(env.pos, format!("environment `{}` has no `deploy` step", env.name)),
        Some(w) if w < 100 => d.at(
            env.pos,
            format!("environment `{}` ends at weight {w}; its last `deploy` step must be at full weight", env.name),
        ),
        _ => {}
    }
}

fn http_call(call: &HttpCall, tpl: &dyn Fn(&Text, &mut Diagnostics), d: &mut Diagnostics) {
    request(&call.request, &|t, _, d| tpl(t, d), d);
    if let Some(s) = &call.success {
        jq_expr(s, d);
    }
}

fn request(r: &Request, tpl: &dyn Fn(&Text, Scope, &mut Diagnostics), d: &mut Diagnostics) {
    tpl(&r.url, Scope::Step, d);
    for (_, v) in &r.headers {
        tpl(v, Scope::Step, d);
    }
    if let Some(body) = &r.body {
        body_templates(body, tpl, d);
    }
}

fn body_templates(body: &Body, tpl: &dyn Fn(&Text, Scope, &mut Diagnostics), d: &mut Diagnostics) {
    match body {
        Body::Text(t) => tpl(t, Scope::Step, d),
        Body::List(items) => items.iter().for_each(|b| body_templates(b, tpl, d)),
        Body::Map(entries) => entries.iter().for_each(|(_, b)| body_templates(b, tpl, d)),
        Body::Null | Body::Bool(_) | Body::Number(_) => {}
    }
}

fn exec_templates(exec: &Exec, tpl: &dyn Fn(&Text, Scope, &mut Diagnostics), d: &mut Diagnostics) {
    for word in &exec.command {
        tpl(word, Scope::Step, d);
    }
    for (_, v) in &exec.env {
        tpl(v, Scope::Step, d);
    }
}

fn jq_expr(t: &Text, d: &mut Diagnostics) {
    if let Err(e) = jq::check(&t.raw) {
        d.at(t.pos, e);
    }
}

fn unknown<'a>(
    d: &mut Diagnostics,
    name: &Text,
    what: &str,
    defined: impl Iterator<Item = &'a String> + Clone,
) {
    let hint = match did_you_mean(&name.raw, defined.clone().map(String::as_str)) {
        Some(close) => format!(" (did you mean `{close}`?)"),
        None => {
            let names: Vec<&str> = defined.map(String::as_str).collect();
            if names.is_empty() {
                format!(" (the plan defines no {what})")
            } else {
                format!(" (defined: {})", names.join(", "))
            }
        }
    };
    d.at(name.pos, format!("unknown {what} `{}`{hint}", name.raw));
}
