//! `provision-batch` through sObject Collections: the writes of many changes in a few requests.
//!
//! Each change is planned exactly as a single one ([`provision::plan`]): new users go into
//! `POST /composite/sobjects`, every PATCH (updates, reactivations, deactivations with or
//! without a rename) into `PATCH /composite/sobjects`, both with `allOrNone: false` and at most
//! `sf-batch-size` records each. Changes that need no request (nothing changed, a group, a
//! malformed id) are answered without one.
//!
//! Each record's result goes through the same error mapping as a single request
//! ([`errors::from_response`], with the status a single request would have had), so a batch
//! answers what the changes one at a time would have. A request that fails as a whole (401
//! after one re-authentication, 5xx, a timeout, REQUEST_LIMIT_EXCEEDED) fails every change it
//! carried with that error; a 5xx or timeout on a write leaves each outcome unknown. A
//! deactivation whose rename is refused as invalid data is deactivated again without the
//! rename by a single request, as on the single path.

use serde_json::{json, Map, Value};

use crate::api::Api;
use crate::errors::{self, Action};
use crate::provision::{self, Plan, RenameFallback, Write};
use crate::salesforce::is_salesforce_id;
use crate::settings::Settings;
use crate::view::ChangeView;
use provisioner_sdk::{Level, Method, ProvisionError, ProvisionOutcome, Response};

/// The first API version with sObject Collections.
pub const MIN_API_VERSION: u32 = 42;

/// Whether batches go through sObject Collections: a batch size above one and an API version
/// that has them.
pub fn applies(settings: &Settings) -> bool {
    let major = settings
        .api_version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .unwrap_or(0);
    settings.batch_size > 1 && major >= MIN_API_VERSION
}

/// The result of one change, filled in as the requests come back.
type Slot = Option<Result<ProvisionOutcome, ProvisionError>>;

/// A planned write waiting for its collection request.
struct Pending {
    /// Position of the change in the batch.
    index: usize,
    /// The record id (PATCH) or none (create).
    id: Option<String>,
    /// The record as sent, `attributes` included.
    record: Map<String, Value>,
    /// The plan it came from.
    plan: Plan,
}

/// Applies `changes` (see the module documentation); one result per change, in order.
pub fn provision_batch(
    api: &Api,
    settings: &Settings,
    changes: &[ChangeView],
) -> Vec<Result<ProvisionOutcome, ProvisionError>> {
    let mut slots: Vec<Slot> = vec![None; changes.len()];
    let mut creates = Vec::new();
    let mut patches = Vec::new();
    for (index, change) in changes.iter().enumerate() {
        let plan = match provision::plan(settings, change) {
            Ok(plan) => plan,
            Err(e) => {
                slots[index] = Some(Err(e));
                continue;
            }
        };
        let mut record = Map::new();
        record.insert("attributes".into(), json!({ "type": "User" }));
        match &plan.write {
            None => slots[index] = Some(Ok(plan.outcome)),
            Some(Write::Create(body)) => {
                record.extend(body.clone());
                creates.push(Pending {
                    index,
                    id: None,
                    record,
                    plan,
                });
            }
            Some(Write::Patch { id, body }) => {
                record.insert("id".into(), Value::String(id.clone()));
                record.extend(body.clone());
                let id = Some(id.clone());
                patches.push(Pending {
                    index,
                    id,
                    record,
                    plan,
                });
            }
        }
    }
    let size = settings.batch_size.max(1) as usize;
    for chunk in chunks(creates, size) {
        send(api, Method::Post, Action::Create, chunk, &mut slots);
    }
    for chunk in chunks(patches, size) {
        send(api, Method::Patch, Action::Update, chunk, &mut slots);
    }
    slots
        .into_iter()
        .map(|slot| {
            slot.unwrap_or_else(|| {
                Err(errors::permanent(
                    "the batch left this change unanswered; this is a connector defect".into(),
                ))
            })
        })
        .collect()
}

/// Splits writes into requests of at most `size` records, never naming one record twice in a
/// request (Salesforce refuses duplicate ids in one list); order is kept.
fn chunks(pending: Vec<Pending>, size: usize) -> Vec<Vec<Pending>> {
    let mut out: Vec<Vec<Pending>> = Vec::new();
    for p in pending {
        let fits = out.last().is_some_and(|last| {
            last.len() < size && !(p.id.is_some() && last.iter().any(|q| q.id == p.id))
        });
        if fits {
            out.last_mut().expect("checked above").push(p);
        } else {
            out.push(vec![p]);
        }
    }
    out
}

/// Sends one collection request and fills the slots of the changes it carried.
fn send(api: &Api, method: Method, action: Action, chunk: Vec<Pending>, slots: &mut [Slot]) {
    let records: Vec<Value> = chunk
        .iter()
        .map(|p| Value::Object(p.record.clone()))
        .collect();
    let body = json!({ "allOrNone": false, "records": records });
    let request = api.request(method, api.collections_url(), Some(&body));
    let response = match api.execute(action, &request) {
        Ok(response) => response,
        Err(e) => {
            for p in &chunk {
                slots[p.index] = Some(Err(e.clone()));
            }
            return;
        }
    };
    let results = serde_json::from_slice::<Vec<Value>>(&response.body)
        .ok()
        .filter(|r| r.len() == chunk.len());
    let Some(results) = results else {
        let what = format!("one result per record ({} records)", chunk.len());
        for p in &chunk {
            slots[p.index] = Some(Err(errors::unexpected_success(action, &response, &what)));
        }
        return;
    };
    for (p, result) in chunk.into_iter().zip(results) {
        let index = p.index;
        slots[index] = Some(record_result(api, action, &response, p, &result));
    }
}

/// One record's result as the single request would have answered it.
fn record_result(
    api: &Api,
    action: Action,
    response: &Response,
    pending: Pending,
    result: &Value,
) -> Result<ProvisionOutcome, ProvisionError> {
    let Pending { id, plan, .. } = pending;
    if result.get("success").and_then(Value::as_bool) == Some(true) {
        return match action {
            Action::Create => result
                .get("id")
                .and_then(Value::as_str)
                .filter(|id| is_salesforce_id(id))
                .map(|new_id| ProvisionOutcome {
                    remote_id: Some(new_id.to_string()),
                    ..plan.outcome.clone()
                })
                .ok_or_else(|| errors::unexpected_success(action, response, "the new record's id")),
            _ => Ok(plan.outcome),
        };
    }
    let err = record_error(action, result);
    let (case, detail) = errors::case_of(&err);
    api.log(
        Level::Warn,
        &format!(
            "salesforce refused a record of a collection request: {case} {}",
            detail.target_code.as_deref().unwrap_or_default()
        ),
    );
    match (err, plan.rename_fallback, id) {
        (ProvisionError::InvalidData(d), Some(fallback), Some(id)) => {
            deactivate_without_rename(api, &id, &fallback, &d.message)
        }
        (err, _, _) => Err(err),
    }
}

/// The single path's answer to a refused rename: deactivate alone, keep the mapping.
fn deactivate_without_rename(
    api: &Api,
    id: &str,
    fallback: &RenameFallback,
    why: &str,
) -> Result<ProvisionOutcome, ProvisionError> {
    let outcome = provision::rename_refused(api, id, fallback, why);
    provision::patch(api, id, fallback.body.clone())?;
    Ok(outcome)
}

/// Maps a record's `errors` through the single-request mapping: the record is answered as
/// the single request's error array with the status that request would have had (404 for an
/// update of a record that does not exist, else 400).
pub fn record_error(action: Action, result: &Value) -> ProvisionError {
    let errors = result
        .get("errors")
        .and_then(Value::as_array)
        .filter(|e| !e.is_empty())
        .cloned()
        .unwrap_or_else(|| {
            vec![json!({
                "statusCode": "UNKNOWN_EXCEPTION",
                "message": format!("Salesforce reported a failure without errors: {result}"),
            })]
        });
    let first_code = errors[0].get("statusCode").and_then(Value::as_str);
    let no_fields = errors[0]
        .get("fields")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    let missing_record =
        action == Action::Update && first_code == Some("INVALID_CROSS_REFERENCE_KEY") && no_fields;
    let status = if missing_record { 404 } else { 400 };
    let single = Response {
        status,
        headers: vec![],
        body: Value::Array(errors).to_string().into_bytes(),
    };
    errors::from_response(action, &single)
}
