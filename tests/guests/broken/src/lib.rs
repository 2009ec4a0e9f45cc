//! Test connector for `provisioner connector check` (contract 0.2): the template connector of
//! the SDK (users only, one change per call, a REST target at `endpoint`), written on raw
//! wit-bindgen, with a `bug` property that breaks it on purpose:
//!
//! - `none` (default): behaves as the template, so the check passes;
//! - `404-transient`: answers a 404 with `transient` instead of `not-found`;
//! - `panic-on-update`: panics in every update.
//!
//! Requests: create `POST {endpoint}/users`, update `PUT {endpoint}/users/{remote-id}`, delete
//! `DELETE {endpoint}/users/{remote-id}` (404 is success), lookup
//! `GET {endpoint}/users?userName=<name>` (404 is none). The body is
//! `{"userName", "externalId", "claims": {uri: value or list}}`; a 2xx answer's `id` is the remote
//! id. `api-token`, when set, is sent as a bearer credential by the host.

wit_bindgen::generate!({ path: "../../../wit/v0.2", world: "connector" });

use exports::provisioning::connector::provisioning::Guest;
use provisioning::connector::http::{self, Credential, HttpError, Method, Request, SecretRef};
use provisioning::connector::types::{
    Change, ConfigProblem, ConfigProperty, ConfigValue, ConflictError, ConnectorConfig,
    ConnectorMetadata, Entity, EntityKind, ErrorDetail, ListRequest, LookupKey, Operation,
    PropertyKind, ProvisionError, ProvisionOutcome, RateLimitError, RemoteObject, RemotePage,
    TransientError, User,
};

struct Broken;

fn property(key: &str, label: &str, description: &str, kind: PropertyKind) -> ConfigProperty {
    ConfigProperty {
        key: key.into(),
        label: label.into(),
        description: description.into(),
        kind,
        required: false,
        secret: false,
        default_value: None,
        options: vec![],
    }
}

fn entry<'a>(config: &'a ConnectorConfig, key: &str) -> Option<&'a ConfigValue> {
    config
        .entries
        .iter()
        .find(|e| e.key == key)
        .map(|e| &e.value)
}

fn text(config: &ConnectorConfig, key: &str) -> Option<String> {
    match entry(config, key) {
        Some(ConfigValue::Text(t)) => Some(t.clone()),
        _ => None,
    }
}

fn bug(config: &ConnectorConfig) -> String {
    text(config, "bug").unwrap_or_else(|| "none".into())
}

fn detail(message: String, status: Option<u16>) -> ErrorDetail {
    ErrorDetail {
        message,
        target_code: None,
        fields: vec![],
        http_status: status,
    }
}

fn unsupported(message: &str) -> ProvisionError {
    ProvisionError::Unsupported(detail(message.into(), None))
}

fn is_write(method: Method) -> bool {
    !matches!(method, Method::Get | Method::Head)
}

/// The shared status mapping (with the configured bug for 404).
fn from_status(
    config: &ConnectorConfig,
    method: Method,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> ProvisionError {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
    let d = detail(format!("HTTP {status}: {text}"), Some(status));
    match status {
        400 | 422 => ProvisionError::InvalidData(d),
        401 | 403 => ProvisionError::AuthFailed(d),
        404 if bug(config) == "404-transient" => ProvisionError::Transient(TransientError {
            detail: d,
            outcome_unknown: false,
        }),
        404 => ProvisionError::NotFound(d),
        409 => ProvisionError::Conflict(ConflictError {
            detail: d,
            existing_remote_id: json_id(body),
        }),
        429 => ProvisionError::RateLimited(RateLimitError {
            detail: d,
            retry_after_ms: headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("retry-after"))
                .and_then(|(_, v)| v.trim().parse::<u64>().ok())
                .map(|s| s * 1000),
        }),
        500..=599 => ProvisionError::Transient(TransientError {
            detail: d,
            outcome_unknown: is_write(method),
        }),
        _ => ProvisionError::Permanent(d),
    }
}

fn from_http_error(method: Method, error: HttpError) -> ProvisionError {
    let transient = |message: String, unknown: bool| {
        ProvisionError::Transient(TransientError {
            detail: detail(message, None),
            outcome_unknown: unknown,
        })
    };
    match error {
        HttpError::Timeout => transient("request timed out".into(), is_write(method)),
        HttpError::ConnectionFailed(f) => transient(f.message, f.sent && is_write(method)),
        HttpError::TokenRefused(t) => {
            ProvisionError::AuthFailed(detail(format!("token refused: {}", t.error), t.status))
        }
        other => ProvisionError::Permanent(detail(format!("{other:?}"), None)),
    }
}

fn json_id(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    match value.get("id")? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Sends a request; a non-2xx answer becomes the mapped error, 404 optionally `None`.
fn send(
    config: &ConnectorConfig,
    method: Method,
    path: &str,
    body: Option<Vec<u8>>,
    missing_ok: bool,
) -> Result<Option<Vec<u8>>, ProvisionError> {
    let endpoint = text(config, "endpoint")
        .ok_or_else(|| ProvisionError::Permanent(detail("endpoint is not set".into(), None)))?;
    let credential = match entry(config, "api-token") {
        Some(ConfigValue::Secret(_)) => Some(Credential::Bearer(SecretRef {
            key: "api-token".into(),
        })),
        _ => None,
    };
    let headers = vec![
        ("accept".to_string(), "application/json".to_string()),
        ("content-type".to_string(), "application/json".to_string()),
    ];
    let request = Request {
        method,
        url: format!("{}{path}", endpoint.trim_end_matches('/')),
        headers,
        body,
        credential,
        timeout_ms: None,
    };
    let response = http::send(&request).map_err(|e| from_http_error(method, e))?;
    match response.status {
        200..=299 => Ok(Some(response.body)),
        404 if missing_ok && bug(config) != "404-transient" => Ok(None),
        status => Err(from_status(
            config,
            method,
            status,
            &response.headers,
            &response.body,
        )),
    }
}

fn user_body(user: &User) -> Vec<u8> {
    let claims: serde_json::Map<String, serde_json::Value> = user
        .claims
        .iter()
        .map(|c| {
            let value = match c.values.as_slice() {
                [one] => serde_json::Value::String(one.clone()),
                many => serde_json::Value::from(many.to_vec()),
            };
            (c.uri.clone(), value)
        })
        .collect();
    serde_json::json!({
        "userName": user.name,
        "externalId": user.local_id,
        "claims": claims,
    })
    .to_string()
    .into_bytes()
}

fn remote_id_of(user: &User) -> Result<&str, ProvisionError> {
    user.remote_id.as_deref().ok_or_else(|| {
        ProvisionError::NotFound(detail("the user has no remote id yet".into(), None))
    })
}

impl Guest for Broken {
    fn metadata() -> ConnectorMetadata {
        let mut endpoint = property(
            "endpoint",
            "Endpoint",
            "Base URL of the target's REST API, e.g. https://api.example.com/v1.",
            PropertyKind::Url,
        );
        endpoint.required = true;
        let mut token = property(
            "api-token",
            "API token",
            "Sent as `Authorization: Bearer` by the host.",
            PropertyKind::Text,
        );
        token.secret = true;
        let mut bug = property(
            "bug",
            "Bug",
            "Which deliberate bug to show: none, 404-transient or panic-on-update.",
            PropertyKind::Choice,
        );
        bug.default_value = Some("none".into());
        bug.options = vec![
            "none".into(),
            "404-transient".into(),
            "panic-on-update".into(),
        ];
        ConnectorMetadata {
            id: "broken".into(),
            name: "Broken".into(),
            version: "0.1.0".into(),
            description: "The template connector with a deliberate bug, for the conformance kit."
                .into(),
            entity_kinds: vec![EntityKind::User],
            properties: vec![endpoint, token, bug],
            max_batch_size: 1,
        }
    }

    fn validate(config: ConnectorConfig) -> Vec<ConfigProblem> {
        match text(&config, "endpoint") {
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => vec![],
            Some(_) => vec![ConfigProblem {
                key: Some("endpoint".into()),
                message: "endpoint must be an http(s) URL".into(),
            }],
            None => vec![ConfigProblem {
                key: Some("endpoint".into()),
                message: "endpoint is required: the base URL of the target's REST API".into(),
            }],
        }
    }

    fn provision(
        config: ConnectorConfig,
        change: Change,
    ) -> Result<ProvisionOutcome, ProvisionError> {
        let Entity::User(user) = &change.entity else {
            return Err(unsupported("this connector provisions users only"));
        };
        let remote_id = match change.operation {
            Operation::Create => {
                let body = send(
                    &config,
                    Method::Post,
                    "/users",
                    Some(user_body(user)),
                    false,
                )?;
                body.as_deref().and_then(json_id)
            }
            Operation::Update => {
                if bug(&config) == "panic-on-update" {
                    panic!("update is not implemented yet");
                }
                let id = remote_id_of(user)?;
                let body = send(
                    &config,
                    Method::Put,
                    &format!("/users/{}", percent_encode(id)),
                    Some(user_body(user)),
                    false,
                )?;
                body.as_deref().and_then(json_id).or(Some(id.to_string()))
            }
            Operation::Delete => {
                let id = remote_id_of(user)?;
                send(
                    &config,
                    Method::Delete,
                    &format!("/users/{}", percent_encode(id)),
                    None,
                    true,
                )?;
                None
            }
        };
        Ok(ProvisionOutcome {
            remote_id,
            warnings: vec![],
        })
    }

    fn provision_batch(
        config: ConnectorConfig,
        changes: Vec<Change>,
    ) -> Vec<Result<ProvisionOutcome, ProvisionError>> {
        changes
            .into_iter()
            .map(|change| Self::provision(config.clone(), change))
            .collect()
    }

    fn lookup(
        config: ConnectorConfig,
        key: LookupKey,
    ) -> Result<Option<RemoteObject>, ProvisionError> {
        let name = match &key {
            LookupKey::Entity(Entity::User(user)) => user.name.clone(),
            LookupKey::Attribute(m) if m.kind == EntityKind::User && m.attribute == "userName" => {
                m.value.clone()
            }
            _ => {
                return Err(unsupported(
                    "lookup is by user or by the userName attribute",
                ))
            }
        };
        let path = format!("/users?userName={}", percent_encode(&name));
        let Some(body) = send(&config, Method::Get, &path, None, true)? else {
            return Ok(None);
        };
        Ok(json_id(&body).map(|remote_id| RemoteObject {
            remote_id,
            active: None,
            attributes: vec![("userName".into(), name)],
        }))
    }

    fn list_entities(
        _config: ConnectorConfig,
        _request: ListRequest,
    ) -> Result<RemotePage, ProvisionError> {
        Err(unsupported("listing is not supported"))
    }
}

#[cfg(target_arch = "wasm32")]
export!(Broken);
