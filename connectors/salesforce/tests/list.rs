//! `max-batch-size` and `list-entities`.

mod common;

use common::*;
use salesforce_connector::*;

#[test]
fn batches_hold_up_to_one_collection_request() {
    assert_eq!(metadata().max_batch_size, 200);
}

#[test]
fn listing_is_unsupported_without_requests() {
    for cursor in [None, Some(ID.to_string())] {
        let host = FakeHost::new(vec![]);
        let request = ListRequest {
            kind: EntityKind::User,
            cursor,
            page_size: 100,
        };
        let err = list_entities(&host, &c0(), &request).unwrap_err();
        assert_eq!(case(&err), "unsupported");
        assert!(detail(&err).message.contains("cannot list users"));
        assert!(host.sent().is_empty());
    }

    let host = FakeHost::new(vec![]);
    let request = ListRequest {
        kind: EntityKind::Group,
        cursor: None,
        page_size: 100,
    };
    let err = list_entities(&host, &c0(), &request).unwrap_err();
    assert_eq!(case(&err), "unsupported");
    assert!(detail(&err).message.contains("users only"));
    assert!(host.sent().is_empty());
}
