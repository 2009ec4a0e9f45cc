//! Contract versions: components of every supported version load side by side, older ones are
//! adapted to the newest contract, and an unsupported version is refused before instantiation.

use provisioner_contract::{ContractVersion, Operation};
use provisioner_runtime::{LoadError, Runtime, RuntimeConfig, TargetConfig, TargetInstance};

use crate::common::{entity, runtime_with, test_config, warning, TestServer};

#[tokio::test]
async fn a_component_for_an_unknown_contract_version_is_refused_with_both_versions_named() {
    let runtime = runtime_with(test_config(), None);
    let error = runtime
        .load_file(test_components::GUEST_FUTURE_CONTRACT)
        .await
        .unwrap_err();
    assert!(matches!(error, LoadError::Version(_)), "{error:?}");
    assert_eq!(
        error.to_string(),
        "component targets provisioning:connector@0.3.0; this host supports 0.1.0 to 0.2.0"
    );
}

#[tokio::test]
async fn contract_0_1_and_0_2_builds_of_one_connector_load_side_by_side() {
    let runtime = runtime_with(test_config(), None);
    let legacy = std::fs::read(test_components::SALESFORCE_CONNECTOR_V0_1).unwrap();
    let (old, _) = runtime.load_bytes(legacy).await.unwrap();
    let (new, _) = runtime
        .load_bytes(builtin_connectors::SALESFORCE.bytes)
        .await
        .unwrap();
    assert_eq!(old.contract_version(), ContractVersion::V0_1);
    assert_eq!(new.contract_version(), ContractVersion::V0_2);
    assert_ne!(old.digest(), new.digest());
    // The older connector's metadata is adapted: same schema, and no batching.
    assert_eq!(old.metadata().id, new.metadata().id);
    assert_eq!(old.metadata().properties, new.metadata().properties);
    assert_eq!(old.metadata().max_batch_size, 1);

    // Both validate the same (incomplete) configuration the same way, through their own
    // contract version.
    let config = || TargetConfig::new("acme", "sf").value("sf-domain-name", "https://acme.example");
    let problems = |connector| async {
        TargetInstance::new(&runtime, connector, config())
            .map(|_| ())
            .map_err(|error| error.to_string())
    };
    assert_eq!(problems(old.clone()).await, problems(new.clone()).await);
}

#[tokio::test]
async fn a_batch_is_split_by_the_connectors_and_the_hosts_limits_and_answered_in_order() {
    let server = TestServer::start().await;
    let config = RuntimeConfig {
        max_batch_size: 4,
        ..test_config()
    };
    let runtime: Runtime = runtime_with(config, None);
    let (echo, _) = runtime
        .load_file(test_components::GUEST_ECHO)
        .await
        .unwrap();
    assert_eq!(echo.metadata().max_batch_size, 10);
    let target = TargetInstance::new(
        &runtime,
        echo,
        TargetConfig::new("acme", "echo")
            .value("endpoint", server.base.as_str())
            .secret("api-key", "sk-test-abcdef")
            .egress(provisioner_runtime::EgressPolicy::loopback()),
    )
    .unwrap();
    // The connector takes 10, the host allows 4: 9 changes go in calls of 4, 4 and 1.
    assert_eq!(target.batch_size(), 4);
    let changes: Vec<_> = (0..9)
        .map(|i| {
            let mut change = entity(&[("urn:echo:path", &format!("/ok?n={i}"))]);
            change.operation = Operation::Update;
            change
        })
        .collect();
    let results = target.provision_batch(&changes).await.unwrap();
    assert_eq!(results.len(), 9);
    for (i, result) in results.iter().enumerate() {
        let outcome = result.as_ref().unwrap();
        assert_eq!(warning(&outcome.warnings, "status"), "200", "change {i}");
    }
    assert_eq!(server.requests().len(), 9);
}
