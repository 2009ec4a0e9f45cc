//! Reconciliation: comparing what a target holds with what the local users say it should hold.
//!
//! A run reads the target's users through its connector (`list-entities`), page by page, and
//! then walks the tenant's local users in id order, a chunk at a time; neither side is ever
//! held whole in memory. The remote ids listed go into the database (`reconcile_seen`) so the
//! local walk can tell which mapped users the target no longer has. It reports:
//!
//! - **missing remotely**: a local user in the target's scope ([`crate::scope`]) with no remote
//!   id, or whose remote id the listing did not contain;
//! - **unknown remotely**: a remote user no local user maps to (reported only: a reconciliation
//!   never deletes anything);
//! - **field differs**: a mapped field whose remote value is not the one the target's claim
//!   mappings give for the local user ([`crate::mapping`]);
//! - **active differs**: the remote active state is not the opposite of the local
//!   `accountDisabled` ([`crate::activity`]).
//!
//! Remote users mapped to local users that are deleted or out of the target's scope are not
//! compared: the jobs that took them out of scope decide their remote state.
//!
//! Values are compared as connectors send them: `true`/`false` in any case are booleans, a
//! mapping with a boolean default sends that default in place of a value that is not a boolean
//! (as the built-in connectors do), and a 15-character record id equals its 18-character form
//! (Salesforce answers references in the long form). The remote user name is not compared: it
//! is the connector's correlation key, built by its own rules. Fields the mappings leave unset
//! are not compared either. When the connector source can render a change without sending it
//! ([`ConnectorSource::renderer`]; the server's runs the real component against a dry-run
//! transport, as explain does), a field that differs from the mapping is checked against the
//! value the connector would really send, and is drift only if that differs too: a connector
//! that cuts, derives or coerces a value (Salesforce's 8-character Alias) is not reported, nor
//! repaired, on every run. Only users whose fields differ are rendered.
//!
//! With the `repair` policy each drift also queues, in the transaction that records it, the job
//! that fixes it through the normal path: a `create` for a missing user (an upsert: it adopts
//! or re-creates the remote user) and an `update` carrying the claims behind the differing
//! fields (and `accountDisabled` for the active state). The drift row names the job.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::connector::{ChangeRenderer, ConnectorSource};
use crate::mapping::{self, FieldSource};
use crate::store::{
    self, Drift, DriftKind, NewJob, ReconcilePolicy, ReconcileRun, ReconcileState, StoreError,
    TargetRecord, UserRecord,
};
use crate::{activity, logged_fields, preview, scope, Engine, EngineError};
use provisioner_contract::{ClaimMapping, EntityKind, ListRequest, Operation, RemoteObject};

/// Remote users asked for per `list-entities` page (the connector may return fewer).
pub const RECONCILE_PAGE_SIZE: u32 = 2_000;

/// Local users read per transaction of the local walk.
pub const RECONCILE_LOCAL_CHUNK: u64 = 1_000;

/// The most drift entries a report carries; the run's `drift_count` has them all, and
/// [`crate::store::Store::reconcile_drift`] pages through them.
pub const REPORT_DRIFT_LIMIT: i64 = 1_000;

/// How one run is made.
#[derive(Clone, Copy, Debug)]
pub struct ReconcileOptions {
    /// `Some(true)`: repair; `Some(false)`: report only; `None`: the target's policy.
    pub repair: Option<bool>,
    /// Remote users asked for per page.
    pub page_size: u32,
}

impl Default for ReconcileOptions {
    fn default() -> Self {
        Self {
            repair: None,
            page_size: RECONCILE_PAGE_SIZE,
        }
    }
}

/// A run with the drift it found (the first [`REPORT_DRIFT_LIMIT`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileReport {
    /// The run.
    #[serde(flatten)]
    pub run: ReconcileRun,
    /// What differs, in the order found.
    pub drift: Vec<Drift>,
}

/// Why a run stopped before its end.
enum Stop {
    /// The connector could not be built or failed a page: the run is failed, with this reason.
    Connector(String),
    /// The store failed.
    Store(StoreError),
}

impl From<StoreError> for Stop {
    fn from(error: StoreError) -> Self {
        Stop::Store(error)
    }
}

impl From<sqlx::Error> for Stop {
    fn from(error: sqlx::Error) -> Self {
        Stop::Store(StoreError::Database(error))
    }
}

/// A reconciliation run that has started (its row is `running`) and is still to be walked:
/// [`Engine::start_reconciliation`] opens it, [`Engine::finish_reconciliation`] walks it, so a
/// caller can answer with the run's id before the walk ends.
#[derive(Clone, Debug)]
pub struct StartedReconciliation {
    /// The run as opened.
    pub run: ReconcileRun,
    record: TargetRecord,
    policy: ReconcilePolicy,
    page_size: u32,
}

impl Engine {
    /// Runs one reconciliation of `target` and returns its report. A failure of the connector
    /// (it cannot be built, or a page fails) ends the run as `failed` with the reason, keeping
    /// the drift found until then; it is not an error of this call. Fails with
    /// [`EngineError::NotFound`] for an unknown target and [`EngineError::Conflict`] while
    /// another run of the target is running.
    pub async fn reconcile(
        &self,
        source: &dyn ConnectorSource,
        tenant: &str,
        target: &str,
        options: ReconcileOptions,
    ) -> Result<ReconcileReport, EngineError> {
        let started = self.start_reconciliation(tenant, target, options).await?;
        self.finish_reconciliation(source, started).await
    }

    /// Opens a reconciliation run of `target` (the first half of [`Engine::reconcile`], with
    /// its errors).
    pub async fn start_reconciliation(
        &self,
        tenant: &str,
        target: &str,
        options: ReconcileOptions,
    ) -> Result<StartedReconciliation, EngineError> {
        let record = self
            .store()
            .target(tenant, target)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("target `{tenant}/{target}`")))?;
        let policy = match options.repair {
            Some(true) => ReconcilePolicy::Repair,
            Some(false) => ReconcilePolicy::Report,
            None => record.spec.settings.reconcile_policy,
        };
        let mut tx = self.store().begin_write().await?;
        let run = match store::open_reconcile_run_in(&mut tx, tenant, target, policy).await {
            Ok(run) => run,
            Err(StoreError::Conflict(message)) => return Err(EngineError::Conflict(message)),
            Err(other) => return Err(other.into()),
        };
        tx.commit().await?;
        tracing::info!(
            tenant,
            target_name = target,
            run = run.id,
            policy = policy.as_str(),
            "reconciliation started"
        );
        Ok(StartedReconciliation {
            run,
            record,
            policy,
            page_size: options.page_size,
        })
    }

    /// Walks a started run to its end and returns its report (the second half of
    /// [`Engine::reconcile`]).
    pub async fn finish_reconciliation(
        &self,
        source: &dyn ConnectorSource,
        started: StartedReconciliation,
    ) -> Result<ReconcileReport, EngineError> {
        let StartedReconciliation {
            run,
            record,
            policy,
            page_size,
        } = started;
        let (tenant, target) = (&record.spec.tenant, &record.spec.name);
        let walked = self
            .reconcile_walk(source, &record, run.id, policy, page_size)
            .await;
        let (state, error) = match &walked {
            Ok(()) => (ReconcileState::Done, None),
            Err(Stop::Connector(reason)) => (ReconcileState::Failed, Some(reason.clone())),
            Err(Stop::Store(error)) => (ReconcileState::Failed, Some(error.to_string())),
        };
        self.store()
            .end_reconcile_run(run.id, state, error.as_deref())
            .await?;
        if let Err(Stop::Store(error)) = walked {
            return Err(error.into());
        }
        let report = self.reconcile_report(tenant, target, run.id).await?;
        tracing::info!(
            tenant = tenant.as_str(),
            target_name = target.as_str(),
            run = run.id,
            state = report.run.state.as_str(),
            drift = report.run.drift_count,
            "reconciliation ended"
        );
        Ok(report)
    }

    /// Run `id` of `tenant`/`target` with its first [`REPORT_DRIFT_LIMIT`] drift entries.
    pub async fn reconcile_report(
        &self,
        tenant: &str,
        target: &str,
        id: i64,
    ) -> Result<ReconcileReport, EngineError> {
        let run = self
            .store()
            .reconcile_run(tenant, target, id)
            .await?
            .ok_or_else(|| {
                EngineError::NotFound(format!(
                    "reconciliation run {id} of target `{tenant}/{target}`"
                ))
            })?;
        let drift = self
            .store()
            .reconcile_drift(id, 0, REPORT_DRIFT_LIMIT)
            .await?
            .into_iter()
            .map(|(_, drift)| drift)
            .collect();
        Ok(ReconcileReport { run, drift })
    }

    async fn reconcile_walk(
        &self,
        source: &dyn ConnectorSource,
        record: &TargetRecord,
        run: i64,
        policy: ReconcilePolicy,
        page_size: u32,
    ) -> Result<(), Stop> {
        let connector = source.connector(record).await.map_err(|error| {
            Stop::Connector(format!("the target's connector is unavailable: {error}"))
        })?;
        let renderer = source.renderer(record).await;
        let mut cursor: Option<String> = None;
        loop {
            let request = ListRequest {
                kind: EntityKind::User,
                cursor: cursor.clone(),
                page_size: page_size.max(1),
            };
            let page = connector.list_entities(request).await.map_err(|failure| {
                Stop::Connector(format!("listing the target's users failed: {failure}"))
            })?;
            self.reconcile_remote_page(record, run, policy, &page.objects, renderer.as_deref())
                .await?;
            match page.next_cursor {
                Some(next) if Some(&next) == cursor.as_ref() => {
                    return Err(Stop::Connector(format!(
                        "the connector answered the cursor `{next}` with itself as the next \
                         cursor; its listing does not advance"
                    )));
                }
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let mut after: Option<String> = None;
        while let Some(last) = self
            .reconcile_local_chunk(record, run, policy, &after)
            .await?
        {
            after = Some(last);
        }
        Ok(())
    }

    /// Compares one page of remote users with the local users they map to, and records the
    /// drift (and queues repairs). The page's remote ids and users are read in one
    /// transaction; field drift is then confirmed with `renderer` (dry runs, outside any
    /// transaction); the drift and repairs are written in a second transaction.
    async fn reconcile_remote_page(
        &self,
        record: &TargetRecord,
        run: i64,
        policy: ReconcilePolicy,
        objects: &[RemoteObject],
        renderer: Option<&dyn ChangeRenderer>,
    ) -> Result<(), Stop> {
        let (tenant, target) = (&record.spec.tenant, &record.spec.name);
        let settings = &record.spec.settings;
        let mut tx = self.store().begin_write().await?;
        let remote_ids: Vec<String> = objects.iter().map(|o| o.remote_id.clone()).collect();
        store::mark_seen_in(&mut tx, run, &remote_ids).await?;
        let mapped: HashMap<String, String> =
            store::users_mapped_to_in(&mut tx, tenant, target, &remote_ids)
                .await?
                .into_iter()
                .map(|(entity, remote)| (remote, entity))
                .collect();
        let ids: Vec<String> = mapped.values().cloned().collect();
        let users: HashMap<String, UserRecord> = store::users_by_ids_in(&mut tx, tenant, &ids)
            .await?
            .into_iter()
            .map(|user| (user.id.clone(), user))
            .collect();
        let group_roles = group_roles_of(&mut tx, tenant, settings, &ids).await?;
        tx.commit().await?;
        let mut drift = Vec::new();
        let mut repairs = Vec::new();
        for object in objects {
            let Some(entity) = mapped.get(&object.remote_id) else {
                let mut unknown = Drift::of(DriftKind::UnknownRemotely);
                unknown.remote_id = Some(object.remote_id.clone());
                unknown.user_name = attribute(object, "Username")
                    .or_else(|| attribute(object, "userName"))
                    .map(str::to_owned);
                drift.push(unknown);
                continue;
            };
            let Some(user) = users.get(entity) else {
                continue;
            };
            let roles = group_roles.get(&user.id).map_or(&[][..], Vec::as_slice);
            if !scope::applies(settings, user, roles) {
                continue;
            }
            let mut found = compare_user(&record.spec.claim_mappings, user, object);
            if let Some(renderer) = renderer {
                confirm_with_renderer(renderer, user, object, &mut found).await;
            }
            if found.is_empty() {
                continue;
            }
            if policy == ReconcilePolicy::Repair {
                let claims = repair_claims(&record.spec.claim_mappings, &found);
                repairs.push((
                    drift.len()..drift.len() + found.len(),
                    job_for(target, user, Operation::Update, claims),
                ));
            }
            drift.extend(found);
        }
        let mut tx = self.store().begin_write().await?;
        self.queue_repairs(&mut tx, tenant, &mut drift, repairs)
            .await?;
        store::record_reconcile_step_in(&mut tx, run, &drift, objects.len() as i64, 0).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Walks one chunk of local users after `after`: those in scope whose remote user is
    /// missing are drift. Returns the last user id read, none at the end.
    async fn reconcile_local_chunk(
        &self,
        record: &TargetRecord,
        run: i64,
        policy: ReconcilePolicy,
        after: &Option<String>,
    ) -> Result<Option<String>, Stop> {
        let (tenant, target) = (&record.spec.tenant, &record.spec.name);
        let settings = &record.spec.settings;
        let mut tx = self.store().begin_write().await?;
        let users =
            store::users_after_in(&mut tx, tenant, after.as_deref(), RECONCILE_LOCAL_CHUNK).await?;
        let Some(last) = users.last().map(|user| user.id.clone()) else {
            tx.commit().await?;
            return Ok(None);
        };
        let ids: Vec<String> = users.iter().map(|user| user.id.clone()).collect();
        let group_roles = group_roles_of(&mut tx, tenant, settings, &ids).await?;
        let in_scope: Vec<&UserRecord> = users
            .iter()
            .filter(|user| {
                let roles = group_roles.get(&user.id).map_or(&[][..], Vec::as_slice);
                scope::applies(settings, user, roles)
            })
            .collect();
        let scoped_ids: Vec<String> = in_scope.iter().map(|user| user.id.clone()).collect();
        let mappings: HashMap<String, (String, bool)> =
            store::mappings_seen_in(&mut tx, tenant, target, run, &scoped_ids)
                .await?
                .into_iter()
                .map(|(entity, remote, seen)| (entity, (remote, seen)))
                .collect();
        let mut drift = Vec::new();
        let mut repairs = Vec::new();
        for user in &in_scope {
            let remote_id = match mappings.get(&user.id) {
                Some((_, true)) => continue,
                Some((remote, false)) => Some(remote.clone()),
                None => None,
            };
            let mut missing = Drift::of(DriftKind::MissingRemotely);
            missing.entity_id = Some(user.id.clone());
            missing.user_name = Some(user.user_name.clone());
            missing.remote_id = remote_id;
            if policy == ReconcilePolicy::Repair {
                repairs.push((
                    drift.len()..drift.len() + 1,
                    job_for(target, user, Operation::Create, Vec::new()),
                ));
            }
            drift.push(missing);
        }
        self.queue_repairs(&mut tx, tenant, &mut drift, repairs)
            .await?;
        store::record_reconcile_step_in(&mut tx, run, &drift, 0, in_scope.len() as i64).await?;
        tx.commit().await?;
        Ok(Some(last))
    }

    /// Queues `repairs` (each the job fixing a range of `drift`) and names the jobs in the
    /// drift they fix.
    async fn queue_repairs(
        &self,
        tx: &mut store::Tx,
        tenant: &str,
        drift: &mut [Drift],
        repairs: Vec<(std::ops::Range<usize>, NewJob)>,
    ) -> Result<(), Stop> {
        if repairs.is_empty() {
            return Ok(());
        }
        let (ranges, jobs): (Vec<_>, Vec<_>) = repairs.into_iter().unzip();
        let ids = store::insert_jobs(tx, tenant, &jobs).await?;
        for (range, job) in ranges.into_iter().zip(ids) {
            for d in &mut drift[range] {
                d.repaired_by(job);
            }
        }
        // The dispatchers pick the jobs up once the transaction commits; waking them early
        // only makes them look a little sooner.
        self.signals().new_work.notify_waiters();
        Ok(())
    }
}

/// The display names of the groups of each of `ids`, when the target's scope uses roles.
async fn group_roles_of(
    conn: &mut store::DbConn,
    tenant: &str,
    settings: &store::OutboundSettings,
    ids: &[String],
) -> Result<HashMap<String, Vec<String>>, StoreError> {
    let mut roles: HashMap<String, Vec<String>> = HashMap::new();
    if scope::uses_roles(settings) {
        for (member, _, name) in store::memberships_in(conn, tenant, ids).await? {
            roles.entry(member).or_default().push(name);
        }
    }
    Ok(roles)
}

fn job_for(target: &str, user: &UserRecord, operation: Operation, claims: Vec<String>) -> NewJob {
    NewJob {
        target: target.to_owned(),
        entity_kind: EntityKind::User,
        entity_id: user.id.clone(),
        entity_name: user.user_name.clone(),
        operation,
        changed_claims: claims,
        entity_version: user.version,
    }
}

/// An attribute of a remote object, by name in any case.
fn attribute<'a>(object: &'a RemoteObject, name: &str) -> Option<&'a str> {
    object
        .attributes
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// Whether a target field is the remote user name, which the connector builds itself.
fn is_user_name_field(field: &str) -> bool {
    field.eq_ignore_ascii_case("Username") || field.eq_ignore_ascii_case("userName")
}

/// Whether `field` is the remote active flag, which `accountDisabled` decides.
fn is_active_field(field: &str) -> bool {
    field.eq_ignore_ascii_case("IsActive") || field.eq_ignore_ascii_case("active")
}

fn as_bool(value: &str) -> Option<bool> {
    if value.eq_ignore_ascii_case("true") {
        Some(true)
    } else if value.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// The value a connector sends for a mapped field: a mapping with a boolean default sends the
/// default in place of a claim value that is not a boolean.
fn sent_value(mapping: &ClaimMapping, value: &str) -> String {
    match mapping.default_value.as_deref() {
        Some(default) if as_bool(default).is_some() && as_bool(value).is_none() => {
            default.to_owned()
        }
        _ => value.to_owned(),
    }
}

/// Whether the remote value `actual` is the value `expected` as the target stores it.
pub fn same_value(expected: &str, actual: Option<&str>) -> bool {
    let Some(actual) = actual else {
        return expected.is_empty();
    };
    if expected == actual {
        return true;
    }
    if let (Some(e), Some(a)) = (as_bool(expected), as_bool(actual)) {
        return e == a;
    }
    // A 15-character record id and its 18-character form (the suffix encodes the case).
    let is_id = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric());
    expected.len() == 15 && actual.len() == 18 && is_id(actual) && actual.starts_with(expected)
}

/// The drift between a local user (in the target's scope) and its remote user: the active
/// state, then each mapped field in mapping order.
pub fn compare_user(
    mappings: &[ClaimMapping],
    user: &UserRecord,
    remote: &RemoteObject,
) -> Vec<Drift> {
    let mut drift = Vec::new();
    let base = |kind| {
        let mut d = Drift::of(kind);
        d.entity_id = Some(user.id.clone());
        d.user_name = Some(user.user_name.clone());
        d.remote_id = Some(remote.remote_id.clone());
        d
    };
    let expected_active = !activity::is_disabled(&user.claims);
    if let Some(actual) = remote.active.filter(|active| *active != expected_active) {
        let mut d = base(DriftKind::ActiveDiffers);
        d.expected = Some(expected_active.to_string());
        d.actual = Some(actual.to_string());
        drift.push(d);
    }
    let fields = mapping::provenance(mappings, &user.claims);
    for (field, mapping) in fields.iter().zip(mappings) {
        if field.source == FieldSource::Unset
            || is_user_name_field(&field.field)
            || is_active_field(&field.field)
        {
            continue;
        }
        let expected = sent_value(mapping, field.value.as_deref().unwrap_or_default());
        let actual = attribute(remote, &field.field);
        if !same_value(&expected, actual) {
            let mut d = base(DriftKind::FieldDiffers);
            d.field = Some(field.field.clone());
            d.expected = Some(expected);
            d.actual = actual.map(str::to_owned);
            drift.push(d);
        }
    }
    drift
}

/// Checks each field drift of `user` against what the connector would really send for it (its
/// update, rendered by `renderer` without sending): a remote value equal to the rendered one is
/// no drift (the connector derives, cuts or coerces that field by its own rules, e.g.
/// Salesforce's 8-character Alias), and a drift that stays names the rendered value as the
/// one expected. Fields the rendered body does not carry keep the mapping's comparison.
async fn confirm_with_renderer(
    renderer: &dyn ChangeRenderer,
    user: &UserRecord,
    remote: &RemoteObject,
    found: &mut Vec<Drift>,
) {
    if !found.iter().any(|d| d.kind == DriftKind::FieldDiffers) {
        return;
    }
    let change = preview::change_for(
        user,
        crate::execute::user_claims(user),
        Some(remote.remote_id.clone()),
    );
    let Some(sent) = renderer.render(&change).await else {
        return;
    };
    found.retain_mut(|d| {
        if d.kind != DriftKind::FieldDiffers {
            return true;
        }
        let field = d.field.as_deref().unwrap_or_default();
        let rendered = sent
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(field))
            .map(|(_, value)| value);
        match rendered {
            Some(value) if value == logged_fields::REDACTED => true,
            Some(value) if same_value(value, d.actual.as_deref()) => false,
            Some(value) => {
                d.expected = Some(value.clone());
                true
            }
            None => true,
        }
    });
}

/// The claims an update must carry to fix `drift`: the claims of the differing fields'
/// mappings, and `accountDisabled` for an active state that differs.
fn repair_claims(mappings: &[ClaimMapping], drift: &[Drift]) -> Vec<String> {
    let mut claims = BTreeSet::new();
    for d in drift {
        match d.kind {
            DriftKind::ActiveDiffers => {
                claims.insert(activity::ACCOUNT_DISABLED_CLAIM.to_owned());
            }
            DriftKind::FieldDiffers => {
                let field = d.field.as_deref().unwrap_or_default();
                claims.extend(
                    mappings
                        .iter()
                        .filter(|m| m.target_field == field)
                        .filter_map(|m| m.claim.clone()),
                );
            }
            DriftKind::MissingRemotely | DriftKind::UnknownRemotely => {}
        }
    }
    claims.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Claims;

    fn claims(pairs: &[(&str, &str)]) -> Claims {
        pairs
            .iter()
            .map(|(uri, value)| (uri.to_string(), vec![value.to_string()]))
            .collect()
    }

    fn mapping(field: &str, claim: Option<&str>, default: Option<&str>) -> ClaimMapping {
        ClaimMapping {
            target_field: field.into(),
            claim: claim.map(Into::into),
            default_value: default.map(Into::into),
        }
    }

    fn user(pairs: &[(&str, &str)]) -> UserRecord {
        UserRecord {
            tenant: "t".into(),
            id: "u1".into(),
            user_name: "alice@example.com".into(),
            claims: claims(pairs),
            roles: vec![],
            version: 3,
            deleted: false,
            created_at: 0,
            updated_at: 0,
            document: None,
        }
    }

    fn remote(active: Option<bool>, attributes: &[(&str, &str)]) -> RemoteObject {
        RemoteObject {
            remote_id: "005000000000001AAA".into(),
            active,
            attributes: attributes
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn mappings() -> Vec<ClaimMapping> {
        vec![
            mapping("LastName", Some("c:last"), None),
            mapping(
                "UserPermissionsMarketingUser",
                Some("c:mobile"),
                Some("false"),
            ),
            mapping("ProfileId", None, Some("00e5g000001AbCd")),
            mapping("Username", Some("c:email"), None),
            mapping("Title", Some("c:title"), None),
        ]
    }

    #[test]
    fn values_compare_as_connectors_send_them() {
        let local = user(&[
            ("c:last", "Gnaniah"),
            ("c:mobile", "+94 77 000 0000"),
            ("c:email", "someone@else.com"),
        ]);
        let object = remote(
            Some(true),
            &[
                ("Username", "alice@example.com"),
                ("LastName", "Gnaniah"),
                ("UserPermissionsMarketingUser", "false"),
                ("ProfileId", "00e5g000001AbCdAAA"),
            ],
        );
        assert_eq!(compare_user(&mappings(), &local, &object), vec![]);
    }

    #[test]
    fn fields_and_active_state_that_differ_are_drift() {
        let local = user(&[
            ("c:last", "Gnaniah"),
            (activity::ACCOUNT_DISABLED_CLAIM, "false"),
        ]);
        let object = remote(
            Some(false),
            &[
                ("LastName", "Edited"),
                ("UserPermissionsMarketingUser", "TRUE"),
                ("ProfileId", "00e5g000001XyZwAAA"),
            ],
        );
        let drift = compare_user(&mappings(), &local, &object);
        let got: Vec<_> = drift
            .iter()
            .map(|d| {
                (
                    d.kind,
                    d.field.as_deref(),
                    d.expected.as_deref(),
                    d.actual.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (DriftKind::ActiveDiffers, None, Some("true"), Some("false")),
                (
                    DriftKind::FieldDiffers,
                    Some("LastName"),
                    Some("Gnaniah"),
                    Some("Edited")
                ),
                (
                    DriftKind::FieldDiffers,
                    Some("UserPermissionsMarketingUser"),
                    Some("false"),
                    Some("TRUE")
                ),
                (
                    DriftKind::FieldDiffers,
                    Some("ProfileId"),
                    Some("00e5g000001AbCd"),
                    Some("00e5g000001XyZwAAA")
                ),
            ]
        );
        assert!(drift
            .iter()
            .all(|d| d.entity_id.as_deref() == Some("u1") && d.remote_id.is_some()));
        // Sorted; the constant ProfileId has no claim an update could carry.
        assert_eq!(
            repair_claims(&mappings(), &drift),
            ["c:last", "c:mobile", activity::ACCOUNT_DISABLED_CLAIM]
        );
    }

    #[test]
    fn a_disabled_user_is_expected_inactive_and_a_missing_value_differs() {
        let local = user(&[
            ("c:last", "Gnaniah"),
            (activity::ACCOUNT_DISABLED_CLAIM, "TRUE"),
        ]);
        let object = remote(Some(true), &[("UserPermissionsMarketingUser", "false")]);
        let drift = compare_user(&mappings(), &local, &object);
        assert_eq!(drift.len(), 3, "{drift:?}");
        assert_eq!(drift[0].kind, DriftKind::ActiveDiffers);
        assert_eq!(drift[0].expected.as_deref(), Some("false"));
        assert_eq!(drift[1].field.as_deref(), Some("LastName"));
        assert_eq!(drift[1].actual, None);
        assert_eq!(drift[2].field.as_deref(), Some("ProfileId"));
    }

    #[test]
    fn ids_match_their_long_form_only() {
        assert!(same_value("00e5g000001AbCd", Some("00e5g000001AbCdAAA")));
        assert!(!same_value("00e5g000001AbCd", Some("00e5g000001AbCD")));
        assert!(!same_value("short", Some("shortAAA")));
        assert!(same_value("", None));
        assert!(!same_value("x", None));
    }
}
