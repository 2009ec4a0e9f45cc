//! A typed reader of a target's configuration ([`ConnectorConfig`]).
//!
//! The host hands the connector only the properties of its schema, typed by their kind, with
//! the schema's defaults filled in and secrets replaced by references. Each getter returns
//! `Ok(None)` for an unset key and a [`ConfigError`] naming the key when the value has the wrong
//! shape; [`Config::required`] turns an unset key into an error too:
//!
//! ```
//! # use provisioner_sdk::{Config, ConfigError, ConnectorConfig};
//! # fn f(config: &ConnectorConfig) -> Result<(), ConfigError> {
//! let config = Config::new(config);
//! let endpoint: String = config.required("endpoint", Config::url)?;
//! let retries: i64 = config.int("retries")?.unwrap_or(3);
//! # Ok(()) }
//! ```

use std::fmt;

use crate::{ClaimMapping, ConfigProblem, ConfigValue, ConnectorConfig, ProvisionError, SecretRef};

/// A configuration value that is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The property at fault.
    pub key: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl ConfigError {
    /// An error about `key`.
    pub fn new(key: &str, message: impl Into<String>) -> Self {
        ConfigError {
            key: key.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "configuration property `{}`: {}", self.key, self.message)
    }
}

impl std::error::Error for ConfigError {}

impl From<ConfigError> for ConfigProblem {
    fn from(error: ConfigError) -> Self {
        ConfigProblem {
            key: Some(error.key),
            message: error.message,
        }
    }
}

/// A configuration error met while provisioning is `permanent`: retrying cannot fix it, the
/// operator must correct the target's configuration.
impl From<ConfigError> for ProvisionError {
    fn from(error: ConfigError) -> Self {
        crate::error::permanent(error.to_string())
    }
}

/// Reads typed values out of a [`ConnectorConfig`].
#[derive(Debug, Clone, Copy)]
pub struct Config<'a> {
    config: &'a ConnectorConfig,
}

impl<'a> Config<'a> {
    /// A reader of `config`.
    pub fn new(config: &'a ConnectorConfig) -> Self {
        Config { config }
    }

    /// The configuration being read.
    pub fn raw(&self) -> &'a ConnectorConfig {
        self.config
    }

    /// The tenant that owns the target.
    pub fn tenant(&self) -> &'a str {
        &self.config.tenant
    }

    /// The target's name.
    pub fn target(&self) -> &'a str {
        &self.config.target
    }

    /// The value of `key` as the host sent it, if set.
    pub fn get(&self, key: &str) -> Option<&'a ConfigValue> {
        self.config
            .entries
            .iter()
            .find(|entry| entry.key == key)
            .map(|entry| &entry.value)
    }

    /// Whether `key` has a value.
    pub fn is_set(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// `read(self, key)`, with an unset key reported as an error:
    /// `config.required("endpoint", Config::url)?`.
    pub fn required<T>(
        &self,
        key: &str,
        read: impl FnOnce(&Self, &str) -> Result<Option<T>, ConfigError>,
    ) -> Result<T, ConfigError> {
        read(self, key)?.ok_or_else(|| {
            ConfigError::new(key, "is not set; set it in the target's configuration")
        })
    }

    /// A single-line text value, trimmed; blank counts as unset.
    pub fn text(&self, key: &str) -> Result<Option<String>, ConfigError> {
        Ok(self
            .string(key, "text")?
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string))
    }

    /// A multi-line text value (such as a PEM document) exactly as given; blank counts as unset.
    pub fn multiline(&self, key: &str) -> Result<Option<String>, ConfigError> {
        Ok(self
            .string(key, "text")?
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string))
    }

    /// A boolean value; text `true`/`false` (any case) is accepted too.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(ConfigValue::Boolean(b)) => Ok(Some(*b)),
            Some(ConfigValue::Text(t)) => match t.trim().to_ascii_lowercase().as_str() {
                "" => Ok(None),
                "true" => Ok(Some(true)),
                "false" => Ok(Some(false)),
                _ => Err(ConfigError::new(
                    key,
                    format!("`{}` is not a boolean; use `true` or `false`", t.trim()),
                )),
            },
            Some(other) => Err(wrong_kind(key, "a boolean", other)),
        }
    }

    /// An integer value; decimal text is accepted too.
    pub fn int(&self, key: &str) -> Result<Option<i64>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(ConfigValue::Integer(i)) => Ok(Some(*i)),
            Some(ConfigValue::Text(t)) if t.trim().is_empty() => Ok(None),
            Some(ConfigValue::Text(t)) => t.trim().parse().map(Some).map_err(|_| {
                ConfigError::new(
                    key,
                    format!("`{}` is not an integer; use digits, e.g. `30`", t.trim()),
                )
            }),
            Some(other) => Err(wrong_kind(key, "an integer", other)),
        }
    }

    /// An absolute `http` or `https` URL, with trailing `/` removed so paths can be appended.
    pub fn url(&self, key: &str) -> Result<Option<String>, ConfigError> {
        match self.text(key)? {
            None => Ok(None),
            Some(url) => check_url(&url)
                .map(|()| Some(url.trim_end_matches('/').to_string()))
                .map_err(|why| ConfigError::new(key, why)),
        }
    }

    /// A text value that must be one of `options` (compared exactly).
    pub fn choice(&self, key: &str, options: &[&str]) -> Result<Option<String>, ConfigError> {
        match self.text(key)? {
            None => Ok(None),
            Some(value) if options.contains(&value.as_str()) => Ok(Some(value)),
            Some(value) => Err(ConfigError::new(
                key,
                format!(
                    "`{value}` is not allowed; use one of: {}",
                    options.join(", ")
                ),
            )),
        }
    }

    /// A reference to a secret property. The value itself never enters the connector: name the
    /// reference in a credential (see [`crate::RequestBuilder::bearer`]) and the host attaches it.
    pub fn secret(&self, key: &str) -> Result<Option<SecretRef>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(ConfigValue::Secret(secret)) => Ok(Some(secret.clone())),
            Some(other) => Err(wrong_kind(key, "a secret", other)),
        }
    }

    /// A table of claim mappings; unset is an empty table.
    pub fn claim_mappings(&self, key: &str) -> Result<Vec<ClaimMapping>, ConfigError> {
        match self.get(key) {
            None => Ok(vec![]),
            Some(ConfigValue::ClaimMappings(mappings)) => Ok(mappings.clone()),
            Some(other) => Err(wrong_kind(key, "a table of claim mappings", other)),
        }
    }

    /// The text of `key`, untrimmed.
    fn string(&self, key: &str, expected: &str) -> Result<Option<&'a str>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(ConfigValue::Text(t)) => Ok(Some(t)),
            Some(other) => Err(wrong_kind(key, expected, other)),
        }
    }
}

impl ConnectorConfig {
    /// An empty configuration of target `target` owned by `tenant`; chain the `with_*`
    /// builders to add values (for tests and tools: the host builds the real ones).
    pub fn new(tenant: &str, target: &str) -> Self {
        ConnectorConfig {
            tenant: tenant.into(),
            target: target.into(),
            entries: vec![],
        }
    }

    /// Sets `key` to `value`, replacing an earlier value.
    pub fn with(mut self, key: &str, value: ConfigValue) -> Self {
        self.entries.retain(|entry| entry.key != key);
        self.entries.push(crate::ConfigEntry {
            key: key.into(),
            value,
        });
        self
    }

    /// Sets a text (also URL, choice or multi-line) value.
    pub fn with_text(self, key: &str, value: &str) -> Self {
        self.with(key, ConfigValue::Text(value.into()))
    }

    /// Sets a boolean value.
    pub fn with_bool(self, key: &str, value: bool) -> Self {
        self.with(key, ConfigValue::Boolean(value))
    }

    /// Sets an integer value.
    pub fn with_int(self, key: &str, value: i64) -> Self {
        self.with(key, ConfigValue::Integer(value))
    }

    /// Marks secret `key` as set: the connector receives a reference named `key`.
    pub fn with_secret(self, key: &str) -> Self {
        self.with(key, ConfigValue::Secret(SecretRef { key: key.into() }))
    }

    /// Sets a table of claim mappings.
    pub fn with_mappings(self, key: &str, mappings: Vec<ClaimMapping>) -> Self {
        self.with(key, ConfigValue::ClaimMappings(mappings))
    }
}

/// Why `url` is not an absolute http(s) URL with a host, if it is not: the scheme is `http` or
/// `https` (any case), the authority names a host and carries no credentials, and there are no
/// spaces or control characters.
pub fn check_url(url: &str) -> Result<(), String> {
    let scheme_end = url.find("://").unwrap_or(0);
    let scheme = url[..scheme_end].to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "`{url}` is not an absolute http(s) URL; use e.g. `https://api.example.com`"
        ));
    }
    let rest = &url[scheme_end + 3..];
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err(format!(
            "`{url}` carries credentials; put them in a secret property instead"
        ));
    }
    if authority.is_empty() || authority.starts_with(':') {
        return Err(format!(
            "`{url}` has no host; use e.g. `https://api.example.com`"
        ));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("`{url}` contains spaces or control characters"));
    }
    Ok(())
}

/// What a value of the wrong variant is, for error messages.
pub(crate) fn kind_name(value: &ConfigValue) -> &'static str {
    match value {
        ConfigValue::Text(_) => "text",
        ConfigValue::Boolean(_) => "a boolean",
        ConfigValue::Integer(_) => "an integer",
        ConfigValue::Secret(_) => "a secret",
        ConfigValue::ClaimMappings(_) => "a table of claim mappings",
    }
}

fn wrong_kind(key: &str, expected: &str, got: &ConfigValue) -> ConfigError {
    ConfigError::new(
        key,
        format!(
            "expected {expected} but the host sent {}; check the connector's schema",
            kind_name(got)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ConfigEntry;

    fn config(entries: Vec<(&str, ConfigValue)>) -> ConnectorConfig {
        ConnectorConfig {
            tenant: "t".into(),
            target: "acme".into(),
            entries: entries
                .into_iter()
                .map(|(key, value)| ConfigEntry {
                    key: key.into(),
                    value,
                })
                .collect(),
        }
    }

    fn text(s: &str) -> ConfigValue {
        ConfigValue::Text(s.into())
    }

    #[test]
    fn text_is_trimmed_and_blank_is_unset() {
        let c = config(vec![("a", text("  x  ")), ("b", text("   "))]);
        let r = Config::new(&c);
        assert_eq!(r.text("a").unwrap().as_deref(), Some("x"));
        assert_eq!(r.text("b").unwrap(), None);
        assert_eq!(r.text("absent").unwrap(), None);
        assert_eq!(r.tenant(), "t");
        assert_eq!(r.target(), "acme");
    }

    #[test]
    fn multiline_keeps_its_lines() {
        let pem = "-----BEGIN-----\nabc\n-----END-----\n";
        let c = config(vec![("k", text(pem))]);
        assert_eq!(
            Config::new(&c).multiline("k").unwrap().as_deref(),
            Some(pem)
        );
    }

    #[test]
    fn required_names_the_key_when_unset() {
        let c = config(vec![]);
        let err = Config::new(&c)
            .required("endpoint", Config::url)
            .unwrap_err();
        assert_eq!(err.key, "endpoint");
        assert!(err.to_string().contains("`endpoint`"), "{err}");
        assert!(err.message.contains("not set"), "{err}");
    }

    #[test]
    fn bool_accepts_typed_and_text_values() {
        let c = config(vec![
            ("a", ConfigValue::Boolean(true)),
            ("b", text("FALSE")),
            ("c", text("yes")),
            ("d", ConfigValue::Integer(1)),
        ]);
        let r = Config::new(&c);
        assert_eq!(r.bool("a").unwrap(), Some(true));
        assert_eq!(r.bool("b").unwrap(), Some(false));
        let err = r.bool("c").unwrap_err();
        assert_eq!(err.key, "c");
        assert!(err.message.contains("`yes` is not a boolean"), "{err}");
        assert!(r.bool("d").unwrap_err().message.contains("an integer"));
    }

    #[test]
    fn int_accepts_typed_and_text_values() {
        let c = config(vec![
            ("a", ConfigValue::Integer(-5)),
            ("b", text(" 42 ")),
            ("c", text("4x")),
        ]);
        let r = Config::new(&c);
        assert_eq!(r.int("a").unwrap(), Some(-5));
        assert_eq!(r.int("b").unwrap(), Some(42));
        assert!(r
            .int("c")
            .unwrap_err()
            .message
            .contains("`4x` is not an integer"));
    }

    #[test]
    fn url_must_be_absolute_http_and_loses_its_trailing_slash() {
        let c = config(vec![
            ("a", text("https://api.example.com/v1/")),
            ("b", text("ftp://example.com")),
            ("c", text("api.example.com")),
            ("d", text("http:///path")),
            ("e", text("http://127.0.0.1:8080")),
            ("f", text("HTTPS://API.example.com/")),
            ("g", text("https://user:pw@example.com")),
            ("h", text("https://exa mple.com")),
        ]);
        let r = Config::new(&c);
        assert_eq!(
            r.url("a").unwrap().as_deref(),
            Some("https://api.example.com/v1")
        );
        assert_eq!(
            r.url("e").unwrap().as_deref(),
            Some("http://127.0.0.1:8080")
        );
        for key in ["b", "c"] {
            let err = r.url(key).unwrap_err();
            assert_eq!(err.key, key);
            assert!(err.message.contains("not an absolute http(s) URL"), "{err}");
        }
        assert!(r.url("d").unwrap_err().message.contains("no host"));
        assert_eq!(
            r.url("f").unwrap().as_deref(),
            Some("HTTPS://API.example.com")
        );
        assert!(r
            .url("g")
            .unwrap_err()
            .message
            .contains("carries credentials"));
        assert!(r.url("h").unwrap_err().message.contains("spaces"));
    }

    #[test]
    fn choice_must_be_one_of_the_options() {
        let c = config(vec![("mode", text("fast")), ("other", text("slow"))]);
        let r = Config::new(&c);
        assert_eq!(
            r.choice("mode", &["fast", "safe"]).unwrap().as_deref(),
            Some("fast")
        );
        let err = r.choice("other", &["fast", "safe"]).unwrap_err();
        assert!(err.message.contains("use one of: fast, safe"), "{err}");
    }

    #[test]
    fn secrets_are_references_and_text_is_not_a_secret() {
        let c = config(vec![
            (
                "token",
                ConfigValue::Secret(SecretRef {
                    key: "token".into(),
                }),
            ),
            ("plain", text("oops")),
        ]);
        let r = Config::new(&c);
        assert_eq!(r.secret("token").unwrap().unwrap().key, "token");
        let err = r.secret("plain").unwrap_err();
        assert!(err
            .message
            .contains("expected a secret but the host sent text"));
    }

    #[test]
    fn claim_mappings_default_to_empty() {
        let mapping = ClaimMapping {
            target_field: "LastName".into(),
            claim: Some(crate::claims::LAST_NAME.into()),
            default_value: None,
        };
        let c = config(vec![(
            "map",
            ConfigValue::ClaimMappings(vec![mapping.clone()]),
        )]);
        let r = Config::new(&c);
        assert_eq!(r.claim_mappings("map").unwrap(), vec![mapping]);
        assert!(r.claim_mappings("none").unwrap().is_empty());
    }

    #[test]
    fn config_errors_become_problems_and_permanent_errors() {
        let err = ConfigError::new("endpoint", "is not set");
        let problem: ConfigProblem = err.clone().into();
        assert_eq!(problem.key.as_deref(), Some("endpoint"));
        match ProvisionError::from(err) {
            ProvisionError::Permanent(detail) => {
                assert!(detail.message.contains("`endpoint`: is not set"))
            }
            other => panic!("expected permanent, got {other:?}"),
        }
    }
}
