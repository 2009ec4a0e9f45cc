//! Explain, dry run and provision on demand against the Salesforce emulator through the real
//! connector component: the tutorial user's twelve fields with their claims and defaults, the
//! exact body the org then receives, a dry run that reaches neither the org nor its token
//! endpoint, an out-of-scope user with the reason, and a user provisioned on demand.

#[path = "../../engine/tests/engine_support/mod.rs"]
mod engine_support;
#[path = "support/salesforce.rs"]
mod salesforce_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use engine_support::*;
use provisioner_engine::mapping::FieldSource;
use provisioner_engine::store::{JobState, OutboundSettings};
use provisioner_engine::{Engine, GroupChange, GroupState, UserState};
use provisioner_runtime::{EgressPolicy, Exchange, ExchangeKind, HttpObserver, Runtime};
use provisioner_runtime::{RuntimeConfig, TargetInstance};
use provisioner_server::explain::{self, ExplainError, DRY_RUN_REMOTE_ID};
use provisioner_server::tutorial::{claim, TUTORIAL_MAPPING, TUTORIAL_USER_NAME};
use provisioner_server::Registry;
use salesforce_emulator::Emulator;
use salesforce_support::*;
use serde_json::Value;

/// Keeps every real exchange the runtime makes.
#[derive(Default)]
struct Recorder(Mutex<Vec<Exchange>>);

impl HttpObserver for Recorder {
    fn on_exchange(&self, exchange: &Exchange) {
        self.0.lock().unwrap().push(exchange.clone());
    }
}

/// A registry whose runtime reports every real exchange to the returned recorder.
fn recorded_registry() -> (Registry, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let runtime = Runtime::builder(RuntimeConfig::default())
        .observer(recorder.clone())
        .build()
        .unwrap();
    (
        Registry::with_runtime(runtime, EgressPolicy::loopback()),
        recorder,
    )
}

/// The tutorial's user as its SCIM request maps it: user name, email and last name.
fn tutorial_user() -> UserState {
    UserState {
        id: "samuel".into(),
        user_name: TUTORIAL_USER_NAME.into(),
        claims: [
            (claim("emailaddress"), vec![TUTORIAL_USER_NAME.to_owned()]),
            (claim("lastname"), vec!["Gnaniah".to_owned()]),
        ]
        .into(),
        roles: vec![],
        document: None,
        search_keys: Vec::new(),
    }
}

fn settings() -> OutboundSettings {
    OutboundSettings {
        max_attempts: 3,
        backoff_base_ms: 10,
        backoff_cap_ms: 50,
        ..OutboundSettings::default()
    }
}

/// A JSON scalar as text (Salesforce answers booleans as booleans).
fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The emulator has seen no API call and no token request.
fn assert_untouched(emulator: &Emulator) {
    let counters = emulator.counters();
    assert_eq!(counters.api_calls, 0, "{counters:?}");
    assert!(counters.token_requests.is_empty(), "{counters:?}");
    assert!(counters.by_path.is_empty(), "{counters:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tutorial_user_is_explained_field_by_field_with_the_body_the_org_then_receives() {
    let emulator = Emulator::start(roomy_org()).await.unwrap();
    let (store, dir) = store().await;
    salesforce_target(&store, &emulator, "sf", settings(), dir.path()).await;
    let engine = Engine::new(store.clone());
    create(&engine, tutorial_user()).await;
    let (registry, recorder) = recorded_registry();

    // By user name (in another case) and by id: the same explanation.
    let explained = explain::explain(&engine, &registry, TENANT, "sf", "Samuel@WSO2.com")
        .await
        .unwrap();
    let by_id = explain::explain(&engine, &registry, TENANT, "sf", "samuel")
        .await
        .unwrap();
    assert_eq!(explained, by_id);
    assert!(explained.in_scope);
    assert!(explained.scope.roles.matched && explained.scope.filter.matched);
    assert_eq!(explained.operation.as_deref(), Some("create"));
    assert_eq!(explained.remote_id, None);

    // Every one of the tutorial's twelve fields, with its claim or default.
    assert_eq!(explained.fields.len(), 12);
    for ((field, local, default), explained_field) in TUTORIAL_MAPPING.iter().zip(&explained.fields)
    {
        let shown = &explained_field.mapped;
        assert_eq!(shown.field, *field);
        assert_eq!(shown.claim.as_deref(), Some(claim(local).as_str()));
        assert_eq!(shown.default_value.as_deref(), Some(*default));
        let from_claim = matches!(*field, "Email" | "LastName" | "Username");
        let (source, value) = match *field {
            "Email" | "Username" => (FieldSource::Claim, TUTORIAL_USER_NAME),
            "LastName" => (FieldSource::Claim, "Gnaniah"),
            _ => (FieldSource::Default, *default),
        };
        assert_eq!(shown.source, source, "{field} (from claim: {from_claim})");
        assert_eq!(shown.value.as_deref(), Some(value), "{field}");
        // The connector sent each field as mapped (the pattern's Username is the email here).
        assert_eq!(explained_field.sent.as_deref(), Some(value), "{field}");
        assert_eq!(explained_field.connector, None, "{field}");
    }

    // The dry run's requests: the host's token request, then the connector's create; the
    // credentials redacted, and nothing reached the org.
    let kinds: Vec<(&str, &str)> = explained
        .requests
        .iter()
        .map(|r| (r.kind.as_str(), r.method.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [("token", "POST"), ("api", "POST")],
        "{explained:#?}"
    );
    let create = &explained.requests[1];
    assert!(create.url.ends_with("/sobjects/User/"), "{}", create.url);
    assert_eq!(create.headers["authorization"], "[REDACTED]");
    assert!(!serde_json::to_string(&explained)
        .unwrap()
        .contains(&emulator.config().client_secret));
    assert_eq!(explained.dry_run_outcome.as_deref(), Some("ok"));
    assert!(explained
        .notes
        .iter()
        .any(|n| n.contains("nothing was sent")));
    assert_untouched(&emulator);
    assert!(recorder.0.lock().unwrap().is_empty());

    // Provisioned for real, the org receives exactly the body explain showed.
    dispatcher(&engine, Arc::new(registry.clone()))
        .run_until_idle()
        .await
        .unwrap();
    let sent: Vec<Exchange> = recorder
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.kind == ExchangeKind::Api && e.method == "POST")
        .cloned()
        .collect();
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let real_body: Value = serde_json::from_slice(&sent[0].request_body).unwrap();
    assert_eq!(real_body, create.body);
    assert_eq!(sent[0].url, create.url);
    let record = emulator.user_by_username(TUTORIAL_USER_NAME).unwrap();
    for (field, value) in create.body.as_object().unwrap() {
        let (stored, sent) = (text(&record.get(field)), text(value));
        // Salesforce stores a 15-character id in its 18-character form.
        let same_id = sent.len() == 15 && stored.len() == 18 && stored.starts_with(&sent);
        assert!(
            stored == sent || same_id,
            "{field}: sent {sent}, stored {stored}"
        );
    }

    // Once provisioned, a job would update the remote record with every field.
    let again = explain::explain(&engine, &registry, TENANT, "sf", "samuel")
        .await
        .unwrap();
    assert_eq!(again.operation.as_deref(), Some("update"));
    let remote_id = again.remote_id.clone().unwrap();
    assert_ne!(remote_id, DRY_RUN_REMOTE_ID);
    let patch = again.requests.iter().find(|r| r.kind == "api").unwrap();
    assert_eq!(patch.method, "PATCH");
    assert!(patch.url.ends_with(&format!("/sobjects/User/{remote_id}")));
    assert_eq!(patch.body["LastName"], "Gnaniah");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_out_of_scope_user_is_explained_with_the_reason_and_nothing_is_sent() {
    let emulator = Emulator::start(roomy_org()).await.unwrap();
    let (store, dir) = store().await;
    let sales_only = OutboundSettings {
        provisioning_roles: vec!["sales".into()],
        ..settings()
    };
    salesforce_target(&store, &emulator, "sf", sales_only, dir.path()).await;
    let engine = Engine::new(store.clone());
    create(&engine, sf_user("hr-only", "Hr")).await;
    let mut grouped = sf_user("grouped", "Grouped");
    grouped.roles = vec!["hr".into()];
    create(&engine, grouped).await;
    engine
        .apply_group_change(
            TENANT,
            GroupChange::Create(GroupState {
                id: "g-sales".into(),
                display_name: "sales".into(),
                members: vec!["grouped".into()],
                ..GroupState::default()
            }),
        )
        .await
        .unwrap();
    let registry = registry();

    let out = explain::explain(&engine, &registry, TENANT, "sf", "hr-only@example.com")
        .await
        .unwrap();
    assert!(!out.in_scope);
    assert!(!out.scope.roles.matched);
    assert_eq!(out.scope.roles.required, ["sales"]);
    assert_eq!(out.operation, None);
    assert!(out.requests.is_empty());
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains("not in scope") && n.contains("sales")),
        "{:?}",
        out.notes
    );
    // Provisioning it on demand is refused with the same reason.
    let refused = explain::provision_now(&engine, TENANT, "sf", "hr-only", Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, ExplainError::Refused(why) if why.contains("not in the scope")),
        "{refused}"
    );

    // A group named after the role brings its member into scope.
    let member = explain::explain(&engine, &registry, TENANT, "sf", "grouped")
        .await
        .unwrap();
    assert!(member.in_scope, "{member:#?}");
    assert_eq!(member.scope.roles.via_groups, ["sales"]);
    assert_eq!(member.scope.roles.held, ["hr", "sales"]);
    assert_eq!(member.operation.as_deref(), Some("create"));

    let missing = explain::explain(&engine, &registry, TENANT, "sf", "nobody")
        .await
        .unwrap_err();
    assert!(
        matches!(missing, ExplainError::UserNotFound(_)),
        "{missing}"
    );
    let no_target = explain::explain(&engine, &registry, TENANT, "nope", "grouped")
        .await
        .unwrap_err();
    assert!(matches!(no_target, ExplainError::TargetNotFound(_)));
    assert_untouched(&emulator);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_provisioned_on_demand_returns_its_attempt() {
    let emulator = Emulator::start(roomy_org()).await.unwrap();
    let (store, dir) = store().await;
    let engine = Engine::new(store.clone());
    // The user exists before the target, so no change queued a job for it.
    create(&engine, sf_user("late", "Late")).await;
    salesforce_target(&store, &emulator, "sf", settings(), dir.path()).await;
    let (stop, run) = start(dispatcher(&engine, registry()));

    let result = explain::provision_now(
        &engine,
        TENANT,
        "late@example.com",
        "late",
        Duration::from_secs(1),
    )
    .await
    .unwrap_err();
    assert!(matches!(result, ExplainError::TargetNotFound(_)));

    let result = explain::provision_now(&engine, TENANT, "sf", "late", Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(result.state, JobState::Done, "{result:#?}");
    let create = result
        .attempts
        .iter()
        .find(|a| a.call == "create")
        .unwrap_or_else(|| panic!("{result:#?}"));
    assert_eq!(create.outcome, "ok");
    assert_eq!(create.operation.as_deref(), Some("create"));
    let remote_id = create.remote_id.clone().unwrap();
    assert_eq!(
        result.outcome.remote_id.as_deref(),
        Some(remote_id.as_str())
    );
    assert_eq!(create.fields.as_ref().unwrap()["LastName"], "Late");
    let record = emulator.user(&remote_id).unwrap();
    assert_eq!(record.get("Username").as_str(), Some("late@example.com"));
    let _ = stop.send(());
    run.await.unwrap().unwrap();
    emulator.shutdown().await;
}

/// The instance-level transport keeps a dry run off the runtime's transport even when the
/// runtime's own would reach a live org.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_instance_never_uses_the_runtime_transport_or_its_tokens() {
    let emulator = Emulator::start(roomy_org()).await.unwrap();
    let (store, dir) = store().await;
    let target = salesforce_target(&store, &emulator, "sf", settings(), dir.path()).await;
    let (registry, recorder) = recorded_registry();
    let instance: TargetInstance = registry
        .placeholder_instance(&target, "placeholder")
        .await
        .unwrap();
    let dry = Arc::new(explain::DryRun::default());
    let instance = instance.with_transport(dry.clone(), dry.clone());
    let engine = Engine::new(store.clone());
    create(&engine, sf_user("d", "Dry")).await;
    let user = store.user(TENANT, "d").await.unwrap().unwrap();
    let preview = engine.preview_user(&target, user).await.unwrap();
    let outcome = instance.provision(&preview.change.unwrap()).await.unwrap();
    assert_eq!(outcome.remote_id.as_deref(), Some(DRY_RUN_REMOTE_ID));
    assert_eq!(dry.requests().len(), 2);
    assert!(recorder.0.lock().unwrap().is_empty());
    assert_eq!(registry.runtime().tokens().token_requests(), 0);
    assert_untouched(&emulator);
    emulator.shutdown().await;
}
