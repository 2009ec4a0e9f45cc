//! Guest answers, bounded and sanitised before the host stores, logs or acts on them.
//!
//! A connector's answer is data from an untrusted party. Its memory limit bounds the total, but
//! not what the host does with it afterwards: a 40 MB error message would be stored with every
//! attempt and written to the log, and a newline in a message would forge a log line. So every
//! text a guest returns is cut to a fixed size (the cut is marked) with control characters
//! escaped, every list inside an answer is cut to a fixed length, and identifiers the host keys
//! on (remote ids, cursors) are refused rather than cut when they are too long, because a cut
//! identifier would silently name something else.

use provisioner_contract::{
    ConfigProblem, ConfigProperty, ConflictError, ConnectorMetadata, ErrorDetail, ProvisionError,
    ProvisionOutcome, RateLimitError, RemoteObject, RemotePage, TransientError,
};

/// Longest free text kept (messages, warnings, descriptions), in bytes.
pub const MAX_TEXT_BYTES: usize = 4096;
/// Longest short text kept (error codes, field names, keys, labels, options), in bytes.
pub const MAX_NAME_BYTES: usize = 256;
/// Most items kept from a list inside an answer (warnings, fields, problems, options).
pub const MAX_LIST_ITEMS: usize = 64;
/// Longest remote identifier or page cursor accepted, in bytes.
pub const MAX_IDENTIFIER_BYTES: usize = 1024;
/// Most configuration properties a connector may declare.
pub const MAX_PROPERTIES: usize = 256;
/// Most attributes kept per remote object.
pub const MAX_ATTRIBUTES: usize = 256;
/// Most objects accepted in one page of `list-entities`.
pub const MAX_PAGE_OBJECTS: usize = 10_000;

/// A guest answer the host can bound. `Err` says why the answer cannot be used at all.
pub(crate) trait Bounded: Sized {
    /// The answer with every text cut and escaped and every list cut.
    fn bounded(self) -> Result<Self, String>;
}

/// `text` with control characters escaped (`\n`, `\u{1b}`...) and cut to `max` bytes; a cut
/// ends with a marker saying how many bytes the guest sent.
pub fn sanitize(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    let mut buffer = [0u8; 4];
    for c in text.chars() {
        let escaped;
        let piece: &str = if c.is_control() {
            escaped = c.escape_default().to_string();
            &escaped
        } else {
            c.encode_utf8(&mut buffer)
        };
        if out.len() + piece.len() > max {
            out.push_str(&format!("… [cut: {} bytes sent]", text.len()));
            return out;
        }
        out.push_str(piece);
    }
    out
}

/// [`sanitize`] for an owned value, which is returned as is when it needs nothing.
fn text(value: String, max: usize) -> String {
    if value.len() <= max && !value.chars().any(char::is_control) {
        return value;
    }
    sanitize(&value, max)
}

fn list(values: Vec<String>, max: usize) -> Vec<String> {
    values
        .into_iter()
        .take(MAX_LIST_ITEMS)
        .map(|v| text(v, max))
        .collect()
}

/// Refuses an identifier that is too long or carries control characters.
fn identifier(what: &str, value: String) -> Result<String, String> {
    if value.len() > MAX_IDENTIFIER_BYTES {
        return Err(format!(
            "{what} of {} bytes exceeds the limit of {MAX_IDENTIFIER_BYTES} bytes",
            value.len()
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{what} contains control characters"));
    }
    Ok(value)
}

fn optional_identifier(what: &str, value: Option<String>) -> Result<Option<String>, String> {
    value.map(|v| identifier(what, v)).transpose()
}

impl<T: Bounded> Bounded for Vec<T> {
    fn bounded(self) -> Result<Self, String> {
        self.into_iter().map(Bounded::bounded).collect()
    }
}

impl<T: Bounded> Bounded for Option<T> {
    fn bounded(self) -> Result<Self, String> {
        self.map(Bounded::bounded).transpose()
    }
}

impl<T: Bounded, E: Bounded> Bounded for Result<T, E> {
    fn bounded(self) -> Result<Self, String> {
        Ok(match self {
            Ok(value) => Ok(value.bounded()?),
            Err(error) => Err(error.bounded()?),
        })
    }
}

impl Bounded for ConfigProblem {
    fn bounded(self) -> Result<Self, String> {
        Ok(Self {
            key: self.key.map(|k| text(k, MAX_NAME_BYTES)),
            message: text(self.message, MAX_TEXT_BYTES),
        })
    }
}

impl Bounded for ProvisionOutcome {
    fn bounded(self) -> Result<Self, String> {
        Ok(Self {
            remote_id: optional_identifier("remote-id", self.remote_id)?,
            warnings: list(self.warnings, MAX_TEXT_BYTES),
        })
    }
}

impl Bounded for ErrorDetail {
    fn bounded(self) -> Result<Self, String> {
        Ok(Self {
            message: text(self.message, MAX_TEXT_BYTES),
            target_code: self.target_code.map(|c| text(c, MAX_NAME_BYTES)),
            fields: list(self.fields, MAX_NAME_BYTES),
            http_status: self.http_status,
        })
    }
}

impl Bounded for ProvisionError {
    fn bounded(self) -> Result<Self, String> {
        Ok(match self {
            Self::Transient(e) => Self::Transient(TransientError {
                detail: e.detail.bounded()?,
                outcome_unknown: e.outcome_unknown,
            }),
            Self::RateLimited(e) => Self::RateLimited(RateLimitError {
                detail: e.detail.bounded()?,
                retry_after_ms: e.retry_after_ms,
            }),
            Self::QuotaExhausted(e) => Self::QuotaExhausted(RateLimitError {
                detail: e.detail.bounded()?,
                retry_after_ms: e.retry_after_ms,
            }),
            Self::AuthFailed(d) => Self::AuthFailed(d.bounded()?),
            Self::Conflict(e) => Self::Conflict(ConflictError {
                detail: e.detail.bounded()?,
                existing_remote_id: optional_identifier(
                    "existing-remote-id",
                    e.existing_remote_id,
                )?,
            }),
            Self::InvalidData(d) => Self::InvalidData(d.bounded()?),
            Self::NotFound(d) => Self::NotFound(d.bounded()?),
            Self::Unsupported(d) => Self::Unsupported(d.bounded()?),
            Self::Permanent(d) => Self::Permanent(d.bounded()?),
        })
    }
}

impl Bounded for RemoteObject {
    fn bounded(self) -> Result<Self, String> {
        Ok(Self {
            remote_id: identifier("remote-id", self.remote_id)?,
            active: self.active,
            attributes: self
                .attributes
                .into_iter()
                .take(MAX_ATTRIBUTES)
                .map(|(name, value)| (text(name, MAX_NAME_BYTES), text(value, MAX_TEXT_BYTES)))
                .collect(),
        })
    }
}

impl Bounded for RemotePage {
    fn bounded(self) -> Result<Self, String> {
        if self.objects.len() > MAX_PAGE_OBJECTS {
            return Err(format!(
                "a page of {} objects exceeds the limit of {MAX_PAGE_OBJECTS}",
                self.objects.len()
            ));
        }
        Ok(Self {
            objects: self.objects.bounded()?,
            next_cursor: optional_identifier("next-cursor", self.next_cursor)?,
        })
    }
}

impl Bounded for ConfigProperty {
    fn bounded(self) -> Result<Self, String> {
        Ok(Self {
            key: identifier("property key", self.key)?,
            label: text(self.label, MAX_NAME_BYTES),
            description: text(self.description, MAX_TEXT_BYTES),
            kind: self.kind,
            required: self.required,
            secret: self.secret,
            default_value: self.default_value.map(|d| text(d, MAX_TEXT_BYTES)),
            options: list(self.options, MAX_NAME_BYTES),
        })
    }
}

impl Bounded for ConnectorMetadata {
    fn bounded(self) -> Result<Self, String> {
        if self.properties.len() > MAX_PROPERTIES {
            return Err(format!(
                "{} configuration properties exceed the limit of {MAX_PROPERTIES}",
                self.properties.len()
            ));
        }
        Ok(Self {
            id: identifier("connector id", self.id)?,
            name: text(self.name, MAX_NAME_BYTES),
            version: text(self.version, MAX_NAME_BYTES),
            description: text(self.description, MAX_TEXT_BYTES),
            entity_kinds: self.entity_kinds,
            max_batch_size: self.max_batch_size,
            properties: self.properties.bounded()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_long_text_is_cut() {
        assert_eq!(
            sanitize("line one\nFAKE 2026 INFO admin logged in\u{1b}[31m", 100),
            "line one\\nFAKE 2026 INFO admin logged in\\u{1b}[31m"
        );
        let long = "é".repeat(10_000);
        let cut = sanitize(&long, 100);
        assert!(cut.len() <= 100 + 40, "{}", cut.len());
        assert!(cut.ends_with("… [cut: 20000 bytes sent]"), "{cut}");
        assert_eq!(sanitize("plain", 100), "plain");
    }

    #[test]
    fn errors_are_bounded_and_identifiers_refused_when_too_long() {
        let error = ProvisionError::InvalidData(ErrorDetail {
            message: "x".repeat(40 << 20),
            target_code: Some("CODE\n".into()),
            fields: (0..1000).map(|i| format!("f{i}")).collect(),
            http_status: Some(400),
        });
        let ProvisionError::InvalidData(detail) = error.bounded().unwrap() else {
            panic!()
        };
        assert!(detail.message.len() < MAX_TEXT_BYTES + 64);
        assert_eq!(detail.target_code.as_deref(), Some("CODE\\n"));
        assert_eq!(detail.fields.len(), MAX_LIST_ITEMS);

        let outcome = ProvisionOutcome {
            remote_id: Some("0".repeat(MAX_IDENTIFIER_BYTES + 1)),
            warnings: vec![],
        };
        let err = outcome.bounded().unwrap_err();
        assert!(err.contains("remote-id of 1025 bytes"), "{err}");
    }
}
