//! The target's configuration: the schema's properties, their typed reading, and the requests
//! they shape (base URL, credential, SCIM media type).

use provisioner_sdk::prelude::*;
use provisioner_sdk::schema;

use crate::mapping;

/// The SCIM media type (RFC 7644 §3.1), sent as `Content-Type` and `Accept`.
pub const MEDIA_TYPE: &str = "application/scim+json";

/// How requests authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer` with the `bearer-token` secret.
    Bearer,
    /// HTTP Basic with `basic-username` and the `basic-password` secret.
    Basic(String),
    /// No credential.
    None,
}

/// What deleting a user does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteMode {
    /// PATCH `active` to false and keep the mapping (reversible).
    Deactivate,
    /// DELETE the resource.
    Delete,
}

/// How updates are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateMethod {
    /// PATCH with operations for what changed (RFC 7644 §3.5.2).
    Patch,
    /// PUT of the whole resource (RFC 7644 §3.5.1).
    Put,
}

/// The configuration, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The service's SCIM base URL, without a trailing `/`.
    pub base_url: String,
    /// The credential.
    pub auth: Auth,
    /// What a user delete does.
    pub delete_mode: DeleteMode,
    /// How updates are sent.
    pub update_method: UpdateMethod,
}

/// The configuration schema.
pub fn properties() -> Vec<ConfigProperty> {
    vec![
        ConfigProperty::url("base-url")
            .label("SCIM base URL")
            .description(
                "The service's SCIM 2.0 base, under which /Users and /Groups live, e.g. \
                 https://example.com/scim/v2.",
            )
            .required(),
        ConfigProperty::choice("auth", &["bearer", "basic", "none"])
            .label("Authentication")
            .description(
                "bearer: the bearer-token secret as `Authorization: Bearer`; basic: \
                 basic-username and basic-password; none: no credential.",
            )
            .default_value("bearer"),
        ConfigProperty::secret("bearer-token")
            .label("Bearer token")
            .description("The service's SCIM API token (auth = bearer)."),
        ConfigProperty::text("basic-username")
            .label("Basic user name")
            .description("The user name for HTTP Basic (auth = basic)."),
        ConfigProperty::secret("basic-password")
            .label("Basic password")
            .description("The password for HTTP Basic (auth = basic)."),
        ConfigProperty::choice("delete-mode", &["deactivate", "delete"])
            .label("User delete")
            .description(
                "deactivate: PATCH active=false and keep the user (reversible, as Okta does); \
                 delete: DELETE the user.",
            )
            .default_value("deactivate"),
        ConfigProperty::choice("update-method", &["patch", "put"])
            .label("Update method")
            .description(
                "patch: PATCH operations for the changed attributes only; put: replace the \
                 whole resource.",
            )
            .default_value("patch"),
        ConfigProperty::claim_mappings(mapping::KEY)
            .label("Claim mappings")
            .description(
                "Local claim to SCIM attribute path (name.givenName, emails[type eq \"work\"].value, \
                 emails, phoneNumbers, title, displayName, active, extension URN paths). Empty: \
                 the built-in table (WSO2 claims to their SCIM attributes).",
            ),
    ]
}

impl Settings {
    /// Reads the configuration; the error names the property at fault.
    pub fn read(config: &Config) -> Result<Settings, ConfigError> {
        let auth = match config
            .choice("auth", &["bearer", "basic", "none"])?
            .as_deref()
        {
            Some("basic") => Auth::Basic(config.required("basic-username", Config::text)?),
            Some("none") => Auth::None,
            _ => Auth::Bearer,
        };
        let delete_mode = match config
            .choice("delete-mode", &["deactivate", "delete"])?
            .as_deref()
        {
            Some("delete") => DeleteMode::Delete,
            _ => DeleteMode::Deactivate,
        };
        let update_method = match config
            .choice("update-method", &["patch", "put"])?
            .as_deref()
        {
            Some("put") => UpdateMethod::Put,
            _ => UpdateMethod::Patch,
        };
        Ok(Settings {
            base_url: config.required("base-url", Config::url)?,
            auth,
            delete_mode,
            update_method,
        })
    }

    /// A `method` request to `{base}/{segments...}` with the credential and SCIM `Accept`.
    pub fn request(&self, method: Method, segments: &[&str]) -> RequestBuilder {
        let mut request = RequestBuilder::new(method, &self.base_url).header("Accept", MEDIA_TYPE);
        for segment in segments {
            request = request.segment(segment);
        }
        match &self.auth {
            Auth::Bearer => request.bearer("bearer-token"),
            Auth::Basic(username) => request.basic(username, "basic-password"),
            Auth::None => request,
        }
    }
}

/// Sets a SCIM JSON body.
pub fn with_body(
    request: RequestBuilder,
    body: &provisioner_sdk::serde_json::Value,
) -> RequestBuilder {
    request.body(body.to_string().into_bytes(), MEDIA_TYPE)
}

/// Every problem of `config`: the schema's, missing credentials for the chosen `auth`, and
/// mapping targets that are not writable SCIM attributes.
pub fn validate(config: &ConnectorConfig) -> Vec<ConfigProblem> {
    let mut problems = schema::check(&properties(), config);
    if !problems.is_empty() {
        return problems;
    }
    let reader = Config::new(config);
    let needs: &[&str] = match reader.text("auth").ok().flatten().as_deref() {
        Some("basic") => &["basic-username", "basic-password"],
        Some("none") => &[],
        _ => &["bearer-token"],
    };
    for key in needs {
        if !reader.is_set(key) || matches!(reader.text(key), Ok(None)) {
            problems.push(ConfigProblem {
                key: Some(key.to_string()),
                message: format!(
                    "is required by the chosen authentication; set `{key}` or change `auth`"
                ),
            });
        }
    }
    problems.extend(mapping::problems(&reader).into_iter().map(Into::into));
    problems
}
