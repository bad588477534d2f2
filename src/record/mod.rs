//! The release record: an orphan git branch written through the object database,
//! moved only by compare-and-swap and shared by fetch and push. What its files say
//! is the engine's business; this module promises that nothing recorded is lost.

mod held;
mod hooked;
mod http_config;
mod libgit2;
mod log;
mod packs;
mod remote;
mod shared;
mod store;
mod waiting;
pub use waiting::signalled_while_waiting;

pub use held::Held;
pub use libgit2::start_git;
pub use log::LogEntry;
pub use remote::Freshness;
pub use store::{Appended, Change, Commit, Resolver, Signer, Snapshot, Store, Sync};

#[cfg(test)]
mod tests;
