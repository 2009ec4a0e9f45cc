//! Schema migrations, embedded in the binary and applied when the store opens.

use std::borrow::Cow;

use futures::future::BoxFuture;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

use super::{Backend, DbPool, StoreError, StoreResult};

/// The SQLite migrations, in order: (version, description, SQL).
///
/// PostgreSQL applies the same versions ([`POSTGRES`]): a migration whose SQL both accept is
/// shared; the others have a PostgreSQL file of the same number in `migrations/postgres`.
const SQLITE: &[(i64, &str, &str)] = &[
    (
        1,
        "engine",
        include_str!("../../migrations/sqlite/0001_engine.sql"),
    ),
    (
        2,
        "fair dispatch",
        include_str!("../../migrations/sqlite/0002_fair_dispatch.sql"),
    ),
    (
        3,
        "names unique in any case",
        include_str!("../../migrations/sqlite/0003_names_unique_in_any_case.sql"),
    ),
    (
        4,
        "creation times",
        include_str!("../../migrations/sqlite/0004_creation_times.sql"),
    ),
    (
        5,
        "documents and search",
        include_str!("../../migrations/sqlite/0005_documents_and_search.sql"),
    ),
    (
        6,
        "hot swap",
        include_str!("../../migrations/sqlite/0006_hot_swap.sql"),
    ),
    (
        7,
        "batch dispatch",
        include_str!("../../migrations/sqlite/0007_batch_dispatch.sql"),
    ),
    (
        8,
        "availability",
        include_str!("../../migrations/sqlite/0008_availability.sql"),
    ),
    (
        9,
        "queue at scale",
        include_str!("../../migrations/sqlite/0009_queue_at_scale.sql"),
    ),
    (
        10,
        "sync runs",
        include_str!("../../migrations/sqlite/0010_sync_runs.sql"),
    ),
    (
        11,
        "stored secrets",
        include_str!("../../migrations/sqlite/0011_stored_secrets.sql"),
    ),
    PROVISIONING_LOG,
    (
        13,
        "reconciliation",
        include_str!("../../migrations/sqlite/0013_reconciliation.sql"),
    ),
    REQUEST_IDS,
    REMOTE_ID_LOOKUP,
];

/// Migration 12, shared by both backends (named, not indexed, so that inserting another
/// version before it in either list cannot make the other list point at the wrong one).
const PROVISIONING_LOG: (i64, &str, &str) = (
    12,
    "provisioning log",
    include_str!("../../migrations/sqlite/0012_provisioning_log.sql"),
);

/// Migration 14, shared by both backends.
const REQUEST_IDS: (i64, &str, &str) = (
    14,
    "request ids",
    include_str!("../../migrations/sqlite/0014_request_ids.sql"),
);

/// Migration 15, shared by both backends.
const REMOTE_ID_LOOKUP: (i64, &str, &str) = (
    15,
    "remote id lookup",
    include_str!("../../migrations/sqlite/0015_remote_id_lookup.sql"),
);

/// The PostgreSQL migrations, in order, with the same versions as [`SQLITE`].
const POSTGRES: &[(i64, &str, &str)] = &[
    (
        1,
        "engine",
        include_str!("../../migrations/postgres/0001_engine.sql"),
    ),
    SQLITE[1],
    SQLITE[2],
    SQLITE[3],
    (
        5,
        "documents and search",
        include_str!("../../migrations/postgres/0005_documents_and_search.sql"),
    ),
    (
        6,
        "hot swap",
        include_str!("../../migrations/postgres/0006_hot_swap.sql"),
    ),
    SQLITE[6],
    SQLITE[7],
    (
        9,
        "queue at scale",
        include_str!("../../migrations/postgres/0009_queue_at_scale.sql"),
    ),
    (
        10,
        "sync runs",
        include_str!("../../migrations/postgres/0010_sync_runs.sql"),
    ),
    SQLITE[10],
    PROVISIONING_LOG,
    (
        13,
        "reconciliation",
        include_str!("../../migrations/postgres/0013_reconciliation.sql"),
    ),
    REQUEST_IDS,
    REMOTE_ID_LOOKUP,
];

/// Migrations compiled into the binary.
#[derive(Debug)]
struct Embedded(&'static [(i64, &'static str, &'static str)]);

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|(version, description, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(*description),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// Applies every migration the database has not seen yet.
pub(super) async fn run(pool: &DbPool, backend: Backend) -> StoreResult<()> {
    let migrations = match backend {
        // Only SQLite databases predate migration 3.
        Backend::Sqlite => {
            check_names_unique_in_any_case(pool).await?;
            SQLITE
        }
        Backend::Postgres => POSTGRES,
    };
    let migrator = Migrator::new(Embedded(migrations)).await?;
    migrator.run(pool).await?;
    Ok(())
}

/// Migration 3 makes live names unique per tenant in any case. A database written before it may
/// hold names that differ only in case; the index would then fail with a bare constraint error.
/// This names each clash and what to do instead.
async fn check_names_unique_in_any_case(pool: &DbPool) -> StoreResult<()> {
    let applied: Option<i64> =
        sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_optional(pool)
            .await
            .ok()
            .flatten();
    // A new database, or one past migration 3, has nothing to check.
    if applied.is_none_or(|version| version >= 3) {
        return Ok(());
    }
    let mut clashes = Vec::new();
    for (kind, table, column) in [
        ("users", "local_users", "user_name"),
        ("groups", "local_groups", "display_name"),
    ] {
        let rows: Vec<(String, String)> = sqlx::query_as(&format!(
            "SELECT tenant, group_concat({column}, '`, `') FROM {table} WHERE deleted = FALSE \
             GROUP BY tenant, lower({column}) HAVING count(*) > 1 ORDER BY tenant LIMIT 20"
        ))
        .fetch_all(pool)
        .await?;
        clashes.extend(
            rows.into_iter()
                .map(|(tenant, names)| format!("tenant `{tenant}`, {kind} `{names}`")),
        );
    }
    if clashes.is_empty() {
        return Ok(());
    }
    Err(StoreError::Conflict(format!(
        "cannot upgrade the database: user names and group names are now unique per tenant in \
         any case, and these live names differ only in case: {}. Rename or delete all but one \
         of each with the version that wrote them, then start this version again",
        clashes.join("; ")
    )))
}
