//! Provisioned identifiers: the id each target gave each entity.
//!
//! A row exists only when the target itself returned (or a lookup found) the id; the host never
//! invents one.

use sqlx::Row;

use provisioner_contract::EntityKind;

use super::{kind_str, now_ms, DbConn, Store, StoreResult};

/// Reads the remote id of an entity in a target, inside a transaction or on a connection.
pub async fn remote_id_in(
    conn: &mut DbConn,
    tenant: &str,
    target: &str,
    kind: EntityKind,
    entity_id: &str,
) -> StoreResult<Option<String>> {
    let row = sqlx::query(
        "SELECT remote_id FROM provisioned_ids
         WHERE tenant = $1 AND target = $2 AND entity_kind = $3 AND entity_id = $4",
    )
    .bind(tenant)
    .bind(target)
    .bind(kind_str(kind))
    .bind(entity_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| r.try_get("remote_id")).transpose()?)
}

impl Store {
    /// The remote id of an entity in a target, if the target ever returned one.
    pub async fn remote_id(
        &self,
        tenant: &str,
        target: &str,
        kind: EntityKind,
        entity_id: &str,
    ) -> StoreResult<Option<String>> {
        let mut conn = self.pool.acquire().await?;
        remote_id_in(&mut conn, tenant, target, kind, entity_id).await
    }

    /// Records the remote id a target returned for an entity.
    pub async fn set_remote_id(
        &self,
        tenant: &str,
        target: &str,
        kind: EntityKind,
        entity_id: &str,
        remote_id: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO provisioned_ids (tenant, target, entity_kind, entity_id, remote_id, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (tenant, target, entity_kind, entity_id) DO UPDATE SET
               remote_id = excluded.remote_id, updated_at = excluded.updated_at",
        )
        .bind(tenant)
        .bind(target)
        .bind(kind_str(kind))
        .bind(entity_id)
        .bind(remote_id)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets the remote id of an entity in a target (after a delete, or when the target no
    /// longer knows it).
    pub async fn clear_remote_id(
        &self,
        tenant: &str,
        target: &str,
        kind: EntityKind,
        entity_id: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM provisioned_ids
             WHERE tenant = $1 AND target = $2 AND entity_kind = $3 AND entity_id = $4",
        )
        .bind(tenant)
        .bind(target)
        .bind(kind_str(kind))
        .bind(entity_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every (target, remote id) of an entity.
    pub async fn remote_ids(
        &self,
        tenant: &str,
        kind: EntityKind,
        entity_id: &str,
    ) -> StoreResult<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT target, remote_id FROM provisioned_ids
             WHERE tenant = $1 AND entity_kind = $2 AND entity_id = $3 ORDER BY target",
        )
        .bind(tenant)
        .bind(kind_str(kind))
        .bind(entity_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("target")?, r.try_get("remote_id")?)))
            .collect()
    }
}
