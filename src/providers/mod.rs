//! The outside world: the HTTP calls and commands that deploy and run steps (metric
//! providers and notify hooks will live here too). Templates are rendered before
//! anything here is called; everything it returns is already masked.

pub mod exec;
pub mod http;
pub mod metrics;
pub mod notify;
pub mod secrets;
pub mod tls;

pub use exec::{Command, ExecError, Output};
pub use http::{Backoff, Call, CallError, Response, WaitCall, WaitError};
pub use secrets::Secrets;
