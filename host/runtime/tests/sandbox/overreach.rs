//! A connector that reaches past what the operator granted, or answers with oversized or forged
//! data (`tests/guests/overreach`), and what the host makes of it.

use std::io::Write;
use std::sync::{Arc, Mutex};

use provisioner_contract::{ProvisionError, ProvisionOutcome};
use provisioner_runtime::{
    CallError, EgressPolicy, Runtime, SecretPolicy, TargetConfig, TargetInstance,
};

use crate::common::{entity, runtime_with, test_config, warning, TestServer};

const API_KEY: &str = "sk-overreach-0123456789";

async fn overreach(runtime: &Runtime, config: TargetConfig) -> TargetInstance {
    let (connector, _) = runtime
        .load_file(test_components::GUEST_OVERREACH)
        .await
        .unwrap();
    TargetInstance::new(runtime, connector, config).unwrap()
}

fn base_config(endpoint: &str) -> TargetConfig {
    TargetConfig::new("acme", "overreach")
        .value("endpoint", endpoint)
        .secret("api-key", API_KEY)
        .egress(EgressPolicy::loopback())
}

fn act(verb: &str) -> provisioner_contract::Change {
    entity(&[("urn:overreach:act", verb)])
}

/// The single report warning of an HTTP attempt.
fn report(outcome: ProvisionOutcome) -> String {
    assert_eq!(outcome.warnings.len(), 1, "{:?}", outcome.warnings);
    outcome.warnings[0].clone()
}

#[tokio::test]
async fn a_url_default_declared_by_the_connector_never_widens_egress() {
    let server = TestServer::start().await;
    let runtime = runtime_with(test_config(), None);
    let target = overreach(&runtime, base_config(&server.base)).await;

    let report_text = target.egress_report().to_string();
    assert!(
        report_text.contains(&format!("may reach: {}", server.base)),
        "{report_text}"
    );
    assert!(
        report_text
            .contains("not reachable: http://127.0.0.1:9 (connector default of `telemetry-url`"),
        "{report_text}"
    );

    let sent = report(target.provision(&act("telemetry")).await.unwrap());
    assert!(
        sent.starts_with("error:")
            && sent.contains("Denied(")
            && sent.contains("must set `telemetry-url`"),
        "the default's origin must be refused before connecting: {sent}"
    );
}

#[tokio::test]
async fn an_operator_set_url_is_reachable_and_a_secret_goes_only_where_it_is_bound() {
    let server = TestServer::start().await;
    let telemetry = TestServer::start().await;
    let runtime = runtime_with(test_config(), None);
    let telemetry_url = format!("{}/collect", telemetry.base);

    // The operator sets the URL: the origin is allowed and, by default, the secret bound to it.
    let config = base_config(&server.base).value("telemetry-url", telemetry_url.as_str());
    let target = overreach(&runtime, config.clone()).await;
    assert_eq!(
        report(target.provision(&act("telemetry")).await.unwrap()),
        "sent:200"
    );
    let received = telemetry.requests_to("/collect");
    assert_eq!(
        received[0].header("authorization"),
        Some(format!("Bearer {API_KEY}").as_str())
    );

    // The operator binds the key to the endpoint only: the telemetry origin stays reachable,
    // but the key is not attached there.
    let narrowed = config.secret_policy(SecretPolicy {
        origins: [("api-key".into(), vec![server.base.clone()])].into(),
        headers: vec![],
    });
    let target = overreach(&runtime, narrowed).await;
    let sent = report(target.provision(&act("telemetry")).await.unwrap());
    assert!(
        sent.starts_with("error:")
            && sent.contains("Denied(")
            && sent.contains("may be sent only to"),
        "{sent}"
    );
    assert_eq!(
        telemetry.requests_to("/collect").len(),
        1,
        "nothing more was sent"
    );
}

#[tokio::test]
async fn secrets_go_only_into_authorization_and_declared_headers() {
    let server = TestServer::start().await;
    let runtime = runtime_with(test_config(), None);
    let endpoint = format!("{}/ok", server.base);
    let target = overreach(&runtime, base_config(&endpoint)).await;
    for name in ["content-type", "x-api-key", "cookie"] {
        let sent = report(
            target
                .provision(&act(&format!("header:{name}")))
                .await
                .unwrap(),
        );
        assert!(
            sent.starts_with("error:")
                && sent.contains("Denied(")
                && sent.contains("may not be injected into header"),
            "{name}: {sent}"
        );
    }
    assert!(server.requests().is_empty());

    let declared = base_config(&endpoint).secret_policy(SecretPolicy {
        origins: Default::default(),
        headers: vec!["X-Api-Key".into()],
    });
    let target = overreach(&runtime, declared).await;
    assert_eq!(
        report(target.provision(&act("header:x-api-key")).await.unwrap()),
        "sent:200"
    );
    assert_eq!(server.requests()[0].header("x-api-key"), Some(API_KEY));
}

#[tokio::test]
async fn oversized_answers_are_cut_and_escaped_and_long_identifiers_refused() {
    let runtime = runtime_with(test_config(), None);
    let target = overreach(&runtime, base_config("http://127.0.0.1:1")).await;

    let error = target.provision(&act("huge-error:8000000")).await;
    let Err(CallError::Connector(ProvisionError::Permanent(detail))) = error else {
        panic!("{error:?}")
    };
    assert!(
        detail.message.len() <= 4200,
        "{} bytes kept",
        detail.message.len()
    );
    assert!(detail.message.ends_with("[cut: 8000000 bytes sent]"));
    assert!(!detail.message.contains('\n'), "newlines are escaped");
    assert!(detail.message.starts_with("failed\\n2026-11-29"));

    let outcome = target.provision(&act("huge-warnings")).await.unwrap();
    assert_eq!(outcome.warnings.len(), 64);
    assert!(outcome.warnings.iter().all(|w| w.len() <= 4200));

    let error = target.provision(&act("long-remote-id")).await.unwrap_err();
    assert!(
        matches!(&error, CallError::InvalidAnswer { message } if message.contains("remote-id of 4096 bytes")),
        "{error:?}"
    );
}

/// A writer that keeps what the log subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn guest_logs_are_bounded_per_call_and_cannot_forge_a_line() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = Runtime::builder(test_config()).build().unwrap();
    let target = overreach(&runtime, base_config("http://127.0.0.1:1")).await;

    target.provision(&act("log-forge")).await.unwrap();
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let forged = "2026-11-29T00:00:00.000000Z  INFO provisioner: admin password reset";
    assert!(text.contains("harmless\\n2026"), "{text}");
    assert!(
        text.lines().all(|line| !line.starts_with(forged)),
        "a guest forged a log line:\n{text}"
    );

    captured.0.lock().unwrap().clear();
    // 2,000 events of 400 KB each: 800 MB asked for.
    target.provision(&act("log-flood")).await.unwrap();
    let written = captured.0.lock().unwrap().len();
    assert!(written < 256 * 1024, "{written} bytes of log from one call");
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("log limit of 65536 bytes per call reached"),
        "{text}"
    );
}

#[tokio::test]
async fn a_secret_echoed_in_pieces_does_not_reach_the_connector() {
    let server = TestServer::start().await;
    let runtime = runtime_with(test_config(), None);
    let (connector, _) = runtime
        .load_file(test_components::GUEST_ECHO)
        .await
        .unwrap();
    let config = TargetConfig::new("acme", "echo")
        .value("endpoint", server.base.as_str())
        .secret("api-key", API_KEY)
        .egress(EgressPolicy::loopback());
    let echo = TargetInstance::new(&runtime, connector, config).unwrap();
    let outcome = echo
        .provision(&entity(&[
            ("urn:echo:path", "/echo-split"),
            ("urn:echo:credential", "bearer"),
        ]))
        .await
        .unwrap();
    let body = warning(&outcome.warnings, "body");
    let (first, second) = API_KEY.split_at(API_KEY.len() / 2);
    assert!(
        !body.contains(first) && !body.contains(second),
        "a piece of the secret reached the guest: {body}"
    );
    assert!(body.contains("[REDACTED]"), "{body}");
}
