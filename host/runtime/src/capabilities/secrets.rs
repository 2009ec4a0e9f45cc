//! Secret values and credential injection.
//!
//! Secret configuration values never enter a connector: the guest names a secret by
//! [`SecretRef`](provisioner_contract::SecretRef) and the host resolves the reference here, when it
//! builds the outgoing request. The values are held in [`SecretValue`], which never prints itself.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::sync::Arc;

use base64::Engine as _;

use super::origin::Origin;
use provisioner_contract::{Credential, HttpError, SecretRef};

/// The text that replaces a secret wherever the host shows or returns data.
pub const REDACTED: &str = "[REDACTED]";

/// Shortest secret a target may be configured with. Shorter values protect nothing, and redaction
/// could not find them without corrupting unrelated data.
pub const MIN_SECRET_BYTES: usize = 8;

/// Pieces of a secret are redacted from this length on (when the secret is at least twice as
/// long)...
pub const MIN_PIECE_BYTES: usize = 6;
/// ...and always from this length on.
pub const MAX_PIECE_BYTES: usize = 16;

/// Derived values (access tokens) shorter than this are not searched for: replacing every
/// occurrence of a two-letter string would corrupt the data without protecting anything.
const MIN_REDACTABLE_LEN: usize = 4;

/// A secret value (password, client secret, private key, access token). `Debug` and `Display`
/// print `[REDACTED]`; the value is reached only through [`SecretValue::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(Arc<str>);

impl<'de> serde::Deserialize<'de> for SecretValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

impl SecretValue {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Arc::from(value.into()))
    }

    /// The secret itself; every call site is a place where the secret leaves its wrapper.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for SecretValue {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for SecretValue {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// The secrets of one target: which schema keys are secret, the values configured for them,
/// the origins each may be sent to and the header names it may be injected into.
#[derive(Clone, Debug, Default)]
pub struct TargetSecrets {
    secret_keys: BTreeSet<String>,
    values: BTreeMap<String, SecretValue>,
    bindings: BTreeMap<String, Vec<Origin>>,
    headers: BTreeSet<String>,
}

impl TargetSecrets {
    /// Secrets for a target whose schema marks `secret_keys` as secret. They are bound to no
    /// origin until [`Self::bind`] says where each may go.
    pub fn new(
        secret_keys: impl IntoIterator<Item = String>,
        values: BTreeMap<String, SecretValue>,
    ) -> Self {
        Self {
            secret_keys: secret_keys.into_iter().collect(),
            values,
            bindings: BTreeMap::new(),
            headers: BTreeSet::new(),
        }
    }

    /// Binds each secret to the origins it may be sent to (builder style).
    pub fn bind(mut self, bindings: BTreeMap<String, Vec<Origin>>) -> Self {
        self.bindings = bindings;
        self
    }

    /// Header names, besides `authorization`, that a `header` credential may use (builder
    /// style); names are lower-cased.
    pub fn allow_headers(mut self, headers: impl IntoIterator<Item = String>) -> Self {
        self.headers = headers
            .into_iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        self
    }

    /// Resolves a reference from the guest for the host's own use (a cache fingerprint, a
    /// signature), not for sending. Refused (as `invalid-request`, naming the key) when the key
    /// is not a secret property of the schema or has no configured value.
    pub fn resolve(&self, reference: &SecretRef) -> Result<&SecretValue, HttpError> {
        let key = &reference.key;
        if !self.secret_keys.contains(key) {
            return Err(HttpError::InvalidRequest(format!(
                "secret-ref `{key}` does not name a secret property of this connector's schema"
            )));
        }
        self.values.get(key).ok_or_else(|| {
            HttpError::InvalidRequest(format!("secret `{key}` is not configured for this target"))
        })
    }

    /// Resolves a reference for a request to `destination`: as [`Self::resolve`], and refused
    /// (as `denied`) unless the secret is bound to that origin.
    pub fn release(
        &self,
        reference: &SecretRef,
        destination: &Origin,
    ) -> Result<&SecretValue, HttpError> {
        let value = self.resolve(reference)?;
        let bound = self.bindings.get(&reference.key).map(Vec::as_slice);
        if bound.is_some_and(|origins| origins.contains(destination)) {
            return Ok(value);
        }
        let list: Vec<String> = bound
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect();
        Err(HttpError::Denied(format!(
            "secret `{}` may be sent only to [{}], not to {destination}",
            reference.key,
            list.join(", ")
        )))
    }

    /// Every configured secret value, for redaction.
    pub fn values(&self) -> impl Iterator<Item = &SecretValue> {
        self.values.values()
    }

    /// Each configured secret's key and the origins it may be sent to, for operators.
    pub fn bindings(&self) -> impl Iterator<Item = (&str, &[Origin])> {
        self.values.keys().map(|key| {
            (
                key.as_str(),
                self.bindings
                    .get(key)
                    .map(Vec::as_slice)
                    .unwrap_or_default(),
            )
        })
    }

    /// Header names, besides `authorization`, a secret may be injected into.
    pub fn header_names(&self) -> impl Iterator<Item = &str> {
        self.headers.iter().map(String::as_str)
    }
}

/// A header the host attaches to a request on the guest's behalf; its value is secret.
#[derive(Clone, Debug)]
pub struct InjectedHeader {
    /// Header name, lower case.
    pub name: String,
    /// Header value (the secret, or a value derived from it).
    pub value: SecretValue,
}

/// Resolves a `basic`, `bearer` or `header` credential for a request to `destination` into the
/// header that carries it. `oauth` credentials are handled by [`crate::capabilities::tokens`].
pub fn inject(
    secrets: &TargetSecrets,
    credential: &Credential,
    destination: &Origin,
) -> Result<InjectedHeader, HttpError> {
    match credential {
        Credential::Bearer(reference) => {
            let secret = secrets.release(reference, destination)?;
            Ok(InjectedHeader {
                name: "authorization".into(),
                value: SecretValue::new(format!("Bearer {}", secret.expose())),
            })
        }
        Credential::Basic(basic) => {
            if basic.username.contains(':') {
                return Err(HttpError::InvalidRequest(
                    "basic credential: the username may not contain `:`".into(),
                ));
            }
            let password = secrets.release(&basic.password, destination)?;
            let token = base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                basic.username,
                password.expose()
            ));
            Ok(InjectedHeader {
                name: "authorization".into(),
                value: SecretValue::new(format!("Basic {token}")),
            })
        }
        Credential::Header(header) => {
            let name = header.name.to_ascii_lowercase();
            if name != "authorization" && !secrets.headers.contains(&name) {
                let allowed: Vec<&str> = std::iter::once("authorization")
                    .chain(secrets.header_names())
                    .collect();
                return Err(HttpError::Denied(format!(
                    "a secret may not be injected into header `{name}`; this target allows [{}] \
                     (an operator declares custom credential headers in the target's secret policy)",
                    allowed.join(", ")
                )));
            }
            let secret = secrets.release(&header.value, destination)?;
            Ok(InjectedHeader {
                name,
                value: secret.clone(),
            })
        }
        Credential::Oauth(_) => Err(HttpError::InvalidRequest(
            "oauth credentials are resolved by the token manager".into(),
        )),
    }
}

/// The values to redact after sending `injected` headers: the token or blob of each (`x` of
/// `Bearer x` and `Basic x`; the whole value of a custom header). The scheme word is left out on
/// purpose: redaction also hides pieces of a value, and `Bearer` is no secret.
pub(crate) fn credential_forms(injected: &[InjectedHeader]) -> Vec<SecretValue> {
    injected
        .iter()
        .map(|h| match h.value.expose().split_once(' ') {
            Some((_, token)) => SecretValue::new(token),
            None => h.value.clone(),
        })
        .collect()
}

/// Replaces secrets in `data` with `[REDACTED]`, in each form a secret is likely to travel in
/// (as is, form-urlencoded and JSON-escaped), and also every piece of a form at least half its
/// length (between [`MIN_PIECE_BYTES`] and [`MAX_PIECE_BYTES`]): a target that echoes a secret
/// cut in two must not hand the halves to the connector. Pieces shorter than that are left
/// alone, so structured values (an access token that starts with an org id) do not wipe out
/// unrelated data that shares a few bytes with them.
///
/// Used on everything that leaves the host's custody: response bodies and headers handed back to
/// the guest (a target that echoes the request must not reveal the credential to the connector),
/// token endpoint errors, and the request data shown to an
/// [`HttpObserver`](crate::capabilities::http::HttpObserver).
pub fn redact_bytes<'a>(
    data: &[u8],
    secrets: impl IntoIterator<Item = &'a SecretValue>,
) -> Vec<u8> {
    // Pieces by length; each piece packed into an integer (at most 16 bytes).
    let mut pieces: BTreeMap<usize, HashSet<u128>> = BTreeMap::new();
    for form in secrets.into_iter().flat_map(|s| encodings(s.expose())) {
        let bytes = form.as_bytes();
        if bytes.len() < MIN_REDACTABLE_LEN {
            continue;
        }
        let piece = (bytes.len() / 2)
            .clamp(MIN_PIECE_BYTES, MAX_PIECE_BYTES)
            .min(bytes.len());
        pieces
            .entry(piece)
            .or_default()
            .extend(bytes.windows(piece).map(piece_key));
    }
    let mut hidden = vec![false; data.len()];
    for (len, keys) in &pieces {
        for (i, window) in data.windows(*len).enumerate() {
            if keys.contains(&piece_key(window)) {
                hidden[i..i + len].fill(true);
            }
        }
    }
    if !hidden.contains(&true) {
        return data.to_vec();
    }
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if hidden[i] {
            out.extend_from_slice(REDACTED.as_bytes());
            while i < data.len() && hidden[i] {
                i += 1;
            }
        } else {
            out.push(data[i]);
            i += 1;
        }
    }
    out
}

/// A window of at most [`MAX_PIECE_BYTES`] bytes as a hash key.
fn piece_key(window: &[u8]) -> u128 {
    window
        .iter()
        .fold(0u128, |key, byte| key << 8 | u128::from(*byte))
}

/// The forms of a secret searched for by [`redact_bytes`].
fn encodings(secret: &str) -> Vec<String> {
    let mut forms = vec![secret.to_string()];
    let form_encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json.trim_matches('"').to_string();
    for form in [form_encoded, json] {
        if !forms.contains(&form) {
            forms.push(form);
        }
    }
    forms
}

/// [`redact_bytes`] for text.
pub fn redact_str<'a>(text: &str, secrets: impl IntoIterator<Item = &'a SecretValue>) -> String {
    String::from_utf8_lossy(&redact_bytes(text.as_bytes(), secrets)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_value_never_prints() {
        let s = SecretValue::new("hunter22");
        assert_eq!(format!("{s} {s:?}"), "[REDACTED] [REDACTED]");
    }

    #[test]
    fn resolve_refuses_non_secret_and_unknown_keys() {
        let secrets = TargetSecrets::new(
            ["api-key".to_string(), "unset".to_string()],
            [("api-key".to_string(), SecretValue::new("v"))].into(),
        );
        assert!(secrets
            .resolve(&SecretRef {
                key: "api-key".into()
            })
            .is_ok());
        let err = secrets
            .resolve(&SecretRef {
                key: "endpoint".into(),
            })
            .unwrap_err();
        assert!(matches!(err, HttpError::InvalidRequest(m) if m.contains("`endpoint`")));
        let err = secrets
            .resolve(&SecretRef {
                key: "unset".into(),
            })
            .unwrap_err();
        assert!(matches!(err, HttpError::InvalidRequest(m) if m.contains("not configured")));
    }

    #[test]
    fn redaction_covers_encoded_forms() {
        let s = SecretValue::new("a/b+c\"d");
        let out = redact_str("raw a/b+c\"d form a%2Fb%2Bc%22d json a/b+c\\\"d", [&s]);
        assert_eq!(out, "raw [REDACTED] form [REDACTED] json [REDACTED]");
    }

    #[test]
    fn redaction_replaces_every_occurrence() {
        let s = SecretValue::new("s3cr3t-value");
        let out = redact_str("a s3cr3t-value b s3cr3t-values3cr3t-value c", [&s]);
        assert_eq!(out, "a [REDACTED] b [REDACTED] c");
    }

    #[test]
    fn redaction_hides_a_secret_echoed_in_pieces() {
        let s = SecretValue::new("correct-horse-battery");
        let echoed = r#"{"first":"correct-hor","second":"se-battery","other":"horses"}"#;
        let out = redact_str(echoed, [&s]);
        assert_eq!(
            out,
            r#"{"first":"[REDACTED]","second":"[REDACTED]","other":"horses"}"#
        );
        // Data sharing no piece of the secret is untouched.
        assert_eq!(redact_str("nothing here", [&s]), "nothing here");
    }

    #[test]
    fn short_pieces_of_a_structured_token_are_left_alone() {
        let token = SecretValue::new("00D5g0000000001!ARx7Qp2Lr9Zt4Wm8Ks1Vb6Nc3Hd5Jf0Gy2Ua");
        let body = r#"{"Id":"0055g0000000G9AAI","token":"00D5g0000000001!ARx7Qp2Lr9Zt4Wm8Ks1Vb6Nc3Hd5Jf0Gy2Ua"}"#;
        assert_eq!(
            redact_str(body, [&token]),
            r#"{"Id":"0055g0000000G9AAI","token":"[REDACTED]"}"#
        );
    }

    fn origin(url: &str) -> Origin {
        Origin::parse(url).unwrap()
    }

    fn bound_secrets() -> TargetSecrets {
        TargetSecrets::new(
            ["api-key".to_string()],
            [("api-key".to_string(), SecretValue::new("key-0123456789"))].into(),
        )
        .bind(
            [(
                "api-key".to_string(),
                vec![origin("https://api.example.com")],
            )]
            .into(),
        )
        .allow_headers(["X-Api-Key".to_string()])
    }

    #[test]
    fn a_secret_is_released_only_to_its_bound_origins() {
        let secrets = bound_secrets();
        let key = SecretRef {
            key: "api-key".into(),
        };
        assert!(secrets
            .release(&key, &origin("https://api.example.com/v1"))
            .is_ok());
        let err = secrets
            .release(&key, &origin("https://telemetry.example.net"))
            .unwrap_err();
        assert!(
            matches!(&err, HttpError::Denied(m) if m.contains("[https://api.example.com]") && m.contains("telemetry")),
            "{err:?}"
        );
    }

    #[test]
    fn header_credentials_only_in_allowed_header_names() {
        let secrets = bound_secrets();
        let to = origin("https://api.example.com");
        let header = |name: &str| {
            Credential::Header(provisioner_contract::SecretHeader {
                name: name.into(),
                value: SecretRef {
                    key: "api-key".into(),
                },
            })
        };
        assert_eq!(
            inject(&secrets, &header("x-api-key"), &to).unwrap().name,
            "x-api-key"
        );
        assert!(inject(&secrets, &header("Authorization"), &to).is_ok());
        for name in ["content-type", "cookie", "x-other"] {
            let err = inject(&secrets, &header(name), &to).unwrap_err();
            assert!(
                matches!(&err, HttpError::Denied(m) if m.contains("[authorization, x-api-key]")),
                "{name}: {err:?}"
            );
        }
    }
}
