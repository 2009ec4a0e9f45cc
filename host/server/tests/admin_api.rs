//! The admin API over real HTTP against the quickstart server (real SQLite, the Salesforce
//! connector, the emulated org): tenant isolation, separate credentials, users written through
//! the SCIM layer, jobs, dead letters and replay, pause/resume, refused target changes,
//! secrets written through the API, sealed at rest and used by the target's next call, and a
//! configuration's literal secrets sealed at start (the quickstart's) so its target can change.

#[path = "support/org.rs"]
mod org_support;
#[path = "support/scim_server.rs"]
mod scim_support;

use reqwest::{Method, StatusCode};
use salesforce_emulator::Seed;
use scim_support::{eventually, Setup};
use serde_json::{json, Value};

use provisioner_server::config::{AdminSection, AdminToken, AdminUser};
use provisioner_server::quickstart;

const SCIM_PASSWORD: &str = "scim-client-password";
const ROOT_TOKEN: &str = "server-admin-token-0123456789abcdef";
const CARBON_ADMIN: (&str, &str) = ("carbon-admin", "carbon-admin-password");
const OTHER_TOKEN: &str = "other-tenant-admin-token-0123456789";
const TENANT: &str = quickstart::TENANT;
const TARGET: &str = "Salesforce.com";

/// How a request authenticates.
#[derive(Clone, Copy)]
enum Auth<'a> {
    None,
    Basic(&'a str, &'a str),
    Bearer(&'a str),
}

const ROOT: Auth<'static> = Auth::Bearer(ROOT_TOKEN);
const CARBON: Auth<'static> = Auth::Basic(CARBON_ADMIN.0, CARBON_ADMIN.1);

/// The quickstart server with a second tenant, a server administrator (token), a tenant
/// administrator of `carbon.super` (Basic) and one of `other.example` (token); the secret key
/// comes from a key file in `key_dir`.
async fn setup(key_dir: &std::path::Path) -> Setup {
    let key_file = key_dir.join("secret.key");
    std::fs::write(&key_file, "11".repeat(32)).unwrap();
    scim_support::start(SCIM_PASSWORD, |config| {
        scim_support::add_other_tenant_and_admin_tokens(config, ROOT_TOKEN, OTHER_TOKEN);
        config.admin.users = vec![AdminUser {
            username: CARBON_ADMIN.0.into(),
            password: Some(CARBON_ADMIN.1.into()),
            password_hash: None,
            tenant: Some(TENANT.into()),
        }];
        config.secrets.key_file = Some(key_file);
        if scim_support::postgres::postgres_server().is_none() {
            // A file of its own, checked for secrets in clear below.
            config.database.url = format!("sqlite:{}", key_dir.join("provisioner.db").display());
        }
    })
    .await
}

/// Sends one admin request; returns the status and the JSON body (null when empty).
async fn call(
    s: &Setup,
    method: Method,
    path: &str,
    auth: Auth<'_>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = s.http.request(method, format!("{}{path}", s.base));
    request = match auth {
        Auth::None => request,
        Auth::Basic(user, password) => request.basic_auth(user, Some(password)),
        Auth::Bearer(token) => request.bearer_auth(token),
    };
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

fn tenant_path(rest: &str) -> String {
    format!("/admin/v1/tenants/{TENANT}{rest}")
}

fn user_body(user_name: &str, family: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Test", "familyName": family},
        "emails": [{"value": user_name, "primary": true}],
    })
}

/// Jobs of one entity, through the API.
async fn entity_jobs(s: &Setup, id: &str) -> Vec<Value> {
    let (status, jobs) = call(
        s,
        Method::GET,
        &tenant_path(&format!("/jobs?entity={id}")),
        ROOT,
        None,
    )
    .await;
    assert_eq!(status, 200, "{jobs}");
    jobs.as_array().unwrap().clone()
}

/// Waits until every job of the entity is final; returns them.
async fn settled(s: &Setup, id: &str) -> Vec<Value> {
    for _ in 0..600 {
        let jobs = entity_jobs(s, id).await;
        let open = jobs
            .iter()
            .any(|j| matches!(j["state"].as_str(), Some("pending" | "running")));
        if !jobs.is_empty() && !open {
            return jobs;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the jobs of {id} never settled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_administrators_see_only_their_tenant_and_credentials_do_not_cross() {
    let keys = tempfile::tempdir().unwrap();
    let s = setup(keys.path()).await;

    // Who is who.
    let (status, me) = call(&s, Method::GET, "/admin/v1/whoami", CARBON, None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me, json!({"username": CARBON_ADMIN.0, "tenant": TENANT}));
    let (_, me) = call(&s, Method::GET, "/admin/v1/whoami", ROOT, None).await;
    assert_eq!(me, json!({"username": "root", "tenant": null}));

    // A tenant administrator sees its own tenant, and another one not at all (404, as for a
    // tenant that does not exist).
    let (status, _) = call(&s, Method::GET, &tenant_path("/jobs"), CARBON, None).await;
    assert_eq!(status, 200);
    let (status, body) = call(
        &s,
        Method::GET,
        "/admin/v1/tenants/carbon.super/targets",
        Auth::Bearer(OTHER_TOKEN),
        None,
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"], "tenant_not_found");
    let (status, other) = call(
        &s,
        Method::GET,
        "/admin/v1/tenants/other.example/jobs",
        CARBON,
        None,
    )
    .await;
    let (_, missing) = call(
        &s,
        Method::GET,
        "/admin/v1/tenants/no.such.tenant/jobs",
        CARBON,
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(other["error"], "tenant_not_found");
    assert_eq!(missing["error"], "tenant_not_found");
    // The server administrator sees both.
    let (status, _) = call(
        &s,
        Method::GET,
        "/admin/v1/tenants/other.example/jobs",
        ROOT,
        None,
    )
    .await;
    assert_eq!(status, 200);

    // Connectors are server-wide: a tenant administrator may not upload one, a server
    // administrator may; the component is stored by digest and described.
    let bytes = builtin_connectors::lookup("builtin:salesforce")
        .unwrap()
        .bytes
        .to_vec();
    let upload = |auth: Auth<'static>, body: Vec<u8>| {
        let request = s
            .http
            .post(format!("{}/admin/v1/connectors", s.base))
            .header("content-type", "application/wasm")
            .body(body);
        match auth {
            Auth::Basic(user, password) => request.basic_auth(user, Some(password)),
            Auth::Bearer(token) => request.bearer_auth(token),
            Auth::None => request,
        }
        .send()
    };
    let refused = upload(CARBON, bytes.clone()).await.unwrap();
    assert_eq!(refused.status(), 403);
    let uploaded = upload(ROOT, bytes).await.unwrap();
    assert_eq!(uploaded.status(), 201);
    let uploaded: Value = uploaded.json().await.unwrap();
    let reference = uploaded["reference"].as_str().unwrap().to_owned();
    assert!(reference.starts_with("sha256:"), "{uploaded}");
    assert_eq!(uploaded["id"], "salesforce");
    let (_, listed) = call(&s, Method::GET, "/admin/v1/connectors", ROOT, None).await;
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["reference"] == reference.as_str()),
        "{listed}"
    );
    let (status, one) = call(
        &s,
        Method::GET,
        &format!("/admin/v1/connectors/{reference}"),
        ROOT,
        None,
    )
    .await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one, uploaded);
    let garbage = upload(ROOT, b"not a component".to_vec()).await.unwrap();
    assert_eq!(garbage.status(), 422);
    let (status, _) = call(&s, Method::GET, "/admin/v1/connectors", CARBON, None).await;
    assert_eq!(status, 403);

    // The tenant list and counts follow the same rule.
    let (_, tenants) = call(&s, Method::GET, "/admin/v1/tenants", CARBON, None).await;
    assert_eq!(tenants, json!([{"name": TENANT}]));
    let (_, tenants) = call(&s, Method::GET, "/admin/v1/tenants", ROOT, None).await;
    assert_eq!(tenants.as_array().unwrap().len(), 2);
    let (status, detail) = call(&s, Method::GET, &tenant_path(""), CARBON, None).await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["targets"], 1);
    let (status, _) = call(
        &s,
        Method::GET,
        "/admin/v1/tenants/other.example",
        CARBON,
        None,
    )
    .await;
    assert_eq!(status, 404);

    // SCIM credentials are not admin credentials, and admin credentials are not SCIM ones.
    let (status, body) = call(
        &s,
        Method::GET,
        "/admin/v1/whoami",
        Auth::Basic(quickstart::ADMIN, SCIM_PASSWORD),
        None,
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "unauthorized");
    let (status, _) = call(&s, Method::GET, "/admin/v1/whoami", Auth::None, None).await;
    assert_eq!(status, 401);
    let scim = s
        .http
        .get(format!("{}/scim/v2/Users", s.base))
        .basic_auth(CARBON_ADMIN.0, Some(CARBON_ADMIN.1))
        .send()
        .await
        .unwrap();
    assert_eq!(scim.status(), 401);
    let scim = s
        .http
        .get(format!("{}/scim/v2/Users", s.base))
        .bearer_auth(ROOT_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(scim.status(), 401);
    let scim = s
        .http
        .get(format!("{}/scim/v2/Users", s.base))
        .basic_auth(quickstart::ADMIN, Some(SCIM_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(scim.status(), 200);

    // The console's session: log in, use the cookie, log out.
    let login = s
        .http
        .post(format!("{}/admin/v1/session", s.base))
        .json(&json!({"username": CARBON_ADMIN.0, "password": CARBON_ADMIN.1}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    // Plain HTTP: a Secure cookie would never come back.
    assert!(!cookie.contains("Secure"), "{cookie}");
    let session = cookie.split(';').next().unwrap().to_owned();
    let whoami = |session: String| {
        s.http
            .get(format!("{}/admin/v1/whoami", s.base))
            .header("cookie", session)
            .send()
    };
    let me: Value = whoami(session.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(me["username"], CARBON_ADMIN.0);
    let out = s
        .http
        .delete(format!("{}/admin/v1/session", s.base))
        .header("cookie", session.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    assert_eq!(whoami(session).await.unwrap().status(), 401);
    let bad = s
        .http
        .post(format!("{}/admin/v1/session", s.base))
        .json(&json!({"username": CARBON_ADMIN.0, "password": "wrong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_created_through_the_admin_api_fan_out_like_scim_ones_and_dead_letters_replay() {
    let keys = tempfile::tempdir().unwrap();
    let s = setup(keys.path()).await;

    // A user created through the admin API takes the SCIM path: stored, one job per target,
    // provisioned into the org.
    let (status, created) = call(
        &s,
        Method::POST,
        &tenant_path("/users"),
        CARBON,
        Some(user_body("ada@example.com", "Lovelace")),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let stored = s
        .server
        .engine()
        .store()
        .user(TENANT, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.user_name, "ada@example.com");
    let jobs = settled(&s, &id).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0]["target"], TARGET);
    assert_eq!(jobs[0]["operation"], "create");
    assert_eq!(jobs[0]["state"], "done", "{jobs:?}");
    let remote = jobs[0]["remote_id"].as_str().unwrap().to_owned();
    assert!(s.emulator.user(&remote).is_some());
    // Read back, listed with a filter, and validated like SCIM (a duplicate is a conflict).
    let (status, read) = call(
        &s,
        Method::GET,
        &tenant_path(&format!("/users/{id}")),
        CARBON,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(read["userName"], "ada@example.com");
    let (_, list) = call(
        &s,
        Method::GET,
        &tenant_path("/users?filter=userName%20eq%20%22ada@example.com%22"),
        CARBON,
        None,
    )
    .await;
    assert_eq!(list["totalResults"], 1, "{list}");
    let (status, dup) = call(
        &s,
        Method::POST,
        &tenant_path("/users"),
        CARBON,
        Some(user_body("ada@example.com", "Again")),
    )
    .await;
    assert_eq!(status, 409, "{dup}");
    // Deactivation through PATCH reaches the org.
    let (status, patched) = call(
        &s,
        Method::PATCH,
        &tenant_path(&format!("/users/{id}")),
        CARBON,
        Some(json!({"active": false})),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["active"], false);
    eventually("the user deactivated in the org", || {
        s.emulator.user(&remote).filter(|u| !u.is_active())
    })
    .await;

    // A user whose Salesforce Username another org holds becomes a dead letter with
    // Salesforce's code; the API lists it, shows its attempts, and replays it once fixed.
    s.emulator
        .seed(Seed {
            other_org_usernames: Some(vec!["taken@other-org.example.com".into()]),
            ..Seed::default()
        })
        .unwrap();
    let (status, created) = call(
        &s,
        Method::POST,
        &tenant_path("/users"),
        ROOT,
        Some(user_body("taken@other-org.example.com", "Taken")),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let taken = created["id"].as_str().unwrap().to_owned();
    let jobs = settled(&s, &taken).await;
    assert_eq!(jobs[0]["state"], "dead", "{jobs:?}");
    let (status, dead) = call(
        &s,
        Method::GET,
        &tenant_path(&format!("/dead-letters?target={TARGET}")),
        ROOT,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let dead = dead.as_array().unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0]["entity_id"], taken.as_str());
    assert_eq!(dead[0]["error"]["code"], "DUPLICATE_USERNAME");
    let job_id = dead[0]["id"].as_i64().unwrap();
    let (status, detail) = call(
        &s,
        Method::GET,
        &tenant_path(&format!("/jobs/{job_id}")),
        ROOT,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        detail["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["target_code"] == "DUPLICATE_USERNAME"),
        "{detail}"
    );
    let (status, _) = call(&s, Method::GET, &tenant_path("/jobs/999999"), ROOT, None).await;
    assert_eq!(status, 404);
    let (status, bad) = call(
        &s,
        Method::GET,
        &tenant_path("/jobs?state=exploded"),
        ROOT,
        None,
    )
    .await;
    assert_eq!(status, 400, "{bad}");
    assert!(
        bad["message"].as_str().unwrap().contains("pending"),
        "{bad}"
    );

    s.emulator
        .seed(Seed {
            other_org_usernames: Some(vec![]),
            ..Seed::default()
        })
        .unwrap();
    let (status, replayed) = call(
        &s,
        Method::POST,
        &tenant_path("/dead-letters/replay"),
        ROOT,
        Some(json!({"entity_id": taken})),
    )
    .await;
    assert_eq!(status, 200, "{replayed}");
    assert_eq!(replayed, json!({"replayed": 1}));
    let jobs = settled(&s, &taken).await;
    assert_eq!(jobs[0]["state"], "done", "{jobs:?}");
    assert!(s
        .emulator
        .user_by_username("taken@other-org.example.com")
        .is_some());
    let (_, dead) = call(&s, Method::GET, &tenant_path("/dead-letters"), ROOT, None).await;
    assert_eq!(dead, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_holds_jobs_until_resume_and_a_bad_target_change_is_refused_with_its_problems() {
    let keys = tempfile::tempdir().unwrap();
    let s = setup(keys.path()).await;
    let target = tenant_path(&format!("/targets/{TARGET}"));

    let (status, paused) = call(
        &s,
        Method::POST,
        &format!("{target}/pause"),
        CARBON,
        Some(json!({"reason": "maintenance"})),
    )
    .await;
    assert_eq!(status, 200, "{paused}");
    assert_eq!(paused["paused"], true);
    assert_eq!(paused["pause_reason"], "maintenance");
    let (_, created) = call(
        &s,
        Method::POST,
        &tenant_path("/users"),
        CARBON,
        Some(user_body("paused@example.com", "Paused")),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    // The dispatcher polls every 50 ms; while paused the job stays pending.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let jobs = entity_jobs(&s, &id).await;
    assert_eq!(jobs[0]["state"], "pending", "{jobs:?}");
    assert!(s.emulator.user_by_username("paused@example.com").is_none());
    let (status, resumed) = call(&s, Method::POST, &format!("{target}/resume"), CARBON, None).await;
    assert_eq!(status, 200, "{resumed}");
    assert_eq!(resumed["paused"], false);
    assert_eq!(settled(&s, &id).await[0]["state"], "done");

    // A change with a mistyped property is refused with the problem, and nothing changes.
    let (_, current) = call(&s, Method::GET, &target, CARBON, None).await;
    let revision = current["revision"].as_i64().unwrap();
    let mut spec = current["spec"].clone();
    spec["properties"]["sf-domian-name"] = json!("https://typo.example");
    let (status, refused) = call(&s, Method::PUT, &target, CARBON, Some(spec.clone())).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"], "target_refused");
    let problems = refused["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.as_str().unwrap().contains("sf-domian-name")),
        "{refused}"
    );
    let (status, validation) = call(
        &s,
        Method::POST,
        &format!("{target}/validate"),
        CARBON,
        Some(spec),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(validation["ok"], false);
    assert_eq!(validation["problems"], refused["problems"]);
    let (_, after) = call(&s, Method::GET, &target, CARBON, None).await;
    assert_eq!(after["revision"], revision);

    // Unknown targets are named.
    let (status, missing) = call(
        &s,
        Method::POST,
        &tenant_path("/targets/nope/pause"),
        CARBON,
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(missing["error"], "target_not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_written_through_the_api_are_sealed_never_returned_and_used_by_the_next_call() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path()).await;
    let target = tenant_path(&format!("/targets/{TARGET}"));
    let org = s.emulator.config();
    let client_secret = org.client_secret.clone();
    let password = org.expected_password();

    // Write the org's secrets through the API and point the target at them.
    for (key, value) in [
        ("sf-client-secret", &client_secret),
        ("sf-password", &password),
    ] {
        let (status, body) = call(
            &s,
            Method::PUT,
            &format!("{target}/secrets/{key}"),
            CARBON,
            Some(json!({"value": value})),
        )
        .await;
        assert_eq!(status, 204, "{body}");
    }
    let (_, current) = call(&s, Method::GET, &target, CARBON, None).await;
    let mut spec = current["spec"].clone();
    spec["secret_refs"] = json!({
        "sf-client-secret": "stored:sf-client-secret",
        "sf-password": "stored:sf-password",
    });
    let (status, put) = call(&s, Method::PUT, &target, CARBON, Some(spec)).await;
    assert_eq!(status, 200, "{put}");

    // The target's next call uses them: a user reaches the org.
    let (_, created) = call(
        &s,
        Method::POST,
        &tenant_path("/users"),
        CARBON,
        Some(user_body("grace@example.com", "Hopper")),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(settled(&s, &id).await[0]["state"], "done");
    assert!(s.emulator.user_by_username("grace@example.com").is_some());

    // No response carries a value: the list has keys and times, the target and its egress
    // the references.
    let mut texts = Vec::new();
    for path in [
        format!("{target}/secrets"),
        target.clone(),
        format!("{target}/egress"),
        format!("{target}/history"),
    ] {
        let (status, body) = call(&s, Method::GET, &path, CARBON, None).await;
        assert_eq!(status, 200, "{path}: {body}");
        texts.push(body.to_string());
    }
    let (_, listed) = call(&s, Method::GET, &format!("{target}/secrets"), CARBON, None).await;
    let keys: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["sf-client-secret", "sf-password"]);
    let (_, egress) = call(&s, Method::GET, &format!("{target}/egress"), CARBON, None).await;
    assert_eq!(
        egress["secret_bindings"]["sf-password"],
        "stored:sf-password"
    );
    for text in &texts {
        assert!(
            !text.contains(&client_secret) && !text.contains(&password),
            "{text}"
        );
    }
    // Nor does the database hold one in clear (main file and write-ahead log).
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("provisioner.db")
        {
            let bytes = std::fs::read(&path).unwrap();
            for secret in [&client_secret, &password] {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "{} holds a secret in clear",
                    path.display()
                );
            }
        }
    }

    // A new value takes effect at the next call: a wrong client secret makes the next
    // user's call fail authentication.
    let (status, _) = call(
        &s,
        Method::PUT,
        &format!("{target}/secrets/sf-client-secret"),
        CARBON,
        Some(json!({"value": "not-the-secret"})),
    )
    .await;
    assert_eq!(status, 204);
    let (_, created) = call(
        &s,
        Method::POST,
        &tenant_path("/users"),
        CARBON,
        Some(user_body("linus@example.com", "Torvalds")),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let job_id = entity_jobs(&s, &id).await[0]["id"].as_i64().unwrap();
    let failed = eventually_async(|| async {
        let (_, detail) = call(
            &s,
            Method::GET,
            &tenant_path(&format!("/jobs/{job_id}")),
            CARBON,
            None,
        )
        .await;
        detail["attempts"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["outcome"] != "ok").cloned())
    })
    .await;
    assert!(
        failed["message"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase()
            .contains("auth")
            || failed["outcome"]
                .as_str()
                .unwrap_or_default()
                .contains("auth"),
        "{failed}"
    );
    assert!(s.emulator.user_by_username("linus@example.com").is_none());

    // Deleting a secret the target references is allowed; an unknown one is named.
    let (status, missing) = call(
        &s,
        Method::DELETE,
        &format!("{target}/secrets/nope"),
        CARBON,
        None,
    )
    .await;
    assert_eq!(status, 404, "{missing}");
    assert_eq!(missing["error"], "secret_not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn literal_secrets_sealed_at_start_let_the_configured_target_change_at_run_time() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("secret.key");
    std::fs::write(&key_file, "33".repeat(32)).unwrap();
    let options = provisioner_server::StartOptions {
        seal_literal_secrets: true,
        ..Default::default()
    };
    let s = scim_support::start_with(SCIM_PASSWORD, options, |config| {
        config.admin = AdminSection {
            users: Vec::new(),
            tokens: vec![AdminToken {
                label: "root".into(),
                token: ROOT_TOKEN.into(),
                tenant: None,
            }],
        };
        config.secrets.key_file = Some(key_file);
    })
    .await;
    let target = tenant_path(&format!("/targets/{TARGET}"));
    let org = s.emulator.config();

    // The configured target references its secrets in the sealed store, which holds them.
    let (_, current) = call(&s, Method::GET, &target, ROOT, None).await;
    assert_eq!(
        current["spec"]["secret_refs"],
        json!({
            "sf-client-secret": "stored:sf-client-secret",
            "sf-password": "stored:sf-password",
        }),
        "{current}"
    );
    let (_, listed) = call(&s, Method::GET, &format!("{target}/secrets"), ROOT, None).await;
    let keys: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["sf-client-secret", "sf-password"]);
    for secret in [&org.client_secret, &org.expected_password()] {
        assert!(!listed.to_string().contains(secret.as_str()));
    }

    // Changed at run time without giving the secrets again: accepted, and its next call
    // authenticates with the sealed ones.
    let mut spec = current["spec"].clone();
    spec["properties"]["sf-prov-domainName"] = json!("example.com");
    let (status, put) = call(&s, Method::PUT, &target, ROOT, Some(spec)).await;
    assert_eq!(status, 200, "{put}");
    let (_, created) = call(
        &s,
        Method::POST,
        &tenant_path("/users"),
        ROOT,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "ada",
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": "ada@lovelace.example", "primary": true}],
        })),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let jobs = settled(&s, &id).await;
    assert_eq!(jobs[0]["state"], "done", "{jobs:?}");
    assert!(s.emulator.user_by_username("ada@example.com").is_some());
}

/// Polls an async check until it returns `Some`, for up to 60 seconds.
async fn eventually_async<T, F, Fut>(mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..600 {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("timed out");
}
