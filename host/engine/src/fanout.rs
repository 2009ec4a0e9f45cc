//! Group roles fanned out to members.
//!
//! A user's effective roles include the display names of the groups it is a direct member of
//! ([`crate::scope`]), so a group change can move users into or out of the scope of targets
//! with provisioning roles: members added to a group named after such a role are provisioned
//! (a `create` job), members removed are deprovisioned (a `delete` job, the path of any user
//! leaving a scope), and renaming or deleting the group does either for all its members. The
//! jobs are computed inside the group change's transaction, from the membership rows as that
//! change leaves them, and committed with it.
//!
//! The work is bounded by the change: a group whose old and new names are no target's role
//! touches no member; otherwise only the members that joined or left are read, and all members
//! only when the name itself changed (a rename, a create or a delete), a batch of members per
//! statement.

use std::collections::{BTreeMap, BTreeSet};

use crate::scope;
use crate::store::{self, DbConn, GroupRecord, NewJob, StoreResult, TargetRecord};
use provisioner_contract::{EntityKind, Operation};

/// The display names of the live groups `user` is a direct member of, read only when some
/// target's scope depends on roles (otherwise none: nothing would look at them).
pub(crate) async fn group_roles_in(
    conn: &mut DbConn,
    tenant: &str,
    user: &str,
    targets: &[TargetRecord],
) -> StoreResult<Vec<String>> {
    if !targets
        .iter()
        .any(|target| scope::uses_roles(&target.spec.settings))
    {
        return Ok(Vec::new());
    }
    let groups = store::group_names_with_member_in(conn, tenant, user).await?;
    Ok(groups.into_iter().map(|(_, name)| name).collect())
}

/// The user jobs a group change from `old` (none: the group is new) to `new` (possibly
/// deleted) queues: a `create` for each member it brings into a target's scope and a `delete`
/// for each it takes out. The membership rows must already be in `new`'s state.
pub(crate) async fn member_jobs(
    conn: &mut DbConn,
    tenant: &str,
    targets: &[TargetRecord],
    old: Option<&GroupRecord>,
    new: &GroupRecord,
) -> StoreResult<Vec<NewJob>> {
    let old = old.filter(|group| !group.deleted);
    let old_name = old.map(|group| group.display_name.as_str());
    let new_name = (!new.deleted).then_some(new.display_name.as_str());
    let is_role = |target: &&TargetRecord, name: Option<&str>| {
        name.is_some_and(|name| {
            target
                .spec
                .settings
                .provisioning_roles
                .iter()
                .any(|role| role == name)
        })
    };
    let role_targets: Vec<&TargetRecord> = targets
        .iter()
        .filter(|target| is_role(target, old_name) || is_role(target, new_name))
        .collect();
    if role_targets.is_empty() {
        return Ok(Vec::new());
    }
    let old_members: BTreeSet<&str> = old
        .map(|group| group.members.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let new_members: BTreeSet<&str> = match new_name {
        Some(_) => new.members.iter().map(String::as_str).collect(),
        None => BTreeSet::new(),
    };
    let affected: BTreeSet<&str> = if old_name != new_name {
        old_members.union(&new_members).copied().collect()
    } else {
        old_members
            .symmetric_difference(&new_members)
            .copied()
            .collect()
    };
    // Read in batches: the members' records, then every group each belongs to now.
    let affected: Vec<String> = affected.into_iter().map(str::to_owned).collect();
    let users = store::users_by_ids_in(conn, tenant, &affected).await?;
    let mut others: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (member, group_id, name) in store::memberships_in(conn, tenant, &affected).await? {
        if group_id != new.id {
            others.entry(member).or_default().push(name);
        }
    }
    let mut jobs = Vec::new();
    for user in users.iter().filter(|user| !user.deleted) {
        let member = user.id.as_str();
        let others = others.get(member).map_or(&[][..], Vec::as_slice);
        let with = |name: Option<&str>, member_of: &BTreeSet<&str>| {
            let mut roles = others.to_vec();
            if let Some(name) = name.filter(|_| member_of.contains(member)) {
                roles.push(name.to_owned());
            }
            roles
        };
        let was_roles = with(old_name, &old_members);
        let now_roles = with(new_name, &new_members);
        for target in &role_targets {
            let settings = &target.spec.settings;
            let operation = match (
                scope::applies(settings, user, &was_roles),
                scope::applies(settings, user, &now_roles),
            ) {
                (false, true) => Operation::Create,
                (true, false) => Operation::Delete,
                _ => continue,
            };
            jobs.push(NewJob {
                target: target.spec.name.clone(),
                entity_kind: EntityKind::User,
                entity_id: user.id.clone(),
                entity_name: user.user_name.clone(),
                operation,
                changed_claims: Vec::new(),
                entity_version: user.version,
            });
        }
    }
    // Queue order by user, whatever order the batched read returned.
    jobs.sort_by(|a, b| a.entity_id.cmp(&b.entity_id));
    Ok(jobs)
}
