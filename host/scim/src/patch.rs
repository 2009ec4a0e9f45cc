//! PATCH (RFC 7644 §3.5.2): parsing `PatchOp` requests and applying them to a resource's JSON.
//!
//! Operations are applied in order to a copy; the caller re-validates the result and writes it
//! only if every operation succeeded. Tolerated client quirks: capitalised ops (`Replace`),
//! string booleans (`"False"`), path-less values whose keys are paths (`"name.givenName"`,
//! extension-URN-prefixed names), path-less values that repeat a read-only attribute unchanged
//! (Okta's group rename carries the group's `id`), `remove` with a value list (Entra's member
//! removal), the enterprise `manager` as a bare id, and `add`/`replace` of a sub-attribute
//! through an `eq` value filter that matches nothing, which creates the element
//! (`addresses[type eq "work"].locality`).
//!
//! `noTarget` (400) is returned where RFC 7644 requires it: a `remove` without a path
//! (§3.5.2.2) and a `replace` whose value filter matches nothing (§3.5.2.3), except the
//! sub-attribute case above (see [`creatable`]). A filtered `add` that cannot create the
//! element it names is `noTarget` too (RFC 7644 §3.12: the filter yields no match).
//!
//! The work per request is bounded: at most [`MAX_OPERATIONS`] operations carrying at most
//! [`MAX_VALUES`] values in all, and applying them is linear in the size of the resource and
//! of the values (elements of a multi-valued attribute are found through a hash index, not by
//! scanning the list for each value).

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::error::{ScimError, ScimResult, ScimType};
use crate::filter::{self, AttrPath, CompareOp, Filter, PatchPath};
use crate::schema::{self, AttrDef, ResourceKind, PATCH_OP_URN};

/// The most operations one PATCH request may carry.
pub const MAX_OPERATIONS: usize = 1_000;

/// The most values one PATCH request may carry, over all its operations: each element of an
/// array value counts, and each attribute of a path-less or extension object value.
pub const MAX_VALUES: usize = 10_000;

/// The three PATCH operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// `add`
    Add,
    /// `replace`
    Replace,
    /// `remove`
    Remove,
}

/// One parsed operation.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOp {
    /// What to do.
    pub op: OpKind,
    /// Where (absent: the resource itself).
    pub path: Option<PatchPath>,
    /// The value (absent for most removes).
    pub value: Option<Value>,
}

/// Parses a `PatchOp` message body.
pub fn parse_request(body: &Value) -> ScimResult<Vec<PatchOp>> {
    let obj = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("a PatchOp must be a JSON object"))?;
    if let Some(schemas) = filter::get_ci(body, "schemas") {
        let ok = schemas
            .as_array()
            .is_some_and(|a| a.iter().any(|s| s.as_str() == Some(PATCH_OP_URN)));
        if !ok {
            return Err(ScimError::invalid_value(format!(
                "\"schemas\" must be [\"{PATCH_OP_URN}\"]"
            )));
        }
    }
    let ops = obj
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Operations"))
        .and_then(|(_, v)| v.as_array())
        .ok_or_else(|| ScimError::invalid_syntax("\"Operations\" must be an array"))?;
    if ops.is_empty() {
        return Err(ScimError::invalid_value("\"Operations\" is empty"));
    }
    if ops.len() > MAX_OPERATIONS {
        return Err(ScimError::bad_request(
            ScimType::TooMany,
            format!(
                "the request has {} operations; at most {MAX_OPERATIONS} are accepted in one \
                 PATCH: split it into several requests",
                ops.len()
            ),
        ));
    }
    let parsed: Vec<PatchOp> = ops.iter().map(parse_op).collect::<ScimResult<_>>()?;
    let values: usize = parsed
        .iter()
        .map(|op| op.value.as_ref().map_or(0, value_count))
        .sum();
    if values > MAX_VALUES {
        return Err(ScimError::bad_request(
            ScimType::TooMany,
            format!(
                "the request carries {values} values; at most {MAX_VALUES} are accepted in one \
                 PATCH: split it into several requests"
            ),
        ));
    }
    Ok(parsed)
}

/// How many values an operation's value carries: the elements of an array, the values of an
/// object's attributes (counted the same way), one for anything else.
fn value_count(v: &Value) -> usize {
    match v {
        Value::Array(items) => items.len().max(1),
        Value::Object(map) => map.values().map(value_count).sum::<usize>().max(1),
        _ => 1,
    }
}

fn parse_op(v: &Value) -> ScimResult<PatchOp> {
    let op = filter::get_ci(v, "op")
        .and_then(Value::as_str)
        .ok_or_else(|| ScimError::invalid_syntax("each operation needs an \"op\""))?;
    let op = match op.to_ascii_lowercase().as_str() {
        "add" => OpKind::Add,
        "replace" => OpKind::Replace,
        "remove" => OpKind::Remove,
        other => {
            return Err(ScimError::invalid_syntax(format!(
                "unknown PATCH op \"{other}\""
            )))
        }
    };
    let path = match filter::get_ci(v, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) if p.trim().is_empty() => None,
        Some(Value::String(p)) => Some(filter::parse_patch_path(p.trim())?),
        Some(_) => return Err(ScimError::invalid_path("\"path\" must be a string")),
    };
    let value = filter::get_ci(v, "value").cloned();
    if op != OpKind::Remove && value.is_none() {
        return Err(ScimError::invalid_value("add/replace need a \"value\""));
    }
    if op == OpKind::Remove && path.is_none() {
        return Err(ScimError::no_target("remove needs a \"path\""));
    }
    Ok(PatchOp { op, path, value })
}

/// Applies `ops` in order to `resource` (JSON of a `kind` resource).
pub fn apply(kind: ResourceKind, resource: &mut Value, ops: &[PatchOp]) -> ScimResult<()> {
    for op in ops {
        match &op.path {
            None => apply_pathless(kind, resource, op.op, op.value.clone().unwrap_or_default())?,
            Some(p) => apply_path(kind, resource, op.op, p, op.value.clone())?,
        }
    }
    Ok(())
}

fn apply_pathless(kind: ResourceKind, res: &mut Value, op: OpKind, value: Value) -> ScimResult<()> {
    let Value::Object(map) = value else {
        return Err(ScimError::invalid_value(
            "a PATCH operation without a path needs an object value",
        ));
    };
    for (k, v) in map {
        if k.eq_ignore_ascii_case("schemas") || repeats_read_only(kind, res, &k, &v) {
            continue;
        }
        let path = filter::parse_patch_path(&k)?;
        apply_path(kind, res, op, &path, Some(v))?;
    }
    Ok(())
}

/// Whether `key` of a path-less value names a read-only top-level attribute and `value` is the
/// one the resource already has: Okta renames a group with
/// `{"op":"replace","value":{"id":"<its id>","displayName":"..."}}`. Such a key changes nothing
/// and is skipped; a read-only attribute given another value still fails with `mutability`.
fn repeats_read_only(kind: ResourceKind, res: &Value, key: &str, value: &Value) -> bool {
    schema::top_attr(kind, key).is_some_and(|d| {
        d.mutability == "readOnly" && filter::get_ci(res, d.name).is_some_and(|have| have == value)
    })
}

fn ensure_object(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    v.as_object_mut().expect("just made an object")
}

/// The canonical key under which `name` lives in `map` (the existing spelling, else `canonical`).
fn key_in(map: &Map<String, Value>, canonical: &str) -> String {
    map.keys()
        .find(|k| k.eq_ignore_ascii_case(canonical))
        .cloned()
        .unwrap_or_else(|| canonical.to_string())
}

fn apply_path(
    kind: ResourceKind,
    res: &mut Value,
    op: OpKind,
    path: &PatchPath,
    value: Option<Value>,
) -> ScimResult<()> {
    let attr = &path.attr;
    // A whole extension: treat its keys as attribute paths of that extension.
    if attr.name.is_empty() {
        let urn = attr.urn.clone().unwrap_or_default();
        return match op {
            OpKind::Remove => {
                if let Some(m) = res.as_object_mut() {
                    let k = key_in(m, &urn);
                    m.remove(&k);
                }
                Ok(())
            }
            _ => {
                let Some(Value::Object(map)) = value else {
                    return Err(ScimError::invalid_value(format!(
                        "the value for \"{urn}\" must be an object"
                    )));
                };
                for (k, v) in map {
                    // Some clients repeat the extension's `schemas` inside its object.
                    if k.eq_ignore_ascii_case("schemas") {
                        continue;
                    }
                    let p = filter::parse_patch_path(&format!("{urn}:{k}"))?;
                    apply_path(kind, res, op, &p, Some(v))?;
                }
                Ok(())
            }
        };
    }

    let top_def = schema::lookup(kind, attr.urn.as_deref(), &attr.name, None)
        .ok_or_else(|| ScimError::invalid_path(format!("unknown attribute \"{attr}\"")))?;
    if top_def.mutability == "readOnly" {
        return Err(ScimError::mutability(format!(
            "\"{}\" is read-only",
            top_def.name
        )));
    }
    let removes_all = op == OpKind::Remove
        && attr.sub.is_none()
        && path.filter.is_none()
        && path.sub_after_filter.is_none();
    if removes_all && top_def.required {
        // RFC 7644 §3.5.2.2: removing a required attribute is a `mutability` error.
        return Err(ScimError::mutability(format!(
            "\"{}\" is required and cannot be removed; replace it instead",
            top_def.name
        )));
    }
    let sub_name = attr.sub.as_deref().or(path.sub_after_filter.as_deref());
    let sub_def = match sub_name {
        Some(s) => Some(
            top_def
                .sub
                .iter()
                .find(|d| d.name.eq_ignore_ascii_case(s))
                .ok_or_else(|| {
                    ScimError::invalid_path(format!(
                        "unknown sub-attribute \"{s}\" of \"{}\"",
                        top_def.name
                    ))
                })?,
        ),
        None => None,
    };
    // Coerce the value (canonical keys, string booleans) for the targeted definition.
    let mut value = value;
    if let Some(v) = value.as_mut() {
        match sub_def {
            Some(d) => schema::canonicalize_value(d, v),
            None if top_def.multi && path.filter.is_some() => {
                // A value replacing/merging into one element.
                schema::canonicalize_value(
                    &AttrDef {
                        multi: false,
                        ..*top_def
                    },
                    v,
                )
            }
            None => schema::canonicalize_value(top_def, v),
        }
    }
    // `null` as an add/replace value clears the attribute.
    if matches!(value, Some(Value::Null)) && op != OpKind::Remove {
        let p = PatchPath {
            attr: attr.clone(),
            filter: path.filter.clone(),
            sub_after_filter: path.sub_after_filter.clone(),
        };
        return apply_path(kind, res, OpKind::Remove, &p, None);
    }

    // The object holding the attribute: the resource or its extension object.
    let root = ensure_object(res);
    let container: &mut Map<String, Value> = match &attr.urn {
        Some(urn) => {
            let k = key_in(root, urn);
            if op == OpKind::Remove && !root.contains_key(&k) {
                return Ok(());
            }
            ensure_object(root.entry(k).or_insert(Value::Null))
        }
        None => root,
    };
    let key = key_in(container, top_def.name);

    match (&path.filter, top_def.multi) {
        (Some(f), _) => {
            apply_filtered(kind, container, &key, top_def, attr, f, sub_def, op, value)?
        }
        (None, true) => apply_multi(container, &key, sub_def, op, value)?,
        (None, false) => apply_single(container, &key, top_def, sub_def, op, value)?,
    }
    Ok(())
}

fn apply_single(
    container: &mut Map<String, Value>,
    key: &str,
    def: &AttrDef,
    sub: Option<&AttrDef>,
    op: OpKind,
    value: Option<Value>,
) -> ScimResult<()> {
    match (sub, op) {
        (None, OpKind::Remove) => {
            container.remove(key);
        }
        (None, _) => {
            let value = match value.unwrap_or_default() {
                // Microsoft Entra ID replaces the enterprise manager with the bare id string.
                Value::String(id) if def.name == "manager" => serde_json::json!({ "value": id }),
                value => value,
            };
            if def.ty == schema::AttrType::Complex {
                // add/replace on a complex attribute merge the given sub-attributes.
                let Value::Object(new) = value else {
                    return Err(ScimError::invalid_value(format!(
                        "\"{}\" needs an object value",
                        def.name
                    )));
                };
                let target = ensure_object(container.entry(key).or_insert(Value::Null));
                for (k, v) in new {
                    if v.is_null() {
                        target.remove(&k);
                    } else {
                        target.insert(k, v);
                    }
                }
            } else {
                container.insert(key.to_string(), value);
            }
        }
        (Some(s), OpKind::Remove) => {
            if let Some(Value::Object(o)) = container.get_mut(key) {
                let k = key_in(o, s.name);
                o.remove(&k);
                if o.is_empty() {
                    container.remove(key);
                }
            }
        }
        (Some(s), _) => {
            let target = ensure_object(container.entry(key).or_insert(Value::Null));
            target.insert(key_in(target, s.name), value.unwrap_or_default());
        }
    }
    Ok(())
}

/// What identifies an element of a multi-valued attribute: its `value` when it has one, else
/// the whole element. Two elements are the same exactly when their identities are equal
/// (objects serialise with sorted keys, so equal values serialise equally).
fn identity(v: &Value) -> String {
    match filter::get_ci(v, "value") {
        Some(x) => format!("v{x}"),
        None => format!("e{v}"),
    }
}

/// The position of the first element of each identity in a list of elements.
fn first_positions(items: &[Value]) -> HashMap<String, usize> {
    let mut positions = HashMap::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        positions.entry(identity(item)).or_insert(i);
    }
    positions
}

fn as_list(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        other => vec![other],
    }
}

/// Keeps at most one `primary: true`, preferring the last one set.
fn fix_primary(items: &mut [Value]) {
    let Some(last) = items
        .iter()
        .rposition(|v| filter::get_ci(v, "primary") == Some(&Value::Bool(true)))
    else {
        return;
    };
    for (i, item) in items.iter_mut().enumerate() {
        if i != last {
            if let Some(o) = item.as_object_mut() {
                if o.get("primary") == Some(&Value::Bool(true)) {
                    o.insert("primary".into(), Value::Bool(false));
                }
            }
        }
    }
}

fn finish_multi(container: &mut Map<String, Value>, key: &str, mut items: Vec<Value>) {
    if items.is_empty() {
        container.remove(key);
    } else {
        fix_primary(&mut items);
        container.insert(key.to_string(), Value::Array(items));
    }
}

fn take_items(container: &mut Map<String, Value>, key: &str) -> Vec<Value> {
    match container.remove(key) {
        Some(Value::Array(a)) => a,
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![other],
    }
}

fn apply_multi(
    container: &mut Map<String, Value>,
    key: &str,
    sub: Option<&AttrDef>,
    op: OpKind,
    value: Option<Value>,
) -> ScimResult<()> {
    let mut items = take_items(container, key);
    match (sub, op) {
        (None, OpKind::Add) => {
            let mut positions = first_positions(&items);
            for v in as_list(value.unwrap_or_default()) {
                match positions.get(&identity(&v)) {
                    Some(&pos) => items[pos] = v,
                    None => {
                        positions.insert(identity(&v), items.len());
                        items.push(v);
                    }
                }
            }
        }
        (None, OpKind::Replace) => items = as_list(value.unwrap_or_default()),
        (None, OpKind::Remove) => match value {
            // Entra ID removes members by listing them in `value`.
            Some(v) => {
                let gone: HashSet<String> = as_list(v).iter().map(identity).collect();
                items.retain(|e| !gone.contains(&identity(e)));
            }
            None => items.clear(),
        },
        (Some(s), OpKind::Remove) => {
            for item in &mut items {
                if let Some(o) = item.as_object_mut() {
                    let k = key_in(o, s.name);
                    o.remove(&k);
                }
            }
        }
        (Some(s), _) => {
            let v = value.unwrap_or_default();
            if items.is_empty() {
                items.push(Value::Object(Map::new()));
            }
            for item in &mut items {
                let o = ensure_object(item);
                o.insert(key_in(o, s.name), v.clone());
            }
        }
    }
    finish_multi(container, key, items);
    Ok(())
}

/// Whether an `add`/`replace` through an `eq` value filter that matches no element creates
/// the element the filter describes (`addresses[type eq "work"].locality` on a user without a
/// work address becomes `{"type": "work", "locality": ...}`).
///
/// `add` always does: RFC 7644 §3.5.2.1 adds a value that does not exist.
///
/// `replace` does when a sub-attribute is named. RFC 7644 §3.5.2.3 asks for `noTarget` when a
/// value filter matches nothing, but Microsoft Entra ID does not tell add from replace by what
/// the target holds: Microsoft's answer to why Entra sends `Add` for an existing email is that
/// it "could be either, and the behavior is not always consistent, so you should support both
/// in your SCIM server code" (Microsoft Q&A, "Azure AD SCIM Provisioning - User attribute
/// updates"), and its tutorial updates `emails[type eq "work"].value` with `Replace`. A failed
/// replace would fail the whole Entra update (every operation of the request is rejected), so
/// Entra's rule wins here. A `replace` of whole elements (no sub-attribute) that match nothing
/// keeps the RFC's `noTarget`: there is nothing to say which values the client meant.
fn creatable(op: OpKind, names_sub_attribute: bool) -> bool {
    match op {
        OpKind::Add => true,
        OpKind::Replace => names_sub_attribute,
        OpKind::Remove => false,
    }
}

/// The attributes implied by a filter made only of `eq` comparisons joined by `and`.
fn eq_template(f: &Filter, out: &mut Map<String, Value>) -> bool {
    match f {
        Filter::And(a, b) => eq_template(a, out) && eq_template(b, out),
        Filter::Compare(p, CompareOp::Eq, v) if p.sub.is_none() && p.urn.is_none() => {
            out.insert(p.name.clone(), v.clone());
            true
        }
        _ => false,
    }
}

#[allow(clippy::too_many_arguments)]
fn apply_filtered(
    kind: ResourceKind,
    container: &mut Map<String, Value>,
    key: &str,
    def: &AttrDef,
    attr: &AttrPath,
    f: &Filter,
    sub: Option<&AttrDef>,
    op: OpKind,
    value: Option<Value>,
) -> ScimResult<()> {
    if !def.multi {
        return Err(ScimError::invalid_path(format!(
            "\"{}\" is not multi-valued; a value filter does not apply",
            def.name
        )));
    }
    let mut items = take_items(container, key);
    let hits: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, e)| filter::element_matches(f, kind, attr, e))
        .map(|(i, _)| i)
        .collect();

    if hits.is_empty() {
        if op == OpKind::Remove {
            // RFC 7644 §3.5.2.2 names `noTarget` for a remove only when the path is missing;
            // removing values that are not there leaves the resource as the client wants it.
            // Okta removes a member with `members[value eq "<id>"]` and must not fail when the
            // member is already gone (deleted users leave their groups).
            finish_multi(container, key, items);
            return Ok(());
        }
        let mut template = Map::new();
        if !(eq_template(f, &mut template) && creatable(op, sub.is_some())) {
            return Err(ScimError::no_target(format!(
                "no value of \"{}\" matches the filter {}; a {} through a value filter \
                 creates a value only for an `eq` filter{}",
                def.name,
                attr,
                if op == OpKind::Add { "add" } else { "replace" },
                if op == OpKind::Add {
                    ""
                } else {
                    " and a named sub-attribute"
                }
            )));
        }
        let mut elem = Value::Object(template);
        schema::canonicalize_value(
            &AttrDef {
                multi: false,
                ..*def
            },
            &mut elem,
        );
        let o = ensure_object(&mut elem);
        match (sub, value) {
            (Some(s), Some(v)) => {
                o.insert(s.name.to_string(), v);
            }
            (None, Some(Value::Object(v))) => o.extend(v),
            _ => {
                return Err(ScimError::invalid_value(
                    "the value must be an object when no sub-attribute is named",
                ))
            }
        }
        items.push(elem);
        finish_multi(container, key, items);
        return Ok(());
    }

    match (sub, op) {
        (None, OpKind::Remove) => {
            let mut hit = vec![false; items.len()];
            for &i in &hits {
                hit[i] = true;
            }
            let mut i = 0;
            items.retain(|_| {
                let keep = !hit[i];
                i += 1;
                keep
            });
        }
        (None, OpKind::Replace) => {
            let v = value.unwrap_or_default();
            if !v.is_object() {
                return Err(ScimError::invalid_value(
                    "the value must be an object when no sub-attribute is named",
                ));
            }
            for &i in &hits {
                items[i] = v.clone();
            }
        }
        (None, OpKind::Add) => {
            let Some(Value::Object(v)) = value else {
                return Err(ScimError::invalid_value(
                    "the value must be an object when no sub-attribute is named",
                ));
            };
            for &i in &hits {
                ensure_object(&mut items[i]).extend(v.clone());
            }
        }
        (Some(s), OpKind::Remove) => {
            for &i in &hits {
                let o = ensure_object(&mut items[i]);
                let k = key_in(o, s.name);
                o.remove(&k);
            }
        }
        (Some(s), _) => {
            let v = value.unwrap_or_default();
            for &i in &hits {
                let o = ensure_object(&mut items[i]);
                o.insert(key_in(o, s.name), v.clone());
            }
        }
    }
    finish_multi(container, key, items);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;
    use serde_json::json;

    fn run(res: Value, body: Value) -> ScimResult<Value> {
        let mut res = res;
        apply(ResourceKind::User, &mut res, &parse_request(&body)?)?;
        Ok(res)
    }

    #[test]
    fn entra_quirks() {
        let r = run(
            json!({"userName": "a", "active": true}),
            json!({"schemas": [PATCH_OP_URN], "Operations": [
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "a@x.com"},
                {"op": "Add", "value": {"name.givenName": "Ann", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "R&D"}}
            ]}),
        )
        .unwrap();
        assert_eq!(r["active"], json!(false));
        assert_eq!(r["emails"], json!([{"type": "work", "value": "a@x.com"}]));
        assert_eq!(r["name"]["givenName"], json!("Ann"));
        assert_eq!(r[schema::ENTERPRISE_URN]["department"], json!("R&D"));
    }

    fn no_target(r: ScimResult<Value>) -> bool {
        matches!(r, Err(e) if e.scim_type == Some(ScimType::NoTarget)
            && e.status == axum::http::StatusCode::BAD_REQUEST)
    }

    fn run_group(res: Value, body: Value) -> ScimResult<Value> {
        let mut res = res;
        apply(ResourceKind::Group, &mut res, &parse_request(&body)?)?;
        Ok(res)
    }

    fn group() -> Value {
        json!({"id": "g1", "displayName": "Sales", "members": [
            {"value": "u1", "display": "Ann"}, {"value": "u2"}, {"value": "u3"}]})
    }

    fn member_ids(g: &Value) -> Vec<&str> {
        g["members"]
            .as_array()
            .map(|m| m.iter().map(|m| m["value"].as_str().unwrap()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn ops_are_case_insensitive_and_unknown_ops_are_refused() {
        for op in ["Add", "ADD", "add"] {
            let r = run(
                json!({"userName": "a"}),
                json!({"Operations": [{"op": op, "path": "title", "value": "Boss"}]}),
            )
            .unwrap();
            assert_eq!(r["title"], json!("Boss"), "{op}");
        }
        let r = run(
            json!({"userName": "a", "title": "Boss"}),
            json!({"Operations": [{"op": "Remove", "path": "title"},
                                  {"op": "Replace", "path": "nickName", "value": "Al"}]}),
        )
        .unwrap();
        assert!(r.get("title").is_none());
        assert_eq!(r["nickName"], json!("Al"));
        let e = parse_request(&json!({"Operations": [{"op": "Move", "path": "title"}]}));
        assert!(
            matches!(e, Err(e) if e.scim_type == Some(ScimType::InvalidSyntax)
            && e.detail.contains("\"move\""))
        );
    }

    #[test]
    fn string_booleans_with_and_without_a_path() {
        for body in [
            json!({"Operations": [{"op": "Replace", "path": "active", "value": "False"}]}),
            json!({"Operations": [{"op": "Replace", "value": {"active": "False"}}]}),
            json!({"Operations": [{"op": "replace", "value": {"active": false}}]}),
        ] {
            let r = run(json!({"userName": "a", "active": true}), body.clone()).unwrap();
            assert_eq!(r["active"], json!(false), "{body}");
        }
        let r = run(
            json!({"userName": "a", "emails": [{"value": "a@x", "primary": false}]}),
            json!({"Operations": [{"op": "replace", "path": "emails[value eq \"a@x\"].primary",
                                   "value": "True"}]}),
        )
        .unwrap();
        assert_eq!(r["emails"][0]["primary"], json!(true));
    }

    #[test]
    fn entra_removes_only_the_listed_members() {
        let r = run_group(
            group(),
            json!({"schemas": [PATCH_OP_URN], "Operations": [{"op": "Remove", "path": "members",
                "value": [{"$ref": null, "value": "u1"}, {"value": "u3"}]}]}),
        )
        .unwrap();
        assert_eq!(member_ids(&r), ["u2"]);
        // Without a value list, a remove clears the attribute.
        let r = run_group(
            group(),
            json!({"Operations": [{"op": "remove", "path": "members"}]}),
        )
        .unwrap();
        assert!(r.get("members").is_none());
    }

    #[test]
    fn okta_removes_a_member_by_filter_and_tolerates_one_already_gone() {
        let body = |id: &str| {
            json!({"schemas": [PATCH_OP_URN], "Operations": [
                {"op": "remove", "path": format!("members[value eq \"{id}\"]")}]})
        };
        let r = run_group(group(), body("u2")).unwrap();
        assert_eq!(member_ids(&r), ["u1", "u3"]);
        let again = run_group(r.clone(), body("u2")).unwrap();
        assert_eq!(again, r);
    }

    #[test]
    fn okta_adds_members_and_renames_with_its_id_in_the_value() {
        let r = run_group(
            group(),
            json!({"Operations": [{"op": "add", "path": "members", "value": [
                {"value": "u4", "display": "Dan"}, {"value": "u1"}]}]}),
        )
        .unwrap();
        assert_eq!(member_ids(&r), ["u1", "u2", "u3", "u4"]);
        let r = run_group(
            group(),
            json!({"Operations": [{"op": "replace",
                "value": {"id": "g1", "displayName": "Sales EMEA"}}]}),
        )
        .unwrap();
        assert_eq!(r["displayName"], json!("Sales EMEA"));
        // Another id is still a change of a read-only attribute.
        let e = run_group(
            group(),
            json!({"Operations": [{"op": "replace", "value": {"id": "g2"}}]}),
        )
        .unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::Mutability));
    }

    #[test]
    fn entra_adds_a_work_address_locality_when_there_is_none() {
        let home = json!({"type": "home", "locality": "Home Town", "primary": false});
        let r = run(
            json!({"userName": "a", "addresses": [home.clone()]}),
            json!({"Operations": [{"op": "Add",
                "path": "addresses[type eq \"work\"].locality", "value": "Redmond"}]}),
        )
        .unwrap();
        assert_eq!(
            r["addresses"],
            json!([home, {"type": "work", "locality": "Redmond"}])
        );
        // Entra also sends it as Replace when no work address exists (see `creatable`).
        let r = run(
            json!({"userName": "a"}),
            json!({"Operations": [{"op": "Replace",
                "path": "addresses[type eq \"work\"].locality", "value": "Redmond"}]}),
        )
        .unwrap();
        assert_eq!(
            r["addresses"],
            json!([{"type": "work", "locality": "Redmond"}])
        );
    }

    #[test]
    fn replace_through_a_filter_changes_the_match_and_keeps_its_type() {
        let r = run(
            json!({"userName": "a", "addresses": [
                {"type": "work", "locality": "Old", "postalCode": "1"},
                {"type": "home", "locality": "Home"}]}),
            json!({"Operations": [{"op": "Replace",
                "path": "addresses[type eq \"work\"].locality", "value": "New"}]}),
        )
        .unwrap();
        assert_eq!(
            r["addresses"],
            json!([{"type": "work", "locality": "New", "postalCode": "1"},
                   {"type": "home", "locality": "Home"}])
        );
    }

    #[test]
    fn no_target_exactly_where_rfc_7644_requires_it() {
        let user = json!({"userName": "a", "emails": [{"type": "home", "value": "h@x"}]});
        let patch = |op: Value| run(user.clone(), json!({"Operations": [op]}));
        // §3.5.2.2: a remove without a path.
        assert!(no_target(patch(json!({"op": "remove"}))));
        assert!(no_target(patch(json!({"op": "Remove", "path": ""}))));
        // §3.5.2.3: a replace of whole values through a filter that matches nothing.
        assert!(no_target(patch(json!({"op": "replace",
            "path": "emails[type eq \"work\"]", "value": {"value": "w@x"}}))));
        // ... and any add/replace whose filter matches nothing and says nothing to create.
        assert!(no_target(patch(json!({"op": "add",
            "path": "emails[value co \"@y\"].type", "value": "work"}))));
        assert!(no_target(patch(json!({"op": "replace",
            "path": "emails[type eq \"work\" or type eq \"other\"].value", "value": "w@x"}))));
        // Not for a remove whose filter matches nothing, nor for a replace of an absent
        // attribute without a filter (it is an add, §3.5.2.3).
        assert_eq!(
            patch(json!({"op": "remove", "path": "emails[type eq \"work\"]"})).unwrap(),
            user
        );
        let r = patch(json!({"op": "replace", "path": "title", "value": "T"})).unwrap();
        assert_eq!(r["title"], json!("T"));
    }

    #[test]
    fn a_required_attribute_cannot_be_removed() {
        let e = run(
            json!({"userName": "a"}),
            json!({"Operations": [{"op": "remove", "path": "userName"}]}),
        )
        .unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::Mutability));
        let e = run_group(
            group(),
            json!({"Operations": [{"op": "Remove", "path": "displayName"}]}),
        )
        .unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::Mutability));
    }

    #[test]
    fn entra_manager_by_replace_with_an_id_and_by_add_with_an_object() {
        let path = format!("{}:manager", schema::ENTERPRISE_URN);
        let r = run(
            json!({"userName": "a"}),
            json!({"Operations": [{"op": "Replace", "path": path, "value": "m-1"}]}),
        )
        .unwrap();
        assert_eq!(
            r[schema::ENTERPRISE_URN]["manager"],
            json!({"value": "m-1"})
        );
        let r = run(
            r,
            json!({"Operations": [{"op": "Add", "path": path, "value": {"value": "m-2"}}]}),
        )
        .unwrap();
        assert_eq!(
            r[schema::ENTERPRISE_URN]["manager"],
            json!({"value": "m-2"})
        );
        let r = run(r, json!({"Operations": [{"op": "Remove", "path": path}]})).unwrap();
        assert_eq!(r[schema::ENTERPRISE_URN], json!({}));
    }

    #[test]
    fn entra_sends_the_manager_as_a_bare_id() {
        let manager = format!("{}:manager", schema::ENTERPRISE_URN);
        for body in [
            json!({"Operations": [{"op": "Add", "path": manager, "value": "26118915-6090"},
                                  {"op": "Replace", "path": "displayName", "value": "Ann"}]}),
            json!({"Operations": [{"op": "Replace", "value": {(manager.clone()): "26118915-6090"}},
                                  {"op": "Replace", "path": "displayName", "value": "Ann"}]}),
        ] {
            let r = run(json!({"userName": "a"}), body).unwrap();
            assert_eq!(
                r[schema::ENTERPRISE_URN]["manager"],
                json!({"value": "26118915-6090"})
            );
            // The other operations of the same request are applied too.
            assert_eq!(r["displayName"], json!("Ann"));
        }
    }

    #[test]
    fn an_extension_object_may_repeat_its_schemas() {
        let r = run(
            json!({"userName": "a"}),
            json!({"Operations": [{"op": "add", "path": schema::ENTERPRISE_URN, "value": {
                "schemas": [schema::ENTERPRISE_URN], "department": "R&D"}}]}),
        )
        .unwrap();
        assert_eq!(r[schema::ENTERPRISE_URN]["department"], json!("R&D"));
        assert!(r[schema::ENTERPRISE_URN].get("schemas").is_none());
    }

    #[test]
    fn filtered_replace_and_remove() {
        let base = json!({"userName": "a", "emails": [
            {"value": "w@x.com", "type": "work"}, {"value": "h@x.com", "type": "home"}]});
        let r = run(
            base.clone(),
            json!({"Operations": [
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@x.com"}]}),
        )
        .unwrap();
        assert_eq!(r["emails"][0]["value"], json!("new@x.com"));
        let r = run(
            base.clone(),
            json!({"Operations": [
            {"op": "remove", "path": "emails[type eq \"home\"]"}]}),
        )
        .unwrap();
        assert_eq!(r["emails"].as_array().unwrap().len(), 1);
        // Removing what is not there changes nothing and is no error (RFC 7644 §3.5.2.2).
        let r = run(
            base.clone(),
            json!({"Operations": [
            {"op": "remove", "path": "emails[type eq \"other\"]"}]}),
        )
        .unwrap();
        assert_eq!(r, base);
    }

    #[test]
    fn many_values_merge_by_identity() {
        let base = json!({"userName": "a", "emails": [
            {"value": "0@x.com", "type": "work"}, {"value": "1@x.com", "type": "home"}]});
        // 5,000 values, 2 of which are already there and 1,000 given twice.
        let added: Vec<Value> = (0..5_000)
            .chain(0..1_000)
            .map(|i| json!({"value": format!("{i}@x.com"), "type": "other"}))
            .collect();
        let r = run(
            base.clone(),
            json!({"Operations": [{"op": "add", "path": "emails", "value": added}]}),
        )
        .unwrap();
        let emails = r["emails"].as_array().unwrap();
        assert_eq!(emails.len(), 5_000);
        // Existing elements are replaced in place; new ones keep their order.
        assert_eq!(emails[0], json!({"value": "0@x.com", "type": "other"}));
        assert_eq!(emails[1]["value"], json!("1@x.com"));
        assert_eq!(emails[4_999]["value"], json!("4999@x.com"));

        let gone: Vec<Value> = (0..4_990)
            .map(|i| json!({"value": format!("{i}@x.com")}))
            .collect();
        let r = run(
            r,
            json!({"Operations": [{"op": "remove", "path": "emails", "value": gone}]}),
        )
        .unwrap();
        let left: Vec<&str> = r["emails"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["value"].as_str().unwrap())
            .collect();
        assert_eq!(left.len(), 10);
        assert_eq!(left[0], "4990@x.com");

        // Elements without a value are the same only when equal as a whole.
        let r = run(
            json!({"userName": "a"}),
            json!({"Operations": [{"op": "add", "path": "addresses", "value": [
                {"locality": "A"}, {"locality": "B"}, {"locality": "A"}]}]}),
        )
        .unwrap();
        assert_eq!(
            r["addresses"],
            json!([{"locality": "A"}, {"locality": "B"}])
        );
    }

    #[test]
    fn work_per_request_is_bounded() {
        let op = json!({"op": "replace", "path": "title", "value": "x"});
        let ops = vec![op; MAX_OPERATIONS + 1];
        let e = parse_request(&json!({"Operations": ops})).unwrap_err();
        assert_eq!(e.scim_type, Some(crate::error::ScimType::TooMany));
        assert!(e.detail.contains("at most 1000"), "{}", e.detail);

        let values: Vec<Value> = (0..20_000)
            .map(|i| json!({"value": format!("{i}@x.com")}))
            .collect();
        let e = parse_request(&json!({"Operations": [
            {"op": "add", "value": {"emails": values}}]}))
        .unwrap_err();
        assert_eq!(e.scim_type, Some(crate::error::ScimType::TooMany));
        assert!(e.detail.contains("20000 values"), "{}", e.detail);

        let values: Vec<Value> = (0..MAX_VALUES).map(|i| json!(format!("{i}"))).collect();
        assert!(parse_request(&json!({"Operations": [
            {"op": "add", "path": "emails", "value": values}]}))
        .is_ok());
    }

    #[test]
    fn bad_paths() {
        for p in [
            "nosuch",
            "emails[type eq",
            "name.nosuch",
            "id",
            "meta.version",
        ] {
            let r = run(
                json!({"userName": "a"}),
                json!({"Operations": [{"op": "replace", "path": p, "value": "x"}]}),
            );
            let e = r.unwrap_err();
            assert!(
                matches!(
                    e.scim_type,
                    Some(crate::error::ScimType::InvalidPath | crate::error::ScimType::Mutability)
                ),
                "{p}: {e:?}"
            );
        }
    }
}
