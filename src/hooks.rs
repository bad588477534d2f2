//! Test hooks: environment variables that pin the clock, speed up waits or kill the
//! process at a chosen point. Only a build with the `test-hooks` cargo feature reads
//! them (the test suite turns it on through a dev-dependency on this crate); in any
//! other build, a release build included, `get` is `None` and the variables' names are
//! not even in the binary, so a pinned clock cannot lift a freeze in production.

/// A hook, named for what it changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// `RELCTL_NOW` (RFC 3339): the clock that freeze windows, soak and records read.
    Now,
    /// `RELCTL_FAULT_CRASH_AFTER=k`: abort right after the k-th record commit.
    CrashAfter,
    /// `RELCTL_BACKOFF_MS`: the base of the retry backoff, in milliseconds.
    BackoffMs,
    /// `RELCTL_POLL_MS`: how often the record is polled (approvals, locks).
    PollMs,
}

#[cfg(feature = "test-hooks")]
impl Hook {
    pub const ALL: [Hook; 4] = [Hook::Now, Hook::CrashAfter, Hook::BackoffMs, Hook::PollMs];

    pub fn var(self) -> &'static str {
        match self {
            Hook::Now => "RELCTL_NOW",
            Hook::CrashAfter => "RELCTL_FAULT_CRASH_AFTER",
            Hook::BackoffMs => "RELCTL_BACKOFF_MS",
            Hook::PollMs => "RELCTL_POLL_MS",
        }
    }
}

/// The hook's value, when this build reads hooks and it is set.
#[cfg(feature = "test-hooks")]
pub fn get(hook: Hook) -> Option<String> {
    std::env::var(hook.var()).ok()
}

/// This build reads no hooks.
#[cfg(not(feature = "test-hooks"))]
pub fn get(_: Hook) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    /// Every hook is read through `get`: no other source file names a hook's variable,
    /// so a build without the feature cannot read one. (This crate's tests always build
    /// with the feature; the release binary is checked for the names by `.ci/run`.)
    #[cfg(feature = "test-hooks")]
    #[test]
    fn hooks_are_read_only_here() {
        use super::Hook;
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut dirs = vec![src];
        let mut offenders = Vec::new();
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("read src") {
                let path = entry.expect("a directory entry").path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") || path.ends_with("hooks.rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("read a source file");
                for hook in Hook::ALL {
                    // Named in a comment is fine; in code it would be read.
                    let in_code = text
                        .lines()
                        .filter(|l| !l.trim_start().starts_with("//"))
                        .any(|l| l.contains(hook.var()));
                    if in_code {
                        offenders.push(format!("{} names {}", path.display(), hook.var()));
                    }
                }
            }
        }
        assert!(offenders.is_empty(), "{offenders:#?}");
    }
}
