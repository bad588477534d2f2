//! Who is acting, resolved the same way whatever the plan path: `RELCTL_ACTOR`, else
//! git's `user.email` as git reads it for the plan's repository, else the CI's identity,
//! else none, which commands that must know who decides refuse.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::engine::ActorSource;
use crate::error::Error;
use crate::plan::{Plan, StepKind};

/// The actor recorded when no identity is known (with `actor_source: none`).
pub const UNKNOWN: &str = "unknown";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub actor: String,
    pub source: ActorSource,
}

impl Identity {
    /// The caller's identity for `plan`, read from this process's environment and git.
    pub fn resolve(plan: &Plan) -> Identity {
        resolve_with(&plan_dir(plan), &|name| std::env::var(name).ok())
    }

    pub fn known(&self) -> bool {
        self.source != ActorSource::None
    }

    /// The identity, or exit 2 when none is known; `needs` says what needs it.
    pub fn require(&self, needs: &str) -> Result<&str, Error> {
        if self.known() {
            Ok(&self.actor)
        } else {
            Err(unknown(needs))
        }
    }
}

/// An actor with whitespace or a control character in it (a newline would start a
/// second trailer line in a record commit, naming someone else) is refused wherever it
/// came from, before anything is recorded (exit 2).
pub fn check_actor(plan: &Plan) -> Result<(), Error> {
    let identity = Identity::resolve(plan);
    let Some(bad) = identity
        .actor
        .chars()
        .find(|c| c.is_whitespace() || c.is_control())
    else {
        return Ok(());
    };
    let from = match identity.source {
        ActorSource::Env => "RELCTL_ACTOR",
        ActorSource::Git => "git's user.email",
        ActorSource::GithubActions => "GITHUB_ACTOR",
        ActorSource::GitlabCi => "GITLAB_USER_EMAIL",
        ActorSource::None | ActorSource::Other => "the identity",
    };
    Err(Error::usage(format!(
        "{from} is {:?}, which holds {}: an actor is one word, with no whitespace or control characters",
        identity.actor,
        bad.escape_debug()
    ))
    .with_hint(format!("set {from} to your email address alone")))
}

/// The refusal of something that `needs` an identity when none is known (exit 2).
pub fn unknown(needs: &str) -> Error {
    Error::usage(format!(
        "{needs} needs to know who you are, and no identity was found"
    ))
    .with_hint(
        "set git's user.email (`git config --global user.email you@example.com`), or RELCTL_ACTOR",
    )
}

/// Whether a run of `plan` must know who runs it: with `allow_self: false` somewhere, a
/// release started by nobody could be approved by the person who started it.
pub fn needed_by(plan: &Plan) -> bool {
    plan.environments.iter().any(|env| {
        env.approval.as_ref().is_some_and(|a| !a.allow_self)
            || env
                .steps
                .iter()
                .any(|step| matches!(&step.kind, StepKind::Approval(Some(own)) if !own.allow_self))
    })
}

/// The plan's directory, absolute: a bare `release.yaml` is in the current directory.
pub fn plan_dir(plan: &Plan) -> PathBuf {
    let dir = crate::notes::plan_dir(plan);
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())
}

fn resolve_with(dir: &Path, var: &dyn Fn(&str) -> Option<String>) -> Identity {
    let var = |name: &str| {
        var(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let found = |actor: String, source| Identity { actor, source };
    if let Some(actor) = var("RELCTL_ACTOR") {
        return found(actor, ActorSource::Env);
    }
    if let Some(email) = git_email(dir) {
        return found(email, ActorSource::Git);
    }
    if var("GITHUB_ACTIONS").as_deref() == Some("true")
        && let Some(login) = var("GITHUB_ACTOR")
    {
        return found(login, ActorSource::GithubActions);
    }
    if var("GITLAB_CI").as_deref() == Some("true")
        && let Some(email) = var("GITLAB_USER_EMAIL")
    {
        return found(email, ActorSource::GitlabCi);
    }
    found(UNKNOWN.to_string(), ActorSource::None)
}

/// `git config user.email` in `dir`: the repository's configuration over the global
/// one, honouring `GIT_CONFIG_GLOBAL`, `GIT_CONFIG_NOSYSTEM` and conditional includes as
/// git does; outside a repository, the global and system configuration alone.
fn git_email(dir: &Path) -> Option<String> {
    let config = git_config(dir)?;
    let email = config.get_string("user.email").ok()?;
    let email = email.trim();
    (!email.is_empty()).then(|| email.to_string())
}

/// git's configuration as git reads it in `dir`: the repository's over the global one;
/// outside a repository, the global and system configuration alone.
pub fn git_config(dir: &Path) -> Option<git2::Config> {
    match git2::Repository::open_ext(
        dir,
        git2::RepositoryOpenFlags::FROM_ENV,
        std::iter::empty::<&OsStr>(),
    ) {
        Ok(repo) => repo.config().ok(),
        Err(_) => outside_repository(),
    }
}

/// The configuration git reads outside a repository.
fn outside_repository() -> Option<git2::Config> {
    use git2::ConfigLevel;
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let mut config = git2::Config::new().ok()?;
    let mut add = |path: Option<PathBuf>, level| {
        if let Some(path) = path.filter(|p| p.is_file()) {
            // An unreadable file is skipped, as if it said nothing.
            let _ = config.add_file(&path, level, false);
        }
    };
    let no_system = var("GIT_CONFIG_NOSYSTEM")
        .and_then(|v| git2::Config::parse_bool(v.to_string_lossy().as_ref()).ok())
        .unwrap_or(false);
    if !no_system {
        add(
            var("GIT_CONFIG_SYSTEM")
                .map(PathBuf::from)
                .or_else(|| git2::Config::find_system().ok()),
            ConfigLevel::System,
        );
    }
    match var("GIT_CONFIG_GLOBAL") {
        Some(global) => add(Some(PathBuf::from(global)), ConfigLevel::Global),
        None => {
            add(git2::Config::find_xdg().ok(), ConfigLevel::XDG);
            add(git2::Config::find_global().ok(), ConfigLevel::Global);
        }
    }
    Some(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(dir: &Path, vars: &[(&str, &str)]) -> Identity {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        resolve_with(dir, &|name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn relctl_actor_wins_then_git_then_the_ci() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let repo = git2::Repository::init(dir.path()).expect("git init");
        repo.config()
            .and_then(|mut c| c.set_str("user.email", "alice@acme.io"))
            .expect("set user.email");
        let actions = [
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_ACTOR", "octocat"),
            ("GITLAB_CI", "true"),
            ("GITLAB_USER_EMAIL", "gl@acme.io"),
        ];
        let with_env = [&[("RELCTL_ACTOR", " bob@acme.io ")], &actions[..]].concat();
        assert_eq!(
            resolve(dir.path(), &with_env),
            Identity {
                actor: "bob@acme.io".into(),
                source: ActorSource::Env
            }
        );
        assert_eq!(
            resolve(dir.path(), &actions).source,
            ActorSource::Git,
            "git before the CI"
        );
    }

    #[test]
    fn a_source_from_a_newer_relctl_or_none_at_all_still_reads() {
        let read = |yaml: &str| -> Option<ActorSource> {
            let event: crate::engine::Event = serde_saphyr::from_str(yaml).expect("an event");
            event.actor_source
        };
        let event = "at: 2026-11-22T10:00:00Z\nactor: a@b.c\nevent: live\nrelctl: 0.1.0\nplan: x\n";
        assert_eq!(read(event), None, "written before sources were recorded");
        assert_eq!(
            read(&format!("{event}actor_source: github-actions\n")),
            Some(ActorSource::GithubActions)
        );
        assert_eq!(
            read(&format!("{event}actor_source: a-future-source\n")),
            Some(ActorSource::Other)
        );
    }
}
