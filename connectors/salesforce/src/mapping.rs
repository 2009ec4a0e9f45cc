//! Claims to Salesforce fields.
//!
//! Each mapping takes the first non-empty value of its claim, else its default; a mapping without
//! a claim is a constant. Exact `true`/`false` become JSON booleans. A mapping to `Username` is
//! ignored: the provisioning pattern always decides the Username (as in WSO2).

use serde_json::{Map, Value};

use crate::salesforce::{is_permission_field, REQUIRED_ON_CREATE};
use provisioner_sdk::{Claim, ClaimMapping};

/// Fields to send, plus what was adjusted or refused on the way.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FieldSet {
    /// Field name -> JSON value.
    pub fields: Map<String, Value>,
    /// Non-fatal notes for the provisioning outcome.
    pub warnings: Vec<String>,
    /// Values that cannot be sent: (field, reason).
    pub rejected: Vec<(String, String)>,
}

/// Whether `field` is the Username, which the pattern owns.
fn is_username(field: &str) -> bool {
    field.eq_ignore_ascii_case("Username")
}

/// The first non-empty value of `uri` among `claims`.
pub fn claim_value<'a>(claims: &'a [Claim], uri: &str) -> Option<&'a str> {
    claims
        .iter()
        .find(|c| c.uri == uri)
        .and_then(|c| c.values.first())
        .map(String::as_str)
        .filter(|v| !v.is_empty())
}

/// Every mapped field for a create: claim values, defaults, and constants.
pub fn for_create(mappings: &[ClaimMapping], claims: &[Claim]) -> FieldSet {
    let mut set = FieldSet::default();
    for m in mappings.iter().filter(|m| !is_username(&m.target_field)) {
        let value = m.claim.as_deref().and_then(|uri| claim_value(claims, uri));
        match value {
            Some(v) => set.put_claim_value(m, v),
            None => {
                if let Some(d) = &m.default_value {
                    set.put(&m.target_field, json_value(d));
                }
            }
        }
    }
    set
}

/// The fields whose claims are in `changed` for an update.
///
/// Defaults of unchanged claims and constants are never sent. A changed claim that now has no
/// value sends its default, else JSON null; the nine fields Salesforce requires cannot be
/// cleared, so for them nothing is sent and a warning says so.
pub fn for_update(mappings: &[ClaimMapping], claims: &[Claim], changed: &[String]) -> FieldSet {
    let mut set = FieldSet::default();
    for m in mappings.iter().filter(|m| !is_username(&m.target_field)) {
        let Some(uri) = m.claim.as_deref() else {
            continue;
        };
        if !changed.iter().any(|c| c == uri) {
            continue;
        }
        match (claim_value(claims, uri), &m.default_value) {
            (Some(v), _) => set.put_claim_value(m, v),
            (None, Some(d)) => set.put(&m.target_field, json_value(d)),
            (None, None) if REQUIRED_ON_CREATE.contains(&m.target_field.as_str()) => {
                set.warnings.push(format!(
                    "{} was not cleared: Salesforce requires it and the mapping has no default",
                    m.target_field
                ));
            }
            (None, None) => set.put(&m.target_field, Value::Null),
        }
    }
    set
}

impl FieldSet {
    fn put(&mut self, field: &str, value: Value) {
        self.fields.insert(field.to_string(), value);
    }

    /// Puts a claim's value, guarding boolean fields against claims that do not hold booleans
    /// (WSO2's tutorial maps `mobile` to `UserPermissionsMarketingUser`): the boolean default
    /// is used instead, with a warning, or the value is refused when there is none.
    fn put_claim_value(&mut self, m: &ClaimMapping, value: &str) {
        let field = m.target_field.as_str();
        let boolean_default = m
            .default_value
            .as_deref()
            .filter(|d| *d == "true" || *d == "false");
        let boolean_field = is_permission_field(field) || boolean_default.is_some();
        let is_bool = value == "true" || value == "false";
        if !boolean_field || is_bool {
            self.put(field, json_value(value));
        } else if let Some(d) = boolean_default {
            self.warnings.push(format!(
                "{field} expects true or false; claim {} holds another value, so its default {d} was sent",
                m.claim.as_deref().unwrap_or_default()
            ));
            self.put(field, json_value(d));
        } else {
            self.rejected.push((
                field.to_string(),
                format!("{field} expects true or false, not `{value}`"),
            ));
        }
    }
}

/// Exact `true`/`false` become booleans; everything else is a string.
pub fn json_value(raw: &str) -> Value {
    match raw {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        other => Value::String(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(field: &str, claim: Option<&str>, default: Option<&str>) -> ClaimMapping {
        ClaimMapping {
            target_field: field.into(),
            claim: claim.map(Into::into),
            default_value: default.map(Into::into),
        }
    }

    fn c(uri: &str, v: &str) -> Claim {
        Claim {
            uri: uri.into(),
            values: vec![v.into()],
        }
    }

    #[test]
    fn create_uses_values_defaults_and_constants() {
        let maps = [
            m("LastName", Some("ln"), Some("Doe")),
            m("Alias", Some("gn"), None),
            m("ProfileId", None, Some("00e000000000001")),
            m("Username", Some("mail"), Some("x@y.z")),
            m(
                "UserPermissionsMarketingUser",
                Some("mobile"),
                Some("false"),
            ),
        ];
        let set = for_create(
            &maps,
            &[c("ln", "Smith"), c("mail", "a@b.c"), c("mobile", "+9477")],
        );
        assert_eq!(
            Value::Object(set.fields),
            serde_json::json!({"LastName":"Smith","ProfileId":"00e000000000001","UserPermissionsMarketingUser":false})
        );
        assert_eq!(set.warnings.len(), 1);
    }

    #[test]
    fn update_sends_changed_claims_only() {
        let maps = [
            m("LastName", Some("ln"), Some("Doe")),
            m("Title", Some("title"), None),
            m("Alias", Some("gn"), None),
            m("Department", Some("dept"), Some("Sales")),
            m("ProfileId", None, Some("00e000000000001")),
        ];
        let changed = ["title".to_string(), "gn".into(), "dept".into()];
        let set = for_update(&maps, &[c("ln", "Smith")], &changed);
        assert_eq!(
            Value::Object(set.fields),
            serde_json::json!({"Title":null,"Department":"Sales"})
        );
        assert_eq!(set.warnings.len(), 1, "Alias cannot be cleared");
    }
}
