//! Applying a fired fault to a call: delaying it, resetting the connection, revoking the session,
//! or replacing the answer, with the write performed first when the fault asks for it.

use std::future::Future;
use std::time::Duration;

use axum::response::Response;

use crate::conn::ResetConnection;
use crate::faults::{FaultKind, FaultSpec};
use crate::state::AppState;

/// Runs `call` (not started until then) under the fault that fired for it (if any) and returns
/// what the client gets.
pub async fn run_with_fault(
    app: &AppState,
    fault: Option<FaultSpec>,
    token: Option<&str>,
    call: impl Future<Output = Response>,
) -> Response {
    let Some(fault) = fault else {
        return call.await;
    };
    match fault.kind {
        FaultKind::Delay => {
            let resp = call.await;
            tokio::time::sleep(Duration::from_millis(fault.delay_ms.unwrap_or(0))).await;
            resp
        }
        FaultKind::ConnectionReset => {
            if fault.apply_write {
                let _ = call.await;
            }
            let mut resp = Response::new(axum::body::Body::empty());
            resp.extensions_mut().insert(ResetConnection);
            resp
        }
        _ => {
            if fault.apply_write {
                let _ = call.await;
            }
            if fault.kind == FaultKind::InvalidSessionId {
                if let Some(token) = token {
                    app.org().sessions.revoke(token);
                }
            }
            fault.response()
        }
    }
}
