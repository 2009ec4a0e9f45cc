//! The two databases the store runs on, and everything about them that differs.
//!
//! Queries go through sqlx's `Any` driver with one SQL text each, written in the dialect both
//! accept. What cannot be written once lives here, named by backend: how a pool is opened and
//! tuned, how a write transaction starts, the claim's row locking, and which migration files
//! apply.

use std::collections::HashSet;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::Executor;

use super::{DbConn, DbPool, StoreError, StoreResult};

/// A database backend the store can open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file in WAL mode (the default; one host, or processes on one machine).
    Sqlite,
    /// A PostgreSQL server (several replicas sharing one database).
    Postgres,
}

impl Backend {
    /// The backend a database URL names: `sqlite:<path>` or `postgres://...`
    /// (`postgresql://...`).
    pub fn of_url(url: &str) -> StoreResult<Self> {
        if url.starts_with("sqlite:") {
            if url.contains(":memory:") || url.contains("mode=memory") {
                return Err(StoreError::BadUrl(format!(
                    "{url} (in-memory databases are not durable; use a file)"
                )));
            }
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::BadUrl(url.to_owned()))
        }
    }

    /// The backend a connection talks to.
    pub fn of_conn(conn: &DbConn) -> Self {
        if conn.backend_name() == "PostgreSQL" {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    /// A stable name for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// Opens a pool on `url`, which names this backend.
    pub(super) async fn connect(self, url: &str) -> StoreResult<DbPool> {
        sqlx::any::install_default_drivers();
        match self {
            Backend::Sqlite => {
                // The file is created if missing; WAL so readers never block the writer, a busy
                // timeout so writers queue instead of failing, and foreign keys on.
                let url = if url.contains("mode=") {
                    url.to_owned()
                } else if url.contains('?') {
                    format!("{url}&mode=rwc")
                } else {
                    format!("{url}?mode=rwc")
                };
                let options = sqlx::any::AnyConnectOptions::from_str(&url)?;
                Ok(AnyPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(60))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
                                 PRAGMA busy_timeout = 30000; PRAGMA foreign_keys = ON;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?)
            }
            Backend::Postgres => {
                let options = sqlx::any::AnyConnectOptions::from_str(url)?;
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(60))
                    .connect_with(options)
                    .await;
                pool.map_err(|error| {
                    StoreError::Unavailable(format!(
                        "cannot connect to PostgreSQL at {}: {error}; check that the server \
                         runs, that the database exists and that the URL's user may log in",
                        redact(url)
                    ))
                })
            }
        }
    }

    /// The statement that starts a transaction that will write.
    ///
    /// SQLite takes the write lock up front (`BEGIN IMMEDIATE`), so a transaction that reads
    /// before it writes cannot fail on a lock upgrade. PostgreSQL starts a plain transaction
    /// (read committed); statements that must not race take row locks or are conditional.
    pub(super) fn begin_write(self) -> &'static str {
        match self {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        }
    }

    /// What a write transaction appends to a single-row read so that it locks the row until the
    /// transaction ends: on PostgreSQL `FOR UPDATE` (a concurrent writer of the row waits, then
    /// reads the committed result); on SQLite nothing, the write transaction excludes every other
    /// writer already.
    pub(super) fn lock_row(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    /// What the claim appends to its head query so that it locks the rows it reads.
    ///
    /// On SQLite the claim's write transaction already excludes every other writer. On
    /// PostgreSQL the heads are locked `FOR UPDATE SKIP LOCKED`: replicas claiming at once
    /// never wait on (nor hand out) a job another transaction holds.
    pub(super) fn lock_heads(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE OF j SKIP LOCKED",
        }
    }
}

/// Advisory-lock namespace of claims on PostgreSQL (first key; the second is the tenant's hash).
const CLAIM_LOCK_SPACE: i32 = 0x636c_6169; // "clai"

/// The tenants a claim may hand out jobs of, on a connection inside the claim's transaction:
/// `None` for every tenant.
///
/// On SQLite the claim's write transaction excludes every other writer, so every tenant is
/// claimable. On PostgreSQL a replica claims a tenant's jobs only while it holds that tenant's
/// transaction-scoped advisory lock, taken without waiting: tenants another replica is claiming
/// right now are skipped this round (not waited for), and the running jobs and recent calls the
/// claim counts afterwards include every claim committed before, so per-target caps and
/// per-tenant quotas hold across replicas exactly as on one.
pub(super) async fn claimable_tenants(conn: &mut DbConn) -> StoreResult<Option<HashSet<String>>> {
    if Backend::of_conn(conn) == Backend::Sqlite {
        return Ok(None);
    }
    let tenants: Vec<String> = sqlx::query_scalar(
        "SELECT tenant FROM (SELECT DISTINCT tenant FROM targets) t
         WHERE pg_try_advisory_xact_lock($1, hashtext(tenant))",
    )
    .bind(CLAIM_LOCK_SPACE)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Some(tenants.into_iter().collect()))
}

/// Advisory-lock namespace of entity queues on PostgreSQL.
const ENTITY_LOCK_SPACE: i32 = 0x656e_7469; // "enti"

/// Makes the jobs a transaction queues for these entities (tenant, kind, id) take their ids
/// after every earlier transaction queueing jobs for them has committed.
///
/// A claim hands out only the lowest-numbered unfinished job of an entity, so ids must follow
/// commit order per entity. SQLite's single writer gives that. PostgreSQL allocates ids when
/// rows are inserted, so two transactions could commit an entity's jobs out of id order; each
/// takes the entity's transaction-scoped advisory lock first (in sorted order, so that two
/// transactions never wait on each other in a cycle).
pub(super) async fn serialize_entity_jobs(
    conn: &mut DbConn,
    entities: &[(&str, &str, &str)],
) -> StoreResult<()> {
    if Backend::of_conn(conn) == Backend::Sqlite {
        return Ok(());
    }
    let mut keys: Vec<String> = entities
        .iter()
        .map(|(tenant, kind, id)| format!("{tenant}\u{1f}{kind}\u{1f}{id}"))
        .collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind(ENTITY_LOCK_SPACE)
            .bind(key)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// `url` without the password of its `user:password@` part, for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***{}", &rest[at..]),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_backend_and_messages_hide_passwords() {
        assert_eq!(Backend::of_url("sqlite:x.db").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::of_url("postgresql://u@h/db").unwrap(),
            Backend::Postgres
        );
        let error = Backend::of_url("mysql://h/db").unwrap_err().to_string();
        assert!(error.contains("sqlite:<path>"), "{error}");
        assert!(error.contains("postgres://"), "{error}");
        assert!(Backend::of_url("sqlite::memory:").is_err());
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/prov"),
            "postgres://app:***@db:5432/prov"
        );
        assert_eq!(redact("postgres://app@db/prov"), "postgres://app@db/prov");
    }
}
