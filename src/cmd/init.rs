//! `relctl init`: a starter `release.yaml` for the repository it runs in, and the next
//! commands to run; `--example` prints the annotated reference instead.

mod guess;

use std::io::Write;
use std::path::Path;

use serde_json::json;

use super::Context;
use crate::error::{Error, Exit};
use crate::plan::find::FILE_NAME;
use crate::ui::OutputMode;

/// The annotated reference: every key of the plan, with what it does.
pub const EXAMPLE: &str = include_str!("../../release.example.yaml");

const STARTER: &str = include_str!("init/starter.yaml");
const HTTP: &str = include_str!("init/http.yaml");
const EXEC: &str = include_str!("init/exec.yaml");

/// Write a starter release.yaml here, for this repository, and say what to run next
#[derive(Debug, clap::Args)]
pub struct Args {
    /// How environments are deployed: an HTTP call to your platform's API, or a command
    #[arg(long, value_enum, default_value = "http", value_name = "KIND")]
    pub provider: Provider,

    /// Replace an existing release.yaml
    #[arg(long)]
    pub force: bool,

    /// Print the annotated reference plan (every key) to stdout and write nothing
    #[arg(long, conflicts_with_all = ["provider", "force"])]
    pub example: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Provider {
    Http,
    Exec,
}

impl Provider {
    /// The `vars` key the user fills in, and what it holds.
    fn var(self) -> &'static str {
        match self {
            Provider::Http => "vars.deploy_url (your deploy API's base URL)",
            Provider::Exec => "vars.deploy_command (the command that deploys)",
        }
    }
}

/// What the starter says, as far as the repository tells.
struct Starter {
    app: String,
    /// `None`: a placeholder the user fills in.
    artifact: Option<String>,
    approver: Option<String>,
    provider: Provider,
}

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<()> {
    if args.example {
        return ctx.printer.data(EXAMPLE);
    }
    let cwd = std::env::current_dir()
        .map_err(|e| Error::usage(format!("cannot read the current directory: {e}")))?;
    let repo = git2::Repository::discover(&cwd).map_err(|e| match e.code() {
        git2::ErrorCode::NotFound => {
            Error::usage(format!("{} is not inside a git repository", cwd.display())).with_hint(
                "relctl keeps the release record in git: run `git init` first \
                 (or run `relctl init` in your project's clone)",
            )
        }
        _ => Error::usage(format!(
            "cannot open the git repository around {}: {}",
            cwd.display(),
            e.message()
        )),
    })?;
    let remote = remote(&repo);
    let from_dir = cwd
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Below the repository's root (a service in a monorepo) the directory names the app.
    let at_root = crate::plan::find::repository_root(&cwd) == Some(cwd.as_path());
    let named_by = remote.as_ref().filter(|_| at_root);
    let raw = named_by.map_or(from_dir.as_str(), |r| r.name());
    let starter = Starter {
        app: guess::app_name(raw),
        artifact: remote.as_ref().and_then(guess::Remote::artifact),
        approver: approver(&repo),
        provider: args.provider,
    };
    let above = crate::plan::find(None, &cwd)
        .ok()
        .filter(|p| p.as_path() != Path::new(FILE_NAME));
    let path = cwd.join(FILE_NAME);
    write(&path, &starter.render(), args.force)?;
    if let Some(above) = above {
        ctx.printer.warn(&format!(
            "{} is a plan too: from here down, relctl now uses the new {FILE_NAME}",
            above.display()
        ));
    }
    report(ctx, &starter, raw, named_by, remote.as_ref())
}

/// The remote the repository is known by: `origin`, else the first one there is.
fn remote(repo: &git2::Repository) -> Option<guess::Remote> {
    let names = repo.remotes().ok()?;
    let names: Vec<&str> = names.iter().flatten().flatten().collect();
    let name = names
        .iter()
        .find(|n| **n == "origin")
        .or_else(|| names.first())?;
    let remote = repo.find_remote(name).ok()?;
    guess::Remote::parse(remote.url().ok()?)
}

/// Who approves production to begin with: the person setting it up, as git knows them.
fn approver(repo: &git2::Repository) -> Option<String> {
    let email = repo.config().ok()?.get_string("user.email").ok()?;
    let email = email.trim();
    (!email.is_empty() && !email.contains('*')).then(|| email.to_string())
}

impl Starter {
    fn render(&self) -> String {
        let deploy = match self.provider {
            Provider::Http => HTTP,
            Provider::Exec => EXEC,
        };
        let quoted = |s: &str| serde_json::Value::from(s).to_string();
        let artifact = match &self.artifact {
            Some(name) => name.clone(),
            None => quoted("<fill in: your image's name, e.g. ghcr.io/acme/shop>"),
        };
        let approver = quoted(
            self.approver
                .as_deref()
                .unwrap_or("<fill in: who approves production, e.g. you@example.com>"),
        );
        // An app named like a number or a boolean (`0`, `1e5`, `no`) would read as one.
        let plain = self.app.starts_with(|c: char| c.is_ascii_lowercase())
            && !matches!(
                self.app.as_str(),
                "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
            );
        let app = if plain {
            self.app.clone()
        } else {
            quoted(&self.app)
        };
        let text = fill(STARTER, "@APP@", &app);
        let text = fill(&text, "@ARTIFACT@", &artifact);
        let text = fill(&text, "@APPROVER@", &approver);
        text.replace("@DEPLOY@\n", deploy)
    }

    /// The reference promote takes, for the commands printed next, as a shell reads it:
    /// the digest comes from `$DIGEST`.
    fn reference(&self) -> String {
        let name = self.artifact.as_deref().unwrap_or("YOUR_IMAGE");
        format!("\"{name}@$DIGEST\"")
    }

    /// What to fill in before the plan is valid, as the next steps say it.
    fn to_fill(&self) -> Vec<String> {
        let mut keys = vec![self.provider.var().to_string()];
        if self.artifact.is_none() {
            keys.push("artifact.name (your image's name without tag or digest)".into());
        }
        if self.approver.is_none() {
            keys.push("production's approvers".into());
        }
        keys
    }
}

/// `template` with `marker` replaced by `value`, keeping the comment after it in its
/// column when there is room.
fn fill(template: &str, marker: &str, value: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(at) = rest.find(marker) {
        out.push_str(&rest[..at]);
        out.push_str(value);
        let after = &rest[at + marker.len()..];
        let spaces = after.len() - after.trim_start_matches(' ').len();
        let width = marker.len() + spaces;
        let pad = if spaces == 0 {
            0
        } else {
            width.saturating_sub(value.chars().count()).max(1)
        };
        out.extend(std::iter::repeat_n(' ', pad));
        rest = &after[spaces..];
    }
    out.push_str(rest);
    out
}

/// Writes the starter, never over an existing file unless `force`.
fn write(path: &Path, text: &str, force: bool) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let written = options
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()));
    written.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::usage(format!("{} already exists", path.display())).with_hint(
                "relctl init leaves it as it is: `relctl validate` checks it, \
                 `relctl init --force` replaces it",
            )
        } else {
            Error::new(
                Exit::Failed,
                format!("cannot write {}: {e}", path.display()),
            )
            .with_hint("run relctl init where you can write, or `relctl init --example > FILE`")
        }
        .into()
    })
}

/// Says what was written and where each guess came from (the remote that named the
/// app, the one the artifact was guessed from), then the next three commands.
fn report(
    ctx: &Context,
    starter: &Starter,
    raw: &str,
    named_by: Option<&guess::Remote>,
    guessed_from: Option<&guess::Remote>,
) -> anyhow::Result<()> {
    let reference = starter.reference();
    let fill = starter.to_fill();
    let commands = [
        "relctl validate".to_string(),
        format!("relctl plan --artifact {reference}"),
        format!("relctl promote --artifact {reference} --to staging"),
    ];
    if ctx.printer.mode() == OutputMode::Json {
        return ctx.printer.json(&json!({
            "file": FILE_NAME,
            "app": starter.app,
            "artifact": starter.artifact,
            "fill_in": fill,
            "next": commands,
        }));
    }
    let source = match named_by {
        Some(remote) => format!("the remote {}", remote.shown()),
        None => "the directory's name".to_string(),
    };
    let renamed = if starter.app == raw {
        String::new()
    } else {
        format!(", made from `{}`", raw.escape_debug())
    };
    let artifact = match (&starter.artifact, guessed_from) {
        (Some(name), _) => name.clone(),
        (None, Some(remote)) => format!("to fill in (no registry known for {})", remote.shown()),
        (None, None) => "to fill in (no git remote to guess it from)".to_string(),
    };
    ctx.printer.status(&format!(
        "wrote {FILE_NAME}: app `{}` (from {source}{renamed}), artifact {artifact}",
        starter.app,
    ));
    ctx.printer.data(&format!(
        "Next:\n\
         1. In {FILE_NAME}, fill in {}; then check the plan:\n       {}\n\
         2. Set DIGEST to your image's digest, sha256:<64 hex> (`crane digest IMAGE:TAG` prints it),\n   \
            and see what a promotion would do (nothing is deployed):\n       {}\n\
         3. Promote it through dev and staging (production waits for an approval):\n       {}\n",
        fill.join(", "),
        commands[0],
        commands[1],
        commands[2],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starter(artifact: Option<&str>, provider: Provider) -> Starter {
        Starter {
            app: "shop".into(),
            artifact: artifact.map(str::to_string),
            approver: Some("dev@acme.io".into()),
            provider,
        }
    }

    fn problems(text: &str) -> Vec<String> {
        match crate::plan::parse(Path::new(FILE_NAME), text.as_bytes()) {
            Ok(_) => Vec::new(),
            Err(d) => d.list.into_iter().map(|p| p.message).collect(),
        }
    }

    #[test]
    fn the_starter_is_valid_once_the_deploy_endpoint_is_filled_in() {
        for provider in [Provider::Http, Provider::Exec] {
            let text = starter(Some("ghcr.io/acme/shop"), provider).render();
            let left = problems(&text);
            assert_eq!(left.len(), 1, "{provider:?}: {left:?}");
            assert!(
                left[0].contains("placeholder from `relctl init`"),
                "{left:?}"
            );
            let value = match provider {
                Provider::Http => "https://deploy.acme.io/v1",
                Provider::Exec => "./deploy.sh",
            };
            let filled = text
                .lines()
                .map(|l| match l.find("\"<fill in") {
                    Some(at) => format!("{}\"{value}\"", &l[..at]),
                    None => l.to_string(),
                })
                .collect::<Vec<_>>()
                .join("\n");
            assert_eq!(problems(&filled), Vec::<String>::new(), "{filled}");
        }
    }

    #[test]
    fn every_unknown_is_a_placeholder_validate_names() {
        let mut s = starter(None, Provider::Http);
        s.approver = None;
        let left = problems(&s.render());
        assert_eq!(left.len(), 3, "{left:?}");
        assert!(left.iter().all(|p| p.contains("placeholder")), "{left:?}");
        assert_eq!(s.to_fill().len(), 3);
    }

    #[test]
    fn every_key_has_a_comment() {
        for provider in [Provider::Http, Provider::Exec] {
            let text = starter(Some("ghcr.io/acme/shop"), provider).render();
            for line in text.lines() {
                let t = line.trim_start();
                assert!(
                    t.is_empty() || t.starts_with('#') || line.contains(" # "),
                    "no comment on `{line}`"
                );
            }
        }
    }

    #[test]
    fn fill_keeps_comments_in_their_column() {
        assert_eq!(fill("a: @X@    # c", "@X@", "yz"), "a: yz     # c");
        assert_eq!(fill("a: @X@ # c", "@X@", "longer"), "a: longer # c");
        assert_eq!(fill("[@X@]", "@X@", "v"), "[v]");
    }
}
