//! The record's format: which files the records branch holds and where (`layout`:
//! everything keyed by app, under `apps/<x>/<y>/<app>/`), what a release file and an
//! environment file contain and how they are read and written (`files`, `journal`),
//! which apps, environments and releases the record holds (`listing`), records
//! in older layouts (`legacy`: read as the apps they name, moved by one commit),
//! and the fast readers built on knowing exactly how relctl writes them (`rejected`,
//! `summary`, `scan`), and what each target of an environment runs (`targets`). Commands, the runner, notes and
//! reports ask this module; nothing else knows the layout. The types of the files'
//! contents are the engine's (`ReleaseFile`, `EnvFile`, src/engine/event.rs); the git
//! store underneath (src/record/) knows nothing of them.

mod files;
mod glance;
mod journal;
mod layout;
mod legacy;
mod listing;
mod rejected;
mod replay;
pub mod scan;
pub mod summary;
pub mod targets;

pub use files::{
    check_artifact, check_entry, check_own, entries_disagreeing, entry_disagrees, env_file,
    id_disagrees, is_named, read_env, read_envs, read_release, release_blob, release_file,
};
pub use glance::{env as glance_env, release as glance_release};
pub use journal::{AbortMoved, Author, Header, StartedMeanwhile, digest_taken, record, record_at};
pub use layout::{
    APPS, FORMAT, LAYOUT, app_dir, app_of_id, env_path, environments_dir, release_path,
    releases_dir, summary_beside, trailer,
};
pub use legacy::relocations;
pub use listing::{app_tree, apps, environments, release_ids};
pub use rejected::{bound as bound_rejected, rejected};
pub use replay::resolve;
