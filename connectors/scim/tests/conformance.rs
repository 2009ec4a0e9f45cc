//! The outcomes `provisioner connector check` expects, by the shared HTTP-status mapping: every
//! operation on users and groups against a target that answers every request alike.

mod common;

use common::{case, config, group, provision};
use provisioner_sdk::mock::{self, MockHost};
use provisioner_sdk::prelude::*;
use provisioner_sdk::serde_json::json;
use provisioner_sdk::{ConnectionFailure, HttpError, Response};
use scim_connector::ScimConnector;

const REMOTE_ID: &str = "check-remote-1";

/// How the scripted target answers.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Scenario {
    Success,
    Unauthorized,
    NotFound,
    Conflict,
    RateLimited,
    ServerError,
    Reset,
    Stall,
}

const SCENARIOS: [Scenario; 8] = [
    Scenario::Success,
    Scenario::Unauthorized,
    Scenario::NotFound,
    Scenario::Conflict,
    Scenario::RateLimited,
    Scenario::ServerError,
    Scenario::Reset,
    Scenario::Stall,
];

fn answer(scenario: Scenario, method: Method) -> Result<Response, HttpError> {
    let entity = json!({"id": REMOTE_ID, "userName": "check.user@example.com"});
    Ok(match scenario {
        Scenario::Success => match method {
            Method::Post => mock::json(201, &entity),
            Method::Delete => mock::status(204),
            Method::Get => mock::json(
                200,
                &json!({"id": REMOTE_ID, "Resources": [entity], "totalResults": 1}),
            ),
            _ => mock::json(200, &entity),
        },
        Scenario::Unauthorized => mock::status(401),
        Scenario::NotFound => mock::status(404),
        Scenario::Conflict => mock::json(409, &json!({"id": "check-existing-1"})),
        Scenario::RateLimited => {
            let mut limited = mock::status(429);
            limited.headers.push(("Retry-After".into(), "7".into()));
            limited
        }
        Scenario::ServerError => mock::status(503),
        Scenario::Reset => {
            return Err(HttpError::ConnectionFailed(ConnectionFailure {
                message: "connection reset".into(),
                sent: true,
            }))
        }
        Scenario::Stall => return Err(HttpError::Timeout),
    })
}

fn target(scenario: Scenario) -> MockHost {
    let host = MockHost::new();
    for endpoint in ["Users", "Groups"] {
        for path in [
            format!("/scim/v2/{endpoint}"),
            format!("/scim/v2/{endpoint}/{REMOTE_ID}"),
        ] {
            for method in [
                Method::Get,
                Method::Post,
                Method::Put,
                Method::Patch,
                Method::Delete,
            ] {
                match answer(scenario, method) {
                    Ok(response) => host.on(method, &path, response),
                    Err(error) => host.on_error(method, &path, error),
                };
            }
        }
    }
    host
}

/// What the check accepts for `operation` (None: a lookup) in `scenario`.
fn accepted(operation: Option<Operation>, scenario: Scenario, got: &str) -> bool {
    let write = operation.is_some();
    match scenario {
        Scenario::Success => got == "ok",
        Scenario::Unauthorized => got == "ok" || got == "auth-failed",
        Scenario::NotFound => match operation {
            Some(Operation::Create) => ["not-found", "invalid-data", "permanent"].contains(&got),
            Some(Operation::Update) => got == "not-found",
            Some(Operation::Delete) | None => got == "ok" || got == "not-found",
        },
        Scenario::Conflict => match operation {
            Some(Operation::Create) => got == "conflict",
            _ => ["conflict", "invalid-data", "permanent"].contains(&got),
        },
        Scenario::RateLimited => got == "rate-limited (7000)",
        Scenario::ServerError | Scenario::Reset | Scenario::Stall if write => {
            got == "transient (outcome unknown)"
        }
        _ => got == "transient",
    }
}

fn describe<T: std::fmt::Debug>(result: &Result<T, ProvisionError>) -> String {
    match result {
        Err(ProvisionError::Transient(t)) if t.outcome_unknown => {
            "transient (outcome unknown)".into()
        }
        Err(ProvisionError::RateLimited(r)) => {
            format!("rate-limited ({})", r.retry_after_ms.unwrap_or(0))
        }
        other => case(other).to_string(),
    }
}

fn user(remote_id: Option<&str>) -> User {
    let user = User::new("check-local-1", "check.user@example.com")
        .with_claim(claims::GIVEN_NAME, "Check")
        .with_claim(claims::ACCOUNT_DISABLED, "false")
        .with_changed(claims::GIVEN_NAME);
    match remote_id {
        Some(id) => user.with_remote_id(id),
        None => user,
    }
}

#[test]
fn every_operation_meets_the_shared_mapping_in_every_scenario() {
    let mut failures = Vec::new();
    for scenario in SCENARIOS {
        for operation in [Operation::Create, Operation::Update, Operation::Delete] {
            let remote = (operation != Operation::Create).then_some(REMOTE_ID);
            let changes = [
                Change {
                    operation,
                    entity: Entity::User(user(remote)),
                },
                common::group_change(operation, group("Check Group", remote, &[])),
            ];
            for change in changes {
                let got = describe(&provision(&target(scenario), &config(), change.clone()));
                if !accepted(Some(operation), scenario, &got) {
                    failures.push(format!(
                        "{operation:?} {:?} {scenario:?}: {got}",
                        change.entity
                    ));
                }
            }
        }
        let keys = [
            LookupKey::Entity(Entity::User(user(Some(REMOTE_ID)))),
            LookupKey::Entity(Entity::Group(group("Check Group", Some(REMOTE_ID), &[]))),
        ];
        for key in keys {
            let host = target(scenario);
            let result = ScimConnector::lookup(&Context::new(&host, &config()), &key);
            let got = match &result {
                Ok(found) => {
                    assert!(scenario != Scenario::Success || found.is_some(), "{key:?}");
                    "ok".to_string()
                }
                Err(_) => describe(&result),
            };
            if !accepted(None, scenario, &got) {
                failures.push(format!("lookup {key:?} {scenario:?}: {got}"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn a_conflict_names_the_id_in_the_body_without_a_lookup() {
    let host = target(Scenario::Conflict);
    match provision(&host, &config(), Change::create(user(None))) {
        Err(ProvisionError::Conflict(c)) => {
            assert_eq!(c.existing_remote_id.as_deref(), Some("check-existing-1"))
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(host.requests().len(), 1);
}
