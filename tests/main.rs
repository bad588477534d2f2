//! relctl's integration tests: one binary, the real `relctl` executable, temp dirs.

mod common;

mod cli;
mod generated;
mod promote;
mod validate;
