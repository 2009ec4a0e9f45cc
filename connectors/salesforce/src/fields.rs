//! Checks the fields of a User before anything is sent: the required set, Alias length (truncate
//! or refuse), documented length limits, and the Username's shape.

use serde_json::{Map, Value};

use crate::errors;
use crate::mapping::FieldSet;
use crate::salesforce::{ALIAS_MAX, MAX_LENGTHS, REQUIRED_ON_CREATE};
use crate::settings::AliasOverflow;
use crate::username;
use provisioner_sdk::ProvisionError;

/// Whether the fields are for a new record (all required fields must be present).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A create (or a full re-send on reactivation).
    Create,
    /// A partial update.
    Update,
}

/// Adds `username` (if any), applies the Alias policy and checks lengths and, for a create, the
/// required set. Returns the body and warnings, or one invalid-data error naming every field.
pub fn finish(
    mut set: FieldSet,
    username: Option<&str>,
    alias_overflow: AliasOverflow,
    purpose: Purpose,
) -> Result<(Map<String, Value>, Vec<String>), ProvisionError> {
    // The code Salesforce itself would answer for the first problem found, so a refusal reads
    // the same whether it is caught here or by the org.
    let mut code: Option<&str> = None;
    if let Some(u) = username {
        if let Err(message) = username::check(u) {
            code.get_or_insert("FIELD_INTEGRITY_EXCEPTION");
            set.rejected.push(("Username".into(), message));
        }
        set.fields
            .insert("Username".into(), Value::String(u.to_string()));
    }
    if let Some(Value::String(alias)) = set.fields.get_mut("Alias") {
        if alias.chars().count() > ALIAS_MAX {
            match alias_overflow {
                AliasOverflow::Truncate => {
                    let cut: String = alias.chars().take(ALIAS_MAX).collect();
                    set.warnings.push(format!(
                        "Alias `{alias}` was truncated to `{cut}` (8 characters)"
                    ));
                    *alias = cut;
                }
                // Refused by the length check below.
                AliasOverflow::Error => {}
            }
        }
    }
    for (field, max) in MAX_LENGTHS {
        if let Some(Value::String(v)) = set.fields.get(field) {
            let len = v.chars().count();
            if len > max {
                code.get_or_insert("STRING_TOO_LONG");
                set.rejected.push((
                    field.to_string(),
                    format!("{field} is {len} characters; Salesforce allows {max}"),
                ));
            }
        }
    }
    if purpose == Purpose::Create {
        let missing: Vec<&str> = REQUIRED_ON_CREATE
            .iter()
            .copied()
            .filter(|f| matches!(set.fields.get(*f), None | Some(Value::Null)))
            .collect();
        if !missing.is_empty() {
            code = Some("REQUIRED_FIELD_MISSING");
            let message = format!(
                "Required fields are missing: [{}]; give the users these claims or add defaults to the mappings",
                missing.join(", ")
            );
            set.rejected
                .extend(missing.iter().map(|f| (f.to_string(), message.clone())));
        }
    }
    if set.rejected.is_empty() {
        return Ok((set.fields, set.warnings));
    }
    let mut fields: Vec<String> = Vec::new();
    let mut messages: Vec<String> = Vec::new();
    for (field, message) in set.rejected {
        if !fields.contains(&field) {
            fields.push(field);
        }
        if !messages.contains(&message) {
            messages.push(message);
        }
    }
    Err(errors::invalid_data(
        messages.join("; "),
        code.map(String::from),
        fields,
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use provisioner_sdk::ProvisionError as E;

    fn set(pairs: &[(&str, &str)]) -> FieldSet {
        let mut s = FieldSet::default();
        for (k, v) in pairs {
            s.fields.insert(k.to_string(), Value::String(v.to_string()));
        }
        s
    }

    #[test]
    fn alias_truncates_on_char_boundaries() {
        let (body, warnings) = finish(
            set(&[("Alias", "Zoëzoëzoë")]),
            None,
            AliasOverflow::Truncate,
            Purpose::Update,
        )
        .unwrap();
        assert_eq!(body["Alias"], "Zoëzoëzo");
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn alias_overflow_error_and_missing_fields_are_invalid_data() {
        let err = finish(
            set(&[("Alias", "Alexandria")]),
            Some("bad name@x.com"),
            AliasOverflow::Error,
            Purpose::Create,
        )
        .unwrap_err();
        let E::InvalidData(d) = err else {
            panic!("{err:?}")
        };
        assert_eq!(d.fields[0], "Username");
        assert!(d.fields.contains(&"Alias".to_string()));
        assert!(d.fields.contains(&"LastName".to_string()));
        assert!(d.message.contains("Required fields are missing"));
    }
}
