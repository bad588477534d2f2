//! relctl's integration tests: one binary, the real `relctl` executable, temp dirs.

mod common;

mod analysis;
mod approvals;
mod cli;
mod concurrency;
mod crashes;
mod demo;
mod generated;
mod incident;
mod metrics;
mod promote;
mod rollback_gates;
mod terminal;
mod validate;
