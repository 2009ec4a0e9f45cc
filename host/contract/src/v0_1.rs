//! Contract 0.1.0 (`wit/v0.1`, frozen), adapted to the newest contract.
//!
//! What changed in 0.2.0 is the entity (a wide record then, a user/group variant now, with the
//! operation beside it), a metadata field (`max-batch-size`) and two new exports. Everything else
//! has the same shape, so:
//!
//! - imports: `http` and `log` are unchanged, so the newest implementation serves the 0.1.0
//!   names directly ([`add_to_linker`]); the component model checks the types structurally when
//!   a component is linked;
//! - exports: each call converts its arguments to the 0.1.0 types and its results back, with
//!   [`Adapt`] conversions written once per type by the macros below.

// Generated items carry the WIT documentation, but not every one has some.
#![allow(missing_docs)]

use wasmtime::component::Linker;
use wasmtime::{Store, StoreContextMut};

use crate::v0_2::provisioning::connector::types as latest;
use crate::v0_2::provisioning::connector::{http as http_latest, log as log_latest};
use crate::HostImports;

wasmtime::component::bindgen!({
    world: "connector",
    path: "../../wit/v0.1",
    imports: { default: async },
    exports: { default: async },
});

use provisioning::connector::types as old;

/// Serves the 0.1.0 imports with the newest implementation (`http` and `log` did not change).
pub fn add_to_linker<T: HostImports>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    // Interfaces that only carry types are imported as instances too.
    linker.instance("provisioning:connector/types@0.1.0")?;
    let mut http = linker.instance("provisioning:connector/http@0.1.0")?;
    http.func_wrap_async(
        "send",
        |mut store: StoreContextMut<'_, T>, (request,): (http_latest::Request,)| {
            Box::new(async move { Ok((http_latest::Host::send(store.data_mut(), request).await,)) })
        },
    )?;
    http.func_wrap_async(
        "invalidate-token",
        |mut store: StoreContextMut<'_, T>, (grant,): (http_latest::OauthGrant,)| {
            Box::new(async move {
                http_latest::Host::invalidate_token(store.data_mut(), grant).await;
                Ok(())
            })
        },
    )?;
    let mut log = linker.instance("provisioning:connector/log@0.1.0")?;
    log.func_wrap_async(
        "log",
        |mut store: StoreContextMut<'_, T>,
         (level, message, fields): (log_latest::Level, String, Vec<(String, String)>)| {
            Box::new(async move {
                log_latest::Host::log(store.data_mut(), level, message, fields).await;
                Ok(())
            })
        },
    )?;
    Ok(())
}

/// `metadata()`, completed with the defaults of fields 0.1.0 did not have.
pub(crate) async fn metadata<T: Send>(
    guest: &Connector,
    store: &mut Store<T>,
) -> wasmtime::Result<latest::ConnectorMetadata> {
    let metadata = guest
        .provisioning_connector_provisioning()
        .call_metadata(store)
        .await?;
    Ok(latest::ConnectorMetadata {
        id: metadata.id,
        name: metadata.name,
        version: metadata.version,
        description: metadata.description,
        entity_kinds: metadata.entity_kinds.adapt(),
        properties: metadata.properties.adapt(),
        max_batch_size: 1,
    })
}

/// `validate(config)`.
pub(crate) async fn validate<T: Send>(
    guest: &Connector,
    store: &mut Store<T>,
    config: &latest::ConnectorConfig,
) -> wasmtime::Result<Vec<latest::ConfigProblem>> {
    let problems = guest
        .provisioning_connector_provisioning()
        .call_validate(store, &config.clone().adapt())
        .await?;
    Ok(problems.adapt())
}

/// `provision(config, entity)` with the change as a 0.1.0 entity.
pub(crate) async fn provision<T: Send>(
    guest: &Connector,
    store: &mut Store<T>,
    config: &latest::ConnectorConfig,
    change: &latest::Change,
) -> wasmtime::Result<Result<latest::ProvisionOutcome, latest::ProvisionError>> {
    let entity = entity(change.operation, change.entity.clone());
    let result = guest
        .provisioning_connector_provisioning()
        .call_provision(store, &config.clone().adapt(), &entity)
        .await?;
    Ok(result.adapt())
}

/// `lookup(config, key)`; an entity key travels as a 0.1.0 entity of a `create`, the operation
/// lookups resolve.
pub(crate) async fn lookup<T: Send>(
    guest: &Connector,
    store: &mut Store<T>,
    config: &latest::ConnectorConfig,
    key: &latest::LookupKey,
) -> wasmtime::Result<Result<Option<latest::RemoteObject>, latest::ProvisionError>> {
    let key = match key.clone() {
        latest::LookupKey::Attribute(attribute) => old::LookupKey::Attribute(attribute.adapt()),
        latest::LookupKey::Entity(e) => {
            old::LookupKey::Entity(entity(latest::Operation::Create, e))
        }
    };
    let result = guest
        .provisioning_connector_provisioning()
        .call_lookup(store, &config.clone().adapt(), &key)
        .await?;
    Ok(result.adapt())
}

/// The 0.1.0 wide entity record of a change.
fn entity(operation: latest::Operation, entity: latest::Entity) -> old::Entity {
    match entity {
        latest::Entity::User(user) => old::Entity {
            kind: old::EntityKind::User,
            operation: operation.adapt(),
            local_id: user.local_id,
            name: user.name,
            remote_id: user.remote_id,
            claims: user.claims.adapt(),
            changed_claims: user.changed_claims,
            members: Vec::new(),
            added_members: Vec::new(),
            removed_members: Vec::new(),
            previous_name: user.previous_name,
        },
        latest::Entity::Group(group) => old::Entity {
            kind: old::EntityKind::Group,
            operation: operation.adapt(),
            local_id: group.local_id,
            name: group.name,
            remote_id: group.remote_id,
            claims: Vec::new(),
            changed_claims: Vec::new(),
            members: group.members.adapt(),
            added_members: group.added_members.adapt(),
            removed_members: group.removed_members.adapt(),
            previous_name: group.previous_name,
        },
    }
}

/// A conversion between two versions' bindings of the same WIT type.
pub trait Adapt<To> {
    /// Converts `self` into the other version's type.
    fn adapt(self) -> To;
}

macro_rules! same {
    ($($t:ty),*) => {$(
        impl Adapt<$t> for $t {
            fn adapt(self) -> $t {
                self
            }
        }
    )*};
}
same!(String, bool, u16, u32, u64, i64, (String, String));

impl<A: Adapt<B>, B> Adapt<Vec<B>> for Vec<A> {
    fn adapt(self) -> Vec<B> {
        self.into_iter().map(Adapt::adapt).collect()
    }
}

impl<A: Adapt<B>, B> Adapt<Option<B>> for Option<A> {
    fn adapt(self) -> Option<B> {
        self.map(Adapt::adapt)
    }
}

impl<A: Adapt<B>, B, E: Adapt<F>, F> Adapt<Result<B, F>> for Result<A, E> {
    fn adapt(self) -> Result<B, F> {
        self.map(Adapt::adapt).map_err(Adapt::adapt)
    }
}

/// Records with the same fields in both versions, converted both ways.
macro_rules! records {
    ($($name:ident { $($field:ident),* $(,)? })*) => {$(
        impl Adapt<latest::$name> for old::$name {
            fn adapt(self) -> latest::$name {
                latest::$name { $($field: self.$field.adapt()),* }
            }
        }
        impl Adapt<old::$name> for latest::$name {
            fn adapt(self) -> old::$name {
                old::$name { $($field: self.$field.adapt()),* }
            }
        }
    )*};
}

/// Enums and variants with the same cases in both versions, converted both ways.
macro_rules! variants {
    ($($name:ident { $($case:ident $(($v:ident))?),* $(,)? })*) => {$(
        impl Adapt<latest::$name> for old::$name {
            fn adapt(self) -> latest::$name {
                match self {
                    $(old::$name::$case $(($v))? => latest::$name::$case $(($v.adapt()))?),*
                }
            }
        }
        impl Adapt<old::$name> for latest::$name {
            fn adapt(self) -> old::$name {
                match self {
                    $(latest::$name::$case $(($v))? => old::$name::$case $(($v.adapt()))?),*
                }
            }
        }
    )*};
}

records! {
    ConfigProperty { key, label, description, kind, required, secret, default_value, options }
    SecretRef { key }
    ClaimMapping { target_field, claim, default_value }
    ConfigEntry { key, value }
    ConnectorConfig { tenant, target, entries }
    ConfigProblem { key, message }
    Claim { uri, values }
    Member { local_id, name, remote_id }
    ProvisionOutcome { remote_id, warnings }
    ErrorDetail { message, target_code, fields, http_status }
    TransientError { detail, outcome_unknown }
    RateLimitError { detail, retry_after_ms }
    ConflictError { detail, existing_remote_id }
    AttributeMatch { kind, attribute, value }
    RemoteObject { remote_id, active, attributes }
}

variants! {
    PropertyKind { Text, MultilineText, Boolean, Integer, Url, Choice, ClaimMappings }
    EntityKind { User, Group }
    Operation { Create, Update, Delete }
    ConfigValue { Text(v), Boolean(v), Integer(v), Secret(v), ClaimMappings(v) }
    ProvisionError {
        Transient(v), RateLimited(v), QuotaExhausted(v), AuthFailed(v), Conflict(v),
        InvalidData(v), NotFound(v), Unsupported(v), Permanent(v)
    }
}
