//! The provisioning log: every connector call made for a tenant's entities, newest first,
//! filtered by user, target, outcome, inbound request and time, keyset-paged by attempt id, with
//! the user's name and the id of the request that queued the call's job.
//!
//! Cost: the query always filters on the tenant and orders by attempt id, and each filter has an
//! index that starts with the tenant and ends with the id (migration 12): a user (by id, or by
//! live user name resolved to its id first) reads `attempts_entity`, a target `attempts_target`,
//! an outcome `attempts_outcome`, and no filter `attempts_log`; a request reads its jobs through
//! `jobs_request` and their calls through `attempts_job`. A page is one seek into that
//! index (just below `before`) and a walk down it that stops after `limit` matching rows: a
//! page never reads more of the tenant's history than the rows of its index that are newer than
//! its last entry. A time range is checked on the walked rows, so an `until` far in the past
//! walks the newer rows of that index first (pass the previous page's `before` to page on, or
//! add a user or target filter to narrow the index).
//! `log_query_plan` shows the plan (the engine test checks the index chosen per filter).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sqlx::Row;

use provisioner_contract::EntityKind;

use super::attempts::attempt_from_row;
use super::{placeholders, DbRow, Store, StoreResult};

/// Most entries one page holds.
pub const MAX_LOG_PAGE: i64 = 500;

/// Entries a page holds when the caller names no limit.
pub const DEFAULT_LOG_PAGE: i64 = 50;

/// Which attempts a log page holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct LogFilter {
    /// Only calls made for this user: its local id, or the user name of a live user (in any
    /// case).
    pub user: Option<String>,
    /// Only calls to this target.
    pub target: Option<String>,
    /// Only calls with this outcome (`ok`, `found`, `absent` or an error case such as
    /// `invalid_data`).
    pub outcome: Option<String>,
    /// Only calls made for jobs queued by the inbound request with this id (its `X-Request-Id`).
    pub request: Option<String>,
    /// Only calls started at or after this time, epoch milliseconds.
    pub since: Option<i64>,
    /// Only calls started before this time, epoch milliseconds.
    pub until: Option<i64>,
    /// Only attempts with an id below this one (the previous page's last `attempt_id`).
    pub before: Option<i64>,
    /// At most this many entries ([`DEFAULT_LOG_PAGE`] when none, at most [`MAX_LOG_PAGE`]).
    pub limit: Option<i64>,
}

/// One connector call, as the provisioning log shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// The attempt's id (page on with it as `before`).
    pub attempt_id: i64,
    /// When the call started, epoch milliseconds.
    pub time: i64,
    /// The job the call was made for.
    pub job_id: i64,
    /// The target called.
    pub target: String,
    /// Kind of the entity.
    pub entity_kind: EntityKind,
    /// Local id of the entity.
    pub entity_id: String,
    /// The user's name now (or the entity's name when its job was queued).
    pub user_name: Option<String>,
    /// The job's operation: `create`, `update` or `delete` (none for calls recorded before the
    /// log kept it).
    pub operation: Option<String>,
    /// The call: `create`, `update`, `delete` or `lookup`.
    pub call: String,
    /// `ok`, `found`, `absent`, or the error case.
    pub outcome: String,
    /// The target's own error code, e.g. Salesforce's `DUPLICATE_USERNAME`.
    pub target_code: Option<String>,
    /// The error message, if the call failed.
    pub message: Option<String>,
    /// The remote id returned or found.
    pub remote_id: Option<String>,
    /// How long the call took, in milliseconds.
    pub duration_ms: i64,
    /// The mapped fields the call carried, secret-looking values redacted.
    pub fields: Option<BTreeMap<String, String>>,
    /// The id of the inbound request whose change queued the job (none for jobs queued outside
    /// a request).
    pub request_id: Option<String>,
}

fn entry_from_row(row: &DbRow) -> StoreResult<LogEntry> {
    let attempt = attempt_from_row(row)?;
    Ok(LogEntry {
        attempt_id: attempt.id,
        time: attempt.started_at,
        job_id: attempt.job_id,
        target: attempt.target,
        entity_kind: attempt.entity_kind,
        entity_id: attempt.entity_id,
        user_name: row.try_get("user_name")?,
        operation: attempt.operation,
        call: attempt.call,
        outcome: attempt.outcome,
        target_code: attempt.target_code,
        message: attempt.message,
        remote_id: attempt.remote_id,
        duration_ms: attempt.duration_ms,
        fields: attempt.fields,
        request_id: row.try_get("request_id")?,
    })
}

/// A value bound to a log query.
enum Bind {
    Text(String),
    Int(i64),
}

/// The log query for `filter` over the users `user_ids` (when the filter names a user), and
/// its bound values.
fn log_sql(tenant: &str, filter: &LogFilter, user_ids: Option<&[String]>) -> (String, Vec<Bind>) {
    let mut binds = vec![Bind::Text(tenant.to_owned())];
    let mut conditions = vec!["a.tenant = $1".to_owned()];
    if let Some(ids) = user_ids {
        conditions.push(format!(
            "a.entity_kind = 'user' AND a.entity_id IN ({})",
            placeholders(binds.len() + 1, ids.len())
        ));
        binds.extend(ids.iter().cloned().map(Bind::Text));
    }
    // A request's calls: its jobs first (one seek into `jobs_request`), then their calls
    // (`attempts_job`), as many rows as that request queued whatever the tenant's history.
    // SQLite keeps the left table of a CROSS JOIN as the outer loop, so it cannot walk the
    // tenant's whole log in id order instead; PostgreSQL plans it as any join.
    let mut source = "attempts a";
    // A job's calls are its tenant's, so the tenant is checked on the job only (a condition on
    // `a.tenant` would let SQLite seek the tenant's whole log instead of the job's calls).
    if let Some(request) = &filter.request {
        source = "jobs r CROSS JOIN attempts a";
        binds.push(Bind::Text(request.clone()));
        conditions[0] = format!(
            "r.tenant = $1 AND r.request_id = ${} AND a.job_id = r.id",
            binds.len()
        );
    }
    let mut condition = |sql: &str, bind: Bind| {
        binds.push(bind);
        conditions.push(format!("{sql} ${}", binds.len()));
    };
    if let Some(target) = &filter.target {
        condition("a.target =", Bind::Text(target.clone()));
    }
    if let Some(outcome) = &filter.outcome {
        condition("a.outcome =", Bind::Text(outcome.clone()));
    }
    if let Some(since) = filter.since {
        condition("a.started_at >=", Bind::Int(since));
    }
    if let Some(until) = filter.until {
        condition("a.started_at <", Bind::Int(until));
    }
    if let Some(before) = filter.before {
        condition("a.id <", Bind::Int(before));
    }
    let limit = filter
        .limit
        .unwrap_or(DEFAULT_LOG_PAGE)
        .clamp(1, MAX_LOG_PAGE);
    binds.push(Bind::Int(limit));
    let sql = format!(
        "SELECT a.id, a.job_id, a.tenant, a.target, a.entity_kind, a.entity_id, a.operation,
                a.call, a.outcome, a.target_code, a.message, a.remote_id, a.started_at, a.duration_ms,
                a.fields, COALESCE(u.user_name, j.entity_name) AS user_name, j.request_id
         FROM {source}
         LEFT JOIN local_users u
           ON a.entity_kind = 'user' AND u.tenant = a.tenant AND u.id = a.entity_id
         LEFT JOIN jobs j ON j.id = a.job_id
         WHERE {}
         ORDER BY a.id DESC
         LIMIT ${}",
        conditions.join(" AND "),
        binds.len()
    );
    (sql, binds)
}

fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, super::Db, sqlx::any::AnyArguments<'q>>,
    binds: &'q [Bind],
) -> sqlx::query::Query<'q, super::Db, sqlx::any::AnyArguments<'q>> {
    for bind in binds {
        query = match bind {
            Bind::Text(text) => query.bind(text.as_str()),
            Bind::Int(value) => query.bind(*value),
        };
    }
    query
}

impl Store {
    /// The local ids a log's user filter names: `user` itself when it is a user's id, and the
    /// live user whose name is `user` in any case (each an index seek).
    pub async fn log_user_ids(&self, tenant: &str, user: &str) -> StoreResult<Vec<String>> {
        let mut ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM local_users WHERE tenant = $1 AND id = $2
             UNION
             SELECT id FROM local_users
             WHERE tenant = $1 AND lower(user_name) = lower($2) AND deleted = FALSE",
        )
        .bind(tenant)
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        if ids.is_empty() {
            // A group, or a user whose row is gone: its id may still have attempts.
            ids.push(user.to_owned());
        }
        ids.sort();
        Ok(ids)
    }

    /// A page of `tenant`'s provisioning log, newest first (see the module documentation).
    pub async fn provisioning_log(
        &self,
        tenant: &str,
        filter: &LogFilter,
    ) -> StoreResult<Vec<LogEntry>> {
        let user_ids = match &filter.user {
            Some(user) => Some(self.log_user_ids(tenant, user).await?),
            None => None,
        };
        let (sql, binds) = log_sql(tenant, filter, user_ids.as_deref());
        let rows = bind_all(sqlx::query(&sql), &binds)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// SQLite's plan for the log query of `filter` (one line per step, as `EXPLAIN QUERY PLAN`
    /// prints it), to check which index a filter reads.
    pub async fn log_query_plan(&self, tenant: &str, filter: &LogFilter) -> StoreResult<String> {
        let user_ids = filter.user.as_ref().map(|user| vec![user.clone()]);
        let (sql, binds) = log_sql(tenant, filter, user_ids.as_deref());
        let sql = format!("EXPLAIN QUERY PLAN {sql}");
        let rows = bind_all(sqlx::query(&sql), &binds)
            .fetch_all(&self.pool)
            .await?;
        let mut lines = Vec::with_capacity(rows.len());
        for row in &rows {
            lines.push(row.try_get::<String, _>("detail")?);
        }
        Ok(lines.join("\n"))
    }
}
