//! A hostile connector tries every way it knows to get its secret out. Every attempt fails, and
//! the secret reaches only the allowed endpoint, only where the host itself attached it.

use std::sync::Arc;

use provisioner_runtime::{EgressPolicy, TargetConfig, TargetInstance};

use crate::common::{entity, runtime_with, test_config, warning, Recorder, TestServer};

const SECRET: &str = "sk-live-7f3a9c1e5b";

#[tokio::test]
async fn every_exfiltration_attempt_is_refused() {
    let server = TestServer::start().await;
    let evil = TestServer::start().await;
    let recorder = Arc::new(Recorder::default());
    let runtime = runtime_with(test_config(), Some(recorder.clone()));
    let (connector, _) = runtime
        .load_file(test_components::GUEST_EXFILTRATOR)
        .await
        .unwrap();
    let evil_url = format!("{}/steal", evil.base);
    let config = TargetConfig::new("acme", "exfil")
        .value("endpoint", server.base.as_str())
        .value("evil-url", evil_url.as_str())
        .secret("api-key", SECRET)
        .egress(EgressPolicy::loopback());
    let instance = TargetInstance::new(&runtime, connector, config).unwrap();

    // The guest's configuration carries a reference, not the value.
    assert!(!format!("{:?}", instance.connector_config()).contains(SECRET));

    let outcome = instance
        .provision(&entity(&[]))
        .await
        .expect("the exfiltrator reports");
    let seen = &outcome.warnings;
    let report = seen.join("\n");
    println!("{report}");

    // (a) A secret credential to a destination that is not a configured endpoint.
    for tag in ["a-bearer-evil", "a-header-evil"] {
        let result = warning(seen, tag);
        assert!(
            result.starts_with("denied: egress denied: origin"),
            "{tag}: {result}"
        );
    }
    // (b) The key name travels as a literal; guest-set credential headers are refused.
    assert!(warning(seen, "b-keyname").starts_with("ok status=200"));
    for tag in ["b-authz", "b-cookie", "b-host", "b-proxy"] {
        let result = warning(seen, tag);
        assert!(result.starts_with("denied:"), "{tag}: {result}");
    }
    // A legitimate credential is attached, and the target's echo of it is redacted.
    let echoed = warning(seen, "b-echo");
    assert!(echoed.starts_with("ok status=200"), "{echoed}");
    assert!(
        echoed.contains("authorization: Bearer [REDACTED]"),
        "{echoed}"
    );
    // (c) Credentials through the back door.
    assert!(
        warning(seen, "c-oauth-evil").starts_with("denied: token URL refused"),
        "{report}"
    );
    assert!(
        warning(seen, "c-ref-nonsecret").starts_with("invalid: secret-ref `endpoint`"),
        "{report}"
    );
    assert!(
        warning(seen, "c-ref-unknown").starts_with("invalid: secret-ref `nope`"),
        "{report}"
    );
    // (d) No ambient authority.
    assert_eq!(warning(seen, "d-env"), "[]");
    assert_eq!(warning(seen, "d-args"), "[]");
    for tag in ["d-fs-root", "d-fs-passwd", "d-fs-cwd", "d-tcp"] {
        let result = warning(seen, tag);
        assert!(result.starts_with("Err("), "{tag}: {result}");
    }

    // Nothing the guest saw contains the secret.
    assert!(
        !report.contains(SECRET),
        "the guest saw the secret:\n{report}"
    );

    // The evil origin never received anything; the allowed one got the key name as a literal
    // and the value only in the Authorization header the host attached.
    assert!(evil.requests().is_empty(), "{:?}", evil.requests());
    let collected = server.requests_to("/collect");
    assert_eq!(
        collected.len(),
        1,
        "only the key-name request reached the endpoint"
    );
    assert_eq!(collected[0].header("x-leak"), Some("api-key"));
    assert_eq!(collected[0].body, b"api-key");
    for request in server.requests() {
        let text = request.all_text();
        if request.path == "/echo" {
            assert_eq!(
                request.header("authorization"),
                Some(format!("Bearer {SECRET}").as_str())
            );
            assert_eq!(text.matches(SECRET).count(), 1, "{text}");
        } else {
            assert!(!text.contains(SECRET), "{text}");
        }
    }

    // The observer saw every request that was sent, redacted.
    let exchanges = recorder.exchanges();
    assert_eq!(exchanges.len(), 2, "{exchanges:?}");
    assert!(!format!("{exchanges:?}").contains(SECRET));
}
