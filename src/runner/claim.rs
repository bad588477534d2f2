//! Which run holds an environment. The lock names the release that holds an environment
//! and, since a release can be driven from two places at once (two CI jobs, two clones),
//! the run: one relctl process. Every event a run driving the release (promote, resume)
//! records in an environment its release holds names the run in the lock, in the same
//! compare-and-swap as the event; so does a rollback or an abort in the lock it takes.
//! A run that had held its release's lock and finds another run named there was taken
//! over and stops before it acts again (README, "Interrupts and crashes"). A run that
//! died leaves its name behind, so the next run of the release takes over without asking.

use std::cell::Cell;

use chrono::{DateTime, Utc};

use crate::engine::{EnvFile, EventKind, Lock};

/// This run's name, whether it has held its release's lock yet, and when it last
/// recorded an event.
pub struct Claim {
    run: String,
    /// Driving the release (promote, resume), not acting on it in an incident.
    driving: Cell<bool>,
    held: Cell<bool>,
    last: Cell<Option<DateTime<Utc>>>,
    /// Decisions in a row made on a view that was gone by the time they were recorded.
    gone: Cell<u32>,
}

/// Why a run may not record an event where it meant to: another run of its release
/// took the environment over (`taken`), or the release no longer holds it at all, since
/// another run of it went on there (the run decided on a view that is gone).
#[derive(Debug)]
pub struct Lost {
    pub env: String,
    /// Who holds the environment now, or made the release live there.
    pub by: String,
    pub taken: bool,
}

impl std::fmt::Display for Lost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.taken {
            write!(f, "another run took {} over (by {})", self.env, self.by)
        } else {
            write!(
                f,
                "another run of it went on in {} (by {})",
                self.env, self.by
            )
        }
    }
}

impl std::error::Error for Lost {}

/// Events a run records only while its release holds the environment: the steps, the
/// wait at a gate, going live and taking over. Anything else (entering, a budget read,
/// an interrupt) may come before the lock or after it.
fn needs_the_lock(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Intent { .. }
            | EventKind::StepDone { .. }
            | EventKind::StepFailed { .. }
            | EventKind::TargetFailed { .. }
            | EventKind::Measured { .. }
            | EventKind::Inconclusive { .. }
            | EventKind::AwaitingApproval { .. }
            | EventKind::Live
            | EventKind::TakenOver { .. }
    )
}

impl Claim {
    pub fn new() -> Claim {
        Claim {
            run: run_name(),
            driving: Cell::new(false),
            held: Cell::new(false),
            last: Cell::new(None),
            gone: Cell::new(0),
        }
    }

    /// Before `kind` is recorded in `file` for `release`: whether this run lost the
    /// environment. It did when it had held the release's lock and the lock now names
    /// another run; and a run driving the release, about to record a step there, when
    /// the release no longer holds the environment (another run of it went on).
    pub fn lost(&self, release: &str, kind: &EventKind, file: &EnvFile) -> Option<Lost> {
        let lost = |by: &str, taken: bool| {
            Some(Lost {
                env: file.environment.clone(),
                by: by.to_string(),
                taken,
            })
        };
        match &file.lock {
            Some(lock) if lock.release == release => match &lock.run {
                Some(run) if *run != self.run && self.held.get() => lost(&lock.by, true),
                _ => None,
            },
            _ if !self.driving.get() || !needs_the_lock(kind) => None,
            Some(lock) => lost(&lock.by, false),
            None => lost(file.live.as_ref().map_or("?", |l| l.by.as_str()), false),
        }
    }

    /// Whether a run driving `release` must take `file`'s environment over before it
    /// acts there: the release holds it, for another run or none named. `Some(run)` is
    /// that run.
    pub fn to_take_over(&self, release: &str, file: Option<&EnvFile>) -> Option<Option<String>> {
        let lock = file?.lock.as_ref().filter(|l| l.release == release)?;
        (self.driving.get() && lock.run.as_deref() != Some(self.run.as_str()))
            .then(|| lock.run.clone())
    }

    /// Whether this run has held its release's lock: a run that never did and finds its
    /// view gone decides again rather than stop.
    pub fn held(&self) -> bool {
        self.held.get()
    }

    /// This run drives the release (promote, resume): it takes its release's lock over
    /// wherever it records. A run that only acts on a release (a rollback, an abort, the
    /// kill switch) names itself only in a lock its own event takes.
    pub fn drive(&self) {
        self.driving.set(true);
    }

    /// After the event `kind`'s own change to `file` (the lock was `before`): a lock the
    /// release holds names this run (and `actor`, who now holds it) when this run drives
    /// the release, the event took the lock, or it is an abort or a rollback's start.
    /// Says whether the lock names this run.
    pub fn take(
        &self,
        release: &str,
        actor: &str,
        (kind, before): (&EventKind, Option<&Lock>),
        file: &mut EnvFile,
    ) -> bool {
        // An abort, and a rollback of the release under way, take the environment from
        // whichever run drives it, so that it records no step after them.
        let takes = self.driving.get()
            || file.lock.as_ref() != before
            || matches!(
                kind,
                EventKind::Aborted { .. } | EventKind::RollbackStarted { .. }
            );
        let Some(lock) = (file.lock.as_mut()).filter(|l| l.release == release && takes) else {
            return false;
        };
        if lock.run.as_deref() != Some(self.run.as_str()) {
            lock.run = Some(self.run.clone());
            lock.by = actor.to_string();
        }
        true
    }

    /// This run recorded an event at `at`, and `named` says whether it named the run
    /// in its release's lock.
    pub fn recorded(&self, at: DateTime<Utc>, named: bool) {
        self.last.set(Some(at));
        self.gone.set(0);
        if named {
            self.held.set(true);
        }
    }

    /// A decision was made on a view that was gone: how many in a row now.
    pub fn gone(&self) -> u32 {
        self.gone.set(self.gone.get().saturating_add(1));
        self.gone.get()
    }

    /// When this run last recorded an event: what others did since is what took it over.
    pub fn last_recorded(&self) -> Option<DateTime<Utc>> {
        self.last.get()
    }
}

/// A name no other run has: 12 hex characters from the system's random source, or from
/// the clock and the process id if that fails.
fn run_name() -> String {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 6];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let mixed = u64::from(std::process::id()) << 32 | u64::from(nanos);
        bytes.copy_from_slice(&mixed.to_be_bytes()[2..]);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Live;

    fn locked(release: &str, run: Option<&str>) -> EnvFile {
        EnvFile {
            environment: "production".to_string(),
            lock: Some(Lock {
                release: release.to_string(),
                by: "a@example.com".to_string(),
                since: crate::clock::at("2026-11-01T10:00:00Z"),
                run: run.map(str::to_string),
            }),
            ..EnvFile::default()
        }
    }

    fn intent() -> EventKind {
        EventKind::Intent {
            step: 0,
            action: "deploy".to_string(),
            request: serde_json::Value::Null,
        }
    }

    /// A run driving `app-1` that has recorded in production as `actor`: its claim,
    /// and the environment file naming it in the lock.
    fn driving(actor: &str) -> (Claim, EnvFile) {
        let claim = Claim::new();
        claim.drive();
        let mut file = locked("app-1", None);
        let before = file.lock.clone();
        claim.take("app-1", actor, (&intent(), before.as_ref()), &mut file);
        claim.recorded(crate::clock::now(), true);
        (claim, file)
    }

    #[test]
    fn a_run_takes_over_a_lock_its_release_holds_and_keeps_it() {
        let claim = Claim::new();
        claim.drive();
        let mut file = locked("app-1", Some("dead0000dead"));
        assert!(claim.lost("app-1", &EventKind::Live, &file).is_none());
        let before = file.lock.clone();
        assert!(claim.take(
            "app-1",
            "b@example.com",
            (&EventKind::Live, before.as_ref()),
            &mut file
        ));
        claim.recorded(crate::clock::now(), true);
        let lock = file.lock.as_ref().expect("a lock");
        assert_eq!(lock.run.as_deref(), Some(claim.run.as_str()));
        assert_eq!(lock.by, "b@example.com");
        assert!(claim.lost("app-1", &intent(), &file).is_none());
    }

    #[test]
    fn a_run_whose_lock_names_another_run_was_taken_over() {
        let (claim, file) = driving("a@example.com");
        let mut other = file.clone();
        let (taker, before) = (Claim::new(), other.lock.clone());
        taker.drive();
        taker.take(
            "app-1",
            "b@example.com",
            (&EventKind::Live, before.as_ref()),
            &mut other,
        );
        let lost = claim.lost("app-1", &EventKind::Live, &other).expect("lost");
        assert_eq!(
            lost.to_string(),
            "another run took production over (by b@example.com)"
        );
    }

    #[test]
    fn a_run_about_to_deploy_where_its_release_let_go_stops() {
        let (claim, mut file) = driving("a@example.com");
        file.lock = None;
        file.live = Some(Live {
            release: "app-1".to_string(),
            by: "b@example.com".to_string(),
            artifact: "r@sha256:01".to_string(),
            digest: "sha256:01".to_string(),
            version: "1".to_string(),
            since: crate::clock::at("2026-11-01T11:00:00Z"),
        });
        let interrupted = EventKind::Interrupted { step: None };
        assert!(claim.lost("app-1", &interrupted, &file).is_none());
        assert!(claim.lost("app-1", &EventKind::Live, &file).is_some());
        let lost = claim.lost("app-1", &intent(), &file).expect("lost");
        assert_eq!(lost.by, "b@example.com");
        assert!(!lost.taken);
        assert_eq!(
            lost.to_string(),
            "another run of it went on in production (by b@example.com)"
        );
        // A lock of another release, at a deploy: stale too.
        let other = locked("app-2", None);
        assert!(claim.lost("app-1", &intent(), &other).is_some());
    }

    /// A run driving the release takes over where the lock names another run, or none,
    /// and goes on where it is named itself.
    #[test]
    fn a_driving_run_takes_over_before_it_acts() {
        let claim = Claim::new();
        let file = locked("app-1", Some("dead0000dead"));
        assert_eq!(
            claim.to_take_over("app-1", Some(&file)),
            None,
            "not driving"
        );
        claim.drive();
        assert_eq!(
            claim.to_take_over("app-1", Some(&file)),
            Some(Some("dead0000dead".to_string()))
        );
        assert_eq!(
            claim.to_take_over("app-1", Some(&locked("app-1", None))),
            Some(None)
        );
        assert_eq!(claim.to_take_over("app-2", Some(&file)), None);
        assert_eq!(claim.to_take_over("app-1", None), None);
        let mut mine = file.clone();
        let before = mine.lock.clone();
        claim.take(
            "app-1",
            "b@example.com",
            (&EventKind::Live, before.as_ref()),
            &mut mine,
        );
        assert_eq!(claim.to_take_over("app-1", Some(&mine)), None);
        // Never having held it, the run is not taken over by the lock's other run...
        assert!(claim.lost("app-1", &intent(), &file).is_none());
        // ...but a step where its release holds nothing is a view that is gone.
        let lost = claim
            .lost("app-1", &intent(), &EnvFile::default())
            .expect("lost");
        assert!(!lost.taken);
    }

    #[test]
    fn a_run_that_never_held_a_lock_is_never_taken_over() {
        let claim = Claim::new();
        assert!(
            claim
                .lost("app-1", &intent(), &locked("app-1", Some("x")))
                .is_none()
        );
        assert!(
            claim
                .lost("app-1", &intent(), &EnvFile::default())
                .is_none()
        );
    }

    /// The kill switch records in an environment its release holds without taking the
    /// lock: the run driving the release keeps it. A rollback's own lock names it.
    #[test]
    fn a_run_that_only_acts_names_itself_only_in_a_lock_it_takes() {
        let claim = Claim::new();
        let mut file = locked("app-1", Some("driver000000"));
        let before = file.lock.clone();
        assert!(!claim.take(
            "app-1",
            "sre@example.com",
            (&EventKind::Live, before.as_ref()),
            &mut file
        ));
        assert_eq!(file.lock, before);
        let before = file.lock.clone();
        file.lock = Some(Lock {
            by: "sre@example.com".to_string(),
            run: None,
            ..before.clone().expect("a lock")
        });
        assert!(claim.take(
            "app-1",
            "sre@example.com",
            (&EventKind::Live, before.as_ref()),
            &mut file
        ));
        let lock = file.lock.expect("a lock");
        assert_eq!(lock.run.as_deref(), Some(claim.run.as_str()));
    }

    /// An abort, or the start of a rollback of the release, takes the environment from
    /// the run driving it, which then finds itself taken over at its next record.
    #[test]
    fn an_abort_takes_the_environment_from_the_run_driving_it() {
        let (driver, mut file) = driving("a@example.com");
        let abort = Claim::new();
        let aborted = EventKind::Aborted {
            reason: "errors".to_string(),
        };
        let before = file.lock.clone();
        assert!(abort.take(
            "app-1",
            "sre@example.com",
            (&aborted, before.as_ref()),
            &mut file
        ));
        let lost = driver.lost("app-1", &intent(), &file).expect("taken over");
        assert!(lost.taken);
        assert_eq!(lost.by, "sre@example.com");
    }

    #[test]
    fn run_names_differ() {
        let (a, b) = (Claim::new(), Claim::new());
        assert_eq!(a.run.len(), 12);
        assert_ne!(a.run, b.run);
    }
}
