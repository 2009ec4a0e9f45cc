//! A SCIM server for tests: the quickstart configuration on a free port, its org an emulator.
#![allow(dead_code)]

use provisioner_server::config::ServerConfig;
use provisioner_server::{self as server, quickstart, ServerHandle};
use salesforce_emulator::{Emulator, EmulatorConfig};

use super::org_support::org;

/// A running server, its emulated org and an HTTP client.
pub struct Setup {
    /// The server.
    pub server: ServerHandle,
    /// The quickstart target's org.
    pub emulator: Emulator,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// A client for the tests' requests.
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// Starts the quickstart configuration (Basic user `admin` with `password`, the tutorial's
/// Salesforce target) on a free port, with `adjust` applied to the configuration first.
pub async fn start(password: &str, adjust: impl FnOnce(&mut ServerConfig)) -> Setup {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = quickstart::config(&org(&emulator), dir.path(), "127.0.0.1:0", password);
    config.dispatcher.poll_ms = 50;
    adjust(&mut config);
    let server = server::start(config).await.unwrap();
    let base = format!("http://{}", server.addr());
    Setup {
        server,
        emulator,
        base,
        http: reqwest::Client::new(),
        _dir: dir,
    }
}
