//! CPU and memory limits: a hostile guest is stopped and the host keeps serving.

use std::sync::Arc;
use std::time::{Duration, Instant};

use provisioner_contract::{AttributeMatch, EntityKind, LookupKey};
use provisioner_runtime::{CallError, EgressPolicy, Runtime, TargetConfig, TargetInstance};

use crate::common::{entity, runtime_with, test_config, warning, TestServer};

async fn echo(runtime: &Runtime, server: &TestServer) -> TargetInstance {
    let (connector, _) = runtime
        .load_file(test_components::GUEST_ECHO)
        .await
        .unwrap();
    let config = TargetConfig::new("acme", "echo")
        .value("endpoint", server.base.as_str())
        .egress(EgressPolicy::loopback());
    TargetInstance::new(runtime, connector, config).unwrap()
}

async fn hostile(runtime: &Runtime, path: &str) -> TargetInstance {
    let (connector, _) = runtime.load_file(path).await.unwrap();
    TargetInstance::new(runtime, connector, TargetConfig::new("evil", "hostile")).unwrap()
}

async fn assert_still_serves(runtime: &Runtime, server: &TestServer) {
    let outcome = echo(runtime, server)
        .await
        .provision(&entity(&[("urn:echo:path", "/ok")]))
        .await
        .expect("a normal call succeeds after the hostile one");
    assert_eq!(warning(&outcome.warnings, "status"), "200");
    assert_eq!(warning(&outcome.warnings, "body"), "hello");
}

#[tokio::test]
async fn endless_loop_is_stopped_by_the_deadline() {
    let server = TestServer::start().await;
    let mut config = test_config();
    config.call_deadline = Duration::from_millis(500);
    let runtime = runtime_with(config, None);
    let looping = hostile(&runtime, test_components::GUEST_ENDLESS_LOOP).await;

    let started = Instant::now();
    let err = looping.provision(&entity(&[])).await.unwrap_err();
    assert!(matches!(err, CallError::DeadlineExceeded { .. }), "{err:?}");
    assert!(err.to_string().contains("deadline exceeded"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "stopped after {:?}",
        started.elapsed()
    );

    assert_still_serves(&runtime, &server).await;
}

/// On a single-threaded executor, a spinning guest yields at every epoch tick, so another call
/// completes while it spins.
#[tokio::test(flavor = "current_thread")]
async fn a_spinning_guest_does_not_starve_other_calls() {
    let server = TestServer::start().await;
    let mut config = test_config();
    config.call_deadline = Duration::from_secs(3);
    let runtime = runtime_with(config, None);
    let looping = hostile(&runtime, test_components::GUEST_ENDLESS_LOOP).await;
    let echo = echo(&runtime, &server).await;

    let started = Instant::now();
    let nothing = entity(&[]);
    let spin = looping.provision(&nothing);
    let normal = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let result = echo.provision(&entity(&[("urn:echo:path", "/ok")])).await;
        (result, started.elapsed())
    };
    let (spun, (normal, normal_done)) = tokio::join!(spin, normal);
    assert!(
        matches!(spun, Err(CallError::DeadlineExceeded { .. })),
        "{spun:?}"
    );
    normal.expect("the normal call succeeds");
    assert!(
        normal_done < Duration::from_secs(2),
        "normal call finished after {normal_done:?}"
    );
}

#[tokio::test]
async fn unbounded_memory_growth_is_refused() {
    let server = TestServer::start().await;
    let mut config = test_config();
    config.memory_limit_bytes = 32 * 1024 * 1024;
    let runtime = runtime_with(config, None);
    let hog = hostile(&runtime, test_components::GUEST_MEMORY_HOG).await;

    // Allocator-driven growth, 1 MiB at a time.
    let err = hog.provision(&entity(&[])).await.unwrap_err();
    assert!(
        matches!(err, CallError::MemoryLimit { limit_bytes } if limit_bytes == 32 * 1024 * 1024),
        "{err:?}"
    );
    assert!(err.to_string().contains("memory limit"), "{err}");

    // One raw `memory.grow` of 1 GiB.
    let key = LookupKey::Attribute(AttributeMatch {
        kind: EntityKind::User,
        attribute: "x".into(),
        value: "y".into(),
    });
    let err = hog.lookup(&key).await.unwrap_err();
    assert!(matches!(err, CallError::MemoryLimit { .. }), "{err:?}");

    assert_still_serves(&runtime, &server).await;
}

#[tokio::test]
async fn calls_run_concurrently_and_independently() {
    let server = TestServer::start().await;
    let runtime = runtime_with(test_config(), None);
    let echo = Arc::new(echo(&runtime, &server).await);
    let started = Instant::now();
    let calls = (0..4).map(|_| {
        let echo = echo.clone();
        tokio::spawn(async move { echo.provision(&entity(&[("urn:echo:path", "/slow")])).await })
    });
    for call in futures::future::join_all(calls).await {
        let outcome = call.unwrap().unwrap();
        assert_eq!(warning(&outcome.warnings, "body"), "slow");
    }
    // Four 1.5 s requests in parallel, not in sequence; and waiting on HTTP does not count
    // against the 2 s guest deadline.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_outer_timeout_bounds_a_call_waiting_on_the_host() {
    let server = TestServer::start().await;
    let mut config = test_config();
    config.outer_timeout = Duration::from_millis(500);
    let runtime = runtime_with(config, None);
    let echo = echo(&runtime, &server).await;
    let started = Instant::now();
    let err = echo
        .provision(&entity(&[("urn:echo:path", "/slow")]))
        .await
        .unwrap_err();
    assert!(matches!(err, CallError::Timeout { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_millis(1400),
        "{:?}",
        started.elapsed()
    );
}
