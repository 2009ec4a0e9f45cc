//! End to end: the built-in Salesforce connector component, run by the sandbox runtime,
//! provisions a batch through sObject Collections into the Salesforce emulator over loopback
//! HTTP, and the emulator counts one API call per collection request.

#[path = "../../host/server/tests/support/org.rs"]
mod org_support;

use org_support::org;

use provisioner_contract::{Change, Operation, ProvisionError};
use provisioner_runtime::{EgressPolicy, Runtime, RuntimeConfig, TargetInstance};
use provisioner_server::tutorial;
use salesforce_emulator::{
    Emulator, EmulatorConfig, FaultKind, FaultSpec, Operation as SfOperation, Seed,
};

const COLLECTIONS_PATH: &str = "/services/data/v62.0/composite/sobjects";

async fn start() -> (Emulator, TargetInstance) {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let runtime = Runtime::builder(RuntimeConfig::default()).build().unwrap();
    let (connector, _) = runtime
        .load_bytes(builtin_connectors::SALESFORCE.bytes.to_vec())
        .await
        .unwrap();
    let config = tutorial::tutorial_target(&org(&emulator), EgressPolicy::loopback());
    let target = TargetInstance::new(&runtime, connector, config).unwrap();
    (emulator, target)
}

fn create(name: &str, email: &str) -> Change {
    tutorial::user(
        Operation::Create,
        name,
        None,
        &[("emailaddress", email), ("lastname", "Tester")],
        &[],
    )
}

/// REST calls by `"METHOD /path"` since start.
fn calls(emulator: &Emulator, method_path: &str) -> u64 {
    emulator
        .counters()
        .by_path
        .get(method_path)
        .copied()
        .unwrap_or(0)
}

#[tokio::test]
async fn a_batch_of_five_creates_with_two_bad_is_one_api_call_with_per_change_results() {
    let (emulator, target) = start().await;
    assert_eq!(target.batch_size(), 200);
    emulator
        .seed(Seed {
            add_other_org_usernames: vec!["taken@example.com".into()],
            ..Seed::default()
        })
        .unwrap();
    let changes = [
        create("ann@example.com", "ann@example.com"),
        create("taken@example.com", "taken@example.com"),
        create("ben@example.com", "ben@example.com"),
        create("cat@example.com", "not-an-email"),
        create("dan@example.com", "dan@example.com"),
    ];
    let api_calls_before = emulator.counters().api_calls;
    let results = target.provision_batch(&changes).await.unwrap();
    assert_eq!(results.len(), 5);

    for (i, name) in [
        (0, "ann@example.com"),
        (2, "ben@example.com"),
        (4, "dan@example.com"),
    ] {
        let outcome = results[i]
            .as_ref()
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let id = outcome.remote_id.as_deref().expect("a new record id");
        let user = emulator.user(id).expect("the record exists");
        assert_eq!(user.username(), name);
        assert!(user.is_active());
    }
    let expect = [(1, "DUPLICATE_USERNAME"), (3, "INVALID_EMAIL_ADDRESS")];
    for (i, code) in expect {
        match results[i].as_ref().unwrap_err() {
            ProvisionError::InvalidData(d) => {
                assert_eq!(d.target_code.as_deref(), Some(code), "{d:?}");
                assert_eq!(d.http_status, Some(400));
            }
            other => panic!("change {i}: expected invalid-data, got {other:?}"),
        }
    }
    assert!(emulator.user_by_username("cat@example.com").is_none());

    let counters = emulator.counters();
    let api_calls = counters.api_calls - api_calls_before;
    let tokens: u64 = counters
        .token_requests
        .values()
        .flat_map(|outcomes| outcomes.values())
        .sum();
    eprintln!(
        "batch of 5 creates: {api_calls} API call(s), {tokens} token request(s), requests: {:?}",
        counters.by_path
    );
    assert_eq!(
        api_calls, 1,
        "one collection request counts as one API call"
    );
    assert_eq!(calls(&emulator, &format!("POST {COLLECTIONS_PATH}")), 1);
    assert_eq!(tokens, 1, "one token, obtained once");
    assert_eq!(
        calls(&emulator, "POST /services/data/v62.0/sobjects/User/"),
        0
    );
}

#[tokio::test]
async fn updates_and_deactivations_share_one_patch_and_an_outage_fails_the_whole_batch() {
    let (emulator, target) = start().await;
    let names = ["ann@example.com", "ben@example.com", "cat@example.com"];
    let created = target
        .provision_batch(&names.map(|n| create(n, n)))
        .await
        .unwrap();
    let ids: Vec<String> = created
        .iter()
        .map(|r| r.as_ref().unwrap().remote_id.clone().unwrap())
        .collect();

    let update = tutorial::user(
        Operation::Update,
        names[0],
        Some(ids[0].clone()),
        &[("emailaddress", names[0]), ("lastname", "Renamed")],
        &["lastname"],
    );
    let delete = tutorial::user(Operation::Delete, names[1], Some(ids[1].clone()), &[], &[]);
    let results = target.provision_batch(&[update, delete]).await.unwrap();
    assert_eq!(
        results[0].as_ref().unwrap().remote_id.as_deref(),
        Some(ids[0].as_str())
    );
    assert!(results[1].is_ok(), "{:?}", results[1]);
    assert_eq!(
        emulator.user(&ids[0]).unwrap().text("LastName"),
        Some("Renamed")
    );
    let deactivated = emulator.user(&ids[1]).unwrap();
    assert!(!deactivated.is_active());
    assert!(deactivated.username().starts_with("deactivated."));
    assert_eq!(calls(&emulator, &format!("PATCH {COLLECTIONS_PATH}")), 1);
    assert_eq!(emulator.counters().delete_attempts, 0);

    // The org is unavailable for the next create request: both changes fail the same way, each
    // with its outcome unknown (the host looks each user up before sending it again).
    emulator.arm_fault(
        FaultSpec::new(SfOperation::Create, FaultKind::ServerUnavailable)
            .apply_write(true)
            .once(),
    );
    let results = target
        .provision_batch(&[
            create("dan@example.com", "dan@example.com"),
            create("eve@example.com", "eve@example.com"),
        ])
        .await
        .unwrap();
    for r in &results {
        match r.as_ref().unwrap_err() {
            ProvisionError::Transient(t) => {
                assert!(t.outcome_unknown);
                assert_eq!(t.detail.http_status, Some(503));
            }
            other => panic!("expected transient, got {other:?}"),
        }
    }
    assert!(
        emulator.user_by_username("dan@example.com").is_some(),
        "the write happened"
    );
}
