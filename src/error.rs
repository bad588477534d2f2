//! Exit codes (docs/ci.md, "Exit codes") and the one typed error that carries them.
//!
//! Every failure travels as an `anyhow::Error`; the exit code is read from the first
//! [`Error`] found in its chain, so contexts can be added freely on the way up.

use std::fmt;

/// The CI contract: what the process exit status means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success,
    Failed,
    Usage,
    Rejected,
    Paused,
    Busy,
    Blocked,
    Unpushed,
    Interrupted,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::Rejected => 3,
            Exit::Paused => 4,
            Exit::Busy => 5,
            Exit::Blocked => 6,
            Exit::Unpushed => 7,
            Exit::Interrupted => 130,
        }
    }
}

/// An error a user can act on: what happened, the exit code it means, and a hint.
#[derive(Debug)]
pub struct Error {
    pub exit: Exit,
    message: String,
    hint: Option<String>,
}

impl Error {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Error {
            exit,
            message: message.into(),
            hint: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error::new(Exit::Usage, message)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// The one place an error becomes an exit code.
pub fn exit_of(err: &anyhow::Error) -> Exit {
    typed(err).map_or(Exit::Failed, |e| e.exit)
}

/// The outermost typed error: one given as a context (`.context(Error::new(…))`),
/// else the first in the chain of causes.
fn typed(err: &anyhow::Error) -> Option<&Error> {
    err.downcast_ref::<Error>()
        .or_else(|| err.chain().find_map(|cause| cause.downcast_ref::<Error>()))
}

/// The hint of the first typed error in the chain, if any.
pub fn hint_of(err: &anyhow::Error) -> Option<&str> {
    typed(err).and_then(Error::hint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn exit_code_survives_context() {
        let err: anyhow::Result<()> = Err(Error::new(Exit::Busy, "locked").into());
        let err = err.context("promoting into production").unwrap_err();
        assert_eq!(exit_of(&err), Exit::Busy);
        assert_eq!(exit_of(&anyhow::anyhow!("plain")), Exit::Failed);
    }

    #[test]
    fn a_typed_context_gives_the_exit_code_and_hint() {
        let err: anyhow::Result<()> = Err(anyhow::anyhow!("line 3: bad indentation"));
        let err = err
            .context(Error::new(Exit::Usage, "bad file").with_hint("fix it"))
            .unwrap_err();
        assert_eq!(exit_of(&err), Exit::Usage);
        assert_eq!(hint_of(&err), Some("fix it"));
        assert_eq!(
            err.chain().nth(1).map(ToString::to_string).as_deref(),
            Some("line 3: bad indentation")
        );
    }
}
