//! Access tokens: issuing `<org15>!<opaque>` tokens, the sliding session timeout and revocation.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap};
use rand::{rngs::StdRng, Rng};

/// One live session.
#[derive(Debug, Clone)]
struct Session {
    user_id: String,
    last_used: Instant,
}

/// The org's live access tokens.
#[derive(Debug, Clone)]
pub struct SessionStore {
    sessions: HashMap<String, Session>,
    /// Sliding timeout: a token unused for this long is dead.
    pub lifetime: Duration,
}

impl SessionStore {
    /// Creates an empty store with the given sliding timeout.
    pub fn new(lifetime: Duration) -> Self {
        Self {
            sessions: HashMap::new(),
            lifetime,
        }
    }

    /// Issues a new token for `user_id` in org `org15`.
    pub fn issue(&mut self, org15: &str, user_id: &str, rng: &mut StdRng) -> String {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
        let opaque: String = (0..96)
            .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
            .collect();
        let token = format!("{org15}!AR{opaque}");
        self.sessions.insert(
            token.clone(),
            Session {
                user_id: user_id.to_string(),
                last_used: Instant::now(),
            },
        );
        token
    }

    /// Validates a token and slides its timeout; returns the session's user id.
    pub fn touch(&mut self, token: &str) -> Option<String> {
        let now = Instant::now();
        let lifetime = self.lifetime;
        let session = self.sessions.get_mut(token)?;
        if now.duration_since(session.last_used) >= lifetime {
            self.sessions.remove(token);
            return None;
        }
        session.last_used = now;
        Some(session.user_id.clone())
    }

    /// Revokes one token; returns whether it existed.
    pub fn revoke(&mut self, token: &str) -> bool {
        self.sessions.remove(token).is_some()
    }

    /// Expires every token; returns how many there were.
    pub fn expire_all(&mut self) -> usize {
        let n = self.sessions.len();
        self.sessions.clear();
        n
    }

    /// Number of tokens issued and not yet revoked (some may have timed out).
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// True when no token is held.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }
}

/// Extracts the token from `Authorization: Bearer <t>` or the legacy `Authorization: OAuth <t>`.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
        .then_some(token)
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn sliding_timeout_and_revocation() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut store = SessionStore::new(Duration::from_millis(50));
        let t = store.issue("00D5g000004AbCd", "005x", &mut rng);
        assert!(t.starts_with("00D5g000004AbCd!"));
        assert_eq!(store.touch(&t).as_deref(), Some("005x"));
        std::thread::sleep(Duration::from_millis(60));
        assert!(store.touch(&t).is_none());
        let t2 = store.issue("00D5g000004AbCd", "005x", &mut rng);
        assert!(store.revoke(&t2));
        assert!(store.touch(&t2).is_none());
    }

    #[test]
    fn both_header_schemes() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(bearer_token(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, "OAuth abc".parse().unwrap());
        assert_eq!(bearer_token(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer_token(&h), None);
    }
}
