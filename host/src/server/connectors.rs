//! [`ServerConnectors`]: the dispatcher's connector source in the server, adding what the
//! configuration file knows to the stored targets: each target's egress policy and its literal
//! secrets (which the store refuses to hold; it keeps only `env:`/`file:` references).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;

use crate::capabilities::secrets::SecretValue;
use crate::engine::registry::{ConnectorFactory, RuntimeFactory};
use crate::engine::{ConnectorSource, Registry, TargetConnector};
use crate::runtime::Runtime;
use crate::store::TargetRecord;
use crate::EgressPolicy;

/// What the configuration adds to one stored target.
#[derive(Clone, Debug, Default)]
pub struct TargetExtras {
    /// Non-public destinations the target may reach.
    pub egress: EgressPolicy,
    /// Secret values given literally in the configuration, by property key.
    pub literal_secrets: BTreeMap<String, String>,
}

/// (tenant, target name).
type Key = (String, String);

/// A built connector and the target revision it was built from.
type Cached = (i64, Arc<dyn TargetConnector>);

/// Builds (and caches per configuration revision) each target's sandboxed connector.
pub struct ServerConnectors {
    runtime: Runtime,
    extras: HashMap<Key, TargetExtras>,
    cache: Mutex<HashMap<Key, Cached>>,
}

impl ServerConnectors {
    /// A source running components in `runtime`; targets absent from `extras` get the default
    /// (public-only) egress and only their stored secret references.
    pub fn new(runtime: Runtime, extras: HashMap<Key, TargetExtras>) -> Self {
        Self {
            runtime,
            extras,
            cache: Mutex::default(),
        }
    }
}

impl ConnectorSource for ServerConnectors {
    fn connector<'a>(
        &'a self,
        target: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Arc<dyn TargetConnector>, String>> {
        Box::pin(async move {
            let key = (target.spec.tenant.clone(), target.spec.name.clone());
            if let Some((revision, connector)) = self
                .cache
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&key)
            {
                if *revision == target.revision {
                    return Ok(connector.clone());
                }
            }
            let extras = self.extras.get(&key).cloned().unwrap_or_default();
            let mut request = Registry::build_request(target)?;
            for (name, value) in extras.literal_secrets {
                request.secrets.insert(name, SecretValue::new(value));
            }
            let connector = RuntimeFactory::new(self.runtime.clone(), extras.egress)
                .build(request)
                .await?;
            self.cache
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key, (target.revision, connector.clone()));
            Ok(connector)
        })
    }
}
