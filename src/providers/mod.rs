//! The outside world: the HTTP calls and commands that deploy and run steps (metric
//! providers and notify hooks will live here too). Templates are rendered before
//! anything here is called; everything it returns is already masked.

pub mod exec;
pub mod flags;
pub mod http;
pub mod metrics;
pub mod notify;
pub mod secrets;
pub mod tls;

pub use exec::{ExecError, Invocation, Output};
pub use http::{Call, CallError, Response, RetryDelay, WaitCall, WaitError};
pub use secrets::Secrets;
