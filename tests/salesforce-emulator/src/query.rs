//! The query resource: running SOQL over the org's users and paging results with
//! `nextRecordsUrl` locators.

use axum::{http::StatusCode, response::Response};
use serde_json::{json, Map, Value};

use crate::ids;
use crate::response::{json_response, ApiError};
use crate::rest::Call;
use crate::soql;
use crate::state::{AppState, QueryCursor};
use crate::users::attributes;

/// Smallest and largest batch sizes `Sforce-Query-Options: batchSize=N` may ask for.
pub const BATCH_RANGE: (usize, usize) = (200, 2000);

fn requested_batch(call: &Call<'_>) -> Option<usize> {
    let header = call.headers.get("sforce-query-options")?.to_str().ok()?;
    header
        .split([';', ','])
        .filter_map(|part| part.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("batchSize"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
}

fn page(version: &str, locator: &str, cursor: &QueryCursor, offset: usize) -> Value {
    let end = (offset + cursor.batch).min(cursor.records.len());
    let records = cursor.records.get(offset..end).unwrap_or(&[]).to_vec();
    let mut body = json!({
        "totalSize": cursor.records.len(),
        "done": end >= cursor.records.len(),
        "records": records,
    });
    if end < cursor.records.len() {
        body["nextRecordsUrl"] = json!(format!("/services/data/{version}/query/{locator}-{end}"));
    }
    body
}

/// `GET /query?q=…`.
pub fn query(app: &AppState, call: &Call<'_>) -> Result<Response, ApiError> {
    let Some(q) = call.params.get("q").filter(|q| !q.trim().is_empty()) else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED_QUERY",
            "A query string has to be specified",
        ));
    };
    let parsed = soql::parse(q)?;
    let mut org = app.org();
    let ci = org.config.case_insensitive_text;
    let hits = parsed.run(org.directory.users(), ci);
    if parsed.count_only {
        return Ok(json_response(
            StatusCode::OK,
            &json!({ "totalSize": hits.len(), "done": true, "records": [] }),
        ));
    }
    let records: Vec<Value> = hits
        .iter()
        .map(|u| {
            let mut map = Map::new();
            map.insert("attributes".into(), attributes(&call.version, &u.id));
            for f in &parsed.fields {
                map.insert(f.to_string(), u.get(f));
            }
            Value::Object(map)
        })
        .collect();
    let batch = requested_batch(call)
        .map(|b| b.clamp(BATCH_RANGE.0, BATCH_RANGE.1))
        .unwrap_or(org.config.query_batch_size)
        .max(1);
    let cursor = QueryCursor { records, batch };
    if cursor.records.len() <= batch {
        return Ok(json_response(
            StatusCode::OK,
            &page(&call.version, "", &cursor, 0),
        ));
    }
    let locator = org.locators.next_id(ids::QUERY_LOCATOR_PREFIX);
    let body = page(&call.version, &locator, &cursor, 0);
    org.cursors.insert(locator, cursor);
    Ok(json_response(StatusCode::OK, &body))
}

/// `GET /query/{locator}-{offset}`: the next page of an earlier query.
pub fn query_more(app: &AppState, call: &Call<'_>, locator: &str) -> Result<Response, ApiError> {
    let invalid = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY_LOCATOR",
            "invalid query locator",
        )
    };
    let (id, offset) = locator.rsplit_once('-').ok_or_else(invalid)?;
    let offset: usize = offset.parse().map_err(|_| invalid())?;
    let org = app.org();
    let cursor = org.cursors.get(id).ok_or_else(invalid)?;
    if offset > cursor.records.len() {
        return Err(invalid());
    }
    Ok(json_response(
        StatusCode::OK,
        &page(&call.version, id, cursor, offset),
    ))
}
