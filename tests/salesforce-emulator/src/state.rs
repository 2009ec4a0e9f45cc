//! The mutable state of one emulated org and the handle shared by every request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use rand::{rngs::StdRng, SeedableRng};
use serde_json::Value;

use crate::config::EmulatorConfig;
use crate::counters::{Counters, RequestLog};
use crate::faults::FaultBook;
use crate::ids::IdGenerator;
use crate::limits::ApiUsage;
use crate::sessions::SessionStore;
use crate::users::Directory;

/// A query's result set kept for `nextRecordsUrl` paging.
#[derive(Debug, Clone)]
pub struct QueryCursor {
    /// All rendered records of the result.
    pub records: Vec<Value>,
    /// Page size.
    pub batch: usize,
}

/// Everything an org holds; guarded by one mutex (no lock is held across an await).
#[derive(Debug)]
pub struct Org {
    /// Live configuration (switches can be flipped at run time).
    pub config: EmulatorConfig,
    /// Users and reference data.
    pub directory: Directory,
    /// Access tokens.
    pub sessions: SessionStore,
    /// API allocation.
    pub usage: ApiUsage,
    /// Counters.
    pub counters: Counters,
    /// Request log.
    pub log: RequestLog,
    /// Armed faults.
    pub faults: FaultBook,
    /// Open query cursors by locator id.
    pub cursors: HashMap<String, QueryCursor>,
    /// Random source for token bodies.
    pub rng: StdRng,
    /// Generator of query locator ids.
    pub locators: IdGenerator,
}

impl Org {
    /// A fresh org built from `config`.
    pub fn new(config: EmulatorConfig) -> Self {
        Self {
            directory: Directory::new(&config),
            sessions: SessionStore::new(config.token_lifetime),
            usage: ApiUsage::new(config.api_max),
            counters: Counters::default(),
            log: RequestLog::new(config.request_log_capacity),
            faults: FaultBook::new(config.rng_seed),
            cursors: HashMap::new(),
            rng: StdRng::seed_from_u64(config.rng_seed ^ 0x70_6b_65_6e),
            locators: IdGenerator::new(5000),
            config,
        }
    }
}

/// State shared by the server and the [`crate::Emulator`] handle.
#[derive(Debug)]
pub struct Shared {
    /// The org.
    org: Mutex<Org>,
    /// The configuration the emulator started with (what a reset returns to).
    pub initial: EmulatorConfig,
    /// `http://host:port` of the server.
    pub base_url: String,
}

/// The axum state type.
pub type AppState = Arc<Shared>;

impl Shared {
    /// Creates the shared state.
    pub fn new(config: EmulatorConfig, base_url: String) -> Self {
        Self {
            org: Mutex::new(Org::new(config.clone())),
            initial: config,
            base_url,
        }
    }

    /// Locks the org (recovering from a poisoned lock: a panicking request must not wedge tests).
    pub fn org(&self) -> MutexGuard<'_, Org> {
        self.org.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Resets the org to the start configuration, keeping the request log's sequence.
    pub fn reset(&self) {
        let mut org = self.org();
        *org = Org::new(self.initial.clone());
    }
}
