//! A push to a records repository on this machine that runs hooks when it receives
//! (a `pre-receive` that enforces a policy, a `post-receive` that notifies): made with
//! `git push`, so its hooks run as for any push, where a push relctl makes itself
//! (src/record/remote.rs, `push_direct`) would pass them by (README, "Sharing records
//! through a remote").

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use git2::{Oid, Repository};

use super::remote::Pushed;

/// The hooks git runs in a repository that receives a push.
const RECEIVE_HOOKS: [&str; 7] = [
    "pre-receive",
    "update",
    "proc-receive",
    "reference-transaction",
    "push-to-checkout",
    "post-receive",
    "post-update",
];

/// Whether `target` has a hook git would run on receiving a push: an executable file of
/// one of those names in its hooks directory (`core.hooksPath`, else `hooks/` in it).
pub(super) fn receives_with_hooks(target: &Repository) -> bool {
    let dir = hooks_dir(target);
    RECEIVE_HOOKS.iter().any(|name| executable(&dir.join(name)))
}

fn hooks_dir(target: &Repository) -> PathBuf {
    let configured = target
        .config()
        .ok()
        .and_then(|c| c.get_path("core.hooksPath").ok());
    match configured {
        // A relative hooks path is taken from where git runs the hooks: the top of a
        // working tree, or the git directory of a bare repository.
        Some(path) if path.is_relative() => target.workdir().unwrap_or(target.path()).join(path),
        Some(path) => path,
        None => target.path().join("hooks"),
    }
}

fn executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// How long a push with its hooks may take, as long as a push across the network may
/// in all (README, "Sharing records through a remote"): a hook that hangs does not hold
/// up a rollback. The push is waited for as one across the network is (interrupted by
/// Ctrl-C, given up for the rest of the command when it fails; src/record/remote.rs).
const LIMIT: Duration = Duration::from_secs(60);

/// The process group of the `git push` under way (0: none), so that a command
/// interrupted while it waits ends it with its hooks, rather than leave a push that may
/// still land after the command said its record stays here (src/record/waiting.rs).
static PUSHING: AtomicI32 = AtomicI32::new(0);

/// Ends the `git push` under way, if any, with everything it started.
pub(super) fn end_push() {
    let group = PUSHING.swap(0, Ordering::SeqCst);
    if group > 0 {
        // SAFETY: kill(2) with a negative pid signals a process group; the group's
        // leader is the push this process started and has not reaped yet.
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
    }
}

/// `git push --porcelain TARGET LOCAL:REFNAME` from the git directory `from`: a
/// fast-forward only, which the receiving git makes only if the branch is still where
/// it told the push it was. `shown` names the target in messages.
pub(super) fn push(from: &Path, target: &Path, local: Oid, refname: &str, shown: &str) -> Pushed {
    let message = |why: String| {
        format!(
            "cannot push to {shown} ({}): it runs hooks on a push, so relctl pushes to it \
             with `git push`, which {why}",
            target.display()
        )
    };
    let failed = |why: String| Pushed::Failed(message(why));
    let child = Command::new("git")
        .arg("--git-dir")
        .arg(from)
        .args(["push", "--porcelain"])
        .arg(target)
        .arg(format!("{local}:{refname}"))
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: given up, it is ended with the hooks it runs, which
        // would otherwise go on and move the branch later.
        .process_group(0)
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(err) => return failed(format!("could not be run: {err}")),
    };
    if let Ok(group) = i32::try_from(child.id()) {
        PUSHING.store(group, Ordering::SeqCst);
    }
    // Read as it goes, so a hook that prints a lot cannot stall the push on a full pipe.
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let out = read(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = read(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let began = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if began.elapsed() < LIMIT => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                end_push();
                let _ = child.kill();
                let _ = child.wait();
                return failed(format!(
                    "did not finish within {} s (a hook there hangs, or takes that long)",
                    LIMIT.as_secs()
                ));
            }
            Err(err) => return failed(format!("could not be waited for: {err}")),
        }
    };
    PUSHING.store(0, Ordering::SeqCst);
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    let stdout = String::from_utf8_lossy(&stdout);
    let stderr = String::from_utf8_lossy(&stderr);
    // `FLAG\tFROM:TO\tSUMMARY (REASON)` for the ref; `!` is a ref not updated.
    let line = stdout
        .lines()
        .find(|l| l.split('\t').nth(1).is_some_and(|r| r.ends_with(refname)));
    let said = said(&stderr);
    match line.map(|l| (l.chars().next(), l.rsplit('\t').next().unwrap_or(l))) {
        Some((Some(' ' | '*' | '+' | '='), _)) if status.success() => Pushed::Done(local),
        None if status.success() => Pushed::Done(local),
        // Not a fast-forward (the branch moved there), or declined by a hook: the
        // caller reads the remote again, and says why when it keeps refusing.
        Some((Some('!'), summary)) => Pushed::Rejected(match said {
            Some(said) => format!("{refname}: {summary}; the remote said: {said}"),
            None => format!("{refname}: {summary}"),
        }),
        _ => failed(format!(
            "exited with {status}: {}",
            said.unwrap_or_else(|| crate::text::one_line(stderr.trim()).into_owned())
        )),
    }
}

/// What the receiving side printed (`remote: …` lines), on one line.
fn said(stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("remote:"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    (!lines.is_empty()).then(|| crate::text::one_line(&lines.join("; ")).into_owned())
}
