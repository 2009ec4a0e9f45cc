//! The server seen from outside over real HTTP: `/metrics` after provisioning users into the
//! emulated Salesforce org (counters and a latency histogram that match the attempts stored,
//! in valid Prometheus text), `/healthz` and `/readyz` (503 while a target's connector cannot be
//! prepared), the optional metrics token, and request ids that reach the jobs a SCIM write
//! queued.

#[path = "support/org.rs"]
mod org_support;
#[path = "support/prometheus.rs"]
mod prometheus;
#[path = "support/scim_server.rs"]
mod scim_support;

use std::collections::BTreeMap;
use std::time::Duration;

use provisioner_engine::store::{JobFilter, JobRecord, JobState, TargetRecord};
use provisioner_engine::{UserChange, UserState};
use provisioner_server::quickstart;
use scim_support::{settled_jobs, Setup};
use serde_json::Value;

const PASSWORD: &str = "observability-test-password";

/// The tutorial's SCIM 1.x body for another user name (its email too when the name is one).
fn tutorial_body(user_name: &str) -> String {
    let mut body: Value = serde_json::from_str(quickstart::TUTORIAL_BODY).unwrap();
    body["userName"] = Value::from(user_name);
    if user_name.contains('@') {
        body["emails"] = serde_json::json!([user_name]);
    }
    body.to_string()
}

async fn create(s: &Setup, user_name: &str, request_id: Option<&str>) -> reqwest::Response {
    let mut request = s
        .http
        .post(format!("{}/wso2/scim/Users", s.base))
        .basic_auth(quickstart::ADMIN, Some(PASSWORD))
        .header("Content-Type", "application/json")
        .body(tutorial_body(user_name));
    if let Some(id) = request_id {
        request = request.header("X-Request-Id", id);
    }
    request.send().await.unwrap()
}

async fn the_target(s: &Setup) -> TargetRecord {
    let mut targets = s.server.engine().store().targets(None).await.unwrap();
    assert_eq!(targets.len(), 1, "the quickstart has one target");
    targets.remove(0)
}

async fn scrape(s: &Setup) -> prometheus::Scrape {
    let response = s
        .http
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    prometheus::parse(&text).unwrap_or_else(|error| panic!("{error}\n{text}"))
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_attempts_latency_and_dead_letters_of_the_target() {
    let s = scim_support::start(PASSWORD, |_| {}).await;
    let target = the_target(&s).await;
    let (tenant, name) = (target.spec.tenant.as_str(), target.spec.name.as_str());

    let users = ["m1@example.com", "m2@example.com", "m3@example.com"];
    for user in users {
        assert_eq!(create(&s, user, None).await.status(), 201);
    }
    // A user name that is not an email address: Salesforce refuses it, the job dead-letters.
    assert_eq!(create(&s, "not-an-email", None).await.status(), 201);
    let jobs = settled_jobs(&s, tenant).await;
    let done = jobs.iter().filter(|j| j.state == JobState::Done).count();
    let dead: Vec<&JobRecord> = jobs.iter().filter(|j| j.state == JobState::Dead).collect();
    assert_eq!((done, dead.len()), (3, 1), "{jobs:?}");
    let dead_kind = dead[0].error.as_ref().unwrap().kind.clone();

    let scrape = scrape(&s).await;
    let target_labels = |extra: &[(&str, &str)]| {
        let mut all = vec![("tenant", tenant), ("target", name)];
        all.extend_from_slice(extra);
        labels(&all)
    };
    // Every stored attempt is counted once, by call and outcome.
    let store = s.server.engine().store();
    let mut stored = BTreeMap::<(String, String), f64>::new();
    for job in &jobs {
        for attempt in store.attempts_for_job(job.id).await.unwrap() {
            *stored.entry((attempt.call, attempt.outcome)).or_default() += 1.0;
        }
    }
    assert_eq!(
        stored.get(&("create".into(), "ok".into())),
        Some(&3.0),
        "{stored:?}"
    );
    let mut counted = BTreeMap::<(String, String), f64>::new();
    for (series, value) in scrape.series("provisioner_attempts_total") {
        assert_eq!(
            (series["tenant"].as_str(), series["target"].as_str()),
            (tenant, name)
        );
        let outcome = match series["outcome"].as_str() {
            "error" => series["error_type"].clone(),
            ok => {
                assert_eq!(series["error_type"], "none");
                ok.to_owned()
            }
        };
        *counted
            .entry((series["call"].clone(), outcome))
            .or_default() += value;
    }
    assert_eq!(counted, stored, "the counters match the attempts stored");
    assert!(
        counted.contains_key(&("create".to_owned(), dead_kind.clone())),
        "the dead letter's failure is counted by its kind `{dead_kind}`: {counted:?}"
    );

    // The create latency histogram holds one observation per create attempt.
    let creates = counted
        .iter()
        .filter(|((call, _), _)| call == "create")
        .map(|(_, n)| n)
        .sum::<f64>();
    let histogram = scrape
        .histogram(
            "provisioner_connector_call_duration_seconds",
            &target_labels(&[("call", "create")]),
        )
        .expect("a create latency histogram for the target");
    assert_eq!(histogram.count, creates);
    assert_eq!(histogram.buckets.last(), Some(&(f64::INFINITY, creates)));
    assert!(histogram.sum > 0.0);

    let value = |metric: &str, extra: &[(&str, &str)]| {
        scrape
            .value(metric, &target_labels(extra))
            .unwrap_or_else(|| panic!("{metric} {extra:?} missing"))
    };
    assert_eq!(
        value("provisioner_jobs_finished_total", &[("state", "done")]),
        3.0
    );
    assert_eq!(
        value("provisioner_jobs_finished_total", &[("state", "dead")]),
        1.0
    );
    assert_eq!(value("provisioner_dead_letters", &[]), 1.0);
    for state in ["ready", "blocked", "running"] {
        assert_eq!(value("provisioner_jobs_open", &[("state", state)]), 0.0);
    }
    assert_eq!(
        value("provisioner_queue_oldest_ready_age_seconds", &[]),
        0.0
    );
    assert_eq!(
        value("provisioner_target_circuit_state", &[("state", "closed")]),
        1.0
    );
    assert_eq!(
        value("provisioner_target_circuit_state", &[("state", "open")]),
        0.0
    );
    assert_eq!(value("provisioner_target_connector_ready", &[]), 1.0);
    assert_eq!(
        scrape.value("provisioner_store_up", &labels(&[])),
        Some(1.0)
    );

    // An operator pause shows as the circuit state `paused`, a queued job as ready.
    s.server
        .engine()
        .pause_target(tenant, name, "maintenance")
        .await
        .unwrap();
    assert_eq!(create(&s, "m4@example.com", None).await.status(), 201);
    let scrape = scrape_until(&s, |scrape| {
        scrape.value(
            "provisioner_jobs_open",
            &target_labels(&[("state", "ready")]),
        ) == Some(1.0)
    })
    .await;
    assert_eq!(
        scrape.value(
            "provisioner_target_circuit_state",
            &target_labels(&[("state", "paused")])
        ),
        Some(1.0)
    );
    s.server.shutdown().await.unwrap();
}

/// Scrapes until `done` holds (the dispatcher and the registry run in the background).
async fn scrape_until(s: &Setup, done: impl Fn(&prometheus::Scrape) -> bool) -> prometheus::Scrape {
    for _ in 0..600 {
        let scrape = scrape(s).await;
        if done(&scrape) {
            return scrape;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the metrics never reached the expected state");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_while_a_targets_connector_cannot_be_prepared() {
    let s = scim_support::start(PASSWORD, |_| {}).await;
    let health = s
        .http
        .get(format!("{}/healthz", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.json::<Value>().await.unwrap()["status"], "ok");
    let ready = s
        .http
        .get(format!("{}/readyz", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["ready"], true);
    assert_eq!(body["store"], "ok");

    // A second target whose component is not a component.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.wasm");
    std::fs::write(&broken, b"this is not a WebAssembly component").unwrap();
    let mut spec = the_target(&s).await.spec;
    spec.name = "broken".into();
    spec.connector = broken.display().to_string();
    let store = s.server.engine().store();
    store.put_target(&spec).await.unwrap();

    // 503 from the moment it is stored (preparing), then with why preparing failed.
    let body = readyz_until(&s, 503, |body: &Value| {
        body["targets_not_ready"][0]["state"] != "preparing"
    })
    .await;
    assert_eq!(body["ready"], false);
    assert_eq!(body["store"], "ok");
    let not_ready = body["targets_not_ready"].as_array().unwrap();
    assert_eq!(not_ready.len(), 1, "{body}");
    assert_eq!(not_ready[0]["target"], "broken");
    assert_eq!(not_ready[0]["state"], "failed");
    let reason = not_ready[0]["reason"].as_str().unwrap();
    assert!(reason.contains("broken.wasm"), "{reason}");
    // Its connector shows as not ready in the metrics too.
    let scrape = scrape(&s).await;
    let broken_labels = labels(&[("tenant", spec.tenant.as_str()), ("target", "broken")]);
    assert_eq!(
        scrape.value("provisioner_target_connector_ready", &broken_labels),
        Some(0.0)
    );

    // Paused, the target no longer holds the server back.
    s.server
        .engine()
        .pause_target(&spec.tenant, "broken", "broken component")
        .await
        .unwrap();
    let body = readyz_until(&s, 200, |_: &Value| true).await;
    assert_eq!(body["ready"], true);
    assert_eq!(body["targets_not_ready"], Value::Array(Vec::new()));
    s.server.shutdown().await.unwrap();
}

/// Asks `/readyz` until it answers `status` with a body for which `done` holds; returns the
/// body.
async fn readyz_until(s: &Setup, status: u16, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..600 {
        let response = s
            .http
            .get(format!("{}/readyz", s.base))
            .send()
            .await
            .unwrap();
        if response.status() == status {
            let body: Value = response.json().await.unwrap();
            if done(&body) {
                return body;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("/readyz never answered {status} as expected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metrics_token_closes_metrics_but_not_health() {
    // The token as an operator gives it: a secret source, here a file.
    let secrets = tempfile::tempdir().unwrap();
    let token_file = secrets.path().join("metrics-token");
    std::fs::write(&token_file, "scrape-token-123\n").unwrap();
    let source = format!("file:{}", token_file.display());
    let s = scim_support::start(PASSWORD, |config| {
        config.server.metrics_token = Some(source);
    })
    .await;
    let url = format!("{}/metrics", s.base);
    let anonymous = s.http.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.text().await.unwrap().contains("metrics_token"));
    let wrong = s
        .http
        .get(&url)
        .bearer_auth("scrape-token-124")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    // SCIM credentials are not the metrics token.
    let scim = s
        .http
        .get(&url)
        .basic_auth(quickstart::ADMIN, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(scim.status(), 401);
    let right = s
        .http
        .get(&url)
        .bearer_auth("scrape-token-123")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    prometheus::parse(&right.text().await.unwrap()).unwrap();
    for open in ["healthz", "readyz"] {
        let response = s
            .http
            .get(format!("{}/{open}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{open}");
    }
    s.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scim_write_stores_its_request_id_on_the_jobs_it_queued() {
    let s = scim_support::start(PASSWORD, |_| {}).await;
    let store = s.server.engine().store().clone();

    let response = create(&s, "rid@example.com", Some("abc")).await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["x-request-id"], "abc");
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let queued = store.jobs_of_request("abc", 10).await.unwrap();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0].entity_id, id);
    assert_eq!(queued[0].request_id.as_deref(), Some("abc"));
    let by_id = store.job(queued[0].id).await.unwrap().unwrap();
    assert_eq!(by_id.request_id.as_deref(), Some("abc"));

    // Without a usable id the server makes one, echoes it and stores it the same way.
    for given in [None, Some("not a token"), Some(&*"x".repeat(65))] {
        let user = format!("rid-{}@example.com", given.map_or(0, str::len));
        let response = create(&s, &user, given).await;
        assert_eq!(response.status(), 201);
        let echoed = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_ne!(Some(echoed.as_str()), given);
        assert_eq!(echoed.len(), 32, "{echoed}");
        assert!(echoed.bytes().all(|b| b.is_ascii_hexdigit()), "{echoed}");
        let queued = store.jobs_of_request(&echoed, 10).await.unwrap();
        assert_eq!(queued.len(), 1, "{user}: {queued:?}");
    }

    // A read queues nothing but still gets an id; a request outside SCIM too.
    let read = s
        .http
        .get(format!("{}/scim/v2/Users/{id}", s.base))
        .basic_auth(quickstart::ADMIN, Some(PASSWORD))
        .header("X-Request-Id", "read-1")
        .send()
        .await
        .unwrap();
    assert_eq!(read.headers()["x-request-id"], "read-1");
    assert!(store
        .jobs_of_request("read-1", 10)
        .await
        .unwrap()
        .is_empty());
    let health = s
        .http
        .get(format!("{}/healthz", s.base))
        .header("X-Request-Id", "probe-7")
        .send()
        .await
        .unwrap();
    assert_eq!(health.headers()["x-request-id"], "probe-7");

    // A change made outside any request queues jobs without one.
    let receipt = s
        .server
        .engine()
        .apply_user_change(
            quickstart::TENANT,
            UserChange::Create(UserState {
                id: "outside".into(),
                user_name: "outside@example.com".into(),
                ..UserState::default()
            }),
        )
        .await
        .unwrap();
    assert_eq!(receipt.jobs.len(), 1);
    let outside = store.job(receipt.jobs[0].job_id).await.unwrap().unwrap();
    assert_eq!(outside.request_id, None);
    let all = store.list_jobs(&JobFilter::default()).await.unwrap();
    assert_eq!(all.iter().filter(|job| job.request_id.is_none()).count(), 1);
    s.server.shutdown().await.unwrap();
}
