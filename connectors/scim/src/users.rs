//! Users: create (POST), update (PATCH of what changed, or PUT), delete (deactivate or DELETE).

use provisioner_sdk::claims::{ACCOUNT_DISABLED, USERNAME_CLAIMS};
use provisioner_sdk::prelude::*;
use provisioner_sdk::serde_json::{json, Map, Value};

use crate::api::{self, no_remote_id, remove_op, replace_op};
use crate::errors;
use crate::mapping::{self, Mapping};
use crate::path::CORE_USER;
use crate::settings::{DeleteMode, Settings, UpdateMethod};

/// POST /Users; a 409 is a conflict with the id of the user of the same `userName`.
pub fn create(cx: &Context, user: &User) -> Result<ProvisionOutcome, ProvisionError> {
    let config = cx.config();
    let (settings, mappings) = (Settings::read(&config)?, mapping::read(&config)?);
    let body = resource(user, &mappings, None);
    api::create(
        cx,
        &settings,
        EntityKind::User,
        &body,
        ("userName", &user.name),
    )
}

/// PATCH /Users/{id} with operations for the changed claims, or PUT of the whole user.
pub fn update(cx: &Context, user: &User) -> Result<ProvisionOutcome, ProvisionError> {
    let id = user
        .remote_id
        .as_deref()
        .ok_or_else(|| no_remote_id("user", &user.name))?;
    let config = cx.config();
    let (settings, mappings) = (Settings::read(&config)?, mapping::read(&config)?);
    if settings.update_method == UpdateMethod::Put {
        let body = resource(user, &mappings, Some(id));
        return api::replace(cx, &settings, EntityKind::User, id, &body);
    }
    let operations = patch_operations(user, &mappings);
    if !operations.is_empty() {
        let response = api::patch(cx, &settings, EntityKind::User, id, operations)?;
        errors::ok(Method::Patch, response)?;
    }
    Ok(ProvisionOutcome::created(Some(id.to_string())))
}

/// Deactivates (PATCH `active` false, keeping the mapping) or DELETEs, by `delete-mode`. A user
/// already gone (404, or never created) is success without a remote id.
pub fn delete(cx: &Context, user: &User) -> Result<ProvisionOutcome, ProvisionError> {
    let Some(id) = user.remote_id.as_deref() else {
        return Ok(ProvisionOutcome::gone());
    };
    let settings = Settings::read(&cx.config())?;
    if settings.delete_mode == DeleteMode::Delete {
        return api::delete(cx, &settings, EntityKind::User, id);
    }
    let deactivate = vec![replace_op("active", Value::Bool(false))];
    let response = api::patch(cx, &settings, EntityKind::User, id, deactivate)?;
    if response.status == 404 {
        return Ok(ProvisionOutcome::gone());
    }
    errors::ok(Method::Patch, response)?;
    Ok(ProvisionOutcome::created(Some(id.to_string())))
}

/// The whole SCIM User: `userName`, `externalId` (the local id), the mapped attributes and
/// `active` from `accountDisabled`; with `id` for a PUT.
pub fn resource(user: &User, mappings: &[Mapping], id: Option<&str>) -> Value {
    let mut schemas = vec![CORE_USER];
    schemas.extend(mapping::extensions(mappings, user));
    let mut out = Map::new();
    out.insert("schemas".into(), json!(schemas));
    if let Some(id) = id {
        out.insert("id".into(), json!(id));
    }
    out.insert("userName".into(), json!(user.name));
    out.insert("externalId".into(), json!(user.local_id));
    for m in mappings {
        if let Some(values) = m.values(user) {
            mapping::set(&mut out, &m.path, &values);
        }
    }
    if let Some(active) = user.active() {
        out.insert("active".into(), json!(active));
    }
    Value::Object(out)
}

/// RFC 7644 §3.5.2 operations for what this update changed: `replace` for changed mapped
/// claims (their default when cleared, if they have one), `remove` for cleared ones, `userName`
/// on a rename and `active` when `accountDisabled` changed. An update that names no changed
/// claim brings every mapped attribute in line.
pub fn patch_operations(user: &User, mappings: &[Mapping]) -> Vec<Value> {
    let everything = user.changed_claims.is_empty();
    let renamed = user.previous_name.is_some() || USERNAME_CLAIMS.iter().any(|c| user.changed(c));
    let mut operations = Vec::new();
    if everything || renamed {
        operations.push(replace_op("userName", json!(user.name)));
    }
    for m in mappings.iter().filter(|m| m.changed(user, everything)) {
        match m.values(user) {
            Some(values) => operations.push(replace_op(
                &m.path.patch_path(false),
                mapping::patch_value(&m.path, &values),
            )),
            None if !everything => operations.push(remove_op(&m.path.patch_path(true))),
            None => {}
        }
    }
    if everything || user.changed(ACCOUNT_DISABLED) {
        if let Some(active) = user.active() {
            operations.push(replace_op("active", json!(active)));
        }
    }
    operations
}
