//! The error-mapping table: every Salesforce code and status the reference names, and failures
//! to get a response at all.

mod common;

use common::*;
use salesforce_connector::errors::{from_http_error, from_response, Action};
use salesforce_connector::*;

fn response(status: u16, body: &str) -> Response {
    resp(status, body).unwrap()
}

fn sf(status: u16, code: &str, message: &str, fields: &[&str]) -> Response {
    sf_error(status, code, message, fields).unwrap()
}

/// (action, status, code, message, fields, expected case, expected outcome-unknown for transients)
type Row = (
    Action,
    u16,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
    bool,
);

#[test]
fn salesforce_codes_map_to_cases() {
    use Action::*;
    let rows: &[Row] = &[
        (
            Create,
            401,
            "INVALID_SESSION_ID",
            "Session expired or invalid",
            &[],
            "auth-failed",
            false,
        ),
        (
            Create,
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
            &[],
            "quota-exhausted",
            false,
        ),
        (
            Update,
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "ConcurrentPerOrgLongTxn Limit exceeded.",
            &[],
            "rate-limited",
            false,
        ),
        (
            Create,
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "Something else exceeded.",
            &[],
            "rate-limited",
            false,
        ),
        (
            Update,
            400,
            "UNABLE_TO_LOCK_ROW",
            "unable to obtain exclusive access to this record",
            &[],
            "transient",
            false,
        ),
        (
            Update,
            500,
            "UNABLE_TO_LOCK_ROW",
            "unable to obtain exclusive access to this record",
            &[],
            "transient",
            true,
        ),
        (
            Create,
            503,
            "SERVER_UNAVAILABLE",
            "Server Unavailable",
            &[],
            "transient",
            true,
        ),
        (
            Create,
            500,
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred.",
            &[],
            "transient",
            true,
        ),
        (
            Query,
            500,
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred.",
            &[],
            "transient",
            false,
        ),
        (
            Create,
            400,
            "DUPLICATE_USERNAME",
            "Duplicate Username.",
            &["Username"],
            "invalid-data",
            false,
        ),
        (
            Create,
            400,
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing: [Alias, Email]",
            &["Alias", "Email"],
            "invalid-data",
            false,
        ),
        (
            Create,
            400,
            "FIELD_INTEGRITY_EXCEPTION",
            "Username must be in the form of an email address",
            &["Username"],
            "invalid-data",
            false,
        ),
        (
            Create,
            400,
            "MALFORMED_ID",
            "Profile ID: id value of incorrect type: 2F00e6F000003nIYI",
            &["ProfileId"],
            "invalid-data",
            false,
        ),
        (
            Create,
            400,
            "INVALID_CROSS_REFERENCE_KEY",
            "invalid cross reference id",
            &["ProfileId"],
            "invalid-data",
            false,
        ),
        (
            Update,
            400,
            "INVALID_CROSS_REFERENCE_KEY",
            "invalid cross reference id",
            &["ProfileId"],
            "invalid-data",
            false,
        ),
        (
            Update,
            404,
            "INVALID_CROSS_REFERENCE_KEY",
            "invalid cross reference id",
            &[],
            "not-found",
            false,
        ),
        (
            Update,
            404,
            "NOT_FOUND",
            "The requested resource does not exist",
            &[],
            "not-found",
            false,
        ),
        (
            Create,
            404,
            "NOT_FOUND",
            "The requested resource does not exist",
            &[],
            "permanent",
            false,
        ),
        (
            Create,
            400,
            "STRING_TOO_LONG",
            "Alias: data value too large: Alexandria (max length=8)",
            &["Alias"],
            "invalid-data",
            false,
        ),
        (
            Create,
            400,
            "INVALID_EMAIL_ADDRESS",
            "Email: invalid email address: x",
            &["Email"],
            "invalid-data",
            false,
        ),
        (
            Create,
            400,
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "Locale: bad value for restricted picklist field: 1990-01-01",
            &["LanguageLocaleKey"],
            "invalid-data",
            false,
        ),
        (
            Create,
            400,
            "INVALID_FIELD",
            "No such column 'Foo' on sobject of type User",
            &[],
            "invalid-data",
            false,
        ),
        (
            Create,
            400,
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            "Unable to create/update fields: Name.",
            &["Name"],
            "invalid-data",
            false,
        ),
        (
            Update,
            400,
            "JSON_PARSER_ERROR",
            "Cannot deserialize instance of boolean",
            &[],
            "invalid-data",
            false,
        ),
        (
            Create,
            400,
            "DUPLICATE_COMM_NICKNAME",
            "Duplicate Nickname.",
            &["CommunityNickname"],
            "invalid-data",
            false,
        ),
        (
            Update,
            400,
            "LICENSE_LIMIT_EXCEEDED",
            "License Limit Exceeded",
            &[],
            "permanent",
            false,
        ),
        (
            Create,
            403,
            "API_DISABLED_FOR_ORG",
            "The REST API is not enabled for this Organization.",
            &[],
            "permanent",
            false,
        ),
        (
            Create,
            405,
            "METHOD_NOT_ALLOWED",
            "HTTP Method 'DELETE' not allowed.",
            &[],
            "permanent",
            false,
        ),
        (
            Query,
            400,
            "MALFORMED_QUERY",
            "unexpected token",
            &[],
            "permanent",
            false,
        ),
        (
            Query,
            400,
            "INVALID_FIELD",
            "No such column 'Foo' on entity 'User'",
            &[],
            "permanent",
            false,
        ),
        (
            Create,
            410,
            "GONE",
            "retired API version",
            &[],
            "permanent",
            false,
        ),
        (
            Create,
            400,
            "SOME_FUTURE_CODE",
            "a field rule",
            &["Title"],
            "invalid-data",
            false,
        ),
        (
            Create,
            400,
            "SOME_FUTURE_CODE",
            "a rule",
            &[],
            "permanent",
            false,
        ),
        (
            Create,
            502,
            "SOME_EDGE_CODE",
            "edge",
            &[],
            "transient",
            true,
        ),
        (Create, 420, "EDGE_ROUTING", "edge", &[], "transient", false),
    ];
    for (action, status, code, message, fields, expected, unknown) in rows {
        let err = from_response(*action, &sf(*status, code, message, fields));
        assert_eq!(case(&err), *expected, "{action:?} {status} {code}");
        let d = detail(&err);
        assert_eq!(d.target_code.as_deref(), Some(*code));
        assert_eq!(d.http_status, Some(*status));
        assert_eq!(
            d.fields,
            fields.iter().map(|f| f.to_string()).collect::<Vec<_>>()
        );
        assert!(d.message.contains(message), "{}", d.message);
        if let ProvisionError::Transient(t) = &err {
            assert_eq!(t.outcome_unknown, *unknown, "{action:?} {status} {code}");
        }
        if let ProvisionError::RateLimited(r) | ProvisionError::QuotaExhausted(r) = &err {
            assert_eq!(r.retry_after_ms, None, "Salesforce sends no hint");
        }
    }
}

#[test]
fn unparseable_bodies_are_quoted_and_classed_by_status() {
    let html = format!(
        "<html><body>502 Bad Gateway{}</body></html>",
        "x".repeat(500)
    );
    let err = from_response(Action::Create, &response(502, &html));
    let ProvisionError::Transient(t) = &err else {
        panic!("{err:?}")
    };
    assert!(t.outcome_unknown);
    assert!(t.detail.message.contains("<html><body>502 Bad Gateway"));
    assert!(t.detail.message.chars().count() < 300, "bounded");

    for (status, body, expected) in [
        (503, "Service Unavailable", "transient"),
        (400, "not json", "permanent"),
        (400, r#"{"unexpected":"shape"}"#, "permanent"),
        (400, "[]", "permanent"),
        (404, "", "permanent"),
        (401, "", "auth-failed"),
        (405, "", "permanent"),
    ] {
        let err = from_response(Action::Create, &response(status, body));
        assert_eq!(case(&err), expected, "{status} {body}");
        assert_eq!(detail(&err).http_status, Some(status));
    }
    let err = from_response(Action::Update, &response(404, "<html>gone</html>"));
    assert_eq!(case(&err), "not-found");
}

#[test]
fn several_errors_keep_every_field() {
    let body = r#"[{"message":"a","errorCode":"STRING_TOO_LONG","fields":["Alias"]},
                   {"message":"b","errorCode":"INVALID_EMAIL_ADDRESS","fields":["Email"]}]"#;
    let err = from_response(Action::Create, &response(400, body));
    let d = detail(&err);
    assert_eq!(case(&err), "invalid-data");
    assert_eq!(d.fields, vec!["Alias".to_string(), "Email".into()]);
    assert_eq!(d.target_code.as_deref(), Some("STRING_TOO_LONG"));
    assert!(d.message.contains("INVALID_EMAIL_ADDRESS: b"));
}

#[test]
fn retry_after_is_honoured_on_429() {
    let mut r = response(429, "");
    r.headers.push(("Retry-After".into(), "7".into()));
    let err = from_response(Action::Create, &r);
    let ProvisionError::RateLimited(rl) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(rl.retry_after_ms, Some(7000));
    let mut r = sf(429, "REQUEST_LIMIT", "slow down", &[]);
    r.headers.push(("retry-after".into(), "7".into()));
    let ProvisionError::RateLimited(rl) = from_response(Action::Create, &r) else {
        panic!()
    };
    assert_eq!(rl.retry_after_ms, Some(7000));
}

#[test]
fn transport_failures() {
    let failed = |sent| {
        HttpError::ConnectionFailed(ConnectionFailure {
            message: "reset".into(),
            sent,
        })
    };
    let rows = [
        (Action::Create, HttpError::Timeout, "transient", true),
        (Action::Update, HttpError::Timeout, "transient", true),
        (Action::Query, HttpError::Timeout, "transient", false),
        (Action::Create, failed(true), "transient", true),
        (Action::Create, failed(false), "transient", false),
        (Action::Query, failed(true), "transient", false),
        (
            Action::Create,
            HttpError::ResponseTooLarge(1024),
            "transient",
            true,
        ),
        (
            Action::Query,
            HttpError::ResponseTooLarge(1024),
            "permanent",
            false,
        ),
        (
            Action::Create,
            HttpError::Denied("origin not allowed".into()),
            "permanent",
            false,
        ),
        (
            Action::Create,
            HttpError::InvalidRequest("bad header".into()),
            "permanent",
            false,
        ),
    ];
    for (action, error, expected, unknown) in rows {
        let err = from_http_error(action, &error);
        assert_eq!(case(&err), expected, "{action:?} {error:?}");
        if let ProvisionError::Transient(t) = &err {
            assert_eq!(t.outcome_unknown, unknown, "{action:?} {error:?}");
        }
    }
    let refused = |status, error: &str| {
        HttpError::TokenRefused(TokenError {
            status,
            error: error.into(),
            description: "d".into(),
        })
    };
    for (status, error, expected) in [
        (Some(400), "invalid_grant", "auth-failed"),
        (Some(400), "invalid_client", "auth-failed"),
        (Some(400), "invalid_client_id", "auth-failed"),
        (Some(400), "unsupported_grant_type", "auth-failed"),
        (Some(500), "server_error", "transient"),
        (None, "unreachable", "transient"),
        (Some(429), "rate_limit_exceeded", "rate-limited"),
        (Some(400), "rate_limit_exceeded", "rate-limited"),
    ] {
        let err = from_http_error(Action::Create, &refused(status, error));
        assert_eq!(case(&err), expected, "{status:?} {error}");
        assert_eq!(detail(&err).target_code.as_deref(), Some(error));
    }
}

#[test]
fn a_create_answered_without_an_id_is_of_unknown_outcome() {
    let host = FakeHost::new(vec![resp(201, r#"{"success":true}"#)]);
    let err = provision(&host, &c0(), &alice(Operation::Create).change()).unwrap_err();
    let ProvisionError::Transient(t) = &err else {
        panic!("{err:?}")
    };
    assert!(t.outcome_unknown);
}
