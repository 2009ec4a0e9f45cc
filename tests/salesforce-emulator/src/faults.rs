//! Fault injection: faults armed per operation, fired after N matching calls, a number of times,
//! optionally at random (seeded), each rendered as the response a real org or its edge would give.

use axum::{
    body::Body,
    http::{header, HeaderValue, StatusCode},
    response::Response,
};
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::response::ApiError;

/// The kind of operation a call performs; faults are armed per operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// `POST /sobjects/User/`.
    Create,
    /// `PATCH /sobjects/User/{id}` (or `POST ?_HttpMethod=PATCH`).
    Update,
    /// `GET /sobjects/User/{id}` (and lookups by external id).
    Get,
    /// `GET /query` and its `nextRecordsUrl` pages.
    Query,
    /// `POST /services/oauth2/token`.
    Token,
    /// `GET /limits`.
    Limits,
    /// Describe and resource listings.
    Describe,
    /// `DELETE` or `PUT` on a User record (always refused with 405), and collection deletes.
    Delete,
    /// `POST /composite`: a composite request as a whole.
    Composite,
    /// Every operation above.
    Any,
}

impl Operation {
    /// The operation's name as used in JSON and counters.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Get => "get",
            Operation::Query => "query",
            Operation::Token => "token",
            Operation::Limits => "limits",
            Operation::Describe => "describe",
            Operation::Delete => "delete",
            Operation::Composite => "composite",
            Operation::Any => "any",
        }
    }
}

/// What an armed fault does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FaultKind {
    /// 400 UNABLE_TO_LOCK_ROW.
    UnableToLockRow,
    /// 503 SERVER_UNAVAILABLE.
    ServerUnavailable,
    /// 500 UNKNOWN_EXCEPTION.
    UnknownException,
    /// 502 with an HTML page (an edge proxy failure).
    #[serde(alias = "HTML", alias = "HTML502")]
    Html502,
    /// 403 REQUEST_LIMIT_EXCEEDED "ConcurrentPerOrgLongTxn Limit exceeded.".
    #[serde(
        alias = "ConcurrentPerOrgLongTxn",
        alias = "CONCURRENT_PER_ORG_LONG_TXN"
    )]
    ConcurrentLimit,
    /// 401 INVALID_SESSION_ID; the caller's token is revoked as if it had expired.
    InvalidSessionId,
    /// Sleeps `delay_ms` before answering; the call itself is performed normally.
    Delay,
    /// Closes the connection without a response (TCP reset).
    ConnectionReset,
    /// Refuses a deactivation (`IsActive` true to false) with `status` / `error_code` / `message`.
    DeactivationRefused,
    /// Any error: `status`, `error_code`, `message`.
    Custom,
}

/// A fault to arm. JSON field names are snake_case; `afterN`, `applyWrite`, `delayMs`,
/// `errorCode` are accepted too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultSpec {
    /// Which calls the fault applies to (default `any`).
    #[serde(default = "default_operation")]
    pub operation: Operation,
    /// What happens when it fires.
    pub kind: FaultKind,
    /// Matching calls to let through before the fault can fire.
    #[serde(default, alias = "afterN")]
    pub after_n: u32,
    /// How many times it fires; `None` means every matching call after `after_n`.
    #[serde(default)]
    pub times: Option<u32>,
    /// Shorthand for `times: 1`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub once: bool,
    /// Chance (0..=1) that an eligible call fires; draws use the org's seeded generator.
    #[serde(default)]
    pub probability: Option<f64>,
    /// When true, a write (create/update) is performed before the fault response is sent, so the
    /// caller cannot know the outcome.
    #[serde(default, alias = "applyWrite")]
    pub apply_write: bool,
    /// Delay in milliseconds (`DELAY`).
    #[serde(default, alias = "delayMs")]
    pub delay_ms: Option<u64>,
    /// HTTP status (`CUSTOM`, `DEACTIVATION_REFUSED`; default 400).
    #[serde(default)]
    pub status: Option<u16>,
    /// Error code (`CUSTOM`, `DEACTIVATION_REFUSED`).
    #[serde(default, alias = "errorCode")]
    pub error_code: Option<String>,
    /// Error message (`CUSTOM`, `DEACTIVATION_REFUSED`).
    #[serde(default)]
    pub message: Option<String>,
}

fn default_operation() -> Operation {
    Operation::Any
}

impl FaultSpec {
    /// A fault of `kind` on `operation`, firing on every matching call.
    pub fn new(operation: Operation, kind: FaultKind) -> Self {
        Self {
            operation,
            kind,
            after_n: 0,
            times: None,
            once: false,
            probability: None,
            apply_write: false,
            delay_ms: None,
            status: None,
            error_code: None,
            message: None,
        }
    }

    /// A delay of `ms` milliseconds on `operation`.
    pub fn delay(operation: Operation, ms: u64) -> Self {
        Self {
            delay_ms: Some(ms),
            ..Self::new(operation, FaultKind::Delay)
        }
    }

    /// A refusal of deactivations with the given error code and message.
    pub fn deactivation_refused(error_code: &str, message: &str) -> Self {
        Self {
            error_code: Some(error_code.into()),
            message: Some(message.into()),
            ..Self::new(Operation::Update, FaultKind::DeactivationRefused)
        }
    }

    /// Lets `n` matching calls through first.
    pub fn after(mut self, n: u32) -> Self {
        self.after_n = n;
        self
    }

    /// Fires at most `n` times.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// Fires once.
    pub fn once(self) -> Self {
        self.times(1)
    }

    /// Fires each eligible call with probability `p`.
    pub fn probability(mut self, p: f64) -> Self {
        self.probability = Some(p);
        self
    }

    /// Performs the write before answering with the fault.
    pub fn apply_write(mut self, yes: bool) -> Self {
        self.apply_write = yes;
        self
    }

    /// Sets the status, code and message (`CUSTOM` / `DEACTIVATION_REFUSED`).
    pub fn error(mut self, status: u16, code: &str, message: &str) -> Self {
        self.status = Some(status);
        self.error_code = Some(code.into());
        self.message = Some(message.into());
        self
    }

    fn max_fires(&self) -> Option<u32> {
        if self.once {
            Some(1)
        } else {
            self.times
        }
    }

    /// The HTTP response this fault answers with (not used for `DELAY` and `CONNECTION_RESET`).
    pub fn response(&self) -> Response {
        let status = |default: StatusCode| {
            self.status
                .and_then(|s| StatusCode::from_u16(s).ok())
                .unwrap_or(default)
        };
        let err = match self.kind {
            FaultKind::UnableToLockRow => ApiError::field(
                "UNABLE_TO_LOCK_ROW",
                "unable to obtain exclusive access to this record",
                &[],
            ),
            FaultKind::ServerUnavailable => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVER_UNAVAILABLE",
                "Server Unavailable",
            ),
            FaultKind::UnknownException => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "UNKNOWN_EXCEPTION",
                "An unexpected error occurred. Please include this ErrorId if you contact support: 1402370231-97386 (-1294377839)",
            ),
            FaultKind::Html502 => return html_502(),
            FaultKind::ConcurrentLimit => ApiError::new(
                StatusCode::FORBIDDEN,
                "REQUEST_LIMIT_EXCEEDED",
                "ConcurrentPerOrgLongTxn Limit exceeded.",
            ),
            FaultKind::InvalidSessionId | FaultKind::Delay | FaultKind::ConnectionReset => {
                ApiError::invalid_session()
            }
            FaultKind::DeactivationRefused => ApiError::field(
                self.error_code.as_deref().unwrap_or("FIELD_INTEGRITY_EXCEPTION"),
                self.message.clone().unwrap_or_else(|| {
                    "You cannot deactivate this user because the user is assigned as the default workflow user.".into()
                }),
                &["IsActive"],
            )
            .with_status(status(StatusCode::BAD_REQUEST)),
            FaultKind::Custom => ApiError::field(
                self.error_code.as_deref().unwrap_or("UNKNOWN_EXCEPTION"),
                self.message.clone().unwrap_or_else(|| "Injected fault".into()),
                &[],
            )
            .with_status(status(StatusCode::BAD_REQUEST)),
        };
        axum::response::IntoResponse::into_response(err)
    }
}

fn html_502() -> Response {
    let body = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body><h1>Bad Gateway</h1><p>The server encountered a temporary error and could not complete your request.</p></body></html>\n";
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::BAD_GATEWAY;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=UTF-8"),
    );
    resp
}

/// An armed fault with its bookkeeping.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArmedFault {
    /// Id used to disarm it.
    pub id: u64,
    /// The fault.
    #[serde(flatten)]
    pub spec: FaultSpec,
    /// Matching calls seen so far.
    pub seen: u32,
    /// Times fired so far.
    pub fired: u32,
}

/// What a call tells the fault book about itself.
#[derive(Debug, Clone, Copy)]
pub struct CallInfo {
    /// The call's operation.
    pub operation: Operation,
    /// Whether the call deactivates an active user.
    pub deactivation: bool,
}

/// The armed faults of an org and the seeded generator for probabilistic ones.
#[derive(Debug)]
pub struct FaultBook {
    armed: Vec<ArmedFault>,
    next_id: u64,
    rng: StdRng,
}

impl FaultBook {
    /// An empty book whose random draws start from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            armed: Vec::new(),
            next_id: 1,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// Arms a fault; returns its id.
    pub fn arm(&mut self, spec: FaultSpec) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.armed.push(ArmedFault {
            id,
            spec,
            seen: 0,
            fired: 0,
        });
        id
    }

    /// Disarms one fault; returns whether it was armed.
    pub fn disarm(&mut self, id: u64) -> bool {
        let before = self.armed.len();
        self.armed.retain(|f| f.id != id);
        before != self.armed.len()
    }

    /// Disarms every fault.
    pub fn clear(&mut self) {
        self.armed.clear();
    }

    /// The armed faults (exhausted ones included, so tests can read `fired`).
    pub fn list(&self) -> Vec<ArmedFault> {
        self.armed.clone()
    }

    /// Decides whether a fault fires for this call; the first armed fault that fires wins.
    pub fn check(&mut self, call: CallInfo) -> Option<FaultSpec> {
        for fault in &mut self.armed {
            let spec = &fault.spec;
            if spec.operation != Operation::Any && spec.operation != call.operation {
                continue;
            }
            if spec.kind == FaultKind::DeactivationRefused && !call.deactivation {
                continue;
            }
            if spec.max_fires().is_some_and(|max| fault.fired >= max) {
                continue;
            }
            fault.seen += 1;
            if fault.seen <= spec.after_n {
                continue;
            }
            if let Some(p) = spec.probability {
                if self.rng.gen::<f64>() >= p {
                    continue;
                }
            }
            fault.fired += 1;
            return Some(fault.spec.clone());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(op: Operation) -> CallInfo {
        CallInfo {
            operation: op,
            deactivation: false,
        }
    }

    #[test]
    fn after_n_and_times() {
        let mut book = FaultBook::new(7);
        book.arm(
            FaultSpec::new(Operation::Create, FaultKind::ServerUnavailable)
                .after(2)
                .times(2),
        );
        let fired: Vec<bool> = (0..6)
            .map(|_| book.check(call(Operation::Create)).is_some())
            .collect();
        assert_eq!(fired, [false, false, true, true, false, false]);
        assert!(book.check(call(Operation::Get)).is_none());
    }

    #[test]
    fn probability_is_reproducible() {
        let run = || {
            let mut book = FaultBook::new(42);
            book.arm(FaultSpec::new(Operation::Any, FaultKind::UnableToLockRow).probability(0.5));
            (0..50)
                .map(|_| book.check(call(Operation::Query)).is_some())
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let hits = a.iter().filter(|x| **x).count();
        assert!(hits > 5 && hits < 45, "{hits}");
    }

    #[test]
    fn deactivation_refusal_only_matches_deactivations() {
        let mut book = FaultBook::new(1);
        book.arm(FaultSpec::deactivation_refused("CANNOT_DEACTIVATE", "no").once());
        assert!(book.check(call(Operation::Update)).is_none());
        let deact = CallInfo {
            operation: Operation::Update,
            deactivation: true,
        };
        assert!(book.check(deact).is_some());
        assert!(book.check(deact).is_none());
    }

    #[test]
    fn json_shape() {
        let spec: FaultSpec = serde_json::from_str(
            r#"{"operation":"create","kind":"UNABLE_TO_LOCK_ROW","afterN":1,"once":true,"applyWrite":true}"#,
        )
        .unwrap();
        assert_eq!(spec.after_n, 1);
        assert_eq!(spec.max_fires(), Some(1));
        assert!(spec.apply_write);
        let spec: FaultSpec =
            serde_json::from_str(r#"{"kind":"ConcurrentPerOrgLongTxn"}"#).unwrap();
        assert_eq!(spec.kind, FaultKind::ConcurrentLimit);
        assert_eq!(spec.operation, Operation::Any);
    }
}
