//! Records the store reads and writes.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{ReconcilePolicy, ScopeFilter};
use provisioner_contract::{ClaimMapping, EntityKind, Operation};

use super::{StoreError, StoreResult};

/// A user's claims: claim URI to its values (one value for single-valued claims).
pub type Claims = BTreeMap<String, Vec<String>>;

/// A local user as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    /// Owning tenant.
    pub tenant: String,
    /// Stable local identifier.
    pub id: String,
    /// User name, possibly `DOMAIN/name`.
    pub user_name: String,
    /// Current claims; kept after deletion so a late delete can still be correlated remotely.
    pub claims: Claims,
    /// Roles the user holds.
    pub roles: Vec<String>,
    /// Incremented on every change.
    pub version: i64,
    /// Whether the user has been deleted locally.
    pub deleted: bool,
    /// Time of creation, epoch milliseconds; set by the store when the row is first written.
    #[serde(default)]
    pub created_at: i64,
    /// Time of the last change, epoch milliseconds.
    pub updated_at: i64,
    /// The document the writing API stored with the user (opaque to the engine).
    #[serde(default)]
    pub document: Option<String>,
}

/// A local group as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupRecord {
    /// Owning tenant.
    pub tenant: String,
    /// Stable local identifier.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Local ids of the member users.
    pub members: Vec<String>,
    /// Incremented on every change.
    pub version: i64,
    /// Whether the group has been deleted locally.
    pub deleted: bool,
    /// Time of creation, epoch milliseconds; set by the store when the row is first written.
    #[serde(default)]
    pub created_at: i64,
    /// Time of the last change, epoch milliseconds.
    pub updated_at: i64,
    /// The document the writing API stored with the group (opaque to the engine).
    #[serde(default)]
    pub document: Option<String>,
}

/// A value an entity can be found by, normalised by the API that wrote it (for example a user
/// name lower-cased, because it compares in any case). Only live entities have keys.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SearchKey {
    /// What the value is, e.g. `userName` or `emails`.
    pub attr: String,
    /// The normalised value.
    pub value: String,
}

impl SearchKey {
    /// A key for `attr` with `value`.
    pub fn new(attr: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            attr: attr.into(),
            value: value.into(),
        }
    }
}

/// How a target is driven: blocking mode, who is provisioned, and the retry limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OutboundSettings {
    /// Whether the originating operation waits for this target's outcome.
    pub blocking: bool,
    /// How long a blocking operation waits at most, in milliseconds.
    pub blocking_timeout_ms: i64,
    /// Only users holding one of these roles are provisioned; empty means every user. A user's
    /// roles are its own plus the display names of the groups it is a direct member of
    /// ([`crate::scope`]).
    pub provisioning_roles: Vec<String>,
    /// Only users whose claims match this filter are provisioned; none means every user.
    pub scope_filter: Option<ScopeFilter>,
    /// Attempts a job may burn on failures before it becomes a dead letter.
    pub max_attempts: i64,
    /// First retry delay in milliseconds; doubled on every further attempt.
    pub backoff_base_ms: i64,
    /// Largest retry delay in milliseconds.
    pub backoff_cap_ms: i64,
    /// Jobs of this target that run at once at most, across every dispatcher sharing the
    /// database; none takes the dispatcher's default.
    pub max_concurrency: Option<i64>,
    /// What a reconciliation run does with the drift it finds: report it, or also queue the
    /// jobs that repair it.
    pub reconcile_policy: ReconcilePolicy,
    /// How often the server reconciles this target, in minutes; none: on demand only.
    pub reconcile_every_minutes: Option<i64>,
}

impl Default for OutboundSettings {
    fn default() -> Self {
        Self {
            blocking: false,
            blocking_timeout_ms: 10_000,
            provisioning_roles: Vec::new(),
            scope_filter: None,
            max_attempts: 8,
            backoff_base_ms: 500,
            backoff_cap_ms: 300_000,
            max_concurrency: None,
            reconcile_policy: ReconcilePolicy::Report,
            reconcile_every_minutes: None,
        }
    }
}

/// Which non-public destinations a target's connector may reach. The default allows neither:
/// public addresses only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TargetEgress {
    /// Allow loopback addresses (`127.0.0.0/8`, `::1`): local targets, tests.
    pub allow_loopback: bool,
    /// Allow private and link-local networks: targets on an internal network.
    pub allow_private: bool,
}

impl std::fmt::Display for TargetEgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.allow_loopback, self.allow_private) {
            (false, false) => write!(f, "public addresses only"),
            (true, false) => write!(f, "public and loopback addresses"),
            (false, true) => write!(f, "public and private addresses"),
            (true, true) => write!(f, "public, loopback and private addresses"),
        }
    }
}

/// Who wrote a target's current revision.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetOrigin {
    /// Seeded from the configuration file; the next start may overwrite it with the file's.
    #[default]
    Config,
    /// Changed at run time (`target put`, `target rollback`): the database is the state, and a
    /// start keeps it whatever the file says.
    Operator,
}

impl TargetOrigin {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetOrigin::Config => "config",
            TargetOrigin::Operator => "operator",
        }
    }

    /// Reads a stored name (anything unknown is treated as an operator's change, the safe side).
    pub fn parse(text: &str) -> Self {
        if text == "config" {
            TargetOrigin::Config
        } else {
            TargetOrigin::Operator
        }
    }
}

/// One stored revision of a target's configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetRevision {
    /// The revision number.
    pub revision: i64,
    /// The configuration of that revision.
    pub spec: TargetSpec,
    /// Who wrote it.
    pub origin: TargetOrigin,
    /// What wrote it: `put`, `seed` or `rollback to N`.
    pub note: String,
    /// When, epoch milliseconds.
    pub created_at: i64,
}

/// A connector component stored by content digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredComponent {
    /// `sha256:<hex>` of the bytes.
    pub reference: String,
    /// Size in bytes.
    pub size: i64,
    /// When it was first stored, epoch milliseconds.
    pub added_at: i64,
}

/// The configuration of one target: a tenant's instance of a connector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    /// Owning tenant.
    pub tenant: String,
    /// Target name, unique within the tenant.
    pub name: String,
    /// Path of the connector component, or its content digest (`sha256:<hex>`).
    pub connector: String,
    /// Non-secret configuration values (text, boolean or integer), by property key.
    #[serde(default)]
    pub properties: BTreeMap<String, serde_json::Value>,
    /// Where each secret property's value comes from: `env:VAR`, `file:/path` or `stored:<key>`
    /// (a sealed secret of this target written through the admin API).
    pub secret_refs: BTreeMap<String, String>,
    /// Target fields and the local claims they are filled from.
    #[serde(default)]
    pub claim_mappings: Vec<ClaimMapping>,
    /// Outbound behaviour and limits.
    #[serde(default)]
    pub settings: OutboundSettings,
    /// Which non-public destinations the connector may reach (public only when left out).
    #[serde(default)]
    pub egress: TargetEgress,
}

/// A stored target with its operational state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetRecord {
    /// The configuration.
    pub spec: TargetSpec,
    /// Whether the target is paused.
    pub paused: bool,
    /// Why the target is paused.
    pub pause_reason: Option<String>,
    /// When a pause ends by itself (epoch ms); none while an operator must resume it.
    pub paused_until: Option<i64>,
    /// Whether a timed pause ended and the target is being probed: claims hand out one job at
    /// a time until one gets through (`pause_reason` still says why it was paused).
    #[serde(default)]
    pub probing: bool,
    /// How many times in a row the target's circuit opened (0 once a probe got through); sets
    /// the next cooldown.
    #[serde(default)]
    pub circuit_opens: i64,
    /// When a probe last got through (epoch ms): the target's allowed concurrency grows from
    /// one from then on.
    #[serde(default)]
    pub recovered_at: Option<i64>,
    /// Incremented on every configuration change.
    pub revision: i64,
    /// Who wrote the current revision.
    pub origin: TargetOrigin,
    /// Creation time, epoch milliseconds.
    pub created_at: i64,
    /// Time of the last change, epoch milliseconds.
    pub updated_at: i64,
}

impl TargetRecord {
    /// Whether the target refuses work at time `now`.
    pub fn is_paused_at(&self, now: i64) -> bool {
        self.paused && self.paused_until.is_none_or(|until| until > now)
    }
}

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting to be claimed (possibly not due yet).
    Pending,
    /// Claimed by a worker holding a lease.
    Running,
    /// Applied to the target.
    Done,
    /// Failed for good; waits for an operator to fix the cause and replay it.
    Dead,
    /// Folded into an earlier job of the same entity that carries its changes.
    Coalesced,
    /// Made pointless by a later change (the entity was deleted or left the target's scope).
    Superseded,
}

impl JobState {
    /// Every state, in life order.
    pub const ALL: [JobState; 6] = [
        JobState::Pending,
        JobState::Running,
        JobState::Done,
        JobState::Dead,
        JobState::Coalesced,
        JobState::Superseded,
    ];

    /// The stored name of the state.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Dead => "dead",
            JobState::Coalesced => "coalesced",
            JobState::Superseded => "superseded",
        }
    }

    /// Whether the job will not run again unless replayed.
    pub fn is_final(self) -> bool {
        !matches!(self, JobState::Pending | JobState::Running)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for JobState {
    type Err = StoreError;

    fn from_str(s: &str) -> StoreResult<Self> {
        JobState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| {
                StoreError::Conflict(format!(
                    "unknown job state `{s}` (expected one of pending, running, done, dead, coalesced, superseded)"
                ))
            })
    }
}

/// The stored name of an entity kind.
pub fn kind_str(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::User => "user",
        EntityKind::Group => "group",
    }
}

/// Parses a stored entity kind.
pub fn parse_kind(s: &str) -> StoreResult<EntityKind> {
    match s {
        "user" => Ok(EntityKind::User),
        "group" => Ok(EntityKind::Group),
        other => Err(StoreError::Conflict(format!(
            "unknown entity kind `{other}`"
        ))),
    }
}

/// The stored name of an operation.
pub fn operation_str(op: Operation) -> &'static str {
    match op {
        Operation::Create => "create",
        Operation::Update => "update",
        Operation::Delete => "delete",
    }
}

/// Parses a stored operation.
pub fn parse_operation(s: &str) -> StoreResult<Operation> {
    match s {
        "create" => Ok(Operation::Create),
        "update" => Ok(Operation::Update),
        "delete" => Ok(Operation::Delete),
        other => Err(StoreError::Conflict(format!("unknown operation `{other}`"))),
    }
}

/// Why a job failed, in the target's own words where it gave them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobError {
    /// The error case, e.g. `invalid_data`, `transient`, `sandbox_timeout`.
    pub kind: String,
    /// The target's own error code, e.g. `DUPLICATE_USERNAME`.
    pub code: Option<String>,
    /// Human-readable explanation.
    pub message: String,
}

/// A job to add to the outbox.
#[derive(Clone, Debug, PartialEq)]
pub struct NewJob {
    /// Target the job is for.
    pub target: String,
    /// Kind of the entity.
    pub entity_kind: EntityKind,
    /// Local id of the entity.
    pub entity_id: String,
    /// Name of the entity at the time of the change.
    pub entity_name: String,
    /// What happened locally.
    pub operation: Operation,
    /// URIs of the claims the change touched.
    pub changed_claims: Vec<String>,
    /// Entity version the change produced.
    pub entity_version: i64,
}

/// One outbox job: a local change to apply to one target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    /// Global sequence number; orders the jobs of one entity.
    pub id: i64,
    /// Owning tenant.
    pub tenant: String,
    /// Target the job is for.
    pub target: String,
    /// Kind of the entity.
    pub entity_kind: EntityKind,
    /// Local id of the entity.
    pub entity_id: String,
    /// Name of the entity at the time of the change.
    pub entity_name: String,
    /// What happened locally.
    pub operation: Operation,
    /// URIs of the claims the change (and any coalesced changes) touched.
    pub changed_claims: Vec<String>,
    /// Entity version the change produced.
    pub entity_version: i64,
    /// Where the job is in its life.
    pub state: JobState,
    /// Failed attempts burnt so far.
    pub attempts: i64,
    /// Whether an earlier attempt may have been applied remotely without us knowing.
    pub outcome_unknown: bool,
    /// Rate-limited waiting granted so far without spending an attempt, in milliseconds.
    #[serde(default)]
    pub rate_limited_ms: i64,
    /// When the job may run next, epoch milliseconds.
    pub due_at: i64,
    /// Worker holding the job while it runs.
    pub lease_owner: Option<String>,
    /// When the lease expires, epoch milliseconds.
    pub lease_until: Option<i64>,
    /// The job this one was folded into.
    pub coalesced_into: Option<i64>,
    /// Remote id the target returned, when it returned one.
    pub remote_id: Option<String>,
    /// The last failure.
    pub error: Option<JobError>,
    /// Creation time, epoch milliseconds.
    pub created_at: i64,
    /// Time of the last change, epoch milliseconds.
    pub updated_at: i64,
    /// When the job reached a final state, epoch milliseconds.
    pub finished_at: Option<i64>,
}

/// Selects jobs to list.
#[derive(Clone, Debug, Default)]
pub struct JobFilter {
    /// Only this tenant's jobs.
    pub tenant: Option<String>,
    /// Only this target's jobs.
    pub target: Option<String>,
    /// Only jobs in this state.
    pub state: Option<JobState>,
    /// At most this many jobs (newest first); none for a default of 100.
    pub limit: Option<i64>,
}

/// Selects a page of jobs, newest first, for the admin API.
#[derive(Clone, Debug, Default)]
pub struct JobQuery {
    /// Only this tenant's jobs.
    pub tenant: Option<String>,
    /// Only this target's jobs.
    pub target: Option<String>,
    /// Only jobs in this state.
    pub state: Option<JobState>,
    /// Only jobs of the entity with this local id.
    pub entity_id: Option<String>,
    /// Only jobs with an id below this one (the next page after a page ending there).
    pub before: Option<i64>,
    /// At most this many jobs; none for a default of 100.
    pub limit: Option<i64>,
}

/// One connector call, as recorded in the audit log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptRecord {
    /// Sequence number of the record.
    pub id: i64,
    /// The job the call was made for.
    pub job_id: i64,
    /// Owning tenant.
    pub tenant: String,
    /// Target called.
    pub target: String,
    /// Kind of the entity.
    pub entity_kind: EntityKind,
    /// Local id of the entity.
    pub entity_id: String,
    /// The operation of the job the call was made for (`create`, `update` or `delete`; a
    /// `lookup` call serves one of them); none for attempts recorded before the log kept it.
    #[serde(default)]
    pub operation: Option<String>,
    /// The call: `create`, `update`, `delete` or `lookup`.
    pub call: String,
    /// `ok`, `found`, `absent`, or the error case.
    pub outcome: String,
    /// The target's own error code, if any.
    pub target_code: Option<String>,
    /// The error message, if any.
    pub message: Option<String>,
    /// The remote id returned or found, if any.
    pub remote_id: Option<String>,
    /// When the call started, epoch milliseconds.
    pub started_at: i64,
    /// How long the call took, in milliseconds.
    pub duration_ms: i64,
    /// The mapped fields the call carried, target field to value, secret-looking values
    /// redacted (see [`crate::logged_fields`]); none when the call carried no user fields.
    #[serde(default)]
    pub fields: Option<BTreeMap<String, String>>,
}

/// Provisioning history of one entity across targets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntityHistory {
    /// The entity's jobs, oldest first.
    pub jobs: Vec<JobRecord>,
    /// Every connector call made for the entity, oldest first.
    pub attempts: Vec<AttemptRecord>,
    /// Remote ids by target.
    pub remote_ids: BTreeMap<String, String>,
}
