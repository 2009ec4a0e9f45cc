//! Authentication: HTTP Basic and bearer tokens, each bound to exactly one tenant.
//!
//! [`Authenticator`] is the policy hook the router calls on every request; [`CredentialStore`]
//! is a ready implementation holding only hashes: argon2id PHC strings for passwords, SHA-256
//! digests for bearer tokens (tokens are high-entropy secrets, so a fast hash is appropriate
//! and verification stays constant-time through the digest comparison). Passwords are checked
//! through a [`PasswordGate`], which bounds what Basic requests can cost the server.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::RwLock;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::backend::TenantId;
use crate::password_gate::{GateLimits, PasswordGate, Verdict};

/// Credentials presented by a client.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// `Authorization: Basic base64(user:password)`.
    Basic {
        /// User name.
        username: String,
        /// Password (plain, as sent).
        password: String,
    },
    /// `Authorization: Bearer <token>`.
    Bearer(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
            Credentials::Bearer(_) => write!(f, "Bearer(***)"),
        }
    }
}

impl Credentials {
    /// Parses an `Authorization` header value; `None` if it is neither Basic nor Bearer.
    pub fn from_header(value: &str) -> Option<Self> {
        let (scheme, rest) = value.trim().split_once(' ')?;
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("basic") {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(rest)
                .ok()?;
            let text = String::from_utf8(raw).ok()?;
            let (u, p) = text.split_once(':')?;
            Some(Credentials::Basic {
                username: u.to_string(),
                password: p.to_string(),
            })
        } else if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
            Some(Credentials::Bearer(rest.to_string()))
        } else {
            None
        }
    }
}

/// An authenticated caller, bound to one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The only tenant whose data this principal can reach.
    pub tenant: TenantId,
    /// Who it is (user name or token label), for logs.
    pub subject: String,
}

/// A boxed, sendable future (keeps [`Authenticator`] object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What authentication decided about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthDecision {
    /// The credentials belong to this principal.
    Granted(Principal),
    /// The credentials are wrong (401).
    Denied,
    /// The server cannot check credentials right now (503 with `Retry-After`).
    Busy,
}

/// Decides who a request comes from. `None` means 401.
pub trait Authenticator: Send + Sync + 'static {
    /// Verifies credentials and returns the principal they belong to.
    fn authenticate<'a>(&'a self, credentials: &'a Credentials)
        -> BoxFuture<'a, Option<Principal>>;

    /// Decides about credentials presented from `client` (the peer address, when known).
    /// By default, [`Authenticator::authenticate`] without regard to the client.
    fn decide<'a>(
        &'a self,
        credentials: &'a Credentials,
        client: Option<IpAddr>,
    ) -> BoxFuture<'a, AuthDecision> {
        let _ = client;
        Box::pin(async move {
            match self.authenticate(credentials).await {
                Some(principal) => AuthDecision::Granted(principal),
                None => AuthDecision::Denied,
            }
        })
    }
}

struct BasicEntry {
    phc: String,
    tenant: TenantId,
}

/// In-memory table of hashed credentials: Basic users (argon2id) and bearer tokens (SHA-256).
#[derive(Default)]
pub struct CredentialStore {
    basic: RwLock<HashMap<String, BasicEntry>>,
    bearer: RwLock<HashMap<[u8; 32], (TenantId, String)>>,
    gate: PasswordGate,
}

impl CredentialStore {
    /// An empty store whose password checks have the default bounds ([`GateLimits`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store whose password checks have the given bounds.
    pub fn with_limits(limits: GateLimits) -> Self {
        Self {
            gate: PasswordGate::new(limits),
            ..Self::default()
        }
    }

    /// Adds (or replaces) a Basic user for `tenant`; the password is hashed with argon2id.
    pub fn add_basic(&self, tenant: TenantId, username: &str, password: &str) {
        let phc = hash_password(password);
        self.add_basic_hashed(tenant, username, &phc);
    }

    /// Adds a Basic user from an existing argon2 PHC string (e.g. loaded from storage).
    pub fn add_basic_hashed(&self, tenant: TenantId, username: &str, phc: &str) {
        // A replaced password must not stay valid through a remembered verification.
        self.gate.forget_verified();
        self.basic
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                username.to_string(),
                BasicEntry {
                    phc: phc.to_string(),
                    tenant,
                },
            );
    }

    /// Adds a bearer token for `tenant`; only its SHA-256 digest is kept.
    pub fn add_bearer(&self, tenant: TenantId, label: &str, token: &str) {
        self.bearer
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(token_digest(token), (tenant, label.to_string()));
    }
}

/// Hashes a password as an argon2id PHC string (random salt).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

/// Verifies a password against an argon2 PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Authenticator for CredentialStore {
    fn authenticate<'a>(
        &'a self,
        credentials: &'a Credentials,
    ) -> BoxFuture<'a, Option<Principal>> {
        Box::pin(async move {
            match self.decide(credentials, None).await {
                AuthDecision::Granted(principal) => Some(principal),
                AuthDecision::Denied | AuthDecision::Busy => None,
            }
        })
    }

    fn decide<'a>(
        &'a self,
        credentials: &'a Credentials,
        client: Option<IpAddr>,
    ) -> BoxFuture<'a, AuthDecision> {
        Box::pin(async move {
            match credentials {
                Credentials::Basic { username, password } => {
                    let entry = {
                        let map = self.basic.read().unwrap_or_else(|p| p.into_inner());
                        map.get(username).map(|e| (e.phc.clone(), e.tenant.clone()))
                    };
                    let (phc, tenant) = entry.unzip();
                    let verdict = self
                        .gate
                        .verify(client, username, password, phc.as_deref())
                        .await;
                    match (verdict, tenant) {
                        (Verdict::Valid, Some(tenant)) => AuthDecision::Granted(Principal {
                            tenant,
                            subject: username.clone(),
                        }),
                        (Verdict::Busy, _) => AuthDecision::Busy,
                        _ => AuthDecision::Denied,
                    }
                }
                Credentials::Bearer(token) => {
                    let digest = token_digest(token);
                    let map = self.bearer.read().unwrap_or_else(|p| p.into_inner());
                    match map.get(&digest) {
                        Some((tenant, label)) => AuthDecision::Granted(Principal {
                            tenant: tenant.clone(),
                            subject: label.clone(),
                        }),
                        None => AuthDecision::Denied,
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_headers() {
        let h = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("samuel@wso2.com:password")
        );
        assert_eq!(
            Credentials::from_header(&h),
            Some(Credentials::Basic {
                username: "samuel@wso2.com".into(),
                password: "password".into()
            })
        );
        assert_eq!(
            Credentials::from_header("Bearer abc"),
            Some(Credentials::Bearer("abc".into()))
        );
        assert_eq!(Credentials::from_header("Digest x"), None);
    }

    #[test]
    fn hashes_verify() {
        let phc = hash_password("s3cret");
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("s3cret", &phc));
        assert!(!verify_password("nope", &phc));
    }
}
