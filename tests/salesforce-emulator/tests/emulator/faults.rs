//! Checklist item 20: fault injection, armed from Rust and over the control API.

use std::time::Duration;

use reqwest::Method;
use salesforce_emulator::{FaultKind, FaultSpec, Operation};
use serde_json::{json, Value};

use crate::common::{expect_error, merged, status_json, Ctx};

#[tokio::test]
async fn error_kinds_have_salesforce_shapes() {
    let ctx = Ctx::new().await;
    let cases = [
        (FaultKind::UnableToLockRow, 400, "UNABLE_TO_LOCK_ROW"),
        (FaultKind::ServerUnavailable, 503, "SERVER_UNAVAILABLE"),
        (FaultKind::UnknownException, 500, "UNKNOWN_EXCEPTION"),
        (FaultKind::ConcurrentLimit, 403, "REQUEST_LIMIT_EXCEEDED"),
    ];
    for (kind, status, code) in cases {
        ctx.emu
            .arm_fault(FaultSpec::new(Operation::Get, kind).once());
        let resp = ctx.get("sobjects/User/005000000000000AAA").await;
        assert!(resp.headers().get("sforce-limit-info").is_some());
        let err = expect_error(resp, status, code).await;
        if kind == FaultKind::ConcurrentLimit {
            assert_eq!(err["message"], "ConcurrentPerOrgLongTxn Limit exceeded.");
        }
        // Fired once: the next call is normal.
        expect_error(
            ctx.get("sobjects/User/005000000000000AAA").await,
            404,
            "NOT_FOUND",
        )
        .await;
    }
    ctx.emu
        .arm_fault(FaultSpec::new(Operation::Query, FaultKind::Html502).once());
    let (status, body) = ctx.query("SELECT Id FROM User").await;
    assert_eq!(status, 502);
    assert!(body.as_str().unwrap().contains("<html>"));
    assert_eq!(ctx.emu.counters().faults_fired, 5);
}

#[tokio::test]
async fn after_n_and_times() {
    let ctx = Ctx::new().await;
    ctx.emu.arm_fault(
        FaultSpec::new(Operation::Create, FaultKind::ServerUnavailable)
            .after(2)
            .times(2),
    );
    let mut statuses = Vec::new();
    for i in 0..6 {
        let resp = ctx
            .post("sobjects/User/", &merged(&format!("an{i}"), json!({})))
            .await;
        statuses.push(resp.status().as_u16());
        // Other operations are unaffected.
        assert_eq!(ctx.get("limits").await.status(), 200);
    }
    assert_eq!(statuses, [201, 201, 503, 503, 201, 201]);
    let faults = ctx.emu.faults();
    assert_eq!(faults[0].fired, 2);
    assert_eq!(ctx.emu.users().len(), 5);
}

#[tokio::test]
async fn apply_write_makes_the_outcome_unknown() {
    let ctx = Ctx::new().await;
    ctx.emu.arm_fault(
        FaultSpec::new(Operation::Create, FaultKind::UnknownException)
            .once()
            .apply_write(true),
    );
    let resp = ctx
        .post("sobjects/User/", &merged("unknown", json!({})))
        .await;
    expect_error(resp, 500, "UNKNOWN_EXCEPTION").await;
    assert!(ctx.emu.user_by_username("unknown@example.com").is_some());
    // A retry now sees the duplicate; a re-query finds it.
    let resp = ctx
        .post("sobjects/User/", &merged("unknown", json!({})))
        .await;
    expect_error(resp, 400, "DUPLICATE_USERNAME").await;

    // Without apply_write nothing is written.
    ctx.emu
        .arm_fault(FaultSpec::new(Operation::Create, FaultKind::UnableToLockRow).once());
    let resp = ctx
        .post("sobjects/User/", &merged("locked", json!({})))
        .await;
    expect_error(resp, 400, "UNABLE_TO_LOCK_ROW").await;
    assert!(ctx.emu.user_by_username("locked@example.com").is_none());
}

#[tokio::test]
async fn invalid_session_fault_revokes_the_token() {
    let ctx = Ctx::new().await;
    ctx.emu
        .arm_fault(FaultSpec::new(Operation::Query, FaultKind::InvalidSessionId).once());
    let (status, body) = ctx.query("SELECT Id FROM User").await;
    assert_eq!(status, 401);
    assert_eq!(body[0]["errorCode"], "INVALID_SESSION_ID");
    // The token is now dead everywhere.
    assert_eq!(ctx.get("limits").await.status(), 401);
}

#[tokio::test]
async fn delay_applies_the_write_after_the_client_gave_up() {
    let ctx = Ctx::new().await;
    ctx.emu
        .arm_fault(FaultSpec::delay(Operation::Create, 800).once());
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = impatient
        .post(ctx.data("sobjects/User/"))
        .bearer_auth(&ctx.token)
        .json(&merged("slow", json!({})))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(ctx.emu.user_by_username("slow@example.com").is_some());

    // A patient client gets the normal answer, late.
    ctx.emu
        .arm_fault(FaultSpec::delay(Operation::Get, 300).once());
    let started = std::time::Instant::now();
    let resp = ctx.get("limits").await;
    assert_eq!(resp.status(), 200);
    let resp = ctx.get("sobjects/User/005000000000000AAA").await;
    assert_eq!(resp.status(), 404);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn connection_reset_closes_without_a_response() {
    let ctx = Ctx::new().await;
    ctx.emu.arm_fault(
        FaultSpec::new(Operation::Create, FaultKind::ConnectionReset)
            .once()
            .apply_write(true),
    );
    let err = ctx
        .req(reqwest::Method::POST, "sobjects/User/")
        .json(&merged("reset", json!({})))
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_timeout(), "{err}");
    assert!(err.status().is_none());
    assert!(ctx.emu.user_by_username("reset@example.com").is_some());
    let log = ctx.emu.requests();
    assert_eq!(log.last().unwrap().status, 0);
    // The server keeps serving.
    assert_eq!(ctx.get("limits").await.status(), 200);

    ctx.emu
        .arm_fault(FaultSpec::new(Operation::Create, FaultKind::ConnectionReset).once());
    assert!(ctx
        .req(reqwest::Method::POST, "sobjects/User/")
        .json(&merged("reset2", json!({})))
        .send()
        .await
        .is_err());
    assert!(ctx.emu.user_by_username("reset2@example.com").is_none());
}

#[tokio::test]
async fn token_faults() {
    let ctx = Ctx::new().await;
    let c = ctx.emu.config();
    ctx.emu
        .arm_fault(FaultSpec::new(Operation::Token, FaultKind::ServerUnavailable).once());
    let send = || {
        ctx.http
            .post(ctx.emu.token_url())
            .basic_auth(&c.client_id, Some(&c.client_secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
    };
    assert_eq!(send().await.unwrap().status(), 503);
    assert_eq!(send().await.unwrap().status(), 200);
    assert_eq!(
        ctx.emu
            .counters()
            .token_count("client_credentials", "fault"),
        1
    );
}

#[tokio::test]
async fn probabilistic_faults_are_reproducible() {
    async fn run() -> Vec<u16> {
        let ctx = Ctx::new().await;
        ctx.emu.arm_fault(
            FaultSpec::new(Operation::Any, FaultKind::ServerUnavailable).probability(0.5),
        );
        let mut out = Vec::new();
        for _ in 0..30 {
            out.push(ctx.get("limits").await.status().as_u16());
        }
        out
    }
    let a = run().await;
    assert_eq!(a, run().await);
    let failures = a.iter().filter(|s| **s == 503).count();
    assert!(failures > 3 && failures < 27, "{a:?}");
}

#[tokio::test]
async fn faults_over_the_control_api() {
    let ctx = Ctx::new().await;
    let resp = ctx.control(Method::POST, "/__emulator__/faults")
        .json(&json!({"operation": "update", "kind": "UNABLE_TO_LOCK_ROW", "afterN": 1, "once": true}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 201, "{body}");
    let fault_id = body["id"].as_u64().unwrap();
    let id = ctx.create_user("ctl", json!({})).await;
    let path = format!("sobjects/User/{id}");
    assert_eq!(ctx.patch(&path, &json!({"Title": "a"})).await.status(), 204);
    expect_error(
        ctx.patch(&path, &json!({"Title": "b"})).await,
        400,
        "UNABLE_TO_LOCK_ROW",
    )
    .await;
    assert_eq!(ctx.patch(&path, &json!({"Title": "c"})).await.status(), 204);

    let list: Value = ctx
        .control(Method::GET, "/__emulator__/faults")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["id"], fault_id);
    assert_eq!(list[0]["fired"], 1);
    assert_eq!(list[0]["kind"], "UNABLE_TO_LOCK_ROW");

    // Arrays arm several; DELETE clears them.
    let resp = ctx.control(Method::POST, "/__emulator__/faults")
        .json(&json!([
            {"operation": "any", "kind": "SERVER_UNAVAILABLE"},
            {"operation": "update", "kind": "DEACTIVATION_REFUSED", "error_code": "X", "message": "no"}
        ]))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["ids"].as_array().unwrap().len(), 2);
    assert_eq!(ctx.get("limits").await.status(), 503);
    let resp = ctx
        .control(Method::DELETE, "/__emulator__/faults")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(ctx.get("limits").await.status(), 200);
    assert!(ctx.emu.faults().is_empty());
}
