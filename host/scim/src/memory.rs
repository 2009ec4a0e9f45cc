//! [`MemoryBackend`]: an in-memory [`ScimBackend`] for tests and as the reference for the contract.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::backend::{BackendError, BackendResult, Membership, Page, ScimBackend, TenantId};
use crate::index::IndexedQuery;
use crate::resource::{self, GroupResource, ResourceRef, ScimResource, UserResource};

#[derive(Default)]
struct TenantData {
    users: Vec<UserResource>,
    groups: Vec<GroupResource>,
}

/// Users and groups per tenant, held in memory behind one mutex (each call is atomic). It has
/// no indexes: every list is a scan, evaluated by the protocol layer.
#[derive(Default)]
pub struct MemoryBackend {
    tenants: Mutex<HashMap<TenantId, TenantData>>,
}

impl MemoryBackend {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, tenant: &TenantId, f: impl FnOnce(&mut TenantData) -> T) -> T {
        let mut guard = self.tenants.lock().unwrap_or_else(|p| p.into_inner());
        f(guard.entry(tenant.clone()).or_default())
    }
}

fn check_version(stored: &str, expected: Option<&str>) -> BackendResult<()> {
    match expected {
        Some(v) if v != stored => Err(BackendError::PreconditionFailed),
        _ => Ok(()),
    }
}

/// A stored resource type: where its rows live and what must stay unique among them.
trait Row: ScimResource + Clone {
    /// The tenant's rows of this type.
    fn rows(d: &mut TenantData) -> &mut Vec<Self>;
    /// The name that is unique, case-insensitively, per tenant.
    fn unique_name(&self) -> &str;
    /// The conflict message when [`Row::unique_name`] is taken.
    fn name_conflict(&self) -> String;
    /// Further checks before `r` is added to `rows`.
    fn check_new(_rows: &[Self], _r: &Self) -> BackendResult<()> {
        Ok(())
    }
}

impl Row for UserResource {
    fn rows(d: &mut TenantData) -> &mut Vec<Self> {
        &mut d.users
    }
    fn unique_name(&self) -> &str {
        &self.user_name
    }
    fn name_conflict(&self) -> String {
        format!("userName \"{}\" is already in use", self.user_name)
    }
    fn check_new(rows: &[Self], u: &Self) -> BackendResult<()> {
        if rows.iter().any(|x| x.id == u.id) {
            return Err(BackendError::Conflict("id already in use".into()));
        }
        Ok(())
    }
}

impl Row for GroupResource {
    fn rows(d: &mut TenantData) -> &mut Vec<Self> {
        &mut d.groups
    }
    fn unique_name(&self) -> &str {
        &self.display_name
    }
    fn name_conflict(&self) -> String {
        format!("group \"{}\" already exists", self.display_name)
    }
}

/// Fails with [`BackendError::Conflict`] if a row other than `r` has its unique name.
fn check_name<R: Row>(rows: &[R], r: &R) -> BackendResult<()> {
    let name = r.unique_name().to_lowercase();
    if rows
        .iter()
        .any(|x| x.id() != r.id() && x.unique_name().to_lowercase() == name)
    {
        return Err(BackendError::Conflict(r.name_conflict()));
    }
    Ok(())
}

fn insert<R: Row>(d: &mut TenantData, r: R) -> BackendResult<R> {
    let rows = R::rows(d);
    check_name(rows, &r)?;
    R::check_new(rows, &r)?;
    rows.push(r.clone());
    Ok(r)
}

fn fetch<R: Row>(d: &mut TenantData, id: &str) -> BackendResult<R> {
    R::rows(d)
        .iter()
        .find(|r| r.id() == id)
        .cloned()
        .ok_or(BackendError::NotFound)
}

/// The index of row `id`, checked against the expected version.
fn locate<R: Row>(d: &mut TenantData, id: &str, expected: Option<&str>) -> BackendResult<usize> {
    let rows = R::rows(d);
    let idx = rows
        .iter()
        .position(|r| r.id() == id)
        .ok_or(BackendError::NotFound)?;
    check_version(&rows[idx].meta().version, expected)?;
    Ok(idx)
}

fn update<R: Row>(d: &mut TenantData, r: R, expected: &str) -> BackendResult<R> {
    let idx = locate::<R>(d, r.id(), Some(expected))?;
    let rows = R::rows(d);
    check_name(rows, &r)?;
    rows[idx] = r.clone();
    Ok(r)
}

/// Removes row `id` and, in the same step, its group memberships.
fn remove<R: Row>(d: &mut TenantData, id: &str, expected: Option<&str>) -> BackendResult<()> {
    let idx = locate::<R>(d, id, expected)?;
    R::rows(d).remove(idx);
    remove_member(d, id);
    Ok(())
}

/// Implements the [`ScimBackend`] methods of one resource type (`$res`, named by its methods)
/// over the generic helpers above.
macro_rules! backend_methods {
    ($res:ty, $create:ident, $get:ident, $replace:ident, $delete:ident, $search:ident,
     $scan:ident) => {
        async fn $create(&self, tenant: &TenantId, r: $res) -> BackendResult<$res> {
            self.with(tenant, |d| insert(d, r))
        }

        async fn $get(&self, tenant: &TenantId, id: &str) -> BackendResult<$res> {
            self.with(tenant, |d| fetch(d, id))
        }

        async fn $replace(
            &self,
            tenant: &TenantId,
            r: $res,
            expected_version: &str,
        ) -> BackendResult<$res> {
            self.with(tenant, |d| update(d, r, expected_version))
        }

        async fn $delete(
            &self,
            tenant: &TenantId,
            id: &str,
            expected_version: Option<&str>,
        ) -> BackendResult<()> {
            self.with(tenant, |d| remove::<$res>(d, id, expected_version))
        }

        async fn $search(
            &self,
            _tenant: &TenantId,
            _query: &IndexedQuery,
        ) -> BackendResult<Option<Page<$res>>> {
            Ok(None)
        }

        async fn $scan(
            &self,
            tenant: &TenantId,
            after: Option<&str>,
            limit: usize,
        ) -> BackendResult<Vec<$res>> {
            self.with(tenant, |d| Ok(scan(<$res as Row>::rows(d), after, limit)))
        }
    };
}

/// Up to `limit` rows with ids after `after`, by id.
fn scan<R: Row>(rows: &[R], after: Option<&str>, limit: usize) -> Vec<R> {
    let mut next: Vec<&R> = rows
        .iter()
        .filter(|r| after.is_none_or(|a| r.id() > a))
        .collect();
    next.sort_by(|a, b| a.id().cmp(b.id()));
    next.into_iter().take(limit).cloned().collect()
}

impl ScimBackend for MemoryBackend {
    backend_methods! {
        UserResource, create_user, get_user, replace_user, delete_user, search_users, scan_users
    }
    backend_methods! {
        GroupResource, create_group, get_group, replace_group, delete_group, search_groups,
        scan_groups
    }

    async fn memberships(
        &self,
        tenant: &TenantId,
        users: &[String],
    ) -> BackendResult<Vec<Membership>> {
        self.with(tenant, |d| {
            let mut out = Vec::new();
            for user in users {
                for g in d
                    .groups
                    .iter()
                    .filter(|g| g.members.iter().any(|m| &m.value == user))
                {
                    let group = ResourceRef {
                        value: g.id.clone(),
                        display: Some(g.display_name.clone()),
                        ..ResourceRef::default()
                    };
                    out.push((user.clone(), group));
                }
            }
            Ok(out)
        })
    }

    async fn member_refs(
        &self,
        tenant: &TenantId,
        ids: &[String],
    ) -> BackendResult<Vec<ResourceRef>> {
        self.with(tenant, |d| {
            let users = d
                .users
                .iter()
                .filter(|u| ids.contains(&u.id))
                .map(|u| ResourceRef {
                    value: u.id.clone(),
                    kind: Some("User".into()),
                    display: u.display_name.clone().or_else(|| Some(u.user_name.clone())),
                    reference: None,
                });
            let groups = d
                .groups
                .iter()
                .filter(|g| ids.contains(&g.id))
                .map(|g| ResourceRef {
                    value: g.id.clone(),
                    kind: Some("Group".into()),
                    display: Some(g.display_name.clone()),
                    reference: None,
                });
            Ok(users.chain(groups).collect())
        })
    }
}

/// Drops `id` from every group's members, bumping those groups' versions.
fn remove_member(d: &mut TenantData, id: &str) {
    for g in &mut d.groups {
        let before = g.members.len();
        g.members.retain(|m| m.value != id);
        if g.members.len() != before {
            g.meta.version = resource::next_version(&g.meta.version);
            g.meta.last_modified = resource::now_rfc3339();
        }
    }
}
