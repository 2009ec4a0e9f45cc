//! Liveness and readiness.
//!
//! `GET /healthz` answers 200 whenever the process serves requests. `GET /readyz` answers 200
//! when the store answers and the connector of every unpaused target is prepared (compiled and
//! configured), else 503; either way its JSON body says what is (not) ready and why, so a load
//! balancer or an operator sees which target holds the server back.

use serde::Serialize;

use provisioner_engine::store::TargetRecord;

use crate::Registry;

/// The body of `/healthz`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Health {
    /// Always `"ok"`.
    pub status: &'static str,
}

/// The body of `/readyz`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Readiness {
    /// Whether the server is ready: the store answers and no unpaused target's connector is
    /// unprepared.
    pub ready: bool,
    /// `"ok"`, or why the store did not answer.
    pub store: String,
    /// The unpaused targets whose connector is not ready.
    pub targets_not_ready: Vec<TargetNotReady>,
}

/// An unpaused target whose connector is not ready.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TargetNotReady {
    /// The tenant.
    pub tenant: String,
    /// The target.
    pub target: String,
    /// `"preparing"` (being loaded or compiled) or `"failed"`.
    pub state: &'static str,
    /// Why preparing failed, and what to fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The readiness of a server whose store answered with `targets` (or failed with the error).
pub fn readiness(targets: Result<&[TargetRecord], String>, registry: &Registry) -> Readiness {
    let targets = match targets {
        Ok(targets) => targets,
        Err(error) => {
            return Readiness {
                ready: false,
                store: format!("the store did not answer: {error}"),
                targets_not_ready: Vec::new(),
            }
        }
    };
    let targets_not_ready: Vec<TargetNotReady> = targets
        .iter()
        .filter(|target| !target.paused)
        .filter_map(|target| {
            let (state, reason) = match registry.prepared(target) {
                Some(true) => return None,
                Some(false) => (
                    "failed",
                    registry.preparation_failure(target).map(|why| {
                        format!("{why}; fix the target (e.g. `provisioner target put`) or pause it")
                    }),
                ),
                None => ("preparing", None),
            };
            Some(TargetNotReady {
                tenant: target.spec.tenant.clone(),
                target: target.spec.name.clone(),
                state,
                reason,
            })
        })
        .collect();
    Readiness {
        ready: targets_not_ready.is_empty(),
        store: "ok".into(),
        targets_not_ready,
    }
}
