//! Claims: what the host knows about a user, as URIs with values.
//!
//! The host sends a user's full current claims on create and update (none on delete) and, on
//! update, the URIs of the claims that changed. Users that arrive over SCIM carry WSO2 local
//! claims (`http://wso2.org/claims/...`); the constants below are the ones the host fills from
//! SCIM attributes. Absent or empty attributes produce no claim; passwords never do.

use crate::{Claim, User};

/// Prefix of the WSO2 local claim dialect.
pub const WSO2_DIALECT: &str = "http://wso2.org/claims/";

/// The host's local id of the user (SCIM `id`).
pub const USER_ID: &str = "http://wso2.org/claims/userid";
/// SCIM `externalId`.
pub const EXTERNAL_ID: &str = "http://wso2.org/claims/externalid";
/// The user name (SCIM `userName`).
pub const USERNAME: &str = "http://wso2.org/claims/username";
/// Given name (SCIM `name.givenName`).
pub const GIVEN_NAME: &str = "http://wso2.org/claims/givenname";
/// Family name (SCIM `name.familyName`).
pub const LAST_NAME: &str = "http://wso2.org/claims/lastname";
/// Middle name (SCIM `name.middleName`).
pub const MIDDLE_NAME: &str = "http://wso2.org/claims/middleName";
/// Formatted full name (SCIM `name.formatted`).
pub const FULL_NAME: &str = "http://wso2.org/claims/fullname";
/// Display name (SCIM `displayName`).
pub const DISPLAY_NAME: &str = "http://wso2.org/claims/displayname";
/// Nickname (SCIM `nickName`).
pub const NICKNAME: &str = "http://wso2.org/claims/nickname";
/// Job title (SCIM `title`).
pub const TITLE: &str = "http://wso2.org/claims/title";
/// User type (SCIM `userType`).
pub const USER_TYPE: &str = "http://wso2.org/claims/userType";
/// Profile URL (SCIM `profileUrl`).
pub const PROFILE_URL: &str = "http://wso2.org/claims/url";
/// Preferred language (SCIM `preferredLanguage`).
pub const PREFERRED_LANGUAGE: &str = "http://wso2.org/claims/preferredLanguage";
/// Locale (SCIM `locale`).
pub const LOCALE: &str = "http://wso2.org/claims/locale";
/// Time zone (SCIM `timezone`).
pub const TIME_ZONE: &str = "http://wso2.org/claims/timeZone";
/// The preferred e-mail address: SCIM's primary e-mail, else the `work` one, else the first.
pub const EMAIL: &str = "http://wso2.org/claims/emailaddress";
/// The `work` e-mail address.
pub const EMAIL_WORK: &str = "http://wso2.org/claims/emails.work";
/// The `home` e-mail address.
pub const EMAIL_HOME: &str = "http://wso2.org/claims/emails.home";
/// The `other` e-mail address.
pub const EMAIL_OTHER: &str = "http://wso2.org/claims/emails.other";
/// The `mobile` phone number.
pub const MOBILE: &str = "http://wso2.org/claims/mobile";
/// The `work` phone number.
pub const TELEPHONE: &str = "http://wso2.org/claims/telephone";
/// The `home` phone number.
pub const PHONE_HOME: &str = "http://wso2.org/claims/phoneNumbers.home";
/// The `other` phone number.
pub const PHONE_OTHER: &str = "http://wso2.org/claims/otherphone";
/// Country of the primary (else first) address.
pub const COUNTRY: &str = "http://wso2.org/claims/country";
/// Locality (city) of the primary address.
pub const LOCALITY: &str = "http://wso2.org/claims/locality";
/// Region (state) of the primary address.
pub const REGION: &str = "http://wso2.org/claims/region";
/// Postal code of the primary address.
pub const POSTAL_CODE: &str = "http://wso2.org/claims/postalcode";
/// Street address of the primary address.
pub const STREET_ADDRESS: &str = "http://wso2.org/claims/streetaddress";
/// Formatted primary address.
pub const ADDRESS: &str = "http://wso2.org/claims/addresses";
/// Roles and entitlements (SCIM `roles[].value` and `entitlements[].value`): many values.
pub const ROLE: &str = "http://wso2.org/claims/role";
/// `"true"` when the user is disabled locally (SCIM `active` false), `"false"` when enabled.
pub const ACCOUNT_DISABLED: &str = "http://wso2.org/claims/accountDisabled";
/// Enterprise extension `employeeNumber`.
pub const EMPLOYEE_NUMBER: &str = "http://wso2.org/claims/employeeNumber";
/// Enterprise extension `costCenter`.
pub const COST_CENTER: &str = "http://wso2.org/claims/costCenter";
/// Enterprise extension `organization`.
pub const ORGANIZATION: &str = "http://wso2.org/claims/organization";
/// Enterprise extension `division`.
pub const DIVISION: &str = "http://wso2.org/claims/division";
/// Enterprise extension `department`.
pub const DEPARTMENT: &str = "http://wso2.org/claims/department";
/// Enterprise extension `manager.value`: the manager's id.
pub const MANAGER: &str = "http://wso2.org/claims/manager";
/// The user name in WSO2's provisioning dialect (sent by WSO2 Identity Server's outbound
/// provisioning).
pub const PROVISIONING_USERNAME: &str = "org:wso2:carbon:identity:provisioning:claim:username";
/// The user name in the SCIM core dialect.
pub const SCIM_USERNAME: &str = "urn:ietf:params:scim:schemas:core:2.0:User:userName";

/// The claim URIs that carry the user name; a change to one of them renames the user.
pub const USERNAME_CLAIMS: [&str; 3] = [USERNAME, PROVISIONING_USERNAME, SCIM_USERNAME];

/// The values of `uri` among `claims`; empty when absent.
pub fn values<'a>(claims: &'a [Claim], uri: &str) -> &'a [String] {
    claims
        .iter()
        .find(|claim| claim.uri == uri)
        .map(|claim| claim.values.as_slice())
        .unwrap_or(&[])
}

impl User {
    /// The first value of claim `uri`, if the user has it.
    pub fn claim(&self, uri: &str) -> Option<&str> {
        self.claim_values(uri).first().map(String::as_str)
    }

    /// Every value of claim `uri`; empty when absent.
    pub fn claim_values(&self, uri: &str) -> &[String] {
        values(&self.claims, uri)
    }

    /// Whether this update changed claim `uri` (including removing it).
    pub fn changed(&self, uri: &str) -> bool {
        self.changed_claims.iter().any(|c| c == uri)
    }

    /// The claims this update changed that the user still has, with their new values. Removed
    /// claims are in `changed_claims` but not here.
    pub fn changed_claim_values(&self) -> impl Iterator<Item = &Claim> {
        self.claims.iter().filter(|claim| self.changed(&claim.uri))
    }

    /// `false` when the host says the user is disabled ([`ACCOUNT_DISABLED`] is `true`), `true`
    /// when it says enabled, none when the claim is not sent.
    pub fn active(&self) -> Option<bool> {
        self.claim(ACCOUNT_DISABLED)
            .map(|disabled| !disabled.trim().eq_ignore_ascii_case("true"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        User {
            local_id: "u1".into(),
            name: "alice".into(),
            remote_id: None,
            claims: vec![
                Claim {
                    uri: EMAIL.into(),
                    values: vec!["a@example.com".into()],
                },
                Claim {
                    uri: ROLE.into(),
                    values: vec!["admin".into(), "dev".into()],
                },
                Claim {
                    uri: ACCOUNT_DISABLED.into(),
                    values: vec!["TRUE".into()],
                },
            ],
            changed_claims: vec![ROLE.into(), LAST_NAME.into()],
            previous_name: None,
        }
    }

    #[test]
    fn claim_accessors_read_first_and_all_values() {
        let u = user();
        assert_eq!(u.claim(EMAIL), Some("a@example.com"));
        assert_eq!(u.claim_values(ROLE), ["admin", "dev"]);
        assert_eq!(u.claim(LAST_NAME), None);
        assert!(u.claim_values(LAST_NAME).is_empty());
    }

    #[test]
    fn changed_claims_include_removed_ones_but_values_only_present_ones() {
        let u = user();
        assert!(u.changed(ROLE) && u.changed(LAST_NAME) && !u.changed(EMAIL));
        let changed: Vec<&str> = u.changed_claim_values().map(|c| c.uri.as_str()).collect();
        assert_eq!(changed, vec![ROLE]);
    }

    #[test]
    fn active_follows_account_disabled() {
        let mut u = user();
        assert_eq!(u.active(), Some(false));
        u.claims.retain(|c| c.uri != ACCOUNT_DISABLED);
        assert_eq!(u.active(), None);
    }
}
