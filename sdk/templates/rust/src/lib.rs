//! The {{name}} connector: provisions users into a REST API.
//!
//! | call | request | answer |
//! |---|---|---|
//! | create | `POST {endpoint}/users` with `{"userName", "externalId", "claims"}` | 2xx `{"id"}` |
//! | update | `PUT {endpoint}/users/{id}`, same body | 2xx |
//! | delete | `DELETE {endpoint}/users/{id}` | 2xx, or 404 when already gone |
//! | lookup | `GET {endpoint}/users?userName=...` | 200 `{"id"}` found, 404 none |
//!
//! Other statuses become errors by the SDK's shared mapping (`error::from_status`).

use provisioner_sdk::prelude::*;
use provisioner_sdk::serde_json::{json, Map, Value};

/// The connector.
pub struct RestConnector;

impl Connector for RestConnector {
    fn metadata() -> ConnectorMetadata {
        ConnectorMetadata::new(
            "{{name}}",
            "{{name}}",
            "0.1.0",
            "Provisions users into the {{name}} REST API.",
        )
        .property(
            ConfigProperty::url("endpoint")
                .label("Endpoint")
                .description("Base URL of the target's REST API, e.g. https://api.example.com/v1.")
                .required(),
        )
        .property(
            ConfigProperty::secret("api-token")
                .label("API token")
                .description("Sent as `Authorization: Bearer <token>` by the host."),
        )
    }

    fn create_user(cx: &Context, user: &User) -> Result<ProvisionOutcome, ProvisionError> {
        let created = cx.send_json(request(cx, Method::Post, &[])?.json(&body(user)))?;
        Ok(ProvisionOutcome::created(id_of(&created)))
    }

    fn update_user(cx: &Context, user: &User) -> Result<ProvisionOutcome, ProvisionError> {
        let Some(id) = user.remote_id.as_deref() else {
            return Err(error::not_found(format!(
                "user {} has no remote id in this target: create it first",
                user.name
            )));
        };
        cx.send_ok(request(cx, Method::Put, &[id])?.json(&body(user)))?;
        Ok(ProvisionOutcome::created(Some(id.to_string())))
    }

    fn delete_user(cx: &Context, user: &User) -> Result<ProvisionOutcome, ProvisionError> {
        let Some(id) = user.remote_id.as_deref() else {
            return Ok(ProvisionOutcome::gone());
        };
        let response = cx.send(request(cx, Method::Delete, &[id])?)?;
        if response.is_success() || response.status == 404 {
            Ok(ProvisionOutcome::gone())
        } else {
            Err(error::from_status(Method::Delete, &response))
        }
    }

    fn lookup(cx: &Context, key: &LookupKey) -> Result<Option<RemoteObject>, ProvisionError> {
        let user_name = match key {
            LookupKey::Entity(Entity::User(user)) => &user.name,
            LookupKey::Attribute(m) if m.kind == EntityKind::User && m.attribute == "userName" => {
                &m.value
            }
            _ => {
                return Err(error::unsupported(
                    "{{name}} looks users up by userName only",
                ))
            }
        };
        let response = cx.send(request(cx, Method::Get, &[])?.query("userName", user_name))?;
        match response.status {
            404 => Ok(None),
            200 => Ok(id_of(&response.json()?).map(|remote_id| RemoteObject {
                remote_id,
                active: None,
                attributes: vec![("userName".into(), user_name.clone())],
            })),
            _ => Err(error::from_status(Method::Get, &response)),
        }
    }
}

provisioner_sdk::export_connector!(RestConnector);

/// A request to `{endpoint}/users[/segments...]`, with the API token when one is set.
fn request(
    cx: &Context,
    method: Method,
    segments: &[&str],
) -> Result<RequestBuilder, ProvisionError> {
    let config = cx.config();
    let mut request =
        RequestBuilder::new(method, &config.required("endpoint", Config::url)?).segment("users");
    for segment in segments {
        request = request.segment(segment);
    }
    if let Some(token) = config.secret("api-token")? {
        request = request.bearer(&token.key);
    }
    Ok(request)
}

/// The body of create and update: single-valued claims as strings, others as lists.
fn body(user: &User) -> Value {
    let claims: Map<String, Value> = user
        .claims
        .iter()
        .map(|c| match c.values.as_slice() {
            [one] => (c.uri.clone(), json!(one)),
            many => (c.uri.clone(), json!(many)),
        })
        .collect();
    json!({ "userName": user.name, "externalId": user.local_id, "claims": claims })
}

/// The `"id"` of a JSON answer, as text.
fn id_of(answer: &Value) -> Option<String> {
    match &answer["id"] {
        Value::String(id) => Some(id.clone()),
        Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use provisioner_sdk::mock::{self, MockHost};

    fn config() -> ConnectorConfig {
        mock::config()
            .with_text("endpoint", "https://api.example.com/v1/")
            .with_secret("api-token")
    }

    #[test]
    fn create_posts_the_user_and_returns_the_new_id() {
        let host = MockHost::new();
        host.on(
            Method::Post,
            "/v1/users",
            mock::json(201, &json!({"id": "42"})),
        );
        let config = config();
        let user = User::new("u1", "alice").with_claim(claims::EMAIL, "a@example.com");
        let outcome =
            RestConnector::provision(&Context::new(&host, &config), &Change::create(user));
        assert_eq!(outcome.unwrap().remote_id.as_deref(), Some("42"));
        let sent = &host.requests()[0];
        assert_eq!(sent.credential.as_deref(), Some("bearer:api-token"));
        assert_eq!(sent.json()["userName"], "alice");
        assert_eq!(sent.json()["claims"][claims::EMAIL], "a@example.com");
    }

    #[test]
    fn update_without_remote_id_is_not_found_and_delete_of_a_gone_user_succeeds() {
        let host = MockHost::new();
        host.on(Method::Delete, "/v1/users/r%2F1", mock::status(404));
        let config = config();
        let cx = Context::new(&host, &config);
        let update = RestConnector::provision(&cx, &Change::update(User::new("u1", "alice")));
        assert!(matches!(update, Err(ProvisionError::NotFound(_))));
        let user = User::new("u1", "alice").with_remote_id("r/1");
        let deleted = RestConnector::provision(&cx, &Change::delete(user)).unwrap();
        assert_eq!(deleted.remote_id, None);
    }

    #[test]
    fn lookup_finds_by_user_name_and_maps_errors() {
        let host = MockHost::new();
        host.on(
            Method::Get,
            "/v1/users?userName=alice",
            mock::json(200, &json!({"id": 7})),
        );
        host.on(Method::Get, "/v1/users?userName=bob", mock::status(404));
        host.on(Method::Get, "/v1/users?userName=eve", mock::status(401));
        let config = config();
        let cx = Context::new(&host, &config);
        let by_name = |name: &str| {
            RestConnector::lookup(&cx, &LookupKey::Entity(Entity::User(User::new("u", name))))
        };
        assert_eq!(by_name("alice").unwrap().unwrap().remote_id, "7");
        assert_eq!(by_name("bob").unwrap(), None);
        assert!(matches!(by_name("eve"), Err(ProvisionError::AuthFailed(_))));
    }
}
