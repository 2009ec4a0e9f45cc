//! Deactivation is not deprovisioning: a user whose account-disabled claim becomes true stays
//! in scope and is updated (the target deactivates it and the mapping is kept), a user created
//! disabled is created inactive, and every connector is sent the claim with one value.

mod engine_support;

use engine_support::*;
use provisioner_contract::{EntityKind, Operation, ACCOUNT_DISABLED_CLAIM};
use provisioner_engine::{ChangeReceipt, Engine, UserChange, UserState};

fn with_disabled(mut state: UserState, disabled: &str) -> UserState {
    state
        .claims
        .insert(ACCOUNT_DISABLED_CLAIM.into(), vec![disabled.into()]);
    state
}

/// A store with one fast-retrying target `t` served by a fake, its engine and a dispatcher.
struct OneTarget {
    store: provisioner_engine::store::Store,
    _dir: tempfile::TempDir,
    engine: Engine,
    fake: std::sync::Arc<FakeTarget>,
    dispatcher: provisioner_engine::Dispatcher,
}

async fn one_target() -> OneTarget {
    let (store, _dir) = store().await;
    add_target(&store, "t", fast_settings()).await;
    let engine = Engine::new(store.clone());
    let fake = FakeTarget::new(true);
    let dispatcher = dispatcher(&engine, FakeSource::with(&[("t", fake.clone())]));
    OneTarget {
        store,
        _dir,
        engine,
        fake,
        dispatcher,
    }
}

/// Replaces user `u` with the account-disabled claim set to `disabled`.
async fn set_disabled(engine: &Engine, disabled: &str) -> ChangeReceipt {
    engine
        .apply_user_change(
            TENANT,
            UserChange::Update(with_disabled(user("u", "A", &[]), disabled)),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn disabling_and_enabling_are_updates_that_keep_the_mapping() {
    let OneTarget {
        store,
        _dir,
        engine,
        fake,
        dispatcher,
    } = one_target().await;
    create(&engine, user("u", "A", &[])).await;
    dispatcher.run_until_idle().await.unwrap();
    let object = &fake.named("u@example.com")[0];
    assert!(object.active);
    assert_eq!(
        object.claims[ACCOUNT_DISABLED_CLAIM],
        ["false"],
        "sent though the user never had it"
    );
    let remote = store
        .remote_id(TENANT, "t", EntityKind::User, "u")
        .await
        .unwrap()
        .expect("mapped");

    // Storing the value it already had in effect queues nothing.
    let receipt = set_disabled(&engine, "false").await;
    assert!(receipt.jobs.is_empty(), "{receipt:?}");

    let receipt = set_disabled(&engine, "true").await;
    assert_eq!(receipt.jobs.len(), 1);
    assert_eq!(receipt.jobs[0].operation, Operation::Update);
    let job = store.job(receipt.jobs[0].job_id).await.unwrap().unwrap();
    assert_eq!(job.changed_claims, [ACCOUNT_DISABLED_CLAIM]);
    dispatcher.run_until_idle().await.unwrap();
    let objects = fake.named("u@example.com");
    assert_eq!(objects.len(), 1);
    assert!(!objects[0].active);
    assert_eq!(
        store
            .remote_id(TENANT, "t", EntityKind::User, "u")
            .await
            .unwrap(),
        Some(remote.clone())
    );

    set_disabled(&engine, "false").await;
    dispatcher.run_until_idle().await.unwrap();
    let objects = fake.named("u@example.com");
    assert_eq!(objects.len(), 1, "reactivated, not created again");
    assert!(objects[0].active);
    assert!(!fake.calls().iter().any(|call| call.starts_with("delete")));
}

#[tokio::test]
async fn a_user_created_disabled_is_created_inactive() {
    let OneTarget {
        store: _,
        _dir,
        engine,
        fake,
        dispatcher,
    } = one_target().await;
    let jobs = create(&engine, with_disabled(user("u", "A", &[]), "TRUE")).await;
    assert_eq!(jobs.len(), 1);
    dispatcher.run_until_idle().await.unwrap();
    let objects = fake.named("u@example.com");
    assert_eq!(objects.len(), 1);
    assert!(!objects[0].active);
    assert_eq!(
        objects[0].claims[ACCOUNT_DISABLED_CLAIM],
        ["true"],
        "normalised to lower case"
    );
}

#[tokio::test]
async fn a_deactivation_whose_answer_is_lost_is_retried_to_the_same_end() {
    let OneTarget {
        store,
        _dir,
        engine,
        fake,
        dispatcher,
    } = one_target().await;
    create(&engine, user("u", "A", &[])).await;
    dispatcher.run_until_idle().await.unwrap();
    // The deactivation is applied, but the connection resets before the answer.
    fake.push_fault(Call::Update, transient("CONNECTION_RESET", true), true);
    let receipt = set_disabled(&engine, "true").await;
    dispatcher.run_until_idle().await.unwrap();
    let job = store.job(receipt.jobs[0].job_id).await.unwrap().unwrap();
    assert_eq!(job.state, provisioner_engine::store::JobState::Done);
    assert_eq!(job.attempts, 1, "one failed attempt, then success");
    let objects = fake.named("u@example.com");
    assert_eq!(objects.len(), 1, "never created twice");
    assert!(!objects[0].active);
    let updates = fake
        .calls()
        .into_iter()
        .filter(|call| call == "update u@example.com")
        .count();
    assert_eq!(updates, 2, "{:?}", fake.calls());
}
