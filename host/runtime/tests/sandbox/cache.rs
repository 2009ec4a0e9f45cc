//! The compiled-component cache.

use provisioner_runtime::{LoadSource, Runtime, RuntimeConfig};

use crate::common::init_tracing;

#[tokio::test]
async fn second_load_with_a_fresh_runtime_is_a_disk_cache_hit() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();

    let first = Runtime::new(RuntimeConfig::new(dir.path())).unwrap();
    let (connector, report) = first.load_file(test_components::GUEST_ECHO).await.unwrap();
    assert_eq!(report.source, LoadSource::Compiled);
    assert!(!report.cache_hit());
    assert!(
        report.artifact.is_file(),
        "artifact {} written",
        report.artifact.display()
    );
    assert_eq!(connector.metadata().id, "echo");
    assert_eq!(connector.digest(), report.digest);

    let (again, report) = first.load_file(test_components::GUEST_ECHO).await.unwrap();
    assert_eq!(report.source, LoadSource::Memory);
    assert!(std::sync::Arc::ptr_eq(&connector, &again));
    assert!(first.connector(&report.digest).is_some());

    let second = Runtime::new(RuntimeConfig::new(dir.path())).unwrap();
    let (connector, report) = second.load_file(test_components::GUEST_ECHO).await.unwrap();
    assert_eq!(report.source, LoadSource::DiskCache);
    assert!(report.cache_hit());
    assert_eq!(connector.metadata().id, "echo");
    let name = report
        .artifact
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with(&report.digest) && name.ends_with(".cwasm"),
        "{name}"
    );
    // No temporary files left behind.
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(files.len(), 1, "{files:?}");
}

#[tokio::test]
async fn a_corrupt_artifact_is_recompiled() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let first = Runtime::new(RuntimeConfig::new(dir.path())).unwrap();
    let (_, report) = first.load_file(test_components::GUEST_ECHO).await.unwrap();
    std::fs::write(&report.artifact, b"not an artifact").unwrap();

    let second = Runtime::new(RuntimeConfig::new(dir.path())).unwrap();
    let (_, report) = second.load_file(test_components::GUEST_ECHO).await.unwrap();
    assert_eq!(report.source, LoadSource::Compiled);
}

#[tokio::test]
async fn bytes_that_are_not_a_component_are_refused_clearly() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let runtime = Runtime::new(RuntimeConfig::new(dir.path())).unwrap();
    let err = runtime
        .load_bytes(b"\0asm garbage".to_vec())
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with("cannot compile component"),
        "{err}"
    );
}

#[tokio::test]
async fn unknown_imports_are_listed_at_load() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let runtime = Runtime::new(RuntimeConfig::new(dir.path())).unwrap();
    let component = wat::parse_str(
        r#"(component
            (import "acme:spy/keylogger" (instance))
            (import "wasi:cli/environment@0.2.0" (instance)))"#,
    )
    .unwrap();
    let err = runtime.load_bytes(component).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("imports the host does not provide: [acme:spy/keylogger]"),
        "{text}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn a_world_writable_cache_directory_is_not_trusted() {
    use std::os::unix::fs::PermissionsExt;
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    for _ in 0..2 {
        let runtime = Runtime::new(RuntimeConfig::new(dir.path())).unwrap();
        let (_, report) = runtime
            .load_file(test_components::GUEST_ECHO)
            .await
            .unwrap();
        assert_eq!(report.source, LoadSource::Compiled);
        assert!(!report.artifact.exists());
    }
}
