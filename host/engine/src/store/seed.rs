//! Seeding targets from the configuration file at start: the file seeds, the database is the
//! state. A target an operator changed at run time is kept as stored; the caller is told the
//! file's version differs so it can say so (and how to apply it).

use super::targets::{put_target_in, target_in};
use super::{Store, StoreResult, TargetOrigin, TargetRecord, TargetSpec};

/// What seeding one target from the configuration file did.
#[derive(Clone, Debug, PartialEq)]
pub enum Seeded {
    /// The target did not exist; it was created from the file.
    Created(TargetRecord),
    /// The target came from the file before; it now has the file's (changed) version.
    Updated(TargetRecord),
    /// The stored target already has the file's version; nothing was written.
    Unchanged(TargetRecord),
    /// An operator changed the target at run time and the file's version differs: the stored
    /// version was kept and the file's was not applied.
    KeptRuntime(TargetRecord),
}

impl Seeded {
    /// The target as stored after seeding.
    pub fn record(&self) -> &TargetRecord {
        match self {
            Seeded::Created(r) | Seeded::Updated(r) | Seeded::Unchanged(r) => r,
            Seeded::KeptRuntime(r) => r,
        }
    }
}

impl Store {
    /// Seeds a target from the configuration file, atomically. A target whose current revision
    /// an operator wrote at run time is kept unless `reseed`, which applies the file's version
    /// (as a new revision, so the run-time one stays in the history for rollback).
    pub async fn seed_target(&self, spec: &TargetSpec, reseed: bool) -> StoreResult<Seeded> {
        let mut tx = self.begin_write().await?;
        let seeded = match target_in(&mut tx, &spec.tenant, &spec.name).await? {
            None => {
                Seeded::Created(put_target_in(&mut tx, spec, TargetOrigin::Config, "seed").await?)
            }
            Some(stored) if stored.spec == *spec => Seeded::Unchanged(stored),
            Some(stored) if stored.origin == TargetOrigin::Operator && !reseed => {
                Seeded::KeptRuntime(stored)
            }
            Some(_) => {
                Seeded::Updated(put_target_in(&mut tx, spec, TargetOrigin::Config, "seed").await?)
            }
        };
        tx.commit().await?;
        Ok(seeded)
    }
}
