//! HTTPS for the SCIM API: the rustls configuration built from `[server.tls]`'s PEM files, and
//! a listener for `axum::serve` that completes TLS handshakes off the accept path.
//!
//! Handshakes run concurrently (at most [`MAX_HANDSHAKES`] at a time, each within
//! [`HANDSHAKE_TIMEOUT`]), so a client that opens a connection and stalls delays nobody else.
//! The server speaks HTTP/1.1 (announced by ALPN) with TLS 1.2 and 1.3.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::config::TlsConfig;

/// Longest time a client may take to complete its TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Most TLS handshakes in progress at once; further connections wait to be accepted.
pub const MAX_HANDSHAKES: usize = 256;

/// Which `[server.tls]` file a [`TlsError`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsFile {
    /// `certificate`: the certificate chain.
    Certificate,
    /// `private_key`: the key of the chain's first certificate.
    PrivateKey,
}

/// A `[server.tls]` file that cannot be used: which one, where, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{}`: {message}", path.display())]
pub struct TlsError {
    /// Which file.
    pub file: TlsFile,
    /// Its path.
    pub path: PathBuf,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl TlsError {
    /// The configuration key of the file: `certificate` or `private_key`.
    pub fn key(&self) -> &'static str {
        match self.file {
            TlsFile::Certificate => "certificate",
            TlsFile::PrivateKey => "private_key",
        }
    }
}

/// Reads the certificate chain and private key and builds the rustls server configuration;
/// every error names the file and says what it should hold.
pub fn server_config(tls: &TlsConfig) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let certificates = read_chain(&tls.certificate)?;
    let key = read_key(&tls.private_key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError {
            file: TlsFile::Certificate,
            path: tls.certificate.clone(),
            message: format!("no usable TLS protocol version: {e}"),
        })?
        .with_no_client_auth()
        .with_single_cert(certificates, key)
        .map_err(|e| TlsError {
            file: TlsFile::PrivateKey,
            path: tls.private_key.clone(),
            message: format!(
                "does not fit the first certificate of `{}`: {e}; give the key of the server's own certificate",
                tls.certificate.display()
            ),
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let fail = |message: String| TlsError {
        file: TlsFile::Certificate,
        path: path.to_path_buf(),
        message,
    };
    let chain = CertificateDer::pem_file_iter(path)
        .and_then(|items| items.collect::<Result<Vec<_>, _>>())
        .map_err(|e| fail(pem_problem(&e, "certificate")))?;
    if chain.is_empty() {
        return Err(fail(
            "holds no certificate; expected the chain as `-----BEGIN CERTIFICATE-----` blocks, the server's own certificate first".into(),
        ));
    }
    Ok(chain)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| TlsError {
        file: TlsFile::PrivateKey,
        path: path.to_path_buf(),
        message: match e {
            pem::Error::NoItemsFound => "holds no private key; expected a `-----BEGIN PRIVATE KEY-----` (PKCS#8), `RSA PRIVATE KEY` or `EC PRIVATE KEY` block".into(),
            other => pem_problem(&other, "private key"),
        },
    })
}

fn pem_problem(error: &pem::Error, what: &str) -> String {
    match error {
        pem::Error::Io(e) => format!("cannot read the {what} file: {e}"),
        other => format!("is not a valid PEM {what} file: {other}"),
    }
}

/// A listener yielding connections whose TLS handshake has completed; for `axum::serve`.
///
/// A background task accepts TCP connections and runs each handshake in its own task; dropping
/// the listener stops accepting.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local_addr: SocketAddr,
    acceptor: JoinHandle<()>,
}

impl TlsListener {
    /// Serves TLS with `config` on the connections of a bound `listener`.
    pub fn new(listener: TcpListener, config: Arc<rustls::ServerConfig>) -> io::Result<Self> {
        let local_addr = listener.local_addr()?;
        let (sender, ready) = mpsc::channel(MAX_HANDSHAKES);
        let acceptor = tokio::spawn(accept_loop(listener, TlsAcceptor::from(config), sender));
        Ok(Self {
            ready,
            local_addr,
            acceptor,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accept task only ends when it cannot accept at all; serve nothing more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local_addr)
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let Ok(permit) = handshakes.clone().acquire_owned().await else {
            return;
        };
        let (tcp, remote) = match listener.accept().await {
            Ok(connection) => connection,
            Err(error) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(%error, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if ready.is_closed() {
            return;
        }
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let ready = ready.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => {
                    let _ = ready.send((stream, remote)).await;
                }
                Ok(Err(error)) => tracing::debug!(%remote, %error, "TLS handshake failed"),
                Err(_) => tracing::debug!(%remote, "TLS handshake timed out"),
            }
        });
    }
}
