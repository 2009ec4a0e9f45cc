//! Connections that a handler can reset: a TCP listener for `axum::serve` whose streams fail
//! (and close with an RST) once their connection's abort flag is raised. The listener speaks
//! plain TCP or, given a TLS acceptor, TLS over it.
//!
//! A handler cannot drop its own connection in axum; instead the response carries a
//! [`ResetConnection`] marker, the observing middleware raises the flag of the request's
//! connection, and hyper's attempt to write the response fails, so the client sees the
//! connection reset with no response at all.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// Longest time a client may take to complete a TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Response extension asking the server to reset the connection instead of answering.
#[derive(Debug, Clone, Copy)]
pub struct ResetConnection;

/// The abort switch of one connection, available to handlers as connect info.
#[derive(Debug, Clone)]
pub struct ConnHandle {
    flag: Arc<AtomicBool>,
    remote: SocketAddr,
}

impl ConnHandle {
    /// Makes the connection fail on its next read or write.
    pub fn abort(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }

    /// The client's address.
    pub fn remote_addr(&self) -> SocketAddr {
        self.remote
    }
}

/// The bytes of one connection: plain TCP or TLS over TCP.
#[derive(Debug)]
enum Wire {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// What a [`Wire`] reads from and writes to.
trait Duplex: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Duplex for T {}

impl Wire {
    fn tcp(&self) -> &TcpStream {
        match self {
            Wire::Plain(tcp) => tcp,
            Wire::Tls(tls) => tls.get_ref().0,
        }
    }

    fn duplex(&mut self) -> Pin<&mut dyn Duplex> {
        match self {
            Wire::Plain(tcp) => Pin::new(tcp),
            Wire::Tls(tls) => Pin::new(&mut **tls),
        }
    }
}

/// A connection that errors (and resets) once it is aborted.
#[derive(Debug)]
pub struct AbortableStream {
    inner: Wire,
    handle: ConnHandle,
}

impl AbortableStream {
    fn check(&mut self) -> io::Result<()> {
        if self.handle.flag.load(Ordering::SeqCst) {
            // Zero linger turns the close into a TCP RST.
            let _ = self.inner.tcp().set_zero_linger();
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "connection reset by fault injection",
            ));
        }
        Ok(())
    }
}

impl AsyncRead for AbortableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.check()?;
        self.inner.duplex().poll_read(cx, buf)
    }
}

impl AsyncWrite for AbortableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        self.inner.duplex().poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        self.inner.duplex().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        self.inner.duplex().poll_shutdown(cx)
    }
}

/// A TCP listener producing [`AbortableStream`]s, optionally after a TLS handshake.
pub struct AbortableListener {
    inner: TcpListener,
    tls: Option<TlsAcceptor>,
}

impl std::fmt::Debug for AbortableListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AbortableListener")
            .field("inner", &self.inner)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl AbortableListener {
    /// Wraps a bound listener (plain TCP).
    pub fn new(inner: TcpListener) -> Self {
        Self { inner, tls: None }
    }

    /// Wraps a bound listener whose connections speak TLS with `acceptor`. Handshakes run one at
    /// a time, each within ten seconds (enough for a test tool).
    pub fn with_tls(inner: TcpListener, acceptor: TlsAcceptor) -> Self {
        Self {
            inner,
            tls: Some(acceptor),
        }
    }

    /// The connection's bytes: the TCP stream itself, or TLS over it once the handshake is done.
    async fn wire(&self, stream: TcpStream, remote: SocketAddr) -> Option<Wire> {
        let Some(acceptor) = &self.tls else {
            return Some(Wire::Plain(stream));
        };
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
            Ok(Ok(tls)) => Some(Wire::Tls(Box::new(tls))),
            Ok(Err(e)) => {
                tracing::debug!(%remote, error = %e, "TLS handshake failed");
                None
            }
            Err(_) => {
                tracing::debug!(%remote, "TLS handshake timed out");
                None
            }
        }
    }
}

impl Listener for AbortableListener {
    type Io = AbortableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, remote)) => {
                    let _ = stream.set_nodelay(true);
                    let Some(wire) = self.wire(stream, remote).await else {
                        continue;
                    };
                    let handle = ConnHandle {
                        flag: Arc::new(AtomicBool::new(false)),
                        remote,
                    };
                    return (
                        AbortableStream {
                            inner: wire,
                            handle,
                        },
                        remote,
                    );
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

impl Connected<IncomingStream<'_, AbortableListener>> for ConnHandle {
    fn connect_info(stream: IncomingStream<'_, AbortableListener>) -> Self {
        stream.io().handle.clone()
    }
}
