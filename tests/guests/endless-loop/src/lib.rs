//! Hostile test connector (contract 0.2) whose `provision` spins forever, to prove the per-call
//! deadline. `provision-batch` (`max-batch-size` 1) applies `provision` to each change in order, so
//! it spins forever on the first one; `list-entities` answers `unsupported`.

use provisioner_sdk::prelude::*;

/// The connector.
pub struct Loop;

impl Connector for Loop {
    fn metadata() -> ConnectorMetadata {
        ConnectorMetadata::new(
            "endless-loop",
            "Endless loop",
            "0.1.0",
            "Spins forever in provision.",
        )
    }

    fn provision(_cx: &Context, _change: &Change) -> Result<ProvisionOutcome, ProvisionError> {
        let mut x: u64 = 0;
        loop {
            x = std::hint::black_box(x.wrapping_add(1));
        }
    }

    fn lookup(_cx: &Context, _key: &LookupKey) -> Result<Option<RemoteObject>, ProvisionError> {
        Ok(None)
    }

    fn list_entities(_cx: &Context, _request: &ListRequest) -> Result<RemotePage, ProvisionError> {
        Err(error::unsupported("endless-loop cannot list entities"))
    }
}

provisioner_sdk::export_connector!(Loop);
