//! Every template in a plan, with the scope it is rendered in: one walk serves both
//! validation (are its names defined?) and the run (which secrets must be set?).

use super::template::Scope;
use super::types::*;

pub fn templates(plan: &Plan) -> Vec<(&Text, Scope)> {
    let mut out = Vec::new();
    for provider in plan.deploy_providers.values() {
        match provider {
            DeployProvider::Http(http) => {
                request(&http.request, &mut out);
                if let Some(wait) = &http.wait {
                    out.push((&wait.url, Scope::Response));
                    out.extend(wait.headers.iter().map(|(_, v)| (v, Scope::Response)));
                }
            }
            DeployProvider::Exec(exec) => self::exec(exec, &mut out),
        }
    }
    for provider in plan.metrics_providers.values() {
        match provider {
            MetricsProvider::Prometheus { url, auth, .. } => {
                out.push((url, Scope::Step));
                match auth {
                    Some(Auth::Bearer(t)) => out.push((t, Scope::Step)),
                    Some(Auth::Basic { username, password }) => {
                        out.push((username, Scope::Step));
                        out.push((password, Scope::Step));
                    }
                    None => {}
                }
            }
            MetricsProvider::Http { request: r, .. } => request(r, &mut out),
        }
    }
    for provider in plan.flag_providers.values() {
        match provider {
            FlagProvider::Unleash(u) => {
                out.push((&u.url, Scope::Step));
                out.push((&u.token, Scope::Step));
            }
        }
    }
    for env in &plan.environments {
        for step in &env.steps {
            match &step.kind {
                StepKind::Http(http) => {
                    request(&http.call.request, &mut out);
                    if let Some(undo) = &http.undo {
                        request(&undo.request, &mut out);
                    }
                }
                StepKind::Exec(e) => {
                    exec(&e.exec, &mut out);
                    if let Some(undo) = &e.undo {
                        exec(undo, &mut out);
                    }
                }
                _ => {}
            }
        }
    }
    for analysis in plan.analyses.values() {
        for metric in &analysis.metrics {
            out.extend(metric.query.iter().map(|q| (q, Scope::Step)));
            if let Some(c) = &metric.compare {
                out.push((&c.canary, Scope::Step));
                out.push((&c.baseline, Scope::Step));
            }
        }
    }
    for hook in &plan.notify {
        out.push((&hook.url, Scope::Step));
        out.extend(hook.headers.iter().map(|(_, v)| (v, Scope::Step)));
    }
    out
}

/// Every jq expression in a plan.
pub fn jq_expressions(plan: &Plan) -> Vec<&Text> {
    let mut out = Vec::new();
    for provider in plan.deploy_providers.values() {
        if let DeployProvider::Http(http) = provider {
            if let Some(wait) = &http.wait {
                out.push(&wait.success);
                out.extend(wait.failure.iter());
            }
            out.extend(http.verify_digest.iter());
        }
    }
    for provider in plan.metrics_providers.values() {
        if let MetricsProvider::Http { value, .. } = provider {
            out.push(value);
        }
    }
    for env in &plan.environments {
        for step in &env.steps {
            if let StepKind::Http(http) = &step.kind {
                out.extend(http.call.success.iter());
                out.extend(http.undo.iter().flat_map(|u| u.success.iter()));
            }
        }
    }
    out
}

fn request<'a>(r: &'a Request, out: &mut Vec<(&'a Text, Scope)>) {
    out.push((&r.url, Scope::Step));
    out.extend(r.headers.iter().map(|(_, v)| (v, Scope::Step)));
    if let Some(body) = &r.body {
        body_texts(body, out);
    }
}

fn body_texts<'a>(body: &'a Body, out: &mut Vec<(&'a Text, Scope)>) {
    match body {
        Body::Text(t) => out.push((t, Scope::Step)),
        Body::List(items) => items.iter().for_each(|b| body_texts(b, out)),
        Body::Map(entries) => entries.iter().for_each(|(_, b)| body_texts(b, out)),
        Body::Null | Body::Bool(_) | Body::Number(_) => {}
    }
}

fn exec<'a>(e: &'a Exec, out: &mut Vec<(&'a Text, Scope)>) {
    out.extend(e.command.iter().map(|w| (w, Scope::Step)));
    out.extend(e.env.iter().map(|(_, v)| (v, Scope::Step)));
}
