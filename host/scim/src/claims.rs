//! The claim dialect: SCIM user attributes as WSO2 local claims (`http://wso2.org/claims/...`).
//!
//! Connectors map claims to target fields (the WSO2 Salesforce tutorial maps `emailaddress` to
//! `Email`, `lastname` to `LastName`, `role` to `ProfileId`, ...), so the engine builds its
//! provisioning jobs from [`user_claims`] and [`changed_claims`].
//!
//! | SCIM attribute | claim (`http://wso2.org/claims/` + ...) | values |
//! |---|---|---|
//! | `id` | `userid` | 1 |
//! | `externalId` | `externalid` | 1 |
//! | `userName` | `username` | 1 |
//! | `name.givenName` | `givenname` | 1 |
//! | `name.familyName` | `lastname` | 1 |
//! | `name.middleName` | `middleName` | 1 |
//! | `name.formatted` | `fullname` | 1 |
//! | `displayName` | `displayname` | 1 |
//! | `nickName` | `nickname` | 1 |
//! | `title` | `title` | 1 |
//! | `userType` | `userType` | 1 |
//! | `profileUrl` | `url` | 1 |
//! | `preferredLanguage` | `preferredLanguage` | 1 |
//! | `locale` | `locale` | 1 |
//! | `timezone` | `timeZone` | 1 |
//! | `emails`: primary, else `type eq "work"`, else first | `emailaddress` | 1 |
//! | `emails[type eq "work"/"home"/"other"]` | `emails.work` / `emails.home` / `emails.other` | 1 each |
//! | `phoneNumbers[type eq "mobile"]` | `mobile` | 1 |
//! | `phoneNumbers[type eq "work"]` | `telephone` | 1 |
//! | `phoneNumbers[type eq "home"]` | `phoneNumbers.home` | 1 |
//! | `phoneNumbers[type eq "other"]` | `otherphone` | 1 |
//! | `addresses` (primary, else first): `country`, `locality`, `region`, `postalCode`, `streetAddress`, `formatted` | `country`, `locality`, `region`, `postalcode`, `streetaddress`, `addresses` | 1 each |
//! | `entitlements[].value` and `roles[].value` | `role` | many |
//! | `active` | `accountDisabled` = `"true"` when `active` is false, `"false"` when true | 1 |
//! | enterprise `employeeNumber`, `costCenter`, `organization`, `division`, `department` | same names | 1 each |
//! | enterprise `manager.value` | `manager` | 1 |
//!
//! Absent or empty attributes produce no claim. `password` is never a claim.

use std::collections::{BTreeMap, BTreeSet};

use crate::resource::{MultiValue, UserResource};

/// Prefix of the WSO2 local claim dialect.
pub const WSO2_DIALECT: &str = "http://wso2.org/claims/";

/// Claim URI -> values.
pub type Claims = BTreeMap<String, Vec<String>>;

fn put(c: &mut Claims, name: &str, v: Option<&String>) {
    if let Some(v) = v.filter(|v| !v.is_empty()) {
        c.entry(format!("{WSO2_DIALECT}{name}"))
            .or_default()
            .push(v.clone());
    }
}

fn of_type<'a>(vals: &'a [MultiValue], kind: &str) -> Option<&'a String> {
    vals.iter()
        .find(|v| {
            v.kind
                .as_deref()
                .is_some_and(|k| k.eq_ignore_ascii_case(kind))
        })
        .and_then(|v| v.value.as_ref())
}

fn preferred_email(u: &UserResource) -> Option<&String> {
    u.emails
        .iter()
        .find(|e| e.primary == Some(true))
        .and_then(|e| e.value.as_ref())
        .or_else(|| of_type(&u.emails, "work"))
        .or_else(|| u.emails.first().and_then(|e| e.value.as_ref()))
}

/// The claims of a user, keyed by claim URI (see the module table).
pub fn user_claims(u: &UserResource) -> Claims {
    let mut c = Claims::new();
    put(&mut c, "userid", Some(&u.id));
    put(&mut c, "externalid", u.external_id.as_ref());
    put(&mut c, "username", Some(&u.user_name));
    if let Some(n) = &u.name {
        put(&mut c, "givenname", n.given_name.as_ref());
        put(&mut c, "lastname", n.family_name.as_ref());
        put(&mut c, "middleName", n.middle_name.as_ref());
        put(&mut c, "fullname", n.formatted.as_ref());
    }
    put(&mut c, "displayname", u.display_name.as_ref());
    put(&mut c, "nickname", u.nick_name.as_ref());
    put(&mut c, "title", u.title.as_ref());
    put(&mut c, "userType", u.user_type.as_ref());
    put(&mut c, "url", u.profile_url.as_ref());
    put(&mut c, "preferredLanguage", u.preferred_language.as_ref());
    put(&mut c, "locale", u.locale.as_ref());
    put(&mut c, "timeZone", u.timezone.as_ref());

    put(&mut c, "emailaddress", preferred_email(u));
    for t in ["work", "home", "other"] {
        put(&mut c, &format!("emails.{t}"), of_type(&u.emails, t));
    }
    put(&mut c, "mobile", of_type(&u.phone_numbers, "mobile"));
    put(&mut c, "telephone", of_type(&u.phone_numbers, "work"));
    put(
        &mut c,
        "phoneNumbers.home",
        of_type(&u.phone_numbers, "home"),
    );
    put(&mut c, "otherphone", of_type(&u.phone_numbers, "other"));

    if let Some(a) = u
        .addresses
        .iter()
        .find(|a| a.primary == Some(true))
        .or_else(|| u.addresses.first())
    {
        put(&mut c, "country", a.country.as_ref());
        put(&mut c, "locality", a.locality.as_ref());
        put(&mut c, "region", a.region.as_ref());
        put(&mut c, "postalcode", a.postal_code.as_ref());
        put(&mut c, "streetaddress", a.street_address.as_ref());
        put(&mut c, "addresses", a.formatted.as_ref());
    }

    let mut seen = BTreeSet::new();
    for v in u.entitlements.iter().chain(u.roles.iter()) {
        if let Some(val) = v.value.as_ref().filter(|val| seen.insert((*val).clone())) {
            put(&mut c, "role", Some(val));
        }
    }

    if let Some(active) = u.active {
        put(&mut c, "accountDisabled", Some(&(!active).to_string()));
    }

    if let Some(e) = &u.enterprise {
        put(&mut c, "employeeNumber", e.employee_number.as_ref());
        put(&mut c, "costCenter", e.cost_center.as_ref());
        put(&mut c, "organization", e.organization.as_ref());
        put(&mut c, "division", e.division.as_ref());
        put(&mut c, "department", e.department.as_ref());
        put(
            &mut c,
            "manager",
            e.manager.as_ref().and_then(|m| m.value.as_ref()),
        );
    }
    c
}

/// Claim URIs whose values differ between two versions of a user (added, removed or changed),
/// in sorted order.
pub fn changed_claims(old: &UserResource, new: &UserResource) -> Vec<String> {
    let (a, b) = (user_claims(old), user_claims(new));
    a.keys()
        .chain(b.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claim(c: &Claims, n: &str) -> Option<Vec<String>> {
        c.get(&format!("{WSO2_DIALECT}{n}")).cloned()
    }

    #[test]
    fn tutorial_user_claims() {
        let u: UserResource = serde_json::from_value(json!({
            "userName": "samuel@wso2.com",
            "name": {"familyName": "Gnaniah"},
            "emails": [{"value": "samuel@wso2.com"}],
            "entitlements": [{"value": "00e90000001aV2o", "display": "ChatterFreeUser"}]
        }))
        .unwrap();
        let c = user_claims(&u);
        assert_eq!(claim(&c, "username").unwrap(), ["samuel@wso2.com"]);
        assert_eq!(claim(&c, "emailaddress").unwrap(), ["samuel@wso2.com"]);
        assert_eq!(claim(&c, "lastname").unwrap(), ["Gnaniah"]);
        assert_eq!(claim(&c, "role").unwrap(), ["00e90000001aV2o"]);
        assert!(claim(&c, "givenname").is_none());
    }

    #[test]
    fn full_mapping_and_changes() {
        let mut u: UserResource = serde_json::from_value(json!({
            "userName": "bjensen",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "displayName": "Babs", "title": "Tour Guide", "active": false,
            "emails": [{"value": "home@x.org", "type": "home"}, {"value": "work@x.com", "type": "work"}],
            "phoneNumbers": [{"value": "1", "type": "mobile"}, {"value": "2", "type": "work"}],
            "addresses": [{"country": "USA", "type": "work"}],
            "roles": [{"value": "admin"}], "entitlements": [{"value": "e1"}, {"value": "admin"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
                {"employeeNumber": "42", "department": "Tour", "organization": "Universal"}
        }))
        .unwrap();
        let c = user_claims(&u);
        assert_eq!(claim(&c, "emailaddress").unwrap(), ["work@x.com"]);
        assert_eq!(claim(&c, "emails.home").unwrap(), ["home@x.org"]);
        assert_eq!(claim(&c, "mobile").unwrap(), ["1"]);
        assert_eq!(claim(&c, "telephone").unwrap(), ["2"]);
        assert_eq!(claim(&c, "country").unwrap(), ["USA"]);
        assert_eq!(claim(&c, "role").unwrap(), ["e1", "admin"]);
        assert_eq!(claim(&c, "accountDisabled").unwrap(), ["true"]);
        assert_eq!(claim(&c, "employeeNumber").unwrap(), ["42"]);
        assert_eq!(claim(&c, "department").unwrap(), ["Tour"]);
        assert_eq!(claim(&c, "givenname").unwrap(), ["Barbara"]);
        assert_eq!(claim(&c, "displayname").unwrap(), ["Babs"]);

        let old = u.clone();
        u.active = Some(true);
        u.title = None;
        u.emails[1].primary = Some(false);
        let changed = changed_claims(&old, &u);
        assert_eq!(
            changed,
            vec![
                format!("{WSO2_DIALECT}accountDisabled"),
                format!("{WSO2_DIALECT}title")
            ]
        );
    }
}
