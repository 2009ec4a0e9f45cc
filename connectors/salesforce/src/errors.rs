//! Salesforce failures to typed `provision-error`s.
//!
//! Salesforce answers errors with a JSON array of `{message, errorCode, fields}`. The error code
//! decides the case where Salesforce's documentation says what it means; the HTTP status decides
//! otherwise. The host retries by the case alone, so every code is placed deliberately:
//!
//! | code / status | case |
//! |---|---|
//! | INVALID_SESSION_ID, any 401 | auth-failed (after one re-authentication) |
//! | REQUEST_LIMIT_EXCEEDED "TotalRequests ..." | quota-exhausted |
//! | REQUEST_LIMIT_EXCEEDED (concurrency, other) | rate-limited (Salesforce sends no hint) |
//! | UNABLE_TO_LOCK_ROW, SERVER_UNAVAILABLE, UNKNOWN_EXCEPTION, 420, 5xx | transient |
//! | ALL_OR_NONE_OPERATION_ROLLED_BACK (a collection record rolled back for another's error) | transient |
//! | DUPLICATE_USERNAME and the field-validation codes | invalid-data with the fields |
//! | INVALID_CROSS_REFERENCE_KEY | not-found on a 404 for a record id, else invalid-data |
//! | NOT_FOUND, ENTITY_IS_DELETED on a record id | not-found |
//! | LICENSE_LIMIT_EXCEEDED, API_DISABLED_FOR_ORG, METHOD_NOT_ALLOWED, 405, 410, other 4xx | permanent |
//! | 429 | rate-limited with `Retry-After` if sent |
//!
//! Writes whose outcome is unknown (5xx, timeouts, broken connections after sending) are
//! transient with `outcome-unknown`, so the host runs `lookup` before retrying.

use serde::Deserialize;

use provisioner_sdk::{
    ConfigProblem, ErrorDetail, HttpError, ProvisionError, RateLimitError, Response, TransientError,
};

/// What the failed request was doing; the same code means different things per action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// POST of a new User.
    Create,
    /// PATCH of an existing User by id.
    Update,
    /// A SOQL query (read only).
    Query,
}

impl Action {
    /// Whether the request may change remote state.
    pub fn is_write(self) -> bool {
        self != Action::Query
    }
}

/// One entry of Salesforce's error array.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesforceError {
    /// The message, as Salesforce words it.
    #[serde(default)]
    pub message: String,
    /// e.g. `DUPLICATE_USERNAME`; sObject Collections call it `statusCode`.
    #[serde(alias = "statusCode")]
    pub error_code: String,
    /// Fields involved, if any.
    #[serde(default)]
    pub fields: Vec<String>,
}

/// Field-validation codes: the data was refused, replaying it unchanged cannot help.
pub const VALIDATION_CODES: [&str; 14] = [
    "DUPLICATE_USERNAME",
    "REQUIRED_FIELD_MISSING",
    "FIELD_INTEGRITY_EXCEPTION",
    "MALFORMED_ID",
    "STRING_TOO_LONG",
    "INVALID_EMAIL_ADDRESS",
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    "INVALID_FIELD",
    "INVALID_FIELD_FOR_INSERT_UPDATE",
    "JSON_PARSER_ERROR",
    "DUPLICATE_COMM_NICKNAME",
    "FIELD_CUSTOM_VALIDATION_EXCEPTION",
    "INVALID_TYPE_ON_FIELD_IN_RECORD",
    "DUPLICATE_VALUE",
];

/// Codes that no retry and no change of the record's data can fix.
pub const PERMANENT_CODES: [&str; 8] = [
    "LICENSE_LIMIT_EXCEEDED",
    "API_DISABLED_FOR_ORG",
    "API_CURRENTLY_DISABLED",
    "METHOD_NOT_ALLOWED",
    "MALFORMED_QUERY",
    "INVALID_TYPE",
    "INSUFFICIENT_ACCESS_OR_READONLY",
    "INSUFFICIENT_ACCESS",
];

/// How much of an unparseable body is quoted in a message.
pub const BODY_QUOTE_MAX: usize = 200;

/// Parses Salesforce's error array; `None` when the body is not one.
pub fn parse(body: &[u8]) -> Option<Vec<SalesforceError>> {
    let errors: Vec<SalesforceError> = serde_json::from_slice(body).ok()?;
    (!errors.is_empty()).then_some(errors)
}

/// Whether a 401 body asks for a fresh token (INVALID_SESSION_ID, except the variant that says
/// the session can never be used with the REST API).
pub fn is_expired_session(body: &[u8]) -> bool {
    parse(body).is_some_and(|errors| {
        errors.iter().any(|e| {
            e.error_code == "INVALID_SESSION_ID"
                && !e.message.contains("not valid for use with the REST API")
        })
    })
}

/// Maps a non-2xx response of `action` to a typed error.
pub fn from_response(action: Action, response: &Response) -> ProvisionError {
    let status = response.status;
    let Some(errors) = parse(&response.body) else {
        return unparsed(action, response);
    };
    let first = &errors[0];
    let code = first.error_code.as_str();
    let mut fields: Vec<String> = Vec::new();
    for f in errors.iter().flat_map(|e| &e.fields) {
        if !fields.contains(f) {
            fields.push(f.clone());
        }
    }
    let message = errors
        .iter()
        .map(|e| format!("{}: {}", e.error_code, clean(&e.message)))
        .collect::<Vec<_>>()
        .join("; ");
    let d = detail(message, Some(code.to_string()), fields, Some(status));
    let write_5xx = action.is_write() && status >= 500;
    match code {
        "INVALID_SESSION_ID" => ProvisionError::AuthFailed(d),
        "REQUEST_LIMIT_EXCEEDED" if first.message.contains("TotalRequests") => {
            ProvisionError::QuotaExhausted(rate(d, None))
        }
        "REQUEST_LIMIT_EXCEEDED" => ProvisionError::RateLimited(rate(d, None)),
        "UNABLE_TO_LOCK_ROW"
        | "SERVER_UNAVAILABLE"
        | "UNKNOWN_EXCEPTION"
        | "ALL_OR_NONE_OPERATION_ROLLED_BACK" => transient(d, write_5xx),
        "INVALID_CROSS_REFERENCE_KEY" if status == 404 && action == Action::Update => {
            ProvisionError::NotFound(d)
        }
        "NOT_FOUND" | "ENTITY_IS_DELETED" if action == Action::Update => {
            ProvisionError::NotFound(d)
        }
        c if action == Action::Query
            && (VALIDATION_CODES.contains(&c) || c == "INVALID_CROSS_REFERENCE_KEY") =>
        {
            ProvisionError::Permanent(d)
        }
        c if VALIDATION_CODES.contains(&c) || c == "INVALID_CROSS_REFERENCE_KEY" => {
            ProvisionError::InvalidData(d)
        }
        c if PERMANENT_CODES.contains(&c) => ProvisionError::Permanent(d),
        _ => by_status(action, status, response, d),
    }
}

/// The case for a status whose error code said nothing more specific.
fn by_status(action: Action, status: u16, response: &Response, d: ErrorDetail) -> ProvisionError {
    match status {
        401 => ProvisionError::AuthFailed(d),
        404 if action == Action::Update => ProvisionError::NotFound(d),
        429 => ProvisionError::RateLimited(rate(d, retry_after_ms(response))),
        420 | 500..=599 => transient(d, action.is_write() && status >= 500),
        400 if !d.fields.is_empty() && action != Action::Query => ProvisionError::InvalidData(d),
        _ => ProvisionError::Permanent(d),
    }
}

/// A body that is not Salesforce's error array: an HTML edge page, empty, or garbage.
fn unparsed(action: Action, response: &Response) -> ProvisionError {
    let status = response.status;
    let quote = quote_body(&response.body);
    let message = if quote.is_empty() {
        format!("Salesforce answered HTTP {status} with an empty body")
    } else {
        format!("Salesforce answered HTTP {status} with an unexpected body: {quote}")
    };
    let d = detail(message, None, Vec::new(), Some(status));
    match status {
        401 => ProvisionError::AuthFailed(d),
        404 if action == Action::Update => ProvisionError::NotFound(d),
        429 => ProvisionError::RateLimited(rate(d, retry_after_ms(response))),
        420 | 500..=599 => transient(d, action.is_write() && status >= 500),
        _ => ProvisionError::Permanent(d),
    }
}

/// A 2xx response whose body lacks what the action needs (e.g. a create without an id).
pub fn unexpected_success(action: Action, response: &Response, what: &str) -> ProvisionError {
    let d = detail(
        format!(
            "Salesforce answered HTTP {} without {what}: {}",
            response.status,
            quote_body(&response.body)
        ),
        None,
        Vec::new(),
        Some(response.status),
    );
    if action == Action::Create {
        // The user may exist now; the host resolves this with a lookup.
        transient(d, true)
    } else {
        ProvisionError::Permanent(d)
    }
}

/// Maps a failure to get any response at all.
pub fn from_http_error(action: Action, error: &HttpError) -> ProvisionError {
    let write = action.is_write();
    match error {
        HttpError::Denied(why) => permanent(format!(
            "the host's egress policy refused the request: {why}"
        )),
        HttpError::InvalidRequest(why) => {
            permanent(format!("the host refused the request as malformed: {why}"))
        }
        HttpError::Timeout => transient(
            detail(
                "no response from Salesforce within the timeout".into(),
                None,
                vec![],
                None,
            ),
            write,
        ),
        HttpError::ConnectionFailed(f) => transient(
            detail(
                format!("connection to Salesforce failed: {}", f.message),
                None,
                vec![],
                None,
            ),
            write && f.sent,
        ),
        HttpError::ResponseTooLarge(cap) => {
            let d = detail(
                format!("Salesforce's response exceeded the host's cap of {cap} bytes"),
                None,
                vec![],
                None,
            );
            if write {
                transient(d, true)
            } else {
                ProvisionError::Permanent(d)
            }
        }
        HttpError::TokenRefused(t) => {
            let d = detail(
                format!(
                    "the token endpoint refused the grant: {} {}",
                    t.error, t.description
                )
                .trim_end()
                .to_string(),
                Some(t.error.clone()).filter(|e| !e.is_empty()),
                vec![],
                t.status,
            );
            match t.status {
                None | Some(500..=599) => transient(d, false),
                Some(429) => ProvisionError::RateLimited(rate(d, None)),
                _ if t.error == "rate_limit_exceeded" => ProvisionError::RateLimited(rate(d, None)),
                _ => ProvisionError::AuthFailed(d),
            }
        }
    }
}

/// Builds an error detail.
pub fn detail(
    message: String,
    target_code: Option<String>,
    fields: Vec<String>,
    http_status: Option<u16>,
) -> ErrorDetail {
    ErrorDetail {
        message,
        target_code,
        fields,
        http_status,
    }
}

/// An invalid-data error.
pub fn invalid_data(
    message: String,
    target_code: Option<String>,
    fields: Vec<String>,
    http_status: Option<u16>,
) -> ProvisionError {
    ProvisionError::InvalidData(detail(message, target_code, fields, http_status))
}

/// A permanent error with only a message.
pub fn permanent(message: String) -> ProvisionError {
    provisioner_sdk::error::permanent(message)
}

/// A not-found error with only a message.
pub fn not_found(message: String) -> ProvisionError {
    provisioner_sdk::error::not_found(message)
}

/// An unsupported error with only a message.
pub fn unsupported(message: String) -> ProvisionError {
    provisioner_sdk::error::unsupported(message)
}

/// The Salesforce connector provisions users only: an `unsupported` error for a group, saying
/// what cannot be done (`what`, e.g. "are not provisioned").
pub fn groups_unsupported(what: &str) -> ProvisionError {
    unsupported(format!(
        "the Salesforce connector provisions users only; groups {what}"
    ))
}

/// A configuration that cannot be used: a permanent failure naming every problem.
pub fn invalid_config(problems: Vec<ConfigProblem>) -> ProvisionError {
    let text = problems
        .iter()
        .map(|p| match &p.key {
            Some(k) => format!("{k}: {}", p.message),
            None => p.message.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ");
    permanent(format!(
        "the Salesforce target's configuration is invalid: {text}"
    ))
}

/// The case name (as in the contract, e.g. `invalid-data`) and detail of an error.
pub fn case_of(err: &ProvisionError) -> (&'static str, &ErrorDetail) {
    (err.case(), err.detail())
}

/// A conflict with no known remote id.
pub fn conflict(message: String) -> ProvisionError {
    provisioner_sdk::error::conflict(message, None)
}

fn transient(detail: ErrorDetail, outcome_unknown: bool) -> ProvisionError {
    ProvisionError::Transient(TransientError {
        detail,
        outcome_unknown,
    })
}

fn rate(detail: ErrorDetail, retry_after_ms: Option<u64>) -> RateLimitError {
    RateLimitError {
        detail,
        retry_after_ms,
    }
}

/// `Retry-After` (seconds or an HTTP-date), as milliseconds.
fn retry_after_ms(response: &Response) -> Option<u64> {
    response.retry_after_ms()
}

/// Salesforce messages carry HTML line breaks.
fn clean(message: &str) -> String {
    message.replace("<br>", " ").trim().to_string()
}

/// At most [`BODY_QUOTE_MAX`] characters of a body, lossily decoded, on one line.
pub fn quote_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text
        .chars()
        .take(BODY_QUOTE_MAX)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(BODY_QUOTE_MAX).is_some() {
        out.push('…');
    }
    out.trim().to_string()
}
