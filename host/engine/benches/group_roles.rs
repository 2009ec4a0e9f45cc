//! Group-role fan-out: what a group change costs when its name is a target's provisioning role.
//!
//! `cargo bench -p provisioner-engine --bench group_roles`
//!
//! One tenant over a SQLite store in a temporary directory, one target with
//! `provisioning_roles = ["sales"]`, `GROUP_BENCH_MEMBERS` users (default 2,000). Measured, each
//! as one committed group change (its transaction queues the members' jobs):
//! 1. create the group `sales` with every user: a create job per member;
//! 2. add one member to it, then remove one: one job each, whatever the group's size;
//! 3. an unrelated group (`other`) of the same size gaining one member: no member is read;
//! 4. rename `sales`: a delete job per member;
//! 5. a user update in scope through its group (reads the user's group names).

#[path = "../tests/engine_support/mod.rs"]
#[allow(missing_docs)]
mod engine_support;

use std::time::Instant;

use engine_support::*;
use provisioner_engine::store::OutboundSettings;
use provisioner_engine::{Engine, GroupChange, GroupState, UserChange};

fn group(id: &str, name: &str, members: &[String]) -> GroupState {
    GroupState {
        id: id.into(),
        display_name: name.into(),
        members: members.to_vec(),
        ..GroupState::default()
    }
}

/// Runs `change` and prints its duration and the jobs it queued.
async fn timed(engine: &Engine, what: &str, change: GroupChange) {
    let started = Instant::now();
    let receipt = engine.apply_group_change(TENANT, change).await.unwrap();
    println!(
        "{what:<44} {:>9.1} ms  {:>6} jobs",
        started.elapsed().as_secs_f64() * 1e3,
        receipt.jobs.len()
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let members: usize = std::env::var("GROUP_BENCH_MEMBERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let (store, _dir) = store().await;
    add_target(
        &store,
        "sf",
        OutboundSettings {
            provisioning_roles: vec!["sales".into()],
            ..fast_settings()
        },
    )
    .await;
    let engine = Engine::new(store.clone());
    let ids: Vec<String> = (0..=members).map(|i| format!("u{i:06}")).collect();
    for id in &ids {
        create(&engine, user(id, "A", &[])).await;
    }
    let (all, extra) = ids.split_at(members);
    println!("{members} members, one role-scoped target");
    timed(
        &engine,
        "create `sales` with every member",
        GroupChange::Create(group("g", "sales", all)),
    )
    .await;
    let mut grown = all.to_vec();
    grown.push(extra[0].clone());
    timed(
        &engine,
        "add one member to `sales`",
        GroupChange::Update(group("g", "sales", &grown)),
    )
    .await;
    timed(
        &engine,
        "remove one member from `sales`",
        GroupChange::Update(group("g", "sales", all)),
    )
    .await;
    timed(
        &engine,
        "create `other` (no role) with every member",
        GroupChange::Create(group("o", "other", all)),
    )
    .await;
    timed(
        &engine,
        "add one member to `other`",
        GroupChange::Update(group("o", "other", &grown)),
    )
    .await;
    timed(
        &engine,
        "rename `sales` to `former-sales`",
        GroupChange::Update(group("g", "former-sales", all)),
    )
    .await;
    timed(
        &engine,
        "rename it back to `sales`",
        GroupChange::Update(group("g", "sales", all)),
    )
    .await;
    let started = Instant::now();
    let rounds = 200;
    for _ in 0..rounds {
        engine
            .apply_user_change(TENANT, UserChange::Update(user(&all[0], "B", &[])))
            .await
            .unwrap();
        engine
            .apply_user_change(TENANT, UserChange::Update(user(&all[0], "A", &[])))
            .await
            .unwrap();
    }
    println!(
        "{:<44} {:>9.3} ms",
        "user update in scope through 2 groups (mean)",
        started.elapsed().as_secs_f64() * 1e3 / (2 * rounds) as f64
    );
}
