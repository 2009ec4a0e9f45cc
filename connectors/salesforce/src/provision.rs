//! Applies one local change to Salesforce.
//!
//! - **Create**: POST the full field set; 201 gives the remote id. With a remote id already
//!   known (the host replays a create, or re-creates a user whose deactivated record it kept),
//!   the record is PATCHed with the full field set and `IsActive: true` instead.
//! - **Update**: with a remote id, PATCH only the fields whose claims changed; nothing to send
//!   means success without a request. Without a remote id it behaves as a create: the host is
//!   expected to have run `lookup` first, so a missing id means there is no remote user.
//! - **Delete**: Salesforce users cannot be deleted, so the record is deactivated (and, by
//!   default, renamed to free its Username). A DELETE is never sent. Without a remote id the
//!   answer is `not-found` with no request: the host looks the user up first.
//! - **Groups** are `unsupported`.

use serde_json::{Map, Value};

use crate::api::{is_salesforce_id, Api};
use crate::errors::{self, Action};
use crate::fields::{self, Purpose};
use crate::host::Host;
use crate::mapping;
use crate::provisioning::connector::http::Method;
use crate::provisioning::connector::log::Level;
use crate::provisioning::connector::types::{
    ConfigProblem, ConnectorConfig, Entity, EntityKind, Operation, ProvisionError, ProvisionOutcome,
};
use crate::settings::Settings;
use crate::username;

/// Claim URIs that carry the local user name; a change to one of them renames the user.
pub const USERNAME_CLAIMS: [&str; 3] = [
    "http://wso2.org/claims/username",
    "org:wso2:carbon:identity:provisioning:claim:username",
    "urn:ietf:params:scim:schemas:core:2.0:User:userName",
];

/// Applies `entity`'s change (see the module documentation).
pub fn provision(
    host: &dyn Host,
    config: &ConnectorConfig,
    entity: &Entity,
) -> Result<ProvisionOutcome, ProvisionError> {
    if entity.kind == EntityKind::Group {
        return Err(errors::unsupported(
            "the Salesforce connector provisions users only; groups are not provisioned".into(),
        ));
    }
    let settings = Settings::parse(config).map_err(config_error)?;
    let api = Api::new(host, &settings);
    let remote_id = entity.remote_id.as_deref();
    if let Some(id) = remote_id.filter(|id| !is_salesforce_id(id)) {
        return Err(errors::not_found(format!(
            "`{id}` is not a Salesforce record id (15 or 18 letters and digits); look the user up again"
        )));
    }
    match (entity.operation, remote_id) {
        (Operation::Create, None) | (Operation::Update, None) => create(&api, &settings, entity),
        (Operation::Create, Some(id)) => reactivate(&api, &settings, entity, id),
        (Operation::Update, Some(id)) => update(&api, &settings, entity, id),
        (Operation::Delete, Some(id)) => delete(&api, &settings, entity, id),
        (Operation::Delete, None) => Err(errors::not_found(
            "no remote id for this user, so there is nothing to deactivate in Salesforce".into(),
        )),
    }
}

/// POSTs a new user.
fn create(
    api: &Api,
    settings: &Settings,
    entity: &Entity,
) -> Result<ProvisionOutcome, ProvisionError> {
    let username = username::build(settings, &entity.name);
    let set = mapping::for_create(&settings.mappings, &entity.claims);
    let (body, warnings) = fields::finish(
        set,
        Some(&username),
        settings.alias_overflow,
        Purpose::Create,
    )?;
    let request = api.request(Method::Post, api.user_url(None), Some(&Value::Object(body)));
    let response = api.execute(Action::Create, &request)?;
    let id = serde_json::from_slice::<Value>(&response.body)
        .ok()
        .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_string))
        .filter(|id| is_salesforce_id(id))
        .ok_or_else(|| {
            errors::unexpected_success(Action::Create, &response, "the new record's id")
        })?;
    Ok(ProvisionOutcome {
        remote_id: Some(id),
        warnings,
    })
}

/// PATCHes a known record with the full field set and `IsActive: true`.
fn reactivate(
    api: &Api,
    settings: &Settings,
    entity: &Entity,
    id: &str,
) -> Result<ProvisionOutcome, ProvisionError> {
    let username = username::build(settings, &entity.name);
    let set = mapping::for_create(&settings.mappings, &entity.claims);
    let (mut body, warnings) = fields::finish(
        set,
        Some(&username),
        settings.alias_overflow,
        Purpose::Create,
    )?;
    body.insert("IsActive".into(), Value::Bool(true));
    patch(api, id, body)?;
    Ok(ProvisionOutcome {
        remote_id: Some(id.to_string()),
        warnings,
    })
}

/// PATCHes the changed fields of a known record.
fn update(
    api: &Api,
    settings: &Settings,
    entity: &Entity,
    id: &str,
) -> Result<ProvisionOutcome, ProvisionError> {
    let set = mapping::for_update(&settings.mappings, &entity.claims, &entity.changed_claims);
    let renamed = entity
        .changed_claims
        .iter()
        .any(|c| USERNAME_CLAIMS.contains(&c.as_str()))
        || entity
            .previous_name
            .as_deref()
            .is_some_and(|previous| previous != entity.name);
    let username = renamed.then(|| username::build(settings, &entity.name));
    let (body, warnings) = fields::finish(
        set,
        username.as_deref(),
        settings.alias_overflow,
        Purpose::Update,
    )?;
    if !body.is_empty() {
        patch(api, id, body)?;
    }
    Ok(ProvisionOutcome {
        remote_id: Some(id.to_string()),
        warnings,
    })
}

/// Deactivates a record, renaming it to free the Username when configured.
///
/// On success the mapping can go (`remote-id` none). If Salesforce refuses the rename as
/// invalid data, the record is deactivated alone and `remote-id` is returned, so the host keeps
/// the mapping of a record that still holds the Username.
fn delete(
    api: &Api,
    settings: &Settings,
    entity: &Entity,
    id: &str,
) -> Result<ProvisionOutcome, ProvisionError> {
    let mut body = Map::new();
    body.insert("IsActive".into(), Value::Bool(false));
    if !settings.rename_on_delete {
        patch(api, id, body)?;
        return Ok(ProvisionOutcome {
            remote_id: None,
            warnings: vec![],
        });
    }
    let original = username::build(settings, &entity.name);
    let renamed = username::deactivated(id, &original);
    let mut with_rename = body.clone();
    with_rename.insert("Username".into(), Value::String(renamed.clone()));
    match patch(api, id, with_rename) {
        Ok(()) => Ok(ProvisionOutcome {
            remote_id: None,
            warnings: vec![],
        }),
        Err(ProvisionError::InvalidData(d)) => {
            let warning = format!(
                "the user was deactivated but not renamed to `{renamed}` ({}); it still holds its Username, so the mapping is kept",
                d.message
            );
            api.log(Level::Warn, &warning);
            patch(api, id, body)?;
            Ok(ProvisionOutcome {
                remote_id: Some(id.to_string()),
                warnings: vec![warning],
            })
        }
        Err(other) => Err(other),
    }
}

fn patch(api: &Api, id: &str, body: Map<String, Value>) -> Result<(), ProvisionError> {
    let request = api.request(
        Method::Patch,
        api.user_url(Some(id)),
        Some(&Value::Object(body)),
    );
    api.execute(Action::Update, &request).map(|_| ())
}

/// A configuration that cannot be used is a permanent failure naming every problem.
fn config_error(problems: Vec<ConfigProblem>) -> ProvisionError {
    let text = problems
        .iter()
        .map(|p| match &p.key {
            Some(k) => format!("{k}: {}", p.message),
            None => p.message.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ");
    errors::permanent(format!(
        "the Salesforce target's configuration is invalid: {text}"
    ))
}
