//! What a target's connector would write for a change, rendered by a dry run of the real
//! component (see [`DryRun`]): reconciliation compares remote values with it
//! ([`provisioner_engine::ConnectorSource::renderer`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::BoxFuture;

use provisioner_contract::Change;
use provisioner_engine::store::TargetRecord;
use provisioner_engine::ChangeRenderer;
use provisioner_runtime::TargetInstance;

use super::{sent_fields, DryRun, DRY_RUN_SECRET};
use crate::registry::Registry;

/// A target's connector with placeholder secrets and a dry-run transport: it renders changes,
/// one at a time, and never reaches the target or its token endpoint.
pub struct DryRunRenderer {
    instance: TargetInstance,
    recorder: Arc<DryRun>,
    /// One render at a time, so the recorder holds one change's requests.
    turn: tokio::sync::Mutex<()>,
}

impl DryRunRenderer {
    /// The renderer of `target`'s connector from `registry`; None when the connector cannot be
    /// prepared (reconciliation then compares with the mappings alone).
    pub async fn for_target(registry: &Registry, target: &TargetRecord) -> Option<Self> {
        let instance = match registry.placeholder_instance(target, DRY_RUN_SECRET).await {
            Ok(instance) => instance,
            Err(error) => {
                tracing::warn!(tenant = %target.spec.tenant, target_name = %target.spec.name,
                    %error, "no dry run of the connector; drift is compared with the mappings only");
                return None;
            }
        };
        let recorder = Arc::new(DryRun::default());
        Some(DryRunRenderer {
            instance: instance.with_transport(recorder.clone(), recorder.clone()),
            recorder,
            turn: tokio::sync::Mutex::new(()),
        })
    }
}

impl ChangeRenderer for DryRunRenderer {
    fn render<'a>(&'a self, change: &'a Change) -> BoxFuture<'a, Option<BTreeMap<String, String>>> {
        Box::pin(async move {
            let _turn = self.turn.lock().await;
            self.recorder.take_requests();
            let answered = self.instance.provision(change).await;
            let requests = self.recorder.take_requests();
            answered.ok()?;
            sent_fields::body_fields(&requests)
        })
    }
}
