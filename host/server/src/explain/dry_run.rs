//! The dry run's transport: answers every request a connector sends itself and records it (see
//! the [module documentation](super)).

use std::sync::Mutex;

use serde_json::Value;

use provisioner_engine::logged_fields::{looks_secret, REDACTED};
use provisioner_runtime::capabilities::transport::TransportFuture;
use provisioner_runtime::{
    Exchange, ExchangeKind, HttpObserver, OutboundRequest, Transport, TransportResponse,
};

use super::{ExplainedRequest, DRY_RUN_REMOTE_ID, DRY_RUN_TOKEN};

/// The dry run's transport and observer: answers every request itself (see the module
/// documentation) and keeps each exchange, as the runtime reports it with secrets redacted.
#[derive(Default)]
pub struct DryRun {
    exchanges: Mutex<Vec<Exchange>>,
}

impl DryRun {
    /// The requests recorded so far, in order, forgetting them.
    pub fn take_requests(&self) -> Vec<ExplainedRequest> {
        std::mem::take(&mut *self.exchanges.lock().unwrap_or_else(|p| p.into_inner()))
            .iter()
            .map(explained)
            .collect()
    }

    /// The requests recorded so far, in order.
    pub fn requests(&self) -> Vec<ExplainedRequest> {
        self.exchanges
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(explained)
            .collect()
    }
}

impl HttpObserver for DryRun {
    fn on_exchange(&self, exchange: &Exchange) {
        self.exchanges
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(exchange.clone());
    }
}

impl Transport for DryRun {
    fn send(&self, request: OutboundRequest) -> TransportFuture<'_> {
        Box::pin(async move { Ok(synthetic_answer(&request)) })
    }
}

/// The dry run's answer to `request` (see the module documentation).
fn synthetic_answer(request: &OutboundRequest) -> TransportResponse {
    let json = |status: u16, body: Value| TransportResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: serde_json::to_vec(&body).unwrap_or_default(),
    };
    let sent: Option<Value> = request
        .body
        .as_deref()
        .and_then(|body| serde_json::from_slice(body).ok());
    let is_token_request = request
        .body
        .as_deref()
        .is_some_and(|body| String::from_utf8_lossy(body).contains("grant_type="));
    if is_token_request {
        return json(
            200,
            serde_json::json!({
                "access_token": DRY_RUN_TOKEN,
                "token_type": "Bearer",
                "expires_in": 3600,
            }),
        );
    }
    let echo = || {
        let mut body = match &sent {
            Some(Value::Object(fields)) => fields.clone(),
            _ => serde_json::Map::new(),
        };
        body.insert("id".into(), DRY_RUN_REMOTE_ID.into());
        body
    };
    match request.method.as_str() {
        "POST" => {
            let mut body = echo();
            body.insert("success".into(), Value::Bool(true));
            body.insert("errors".into(), Value::Array(Vec::new()));
            json(201, Value::Object(body))
        }
        "PUT" => json(200, Value::Object(echo())),
        "GET" => json(
            404,
            serde_json::json!([{"errorCode": "NOT_FOUND", "message": "dry run"}]),
        ),
        _ => TransportResponse {
            status: 204,
            headers: Vec::new(),
            body: Vec::new(),
        },
    }
}

/// An exchange as explain shows it.
fn explained(exchange: &Exchange) -> ExplainedRequest {
    let body = if exchange.request_body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice::<Value>(&exchange.request_body) {
            Ok(mut json) => {
                redact_secret_keys(&mut json);
                json
            }
            Err(_) => Value::String(String::from_utf8_lossy(&exchange.request_body).into_owned()),
        }
    };
    ExplainedRequest {
        kind: match exchange.kind {
            ExchangeKind::Api => "api",
            ExchangeKind::Token => "token",
        }
        .to_owned(),
        method: exchange.method.clone(),
        url: exchange.url.clone(),
        headers: exchange.request_headers.iter().cloned().collect(),
        body,
    }
}

/// Replaces the values of secret-looking keys anywhere in `json` (a user's password mapped to a
/// target field, say) with [`REDACTED`].
fn redact_secret_keys(json: &mut Value) {
    match json {
        Value::Object(fields) => {
            for (key, value) in fields.iter_mut() {
                if looks_secret(key) && !value.is_null() {
                    *value = Value::String(REDACTED.to_owned());
                } else {
                    redact_secret_keys(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_secret_keys),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_are_redacted_at_any_depth() {
        let mut body = serde_json::json!({
            "LastName": "Gnaniah",
            "Password": "hunter2",
            "nested": [{"client_secret": "s", "Alias": "sam"}],
            "Token": null,
        });
        redact_secret_keys(&mut body);
        assert_eq!(
            body,
            serde_json::json!({
                "LastName": "Gnaniah",
                "Password": REDACTED,
                "nested": [{"client_secret": REDACTED, "Alias": "sam"}],
                "Token": null,
            })
        );
    }
}
