//! sObject Collections (`/composite/sobjects`, API v42.0 and later): create, update, delete and
//! retrieve up to 200 User records in one API call.
//!
//! A well-formed request answers 200 with one result per record, in request order:
//! `{"id","success":true,"errors":[]}` or `{"success":false,"errors":[{"statusCode","message",
//! "fields"}]}`. Each record goes through the same validation as the single-record routes
//! ([`sobjects::create_record`], [`sobjects::update_record`]). With `allOrNone: true` one failure
//! rolls every record back and the others report ALL_OR_NONE_OPERATION_ROLLED_BACK. More than
//! 200 records is a 400 EXCEEDED_ID_LIMIT for the whole request.

use std::collections::HashSet;

use axum::{http::StatusCode, response::Response};
use serde_json::{json, Map, Value};

use crate::ids;
use crate::response::{json_response, ApiError};
use crate::rest::Call;
use crate::sobjects;
use crate::state::{AppState, Org};

/// The most records one collection request may carry.
pub const MAX_RECORDS: usize = 200;

/// The first API version that has sObject Collections.
pub const MIN_VERSION: u32 = 42;

/// The message of records rolled back by `allOrNone`.
pub const ROLLED_BACK_MESSAGE: &str =
    "Record rolled back because not all records were valid and the request was using AllOrNone header";

/// 400 EXCEEDED_ID_LIMIT: more than [`MAX_RECORDS`] records or ids.
pub fn exceeded_id_limit() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "EXCEEDED_ID_LIMIT",
        format!(
            "record limit reached. cannot submit more than {MAX_RECORDS} records into this call"
        ),
    )
}

/// One record's result before rendering: its id when known, and its error if it failed.
struct Outcome {
    id: Option<String>,
    error: Option<ApiError>,
}

/// `POST /composite/sobjects`: creates each record.
pub fn create(app: &AppState, call: &Call<'_>) -> Result<Response, ApiError> {
    let (all_or_none, records) = parse_records(call.body)?;
    let mut org = app.org();
    let outcomes = apply(&mut org, all_or_none, records, create_one);
    Ok(render(outcomes, false))
}

/// `PATCH /composite/sobjects`: updates each record named by its `id`.
pub fn update(app: &AppState, call: &Call<'_>) -> Result<Response, ApiError> {
    let (all_or_none, records) = parse_records(call.body)?;
    let mut seen = HashSet::new();
    let mut org = app.org();
    let outcomes = apply(&mut org, all_or_none, records, |org, record| {
        update_one(org, record, &mut seen)
    });
    Ok(render(outcomes, true))
}

/// `DELETE /composite/sobjects?ids=a,b[&allOrNone=bool]`: User records cannot be deleted, so
/// every existing id fails (and is counted as a delete attempt); unknown ids fail as a delete
/// of a missing record would.
pub fn delete(app: &AppState, call: &Call<'_>) -> Result<Response, ApiError> {
    let ids = id_list(call)?;
    let mut org = app.org();
    let outcomes = ids
        .iter()
        .map(|id| {
            let error = if !ids::is_id_shaped(id) {
                malformed_id(id)
            } else if let Some(user) = org.directory.get(id) {
                let id = user.id.clone();
                org.counters.delete_attempts += 1;
                org.counters
                    .delete_attempt_paths
                    .push(format!("composite/sobjects?ids={id}"));
                // Salesforce refuses to delete User records of any kind.
                ApiError::field(
                    "INVALID_TYPE_FOR_OPERATION",
                    "entity type cannot be deleted",
                    &[],
                )
            } else {
                ApiError::field("ENTITY_IS_DELETED", "entity is deleted", &[])
            };
            Outcome {
                id: Some(id.clone()),
                error: Some(error),
            }
        })
        .collect();
    Ok(render(outcomes, true))
}

/// `GET /composite/sobjects/User?ids=a,b&fields=F,G`: the records in `ids` order, `null` for
/// an id with no record.
pub fn retrieve(app: &AppState, call: &Call<'_>) -> Result<Response, ApiError> {
    let ids = id_list(call)?;
    let Some(list) = call.params.get("fields").filter(|f| !f.trim().is_empty()) else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "MISSING_ARGUMENT",
            "fields: required parameter missing",
        ));
    };
    let selected = sobjects::parse_field_list(list)?;
    let org = app.org();
    let records: Vec<Value> = ids
        .iter()
        .map(|id| {
            org.directory
                .get(id)
                .map_or(Value::Null, |u| u.to_rest(&call.version, Some(&selected)))
        })
        .collect();
    Ok(json_response(StatusCode::OK, &records))
}

/// Runs `one` over every record; with `all_or_none`, a single failure restores the org's users
/// as they were and turns every success into a rollback.
fn apply<F>(org: &mut Org, all_or_none: bool, records: Vec<Value>, mut one: F) -> Vec<Outcome>
where
    F: FnMut(&mut Org, Value) -> Outcome,
{
    let before = all_or_none.then(|| org.directory.clone());
    let mut outcomes: Vec<Outcome> = records.into_iter().map(|r| one(org, r)).collect();
    if let Some(before) = before {
        if outcomes.iter().any(|o| o.error.is_some()) {
            org.directory = before;
            for outcome in outcomes.iter_mut().filter(|o| o.error.is_none()) {
                outcome.error = Some(ApiError::field(
                    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                    ROLLED_BACK_MESSAGE,
                    &[],
                ));
            }
        }
    }
    outcomes
}

fn create_one(org: &mut Org, record: Value) -> Outcome {
    let result = user_record(record).and_then(|mut map| {
        if map.keys().any(|k| k.eq_ignore_ascii_case("id")) {
            return Err(ApiError::field(
                "INVALID_FIELD",
                "cannot specify Id in an insert call",
                &["Id"],
            ));
        }
        map.remove("attributes");
        let text = Value::Object(map.clone()).to_string();
        sobjects::create_record(org, &text, map)
    });
    match result {
        Ok(id) => Outcome {
            id: Some(id),
            error: None,
        },
        Err(e) => Outcome {
            id: None,
            error: Some(e),
        },
    }
}

fn update_one(org: &mut Org, record: Value, seen: &mut HashSet<String>) -> Outcome {
    let mut id = None;
    let result = user_record(record).and_then(|mut map| {
        map.remove("attributes");
        let key = map.keys().find(|k| k.eq_ignore_ascii_case("id")).cloned();
        let Some(Value::String(given)) = key.and_then(|k| map.remove(&k)) else {
            return Err(ApiError::field(
                "MISSING_ARGUMENT",
                "Id not specified in an update call",
                &[],
            ));
        };
        id = Some(given.clone());
        if !ids::is_id_shaped(&given) {
            return Err(malformed_id(&given));
        }
        if !seen.insert(ids::to15(&given).unwrap_or(&given).to_string()) {
            return Err(ApiError::field(
                "DUPLICATE_VALUE",
                format!("Duplicate id in list: {given}"),
                &[],
            ));
        }
        let text = Value::Object(map.clone()).to_string();
        sobjects::update_record(org, &given, &text, map)
    });
    Outcome {
        id: id.map(|i| ids::to18(&i).unwrap_or(i)),
        error: result.err(),
    }
}

/// The object of a record whose `attributes.type` is User.
fn user_record(record: Value) -> Result<Map<String, Value>, ApiError> {
    let Value::Object(map) = record else {
        return Err(ApiError::field(
            "JSON_PARSER_ERROR",
            "each record must be a JSON object",
            &[],
        ));
    };
    let ty = map
        .get("attributes")
        .and_then(|a| a.get("type"))
        .and_then(Value::as_str);
    match ty {
        Some(t) if t.eq_ignore_ascii_case("User") => Ok(map),
        Some(t) => Err(ApiError::field(
            "INVALID_TYPE",
            format!("sObject type '{t}' is not supported."),
            &[],
        )),
        None => Err(ApiError::field(
            "INVALID_TYPE",
            "Must send a concrete entity type.",
            &[],
        )),
    }
}

fn malformed_id(id: &str) -> ApiError {
    ApiError::field("MALFORMED_ID", format!("malformed id {id}"), &[])
}

/// Decodes `{"allOrNone":bool,"records":[…]}`; a malformed body or too many records fail the
/// whole request.
fn parse_records(body: &[u8]) -> Result<(bool, Vec<Value>), ApiError> {
    let (_, mut map) = crate::validation::parse_object(body)?;
    let all_or_none = match map.remove("allOrNone") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => b,
        Some(other) => {
            return Err(ApiError::json_parser(format!(
                "Cannot deserialize value of type `boolean` from {other}: allOrNone must be true or false"
            )))
        }
    };
    let records = match map.remove("records") {
        Some(Value::Array(records)) => records,
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "INVALID_FIELD",
                "records: a list of sObjects is required",
            ))
        }
    };
    if records.len() > MAX_RECORDS {
        return Err(exceeded_id_limit());
    }
    Ok((all_or_none, records))
}

/// The `ids` parameter as a list (at most [`MAX_RECORDS`]).
fn id_list(call: &Call<'_>) -> Result<Vec<String>, ApiError> {
    let ids: Vec<String> = call
        .params
        .get("ids")
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if ids.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "MISSING_ARGUMENT",
            "ids: required parameter missing",
        ));
    }
    if ids.len() > MAX_RECORDS {
        return Err(exceeded_id_limit());
    }
    Ok(ids)
}

/// The 200 response: one SaveResult per record; `with_failed_id` keeps the id on failures
/// (updates and deletes name their record; a failed create has none).
fn render(outcomes: Vec<Outcome>, with_failed_id: bool) -> Response {
    let results: Vec<Value> = outcomes
        .into_iter()
        .map(|o| match o.error {
            None => json!({ "id": o.id, "success": true, "errors": [] }),
            Some(e) => {
                let mut v = json!({ "success": false, "errors": [save_error(&e)] });
                if with_failed_id {
                    if let Some(id) = o.id {
                        v["id"] = json!(id);
                    }
                }
                v
            }
        })
        .collect();
    json_response(StatusCode::OK, &results)
}

/// A record error as collections render it: `statusCode`, not `errorCode`.
pub fn save_error(e: &ApiError) -> Value {
    json!({
        "statusCode": e.code,
        "message": e.message,
        "fields": e.fields.clone().unwrap_or_default(),
    })
}
