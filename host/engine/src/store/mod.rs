//! Durable storage: local users and groups, targets, provisioned identifiers, the job outbox and
//! the attempt log.
//!
//! SQLite in WAL mode is the embedded default. Every query is written in SQL that PostgreSQL
//! accepts as well (numbered `$n` binds, `ON CONFLICT ... DO UPDATE`, `RETURNING`, integer epoch
//! milliseconds for time); what is specific to SQLite lives in [`Store::open`] and in the DDL of
//! the migrations.

mod attempts;
mod claim;
mod components;
mod entities;
mod identifiers;
mod jobs;
mod migrations;
mod model;
mod scope_filter;
mod search;
mod seed;
mod sync_runs;
mod targets;

pub use claim::{Claim, ClaimLimits, HeldBack, HoldReason};
pub use components::{component_reference, DIGEST_PREFIX};
pub use entities::{group_in, put_group, put_user, user_in};
pub use identifiers::remote_id_in;
pub use jobs::{insert_jobs, JobUpdate};
pub use model::*;
pub use scope_filter::ScopeFilter;
pub use search::{
    group_names_with_member_in, groups_with_member_in, memberships_in, set_search_keys,
    sync_members, users_after_in, users_by_ids_in, EntityCondition, EntityOrder, EntityPage,
    EntitySearch, EntityTable, KeyMatch, TimeCmp, TimeField,
};
pub use seed::Seeded;
pub(crate) use sync_runs::{
    end_sync_walk_in, open_sync_run_in, record_sync_chunk_in, sync_run_in, unfinished_user_jobs_in,
    UnfinishedJob,
};
pub use sync_runs::{SyncRun, SyncState};
pub use targets::{targets_in, DeletedTarget};

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

/// The database backend the store is compiled for.
pub type Db = sqlx::Sqlite;
/// A connection of [`Db`].
pub type DbConn = sqlx::SqliteConnection;
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
    #[error("unsupported database URL `{0}`: expected `sqlite:<path>`")]
    BadUrl(String),
    /// A row the operation needs does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The operation conflicts with what is stored.
    #[error("{0}")]
    Conflict(String),
}

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Handle on the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: DbPool,
}

impl Store {
    /// Opens (creating if needed) the database at `url` and applies pending migrations.
    ///
    /// Accepts `sqlite:<path>` and `sqlite://<path>`. The file is put in WAL mode with a busy
    /// timeout, so readers never block the writer.
    pub async fn open(url: &str) -> StoreResult<Self> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::BadUrl(url.to_owned()));
        }
        if url.contains(":memory:") || url.contains("mode=memory") {
            return Err(StoreError::BadUrl(format!(
                "{url} (in-memory databases are not durable; use a file)"
            )));
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(options)
            .await?;
        migrations::run(&pool).await?;
        Ok(Self { pool })
    }

    /// The underlying connection pool.
    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    /// Starts a transaction that will write.
    ///
    /// On SQLite this takes the write lock up front (`BEGIN IMMEDIATE`), so a transaction that
    /// reads before it writes cannot fail on a lock upgrade; elsewhere it is a plain `BEGIN`.
    pub async fn begin_write(&self) -> StoreResult<Tx> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
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

/// Renders `n` numbered placeholders starting at `$first`, comma separated.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
