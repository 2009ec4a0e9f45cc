//! The resource requests users and groups share: create, read, PATCH, PUT and DELETE on
//! `{base}/Users` and `{base}/Groups`, with statuses mapped to outcomes and errors.

use provisioner_sdk::prelude::*;
use provisioner_sdk::serde_json::{json, Value};

use crate::errors;
use crate::lookup;
use crate::settings::{with_body, Settings};

/// The PATCH request message schema (RFC 7644 §3.5.2).
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The endpoint of `kind`: `Users` or `Groups`.
pub fn endpoint(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::User => "Users",
        EntityKind::Group => "Groups",
    }
}

/// POSTs `body` to the `kind` endpoint and returns the new resource's `id`. A 409 is a
/// conflict carrying the existing resource's id, found by one `unique_attribute eq value`
/// lookup (its own failure leaves the id unknown).
pub fn create(
    cx: &Context,
    settings: &Settings,
    kind: EntityKind,
    body: &Value,
    unique: (&str, &str),
) -> Result<ProvisionOutcome, ProvisionError> {
    let request = with_body(settings.request(Method::Post, &[endpoint(kind)]), body);
    let response = cx.send(request)?;
    if response.status == 409 {
        let mut error = errors::from_response(Method::Post, &response);
        if let ProvisionError::Conflict(conflict) = &mut error {
            if conflict.existing_remote_id.is_none() {
                let (attribute, value) = unique;
                conflict.existing_remote_id = lookup::find(cx, settings, kind, attribute, value)
                    .ok()
                    .flatten()
                    .map(|found| found.remote_id);
            }
        }
        return Err(error);
    }
    let created = errors::ok(Method::Post, response)?.json()?;
    Ok(match id_of(&created) {
        Some(id) => ProvisionOutcome::created(Some(id)),
        None => ProvisionOutcome::created(None).warning(
            "the service answered the create without an `id`; the resource is not correlated",
        ),
    })
}

/// GETs one resource; a 404 is `not-found`.
pub fn read(
    cx: &Context,
    settings: &Settings,
    kind: EntityKind,
    id: &str,
) -> Result<Value, ProvisionError> {
    let response = cx.send(settings.request(Method::Get, &[endpoint(kind), id]))?;
    errors::ok(Method::Get, response)?.json()
}

/// PATCHes one resource with `operations`; the raw response, so callers decide what a 404 means.
pub fn patch(
    cx: &Context,
    settings: &Settings,
    kind: EntityKind,
    id: &str,
    operations: Vec<Value>,
) -> Result<Response, ProvisionError> {
    let body = json!({ "schemas": [PATCH_OP], "Operations": operations });
    cx.send(with_body(
        settings.request(Method::Patch, &[endpoint(kind), id]),
        &body,
    ))
}

/// PUTs the whole resource `body`; success keeps `id`.
pub fn replace(
    cx: &Context,
    settings: &Settings,
    kind: EntityKind,
    id: &str,
    body: &Value,
) -> Result<ProvisionOutcome, ProvisionError> {
    let request = with_body(settings.request(Method::Put, &[endpoint(kind), id]), body);
    errors::ok(Method::Put, cx.send(request)?)?;
    Ok(ProvisionOutcome::created(Some(id.to_string())))
}

/// DELETEs one resource; a 404 means it is already gone, which is success too.
pub fn delete(
    cx: &Context,
    settings: &Settings,
    kind: EntityKind,
    id: &str,
) -> Result<ProvisionOutcome, ProvisionError> {
    let response = cx.send(settings.request(Method::Delete, &[endpoint(kind), id]))?;
    if response.status != 404 {
        errors::ok(Method::Delete, response)?;
    }
    Ok(ProvisionOutcome::gone())
}

/// A `replace` operation.
pub fn replace_op(path: &str, value: Value) -> Value {
    json!({ "op": "replace", "path": path, "value": value })
}

/// A `remove` operation.
pub fn remove_op(path: &str) -> Value {
    json!({ "op": "remove", "path": path })
}

/// The `id` of a resource, as text.
pub fn id_of(resource: &Value) -> Option<String> {
    match &resource["id"] {
        Value::String(id) if !id.is_empty() => Some(id.clone()),
        Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

/// The error for an entity that has no remote id to update.
pub fn no_remote_id(what: &str, name: &str) -> ProvisionError {
    error::not_found(format!(
        "{what} `{name}` has no remote id in this target; it must be created there first"
    ))
}
