//! The server over HTTPS: a configuration with `[server.tls]` (a certificate issued by a CA
//! generated here) serves the SCIM API over TLS to a client trusting that CA (and sets the
//! console's session cookie `Secure`); clients that do
//! not trust it, or speak plain HTTP, get nothing; unusable TLS files and CA bundles are
//! configuration errors naming the key and the file.

use std::path::{Path, PathBuf};

use provisioner_server::{self as server, config};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use serde_json::{json, Value};

/// A CA and a `localhost` server certificate it issued, as PEM.
struct TestPki {
    ca_pem: String,
    chain_pem: String,
    key_pem: String,
}

fn generate_pki() -> TestPki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::default();
    ca.distinguished_name
        .push(DnType::CommonName, "server https test CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);

    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
    TestPki {
        ca_pem: ca_cert.pem(),
        chain_pem: format!("{}{}", leaf_cert.pem(), ca_cert.pem()),
        key_pem: leaf_key.serialize_pem(),
    }
}

/// Writes `files` and a configuration naming them (relative paths) into `dir`.
fn write_config(dir: &Path, files: &[(&str, &str)], tls: &str, extra: &str) -> PathBuf {
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\n{tls}\n[database]\nurl = \"sqlite:{}\"\n\n[[tenants]]\nname = \"acme\"\nbasic = [{{ username = \"admin\", password = \"https-test-password\" }}]\n{extra}",
        dir.join("provisioner.db").display()
    );
    let path = dir.join("provisioner.toml");
    std::fs::write(&path, text).unwrap();
    path
}

const TLS: &str = "[server.tls]\ncertificate = \"chain.pem\"\nprivate_key = \"key.pem\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scim_over_https_with_a_client_trusting_the_ca() {
    let pki = generate_pki();
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(
        dir.path(),
        &[("chain.pem", &pki.chain_pem), ("key.pem", &pki.key_pem)],
        TLS,
        "\n[[admin.users]]\nusername = \"root\"\npassword = \"https-admin-password\"\n",
    );
    let config = config::load(&path).unwrap();
    let handle = server::start(config).await.unwrap();
    let port = handle.addr().port();
    assert_eq!(handle.base_url(), format!("https://127.0.0.1:{port}"));

    let trusting = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    for (n, base) in [
        format!("https://localhost:{port}"),
        format!("https://127.0.0.1:{port}"),
    ]
    .into_iter()
    .enumerate()
    {
        let user_name = format!("tls-user-{n}");
        let created = trusting
            .post(format!("{base}/scim/v2/Users"))
            .basic_auth("admin", Some("https-test-password"))
            .header("Content-Type", "application/scim+json")
            .json(&json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": user_name,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let created: Value = created.json().await.unwrap();
        let id = created["id"].as_str().unwrap();
        let read: Value = trusting
            .get(format!("{base}/scim/v2/Users/{id}"))
            .basic_auth("admin", Some("https-test-password"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(read["userName"], user_name.as_str());
    }

    // The console's session cookie is Secure over HTTPS.
    let login = trusting
        .post(format!("https://localhost:{port}/admin/v1/session"))
        .json(&json!({"username": "root", "password": "https-admin-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let cookie = login.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("provisioner_session=") && cookie.ends_with("; Secure"),
        "{cookie}"
    );

    // A client that does not trust the CA refuses the certificate.
    let error = reqwest::Client::new()
        .get(format!(
            "https://localhost:{port}/scim/v2/ServiceProviderConfig"
        ))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_connect(), "{error:?}");
    assert!(format!("{error:?}").contains("UnknownIssuer"), "{error:?}");

    // Plain HTTP on the HTTPS port gets no HTTP answer.
    let plain = reqwest::Client::new()
        .get(format!(
            "http://127.0.0.1:{port}/scim/v2/ServiceProviderConfig"
        ))
        .send()
        .await;
    assert!(plain.is_err(), "{plain:?}");

    // The server still answers after the failed handshakes.
    let after = trusting
        .get(format!(
            "https://localhost:{port}/scim/v2/ServiceProviderConfig"
        ))
        .basic_auth("admin", Some("https-test-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 200);
    handle.shutdown().await.unwrap();
}

/// Files to write: (name, contents).
type Files<'a> = &'a [(&'a str, &'a str)];

#[test]
fn unusable_tls_files_are_errors_naming_key_and_file() {
    let pki = generate_pki();
    let other = generate_pki();
    let dir = tempfile::tempdir().unwrap();
    let cases: [(Files, &str, &str); 4] = [
        (
            &[("key.pem", &pki.key_pem)],
            "server.tls.certificate",
            "cannot read the certificate file",
        ),
        (
            &[("chain.pem", &pki.key_pem), ("key.pem", &pki.key_pem)],
            "server.tls.certificate",
            "holds no certificate",
        ),
        (
            &[("chain.pem", &pki.chain_pem), ("key.pem", &pki.chain_pem)],
            "server.tls.private_key",
            "holds no private key",
        ),
        (
            &[("chain.pem", &pki.chain_pem), ("key.pem", &other.key_pem)],
            "server.tls.private_key",
            "does not fit the first certificate",
        ),
    ];
    for (files, key, message) in cases {
        let _ = std::fs::remove_file(dir.path().join("chain.pem"));
        let path = write_config(dir.path(), files, TLS, "");
        let error = config::load(&path).unwrap_err();
        assert_eq!(error.key, key, "{error}");
        assert!(error.message.contains(message), "{error}");
        let file = if key.ends_with("certificate") {
            "chain.pem"
        } else {
            "key.pem"
        };
        assert!(
            error
                .message
                .contains(&dir.path().join(file).display().to_string()),
            "{error}"
        );
    }
}

#[test]
fn a_target_ca_bundle_must_hold_certificates() {
    let pki = generate_pki();
    let dir = tempfile::tempdir().unwrap();
    let target = "[[tenants.targets]]\nname = \"sf\"\nconnector = \"builtin:salesforce\"\n[tenants.targets.egress]\nca_bundle = \"private-ca.pem\"\n";

    let path = write_config(dir.path(), &[("private-ca.pem", &pki.key_pem)], "", target);
    let error = config::load(&path).unwrap_err();
    assert_eq!(
        error.key, "tenants[0].targets[0].egress.ca_bundle",
        "{error}"
    );
    assert!(error.message.contains("holds no certificate"), "{error}");
    let bundle = dir.path().join("private-ca.pem").display().to_string();
    assert!(error.message.contains(&bundle), "{error}");

    std::fs::remove_file(dir.path().join("private-ca.pem")).unwrap();
    let error = config::load(&path).unwrap_err();
    assert!(error.message.contains("cannot read the file"), "{error}");

    let path = write_config(dir.path(), &[("private-ca.pem", &pki.ca_pem)], "", target);
    let config = config::load(&path).unwrap();
    let target = &config.tenants[0].targets[0];
    assert_eq!(target.egress.load_ca_bundle().unwrap().unwrap().len(), 1);
}
