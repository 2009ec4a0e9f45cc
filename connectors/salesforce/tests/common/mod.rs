//! Test support: a scripted host, the C0 configuration of the WSO2 test vectors, and
//! local changes.
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::VecDeque;

use salesforce_connector::*;
use serde_json::Value;

/// The C0 domain.
pub const DOMAIN: &str = "https://acme-dev-ed.my.salesforce.com";
/// The stored remote id of the vectors.
pub const ID: &str = "005xx0000012345AAA";
/// Prefix of every local claim URI.
pub const WSO2: &str = "http://wso2.org/claims/";

/// A host that records requests and answers them from a queue.
#[derive(Default)]
pub struct FakeHost {
    pub requests: RefCell<Vec<Request>>,
    pub responses: RefCell<VecDeque<Result<Response, HttpError>>>,
    pub invalidated: RefCell<Vec<OauthGrant>>,
    pub logs: RefCell<Vec<(Level, String)>>,
}

impl FakeHost {
    /// A host that answers with `responses`, in order.
    pub fn new(responses: Vec<Result<Response, HttpError>>) -> Self {
        FakeHost {
            responses: RefCell::new(responses.into()),
            ..Default::default()
        }
    }

    /// The recorded requests.
    pub fn sent(&self) -> Vec<Request> {
        self.requests.borrow().clone()
    }

    /// The body of request `i` as JSON.
    pub fn json(&self, i: usize) -> Value {
        let body = self.requests.borrow()[i].body.clone().expect("a body");
        serde_json::from_slice(&body).expect("a JSON body")
    }

    /// The body of request `i` as text.
    pub fn text(&self, i: usize) -> String {
        String::from_utf8(self.requests.borrow()[i].body.clone().expect("a body")).unwrap()
    }
}

impl Host for FakeHost {
    fn send(&self, request: &Request) -> Result<Response, HttpError> {
        self.requests.borrow_mut().push(request.clone());
        self.responses.borrow_mut().pop_front().unwrap_or_else(|| {
            panic!(
                "unexpected request {} {}",
                request.url,
                self.requests.borrow().len()
            )
        })
    }

    fn invalidate_token(&self, grant: &OauthGrant) {
        self.invalidated.borrow_mut().push(grant.clone());
    }

    fn log(&self, level: Level, message: &str, _fields: &[(String, String)]) {
        self.logs.borrow_mut().push((level, message.to_string()));
    }
}

/// A response with a JSON (or any) body.
pub fn resp(status: u16, body: &str) -> Result<Response, HttpError> {
    Ok(Response {
        status,
        headers: vec![(
            "Content-Type".into(),
            "application/json;charset=UTF-8".into(),
        )],
        body: body.as_bytes().to_vec(),
    })
}

/// 201 Created with `id`.
pub fn created(id: &str) -> Result<Response, HttpError> {
    resp(
        201,
        &format!(r#"{{"id":"{id}","success":true,"errors":[]}}"#),
    )
}

/// 204 No Content.
pub fn no_content() -> Result<Response, HttpError> {
    resp(204, "")
}

/// A Salesforce error array with one entry.
pub fn sf_error(
    status: u16,
    code: &str,
    message: &str,
    fields: &[&str],
) -> Result<Response, HttpError> {
    let body = serde_json::json!([{ "message": message, "errorCode": code, "fields": fields }]);
    resp(status, &body.to_string())
}

/// Loads a claim-mapping fixture from `tests/fixtures`.
pub fn fixture_mappings(name: &str) -> Vec<ClaimMapping> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let rows: Vec<Value> = serde_json::from_str(&text).unwrap();
    rows.iter()
        .map(|r| ClaimMapping {
            target_field: r["target-field"].as_str().unwrap().into(),
            claim: r["claim"].as_str().map(Into::into),
            default_value: r["default-value"].as_str().map(Into::into),
        })
        .collect()
}

/// A text entry.
pub fn text(key: &str, value: &str) -> ConfigEntry {
    ConfigEntry {
        key: key.into(),
        value: ConfigValue::Text(value.into()),
    }
}

/// A secret entry referring to itself.
pub fn secret(key: &str) -> ConfigEntry {
    ConfigEntry {
        key: key.into(),
        value: ConfigValue::Secret(SecretRef { key: key.into() }),
    }
}

/// A boolean entry.
pub fn boolean(key: &str, value: bool) -> ConfigEntry {
    ConfigEntry {
        key: key.into(),
        value: ConfigValue::Boolean(value),
    }
}

/// The WSO2 vectors' base configuration C0 (password grant, blank pattern/separator/domain).
pub fn c0() -> ConnectorConfig {
    ConnectorConfig {
        tenant: "carbon.super".into(),
        target: "salesforce".into(),
        entries: vec![
            text("sf-api-version", "v45.0"),
            text("sf-domain-name", DOMAIN),
            text("sf-clientid", "CID"),
            secret("sf-client-secret"),
            boolean("sf-usePasswordGrant", true),
            text("sf-username", "integ@acme.com"),
            secret("sf-password"),
            text("sf-prov-pattern", ""),
            text("sf-prov-separator", ""),
            text("sf-prov-domainName", ""),
            ConfigEntry {
                key: "sf-claim-mappings".into(),
                value: ConfigValue::ClaimMappings(fixture_mappings("c0-claim-mappings.json")),
            },
        ],
    }
}

/// `config` with `entry` set (replacing an entry with the same key).
pub fn with(mut config: ConnectorConfig, entry: ConfigEntry) -> ConnectorConfig {
    config.entries.retain(|e| e.key != entry.key);
    config.entries.push(entry);
    config
}

/// `config` without `key`.
pub fn without(mut config: ConnectorConfig, key: &str) -> ConnectorConfig {
    config.entries.retain(|e| e.key != key);
    config
}

/// `config` with its claim mappings replaced.
pub fn with_mappings(config: ConnectorConfig, mappings: Vec<ClaimMapping>) -> ConnectorConfig {
    with(
        config,
        ConfigEntry {
            key: "sf-claim-mappings".into(),
            value: ConfigValue::ClaimMappings(mappings),
        },
    )
}

/// A local change as the tests build it; [`Local::change`] and [`Local::entity`] turn it into
/// the contract's types.
#[derive(Debug, Clone)]
pub struct Local {
    pub kind: EntityKind,
    pub operation: Operation,
    pub local_id: String,
    pub name: String,
    pub remote_id: Option<String>,
    pub claims: Vec<Claim>,
    pub changed_claims: Vec<String>,
    pub previous_name: Option<String>,
}

impl Local {
    /// The change to provision.
    pub fn change(&self) -> Change {
        Change {
            operation: self.operation,
            entity: self.entity(),
        }
    }

    /// The entity alone, e.g. for a lookup key.
    pub fn entity(&self) -> Entity {
        match self.kind {
            EntityKind::User => Entity::User(User {
                local_id: self.local_id.clone(),
                name: self.name.clone(),
                remote_id: self.remote_id.clone(),
                claims: self.claims.clone(),
                changed_claims: self.changed_claims.clone(),
                previous_name: self.previous_name.clone(),
            }),
            EntityKind::Group => Entity::Group(Group {
                local_id: self.local_id.clone(),
                name: self.name.clone(),
                remote_id: self.remote_id.clone(),
                members: vec![],
                added_members: vec![],
                removed_members: vec![],
                previous_name: self.previous_name.clone(),
            }),
        }
    }
}

/// A user change with claims given by short names (`givenname` -> `http://wso2.org/claims/givenname`).
pub fn user(operation: Operation, name: &str, claims: &[(&str, &str)]) -> Local {
    Local {
        kind: EntityKind::User,
        operation,
        local_id: "local-1".into(),
        name: name.into(),
        remote_id: None,
        claims: claims
            .iter()
            .map(|(k, v)| Claim {
                uri: format!("{WSO2}{k}"),
                values: vec![v.to_string()],
            })
            .collect(),
        changed_claims: vec![],
        previous_name: None,
    }
}

/// Alice of vector 1.
pub fn alice(operation: Operation) -> Local {
    user(
        operation,
        "alice@example.com",
        &[
            ("givenname", "Alice"),
            ("lastname", "Smith"),
            ("emailaddress", "alice@example.com"),
        ],
    )
}

/// The error's case name, for assertions.
pub fn case(err: &ProvisionError) -> &'static str {
    salesforce_connector::errors::case_of(err).0
}

/// The error's detail.
pub fn detail(err: &ProvisionError) -> &ErrorDetail {
    salesforce_connector::errors::case_of(err).1
}
