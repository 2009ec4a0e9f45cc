//! Upgrading a database written by an earlier version: names that differ only in case, which
//! migration 3 forbids, are named with what to do, instead of failing on a bare constraint.
//! Only SQLite databases predate migration 3, so this runs on SQLite alone.

mod engine_support;

use engine_support::sqlite_store_with_url;
use provisioner_engine::store::{
    EntityCondition, EntityOrder, EntitySearch, EntityTable, KeyMatch, Store, StoreError,
};

async fn exec(store: &Store, sql: &str) {
    sqlx::query(sql).execute(store.pool()).await.unwrap();
}

#[tokio::test]
async fn names_differing_only_in_case_stop_the_upgrade_with_a_clear_message() {
    let (store, _dir, url) = sqlite_store_with_url().await;
    // The database as the version before migration 3 left it, holding two such names.
    for undo in [
        "DROP INDEX provisioned_ids_remote",
        "DROP INDEX jobs_dead",
        "DROP INDEX jobs_request",
        "ALTER TABLE jobs DROP COLUMN request_id",
        "DROP TABLE reconcile_seen",
        "DROP TABLE reconcile_drift",
        "DROP TABLE reconcile_runs",
        "ALTER TABLE targets DROP COLUMN reconcile_every_minutes",
        "ALTER TABLE targets DROP COLUMN reconcile_policy",
        "DROP INDEX attempts_outcome",
        "DROP INDEX attempts_log",
        "ALTER TABLE attempts DROP COLUMN fields",
        "ALTER TABLE attempts DROP COLUMN operation",
        "DROP TABLE stored_secrets",
        "DROP TRIGGER jobs_sync_run_progress",
        "ALTER TABLE jobs DROP COLUMN sync_run",
        "DROP TABLE sync_runs",
        "DROP TRIGGER jobs_block_behind",
        "DROP TRIGGER jobs_unblock_next",
        "DROP TRIGGER jobs_block_after_reopen",
        "DROP INDEX jobs_ready",
        "DROP INDEX jobs_open",
        "CREATE INDEX jobs_queue ON jobs (tenant, target, state, due_at, id)",
        "ALTER TABLE jobs DROP COLUMN blocked",
        "DROP INDEX attempts_target",
        "ALTER TABLE targets DROP COLUMN probing",
        "ALTER TABLE targets DROP COLUMN probe_job",
        "ALTER TABLE targets DROP COLUMN circuit_opens",
        "ALTER TABLE targets DROP COLUMN recovered_at",
        "ALTER TABLE targets DROP COLUMN batch_size",
        "DROP TABLE target_revisions",
        "DROP TABLE connector_components",
        "ALTER TABLE targets DROP COLUMN egress",
        "ALTER TABLE targets DROP COLUMN origin",
        "DROP TRIGGER local_users_count_insert",
        "DROP TRIGGER local_users_count_update",
        "DROP TRIGGER local_groups_count_insert",
        "DROP TRIGGER local_groups_count_update",
        "DROP TABLE local_entity_counts",
        "DROP TABLE local_group_members",
        "DROP TABLE local_search_keys",
        "DROP INDEX local_users_undocumented",
        "DROP INDEX local_groups_undocumented",
        "DROP INDEX local_users_live",
        "DROP INDEX local_groups_live",
        "DROP INDEX local_users_modified",
        "DROP INDEX local_users_created",
        "DROP INDEX local_groups_modified",
        "DROP INDEX local_groups_created",
        "ALTER TABLE local_users DROP COLUMN document",
        "ALTER TABLE local_groups DROP COLUMN document",
    ] {
        exec(&store, undo).await;
    }
    exec(&store, "DROP INDEX local_users_name_any_case").await;
    exec(&store, "DROP INDEX local_groups_name_any_case").await;
    exec(&store, "ALTER TABLE local_users DROP COLUMN created_at").await;
    exec(&store, "ALTER TABLE local_groups DROP COLUMN created_at").await;
    exec(&store, "DELETE FROM _sqlx_migrations WHERE version >= 3").await;
    for (id, name) in [("u1", "Alice@example.com"), ("u2", "alice@example.com")] {
        exec(
            &store,
            &format!(
                "INSERT INTO local_users (tenant, id, user_name, claims, roles, version, deleted, \
                 updated_at) VALUES ('acme', '{id}', '{name}', '{{}}', '[]', 1, FALSE, 0)"
            ),
        )
        .await;
    }
    store.pool().close().await;

    let error = Store::open(&url).await.unwrap_err();
    let StoreError::Conflict(message) = &error else {
        panic!("{error:?}")
    };
    for needle in [
        "tenant `acme`, users `",
        "Alice@example.com",
        "alice@example.com",
        "Rename or delete all but one",
    ] {
        assert!(message.contains(needle), "{needle} missing from: {message}");
    }

    // Once the clash is resolved, the upgrade goes through and the rule holds.
    let raw = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("DELETE FROM local_users WHERE id = 'u2'")
        .execute(&raw)
        .await
        .unwrap();
    raw.close().await;
    let store = Store::open(&url).await.unwrap();
    let indexes: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE name = 'local_users_name_any_case'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(indexes, 1);

    // Migration 5 indexed the rows it found: the user's name is a search key and the tenant's
    // live count is kept.
    let found = store
        .search_users(
            "acme",
            &EntitySearch {
                condition: EntityCondition::Key {
                    attr: "userName".into(),
                    matching: KeyMatch::Equals("alice@example.com".into()),
                },
                order: EntityOrder::Id,
                descending: false,
                offset: 0,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(found.total, 1);
    assert_eq!(found.items[0].id, "u1");
    assert_eq!(
        store.live_count("acme", EntityTable::Users).await.unwrap(),
        1
    );
}
