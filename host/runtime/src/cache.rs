//! On-disk cache of compiled components.
//!
//! An artifact is stored as `<cache_dir>/<sha256 of the wasm>-<engine compatibility>.cwasm`,
//! written to a temporary file and renamed into place, so readers never see a partial file.
//! Loading an artifact skips Cranelift entirely.
//!
//! Trust: `Component::deserialize_file` is `unsafe` because wasmtime runs the machine code in the
//! file as it is. The cache directory must therefore be writable only by the host itself: it is
//! created with mode 0700, and on Unix an artifact is used only when it and its directory belong
//! to the host's user and are not writable by group or others (otherwise the component is
//! compiled afresh and nothing is written). Artifacts from another wasmtime version or engine
//! configuration are rejected safely (and then recompiled and replaced).

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::Engine;

use crate::load::{LoadError, LoadSource};

/// A `Hasher` that feeds SHA-256, so the engine's compatibility hash is stable across processes
/// and Rust versions (std's `DefaultHasher` promises neither).
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// A short, stable digest of everything that makes compiled code compatible with `engine`.
pub(crate) fn engine_fingerprint(engine: &Engine) -> String {
    let mut hasher = Sha256Hasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hex::encode(&hasher.0.finalize()[..8])
}

/// Hex SHA-256 of component bytes.
pub(crate) fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Where the artifact of a component lives.
pub(crate) fn artifact_path(dir: &Path, digest: &str, fingerprint: &str) -> PathBuf {
    dir.join(format!("{digest}-{fingerprint}.cwasm"))
}

/// Loads the compiled component from the cache, or compiles it and stores the artifact.
pub(crate) fn load_or_compile(
    engine: &Engine,
    artifact: &Path,
    bytes: &[u8],
) -> Result<(Component, LoadSource), LoadError> {
    let dir_trusted = trusted(artifact.parent().unwrap_or(Path::new(".")));
    if dir_trusted && artifact.is_file() && trusted(artifact) {
        // SAFETY: the cache directory is the host's own (see the module docs); the file was
        // produced by `Component::serialize` of an engine with the same compatibility hash, and
        // wasmtime checks version and configuration before using it.
        match unsafe { Component::deserialize_file(engine, artifact) } {
            Ok(component) => return Ok((component, LoadSource::DiskCache)),
            Err(e) => tracing::warn!(
                artifact = %artifact.display(),
                "cached artifact is unusable, recompiling: {e}"
            ),
        }
    }
    let component = Component::from_binary(engine, bytes).map_err(|e| LoadError::Compile {
        message: format!("{e:#}"),
    })?;
    if !dir_trusted {
        tracing::warn!(
            artifact = %artifact.display(),
            "artifact cache directory is not private to this user; not caching"
        );
    } else if let Err(e) = store(&component, artifact) {
        tracing::warn!(artifact = %artifact.display(), "cannot write compiled artifact: {e}");
    }
    Ok((component, LoadSource::Compiled))
}

/// Whether `path` may hold code we run: on Unix, owned by our user and not group/world-writable.
/// A directory that does not exist yet is created, private.
fn trusted(path: &Path) -> bool {
    if !path.exists() {
        return create_private_dir(path).is_ok();
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let Ok(meta) = std::fs::metadata(path) else {
            return false;
        };
        // The owner of /proc/self is the process's effective user.
        let owner_ok = std::fs::metadata("/proc/self").map_or(true, |me| me.uid() == meta.uid());
        owner_ok && meta.mode() & 0o022 == 0
    }
    #[cfg(not(unix))]
    {
        true
    }
}

fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

fn store(component: &Component, artifact: &Path) -> std::io::Result<()> {
    let serialized = component
        .serialize()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let dir = artifact.parent().unwrap_or(Path::new("."));
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let name = artifact.file_name().unwrap_or_default().to_string_lossy();
    let temp = dir.join(format!(".{name}.{}.{nanos}.tmp", std::process::id()));
    std::fs::write(&temp, serialized)?;
    std::fs::rename(&temp, artifact).inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })
}
