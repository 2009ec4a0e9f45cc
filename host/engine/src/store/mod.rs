//! Durable storage: local users and groups, targets, provisioned identifiers, the job outbox and
//! the attempt log.
//!
//! SQLite in WAL mode is the embedded default; PostgreSQL is the store for several replicas
//! sharing one database. Queries run through sqlx's `Any` driver, and every query is ONE text
//! that both accept: numbered `$n` binds, `ON CONFLICT ... DO UPDATE`, `RETURNING`, integer epoch
//! milliseconds for time, `BOOLEAN` columns compared with `TRUE`/`FALSE`. What genuinely differs
//! lives in [`backend`] (opening, how a write transaction starts, the claim's row locks) and in
//! the DDL of the migrations (`migrations/sqlite`, `migrations/postgres`).

mod attempts;
mod backend;
mod batch_size;
mod claim;
mod components;
mod entities;
mod gauges;
mod identifiers;
mod jobs;
mod log;
mod migrations;
mod model;
mod reconcile_runs;
mod scope_filter;
mod search;
mod secrets;
mod seed;
mod sync_runs;
mod targets;

pub use backend::{redact, Backend};
pub use claim::{Claim, ClaimLimits, HeldBack, HoldReason};
pub use components::{component_reference, DIGEST_PREFIX};
pub use entities::{group_in, put_group, put_user, user_in};
pub use gauges::QueueGauge;
pub use identifiers::remote_id_in;
pub use jobs::{insert_jobs, JobUpdate};
pub use log::{LogEntry, LogFilter, DEFAULT_LOG_PAGE, MAX_LOG_PAGE};
pub use model::*;
pub(crate) use reconcile_runs::{
    mappings_seen_in, mark_seen_in, open_reconcile_run_in, record_reconcile_step_in,
    users_mapped_to_in,
};
pub use reconcile_runs::{
    Drift, DriftKind, ReconcilePolicy, ReconcileRun, ReconcileState, STALE_RUN_MS,
};
pub use scope_filter::ScopeFilter;
pub use search::{
    group_names_with_member_in, groups_with_member_in, memberships_in, set_search_keys,
    sync_members, users_after_in, users_by_ids_in, EntityCondition, EntityOrder, EntityPage,
    EntitySearch, EntityTable, KeyMatch, TimeCmp, TimeField,
};
pub use secrets::SealedSecret;
pub use seed::Seeded;
pub(crate) use sync_runs::{
    end_sync_walk_in, open_sync_run_in, record_sync_chunk_in, sync_run_in, unfinished_user_jobs_in,
    UnfinishedJob,
};
pub use sync_runs::{SyncRun, SyncState};
pub use targets::{targets_in, DeletedTarget};

/// The database driver the store's queries run on (either [`Backend`], chosen by URL).
pub type Db = sqlx::Any;
/// A connection of [`Db`].
pub type DbConn = sqlx::AnyConnection;
/// A row read from [`Db`].
pub type DbRow = sqlx::any::AnyRow;
/// A pool of [`Db`] connections.
pub type DbPool = sqlx::Pool<Db>;
/// An open transaction on [`Db`].
pub type Tx = sqlx::Transaction<'static, Db>;

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed a statement.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying the schema migrations failed.
    #[error("migrating the database failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored JSON column could not be read or written.
    #[error("stored JSON is malformed: {0}")]
    Json(#[from] serde_json::Error),
    /// The database URL is not one the store can open.
    #[error(
        "unsupported database URL `{0}`: expected `sqlite:<path>` (embedded file) or \
         `postgres://user:password@host:port/database`"
    )]
    BadUrl(String),
    /// The database server cannot be reached or refused the login.
    #[error("{0}")]
    Unavailable(String),
    /// A row the operation needs does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The operation conflicts with what is stored.
    #[error("{0}")]
    Conflict(String),
    /// An entity write lost a race: another transaction changed the entity after this one read
    /// it.
    #[error(
        "the entity was changed concurrently: this write was made against version {expected}, \
         the stored one is {current}; read it again and retry"
    )]
    VersionConflict {
        /// The version the write was made against.
        expected: i64,
        /// The version stored.
        current: i64,
    },
}

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Handle on the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: DbPool,
    backend: Backend,
}

impl Store {
    /// Opens the database at `url` and applies pending migrations.
    ///
    /// Accepts `sqlite:<path>` (created if missing, put in WAL mode with a busy timeout, so
    /// readers never block the writer) and `postgres://user:password@host:port/database` (the
    /// database must exist; the tables are created in it).
    pub async fn open(url: &str) -> StoreResult<Self> {
        let backend = Backend::of_url(url)?;
        let pool = backend.connect(url).await?;
        migrations::run(&pool, backend).await?;
        Ok(Self { pool, backend })
    }

    /// The backend this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The underlying connection pool.
    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    /// Starts a transaction that will write.
    ///
    /// On SQLite this takes the write lock up front (`BEGIN IMMEDIATE`), so a transaction that
    /// reads before it writes cannot fail on a lock upgrade; on PostgreSQL it is a plain `BEGIN`
    /// (see [`Backend`]).
    pub async fn begin_write(&self) -> StoreResult<Tx> {
        Ok(self.pool.begin_with(self.backend.begin_write()).await?)
    }

    /// Closes every connection of the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The current time in epoch milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// Reads a boolean column that the query selected as `CAST(column AS INTEGER) AS column`.
///
/// sqlx's `Any` driver cannot map SQLite columns declared `BOOLEAN`, so every query selects its
/// flags as integers, which both backends produce and decode alike.
pub(crate) fn flag(row: &DbRow, column: &str) -> StoreResult<bool> {
    use sqlx::Row;
    Ok(row.try_get::<i64, _>(column)? != 0)
}

/// The plan SQLite picks for `sql` with `binds` placeholders (each bound to 1), one line per
/// step, for tests that check a query seeks an index.
#[cfg(test)]
pub(crate) async fn query_plan(store: &Store, sql: &str, binds: usize) -> String {
    use sqlx::Row;
    let explain = format!("EXPLAIN QUERY PLAN {sql}");
    let mut query = sqlx::query(&explain);
    for _ in 0..binds {
        query = query.bind(1_i64);
    }
    let rows = query.fetch_all(store.pool()).await.unwrap();
    rows.iter()
        .map(|row| row.try_get::<String, _>("detail").unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Renders `n` numbered placeholders starting at `$first`, comma separated.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
