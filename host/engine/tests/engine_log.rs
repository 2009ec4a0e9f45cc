//! The provisioning log: every call is recorded with its job's operation and the mapped fields
//! it carried (secrets redacted); the log filters by user (id or name, in any case), target,
//! outcome, inbound request and time, pages newest first by attempt id, and each filter reads an
//! index.

mod engine_support;

use std::collections::BTreeMap;

use engine_support::*;
use provisioner_contract::{ClaimMapping, EntityKind};
use provisioner_engine::observe::with_request_id;
use provisioner_engine::store::{AttemptRecord, Backend, LogEntry, LogFilter, Store, TargetSpec};
use provisioner_engine::Engine;

const PASSWORD_CLAIM: &str = "http://wso2.org/claims/password";

/// Puts target `name` with mappings for LastName, Email and a Password field.
async fn mapped_target(store: &Store, name: &str) {
    let mapping = |field: &str, claim: &str| ClaimMapping {
        target_field: field.into(),
        claim: Some(claim.into()),
        default_value: None,
    };
    store
        .put_target(&TargetSpec {
            tenant: TENANT.into(),
            name: name.into(),
            connector: "fake".into(),
            properties: BTreeMap::new(),
            secret_refs: BTreeMap::new(),
            claim_mappings: vec![
                mapping("LastName", LASTNAME),
                mapping("Email", EMAIL),
                mapping("Password", PASSWORD_CLAIM),
            ],
            settings: fast_settings(),
            egress: Default::default(),
        })
        .await
        .unwrap();
}

/// Three users provisioned to targets `a` and `b`; `b` refuses u3's name as invalid data. Each
/// user is created by a request of its own, `req-<id>`.
async fn provisioned() -> (Store, tempfile::TempDir) {
    let (store, dir) = store().await;
    mapped_target(&store, "a").await;
    mapped_target(&store, "b").await;
    let engine = Engine::new(store.clone());
    let (a, b) = (FakeTarget::new(true), FakeTarget::new(true));
    b.state
        .lock()
        .unwrap()
        .foreign_names
        .push("u3@example.com".into());
    for id in ["u1", "u2", "u3"] {
        let mut state = user(id, &format!("Last-{id}"), &[]);
        state
            .claims
            .insert(PASSWORD_CLAIM.into(), vec!["hunter2".into()]);
        with_request_id(format!("req-{id}"), create(&engine, state)).await;
    }
    dispatcher(&engine, FakeSource::with(&[("a", a), ("b", b)]))
        .run_until_idle()
        .await
        .unwrap();
    (store, dir)
}

async fn log(store: &Store, filter: LogFilter) -> Vec<LogEntry> {
    store.provisioning_log(TENANT, &filter).await.unwrap()
}

#[tokio::test]
async fn every_call_is_logged_with_its_operation_fields_and_user_name() {
    let (store, _dir) = provisioned().await;
    let all = log(&store, LogFilter::default()).await;
    // Six creates (three users, two targets), newest first.
    assert_eq!(all.len(), 6, "{all:#?}");
    let ids: Vec<i64> = all.iter().map(|e| e.attempt_id).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable_by(|x, y| y.cmp(x));
    assert_eq!(ids, sorted, "newest first");
    for entry in &all {
        assert_eq!(entry.operation.as_deref(), Some("create"));
        assert_eq!(entry.call, "create");
        assert_eq!(entry.entity_kind, EntityKind::User);
        let name = format!("{}@example.com", entry.entity_id);
        assert_eq!(entry.user_name.as_deref(), Some(name.as_str()));
        let fields = entry.fields.as_ref().expect("a create carries fields");
        assert_eq!(fields["LastName"], format!("Last-{}", entry.entity_id));
        assert_eq!(fields["Email"], name);
        assert_eq!(fields["Password"], "[redacted]");
    }
    // The attempts themselves carry what the log shows.
    let attempts = store
        .attempts_for_entity(TENANT, EntityKind::User, "u1")
        .await
        .unwrap();
    assert_eq!(attempts.len(), 2);
    assert!(attempts
        .iter()
        .all(|a| a.fields.as_ref().unwrap()["Password"] == "[redacted]"));
}

#[tokio::test]
async fn filters_by_user_target_and_outcome() {
    let (store, _dir) = provisioned().await;
    // A user by name in another case, and by id.
    for user in ["U1@Example.com", "u1"] {
        let entries = log(
            &store,
            LogFilter {
                user: Some(user.into()),
                ..LogFilter::default()
            },
        )
        .await;
        assert_eq!(entries.len(), 2, "{user}");
        assert!(entries.iter().all(|e| e.entity_id == "u1"));
    }
    let on_b = log(
        &store,
        LogFilter {
            target: Some("b".into()),
            ..LogFilter::default()
        },
    )
    .await;
    assert_eq!(on_b.len(), 3);
    assert!(on_b.iter().all(|e| e.target == "b"));

    let failed = log(
        &store,
        LogFilter {
            outcome: Some("invalid_data".into()),
            ..LogFilter::default()
        },
    )
    .await;
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0].entity_id, "u3");
    assert_eq!(failed[0].target, "b");
    assert_eq!(failed[0].target_code.as_deref(), Some("DUPLICATE_USERNAME"));
    assert!(failed[0].message.is_some());
    assert_eq!(failed[0].remote_id, None);

    let u3_on_a = log(
        &store,
        LogFilter {
            user: Some("u3@example.com".into()),
            target: Some("a".into()),
            outcome: Some("ok".into()),
            ..LogFilter::default()
        },
    )
    .await;
    assert_eq!(u3_on_a.len(), 1);
    assert!(u3_on_a[0].remote_id.is_some());

    let nobody = log(
        &store,
        LogFilter {
            user: Some("nobody@example.com".into()),
            ..LogFilter::default()
        },
    )
    .await;
    assert!(nobody.is_empty());
}

#[tokio::test]
async fn filters_by_the_request_that_queued_the_jobs() {
    let (store, _dir) = provisioned().await;
    let entries = log(
        &store,
        LogFilter {
            request: Some("req-u2".into()),
            ..LogFilter::default()
        },
    )
    .await;
    assert_eq!(entries.len(), 2, "{entries:#?}");
    assert!(entries.iter().all(|e| e.entity_id == "u2"));
    assert!(entries
        .iter()
        .all(|e| e.request_id.as_deref() == Some("req-u2")));
    assert!(
        entries[0].attempt_id > entries[1].attempt_id,
        "newest first"
    );
    // Every entry names the request that caused it.
    for entry in log(&store, LogFilter::default()).await {
        let expected = format!("req-{}", entry.entity_id);
        assert_eq!(entry.request_id.as_deref(), Some(expected.as_str()));
    }
    // Combined with the other filters; a request that queued nothing has no calls.
    let refused = log(
        &store,
        LogFilter {
            request: Some("req-u3".into()),
            outcome: Some("invalid_data".into()),
            ..LogFilter::default()
        },
    )
    .await;
    assert_eq!(refused.len(), 1, "{refused:#?}");
    assert_eq!(refused[0].target, "b");
    let none = LogFilter {
        request: Some("req-none".into()),
        ..LogFilter::default()
    };
    assert!(log(&store, none).await.is_empty());
}

#[tokio::test]
async fn pages_newest_first_by_attempt_id() {
    let (store, _dir) = provisioned().await;
    let all = log(&store, LogFilter::default()).await;
    let mut paged = Vec::new();
    let mut before = None;
    loop {
        let page = log(
            &store,
            LogFilter {
                limit: Some(4),
                before,
                ..LogFilter::default()
            },
        )
        .await;
        assert!(page.len() <= 4);
        let Some(last) = page.last() else { break };
        before = Some(last.attempt_id);
        paged.extend(page);
    }
    assert_eq!(paged, all);
}

#[tokio::test]
async fn filters_by_time() {
    let (store, _dir) = store().await;
    for (job_id, started_at) in [(1, 1_000), (2, 2_000), (3, 3_000)] {
        store
            .record_attempt(&AttemptRecord {
                id: 0,
                job_id,
                tenant: TENANT.into(),
                target: "t".into(),
                entity_kind: EntityKind::User,
                entity_id: "u".into(),
                operation: Some("update".into()),
                call: "update".into(),
                outcome: "ok".into(),
                target_code: None,
                message: None,
                remote_id: None,
                started_at,
                duration_ms: 1,
                fields: None,
            })
            .await
            .unwrap();
    }
    let window = log(
        &store,
        LogFilter {
            since: Some(2_000),
            until: Some(3_000),
            ..LogFilter::default()
        },
    )
    .await;
    assert_eq!(window.len(), 1);
    assert_eq!(window[0].time, 2_000);
    assert_eq!(window[0].job_id, 2);
    // No job row: the name is unknown, the entry is still listed.
    assert_eq!(window[0].user_name, None);
    let since = log(
        &store,
        LogFilter {
            since: Some(2_000),
            ..LogFilter::default()
        },
    )
    .await;
    assert_eq!(
        since.iter().map(|e| e.time).collect::<Vec<_>>(),
        [3_000, 2_000]
    );
}

#[tokio::test]
async fn each_filter_reads_an_index_not_the_tenants_history() {
    let (store, _dir) = store().await;
    if store.backend() != Backend::Sqlite {
        return; // EXPLAIN QUERY PLAN is SQLite's.
    }
    let cases = [
        (LogFilter::default(), "attempts_log"),
        (
            LogFilter {
                before: Some(100),
                since: Some(1),
                until: Some(2),
                ..LogFilter::default()
            },
            "attempts_log",
        ),
        (
            LogFilter {
                user: Some("u1".into()),
                ..LogFilter::default()
            },
            "attempts_entity",
        ),
        (
            LogFilter {
                user: Some("u1".into()),
                target: Some("a".into()),
                outcome: Some("ok".into()),
                ..LogFilter::default()
            },
            "attempts_entity",
        ),
        (
            LogFilter {
                target: Some("a".into()),
                ..LogFilter::default()
            },
            "attempts_target",
        ),
        (
            LogFilter {
                outcome: Some("invalid_data".into()),
                ..LogFilter::default()
            },
            "attempts_outcome",
        ),
        (
            LogFilter {
                request: Some("req-1".into()),
                ..LogFilter::default()
            },
            "attempts_job",
        ),
    ];
    for (filter, index) in cases {
        let plan = store.log_query_plan(TENANT, &filter).await.unwrap();
        let attempts_step = plan
            .lines()
            .find(|line| line.contains(" a "))
            .unwrap_or_else(|| panic!("no step reads the attempts: {plan}"));
        assert!(
            attempts_step.starts_with("SEARCH a USING INDEX")
                && attempts_step.contains(&format!("INDEX {index} ")),
            "{filter:?} should seek {index}:\n{plan}"
        );
        assert!(!plan.contains("SCAN"), "{filter:?} scans:\n{plan}");
        if filter.request.is_some() {
            assert!(
                plan.contains("USING INDEX jobs_request"),
                "{filter:?} should find the request's jobs by index:\n{plan}"
            );
        }
        // A user's or a request's calls are few, and sorted; any other filter walks its index
        // in order.
        if filter.user.is_none() && filter.request.is_none() {
            assert!(!plan.contains("TEMP B-TREE"), "{filter:?} sorts:\n{plan}");
        }
    }
}
