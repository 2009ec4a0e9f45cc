//! The identity URL (`GET /id/{orgId}/{userId}`): the `id` of every token response, which a
//! client reads with the access token to learn who it is and where the org's APIs are.
//!
//! The answer names the token's user and org with `urls` holding `{version}` placeholders, as
//! Salesforce's identity service does. A missing or unknown token is 401 `Bad_OAuth_Token`; an
//! id that is not the token's own user is 403 `Bad_Id`. Identity calls do not count against the
//! API allocation.

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::ids;
use crate::response::json_response;
use crate::sessions::bearer_token;
use crate::state::AppState;
use crate::time::format_datetime;

/// The route of the identity URL.
pub const IDENTITY_PATH: &str = "/id/{org}/{user}";

fn refused(status: StatusCode, text: &'static str) -> Response {
    (status, text).into_response()
}

/// `GET /id/{orgId}/{userId}`.
pub async fn identity(
    State(app): State<AppState>,
    Path((org_id, user_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut org = app.org();
    let Some(token_user) = bearer_token(&headers).and_then(|t| org.sessions.touch(t)) else {
        return refused(StatusCode::UNAUTHORIZED, "Bad_OAuth_Token");
    };
    let same = |a: &str, b: &str| ids::to15(a).is_some() && ids::to15(a) == ids::to15(b);
    if !same(&org_id, &org.config.org_id) || !same(&user_id, &token_user) {
        return refused(StatusCode::FORBIDDEN, "Bad_Id");
    }
    let Some(user) = org.directory.get(&token_user).cloned() else {
        return refused(StatusCode::FORBIDDEN, "Bad_Id");
    };
    let base = &app.base_url;
    let org18 = ids::to18(&org.config.org_id).unwrap_or_else(|| org.config.org_id.clone());
    let data = format!("{base}/services/data/v{{version}}");
    let text = |f: &str| user.text(f).unwrap_or_default().to_string();
    let body = json!({
        "id": format!("{base}/id/{org18}/{}", user.id),
        "asserted_user": true,
        "user_id": user.id,
        "organization_id": org18,
        "username": user.username(),
        "nick_name": text("CommunityNickname"),
        "display_name": user.get("Name"),
        "email": text("Email"),
        "email_verified": true,
        "first_name": text("FirstName"),
        "last_name": text("LastName"),
        "timezone": text("TimeZoneSidKey"),
        "active": user.is_active(),
        "user_type": "STANDARD",
        "language": text("LanguageLocaleKey"),
        "locale": text("LocaleSidKey"),
        "utcOffset": 0,
        "last_modified_date": format_datetime(user.modified_ms),
        "is_app_installed": true,
        "urls": {
            "enterprise": format!("{base}/services/Soap/c/{{version}}/{org18}"),
            "metadata": format!("{base}/services/Soap/m/{{version}}/{org18}"),
            "partner": format!("{base}/services/Soap/u/{{version}}/{org18}"),
            "rest": format!("{data}/"),
            "sobjects": format!("{data}/sobjects/"),
            "search": format!("{data}/search/"),
            "query": format!("{data}/query/"),
            "recent": format!("{data}/recent/"),
            "profile": format!("{base}/{}", user.id),
            "limits": format!("{data}/limits/"),
            "custom_domain": base,
        },
    });
    json_response(StatusCode::OK, &body)
}
