//! HTTPS for the emulator: a certificate authority generated at start, and a server certificate
//! it issues for `localhost`, `127.0.0.1` and `::1` (and the listening address).
//!
//! The CA's PEM is handed to the embedding code ([`crate::Emulator::ca_certificate_pem`]) so a
//! client can trust it explicitly, the way an operator trusts a private CA; nothing here turns
//! certificate verification off.

use std::net::IpAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::server::EmulatorError;

/// A freshly generated CA and the server configuration of a certificate it issued.
pub struct GeneratedTls {
    /// The CA certificate, PEM.
    pub ca_pem: String,
    /// The rustls configuration presenting the server certificate (chain: leaf, CA).
    pub server_config: Arc<rustls::ServerConfig>,
}

fn failed(what: &str, error: impl std::fmt::Display) -> EmulatorError {
    EmulatorError::Config(format!("cannot generate the TLS {what}: {error}"))
}

/// Generates a CA and a server certificate valid for the loopback names and `ip`.
pub fn generate(ip: IpAddr) -> Result<GeneratedTls, EmulatorError> {
    let ca_key = KeyPair::generate().map_err(|e| failed("CA key", e))?;
    let mut ca_params = CertificateParams::default();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Salesforce emulator test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params
        .self_signed(&ca_key)
        .map_err(|e| failed("CA certificate", e))?;
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate().map_err(|e| failed("server key", e))?;
    let mut leaf_params = CertificateParams::default();
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let mut names = vec![
        SanType::DnsName(
            "localhost"
                .try_into()
                .map_err(|e| failed("server name", e))?,
        ),
        SanType::IpAddress(IpAddr::from([127, 0, 0, 1])),
        SanType::IpAddress(IpAddr::from(std::net::Ipv6Addr::LOCALHOST)),
    ];
    if !ip.is_loopback() && !ip.is_unspecified() {
        names.push(SanType::IpAddress(ip));
    }
    leaf_params.subject_alt_names = names;
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    leaf_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_cert = leaf_params
        .signed_by(&leaf_key, &issuer)
        .map_err(|e| failed("server certificate", e))?;

    let chain = vec![
        CertificateDer::from(leaf_cert.der().to_vec()),
        CertificateDer::from(ca_cert.der().to_vec()),
    ];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server_config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| failed("server configuration", e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| failed("server configuration", e))?;
    server_config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(GeneratedTls {
        ca_pem: ca_cert.pem(),
        server_config: Arc::new(server_config),
    })
}
