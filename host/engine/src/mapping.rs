//! Where each target field's value comes from: a target's claim mappings applied to a user's
//! claims, as the host can see them without running the connector.
//!
//! A mapping takes the first non-empty value of its claim, else its default; a mapping without a
//! claim is a constant that always sends its default. This is the rule the built-in connectors
//! apply (and the contract's `claim-mapping` documents), so explain and reconciliation state the
//! expected value of every mapped field, and which claim or default produced it.

use provisioner_contract::ClaimMapping;
use serde::Serialize;

use crate::store::Claims;

/// What produced a field's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldSource {
    /// The mapping's claim had a non-empty value.
    Claim,
    /// The claim was absent or empty, so the mapping's default was used.
    Default,
    /// The mapping has no claim: its default is a constant.
    Constant,
    /// Neither a claim value nor a default: the field is not sent.
    Unset,
    /// No mapping names the field: the connector sets it itself (explain shows such fields
    /// from the request the connector sends; [`provenance`] never produces this).
    Connector,
}

/// One target field as a mapping produces it for one user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldProvenance {
    /// The target-side field, e.g. `LastName`.
    pub field: String,
    /// The local claim the mapping reads, if it reads one.
    pub claim: Option<String>,
    /// The mapping's default, if it has one.
    pub default_value: Option<String>,
    /// What produced `value`.
    pub source: FieldSource,
    /// The value sent, none when [`FieldSource::Unset`].
    pub value: Option<String>,
}

/// The first non-empty value of `uri` among `claims`.
pub fn claim_value<'a>(claims: &'a Claims, uri: &str) -> Option<&'a str> {
    claims
        .get(uri)?
        .iter()
        .map(String::as_str)
        .find(|value| !value.trim().is_empty())
}

/// Every mapped field of `mappings` for a user with `claims`, in mapping order.
pub fn provenance(mappings: &[ClaimMapping], claims: &Claims) -> Vec<FieldProvenance> {
    mappings
        .iter()
        .map(|mapping| {
            let from_claim = mapping
                .claim
                .as_deref()
                .and_then(|uri| claim_value(claims, uri));
            let (source, value) = match (from_claim, &mapping.default_value) {
                (Some(value), _) => (FieldSource::Claim, Some(value.to_owned())),
                (None, Some(default)) if mapping.claim.is_none() => {
                    (FieldSource::Constant, Some(default.clone()))
                }
                (None, Some(default)) => (FieldSource::Default, Some(default.clone())),
                (None, None) => (FieldSource::Unset, None),
            };
            FieldProvenance {
                field: mapping.target_field.clone(),
                claim: mapping.claim.clone(),
                default_value: mapping.default_value.clone(),
                source,
                value,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(field: &str, claim: Option<&str>, default: Option<&str>) -> ClaimMapping {
        ClaimMapping {
            target_field: field.into(),
            claim: claim.map(Into::into),
            default_value: default.map(Into::into),
        }
    }

    #[test]
    fn claims_defaults_constants_and_unset() {
        let claims: Claims = [
            ("c:last".to_owned(), vec!["Gnaniah".to_owned()]),
            (
                "c:blank".to_owned(),
                vec!["  ".to_owned(), "second".to_owned()],
            ),
            ("c:empty".to_owned(), vec![String::new()]),
        ]
        .into();
        let fields = provenance(
            &[
                mapping("LastName", Some("c:last"), Some("Doe")),
                mapping("Alias", Some("c:blank"), Some("x")),
                mapping("Email", Some("c:empty"), Some("a@b.c")),
                mapping("ProfileId", None, Some("00e")),
                mapping("Title", Some("c:missing"), None),
            ],
            &claims,
        );
        let got: Vec<_> = fields
            .iter()
            .map(|f| (f.field.as_str(), f.source, f.value.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("LastName", FieldSource::Claim, Some("Gnaniah")),
                ("Alias", FieldSource::Claim, Some("second")),
                ("Email", FieldSource::Default, Some("a@b.c")),
                ("ProfileId", FieldSource::Constant, Some("00e")),
                ("Title", FieldSource::Unset, None),
            ]
        );
        assert_eq!(fields[0].claim.as_deref(), Some("c:last"));
        assert_eq!(fields[0].default_value.as_deref(), Some("Doe"));
    }
}
