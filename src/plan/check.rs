//! Checks across the whole plan: names that refer to each other, templates (strict:
//! every name must exist), jq expressions, and rules an environment's steps must keep.

use std::collections::{HashMap, HashSet};

use super::diag::{Diagnostics, did_you_mean};
use super::types::*;
use super::{jq, template, walk};

/// What a valid plan may still get wrong: an analysis that compares with the baseline
/// from a first window too short to hold two points a side judges on nothing.
pub fn warnings(plan: &Plan, d: &mut Diagnostics) {
    for (name, analysis) in &plan.analyses {
        let compares = analysis.metrics.iter().any(|m| m.compare.is_some());
        if compares && crate::analysis::window_points(analysis.initial_delay) < 2 {
            d.at(
                analysis.pos,
                format!(
                    "analysis `{name}` compares with the baseline after an `initial_delay` of {}: its first window holds one point a side, too few to judge; give it a few minutes",
                    crate::duration::format(analysis.initial_delay)
                ),
            );
        }
    }
}

pub fn plan(plan: &Plan, d: &mut Diagnostics, jq: super::Jq) {
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
    for analysis in plan.analyses.values() {
        for metric in &analysis.metrics {
            metric_provider(plan, metric, d);
            let compare = metric.compare.iter().flat_map(|c| [&c.canary, &c.baseline]);
            for query in metric.query.iter().chain(compare) {
                for problem in template::check_query(query) {
                    d.at(query.pos, problem);
                }
            }
        }
    }
    for (text, scope) in walk::templates(plan) {
        for problem in template::check(text, scope, &plan.vars) {
            d.at(text.pos, problem);
        }
    }
    let check = match jq {
        super::Jq::Compile => jq::check,
        super::Jq::Parse => jq::check_syntax,
    };
    for expr in walk::jq_expressions(plan) {
        if let Err(e) = check(&expr.raw) {
            d.at(expr.pos, e);
        }
    }
}

fn metric_provider(plan: &Plan, metric: &Metric, d: &mut Diagnostics) {
    match plan.metrics_providers.get(&metric.provider.raw) {
        None => unknown(
            d,
            &metric.provider,
            "metrics provider",
            plan.metrics_providers.keys(),
        ),
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
        Some(_) => {}
    }
}

fn environment(plan: &Plan, env: &Environment, d: &mut Diagnostics) {
    if let Some(budget) = &env.error_budget {
        match plan.metrics_providers.get(&budget.provider.raw) {
            None => unknown(
                d,
                &budget.provider,
                "metrics provider",
                plan.metrics_providers.keys(),
            ),
            Some(MetricsProvider::Http { .. }) => d.at(
                budget.provider.pos,
                format!(
                    "`error_budget` of environment `{}` needs a prometheus provider",
                    env.name
                ),
            ),
            Some(_) => {}
        }
    }
    if !plan.deploy_providers.contains_key(&env.deploy.raw) {
        unknown(
            d,
            &env.deploy,
            "deploy provider",
            plan.deploy_providers.keys(),
        );
    }
    targets(plan, env, d);
    let mut last_weight = None;
    for step in &env.steps {
        match &step.kind {
            StepKind::Deploy { weight } => last_weight = Some(weight.unwrap_or(100)),
            StepKind::ErrorBudget if env.error_budget.is_none() => {
                d.at(
                    step.pos,
                    format!(
                        "an `error_budget` step needs the environment's `error_budget` (environment `{}` has none)",
                        env.name
                    ),
                );
            }
            StepKind::Analysis(name) if !plan.analyses.contains_key(&name.raw) => {
                unknown(d, name, "analysis", plan.analyses.keys());
            }
            StepKind::Flag(flag) => flag_step(plan, env, step.pos, flag, d),
            StepKind::Approval(None) if env.approval.is_none() => {
                d.at(step.pos, format!("an `approval` step needs approvers: give them here or in environment `{}`'s `approval`", env.name));
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

/// A flag step names a provider the plan has (or the plan has only one), which maps the
/// step's environment to one of its own.
fn flag_step(plan: &Plan, env: &Environment, pos: Pos, flag: &FlagStep, d: &mut Diagnostics) {
    // Every step of an environment with targets runs once per target, and a flag is
    // one per environment (docs/plan.md, "Targets and waves").
    if !env.targets.is_empty() {
        return d.at(
            pos,
            format!(
                "flag step `{}` is in environment `{}`, which has targets: a flag is one per environment, so ramp it in an environment without targets",
                flag.name, env.name
            ),
        );
    }
    let provider = match (&flag.provider, plan.flag_provider(flag)) {
        (_, Some((_, provider))) => provider,
        (Some(name), None) => {
            return unknown(d, name, "flag provider", plan.flag_providers.keys());
        }
        (None, None) if plan.flag_providers.is_empty() => {
            return d.at(
                pos,
                format!(
                    "flag step `{}` needs a flag provider and the plan defines none (`providers.flags`)",
                    flag.name
                ),
            );
        }
        (None, None) => {
            let names: Vec<&str> = plan.flag_providers.keys().map(String::as_str).collect();
            return d.at(
                pos,
                format!(
                    "flag step `{}` must say which flag provider (`provider: …`): the plan defines {}",
                    flag.name,
                    names.join(", ")
                ),
            );
        }
    };
    if provider.environment(&env.name).is_none() {
        d.at(
            pos,
            format!(
                "flag step `{}` is in environment `{}`, which the flag provider's `environments` does not map to an environment of its own",
                flag.name, env.name
            ),
        );
    }
}

/// An environment's targets and waves: names once each, every target in exactly one
/// wave, providers that exist, and no approval step (an approval is asked once for the
/// environment, before its first wave).
fn targets(plan: &Plan, env: &Environment, d: &mut Diagnostics) {
    let mut names = HashSet::new();
    for target in &env.targets {
        if !names.insert(target.name.as_str()) {
            d.at(
                target.pos,
                format!(
                    "target `{}` of environment `{}` is defined twice",
                    target.name, env.name
                ),
            );
        }
        if let Some(deploy) = &target.deploy
            && !plan.deploy_providers.contains_key(&deploy.raw)
        {
            unknown(d, deploy, "deploy provider", plan.deploy_providers.keys());
        }
    }
    let mut placed: HashMap<&str, usize> = HashMap::new();
    for (index, wave) in env.waves.iter().enumerate() {
        if wave.targets.is_empty() {
            d.at(wave.pos, "a wave needs at least one target");
        }
        for name in &wave.targets {
            if env.target(&name.raw).is_none() {
                let defined = env.targets.iter().map(|t| &t.name);
                unknown(d, name, "target", defined);
                continue;
            }
            match placed.insert(name.raw.as_str(), index) {
                None => {}
                Some(earlier) if earlier == index => d.at(
                    name.pos,
                    format!("target `{}` is named twice in one wave", name.raw),
                ),
                Some(_) => d.at(
                    name.pos,
                    format!(
                        "target `{}` stands in two waves of environment `{}`; each target belongs to one wave",
                        name.raw, env.name
                    ),
                ),
            }
        }
    }
    for target in &env.targets {
        if !placed.contains_key(target.name.as_str()) {
            d.at(
                target.pos,
                format!(
                    "target `{}` of environment `{}` stands in no wave: it would never be promoted",
                    target.name, env.name
                ),
            );
        }
    }
    if env.targets.is_empty() {
        return;
    }
    for step in &env.steps {
        if matches!(step.kind, StepKind::Approval(_)) {
            d.at(
                step.pos,
                format!(
                    "environment `{}` has targets: its steps run once per target, so it asks for approval once with the environment's `approval`, not an `approval` step",
                    env.name
                ),
            );
        }
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
