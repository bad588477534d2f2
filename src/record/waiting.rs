//! How long relctl waits for a records remote across the network, and the waiting
//! itself. libgit2 gives up on a remote that does not connect or answer within
//! `ANSWER` (http, git:// and ssh alike); on top of that a fetch or push runs on a
//! thread of its own while the command waits for it, up to a limit, listening for
//! Ctrl-C and SIGTERM: a remote that accepts a connection and never answers can
//! neither hang a command nor make it deaf.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::error::{Error, Exit};

/// How long libgit2 waits to connect to the remote, and then for each answer.
pub(super) const ANSWER: Duration = Duration::from_secs(5);

/// The most one fetch or push of a writing command may take in all, however slowly
/// the remote trickles: then the command goes on with the record in this clone.
pub(super) const WHOLE: Duration = Duration::from_secs(60);

/// How often a wait looks whether a signal came.
const GLANCE: Duration = Duration::from_millis(25);

/// A SIGINT or SIGTERM came while this process waited for the remote. It stays set:
/// the command is ending, and nothing it does from then on waits for the remote.
static SIGNALLED: AtomicBool = AtomicBool::new(false);

/// Whether a SIGINT or SIGTERM came while this process waited for the remote.
pub fn signalled_while_waiting() -> bool {
    SIGNALLED.load(Ordering::SeqCst)
}

/// What became of work done on a thread of its own.
pub(super) enum Waited<T> {
    Done(T),
    /// Not finished within the limit: it is left behind, and libgit2's own bound ends it.
    TimedOut,
}

/// The error of a command stopped while it waited for the remote (exit 130).
pub(super) fn interrupted(what: &str) -> anyhow::Error {
    // A push to a hooked remote on this machine is a process of its own: it ends too.
    super::hooked::end_push();
    Error::new(Exit::Interrupted, format!("interrupted while {what}"))
        .with_hint(
            "what was recorded stays in this clone; the next relctl command pushes it to \
             the records remote",
        )
        .into()
}

/// Runs `work` on a thread of its own and waits for it up to `limit`. A SIGINT or
/// SIGTERM during the wait, or one that came during an earlier wait, ends it with the
/// `interrupted` error at once; `what` says what was waited for.
pub(super) fn wait_for<T: Send + 'static>(
    what: &str,
    limit: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<Waited<T>> {
    if SIGNALLED.load(Ordering::SeqCst) {
        return Err(interrupted(what));
    }
    let (sent, received) = mpsc::channel();
    let _listening = Listening::start();
    let spawned = std::thread::Builder::new()
        .name("relctl-remote".into())
        .spawn(move || {
            let _ = sent.send(work());
        });
    if let Err(err) = spawned {
        anyhow::bail!("cannot start a thread for {what}: {err}");
    }
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let outcome = received.recv_timeout(left.min(GLANCE));
        // A signal can also end the work itself (an interrupted system call): it
        // counts as the interrupt it is.
        if SIGNALLED.load(Ordering::SeqCst) {
            return Err(interrupted(what));
        }
        match outcome {
            Ok(done) => return Ok(Waited::Done(done)),
            Err(mpsc::RecvTimeoutError::Timeout) if left > GLANCE => {}
            Err(mpsc::RecvTimeoutError::Timeout) => return Ok(Waited::TimedOut),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                anyhow::bail!("internal error: the thread for {what} ended without a result")
            }
        }
    }
}

/// SIGINT and SIGTERM noted in `SIGNALLED` for as long as it lives; what they did
/// before (end the process, or a handler of the async runtime) is put back on drop. A
/// signal the process was started ignoring stays ignored.
struct Listening {
    before: Vec<(libc::c_int, libc::sigaction)>,
}

const SIGNALS: [libc::c_int; 2] = [libc::SIGINT, libc::SIGTERM];

extern "C" fn note_signal(_: libc::c_int) {
    SIGNALLED.store(true, Ordering::SeqCst);
}

impl Listening {
    fn start() -> Listening {
        let mut before = Vec::new();
        for signal in SIGNALS {
            // SAFETY: a zeroed sigaction is a valid value to fill in; the handler only
            // stores to an atomic, which is async-signal-safe.
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(signal, std::ptr::null(), &mut old) != 0
                    || old.sa_sigaction == libc::SIG_IGN
                {
                    continue;
                }
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = note_signal as extern "C" fn(libc::c_int) as usize;
                action.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                if libc::sigaction(signal, &action, &mut old) == 0 {
                    before.push((signal, old));
                }
            }
        }
        Listening { before }
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        for (signal, old) in &self.before {
            // SAFETY: puts back an action the system gave us.
            unsafe { libc::sigaction(*signal, old, std::ptr::null_mut()) };
        }
    }
}
