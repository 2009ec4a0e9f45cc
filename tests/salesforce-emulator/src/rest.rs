//! The REST data API under `/services/data/`: version resolution, authentication, API-usage
//! counting, fault injection and routing to the User, query and limits resources.

use std::collections::HashMap;

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use serde_json::{json, Value};

use crate::faults::{CallInfo, Operation};
use crate::injection::run_with_fault;
use crate::limits::LIMIT_INFO_HEADER_LOWER;
use crate::response::{json_response, ApiError};
use crate::sessions::bearer_token;
use crate::state::AppState;
use crate::{collections, composite, query, sobjects, versions};

/// A resolved REST route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /vXX.X/`: the resource directory.
    Resources,
    /// `GET /sobjects`.
    DescribeGlobal,
    /// `GET /sobjects/User`.
    SObjectInfo,
    /// `GET /sobjects/User/describe`.
    Describe,
    /// `POST /sobjects/User/`.
    Create,
    /// `GET|HEAD /sobjects/User/{id}`.
    Get(String),
    /// `PATCH /sobjects/User/{id}`.
    Update(String),
    /// `GET /sobjects/User/{field}/{value}`.
    GetByExternalId(String, String),
    /// `PATCH /sobjects/User/{field}/{value}`.
    Upsert(String, String),
    /// A disallowed method; `delete` marks a DELETE of a User record.
    MethodNotAllowed {
        /// The method used.
        method: String,
        /// The allowed methods, as listed in the message.
        allowed: &'static str,
        /// Whether this was a DELETE on a User record.
        delete: bool,
    },
    /// `GET /query?q=` (or `/queryAll`).
    Query,
    /// `GET /query/{locator}-{offset}`.
    QueryMore(String),
    /// `GET /limits`.
    Limits,
    /// `POST /composite/sobjects`: create up to 200 records.
    CollectionsCreate,
    /// `PATCH /composite/sobjects`: update up to 200 records.
    CollectionsUpdate,
    /// `DELETE /composite/sobjects?ids=…`: delete up to 200 records (refused for users).
    CollectionsDelete,
    /// `GET /composite/sobjects/User?ids=…&fields=…`.
    CollectionsRetrieve,
    /// `POST /composite`: up to 25 subrequests in one call.
    Composite,
    /// Anything else: 404 NOT_FOUND.
    NotFound,
}

impl Route {
    /// The operation this route counts as (faults and counters).
    pub fn operation(&self) -> Operation {
        match self {
            Route::Create | Route::CollectionsCreate => Operation::Create,
            Route::Update(_) | Route::Upsert(..) | Route::CollectionsUpdate => Operation::Update,
            Route::Get(_) | Route::GetByExternalId(..) | Route::CollectionsRetrieve => {
                Operation::Get
            }
            Route::CollectionsDelete => Operation::Delete,
            Route::Composite => Operation::Composite,
            Route::Query | Route::QueryMore(_) => Operation::Query,
            Route::Limits => Operation::Limits,
            Route::MethodNotAllowed { delete: true, .. } => Operation::Delete,
            _ => Operation::Describe,
        }
    }
}

fn is_user(s: &str) -> bool {
    s.eq_ignore_ascii_case("user")
}

/// Maps a method and the path segments after the version to a route.
pub fn route(method: &Method, segs: &[&str]) -> Route {
    let not_allowed = |allowed: &'static str, delete: bool| Route::MethodNotAllowed {
        method: method.as_str().to_string(),
        allowed,
        delete,
    };
    let read = *method == Method::GET || *method == Method::HEAD;
    match segs {
        [] if read => Route::Resources,
        ["sobjects"] if read => Route::DescribeGlobal,
        ["sobjects", t, ..] if !is_user(t) => Route::NotFound,
        ["sobjects", _] => match *method {
            Method::GET | Method::HEAD => Route::SObjectInfo,
            Method::POST => Route::Create,
            _ => not_allowed("GET,HEAD,POST", false),
        },
        ["sobjects", _, "describe"] if read => Route::Describe,
        ["sobjects", _, id] => match *method {
            Method::GET | Method::HEAD => Route::Get(id.to_string()),
            Method::PATCH => Route::Update(id.to_string()),
            Method::DELETE => not_allowed("GET,HEAD,PATCH", true),
            _ => not_allowed("GET,HEAD,PATCH", false),
        },
        ["sobjects", _, field, value] => match *method {
            Method::GET | Method::HEAD => {
                Route::GetByExternalId(field.to_string(), value.to_string())
            }
            Method::PATCH => Route::Upsert(field.to_string(), value.to_string()),
            Method::DELETE => not_allowed("GET,HEAD,PATCH", true),
            _ => not_allowed("GET,HEAD,PATCH", false),
        },
        ["query" | "queryAll"] if read => Route::Query,
        ["query" | "queryAll", locator] if read => Route::QueryMore(locator.to_string()),
        ["limits"] if read => Route::Limits,
        ["composite", "sobjects"] => match *method {
            Method::POST => Route::CollectionsCreate,
            Method::PATCH => Route::CollectionsUpdate,
            Method::DELETE => Route::CollectionsDelete,
            _ => not_allowed("POST,PATCH,DELETE", false),
        },
        ["composite", "sobjects", t] if !is_user(t) => Route::NotFound,
        ["composite", "sobjects", _] if read => Route::CollectionsRetrieve,
        ["composite"] if *method == Method::POST => Route::Composite,
        _ => Route::NotFound,
    }
}

/// Everything a handler needs to know about one request.
#[derive(Debug)]
pub struct Call<'a> {
    /// Canonical version segment, e.g. `v62.0`.
    pub version: String,
    /// Query-string parameters.
    pub params: HashMap<String, String>,
    /// Request headers.
    pub headers: &'a HeaderMap,
    /// Raw body.
    pub body: &'a [u8],
}

impl Call<'_> {
    /// The major API version, e.g. 62 for `v62.0`.
    pub fn major_version(&self) -> u32 {
        self.version
            .trim_start_matches('v')
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0)
    }
}

/// Fallback handler for every path under `/services/data`.
pub async fn data_api(
    State(app): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let rest = path.strip_prefix("/services/data").unwrap_or(path);
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let Some((version_seg, segs)) = segs.split_first() else {
        let config = app.org().config.clone();
        return json_response(StatusCode::OK, &versions::listing(&config));
    };
    let version = match versions::resolve(version_seg, &app.org().config) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let params: HashMap<String, String> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let mut method = method;
    if method == Method::POST {
        if let Some(m) = params
            .get("_HttpMethod")
            .and_then(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok())
        {
            method = m;
        }
    }
    let route = route(&method, segs);
    let op = route.operation();
    let token = bearer_token(&headers).map(str::to_string);

    let fault = {
        let mut org = app.org();
        let session = token.as_deref().and_then(|t| org.sessions.touch(t));
        if session.is_none() {
            org.counters.unauthenticated_calls += 1;
            return ApiError::invalid_session().into_response();
        }
        if let Err(e) = org.usage.consume() {
            org.counters.limit_exceeded_calls += 1;
            let header = org.usage.header_value();
            return with_limit_header(e.into_response(), &header);
        }
        org.counters.api_calls += 1;
        *org.counters
            .by_operation
            .entry(op.as_str().to_string())
            .or_default() += 1;
        if let Route::MethodNotAllowed { delete: true, .. } = route {
            org.counters.delete_attempts += 1;
            org.counters.delete_attempt_paths.push(path.to_string());
            tracing::warn!(
                path,
                "DELETE on a User record refused (users are deactivated, never deleted)"
            );
        }
        let deactivation = match &route {
            Route::Update(id) => is_deactivation(&org.directory, id, &body),
            Route::CollectionsUpdate => collection_deactivates(&org.directory, &body),
            _ => false,
        };
        let fault = org.faults.check(CallInfo {
            operation: op,
            deactivation,
        });
        if fault.is_some() {
            org.counters.faults_fired += 1;
        }
        fault
    };

    let call = Call {
        version,
        params,
        headers: &headers,
        body: &body,
    };
    let run = async {
        if route == Route::Composite && call.major_version() >= collections::MIN_VERSION {
            composite::run(&app, &call).await
        } else {
            handle(&app, &route, &call)
        }
    };
    let resp = run_with_fault(&app, fault, token.as_deref(), run).await;
    let header = app.org().usage.header_value();
    with_limit_header(resp, &header)
}

fn is_deactivation(directory: &crate::users::Directory, id: &str, body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body).is_ok_and(|record| deactivates(directory, id, &record))
}

/// Whether `record` sets `IsActive` false on the active user `id`.
fn deactivates(directory: &crate::users::Directory, id: &str, record: &Value) -> bool {
    let wants_inactive = record
        .as_object()
        .and_then(|o| {
            o.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("IsActive"))
                .map(|(_, v)| v == &Value::Bool(false))
        })
        .unwrap_or(false);
    wants_inactive && directory.get(id).is_some_and(|u| u.is_active())
}

/// Whether a collection update deactivates any of its records.
fn collection_deactivates(directory: &crate::users::Directory, body: &[u8]) -> bool {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    let records = value.get("records").and_then(Value::as_array);
    records.into_iter().flatten().any(|record| {
        let id = record.get("id").or_else(|| record.get("Id"));
        id.and_then(Value::as_str)
            .is_some_and(|id| deactivates(directory, id, record))
    })
}

fn with_limit_header(mut resp: Response, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut()
            .insert(HeaderName::from_static(LIMIT_INFO_HEADER_LOWER), v);
    }
    resp
}

/// Answers one routed request, without authentication, counting or faults (the caller has done
/// those). A composite request is answered by [`composite::run`], never here.
pub fn handle(app: &AppState, route: &Route, call: &Call<'_>) -> Response {
    let result = match route {
        Route::Resources => Ok(resources(&call.version)),
        Route::DescribeGlobal => Ok(sobjects::describe_global(&call.version)),
        Route::SObjectInfo => Ok(sobjects::sobject_info(app, &call.version)),
        Route::Describe => Ok(sobjects::describe(&call.version)),
        Route::Create => sobjects::create(app, call),
        Route::Get(id) => sobjects::get(app, call, id),
        Route::Update(id) => sobjects::update(app, call, id),
        Route::GetByExternalId(field, value) => {
            sobjects::get_by_external_id(app, call, field, value)
        }
        Route::Upsert(field, value) => sobjects::upsert(app, call, field, value),
        Route::MethodNotAllowed {
            method, allowed, ..
        } => Err(ApiError::method_not_allowed(method, allowed)),
        Route::Query => query::query(app, call),
        Route::QueryMore(locator) => query::query_more(app, call, locator),
        Route::Limits => Ok(json_response(
            StatusCode::OK,
            &app.org().usage.limits_body(),
        )),
        Route::CollectionsCreate
        | Route::CollectionsUpdate
        | Route::CollectionsDelete
        | Route::CollectionsRetrieve
        | Route::Composite
            if call.major_version() < collections::MIN_VERSION =>
        {
            Err(ApiError::not_found())
        }
        Route::CollectionsCreate => collections::create(app, call),
        Route::CollectionsUpdate => collections::update(app, call),
        Route::CollectionsDelete => collections::delete(app, call),
        Route::CollectionsRetrieve => collections::retrieve(app, call),
        Route::Composite => Err(composite::nested()),
        Route::NotFound => Err(ApiError::not_found()),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

fn resources(version: &str) -> Response {
    let base = format!("/services/data/{version}");
    json_response(
        StatusCode::OK,
        &json!({
            "sobjects": format!("{base}/sobjects"),
            "query": format!("{base}/query"),
            "queryAll": format!("{base}/queryAll"),
            "limits": format!("{base}/limits"),
        }),
    )
}
