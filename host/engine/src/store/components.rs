//! Connector components stored by content digest, so a target refers to `sha256:<hex>` rather
//! than to a file that may move, and every server sharing the database can load it.

use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{now_ms, Store, StoreResult, StoredComponent};

/// The prefix of a digest reference.
pub const DIGEST_PREFIX: &str = "sha256:";

/// `sha256:<hex>` of component bytes.
pub fn component_reference(bytes: &[u8]) -> String {
    format!("{DIGEST_PREFIX}{}", hex::encode(Sha256::digest(bytes)))
}

impl Store {
    /// Stores a component (a no-op when the same bytes are stored already) and returns its
    /// `sha256:` reference and size.
    pub async fn put_component(&self, bytes: &[u8]) -> StoreResult<StoredComponent> {
        let reference = component_reference(bytes);
        let digest = &reference[DIGEST_PREFIX.len()..];
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        sqlx::query(
            "INSERT INTO connector_components (digest, bytes, size, added_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (digest) DO NOTHING",
        )
        .bind(digest)
        .bind(bytes)
        .bind(size)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        let added_at: i64 =
            sqlx::query_scalar("SELECT added_at FROM connector_components WHERE digest = $1")
                .bind(digest)
                .fetch_one(&self.pool)
                .await?;
        Ok(StoredComponent {
            reference,
            size,
            added_at,
        })
    }

    /// The bytes of a stored component, by `sha256:<hex>` reference or bare hex digest.
    pub async fn component_bytes(&self, reference: &str) -> StoreResult<Option<Vec<u8>>> {
        let digest = reference.strip_prefix(DIGEST_PREFIX).unwrap_or(reference);
        Ok(
            sqlx::query_scalar("SELECT bytes FROM connector_components WHERE digest = $1")
                .bind(digest)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Every stored component, oldest first (without the bytes).
    pub async fn components(&self) -> StoreResult<Vec<StoredComponent>> {
        let rows = sqlx::query(
            "SELECT digest, size, added_at FROM connector_components ORDER BY added_at, digest",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let digest: String = row.try_get("digest")?;
                Ok(StoredComponent {
                    reference: format!("{DIGEST_PREFIX}{digest}"),
                    size: row.try_get("size")?,
                    added_at: row.try_get("added_at")?,
                })
            })
            .collect()
    }
}
