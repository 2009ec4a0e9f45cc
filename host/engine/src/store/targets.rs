//! Targets: each tenant's configured connector instances, their pause state and the history
//! of their revisions (for rollback). How a start seeds them from the configuration file lives
//! in [`super::seed`]; the connector components they reference by digest in
//! [`super::components`].

use sqlx::Row;

use crate::policy;

use super::{
    flag, now_ms, DbConn, DbRow, OutboundSettings, Store, StoreError, StoreResult, TargetOrigin,
    TargetRecord, TargetRevision, TargetSpec,
};

const COLUMNS: &str = "tenant, name, connector, properties, secret_refs, claim_mappings,
    CAST(blocking AS INTEGER) AS blocking, blocking_timeout_ms, provisioning_roles, scope_filter,
    max_attempts, backoff_base_ms, backoff_cap_ms, max_concurrency, egress, origin,
    CAST(paused AS INTEGER) AS paused, pause_reason, paused_until, revision, created_at, updated_at,
    CAST(probing AS INTEGER) AS probing, circuit_opens, recovered_at, reconcile_policy,
    reconcile_every_minutes";

fn target_from_row(row: &DbRow) -> StoreResult<TargetRecord> {
    let scope_filter: Option<String> = row.try_get("scope_filter")?;
    Ok(TargetRecord {
        spec: TargetSpec {
            tenant: row.try_get("tenant")?,
            name: row.try_get("name")?,
            connector: row.try_get("connector")?,
            properties: serde_json::from_str(row.try_get("properties")?)?,
            secret_refs: serde_json::from_str(row.try_get("secret_refs")?)?,
            claim_mappings: serde_json::from_str(row.try_get("claim_mappings")?)?,
            settings: OutboundSettings {
                blocking: flag(row, "blocking")?,
                blocking_timeout_ms: row.try_get("blocking_timeout_ms")?,
                provisioning_roles: serde_json::from_str(row.try_get("provisioning_roles")?)?,
                scope_filter: scope_filter
                    .as_deref()
                    .map(serde_json::from_str)
                    .transpose()?,
                max_attempts: row.try_get("max_attempts")?,
                backoff_base_ms: row.try_get("backoff_base_ms")?,
                backoff_cap_ms: row.try_get("backoff_cap_ms")?,
                max_concurrency: row.try_get("max_concurrency")?,
                reconcile_policy: row.try_get::<&str, _>("reconcile_policy")?.parse()?,
                reconcile_every_minutes: row.try_get("reconcile_every_minutes")?,
            },
            egress: serde_json::from_str(row.try_get("egress")?)?,
        },
        origin: TargetOrigin::parse(row.try_get("origin")?),
        paused: flag(row, "paused")?,
        pause_reason: row.try_get("pause_reason")?,
        paused_until: row.try_get("paused_until")?,
        probing: flag(row, "probing")?,
        circuit_opens: row.try_get("circuit_opens")?,
        recovered_at: row.try_get("recovered_at")?,
        revision: row.try_get("revision")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Every target of a tenant, inside a transaction.
pub async fn targets_in(conn: &mut DbConn, tenant: &str) -> StoreResult<Vec<TargetRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM targets WHERE tenant = $1 ORDER BY name");
    let rows = sqlx::query(&sql).bind(tenant).fetch_all(&mut *conn).await?;
    rows.iter().map(target_from_row).collect()
}

pub(super) fn validate(spec: &TargetSpec) -> StoreResult<()> {
    let bad = |what: &str| {
        Err(StoreError::Conflict(format!(
            "target `{}`: {what}",
            spec.name
        )))
    };
    if spec.tenant.is_empty() || spec.name.is_empty() {
        return bad("tenant and name must not be empty");
    }
    if spec.connector.is_empty() {
        return bad("a connector (component path or digest) is required");
    }
    let s = &spec.settings;
    if s.max_attempts < 1 {
        return bad("max_attempts must be at least 1");
    }
    if s.backoff_base_ms < 0 || s.backoff_cap_ms < s.backoff_base_ms {
        return bad("backoff_base_ms must be >= 0 and backoff_cap_ms >= backoff_base_ms");
    }
    if s.max_concurrency.is_some_and(|n| n < 1) {
        return bad(
            "max_concurrency must be at least 1 (leave it out for the dispatcher's default)",
        );
    }
    if s.blocking_timeout_ms < 0 {
        return bad("blocking_timeout_ms must be >= 0");
    }
    if s.reconcile_every_minutes.is_some_and(|n| n < 1) {
        return bad(
            "reconcile_every_minutes must be at least 1 (leave it out to reconcile on demand only)",
        );
    }
    for (key, reference) in &spec.secret_refs {
        if !(reference.starts_with("env:")
            || reference.starts_with("file:")
            || reference.starts_with("stored:"))
        {
            return bad(&format!(
                "secret `{key}` must be a reference `env:VAR`, `file:/path` or `stored:<key>` \
                 (a secret written through the admin API), not a value"
            ));
        }
    }
    for (key, value) in &spec.properties {
        if !(value.is_string() || value.is_boolean() || value.is_i64()) {
            return bad(&format!(
                "property `{key}` must be text, a boolean or an integer"
            ));
        }
    }
    Ok(())
}

impl Store {
    /// Creates a target, or replaces the configuration of an existing one (keeping its pause
    /// state and bumping its revision), as an operator's run-time change: a later start keeps it
    /// whatever the configuration file says.
    pub async fn put_target(&self, spec: &TargetSpec) -> StoreResult<TargetRecord> {
        let mut tx = self.begin_write().await?;
        let record = put_target_in(&mut tx, spec, TargetOrigin::Operator, "put").await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Every stored revision of a target, newest first (empty for an unknown target).
    pub async fn target_history(
        &self,
        tenant: &str,
        name: &str,
    ) -> StoreResult<Vec<TargetRevision>> {
        let rows = sqlx::query(
            "SELECT revision, spec, origin, note, created_at FROM target_revisions
             WHERE tenant = $1 AND name = $2 ORDER BY revision DESC",
        )
        .bind(tenant)
        .bind(name)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(TargetRevision {
                    revision: row.try_get("revision")?,
                    spec: serde_json::from_str(row.try_get("spec")?)?,
                    origin: TargetOrigin::parse(row.try_get("origin")?),
                    note: row.try_get("note")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Switches a target back to an earlier revision's configuration (by default the one before
    /// the current), atomically, as a new revision; returns the target as it is now.
    pub async fn rollback_target(
        &self,
        tenant: &str,
        name: &str,
        to: Option<i64>,
    ) -> StoreResult<TargetRecord> {
        let mut tx = self.begin_write().await?;
        let current = target_in(&mut tx, tenant, name)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("target `{tenant}/{name}`")))?;
        let wanted = to.unwrap_or(current.revision - 1);
        if wanted >= current.revision {
            return Err(StoreError::Conflict(format!(
                "target `{tenant}/{name}` is at revision {}; roll back to an earlier one \
                 (`target history` lists them)",
                current.revision
            )));
        }
        let spec: Option<String> = sqlx::query_scalar(
            "SELECT spec FROM target_revisions WHERE tenant = $1 AND name = $2 AND revision = $3",
        )
        .bind(tenant)
        .bind(name)
        .bind(wanted)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(spec) = spec else {
            return Err(StoreError::NotFound(format!(
                "revision {wanted} of target `{tenant}/{name}` (`target history` lists the \
                 revisions kept)"
            )));
        };
        let spec: TargetSpec = serde_json::from_str(&spec)?;
        let note = format!("rollback to {wanted}");
        let record = put_target_in(&mut tx, &spec, TargetOrigin::Operator, &note).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Deletes a target with its revisions and remote-id mappings (its jobs stay, as history).
    /// A target with pending or running jobs is refused unless `force`, which dead-letters them
    /// first (they can be replayed should the target come back).
    pub async fn delete_target(
        &self,
        tenant: &str,
        name: &str,
        force: bool,
    ) -> StoreResult<DeletedTarget> {
        let mut tx = self.begin_write().await?;
        if target_in(&mut tx, tenant, name).await?.is_none() {
            return Err(StoreError::NotFound(format!("target `{tenant}/{name}`")));
        }
        let open: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM jobs WHERE tenant = $1 AND target = $2
               AND state IN ('pending', 'running')",
        )
        .bind(tenant)
        .bind(name)
        .fetch_one(&mut *tx)
        .await?;
        if open > 0 && !force {
            return Err(StoreError::Conflict(format!(
                "target `{tenant}/{name}` has {open} pending or running job(s); wait for them \
                 (`jobs --target {name}`), or delete with --force, which dead-letters them"
            )));
        }
        let now = now_ms();
        let dead_lettered = sqlx::query(
            "UPDATE jobs SET state = 'dead', lease_owner = NULL, lease_until = NULL,
               error_kind = 'configuration', error_code = NULL,
               error_message = 'the target was deleted', finished_at = $3, updated_at = $3
             WHERE tenant = $1 AND target = $2 AND state IN ('pending', 'running')",
        )
        .bind(tenant)
        .bind(name)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        for sql in [
            "DELETE FROM provisioned_ids WHERE tenant = $1 AND target = $2",
            "DELETE FROM target_revisions WHERE tenant = $1 AND name = $2",
            "DELETE FROM targets WHERE tenant = $1 AND name = $2",
        ] {
            sqlx::query(sql)
                .bind(tenant)
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(DeletedTarget { dead_lettered })
    }

    /// A target by tenant and name.
    pub async fn target(&self, tenant: &str, name: &str) -> StoreResult<Option<TargetRecord>> {
        let mut conn = self.pool.acquire().await?;
        target_in(&mut conn, tenant, name).await
    }

    /// Every target, of one tenant or of all.
    pub async fn targets(&self, tenant: Option<&str>) -> StoreResult<Vec<TargetRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM targets WHERE ($1 IS NULL OR tenant = $1) ORDER BY tenant, name"
        );
        let rows = sqlx::query(&sql).bind(tenant).fetch_all(&self.pool).await?;
        rows.iter().map(target_from_row).collect()
    }

    /// Pauses a target: no job of it is claimed until `until` (epoch ms) or, with none, until
    /// an operator resumes it. Returns whether the target exists.
    pub async fn pause_target(
        &self,
        tenant: &str,
        name: &str,
        reason: &str,
        until: Option<i64>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE targets SET paused = TRUE, pause_reason = $3, paused_until = $4, updated_at = $5,
               probing = FALSE, probe_job = NULL, recovered_at = NULL
             WHERE tenant = $1 AND name = $2",
        )
        .bind(tenant)
        .bind(name)
        .bind(reason)
        .bind(until)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Resumes a paused (or probing) target at once, at full concurrency, with its circuit
    /// closed. Returns whether the target exists.
    pub async fn resume_target(&self, tenant: &str, name: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE targets SET paused = FALSE, pause_reason = NULL, paused_until = NULL,
               probing = FALSE, probe_job = NULL, circuit_opens = 0, recovered_at = NULL,
               updated_at = $3
             WHERE tenant = $1 AND name = $2",
        )
        .bind(tenant)
        .bind(name)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Ends the pauses whose window has ended: those targets are probed (claims hand out one
    /// job at a time until one gets through). Returns how many targets it ended.
    pub async fn resume_expired_pauses(&self, now: i64) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE targets SET paused = FALSE, paused_until = NULL, probing = TRUE,
               probe_job = NULL, updated_at = $1
             WHERE paused = TRUE AND paused_until IS NOT NULL AND paused_until <= $1",
        )
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}

impl Store {
    /// Records that a call to a target failed as if the target were down ([`policy::is_outage`])
    /// and opens its circuit when it should; returns whether the circuit is open, in which case
    /// the failing job goes back to the queue without spending an attempt.
    ///
    /// The circuit is open already when the target is paused; it opens again (with the next,
    /// longer cooldown) when the failing call was a probe; it opens when the target's last
    /// [`policy::CIRCUIT_FAILURES`] calls all failed that way. `reason` says what failed.
    pub async fn note_outage(
        &self,
        tenant: &str,
        name: &str,
        now: i64,
        reason: &str,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let Some(target) = target_in(&mut tx, tenant, name).await? else {
            return Ok(false);
        };
        if target.is_paused_at(now) {
            return Ok(true);
        }
        let trip = if target.probing {
            true
        } else {
            let kinds = policy::OUTAGE_KINDS;
            let failed: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM (
                   SELECT outcome FROM attempts WHERE tenant = $1 AND target = $2
                   ORDER BY id DESC LIMIT $3) last
                 WHERE outcome IN ($4, $5)",
            )
            .bind(tenant)
            .bind(name)
            .bind(policy::CIRCUIT_FAILURES)
            .bind(kinds[0])
            .bind(kinds[1])
            .fetch_one(&mut *tx)
            .await?;
            failed >= policy::CIRCUIT_FAILURES
        };
        if !trip {
            return Ok(false);
        }
        let opens = target.circuit_opens + 1;
        let cooldown = policy::circuit_cooldown_ms(opens);
        let why = if target.probing {
            "a probe failed"
        } else {
            "the last calls all failed"
        };
        let pause_reason = format!(
            "circuit open ({why}; opened {opens} time(s) in a row, probing again after {} s): \
             {reason}",
            cooldown / 1_000
        );
        sqlx::query(
            "UPDATE targets SET paused = TRUE, pause_reason = $3, paused_until = $4,
               circuit_opens = $5, probing = FALSE, probe_job = NULL, recovered_at = NULL,
               updated_at = $6
             WHERE tenant = $1 AND name = $2",
        )
        .bind(tenant)
        .bind(name)
        .bind(&pause_reason)
        .bind(now + cooldown)
        .bind(opens)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::warn!(%tenant, target_name = %name, %pause_reason, "circuit opened");
        Ok(true)
    }
}

/// What deleting a target did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeletedTarget {
    /// Pending or running jobs turned into dead letters (only with `force`).
    pub dead_lettered: u64,
}

/// A target by tenant and name, inside a transaction.
pub(super) async fn target_in(
    conn: &mut DbConn,
    tenant: &str,
    name: &str,
) -> StoreResult<Option<TargetRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM targets WHERE tenant = $1 AND name = $2");
    let row = sqlx::query(&sql)
        .bind(tenant)
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(target_from_row).transpose()
}

/// Writes `spec` as the target's next revision (creating the target at revision 1), records the
/// revision in the history, and returns the stored target.
pub(super) async fn put_target_in(
    conn: &mut DbConn,
    spec: &TargetSpec,
    origin: TargetOrigin,
    note: &str,
) -> StoreResult<TargetRecord> {
    validate(spec)?;
    let s = &spec.settings;
    let now = now_ms();
    let sql = format!(
        "INSERT INTO targets (tenant, name, connector, properties, secret_refs, claim_mappings,
           blocking, blocking_timeout_ms, provisioning_roles, scope_filter, max_attempts,
           backoff_base_ms, backoff_cap_ms, max_concurrency, egress, origin, paused, revision,
           created_at, updated_at, reconcile_policy, reconcile_every_minutes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $15, $16, $17, FALSE, 1,
           $14, $14, $18, $19)
         ON CONFLICT (tenant, name) DO UPDATE SET
           connector = excluded.connector, properties = excluded.properties,
           secret_refs = excluded.secret_refs, claim_mappings = excluded.claim_mappings,
           blocking = excluded.blocking, blocking_timeout_ms = excluded.blocking_timeout_ms,
           provisioning_roles = excluded.provisioning_roles,
           scope_filter = excluded.scope_filter, max_attempts = excluded.max_attempts,
           backoff_base_ms = excluded.backoff_base_ms, backoff_cap_ms = excluded.backoff_cap_ms,
           max_concurrency = excluded.max_concurrency, egress = excluded.egress,
           origin = excluded.origin, revision = targets.revision + 1,
           reconcile_policy = excluded.reconcile_policy,
           reconcile_every_minutes = excluded.reconcile_every_minutes,
           updated_at = excluded.updated_at
         RETURNING {COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(&spec.tenant)
        .bind(&spec.name)
        .bind(&spec.connector)
        .bind(serde_json::to_string(&spec.properties)?)
        .bind(serde_json::to_string(&spec.secret_refs)?)
        .bind(serde_json::to_string(&spec.claim_mappings)?)
        .bind(s.blocking)
        .bind(s.blocking_timeout_ms)
        .bind(serde_json::to_string(&s.provisioning_roles)?)
        .bind(
            s.scope_filter
                .as_ref()
                .map(serde_json::to_string)
                .transpose()?,
        )
        .bind(s.max_attempts)
        .bind(s.backoff_base_ms)
        .bind(s.backoff_cap_ms)
        .bind(now)
        .bind(s.max_concurrency)
        .bind(serde_json::to_string(&spec.egress)?)
        .bind(origin.as_str())
        .bind(s.reconcile_policy.as_str())
        .bind(s.reconcile_every_minutes)
        .fetch_one(&mut *conn)
        .await?;
    let record = target_from_row(&row)?;
    sqlx::query(
        "INSERT INTO target_revisions (tenant, name, revision, spec, origin, note, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (tenant, name, revision) DO UPDATE SET spec = excluded.spec,
           origin = excluded.origin, note = excluded.note, created_at = excluded.created_at",
    )
    .bind(&spec.tenant)
    .bind(&spec.name)
    .bind(record.revision)
    .bind(serde_json::to_string(spec)?)
    .bind(origin.as_str())
    .bind(note)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(record)
}
