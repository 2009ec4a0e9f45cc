//! The scoping filter a target keeps on user claims, as stored (JSON) and evaluated.

use serde::{Deserialize, Serialize};

use super::Claims;

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
