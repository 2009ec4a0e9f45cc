//! Extra trust anchors for one target: a PEM bundle of CA certificates, for targets whose
//! servers present certificates issued by a private CA.
//!
//! A [`CaBundle`] is added to the built-in web PKI roots of the target's HTTP client; it never
//! replaces them, and certificate verification is never switched off. Bundles are checked when
//! loaded: an unreadable file, a file without certificates or a certificate rustls cannot use as
//! a trust anchor is a [`CaBundleError`] naming the file.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use serde::{Deserialize, Deserializer};
use sha2::{Digest, Sha256};

/// CA certificates a target trusts in addition to the built-in roots. Cheap to clone.
#[derive(Clone)]
pub struct CaBundle {
    inner: Arc<Bundle>,
}

struct Bundle {
    /// Where the bundle came from (a file path, or a label for bundles built in code).
    source: String,
    /// The DER of every certificate, in file order.
    certificates: Vec<Vec<u8>>,
    /// SHA-256 over the certificates: two bundles with the same certificates are the same.
    digest: [u8; 32],
}

/// A CA bundle that cannot be used; the message says what is wrong with which file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("CA bundle `{file}`: {message}")]
pub struct CaBundleError {
    /// The file (or label) of the bundle.
    pub file: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl CaBundle {
    /// Reads and checks a PEM file of one or more `CERTIFICATE` blocks.
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self, CaBundleError> {
        let path = path.as_ref();
        let pem = std::fs::read(path).map_err(|e| CaBundleError {
            file: path.display().to_string(),
            message: format!("cannot read the file: {e}"),
        })?;
        Self::from_pem(path.display().to_string(), &pem)
    }

    /// Checks PEM text of one or more `CERTIFICATE` blocks; `source` names it in errors.
    pub fn from_pem(source: impl Into<String>, pem: &[u8]) -> Result<Self, CaBundleError> {
        let source = source.into();
        let fail = |message: String| CaBundleError {
            file: source.clone(),
            message,
        };
        let mut certificates = Vec::new();
        let mut anchors = rustls::RootCertStore::empty();
        for (index, item) in CertificateDer::pem_slice_iter(pem).enumerate() {
            let der = item.map_err(|e| {
                fail(format!(
                    "certificate {} is not valid PEM: {e}; expected `-----BEGIN CERTIFICATE-----` blocks",
                    index + 1
                ))
            })?;
            anchors.add(der.clone()).map_err(|e| {
                fail(format!(
                    "certificate {} cannot be used as a trust anchor: {e}",
                    index + 1
                ))
            })?;
            certificates.push(der.as_ref().to_vec());
        }
        if certificates.is_empty() {
            return Err(fail(
                "holds no certificate; expected one or more `-----BEGIN CERTIFICATE-----` blocks"
                    .into(),
            ));
        }
        let mut hasher = Sha256::new();
        for der in &certificates {
            hasher.update((der.len() as u64).to_be_bytes());
            hasher.update(der);
        }
        Ok(Self {
            inner: Arc::new(Bundle {
                source,
                certificates,
                digest: hasher.finalize().into(),
            }),
        })
    }

    /// The file (or label) the bundle was read from.
    pub fn source(&self) -> &str {
        &self.inner.source
    }

    /// How many certificates the bundle holds (at least one).
    pub fn len(&self) -> usize {
        self.inner.certificates.len()
    }

    /// Always false: a bundle holds at least one certificate.
    pub fn is_empty(&self) -> bool {
        self.inner.certificates.is_empty()
    }

    /// Identifies the certificates (not the file name): the key of the client cache.
    pub(crate) fn digest(&self) -> [u8; 32] {
        self.inner.digest
    }

    /// The certificates as reqwest roots.
    pub(crate) fn roots(&self) -> Result<Vec<reqwest::Certificate>, reqwest::Error> {
        self.inner
            .certificates
            .iter()
            .map(|der| reqwest::Certificate::from_der(der))
            .collect()
    }
}

impl PartialEq for CaBundle {
    fn eq(&self, other: &Self) -> bool {
        self.inner.digest == other.inner.digest
    }
}

impl Eq for CaBundle {}

impl fmt::Debug for CaBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaBundle")
            .field("source", &self.inner.source)
            .field("certificates", &self.inner.certificates.len())
            .finish()
    }
}

/// Deserializes from the path of a PEM file, which is read and checked on the spot.
impl<'de> Deserialize<'de> for CaBundle {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let path = PathBuf::deserialize(deserializer)?;
        Self::from_pem_file(&path).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_files_without_usable_certificates() {
        let missing = CaBundle::from_pem_file("/nonexistent/ca.pem").unwrap_err();
        assert_eq!(missing.file, "/nonexistent/ca.pem");
        assert!(
            missing.to_string().contains("cannot read the file"),
            "{missing}"
        );

        let empty = CaBundle::from_pem("empty.pem", b"no pem here\n").unwrap_err();
        assert!(empty.message.contains("holds no certificate"), "{empty}");

        let garbage = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let bad = CaBundle::from_pem("bad.pem", garbage).unwrap_err();
        assert!(
            bad.to_string()
                .starts_with("CA bundle `bad.pem`: certificate 1 cannot be used"),
            "{bad}"
        );
    }
}
