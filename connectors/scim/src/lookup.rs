//! Finding and listing remote resources: `lookup` by a `filter=attribute eq "value"` query
//! (RFC 7644 §3.4.2.2) and `list-entities` by `startIndex`/`count` paging (§3.4.2.4).

use provisioner_sdk::prelude::*;
use provisioner_sdk::serde_json::Value;

use crate::api::{endpoint, id_of};
use crate::errors;
use crate::path::escape;
use crate::settings::Settings;

/// The largest page asked for; a larger `page-size` is lowered to it.
pub const MAX_PAGE: u32 = 1000;

/// Looks up a user by `userName` and a group by `displayName` (the entity's name), or by the
/// attribute the host names.
pub fn lookup(cx: &Context, key: &LookupKey) -> Result<Option<RemoteObject>, ProvisionError> {
    let settings = Settings::read(&cx.config())?;
    let (kind, attribute, value) = match key {
        LookupKey::Entity(Entity::User(user)) => (EntityKind::User, "userName", &user.name),
        LookupKey::Entity(Entity::Group(group)) => (EntityKind::Group, "displayName", &group.name),
        LookupKey::Attribute(m) => {
            let valid = !m.attribute.is_empty()
                && m.attribute
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-$.:".contains(c));
            if !valid {
                return Err(error::invalid_data(format!(
                    "`{}` is not a SCIM attribute path; use e.g. `userName` or `externalId`",
                    m.attribute
                )));
            }
            (m.kind, m.attribute.as_str(), &m.value)
        }
    };
    find(cx, &settings, kind, attribute, value)
}

/// The first `kind` resource whose `attribute` equals `value`; none when there is none.
pub fn find(
    cx: &Context,
    settings: &Settings,
    kind: EntityKind,
    attribute: &str,
    value: &str,
) -> Result<Option<RemoteObject>, ProvisionError> {
    let filter = format!("{attribute} eq \"{}\"", escape(value));
    let request = settings
        .request(Method::Get, &[endpoint(kind)])
        .query("filter", &filter);
    let response = cx.send(request)?;
    if response.status == 404 {
        return Ok(None);
    }
    let body = errors::ok(Method::Get, response)?.json()?;
    Ok(resources(&body).iter().find_map(remote_object))
}

/// One page of `kind` resources; the cursor is the next `startIndex`.
pub fn list(cx: &Context, request: &ListRequest) -> Result<RemotePage, ProvisionError> {
    let settings = Settings::read(&cx.config())?;
    let start: u64 = match &request.cursor {
        None => 1,
        Some(cursor) => cursor.parse().ok().filter(|s| *s >= 1).ok_or_else(|| {
            error::permanent(format!(
                "cursor `{cursor}` is not a SCIM startIndex; start again without a cursor"
            ))
        })?,
    };
    let count = request.page_size.clamp(1, MAX_PAGE);
    let http = settings
        .request(Method::Get, &[endpoint(request.kind)])
        .query("startIndex", &start.to_string())
        .query("count", &count.to_string());
    let body = errors::ok(Method::Get, cx.send(http)?)?.json()?;
    let found = resources(&body);
    let objects: Vec<RemoteObject> = found.iter().filter_map(remote_object).collect();
    let next = start + found.len() as u64;
    let more = match body["totalResults"].as_u64() {
        Some(total) => next <= total,
        None => found.len() as u64 >= u64::from(count),
    };
    Ok(RemotePage {
        objects,
        next_cursor: (!found.is_empty() && more).then(|| next.to_string()),
    })
}

/// The `Resources` of a list response (empty when absent).
fn resources(body: &Value) -> &[Value] {
    body["Resources"].as_array().map_or(&[], Vec::as_slice)
}

/// A resource as the host sees it: id, `active`, and its names and external id.
pub fn remote_object(resource: &Value) -> Option<RemoteObject> {
    let active = match &resource["active"] {
        Value::Bool(active) => Some(*active),
        Value::String(text) => text.trim().to_ascii_lowercase().parse().ok(),
        _ => None,
    };
    let attributes = ["userName", "displayName", "externalId"]
        .iter()
        .filter_map(|key| Some((key.to_string(), resource[*key].as_str()?.to_string())))
        .collect();
    Some(RemoteObject {
        remote_id: id_of(resource)?,
        active,
        attributes,
    })
}
