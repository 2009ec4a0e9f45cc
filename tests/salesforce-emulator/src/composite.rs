//! The Composite resource (`POST /composite`): up to 25 REST subrequests run in order as one
//! API call, later ones referring to earlier results with `@{referenceId.path}`.
//!
//! The answer is always 200 `{"compositeResponse":[{"body","httpHeaders","httpStatusCode",
//! "referenceId"}]}` in request order. With `allOrNone: true` the first failing subrequest rolls
//! the org's users back and every other subrequest reports 400 PROCESSING_HALTED. Subrequests
//! are routed exactly as top-level requests ([`rest::route`], [`rest::handle`]) but are not
//! counted against the API allocation, and a composite cannot nest another.

use std::collections::HashMap;

use axum::{
    http::{Method, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{json, Value};

use crate::response::{json_response, ApiError};
use crate::rest::{self, Call, Route};
use crate::state::AppState;
use crate::versions;

/// The most subrequests one composite request may carry.
pub const MAX_SUBREQUESTS: usize = 25;

/// The message of subrequests halted by `allOrNone`.
pub const HALTED_MESSAGE: &str =
    "The transaction was rolled back since another operation in the same transaction failed.";

/// 400 for a composite subrequest that is itself a composite request.
pub fn nested() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "INVALID_INPUT",
        "A composite subrequest cannot be a composite request",
    )
}

/// One subrequest's answer.
struct Answer {
    status: u16,
    body: Value,
}

impl Answer {
    fn error(e: ApiError) -> Self {
        Self {
            status: e.status.as_u16(),
            body: json!([e.to_json()]),
        }
    }

    fn halted() -> Self {
        Self::error(ApiError::new(
            StatusCode::BAD_REQUEST,
            "PROCESSING_HALTED",
            HALTED_MESSAGE,
        ))
    }

    fn failed(&self) -> bool {
        self.status >= 400
    }
}

/// `POST /composite`.
pub async fn run(app: &AppState, call: &Call<'_>) -> Response {
    match parse(call.body) {
        Ok((all_or_none, subrequests)) => execute(app, all_or_none, subrequests).await,
        Err(e) => e.into_response(),
    }
}

/// One decoded subrequest.
struct Subrequest {
    method: String,
    url: String,
    reference_id: String,
    body: Option<Value>,
}

fn parse(body: &[u8]) -> Result<(bool, Vec<Subrequest>), ApiError> {
    let (_, map) = crate::validation::parse_object(body)?;
    let all_or_none = map
        .get("allOrNone")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let Some(Value::Array(list)) = map.get("compositeRequest") else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
            "compositeRequest: a list of subrequests is required",
        ));
    };
    if list.len() > MAX_SUBREQUESTS {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "LIMIT_EXCEEDED",
            format!(
                "A composite request can hold at most {MAX_SUBREQUESTS} subrequests; it held {}",
                list.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(list.len());
    for sub in list {
        let text = |key: &str| sub.get(key).and_then(Value::as_str).map(str::to_string);
        let (Some(method), Some(url), Some(reference_id)) =
            (text("method"), text("url"), text("referenceId"))
        else {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "INVALID_INPUT",
                "every subrequest needs `method`, `url` and `referenceId`",
            ));
        };
        out.push(Subrequest {
            method,
            url,
            reference_id,
            body: sub.get("body").cloned(),
        });
    }
    Ok((all_or_none, out))
}

async fn execute(app: &AppState, all_or_none: bool, subrequests: Vec<Subrequest>) -> Response {
    let before = all_or_none.then(|| app.org().directory.clone());
    let mut results: HashMap<String, Value> = HashMap::new();
    let mut answers: Vec<(String, Answer)> = Vec::new();
    let mut halted = false;
    for sub in subrequests {
        let answer = if halted {
            Answer::halted()
        } else {
            run_one(app, &sub, &results).await
        };
        if answer.failed() && all_or_none && !halted {
            halted = true;
            if let Some(before) = &before {
                app.org().directory = before.clone();
            }
            for (_, earlier) in answers.iter_mut() {
                *earlier = Answer::halted();
            }
        }
        if !answer.failed() {
            results.insert(sub.reference_id.clone(), answer.body.clone());
        }
        answers.push((sub.reference_id, answer));
    }
    let rendered: Vec<Value> = answers
        .into_iter()
        .map(|(reference_id, a)| {
            json!({
                "body": a.body,
                "httpHeaders": {},
                "httpStatusCode": a.status,
                "referenceId": reference_id,
            })
        })
        .collect();
    json_response(StatusCode::OK, &json!({ "compositeResponse": rendered }))
}

async fn run_one(app: &AppState, sub: &Subrequest, results: &HashMap<String, Value>) -> Answer {
    let url = match substitute(&sub.url, results) {
        Ok(u) => u,
        Err(e) => return Answer::error(e),
    };
    let body = match sub
        .body
        .as_ref()
        .map(|b| substitute(&b.to_string(), results))
    {
        Some(Err(e)) => return Answer::error(e),
        Some(Ok(b)) => b.into_bytes(),
        None => Vec::new(),
    };
    let Ok(method) = Method::from_bytes(sub.method.to_ascii_uppercase().as_bytes()) else {
        return Answer::error(ApiError::method_not_allowed(&sub.method, "GET,POST,PATCH"));
    };
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let Some(rest) = path.strip_prefix("/services/data/") else {
        return Answer::error(ApiError::not_found());
    };
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let Some((version_seg, segs)) = segs.split_first() else {
        return Answer::error(ApiError::not_found());
    };
    let version = match versions::resolve(version_seg, &app.org().config) {
        Ok(v) => v,
        Err(e) => return Answer::error(e),
    };
    let route = rest::route(&method, segs);
    if route == Route::Composite {
        return Answer::error(nested());
    }
    let params = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let headers = axum::http::HeaderMap::new();
    let call = Call {
        version,
        params,
        headers: &headers,
        body: &body,
    };
    let resp = rest::handle(app, &route, &call);
    let status = resp.status().as_u16();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    Answer { status, body }
}

/// Replaces every `@{referenceId.path}` in `text` with the value at `path` (dots and `[n]`
/// indexes) in that earlier subrequest's body.
fn substitute(text: &str, results: &HashMap<String, Value>) -> Result<String, ApiError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("@{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let reference = &after[..end];
        let value = resolve(reference, results).ok_or_else(|| {
            let id = reference.split(['.', '[']).next().unwrap_or(reference);
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "PROCESSING_HALTED",
                format!("Invalid reference specified. No value for {reference} found in {id}. Provided referenceId ({id}) must be an earlier subrequest that succeeded."),
            )
        })?;
        match value {
            Value::String(s) => out.push_str(&s),
            other => out.push_str(&other.to_string()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn resolve(reference: &str, results: &HashMap<String, Value>) -> Option<Value> {
    let mut parts = reference.split('.');
    let head = parts.next()?;
    let (id, index) = split_index(head);
    let mut value = results.get(id)?;
    if let Some(i) = index {
        value = value.get(i)?;
    }
    for part in parts {
        let (key, index) = split_index(part);
        value = value.get(key)?;
        if let Some(i) = index {
            value = value.get(i)?;
        }
    }
    Some(value.clone())
}

/// `records[0]` → (`records`, Some(0)).
fn split_index(part: &str) -> (&str, Option<usize>) {
    match part.split_once('[') {
        Some((key, rest)) => (key, rest.trim_end_matches(']').parse().ok()),
        None => (part, None),
    }
}
