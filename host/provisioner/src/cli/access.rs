//! Where an operational command works: a running server's admin API (the normal way, for a
//! server on any database, with several replicas, or without a shell on its host), or, as an
//! explicit offline mode, the database itself.

use anyhow::{bail, Context};
use clap::Args;
use provisioner_engine::store::Store;
use provisioner_engine::Engine;

use super::admin_client::{AdminClient, TOKEN_ENV, USER_ENV};

/// The environment variable naming the admin API's server when `--server` is not given.
pub const SERVER_ENV: &str = "PROVISIONER_SERVER";

/// `--server` (the admin API) or `--db` (offline).
#[derive(Debug, Args)]
pub struct Access {
    /// A running server, e.g. `http://127.0.0.1:9443` (default: $PROVISIONER_SERVER); the
    /// command asks its admin API. Credentials come from the environment:
    /// PROVISIONER_ADMIN_TOKEN, or PROVISIONER_ADMIN_USER and PROVISIONER_ADMIN_PASSWORD.
    #[arg(long, conflicts_with = "db")]
    pub server: Option<String>,
    /// Offline mode: open the database directly (`sqlite:provisioner.db` or
    /// `postgres://user:password@host:5432/db`) instead of asking a server, e.g. while the
    /// server is stopped.
    #[arg(long)]
    pub db: Option<String>,
}

/// An opened [`Access`].
pub enum Via {
    /// Through a server's admin API.
    Api(AdminClient),
    /// Offline, on the database.
    Offline(Engine),
}

impl Access {
    /// Connects as asked: `--db` opens the database, else `--server` (or $PROVISIONER_SERVER)
    /// makes an admin API client.
    pub async fn open(&self) -> anyhow::Result<Via> {
        if let Some(db) = &self.db {
            let store = Store::open(db)
                .await
                .with_context(|| format!("cannot open the store at {db}"))?;
            return Ok(Via::Offline(Engine::new(store)));
        }
        let server = self
            .server
            .clone()
            .or_else(|| std::env::var(SERVER_ENV).ok().filter(|s| !s.is_empty()));
        match server {
            Some(server) => Ok(Via::Api(AdminClient::from_env(&server)?)),
            None => bail!(
                "say where to work: --server <url> (a running server's admin API, with \
                 {TOKEN_ENV} or {USER_ENV} set; or ${SERVER_ENV}), or --db <url> (offline, \
                 directly on the database)"
            ),
        }
    }
}
