//! Local users and groups.

use sqlx::Row;

use super::backend::Backend;
use super::{flag, now_ms, DbConn, DbRow, GroupRecord, Store, StoreError, StoreResult, UserRecord};

/// The columns of a user, in the order [`user_from_row`] reads them (flags as integers, see
/// [`flag`]).
pub(super) const USER_COLUMNS: &str = "tenant, id, user_name, claims, roles, version,
    CAST(deleted AS INTEGER) AS deleted, created_at, updated_at, document";
/// The columns of a group, in the order [`group_from_row`] reads them.
pub(super) const GROUP_COLUMNS: &str = "tenant, id, display_name, members, version,
    CAST(deleted AS INTEGER) AS deleted, created_at, updated_at, document";

pub(super) fn user_from_row(row: &DbRow) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        tenant: row.try_get("tenant")?,
        id: row.try_get("id")?,
        user_name: row.try_get("user_name")?,
        claims: serde_json::from_str(row.try_get("claims")?)?,
        roles: serde_json::from_str(row.try_get("roles")?)?,
        version: row.try_get("version")?,
        deleted: flag(row, "deleted")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        document: row.try_get("document")?,
    })
}

pub(super) fn group_from_row(row: &DbRow) -> StoreResult<GroupRecord> {
    Ok(GroupRecord {
        tenant: row.try_get("tenant")?,
        id: row.try_get("id")?,
        display_name: row.try_get("display_name")?,
        members: serde_json::from_str(row.try_get("members")?)?,
        version: row.try_get("version")?,
        deleted: flag(row, "deleted")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        document: row.try_get("document")?,
    })
}

/// Reads a user (deleted or not) inside a write transaction and locks its row until the
/// transaction ends, so that a concurrent writer of the same user waits and then reads what this
/// one wrote (PostgreSQL: `FOR UPDATE`; SQLite's write transaction already excludes every other
/// writer). A check made on what it returns therefore still holds when the transaction writes.
pub async fn user_in(conn: &mut DbConn, tenant: &str, id: &str) -> StoreResult<Option<UserRecord>> {
    let lock = Backend::of_conn(conn).lock_row();
    read_user(conn, tenant, id, lock).await
}

async fn read_user(
    conn: &mut DbConn,
    tenant: &str,
    id: &str,
    lock: &str,
) -> StoreResult<Option<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM local_users WHERE tenant = $1 AND id = $2{lock}");
    let row = sqlx::query(&sql)
        .bind(tenant)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(user_from_row).transpose()
}

/// Inserts or replaces a user row inside a transaction; the caller sets the version.
///
/// A live row is only replaced by a higher version: if a concurrent transaction already wrote
/// this version (or a later one) the write fails with [`StoreError::VersionConflict`].
pub async fn put_user(conn: &mut DbConn, user: &UserRecord) -> StoreResult<()> {
    let written = sqlx::query(
        "INSERT INTO local_users
           (tenant, id, user_name, claims, roles, version, deleted, created_at, updated_at,
            document)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)
         ON CONFLICT (tenant, id) DO UPDATE SET
           user_name = excluded.user_name, claims = excluded.claims, roles = excluded.roles,
           version = excluded.version, deleted = excluded.deleted, updated_at = excluded.updated_at,
           document = excluded.document
         WHERE local_users.version < excluded.version OR local_users.deleted = TRUE",
    )
    .bind(&user.tenant)
    .bind(&user.id)
    .bind(&user.user_name)
    .bind(serde_json::to_string(&user.claims)?)
    .bind(serde_json::to_string(&user.roles)?)
    .bind(user.version)
    .bind(user.deleted)
    .bind(now_ms())
    .bind(&user.document)
    .execute(&mut *conn)
    .await?;
    if written.rows_affected() == 0 {
        return Err(stale(conn, "local_users", &user.tenant, &user.id, user.version).await);
    }
    Ok(())
}

/// Reads a group (deleted or not) inside a write transaction and locks its row until the
/// transaction ends, as [`user_in`] does.
pub async fn group_in(
    conn: &mut DbConn,
    tenant: &str,
    id: &str,
) -> StoreResult<Option<GroupRecord>> {
    let lock = Backend::of_conn(conn).lock_row();
    read_group(conn, tenant, id, lock).await
}

async fn read_group(
    conn: &mut DbConn,
    tenant: &str,
    id: &str,
    lock: &str,
) -> StoreResult<Option<GroupRecord>> {
    let sql =
        format!("SELECT {GROUP_COLUMNS} FROM local_groups WHERE tenant = $1 AND id = $2{lock}");
    let row = sqlx::query(&sql)
        .bind(tenant)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(group_from_row).transpose()
}

/// Inserts or replaces a group row inside a transaction; the caller sets the version.
///
/// A live row is only replaced by a higher version, as for [`put_user`].
pub async fn put_group(conn: &mut DbConn, group: &GroupRecord) -> StoreResult<()> {
    let written = sqlx::query(
        "INSERT INTO local_groups
           (tenant, id, display_name, members, version, deleted, created_at, updated_at,
            document)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)
         ON CONFLICT (tenant, id) DO UPDATE SET
           display_name = excluded.display_name, members = excluded.members,
           version = excluded.version, deleted = excluded.deleted, updated_at = excluded.updated_at,
           document = excluded.document
         WHERE local_groups.version < excluded.version OR local_groups.deleted = TRUE",
    )
    .bind(&group.tenant)
    .bind(&group.id)
    .bind(&group.display_name)
    .bind(serde_json::to_string(&group.members)?)
    .bind(group.version)
    .bind(group.deleted)
    .bind(now_ms())
    .bind(&group.document)
    .execute(&mut *conn)
    .await?;
    if written.rows_affected() == 0 {
        return Err(stale(
            conn,
            "local_groups",
            &group.tenant,
            &group.id,
            group.version,
        )
        .await);
    }
    Ok(())
}

/// The error for a write of version `version` that found a live row already at that version or
/// later: another transaction changed the entity after this one read it (possible where reads do
/// not lock, as on PostgreSQL).
async fn stale(conn: &mut DbConn, table: &str, tenant: &str, id: &str, version: i64) -> StoreError {
    let sql = format!("SELECT version FROM {table} WHERE tenant = $1 AND id = $2");
    let current = sqlx::query_scalar(&sql)
        .bind(tenant)
        .bind(id)
        .fetch_one(&mut *conn)
        .await;
    match current {
        Ok(current) => StoreError::VersionConflict {
            expected: version - 1,
            current,
        },
        Err(error) => error.into(),
    }
}

impl Store {
    /// A user by local id, including a deleted one.
    pub async fn user(&self, tenant: &str, id: &str) -> StoreResult<Option<UserRecord>> {
        let mut conn = self.pool.acquire().await?;
        read_user(&mut conn, tenant, id, "").await
    }

    /// A group by local id, including a deleted one.
    pub async fn group(&self, tenant: &str, id: &str) -> StoreResult<Option<GroupRecord>> {
        let mut conn = self.pool.acquire().await?;
        read_group(&mut conn, tenant, id, "").await
    }

    /// A live user by user name.
    pub async fn user_by_name(
        &self,
        tenant: &str,
        user_name: &str,
    ) -> StoreResult<Option<UserRecord>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM local_users
             WHERE tenant = $1 AND user_name = $2 AND deleted = FALSE"
        );
        let row = sqlx::query(&sql)
            .bind(tenant)
            .bind(user_name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Every live user of a tenant, ordered by id.
    pub async fn users(&self, tenant: &str) -> StoreResult<Vec<UserRecord>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM local_users WHERE tenant = $1 AND deleted = FALSE ORDER BY id"
        );
        let rows = sqlx::query(&sql).bind(tenant).fetch_all(&self.pool).await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Whether another live user of the tenant (not `except`) has this user name, in any case.
    pub async fn user_name_taken(
        &self,
        tenant: &str,
        user_name: &str,
        except: &str,
    ) -> StoreResult<bool> {
        self.name_taken("local_users", "user_name", tenant, user_name, except)
            .await
    }

    /// Whether another live group of the tenant (not `except`) has this display name, in any
    /// case.
    pub async fn group_name_taken(
        &self,
        tenant: &str,
        display_name: &str,
        except: &str,
    ) -> StoreResult<bool> {
        self.name_taken("local_groups", "display_name", tenant, display_name, except)
            .await
    }

    /// Whether a live row of `table` other than `except` has `name` in `column`, in any case.
    async fn name_taken(
        &self,
        table: &str,
        column: &str,
        tenant: &str,
        name: &str,
        except: &str,
    ) -> StoreResult<bool> {
        let sql = format!(
            "SELECT id FROM {table}
             WHERE tenant = $1 AND deleted = FALSE AND lower({column}) = lower($2) AND id <> $3
             LIMIT 1"
        );
        let taken = sqlx::query(&sql)
            .bind(tenant)
            .bind(name)
            .bind(except)
            .fetch_optional(&self.pool)
            .await?;
        Ok(taken.is_some())
    }

    /// The ids of every live group of a tenant, ordered.
    pub async fn live_group_ids(&self, tenant: &str) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "SELECT id FROM local_groups WHERE tenant = $1 AND deleted = FALSE ORDER BY id",
        )
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| row.try_get("id").map_err(Into::into))
            .collect()
    }
}
