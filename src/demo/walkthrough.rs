//! The walkthrough `relctl demo --serve` prints: the real commands in order, each one
//! ready to paste as printed (absolute paths, artifacts and release ids spelled out)
//! and saying how it ends when that is not exit 0, so that following it literally
//! takes a release through an approval, a failed canary and a rollback.

use std::path::Path;

/// A release the walkthrough names: its version, artifact reference and id.
pub struct Named {
    pub version: &'static str,
    pub artifact: String,
    pub id: String,
}

/// What the walkthrough is about: the simulator, the plan, the approver, and the
/// three releases (live already, good, failing).
pub struct Walkthrough<'a> {
    pub url: &'a str,
    pub plan: &'a Path,
    pub approver: &'a str,
    pub live: &'a Named,
    pub good: &'a Named,
    pub bad: &'a Named,
}

/// The line that closes the walkthrough; once it is printed, the service is ready.
pub const READY: &str = "Ctrl-C stops the service.";

impl Walkthrough<'_> {
    pub fn text(&self) -> String {
        let relctl = invocation();
        let Walkthrough {
            url,
            approver,
            live,
            good,
            bad,
            ..
        } = self;
        let plan = shell_word(&self.plan.display().to_string());
        format!(
            "The simulated service runs on {url} (Prometheus text at {url}/metrics).
{live_version} is live in dev, staging and production. Try the real commands in another
terminal, in this order: paste each `$` line without the `$`. Each exits 0 unless its
comment says otherwise.

  $ export RELCTL_PLAN={plan}
  $ {relctl} validate

  # 1. {good_version} goes through dev and staging, then waits for production's approval.
  #    --no-input: wait for an approver rather than ask you at a prompt.
  $ {relctl} promote --no-input --artifact {good_artifact} --version {good_version}   # exit 4: paused
  # 2. Someone else approves. RELCTL_ACTOR says who acts (without it, git's user.email:
  #    you@demo.relctl in this repository); the plan's approvers are *@demo.relctl.
  $ RELCTL_ACTOR={approver} {relctl} approve {good_id} --env production --comment 'looks good'
  # 3. The release goes on: a 10% canary, its analysis, 50%, a pause, 100%.
  $ {relctl} resume {good_id}
  # 4. {bad_version} is a bad build: its error rate climbs once it meets production traffic.
  $ {relctl} promote --no-input --artifact {bad_artifact} --version {bad_version}   # exit 4: paused
  $ RELCTL_ACTOR={approver} {relctl} approve {bad_id} --env production
  # 5. Its canary fails the analysis: production goes back to {good_version} by itself.
  $ {relctl} resume {bad_id}   # exit 3: rejected and rolled back
  # 6. The incident path, by hand: production back to {live_version}.
  $ {relctl} rollback --env production --to {live_id} --reason 'trying it out'
  $ {relctl} status
  $ {relctl} history

{READY}
",
            live_version = live.version,
            live_id = live.id,
            good_version = good.version,
            good_artifact = good.artifact,
            good_id = good.id,
            bad_version = bad.version,
            bad_artifact = bad.artifact,
            bad_id = bad.id,
        )
    }
}

/// How to run this relctl from a shell: `relctl` when that is what PATH finds,
/// else its absolute path (as `cargo run` builds it).
fn invocation() -> String {
    let Ok(exe) = std::env::current_exe().and_then(|p| p.canonicalize()) else {
        return "relctl".to_string();
    };
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("relctl"))
            .find(|p| p.is_file())
    });
    match on_path.and_then(|p| p.canonicalize().ok()) {
        Some(found) if found == exe => "relctl".to_string(),
        _ => shell_word(&exe.display().to_string()),
    }
}

/// `word` as one word for a POSIX shell: as it is when nothing in it is special,
/// else in single quotes.
pub(super) fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:@,%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_only_when_a_shell_would_split_or_expand_them() {
        assert_eq!(
            shell_word("/tmp/relctl-demo-1/release.yaml"),
            "/tmp/relctl-demo-1/release.yaml"
        );
        assert_eq!(
            shell_word("/tmp/my demo/release.yaml"),
            "'/tmp/my demo/release.yaml'"
        );
        assert_eq!(shell_word("/tmp/it's"), r"'/tmp/it'\''s'");
        assert_eq!(shell_word("$HOME"), "'$HOME'");
    }
}
