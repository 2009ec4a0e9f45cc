//! Hostile test connector whose `provision` spins forever, to prove the per-call deadline.

wit_bindgen::generate!({ path: "../../../wit", world: "connector" });

use exports::provisioning::connector::provisioning::Guest;
use provisioning::connector::types::*;

struct Loop;

impl Guest for Loop {
    fn metadata() -> ConnectorMetadata {
        ConnectorMetadata {
            id: "endless-loop".into(),
            name: "Endless loop".into(),
            version: "0.1.0".into(),
            description: "Spins forever in provision.".into(),
            entity_kinds: vec![EntityKind::User],
            properties: vec![],
        }
    }
    fn validate(_config: ConnectorConfig) -> Vec<ConfigProblem> {
        vec![]
    }
    fn provision(
        _config: ConnectorConfig,
        _entity: Entity,
    ) -> Result<ProvisionOutcome, ProvisionError> {
        let mut x: u64 = 0;
        loop {
            x = std::hint::black_box(x.wrapping_add(1));
        }
    }
    fn lookup(
        _config: ConnectorConfig,
        _key: LookupKey,
    ) -> Result<Option<RemoteObject>, ProvisionError> {
        Ok(None)
    }
}

export!(Loop);
