//! Reading remote users page by page (`list-entities`, contract 0.2), for reconciliation.
//!
//! The first page runs `SELECT Id, Username, IsActive, <mapped fields> FROM User ORDER BY Id`
//! with `Sforce-Query-Options: batchSize=<page size>` (Salesforce accepts 200 to 2,000; the
//! host's page size is clamped into that range). While the answer is not `done` it carries a
//! `nextRecordsUrl` (`/services/data/vXX.X/query/<locator>-<offset>`), which is the cursor of
//! the next page; the last page has none. Inactive users are listed too: `IsActive` is just a
//! field. Each user comes back with its Id, `IsActive`, its Username and the value of every
//! field the claim mappings write, as text (booleans as `true`/`false`), so the host can
//! compare them with what it would send. Groups are never provisioned, so never listed.

use provisioner_sdk::Host;
use provisioner_sdk::{
    ConnectorConfig, EntityKind, ListRequest, Method, ProvisionError, RemotePage,
};

use crate::api::Api;
use crate::errors::{self, Action};
use crate::lookup::{to_remote, QueryResult};
use crate::salesforce::is_field_name;
use crate::settings::Settings;

/// The smallest and largest query batch Salesforce accepts in `Sforce-Query-Options`.
pub const BATCH_RANGE: (u32, u32) = (200, 2_000);

/// Fields every listed user carries, before the mapped ones.
pub const ALWAYS_SELECTED: [&str; 3] = ["Id", "Username", "IsActive"];

/// The fields a listing selects: [`ALWAYS_SELECTED`], then each mapping's target field once,
/// in mapping order (names that are not Salesforce field names are left out; `validate`
/// reports them).
pub fn selected_fields(settings: &Settings) -> Vec<&str> {
    let mut fields: Vec<&str> = ALWAYS_SELECTED.to_vec();
    for mapping in &settings.mappings {
        let field = mapping.target_field.as_str();
        if is_field_name(field) && !fields.iter().any(|f| f.eq_ignore_ascii_case(field)) {
            fields.push(field);
        }
    }
    fields
}

/// The SOQL of the first page.
pub fn soql(fields: &[&str]) -> String {
    format!("SELECT {} FROM User ORDER BY Id", fields.join(", "))
}

/// Checks that a cursor is a `nextRecordsUrl` this connector handed out: a path of the REST
/// API's query resource, with nothing that could steer the request elsewhere.
fn check_cursor(cursor: &str) -> Result<&str, ProvisionError> {
    let shaped = cursor.starts_with("/services/data/v")
        && cursor.contains("/query/")
        && !cursor.contains("..")
        && cursor
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '-' | '_'));
    if shaped {
        Ok(cursor)
    } else {
        Err(errors::invalid_data(
            format!(
                "`{cursor}` is not a cursor of this connector (a `nextRecordsUrl` path under \
                 /services/data/); start the listing again without a cursor"
            ),
            None,
            Vec::new(),
            None,
        ))
    }
}

/// Answers one page request: users by query and `nextRecordsUrl`; `unsupported` for groups.
pub fn list_entities(
    host: &dyn Host,
    config: &ConnectorConfig,
    request: &ListRequest,
) -> Result<RemotePage, ProvisionError> {
    if request.kind == EntityKind::Group {
        return Err(errors::groups_unsupported("cannot be listed"));
    }
    let settings = Settings::parse(config).map_err(errors::invalid_config)?;
    let fields = selected_fields(&settings);
    let api = Api::new(host, &settings);
    let url = match request.cursor.as_deref() {
        None => api.query_url(&soql(&fields)),
        Some(cursor) => format!("{}{}", settings.domain, check_cursor(cursor)?),
    };
    let mut http = api.request(Method::Get, url, None);
    let batch = request.page_size.clamp(BATCH_RANGE.0, BATCH_RANGE.1);
    http.headers.push((
        "Sforce-Query-Options".to_string(),
        format!("batchSize={batch}"),
    ));
    let response = api.execute(Action::Query, &http)?;
    let result: QueryResult = serde_json::from_slice(&response.body)
        .map_err(|_| errors::unexpected_success(Action::Query, &response, "a query result"))?;
    let objects = result
        .records
        .iter()
        .map(|record| {
            to_remote(record, &fields)
                .ok_or_else(|| errors::unexpected_success(Action::Query, &response, "a record Id"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = match result.next_records_url {
        Some(next) => Some(check_cursor(&next)?.to_string()),
        None => None,
    };
    Ok(RemotePage {
        objects,
        next_cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_must_be_query_locator_paths() {
        assert!(check_cursor("/services/data/v62.0/query/01gxx0000000001-2000").is_ok());
        for bad in [
            "https://evil.example/services/data/v62.0/query/x",
            "/services/data/v62.0/sobjects/User/005",
            "/services/data/v62.0/query/../../x",
            "/services/data/v62.0/query/x?q=1",
            "//evil.example/services/data/v1/query/x",
            "",
        ] {
            assert!(check_cursor(bad).is_err(), "{bad}");
        }
    }
}
