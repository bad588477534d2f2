//! docs/ and the help say what relctl does: the plan reference lists exactly the keys
//! the loader accepts, every whole plan in docs/ validates, the CI contract names every
//! exit code and every environment variable relctl reads, the record format names every
//! event, and the man pages and `--help` carry exit statuses, environment and examples.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use clap::CommandFactory;
use serde_json::Value;

use crate::common::{TestEnv, ok, repo_root};

fn doc(name: &str) -> String {
    let path = repo_root().join("docs").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The blocks fenced as ```` ```yaml plan ````: whole plans, with the file they are in.
fn whole_plans() -> Vec<(String, String)> {
    let mut plans = Vec::new();
    for name in ["plan.md", "recipes.md"] {
        let text = doc(name);
        let mut rest = text.as_str();
        while let Some(start) = rest.find("```yaml plan\n") {
            let body = &rest[start + "```yaml plan\n".len()..];
            let end = body.find("```").expect("a closed block");
            plans.push((name.to_string(), body[..end].to_string()));
            rest = &body[end..];
        }
    }
    plans
}

#[test]
fn every_whole_plan_in_docs_validates() {
    let env = TestEnv::new();
    let plans = whole_plans();
    assert!(plans.len() >= 5, "plan.md and recipes.md hold whole plans");
    for (i, (file, plan)) in plans.iter().enumerate() {
        let path = env.write(&format!("plan-{i}.yaml"), plan);
        let run = env.run(&["validate", "--plan", path.to_str().expect("utf-8 path")]);
        assert_eq!(
            run.code, 0,
            "a plan in docs/{file} does not validate:\n{plan}\n{}",
            run.stderr
        );
    }
}

const UNKNOWN: &str = "no_such_key_in_any_plan";

/// The plan with an unknown key in every mapping relctl reads keys from, and an unknown
/// step at the end of every list of steps: the loader answers each with the keys it
/// accepts there.
fn with_unknown_keys(value: &mut Value, steps: bool) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                with_unknown_keys(child, key == "steps");
            }
            if !map.is_empty() {
                map.insert(UNKNOWN.to_string(), Value::String("x".into()));
            }
        }
        Value::Array(items) if steps => {
            for item in items.iter_mut() {
                // A step is a mapping with one key, its kind: look inside, add nothing.
                if let Value::Object(step) = item {
                    for child in step.values_mut() {
                        with_unknown_keys(child, false);
                    }
                }
            }
            items.push(serde_json::json!({ UNKNOWN: "x" }));
        }
        Value::Array(items) => items.iter_mut().for_each(|i| with_unknown_keys(i, false)),
        _ => {}
    }
}

/// What the loader says it accepts, by mapping ("environment", "`request`", "steps").
fn accepted_keys(env: &TestEnv, plans: &[(String, String)]) -> BTreeMap<String, BTreeSet<String>> {
    let mut accepted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (i, (_, plan)) in plans.iter().enumerate() {
        let mut value: Value = serde_saphyr::from_str(plan).expect("a whole plan is YAML");
        with_unknown_keys(&mut value, false);
        let path = env.write(&format!("unknown-{i}.yaml"), value.to_string());
        let run = env.run(&[
            "validate",
            "--output",
            "json",
            "--plan",
            path.to_str().expect("utf-8 path"),
        ]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        for line in run.stdout.lines() {
            let problem: Value = serde_json::from_str(line).expect("a JSON line");
            let Some(message) = problem["message"].as_str() else {
                continue;
            };
            let (mapping, keys) = if let Some(rest) =
                message.strip_prefix(&format!("unknown key `{UNKNOWN}` in "))
            {
                let Some((what, keys)) = rest.split_once(" (expected one of: ") else {
                    panic!("the loader named no keys: {message}");
                };
                (mapping_of(what), keys)
            } else if let Some(rest) = message.strip_prefix(&format!("unknown step `{UNKNOWN}` ")) {
                let keys = rest.strip_prefix("(expected one of: ").expect("step kinds");
                ("steps".to_string(), keys)
            } else {
                continue;
            };
            let keys = keys.strip_suffix(')').expect("a closed list");
            accepted
                .entry(mapping)
                .or_default()
                .extend(keys.split(", ").map(str::to_string));
        }
    }
    accepted
}

/// "environment `production`" is an environment, whatever its name.
fn mapping_of(what: &str) -> String {
    match what.split_once(" `") {
        Some((kind, _)) if !kind.contains('`') && what.ends_with('`') => kind.to_string(),
        _ => what.to_string(),
    }
}

/// The tables of docs/plan.md, each under `<!-- keys: MAPPING -->`: their first column.
fn documented_keys(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut documented = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(mapping) = line
            .strip_prefix("<!-- keys: ")
            .and_then(|l| l.strip_suffix(" -->"))
        else {
            continue;
        };
        let keys: BTreeSet<String> = lines
            .by_ref()
            .take_while(|l| l.starts_with('|'))
            .skip(2)
            .map(|row| {
                let cell = row.split('|').nth(1).expect("a first column").trim();
                cell.trim_matches('`').to_string()
            })
            .collect();
        assert!(
            documented.insert(mapping.to_string(), keys).is_none(),
            "two tables for {mapping}"
        );
    }
    documented
}

#[test]
fn plan_reference_lists_exactly_the_keys_the_loader_accepts() {
    let env = TestEnv::new();
    let accepted = accepted_keys(&env, &whole_plans());
    let documented = documented_keys(&doc("plan.md"));
    assert!(accepted.len() >= 20, "the loader answered for {accepted:?}");
    for (mapping, keys) in &accepted {
        let Some(listed) = documented.get(mapping) else {
            panic!("docs/plan.md has no table for {mapping} (<!-- keys: {mapping} -->): {keys:?}");
        };
        let missing: Vec<_> = keys.difference(listed).collect();
        assert!(
            missing.is_empty(),
            "docs/plan.md does not document {missing:?} of {mapping}"
        );
        let unknown: Vec<_> = listed.difference(keys).collect();
        assert!(
            unknown.is_empty(),
            "docs/plan.md documents {unknown:?} in {mapping}, which the loader refuses"
        );
    }
    for mapping in documented.keys() {
        assert!(
            accepted.contains_key(mapping),
            "no whole plan in docs/ uses {mapping}, so its table is not checked"
        );
    }
}

/// Names in `src/` read as environment variables: `var("X")`, `var_os("X")`,
/// `env("X")`, `try_from_env("X")` and clap's `env = "X"`. The test hooks
/// (src/hooks.rs, only in builds with the `test-hooks` feature) are not the contract.
fn variables_read(dir: &Path, names: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            variables_read(&path, names);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") || path.ends_with("src/hooks.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a source file");
        for (open, close) in [
            ("var(\"", "\")"),
            ("var_os(\"", "\")"),
            ("env(\"", "\")"),
            ("env = \"", "\""),
        ] {
            for (at, _) in text.match_indices(open) {
                let rest = &text[at + open.len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                if !name.is_empty() && rest[name.len()..].starts_with(close) {
                    names.insert(name);
                }
            }
        }
    }
}

#[test]
fn ci_contract_names_every_variable_relctl_reads() {
    let mut names = BTreeSet::new();
    variables_read(&repo_root().join("src"), &mut names);
    for expected in [
        "RELCTL_PLAN",
        "RELCTL_ACTOR",
        "RELCTL_LOG",
        "CI",
        "RELCTL_GIT_TOKEN",
    ] {
        assert!(names.contains(expected), "{expected} not found in src/");
    }
    let ci = doc("ci.md");
    let env = TestEnv::new();
    let man = env.run(&["man"]);
    ok(&man);
    let environment = man
        .stdout
        .split(".SH ENVIRONMENT")
        .nth(1)
        .and_then(|s| s.split(".SH ").next())
        .expect("relctl(1) has ENVIRONMENT");
    for name in &names {
        assert!(
            ci.contains(&format!("`{name}`")),
            "docs/ci.md does not name `{name}`, which relctl reads"
        );
        assert!(
            environment.contains(name.as_str()),
            "relctl(1) ENVIRONMENT does not name {name}"
        );
    }
    for hook in [
        "RELCTL_NOW",
        "RELCTL_FAULT_CRASH_AFTER",
        "RELCTL_BACKOFF_MS",
        "RELCTL_POLL_MS",
    ] {
        assert!(!ci.contains(hook), "docs/ci.md names the test hook {hook}");
    }
}

#[test]
fn ci_contract_and_man_page_give_every_exit_code() {
    let ci = doc("ci.md");
    let env = TestEnv::new();
    let man = env.run(&["man"]);
    ok(&man);
    let status = man
        .stdout
        .split(".SH \"EXIT STATUS\"")
        .nth(1)
        .and_then(|s| s.split(".SH ").next())
        .expect("relctl(1) has EXIT STATUS");
    assert!(status.contains("\\fB3\\fR\nrejected"), "{status}");
    let environment = man
        .stdout
        .split(".SH ENVIRONMENT")
        .nth(1)
        .expect("ENVIRONMENT");
    assert!(environment.contains("RELCTL_ACTOR"), "{environment}");
    for (exit, _) in relctl::manual::EXIT_STATUS {
        let code = exit.code();
        assert!(
            ci.contains(&format!("\n| {code} |")),
            "docs/ci.md lacks exit {code}"
        );
        assert!(
            status.contains(&format!("\\fB{code}\\fR")),
            "relctl(1) lacks exit {code}"
        );
    }
}

#[test]
fn record_format_names_every_event() {
    let source = std::fs::read_to_string(repo_root().join("src/engine/event.rs"))
        .expect("src/engine/event.rs");
    let body = source
        .split("pub enum EventKind {")
        .nth(1)
        .and_then(|s| s.split("\n}\n").next())
        .expect("the EventKind enum");
    let kinds: Vec<String> = body
        .lines()
        .filter_map(|l| l.strip_prefix("    "))
        .filter(|l| l.starts_with(|c: char| c.is_ascii_uppercase()))
        .map(|l| {
            let name: String = l
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            let mut snake = String::new();
            for (i, c) in name.chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    snake.push('_');
                }
                snake.push(c.to_ascii_lowercase());
            }
            snake
        })
        .collect();
    assert!(kinds.len() >= 20, "{kinds:?}");
    let record = doc("record.md");
    for kind in kinds {
        assert!(
            record.contains(&format!("`{kind}`")),
            "docs/record.md does not describe the `{kind}` event"
        );
    }
}

#[test]
fn every_command_help_ends_with_examples_of_itself() {
    let env = TestEnv::new();
    for sub in relctl::cli::Cli::command().get_subcommands() {
        let name = sub.get_name();
        let run = env.run(&[name, "--help"]);
        ok(&run);
        let examples =
            run.stdout.split("\nExamples:\n").nth(1).unwrap_or_else(|| {
                panic!("`relctl {name} --help` has no examples:\n{}", run.stdout)
            });
        let lines: Vec<&str> = examples
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("relctl "))
            .collect();
        assert!(!lines.is_empty(), "{name}: {examples}");
        for line in lines {
            assert!(
                line.starts_with(&format!("relctl {name}")),
                "`relctl {name} --help` shows an example of another command: {line}"
            );
        }
        let short = env.run(&[name, "-h"]);
        assert!(!short.stdout.contains("Examples:"), "-h stays short");
    }
}

#[test]
fn readme_links_every_document() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    for name in ["plan.md", "record.md", "ci.md", "runbook.md", "recipes.md"] {
        assert!(
            readme.contains(&format!("(docs/{name}")),
            "README.md does not link docs/{name}"
        );
        assert!(repo_root().join("docs").join(name).is_file());
    }
}
