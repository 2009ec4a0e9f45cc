//! Well-behaved test connector (contract 0.2): `provision` sends one request through the host's
//! HTTP capability and reports what came back. The claims of the changed `user` choose the request,
//! so one component serves many host tests (huge responses, redirects, egress denials,
//! credentials, OAuth tokens). A `group` has no claims, so it sends the default request.
//!
//! Claims read (all optional):
//! - `urn:echo:method`: `GET` (default), `HEAD`, `POST`, `PUT`, `PATCH`, `DELETE`;
//! - `urn:echo:path`: appended to the `endpoint` property;
//! - `urn:echo:url`: an absolute URL used instead of `endpoint` + path;
//! - `urn:echo:credential`: `none` (default), `bearer`, `basic`, `header`, `oauth-cc`,
//!   `oauth-cc-basic`, `oauth-password`, `oauth-jwt`, or `ref:<key>` (bearer with any key);
//! - `urn:echo:invalidate`: `true` to call `invalidate-token` for the grant first;
//! - `urn:echo:repeat`: how many times to send the request (default 1);
//! - `urn:echo:body-size`: send a body of this many bytes;
//! - `urn:echo:header`: `name: value`, one per value;
//! - `urn:echo:timeout-ms`: the per-request timeout to ask for.
//!
//! On success the outcome's warnings are `status=`, `body-len=`, `body=` (first 512 bytes) and
//! `location=` (when present) of the last response. An HTTP error becomes a `permanent` provision
//! error whose message is `http error: <debug of the error>`.
//!
//! `provision-batch` (`max-batch-size` 10, so the host can test batching) applies `provision` to
//! each change in order and returns one result per change. `list-entities` returns an empty last
//! page.

use provisioner_sdk::prelude::*;
use provisioner_sdk::{
    BasicCredential, ClientCredentialsGrant, JwtBearerGrant, OauthGrant, PasswordGrant,
    SecretHeader,
};

/// The connector.
pub struct Echo;

fn property(key: &str, kind: PropertyKind, required: bool, secret: bool) -> ConfigProperty {
    let mut property = ConfigProperty::new(key, kind).description(&format!("Test property {key}."));
    property.required = required;
    property.secret = secret;
    property
}

/// The text of `key` exactly as configured.
fn text(config: &ConnectorConfig, key: &str) -> Option<String> {
    match Config::new(config).get(key) {
        Some(ConfigValue::Text(t)) => Some(t.clone()),
        _ => None,
    }
}

/// The claims of the changed user; a group has none.
fn claims(change: &Change) -> &[Claim] {
    match &change.entity {
        Entity::User(user) => &user.claims,
        Entity::Group(_) => &[],
    }
}

fn claim<'a>(claims: &'a [Claim], uri: &str) -> Option<&'a str> {
    claims
        .iter()
        .find(|c| c.uri == uri)
        .and_then(|c| c.values.first())
        .map(String::as_str)
}

fn secret(key: &str) -> SecretRef {
    SecretRef { key: key.into() }
}

fn grant(config: &ConnectorConfig, kind: &str) -> OauthGrant {
    let token_url = text(config, "token-url").unwrap_or_default();
    let client_id = text(config, "client-id").unwrap_or_default();
    match kind {
        "oauth-password" => OauthGrant::Password(PasswordGrant {
            token_url,
            client_id,
            client_secret: secret("api-key"),
            username: text(config, "username").unwrap_or_default(),
            password: secret("password"),
        }),
        "oauth-jwt" => OauthGrant::JwtBearer(JwtBearerGrant {
            token_url: token_url.clone(),
            issuer: client_id,
            subject: text(config, "username").unwrap_or_default(),
            audience: token_url,
            private_key: secret("private-key"),
            lifetime_seconds: 300,
        }),
        _ => OauthGrant::ClientCredentials(ClientCredentialsGrant {
            token_url,
            client_id,
            client_secret: secret("api-key"),
            use_basic_auth: kind == "oauth-cc-basic",
        }),
    }
}

fn fail(message: String) -> ProvisionError {
    error::permanent(message)
}

impl Connector for Echo {
    fn metadata() -> ConnectorMetadata {
        ConnectorMetadata::new(
            "echo",
            "Echo",
            "0.1.0",
            "Sends one request chosen by the entity's claims.",
        )
        .entity_kinds(&[EntityKind::User, EntityKind::Group])
        .property(property("endpoint", PropertyKind::Url, true, false))
        .property(property("api-key", PropertyKind::Text, false, true))
        .property(property("token-url", PropertyKind::Url, false, false))
        .property(property("client-id", PropertyKind::Text, false, false))
        .property(property("username", PropertyKind::Text, false, false))
        .property(property("password", PropertyKind::Text, false, true))
        .property(property(
            "private-key",
            PropertyKind::MultilineText,
            false,
            true,
        ))
        .max_batch_size(10)
    }

    fn validate(config: &ConnectorConfig) -> Vec<ConfigProblem> {
        match text(config, "endpoint") {
            Some(_) => vec![],
            None => vec![ConfigProblem {
                key: Some("endpoint".into()),
                message: "endpoint is not set".into(),
            }],
        }
    }

    fn provision(cx: &Context, change: &Change) -> Result<ProvisionOutcome, ProvisionError> {
        let config = cx.raw_config();
        let claims = claims(change);
        let method = match claim(claims, "urn:echo:method").unwrap_or("GET") {
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            _ => Method::Get,
        };
        let url = match claim(claims, "urn:echo:url") {
            Some(url) => url.to_string(),
            None => {
                let endpoint =
                    text(config, "endpoint").ok_or_else(|| fail("no endpoint".into()))?;
                format!(
                    "{}{}",
                    endpoint.trim_end_matches('/'),
                    claim(claims, "urn:echo:path").unwrap_or("")
                )
            }
        };
        let kind = claim(claims, "urn:echo:credential").unwrap_or("none");
        let credential = match kind {
            "none" => None,
            "bearer" => Some(Credential::Bearer(secret("api-key"))),
            "basic" => Some(Credential::Basic(BasicCredential {
                username: text(config, "username").unwrap_or_default(),
                password: secret("api-key"),
            })),
            "header" => Some(Credential::Header(SecretHeader {
                name: "x-api-key".into(),
                value: secret("api-key"),
            })),
            k if k.starts_with("oauth") => Some(Credential::Oauth(grant(config, k))),
            k => Some(Credential::Bearer(secret(
                k.strip_prefix("ref:").unwrap_or(k),
            ))),
        };
        if claim(claims, "urn:echo:invalidate") == Some("true") {
            if let Some(Credential::Oauth(grant)) = &credential {
                cx.host().invalidate_token(grant);
            }
        }
        let headers = claims
            .iter()
            .filter(|c| c.uri == "urn:echo:header")
            .flat_map(|c| c.values.iter())
            .filter_map(|h| h.split_once(':'))
            .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
            .collect();
        let body = claim(claims, "urn:echo:body-size")
            .and_then(|n| n.parse::<usize>().ok())
            .map(|n| vec![b'x'; n]);
        let request = Request {
            method,
            url,
            headers,
            body,
            credential,
            timeout_ms: claim(claims, "urn:echo:timeout-ms").and_then(|t| t.parse().ok()),
        };
        let repeat = claim(claims, "urn:echo:repeat")
            .and_then(|n| n.parse().ok())
            .unwrap_or(1u32);
        let mut last = None;
        for _ in 0..repeat.max(1) {
            last = Some(
                cx.host()
                    .send(&request)
                    .map_err(|e| fail(format!("http error: {e:?}")))?,
            );
        }
        let response = last.expect("at least one request");
        let mut warnings = vec![
            format!("status={}", response.status),
            format!("body-len={}", response.body.len()),
            format!(
                "body={}",
                String::from_utf8_lossy(&response.body[..response.body.len().min(512)])
            ),
        ];
        if let Some((_, location)) = response
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("location"))
        {
            warnings.push(format!("location={location}"));
        }
        Ok(ProvisionOutcome {
            remote_id: None,
            warnings,
        })
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

provisioner_sdk::export_connector!(Echo);
