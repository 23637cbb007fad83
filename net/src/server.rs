//! The TCP front end (SPEC.md §2.5): accepts connections up to a limit, runs each
//! (module `conn`) against the host thread (module `router`), and shuts down gracefully:
//! no new connection, every open one told `Close(ShuttingDown)` once the frame it is handling
//! is answered, the host thread's queue worked off, the store closed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ee2e::otp::OtpDelivery;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::frame::{CloseReason, Frame};
use crate::host::Host;
use crate::router::Router;

/// The front end's bounds (SPEC.md §14, "TCP front end"). Every value is the largest a
/// deployment uses; tests lower the timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Open connections at most; one more is answered `Close(Busy)` and closed.
    pub max_connections: usize,
    /// From accept to a complete `Claim` frame.
    pub handshake_timeout: Duration,
    /// Between two frames of a claimed connection.
    pub idle_timeout: Duration,
    /// From a frame's first byte to its last.
    pub frame_timeout: Duration,
    /// For one frame to be written to the peer.
    pub write_timeout: Duration,
    /// Bytes queued for one connection and not yet written; past it the connection is
    /// dropped (it does not read what it is sent).
    pub outbound_bytes: usize,
    /// Frames queued for one connection, likewise.
    pub outbound_frames: usize,
    /// How long a shutdown waits for open connections before it drops them.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1024,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
            frame_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            outbound_bytes: 8 << 20,
            outbound_frames: 256,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// What a server did, reported when it stops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Connections accepted and run.
    pub connections: u64,
    /// Connections refused with `Close(Busy)`.
    pub refused: u64,
    /// Live relays lost because the recipient's connection had gone or was full.
    pub lost_relays: usize,
}

/// A running server.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<Stats>,
}

impl Running {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A token whose cancellation starts the graceful shutdown.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Shuts down gracefully and returns what the server did.
    pub async fn shutdown(self) -> Stats {
        self.shutdown.cancel();
        self.wait().await
    }

    /// Waits until the server stopped (after its shutdown token was cancelled).
    pub async fn wait(self) -> Stats {
        self.task.await.unwrap_or_default()
    }
}

/// Starts serving `host` on `listener`: OTPs go to `otp`. Returns once the server runs.
pub fn start(listener: TcpListener, host: Host, otp: Box<dyn OtpDelivery + Send>, limits: Limits) -> Running {
    let addr = listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
    let shutdown = CancellationToken::new();
    // One request per connection at most is queued (a connection waits for its answer).
    let (requests, queue) = mpsc::channel(limits.max_connections.max(1));
    let router = std::thread::Builder::new()
        .name("ee2e-host".into())
        .spawn(move || Router::new(host, otp).run(queue).lost_relays)
        .expect("the host thread starts");
    let task = tokio::spawn(accept_loop(listener, requests, router, limits, shutdown.clone()));
    Running { addr, shutdown, task }
}

/// Refused connections being told `Close(Busy)` at once, at most.
pub const MAX_REFUSALS: usize = 64;

/// How long a refused connection is kept to be told why.
const REFUSAL_TIME: Duration = Duration::from_millis(500);

/// Writes `Close(Busy)`, closes the write side and drains the peer's bytes for a moment (so
/// the close is not a reset that loses the frame).
async fn refuse(mut stream: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut close = vec![0, 0, 0, 3];
    close.extend(Frame::Close(CloseReason::Busy).encode());
    let _ = tokio::time::timeout(REFUSAL_TIME, async {
        stream.write_all(&close).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 1024];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<(), std::io::Error>(())
    })
    .await;
}

async fn accept_loop(
    listener: TcpListener,
    requests: mpsc::Sender<crate::router::Request>,
    router: std::thread::JoinHandle<usize>,
    limits: Limits,
    shutdown: CancellationToken,
) -> Stats {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let refusals = Arc::new(Semaphore::new(MAX_REFUSALS));
    let mut tasks = JoinSet::new();
    let mut stats = Stats::default();
    let mut next_conn = 0u64;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            Some(_) = tasks.join_next() => {}
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: back off, keep serving.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(permit) = permits.clone().try_acquire_owned() else {
                    stats.refused += 1;
                    tracing::info!(%peer, "connection refused: limit reached");
                    // Told why, with a lingering close, while few refusals are under way;
                    // beyond that simply closed.
                    if let Ok(refusal) = refusals.clone().try_acquire_owned() {
                        tasks.spawn(async move {
                            refuse(stream).await;
                            drop(refusal);
                        });
                    }
                    continue;
                };
                stats.connections += 1;
                next_conn += 1;
                let (requests, shutdown) = (requests.clone(), shutdown.clone());
                tasks.spawn(async move {
                    crate::conn::run(stream, next_conn, requests, limits, shutdown).await;
                    drop(permit);
                });
            }
        }
    }
    drop(listener);
    // Open connections finish the frame they handle, then close with ShuttingDown.
    if tokio::time::timeout(limits.shutdown_grace, async { while tasks.join_next().await.is_some() {} })
        .await
        .is_err()
    {
        tracing::warn!(left = tasks.len(), "connections still open after the grace period: dropped");
        tasks.shutdown().await;
    }
    drop(requests);
    // The host thread ends when its queue is empty and every sender is gone.
    stats.lost_relays =
        tokio::task::spawn_blocking(move || router.join().unwrap_or_default()).await.unwrap_or_default();
    stats
}
