//! Listing (RFC 7644 §3.4.2): query parameters / SearchRequest, sorting, pagination, attribute
//! projection and the `ListResponse` envelope.

use std::cmp::Ordering;

use serde_json::{json, Map, Value};

use crate::error::{ScimError, ScimResult};
use crate::filter::{self, AttrPath, Filter};
use crate::schema::{self, ResourceKind, LIST_RESPONSE_URN, SEARCH_REQUEST_URN};

/// A list/search request, from query parameters or a `SearchRequest` body.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Parsed filter.
    pub filter: Option<Filter>,
    /// 1-based index of the first result.
    pub start_index: usize,
    /// Page size (`None`: the configured default).
    pub count: Option<usize>,
    /// Sort attribute.
    pub sort_by: Option<AttrPath>,
    /// Whether to sort descending.
    pub descending: bool,
    /// Projection.
    pub projection: Projection,
}

/// `attributes` / `excludedAttributes` (RFC 7644 §3.9).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Projection {
    /// Only these attributes (plus those always returned).
    pub attributes: Vec<AttrPath>,
    /// All default attributes but these.
    pub excluded: Vec<AttrPath>,
}

fn parse_paths(list: &str) -> ScimResult<Vec<AttrPath>> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| AttrPath::parse(s).map_err(|e| ScimError::invalid_value(e.detail)))
        .collect()
}

impl Projection {
    /// Parses comma-separated `attributes` and `excludedAttributes` values.
    pub fn parse(attributes: Option<&str>, excluded: Option<&str>) -> ScimResult<Self> {
        Ok(Projection {
            attributes: attributes.map(parse_paths).transpose()?.unwrap_or_default(),
            excluded: excluded.map(parse_paths).transpose()?.unwrap_or_default(),
        })
    }

    /// Applies the projection to a rendered resource. `id` and `schemas` are always returned.
    pub fn apply(&self, resource: Value) -> Value {
        let Value::Object(src) = resource else {
            return resource;
        };
        if !self.attributes.is_empty() {
            let mut out = Map::new();
            for k in ["schemas", "id"] {
                if let Some(v) = src.get(k) {
                    out.insert(k.into(), v.clone());
                }
            }
            for p in &self.attributes {
                copy_path(&src, &mut out, p);
            }
            return Value::Object(out);
        }
        let mut out = src;
        for p in &self.excluded {
            if p.urn.is_none() && (p.name == "id" || p.name == "schemas") && p.sub.is_none() {
                continue;
            }
            remove_path(&mut out, p);
        }
        Value::Object(out)
    }
}

fn find_key(map: &Map<String, Value>, name: &str) -> Option<String> {
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

fn copy_path(src: &Map<String, Value>, out: &mut Map<String, Value>, p: &AttrPath) {
    let (src, out) = match &p.urn {
        Some(urn) => {
            let Some(k) = find_key(src, urn) else { return };
            let Some(Value::Object(inner)) = src.get(&k) else {
                return;
            };
            if p.name.is_empty() {
                out.insert(k, Value::Object(inner.clone()));
                return;
            }
            let slot = out.entry(k).or_insert_with(|| Value::Object(Map::new()));
            let Some(slot) = slot.as_object_mut() else {
                return;
            };
            (inner, slot)
        }
        None => (src, out),
    };
    let Some(k) = find_key(src, &p.name) else {
        return;
    };
    let v = &src[&k];
    match &p.sub {
        None => {
            out.insert(k, v.clone());
        }
        Some(sub) => {
            let pick = |item: &Value| -> Option<(String, Value)> {
                let o = item.as_object()?;
                let sk = find_key(o, sub)?;
                Some((sk.clone(), o[&sk].clone()))
            };
            match v {
                Value::Array(items) => {
                    let existing = out.entry(k).or_insert_with(|| {
                        Value::Array(vec![Value::Object(Map::new()); items.len()])
                    });
                    if let Value::Array(slots) = existing {
                        for (slot, item) in slots.iter_mut().zip(items) {
                            if let (Some((sk, sv)), Some(o)) = (pick(item), slot.as_object_mut()) {
                                o.insert(sk, sv);
                            }
                        }
                    }
                }
                other => {
                    if let Some((sk, sv)) = pick(other) {
                        let slot = out.entry(k).or_insert_with(|| Value::Object(Map::new()));
                        if let Some(o) = slot.as_object_mut() {
                            o.insert(sk, sv);
                        }
                    }
                }
            }
        }
    }
}

fn remove_path(out: &mut Map<String, Value>, p: &AttrPath) {
    let map = match &p.urn {
        Some(urn) => {
            let Some(k) = find_key(out, urn) else { return };
            if p.name.is_empty() {
                out.remove(&k);
                return;
            }
            match out.get_mut(&k).and_then(Value::as_object_mut) {
                Some(m) => m,
                None => return,
            }
        }
        None => out,
    };
    let Some(k) = find_key(map, &p.name) else {
        return;
    };
    match &p.sub {
        None => {
            map.remove(&k);
        }
        Some(sub) => match map.get_mut(&k) {
            Some(Value::Array(items)) => {
                for item in items {
                    if let Some(o) = item.as_object_mut() {
                        if let Some(sk) = find_key(o, sub) {
                            o.remove(&sk);
                        }
                    }
                }
            }
            Some(Value::Object(o)) => {
                if let Some(sk) = find_key(o, sub) {
                    o.remove(&sk);
                }
            }
            _ => {}
        },
    }
}

fn parse_sort_order(s: Option<&str>) -> ScimResult<bool> {
    match s.map(str::to_ascii_lowercase).as_deref() {
        None | Some("ascending") => Ok(false),
        Some("descending") => Ok(true),
        Some(other) => Err(ScimError::invalid_value(format!(
            "sortOrder must be \"ascending\" or \"descending\", not \"{other}\""
        ))),
    }
}

fn parse_index(name: &str, s: Option<&str>) -> ScimResult<Option<i64>> {
    s.map(|v| {
        v.trim()
            .parse::<i64>()
            .map_err(|_| ScimError::invalid_value(format!("{name} must be an integer")))
    })
    .transpose()
}

impl ListQuery {
    /// Builds a query from URL query parameters (names case-insensitive).
    pub fn from_params(params: &[(String, String)]) -> ScimResult<Self> {
        let get = |n: &str| {
            params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.as_str())
        };
        Self::build(
            get("filter"),
            parse_index("startIndex", get("startIndex"))?,
            parse_index("count", get("count"))?,
            get("sortBy"),
            get("sortOrder"),
            get("attributes"),
            get("excludedAttributes"),
        )
    }

    /// Builds a query from a `SearchRequest` body (POST `/.search`).
    pub fn from_search_body(body: &Value) -> ScimResult<Self> {
        if !body.is_object() {
            return Err(ScimError::invalid_syntax(
                "a SearchRequest must be an object",
            ));
        }
        if let Some(s) = filter::get_ci(body, "schemas") {
            if !s
                .as_array()
                .is_some_and(|a| a.iter().any(|u| u.as_str() == Some(SEARCH_REQUEST_URN)))
            {
                return Err(ScimError::invalid_value(format!(
                    "\"schemas\" must be [\"{SEARCH_REQUEST_URN}\"]"
                )));
            }
        }
        let str_of = |n: &str| -> ScimResult<Option<String>> {
            match filter::get_ci(body, n) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Array(a)) => Ok(Some(
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(","),
                )),
                Some(_) => Err(ScimError::invalid_syntax(format!(
                    "\"{n}\" must be a string"
                ))),
            }
        };
        let int_of = |n: &str| -> ScimResult<Option<i64>> {
            match filter::get_ci(body, n) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(x)) => x
                    .as_i64()
                    .map(Some)
                    .ok_or_else(|| ScimError::invalid_value(format!("\"{n}\" must be an integer"))),
                Some(Value::String(s)) => parse_index(n, Some(s)),
                Some(_) => Err(ScimError::invalid_syntax(format!(
                    "\"{n}\" must be an integer"
                ))),
            }
        };
        Self::build(
            str_of("filter")?.as_deref(),
            int_of("startIndex")?,
            int_of("count")?,
            str_of("sortBy")?.as_deref(),
            str_of("sortOrder")?.as_deref(),
            str_of("attributes")?.as_deref(),
            str_of("excludedAttributes")?.as_deref(),
        )
    }

    fn build(
        filter: Option<&str>,
        start: Option<i64>,
        count: Option<i64>,
        sort_by: Option<&str>,
        sort_order: Option<&str>,
        attributes: Option<&str>,
        excluded: Option<&str>,
    ) -> ScimResult<Self> {
        Ok(ListQuery {
            filter: filter.map(filter::parse_filter).transpose()?,
            // RFC 7644 §3.4.2.4: values below 1 are interpreted as 1 / 0.
            start_index: start.unwrap_or(1).max(1) as usize,
            count: count.map(|c| c.max(0) as usize),
            sort_by: sort_by
                .map(|s| AttrPath::parse(s).map_err(|e| ScimError::invalid_value(e.detail)))
                .transpose()?,
            descending: parse_sort_order(sort_order)?,
            projection: Projection::parse(attributes, excluded)?,
        })
    }
}

fn sort_key(v: &Value, path: &AttrPath) -> Option<Value> {
    let found = filter::resolve(v, path)?;
    match found {
        Value::Array(items) => {
            let pick = items
                .iter()
                .find(|i| filter::get_ci(i, "primary") == Some(&Value::Bool(true)))
                .or_else(|| items.first())?;
            match pick {
                Value::Object(_) => {
                    filter::get_ci(pick, path.sub.as_deref().unwrap_or("value")).cloned()
                }
                other => Some(other.clone()),
            }
        }
        Value::Null => None,
        other => Some(other.clone()),
    }
}

fn cmp_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => a.to_string().cmp(&b.to_string()),
    }
}

/// Filters, sorts, paginates and projects rendered resources, each with its kind (for
/// per-schema filter semantics), into pages of `count`; returns the `ListResponse` body.
pub fn run(query: &ListQuery, resources: Vec<(ResourceKind, Value)>, count: usize) -> Value {
    let mut hits: Vec<Value> = resources
        .into_iter()
        .filter(|(kind, v)| {
            query
                .filter
                .as_ref()
                .is_none_or(|f| filter::matches(f, *kind, v))
        })
        .map(|(_, v)| v)
        .collect();
    if let Some(path) = &query.sort_by {
        let mut keyed: Vec<(Option<Value>, Value)> =
            hits.into_iter().map(|v| (sort_key(&v, path), v)).collect();
        // Resources without a value sort last in either direction.
        keyed.sort_by(|(a, _), (b, _)| match (a, b) {
            (Some(a), Some(b)) => {
                let o = cmp_values(a, b);
                if query.descending {
                    o.reverse()
                } else {
                    o
                }
            }
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        });
        hits = keyed.into_iter().map(|(_, v)| v).collect();
    }
    let total = hits.len() as u64;
    let page: Vec<Value> = hits
        .into_iter()
        .skip(query.start_index - 1)
        .take(count)
        .map(|v| query.projection.apply(v))
        .collect();
    envelope(query, total, page)
}

/// The `ListResponse` body of one page (already projected) of `total` matches.
pub fn envelope(query: &ListQuery, total: u64, page: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE_URN],
        "totalResults": total,
        "startIndex": query.start_index,
        "itemsPerPage": page.len(),
        "Resources": page,
    })
}

/// Whether a kind's schema defines the (top-level) attribute of `path`; used to reject sorting
/// by unknown attributes.
pub fn known_attr(kind: ResourceKind, path: &AttrPath) -> bool {
    path.def(kind, None).is_some()
        || (path.urn.is_some() && path.name.is_empty())
        || schema::top_attr(kind, &path.name).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection() {
        let v = json!({"schemas": ["s"], "id": "1", "userName": "u",
            "name": {"givenName": "G", "familyName": "F"},
            "emails": [{"value": "a", "type": "work"}],
            "meta": {"version": "W/\"1\""}});
        let p = Projection::parse(Some("userName,name.givenName,emails.value"), None).unwrap();
        assert_eq!(
            p.apply(v.clone()),
            json!({"schemas": ["s"], "id": "1", "userName": "u",
                "name": {"givenName": "G"}, "emails": [{"value": "a"}]})
        );
        let p = Projection::parse(None, Some("emails,name.familyName,id")).unwrap();
        let out = p.apply(v);
        assert!(out.get("emails").is_none() && out["name"].get("familyName").is_none());
        assert_eq!(out["id"], "1");
    }
}
