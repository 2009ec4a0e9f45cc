//! Target configuration: the values an operator sets for one connector instance, checked
//! against the connector's schema and turned into what the guest receives.
//!
//! Secret values stay here: the guest's `connector-config` carries `config-value::secret` with
//! only the key. The target's egress allow-list is derived from the `url` properties the operator
//! set, never from defaults the connector declared; each secret is bound to origins of that list.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::capabilities::egress::{AllowList, EgressPolicy};
use crate::capabilities::headers::check_credential_header_name;
use crate::capabilities::origin::Origin;
use crate::capabilities::secrets::{SecretValue, TargetSecrets, MIN_SECRET_BYTES};
use crate::capabilities::trust::CaBundle;
use provisioner_contract::{
    ClaimMapping, ConfigEntry, ConfigProperty, ConfigValue, ConnectorConfig, ConnectorMetadata,
    PropertyKind, SecretRef,
};

/// A configured (non-secret) value, as an operator writes it.
///
/// Deserializes untagged, so in JSON or TOML a value is written naturally: `"text"`, `true`, `42`
/// or a list of claim mappings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ConfigInput {
    /// For `text`, `multiline-text`, `url` and `choice` properties (and, when it parses,
    /// `boolean` and `integer`).
    Text(String),
    /// For `boolean` properties.
    Bool(bool),
    /// For `integer` properties.
    Int(i64),
    /// For `claim-mappings` properties.
    ClaimMappings(Vec<ClaimMapping>),
}

impl From<&str> for ConfigInput {
    fn from(value: &str) -> Self {
        Self::Text(value.into())
    }
}

impl From<String> for ConfigInput {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}

impl From<bool> for ConfigInput {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

impl From<i64> for ConfigInput {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}

/// The configuration of one target: a connector instance owned by a tenant.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TargetConfig {
    /// Tenant that owns the target.
    pub tenant: String,
    /// Name of the target, unique within the tenant.
    pub target: String,
    /// Non-secret property values by key.
    #[serde(default)]
    pub values: BTreeMap<String, ConfigInput>,
    /// Secret property values by key; they never enter the connector.
    #[serde(default)]
    pub secrets: BTreeMap<String, SecretValue>,
    /// Which non-public destinations the target may reach.
    #[serde(default)]
    pub egress: EgressPolicy,
    /// CA certificates the target trusts besides the built-in roots (a private CA); written as
    /// the path of a PEM file.
    #[serde(default)]
    pub ca_bundle: Option<CaBundle>,
    /// Where the target's secrets may go.
    #[serde(default)]
    pub secret_policy: SecretPolicy,
}

/// Where a target's secrets may go. By default each secret may be sent to the origin of every
/// `url` property the operator set for the target, and only in the `authorization` header.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecretPolicy {
    /// Narrower bindings: secret key to the origins (or URLs) it may be sent to; each must be
    /// the origin of an operator-set `url` property of the target.
    pub origins: BTreeMap<String, Vec<String>>,
    /// Header names besides `authorization` that may carry a secret (`x-api-key`, say).
    pub headers: Vec<String>,
}

impl TargetConfig {
    /// An empty configuration for a tenant's target.
    pub fn new(tenant: impl Into<String>, target: impl Into<String>) -> Self {
        Self {
            tenant: tenant.into(),
            target: target.into(),
            ..Self::default()
        }
    }

    /// Sets a non-secret value (builder style).
    pub fn value(mut self, key: impl Into<String>, value: impl Into<ConfigInput>) -> Self {
        self.values.insert(key.into(), value.into());
        self
    }

    /// Sets a secret value (builder style).
    pub fn secret(mut self, key: impl Into<String>, value: impl Into<SecretValue>) -> Self {
        self.secrets.insert(key.into(), value.into());
        self
    }

    /// Sets the egress policy (builder style).
    pub fn egress(mut self, policy: EgressPolicy) -> Self {
        self.egress = policy;
        self
    }

    /// Sets where the secrets may go (builder style).
    pub fn secret_policy(mut self, policy: SecretPolicy) -> Self {
        self.secret_policy = policy;
        self
    }

    /// Trusts the CA certificates of `bundle` besides the built-in roots (builder style).
    pub fn ca_bundle(mut self, bundle: CaBundle) -> Self {
        self.ca_bundle = Some(bundle);
        self
    }
}

/// One thing wrong with a target configuration; each names the property at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigIssue {
    /// The key is not in the connector's schema.
    UnknownKey {
        /// The key.
        key: String,
    },
    /// A required property has no value and no default.
    MissingRequired {
        /// The key.
        key: String,
    },
    /// A secret property was given as a plain value.
    SecretAsPlainValue {
        /// The key.
        key: String,
    },
    /// A non-secret property was given as a secret.
    PlainAsSecret {
        /// The key.
        key: String,
    },
    /// The value does not fit the property's kind.
    WrongKind {
        /// The key.
        key: String,
        /// What the schema expects.
        expected: String,
        /// What was given.
        found: String,
    },
    /// A `url` value is not an absolute http(s) URL.
    InvalidUrl {
        /// The key.
        key: String,
        /// Why it was refused.
        reason: String,
    },
    /// A `choice` value is not one of the options.
    InvalidChoice {
        /// The key.
        key: String,
        /// The value given.
        value: String,
        /// The allowed values.
        options: Vec<String>,
    },
    /// A secret value is too short to be a secret (or to be found again when redacting).
    SecretTooShort {
        /// The key.
        key: String,
    },
    /// A secret binding names something other than an operator-set endpoint.
    InvalidSecretBinding {
        /// The secret's key.
        key: String,
        /// Why it was refused.
        reason: String,
    },
    /// A header declared to carry secrets cannot carry one.
    InvalidSecretHeader {
        /// Why it was refused.
        reason: String,
    },
    /// The tenant or target name is empty.
    MissingName {
        /// `tenant` or `target`.
        field: &'static str,
    },
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownKey { key } => write!(f, "`{key}`: not a property of this connector"),
            Self::MissingRequired { key } => write!(f, "`{key}`: required, but not set"),
            Self::SecretAsPlainValue { key } => {
                write!(
                    f,
                    "`{key}`: is a secret property; give it as a secret, not a plain value"
                )
            }
            Self::PlainAsSecret { key } => {
                write!(
                    f,
                    "`{key}`: is not a secret property; give it as a plain value"
                )
            }
            Self::WrongKind {
                key,
                expected,
                found,
            } => {
                write!(f, "`{key}`: expected {expected}, found {found}")
            }
            Self::InvalidUrl { key, reason } => write!(f, "`{key}`: invalid URL: {reason}"),
            Self::InvalidChoice {
                key,
                value,
                options,
            } => {
                write!(
                    f,
                    "`{key}`: `{value}` is not one of [{}]",
                    options.join(", ")
                )
            }
            Self::SecretTooShort { key } => write!(
                f,
                "`{key}`: a secret must be at least {MIN_SECRET_BYTES} bytes long"
            ),
            Self::InvalidSecretBinding { key, reason } => {
                write!(f, "secret_policy.origins `{key}`: {reason}")
            }
            Self::InvalidSecretHeader { reason } => write!(f, "secret_policy.headers: {reason}"),
            Self::MissingName { field } => write!(f, "the {field} name is empty"),
        }
    }
}

/// A target configuration that does not fit the connector's schema.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration for target `{target}`: {}", issues.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct TargetConfigError {
    /// The target name.
    pub target: String,
    /// Every issue found.
    pub issues: Vec<ConfigIssue>,
}

/// A configuration checked against its schema.
#[derive(Debug)]
pub(crate) struct ResolvedConfig {
    /// What the guest receives.
    pub connector_config: ConnectorConfig,
    /// Origins of the `url` properties the operator set.
    pub allow: AllowList,
    /// Secret values by key.
    pub secrets: TargetSecrets,
}

/// Checks `config` against the connector's schema and builds the guest's view of it.
pub(crate) fn resolve(
    metadata: &ConnectorMetadata,
    config: &TargetConfig,
) -> Result<ResolvedConfig, TargetConfigError> {
    let mut issues = Vec::new();
    if config.tenant.trim().is_empty() {
        issues.push(ConfigIssue::MissingName { field: "tenant" });
    }
    if config.target.trim().is_empty() {
        issues.push(ConfigIssue::MissingName { field: "target" });
    }
    let schema: BTreeMap<&str, &ConfigProperty> = metadata
        .properties
        .iter()
        .map(|p| (p.key.as_str(), p))
        .collect();
    for key in config.values.keys() {
        match schema.get(key.as_str()) {
            None => issues.push(ConfigIssue::UnknownKey { key: key.clone() }),
            Some(p) if p.secret => {
                issues.push(ConfigIssue::SecretAsPlainValue { key: key.clone() })
            }
            Some(_) => {}
        }
    }
    for key in config.secrets.keys() {
        match schema.get(key.as_str()) {
            None => issues.push(ConfigIssue::UnknownKey { key: key.clone() }),
            Some(p) if !p.secret => issues.push(ConfigIssue::PlainAsSecret { key: key.clone() }),
            Some(_) => {}
        }
    }

    for (key, value) in &config.secrets {
        let is_secret = schema.get(key.as_str()).is_some_and(|p| p.secret);
        if is_secret && value.expose().len() < MIN_SECRET_BYTES {
            issues.push(ConfigIssue::SecretTooShort { key: key.clone() });
        }
    }

    let mut entries = Vec::new();
    let mut origins = Vec::new();
    let mut defaulted = Vec::new();
    for property in &metadata.properties {
        let key = &property.key;
        if property.secret {
            if config.secrets.contains_key(key) {
                entries.push(ConfigEntry {
                    key: key.clone(),
                    value: ConfigValue::Secret(SecretRef { key: key.clone() }),
                });
            } else if property.required && !config.values.contains_key(key) {
                issues.push(ConfigIssue::MissingRequired { key: key.clone() });
            }
            continue;
        }
        let given = config.values.get(key);
        let input = match (given, &property.default_value) {
            (Some(input), _) => input.clone(),
            (None, Some(default)) => ConfigInput::Text(default.clone()),
            (None, None) => {
                if property.required && !config.secrets.contains_key(key) {
                    issues.push(ConfigIssue::MissingRequired { key: key.clone() });
                }
                continue;
            }
        };
        match typed_value(property, input) {
            Ok((value, origin)) => {
                entries.push(ConfigEntry {
                    key: key.clone(),
                    value,
                });
                // Only what the operator set widens egress; a connector's own default never does.
                match (given, origin) {
                    (Some(_), Some(origin)) => origins.push(origin),
                    (None, Some(origin)) => defaulted.push((key.clone(), origin)),
                    (_, None) => {}
                }
            }
            // A default the connector declared but cannot parse is the connector's problem;
            // report it only when the operator relied on it.
            Err(issue) => issues.push(issue),
        }
    }

    let allow = AllowList::new(origins).with_defaulted(defaulted);
    let bindings = secret_bindings(config, &allow, &mut issues);
    for name in &config.secret_policy.headers {
        if let Err(reason) = check_credential_header_name(name) {
            issues.push(ConfigIssue::InvalidSecretHeader { reason });
        }
    }

    if !issues.is_empty() {
        return Err(TargetConfigError {
            target: config.target.clone(),
            issues,
        });
    }
    let secret_keys = metadata
        .properties
        .iter()
        .filter(|p| p.secret)
        .map(|p| p.key.clone());
    let secrets = TargetSecrets::new(secret_keys, config.secrets.clone())
        .bind(bindings)
        .allow_headers(config.secret_policy.headers.iter().cloned());
    Ok(ResolvedConfig {
        connector_config: ConnectorConfig {
            tenant: config.tenant.clone(),
            target: config.target.clone(),
            entries,
        },
        allow,
        secrets,
    })
}

/// The origins each configured secret may be sent to: the operator's narrower binding where
/// one is given (each origin must be allowed), every allowed origin otherwise.
fn secret_bindings(
    config: &TargetConfig,
    allow: &AllowList,
    issues: &mut Vec<ConfigIssue>,
) -> BTreeMap<String, Vec<Origin>> {
    for key in config.secret_policy.origins.keys() {
        if !config.secrets.contains_key(key) {
            issues.push(ConfigIssue::InvalidSecretBinding {
                key: key.clone(),
                reason: "no secret of this name is configured for the target".into(),
            });
        }
    }
    let mut bindings = BTreeMap::new();
    for key in config.secrets.keys() {
        let Some(listed) = config.secret_policy.origins.get(key) else {
            bindings.insert(key.clone(), allow.origins().to_vec());
            continue;
        };
        let mut bound = Vec::new();
        for text in listed {
            match Origin::parse(text) {
                Ok(origin) if allow.contains(&origin) => bound.push(origin),
                Ok(origin) => issues.push(ConfigIssue::InvalidSecretBinding {
                    key: key.clone(),
                    reason: format!(
                        "{origin} is not the origin of a `url` property set for this target"
                    ),
                }),
                Err(reason) => issues.push(ConfigIssue::InvalidSecretBinding {
                    key: key.clone(),
                    reason,
                }),
            }
        }
        bindings.insert(key.clone(), bound);
    }
    bindings
}

fn kind_name(kind: PropertyKind) -> &'static str {
    match kind {
        PropertyKind::Text => "text",
        PropertyKind::MultilineText => "multi-line text",
        PropertyKind::Boolean => "a boolean",
        PropertyKind::Integer => "an integer",
        PropertyKind::Url => "a URL",
        PropertyKind::Choice => "one of the options",
        PropertyKind::ClaimMappings => "a list of claim mappings",
    }
}

fn input_name(input: &ConfigInput) -> String {
    match input {
        ConfigInput::Text(t) => format!("text `{}`", crate::answers::sanitize(t, 64)),
        ConfigInput::Bool(b) => format!("boolean `{b}`"),
        ConfigInput::Int(i) => format!("integer `{i}`"),
        ConfigInput::ClaimMappings(_) => "a list of claim mappings".into(),
    }
}

/// The guest's value for one property, and the origin it adds to the allow-list.
fn typed_value(
    property: &ConfigProperty,
    input: ConfigInput,
) -> Result<(ConfigValue, Option<Origin>), ConfigIssue> {
    let key = &property.key;
    let wrong = |input: &ConfigInput| ConfigIssue::WrongKind {
        key: key.clone(),
        expected: kind_name(property.kind).into(),
        found: input_name(input),
    };
    let value = match (property.kind, input) {
        (PropertyKind::Text | PropertyKind::MultilineText, ConfigInput::Text(t)) => {
            ConfigValue::Text(t)
        }
        (PropertyKind::Url, ConfigInput::Text(t)) => {
            let url = Url::parse(t.trim()).map_err(|e| ConfigIssue::InvalidUrl {
                key: key.clone(),
                reason: e.to_string(),
            })?;
            let origin = Origin::of(&url).map_err(|reason| ConfigIssue::InvalidUrl {
                key: key.clone(),
                reason,
            })?;
            return Ok((ConfigValue::Text(t.trim().to_string()), Some(origin)));
        }
        (PropertyKind::Choice, ConfigInput::Text(t)) => {
            if !property.options.is_empty() && !property.options.contains(&t) {
                return Err(ConfigIssue::InvalidChoice {
                    key: key.clone(),
                    value: t,
                    options: property.options.clone(),
                });
            }
            ConfigValue::Text(t)
        }
        (PropertyKind::Boolean, ConfigInput::Bool(b)) => ConfigValue::Boolean(b),
        (PropertyKind::Boolean, ConfigInput::Text(t)) => match t.trim() {
            "true" => ConfigValue::Boolean(true),
            "false" => ConfigValue::Boolean(false),
            _ => return Err(wrong(&ConfigInput::Text(t))),
        },
        (PropertyKind::Integer, ConfigInput::Int(i)) => ConfigValue::Integer(i),
        (PropertyKind::Integer, ConfigInput::Text(t)) => match t.trim().parse() {
            Ok(i) => ConfigValue::Integer(i),
            Err(_) => return Err(wrong(&ConfigInput::Text(t))),
        },
        (PropertyKind::ClaimMappings, ConfigInput::ClaimMappings(m)) => {
            ConfigValue::ClaimMappings(m)
        }
        (PropertyKind::ClaimMappings, ConfigInput::Text(t)) => {
            // Defaults are rendered as text; accept the JSON form of a mapping list.
            match serde_json::from_str::<Vec<ClaimMapping>>(&t) {
                Ok(m) => ConfigValue::ClaimMappings(m),
                Err(_) => return Err(wrong(&ConfigInput::Text(t))),
            }
        }
        (_, other) => return Err(wrong(&other)),
    };
    Ok((value, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use provisioner_contract::EntityKind;

    fn prop(key: &str, kind: PropertyKind, required: bool, secret: bool) -> ConfigProperty {
        ConfigProperty {
            key: key.into(),
            label: key.into(),
            description: String::new(),
            kind,
            required,
            secret,
            default_value: None,
            options: vec![],
        }
    }

    fn metadata() -> ConnectorMetadata {
        let mut choice = prop("mode", PropertyKind::Choice, false, false);
        choice.options = vec!["a".into(), "b".into()];
        let mut login = prop("login-url", PropertyKind::Url, false, false);
        login.default_value = Some("https://login.example.com".into());
        ConnectorMetadata {
            id: "t".into(),
            name: "t".into(),
            version: "1".into(),
            description: String::new(),
            entity_kinds: vec![EntityKind::User],
            max_batch_size: 1,
            properties: vec![
                prop("endpoint", PropertyKind::Url, true, false),
                prop("api-key", PropertyKind::Text, true, true),
                prop("retries", PropertyKind::Integer, false, false),
                prop("enabled", PropertyKind::Boolean, false, false),
                choice,
                login,
            ],
        }
    }

    #[test]
    fn builds_guest_config_with_secret_refs_and_allow_list() {
        let config = TargetConfig::new("acme", "sf")
            .value("endpoint", "https://api.example.com/v1")
            .value("retries", 3)
            .value("enabled", "true")
            .secret("api-key", "s3cret-value");
        let resolved = resolve(&metadata(), &config).unwrap();
        let entries = &resolved.connector_config.entries;
        assert!(entries.iter().any(|e| e.key == "api-key"
            && e.value
                == ConfigValue::Secret(SecretRef {
                    key: "api-key".into()
                })));
        assert!(!format!("{entries:?}").contains("s3cret-value"));
        assert!(entries
            .iter()
            .any(|e| e.key == "enabled" && e.value == ConfigValue::Boolean(true)));
        let origins: Vec<String> = resolved
            .allow
            .origins()
            .iter()
            .map(ToString::to_string)
            .collect();
        // `login-url` was left at the connector's default: the guest sees the value, but the
        // origin is not reachable and no secret is bound to it.
        assert!(entries.iter().any(|e| e.key == "login-url"));
        assert_eq!(origins, ["https://api.example.com"]);
        let Err(provisioner_contract::HttpError::Denied(denied)) =
            resolved.allow.check("https://login.example.com/token")
        else {
            panic!("the default's origin must be denied")
        };
        assert!(denied.contains("must set `login-url`"), "{denied}");
        let bindings: Vec<(String, Vec<String>)> = resolved
            .secrets
            .bindings()
            .map(|(k, o)| (k.to_string(), o.iter().map(ToString::to_string).collect()))
            .collect();
        assert_eq!(
            bindings,
            [(
                "api-key".to_string(),
                vec!["https://api.example.com".to_string()]
            )]
        );
    }

    #[test]
    fn operator_set_url_equal_to_the_default_is_allowed() {
        let config = TargetConfig::new("acme", "sf")
            .value("endpoint", "https://api.example.com/v1")
            .value("login-url", "https://login.example.com")
            .secret("api-key", "s3cret-value");
        let resolved = resolve(&metadata(), &config).unwrap();
        assert_eq!(resolved.allow.origins().len(), 2);
    }

    #[test]
    fn secret_policy_narrows_bindings_and_is_checked() {
        let base = TargetConfig::new("acme", "sf")
            .value("endpoint", "https://api.example.com/v1")
            .value("login-url", "https://login.example.com")
            .secret("api-key", "s3cret-value");
        let narrowed = base.clone().secret_policy(SecretPolicy {
            origins: [("api-key".into(), vec!["https://login.example.com/x".into()])].into(),
            headers: vec!["x-api-key".into()],
        });
        let resolved = resolve(&metadata(), &narrowed).unwrap();
        let (_, bound) = resolved.secrets.bindings().next().unwrap();
        assert_eq!(bound.len(), 1);
        assert_eq!(bound[0].to_string(), "https://login.example.com");
        assert_eq!(
            resolved.secrets.header_names().collect::<Vec<_>>(),
            ["x-api-key"]
        );

        let wrong = base.clone().secret_policy(SecretPolicy {
            origins: [
                ("api-key".into(), vec!["https://evil.example.net".into()]),
                ("nope".into(), vec![]),
            ]
            .into(),
            headers: vec!["content-type".into()],
        });
        let text = resolve(&metadata(), &wrong).unwrap_err().to_string();
        for needle in [
            "`api-key`: https://evil.example.net is not the origin of a `url` property",
            "`nope`: no secret of this name",
            "secret_policy.headers: header `content-type` cannot carry a secret",
        ] {
            assert!(text.contains(needle), "{needle} missing from {text}");
        }
    }

    #[test]
    fn short_secrets_are_refused() {
        let config = TargetConfig::new("acme", "sf")
            .value("endpoint", "https://api.example.com/v1")
            .secret("api-key", "abc");
        let err = resolve(&metadata(), &config).unwrap_err();
        assert!(err.issues.contains(&ConfigIssue::SecretTooShort {
            key: "api-key".into()
        }));
        assert!(err.to_string().contains("at least 8 bytes"), "{err}");
    }

    #[test]
    fn reports_every_issue_by_key() {
        let config = TargetConfig::new("acme", "sf")
            .value("endpoint", "ftp://x")
            .value("api-key", "plain")
            .value("retries", true)
            .value("mode", "c")
            .value("nope", 1)
            .secret("enabled", "x");
        let err = resolve(&metadata(), &config).unwrap_err();
        let text = err.to_string();
        for needle in [
            "`endpoint`: invalid URL",
            "`api-key`: is a secret",
            "`retries`: expected an integer",
            "`mode`: `c` is not one of [a, b]",
            "`nope`: not a property",
            "`enabled`: is not a secret",
        ] {
            assert!(text.contains(needle), "{needle} missing from {text}");
        }
        let err = resolve(&metadata(), &TargetConfig::new("acme", "sf")).unwrap_err();
        assert!(err.issues.contains(&ConfigIssue::MissingRequired {
            key: "endpoint".into()
        }));
        assert!(err.issues.contains(&ConfigIssue::MissingRequired {
            key: "api-key".into()
        }));
    }
}
