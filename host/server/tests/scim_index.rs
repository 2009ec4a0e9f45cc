//! Lists answered from the store's indexes give exactly what evaluating the filter on every
//! resource gives, and a filter no index answers is refused past the scan limit instead of
//! reading an unbounded tenant.

use provisioner_engine::store::Store;
use provisioner_engine::Engine;
use provisioner_server::backend::EngineBackend;
use scim::config::ScimConfig;
use scim::kind::{Group, ScimResourceKind, User};
use scim::list::ListQuery;
use scim::ops::{self, Ctx};
use scim::schema::ResourceKind;
use scim::{filter, ScimBackend, TenantId};
use serde_json::{json, Value};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

async fn backend(dir: &tempfile::TempDir) -> EngineBackend {
    let url = format!("sqlite:{}", dir.path().join("scim.db").display());
    EngineBackend::new(Engine::new(Store::open(&url).await.unwrap()))
}

fn ctx(tenant: &str) -> Ctx {
    Ctx::new(TenantId::new(tenant), "https://idp.example/scim/v2")
}

/// Every resource of `kind`, rendered, read by scanning (no index involved).
async fn every<K: ScimResourceKind>(b: &EngineBackend, ctx: &Ctx) -> Vec<Value> {
    let all = K::scan(b, &ctx.tenant, None, usize::MAX).await.unwrap();
    K::render_stored(b, &ctx.tenant, &ctx.base, &all)
        .await
        .unwrap()
}

fn ids(list: &Value) -> Vec<String> {
    let mut ids: Vec<String> = list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn indexed_lists_agree_with_evaluating_every_resource() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(&dir).await;
    let c = ctx("acme");
    let mut user_ids = Vec::new();
    for (i, (name, ext, emails, display)) in [
        (
            "BJensen@example.com",
            Some("E-1"),
            vec!["bjensen@example.com", "Babs@Home.org"],
            Some("Barbara"),
        ),
        (
            "jsmith@example.com",
            Some("e-1"),
            vec!["JSmith@Example.com"],
            None,
        ),
        ("ärne@example.com", None, vec![], Some("Ärne")),
        (
            "bob@other.org",
            Some("E-2"),
            vec!["bob@other.org"],
            Some("barbara"),
        ),
        ("carol@example.com", None, vec!["shared@example.com"], None),
        (
            "dave@example.com",
            Some("E-3"),
            vec!["shared@example.com"],
            Some("Dave"),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let mut body = json!({"schemas": [USER], "userName": name, "title": format!("t{i}")});
        if let Some(ext) = ext {
            body["externalId"] = json!(ext);
        }
        if let Some(display) = display {
            body["displayName"] = json!(display);
        }
        body["emails"] = json!(emails
            .iter()
            .map(|e| json!({"value": e, "type": "work"}))
            .collect::<Vec<_>>());
        let u = ops::create::<_, User>(&b, &c, body).await.unwrap();
        user_ids.push(u.id);
    }
    // Another tenant's users never show up.
    ops::create::<_, User>(
        &b,
        &ctx("other"),
        json!({"schemas": [USER], "userName": "BJensen@example.com", "externalId": "E-1"}),
    )
    .await
    .unwrap();
    let sales = ops::create::<_, Group>(
        &b,
        &c,
        json!({"schemas": [GROUP], "displayName": "Sales", "externalId": "G-1",
               "members": [{"value": user_ids[0]}, {"value": user_ids[3]}]}),
    )
    .await
    .unwrap();
    ops::create::<_, Group>(
        &b,
        &c,
        json!({"schemas": [GROUP], "displayName": "Sales EMEA",
               "members": [{"value": user_ids[3]}, {"value": sales.id}]}),
    )
    .await
    .unwrap();
    let config = ScimConfig::default();

    let user_filters = [
        r#"userName eq "bjensen@EXAMPLE.com""#.to_owned(),
        r#"userName eq "ÄRNE@example.com""#.to_owned(),
        r#"userName sw "b""#.to_owned(),
        r#"userName pr"#.to_owned(),
        r#"externalId eq "E-1""#.to_owned(),
        r#"externalId eq "e-1""#.to_owned(),
        r#"externalId pr"#.to_owned(),
        r#"emails.value eq "babs@home.org""#.to_owned(),
        r#"emails eq "shared@example.com""#.to_owned(),
        r#"emails[value eq "JSMITH@example.com"]"#.to_owned(),
        r#"displayName eq "BARBARA""#.to_owned(),
        format!(r#"id eq "{}""#, user_ids[2]),
        r#"userName eq "bob@other.org" or externalId eq "E-3""#.to_owned(),
        r#"emails eq "shared@example.com" and displayName pr"#.to_owned(),
        r#"meta.lastModified gt "2000-01-01T00:00:00Z""#.to_owned(),
        r#"meta.created lt "2000-01-01T00:00:00Z""#.to_owned(),
    ];
    let users = every::<User>(&b, &c).await;
    for f in &user_filters {
        let parsed = filter::parse_filter(f).unwrap();
        assert!(
            scim::index::plan(ResourceKind::User, Some(&parsed)).is_some(),
            "{f} should be answered by the indexes"
        );
        let mut expected: Vec<String> = users
            .iter()
            .filter(|u| filter::matches(&parsed, ResourceKind::User, u))
            .map(|u| u["id"].as_str().unwrap().to_owned())
            .collect();
        expected.sort();
        let query = ListQuery::from_params(&[("filter".into(), f.clone())]).unwrap();
        let got = ops::list(&b, &c, &[ResourceKind::User], &query, &config)
            .await
            .unwrap();
        assert_eq!(ids(&got), expected, "{f}");
        assert_eq!(got["totalResults"], expected.len(), "{f}");
    }

    let groups = every::<Group>(&b, &c).await;
    for f in [
        r#"displayName eq "sales""#.to_owned(),
        r#"displayName sw "Sales""#.to_owned(),
        r#"externalId eq "G-1""#.to_owned(),
        format!(r#"members[value eq "{}"]"#, user_ids[3]),
        format!(
            r#"id eq "{}" and members[value eq "{}"]"#,
            sales.id, user_ids[0]
        ),
        format!(
            r#"id eq "{}" and members[value eq "{}"]"#,
            sales.id, user_ids[1]
        ),
        format!(r#"members.value eq "{}""#, sales.id),
    ] {
        let parsed = filter::parse_filter(&f).unwrap();
        assert!(
            scim::index::plan(ResourceKind::Group, Some(&parsed)).is_some(),
            "{f}"
        );
        let mut expected: Vec<String> = groups
            .iter()
            .filter(|g| filter::matches(&parsed, ResourceKind::Group, g))
            .map(|g| g["id"].as_str().unwrap().to_owned())
            .collect();
        expected.sort();
        let query = ListQuery::from_params(&[
            ("filter".into(), f.clone()),
            ("excludedAttributes".into(), "members".into()),
        ])
        .unwrap();
        let got = ops::list(&b, &c, &[ResourceKind::Group], &query, &config)
            .await
            .unwrap();
        assert_eq!(ids(&got), expected, "{f}");
        for g in got["Resources"].as_array().unwrap() {
            assert!(g.get("members").is_none(), "{g}");
        }
    }

    // Paging and sorting in the store: pages of 4 by userName cover everyone once, in order.
    let mut seen = Vec::new();
    for start in [1, 5] {
        let query = ListQuery::from_params(&[
            ("sortBy".into(), "userName".into()),
            ("startIndex".into(), start.to_string()),
            ("count".into(), "4".into()),
        ])
        .unwrap();
        let page = ops::list(&b, &c, &[ResourceKind::User], &query, &config)
            .await
            .unwrap();
        assert_eq!(page["totalResults"], 6);
        for u in page["Resources"].as_array().unwrap() {
            seen.push(u["userName"].as_str().unwrap().to_lowercase());
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);
    assert_eq!(seen.len(), 6);

    // A user's groups come from the membership rows.
    let bob = b.get_user(&c.tenant, &user_ids[3]).await.unwrap();
    let rendered = User::render_stored(&b, &c.tenant, &c.base, &[bob])
        .await
        .unwrap();
    let mut names: Vec<&str> = rendered[0]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["display"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["Sales", "Sales EMEA"]);
}

#[tokio::test]
async fn unindexed_filters_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(&dir).await;
    let c = ctx("acme");
    for i in 0..12 {
        ops::create::<_, User>(
            &b,
            &c,
            json!({"schemas": [USER], "userName": format!("user{i}@example.com"),
                   "title": if i % 3 == 0 { "Lead" } else { "Member" }}),
        )
        .await
        .unwrap();
    }
    let roomy = ScimConfig::default();
    let tight = ScimConfig {
        max_filter_scan: 10,
        ..ScimConfig::default()
    };
    let title = ListQuery::from_params(&[("filter".into(), r#"title eq "Lead""#.into())]).unwrap();
    let found = ops::list(&b, &c, &[ResourceKind::User], &title, &roomy)
        .await
        .unwrap();
    assert_eq!(found["totalResults"], 4);

    let refused = ops::list(&b, &c, &[ResourceKind::User], &title, &tight)
        .await
        .unwrap_err();
    let body = refused.to_json();
    assert_eq!(body["scimType"], "tooMany", "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("userName"),
        "{body}"
    );

    // What the indexes answer is not limited by the scan bound.
    let by_name =
        ListQuery::from_params(&[("filter".into(), r#"userName eq "USER7@example.com""#.into())])
            .unwrap();
    let found = ops::list(&b, &c, &[ResourceKind::User], &by_name, &tight)
        .await
        .unwrap();
    assert_eq!(found["totalResults"], 1);
    let all = ListQuery::from_params(&[("count".into(), "100".into())]).unwrap();
    let found = ops::list(&b, &c, &[ResourceKind::User], &all, &tight)
        .await
        .unwrap();
    assert_eq!(found["totalResults"], 12);
    assert_eq!(found["Resources"].as_array().unwrap().len(), 12);
}

#[tokio::test]
async fn users_stored_without_documents_are_indexed_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(&dir).await;
    let c = ctx("acme");
    // A user as an earlier version stored it: claims only, no document, no search keys.
    let claim = |n: &str| format!("http://wso2.org/claims/{n}");
    let state = provisioner_engine::UserState {
        id: "legacy-1".into(),
        user_name: "old@example.com".into(),
        claims: [
            (claim("externalid"), vec!["EXT-9".to_owned()]),
            (claim("emailaddress"), vec!["old@example.com".to_owned()]),
            (claim("lastname"), vec!["Old".to_owned()]),
        ]
        .into(),
        ..Default::default()
    };
    b.engine()
        .apply_user_change("acme", provisioner_engine::UserChange::Create(state))
        .await
        .unwrap();
    let by_external =
        ListQuery::from_params(&[("filter".into(), r#"externalId eq "EXT-9""#.into())]).unwrap();
    let config = ScimConfig::default();
    let before = ops::list(&b, &c, &[ResourceKind::User], &by_external, &config)
        .await
        .unwrap();
    assert_eq!(before["totalResults"], 0);

    assert_eq!(b.index_legacy().await.unwrap(), 1);
    assert_eq!(
        b.index_legacy().await.unwrap(),
        0,
        "indexing twice does nothing"
    );
    let after = ops::list(&b, &c, &[ResourceKind::User], &by_external, &config)
        .await
        .unwrap();
    assert_eq!(after["totalResults"], 1, "{after}");
    let user = &after["Resources"][0];
    assert_eq!(user["name"]["familyName"], "Old");
    assert_eq!(
        user["meta"]["version"], "W/\"1\"",
        "indexing is not a change"
    );
    let by_email = ListQuery::from_params(&[(
        "filter".into(),
        r#"emails.value eq "OLD@example.com""#.into(),
    )])
    .unwrap();
    let found = ops::list(&b, &c, &[ResourceKind::User], &by_email, &config)
        .await
        .unwrap();
    assert_eq!(found["totalResults"], 1);
}
