//! Finding live users and groups without reading the tenant: search keys, group membership
//! rows, indexed conditions with ordering and paging, and batched reads by id.
//!
//! What a key means is the writing API's business ([`SearchKey`]); the store only keeps the
//! keys of live entities current and answers [`EntitySearch`]es from its indexes. Every query
//! here costs what it returns (plus the index walk to an offset), never the tenant's size.

use std::collections::BTreeSet;

use sqlx::Row;

use super::entities::{group_from_row, user_from_row, GROUP_COLUMNS, USER_COLUMNS};
use super::{Db, DbConn, DbRow, GroupRecord, SearchKey, Store, StoreResult, UserRecord};

/// Ids read per statement when reading entities by id (bounded bind count).
const IDS_PER_STATEMENT: usize = 500;

/// Which entities a search or a key belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntityTable {
    /// Local users.
    Users,
    /// Local groups.
    Groups,
}

impl EntityTable {
    fn kind(self) -> &'static str {
        match self {
            EntityTable::Users => "user",
            EntityTable::Groups => "group",
        }
    }

    fn table(self) -> &'static str {
        match self {
            EntityTable::Users => "local_users",
            EntityTable::Groups => "local_groups",
        }
    }

    fn name_column(self) -> &'static str {
        match self {
            EntityTable::Users => "user_name",
            EntityTable::Groups => "display_name",
        }
    }

    fn columns(self) -> &'static str {
        match self {
            EntityTable::Users => USER_COLUMNS,
            EntityTable::Groups => GROUP_COLUMNS,
        }
    }
}

/// How a search key is matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyMatch {
    /// The key equals the value.
    Equals(String),
    /// The key starts with the value.
    StartsWith(String),
    /// The entity has some key of the attribute.
    Present,
}

/// A time column of an entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeField {
    /// Creation time.
    Created,
    /// Last change.
    Modified,
}

impl TimeField {
    fn column(self) -> &'static str {
        match self {
            TimeField::Created => "created_at",
            TimeField::Modified => "updated_at",
        }
    }
}

/// A comparison of a time column with an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeCmp {
    /// Strictly after.
    After,
    /// At or after.
    AtOrAfter,
    /// Strictly before.
    Before,
    /// At or before.
    AtOrBefore,
}

impl TimeCmp {
    fn sql(self) -> &'static str {
        match self {
            TimeCmp::After => ">",
            TimeCmp::AtOrAfter => ">=",
            TimeCmp::Before => "<",
            TimeCmp::AtOrBefore => "<=",
        }
    }
}

/// A condition on live entities that the store answers from its indexes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntityCondition {
    /// Every live entity.
    All,
    /// The entity with this id.
    Id(String),
    /// Entities with a search key of `attr` matching.
    Key {
        /// The key's attribute.
        attr: String,
        /// How its value is matched.
        matching: KeyMatch,
    },
    /// Groups that have this member.
    HasMember(String),
    /// Entities whose time field compares so with `epoch_ms`.
    Time {
        /// Which time.
        field: TimeField,
        /// The comparison.
        cmp: TimeCmp,
        /// The instant, epoch milliseconds.
        epoch_ms: i64,
    },
    /// Every condition holds.
    And(Vec<EntityCondition>),
    /// Some condition holds.
    Or(Vec<EntityCondition>),
}

/// The order of a search's results; ties are broken by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntityOrder {
    /// By id.
    Id,
    /// By user name or group display name, in any case.
    Name,
    /// By a time field.
    Time(TimeField),
}

/// A page of live entities matching a condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntitySearch {
    /// Which entities.
    pub condition: EntityCondition,
    /// In which order.
    pub order: EntityOrder,
    /// Whether the order is reversed.
    pub descending: bool,
    /// How many matches to skip.
    pub offset: u64,
    /// How many to return at most.
    pub limit: u64,
}

/// One page of a search and the number of matches in all.
#[derive(Clone, Debug, PartialEq)]
pub struct EntityPage<T> {
    /// Matches in all pages.
    pub total: u64,
    /// This page.
    pub items: Vec<T>,
}

/// A value bound into a built statement.
#[derive(Clone, Debug)]
enum Bind {
    Text(String),
    Int(i64),
}

/// A statement under construction: SQL text and its numbered binds.
#[derive(Debug, Default)]
struct Sql {
    text: String,
    binds: Vec<Bind>,
}

impl Sql {
    /// Binds a value and returns its placeholder.
    fn bind(&mut self, bind: Bind) -> String {
        self.binds.push(bind);
        format!("${}", self.binds.len())
    }

    fn query(&self) -> sqlx::query::Query<'_, Db, sqlx::any::AnyArguments<'_>> {
        self.binds
            .iter()
            .fold(sqlx::query(&self.text), |q, bind| match bind {
                Bind::Text(s) => q.bind(s.as_str()),
                Bind::Int(i) => q.bind(*i),
            })
    }
}

/// The smallest string greater than every string starting with `prefix` (for a range scan).
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

/// Renders `condition` over the entity alias `e`; `$1` is the tenant.
fn condition_sql(sql: &mut Sql, table: EntityTable, condition: &EntityCondition) -> String {
    match condition {
        EntityCondition::All => "1 = 1".into(),
        EntityCondition::Id(id) => format!("e.id = {}", sql.bind(Bind::Text(id.clone()))),
        EntityCondition::Key { attr, matching } => {
            let kind = sql.bind(Bind::Text(table.kind().into()));
            let attr = sql.bind(Bind::Text(attr.clone()));
            let value = match matching {
                KeyMatch::Equals(v) => format!("AND k.value = {}", sql.bind(Bind::Text(v.clone()))),
                KeyMatch::StartsWith(p) => {
                    let from = sql.bind(Bind::Text(p.clone()));
                    let to = sql.bind(Bind::Text(prefix_end(p)));
                    format!("AND k.value >= {from} AND k.value < {to}")
                }
                KeyMatch::Present => String::new(),
            };
            format!(
                "e.id IN (SELECT k.id FROM local_search_keys k
                          WHERE k.tenant = $1 AND k.kind = {kind} AND k.attr = {attr} {value})"
            )
        }
        EntityCondition::HasMember(member) => format!(
            "e.id IN (SELECT m.group_id FROM local_group_members m
                      WHERE m.tenant = $1 AND m.member_id = {})",
            sql.bind(Bind::Text(member.clone()))
        ),
        EntityCondition::Time {
            field,
            cmp,
            epoch_ms,
        } => format!(
            "e.{} {} {}",
            field.column(),
            cmp.sql(),
            sql.bind(Bind::Int(*epoch_ms))
        ),
        EntityCondition::And(parts) | EntityCondition::Or(parts) => {
            if parts.is_empty() {
                let all = matches!(condition, EntityCondition::And(_));
                return if all { "1 = 1" } else { "1 = 0" }.into();
            }
            let joiner = if matches!(condition, EntityCondition::And(_)) {
                " AND "
            } else {
                " OR "
            };
            let parts: Vec<String> = parts
                .iter()
                .map(|p| format!("({})", condition_sql(sql, table, p)))
                .collect();
            parts.join(joiner)
        }
    }
}

fn order_sql(table: EntityTable, order: EntityOrder, descending: bool) -> String {
    let dir = if descending { "DESC" } else { "ASC" };
    match order {
        EntityOrder::Id => format!("e.id {dir}"),
        EntityOrder::Name => format!("lower(e.{}) {dir}, e.id {dir}", table.name_column()),
        EntityOrder::Time(field) => format!("e.{} {dir}, e.id {dir}", field.column()),
    }
}

/// Replaces the search keys of an entity (none: it has no keys, e.g. it was deleted).
pub async fn set_search_keys(
    conn: &mut DbConn,
    tenant: &str,
    table: EntityTable,
    id: &str,
    keys: &[SearchKey],
) -> StoreResult<()> {
    sqlx::query("DELETE FROM local_search_keys WHERE tenant = $1 AND kind = $2 AND id = $3")
        .bind(tenant)
        .bind(table.kind())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let unique: BTreeSet<&SearchKey> = keys.iter().collect();
    for key in unique {
        sqlx::query(
            "INSERT INTO local_search_keys (tenant, kind, attr, value, id)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(tenant)
        .bind(table.kind())
        .bind(&key.attr)
        .bind(&key.value)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Brings a group's membership rows from `old` members to `new` ones, touching only the
/// members that changed.
pub async fn sync_members(
    conn: &mut DbConn,
    tenant: &str,
    group_id: &str,
    old: &[String],
    new: &[String],
) -> StoreResult<()> {
    let old: BTreeSet<&String> = old.iter().collect();
    let new: BTreeSet<&String> = new.iter().collect();
    for gone in old.difference(&new) {
        sqlx::query(
            "DELETE FROM local_group_members
             WHERE tenant = $1 AND group_id = $2 AND member_id = $3",
        )
        .bind(tenant)
        .bind(group_id)
        .bind(gone.as_str())
        .execute(&mut *conn)
        .await?;
    }
    for added in new.difference(&old) {
        sqlx::query(
            "INSERT INTO local_group_members (tenant, group_id, member_id) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(tenant)
        .bind(group_id)
        .bind(added.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Live groups that have `member` among their members, ordered by id.
pub async fn groups_with_member_in(
    conn: &mut DbConn,
    tenant: &str,
    member: &str,
) -> StoreResult<Vec<GroupRecord>> {
    let sql = format!(
        "SELECT {} FROM local_groups e
         WHERE e.tenant = $1 AND e.deleted = FALSE AND e.id IN
           (SELECT m.group_id FROM local_group_members m WHERE m.tenant = $1 AND m.member_id = $2)
         ORDER BY e.id",
        prefixed(GROUP_COLUMNS)
    );
    let rows = sqlx::query(&sql)
        .bind(tenant)
        .bind(member)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(group_from_row).collect()
}

/// Ids and display names of the live groups that have `member` among their members, ordered by
/// id: the user's group roles, without reading the groups' member lists.
pub async fn group_names_with_member_in(
    conn: &mut DbConn,
    tenant: &str,
    member: &str,
) -> StoreResult<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT g.id, g.display_name FROM local_group_members m
         JOIN local_groups g ON g.tenant = m.tenant AND g.id = m.group_id
         WHERE m.tenant = $1 AND m.member_id = $2 AND g.deleted = FALSE
         ORDER BY g.id",
    )
    .bind(tenant)
    .bind(member)
    .fetch_all(&mut *conn)
    .await?)
}

/// The live users among `ids` (any order; unknown ids are left out), read a chunk of ids per
/// statement.
pub async fn users_by_ids_in(
    conn: &mut DbConn,
    tenant: &str,
    ids: &[String],
) -> StoreResult<Vec<UserRecord>> {
    by_ids_in(conn, tenant, EntityTable::Users, ids, user_from_row).await
}

async fn by_ids_in<T>(
    conn: &mut DbConn,
    tenant: &str,
    table: EntityTable,
    ids: &[String],
    from_row: fn(&DbRow) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(IDS_PER_STATEMENT) {
        let sql = format!(
            "SELECT {} FROM {} e WHERE e.tenant = $1 AND e.deleted = FALSE AND e.id IN ({})",
            prefixed(table.columns()),
            table.table(),
            super::placeholders(2, chunk.len())
        );
        let query = chunk
            .iter()
            .fold(sqlx::query(&sql).bind(tenant), |q, id| q.bind(id.as_str()));
        for row in query.fetch_all(&mut *conn).await? {
            out.push(from_row(&row)?);
        }
    }
    Ok(out)
}

/// For each of `members`, the live groups it belongs to: `(member id, group id, group display
/// name)`, ordered by member, then group id; a chunk of members per statement.
pub async fn memberships_in(
    conn: &mut DbConn,
    tenant: &str,
    members: &[String],
) -> StoreResult<Vec<(String, String, String)>> {
    let mut out = Vec::new();
    for chunk in members.chunks(IDS_PER_STATEMENT) {
        let sql = format!(
            "SELECT m.member_id, g.id, g.display_name FROM local_group_members m
             JOIN local_groups g ON g.tenant = m.tenant AND g.id = m.group_id
             WHERE m.tenant = $1 AND g.deleted = FALSE AND m.member_id IN ({})
             ORDER BY m.member_id, g.id",
            super::placeholders(2, chunk.len())
        );
        let query = chunk
            .iter()
            .fold(sqlx::query_as(&sql).bind(tenant), |q, id| {
                q.bind(id.as_str())
            });
        out.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

/// Up to `limit` live users with ids after `after` (`None`: from the first), by id, inside a
/// transaction: one step of a keyset walk over the tenant's users.
pub async fn users_after_in(
    conn: &mut DbConn,
    tenant: &str,
    after: Option<&str>,
    limit: u64,
) -> StoreResult<Vec<UserRecord>> {
    scan_in(
        conn,
        tenant,
        EntityTable::Users,
        after,
        limit,
        user_from_row,
    )
    .await
}

async fn scan_in<T>(
    conn: &mut DbConn,
    tenant: &str,
    table: EntityTable,
    after: Option<&str>,
    limit: u64,
    from_row: fn(&DbRow) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let sql = format!(
        "SELECT {} FROM {} e WHERE e.tenant = $1 AND e.deleted = FALSE AND e.id > $2
         ORDER BY e.id LIMIT $3",
        prefixed(table.columns()),
        table.table()
    );
    let rows = sqlx::query(&sql)
        .bind(tenant)
        .bind(after.unwrap_or(""))
        .bind(limit.min(i64::MAX as u64) as i64)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(from_row).collect()
}

/// `columns` with every name prefixed by the alias `e.` (in a `CAST(name AS ...)` too).
fn prefixed(columns: &str) -> String {
    columns
        .split(',')
        .map(|c| match c.trim().strip_prefix("CAST(") {
            Some(cast) => format!("CAST(e.{cast}"),
            None => format!("e.{}", c.trim()),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// A page of live users matching `search`, and how many match in all.
    pub async fn search_users(
        &self,
        tenant: &str,
        search: &EntitySearch,
    ) -> StoreResult<EntityPage<UserRecord>> {
        self.search(tenant, EntityTable::Users, search, user_from_row)
            .await
    }

    /// A page of live groups matching `search`, and how many match in all.
    pub async fn search_groups(
        &self,
        tenant: &str,
        search: &EntitySearch,
    ) -> StoreResult<EntityPage<GroupRecord>> {
        self.search(tenant, EntityTable::Groups, search, group_from_row)
            .await
    }

    async fn search<T>(
        &self,
        tenant: &str,
        table: EntityTable,
        search: &EntitySearch,
        from_row: fn(&DbRow) -> StoreResult<T>,
    ) -> StoreResult<EntityPage<T>> {
        let mut conn = self.pool.acquire().await?;
        let total = if search.condition == EntityCondition::All {
            self.live_count_in(&mut conn, tenant, table).await?
        } else {
            let mut count = Sql::default();
            count.bind(Bind::Text(tenant.into()));
            let condition = condition_sql(&mut count, table, &search.condition);
            count.text = format!(
                "SELECT count(*) AS n FROM {} e WHERE e.tenant = $1 AND e.deleted = FALSE AND ({condition})",
                table.table()
            );
            let row = count.query().fetch_one(&mut *conn).await?;
            row.try_get::<i64, _>("n")?.max(0) as u64
        };
        if search.limit == 0 || search.offset >= total {
            return Ok(EntityPage {
                total,
                items: Vec::new(),
            });
        }
        let mut page = Sql::default();
        page.bind(Bind::Text(tenant.into()));
        let condition = condition_sql(&mut page, table, &search.condition);
        let limit = page.bind(Bind::Int(search.limit.min(i64::MAX as u64) as i64));
        let offset = page.bind(Bind::Int(search.offset.min(i64::MAX as u64) as i64));
        page.text = format!(
            "SELECT {} FROM {} e WHERE e.tenant = $1 AND e.deleted = FALSE AND ({condition})
             ORDER BY {} LIMIT {limit} OFFSET {offset}",
            prefixed(table.columns()),
            table.table(),
            order_sql(table, search.order, search.descending),
        );
        let rows = page.query().fetch_all(&mut *conn).await?;
        let items = rows.iter().map(from_row).collect::<StoreResult<Vec<T>>>()?;
        Ok(EntityPage { total, items })
    }

    /// How many live entities of `table` the tenant has (kept by the database on every write).
    pub async fn live_count(&self, tenant: &str, table: EntityTable) -> StoreResult<u64> {
        let mut conn = self.pool.acquire().await?;
        self.live_count_in(&mut conn, tenant, table).await
    }

    async fn live_count_in(
        &self,
        conn: &mut DbConn,
        tenant: &str,
        table: EntityTable,
    ) -> StoreResult<u64> {
        let live: Option<i64> = sqlx::query_scalar(
            "SELECT live FROM local_entity_counts WHERE tenant = $1 AND kind = $2",
        )
        .bind(tenant)
        .bind(table.kind())
        .fetch_optional(&mut *conn)
        .await?;
        Ok(live.unwrap_or(0).max(0) as u64)
    }

    /// Up to `limit` live users with ids after `after` (`None`: from the first), by id: one
    /// step of a bounded scan.
    pub async fn users_after(
        &self,
        tenant: &str,
        after: Option<&str>,
        limit: u64,
    ) -> StoreResult<Vec<UserRecord>> {
        self.scan(tenant, EntityTable::Users, after, limit, user_from_row)
            .await
    }

    /// Up to `limit` live groups with ids after `after`, by id.
    pub async fn groups_after(
        &self,
        tenant: &str,
        after: Option<&str>,
        limit: u64,
    ) -> StoreResult<Vec<GroupRecord>> {
        self.scan(tenant, EntityTable::Groups, after, limit, group_from_row)
            .await
    }

    async fn scan<T>(
        &self,
        tenant: &str,
        table: EntityTable,
        after: Option<&str>,
        limit: u64,
        from_row: fn(&DbRow) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let mut conn = self.pool.acquire().await?;
        scan_in(&mut conn, tenant, table, after, limit, from_row).await
    }

    /// The live users among `ids` (any order; unknown ids are left out).
    pub async fn users_by_ids(&self, tenant: &str, ids: &[String]) -> StoreResult<Vec<UserRecord>> {
        self.by_ids(tenant, EntityTable::Users, ids, user_from_row)
            .await
    }

    /// The live groups among `ids` (any order; unknown ids are left out).
    pub async fn groups_by_ids(
        &self,
        tenant: &str,
        ids: &[String],
    ) -> StoreResult<Vec<GroupRecord>> {
        self.by_ids(tenant, EntityTable::Groups, ids, group_from_row)
            .await
    }

    async fn by_ids<T>(
        &self,
        tenant: &str,
        table: EntityTable,
        ids: &[String],
        from_row: fn(&DbRow) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let mut conn = self.pool.acquire().await?;
        by_ids_in(&mut conn, tenant, table, ids, from_row).await
    }

    /// For each of `members`, the live groups it belongs to: `(member id, group id, group
    /// display name)`, ordered by member, then group id.
    pub async fn memberships(
        &self,
        tenant: &str,
        members: &[String],
    ) -> StoreResult<Vec<(String, String, String)>> {
        let mut conn = self.pool.acquire().await?;
        memberships_in(&mut conn, tenant, members).await
    }

    /// Display names of the live groups that have `member` among their members, ordered by
    /// group id (the member's group roles).
    pub async fn group_names_with_member(
        &self,
        tenant: &str,
        member: &str,
    ) -> StoreResult<Vec<String>> {
        let mut conn = self.pool.acquire().await?;
        let groups = group_names_with_member_in(&mut conn, tenant, member).await?;
        Ok(groups.into_iter().map(|(_, name)| name).collect())
    }

    /// Live groups that have `member` among their members, ordered by id.
    pub async fn groups_with_member(
        &self,
        tenant: &str,
        member: &str,
    ) -> StoreResult<Vec<GroupRecord>> {
        let mut conn = self.pool.acquire().await?;
        groups_with_member_in(&mut conn, tenant, member).await
    }
}

impl Store {
    /// Up to `limit` live users that have no document yet (written before documents existed,
    /// or by a caller that stores none), any tenant.
    pub async fn users_without_document(&self, limit: u64) -> StoreResult<Vec<UserRecord>> {
        self.without_document(EntityTable::Users, limit, user_from_row)
            .await
    }

    /// Up to `limit` live groups that have no document yet, any tenant.
    pub async fn groups_without_document(&self, limit: u64) -> StoreResult<Vec<GroupRecord>> {
        self.without_document(EntityTable::Groups, limit, group_from_row)
            .await
    }

    /// Rows of `table` without a document, found through the partial index of such rows
    /// (empty once they are indexed, so the look at every start costs nothing).
    async fn without_document<T>(
        &self,
        table: EntityTable,
        limit: u64,
        from_row: fn(&DbRow) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let sql = format!(
            "SELECT {} FROM {} WHERE deleted = FALSE AND document IS NULL
             ORDER BY tenant, id LIMIT $1",
            table.columns(),
            table.table()
        );
        let rows = sqlx::query(&sql)
            .bind(limit.min(i64::MAX as u64) as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// Gives a live entity at `version` its document and search keys, without changing
    /// anything else (no version, no outbox job: what it stands for is unchanged). Returns
    /// whether it was attached; an entity changed since it was read is left as it is.
    pub async fn attach_document(
        &self,
        tenant: &str,
        table: EntityTable,
        id: &str,
        version: i64,
        document: &str,
        keys: &[SearchKey],
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "UPDATE {} SET document = $1
             WHERE tenant = $2 AND id = $3 AND version = $4 AND deleted = FALSE
               AND document IS NULL",
            table.table()
        );
        let updated = sqlx::query(&sql)
            .bind(document)
            .bind(tenant)
            .bind(id)
            .bind(version)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        set_search_keys(&mut tx, tenant, table, id, keys).await?;
        tx.commit().await?;
        Ok(true)
    }
}
