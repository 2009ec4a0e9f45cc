//! Checklist items 8-12: creating users and every validation rule.

use serde_json::{json, Value};

use crate::common::{expect_error, merged, Ctx};

async fn create_error(ctx: &Ctx, name: &str, overrides: Value, code: &str) -> Value {
    let resp = ctx.post("sobjects/User/", &merged(name, overrides)).await;
    expect_error(resp, 400, code).await
}

#[tokio::test]
async fn create_succeeds_with_the_salesforce_shape() {
    let ctx = Ctx::new().await;
    let before = ctx.emu.licences_remaining();
    let resp = ctx.post("sobjects/user/", &merged("ok", json!({}))).await;
    assert_eq!(resp.status(), 201);
    assert_eq!(
        resp.headers()["content-type"],
        "application/json;charset=UTF-8"
    );
    assert!(resp.headers()["sforce-limit-info"]
        .to_str()
        .unwrap()
        .starts_with("api-usage=1/"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["success"], true);
    assert_eq!(body["errors"], json!([]));
    let id = body["id"].as_str().unwrap();
    assert_eq!(id.len(), 18);
    assert!(id.starts_with("005"));
    assert_eq!(
        salesforce_emulator::ids::to18(&id[..15]).as_deref(),
        Some(id)
    );
    let user = ctx.emu.user(id).unwrap();
    assert!(user.is_active());
    assert_eq!(user.text("CommunityNickname"), Some("ok"));
    let profile18 = salesforce_emulator::ids::to18("00e5g000001AbCd").unwrap();
    assert_eq!(user.text("ProfileId"), Some(profile18.as_str()));
    assert_eq!(ctx.emu.licences_remaining(), before - 1);
}

#[tokio::test]
async fn community_nicknames_are_generated_unique() {
    let ctx = Ctx::new().await;
    let a = ctx.create_user("same", json!({})).await;
    let b = ctx
        .create_user("same", json!({"Username": "same@other.example.com"}))
        .await;
    let na = ctx
        .emu
        .user(&a)
        .unwrap()
        .text("CommunityNickname")
        .unwrap()
        .to_string();
    let nb = ctx
        .emu
        .user(&b)
        .unwrap()
        .text("CommunityNickname")
        .unwrap()
        .to_string();
    assert_eq!(na, "same");
    assert_ne!(na.to_lowercase(), nb.to_lowercase());
    // An explicit duplicate is refused.
    let err = create_error(
        &ctx,
        "third",
        json!({"CommunityNickname": "SAME"}),
        "DUPLICATE_COMM_NICKNAME",
    )
    .await;
    assert_eq!(err["fields"], json!(["CommunityNickname"]));
}

#[tokio::test]
async fn required_fields_are_listed() {
    let ctx = Ctx::new().await;
    let err = create_error(
        &ctx,
        "req",
        json!({"LastName": "__remove__", "Email": "__remove__"}),
        "REQUIRED_FIELD_MISSING",
    )
    .await;
    assert_eq!(
        err["message"],
        "Required fields are missing: [LastName, Email]"
    );
    assert_eq!(err["fields"], json!(["LastName", "Email"]));

    let resp = ctx.post("sobjects/User/", &json!({})).await;
    let err = expect_error(resp, 400, "REQUIRED_FIELD_MISSING").await;
    assert_eq!(
        err["message"],
        "Required fields are missing: [Username, LastName, Email, Alias, TimeZoneSidKey, LocaleSidKey, EmailEncodingKey, ProfileId, LanguageLocaleKey]"
    );
    // Empty strings and nulls count as missing.
    let err = create_error(
        &ctx,
        "req2",
        json!({"Alias": "", "LastName": null}),
        "REQUIRED_FIELD_MISSING",
    )
    .await;
    assert_eq!(err["fields"], json!(["LastName", "Alias"]));
}

#[tokio::test]
async fn id_unknown_and_read_only_fields() {
    let ctx = Ctx::new().await;
    let err = create_error(
        &ctx,
        "id",
        json!({"Id": "005000000000001"}),
        "INVALID_FIELD",
    )
    .await;
    assert_eq!(
        err["message"],
        "The Id field should not be specified in the sobject data."
    );
    let err = create_error(&ctx, "unk", json!({"Shoe_Size__c": "9"}), "INVALID_FIELD").await;
    assert_eq!(
        err["message"],
        "No such column 'Shoe_Size__c' on sobject of type User"
    );
    for field in [
        "CreatedDate",
        "LastModifiedDate",
        "SystemModstamp",
        "CreatedById",
        "LastModifiedById",
        "Name",
    ] {
        let err = create_error(
            &ctx,
            "ro",
            json!({ field: "x" }),
            "INVALID_FIELD_FOR_INSERT_UPDATE",
        )
        .await;
        assert_eq!(err["fields"], json!([field]));
        assert!(
            err["message"]
                .as_str()
                .unwrap()
                .starts_with(&format!("Unable to create/update fields: {field}.")),
            "{err}"
        );
    }
    // Field names are case-insensitive; an `attributes` object is ignored.
    let id = ctx
        .create_user(
            "case",
            json!({"title": "Engineer", "attributes": {"type": "User"}}),
        )
        .await;
    assert_eq!(ctx.emu.user(&id).unwrap().text("Title"), Some("Engineer"));
}

#[tokio::test]
async fn username_rules() {
    let ctx = Ctx::new().await;
    let err = create_error(
        &ctx,
        "u",
        json!({"Username": "not-an-email"}),
        "FIELD_INTEGRITY_EXCEPTION",
    )
    .await;
    assert_eq!(
        err["message"],
        "Username must be in the form of an email address (for example, john@acme.com)"
    );
    assert_eq!(err["fields"], json!(["Username"]));

    ctx.create_user("dup", json!({})).await;
    let dup_msg = "Duplicate Username.<br>The username already exists in this or another Salesforce organization. Usernames must be unique across all Salesforce organizations. To resolve, use a different username (it doesn't need to match the user's email address). ";
    let err = create_error(
        &ctx,
        "x",
        json!({"Username": "DUP@Example.com"}),
        "DUPLICATE_USERNAME",
    )
    .await;
    assert_eq!(err["message"], dup_msg);
    assert_eq!(err["fields"], json!(["Username"]));
    // Taken in another org.
    let err = create_error(
        &ctx,
        "x",
        json!({"Username": "Taken@Other-Org.example.com"}),
        "DUPLICATE_USERNAME",
    )
    .await;
    assert_eq!(err["message"], dup_msg);
}

#[tokio::test]
async fn lengths_are_enforced() {
    let ctx = Ctx::new().await;
    let cases = [
        ("Alias", "Alias", 8),
        ("FirstName", "First Name", 40),
        ("LastName", "Last Name", 80),
        ("CommunityNickname", "Nickname", 40),
        ("Title", "Title", 80),
        ("CompanyName", "Company Name", 80),
        ("Department", "Department", 80),
        ("City", "City", 40),
        ("FederationIdentifier", "SAML Federation ID", 512),
    ];
    for (field, label, max) in cases {
        let ok = "é".repeat(max);
        ctx.create_user(
            &format!("len{}", field.to_lowercase()),
            json!({ field: ok }),
        )
        .await;
        let long = "a".repeat(max + 1);
        let err = create_error(
            &ctx,
            "toolong",
            json!({ field: long.clone() }),
            "STRING_TOO_LONG",
        )
        .await;
        assert_eq!(
            err["message"],
            format!("{label}: data value too large: {long} (max length={max})")
        );
        assert_eq!(err["fields"], json!([field]));
    }
    let long_user = format!("{}@example.com", "u".repeat(70));
    let err = create_error(&ctx, "x", json!({"Username": long_user}), "STRING_TOO_LONG").await;
    assert!(err["message"]
        .as_str()
        .unwrap()
        .ends_with("(max length=80)"));
    let long_email = format!("{}@example.com", "e".repeat(120));
    let err = create_error(&ctx, "x", json!({"Email": long_email}), "STRING_TOO_LONG").await;
    assert!(err["message"]
        .as_str()
        .unwrap()
        .ends_with("(max length=128)"));
}

#[tokio::test]
async fn email_and_picklists() {
    let ctx = Ctx::new().await;
    let err = create_error(&ctx, "e", json!({"Email": "nope"}), "INVALID_EMAIL_ADDRESS").await;
    assert_eq!(err["message"], "Email: invalid email address: nope");
    assert_eq!(err["fields"], json!(["Email"]));

    let cases = [
        ("TimeZoneSidKey", "Time Zone", "Mars/Olympus_Mons"),
        ("LocaleSidKey", "Locale", "xx_XX"),
        ("LanguageLocaleKey", "Language", "klingon"),
        ("EmailEncodingKey", "Email Encoding", "UTF-16"),
    ];
    for (field, label, bad) in cases {
        let err = create_error(
            &ctx,
            "p",
            json!({ field: bad }),
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        )
        .await;
        assert_eq!(
            err["message"],
            format!("{label}: bad value for restricted picklist field: {bad}")
        );
        assert_eq!(err["fields"], json!([field]));
    }
    for tz in ["GMT", "Europe/London", "Asia/Colombo", "America/New_York"] {
        ctx.create_user(&format!("tz{}", tz.len()), json!({"TimeZoneSidKey": tz, "Username": format!("{}@tz.example.com", tz.replace('/', "."))})).await;
    }
    for enc in [
        "UTF-8",
        "ISO-8859-1",
        "Shift_JIS",
        "ISO-2022-JP",
        "EUC-JP",
        "ks_c_5601-1987",
        "Big5",
        "GB2312",
    ] {
        ctx.create_user(
            &format!("enc{}", enc.to_lowercase()),
            json!({"EmailEncodingKey": enc}),
        )
        .await;
    }
    for (locale, lang) in [
        ("en_GB", "en_GB"),
        ("fr", "fr"),
        ("de", "de"),
        ("ja", "ja"),
        ("es", "es"),
    ] {
        ctx.create_user(
            &format!("loc{locale}"),
            json!({"LocaleSidKey": locale, "LanguageLocaleKey": lang}),
        )
        .await;
    }
}

#[tokio::test]
async fn profile_id_cases() {
    let ctx = Ctx::new().await;
    let err = create_error(&ctx, "p", json!({"ProfileId": "abc"}), "MALFORMED_ID").await;
    assert_eq!(
        err["message"],
        "Profile ID: id value of incorrect type: abc"
    );
    assert_eq!(err["fields"], json!(["ProfileId"]));
    let err = create_error(
        &ctx,
        "p",
        json!({"ProfileId": "001D000000IqhSL"}),
        "FIELD_INTEGRITY_EXCEPTION",
    )
    .await;
    assert_eq!(
        err["message"],
        "Profile ID: id value of incorrect type: 001D000000IqhSL"
    );
    let err = create_error(
        &ctx,
        "p",
        json!({"ProfileId": "00e5g000009ZzZz"}),
        "INVALID_CROSS_REFERENCE_KEY",
    )
    .await;
    assert_eq!(err["fields"], json!(["ProfileId"]));
    // The Chatter Free profile exists, in 15 and 18-char forms.
    let id18 = salesforce_emulator::ids::to18("00e90000001aV2o").unwrap();
    let id = ctx.create_user("chatter", json!({"ProfileId": id18})).await;
    assert_eq!(
        ctx.emu.user(&id).unwrap().text("ProfileId"),
        Some(id18.as_str())
    );
    ctx.create_user("chatter15", json!({"ProfileId": "00e90000001aV2o"}))
        .await;
}

#[tokio::test]
async fn json_errors() {
    let ctx = Ctx::new().await;
    let err = expect_error(
        ctx.post_raw("sobjects/User/", "").await,
        400,
        "JSON_PARSER_ERROR",
    )
    .await;
    assert_eq!(
        err["message"],
        "The HTTP entity body is required, but this request has no entity body."
    );
    let err = expect_error(
        ctx.post_raw("sobjects/User/", "{\"LastName\": ").await,
        400,
        "JSON_PARSER_ERROR",
    )
    .await;
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("[line:1, column:"),
        "{err}"
    );
    let err = expect_error(
        ctx.post_raw("sobjects/User/", "[1]").await,
        400,
        "JSON_PARSER_ERROR",
    )
    .await;
    assert!(
        err["message"].as_str().unwrap().contains("START_ARRAY"),
        "{err}"
    );
    // Invalid UTF-8.
    let mut bytes = serde_json::to_vec(&merged("utf", json!({}))).unwrap();
    let pos = bytes.windows(3).position(|w| w == b"Doe").unwrap();
    bytes[pos] = 0xff;
    let err = expect_error(
        ctx.post_raw("sobjects/User/", bytes).await,
        400,
        "JSON_PARSER_ERROR",
    )
    .await;
    assert!(
        err["message"].as_str().unwrap().contains("Invalid UTF-8"),
        "{err}"
    );
    // Wrong JSON types.
    let err = create_error(
        &ctx,
        "t",
        json!({"IsActive": "banana"}),
        "JSON_PARSER_ERROR",
    )
    .await;
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .starts_with("Cannot deserialize instance of boolean from VALUE_STRING value banana or request may be missing a required field at [line:1, column:"),
        "{err}"
    );
    create_error(
        &ctx,
        "t",
        json!({"UserPermissionsMarketingUser": "true"}),
        "JSON_PARSER_ERROR",
    )
    .await;
    let err = create_error(&ctx, "t", json!({"Phone": 5551234}), "JSON_PARSER_ERROR").await;
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("VALUE_NUMBER_INT value 5551234"),
        "{err}"
    );
}

#[tokio::test]
async fn non_ascii_is_stored_faithfully() {
    let ctx = Ctx::new().await;
    let id = ctx
        .create_user(
            "unicode",
            json!({"LastName": "Ñúñez-Ødegård 山田", "FirstName": "Zoë", "City": "Kraków"}),
        )
        .await;
    let resp = ctx
        .get(&format!(
            "sobjects/User/{id}?fields=LastName,FirstName,City,Name"
        ))
        .await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["LastName"], "Ñúñez-Ødegård 山田");
    assert_eq!(body["FirstName"], "Zoë");
    assert_eq!(body["City"], "Kraków");
    assert_eq!(body["Name"], "Zoë Ñúñez-Ødegård 山田");
}

#[tokio::test]
async fn licences_run_out() {
    let ctx = Ctx::with_config(salesforce_emulator::EmulatorConfig {
        licences: 2,
        ..Default::default()
    })
    .await;
    // The integration user holds one licence.
    assert_eq!(ctx.emu.licences_remaining(), 1);
    ctx.create_user("one", json!({})).await;
    assert_eq!(ctx.emu.licences_remaining(), 0);
    let err = create_error(&ctx, "two", json!({}), "LICENSE_LIMIT_EXCEEDED").await;
    assert_eq!(err["message"], "License Limit Exceeded");
    // An inactive user needs no licence.
    let id = ctx
        .create_user("inactive", json!({"IsActive": false}))
        .await;
    assert!(!ctx.emu.user(&id).unwrap().is_active());
}
