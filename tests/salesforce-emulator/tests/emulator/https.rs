//! HTTPS: the emulator serves TLS with a certificate from a CA it generates at start; clients
//! trusting that CA get answers, others fail verification.

use salesforce_emulator::{Emulator, EmulatorConfig, ServeOptions};

#[tokio::test]
async fn serves_https_to_clients_trusting_its_ca() {
    let emu = Emulator::start_with(EmulatorConfig::default(), ServeOptions::default().https())
        .await
        .unwrap();
    let port = emu.local_addr().port();
    assert_eq!(emu.base_url(), format!("https://127.0.0.1:{port}"));
    let pem = emu.ca_certificate_pem().expect("a CA for HTTPS");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");

    let trusting = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    for base in [
        format!("https://127.0.0.1:{port}"),
        format!("https://localhost:{port}"),
    ] {
        let resp = trusting
            .get(format!("{base}/services/data/"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{base}");
    }
    let token = emu.control_token().unwrap();
    let info = trusting
        .get(format!("{}/__emulator__/info", emu.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 200);

    let untrusting = reqwest::Client::new()
        .get(format!("{}/services/data/", emu.base_url()))
        .send()
        .await
        .unwrap_err();
    assert!(untrusting.is_connect(), "{untrusting:?}");
    assert!(
        format!("{untrusting:?}").contains("UnknownIssuer"),
        "{untrusting:?}"
    );

    // Two emulators have two CAs: one's CA does not vouch for the other.
    let other = Emulator::start_with(EmulatorConfig::default(), ServeOptions::default().https())
        .await
        .unwrap();
    assert_ne!(other.ca_certificate_pem(), emu.ca_certificate_pem());
    let crossed = trusting
        .get(format!("{}/services/data/", other.base_url()))
        .send()
        .await;
    assert!(crossed.is_err(), "{crossed:?}");
    // A plain HTTP emulator has no CA.
    let plain = Emulator::start(EmulatorConfig::default()).await.unwrap();
    assert_eq!(plain.ca_certificate_pem(), None);
    assert!(plain.base_url().starts_with("http://"));
}
