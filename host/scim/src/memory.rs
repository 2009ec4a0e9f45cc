//! [`MemoryBackend`]: an in-memory [`ScimBackend`] for tests and as the reference for the contract.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::backend::{BackendError, BackendResult, ScimBackend, TenantId};
use crate::resource::{GroupResource, UserResource};

#[derive(Default)]
struct TenantData {
    users: Vec<UserResource>,
    groups: Vec<GroupResource>,
}

/// Users and groups per tenant, held in memory behind one mutex (each call is atomic).
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

fn user_name_taken(d: &TenantData, name: &str, except: &str) -> bool {
    d.users
        .iter()
        .any(|u| u.id != except && u.user_name.to_lowercase() == name.to_lowercase())
}

fn group_name_taken(d: &TenantData, name: &str, except: &str) -> bool {
    d.groups
        .iter()
        .any(|g| g.id != except && g.display_name.to_lowercase() == name.to_lowercase())
}

impl ScimBackend for MemoryBackend {
    async fn create_user(
        &self,
        tenant: &TenantId,
        user: UserResource,
    ) -> BackendResult<UserResource> {
        self.with(tenant, |d| {
            if user_name_taken(d, &user.user_name, &user.id) {
                return Err(BackendError::Conflict(format!(
                    "userName \"{}\" is already in use",
                    user.user_name
                )));
            }
            if d.users.iter().any(|u| u.id == user.id) {
                return Err(BackendError::Conflict("id already in use".into()));
            }
            d.users.push(user.clone());
            Ok(user)
        })
    }

    async fn get_user(&self, tenant: &TenantId, id: &str) -> BackendResult<UserResource> {
        self.with(tenant, |d| {
            d.users
                .iter()
                .find(|u| u.id == id)
                .cloned()
                .ok_or(BackendError::NotFound)
        })
    }

    async fn replace_user(
        &self,
        tenant: &TenantId,
        user: UserResource,
        expected_version: &str,
    ) -> BackendResult<UserResource> {
        self.with(tenant, |d| {
            let idx = d
                .users
                .iter()
                .position(|u| u.id == user.id)
                .ok_or(BackendError::NotFound)?;
            check_version(&d.users[idx].meta.version, Some(expected_version))?;
            if user_name_taken(d, &user.user_name, &user.id) {
                return Err(BackendError::Conflict(format!(
                    "userName \"{}\" is already in use",
                    user.user_name
                )));
            }
            d.users[idx] = user.clone();
            Ok(user)
        })
    }

    async fn delete_user(
        &self,
        tenant: &TenantId,
        id: &str,
        expected_version: Option<&str>,
    ) -> BackendResult<()> {
        self.with(tenant, |d| {
            let idx = d
                .users
                .iter()
                .position(|u| u.id == id)
                .ok_or(BackendError::NotFound)?;
            check_version(&d.users[idx].meta.version, expected_version)?;
            d.users.remove(idx);
            remove_member(d, id);
            Ok(())
        })
    }

    async fn list_users(&self, tenant: &TenantId) -> BackendResult<Vec<UserResource>> {
        self.with(tenant, |d| Ok(d.users.clone()))
    }

    async fn create_group(
        &self,
        tenant: &TenantId,
        group: GroupResource,
    ) -> BackendResult<GroupResource> {
        self.with(tenant, |d| {
            if group_name_taken(d, &group.display_name, &group.id) {
                return Err(BackendError::Conflict(format!(
                    "group \"{}\" already exists",
                    group.display_name
                )));
            }
            d.groups.push(group.clone());
            Ok(group)
        })
    }

    async fn get_group(&self, tenant: &TenantId, id: &str) -> BackendResult<GroupResource> {
        self.with(tenant, |d| {
            d.groups
                .iter()
                .find(|g| g.id == id)
                .cloned()
                .ok_or(BackendError::NotFound)
        })
    }

    async fn replace_group(
        &self,
        tenant: &TenantId,
        group: GroupResource,
        expected_version: &str,
    ) -> BackendResult<GroupResource> {
        self.with(tenant, |d| {
            let idx = d
                .groups
                .iter()
                .position(|g| g.id == group.id)
                .ok_or(BackendError::NotFound)?;
            check_version(&d.groups[idx].meta.version, Some(expected_version))?;
            if group_name_taken(d, &group.display_name, &group.id) {
                return Err(BackendError::Conflict(format!(
                    "group \"{}\" already exists",
                    group.display_name
                )));
            }
            d.groups[idx] = group.clone();
            Ok(group)
        })
    }

    async fn delete_group(
        &self,
        tenant: &TenantId,
        id: &str,
        expected_version: Option<&str>,
    ) -> BackendResult<()> {
        self.with(tenant, |d| {
            let idx = d
                .groups
                .iter()
                .position(|g| g.id == id)
                .ok_or(BackendError::NotFound)?;
            check_version(&d.groups[idx].meta.version, expected_version)?;
            d.groups.remove(idx);
            remove_member(d, id);
            Ok(())
        })
    }

    async fn list_groups(&self, tenant: &TenantId) -> BackendResult<Vec<GroupResource>> {
        self.with(tenant, |d| Ok(d.groups.clone()))
    }
}

/// Drops `id` from every group's members, bumping those groups' versions.
fn remove_member(d: &mut TenantData, id: &str) {
    for g in &mut d.groups {
        let before = g.members.len();
        g.members.retain(|m| m.value != id);
        if g.members.len() != before {
            g.meta.version = crate::resource::next_version(&g.meta.version);
            g.meta.last_modified = crate::resource::now_rfc3339();
        }
    }
}
