//! The server's TOML configuration: the example file loads, errors name file, key and place,
//! and a server started from a file answers over HTTP.

use std::path::{Path, PathBuf};

use provisioner_server::{self as server, config};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.toml")
}

fn write(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("provisioner.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn example_config_loads() {
    std::env::set_var("EXAMPLE_ADMIN_PASSWORD", "s3cret-example");
    std::env::set_var("SF_CLIENT_SECRET", "client-secret");
    std::env::set_var("SF_PASSWORD_AND_TOKEN", "password-and-token");
    let config = config::load(&example()).unwrap();
    let tenant = &config.tenants[0];
    assert_eq!(tenant.name, "carbon.super");
    let target = &tenant.targets[0];
    assert_eq!(target.name, "Salesforce.com");
    assert_eq!(target.claim_mappings().unwrap().len(), 12);
    assert!(target.outbound.max_attempts >= 1);
}

#[test]
fn unknown_key_is_named_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "[server]\nlisten = \"127.0.0.1:0\"\n\n[[tenants]]\nname = \"t\"\n\n[[tenants.targets]]\nname = \"sf\"\nconnector = \"builtin:salesforce\"\n[tenants.targets.outbound]\nmax_atempts = 3\n",
    );
    let error = config::load(&path).unwrap_err();
    let text = error.to_string();
    assert!(text.starts_with(&path.display().to_string()), "{text}");
    assert!(
        error.key.starts_with("tenants[0].targets[0].outbound"),
        "{text}"
    );
    assert!(text.contains("max_atempts"), "{text}");
    assert_eq!(error.position.map(|p| p.0), Some(11), "{text}");
}

#[test]
fn wrong_type_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "[server]\nlisten = 9443\n");
    let error = config::load(&path).unwrap_err();
    assert_eq!(error.key, "server.listen", "{error}");
    assert_eq!(error.position, Some((2, 10)), "{error}");
}

#[test]
fn semantic_errors_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[server]\nlisten = \"nowhere\"\n",
            "server.listen",
            "not a socket address",
        ),
        (
            "[[tenants]]\nname = \"t\"\nbasic = [{ username = \"a\", password = \"env:PROVISIONER_TEST_UNSET_PASSWORD\" }]\n",
            "tenants[0].basic[0].password",
            "PROVISIONER_TEST_UNSET_PASSWORD",
        ),
        (
            "[[tenants]]\nname = \"t\"\n[[tenants.targets]]\nname = \"sf\"\nconnector = \"missing.wasm\"\n",
            "tenants[0].targets[0].connector",
            "no component file",
        ),
        (
            "[[tenants]]\nname = \"t\"\n[[tenants.targets]]\nname = \"sf\"\nconnector = \"builtin:salesfroce\"\n",
            "tenants[0].targets[0].connector",
            "no built-in connector `builtin:salesfroce`; built in: builtin:salesforce",
        ),
        (
            "[[tenants]]\nname = \"t\"\n[[tenants.targets]]\nname = \"sf\"\nconnector = \"builtin:salesforce\"\nsecrets = { sf-password = \"file:/nonexistent/secret\" }\n",
            "tenants[0].targets[0].secrets.sf-password",
            "/nonexistent/secret",
        ),
        (
            "[[tenants]]\nname = \"t\"\n[[tenants.targets]]\nname = \"sf\"\nconnector = \"builtin:salesforce\"\n[[tenants.targets.properties.sf-claim-mappings]]\nfield = \"LastName\"\n",
            "tenants[0].targets[0].properties.sf-claim-mappings[0]",
            "needs a `claim`",
        ),
        (
            "[[tenants]]\nname = \"a\"\nbasic = [{ username = \"u\", password = \"x\" }]\n[[tenants]]\nname = \"b\"\nbasic = [{ username = \"u\", password = \"y\" }]\n",
            "tenants[1].basic[0].username",
            "unique across tenants",
        ),
        (
            "[[tenants]]\nname = \"t\"\n[[tenants.targets]]\nname = \"sf\"\nconnector = \"builtin:salesforce\"\n[tenants.targets.outbound]\nblocking = true\ntimeout_ms = 3600000\n",
            "tenants[0].targets[0].outbound.timeout_ms",
            "is 3600000 ms; a blocking write waits between 0 and 60000 ms",
        ),
        (
            "[auth]\npassword_verifiers = 0\n",
            "auth.password_verifiers",
            "must be at least 1",
        ),
    ];
    for (text, key, message) in cases {
        let path = write(dir.path(), text);
        let error = config::load(&path).unwrap_err();
        assert_eq!(error.key, key, "{error}");
        assert!(error.message.contains(message), "{error}");
        assert!(error.to_string().contains(&path.display().to_string()));
    }
}

#[test]
fn environment_overrides_listen_and_database() {
    let mut config = config::parse("x.toml", "[server]\nlisten = \"127.0.0.1:1\"\n").unwrap();
    config.apply_env(|key| match key {
        config::ENV_LISTEN => Some("127.0.0.1:0".into()),
        config::ENV_DATABASE_URL => Some("sqlite:/tmp/elsewhere.db".into()),
        _ => None,
    });
    assert_eq!(config.server.listen, "127.0.0.1:0");
    assert_eq!(config.database.url, "sqlite:/tmp/elsewhere.db");
}

#[tokio::test]
async fn server_from_a_file_answers_with_bearer_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/provisioner.db");
    let path = write(
        dir.path(),
        &format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[database]\nurl = \"sqlite:{}\"\n[[tenants]]\nname = \"acme\"\nbearer = [{{ label = \"okta\", token = \"literal:0123456789abcdef0123\" }}]\n",
            db.display()
        ),
    );
    let config = config::load(&path).unwrap();
    let handle = server::start(config).await.unwrap();
    let http = reqwest::Client::new();
    let ok = http
        .get(format!("http://{}/scim/v2/Users", handle.addr()))
        .bearer_auth("0123456789abcdef0123")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    handle.shutdown().await.unwrap();
    assert!(db.is_file());
}

#[tokio::test]
async fn egress_report_shows_what_each_target_may_reach_and_where_secrets_go() {
    std::env::set_var("EXAMPLE_ADMIN_PASSWORD", "s3cret-example");
    std::env::set_var("SF_CLIENT_SECRET", "client-secret");
    std::env::set_var("SF_PASSWORD_AND_TOKEN", "password-and-token");
    let cache = tempfile::tempdir().unwrap();
    let runtime = || {
        provisioner_runtime::Runtime::new(provisioner_runtime::RuntimeConfig::new(cache.path()))
            .unwrap()
    };
    let config = config::load(&example()).unwrap();
    let reports = server::egress::egress_reports(&config, runtime())
        .await
        .unwrap();
    assert_eq!(reports.len(), 1);
    let report = reports[0].report.as_ref().unwrap();
    let origins = [
        "https://acme.my.salesforce.com",
        "https://login.salesforce.com",
    ];
    assert_eq!(report.origins, origins);
    for (key, bound) in &report.secrets {
        assert_eq!(bound, &origins, "{key}");
    }
    assert_eq!(report.secret_headers, ["authorization"]);

    // The operator narrows the OAuth secrets to the token endpoint's origin.
    let dir = tempfile::tempdir().unwrap();
    let narrowed = std::fs::read_to_string(example()).unwrap()
        + "\n[tenants.targets.secret_policy.origins]\n\
           sf-client-secret = [\"https://login.salesforce.com\"]\n\
           sf-password = [\"https://login.salesforce.com/services/oauth2/token\"]\n";
    let config = config::load(&write(dir.path(), &narrowed)).unwrap();
    let reports = server::egress::egress_reports(&config, runtime())
        .await
        .unwrap();
    let report = reports[0].report.as_ref().unwrap();
    for (key, bound) in &report.secrets {
        assert_eq!(bound, &["https://login.salesforce.com"], "{key}");
    }

    // A binding to an origin the operator never configured is refused, naming the secret.
    let widened = std::fs::read_to_string(example()).unwrap()
        + "\n[tenants.targets.secret_policy.origins]\nsf-password = [\"https://collector.example.net\"]\n";
    let config = config::load(&write(dir.path(), &widened)).unwrap();
    let reports = server::egress::egress_reports(&config, runtime())
        .await
        .unwrap();
    let error = reports[0].report.as_ref().unwrap_err().to_string();
    assert!(
        error.contains(
            "`sf-password`: https://collector.example.net is not the origin of a `url` property"
        ),
        "{error}"
    );
}
