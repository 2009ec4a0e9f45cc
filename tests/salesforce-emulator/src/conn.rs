//! Connections that a handler can reset: a TCP listener for `axum::serve` whose streams fail
//! (and close with an RST) once their connection's abort flag is raised.
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

/// A TCP stream that errors (and resets) once its connection is aborted.
#[derive(Debug)]
pub struct AbortableStream {
    inner: TcpStream,
    handle: ConnHandle,
}

impl AbortableStream {
    fn check(&mut self) -> io::Result<()> {
        if self.handle.flag.load(Ordering::SeqCst) {
            // Zero linger turns the close into a TCP RST.
            let _ = self.inner.set_zero_linger();
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
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for AbortableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A TCP listener producing [`AbortableStream`]s.
#[derive(Debug)]
pub struct AbortableListener {
    inner: TcpListener,
}

impl AbortableListener {
    /// Wraps a bound listener.
    pub fn new(inner: TcpListener) -> Self {
        Self { inner }
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
                    let handle = ConnHandle {
                        flag: Arc::new(AtomicBool::new(false)),
                        remote,
                    };
                    return (
                        AbortableStream {
                            inner: stream,
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
