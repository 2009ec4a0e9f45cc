//! The HTTP capability's policy: allow-list, address policy, redirects, size caps.

use std::sync::Arc;

use provisioner_contract::ProvisionError;
use provisioner_runtime::{
    CallError, EgressPolicy, ExchangeKind, Runtime, SecretPolicy, TargetConfig, TargetInstance,
};

use crate::common::{entity, runtime_with, test_config, warning, Recorder, TestServer};

async fn echo_with(runtime: &Runtime, endpoint: &str, policy: EgressPolicy) -> TargetInstance {
    let (connector, _) = runtime
        .load_file(test_components::GUEST_ECHO)
        .await
        .unwrap();
    let config = TargetConfig::new("acme", "echo")
        .value("endpoint", endpoint)
        .secret("api-key", "sk-test-abcdef")
        .egress(policy);
    TargetInstance::new(runtime, connector, config).unwrap()
}

/// The message of the `permanent` error the echo guest returns for an HTTP error.
fn http_error(result: Result<provisioner_contract::ProvisionOutcome, CallError>) -> String {
    match result {
        Err(CallError::Connector(ProvisionError::Permanent(detail))) => detail.message,
        other => panic!("expected an http error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_response_over_the_cap_is_refused_and_the_host_still_serves() {
    let server = TestServer::start().await;
    let mut config = test_config();
    config.http.max_response_bytes = 1024 * 1024;
    let runtime = runtime_with(config, None);
    let echo = echo_with(&runtime, &server.base, EgressPolicy::loopback()).await;

    for path in ["/huge", "/huge-chunked"] {
        let message = http_error(echo.provision(&entity(&[("urn:echo:path", path)])).await);
        assert!(
            message.contains("ResponseTooLarge(1048576)"),
            "{path}: {message}"
        );
    }
    let outcome = echo
        .provision(&entity(&[("urn:echo:path", "/ok")]))
        .await
        .unwrap();
    assert_eq!(warning(&outcome.warnings, "body"), "hello");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = TestServer::start().await;
    let elsewhere = TestServer::start().await;
    let runtime = runtime_with(test_config(), None);
    let echo = echo_with(&runtime, &server.base, EgressPolicy::loopback()).await;

    let target = format!("{}/collect", elsewhere.base);
    let path = format!("/redirect?to={target}");
    let outcome = echo
        .provision(&entity(&[
            ("urn:echo:path", &path),
            ("urn:echo:credential", "bearer"),
        ]))
        .await
        .unwrap();
    assert_eq!(warning(&outcome.warnings, "status"), "302");
    assert_eq!(warning(&outcome.warnings, "location"), target);
    assert!(elsewhere.requests().is_empty(), "the redirect was followed");
}

#[tokio::test]
async fn hosts_outside_the_allow_list_are_denied() {
    let server = TestServer::start().await;
    let other = TestServer::start().await;
    let runtime = runtime_with(test_config(), None);
    let echo = echo_with(&runtime, &server.base, EgressPolicy::loopback()).await;
    assert_eq!(echo.allowed_origins(), vec![server.base.clone()]);

    for url in [
        format!("{}/collect", other.base), // same host, other port
        "http://example.com/".to_string(), // other host
        format!("https://127.0.0.1:{}/ok", server.port), // other scheme
        "file:///etc/passwd".to_string(),
    ] {
        let message = http_error(echo.provision(&entity(&[("urn:echo:url", &url)])).await);
        assert!(message.contains("Denied"), "{url}: {message}");
    }
    let message = http_error(
        echo.provision(&entity(&[("urn:echo:url", "http://example.com/")]))
            .await,
    );
    assert!(
        message
            .contains("origin http://example.com is not among this target's configured endpoints"),
        "{message}"
    );
    assert!(other.requests().is_empty());
}

#[tokio::test]
async fn loopback_is_denied_unless_the_policy_allows_it() {
    let server = TestServer::start().await;
    let runtime = runtime_with(test_config(), None);

    // An IP literal, checked before connecting.
    let strict = echo_with(&runtime, &server.base, EgressPolicy::default()).await;
    let message = http_error(strict.provision(&entity(&[("urn:echo:path", "/ok")])).await);
    assert!(
        message.contains("Denied") && message.contains("loopback"),
        "{message}"
    );

    // A name, checked on the addresses it resolves to.
    let by_name = format!("http://localhost:{}", server.port);
    let strict = echo_with(&runtime, &by_name, EgressPolicy::default()).await;
    let message = http_error(strict.provision(&entity(&[("urn:echo:path", "/ok")])).await);
    assert!(
        message.contains("Denied") && message.contains("loopback"),
        "{message}"
    );
    assert!(server.requests().is_empty());

    let allowed = echo_with(&runtime, &by_name, EgressPolicy::loopback()).await;
    let outcome = allowed
        .provision(&entity(&[("urn:echo:path", "/ok")]))
        .await
        .unwrap();
    assert_eq!(warning(&outcome.warnings, "body"), "hello");
}

#[tokio::test]
async fn request_limits_and_forbidden_headers() {
    let server = TestServer::start().await;
    let mut config = test_config();
    config.http.max_request_bytes = 1000;
    let runtime = runtime_with(config, None);
    let echo = echo_with(&runtime, &server.base, EgressPolicy::loopback()).await;

    let message = http_error(
        echo.provision(&entity(&[
            ("urn:echo:method", "POST"),
            ("urn:echo:path", "/collect"),
            ("urn:echo:body-size", "1001"),
        ]))
        .await,
    );
    assert!(
        message.contains("InvalidRequest") && message.contains("1000"),
        "{message}"
    );
    for header in [
        "authorization: x",
        "Cookie: y",
        "host: evil.example",
        "proxy-authorization: z",
    ] {
        let message = http_error(
            echo.provision(&entity(&[
                ("urn:echo:path", "/collect"),
                ("urn:echo:header", header),
            ]))
            .await,
        );
        assert!(message.contains("Denied"), "{header}: {message}");
    }
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn credentials_are_attached_by_the_host_and_observed_redacted() {
    let server = TestServer::start().await;
    let recorder = Arc::new(Recorder::default());
    let runtime = runtime_with(test_config(), Some(recorder.clone()));
    let (connector, _) = runtime
        .load_file(test_components::GUEST_ECHO)
        .await
        .unwrap();
    let config = TargetConfig::new("acme", "echo")
        .value("endpoint", server.base.as_str())
        .value("username", "svc")
        .secret("api-key", "sk-test-abcdef")
        .egress(EgressPolicy::loopback())
        .secret_policy(SecretPolicy {
            origins: Default::default(),
            headers: vec!["x-api-key".into()],
        });
    let echo = TargetInstance::new(&runtime, connector, config).unwrap();

    for credential in ["bearer", "basic", "header"] {
        let outcome = echo
            .provision(&entity(&[
                ("urn:echo:path", "/echo"),
                ("urn:echo:credential", credential),
            ]))
            .await
            .unwrap();
        let body = warning(&outcome.warnings, "body");
        assert!(
            !body.contains("sk-test-abcdef"),
            "{credential}: the guest saw the secret: {body}"
        );
    }
    let received = server.requests();
    assert_eq!(
        received[0].header("authorization"),
        Some("Bearer sk-test-abcdef")
    );
    assert_eq!(
        received[1].header("authorization"),
        Some("Basic c3ZjOnNrLXRlc3QtYWJjZGVm")
    );
    assert_eq!(received[2].header("x-api-key"), Some("sk-test-abcdef"));

    let exchanges = recorder.exchanges();
    assert_eq!(exchanges.len(), 3);
    assert!(exchanges
        .iter()
        .all(|e| e.kind == ExchangeKind::Api && e.status == Some(200)));
    let seen = format!("{exchanges:?}");
    assert!(
        !seen.contains("sk-test-abcdef") && !seen.contains("c3ZjOnNrLXRlc3QtYWJjZGVm"),
        "{seen}"
    );
    assert!(seen.contains("[REDACTED]"));
}

#[tokio::test]
async fn config_errors_name_the_key() {
    let server = TestServer::start().await;
    let runtime = runtime_with(test_config(), None);
    let (connector, _) = runtime
        .load_file(test_components::GUEST_ECHO)
        .await
        .unwrap();
    let config = TargetConfig::new("acme", "echo")
        .value("endpoint", server.base.as_str())
        .value("api-key", "plain-text-secret")
        .value("client-id", true)
        .secret("username", "x");
    let err = TargetInstance::new(&runtime, connector, config)
        .unwrap_err()
        .to_string();
    for needle in [
        "`api-key`: is a secret",
        "`client-id`: expected text",
        "`username`: is not a secret",
    ] {
        assert!(err.contains(needle), "{needle} missing from {err}");
    }
    assert!(!err.contains("plain-text-secret"), "{err}");
}

#[tokio::test]
async fn request_timeouts_and_connection_failures_are_typed() {
    let server = TestServer::start().await;
    let runtime = runtime_with(test_config(), None);
    let echo = echo_with(&runtime, &server.base, EgressPolicy::loopback()).await;
    let message = http_error(
        echo.provision(&entity(&[
            ("urn:echo:path", "/slow"),
            ("urn:echo:timeout-ms", "200"),
        ]))
        .await,
    );
    assert!(message.contains("Timeout"), "{message}");

    // Nothing listens on the port of a listener that was just closed.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let echo = echo_with(&runtime, &endpoint, EgressPolicy::loopback()).await;
    let message = http_error(echo.provision(&entity(&[("urn:echo:path", "/ok")])).await);
    assert!(
        message.contains("ConnectionFailed") && message.contains("sent: false"),
        "{message}"
    );
}
