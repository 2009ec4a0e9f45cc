//! The SCIM router over the in-memory backend (which keeps every resource whole), for running
//! protocol checkers against this crate alone: one tenant, authenticated by the bearer token in
//! `SCIM_TOKEN`, on a free loopback port. Prints `SCIM API listening on http://<addr>` and
//! serves until stopped.
//!
//!   SCIM_TOKEN=<at least 16 characters> cargo run -p scim --example memory_server

use std::sync::Arc;

use scim::{router, CredentialStore, MemoryBackend, ScimConfig, TenantId};

#[tokio::main]
async fn main() {
    let token = std::env::var("SCIM_TOKEN").unwrap_or_default();
    if token.len() < 16 {
        eprintln!("set SCIM_TOKEN to the bearer token clients will use (16 characters or more)");
        std::process::exit(2);
    }
    let creds = CredentialStore::new();
    creds.add_bearer(TenantId::new("memory"), "checker", &token);
    let app = router(
        Arc::new(MemoryBackend::new()),
        Arc::new(creds),
        ScimConfig::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    println!(
        "SCIM API listening on http://{}",
        listener.local_addr().expect("local address")
    );
    axum::serve(listener, app).await.expect("serve");
}
