//! A SCIM server for tests: the quickstart configuration on a free port, its org an emulator.
#![allow(dead_code)]

use std::time::Duration;

use provisioner_engine::store::{JobFilter, JobRecord};
use provisioner_server::config::{
    AdminSection, AdminToken, BasicCredential, ServerConfig, TenantConfig,
};
use provisioner_server::{self as server, quickstart, ServerHandle};
use salesforce_emulator::{Emulator, EmulatorConfig};

use super::org_support::org;

/// Test databases on PostgreSQL, shared with the engine suites.
#[path = "../../../engine/tests/engine_support/postgres.rs"]
pub mod postgres;

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
/// Salesforce target) on a free port, with `adjust` applied to the configuration first. The
/// database is a new one on the PostgreSQL server [`postgres::POSTGRES_URL_VAR`] names, if set
/// (`adjust` may still choose another), else a SQLite file.
pub async fn start(password: &str, adjust: impl FnOnce(&mut ServerConfig)) -> Setup {
    start_with(password, server::StartOptions::default(), adjust).await
}

/// [`start`] with start options.
pub async fn start_with(
    password: &str,
    options: server::StartOptions,
    adjust: impl FnOnce(&mut ServerConfig),
) -> Setup {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = quickstart::config(&org(&emulator), dir.path(), "127.0.0.1:0", password);
    config.dispatcher.poll_ms = 50;
    if let Some(server) = postgres::postgres_server() {
        config.database.url = postgres::fresh_postgres_database(&server).await;
    }
    adjust(&mut config);
    let server = server::start_with(config, options).await.unwrap();
    // Blocking targets' writes wait for their outcome only once the connector is prepared.
    assert!(
        server.connectors_prepared().await,
        "the connectors were never prepared"
    );
    let base = format!("http://{}", server.addr());
    Setup {
        server,
        emulator,
        base,
        http: reqwest::Client::new(),
        _dir: dir,
    }
}

/// The tenant [`add_other_tenant_and_admin_tokens`] adds.
pub const OTHER_TENANT: &str = "other.example";

/// Adds tenant `other.example` (SCIM Basic user `other`) and two admin tokens: `root_token`, a
/// server administrator, and `other_token`, the administrator of `other.example` alone.
pub fn add_other_tenant_and_admin_tokens(
    config: &mut ServerConfig,
    root_token: &str,
    other_token: &str,
) {
    config.tenants.push(TenantConfig {
        name: OTHER_TENANT.into(),
        basic: vec![BasicCredential {
            username: "other".into(),
            password: Some("other-scim-password".into()),
            password_hash: None,
        }],
        ..TenantConfig::default()
    });
    config.admin = AdminSection {
        users: Vec::new(),
        tokens: vec![
            AdminToken {
                label: "root".into(),
                token: root_token.into(),
                tenant: None,
            },
            AdminToken {
                label: "other".into(),
                token: other_token.into(),
                tenant: Some(OTHER_TENANT.into()),
            },
        ],
    };
}

/// Polls `check` until it returns `Some`, for up to 60 seconds.
pub async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    for _ in 0..600 {
        if let Some(value) = check() {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Waits until every job of the tenant is final and returns them.
pub async fn settled_jobs(s: &Setup, tenant: &str) -> Vec<JobRecord> {
    let store = s.server.engine().store().clone();
    for _ in 0..600 {
        let jobs = store
            .list_jobs(&JobFilter {
                tenant: Some(tenant.into()),
                ..JobFilter::default()
            })
            .await
            .unwrap();
        if jobs.iter().all(|j| j.state.is_final()) {
            return jobs;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("jobs did not settle");
}
