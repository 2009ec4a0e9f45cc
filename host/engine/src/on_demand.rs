//! Provisioning on demand: one user brought in line with one target now, through the queue like
//! any change (so per-entity ordering, retries and the attempt log hold), without waiting for a
//! local change or a sync run.

use provisioner_contract::{EntityKind, Operation};

use crate::store::{self, NewJob};
use crate::{Engine, EngineError};

impl Engine {
    /// Queues a job that brings user `user_id` in line with `target` (a create, which a job
    /// turns into a full update when the user already has a remote id) and returns its id. The
    /// user must be live and in the target's scope; wait for the job with
    /// [`Engine::wait_for_jobs`].
    pub async fn provision_user_now(
        &self,
        tenant: &str,
        target: &str,
        user_id: &str,
    ) -> Result<i64, EngineError> {
        let record = self
            .store()
            .target(tenant, target)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("target `{tenant}/{target}`")))?;
        let user = self
            .store()
            .user(tenant, user_id)
            .await?
            .filter(|user| !user.deleted)
            .ok_or_else(|| EngineError::NotFound(format!("user `{user_id}`")))?;
        let preview = self.preview_user(&record, user).await?;
        if !preview.in_scope {
            return Err(EngineError::Conflict(format!(
                "user `{}` is not in the scope of target `{target}` (roles matched: {}, filter \
                 matched: {}); give the user one of the target's provisioning roles {:?} or \
                 change the target's scope, then provision again",
                preview.user.user_name,
                preview.roles.matched,
                preview.filter.matched,
                preview.roles.required
            )));
        }
        let job = NewJob {
            target: target.to_owned(),
            entity_kind: EntityKind::User,
            entity_id: preview.user.id.clone(),
            entity_name: preview.user.user_name.clone(),
            operation: Operation::Create,
            changed_claims: Vec::new(),
            entity_version: preview.user.version,
        };
        let mut tx = self.store().begin_write().await?;
        let ids = store::insert_jobs(&mut tx, tenant, &[job]).await?;
        tx.commit().await?;
        self.signals().new_work.notify_waiters();
        ids.first()
            .copied()
            .ok_or_else(|| EngineError::Invalid("no job was queued".into()))
    }
}
