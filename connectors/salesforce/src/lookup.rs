//! Finds a Salesforce user by one attribute, with SOQL.
//!
//! `attribute` keys query `WHERE <attribute> = '<value>'`; `entity` keys query by the Username
//! the provisioning pattern computes for the entity. At most two rows are fetched: none is
//! `None`, one is the match, two is a `conflict`.

use serde::Deserialize;
use serde_json::Value;

use crate::api::Api;
use crate::errors::{self, Action};
use crate::salesforce::is_field_name;
use crate::settings::Settings;
use crate::username;
use crate::view::KeyView;
use provisioner_sdk::Host;
use provisioner_sdk::{ConnectorConfig, EntityKind, Method, ProvisionError, RemoteObject};

/// The fields every lookup selects.
pub const SELECTED: [&str; 6] = [
    "Id",
    "Username",
    "IsActive",
    "FederationIdentifier",
    "Email",
    "LastName",
];

/// Escapes a value for a single-quoted SOQL string literal.
pub fn escape_soql(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            other => out.push(other),
        }
    }
    out
}

/// The SOQL that finds users whose `attribute` equals `value`; `attribute` must be a field name.
pub fn soql(attribute: &str, value: &str) -> Result<String, ProvisionError> {
    if !is_field_name(attribute) {
        return Err(errors::invalid_data(
            format!("`{attribute}` is not a Salesforce field name (letters, digits and `_`, starting with a letter)"),
            None,
            vec![attribute.to_string()],
            None,
        ));
    }
    Ok(format!(
        "SELECT {} FROM User WHERE {attribute} = '{}' LIMIT 2",
        SELECTED.join(", "),
        escape_soql(value)
    ))
}

/// Finds the user `key` names.
pub fn lookup(
    host: &dyn Host,
    config: &ConnectorConfig,
    key: &KeyView,
) -> Result<Option<RemoteObject>, ProvisionError> {
    let kind = match key {
        KeyView::Attribute(a) => a.kind,
        KeyView::Entity(e) => e.kind,
    };
    if kind == EntityKind::Group {
        return Err(errors::groups_unsupported("cannot be looked up"));
    }
    let settings = Settings::parse(config).map_err(errors::invalid_config)?;
    let query = match key {
        KeyView::Attribute(a) => soql(&a.attribute, &a.value)?,
        KeyView::Entity(e) => {
            let name = username::build(&settings, e.name);
            username::check(&name)
                .map_err(|m| errors::invalid_data(m, None, vec!["Username".into()], None))?;
            soql("Username", &name)?
        }
    };
    let api = Api::new(host, &settings);
    let request = api.request(Method::Get, api.query_url(&query), None);
    let response = api.execute(Action::Query, &request)?;
    let result: QueryResult = serde_json::from_slice(&response.body)
        .map_err(|_| errors::unexpected_success(Action::Query, &response, "a query result"))?;
    match result.records.as_slice() {
        [] => Ok(None),
        [record] => to_remote(record, &SELECTED)
            .map(Some)
            .ok_or_else(|| errors::unexpected_success(Action::Query, &response, "a record Id")),
        records => {
            let ids: Vec<&str> = records
                .iter()
                .filter_map(|r| r.get("Id").and_then(Value::as_str))
                .collect();
            Err(errors::conflict(format!(
                "{} Salesforce users match ({}{}); correlate them by hand",
                result.total_size.max(records.len() as u64),
                ids.join(", "),
                if result.total_size > records.len() as u64 {
                    ", ..."
                } else {
                    ""
                }
            )))
        }
    }
}

/// The part of a query response the connector reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryResult {
    /// How many records match the whole query.
    #[serde(default)]
    pub total_size: u64,
    /// This batch of records.
    pub records: Vec<Value>,
    /// Where the next batch is (`/services/data/vXX.X/query/<locator>`), while not done.
    #[serde(default)]
    pub next_records_url: Option<String>,
}

/// A record as a remote object: Id, IsActive, and the other selected `fields` as text
/// (booleans and numbers as JSON writes them; nulls are left out).
pub fn to_remote(record: &Value, fields: &[&str]) -> Option<RemoteObject> {
    let remote_id = record.get("Id")?.as_str()?.to_string();
    let active = record.get("IsActive").and_then(Value::as_bool);
    let attributes = fields
        .iter()
        .filter(|f| !matches!(**f, "Id" | "IsActive"))
        .filter_map(|f| {
            let text = match record.get(*f)? {
                Value::Null => return None,
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Some((f.to_string(), text))
        })
        .collect();
    Some(RemoteObject {
        remote_id,
        active,
        attributes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_quotes_and_backslashes() {
        assert_eq!(escape_soql(r"o'brien\x"), r"o\'brien\\x");
        assert_eq!(
            soql("Username", "a' OR Name != '").unwrap(),
            "SELECT Id, Username, IsActive, FederationIdentifier, Email, LastName FROM User WHERE Username = 'a\\' OR Name != \\'' LIMIT 2"
        );
    }

    #[test]
    fn attribute_names_are_restricted() {
        for bad in ["", "1Id", "Name OR Id", "Username--", "Name='x'", "Ü"] {
            assert!(
                matches!(soql(bad, "x"), Err(ProvisionError::InvalidData(_))),
                "{bad}"
            );
        }
        assert!(soql("Federation_Identifier__c", "x").is_ok());
    }
}
