//! Instance lifetimes: the pooling allocator's limits, fresh instances per call by default, and
//! bounded reuse within one target when the runtime asks for it.

use provisioner_contract::{AttributeMatch, EntityKind, LookupKey};
use provisioner_runtime::{
    CallError, EgressPolicy, Runtime, RuntimeConfig, TargetConfig, TargetInstance,
};

use crate::common::{entity, runtime_with, test_config, warning, TestServer};

async fn echo(runtime: &Runtime, server: &TestServer, target: &str) -> TargetInstance {
    let (connector, _) = runtime
        .load_file(test_components::GUEST_ECHO)
        .await
        .unwrap();
    let config = TargetConfig::new("acme", target)
        .value("endpoint", server.base.as_str())
        .egress(EgressPolicy::loopback());
    TargetInstance::new(runtime, connector, config).unwrap()
}

async fn memory_hog(runtime: &Runtime) -> TargetInstance {
    let (connector, _) = runtime
        .load_file(test_components::GUEST_MEMORY_HOG)
        .await
        .unwrap();
    TargetInstance::new(runtime, connector, TargetConfig::new("evil", "hog")).unwrap()
}

fn reusing(calls_per_instance: u32) -> RuntimeConfig {
    let mut config = test_config();
    config.calls_per_instance = calls_per_instance;
    config.max_idle_instances = 2;
    config
}

#[tokio::test]
async fn the_pooling_allocator_enforces_the_memory_limit() {
    let server = TestServer::start().await;
    for config in [test_config(), reusing(100)] {
        let mut config = config;
        config.memory_limit_bytes = 16 * 1024 * 1024;
        let runtime = runtime_with(config, None);
        assert!(runtime.uses_pooling(), "the pool could not be reserved");
        let hog = memory_hog(&runtime).await;

        let err = hog.provision(&entity(&[])).await.unwrap_err();
        assert!(
            matches!(err, CallError::MemoryLimit { limit_bytes } if limit_bytes == 16 * 1024 * 1024),
            "{err:?}"
        );
        let key = LookupKey::Attribute(AttributeMatch {
            kind: EntityKind::User,
            attribute: "x".into(),
            value: "y".into(),
        });
        let err = hog.lookup(&key).await.unwrap_err();
        assert!(matches!(err, CallError::MemoryLimit { .. }), "{err:?}");

        // A failed call's instance is never kept, reuse or not; the pool is empty again.
        assert_eq!(runtime.idle_instances(), 0);
        assert_eq!(runtime.live_instances(), 0);
        let usage = runtime.pool_usage().unwrap();
        assert_eq!(usage.component_instances, 0, "{usage:?}");
        assert_eq!(usage.memories, 0, "{usage:?}");

        let outcome = echo(&runtime, &server, "after")
            .await
            .provision(&entity(&[("urn:echo:path", "/ok")]))
            .await
            .expect("a normal call succeeds after the hog");
        assert_eq!(warning(&outcome.warnings, "body"), "hello");
    }
}

#[tokio::test]
async fn a_thousand_fresh_calls_leave_no_instance_behind() {
    let server = TestServer::start().await;
    let runtime = runtime_with(test_config(), None);
    assert!(runtime.uses_pooling());
    let target = echo(&runtime, &server, "fresh").await;
    let change = entity(&[("urn:echo:path", "/ok")]);
    let mut most_resident = 0;
    for call in 0..1_000 {
        let outcome = target.provision(&change).await.unwrap();
        assert_eq!(warning(&outcome.warnings, "status"), "200");
        let stats = target.last_call_stats().unwrap();
        assert!(!stats.reused, "call {call} reused an instance");
        assert_eq!(runtime.live_instances(), 0, "after call {call}");
        let usage = runtime.pool_usage().unwrap();
        assert_eq!(usage.component_instances, 0, "after call {call}: {usage:?}");
        assert_eq!(usage.memories, 0, "after call {call}: {usage:?}");
        most_resident = most_resident.max(usage.unused_memory_bytes_resident);
    }
    // Sequential calls reuse the same few slots: what stays resident is the keep-resident
    // prefix of those slots, not something that grows with the number of calls.
    assert!(
        most_resident <= 4 * 2 * 1024 * 1024,
        "{most_resident} bytes resident in free slots"
    );
    assert_eq!(server.requests_to("/ok").len(), 1_000);
}

#[tokio::test]
async fn reuse_is_bounded_and_stays_within_one_target() {
    let server = TestServer::start().await;
    let runtime = runtime_with(reusing(10), None);
    let first = echo(&runtime, &server, "first").await;
    let second = echo(&runtime, &server, "second").await;
    let change = entity(&[("urn:echo:path", "/ok")]);

    let mut fresh = 0;
    for call in 0..1_000 {
        let target = if call % 2 == 0 { &first } else { &second };
        target.provision(&change).await.unwrap();
        let stats = target.last_call_stats().unwrap();
        if !stats.reused {
            fresh += 1;
            assert!(stats.instantiation > std::time::Duration::ZERO);
        } else {
            assert_eq!(stats.instantiation, std::time::Duration::ZERO);
        }
        // One warm instance per target at most: the targets never share one.
        assert!(runtime.live_instances() <= 2, "after call {call}");
        assert!(runtime.idle_instances() <= 2, "after call {call}");
        let usage = runtime.pool_usage().unwrap();
        assert!(
            usage.component_instances <= 2,
            "after call {call}: {usage:?}"
        );
    }
    // Each instance serves 10 calls of its own target, then is replaced.
    assert_eq!(fresh, 100);

    // The idle instances go with their targets.
    drop(first);
    drop(second);
    assert_eq!(runtime.idle_instances(), 0);
    assert_eq!(runtime.live_instances(), 0);
    assert_eq!(runtime.pool_usage().unwrap().component_instances, 0);
}

#[test]
fn reuse_is_off_by_default() {
    let config = RuntimeConfig::default();
    assert_eq!(config.calls_per_instance, 1);
    assert!(!config.reuses_instances());
    assert_eq!(config.max_live_instances(), config.max_concurrent_calls);
}
