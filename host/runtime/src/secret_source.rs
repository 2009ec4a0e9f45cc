//! Where secret values come from: `env:VAR`, `file:/path`, or a literal in a configuration file.
//!
//! The one parser and resolver of secret references in the host. Stored targets keep only
//! references ([`SecretSource::reference`]); configuration files may also hold literals
//! ([`SecretSource::config_value`]). Resolution yields a [`SecretValue`] and errors name the key
//! and the variable or file, never a value.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::capabilities::secrets::SecretValue;

/// A secret's source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretSource {
    /// An environment variable.
    Env(String),
    /// A file whose contents (without trailing newlines) are the value.
    File(PathBuf),
    /// The value itself (configuration files only).
    Literal(SecretValue),
}

/// Why a secret could not be resolved.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The environment variable is not set.
    #[error("environment variable `{var}` is not set (or not UTF-8)")]
    EnvNotSet {
        /// The variable.
        var: String,
    },
    /// The file could not be read.
    #[error("cannot read `{path}`: {message}")]
    Unreadable {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// A stored secret is not a reference.
    #[error("not a reference; use `env:VAR` or `file:/path`")]
    NotAReference,
}

impl SecretSource {
    /// Parses a reference that may be stored: `env:VAR` or `file:/path`.
    pub fn reference(text: &str) -> Result<Self, SecretError> {
        match Self::config_value(text) {
            SecretSource::Literal(_) => Err(SecretError::NotAReference),
            source => Ok(source),
        }
    }

    /// Parses a configuration-file value: `env:VAR`, `file:/path`, `literal:value` (for a
    /// literal that starts with `env:` or `file:`), or else the literal value itself.
    pub fn config_value(text: &str) -> Self {
        if let Some(value) = text.strip_prefix("literal:") {
            SecretSource::Literal(SecretValue::new(value))
        } else if let Some(var) = text.strip_prefix("env:") {
            SecretSource::Env(var.into())
        } else if let Some(path) = text.strip_prefix("file:") {
            SecretSource::File(path.into())
        } else {
            SecretSource::Literal(SecretValue::new(text))
        }
    }

    /// Whether the source can be stored (it is not a literal).
    pub fn is_reference(&self) -> bool {
        !matches!(self, SecretSource::Literal(_))
    }

    /// Reads the value.
    pub fn resolve(&self) -> Result<SecretValue, SecretError> {
        match self {
            SecretSource::Env(var) => std::env::var(var)
                .map(SecretValue::new)
                .map_err(|_| SecretError::EnvNotSet { var: var.clone() }),
            SecretSource::File(path) => std::fs::read_to_string(path)
                .map(|value| SecretValue::new(value.trim_end_matches(['\n', '\r'])))
                .map_err(|error| SecretError::Unreadable {
                    path: path.display().to_string(),
                    message: error.to_string(),
                }),
            SecretSource::Literal(value) => Ok(value.clone()),
        }
    }
}

/// Resolves every stored reference of a target, by property key; an error comes with the key
/// of the secret at fault.
pub fn resolve_references(
    references: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, SecretValue>, (String, SecretError)> {
    references
        .iter()
        .map(|(key, text)| {
            SecretSource::reference(text)
                .and_then(|source| source.resolve())
                .map(|value| (key.clone(), value))
                .map_err(|error| (key.clone(), error))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_files_and_env_and_refuses_stored_literals() {
        let dir = std::env::temp_dir().join(format!("secret-source-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("secret");
        std::fs::write(&path, "s3cret\n").unwrap();
        let source = SecretSource::reference(&format!("file:{}", path.display())).unwrap();
        assert_eq!(source.resolve().unwrap().expose(), "s3cret");
        std::fs::remove_dir_all(&dir).unwrap();

        assert_eq!(
            SecretSource::reference("s3cret"),
            Err(SecretError::NotAReference)
        );
        let refs = BTreeMap::from([(
            "k".to_string(),
            "env:PROVISIONER_TEST_SURELY_UNSET".to_string(),
        )]);
        let (key, error) = resolve_references(&refs).unwrap_err();
        assert_eq!(key, "k");
        assert!(
            error.to_string().contains("PROVISIONER_TEST_SURELY_UNSET"),
            "{error}"
        );
    }

    #[test]
    fn config_values_may_be_literals() {
        let literal = |text| SecretSource::config_value(text).resolve().unwrap();
        assert_eq!(literal("plain").expose(), "plain");
        assert_eq!(literal("literal:env:x").expose(), "env:x");
        assert!(!SecretSource::config_value("plain").is_reference());
        assert!(SecretSource::config_value("env:X").is_reference());
    }
}
