//! Hostile test connector (contract 0.2) whose `provision` spins forever, to prove the per-call
//! deadline. `provision-batch` (`max-batch-size` 1) applies `provision` to each change in order, so
//! it spins forever on the first one; `list-entities` answers `unsupported`.

wit_bindgen::generate!({ path: "../../../wit/v0.2", world: "connector" });

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
            max_batch_size: 1,
        }
    }
    fn validate(_config: ConnectorConfig) -> Vec<ConfigProblem> {
        vec![]
    }
    fn provision(
        _config: ConnectorConfig,
        _change: Change,
    ) -> Result<ProvisionOutcome, ProvisionError> {
        let mut x: u64 = 0;
        loop {
            x = std::hint::black_box(x.wrapping_add(1));
        }
    }
    fn provision_batch(
        config: ConnectorConfig,
        changes: Vec<Change>,
    ) -> Vec<Result<ProvisionOutcome, ProvisionError>> {
        changes
            .into_iter()
            .map(|change| Self::provision(config.clone(), change))
            .collect()
    }
    fn lookup(
        _config: ConnectorConfig,
        _key: LookupKey,
    ) -> Result<Option<RemoteObject>, ProvisionError> {
        Ok(None)
    }
    fn list_entities(
        _config: ConnectorConfig,
        _request: ListRequest,
    ) -> Result<RemotePage, ProvisionError> {
        Err(ProvisionError::Unsupported(ErrorDetail {
            message: "endless-loop cannot list entities".into(),
            target_code: None,
            fields: vec![],
            http_status: None,
        }))
    }
}

#[cfg(target_arch = "wasm32")]
export!(Loop);
