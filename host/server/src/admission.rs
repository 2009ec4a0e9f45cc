//! Admitting a target change before it takes effect: the component is loaded and compiled
//! ahead (into the runtime's disk cache, which the server shares), the configuration is checked
//! against the connector's schema and by the connector's own `validate`, and only when nothing
//! is wrong is the target written, atomically, with its component stored by digest. A refused
//! change lists every problem and changes nothing. A target that did not exist before starts a
//! sync run ([`provisioner_engine::sync`]), so the tenant's existing users reach it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

use provisioner_engine::store::{
    Store, StoreError, StoredComponent, SyncRun, TargetRecord, TargetSpec, DIGEST_PREFIX,
};
use provisioner_engine::Engine;
use provisioner_runtime::secret_source::resolve_references;
use provisioner_runtime::{
    ConfigIssue, EgressPolicy, LoadSource, Runtime, SecretValue, TargetInstance,
};

use crate::registry::Registry;
use crate::secrets::{Secrets, STORED_PREFIX};

/// Stands in for a secret the checking process cannot read (the server resolves it).
const PLACEHOLDER_SECRET: &str = "placeholder-secret-for-validation-only";

/// A target change that was refused: every problem found, nothing changed.
#[derive(Debug)]
pub struct Refused {
    /// `tenant/name` of the target.
    pub target: String,
    /// What is wrong, one problem a line, each naming what to fix.
    pub problems: Vec<String>,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "target {} refused, nothing changed ({} problem(s)):",
            self.target,
            self.problems.len()
        )?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Refused {}

/// What an admitted change did.
#[derive(Debug)]
pub struct Admitted {
    /// The target as stored now.
    pub record: TargetRecord,
    /// The component stored by digest (none for a `builtin:` connector).
    pub component: Option<StoredComponent>,
    /// Where the compiled code came from, and how long loading took.
    pub load: (LoadSource, Duration),
    /// Things worth knowing that did not stop the change (e.g. a secret this process cannot
    /// read, which the server must be able to).
    pub warnings: Vec<String>,
    /// The sync run a new target starts, so the tenant's existing users reach it (none when
    /// the target existed before, or when starting the run failed: see `warnings`).
    pub sync_run: Option<SyncRun>,
}

/// What a check found acceptable: the component's bytes and how they were loaded.
#[derive(Debug)]
pub struct Checked {
    /// The component's bytes.
    pub bytes: Vec<u8>,
    /// Whether they came from a file (and must be stored by digest on admission).
    pub from_file: bool,
    /// Where the compiled code came from, and how long loading took.
    pub load: (LoadSource, Duration),
    /// Things worth knowing that would not stop the change.
    pub warnings: Vec<String>,
}

/// Checks `spec` and, when nothing is wrong, writes it as the target's next revision. A
/// relative component path is taken from `base_dir` (the directory of the specification file).
/// `progress` receives a line before and after compiling.
pub async fn admit(
    store: &Store,
    runtime: &Runtime,
    spec: TargetSpec,
    base_dir: Option<&Path>,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Admitted, Refused> {
    admit_with(store, runtime, None, spec, base_dir, progress).await
}

/// [`admit`], opening `stored:` secret references from `secrets` for the check.
pub async fn admit_with(
    store: &Store,
    runtime: &Runtime,
    secrets: Option<&Secrets>,
    mut spec: TargetSpec,
    base_dir: Option<&Path>,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Admitted, Refused> {
    let target = format!("{}/{}", spec.tenant, spec.name);
    let refused = |problems: Vec<String>| Refused {
        target: target.clone(),
        problems,
    };
    let Checked {
        bytes,
        from_file,
        load,
        mut warnings,
    } = check(store, runtime, secrets, &spec, base_dir, progress).await?;

    // Atomically switch: the component first (idempotent), then the target's next revision.
    let component = if from_file || spec.connector.starts_with(DIGEST_PREFIX) {
        let stored = store
            .put_component(&bytes)
            .await
            .map_err(|e| refused(vec![format!("storing the component: {e}")]))?;
        spec.connector = stored.reference.clone();
        Some(stored)
    } else {
        None
    };
    let existed = store
        .target(&spec.tenant, &spec.name)
        .await
        .map_err(|e| refused(vec![format!("reading the target: {e}")]))?
        .is_some();
    let record = store.put_target(&spec).await.map_err(|error| match error {
        StoreError::Conflict(message) => refused(vec![message]),
        other => refused(vec![format!("writing the target: {other}")]),
    })?;
    // A new target gets the tenant's existing users through a sync run.
    let sync_run = if existed {
        None
    } else {
        match Engine::new(store.clone())
            .sync_target(&spec.tenant, &spec.name)
            .await
        {
            Ok(run) => Some(run),
            Err(error) => {
                warnings.push(format!(
                    "the target is saved, but its initial sync could not be queued ({error}); \
                     `provisioner sync --tenant {} --target {}` queues it",
                    spec.tenant, spec.name
                ));
                None
            }
        }
    };
    Ok(Admitted {
        record,
        component,
        load,
        warnings,
        sync_run,
    })
}

/// Checks `spec` without writing anything: loads (compiles) its component, checks the
/// configuration against the connector's schema and runs the connector's `validate`. Secrets
/// this process cannot read are checked with a placeholder (and a warning); `stored:` ones are
/// opened from `secrets` when given.
pub async fn check(
    store: &Store,
    runtime: &Runtime,
    secrets: Option<&Secrets>,
    spec: &TargetSpec,
    base_dir: Option<&Path>,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Checked, Refused> {
    let target = format!("{}/{}", spec.tenant, spec.name);

    let refused = |problems: Vec<String>| Refused {
        target: target.clone(),
        problems,
    };

    // The component: bytes from a file, the binary or the store.
    let (bytes, from_file) = component_bytes(store, &spec.connector, base_dir)
        .await
        .map_err(|problem| refused(vec![problem]))?;
    progress(&format!(
        "loading {} ({} bytes) for {target}: compiling ahead unless cached...",
        spec.connector,
        bytes.len()
    ));
    let started = Instant::now();
    let (connector, report) = runtime
        .load_bytes(bytes.clone())
        .await
        .map_err(|error| refused(vec![format!("connector `{}`: {error}", spec.connector)]))?;
    let elapsed = started.elapsed();
    let how = match report.source {
        LoadSource::Compiled => "compiled",
        LoadSource::DiskCache => "loaded from the compilation cache",
        LoadSource::Memory => "already loaded",
    };
    progress(&format!(
        "{how} in {:.2} s: {} {} (contract {}, sha256:{})",
        elapsed.as_secs_f64(),
        connector.metadata().id,
        connector.metadata().version,
        connector.contract_version(),
        connector.digest()
    ));

    // The configuration, against the schema and the connector's own checks.
    let mut warnings = Vec::new();
    let secret_values = checkable_secrets(spec, secrets, &mut warnings).await;
    let registry = Registry::with_runtime(runtime.clone(), EgressPolicy::default());
    let config = registry
        .target_config(spec, &connector, secret_values)
        .map_err(|error| refused(vec![error.to_string()]))?;
    let known: Vec<&str> = connector
        .metadata()
        .properties
        .iter()
        .map(|p| p.key.as_str())
        .collect();
    let instance = match TargetInstance::new(runtime, connector.clone(), config) {
        Ok(instance) => instance,
        Err(error) => {
            let problems = error
                .issues
                .iter()
                .map(|issue| describe(issue, &known))
                .collect();
            return Err(refused(problems));
        }
    };
    let answers = instance
        .validate()
        .await
        .map_err(|error| refused(vec![format!("the connector's validate() failed: {error}")]))?;
    if !answers.is_empty() {
        let problems = answers
            .iter()
            .map(|p| match &p.key {
                Some(key) => format!("`{key}`: {} (the connector's validate)", p.message),
                None => format!("{} (the connector's validate)", p.message),
            })
            .collect();
        return Err(refused(problems));
    }
    drop(instance);

    Ok(Checked {
        bytes,
        from_file,
        load: (report.source, elapsed),
        warnings,
    })
}

/// The component bytes a reference names, and whether they came from a file.
async fn component_bytes(
    store: &Store,
    reference: &str,
    base_dir: Option<&Path>,
) -> Result<(Vec<u8>, bool), String> {
    if reference.starts_with(builtin_connectors::PREFIX) {
        return builtin_connectors::lookup(reference)
            .map(|b| (b.bytes.to_vec(), false))
            .ok_or_else(|| {
                format!(
                    "connector `{reference}`: no such built-in connector; built in: {}",
                    builtin_connectors::references().join(", ")
                )
            });
    }
    if reference.starts_with(DIGEST_PREFIX) {
        return match store.component_bytes(reference).await {
            Ok(Some(bytes)) => Ok((bytes, false)),
            Ok(None) => Err(format!(
                "connector `{reference}`: no component with this digest is stored; give the \
                 component file's path instead"
            )),
            Err(e) => Err(format!("connector `{reference}`: {e}")),
        };
    }
    let path = Path::new(reference);
    let path = match base_dir {
        Some(dir) if path.is_relative() => dir.join(path),
        _ => path.to_path_buf(),
    };
    tokio::fs::read(&path)
        .await
        .map(|bytes| (bytes, true))
        .map_err(|e| {
            format!(
                "connector `{reference}`: cannot read the component file {}: {e} (give a \
                 `.wasm` path, relative to the specification file, `builtin:<name>` or \
                 `sha256:<digest>`)",
                path.display()
            )
        })
}

/// Secret values to check the configuration with: the real ones where this process can
/// resolve them, a placeholder (and a warning) where it cannot.
async fn checkable_secrets(
    spec: &TargetSpec,
    stored: Option<&Secrets>,
    warnings: &mut Vec<String>,
) -> BTreeMap<String, SecretValue> {
    let mut secrets = BTreeMap::new();
    for (key, reference) in &spec.secret_refs {
        let one = BTreeMap::from([(key.clone(), reference.clone())]);
        let resolved = match (reference.strip_prefix(STORED_PREFIX), stored) {
            (Some(name), Some(stored)) => stored
                .get(&spec.tenant, &spec.name, name)
                .await
                .map(|value| BTreeMap::from([(key.clone(), value)]))
                .map_err(|error| error.to_string()),
            _ => resolve_references(&one).map_err(|(_, error)| error.to_string()),
        };
        match resolved {
            Ok(resolved) => secrets.extend(resolved),
            Err(error) => {
                warnings.push(format!(
                    "secret `{key}` ({reference}) cannot be read here ({error}); the server \
                     must be able to read it"
                ));
                secrets.insert(key.clone(), SecretValue::from(PLACEHOLDER_SECRET));
            }
        }
    }
    secrets
}

/// One configuration issue as an operator reads it; an unknown key also lists the known ones.
fn describe(issue: &ConfigIssue, known: &[&str]) -> String {
    match issue {
        ConfigIssue::UnknownKey { key } => format!(
            "`{key}`: not a property of this connector; its properties are: {}",
            known.join(", ")
        ),
        other => other.to_string(),
    }
}
