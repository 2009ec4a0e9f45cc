//! Groups: create (POST with the members that have remote ids), update (PATCH of the members
//! added and removed by remote id, or of the whole member list, and of `displayName`; or PUT)
//! and delete (DELETE).

use std::collections::BTreeSet;

use provisioner_sdk::prelude::*;
use provisioner_sdk::serde_json::{json, Value};

use crate::api::{self, no_remote_id, remove_op, replace_op};
use crate::errors;
use crate::path::escape;
use crate::settings::{Settings, UpdateMethod};

/// The core Group schema.
pub const CORE_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// POST /Groups; a 409 is a conflict with the id of the group of the same `displayName`.
pub fn create(cx: &Context, group: &Group) -> Result<ProvisionOutcome, ProvisionError> {
    let settings = Settings::read(&cx.config())?;
    let body = resource(group, None);
    let outcome = api::create(
        cx,
        &settings,
        EntityKind::Group,
        &body,
        ("displayName", &group.name),
    )?;
    Ok(with_unprovisioned_warning(outcome, group))
}

/// PATCH /Groups/{id}, one request: with the members this change added and removed when the
/// host names them (and `displayName` on a rename), else replacing `displayName` and the whole
/// member list (RFC 7644 §3.5.2.3). PUT of the whole group by `update-method`.
pub fn update(cx: &Context, group: &Group) -> Result<ProvisionOutcome, ProvisionError> {
    let id = group
        .remote_id
        .as_deref()
        .ok_or_else(|| no_remote_id("group", &group.name))?;
    let settings = Settings::read(&cx.config())?;
    let outcome = if settings.update_method == UpdateMethod::Put {
        let body = resource(group, Some(id));
        api::replace(cx, &settings, EntityKind::Group, id, &body)?
    } else {
        let operations = if group.added_members.is_empty() && group.removed_members.is_empty() {
            whole(group)
        } else {
            delta(group)
        };
        if !operations.is_empty() {
            let response = api::patch(cx, &settings, EntityKind::Group, id, operations)?;
            errors::ok(Method::Patch, response)?;
        }
        ProvisionOutcome::created(Some(id.to_string()))
    };
    Ok(with_unprovisioned_warning(outcome, group))
}

/// DELETE /Groups/{id}; a group already gone is success.
pub fn delete(cx: &Context, group: &Group) -> Result<ProvisionOutcome, ProvisionError> {
    let Some(id) = group.remote_id.as_deref() else {
        return Ok(ProvisionOutcome::gone());
    };
    api::delete(cx, &Settings::read(&cx.config())?, EntityKind::Group, id)
}

/// The whole SCIM Group, members by remote id; with `id` for a PUT.
pub fn resource(group: &Group, id: Option<&str>) -> Value {
    let members: Vec<Value> = remote_ids(&group.members)
        .into_iter()
        .map(|value| json!({ "value": value }))
        .collect();
    let mut body = json!({
        "schemas": [CORE_GROUP],
        "displayName": group.name,
        "externalId": group.local_id,
        "members": members,
    });
    if let Some(id) = id {
        body["id"] = json!(id);
    }
    body
}

/// Operations from the members the host says were added and removed, and a rename.
pub fn delta(group: &Group) -> Vec<Value> {
    let mut operations = Vec::new();
    if group.previous_name.is_some() {
        operations.push(replace_op("displayName", json!(group.name)));
    }
    operations.extend(add_members(remote_ids(&group.added_members)));
    operations.extend(remove_members(remote_ids(&group.removed_members)));
    operations
}

/// Operations that set the whole group: its `displayName` and its member list (`remove` of
/// every member when it has none, since some services refuse an empty `replace`).
pub fn whole(group: &Group) -> Vec<Value> {
    let members: Vec<Value> = remote_ids(&group.members)
        .into_iter()
        .map(|id| json!({ "value": id }))
        .collect();
    let members = if members.is_empty() {
        remove_op("members")
    } else {
        replace_op("members", Value::Array(members))
    };
    vec![replace_op("displayName", json!(group.name)), members]
}

/// One `add` of `ids` to `members`, if any.
fn add_members(ids: BTreeSet<&str>) -> Option<Value> {
    let values: Vec<Value> = ids.into_iter().map(|id| json!({ "value": id })).collect();
    (!values.is_empty()).then(|| json!({ "op": "add", "path": "members", "value": values }))
}

/// One `remove` of `members[value eq "id"]` per id.
fn remove_members(ids: BTreeSet<&str>) -> Vec<Value> {
    ids.into_iter()
        .map(|id| remove_op(&format!("members[value eq \"{}\"]", escape(id))))
        .collect()
}

/// The remote ids of `members` that have one.
fn remote_ids(members: &[Member]) -> BTreeSet<&str> {
    members
        .iter()
        .filter_map(|m| m.remote_id.as_deref())
        .collect()
}

/// `outcome`, with a warning when some members have no remote id yet and were left out.
fn with_unprovisioned_warning(outcome: ProvisionOutcome, group: &Group) -> ProvisionOutcome {
    let missing = group
        .members
        .iter()
        .filter(|m| m.remote_id.is_none())
        .count();
    if missing == 0 {
        return outcome;
    }
    outcome.warning(format!(
        "{missing} member(s) of `{}` are not provisioned in this target yet and were left out",
        group.name
    ))
}
