//! Taking turns on one machine: a file lock in the records repository's git directory,
//! held by the process for as long as it runs and given back by the kernel when it
//! ends, however it ends. `relctl rollback` takes one per environment (the next
//! rollback waits, then decides on what the first did); `promote` and `resume` take
//! one per release (a second process driving the same release is refused). Between
//! clones, the record's compare-and-swap decides.

use std::fs::{File, OpenOptions, TryLockError};

use anyhow::Context as _;

use crate::record::Store;

/// What trying to take a turn found.
pub enum Turn {
    /// This process holds the turn until the file is dropped.
    Taken(File),
    /// Another process holds it; `wait` blocks until it is given back.
    Busy(File),
    /// The lock file cannot be made here (a read-only repository): go on without turns.
    Unavailable,
}

impl Turn {
    /// Tries to take the turn named `name` (a file name in the git directory).
    pub fn try_take(store: &Store, name: &str) -> Turn {
        let path = store.common_dir().join(name);
        let opened = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path);
        let file = match opened {
            Ok(file) => file,
            Err(err) => {
                tracing::debug!(path = %path.display(), %err, "going on without taking turns");
                return Turn::Unavailable;
            }
        };
        match file.try_lock() {
            Ok(()) => Turn::Taken(file),
            Err(TryLockError::WouldBlock) => Turn::Busy(file),
            Err(TryLockError::Error(err)) => {
                tracing::debug!(path = %path.display(), %err, "going on without taking turns");
                Turn::Unavailable
            }
        }
    }
}

/// Waits for a turn another process holds.
pub fn wait(file: File) -> anyhow::Result<File> {
    file.lock().context("waiting for another relctl to end")?;
    Ok(file)
}
