//! The OAuth token manager: single flight, caching, invalidation, refusals.

use std::sync::Arc;

use provisioner_contract::ProvisionError;
use provisioner_runtime::{
    CallError, EgressPolicy, ExchangeKind, Runtime, TargetConfig, TargetInstance,
};

use crate::common::{entity, runtime_with, test_config, warning, Recorder, TestServer, TokenMode};

const CLIENT_SECRET: &str = "cs-9f8e7d6c5b4a";
const PASSWORD: &str = "pw-hunter2-token";

async fn instance(runtime: &Runtime, server: &TestServer) -> Arc<TargetInstance> {
    let (connector, _) = runtime
        .load_file(test_components::GUEST_ECHO)
        .await
        .unwrap();
    let config = TargetConfig::new("acme", "oauth")
        .value("endpoint", server.base.as_str())
        .value("token-url", format!("{}/token", server.base))
        .value("client-id", "client-1")
        .value("username", "svc@example.com")
        .secret("api-key", CLIENT_SECRET)
        .secret("password", PASSWORD)
        .secret("private-key", include_str!("../fixtures/test-rsa-key.pem"))
        .egress(EgressPolicy::loopback());
    Arc::new(TargetInstance::new(runtime, connector, config).unwrap())
}

fn api_call(credential: &str) -> provisioner_contract::Change {
    entity(&[
        ("urn:echo:path", "/echo"),
        ("urn:echo:credential", credential),
    ])
}

fn http_error(result: Result<provisioner_contract::ProvisionOutcome, CallError>) -> String {
    match result {
        Err(CallError::Connector(ProvisionError::Permanent(detail))) => detail.message,
        other => panic!("expected an http error, got {other:?}"),
    }
}

#[tokio::test]
async fn concurrent_calls_share_one_token_request_and_invalidate_forces_another() {
    let server = TestServer::start().await;
    let recorder = Arc::new(Recorder::default());
    let runtime = runtime_with(test_config(), Some(recorder.clone()));
    let target = instance(&runtime, &server).await;

    let calls = (0..8).map(|_| {
        let target = target.clone();
        tokio::spawn(async move { target.provision(&api_call("oauth-cc")).await })
    });
    for call in futures::future::join_all(calls).await {
        let outcome = call.unwrap().unwrap();
        let body = warning(&outcome.warnings, "body");
        assert!(
            body.contains("authorization: Bearer [REDACTED]"),
            "the guest saw the token: {body}"
        );
        assert!(!body.contains("tok-"), "{body}");
    }
    assert_eq!(server.tokens_issued(), 1);
    assert_eq!(runtime.tokens().token_requests(), 1);
    let api = server.requests_to("/echo");
    assert_eq!(api.len(), 8);
    assert!(api
        .iter()
        .all(|r| r.header("authorization") == Some("Bearer tok-1-0123456789")));
    assert_eq!(
        runtime.tokens().instance_url("acme", "oauth").as_deref(),
        Some("https://instance.example")
    );

    // The token request: form-encoded client credentials, observed with the secret redacted.
    let token_requests = server.requests_to("/token");
    let form = String::from_utf8(token_requests[0].body.clone()).unwrap();
    assert!(
        form.contains("grant_type=client_credentials")
            && form.contains(&format!("client_secret={CLIENT_SECRET}")),
        "{form}"
    );
    let observed: Vec<_> = recorder
        .exchanges()
        .into_iter()
        .filter(|e| e.kind == ExchangeKind::Token)
        .collect();
    assert_eq!(observed.len(), 1);
    let observed_form = String::from_utf8(observed[0].request_body.clone()).unwrap();
    assert!(
        observed_form.contains("client_secret=%5BREDACTED%5D"),
        "{observed_form}"
    );
    assert!(!format!("{:?}", recorder.exchanges()).contains(CLIENT_SECRET));
    assert!(!format!("{:?}", recorder.exchanges()).contains("tok-1-0123456789"));

    // Invalidate, then one more token request.
    let invalidate = entity(&[
        ("urn:echo:path", "/echo"),
        ("urn:echo:credential", "oauth-cc"),
        ("urn:echo:invalidate", "true"),
        ("urn:echo:repeat", "3"),
    ]);
    target.provision(&invalidate).await.unwrap();
    assert_eq!(server.tokens_issued(), 2);
    assert_eq!(runtime.tokens().token_requests(), 2);
    assert_eq!(
        server
            .requests_to("/echo")
            .last()
            .unwrap()
            .header("authorization"),
        Some("Bearer tok-2-0123456789")
    );
}

#[tokio::test]
async fn other_grants_send_their_own_forms() {
    let server = TestServer::start().await;
    let runtime = runtime_with(test_config(), None);
    let target = instance(&runtime, &server).await;

    target.provision(&api_call("oauth-cc-basic")).await.unwrap();
    target.provision(&api_call("oauth-password")).await.unwrap();
    target.provision(&api_call("oauth-jwt")).await.unwrap();
    assert_eq!(server.tokens_issued(), 3, "each grant has its own token");

    let tokens = server.requests_to("/token");
    // client_credentials with HTTP Basic.
    assert_eq!(
        tokens[0].header("authorization"),
        Some("Basic Y2xpZW50LTE6Y3MtOWY4ZTdkNmM1YjRh")
    );
    assert_eq!(tokens[0].body, b"grant_type=client_credentials");
    // password.
    let form = String::from_utf8(tokens[1].body.clone()).unwrap();
    assert_eq!(
        form,
        format!("grant_type=password&client_id=client-1&client_secret={CLIENT_SECRET}&username=svc%40example.com&password={PASSWORD}")
    );
    // jwt-bearer: a valid RS256 assertion.
    let form = String::from_utf8(tokens[2].body.clone()).unwrap();
    let assertion = form
        .strip_prefix("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=")
        .unwrap_or_else(|| panic!("{form}"));
    #[derive(serde::Deserialize)]
    struct Claims {
        iss: String,
        sub: String,
        aud: String,
        exp: u64,
    }
    let key =
        jsonwebtoken::DecodingKey::from_rsa_pem(include_bytes!("../fixtures/test-rsa-pub.pem"))
            .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[format!("{}/token", server.base)]);
    let claims = jsonwebtoken::decode::<Claims>(assertion, &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims.iss, "client-1");
    assert_eq!(claims.sub, "svc@example.com");
    assert_eq!(claims.aud, format!("{}/token", server.base));
    assert!(claims.exp > 0);
}

#[tokio::test]
async fn a_refused_grant_is_reported_with_its_error_code() {
    let server = TestServer::start().await;
    let runtime = runtime_with(test_config(), None);
    let target = instance(&runtime, &server).await;

    server.set_token_mode(TokenMode::Refuse);
    let message = http_error(target.provision(&api_call("oauth-cc")).await);
    assert!(message.contains("TokenRefused"), "{message}");
    assert!(message.contains("status: Some(400)"), "{message}");
    assert!(message.contains("error: \"invalid_client\""), "{message}");
    assert!(message.contains("client secret is wrong"), "{message}");

    server.set_token_mode(TokenMode::Garbage);
    let message = http_error(target.provision(&api_call("oauth-cc")).await);
    assert!(
        message.contains("invalid_response") && message.contains("upstream exploded"),
        "{message}"
    );

    // Nothing was cached: the next call after recovery obtains a token.
    server.set_token_mode(TokenMode::Issue);
    target.provision(&api_call("oauth-cc")).await.unwrap();
    assert_eq!(runtime.tokens().token_requests(), 3);
    assert!(server.requests_to("/echo").len() == 1);
}

/// A grant whose token URL is an allowed endpoint that echoes the request: the token error the
/// guest sees quotes the body, but not the client secret in it, in any encoding.
#[tokio::test]
async fn a_token_endpoint_echoing_the_secret_does_not_leak_it() {
    let server = TestServer::start().await;
    let runtime = runtime_with(test_config(), None);
    let (connector, _) = runtime
        .load_file(test_components::GUEST_ECHO)
        .await
        .unwrap();
    let secret = "s/3+c=r&e\"t";
    let config = TargetConfig::new("acme", "oauth")
        .value("endpoint", server.base.as_str())
        .value("token-url", format!("{}/echo", server.base))
        .value("client-id", "client-1")
        .secret("api-key", secret)
        .egress(EgressPolicy::loopback());
    let target = TargetInstance::new(&runtime, connector, config).unwrap();
    let message = http_error(target.provision(&api_call("oauth-cc")).await);
    assert!(
        message.contains("invalid_response") && message.contains("client_secret=[REDACTED]"),
        "{message}"
    );
    let received = server.requests_to("/echo");
    assert!(
        String::from_utf8_lossy(&received[0].body).contains("client_secret=s%2F3%2Bc%3Dr%26e%22t")
    );
}
