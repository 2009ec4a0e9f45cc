//! The User sObject resources: create, retrieve, update (deactivate/reactivate), lookup and
//! upsert by an idLookup field, and describe.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{json, Map, Value};

use crate::fields::{self, FieldType, USER_FIELDS};
use crate::ids;
use crate::response::{json_response, ApiError};
use crate::rest::Call;
use crate::state::{AppState, Org};
use crate::users::{attributes, invalid_cross_reference};
use crate::validation::{self, WriteMode};

/// User fields that can be used as an external id (idLookup) in lookups and upserts.
pub const ID_LOOKUP_FIELDS: &[&str] = &[
    "Username",
    "FederationIdentifier",
    "CommunityNickname",
    "Email",
];

/// User fields whose values are unique in the org (describe's `unique`); Username across all
/// orgs. None of the standard User fields is an `externalId` field.
pub const UNIQUE_FIELDS: &[&str] = &["Username", "CommunityNickname"];

fn external_id_error(seg: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        format!("Provided external ID field does not exist or is not accessible: {seg}"),
    )
}

/// `POST /sobjects/User/`: 201 `{"id","success":true,"errors":[]}`.
pub fn create(app: &AppState, call: &Call<'_>) -> Result<Response, ApiError> {
    let (text, body) = validation::parse_object(call.body)?;
    let id = create_record(&mut app.org(), &text, body)?;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({ "id": id, "success": true, "errors": [] }),
    ))
}

/// `GET /sobjects/User/{id}[?fields=A,B]`.
pub fn get(app: &AppState, call: &Call<'_>, id: &str) -> Result<Response, ApiError> {
    if !ids::is_id_shaped(id) {
        return Err(external_id_error(id));
    }
    let selected = match call.params.get("fields") {
        Some(list) => Some(parse_field_list(list)?),
        None => None,
    };
    let org = app.org();
    let user = org.directory.get(id).ok_or_else(ApiError::not_found)?;
    Ok(json_response(
        StatusCode::OK,
        &user.to_rest(&call.version, selected.as_deref()),
    ))
}

/// Resolves a `fields=A,B` list to canonical field names (Id always included); an unknown
/// name is 400 INVALID_FIELD.
pub fn parse_field_list(list: &str) -> Result<Vec<&'static str>, ApiError> {
    let mut names = Vec::new();
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let def = fields::find(name).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "INVALID_FIELD",
                format!("No such column '{name}' on entity 'User'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."),
            )
        })?;
        if !names.contains(&def.name) {
            names.push(def.name);
        }
    }
    if !names.contains(&"Id") {
        names.push("Id");
    }
    Ok(names)
}

/// `PATCH /sobjects/User/{id}`: 204 with no body.
pub fn update(app: &AppState, call: &Call<'_>, id: &str) -> Result<Response, ApiError> {
    if !ids::is_id_shaped(id) {
        return Err(external_id_error(id));
    }
    if app.org().directory.get(id).is_none() {
        return Err(invalid_cross_reference());
    }
    let (text, body) = validation::parse_object(call.body)?;
    update_record(&mut app.org(), id, &text, body)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Validates a decoded User body (`text` is its JSON source, for error positions) and creates
/// the record; returns the new id. Shared by the single-record and the collection routes.
pub fn create_record(
    org: &mut Org,
    text: &str,
    body: Map<String, Value>,
) -> Result<String, ApiError> {
    let config = org.config.clone();
    let changes = validation::to_changes(text, body, WriteMode::Create, &config)?;
    org.directory.create(changes, &config)
}

/// Validates a decoded User body and applies it to the existing record `id` (404
/// INVALID_CROSS_REFERENCE_KEY when there is none). Shared by the single-record and the
/// collection routes.
pub fn update_record(
    org: &mut Org,
    id: &str,
    text: &str,
    body: Map<String, Value>,
) -> Result<(), ApiError> {
    if org.directory.get(id).is_none() {
        return Err(invalid_cross_reference());
    }
    let config = org.config.clone();
    let changes = validation::to_changes(text, body, WriteMode::Update, &config)?;
    org.directory.update(id, changes, &config)
}

fn lookup_field(field: &str) -> Result<&'static str, ApiError> {
    ID_LOOKUP_FIELDS
        .iter()
        .find(|f| f.eq_ignore_ascii_case(field))
        .copied()
        .ok_or_else(|| external_id_error(field))
}

fn matching_ids(app: &AppState, field: &str, value: &str) -> Vec<String> {
    let org = app.org();
    let ci = org.config.case_insensitive_text;
    org.directory
        .users()
        .iter()
        .filter(|u| {
            u.text(field).is_some_and(|v| {
                if ci {
                    v.to_lowercase() == value.to_lowercase()
                } else {
                    v == value
                }
            })
        })
        .map(|u| u.id.clone())
        .collect()
}

fn multiple_choices(version: &str, ids: &[String]) -> Response {
    let urls: Vec<String> = ids
        .iter()
        .map(|id| format!("/services/data/{version}/sobjects/User/{id}"))
        .collect();
    json_response(StatusCode::MULTIPLE_CHOICES, &urls)
}

/// `GET /sobjects/User/{field}/{value}`: the record whose idLookup field equals `value`.
pub fn get_by_external_id(
    app: &AppState,
    call: &Call<'_>,
    field: &str,
    value: &str,
) -> Result<Response, ApiError> {
    let field = lookup_field(field)?;
    let found = matching_ids(app, field, value);
    match found.as_slice() {
        [] => Err(ApiError::not_found()),
        [id] => get(app, call, id),
        many => Ok(multiple_choices(&call.version, many)),
    }
}

/// `PATCH /sobjects/User/{field}/{value}`: upsert keyed by an idLookup field.
pub fn upsert(
    app: &AppState,
    call: &Call<'_>,
    field: &str,
    value: &str,
) -> Result<Response, ApiError> {
    let field = lookup_field(field)?;
    let (text, mut body) = validation::parse_object(call.body)?;
    if body.keys().any(|k| k.eq_ignore_ascii_case(field)) {
        return Err(ApiError::field(
            "INVALID_FIELD",
            format!("The {field} field should not be specified in the sobject data."),
            &[],
        ));
    }
    let found = matching_ids(app, field, value);
    let version_major = call.major_version();
    match found.as_slice() {
        [] => {
            if call
                .params
                .get("updateOnly")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
            {
                return Err(ApiError::not_found());
            }
            body.insert(field.to_string(), Value::String(value.to_string()));
            let id = create_record(&mut app.org(), &text, body)?;
            Ok(json_response(
                StatusCode::CREATED,
                &json!({ "id": id, "success": true, "errors": [], "created": true }),
            ))
        }
        [id] => {
            update_record(&mut app.org(), id, &text, body)?;
            if version_major >= 46 {
                Ok(json_response(
                    StatusCode::OK,
                    &json!({ "id": id, "success": true, "errors": [], "created": false }),
                ))
            } else {
                Ok(StatusCode::NO_CONTENT.into_response())
            }
        }
        many => Ok(multiple_choices(&call.version, many)),
    }
}

fn object_summary(version: &str) -> Value {
    json!({
        "name": "User",
        "label": "User",
        "labelPlural": "Users",
        "keyPrefix": ids::USER_PREFIX,
        "createable": true,
        "updateable": true,
        "deletable": false,
        "queryable": true,
        "retrieveable": true,
        "searchable": true,
        "custom": false,
        "urls": {
            "sobject": format!("/services/data/{version}/sobjects/User"),
            "describe": format!("/services/data/{version}/sobjects/User/describe"),
            "rowTemplate": format!("/services/data/{version}/sobjects/User/{{ID}}"),
        },
    })
}

/// `GET /sobjects`: a describe-global listing holding only User.
pub fn describe_global(version: &str) -> Response {
    json_response(
        StatusCode::OK,
        &json!({ "encoding": "UTF-8", "maxBatchSize": 200, "sobjects": [object_summary(version)] }),
    )
}

/// `GET /sobjects/User`: basic information and recently created users.
pub fn sobject_info(app: &AppState, version: &str) -> Response {
    let org = app.org();
    let recent: Vec<Value> = org
        .directory
        .users()
        .iter()
        .rev()
        .take(5)
        .map(|u| {
            json!({ "attributes": attributes(version, &u.id), "Id": u.id, "Name": u.get("Name") })
        })
        .collect();
    json_response(
        StatusCode::OK,
        &json!({ "objectDescribe": object_summary(version), "recentItems": recent }),
    )
}

/// `GET /sobjects/User/describe`: the field list with types, lengths and picklist values.
pub fn describe(version: &str) -> Response {
    let fields: Vec<Value> = USER_FIELDS
        .iter()
        .map(|f| {
            let picklist: Vec<Value> = match f.ty {
                FieldType::Picklist(values) => values
                    .iter()
                    .map(|v| json!({ "value": v, "label": v, "active": true, "defaultValue": false }))
                    .collect(),
                _ => Vec::new(),
            };
            let reference_to: Vec<&str> = match f.ty {
                FieldType::Reference(ids::PROFILE_PREFIX) => vec!["Profile"],
                FieldType::Reference(ids::ROLE_PREFIX) => vec!["UserRole"],
                FieldType::Reference(_) => vec!["User"],
                _ => Vec::new(),
            };
            json!({
                "name": f.name,
                "label": f.label,
                "type": f.ty.soap_name(),
                "soapType": f.ty.soap_type(),
                "externalId": false,
                "unique": UNIQUE_FIELDS.contains(&f.name),
                "length": f.max_len.unwrap_or(0),
                "createable": f.writable,
                "updateable": f.writable,
                "nillable": !f.required && f.ty != FieldType::Boolean && f.writable,
                "idLookup": f.name == "Id" || ID_LOOKUP_FIELDS.contains(&f.name),
                "restrictedPicklist": matches!(f.ty, FieldType::Picklist(_)),
                "picklistValues": picklist,
                "referenceTo": reference_to,
            })
        })
        .collect();
    let mut body = object_summary(version);
    body["fields"] = Value::Array(fields);
    json_response(StatusCode::OK, &body)
}
