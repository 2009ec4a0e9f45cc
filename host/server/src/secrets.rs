//! Target secrets written through the admin API: write-only, sealed at rest.
//!
//! Each value is sealed with ChaCha20-Poly1305 under a 32-byte key from
//! `PROVISIONER_SECRET_KEY` (hex or base64) or the `[secrets] key_file`; the associated data
//! binds the tenant, the target and the key, so a sealed row moved to another target or key no
//! longer opens. The store holds only nonces and ciphertexts; no API ever returns a value.
//!
//! **How a target uses one:** a target's `secret_refs` entry `stored:<key>` names a secret
//! stored here for that same target (e.g. `"sf-client-secret": "stored:sf-client-secret"`);
//! the registry opens it when it prepares the target's connector, and writing or deleting the
//! secret makes the registry prepare the connector again, so the next call uses the new value.
//! A stored secret that no `stored:` reference names is not used.

use std::sync::Arc;

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

use provisioner_engine::store::{Store, StoreError};
use provisioner_runtime::SecretValue;

use crate::config::SecretsSection;

/// Environment variable holding the key (hex or base64 of 32 bytes).
pub const ENV_SECRET_KEY: &str = "PROVISIONER_SECRET_KEY";

/// The prefix of a target secret reference resolved from this store.
pub const STORED_PREFIX: &str = "stored:";

/// Why a secret could not be sealed, opened or found.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// No key is configured, so nothing can be sealed or opened.
    #[error(
        "no key to seal stored secrets with: set {ENV_SECRET_KEY} to 32 random bytes in hex or \
         base64 (e.g. `openssl rand -hex 32`), or `[secrets] key_file = \"...\"` in the \
         configuration, and restart the server"
    )]
    NoKey,
    /// The key given is not 32 bytes of hex or base64.
    #[error("the secret key from {origin} is not 32 bytes in hex or base64: {problem}")]
    BadKey {
        /// Where the key came from.
        origin: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A stored value does not open with the configured key.
    #[error(
        "stored secret `{key}` of target {tenant}/{target} cannot be opened: the configured key \
         ({ENV_SECRET_KEY} or [secrets] key_file) is not the key it was sealed with; restore \
         that key, or write the secret again"
    )]
    WrongKey {
        /// Tenant.
        tenant: String,
        /// Target.
        target: String,
        /// Secret key.
        key: String,
    },
    /// No secret is stored under that key.
    #[error(
        "no stored secret `{key}` for target {tenant}/{target}; write it with \
         `PUT /admin/v1/tenants/{tenant}/targets/{target}/secrets/{key}`"
    )]
    Missing {
        /// Tenant.
        tenant: String,
        /// Target.
        target: String,
        /// Secret key.
        key: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A 32-byte sealing key.
#[derive(Clone)]
pub struct SecretKey(Key);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl SecretKey {
    /// A fresh random key (the quickstart's, kept in memory only).
    pub fn generate() -> Self {
        SecretKey(ChaCha20Poly1305::generate_key(&mut OsRng))
    }

    /// A key from text: 64 hex digits, or base64 of 32 bytes. `origin` names where the text
    /// came from, for the error.
    pub fn parse(text: &str, origin: &str) -> Result<Self, SecretsError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).map_err(|e| e.to_string())
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|e| format!("neither 64 hex digits nor base64 ({e})"))
        }
        .map_err(|problem| SecretsError::BadKey {
            origin: origin.into(),
            problem,
        })?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|bytes: Vec<u8>| SecretsError::BadKey {
                origin: origin.into(),
                problem: format!("it decodes to {} bytes", bytes.len()),
            })?;
        Ok(SecretKey(Key::from(bytes)))
    }

    /// The configured key: `PROVISIONER_SECRET_KEY` first (read through `env`), then the
    /// `[secrets] key_file`; none when neither is set.
    pub fn from_config(
        section: &SecretsSection,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, SecretsError> {
        if let Some(text) = env(ENV_SECRET_KEY).filter(|t| !t.trim().is_empty()) {
            return Self::parse(&text, ENV_SECRET_KEY).map(Some);
        }
        match &section.key_file {
            Some(path) => {
                let origin = format!("[secrets] key_file {}", path.display());
                let text = std::fs::read_to_string(path).map_err(|e| SecretsError::BadKey {
                    origin: origin.clone(),
                    problem: format!("cannot read it: {e}"),
                })?;
                Self::parse(&text, &origin).map(Some)
            }
            None => Ok(None),
        }
    }
}

/// What a secret is bound to: a sealed row opens only for the same tenant, target and key.
fn associated_data(tenant: &str, target: &str, key: &str) -> Vec<u8> {
    let mut ad = Vec::new();
    for part in [tenant, target, key] {
        ad.extend_from_slice(&(part.len() as u64).to_be_bytes());
        ad.extend_from_slice(part.as_bytes());
    }
    ad
}

/// The sealed secrets of every target: sealing on write, opening for the registry.
#[derive(Clone)]
pub struct Secrets {
    store: Store,
    key: Option<Arc<SecretKey>>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("key", &self.key.is_some())
            .finish()
    }
}

impl Secrets {
    /// Secrets kept in `store`, sealed with `key` (none: writing and opening are refused,
    /// saying how to configure a key).
    pub fn new(store: Store, key: Option<SecretKey>) -> Self {
        Secrets {
            store,
            key: key.map(Arc::new),
        }
    }

    fn cipher(&self) -> Result<ChaCha20Poly1305, SecretsError> {
        let key = self.key.as_ref().ok_or(SecretsError::NoKey)?;
        Ok(ChaCha20Poly1305::new(&key.0))
    }

    /// Seals and writes a secret; returns when it was written (epoch ms).
    pub async fn put(
        &self,
        tenant: &str,
        target: &str,
        key: &str,
        value: &str,
    ) -> Result<i64, SecretsError> {
        let cipher = self.cipher()?;
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = associated_data(tenant, target, key);
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: value.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| SecretsError::NoKey)?;
        Ok(self
            .store
            .put_sealed_secret(tenant, target, key, &nonce[..], &sealed)
            .await?)
    }

    /// Opens a stored secret.
    pub async fn get(
        &self,
        tenant: &str,
        target: &str,
        key: &str,
    ) -> Result<SecretValue, SecretsError> {
        let cipher = self.cipher()?;
        let missing = || SecretsError::Missing {
            tenant: tenant.into(),
            target: target.into(),
            key: key.into(),
        };
        let row = self
            .store
            .sealed_secret(tenant, target, key)
            .await?
            .ok_or_else(missing)?;
        let wrong = || SecretsError::WrongKey {
            tenant: tenant.into(),
            target: target.into(),
            key: key.into(),
        };
        let nonce: [u8; 12] = row.nonce.as_slice().try_into().map_err(|_| wrong())?;
        let aad = associated_data(tenant, target, key);
        let plain = cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &row.ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| wrong())?;
        String::from_utf8(plain)
            .map(SecretValue::new)
            .map_err(|_| wrong())
    }

    /// The keys of a target's stored secrets and when each was written (never a value).
    pub async fn list(
        &self,
        tenant: &str,
        target: &str,
    ) -> Result<Vec<(String, i64)>, SecretsError> {
        Ok(self
            .store
            .sealed_secrets(tenant, target)
            .await?
            .into_iter()
            .map(|s| (s.key, s.updated_at))
            .collect())
    }

    /// Deletes a stored secret; returns whether it existed.
    pub async fn delete(
        &self,
        tenant: &str,
        target: &str,
        key: &str,
    ) -> Result<bool, SecretsError> {
        Ok(self.store.delete_sealed_secret(tenant, target, key).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("s.db").display());
        (Store::open(&url).await.unwrap(), dir)
    }

    #[test]
    fn keys_parse_from_hex_or_base64_and_bad_ones_say_why() {
        let hex_key = "ab".repeat(32);
        assert!(SecretKey::parse(&hex_key, "test").is_ok());
        let b64 = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        assert!(SecretKey::parse(&b64, "test").is_ok());
        let short = SecretKey::parse("abcd", "the file")
            .unwrap_err()
            .to_string();
        assert!(
            short.contains("the file") && short.contains("32 bytes"),
            "{short}"
        );
        let env = |_: &str| None;
        assert!(SecretKey::from_config(&SecretsSection::default(), env)
            .unwrap()
            .is_none());
    }

    #[tokio::test]
    async fn sealed_values_open_only_with_their_key_and_binding() {
        let (store, _dir) = store().await;
        let key = SecretKey::generate();
        let secrets = Secrets::new(store.clone(), Some(key));
        secrets
            .put("t", "sf", "sf-client-secret", "the-value")
            .await
            .unwrap();
        assert_eq!(
            secrets
                .get("t", "sf", "sf-client-secret")
                .await
                .unwrap()
                .expose(),
            "the-value"
        );
        // Stored sealed: the value is not in the row.
        let row = store
            .sealed_secret("t", "sf", "sf-client-secret")
            .await
            .unwrap()
            .unwrap();
        assert!(!row.ciphertext.windows(9).any(|w| w == b"the-value"));

        // Another key does not open it, and says what to do.
        let other = Secrets::new(store.clone(), Some(SecretKey::generate()));
        let error = other
            .get("t", "sf", "sf-client-secret")
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("not the key it was sealed with"), "{error}");

        // The same sealed row moved to another key does not open either.
        store
            .put_sealed_secret("t", "sf", "sf-password", &row.nonce, &row.ciphertext)
            .await
            .unwrap();
        assert!(matches!(
            secrets.get("t", "sf", "sf-password").await,
            Err(SecretsError::WrongKey { .. })
        ));

        // Without a key nothing is written, and the error says how to set one.
        let keyless = Secrets::new(store, None);
        let error = keyless
            .put("t", "sf", "k", "v")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(ENV_SECRET_KEY) && error.contains("key_file"),
            "{error}"
        );
    }
}
