//! Schema migrations, embedded in the binary and applied when the store opens.

use std::borrow::Cow;

use futures::future::BoxFuture;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

use super::{DbPool, StoreResult};

/// The SQLite migrations, in order: (version, description, SQL).
const SQLITE: &[(i64, &str, &str)] = &[
    (
        1,
        "engine",
        include_str!("../../migrations/sqlite/0001_engine.sql"),
    ),
    (
        2,
        "fair dispatch",
        include_str!("../../migrations/sqlite/0002_fair_dispatch.sql"),
    ),
    (
        3,
        "names unique in any case",
        include_str!("../../migrations/sqlite/0003_names_unique_in_any_case.sql"),
    ),
];

/// Migrations compiled into the binary.
#[derive(Debug)]
struct Embedded(&'static [(i64, &'static str, &'static str)]);

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|(version, description, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(*description),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// Applies every migration the database has not seen yet.
pub(super) async fn run(pool: &DbPool) -> StoreResult<()> {
    let migrator = Migrator::new(Embedded(SQLITE)).await?;
    migrator.run(pool).await?;
    Ok(())
}
