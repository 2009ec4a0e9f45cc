//! Seeing the server work from outside: Prometheus metrics (`GET /metrics`), liveness
//! (`GET /healthz`) and readiness (`GET /readyz`), and request ids that join a request to the
//! jobs it queued and to every log line of both.
//!
//! The three endpoints sit on the SCIM listener, outside SCIM authentication: `/healthz` and
//! `/readyz` are always open, `/metrics` is open unless `[server] metrics_token` is set, in which
//! case it requires `Authorization: Bearer <token>`. [`with_request_ids`] wraps the whole
//! application (SCIM, admin and these routes).

pub mod health;
pub mod metrics;
pub mod request_id;

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use provisioner_engine::store::now_ms;
use provisioner_engine::Engine;
use provisioner_runtime::SecretValue;

pub use metrics::Metrics;
pub use request_id::RequestId;

use crate::Registry;

/// What the observability endpoints read.
#[derive(Clone)]
pub struct ObservabilityState {
    /// The engine (its store answers readiness and the queue gauges).
    pub engine: Engine,
    /// The connector registry (which targets' connectors are prepared).
    pub registry: Registry,
    /// The counters the dispatcher feeds.
    pub metrics: Arc<Metrics>,
    /// The bearer token `/metrics` requires, if any.
    pub metrics_token: Option<SecretValue>,
}

/// The routes `/metrics`, `/healthz` and `/readyz`.
pub fn routes(state: ObservabilityState) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
}

/// `app` with a request id on every request (see [`request_id`]).
pub fn with_request_ids(app: Router) -> Router {
    app.layer(axum::middleware::from_fn(request_id::assign))
}

async fn healthz() -> Json<health::Health> {
    Json(health::Health { status: "ok" })
}

async fn readyz(State(state): State<ObservabilityState>) -> Response {
    let targets = state.engine.store().targets(None).await;
    let readiness = health::readiness(
        targets.as_deref().map_err(ToString::to_string),
        &state.registry,
    );
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(readiness)).into_response()
}

async fn scrape(State(state): State<ObservabilityState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.metrics_token {
        if !bearer_matches(&headers, token.expose()) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "GET /metrics requires `Authorization: Bearer <token>` with the token set as \
                 `[server] metrics_token` in the server's configuration\n",
            )
                .into_response();
        }
    }
    let store = state.engine.store();
    let (queues, targets) = match (store.queue_gauges().await, store.targets(None).await) {
        (Ok(queues), Ok(targets)) => (Some(queues), targets),
        (queues, targets) => {
            if let Err(error) = &queues {
                tracing::warn!(%error, "metrics: cannot read the queue");
            }
            if let Err(error) = &targets {
                tracing::warn!(%error, "metrics: cannot read the targets");
            }
            (None, Vec::new())
        }
    };
    let targets: Vec<_> = targets
        .into_iter()
        .map(|target| {
            let ready = state.registry.is_ready(&target);
            (target, ready)
        })
        .collect();
    let text = state.metrics.render(&metrics::ScrapeState {
        store_up: queues.is_some(),
        queues: queues.as_deref().unwrap_or_default(),
        targets: &targets,
        now_ms: now_ms(),
    });
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response()
}

/// Whether `headers` carry `Authorization: Bearer <expected>` (compared in constant time).
fn bearer_matches(headers: &HeaderMap, expected: &str) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
    else {
        return false;
    };
    let (given, expected) = (given.trim().as_bytes(), expected.as_bytes());
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}
