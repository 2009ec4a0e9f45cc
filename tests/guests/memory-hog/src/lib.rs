//! Hostile test connector (contract 0.2) whose `provision` allocates 1 MiB blocks until growth
//! fails, to prove the per-store memory limit. A correct host traps the guest at the limit, so the
//! "growth refused" report below should never reach the host. `lookup` asks for 1 GiB in one raw
//! `memory.grow` and reports what it returned.
//!
//! `provision-batch` (`max-batch-size` 1) applies `provision` to each change in order, so it hits
//! the limit on the first one; `list-entities` answers `unsupported`.

wit_bindgen::generate!({ path: "../../../wit/v0.2", world: "connector" });

use exports::provisioning::connector::provisioning::Guest;
use provisioning::connector::types::*;

struct Hog;

const BLOCK: usize = 1 << 20;

impl Guest for Hog {
    fn metadata() -> ConnectorMetadata {
        ConnectorMetadata {
            id: "memory-hog".into(),
            name: "Memory hog".into(),
            version: "0.1.0".into(),
            description: "Grows memory without bound in provision.".into(),
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
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            let mut block = Vec::new();
            if block.try_reserve_exact(BLOCK).is_err() {
                return Ok(ProvisionOutcome {
                    remote_id: None,
                    warnings: vec![format!("growth refused after {} MiB", hoard.len())],
                });
            }
            block.resize(BLOCK, 0xA5);
            hoard.push(std::hint::black_box(block));
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
        // Raw `memory.grow` of 1 GiB in one step, bypassing the allocator.
        #[cfg(target_arch = "wasm32")]
        let pages = core::arch::wasm32::memory_grow(0, 16384);
        #[cfg(not(target_arch = "wasm32"))]
        let pages = usize::MAX;
        Ok(Some(RemoteObject {
            remote_id: format!("memory.grow returned {pages}"),
            active: None,
            attributes: vec![],
        }))
    }
    fn list_entities(
        _config: ConnectorConfig,
        _request: ListRequest,
    ) -> Result<RemotePage, ProvisionError> {
        Err(ProvisionError::Unsupported(ErrorDetail {
            message: "memory-hog cannot list entities".into(),
            target_code: None,
            fields: vec![],
            http_status: None,
        }))
    }
}

#[cfg(target_arch = "wasm32")]
export!(Hog);
