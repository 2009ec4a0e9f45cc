//! Concurrent SCIM writes over real HTTP: no lock is shared between tenants (one tenant's
//! blocking target does not hold up another tenant's writes), and uniqueness and versions are
//! enforced by the database when writes race.

#[path = "support/org.rs"]
mod org_support;
#[path = "support/scim_server.rs"]
mod scim_support;

use scim_support::Setup;
use std::time::Duration;

use provisioner_engine::store::{JobFilter, JobState};
use provisioner_server::config::{BearerCredential, TenantConfig};
use provisioner_server::quickstart;
use salesforce_emulator::{FaultSpec, Operation};
use serde_json::{json, Value};

const SLOW_TOKEN: &str = "slow-tenant-token-0123456789";
const OTHER_TOKEN: &str = "other-tenant-token-0123456789";

/// The quickstart tenant (`carbon.super`) with its Salesforce target made blocking, and a
/// second tenant `other.example` without targets; each has a bearer token.
async fn setup() -> Setup {
    scim_support::start("unused", |config| {
        let slow = &mut config.tenants[0];
        slow.bearer.push(BearerCredential {
            label: "slow".into(),
            token: SLOW_TOKEN.into(),
        });
        let outbound = &mut slow.targets[0].outbound;
        outbound.blocking = true;
        outbound.timeout_ms = 5_000;
        config.tenants.push(TenantConfig {
            name: "other.example".into(),
            bearer: vec![BearerCredential {
                label: "other".into(),
                token: OTHER_TOKEN.into(),
            }],
            ..TenantConfig::default()
        });
    })
    .await
}

fn user(name: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name,
           "name": {"familyName": "Racer", "givenName": "Rae"},
           "emails": [{"value": "rae@example.com", "primary": true}]})
}

async fn post_user(http: &reqwest::Client, base: &str, token: &str, body: &Value) -> (u16, Value) {
    let response = http
        .post(format!("{base}/scim/v2/Users"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_target_of_one_tenant_does_not_hold_up_another_tenant() {
    let s = setup().await;
    // The org answers user creates only after far longer than the blocking wait.
    s.emulator
        .arm_fault(FaultSpec::delay(Operation::Create, 60_000));

    let slow = {
        let (http, base) = (s.http.clone(), s.base.clone());
        tokio::spawn(
            async move { post_user(&http, &base, SLOW_TOKEN, &user("slow@example.com")).await },
        )
    };
    // Wait until the slow tenant's change is committed and its job is at the target: from
    // here on its POST is waiting for the blocking outcome.
    let store = s.server.engine().store().clone();
    let running = JobFilter {
        tenant: Some(quickstart::TENANT.into()),
        state: Some(JobState::Running),
        ..JobFilter::default()
    };
    let mut polls = 0;
    while store.list_jobs(&running).await.unwrap().is_empty() {
        polls += 1;
        assert!(
            polls < 600,
            "the slow tenant's job never reached the target"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !slow.is_finished(),
        "the blocking POST returned before its job ran"
    );

    let (status, created) =
        post_user(&s.http, &s.base, OTHER_TOKEN, &user("quick@example.com")).await;
    assert_eq!(status, 201, "{created}");
    assert!(
        !slow.is_finished(),
        "the other tenant's POST waited for the slow tenant's blocking target"
    );

    // The blocking POST ends at its timeout with the change committed.
    let (status, body) = slow.await.unwrap();
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["userName"], "slow@example.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_creates_of_one_user_name_in_different_case_give_one_201_and_one_409() {
    let s = setup().await;
    for round in 0..10 {
        let (a, b) = (
            user(&format!("Race{round}@Example.com")),
            user(&format!("race{round}@example.COM")),
        );
        let ((sa, ba), (sb, bb)) = tokio::join!(
            post_user(&s.http, &s.base, OTHER_TOKEN, &a),
            post_user(&s.http, &s.base, OTHER_TOKEN, &b),
        );
        let mut statuses = [sa, sb];
        statuses.sort();
        assert_eq!(statuses, [201, 409], "round {round}: {ba} {bb}");
        let conflict = if sa == 409 { ba } else { bb };
        assert_eq!(conflict["scimType"], "uniqueness", "{conflict}");
    }
    let listed: Value = s
        .http
        .get(format!("{}/scim/v2/Users?count=100", s.base))
        .bearer_auth(OTHER_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["totalResults"], 10, "{listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_replaces_of_one_version_give_one_200_and_one_412() {
    let s = setup().await;
    let (status, created) = post_user(&s.http, &s.base, OTHER_TOKEN, &user("v@example.com")).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let mut version = created["meta"]["version"].as_str().unwrap().to_owned();
    for round in 0..5 {
        let put = |title: &str| {
            let mut body = user("v@example.com");
            body["title"] = json!(title);
            s.http
                .put(format!("{}/scim/v2/Users/{id}", s.base))
                .bearer_auth(OTHER_TOKEN)
                .header("If-Match", &version)
                .json(&body)
                .send()
        };
        let (a, b) = tokio::join!(put("first"), put("second"));
        let (a, b) = (a.unwrap(), b.unwrap());
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 412], "round {round}");
        let winner = if a.status() == 200 { a } else { b };
        let body: Value = winner.json().await.unwrap();
        version = body["meta"]["version"].as_str().unwrap().to_owned();
        assert_eq!(version, format!("W/\"{}\"", round + 2));
    }
}
