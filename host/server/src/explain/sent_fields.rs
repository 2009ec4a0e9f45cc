//! The mapped fields set against what the connector really did with them in the dry run.
//!
//! A mapping states what the host hands the connector; the connector may still derive a field
//! itself (Salesforce's Username comes from the provisioning pattern, not from its mapping),
//! leave one out, add fields no mapping names, or refuse a value before sending anything. Each
//! field therefore carries the value the connector's request body held for it and, where that
//! differs from the mapping, a note saying how; fields only the connector set are listed too.
//!
//! A field's name is looked up in the body as a path: `LastName` is a top-level key,
//! `name.familyName` a nested one. Names a plain path cannot follow (a filter such as
//! `emails[type eq "work"].value`, an extension URN) are not compared: they carry no sent value
//! and no note.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use provisioner_engine::mapping::{FieldProvenance, FieldSource};

use super::ExplainedRequest;

/// One target field: the mapping's side, and what the connector sent for it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExplainedField {
    /// The field as the mapping produces it (`source` is `connector` for a field no mapping
    /// names).
    #[serde(flatten)]
    pub mapped: FieldProvenance,
    /// The value the connector's request body held for this field, as text (JSON for a value
    /// that is not a string); none without a recorded body or when the body lacks the field.
    pub sent: Option<String>,
    /// How the connector's handling differs from the mapping: it sends another value, leaves
    /// the field out, refuses the value, or sets a field no mapping names. None when it sent
    /// the mapped value (or when it could not be compared).
    pub connector: Option<String>,
}

/// A field the connector's error named, with the error's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefusedField {
    /// The target field.
    pub field: String,
    /// Why the connector refused it.
    pub message: String,
}

/// The mapped `fields` set against the dry run's `requests` and the fields the connector's
/// error named (`refused`), then the fields only the connector set, in the body's order.
pub fn compare(
    fields: Vec<FieldProvenance>,
    requests: &[ExplainedRequest],
    refused: &[RefusedField],
) -> Vec<ExplainedField> {
    let body = last_api_body(requests);
    let mut explained: Vec<ExplainedField> = fields
        .into_iter()
        .map(|mapped| compare_one(mapped, body, refused))
        .collect();
    if let Some(body) = body {
        for (key, value) in body {
            let mapped = explained.iter().any(|f| names_within(&f.mapped.field, key));
            if mapped || is_protocol_key(key) {
                continue;
            }
            explained.push(ExplainedField {
                mapped: FieldProvenance {
                    field: key.clone(),
                    claim: None,
                    default_value: None,
                    source: FieldSource::Connector,
                    value: None,
                },
                sent: Some(text(value)),
                connector: Some("set by the connector itself; no mapping names it".to_owned()),
            });
        }
    }
    explained
}

/// The fields of the last JSON object body among the connector's API `requests`, by field
/// (nested objects as dotted paths, e.g. `name.familyName`), values as text; protocol keys
/// (`schemas`, `attributes`) and nulls left out. None without such a body.
pub fn body_fields(requests: &[ExplainedRequest]) -> Option<BTreeMap<String, String>> {
    let body = last_api_body(requests)?;
    let mut fields = BTreeMap::new();
    flatten(body, "", &mut fields);
    Some(fields)
}

fn flatten(object: &Map<String, Value>, prefix: &str, out: &mut BTreeMap<String, String>) {
    for (key, value) in object {
        if prefix.is_empty() && is_protocol_key(key) {
            continue;
        }
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Value::Null => {}
            Value::Object(inner) => flatten(inner, &path, out),
            other => {
                out.insert(path, text(other));
            }
        }
    }
}

/// The body of the last API request that carried a JSON object.
fn last_api_body(requests: &[ExplainedRequest]) -> Option<&Map<String, Value>> {
    requests
        .iter()
        .rev()
        .filter(|request| request.kind == "api")
        .find_map(|request| request.body.as_object())
}

fn compare_one(
    mapped: FieldProvenance,
    body: Option<&Map<String, Value>>,
    refused: &[RefusedField],
) -> ExplainedField {
    let refusal = refused
        .iter()
        .find(|r| r.field.eq_ignore_ascii_case(&mapped.field));
    let sent = body.and_then(|body| lookup(body, &mapped.field));
    let connector = if let Some(refusal) = refusal {
        Some(format!("refused by the connector: {}", refusal.message))
    } else {
        match (body, &sent, &mapped.value) {
            (Some(_), Some(sent), Some(value)) if sent != value => Some(format!(
                "the connector sends `{sent}`, not the mapped value: it sets this field itself"
            )),
            (Some(_), Some(sent), None) => Some(format!(
                "the connector sends `{sent}` although the mapping gives no value"
            )),
            (Some(_), None, Some(_)) if is_plain_path(&mapped.field) => {
                Some("the connector does not send this field".to_owned())
            }
            _ => None,
        }
    };
    ExplainedField {
        mapped,
        sent,
        connector,
    }
}

/// The value at `path` (`a` or `a.b`) in `body`, as text; none when absent or when `path` is
/// not a plain path.
fn lookup(body: &Map<String, Value>, path: &str) -> Option<String> {
    if !is_plain_path(path) {
        return None;
    }
    let mut parts = path.split('.');
    let first = parts.next()?;
    let mut value = find_key(body, first)?;
    for part in parts {
        value = find_key(value.as_object()?, part)?;
    }
    (!value.is_null()).then(|| text(value))
}

/// The value of `key` in `object`, matched exactly or else in any case (Salesforce's field
/// names are case-insensitive, SCIM's attribute names too).
fn find_key<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object.get(key).or_else(|| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// Whether `path` is dotted names only (no filter, no URN, no spaces).
fn is_plain_path(path: &str) -> bool {
    !path.is_empty()
        && path
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_alphanumeric() || c == '_'))
}

/// Whether the mapped field `field` is `key` or lies inside it (`name.familyName` in `name`,
/// `emails[type eq "work"].value` in `emails`, an extension's URN path in its URN).
fn names_within(field: &str, key: &str) -> bool {
    let (field_lower, key_lower) = (field.to_ascii_lowercase(), key.to_ascii_lowercase());
    field_lower == key_lower
        || field_lower
            .strip_prefix(&key_lower)
            .is_some_and(|rest| rest.starts_with(['.', '[', ':']))
}

/// Keys that frame a request rather than carry a user's field: SCIM's `schemas`, and
/// Salesforce's `attributes` (record metadata).
fn is_protocol_key(key: &str) -> bool {
    matches!(key, "schemas" | "attributes")
}

/// A JSON value as text: a string as it is, anything else as compact JSON.
fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(name: &str, value: Option<&str>) -> FieldProvenance {
        FieldProvenance {
            field: name.into(),
            claim: Some("c".into()),
            default_value: None,
            source: if value.is_some() {
                FieldSource::Claim
            } else {
                FieldSource::Unset
            },
            value: value.map(Into::into),
        }
    }

    fn api(body: Value) -> ExplainedRequest {
        ExplainedRequest {
            kind: "api".into(),
            method: "POST".into(),
            url: "https://target.example/users".into(),
            headers: Default::default(),
            body,
        }
    }

    fn notes(fields: &[ExplainedField]) -> Vec<(&str, Option<&str>, Option<&str>)> {
        fields
            .iter()
            .map(|f| {
                (
                    f.mapped.field.as_str(),
                    f.sent.as_deref(),
                    f.connector.as_deref(),
                )
            })
            .collect()
    }

    #[test]
    fn a_derived_value_a_missing_field_and_a_connector_field_are_each_noted() {
        let fields = vec![
            field("Username", Some("pat@example.com")),
            field("LastName", Some("Jones")),
            field("IsActive", Some("true")),
            field("Title", Some("Engineer")),
        ];
        let body = json!({
            "Username": "pat.jones@corp.example",
            "lastname": "Jones",
            "IsActive": true,
            "TimeZoneSidKey": "America/Los_Angeles",
        });
        let explained = compare(fields, &[api(body)], &[]);
        assert_eq!(
            notes(&explained),
            [
                (
                    "Username",
                    Some("pat.jones@corp.example"),
                    Some(
                        "the connector sends `pat.jones@corp.example`, not the mapped value: it \
                         sets this field itself"
                    )
                ),
                ("LastName", Some("Jones"), None),
                ("IsActive", Some("true"), None),
                (
                    "Title",
                    None,
                    Some("the connector does not send this field")
                ),
                (
                    "TimeZoneSidKey",
                    Some("America/Los_Angeles"),
                    Some("set by the connector itself; no mapping names it")
                ),
            ]
        );
        assert_eq!(explained[4].mapped.source, FieldSource::Connector);
    }

    #[test]
    fn nested_paths_are_followed_and_filtered_paths_left_alone() {
        let fields = vec![
            field("name.familyName", Some("Jones")),
            field("emails[type eq \"work\"].value", Some("pat@example.com")),
            field(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                Some("7"),
            ),
        ];
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "pat",
            "name": {"familyName": "Jones"},
            "emails": [{"type": "work", "value": "pat@example.com"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "7"},
        });
        let explained = compare(fields, &[api(body)], &[]);
        assert_eq!(
            notes(&explained),
            [
                ("name.familyName", Some("Jones"), None),
                ("emails[type eq \"work\"].value", None, None),
                (
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                    None,
                    None
                ),
                (
                    "userName",
                    Some("pat"),
                    Some("set by the connector itself; no mapping names it")
                ),
            ]
        );
    }

    #[test]
    fn a_refused_field_says_why_and_no_body_means_nothing_to_compare() {
        let fields = vec![
            field("Username", Some("pat@example.com")),
            field("LastName", Some("Jones")),
        ];
        let refused = [RefusedField {
            field: "Username".into(),
            message: "`pat.jones` is not in the form of an email address".into(),
        }];
        let explained = compare(fields, &[], &refused);
        assert_eq!(
            notes(&explained),
            [
                (
                    "Username",
                    None,
                    Some(
                        "refused by the connector: `pat.jones` is not in the form of an email \
                         address"
                    )
                ),
                ("LastName", None, None),
            ]
        );
    }

    #[test]
    fn body_fields_flatten_nested_objects_and_skip_protocol_keys() {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "pat",
            "active": true,
            "name": {"familyName": "Jones", "middleName": null},
            "emails": [{"type": "work", "value": "pat@example.com"}],
        });
        let fields = body_fields(&[api(body)]).unwrap();
        assert_eq!(
            fields.into_iter().collect::<Vec<_>>(),
            [
                ("active".to_owned(), "true".to_owned()),
                (
                    "emails".to_owned(),
                    r#"[{"type":"work","value":"pat@example.com"}]"#.to_owned()
                ),
                ("name.familyName".to_owned(), "Jones".to_owned()),
                ("userName".to_owned(), "pat".to_owned()),
            ]
        );
        assert_eq!(body_fields(&[]), None);
    }

    #[test]
    fn the_last_api_body_counts_and_a_token_request_does_not() {
        let token = ExplainedRequest {
            kind: "token".into(),
            method: "POST".into(),
            url: "https://login.example/token".into(),
            headers: Default::default(),
            body: json!({"LastName": "token-form"}),
        };
        let lookup = ExplainedRequest {
            method: "GET".into(),
            ..api(Value::Null)
        };
        let explained = compare(
            vec![field("LastName", Some("Jones"))],
            &[token, api(json!({"LastName": "Jones"})), lookup],
            &[],
        );
        assert_eq!(notes(&explained), [("LastName", Some("Jones"), None)]);
    }
}
