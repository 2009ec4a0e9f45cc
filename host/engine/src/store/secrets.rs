//! Sealed target secrets: rows of (tenant, target, key, nonce, ciphertext). The store only
//! keeps what the server sealed; it never sees a value in clear and cannot open one.

use sqlx::Row;

use super::{now_ms, Store, StoreResult};

/// One stored, sealed secret of a target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedSecret {
    /// Owning tenant.
    pub tenant: String,
    /// The target the secret belongs to.
    pub target: String,
    /// The secret's key, e.g. `sf-client-secret`.
    pub key: String,
    /// The nonce it was sealed with.
    pub nonce: Vec<u8>,
    /// The sealed value (with its authentication tag).
    pub ciphertext: Vec<u8>,
    /// When it was last written, epoch milliseconds.
    pub updated_at: i64,
}

fn decode(row: &super::DbRow, column: &str) -> StoreResult<Vec<u8>> {
    let text: String = row.try_get(column)?;
    hex::decode(&text).map_err(|e| {
        super::StoreError::Conflict(format!("stored secret column `{column}` is not hex: {e}"))
    })
}

fn sealed_from_row(row: &super::DbRow) -> StoreResult<SealedSecret> {
    Ok(SealedSecret {
        tenant: row.try_get("tenant")?,
        target: row.try_get("target")?,
        key: row.try_get("secret_key")?,
        nonce: decode(row, "nonce")?,
        ciphertext: decode(row, "ciphertext")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    /// Writes (or replaces) a sealed secret; `updated_at` is set to now and returned.
    pub async fn put_sealed_secret(
        &self,
        tenant: &str,
        target: &str,
        key: &str,
        nonce: &[u8],
        ciphertext: &[u8],
    ) -> StoreResult<i64> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO stored_secrets (tenant, target, secret_key, nonce, ciphertext, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (tenant, target, secret_key)
             DO UPDATE SET nonce = excluded.nonce, ciphertext = excluded.ciphertext,
                           updated_at = excluded.updated_at",
        )
        .bind(tenant)
        .bind(target)
        .bind(key)
        .bind(hex::encode(nonce))
        .bind(hex::encode(ciphertext))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(now)
    }

    /// One sealed secret of a target.
    pub async fn sealed_secret(
        &self,
        tenant: &str,
        target: &str,
        key: &str,
    ) -> StoreResult<Option<SealedSecret>> {
        let row = sqlx::query(
            "SELECT tenant, target, secret_key, nonce, ciphertext, updated_at FROM stored_secrets
             WHERE tenant = $1 AND target = $2 AND secret_key = $3",
        )
        .bind(tenant)
        .bind(target)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(sealed_from_row).transpose()
    }

    /// Every sealed secret of a target, by key.
    pub async fn sealed_secrets(
        &self,
        tenant: &str,
        target: &str,
    ) -> StoreResult<Vec<SealedSecret>> {
        let rows = sqlx::query(
            "SELECT tenant, target, secret_key, nonce, ciphertext, updated_at FROM stored_secrets
             WHERE tenant = $1 AND target = $2 ORDER BY secret_key",
        )
        .bind(tenant)
        .bind(target)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(sealed_from_row).collect()
    }

    /// Deletes a sealed secret; returns whether it existed.
    pub async fn delete_sealed_secret(
        &self,
        tenant: &str,
        target: &str,
        key: &str,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "DELETE FROM stored_secrets WHERE tenant = $1 AND target = $2 AND secret_key = $3",
        )
        .bind(tenant)
        .bind(target)
        .bind(key)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
