//! The release as a state machine: its state is a fold over recorded events, and the
//! next action is decided by pure functions. No I/O in here.

pub mod decide;
pub mod event;
pub mod state;
#[cfg(test)]
mod tests;
pub mod window;
pub use decide::{Decision, Inputs, Rule, next, rolled_back_before};
pub use event::{ActorSource, EnvFile, Event, EventKind, Live, Lock, ReleaseFile, RollbackNote};
pub use state::{EnvRun, Outcome, ReleaseState, fold, refused_by_budget, rejected_in};
