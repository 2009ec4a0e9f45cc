//! Hostile test connector (contract 0.2) whose `provision` allocates 1 MiB blocks until growth
//! fails, to prove the per-store memory limit. A correct host traps the guest at the limit, so the
//! "growth refused" report below should never reach the host. `lookup` asks for 1 GiB in one raw
//! `memory.grow` and reports what it returned.
//!
//! `provision-batch` (`max-batch-size` 1) applies `provision` to each change in order, so it hits
//! the limit on the first one; `list-entities` answers `unsupported`.

use provisioner_sdk::prelude::*;

/// The connector.
pub struct Hog;

const BLOCK: usize = 1 << 20;

impl Connector for Hog {
    fn metadata() -> ConnectorMetadata {
        ConnectorMetadata::new(
            "memory-hog",
            "Memory hog",
            "0.1.0",
            "Grows memory without bound in provision.",
        )
    }

    fn provision(_cx: &Context, _change: &Change) -> Result<ProvisionOutcome, ProvisionError> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            let mut block = Vec::new();
            if block.try_reserve_exact(BLOCK).is_err() {
                return Ok(ProvisionOutcome::created(None)
                    .warning(format!("growth refused after {} MiB", hoard.len())));
            }
            block.resize(BLOCK, 0xA5);
            hoard.push(std::hint::black_box(block));
        }
    }

    fn lookup(_cx: &Context, _key: &LookupKey) -> Result<Option<RemoteObject>, ProvisionError> {
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

    fn list_entities(_cx: &Context, _request: &ListRequest) -> Result<RemotePage, ProvisionError> {
        Err(error::unsupported("memory-hog cannot list entities"))
    }
}

provisioner_sdk::export_connector!(Hog);
