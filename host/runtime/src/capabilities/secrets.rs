//! Secret values and credential injection.
//!
//! Secret configuration values never enter a connector: the guest names a secret by
//! [`SecretRef`](provisioner_contract::SecretRef) and the host resolves the reference here, when it
//! builds the outgoing request. The values are held in [`SecretValue`], which never prints itself.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use base64::Engine as _;

use provisioner_contract::{Credential, HttpError, SecretRef};

/// The text that replaces a secret wherever the host shows or returns data.
pub const REDACTED: &str = "[REDACTED]";

/// Secrets shorter than this are not searched for when redacting response bodies: replacing every
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

/// The secrets of one target: which schema keys are secret and the values configured for them.
#[derive(Clone, Debug, Default)]
pub struct TargetSecrets {
    secret_keys: BTreeSet<String>,
    values: BTreeMap<String, SecretValue>,
}

impl TargetSecrets {
    /// Secrets for a target whose schema marks `secret_keys` as secret.
    pub fn new(
        secret_keys: impl IntoIterator<Item = String>,
        values: BTreeMap<String, SecretValue>,
    ) -> Self {
        Self {
            secret_keys: secret_keys.into_iter().collect(),
            values,
        }
    }

    /// Resolves a reference from the guest. Refused (as `invalid-request`, naming the key) when
    /// the key is not a secret property of the schema or has no configured value.
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

    /// Every configured secret value, for redaction.
    pub fn values(&self) -> impl Iterator<Item = &SecretValue> {
        self.values.values()
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

/// Resolves a `basic`, `bearer` or `header` credential into the header that carries it.
/// `oauth` credentials are handled by [`crate::capabilities::tokens`]; passing one here is a bug.
pub fn inject(
    secrets: &TargetSecrets,
    credential: &Credential,
) -> Result<InjectedHeader, HttpError> {
    match credential {
        Credential::Bearer(reference) => {
            let secret = secrets.resolve(reference)?;
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
            let password = secrets.resolve(&basic.password)?;
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
            super::headers::check_header_name(&name, true)?;
            let secret = secrets.resolve(&header.value)?;
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

/// Replaces every occurrence of the given secrets in `data` with `[REDACTED]`, in each form a
/// secret is likely to travel in: as is, form-urlencoded (token requests) and JSON-escaped.
///
/// Used on everything that leaves the host's custody: response bodies and headers handed back to
/// the guest (a target that echoes the request must not reveal the credential to the connector),
/// token endpoint errors, and the request data shown to an
/// [`HttpObserver`](crate::capabilities::http::HttpObserver).
pub fn redact_bytes<'a>(
    data: &[u8],
    secrets: impl IntoIterator<Item = &'a SecretValue>,
) -> Vec<u8> {
    let mut out = data.to_vec();
    for secret in secrets {
        for form in encodings(secret.expose()) {
            out = replace_all(out, form.as_bytes());
        }
    }
    out
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

fn replace_all(data: Vec<u8>, needle: &[u8]) -> Vec<u8> {
    if needle.len() < MIN_REDACTABLE_LEN || !contains(&data, needle) {
        return data;
    }
    let mut replaced = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i..].starts_with(needle) {
            replaced.extend_from_slice(REDACTED.as_bytes());
            i += needle.len();
        } else {
            replaced.push(data[i]);
            i += 1;
        }
    }
    replaced
}

/// [`redact_bytes`] for text.
pub fn redact_str<'a>(text: &str, secrets: impl IntoIterator<Item = &'a SecretValue>) -> String {
    String::from_utf8_lossy(&redact_bytes(text.as_bytes(), secrets)).into_owned()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
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
        let s = SecretValue::new("s3cr3t");
        let out = redact_str("a s3cr3t b s3cr3ts3cr3t", [&s]);
        assert_eq!(out, "a [REDACTED] b [REDACTED][REDACTED]");
    }
}
