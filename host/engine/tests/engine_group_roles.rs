//! Group roles fanned out: a group named after a target's provisioning role provisions its
//! members there, and joining, leaving, renaming and deleting it queue the members' jobs in the
//! group change's own transaction, touching only the members the change concerns.

mod engine_support;

use engine_support::*;
use provisioner_contract::{EntityKind, Operation};
use provisioner_engine::store::{OutboundSettings, Store};
use provisioner_engine::{ChangeReceipt, Engine, GroupChange, GroupState, UserChange};

fn sales_only() -> OutboundSettings {
    OutboundSettings {
        provisioning_roles: vec!["sales".into()],
        ..fast_settings()
    }
}

fn group(id: &str, name: &str, members: &[&str]) -> GroupState {
    GroupState {
        id: id.into(),
        display_name: name.into(),
        members: members.iter().map(|m| m.to_string()).collect(),
        ..GroupState::default()
    }
}

/// The user jobs of a receipt: (target, user id, operation), in queue order.
async fn user_jobs(store: &Store, receipt: &ChangeReceipt) -> Vec<(String, String, Operation)> {
    let ids: Vec<i64> = receipt.jobs.iter().map(|job| job.job_id).collect();
    let mut jobs = store.jobs_by_id(&ids).await.unwrap();
    jobs.sort_by_key(|job| job.id);
    jobs.into_iter()
        .filter(|job| job.entity_kind == EntityKind::User)
        .map(|job| (job.target, job.entity_id, job.operation))
        .collect()
}

fn job(target: &str, user: &str, operation: Operation) -> (String, String, Operation) {
    (target.into(), user.into(), operation)
}

async fn apply(engine: &Engine, change: GroupChange) -> ChangeReceipt {
    engine.apply_group_change(TENANT, change).await.unwrap()
}

/// Whether the fake target holds an active object for user `id`.
fn active_in(fake: &FakeTarget, id: &str) -> bool {
    fake.named(&format!("{id}@example.com"))
        .iter()
        .any(|object| object.active)
}

#[tokio::test]
async fn joining_a_role_group_provisions_and_leaving_it_deprovisions() {
    let (store, _dir) = store().await;
    add_target(&store, "sf", sales_only()).await;
    let engine = Engine::new(store.clone());
    let fake = FakeTarget::new(true);
    let dispatcher = dispatcher(&engine, FakeSource::with(&[("sf", fake.clone())]));

    assert!(create(&engine, user("u1", "A", &[])).await.is_empty());
    create(&engine, user("u2", "B", &[])).await;

    let receipt = apply(&engine, GroupChange::Create(group("g", "sales", &["u1"]))).await;
    assert_eq!(
        user_jobs(&store, &receipt).await,
        [job("sf", "u1", Operation::Create)]
    );
    assert!(
        receipt
            .jobs
            .iter()
            .filter(|queued| queued.operation == Operation::Create)
            .all(|queued| !queued.blocking),
        "a group write never waits for its members"
    );
    dispatcher.run_until_idle().await.unwrap();
    assert!(active_in(&fake, "u1"));
    assert!(fake.named("u2@example.com").is_empty());

    // Only the member that changed is touched: u2 joins, u1 stays.
    let receipt = apply(
        &engine,
        GroupChange::Update(group("g", "sales", &["u1", "u2"])),
    )
    .await;
    assert_eq!(
        user_jobs(&store, &receipt).await,
        [job("sf", "u2", Operation::Create)]
    );
    dispatcher.run_until_idle().await.unwrap();
    assert!(active_in(&fake, "u2"));

    // u1 leaves: deprovisioned, as a user leaving the scope is.
    let receipt = apply(&engine, GroupChange::Update(group("g", "sales", &["u2"]))).await;
    assert_eq!(
        user_jobs(&store, &receipt).await,
        [job("sf", "u1", Operation::Delete)]
    );
    dispatcher.run_until_idle().await.unwrap();
    assert!(!active_in(&fake, "u1"));
    assert!(active_in(&fake, "u2"));
}

#[tokio::test]
async fn renaming_or_deleting_a_role_group_fans_out_to_all_its_members() {
    let (store, _dir) = store().await;
    add_target(&store, "sf", sales_only()).await;
    let engine = Engine::new(store.clone());
    for id in ["u1", "u2", "u3"] {
        create(&engine, user(id, "A", &[])).await;
    }
    // u3 holds the role itself: no group change moves it.
    engine
        .apply_user_change(TENANT, UserChange::Update(user("u3", "A", &["sales"])))
        .await
        .unwrap();

    let receipt = apply(
        &engine,
        GroupChange::Create(group("g", "other", &["u1", "u2", "u3"])),
    )
    .await;
    assert!(user_jobs(&store, &receipt).await.is_empty(), "not a role");

    let receipt = apply(
        &engine,
        GroupChange::Update(group("g", "sales", &["u1", "u2", "u3"])),
    )
    .await;
    assert_eq!(
        user_jobs(&store, &receipt).await,
        [
            job("sf", "u1", Operation::Create),
            job("sf", "u2", Operation::Create)
        ]
    );

    let receipt = apply(&engine, GroupChange::Delete { id: "g".into() }).await;
    assert_eq!(
        user_jobs(&store, &receipt).await,
        [
            job("sf", "u1", Operation::Delete),
            job("sf", "u2", Operation::Delete)
        ]
    );
    assert!(store
        .groups_with_member(TENANT, "u1")
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn another_group_with_the_role_keeps_a_member_in_scope() {
    let (store, _dir) = store().await;
    add_target(&store, "sf", sales_only()).await;
    let engine = Engine::new(store.clone());
    create(&engine, user("u1", "A", &[])).await;
    apply(&engine, GroupChange::Create(group("g1", "sales", &["u1"]))).await;
    // A second group cannot have the same name, but a rename can give the role to another.
    apply(&engine, GroupChange::Create(group("g2", "team", &["u1"]))).await;
    let receipt = apply(
        &engine,
        GroupChange::Update(group("g1", "old-sales", &["u1"])),
    )
    .await;
    assert_eq!(
        user_jobs(&store, &receipt).await,
        [job("sf", "u1", Operation::Delete)]
    );
    let receipt = apply(&engine, GroupChange::Update(group("g2", "sales", &["u1"]))).await;
    assert_eq!(
        user_jobs(&store, &receipt).await,
        [job("sf", "u1", Operation::Create)]
    );
    // Leaving a group that grants no role of the target changes nothing.
    let receipt = apply(&engine, GroupChange::Update(group("g1", "old-sales", &[]))).await;
    assert!(user_jobs(&store, &receipt).await.is_empty());
}

#[tokio::test]
async fn a_user_change_counts_its_group_roles() {
    let (store, _dir) = store().await;
    add_target(&store, "sf", sales_only()).await;
    let engine = Engine::new(store.clone());
    create(&engine, user("u1", "A", &[])).await;
    apply(&engine, GroupChange::Create(group("g", "sales", &["u1"]))).await;

    let receipt = engine
        .apply_user_change(TENANT, UserChange::Update(user("u1", "B", &[])))
        .await
        .unwrap();
    assert_eq!(
        receipt
            .jobs
            .iter()
            .map(|queued| (queued.target.as_str(), queued.operation))
            .collect::<Vec<_>>(),
        [("sf", Operation::Update)],
        "in scope through its group, so a claim change is an update"
    );
    // A user created while already a member (the group named its id first) is in scope.
    apply(
        &engine,
        GroupChange::Update(group("g", "sales", &["u1", "u9"])),
    )
    .await;
    let receipt = engine
        .apply_user_change(TENANT, UserChange::Create(user("u9", "C", &[])))
        .await
        .unwrap();
    assert_eq!(receipt.jobs.len(), 1);
    assert_eq!(receipt.jobs[0].operation, Operation::Create);
}

#[tokio::test]
async fn a_member_back_in_scope_reactivates_the_record_its_target_kept() {
    let (store, _dir) = store().await;
    add_target(&store, "sf", sales_only()).await;
    let engine = Engine::new(store.clone());
    let fake = FakeTarget::new(true);
    fake.state.lock().unwrap().delete_keeps_mapping = true;
    let dispatcher = dispatcher(&engine, FakeSource::with(&[("sf", fake.clone())]));
    create(&engine, user("u1", "A", &[])).await;
    apply(&engine, GroupChange::Create(group("g", "sales", &["u1"]))).await;
    dispatcher.run_until_idle().await.unwrap();
    let remote = store
        .remote_id(TENANT, "sf", EntityKind::User, "u1")
        .await
        .unwrap();
    assert!(remote.is_some());

    apply(&engine, GroupChange::Update(group("g", "sales", &[]))).await;
    dispatcher.run_until_idle().await.unwrap();
    assert!(!active_in(&fake, "u1"));
    assert_eq!(
        store
            .remote_id(TENANT, "sf", EntityKind::User, "u1")
            .await
            .unwrap(),
        remote,
        "the target answered the id: the mapping is kept"
    );

    apply(&engine, GroupChange::Update(group("g", "sales", &["u1"]))).await;
    dispatcher.run_until_idle().await.unwrap();
    let objects = fake.named("u1@example.com");
    assert_eq!(
        objects.len(),
        1,
        "the same record, reactivated: {objects:?}"
    );
    assert!(objects[0].active);
    let creates = fake
        .calls()
        .into_iter()
        .filter(|call| call == "create u1@example.com")
        .count();
    assert_eq!(creates, 1, "{:?}", fake.calls());
}
