//! Which targets a user change goes to: provisioning roles and a scoping filter on claims.

use serde::{Deserialize, Serialize};

use crate::store::{Claims, OutboundSettings, UserRecord};

/// A condition on a user's claims. String comparisons ignore ASCII case, as SCIM filters do by
/// default.
///
/// Stored as JSON, e.g. `{"all": [{"eq": {"claim": "http://wso2.org/claims/country",
/// "value": "LK"}}, {"present": {"claim": "http://wso2.org/claims/emailaddress"}}]}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeFilter {
    /// Some value of the claim equals `value`.
    Eq {
        /// Claim URI.
        claim: String,
        /// Value to compare with.
        value: String,
    },
    /// Some value of the claim starts with `value`.
    StartsWith {
        /// Claim URI.
        claim: String,
        /// Prefix.
        value: String,
    },
    /// Some value of the claim ends with `value`.
    EndsWith {
        /// Claim URI.
        claim: String,
        /// Suffix.
        value: String,
    },
    /// Some value of the claim contains `value`.
    Contains {
        /// Claim URI.
        claim: String,
        /// Substring.
        value: String,
    },
    /// The claim has a non-empty value.
    Present {
        /// Claim URI.
        claim: String,
    },
    /// Every condition holds.
    All(Vec<ScopeFilter>),
    /// At least one condition holds.
    Any(Vec<ScopeFilter>),
    /// The condition does not hold.
    Not(Box<ScopeFilter>),
}

impl ScopeFilter {
    /// Whether `claims` satisfy the filter.
    pub fn matches(&self, claims: &Claims) -> bool {
        let any_value = |claim: &str, test: &dyn Fn(&str) -> bool| {
            claims
                .get(claim)
                .is_some_and(|values| values.iter().any(|v| test(&v.to_ascii_lowercase())))
        };
        match self {
            ScopeFilter::Eq { claim, value } => {
                let value = value.to_ascii_lowercase();
                any_value(claim, &|v| v == value)
            }
            ScopeFilter::StartsWith { claim, value } => {
                let value = value.to_ascii_lowercase();
                any_value(claim, &|v| v.starts_with(&value))
            }
            ScopeFilter::EndsWith { claim, value } => {
                let value = value.to_ascii_lowercase();
                any_value(claim, &|v| v.ends_with(&value))
            }
            ScopeFilter::Contains { claim, value } => {
                let value = value.to_ascii_lowercase();
                any_value(claim, &|v| v.contains(&value))
            }
            ScopeFilter::Present { claim } => any_value(claim, &|v| !v.is_empty()),
            ScopeFilter::All(filters) => filters.iter().all(|f| f.matches(claims)),
            ScopeFilter::Any(filters) => filters.iter().any(|f| f.matches(claims)),
            ScopeFilter::Not(filter) => !filter.matches(claims),
        }
    }
}

/// Whether a target provisions `user`: the user is live, holds one of the target's
/// provisioning roles (when it lists any) and matches its scoping filter (when it has one).
pub fn applies(settings: &OutboundSettings, user: &UserRecord) -> bool {
    !user.deleted
        && (settings.provisioning_roles.is_empty()
            || settings
                .provisioning_roles
                .iter()
                .any(|role| user.roles.contains(role)))
        && settings
            .scope_filter
            .as_ref()
            .is_none_or(|filter| filter.matches(&user.claims))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(roles: &[&str], country: &str) -> UserRecord {
        UserRecord {
            tenant: "t".into(),
            id: "u1".into(),
            user_name: "alice".into(),
            claims: [(
                "http://wso2.org/claims/country".to_owned(),
                vec![country.to_owned()],
            )]
            .into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            version: 1,
            deleted: false,
            updated_at: 0,
        }
    }

    #[test]
    fn roles_and_filter_decide() {
        let settings = OutboundSettings {
            provisioning_roles: vec!["sales".into()],
            scope_filter: Some(ScopeFilter::Eq {
                claim: "http://wso2.org/claims/country".into(),
                value: "lk".into(),
            }),
            ..OutboundSettings::default()
        };
        assert!(applies(&settings, &user(&["sales"], "LK")));
        assert!(!applies(&settings, &user(&["hr"], "LK")));
        assert!(!applies(&settings, &user(&["sales"], "US")));
        let mut deleted = user(&["sales"], "LK");
        deleted.deleted = true;
        assert!(!applies(&settings, &deleted));
        assert!(applies(&OutboundSettings::default(), &user(&[], "US")));
    }

    #[test]
    fn filter_parses_from_json() {
        let filter: ScopeFilter = serde_json::from_str(
            r#"{"all": [{"starts_with": {"claim": "c", "value": "A"}},
                        {"not": {"present": {"claim": "d"}}}]}"#,
        )
        .unwrap();
        let claims: Claims = [("c".to_owned(), vec!["abc".to_owned()])].into();
        assert!(filter.matches(&claims));
    }
}
