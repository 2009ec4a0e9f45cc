//! Connector metadata and the configuration schema.
//!
//! Keys follow WSO2's Salesforce connector where WSO2 has them (`sf-api-version`, `sf-clientid`,
//! `sf-usePasswordGrant`, ...), so an exported WSO2 configuration maps over key for key.

use provisioner_sdk::{ConfigProperty, ConnectorMetadata, EntityKind, PropertyKind};

/// Connector type id, as in WSO2.
pub const CONNECTOR_ID: &str = "salesforce";

/// `sf-api-version`: REST API version, `v62.0` or `62.0`.
pub const API_VERSION: &str = "sf-api-version";
/// `sf-domain-name`: the org's My Domain base URL.
pub const DOMAIN_NAME: &str = "sf-domain-name";
/// `sf-token-endpoint`: OAuth 2.0 token endpoint.
pub const TOKEN_ENDPOINT: &str = "sf-token-endpoint";
/// `sf-auth-flow`: which OAuth grant obtains the access token.
pub const AUTH_FLOW: &str = "sf-auth-flow";
/// `sf-usePasswordGrant`: WSO2's legacy switch for the password grant.
pub const USE_PASSWORD_GRANT: &str = "sf-usePasswordGrant";
/// `sf-clientid`: the connected app's consumer key.
pub const CLIENT_ID: &str = "sf-clientid";
/// `sf-client-secret`: the connected app's consumer secret (secret).
pub const CLIENT_SECRET: &str = "sf-client-secret";
/// `sf-username`: the integration user (password and JWT bearer flows).
pub const USERNAME: &str = "sf-username";
/// `sf-password`: the integration user's password plus security token (secret).
pub const PASSWORD: &str = "sf-password";
/// `sf-private-key`: PEM RSA key that signs JWT bearer assertions (secret).
pub const PRIVATE_KEY: &str = "sf-private-key";
/// `sf-jwt-audience`: `aud` of JWT bearer assertions.
pub const JWT_AUDIENCE: &str = "sf-jwt-audience";
/// `sf-prov-pattern`: the username pattern, e.g. `{UN}` or `{UD, UN, TD, IDP}`.
pub const PROV_PATTERN: &str = "sf-prov-pattern";
/// `sf-prov-separator`: joins the pattern's tokens.
pub const PROV_SEPARATOR: &str = "sf-prov-separator";
/// `sf-prov-domainName`: forces usernames into `...@domain` form.
pub const PROV_DOMAIN: &str = "sf-prov-domainName";
/// `sf-claim-mappings`: Salesforce field <- local claim, with defaults.
pub const CLAIM_MAPPINGS: &str = "sf-claim-mappings";
/// `sf-alias-overflow`: what to do with an Alias longer than 8 characters.
pub const ALIAS_OVERFLOW: &str = "sf-alias-overflow";
/// `sf-rename-on-delete`: also rename Username when a delete deactivates, to free it.
pub const RENAME_ON_DELETE: &str = "sf-rename-on-delete";
/// `sf-rename-on-deactivate`: also rename Username while a user is disabled locally.
pub const RENAME_ON_DEACTIVATE: &str = "sf-rename-on-deactivate";
/// `sf-request-timeout-ms`: per-request timeout handed to the host.
pub const REQUEST_TIMEOUT_MS: &str = "sf-request-timeout-ms";
/// `sf-batch-size`: the most records one sObject Collections request carries.
pub const BATCH_SIZE: &str = "sf-batch-size";

/// Default token endpoint (production and Developer Edition orgs).
pub const DEFAULT_TOKEN_ENDPOINT: &str = "https://login.salesforce.com/services/oauth2/token";
/// Default `aud` for JWT bearer assertions.
pub const DEFAULT_JWT_AUDIENCE: &str = "https://login.salesforce.com";
/// Default username pattern: the local user name alone.
pub const DEFAULT_PATTERN: &str = "{UN}";
/// Default pattern separator.
pub const DEFAULT_SEPARATOR: &str = "_";

/// The most changes one `provision-batch` call takes: Salesforce's limit of 200 records per
/// sObject Collections request.
pub const MAX_BATCH_SIZE: u32 = 200;

/// `sf-auth-flow` options, in schema order (the first is the default).
pub const AUTH_FLOWS: [&str; 3] = ["client_credentials", "password", "jwt-bearer"];
/// `sf-alias-overflow` options, in schema order (the first is the default).
pub const ALIAS_OVERFLOWS: [&str; 2] = ["truncate", "error"];

/// The connector's metadata: users only, with the schema below.
pub fn metadata() -> ConnectorMetadata {
    ConnectorMetadata {
        id: CONNECTOR_ID.into(),
        name: "Salesforce".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        description: "Provisions users into a Salesforce org through the REST API: creates, \
                      updates the changed fields, and deactivates (never deletes) users."
            .into(),
        entity_kinds: vec![EntityKind::User],
        max_batch_size: MAX_BATCH_SIZE,
        properties: properties(),
    }
}

/// The configuration schema, one entry per key.
pub fn properties() -> Vec<ConfigProperty> {
    use PropertyKind::*;
    vec![
        prop(API_VERSION, "API version", Text).required().description(
            "Salesforce REST API version, e.g. `v62.0` (or `62.0`). Versions up to 30.0 are retired.",
        ),
        prop(DOMAIN_NAME, "Domain name", Url).required().description(
            "The org's My Domain URL, e.g. `https://acme.my.salesforce.com`. All data requests go here.",
        ),
        prop(TOKEN_ENDPOINT, "OAuth2 token endpoint", Url)
            .default_value(DEFAULT_TOKEN_ENDPOINT)
            .description(
                "Where the host obtains access tokens. Client credentials need the My Domain \
                 endpoint (`https://<domain>.my.salesforce.com/services/oauth2/token`).",
            ),
        prop(AUTH_FLOW, "OAuth flow", Choice)
            .options(&AUTH_FLOWS)
            .default_value(AUTH_FLOWS[0])
            .description(
                "`client_credentials` (recommended by Salesforce), `password` (legacy, blocked in \
                 new orgs, retired for connected apps in 2027) or `jwt-bearer` (certificate of a \
                 pre-authorised user). When unset, `sf-usePasswordGrant=true` selects `password`.",
            ),
        prop(USE_PASSWORD_GRANT, "Use OAuth username-password flow", Boolean).description(
            "WSO2 compatibility: `true` selects the password flow when `sf-auth-flow` is unset. \
             Must not contradict `sf-auth-flow`.",
        ),
        prop(CLIENT_ID, "Client ID", Text)
            .required()
            .description("The connected app's consumer key."),
        prop(CLIENT_SECRET, "Client secret", Text).as_secret().description(
            "The connected app's consumer secret. Required for the client_credentials and \
             password flows.",
        ),
        prop(USERNAME, "Username", Text)
            .description("The integration user. Required for the password and jwt-bearer flows."),
        prop(PASSWORD, "Password", Text).as_secret().description(
            "The integration user's password followed by its security token. Required for the \
             password flow.",
        ),
        prop(PRIVATE_KEY, "Private key", MultilineText).as_secret().description(
            "PEM-encoded RSA private key whose certificate is uploaded to the connected app. \
             Required for the jwt-bearer flow.",
        ),
        prop(JWT_AUDIENCE, "JWT audience", Text)
            .default_value(DEFAULT_JWT_AUDIENCE)
            .description(
                "`aud` of the JWT bearer assertion: `https://login.salesforce.com`, \
                 `https://test.salesforce.com` or the My Domain URL.",
            ),
        prop(PROV_PATTERN, "Provisioning pattern", Text)
            .default_value(DEFAULT_PATTERN)
            .description(
                "How the Salesforce Username is built, e.g. `{UN}` or `{UD, UN, TD, IDP}`: UN user \
                 name (without user-store domain), UD user-store domain (PRIMARY by default), TD \
                 tenant, IDP target name. The result is lowercased and always wins over a claim \
                 mapped to Username.",
            ),
        prop(PROV_SEPARATOR, "Provisioning separator", Text)
            .default_value(DEFAULT_SEPARATOR)
            .description("Joins the pattern's tokens; it is removed from the UD, TD and IDP values."),
        prop(PROV_DOMAIN, "Provisioning domain", Text).description(
            "If set, usernames not already ending in `@<domain>` get their `@` replaced by `.` \
             and `@<domain>` appended.",
        ),
        prop(CLAIM_MAPPINGS, "Claim mappings", ClaimMappings)
            .required()
            .description(
                "Salesforce User field <- local claim, with a default. A mapping without a claim \
                 is a constant sent on create only. Must cover Alias, Email, EmailEncodingKey, \
                 LanguageLocaleKey, LastName, LocaleSidKey, ProfileId and TimeZoneSidKey \
                 (Username comes from the pattern). `true`/`false` values are sent as JSON \
                 booleans.",
            ),
        prop(ALIAS_OVERFLOW, "Alias overflow", Choice)
            .options(&ALIAS_OVERFLOWS)
            .default_value(ALIAS_OVERFLOWS[0])
            .description(
                "Alias holds at most 8 characters: `truncate` cuts it, `error` refuses the user \
                 as invalid data.",
            ),
        prop(RENAME_ON_DELETE, "Rename on delete", Boolean)
            .default_value("true")
            .description(
                "Salesforce users cannot be deleted; they are deactivated. When true the Username \
                 is also renamed (`deactivated.<name>.<id>@<domain>`), so it can be provisioned \
                 again. When false the record keeps its Username and stays mapped, so a user back \
                 in scope reactivates it. A user only disabled (SCIM `active: false`) is never \
                 renamed.",
            ),
        prop(RENAME_ON_DEACTIVATE, "Rename on deactivate", Boolean)
            .default_value("false")
            .description(
                "A user disabled locally (SCIM `active: false`) is deactivated and stays mapped. \
                 When true its Username is also renamed as on delete while it is disabled, and \
                 restored when it is enabled again.",
            ),
        prop(REQUEST_TIMEOUT_MS, "Request timeout (ms)", Integer)
            .description("Per-request timeout; the host caps it. Unset uses the host's default."),
        prop(BATCH_SIZE, "Batch size", Integer)
            .default_value("200")
            .description(
                "The most users one sObject Collections request creates or updates, 1 to 200. \
                 `1` sends every change as its own single-record request. Collections need API \
                 version 42.0 or later; older versions always send single requests.",
            ),
    ]
}

/// An optional, non-secret property without default, options or description.
fn prop(key: &str, label: &str, kind: PropertyKind) -> ConfigProperty {
    ConfigProperty::new(key, kind).label(label)
}
