//! Applies local changes to Salesforce.
//!
//! - **Create**: POST the full field set; 201 gives the remote id. With a remote id already
//!   known (the host replays a create, or re-creates a user whose deactivated record it kept),
//!   the record is PATCHed with the full field set and `IsActive` instead.
//! - **Update**: with a remote id, PATCH only the fields whose claims changed; nothing to send
//!   means success without a request. Without a remote id it behaves as a create: the host is
//!   expected to have run `lookup` first, so a missing id means there is no remote user.
//! - **Deactivation**: the host's well-known [`ACCOUNT_DISABLED_CLAIM`] sets `IsActive` (its
//!   opposite) whenever it is sent on a create or among an update's changed claims: a user
//!   disabled locally is PATCHed `IsActive: false` (no rename: it keeps its Username and the
//!   host keeps the mapping) and `IsActive: true` when enabled again; a user created disabled
//!   is POSTed with `IsActive: false`. It wins over a claim mapping to `IsActive`. With
//!   `sf-rename-on-deactivate` a disabled user's Username is also renamed as on delete (and
//!   restored when enabled); a user POSTed disabled keeps its name, as its id is not known yet.
//! - **Delete**: Salesforce users cannot be deleted, so the record is deactivated (and, by
//!   default, renamed to free its Username). A DELETE is never sent. Without a remote id the
//!   answer is `not-found` with no request: the host looks the user up first. A record that
//!   was not renamed still holds its Username, so its id is returned and the host keeps the
//!   mapping: a user back in scope reactivates that record.
//! - **Groups** are `unsupported`.
//! - **Batches** send the same writes through sObject Collections ([`crate::batch`]), with the
//!   same outcome per change as one at a time.

use serde_json::{Map, Value};

use crate::api::Api;
use crate::errors::{self, Action};
use crate::fields::{self, Purpose};
use crate::mapping;
use crate::salesforce::is_salesforce_id;
use crate::settings::Settings;
use crate::username;
use crate::view::{ChangeView, EntityView};
use provisioner_sdk::Host;
use provisioner_sdk::{
    ConnectorConfig, EntityKind, Level, Method, Operation, ProvisionError, ProvisionOutcome,
};

/// Claim URIs that carry the local user name; a change to one of them renames the user.
pub const USERNAME_CLAIMS: [&str; 3] = [
    "http://wso2.org/claims/username",
    "org:wso2:carbon:identity:provisioning:claim:username",
    "urn:ietf:params:scim:schemas:core:2.0:User:userName",
];

/// The host's well-known claim that says a user is disabled locally (`"true"`/`"false"`; see
/// the contract documentation): it decides `IsActive`.
pub const ACCOUNT_DISABLED_CLAIM: &str = "http://wso2.org/claims/accountDisabled";

/// Whether the user is active, when the change says: from [`ACCOUNT_DISABLED_CLAIM`] (any
/// value but `true`, in any case, is enabled); none when the claim is not sent.
fn active(user: &EntityView) -> Option<bool> {
    user.claims
        .iter()
        .find(|claim| claim.uri == ACCOUNT_DISABLED_CLAIM)
        .map(|claim| {
            !claim
                .values
                .first()
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        })
}

/// One write a change needs: a new record, or fields PATCHed onto a known one.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// POST of a new User with these fields.
    Create(Map<String, Value>),
    /// PATCH of the record `id` with these fields.
    Patch {
        /// The record's id.
        id: String,
        /// The fields to set.
        body: Map<String, Value>,
    },
}

/// A deactivation to send alone when Salesforce refuses the rename that came with it.
#[derive(Debug, Clone, PartialEq)]
pub struct RenameFallback {
    /// The body without the rename (`IsActive: false`).
    pub body: Map<String, Value>,
    /// The Username the rename asked for (named in the warning).
    pub renamed: String,
}

/// What one change sends to Salesforce and answers: computed without the network, so the
/// single and the batched paths send the same fields and give the same outcomes.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The write to send; none when there is nothing to change remotely.
    pub write: Option<Write>,
    /// The outcome when the write succeeds (a create's remote id comes from the answer).
    pub outcome: ProvisionOutcome,
    /// For a deactivate-and-rename: what to do when the rename is refused as invalid data.
    pub rename_fallback: Option<RenameFallback>,
}

impl Plan {
    fn new(write: Option<Write>, remote_id: Option<&str>, warnings: Vec<String>) -> Self {
        Plan {
            write,
            outcome: outcome(remote_id, warnings),
            rename_fallback: None,
        }
    }
}

/// Applies one change (see the module documentation).
pub fn provision(
    host: &dyn Host,
    config: &ConnectorConfig,
    change: &ChangeView,
) -> Result<ProvisionOutcome, ProvisionError> {
    if change.entity.kind == EntityKind::Group {
        return Err(errors::groups_unsupported("are not provisioned"));
    }
    let settings = Settings::parse(config).map_err(errors::invalid_config)?;
    let api = Api::new(host, &settings);
    let plan = plan(&settings, change)?;
    execute(&api, plan)
}

/// Applies `changes`, one result per change in order: through sObject Collections when the
/// configuration allows batches ([`crate::batch`]), else each as [`provision`] would.
pub fn provision_batch<'a>(
    host: &dyn Host,
    config: &ConnectorConfig,
    changes: impl IntoIterator<Item = ChangeView<'a>>,
) -> Vec<Result<ProvisionOutcome, ProvisionError>> {
    let changes: Vec<ChangeView> = changes.into_iter().collect();
    match Settings::parse(config) {
        Ok(settings) if crate::batch::applies(&settings) => {
            crate::batch::provision_batch(&Api::new(host, &settings), &settings, &changes)
        }
        _ => changes
            .iter()
            .map(|change| provision(host, config, change))
            .collect(),
    }
}

/// What `change` needs sent (see the module documentation); errors that need no request
/// (a group, a malformed remote id, a delete without one, unusable field values) come here.
pub fn plan(settings: &Settings, change: &ChangeView) -> Result<Plan, ProvisionError> {
    let user = &change.entity;
    if user.kind == EntityKind::Group {
        return Err(errors::groups_unsupported("are not provisioned"));
    }
    let remote_id = user.remote_id;
    if let Some(id) = remote_id.filter(|id| !is_salesforce_id(id)) {
        return Err(errors::not_found(format!(
            "`{id}` is not a Salesforce record id (15 or 18 letters and digits); look the user up again"
        )));
    }
    match (change.operation, remote_id) {
        (Operation::Create, None) | (Operation::Update, None) => create(settings, user),
        (Operation::Create, Some(id)) => reactivate(settings, user, id),
        (Operation::Update, Some(id)) => update(settings, user, id),
        (Operation::Delete, Some(id)) => Ok(delete(settings, user, id)),
        (Operation::Delete, None) => Err(errors::not_found(
            "no remote id for this user, so there is nothing to deactivate in Salesforce".into(),
        )),
    }
}

/// Sends a plan's write as one single-record request.
fn execute(api: &Api, plan: Plan) -> Result<ProvisionOutcome, ProvisionError> {
    match plan.write {
        None => Ok(plan.outcome),
        Some(Write::Create(body)) => {
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
                ..plan.outcome
            })
        }
        Some(Write::Patch { id, body }) => match (patch(api, &id, body), plan.rename_fallback) {
            (Ok(()), _) => Ok(plan.outcome),
            (Err(ProvisionError::InvalidData(d)), Some(fallback)) => {
                let outcome = rename_refused(api, &id, &fallback, &d.message);
                patch(api, &id, fallback.body)?;
                Ok(outcome)
            }
            (Err(other), _) => Err(other),
        },
    }
}

/// The outcome of a deactivation whose rename Salesforce refused (`why`): the record keeps
/// its Username, so the mapping stays; the warning is logged.
pub fn rename_refused(
    api: &Api,
    id: &str,
    fallback: &RenameFallback,
    why: &str,
) -> ProvisionOutcome {
    let warning = format!(
        "the user was deactivated but not renamed to `{}` ({why}); it still holds its Username, so the mapping is kept",
        fallback.renamed
    );
    api.log(Level::Warn, &warning);
    outcome(Some(id), vec![warning])
}

/// A new user: the full field set.
fn create(settings: &Settings, user: &EntityView) -> Result<Plan, ProvisionError> {
    let (mut body, warnings) = full_body(settings, user, None)?;
    if active(user) == Some(false) {
        // Salesforce creates users active unless told otherwise.
        body.insert("IsActive".into(), Value::Bool(false));
    }
    Ok(Plan::new(Some(Write::Create(body)), None, warnings))
}

/// A known record: the full field set and `IsActive` (true unless the user is disabled
/// locally).
fn reactivate(settings: &Settings, user: &EntityView, id: &str) -> Result<Plan, ProvisionError> {
    let (mut body, warnings) = full_body(settings, user, Some(id))?;
    body.insert("IsActive".into(), Value::Bool(active(user).unwrap_or(true)));
    let write = Write::Patch {
        id: id.to_string(),
        body,
    };
    Ok(Plan::new(Some(write), Some(id), warnings))
}

/// The changed fields of a known record; no write when nothing changed.
fn update(settings: &Settings, user: &EntityView, id: &str) -> Result<Plan, ProvisionError> {
    let set = mapping::for_update(&settings.mappings, user.claims, user.changed_claims);
    let renamed = user
        .changed_claims
        .iter()
        .any(|c| USERNAME_CLAIMS.contains(&c.as_str()))
        || user
            .previous_name
            .is_some_and(|previous| previous != user.name);
    let activity_changed = user
        .changed_claims
        .iter()
        .any(|c| c == ACCOUNT_DISABLED_CLAIM);
    let username = (renamed || (activity_changed && settings.rename_on_deactivate))
        .then(|| username_for(settings, user, Some(id)));
    let (mut body, warnings) = fields::finish(
        set,
        username.as_deref(),
        settings.alias_overflow,
        Purpose::Update,
    )?;
    if let Some(active) = active(user).filter(|_| activity_changed) {
        body.insert("IsActive".into(), Value::Bool(active));
    }
    let write = (!body.is_empty()).then(|| Write::Patch {
        id: id.to_string(),
        body,
    });
    Ok(Plan::new(write, Some(id), warnings))
}

/// Deactivates a record, renaming it to free the Username when configured.
///
/// After a rename the mapping can go (`remote-id` none). A record deactivated alone (no rename
/// configured, or Salesforce refused the rename as invalid data) still holds the Username, so
/// `remote-id` is returned and the host keeps the mapping.
fn delete(settings: &Settings, user: &EntityView, id: &str) -> Plan {
    let mut body = Map::new();
    body.insert("IsActive".into(), Value::Bool(false));
    if !settings.rename_on_delete {
        let write = Write::Patch {
            id: id.to_string(),
            body,
        };
        return Plan::new(Some(write), Some(id), vec![]);
    }
    let original = username::build(settings, user.name);
    let renamed = username::deactivated(id, &original);
    let mut with_rename = body.clone();
    with_rename.insert("Username".into(), Value::String(renamed.clone()));
    Plan {
        write: Some(Write::Patch {
            id: id.to_string(),
            body: with_rename,
        }),
        outcome: outcome(None, vec![]),
        rename_fallback: Some(RenameFallback { body, renamed }),
    }
}

/// The Username of `user`: the pattern's, or its deactivated form while the user is disabled
/// and the target renames disabled users (which needs the record's `id`).
fn username_for(settings: &Settings, user: &EntityView, id: Option<&str>) -> String {
    let original = username::build(settings, user.name);
    match id {
        Some(id) if settings.rename_on_deactivate && active(user) == Some(false) => {
            username::deactivated(id, &original)
        }
        _ => original,
    }
}

/// The full field set of a new (`id` none) or known record, Username included, and its
/// warnings.
fn full_body(
    settings: &Settings,
    user: &EntityView,
    id: Option<&str>,
) -> Result<(Map<String, Value>, Vec<String>), ProvisionError> {
    let username = username_for(settings, user, id);
    let set = mapping::for_create(&settings.mappings, user.claims);
    fields::finish(
        set,
        Some(&username),
        settings.alias_overflow,
        Purpose::Create,
    )
}

/// PATCHes `body` onto the record `id`.
pub fn patch(api: &Api, id: &str, body: Map<String, Value>) -> Result<(), ProvisionError> {
    let request = api.request(
        Method::Patch,
        api.user_url(Some(id)),
        Some(&Value::Object(body)),
    );
    api.execute(Action::Update, &request).map(|_| ())
}

/// A successful outcome.
pub fn outcome(remote_id: Option<&str>, warnings: Vec<String>) -> ProvisionOutcome {
    ProvisionOutcome {
        remote_id: remote_id.map(str::to_string),
        warnings,
    }
}
