//! The web console: a small single-page app served under `/console/`, embedded in the binary.
//!
//! Three static assets (`index.html`, `app.js`, `app.css`, plain JavaScript with no build step
//! and nothing loaded from elsewhere) talk only to the admin API under `/admin/v1`, with the
//! session cookie `POST /admin/v1/session` sets. Serving them needs no state and no
//! credentials: everything the pages show comes from the authenticated API. Every response
//! carries a content security policy that allows only this origin's scripts, styles and
//! requests, so nothing a user or a target stored can run as script in the console.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

/// The console's single HTML page.
pub const INDEX_HTML: &str = include_str!("assets/index.html");
/// The console's script: routing, rendering and the admin API calls.
pub const APP_JS: &str = include_str!("assets/app.js");
/// The console's stylesheet.
pub const APP_CSS: &str = include_str!("assets/app.css");

/// Where the console is served.
pub const CONSOLE_PATH: &str = "/console/";

/// The policy every console response carries: this origin only, no inline script or style,
/// no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

/// The console's routes: `/console` (redirects), `/console/`, `/console/app.js` and
/// `/console/app.css`; anything else under `/console/` is 404. Stateless, so it merges into a router of any state.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::permanent(CONSOLE_PATH) }),
        )
        .route(
            CONSOLE_PATH,
            get(|| async { asset("text/html; charset=utf-8", INDEX_HTML) }),
        )
        .route(
            "/console/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/console/app.css",
            get(|| async { asset("text/css; charset=utf-8", APP_CSS) }),
        )
        .route("/console/{*rest}", get(not_found))
}

/// Any other path under `/console/`: the console has no such asset (its pages are `#/...`
/// fragments of `/console/`).
async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        "the console has no such asset; open /console/ (pages are addressed as /console/#/...)",
    )
        .into_response()
}

/// Every admin API path the console calls, as `(name, template)` pairs read from the `PATHS`
/// table of `app.js` (templates relative to `/admin/v1`, e.g.
/// `/tenants/{tenant}/users/{id}`), so tests can hold them against the OpenAPI document.
pub fn api_paths() -> Vec<(&'static str, &'static str)> {
    let table = APP_JS
        .split_once("const PATHS = {")
        .and_then(|(_, rest)| rest.split_once("};"))
        .map(|(table, _)| table)
        .unwrap_or_default();
    table
        .lines()
        .filter_map(|line| {
            let (name, template) = line.trim().split_once(':')?;
            let template = template.trim().trim_end_matches(',').trim_matches('"');
            Some((name.trim(), template))
        })
        .collect()
}

/// One embedded asset with its type and the console's security headers. `no-cache` makes a
/// browser revalidate, so an upgraded server's console is picked up at once.
fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    let fixed = [
        (header::CONTENT_TYPE, content_type),
        (header::CACHE_CONTROL, "no-cache"),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_paths_are_read_from_the_script() {
        let paths = api_paths();
        assert!(paths.contains(&("session", "/session")), "{paths:?}");
        assert!(
            paths.contains(&("explain", "/tenants/{tenant}/users/{id}/explain")),
            "{paths:?}"
        );
        for (name, template) in &paths {
            assert!(
                template.starts_with('/') && !template.contains('"'),
                "{name}: {template}"
            );
        }
        assert_eq!(
            paths.len(),
            APP_JS
                .split_once("const PATHS = {")
                .unwrap()
                .1
                .split_once("};")
                .unwrap()
                .0
                .matches(": \"/")
                .count()
        );
    }
}
