//! `provision-batch`: each change applied in order by the single-change logic, one result each.

mod common;

use common::*;
use salesforce_connector::*;

#[test]
fn a_batch_applies_each_change_in_order_with_one_result_each() {
    let mut update = alice(Operation::Update);
    update.remote_id = Some(ID.into());
    update.claims[1].values = vec!["Jones".into()];
    update.changed_claims = vec![format!("{WSO2}lastname")];
    let mut group = user(Operation::Create, "Engineering", &[]);
    group.kind = EntityKind::Group;
    let bob = user(
        Operation::Create,
        "bob@example.com",
        &[
            ("givenname", "Bob"),
            ("lastname", "Brown"),
            ("emailaddress", "bob@example.com"),
        ],
    );
    let changes =
        [alice(Operation::Create), bob.clone(), group, update.clone()].map(|c| c.change());
    let host = FakeHost::new(vec![
        created(ID),
        sf_error(
            400,
            "DUPLICATE_USERNAME",
            "Duplicate Username.",
            &["Username"],
        ),
        no_content(),
    ]);
    let results = provision_batch(&host, &c0(), &changes);
    assert_eq!(results.len(), changes.len());
    assert_eq!(results[0].as_ref().unwrap().remote_id.as_deref(), Some(ID));
    assert_eq!(case(results[1].as_ref().unwrap_err()), "invalid-data");
    assert_eq!(case(results[2].as_ref().unwrap_err()), "unsupported");
    assert_eq!(results[3].as_ref().unwrap().remote_id.as_deref(), Some(ID));

    // The requests are those of the changes one at a time, in the same order.
    let sent = host.sent();
    assert_eq!(sent.len(), 3);
    assert_eq!(host.json(0)["Username"], "alice@example.com");
    assert_eq!(host.json(1)["Username"], "bob@example.com");
    assert_eq!(host.text(2), r#"{"LastName":"Jones"}"#);
    for (i, change) in [alice(Operation::Create), bob, update].iter().enumerate() {
        let single = FakeHost::new(vec![created(ID)]);
        let _ = provision(&single, &c0(), &change.change());
        assert_eq!(single.sent()[0], sent[i], "request {i}");
    }
}

#[test]
fn an_empty_batch_sends_nothing() {
    let host = FakeHost::new(vec![]);
    assert!(provision_batch(&host, &c0(), &[]).is_empty());
    assert!(host.sent().is_empty());
}

#[test]
fn a_bad_configuration_fails_every_change_of_a_batch() {
    let config = without(c0(), "sf-domain-name");
    let changes = [alice(Operation::Create), alice(Operation::Update)].map(|c| c.change());
    let host = FakeHost::new(vec![]);
    let results = provision_batch(&host, &config, &changes);
    assert_eq!(results.len(), 2);
    for result in &results {
        let err = result.as_ref().unwrap_err();
        assert_eq!(case(err), "permanent");
        assert!(detail(err).message.contains("sf-domain-name"));
    }
    assert!(host.sent().is_empty());
}
