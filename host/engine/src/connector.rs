//! The boundary between the engine and whatever executes connector calls.
//!
//! The dispatcher only ever talks to a [`TargetConnector`]; the sandboxed runtime is adapted to
//! it by the registry, and tests substitute fakes.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;

use crate::store::TargetRecord;
use provisioner_contract::{
    Change, ErrorDetail, ListRequest, LookupKey, ProvisionError, ProvisionOutcome, RemoteObject,
    RemotePage,
};

/// How a sandboxed call failed without the connector returning a typed error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SandboxFailureKind {
    /// The call ran past its deadline (epoch deadline or outer timeout).
    Timeout,
    /// The guest trapped.
    Trap,
    /// The guest exceeded its memory limit.
    Memory,
    /// The component could not be instantiated or called.
    Instantiation,
}

impl SandboxFailureKind {
    /// A short stable name, used as the error kind in the job and attempt records.
    pub fn as_str(self) -> &'static str {
        match self {
            SandboxFailureKind::Timeout => "sandbox_timeout",
            SandboxFailureKind::Trap => "sandbox_trap",
            SandboxFailureKind::Memory => "sandbox_memory",
            SandboxFailureKind::Instantiation => "sandbox_instantiation",
        }
    }
}

/// Why a connector call did not produce a result.
#[derive(Clone, Debug, PartialEq)]
pub enum CallFailure {
    /// The connector answered with a typed error.
    Connector(ProvisionError),
    /// The sandbox failed the call. For a write the outcome is unknown.
    Sandbox {
        /// What went wrong.
        kind: SandboxFailureKind,
        /// Details for operators.
        message: String,
    },
}

impl fmt::Display for CallFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallFailure::Connector(error) => write!(f, "{error:?}"),
            CallFailure::Sandbox { kind, message } => write!(f, "{}: {message}", kind.as_str()),
        }
    }
}

/// Result of a connector call.
pub type CallResult<T> = Result<T, CallFailure>;

/// One target's connector instance, as the dispatcher calls it.
pub trait TargetConnector: Send + Sync + 'static {
    /// Applies one local change to the target.
    fn provision(&self, change: Change) -> BoxFuture<'_, CallResult<ProvisionOutcome>>;

    /// Finds a remote entity, to correlate it or to resolve a write of unknown outcome.
    fn lookup(&self, key: LookupKey) -> BoxFuture<'_, CallResult<Option<RemoteObject>>>;

    /// The most changes one [`Self::provision_batch`] call carries (at least 1). The default,
    /// 1, means the target takes one change per call.
    fn batch_size(&self) -> usize {
        1
    }

    /// Reads one page of remote entities, for reconciliation. The default answers
    /// `unsupported`: a target that cannot be listed cannot be reconciled.
    fn list_entities(&self, request: ListRequest) -> BoxFuture<'_, CallResult<RemotePage>> {
        let _ = request;
        Box::pin(async {
            Err(CallFailure::Connector(ProvisionError::Unsupported(
                ErrorDetail {
                    message: "this connector cannot list remote entities".into(),
                    target_code: None,
                    fields: Vec::new(),
                    http_status: None,
                },
            )))
        })
    }

    /// Applies several local changes to the target in one call. `Err` means the whole call
    /// failed (no change has a result of its own; for writes the outcome is unknown); `Ok`
    /// holds one result per change, in the order given. The default calls
    /// [`Self::provision`] once per change.
    fn provision_batch(
        &self,
        changes: Vec<Change>,
    ) -> BoxFuture<'_, CallResult<Vec<CallResult<ProvisionOutcome>>>> {
        Box::pin(async move {
            let mut results = Vec::with_capacity(changes.len());
            for change in changes {
                results.push(self.provision(change).await);
            }
            Ok(results)
        })
    }
}

/// Why a stored target's connector could not be built. The dispatcher pauses the target with
/// this as the reason; an operator fixes the configuration and resumes it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorUnavailable {
    /// A secret reference could not be resolved.
    #[error("secret `{key}`: {message}")]
    Secret {
        /// The secret's property key.
        key: String,
        /// Why (names the variable or file, never a value).
        message: String,
    },
    /// The component could not be found or loaded.
    #[error("component `{reference}`: {message}")]
    Component {
        /// The target's connector reference.
        reference: String,
        /// Why.
        message: String,
    },
    /// The stored configuration does not fit the connector.
    #[error("configuration: {0}")]
    Config(String),
    /// The connector is being prepared (its component compiled ahead) and is not ready yet.
    /// Not a fault: the dispatcher leaves the job queued, without pausing the target or
    /// spending an attempt, and tries again shortly.
    #[error("not ready yet: {0}")]
    NotReady(String),
}

/// The error kind a job carries while it waits for its target's connector to be prepared.
pub const CONNECTOR_NOT_READY: &str = "connector_not_ready";

/// Supplies the connector instance of a stored target.
pub trait ConnectorSource: Send + Sync + 'static {
    /// The connector for `target`, built (or reused) from its stored configuration. An error
    /// means the target cannot be reached as configured.
    fn connector<'a>(
        &'a self,
        target: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Arc<dyn TargetConnector>, ConnectorUnavailable>>;

    /// What `target`'s connector would write, rendered without sending anything (a dry run),
    /// so that reconciliation compares a remote value with what the connector really writes
    /// (a value it derives, cuts or coerces by its own rules) and not with the mapping alone.
    /// None (the default): not available, the mapping is the reference.
    fn renderer<'a>(
        &'a self,
        target: &'a TargetRecord,
    ) -> BoxFuture<'a, Option<Arc<dyn ChangeRenderer>>> {
        let _ = target;
        Box::pin(async { None })
    }
}

/// Renders the fields a connector would send for a change, without sending it.
pub trait ChangeRenderer: Send + Sync {
    /// The fields the connector's request for `change` would carry, by target field (nested
    /// ones as dotted paths), values as text; None when it cannot tell (the connector refused
    /// the change, or sent no body).
    fn render<'a>(&'a self, change: &'a Change) -> BoxFuture<'a, Option<BTreeMap<String, String>>>;
}
