//! Test databases on a PostgreSQL server: the engine and server suites run against one when
//! [`POSTGRES_URL_VAR`] names it (`tests/support/postgres.sh start` prints such a URL).
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

/// The environment variable naming a PostgreSQL server (`postgres://user@host:port/database`)
/// that the engine suites run against instead of SQLite; `tests/support/postgres.sh start`
/// starts one and prints its URL.
pub const POSTGRES_URL_VAR: &str = "PROVISIONER_TEST_POSTGRES_URL";

/// The PostgreSQL server URL the environment names, if any.
pub fn postgres_server() -> Option<String> {
    std::env::var(POSTGRES_URL_VAR)
        .ok()
        .filter(|url| !url.is_empty())
}

/// Creates a uniquely named database on the PostgreSQL server at `server` and returns its URL.
pub async fn fresh_postgres_database(server: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let name = format!(
        "engine_test_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    sqlx::any::install_default_drivers();
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(server)
        .await
        .unwrap_or_else(|error| panic!("{POSTGRES_URL_VAR}={server}: cannot connect: {error}"));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::Connection::close(admin).await.unwrap();
    let (base, query) = server.split_once('?').unwrap_or((server, ""));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    if query.is_empty() {
        format!("{root}/{name}")
    } else {
        format!("{root}/{name}?{query}")
    }
}
