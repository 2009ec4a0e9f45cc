//! What loading a component reports: where the compiled code came from, or why it failed.

use std::path::PathBuf;
use std::time::Duration;

use provisioner_contract::VersionError;

use crate::call::CallError;

/// Why a component could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read component {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The bytes are not a valid component for this engine.
    #[error("cannot compile component: {message}")]
    Compile {
        /// Wasmtime's explanation.
        message: String,
    },
    /// The component imports what the host does not provide; found before compiling.
    #[error("{0}")]
    Imports(#[from] crate::imports::ImportsError),
    /// The component was built for a contract version this host does not support, or is not a
    /// connector at all.
    #[error("{0}")]
    Version(#[from] VersionError),
    /// The component imports something the host does not provide, or exports the wrong world.
    #[error(
        "component does not fit the provisioning:connector world: {message}{}",
        unknown_list(unknown_imports)
    )]
    Link {
        /// Wasmtime's explanation.
        message: String,
        /// Imports outside `wasi:*` and `provisioning:connector/*`.
        unknown_imports: Vec<String>,
    },
    /// The component's `metadata()` call failed.
    #[error("calling metadata() failed: {0}")]
    Metadata(#[source] CallError),
}

fn unknown_list(imports: &[String]) -> String {
    if imports.is_empty() {
        String::new()
    } else {
        format!(
            "; imports the host does not provide: [{}]",
            imports.join(", ")
        )
    }
}

/// Where a loaded component came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum LoadSource {
    /// Already loaded by this runtime.
    Memory,
    /// Deserialized from the on-disk artifact cache.
    DiskCache,
    /// Compiled now (and stored in the cache).
    Compiled,
}

/// What a load did, for logs and tests.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LoadReport {
    /// Hex SHA-256 of the component bytes.
    pub digest: String,
    /// Where the compiled code came from.
    pub source: LoadSource,
    /// The artifact file in the cache.
    pub artifact: PathBuf,
    /// How long the load took.
    pub elapsed: Duration,
}

impl LoadReport {
    /// True when nothing was compiled.
    pub fn cache_hit(&self) -> bool {
        self.source != LoadSource::Compiled
    }
}
