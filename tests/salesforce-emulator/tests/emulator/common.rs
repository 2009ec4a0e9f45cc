//! Shared helpers: an emulator, an HTTP client with a token (and one for the control API), and
//! a valid User body.

use reqwest::{Method, RequestBuilder, Response};
use salesforce_emulator::{Emulator, EmulatorConfig};
use serde_json::{json, Value};

pub const V: &str = "v62.0";

pub struct Ctx {
    pub emu: Emulator,
    pub http: reqwest::Client,
    pub token: String,
}

impl Ctx {
    pub async fn new() -> Self {
        Self::with_config(EmulatorConfig::default()).await
    }

    pub async fn with_config(config: EmulatorConfig) -> Self {
        let emu = Emulator::start(config).await.expect("emulator starts");
        let http = reqwest::Client::new();
        let token = emu.issue_token();
        Self { emu, http, token }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emu.base_url())
    }

    /// A control API request carrying the emulator's control token.
    pub fn control(&self, method: Method, path: &str) -> RequestBuilder {
        let token = self
            .emu
            .control_token()
            .expect("the control API has a token");
        self.http.request(method, self.url(path)).bearer_auth(token)
    }

    pub fn data(&self, rest: &str) -> String {
        self.url(&format!("/services/data/{V}/{rest}"))
    }

    pub fn req(&self, method: Method, rest: &str) -> RequestBuilder {
        self.http
            .request(method, self.data(rest))
            .bearer_auth(&self.token)
    }

    pub async fn get(&self, rest: &str) -> Response {
        self.req(Method::GET, rest).send().await.unwrap()
    }

    pub async fn post(&self, rest: &str, body: &Value) -> Response {
        self.req(Method::POST, rest)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_raw(&self, rest: &str, body: impl Into<reqwest::Body>) -> Response {
        self.req(Method::POST, rest)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch(&self, rest: &str, body: &Value) -> Response {
        self.req(Method::PATCH, rest)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Creates a user from `user_body(name)` with `overrides` merged in; panics unless 201.
    pub async fn create_user(&self, name: &str, overrides: Value) -> String {
        let resp = self.post("sobjects/User/", &merged(name, overrides)).await;
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_string()
    }

    /// A client-credentials token response, as JSON; panics unless 200.
    pub async fn client_credentials_token(&self) -> Value {
        let c = self.emu.config();
        let resp = self
            .http
            .post(self.emu.token_url())
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &c.client_id),
                ("client_secret", &c.client_secret),
            ])
            .send()
            .await
            .unwrap();
        let (status, body) = status_json(resp).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    pub async fn query(&self, soql: &str) -> (u16, Value) {
        let resp = self
            .req(Method::GET, "query")
            .query(&[("q", soql)])
            .send()
            .await
            .unwrap();
        status_json(resp).await
    }
}

/// A valid create body for `<name>@example.com`.
pub fn user_body(name: &str) -> Value {
    json!({
        "Username": format!("{name}@example.com"),
        "LastName": "Doe",
        "FirstName": "Jane",
        "Email": format!("{name}@example.com"),
        "Alias": "jdoe",
        "TimeZoneSidKey": "America/Los_Angeles",
        "LocaleSidKey": "en_US",
        "EmailEncodingKey": "UTF-8",
        "ProfileId": "00e5g000001AbCd",
        "LanguageLocaleKey": "en_US",
    })
}

pub fn merged(name: &str, overrides: Value) -> Value {
    let mut body = user_body(name);
    if let Value::Object(o) = overrides {
        for (k, v) in o {
            if v == json!("__remove__") {
                body.as_object_mut().unwrap().remove(&k);
            } else {
                body[k] = v;
            }
        }
    }
    body
}

pub async fn status_json(resp: Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// Asserts a single-error REST body and returns it.
pub async fn expect_error(resp: Response, status: u16, code: &str) -> Value {
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    let (got, body) = status_json(resp).await;
    assert_eq!(got, status, "{body}");
    assert_eq!(ct.as_deref(), Some("application/json;charset=UTF-8"));
    assert_eq!(body[0]["errorCode"], code, "{body}");
    body[0].clone()
}
