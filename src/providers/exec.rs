//! Commands for `exec` deploy providers and steps: argv run without a shell, stdin
//! closed, output captured (its tail, masked), killed with its process group on timeout.

use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::secrets::{self, Secrets};
use crate::duration;

/// How much of each stream `Output` keeps (its end).
const OUTPUT_MAX: usize = 8 * 1024;
/// How much of each stream is held while the command runs: well beyond `OUTPUT_MAX` so
/// that a secret cut where the window starts cannot reach the part that is kept.
const WINDOW: usize = 64 * 1024;
/// How much of stderr an error message quotes.
const ERROR_TAIL_MAX: usize = 1024;
/// How long to keep reading output after the command has ended: a process it left
/// running in the background may hold the pipes open for ever.
const DRAIN: Duration = Duration::from_secs(2);

/// A command, templates already rendered.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The program and its arguments; run without a shell.
    pub argv: Vec<String>,
    /// Added to the inherited environment.
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
    /// The working directory; relctl's own when `None`.
    pub dir: Option<PathBuf>,
}

impl Invocation {
    /// The command as the record keeps it, masked.
    pub fn describe(&self, secrets: &Secrets) -> serde_json::Value {
        let env: serde_json::Map<String, serde_json::Value> = self
            .env
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(secrets.mask(v))))
            .collect();
        serde_json::json!({
            "argv": self.argv.iter().map(|a| secrets.mask(a)).collect::<Vec<_>>(),
            "env": env,
            "dir": self.dir.as_ref().map(|d| secrets.mask(&d.display().to_string())),
            "timeout": duration::format(self.timeout),
        })
    }
}

/// What a command did. `stdout` and `stderr` are masked, each cut to its last ~8 KiB.
#[derive(Debug, Clone)]
pub struct Output {
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub duration: Duration,
}

/// Why a program may not have been found: a name with a space in it is most likely a
/// shell line given as one argv item (`command` runs without a shell).
fn not_found_why(program: &str) -> &'static str {
    if program.trim().contains(char::is_whitespace) {
        "a command's first item is one program, run without a shell: write \
         `[sh, ./deploy.sh]`, not `\"sh ./deploy.sh\"`"
    } else {
        "is it installed and on PATH?"
    }
}

/// A command that did not succeed. `program` is argv[0], masked.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ExecError {
    #[error("the command is empty")]
    Empty,
    #[error("`{program}` not found ({})", not_found_why(program))]
    NotFound { program: String },
    #[error("cannot run `{program}`: {message}")]
    Spawn { program: String, message: String },
    #[error("`{program}` did not finish within {}: killed{}", duration::format(*after), excerpt_suffix(&output.stderr))]
    Timeout {
        program: String,
        after: Duration,
        /// What it printed before it was killed.
        output: Output,
    },
    #[error("`{program}` {}{}", ending(*code), excerpt_suffix(stderr_tail))]
    Failed {
        program: String,
        code: Option<i32>,
        /// The end of stderr (of stdout when stderr is empty), for the message.
        stderr_tail: String,
        output: Output,
    },
}

fn ending(code: Option<i32>) -> String {
    match code {
        Some(code) => format!("exited with code {code}"),
        None => "was ended by a signal".into(),
    }
}

fn excerpt_suffix(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {}", secrets::tail(text, ERROR_TAIL_MAX))
    }
}

/// The last `WINDOW` bytes of a stream, and whether anything before them was dropped.
#[derive(Default)]
struct Window {
    bytes: Vec<u8>,
    cut: bool,
}

impl Window {
    fn push(&mut self, data: &[u8]) {
        self.bytes.extend_from_slice(data);
        // Drop in large steps so that a chatty command costs no quadratic copying.
        if self.bytes.len() > 2 * WINDOW {
            let drop = self.bytes.len() - WINDOW;
            self.bytes.drain(..drop);
            self.cut = true;
        }
    }

    fn finish(&self, secrets: &Secrets) -> String {
        let start = self.bytes.len().saturating_sub(WINDOW);
        let cut = self.cut || start > 0;
        let masked = secrets.mask_excerpt(&self.bytes[start..], cut, false);
        let masked = crate::text::visible(&masked);
        let kept = secrets::tail(&masked, OUTPUT_MAX);
        if cut && !kept.starts_with('…') {
            format!("…{kept}")
        } else {
            kept
        }
    }
}

fn collect(
    stream: Option<impl AsyncRead + Unpin + Send + 'static>,
) -> (Arc<Mutex<Window>>, Option<JoinHandle<()>>) {
    let window = Arc::new(Mutex::new(Window::default()));
    let task = stream.map(|mut stream| {
        let window = window.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 8192];
            while let Ok(n) = stream.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                if let Ok(mut w) = window.lock() {
                    w.push(&buf[..n]);
                }
            }
        })
    });
    (window, task)
}

fn finish(window: &Mutex<Window>, secrets: &Secrets) -> String {
    window.lock().map(|w| w.finish(secrets)).unwrap_or_default()
}

/// Runs a command to its end or its timeout. Exit code 0 is `Ok`; anything else is an
/// error carrying the (masked) output.
pub async fn run(cmd: &Invocation, secrets: &Secrets) -> Result<Output, ExecError> {
    let (program, args) = cmd.argv.split_first().ok_or(ExecError::Empty)?;
    let shown = secrets.mask(program);
    let spawn_error = |message: String| ExecError::Spawn {
        program: shown.clone(),
        message: secrets.mask(&message),
    };
    if let Some(dir) = &cmd.dir
        && !dir.is_dir()
    {
        // Checked first: spawning in a missing directory looks like a missing program.
        return Err(spawn_error(format!(
            "the working directory {} does not exist",
            dir.display()
        )));
    }
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .envs(cmd.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(dir) = &cmd.dir {
        command.current_dir(dir);
    }
    // Its own process group, so that a timeout ends whatever it started too.
    #[cfg(unix)]
    command.process_group(0);

    let start = Instant::now();
    let mut child = command.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ExecError::NotFound {
            program: shown.clone(),
        },
        _ => spawn_error(e.to_string()),
    })?;
    let (stdout, stdout_task) = collect(child.stdout.take());
    let (stderr, stderr_task) = collect(child.stderr.take());

    let status = match tokio::time::timeout(cmd.timeout, child.wait()).await {
        Ok(Ok(status)) => Some(status),
        Ok(Err(e)) => return Err(spawn_error(format!("waiting for it failed: {e}"))),
        Err(_) => {
            kill(&mut child).await;
            None
        }
    };
    let readers = async {
        for task in [stdout_task, stderr_task].into_iter().flatten() {
            let _ = task.await;
        }
    };
    if tokio::time::timeout(DRAIN, readers).await.is_err() {
        tracing::debug!("`{shown}` ended but something it started still holds its output open");
    }
    let output = Output {
        code: status.and_then(|s| s.code()),
        stdout: finish(&stdout, secrets),
        stderr: finish(&stderr, secrets),
        duration: start.elapsed(),
    };
    match status {
        None => Err(ExecError::Timeout {
            program: shown,
            after: cmd.timeout,
            output,
        }),
        Some(status) if status.success() => Ok(output),
        Some(status) => Err(failed(shown, status, output)),
    }
}

fn failed(program: String, status: ExitStatus, output: Output) -> ExecError {
    let source = if output.stderr.trim().is_empty() {
        &output.stdout
    } else {
        &output.stderr
    };
    let stderr_tail = secrets::tail(source.trim(), ERROR_TAIL_MAX);
    ExecError::Failed {
        program,
        code: status.code(),
        stderr_tail,
        output,
    }
}

/// Kills the command and, on unix, its process group (everything it started that did
/// not leave the group). std has no killpg, so the group is signalled through `kill(1)`;
/// where that is missing only the command itself is killed.
async fn kill(child: &mut tokio::process::Child) {
    #[cfg(unix)]
    if let Some(pid) = child.id() {
        // The group id is the child's pid; it cannot be reused while the child is unreaped.
        let group = tokio::process::Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{pid}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .status();
        match tokio::time::timeout(DRAIN, group).await {
            Ok(Ok(status)) if status.success() => {}
            other => tracing::debug!("could not kill process group {pid}: {other:?}"),
        }
    }
    if let Err(e) = child.kill().await {
        tracing::debug!("could not kill the command: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Invocation {
        Invocation {
            argv: vec!["sh".into(), "-c".into(), script.into()],
            env: vec![],
            timeout: Duration::from_secs(20),
            dir: None,
        }
    }

    #[tokio::test]
    async fn captures_stdout_and_stderr() {
        let out = run(&sh("echo hello; echo warn >&2"), &Secrets::default())
            .await
            .unwrap();
        assert_eq!(out.code, Some(0));
        assert_eq!(out.stdout, "hello\n");
        assert_eq!(out.stderr, "warn\n");
    }

    #[tokio::test]
    async fn runs_without_a_shell() {
        let cmd = Invocation {
            argv: vec!["echo".into(), "$HOME; rm -rf /".into(), "a b".into()],
            ..sh("")
        };
        let out = run(&cmd, &Secrets::default()).await.unwrap();
        assert_eq!(out.stdout, "$HOME; rm -rf / a b\n");
    }

    #[tokio::test]
    async fn a_non_zero_exit_fails_with_its_code() {
        let err = run(
            &sh("echo partial; echo 'bad things' >&2; exit 3"),
            &Secrets::default(),
        )
        .await
        .unwrap_err();
        let ExecError::Failed {
            code,
            stderr_tail,
            output,
            ..
        } = &err
        else {
            panic!("expected Failed, got {err:?}");
        };
        assert_eq!(*code, Some(3));
        assert_eq!(stderr_tail, "bad things");
        assert_eq!(output.stdout, "partial\n");
        assert_eq!(err.to_string(), "`sh` exited with code 3: bad things");
    }

    #[tokio::test]
    async fn names_a_program_that_is_not_there() {
        let cmd = Invocation {
            argv: vec!["relctl-surely-no-such-program".into()],
            ..sh("")
        };
        let err = run(&cmd, &Secrets::default()).await.unwrap_err();
        assert!(matches!(err, ExecError::NotFound { .. }), "{err:?}");
        assert!(
            err.to_string().contains(
                "`relctl-surely-no-such-program` not found (is it installed and on PATH?)"
            )
        );
        // A shell line given as one program says how to write it.
        let line = Invocation {
            argv: vec!["sh ./deploy.sh".into()],
            ..sh("")
        };
        let err = run(&line, &Secrets::default()).await.unwrap_err();
        assert!(
            err.to_string()
                .contains("run without a shell: write `[sh, ./deploy.sh]`"),
            "{err}"
        );
        let empty = Invocation {
            argv: vec![],
            ..sh("")
        };
        assert!(matches!(
            run(&empty, &Secrets::default()).await,
            Err(ExecError::Empty)
        ));
    }

    #[tokio::test]
    async fn kills_on_timeout() {
        let cmd = Invocation {
            argv: vec!["sleep".into(), "30".into()],
            timeout: Duration::from_millis(200),
            ..sh("")
        };
        let err = run(&cmd, &Secrets::default()).await.unwrap_err();
        let ExecError::Timeout { output, .. } = &err else {
            panic!("expected Timeout, got {err:?}");
        };
        // Generous: what matters is not waiting for the 30s.
        assert!(
            output.duration < Duration::from_secs(15),
            "{:?}",
            output.duration
        );
        assert_eq!(
            err.to_string(),
            "`sleep` did not finish within 200ms: killed"
        );
    }

    #[tokio::test]
    async fn a_timeout_kills_what_the_command_started() {
        // The background sleep holds stdout open; unless the group is killed, the
        // output could only be read after the drain timeout.
        let mut cmd = sh("echo started; sleep 30 & sleep 30");
        cmd.timeout = Duration::from_millis(300);
        let err = run(&cmd, &Secrets::default()).await.unwrap_err();
        let ExecError::Timeout { output, .. } = &err else {
            panic!("expected Timeout, got {err:?}");
        };
        assert_eq!(output.stdout, "started\n");
    }

    #[tokio::test]
    async fn passes_env_and_dir() {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = sh(r#"printf '%s %s' "$RELCTL_ENV" "$(pwd)""#);
        cmd.env = vec![("RELCTL_ENV".into(), "staging".into())];
        cmd.dir = Some(dir.path().to_path_buf());
        let out = run(&cmd, &Secrets::default()).await.unwrap();
        let pwd = dir.path().canonicalize().unwrap();
        assert_eq!(out.stdout, format!("staging {}", pwd.display()));

        cmd.dir = Some(dir.path().join("missing"));
        let err = run(&cmd, &Secrets::default()).await.unwrap_err();
        assert!(matches!(err, ExecError::Spawn { .. }), "{err:?}");
        assert!(err.to_string().contains("does not exist"), "{err}");
    }

    #[tokio::test]
    async fn masks_secrets_in_output_and_errors() {
        let secrets = Secrets::from_values([("TOKEN", "tok-123-secret")]);
        let mut cmd = sh(r#"echo "token=$TOKEN"; echo "auth $TOKEN failed" >&2; exit 1"#);
        cmd.env = vec![("TOKEN".into(), "tok-123-secret".into())];
        let err = run(&cmd, &secrets).await.unwrap_err();
        let ExecError::Failed { output, .. } = &err else {
            panic!("expected Failed, got {err:?}");
        };
        assert_eq!(output.stdout, "token=***\n");
        assert_eq!(output.stderr, "auth *** failed\n");
        assert!(!format!("{err} {err:?}").contains("tok-123-secret"));
        assert!(
            !cmd.describe(&secrets)
                .to_string()
                .contains("tok-123-secret")
        );
    }

    #[tokio::test]
    async fn keeps_the_end_of_long_output() {
        let secrets = Secrets::from_values([("T", "s3cr3t-value")]);
        // 200 000 bytes of secrets and numbers: far beyond the window and the tail.
        let cmd = sh("i=0; while [ $i -lt 10000 ]; do echo \"$i s3cr3t-value\"; i=$((i+1)); done");
        let out = run(&cmd, &secrets).await.unwrap();
        assert!(out.stdout.len() <= OUTPUT_MAX + '…'.len_utf8());
        assert!(out.stdout.starts_with('…'));
        assert!(
            out.stdout.ends_with("9999 ***\n"),
            "{}",
            &out.stdout[out.stdout.len() - 40..]
        );
        assert!(!out.stdout.contains("s3cr3t"));
    }

    #[test]
    fn a_window_keeps_the_end_and_masks_a_secret_cut_at_its_start() {
        let secrets = Secrets::from_values([("T", "abcdefgh")]);
        let mut w = Window::default();
        w.push(&vec![b'.'; 2 * WINDOW]);
        assert!(!w.cut);
        w.push(b"abcdefgh!");
        assert!(w.cut);
        assert_eq!(w.bytes.len(), WINDOW);
        assert!(w.finish(&secrets).ends_with(".***!"));
        // A window whose start falls inside a secret.
        let w = Window {
            bytes: b"efgh tail abcdefgh".to_vec(),
            cut: true,
        };
        assert_eq!(w.finish(&secrets), "…*** tail ***");
    }
}
