//! Typed configuration: parses a `connector-config` into [`Settings`] and reports problems.
//!
//! [`Settings::parse`] fails on anything that makes the connector unusable (a missing or
//! malformed key); [`validate`] adds advice that only matters for some users (mapping coverage,
//! the shape of ProfileId and permission defaults). Provisioning needs only the former.

use crate::pattern::Pattern;
use crate::salesforce::{
    is_domain, is_field_name, is_permission_field, is_salesforce_id, ALIAS_MAX, REQUIRED_ON_CREATE,
};
use crate::schema::*;
use provisioner_sdk::{
    ClaimMapping, Config, ConfigError, ConfigProblem, ConfigValue, ConnectorConfig, SecretRef,
};

/// Which OAuth grant the host uses to obtain access tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFlow {
    /// `client_credentials`: consumer key and secret, run as the app's integration user.
    ClientCredentials,
    /// `password`: the legacy resource-owner grant (WSO2's default).
    Password,
    /// `jwt-bearer`: an RS256 assertion for a pre-authorised user, signed by the host.
    JwtBearer,
}

/// What to do with an Alias longer than Salesforce's 8 characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AliasOverflow {
    /// Keep the first 8 characters.
    Truncate,
    /// Refuse the user as invalid data.
    Error,
}

/// A parsed, usable configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Tenant that owns the target (the `TD` pattern token).
    pub tenant: String,
    /// Target name (the `IDP` pattern token).
    pub target: String,
    /// API version without the `v`, e.g. `45.0`.
    pub api_version: String,
    /// My Domain base URL without a trailing `/`.
    pub domain: String,
    /// OAuth token endpoint.
    pub token_endpoint: String,
    /// The grant the host uses.
    pub auth_flow: AuthFlow,
    /// Connected app consumer key.
    pub client_id: String,
    /// Consumer secret, by reference.
    pub client_secret: Option<SecretRef>,
    /// Integration user (password and JWT flows).
    pub username: Option<String>,
    /// Password plus security token, by reference.
    pub password: Option<SecretRef>,
    /// JWT signing key, by reference.
    pub private_key: Option<SecretRef>,
    /// JWT `aud`.
    pub jwt_audience: String,
    /// Username pattern.
    pub pattern: Pattern,
    /// Pattern separator.
    pub separator: String,
    /// Provisioning domain, lowercased.
    pub prov_domain: Option<String>,
    /// Field mappings.
    pub mappings: Vec<ClaimMapping>,
    /// Alias overflow policy.
    pub alias_overflow: AliasOverflow,
    /// Whether delete also renames the Username.
    pub rename_on_delete: bool,
    /// Whether a user disabled locally also has its Username renamed while disabled.
    pub rename_on_deactivate: bool,
    /// Per-request timeout.
    pub request_timeout_ms: Option<u32>,
    /// The most records one sObject Collections request carries (1 = single requests only).
    pub batch_size: u32,
}

impl Settings {
    /// Parses `config`; every problem that would make provisioning fail is returned at once.
    pub fn parse(config: &ConnectorConfig) -> Result<Settings, Vec<ConfigProblem>> {
        let mut r = Reader::new(config);
        let api_version = match r.text(API_VERSION) {
            Some(v) => r.check(API_VERSION, normalize_api_version(&v)),
            None => r.missing(API_VERSION, "set it to the org's API version, e.g. `v62.0`"),
        };
        let domain = match r.text(DOMAIN_NAME) {
            Some(v) => r.check(DOMAIN_NAME, check_url(&v)),
            None => r.missing(
                DOMAIN_NAME,
                "set it to `https://<my-domain>.my.salesforce.com`",
            ),
        };
        let token_endpoint = r
            .text(TOKEN_ENDPOINT)
            .map(|v| r.check(TOKEN_ENDPOINT, check_url(&v)))
            .unwrap_or_else(|| Some(DEFAULT_TOKEN_ENDPOINT.to_string()));
        let auth_flow = r.auth_flow();
        let client_id = r.text(CLIENT_ID);
        if client_id.is_none() {
            r.missing::<()>(CLIENT_ID, "set it to the connected app's consumer key");
        }
        let client_secret = r.secret(CLIENT_SECRET);
        let username = r.text(USERNAME);
        let password = r.secret(PASSWORD);
        let private_key = r.secret(PRIVATE_KEY);
        if let Some(flow) = auth_flow {
            let name = flow_name(flow);
            let needs_secret = matches!(flow, AuthFlow::ClientCredentials | AuthFlow::Password);
            if needs_secret && client_secret.is_none() {
                r.missing::<()>(
                    CLIENT_SECRET,
                    &format!("the {name} flow needs the consumer secret"),
                );
            }
            if flow != AuthFlow::ClientCredentials && username.is_none() {
                r.missing::<()>(
                    USERNAME,
                    &format!("the {name} flow needs the integration user"),
                );
            }
            if flow == AuthFlow::Password && password.is_none() {
                r.missing::<()>(
                    PASSWORD,
                    "the password flow needs the password followed by the security token",
                );
            }
            if flow == AuthFlow::JwtBearer && private_key.is_none() {
                r.missing::<()>(
                    PRIVATE_KEY,
                    "the jwt-bearer flow needs the PEM RSA private key",
                );
            }
        }
        let jwt_audience = r
            .text(JWT_AUDIENCE)
            .unwrap_or_else(|| DEFAULT_JWT_AUDIENCE.to_string());
        let pattern = match r.text(PROV_PATTERN) {
            Some(p) => r.check(PROV_PATTERN, Pattern::parse(&p)),
            None => Pattern::parse(DEFAULT_PATTERN).ok(),
        };
        let separator = r
            .raw_text(PROV_SEPARATOR)
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| DEFAULT_SEPARATOR.to_string());
        let prov_domain = r.text(PROV_DOMAIN).and_then(|d| {
            let d = d.trim_start_matches('@').to_ascii_lowercase();
            if is_domain(&d) {
                Some(d)
            } else {
                r.problem::<()>(
                    PROV_DOMAIN,
                    format!(
                        "`{d}` is not a domain name; use e.g. `corp.example.com` or leave it empty"
                    ),
                );
                None
            }
        });
        let mappings = r.mappings(CLAIM_MAPPINGS);
        let alias_overflow = match r.text(ALIAS_OVERFLOW).as_deref() {
            None | Some("truncate") => Some(AliasOverflow::Truncate),
            Some("error") => Some(AliasOverflow::Error),
            Some(other) => r.problem(
                ALIAS_OVERFLOW,
                format!("unknown value `{other}`; use `truncate` or `error`"),
            ),
        };
        let rename_on_delete = r.boolean(RENAME_ON_DELETE).unwrap_or(true);
        let rename_on_deactivate = r.boolean(RENAME_ON_DEACTIVATE).unwrap_or(false);
        let request_timeout_ms =
            r.integer(REQUEST_TIMEOUT_MS)
                .and_then(|ms| match u32::try_from(ms) {
                    Ok(ms) if ms > 0 => Some(ms),
                    _ => r.problem(
                        REQUEST_TIMEOUT_MS,
                        format!("{ms} is out of range; use a positive number of milliseconds"),
                    ),
                });
        let batch_size =
            r.integer(BATCH_SIZE)
                .map_or(Some(MAX_BATCH_SIZE), |n| match u32::try_from(n) {
                    Ok(n) if (1..=MAX_BATCH_SIZE).contains(&n) => Some(n),
                    _ => r.problem(
                        BATCH_SIZE,
                        format!(
                        "{n} is out of range; use 1 to {MAX_BATCH_SIZE} (1 sends single requests)"
                    ),
                    ),
                });
        if !r.problems.is_empty() {
            return Err(r.problems);
        }
        // Every `None` left here has recorded a problem above, so these never fail.
        let incomplete = || {
            vec![ConfigProblem {
                key: None,
                message: "the configuration is incomplete".into(),
            }]
        };
        Ok(Settings {
            tenant: config.tenant.clone(),
            target: config.target.clone(),
            api_version: api_version.ok_or_else(incomplete)?,
            domain: domain.ok_or_else(incomplete)?,
            token_endpoint: token_endpoint.ok_or_else(incomplete)?,
            auth_flow: auth_flow.ok_or_else(incomplete)?,
            client_id: client_id.ok_or_else(incomplete)?,
            client_secret,
            username,
            password,
            private_key,
            jwt_audience,
            pattern: pattern.ok_or_else(incomplete)?,
            separator,
            prov_domain,
            mappings: mappings.ok_or_else(incomplete)?,
            alias_overflow: alias_overflow.ok_or_else(incomplete)?,
            rename_on_delete,
            rename_on_deactivate,
            request_timeout_ms,
            batch_size: batch_size.ok_or_else(incomplete)?,
        })
    }

    /// `{domain}/services/data/v{version}/{path}`.
    pub fn data_url(&self, path: &str) -> String {
        format!(
            "{}/services/data/v{}/{}",
            self.domain, self.api_version, path
        )
    }
}

/// Every problem with `config`: those that stop provisioning plus advice on the mappings.
pub fn validate(config: &ConnectorConfig) -> Vec<ConfigProblem> {
    let mut problems = match Settings::parse(config) {
        Ok(_) => Vec::new(),
        Err(problems) => problems,
    };
    let mut r = Reader::new(config);
    if let Some(v) = r
        .text(API_VERSION)
        .and_then(|v| normalize_api_version(&v).ok())
    {
        let major: u32 = v
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0);
        if major <= 30 {
            problems.push(problem(
                API_VERSION,
                format!("API version {v} is retired (Salesforce answers 410); use 41.0 or later, e.g. `v62.0`"),
            ));
        }
    }
    if let Some(mappings) = r.mappings(CLAIM_MAPPINGS) {
        let overflow_error = r.text(ALIAS_OVERFLOW).as_deref() == Some("error");
        problems.extend(mapping_problems(&mappings, overflow_error));
    }
    problems
}

/// Advice on a mapping table: coverage, field names, and the shape of well-known defaults.
fn mapping_problems(mappings: &[ClaimMapping], alias_overflow_error: bool) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for m in mappings {
        let field = m.target_field.as_str();
        if !is_field_name(field) {
            problems.push(problem(
                CLAIM_MAPPINGS,
                format!("target field `{field}` is not a Salesforce field API name (letters, digits and `_`, starting with a letter)"),
            ));
        }
        if seen.iter().any(|s| s.eq_ignore_ascii_case(field)) {
            problems.push(problem(
                CLAIM_MAPPINGS,
                format!("target field `{field}` is mapped more than once; keep one mapping"),
            ));
        }
        seen.push(field);
        if m.claim.as_deref().is_some_and(|c| c.trim().is_empty()) {
            problems.push(problem(
                CLAIM_MAPPINGS,
                format!("`{field}` has an empty claim URI; give a claim or none for a constant"),
            ));
        }
        if m.claim.is_none() && m.default_value.is_none() {
            problems.push(problem(
                CLAIM_MAPPINGS,
                format!("`{field}` has neither a claim nor a default, so it never sends anything; add one or remove the mapping"),
            ));
        }
        let default = m.default_value.as_deref();
        if field == "ProfileId" {
            if let Some(d) = default {
                if let Some(message) = profile_id_problem(d) {
                    problems.push(problem(CLAIM_MAPPINGS, message));
                }
            }
        }
        if is_permission_field(field) {
            if let Some(d) = default.filter(|d| *d != "true" && *d != "false") {
                problems.push(problem(
                    CLAIM_MAPPINGS,
                    format!("`{field}` is a boolean permission but its default is `{d}`; use `true` or `false`"),
                ));
            }
        }
        if field == "Alias" && alias_overflow_error {
            if let Some(d) = default.filter(|d| d.chars().count() > ALIAS_MAX) {
                problems.push(problem(
                    CLAIM_MAPPINGS,
                    format!("the Alias default `{d}` is longer than 8 characters and `{ALIAS_OVERFLOW}` is `error`; shorten it"),
                ));
            }
        }
    }
    let missing: Vec<&str> = REQUIRED_ON_CREATE
        .iter()
        .copied()
        .filter(|f| *f != "Username")
        .filter(|f| !mappings.iter().any(|m| m.target_field == *f))
        .collect();
    if !missing.is_empty() {
        problems.push(problem(
            CLAIM_MAPPINGS,
            format!(
                "Salesforce requires {} on create; add a mapping (a claim, a default, or a constant) for each",
                missing.join(", ")
            ),
        ));
    }
    problems
}

/// Why `value` is not a usable Profile id, if it is not one.
fn profile_id_problem(value: &str) -> Option<String> {
    if is_salesforce_id(value) && value.starts_with("00e") {
        return None;
    }
    if let Some(pos) = value.find("00e").filter(|p| *p > 0) {
        let rest = &value[pos..];
        if is_salesforce_id(rest) {
            return Some(format!(
                "the ProfileId default `{value}` has a stray prefix `{}` (often a URL-encoded `/`, %2F); use `{rest}`",
                &value[..pos]
            ));
        }
    }
    Some(format!(
        "the ProfileId default `{value}` is not a Profile id; Profile ids are 15 or 18 letters and digits starting with `00e`"
    ))
}

/// `v45.0` or `45.0` -> `45.0`.
pub fn normalize_api_version(value: &str) -> Result<String, String> {
    let v = value.trim();
    let v = v.strip_prefix(['v', 'V']).unwrap_or(v);
    let shaped = v.split_once('.').is_some_and(|(major, minor)| {
        !major.is_empty()
            && !minor.is_empty()
            && major.bytes().all(|b| b.is_ascii_digit())
            && minor.bytes().all(|b| b.is_ascii_digit())
    });
    if shaped {
        Ok(v.to_string())
    } else {
        Err(format!(
            "`{value}` is not an API version; use e.g. `v62.0` or `62.0`"
        ))
    }
}

/// Checks an absolute http(s) URL (the SDK's rule, and no query or fragment: paths are appended
/// to it) and strips trailing `/`.
pub fn check_url(value: &str) -> Result<String, String> {
    let v = value.trim();
    provisioner_sdk::config::check_url(v)?;
    if v.contains(['?', '#']) {
        return Err(format!(
            "`{value}` must not contain a query or a fragment; use e.g. `https://acme.my.salesforce.com`"
        ));
    }
    Ok(v.trim_end_matches('/').to_string())
}

/// The schema name of a flow.
pub fn flow_name(flow: AuthFlow) -> &'static str {
    match flow {
        AuthFlow::ClientCredentials => AUTH_FLOWS[0],
        AuthFlow::Password => AUTH_FLOWS[1],
        AuthFlow::JwtBearer => AUTH_FLOWS[2],
    }
}

fn problem(key: &str, message: impl Into<String>) -> ConfigProblem {
    ConfigProblem {
        key: Some(key.to_string()),
        message: message.into(),
    }
}

/// Reads typed values out of a config with the SDK's reader, collecting problems as it goes.
struct Reader<'a> {
    config: Config<'a>,
    problems: Vec<ConfigProblem>,
}

impl<'a> Reader<'a> {
    fn new(config: &'a ConnectorConfig) -> Self {
        let mut problems = Vec::new();
        for (i, e) in config.entries.iter().enumerate() {
            if config.entries[..i].iter().any(|p| p.key == e.key) {
                problems.push(problem(
                    &e.key,
                    "is configured more than once; keep one entry",
                ));
            }
        }
        Reader {
            config: Config::new(config),
            problems,
        }
    }

    fn problem<T>(&mut self, key: &str, message: String) -> Option<T> {
        self.problems.push(problem(key, message));
        None
    }

    fn check<T>(&mut self, key: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|m| self.problems.push(problem(key, m))).ok()
    }

    fn missing<T>(&mut self, key: &str, how: &str) -> Option<T> {
        self.problem(key, format!("is required: {how}"))
    }

    /// The value the SDK's reader read, or none with its error recorded.
    fn read<T>(&mut self, read: Result<Option<T>, ConfigError>) -> Option<T> {
        read.unwrap_or_else(|e| {
            self.problems.push(e.into());
            None
        })
    }

    /// A text value as given (only the empty string counts as unset).
    fn raw_text(&mut self, key: &str) -> Option<String> {
        match self.config.get(key)? {
            ConfigValue::Text(s) if s.is_empty() => None,
            ConfigValue::Text(s) => Some(s.clone()),
            ConfigValue::Secret(_) => {
                self.problem(key, "is not a secret; configure it as plain text".into())
            }
            _ => self.problem(key, "expects text".into()),
        }
    }

    /// A trimmed text value; blank counts as unset (as in WSO2).
    fn text(&mut self, key: &str) -> Option<String> {
        let read = self.config.text(key);
        self.read(read)
    }

    fn boolean(&mut self, key: &str) -> Option<bool> {
        let read = self.config.bool(key);
        self.read(read)
    }

    fn integer(&mut self, key: &str) -> Option<i64> {
        let read = self.config.int(key);
        self.read(read)
    }

    fn secret(&mut self, key: &str) -> Option<SecretRef> {
        let read = self.config.secret(key);
        self.read(read)
    }

    fn mappings(&mut self, key: &str) -> Option<Vec<ClaimMapping>> {
        let read = self.config.claim_mappings(key).map(Some);
        match self.read(read)? {
            mappings if mappings.is_empty() => self.missing(
                key,
                "map at least Alias, Email, EmailEncodingKey, LanguageLocaleKey, LastName, LocaleSidKey, ProfileId and TimeZoneSidKey",
            ),
            mappings => Some(mappings),
        }
    }

    /// Resolves `sf-auth-flow` against WSO2's `sf-usePasswordGrant`.
    fn auth_flow(&mut self) -> Option<AuthFlow> {
        let legacy = self.boolean(USE_PASSWORD_GRANT);
        let flow = match self.text(AUTH_FLOW).as_deref() {
            None => None,
            Some("client_credentials") => Some(AuthFlow::ClientCredentials),
            Some("password") => Some(AuthFlow::Password),
            Some("jwt-bearer") => Some(AuthFlow::JwtBearer),
            Some(other) => {
                return self.problem(
                    AUTH_FLOW,
                    format!(
                    "unknown flow `{other}`; use `client_credentials`, `password` or `jwt-bearer`"
                ),
                )
            }
        };
        match (flow, legacy) {
            (None, Some(true)) => Some(AuthFlow::Password),
            (None, _) => Some(AuthFlow::ClientCredentials),
            (Some(f), Some(use_password)) if use_password != (f == AuthFlow::Password) => self.problem(
                USE_PASSWORD_GRANT,
                format!(
                    "`{USE_PASSWORD_GRANT}={use_password}` contradicts `{AUTH_FLOW}={}`; remove `{USE_PASSWORD_GRANT}` (it is only for WSO2 compatibility)",
                    flow_name(f)
                ),
            ),
            (Some(f), _) => Some(f),
        }
    }
}
