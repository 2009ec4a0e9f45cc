//! Test support for the engine: a fake target that can simulate every error case, writes of
//! unknown outcome and duplicate detection, and helpers to set up a store.

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use provisioner_contract::{
    Change, ConflictError, Entity, ErrorDetail, LookupKey, Operation, ProvisionError,
    ProvisionOutcome, RateLimitError, RemoteObject, TransientError, ACCOUNT_DISABLED_CLAIM,
};
use provisioner_engine::policy::RateLimitPolicy;
use provisioner_engine::store::StoreResult;
use provisioner_engine::store::{OutboundSettings, Store, TargetRecord, TargetSpec};
use provisioner_engine::{
    CallFailure, CallResult, ConnectorSource, ConnectorUnavailable, DispatchStats, Dispatcher,
    DispatcherConfig, Engine, TargetConnector, UserChange, UserState,
};

#[path = "postgres.rs"]
mod postgres;
pub use postgres::*;

/// One object in the fake target.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeObject {
    pub name: String,
    pub claims: BTreeMap<String, Vec<String>>,
    pub active: bool,
}

/// Which call a scripted fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    Create,
    Update,
    Delete,
    Lookup,
    Any,
}

/// A scripted failure: the next matching call fails with `error`; when `applied`, the write
/// happens first (the caller never learns it did).
#[derive(Clone, Debug)]
pub struct Fault {
    pub call: Call,
    pub error: CallFailure,
    pub applied: bool,
}

#[derive(Debug, Default)]
pub struct FakeState {
    pub objects: BTreeMap<String, FakeObject>,
    pub next_id: u64,
    pub faults: VecDeque<Fault>,
    /// Every call, e.g. `create alice`.
    pub calls: Vec<String>,
    /// Fail this fraction of calls with a transient error (half of them applied).
    pub fault_rate: f64,
    /// Names that exist "in another org": creating them is refused with DUPLICATE_USERNAME.
    pub foreign_names: Vec<String>,
    /// Every call fails with this, forever (after the scripted faults).
    pub always: Option<CallFailure>,
    /// A delete answers the remote id (the object stays correlated), so the host keeps the
    /// mapping, as a target that deactivates without renaming does.
    pub delete_keeps_mapping: bool,
}

/// An in-memory target. Users are matched by name; deletes deactivate, as in Salesforce, and
/// so does the account-disabled claim; groups are `unsupported`.
#[derive(Debug, Default)]
pub struct FakeTarget {
    pub state: Mutex<FakeState>,
    /// Whether creates return the new id (false: SCIM-style, correlate by lookup).
    pub returns_ids: bool,
}

pub fn detail(code: &str, message: &str) -> ErrorDetail {
    ErrorDetail {
        message: message.into(),
        target_code: Some(code.into()),
        fields: vec![],
        http_status: None,
    }
}

pub fn transient(code: &str, unknown: bool) -> CallFailure {
    CallFailure::Connector(ProvisionError::Transient(TransientError {
        detail: detail(code, "try again"),
        outcome_unknown: unknown,
    }))
}

pub fn rate_limited(ms: u64) -> CallFailure {
    CallFailure::Connector(ProvisionError::RateLimited(RateLimitError {
        detail: detail("REQUEST_LIMIT_EXCEEDED", "slow down"),
        retry_after_ms: Some(ms),
    }))
}

pub fn quota(ms: u64) -> CallFailure {
    CallFailure::Connector(ProvisionError::QuotaExhausted(RateLimitError {
        detail: detail("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
        retry_after_ms: Some(ms),
    }))
}

pub fn auth_failed() -> CallFailure {
    CallFailure::Connector(ProvisionError::AuthFailed(detail(
        "invalid_client",
        "invalid client credentials",
    )))
}

pub fn invalid(code: &str) -> CallFailure {
    CallFailure::Connector(ProvisionError::InvalidData(detail(code, "bad data")))
}

impl FakeTarget {
    pub fn new(returns_ids: bool) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::default(),
            returns_ids,
        })
    }

    pub fn push_fault(&self, call: Call, error: CallFailure, applied: bool) {
        self.state.lock().unwrap().faults.push_back(Fault {
            call,
            error,
            applied,
        });
    }

    pub fn objects(&self) -> BTreeMap<String, FakeObject> {
        self.state.lock().unwrap().objects.clone()
    }

    /// Objects with this name (active or not).
    pub fn named(&self, name: &str) -> Vec<FakeObject> {
        self.objects()
            .into_values()
            .filter(|o| o.name == name)
            .collect()
    }

    pub fn calls(&self) -> Vec<String> {
        self.state.lock().unwrap().calls.clone()
    }

    fn take_fault(state: &mut FakeState, call: Call) -> Option<Fault> {
        let position = state
            .faults
            .iter()
            .position(|f| f.call == call || f.call == Call::Any)?;
        state.faults.remove(position)
    }

    fn always_fault(state: &FakeState, call: Call) -> Option<Fault> {
        state.always.clone().map(|error| Fault {
            call,
            error,
            applied: false,
        })
    }

    fn random_fault(state: &mut FakeState, call: Call) -> Option<Fault> {
        if state.fault_rate > 0.0 && rand::random::<f64>() < state.fault_rate {
            let applied = call == Call::Create && rand::random::<bool>();
            return Some(Fault {
                call,
                error: transient("UNABLE_TO_LOCK_ROW", applied),
                applied,
            });
        }
        None
    }

    fn apply(&self, state: &mut FakeState, change: &Change) -> CallResult<ProvisionOutcome> {
        let Entity::User(entity) = &change.entity else {
            return Err(CallFailure::Connector(ProvisionError::Unsupported(detail(
                "GROUPS",
                "the fake target provisions users only",
            ))));
        };
        let claims: BTreeMap<String, Vec<String>> = entity
            .claims
            .iter()
            .map(|c| (c.uri.clone(), c.values.clone()))
            .collect();
        let enabled = claims
            .get(ACCOUNT_DISABLED_CLAIM)
            .is_none_or(|values| values.first().is_none_or(|v| v != "true"));
        match change.operation {
            Operation::Create => {
                if state.foreign_names.contains(&entity.name) {
                    return Err(invalid("DUPLICATE_USERNAME"));
                }
                if let Some((id, _)) = state
                    .objects
                    .iter()
                    .find(|(_, o)| o.name == entity.name && o.active)
                {
                    return Err(CallFailure::Connector(ProvisionError::Conflict(
                        ConflictError {
                            detail: detail("DUPLICATE_USERNAME", "exists"),
                            existing_remote_id: Some(id.clone()),
                        },
                    )));
                }
                state.next_id += 1;
                let id = format!("R{:05}", state.next_id);
                state.objects.insert(
                    id.clone(),
                    FakeObject {
                        name: entity.name.clone(),
                        claims,
                        active: enabled,
                    },
                );
                Ok(ProvisionOutcome {
                    remote_id: self.returns_ids.then_some(id),
                    warnings: vec![],
                })
            }
            Operation::Update => {
                let id = entity
                    .remote_id
                    .clone()
                    .expect("update carries a remote id");
                let Some(object) = state.objects.get_mut(&id) else {
                    return Err(CallFailure::Connector(ProvisionError::NotFound(detail(
                        "NOT_FOUND",
                        "no such user",
                    ))));
                };
                object.name = entity.name.clone();
                object.active = enabled;
                for uri in &entity.changed_claims {
                    match claims.get(uri) {
                        Some(values) => object.claims.insert(uri.clone(), values.clone()),
                        None => object.claims.remove(uri),
                    };
                }
                Ok(ProvisionOutcome {
                    remote_id: None,
                    warnings: vec![],
                })
            }
            Operation::Delete => {
                let id = entity
                    .remote_id
                    .clone()
                    .expect("delete carries a remote id");
                let Some(object) = state.objects.get_mut(&id) else {
                    return Err(CallFailure::Connector(ProvisionError::NotFound(detail(
                        "NOT_FOUND",
                        "no such user",
                    ))));
                };
                object.active = false;
                Ok(ProvisionOutcome {
                    remote_id: state.delete_keeps_mapping.then_some(id),
                    warnings: vec![],
                })
            }
        }
    }
}

impl TargetConnector for FakeTarget {
    fn provision(&self, change: Change) -> BoxFuture<'_, CallResult<ProvisionOutcome>> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            let mut state = self.state.lock().unwrap();
            let call = match change.operation {
                Operation::Create => Call::Create,
                Operation::Update => Call::Update,
                Operation::Delete => Call::Delete,
            };
            state
                .calls
                .push(format!("{call:?} {}", change.entity.name()).to_lowercase());
            let fault = Self::take_fault(&mut state, call)
                .or_else(|| Self::always_fault(&state, call))
                .or_else(|| Self::random_fault(&mut state, call));
            if let Some(fault) = fault {
                if fault.applied {
                    let _ = self.apply(&mut state, &change);
                }
                return Err(fault.error);
            }
            self.apply(&mut state, &change)
        })
    }

    fn lookup(&self, key: LookupKey) -> BoxFuture<'_, CallResult<Option<RemoteObject>>> {
        Box::pin(async move {
            let mut state = self.state.lock().unwrap();
            let name = match &key {
                LookupKey::Entity(entity) => entity.name().to_owned(),
                LookupKey::Attribute(m) => m.value.clone(),
            };
            state.calls.push(format!("lookup {name}"));
            let fault = Self::take_fault(&mut state, Call::Lookup)
                .or_else(|| Self::always_fault(&state, Call::Lookup));
            if let Some(fault) = fault {
                return Err(fault.error);
            }
            let mut found: Vec<_> = state
                .objects
                .iter()
                .filter(|(_, o)| o.name == name)
                .map(|(id, o)| RemoteObject {
                    remote_id: id.clone(),
                    active: Some(o.active),
                    attributes: vec![],
                })
                .collect();
            // Prefer an active match, as a correlation rule would.
            found.sort_by_key(|o| o.active != Some(true));
            Ok(found.into_iter().next())
        })
    }
}

/// Connectors by target name.
#[derive(Default)]
pub struct FakeSource {
    pub targets: Mutex<BTreeMap<String, Arc<dyn TargetConnector>>>,
}

impl FakeSource {
    pub fn with(targets: &[(&str, Arc<FakeTarget>)]) -> Arc<Self> {
        Self::of(
            targets
                .iter()
                .map(|(name, target)| (*name, target.clone() as Arc<dyn TargetConnector>))
                .collect(),
        )
    }

    /// Any connectors, by target name.
    pub fn of(targets: Vec<(&str, Arc<dyn TargetConnector>)>) -> Arc<Self> {
        Arc::new(Self {
            targets: Mutex::new(
                targets
                    .into_iter()
                    .map(|(name, target)| (name.to_owned(), target))
                    .collect(),
            ),
        })
    }
}

impl ConnectorSource for FakeSource {
    fn connector<'a>(
        &'a self,
        target: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Arc<dyn TargetConnector>, ConnectorUnavailable>> {
        Box::pin(async move {
            self.targets
                .lock()
                .unwrap()
                .get(&target.spec.name)
                .cloned()
                .ok_or_else(|| ConnectorUnavailable::Component {
                    reference: target.spec.connector.clone(),
                    message: format!("no fake for `{}`", target.spec.name),
                })
        })
    }
}

pub const TENANT: &str = "acme";
pub const EMAIL: &str = "http://wso2.org/claims/emailaddress";
pub const LASTNAME: &str = "http://wso2.org/claims/lastname";

/// A fresh store (kept alive by the returned guard): a SQLite file in a temporary directory,
/// or a new PostgreSQL database when [`POSTGRES_URL_VAR`] is set.
pub async fn store() -> (Store, tempfile::TempDir) {
    let (store, dir, _) = store_with_url().await;
    (store, dir)
}

/// A fresh store, its directory guard and its URL (for other processes and other handles).
pub async fn store_with_url() -> (Store, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    (Store::open(&url).await.unwrap(), dir, url)
}

/// A fresh SQLite store whatever [`POSTGRES_URL_VAR`] says, its directory guard and its URL
/// (for tests of what only SQLite databases have, such as files written by older versions).
pub async fn sqlite_store_with_url() -> (Store, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    (Store::open(&url).await.unwrap(), dir, url)
}

/// The URL of a new, empty database: a file in `dir`, or a database created on the server
/// that [`POSTGRES_URL_VAR`] names.
pub async fn fresh_database_url(dir: &tempfile::TempDir) -> String {
    match postgres_server() {
        Some(server) => fresh_postgres_database(&server).await,
        None => sqlite_url(dir),
    }
}

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite:{}", dir.path().join("engine.db").display())
}

/// Fast-retry settings for tests.
pub fn fast_settings() -> OutboundSettings {
    OutboundSettings {
        max_attempts: 4,
        backoff_base_ms: 5,
        backoff_cap_ms: 40,
        ..OutboundSettings::default()
    }
}

pub async fn add_target(store: &Store, name: &str, settings: OutboundSettings) -> TargetRecord {
    add_target_for(store, TENANT, name, settings).await
}

pub async fn add_target_for(
    store: &Store,
    tenant: &str,
    name: &str,
    settings: OutboundSettings,
) -> TargetRecord {
    store
        .put_target(&TargetSpec {
            tenant: tenant.into(),
            name: name.into(),
            connector: "fake".into(),
            properties: BTreeMap::new(),
            secret_refs: BTreeMap::new(),
            claim_mappings: vec![],
            settings,
            egress: Default::default(),
        })
        .await
        .unwrap()
}

pub fn user(id: &str, last_name: &str, roles: &[&str]) -> UserState {
    UserState {
        id: id.into(),
        user_name: format!("{id}@example.com"),
        claims: [
            (EMAIL.to_owned(), vec![format!("{id}@example.com")]),
            (LASTNAME.to_owned(), vec![last_name.to_owned()]),
        ]
        .into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        document: None,
        search_keys: Vec::new(),
    }
}

pub async fn create(engine: &Engine, state: UserState) -> Vec<i64> {
    create_in(engine, TENANT, state).await
}

pub async fn create_in(engine: &Engine, tenant: &str, state: UserState) -> Vec<i64> {
    engine
        .apply_user_change(tenant, UserChange::Create(state))
        .await
        .unwrap()
        .jobs
        .into_iter()
        .map(|j| j.job_id)
        .collect()
}

pub fn dispatcher(engine: &Engine, source: Arc<dyn ConnectorSource>) -> Dispatcher {
    Dispatcher::new(engine, source, test_config())
}

/// Starts `dispatcher.run` in the background; sending on the returned channel stops it.
pub fn start(
    dispatcher: Dispatcher,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<StoreResult<DispatchStats>>,
) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(async move {
        dispatcher
            .run(async {
                let _ = stopped.await;
            })
            .await
    });
    (stop, run)
}

/// The dispatcher configuration of the tests: 8 workers, short leases and polls, and a
/// retry-after floor of 10 ms so that rate-limit tests stay quick.
pub fn test_config() -> DispatcherConfig {
    DispatcherConfig {
        workers: 8,
        lease_ms: 2_000,
        poll_ms: 20,
        rate_limits: RateLimitPolicy {
            retry_after_floor_ms: 10,
            ..RateLimitPolicy::default()
        },
        ..DispatcherConfig::default()
    }
}

/// A target whose calls wait until the gate opens, counting the calls in flight at once.
#[derive(Debug)]
pub struct GateTarget {
    open: tokio::sync::watch::Sender<bool>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    calls: AtomicUsize,
    changed: tokio::sync::Notify,
}

impl GateTarget {
    /// A closed gate.
    pub fn closed() -> Arc<Self> {
        Arc::new(Self {
            open: tokio::sync::watch::channel(false).0,
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            calls: AtomicUsize::new(0),
            changed: tokio::sync::Notify::new(),
        })
    }

    /// Lets every waiting and later call through.
    pub fn open(&self) {
        self.open.send_replace(true);
    }

    /// Calls waiting at the gate now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// The most calls ever waiting at once.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    /// Calls made so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Waits until exactly `n` calls wait at the gate.
    pub async fn wait_for_in_flight(&self, n: usize) {
        loop {
            let changed = self.changed.notified();
            if self.in_flight() == n {
                return;
            }
            changed.await;
        }
    }
}

impl TargetConnector for GateTarget {
    fn provision(&self, change: Change) -> BoxFuture<'_, CallResult<ProvisionOutcome>> {
        Box::pin(async move {
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_in_flight.fetch_max(now, Ordering::SeqCst);
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            self.changed.notify_waiters();
            let mut open = self.open.subscribe();
            let _ = open.wait_for(|open| *open).await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            self.changed.notify_waiters();
            Ok(ProvisionOutcome {
                remote_id: Some(format!("G{n}-{}", change.entity.name())),
                warnings: vec![],
            })
        })
    }

    fn lookup(&self, _key: LookupKey) -> BoxFuture<'_, CallResult<Option<RemoteObject>>> {
        Box::pin(async { Ok(None) })
    }
}
