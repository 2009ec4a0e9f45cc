//! `/Bulk` (RFC 7644 §3.7): operations run in order, each all-or-nothing, with `bulkId`
//! references (`"bulkId:qwerty"`) resolved to the ids of resources created earlier in the same
//! request, forward references deferred until their target exists, and `failOnErrors` stopping
//! the run after that many failures.

use std::collections::HashMap;

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use crate::backend::ScimBackend;
use crate::error::{ScimError, ScimResult};
use crate::filter;
use crate::kind::{Group, ScimResourceKind, User};
use crate::ops::{self, Ctx};
use crate::resource::ScimResource;
use crate::schema::{BULK_REQUEST_URN, BULK_RESPONSE_URN};

struct BulkOp {
    index: usize,
    method: String,
    bulk_id: Option<String>,
    path: String,
    data: Option<Value>,
    version: Option<String>,
}

fn parse(body: &Value, max_ops: usize) -> ScimResult<(Option<usize>, Vec<BulkOp>)> {
    if !body.is_object() {
        return Err(ScimError::invalid_syntax("a BulkRequest must be an object"));
    }
    let schemas_ok = filter::get_ci(body, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|s| s.as_str() == Some(BULK_REQUEST_URN)));
    if !schemas_ok {
        return Err(ScimError::invalid_value(format!(
            "\"schemas\" must be [\"{BULK_REQUEST_URN}\"]"
        )));
    }
    let fail_on_errors =
        match filter::get_ci(body, "failOnErrors") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_u64().filter(|n| *n > 0).ok_or_else(|| {
                ScimError::invalid_value("failOnErrors must be a positive integer")
            })? as usize),
        };
    let ops = filter::get_ci(body, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::invalid_syntax("\"Operations\" must be an array"))?;
    if ops.len() > max_ops {
        return Err(ScimError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            None,
            format!("at most {max_ops} operations per bulk request"),
        ));
    }
    let mut out = Vec::new();
    for (index, op) in ops.iter().enumerate() {
        let s = |k: &str| {
            filter::get_ci(op, k)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let method = s("method")
            .ok_or_else(|| ScimError::invalid_syntax(format!("operation {index}: missing method")))?
            .to_ascii_uppercase();
        let path = s("path")
            .ok_or_else(|| ScimError::invalid_syntax(format!("operation {index}: missing path")))?;
        let bulk_id = s("bulkId");
        if method == "POST" && bulk_id.is_none() {
            return Err(ScimError::invalid_value(format!(
                "operation {index}: POST needs a bulkId"
            )));
        }
        out.push(BulkOp {
            index,
            method,
            bulk_id,
            path,
            data: filter::get_ci(op, "data").cloned(),
            version: s("version"),
        });
    }
    Ok((fail_on_errors, out))
}

/// Collects `bulkId:x` references in a value.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix("bulkId:") {
                out.push(id.to_string());
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        Value::Object(o) => o.values().for_each(|x| refs(x, out)),
        _ => {}
    }
}

fn substitute(v: &mut Value, ids: &HashMap<String, String>) {
    match v {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix("bulkId:").and_then(|b| ids.get(b)) {
                *s = id.clone();
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| substitute(x, ids)),
        Value::Object(o) => o.values_mut().for_each(|x| substitute(x, ids)),
        _ => {}
    }
}

/// Result of one operation: status, location, version, created id.
struct Outcome {
    status: StatusCode,
    location: Option<String>,
    version: Option<String>,
    id: Option<String>,
}

async fn exec<B: ScimBackend>(b: &B, ctx: &Ctx, op: &BulkOp, path: &str) -> ScimResult<Outcome> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        [ep, rest @ ..] if *ep == User::KIND.endpoint() => {
            exec_on::<B, User>(b, ctx, op, path, rest).await
        }
        [ep, rest @ ..] if *ep == Group::KIND.endpoint() => {
            exec_on::<B, Group>(b, ctx, op, path, rest).await
        }
        _ => Err(unsupported(op, path)),
    }
}

fn unsupported(op: &BulkOp, path: &str) -> ScimError {
    ScimError::invalid_path(format!("unsupported bulk operation {} {path}", op.method))
}

/// Runs one operation on the endpoint of `K`; `rest` are the path segments after the endpoint.
async fn exec_on<B: ScimBackend, K: ScimResourceKind>(
    b: &B,
    ctx: &Ctx,
    op: &BulkOp,
    path: &str,
    rest: &[&str],
) -> ScimResult<Outcome> {
    let data = || {
        op.data
            .clone()
            .ok_or_else(|| ScimError::invalid_syntax("operation needs \"data\""))
    };
    let im = op.version.as_deref();
    let (r, status) = match (op.method.as_str(), rest) {
        ("POST", []) => (
            ops::create::<B, K>(b, ctx, data()?).await?,
            StatusCode::CREATED,
        ),
        ("PUT", [id]) => (
            ops::replace::<B, K>(b, ctx, id, data()?, im).await?,
            StatusCode::OK,
        ),
        ("PATCH", [id]) => (
            ops::patch::<B, K>(b, ctx, id, data()?, im).await?,
            StatusCode::OK,
        ),
        ("DELETE", [id]) => {
            ops::delete::<B, K>(b, ctx, id, im).await?;
            return Ok(Outcome {
                status: StatusCode::NO_CONTENT,
                location: Some(format!("{}/{}/{id}", ctx.base, K::KIND.endpoint())),
                version: None,
                id: None,
            });
        }
        _ => return Err(unsupported(op, path)),
    };
    Ok(Outcome {
        status,
        location: Some(format!("{}/{}/{}", ctx.base, K::KIND.endpoint(), r.id())),
        version: Some(r.meta().version.clone()),
        id: Some(r.id().to_string()),
    })
}

/// Runs a BulkRequest; returns the BulkResponse body.
pub async fn run<B: ScimBackend>(
    b: &B,
    ctx: &Ctx,
    body: Value,
    max_ops: usize,
) -> ScimResult<Value> {
    let (fail_on_errors, ops) = parse(&body, max_ops)?;
    let declared: Vec<String> = ops.iter().filter_map(|o| o.bulk_id.clone()).collect();
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut results: Vec<(usize, Value)> = Vec::new();
    let mut errors = 0usize;
    let mut pending: Vec<BulkOp> = ops;

    'passes: loop {
        let mut progressed = false;
        let mut deferred = Vec::new();
        for mut op in std::mem::take(&mut pending) {
            let mut wanted = Vec::new();
            if let Some(d) = &op.data {
                refs(d, &mut wanted);
            }
            refs(&Value::String(op.path.clone()), &mut wanted);
            for seg in op.path.split('/') {
                refs(&Value::String(seg.to_string()), &mut wanted);
            }
            let unresolved: Vec<&String> =
                wanted.iter().filter(|w| !ids.contains_key(*w)).collect();
            let outcome = if unresolved.is_empty() {
                if let Some(d) = op.data.as_mut() {
                    substitute(d, &ids);
                }
                let path = op
                    .path
                    .split('/')
                    .map(
                        |s| match s.strip_prefix("bulkId:").and_then(|b| ids.get(b)) {
                            Some(id) => id.clone(),
                            None => s.to_string(),
                        },
                    )
                    .collect::<Vec<_>>()
                    .join("/");
                exec(b, ctx, &op, &path).await
            } else if unresolved.iter().all(|u| declared.contains(u)) {
                deferred.push(op);
                continue;
            } else {
                Err(ScimError::new(
                    StatusCode::CONFLICT,
                    Some(crate::error::ScimType::InvalidValue),
                    format!("unknown bulkId reference \"{}\"", unresolved[0]),
                ))
            };
            progressed = true;
            let mut entry = Map::new();
            entry.insert("method".into(), json!(op.method));
            if let Some(bid) = &op.bulk_id {
                entry.insert("bulkId".into(), json!(bid));
            }
            match outcome {
                Ok(o) => {
                    if let (Some(bid), Some(id)) = (&op.bulk_id, &o.id) {
                        ids.insert(bid.clone(), id.clone());
                    }
                    if let Some(l) = o.location {
                        entry.insert("location".into(), json!(l));
                    }
                    if let Some(v) = o.version {
                        entry.insert("version".into(), json!(v));
                    }
                    entry.insert("status".into(), json!(o.status.as_u16().to_string()));
                }
                Err(e) => {
                    errors += 1;
                    entry.insert("status".into(), json!(e.status.as_u16().to_string()));
                    entry.insert("response".into(), e.to_json());
                }
            }
            results.push((op.index, Value::Object(entry)));
            if fail_on_errors.is_some_and(|n| errors >= n) {
                break 'passes;
            }
        }
        pending = deferred;
        if pending.is_empty() {
            break;
        }
        if !progressed {
            // Circular references: report every remaining operation.
            for op in std::mem::take(&mut pending) {
                let e = ScimError::new(
                    StatusCode::CONFLICT,
                    Some(crate::error::ScimType::InvalidValue),
                    "circular or unresolvable bulkId reference",
                );
                let mut entry =
                    json!({"method": op.method, "status": "409", "response": e.to_json()});
                if let Some(bid) = &op.bulk_id {
                    entry["bulkId"] = json!(bid);
                }
                results.push((op.index, entry));
            }
            break;
        }
    }
    results.sort_by_key(|(i, _)| *i);
    Ok(json!({
        "schemas": [BULK_RESPONSE_URN],
        "Operations": results.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
    }))
}
