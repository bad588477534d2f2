//! relctl's integration tests: one binary, the real `relctl` executable, temp dirs.

mod common;

mod analysis;
mod approvals;
mod apps;
mod bounds;
mod careless;
mod cli;
mod concurrency;
mod crashes;
mod demo;
mod engine_truth;
mod escaping;
mod generated;
mod github;
mod hang;
mod house;
mod identity;
mod incident;
mod metrics;
mod notes;
mod notify;
mod org_view;
mod outside_text;
mod promote;
mod record_sync;
mod reliability;
mod report;
mod rollback_gates;
mod rollback_races;
mod runbook;
mod secrets;
mod terminal;
mod tls;
mod validate;
mod wire;
