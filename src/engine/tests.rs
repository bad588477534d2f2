//! The engine's decisions, without I/O: a plan, some events, some environment files.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};

use super::decide::{Decision, Inputs, Rule, approver_allowed, blocking_rules, next};
use super::event::{EnvFile, Event, EventKind, Live, Lock, ReleaseFile};
use super::state::fold;
use crate::plan::Plan;

const PLAN: &str = r#"version: 1
app: checkout
artifact: { name: ghcr.io/acme/checkout }
providers:
  deploy:
    p: { type: exec, command: ["true"] }
environments:
  - name: staging
    deploy: p
  - name: production
    deploy: p
    requires: { soak: 30m }
    approval: { approvers: ["alice@acme.io", "*@sre.acme.io"], min: 2, allow_self: false }
    freeze: [ { from: "2026-12-20T00:00:00Z", to: "2027-01-04T00:00:00Z" } ]
    steps:
      - deploy: { weight: 10 }
      - approval: { approvers: ["bob@acme.io"] }
      - deploy: {}
"#;

const R: &str = "checkout-4f2a9c1be0d3";

fn plan() -> Plan {
    crate::plan::parse(Path::new("release.yaml"), PLAN.as_bytes()).expect("a valid plan")
}

fn t(hour: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, hour, min, 0)
        .single()
        .expect("a time")
}

fn event(env: Option<&str>, kind: EventKind, actor: &str) -> Event {
    Event {
        at: t(10, 0),
        actor: actor.into(),
        env: env.map(str::to_string),
        target: None,
        kind,
        relctl: "0".into(),
        plan: "x".into(),
        ci: None,
        actor_source: None,
    }
}

fn release(events: Vec<Event>) -> ReleaseFile {
    let mut all = vec![event(
        None,
        EventKind::Started {
            artifact: "a".into(),
            digest: "d".into(),
            version: "v".into(),
            source_commit: None,
            targets: vec!["staging".into(), "production".into()],
        },
        "dev@acme.io",
    )];
    all.extend(events);
    ReleaseFile {
        release: R.into(),
        app: "checkout".into(),
        artifact: "a".into(),
        digest: "d".into(),
        version: "v".into(),
        source_commit: None,
        source_commit_time: None,
        notes: None,
        events: all,
    }
}

fn live(release: &str, since: DateTime<Utc>) -> Live {
    Live {
        release: release.into(),
        by: "dev@acme.io".into(),
        artifact: "a".into(),
        digest: "d".into(),
        version: "v".into(),
        since,
    }
}

fn decide(
    events: Vec<Event>,
    envs: &[(&str, EnvFile)],
    now: DateTime<Utc>,
    lifted: &[Rule],
) -> Decision {
    decide_for(&["staging", "production"], events, envs, now, lifted)
}

/// The decision for a run whose targets are `targets`.
fn decide_for(
    targets: &[&str],
    events: Vec<Event>,
    envs: &[(&str, EnvFile)],
    now: DateTime<Utc>,
    lifted: &[Rule],
) -> Decision {
    with_inputs(targets, events, envs, now, lifted, next)
}

/// `f` of the inputs a run with `targets` decides from.
fn with_inputs<T>(
    targets: &[&str],
    events: Vec<Event>,
    envs: &[(&str, EnvFile)],
    now: DateTime<Utc>,
    lifted: &[Rule],
    f: impl FnOnce(&Inputs) -> T,
) -> T {
    let plan = plan();
    let file = release(events);
    let state = fold(Some(&file));
    let envs: BTreeMap<String, EnvFile> = envs
        .iter()
        .map(|(n, f)| (n.to_string(), f.clone()))
        .collect();
    let targets: Vec<String> = targets.iter().map(|t| t.to_string()).collect();
    f(&Inputs {
        plan: &plan,
        release: R,
        state: &state,
        envs: &envs,
        targets: &targets,
        now,
        lifted,
    })
}

fn staging_live(since: DateTime<Utc>) -> (&'static str, EnvFile) {
    (
        "staging",
        EnvFile {
            environment: "staging".into(),
            live: Some(live(R, since)),
            ..EnvFile::default()
        },
    )
}

fn in_production() -> Vec<Event> {
    vec![event(
        Some("production"),
        EventKind::Entered { baseline: None },
        "dev@acme.io",
    )]
}

#[test]
fn a_new_release_enters_the_first_environment() {
    assert_eq!(
        decide(vec![], &[], t(10, 0), &[]),
        Decision::Enter {
            env: "staging".into()
        }
    );
}

#[test]
fn inside_an_environment_the_steps_run_in_order_then_it_goes_live() {
    let entered = vec![event(
        Some("staging"),
        EventKind::Entered { baseline: None },
        "dev@acme.io",
    )];
    assert_eq!(
        decide(entered.clone(), &[], t(10, 0), &[]),
        Decision::Step {
            env: "staging".into(),
            index: 0
        }
    );
    let mut done = entered;
    done.push(event(
        Some("staging"),
        EventKind::StepDone {
            step: 0,
            action: "deploy".into(),
            detail: serde_json::Value::Null,
            ms: 1,
        },
        "x",
    ));
    assert_eq!(
        decide(done, &[], t(10, 0), &[]),
        Decision::MarkLive {
            env: "staging".into()
        }
    );
}

#[test]
fn order_soak_and_freeze_block_and_can_be_lifted() {
    let d = decide(vec![], &[("staging", EnvFile::default())], t(10, 0), &[]);
    assert_eq!(
        d,
        Decision::Enter {
            env: "staging".into()
        }
    );
    // Live in staging for 10 minutes: soak not over.
    let d = decide(vec![], &[staging_live(t(10, 0))], t(10, 10), &[]);
    assert!(
        matches!(d, Decision::Blocked { rule: Rule::Soak, ref reason, .. } if reason.contains("20m to go")),
        "{d:?}"
    );
    assert_eq!(
        decide(vec![], &[staging_live(t(10, 0))], t(10, 10), &[Rule::Soak]),
        Decision::Enter {
            env: "production".into()
        }
    );
    assert_eq!(
        decide(vec![], &[staging_live(t(10, 0))], t(10, 30), &[]),
        Decision::Enter {
            env: "production".into()
        }
    );
    // Frozen at Christmas.
    let xmas = Utc
        .with_ymd_and_hms(2026, 12, 24, 12, 0, 0)
        .single()
        .expect("a time");
    let d = decide(vec![], &[staging_live(t(10, 0))], xmas, &[]);
    assert!(
        matches!(
            d,
            Decision::Blocked {
                rule: Rule::Freeze,
                ..
            }
        ),
        "{d:?}"
    );
    assert_eq!(
        decide(vec![], &[staging_live(t(10, 0))], xmas, &[Rule::Freeze]),
        Decision::Enter {
            env: "production".into()
        }
    );
}

#[test]
fn an_environment_locked_by_another_release_is_busy() {
    let locked = EnvFile {
        lock: Some(Lock {
            release: "checkout-000000000000".into(),
            by: "eve".into(),
            since: t(9, 0),
            run: None,
        }),
        ..EnvFile::default()
    };
    let d = decide(
        vec![],
        &[staging_live(t(9, 0)), ("production", locked)],
        t(11, 0),
        &[],
    );
    assert!(
        matches!(d, Decision::Busy { ref env, ref holder, .. } if env == "production" && holder.starts_with("checkout-000000000000")),
        "{d:?}"
    );
}

#[test]
fn approvals_count_only_allowed_distinct_approvers() {
    let mut events = in_production();
    let d = decide(events.clone(), &[staging_live(t(9, 0))], t(11, 0), &[]);
    assert!(
        matches!(d, Decision::AwaitApproval { step: None, ref have, .. } if have.is_empty()),
        "{d:?}"
    );
    // The starter approving is not counted (allow_self: false); nor is a stranger; nor a repeat.
    for who in [
        "dev@acme.io",
        "mallory@evil.io",
        "alice@acme.io",
        "alice@acme.io",
    ] {
        events.push(event(
            Some("production"),
            EventKind::Approved {
                step: None,
                by: who.into(),
                comment: None,
            },
            who,
        ));
    }
    let d = decide(events.clone(), &[staging_live(t(9, 0))], t(11, 0), &[]);
    assert!(
        matches!(d, Decision::AwaitApproval { ref have, .. } if have == &["alice@acme.io".to_string()]),
        "{d:?}"
    );
    events.push(event(
        Some("production"),
        EventKind::Approved {
            step: None,
            by: "ops@sre.acme.io".into(),
            comment: None,
        },
        "ops",
    ));
    assert_eq!(
        decide(events.clone(), &[staging_live(t(9, 0))], t(11, 0), &[]),
        Decision::Step {
            env: "production".into(),
            index: 0
        }
    );
    // The approval step has its own approvers.
    events.push(event(
        Some("production"),
        EventKind::StepDone {
            step: 0,
            action: "deploy".into(),
            detail: serde_json::Value::Null,
            ms: 1,
        },
        "x",
    ));
    let d = decide(events.clone(), &[staging_live(t(9, 0))], t(11, 0), &[]);
    assert!(
        matches!(d, Decision::AwaitApproval { step: Some(1), ref approval, .. } if approval.approvers == ["bob@acme.io"]),
        "{d:?}"
    );
    events.push(event(
        Some("production"),
        EventKind::Approved {
            step: Some(1),
            by: "bob@acme.io".into(),
            comment: None,
        },
        "bob",
    ));
    assert_eq!(
        decide(events, &[staging_live(t(9, 0))], t(11, 0), &[]),
        Decision::Step {
            env: "production".into(),
            index: 1
        }
    );
}

#[test]
fn a_failed_gate_or_a_rejection_rolls_back_and_then_stays_rejected() {
    let mut events = in_production();
    events.push(event(
        Some("production"),
        EventKind::Rejected {
            by: "alice@acme.io".into(),
            reason: "no".into(),
        },
        "alice",
    ));
    let d = decide(events.clone(), &[staging_live(t(9, 0))], t(11, 0), &[]);
    assert!(
        matches!(d, Decision::RollBack { ref reason, .. } if reason == "rejected by alice@acme.io: no"),
        "{d:?}"
    );
    events.push(event(
        Some("production"),
        EventKind::RolledBack {
            to: None,
            reason: "no".into(),
            ms: None,
            nothing_deployed: true,
        },
        "x",
    ));
    let d = decide(events, &[staging_live(t(9, 0))], t(11, 0), &[]);
    assert!(
        matches!(
            d,
            Decision::Blocked {
                rule: Rule::RejectedBefore,
                ..
            }
        ),
        "{d:?}"
    );

    let mut events = in_production();
    events.push(event(
        Some("production"),
        EventKind::StepFailed {
            step: 0,
            action: "exec".into(),
            error: "exit 1".into(),
            gate: true,
        },
        "x",
    ));
    let d = decide(events, &[staging_live(t(9, 0))], t(11, 0), &[]);
    assert!(
        matches!(d, Decision::RollBack { ref reason, .. } if reason.contains("exit 1")),
        "{d:?}"
    );
}

#[test]
fn a_provider_failure_is_retried_and_an_intent_without_outcome_is_in_flight() {
    let mut events = in_production();
    events.push(event(
        Some("production"),
        EventKind::Approved {
            step: None,
            by: "alice@acme.io".into(),
            comment: None,
        },
        "a",
    ));
    events.push(event(
        Some("production"),
        EventKind::Approved {
            step: None,
            by: "ops@sre.acme.io".into(),
            comment: None,
        },
        "o",
    ));
    events.push(event(
        Some("production"),
        EventKind::Intent {
            step: 0,
            action: "deploy".into(),
            request: serde_json::Value::Null,
        },
        "x",
    ));
    let state = fold(Some(&release(events.clone())));
    assert_eq!(state.env("production").in_flight.map(|(s, _)| s), Some(0));
    assert_eq!(
        decide(events.clone(), &[staging_live(t(9, 0))], t(11, 0), &[]),
        Decision::Step {
            env: "production".into(),
            index: 0
        }
    );
    events.push(event(
        Some("production"),
        EventKind::StepFailed {
            step: 0,
            action: "deploy".into(),
            error: "503".into(),
            gate: false,
        },
        "x",
    ));
    assert_eq!(
        decide(events, &[staging_live(t(9, 0))], t(11, 0), &[]),
        Decision::Step {
            env: "production".into(),
            index: 0
        }
    );
}

#[test]
fn a_release_already_live_is_done_and_one_rejected_before_is_blocked() {
    let both = [
        staging_live(t(9, 0)),
        (
            "production",
            EnvFile {
                live: Some(live(R, t(10, 0))),
                ..EnvFile::default()
            },
        ),
    ];
    assert_eq!(decide(vec![], &both, t(11, 0), &[]), Decision::Done);
    let rejected = EnvFile {
        rejected: vec![R.into()],
        ..EnvFile::default()
    };
    let d = decide(
        vec![],
        &[staging_live(t(9, 0)), ("production", rejected.clone())],
        t(11, 0),
        &[],
    );
    assert!(
        matches!(
            d,
            Decision::Blocked {
                rule: Rule::RejectedBefore,
                ..
            }
        ),
        "{d:?}"
    );
    let d = decide(
        vec![],
        &[staging_live(t(9, 0)), ("production", rejected)],
        t(11, 0),
        &[Rule::RejectedBefore],
    );
    assert_eq!(
        d,
        Decision::Enter {
            env: "production".into()
        }
    );
}

#[test]
fn approver_patterns() {
    let approval = crate::plan::Approval {
        approvers: vec!["alice@acme.io".into(), "*@sre.acme.io".into()],
        min: 1,
        allow_self: false,
        signed: false,
        allowed_signers: String::new(),
        signed_set: false,
        allowed_signers_set: false,
    };
    assert!(approver_allowed(&approval, "ALICE@acme.io", None).is_ok());
    assert!(approver_allowed(&approval, "x@sre.acme.io", None).is_ok());
    assert!(approver_allowed(&approval, "x@notsre.acme.io", None).is_err());
    assert!(approver_allowed(&approval, "sre.acme.io", None).is_err());
    assert!(approver_allowed(&approval, "alice@acme.io", Some("alice@acme.io")).is_err());
}

#[test]
fn an_environment_file_keeps_the_last_releases_most_recent_first() {
    let mut file = EnvFile::default();
    let at = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
    for i in 0..super::event::PREVIOUS_KEPT + 5 {
        file.push_previous(live(&format!("r{i}"), at));
    }
    assert_eq!(file.previous.len(), super::event::PREVIOUS_KEPT);
    assert_eq!(
        file.previous[0].release,
        format!("r{}", super::event::PREVIOUS_KEPT + 4)
    );
    assert_eq!(file.previous.last().map(|l| l.release.as_str()), Some("r5"));
}

#[test]
fn one_person_in_two_cases_is_one_approval() {
    let mut events = in_production();
    for by in ["bob@sre.acme.io", "BOB@SRE.ACME.IO"] {
        let kind = EventKind::Approved {
            step: None,
            by: by.into(),
            comment: None,
        };
        events.push(event(Some("production"), kind, by));
    }
    let state = fold(Some(&release(events.clone())));
    assert_eq!(state.env("production").approvals[&None].len(), 1);
    match decide(events, &[staging_live(t(8, 0))], t(10, 0), &[]) {
        Decision::AwaitApproval { have, .. } => assert_eq!(have.len(), 1),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_later_promote_extends_the_targets_and_a_gate_once_passed_waits_no_more() {
    let mut events = in_production();
    events.push(event(
        None,
        EventKind::Extended {
            targets: vec!["staging".into(), "production".into()],
        },
        "dev@acme.io",
    ));
    events.push(event(
        Some("production"),
        EventKind::AwaitingApproval { step: None },
        "dev@acme.io",
    ));
    let waiting = fold(Some(&release(events.clone())));
    assert_eq!(waiting.targets, ["staging", "production"]);
    assert_eq!(waiting.env("production").waiting_at(), Some(None));
    events.push(event(
        Some("production"),
        EventKind::Intent {
            step: 0,
            action: "deploy 10%".into(),
            request: serde_json::Value::Null,
        },
        "dev@acme.io",
    ));
    let under_way = fold(Some(&release(events))).env("production");
    assert_eq!(under_way.waiting_at(), None);
    assert_eq!(under_way.position(3), Some(1));
}

fn in_production_approved() -> Vec<Event> {
    let mut events = in_production();
    for by in ["alice@acme.io", "ops@sre.acme.io"] {
        let kind = EventKind::Approved {
            step: None,
            by: by.into(),
            comment: None,
        };
        events.push(event(Some("production"), kind, by));
    }
    events
}

fn step_done(step: usize) -> Event {
    event(
        Some("production"),
        EventKind::StepDone {
            step,
            action: "deploy".into(),
            detail: serde_json::Value::Null,
            ms: 1,
        },
        "x",
    )
}

fn christmas() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 24, 12, 0, 0)
        .single()
        .expect("a time")
}

#[test]
fn production_waits_until_the_release_is_live_in_staging_unless_order_is_lifted() {
    let d = decide_for(&["production"], vec![], &[], t(10, 0), &[]);
    assert_eq!(
        d,
        Decision::Blocked {
            env: "production".into(),
            rule: Rule::Order,
            reason: format!("{R} is not live in staging yet"),
        }
    );
    // Another release live in staging is not this one.
    let other = (
        "staging",
        EnvFile {
            live: Some(live("checkout-000000000000", t(9, 0))),
            ..EnvFile::default()
        },
    );
    let d = decide_for(&["production"], vec![], &[other], t(10, 0), &[]);
    assert!(
        matches!(
            d,
            Decision::Blocked {
                rule: Rule::Order,
                ..
            }
        ),
        "{d:?}"
    );
    assert_eq!(
        decide_for(&["production"], vec![], &[], t(10, 0), &[Rule::Order]),
        Decision::Enter {
            env: "production".into()
        }
    );
}

#[test]
fn a_soak_says_how_long_is_left_and_ends_at_its_length() {
    let d = decide(vec![], &[staging_live(t(10, 0))], t(10, 29), &[]);
    assert_eq!(
        d,
        Decision::Blocked {
            env: "production".into(),
            rule: Rule::Soak,
            reason: format!("{R} must soak in staging for 30m before production; 1m to go"),
        }
    );
    // Live in staging "later" than now (a clock behind another's): nothing soaked yet.
    let d = decide(vec![], &[staging_live(t(11, 0))], t(10, 0), &[]);
    assert!(
        matches!(d, Decision::Blocked { rule: Rule::Soak, ref reason, .. } if reason.ends_with("30m to go")),
        "{d:?}"
    );
}

#[test]
fn a_freeze_holds_from_its_start_until_just_before_its_end() {
    let at = |y, m, d| {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0)
            .single()
            .expect("a time")
    };
    let staging = [staging_live(t(9, 0))];
    let frozen = |now| {
        matches!(
            decide(vec![], &staging, now, &[]),
            Decision::Blocked {
                rule: Rule::Freeze,
                ..
            }
        )
    };
    assert!(!frozen(at(2026, 12, 19) + chrono::Duration::hours(23)));
    assert!(frozen(at(2026, 12, 20)));
    assert!(frozen(at(2027, 1, 4) - chrono::Duration::seconds(1)));
    assert!(!frozen(at(2027, 1, 4)));
    let d = decide(vec![], &staging, christmas(), &[]);
    assert!(
        matches!(d, Decision::Blocked { ref reason, .. } if reason == "production is frozen until 2027-01-04 00:00 UTC (freeze)"),
        "{d:?}"
    );
}

#[test]
fn every_rule_that_stands_in_the_way_is_listed_and_the_first_not_lifted_blocks() {
    let staging = [staging_live(christmas() - chrono::Duration::minutes(10))];
    let rules = with_inputs(
        &["staging", "production"],
        vec![],
        &staging,
        christmas(),
        &[Rule::Soak],
        |i| blocking_rules(i, "production"),
    );
    let names: Vec<Rule> = rules.iter().map(|(rule, _)| *rule).collect();
    assert_eq!(names, [Rule::Soak, Rule::Freeze]);
    let d = decide(vec![], &staging, christmas(), &[Rule::Soak]);
    assert!(
        matches!(
            d,
            Decision::Blocked {
                rule: Rule::Freeze,
                ..
            }
        ),
        "{d:?}"
    );
    assert_eq!(
        decide(vec![], &staging, christmas(), &[Rule::Soak, Rule::Freeze]),
        Decision::Enter {
            env: "production".into()
        }
    );
}

#[test]
fn its_own_lock_left_behind_is_no_obstacle() {
    let own = EnvFile {
        lock: Some(Lock {
            release: R.into(),
            by: "dev@acme.io".into(),
            since: t(9, 0),
            run: None,
        }),
        ..EnvFile::default()
    };
    assert_eq!(
        decide(
            vec![],
            &[staging_live(t(9, 0)), ("production", own)],
            t(11, 0),
            &[]
        ),
        Decision::Enter {
            env: "production".into()
        }
    );
}

#[test]
fn after_every_step_and_gate_the_release_is_marked_live_then_done() {
    let mut events = in_production_approved();
    events.push(step_done(0));
    events.push(event(
        Some("production"),
        EventKind::Approved {
            step: Some(1),
            by: "bob@acme.io".into(),
            comment: None,
        },
        "bob",
    ));
    for step in [1, 2] {
        events.push(step_done(step));
    }
    let envs = [staging_live(t(9, 0))];
    assert_eq!(
        decide(events.clone(), &envs, t(11, 0), &[]),
        Decision::MarkLive {
            env: "production".into()
        }
    );
    events.push(event(Some("production"), EventKind::Live, "x"));
    assert_eq!(decide(events, &envs, t(11, 0), &[]), Decision::Done);
}

#[test]
fn an_interrupted_rollback_is_finished_first() {
    let mut events = in_production_approved();
    events.push(event(
        Some("production"),
        EventKind::RollbackStarted {
            reason: "error-rate".into(),
        },
        "x",
    ));
    assert_eq!(
        decide(events, &[staging_live(t(9, 0))], t(11, 0), &[]),
        Decision::RollBack {
            env: "production".into(),
            reason: "finishing an interrupted rollback".into()
        }
    );
}

#[test]
fn a_rejection_is_rolled_back_before_a_failed_gate_is() {
    let mut events = in_production_approved();
    events.push(event(
        Some("production"),
        EventKind::StepFailed {
            step: 0,
            action: "exec".into(),
            error: "exit 1".into(),
            gate: true,
        },
        "x",
    ));
    events.push(event(
        Some("production"),
        EventKind::Rejected {
            by: "alice@acme.io".into(),
            reason: "bad".into(),
        },
        "alice",
    ));
    assert_eq!(
        decide(events, &[staging_live(t(9, 0))], t(11, 0), &[]),
        Decision::RollBack {
            env: "production".into(),
            reason: "rejected by alice@acme.io: bad".into()
        }
    );
}

#[test]
fn an_aborted_or_rolled_back_visit_is_entered_again_only_when_forced() {
    for (end, said) in [
        (
            EventKind::Aborted {
                reason: "stop".into(),
            },
            "was aborted in production by x at 2026-11-22 10:00:00Z (stop) before",
        ),
        (
            EventKind::RolledBack {
                to: None,
                reason: "error-rate".into(),
                ms: None,
                nothing_deployed: false,
            },
            "was rolled back in production before",
        ),
    ] {
        let mut events = in_production();
        events.push(event(Some("production"), end, "x"));
        let envs = [staging_live(t(9, 0))];
        assert_eq!(
            decide(events.clone(), &envs, t(11, 0), &[]),
            Decision::Blocked {
                env: "production".into(),
                rule: Rule::RejectedBefore,
                reason: format!("{R} {said}"),
            }
        );
        assert_eq!(
            decide(events, &envs, t(11, 0), &[Rule::RejectedBefore]),
            Decision::Enter {
                env: "production".into()
            }
        );
    }
}

/// Aborted between staging and production (live in staging, not yet in production):
/// it enters production only when forced, and stays stopped until a `--force` past the
/// rule is recorded (`overridden`) or the release starts again.
#[test]
fn a_release_aborted_between_environments_goes_further_only_when_forced() {
    let aborted = vec![
        event(Some("staging"), EventKind::Entered { baseline: None }, "x"),
        event(Some("staging"), EventKind::Live, "x"),
        event(
            None,
            EventKind::Aborted {
                reason: "bad build".into(),
            },
            "ana@acme.io",
        ),
    ];
    // Production is free and staging has soaked: only the abort stands in the way.
    let envs = [staging_live(t(9, 0))];
    let blocked = Decision::Blocked {
        env: "production".into(),
        rule: Rule::RejectedBefore,
        reason: format!(
            "{R} was aborted by ana@acme.io at 2026-11-22 10:00:00Z (bad build) and goes no further"
        ),
    };
    assert_eq!(decide(aborted.clone(), &envs, t(11, 0), &[]), blocked);
    let enter = Decision::Enter {
        env: "production".into(),
    };
    assert_eq!(
        decide(aborted.clone(), &envs, t(11, 0), &[Rule::RejectedBefore]),
        enter
    );
    // Another rule's override does not lift it; the rule's own does, as a new start does.
    let overridden = |rule: Rule| {
        event(
            Some("production"),
            EventKind::Overridden {
                rule: rule.name().into(),
                reason: "r".into(),
            },
            "x",
        )
    };
    let mut events = aborted.clone();
    events.push(overridden(Rule::Freeze));
    assert_eq!(decide(events.clone(), &envs, t(11, 0), &[]), blocked);
    events.push(overridden(Rule::RejectedBefore));
    assert_eq!(decide(events, &envs, t(11, 0), &[]), enter);
    let mut events = aborted;
    events.push(event(
        None,
        EventKind::Extended {
            targets: vec!["staging".into(), "production".into()],
        },
        "x",
    ));
    assert_eq!(decide(events, &envs, t(11, 0), &[]), enter);
}

#[test]
fn a_broken_lock_makes_the_release_enter_again() {
    let mut events = in_production_approved();
    events.push(step_done(0));
    events.push(event(
        Some("production"),
        EventKind::Unlocked {
            reason: "stuck".into(),
        },
        "ops",
    ));
    assert_eq!(
        decide(events, &[staging_live(t(9, 0))], t(11, 0), &[]),
        Decision::Enter {
            env: "production".into()
        }
    );
}

#[test]
fn an_inconclusive_analysis_is_run_again() {
    let mut events = in_production_approved();
    events.push(event(
        Some("production"),
        EventKind::Inconclusive {
            step: 0,
            reason: "no data".into(),
        },
        "x",
    ));
    assert_eq!(
        decide(events, &[staging_live(t(9, 0))], t(11, 0), &[]),
        Decision::Step {
            env: "production".into(),
            index: 0
        }
    );
}

#[test]
fn a_target_the_plan_does_not_have_is_passed_over() {
    assert_eq!(
        decide_for(&["qa", "staging"], vec![], &[], t(10, 0), &[]),
        Decision::Enter {
            env: "staging".into()
        }
    );
    assert_eq!(
        decide_for(&["qa"], vec![], &[], t(10, 0), &[]),
        Decision::Done
    );
}

#[test]
fn a_release_replaced_since_it_went_live_is_not_live_and_enters_again_only_when_forced() {
    let staging = |since| {
        vec![
            event(Some("staging"), EventKind::Entered { baseline: None }, "x"),
            event(Some("staging"), EventKind::Live, "x"),
        ]
        .into_iter()
        .map(|mut e: Event| {
            e.at = since;
            e
        })
        .collect::<Vec<_>>()
    };
    let newer = "checkout-999999999999";
    let replaced = [(
        "staging",
        EnvFile {
            environment: "staging".into(),
            live: Some(live(newer, t(10, 30))),
            ..EnvFile::default()
        },
    )];
    let d = decide_for(&["staging"], staging(t(9, 0)), &replaced, t(11, 0), &[]);
    match d {
        Decision::Blocked {
            env,
            rule: Rule::Replaced,
            reason,
        } => {
            assert_eq!(env, "staging");
            assert_eq!(
                reason,
                format!("{R} went live in staging before and {newer} has replaced it since")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        decide_for(
            &["staging"],
            staging(t(9, 0)),
            &replaced,
            t(11, 0),
            &[Rule::Replaced]
        ),
        Decision::Enter {
            env: "staging".into()
        }
    );
    // Still live there: nothing to do, as before.
    assert_eq!(
        decide_for(
            &["staging"],
            staging(t(9, 0)),
            &[staging_live(t(9, 0))],
            t(11, 0),
            &[]
        ),
        Decision::Done
    );
}

#[test]
fn the_order_rule_says_when_the_environment_before_runs_a_newer_release_since() {
    let newer = "checkout-999999999999";
    let events = vec![
        event(Some("staging"), EventKind::Entered { baseline: None }, "x"),
        event(Some("staging"), EventKind::Live, "x"),
    ];
    let staging = [(
        "staging",
        EnvFile {
            environment: "staging".into(),
            live: Some(live(newer, t(10, 30))),
            ..EnvFile::default()
        },
    )];
    let rules = with_inputs(&["production"], events, &staging, t(11, 0), &[], |i| {
        blocking_rules(i, "production")
    });
    assert!(
        rules.iter().any(|(rule, why)| *rule == Rule::Order
            && why
                == &format!(
                    "{R} went live in staging before and {newer} has replaced it there since"
                )),
        "{rules:?}"
    );
}
