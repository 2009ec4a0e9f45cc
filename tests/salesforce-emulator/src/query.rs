//! The query resource: running SOQL over the org's users and paging results with
//! `nextRecordsUrl` locators.

use axum::{http::StatusCode, response::Response};
use serde_json::{json, Map, Value};

use crate::config::Profile;
use crate::ids;
use crate::response::{json_response, ApiError};
use crate::rest::Call;
use crate::soql::{self, Row, SObject};
use crate::state::{AppState, QueryCursor};
use crate::users::{attributes, UserRecord};

/// Smallest and largest batch sizes `Sforce-Query-Options: batchSize=N` may ask for.
pub const BATCH_RANGE: (usize, usize) = (200, 2000);

fn requested_batch(call: &Call<'_>) -> Option<usize> {
    let header = call.headers.get("sforce-query-options")?.to_str().ok()?;
    header
        .split([';', ','])
        .filter_map(|part| part.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("batchSize"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
}

fn page(version: &str, locator: &str, cursor: &QueryCursor, offset: usize) -> Value {
    let end = (offset + cursor.batch).min(cursor.records.len());
    let records = cursor.records.get(offset..end).unwrap_or(&[]).to_vec();
    let mut body = json!({
        "totalSize": cursor.records.len(),
        "done": end >= cursor.records.len(),
        "records": records,
    });
    if end < cursor.records.len() {
        body["nextRecordsUrl"] = json!(format!("/services/data/{version}/query/{locator}-{end}"));
    }
    body
}

/// The rendered matches of `parsed` over `rows`, or the whole answer of a `SELECT COUNT()`.
fn select<R: Row>(
    parsed: &soql::Query,
    rows: &[R],
    case_insensitive: bool,
    render: impl Fn(&R) -> Value,
) -> Result<Vec<Value>, Box<Response>> {
    let hits = parsed.run(rows, case_insensitive);
    if parsed.count_only {
        return Err(Box::new(json_response(
            StatusCode::OK,
            &json!({ "totalSize": hits.len(), "done": true, "records": [] }),
        )));
    }
    Ok(hits.into_iter().map(render).collect())
}

/// A user as a query row: its own fields, and `Profile.Name` through its ProfileId.
struct UserRow<'a> {
    user: &'a UserRecord,
    profiles: &'a [Profile],
}

impl UserRow<'_> {
    fn profile(&self) -> Option<&Profile> {
        let id = self.user.text("ProfileId")?;
        self.profiles
            .iter()
            .find(|p| ids::to15(&p.id).is_some() && ids::to15(&p.id) == ids::to15(id))
    }

    /// The record with the selected fields; `Profile.Name` nests as `"Profile": {"Name"}`.
    fn render(&self, version: &str, fields: &[&str]) -> Value {
        let mut map = Map::new();
        map.insert("attributes".into(), attributes(version, &self.user.id));
        for f in fields {
            if *f == crate::fields::PROFILE_NAME.name {
                let profile = self.profile().map_or(Value::Null, |p| {
                    let mut nested = ProfileRow(p).render(version, &[]);
                    nested["Name"] = json!(p.name);
                    nested
                });
                map.insert("Profile".into(), profile);
            } else {
                map.insert(f.to_string(), self.user.get(f));
            }
        }
        Value::Object(map)
    }
}

impl Row for UserRow<'_> {
    fn value(&self, field: &str) -> Value {
        if field == crate::fields::PROFILE_NAME.name {
            self.profile().map_or(Value::Null, |p| json!(p.name))
        } else {
            self.user.get(field)
        }
    }
}

/// A profile as a query row.
struct ProfileRow<'a>(&'a Profile);

impl ProfileRow<'_> {
    fn id(&self) -> String {
        ids::to18(&self.0.id).unwrap_or_else(|| self.0.id.clone())
    }

    fn render(&self, version: &str, fields: &[&str]) -> Value {
        let id = self.id();
        let mut map = Map::new();
        map.insert(
            "attributes".into(),
            json!({ "type": "Profile", "url": format!("/services/data/{version}/sobjects/Profile/{id}") }),
        );
        for f in fields {
            map.insert(f.to_string(), self.value(f));
        }
        Value::Object(map)
    }
}

impl Row for ProfileRow<'_> {
    fn value(&self, field: &str) -> Value {
        match field {
            "Id" => json!(self.id()),
            "Name" => json!(self.0.name),
            _ => Value::Null,
        }
    }
}

/// `GET /query?q=…`.
pub fn query(app: &AppState, call: &Call<'_>) -> Result<Response, ApiError> {
    let Some(q) = call.params.get("q").filter(|q| !q.trim().is_empty()) else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED_QUERY",
            "A query string has to be specified",
        ));
    };
    let parsed = soql::parse(q)?;
    let mut org = app.org();
    let ci = org.config.case_insensitive_text;
    let (version, selected) = (&call.version, &parsed.fields);
    let records = match parsed.object {
        SObject::User => {
            let profiles = &org.directory.profiles;
            let rows: Vec<UserRow> = org
                .directory
                .users()
                .iter()
                .map(|user| UserRow { user, profiles })
                .collect();
            select(&parsed, &rows, ci, |row| row.render(version, selected))
        }
        SObject::Profile => {
            let rows: Vec<ProfileRow> = org.directory.profiles.iter().map(ProfileRow).collect();
            select(&parsed, &rows, ci, |row| row.render(version, selected))
        }
    };
    let records = match records {
        Ok(records) => records,
        Err(count) => return Ok(*count),
    };
    let batch = requested_batch(call)
        .map(|b| b.clamp(BATCH_RANGE.0, BATCH_RANGE.1))
        .unwrap_or(org.config.query_batch_size)
        .max(1);
    let cursor = QueryCursor { records, batch };
    if cursor.records.len() <= batch {
        return Ok(json_response(
            StatusCode::OK,
            &page(&call.version, "", &cursor, 0),
        ));
    }
    let locator = org.locators.next_id(ids::QUERY_LOCATOR_PREFIX);
    let body = page(&call.version, &locator, &cursor, 0);
    org.cursors.insert(locator, cursor);
    Ok(json_response(StatusCode::OK, &body))
}

/// `GET /query/{locator}-{offset}`: the next page of an earlier query.
pub fn query_more(app: &AppState, call: &Call<'_>, locator: &str) -> Result<Response, ApiError> {
    let invalid = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY_LOCATOR",
            "invalid query locator",
        )
    };
    let (id, offset) = locator.rsplit_once('-').ok_or_else(invalid)?;
    let offset: usize = offset.parse().map_err(|_| invalid())?;
    let org = app.org();
    let cursor = org.cursors.get(id).ok_or_else(invalid)?;
    if offset > cursor.records.len() {
        return Err(invalid());
    }
    Ok(json_response(
        StatusCode::OK,
        &page(&call.version, id, cursor, offset),
    ))
}
