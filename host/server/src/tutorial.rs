//! The WSO2 "Outbound Provisioning with Salesforce" tutorial as data: its twelve-row claim
//! mapping with the defaults of its Advanced Claim Configuration, its connector settings, and its
//! sample user. The quickstart and the end-to-end tests configure the Salesforce connector with
//! exactly this.

use provisioner_contract::{Change, Claim, ClaimMapping, Entity, Operation, User};
use provisioner_runtime::config::{ConfigInput, TargetConfig};
use provisioner_runtime::EgressPolicy;

/// Prefix of WSO2's local claim dialect.
pub const WSO2_CLAIM_PREFIX: &str = "http://wso2.org/claims/";

/// The tutorial's mapping, verbatim: (Salesforce field, local claim name, default value).
pub const TUTORIAL_MAPPING: [(&str, &str, &str); 12] = [
    ("Alias", "givenname", "Samuel"),
    ("Email", "emailaddress", "samuel@wso2.com"),
    ("EmailEncodingKey", "otherphone", "UTF-8"),
    ("LanguageLocaleKey", "dob", "en_US"),
    ("LastName", "lastname", "Gnaniah"),
    ("LocaleSidKey", "primaryChallengeQuestion", "en_US"),
    ("ProfileId", "role", "00e90000001aV2o"),
    (
        "TimeZoneSidKey",
        "challengeQuestion1",
        "America/Los_Angeles",
    ),
    ("UserPermissionsCallCenterAutoLogin", "telephone", "false"),
    ("UserPermissionsMarketingUser", "mobile", "false"),
    ("UserPermissionsOfflineUser", "country", "false"),
    ("Username", "emailaddress", "samuel@wso2.com"),
];

/// The tutorial's Chatter Free User profile id.
pub const TUTORIAL_PROFILE_ID: &str = "00e90000001aV2o";

/// The tutorial's sample user name.
pub const TUTORIAL_USER_NAME: &str = "samuel@wso2.com";

/// The full URI of a WSO2 local claim, e.g. `claim("lastname")`.
pub fn claim(name: &str) -> String {
    format!("{WSO2_CLAIM_PREFIX}{name}")
}

/// The tutorial's claim mappings as the connector's `sf-claim-mappings` value.
pub fn tutorial_claim_mappings() -> Vec<ClaimMapping> {
    TUTORIAL_MAPPING
        .iter()
        .map(|(field, local, default)| ClaimMapping {
            target_field: (*field).into(),
            claim: Some(claim(local)),
            default_value: Some((*default).into()),
        })
        .collect()
}

/// Where and as whom the Salesforce target authenticates.
#[derive(Clone, Debug)]
pub struct SalesforceOrg {
    /// `sf-domain-name`, e.g. `https://acme.my.salesforce.com`.
    pub domain: String,
    /// `sf-token-endpoint`.
    pub token_endpoint: String,
    /// `sf-clientid` (the connected app's consumer key).
    pub client_id: String,
    /// `sf-client-secret`.
    pub client_secret: String,
    /// `sf-username` (password flow only).
    pub username: String,
    /// `sf-password`: the password followed by the security token (password flow only).
    pub password_and_token: String,
}

/// The tutorial's Salesforce target ("Salesforce.com" in tenant `carbon.super`) with its
/// mapping and the username-password flow the tutorial uses.
pub fn tutorial_target(org: &SalesforceOrg, egress: EgressPolicy) -> TargetConfig {
    TargetConfig::new("carbon.super", "Salesforce.com")
        .value("sf-api-version", "v62.0")
        .value("sf-domain-name", org.domain.as_str())
        .value("sf-token-endpoint", org.token_endpoint.as_str())
        .value("sf-clientid", org.client_id.as_str())
        .value("sf-auth-flow", "password")
        .value("sf-username", org.username.as_str())
        .value(
            "sf-claim-mappings",
            ConfigInput::ClaimMappings(tutorial_claim_mappings()),
        )
        .secret("sf-client-secret", org.client_secret.as_str())
        .secret("sf-password", org.password_and_token.as_str())
        .egress(egress)
}

/// A change of a user with the given claims (claim names without the WSO2 prefix).
pub fn user(
    operation: Operation,
    name: &str,
    remote_id: Option<String>,
    claims: &[(&str, &str)],
    changed: &[&str],
) -> Change {
    Change {
        operation,
        entity: Entity::User(User {
            local_id: name.to_string(),
            name: name.to_string(),
            remote_id,
            claims: claims
                .iter()
                .map(|(name, value)| Claim {
                    uri: claim(name),
                    values: vec![(*value).to_string()],
                })
                .collect(),
            changed_claims: changed.iter().map(|name| claim(name)).collect(),
            previous_name: None,
        }),
    }
}

/// The tutorial's SCIM sample user as claims: user name and email `samuel@wso2.com`, family
/// name Gnaniah, and the Chatter Free User profile id carried as a role (the SCIM curl's
/// `entitlements`).
pub fn samuel_claims() -> Vec<(&'static str, &'static str)> {
    vec![
        ("emailaddress", TUTORIAL_USER_NAME),
        ("lastname", "Gnaniah"),
        ("role", TUTORIAL_PROFILE_ID),
    ]
}
