//! Each target's batch size: the most changes one provision-batch call to it carries.
//!
//! The dispatcher learns it from the target's connector when it builds one and writes it here,
//! so that claims (in any process sharing the database) can hand a batching target enough
//! jobs to fill its calls. A target with none stored takes one change per call.

use std::collections::HashMap;

use sqlx::Row;

use super::{DbConn, Store, StoreResult};

impl Store {
    /// Records `size` as the batch size of target `tenant`/`name`; returns whether the stored
    /// value changed (false also when the target does not exist).
    pub async fn set_target_batch_size(
        &self,
        tenant: &str,
        name: &str,
        size: usize,
    ) -> StoreResult<bool> {
        let size = i64::try_from(size.max(1)).unwrap_or(i64::MAX);
        let result = sqlx::query(
            "UPDATE targets SET batch_size = $3
             WHERE tenant = $1 AND name = $2 AND (batch_size IS NULL OR batch_size <> $3)",
        )
        .bind(tenant)
        .bind(name)
        .bind(size)
        .execute(self.pool())
        .await?;
        Ok(result.rows_affected() > 0)
    }

    /// The stored batch size of target `tenant`/`name`: 1 when none is stored or the target
    /// does not exist.
    pub async fn target_batch_size(&self, tenant: &str, name: &str) -> StoreResult<usize> {
        let size: Option<Option<i64>> =
            sqlx::query_scalar("SELECT batch_size FROM targets WHERE tenant = $1 AND name = $2")
                .bind(tenant)
                .bind(name)
                .fetch_optional(self.pool())
                .await?;
        Ok(size.flatten().map_or(1, as_batch_size))
    }
}

/// Batch sizes above 1, by (tenant, target); a target missing from the map takes one change
/// per call.
pub(super) async fn batch_sizes(conn: &mut DbConn) -> StoreResult<HashMap<(String, String), i64>> {
    let rows = sqlx::query("SELECT tenant, name, batch_size FROM targets WHERE batch_size > 1")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| {
            Ok((
                (row.try_get("tenant")?, row.try_get("name")?),
                row.try_get("batch_size")?,
            ))
        })
        .collect()
}

fn as_batch_size(stored: i64) -> usize {
    usize::try_from(stored).unwrap_or(1).max(1)
}
