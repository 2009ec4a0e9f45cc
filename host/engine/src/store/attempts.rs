//! The attempt log: an audit record of every connector call.

use sqlx::Row;

use provisioner_contract::EntityKind;

use super::{kind_str, parse_kind, AttemptRecord, DbRow, Store, StoreResult};

const COLUMNS: &str = "id, job_id, tenant, target, entity_kind, entity_id, operation, call,
    outcome, target_code, message, remote_id, started_at, duration_ms, fields";

pub(super) fn attempt_from_row(row: &DbRow) -> StoreResult<AttemptRecord> {
    Ok(AttemptRecord {
        id: row.try_get("id")?,
        job_id: row.try_get("job_id")?,
        tenant: row.try_get("tenant")?,
        target: row.try_get("target")?,
        entity_kind: parse_kind(row.try_get("entity_kind")?)?,
        entity_id: row.try_get("entity_id")?,
        operation: row.try_get("operation")?,
        call: row.try_get("call")?,
        outcome: row.try_get("outcome")?,
        target_code: row.try_get("target_code")?,
        message: row.try_get("message")?,
        remote_id: row.try_get("remote_id")?,
        started_at: row.try_get("started_at")?,
        duration_ms: row.try_get("duration_ms")?,
        fields: parse_fields(row.try_get("fields")?)?,
    })
}

/// The stored `fields` column: a JSON object of target field to value, or NULL.
fn parse_fields(
    text: Option<String>,
) -> StoreResult<Option<std::collections::BTreeMap<String, String>>> {
    Ok(text.map(|text| serde_json::from_str(&text)).transpose()?)
}

impl Store {
    /// Appends one call to the attempt log (the record's `id` is ignored).
    pub async fn record_attempt(&self, attempt: &AttemptRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO attempts (job_id, tenant, target, entity_kind, entity_id, operation, call,
               outcome, target_code, message, remote_id, started_at, duration_ms, fields)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(attempt.job_id)
        .bind(&attempt.tenant)
        .bind(&attempt.target)
        .bind(kind_str(attempt.entity_kind))
        .bind(&attempt.entity_id)
        .bind(&attempt.operation)
        .bind(&attempt.call)
        .bind(&attempt.outcome)
        .bind(&attempt.target_code)
        .bind(&attempt.message)
        .bind(&attempt.remote_id)
        .bind(attempt.started_at)
        .bind(attempt.duration_ms)
        .bind(
            attempt
                .fields
                .as_ref()
                .map(serde_json::to_string)
                .transpose()?,
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every call made for an entity, across targets, oldest first.
    pub async fn attempts_for_entity(
        &self,
        tenant: &str,
        kind: EntityKind,
        entity_id: &str,
    ) -> StoreResult<Vec<AttemptRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM attempts
             WHERE tenant = $1 AND entity_kind = $2 AND entity_id = $3 ORDER BY id"
        );
        let rows = sqlx::query(&sql)
            .bind(tenant)
            .bind(kind_str(kind))
            .bind(entity_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(attempt_from_row).collect()
    }

    /// Every call made for one job, oldest first.
    pub async fn attempts_for_job(&self, job_id: i64) -> StoreResult<Vec<AttemptRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM attempts WHERE job_id = $1 ORDER BY id");
        let rows = sqlx::query(&sql).bind(job_id).fetch_all(&self.pool).await?;
        rows.iter().map(attempt_from_row).collect()
    }
}
