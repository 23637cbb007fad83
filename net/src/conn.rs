//! One server-side connection: its reader (frames in, with the handshake, idle and frame
//! timeouts) and its writer (the outbound queue out, with the write timeout).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ee2e_spec::Phone;
use futures::SinkExt;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, timeout, timeout_at};
use tokio_util::codec::FramedWrite;
use tokio_util::sync::CancellationToken;

use crate::frame::{self, CloseReason, Frame, MAX_FRAME};
use crate::router::{Outbound, Request};
use crate::server::Limits;

/// What reading a frame can end in, besides a frame.
enum ReadEnd {
    /// The peer closed or reset the connection (possibly mid-frame): nobody to tell.
    Gone,
    /// The server closes with this reason.
    Close(CloseReason),
}

/// Runs one accepted connection to its end.
pub(crate) async fn run(
    stream: TcpStream,
    conn: u64,
    router: mpsc::Sender<Request>,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let accepted = Instant::now();
    let _ = stream.set_nodelay(true);
    let (read, write) = stream.into_split();
    let (frames, queue) = mpsc::channel(limits.outbound_frames);
    let outbound = Outbound {
        frames,
        queued: Arc::new(AtomicUsize::new(0)),
        budget: limits.outbound_bytes,
        kill: CancellationToken::new(),
    };
    let writer = tokio::spawn(write_loop(write, queue, outbound.clone(), limits.write_timeout));
    let mut reader = Reader { read: BufReader::new(read), limits, shutdown, kill: outbound.kill.clone() };
    let mut claimed: Option<Phone> = None;
    let end = loop {
        let deadline = match claimed {
            None => accepted + limits.handshake_timeout,
            Some(_) => Instant::now() + limits.idle_timeout,
        };
        let payload = match reader.next(deadline, claimed.is_none()).await {
            Ok(payload) => payload,
            Err(end) => break end,
        };
        let frame = match Frame::parse(&payload) {
            Ok(frame) => frame,
            Err(error) => {
                tracing::info!(conn, %error, "malformed frame");
                break ReadEnd::Close(CloseReason::Malformed);
            }
        };
        let result = match (&claimed, frame) {
            (None, Frame::Claim(phone)) => {
                let (done, answer) = oneshot::channel();
                let request = Request::Claim { conn, phone: phone.clone(), outbound: outbound.clone(), done };
                let result = ask(&router, request, answer).await;
                if result.is_ok() {
                    claimed = Some(phone);
                }
                result
            }
            (None, _) => Err(CloseReason::NotClaimed),
            (Some(phone), Frame::Message(bytes)) => {
                let (done, answer) = oneshot::channel();
                ask(&router, Request::Message { conn, phone: phone.clone(), bytes, done }, answer).await
            }
            (Some(phone), Frame::Confirm) => {
                let (done, answer) = oneshot::channel();
                ask(&router, Request::Confirm { conn, phone: phone.clone(), done }, answer).await
            }
            (Some(_), _) => Err(CloseReason::Unexpected),
        };
        if let Err(reason) = result {
            break ReadEnd::Close(reason);
        }
    };
    if let Some(phone) = claimed {
        // Forgotten (and offline) before the Close frame is queued: nothing is routed here
        // after it.
        let (done, answer) = oneshot::channel();
        if router.send(Request::Closed { conn, phone, done }).await.is_ok() {
            let _ = answer.await;
        }
    }
    if let ReadEnd::Close(reason) = end {
        tracing::debug!(conn, %reason, "closing");
        // Past the budget if need be: it is the last frame.
        let close = Frame::Close(reason).encode();
        outbound.queued.fetch_add(close.len(), Ordering::SeqCst);
        let _ = outbound.frames.try_send(close);
    }
    drop(outbound);
    let _ = writer.await;
    if matches!(end, ReadEnd::Close(_)) {
        // A lingering close: read (and drop) what the peer still sends for a moment, so
        // that closing with unread bytes does not reset the connection before the peer
        // read the Close frame.
        let mut sink = [0u8; 4096];
        let mut budget = MAX_FRAME;
        let _ = timeout(LINGER, async {
            while budget > 0 {
                match reader.read.read(&mut sink).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => budget = budget.saturating_sub(n),
                }
            }
        })
        .await;
    }
}

/// How long a closing connection still reads, at most ([`MAX_FRAME`] bytes).
const LINGER: std::time::Duration = std::time::Duration::from_millis(500);

/// Sends a request to the host thread and waits for its answer.
async fn ask(
    router: &mpsc::Sender<Request>,
    request: Request,
    answer: oneshot::Receiver<Result<(), CloseReason>>,
) -> Result<(), CloseReason> {
    if router.send(request).await.is_err() {
        return Err(CloseReason::ShuttingDown);
    }
    answer.await.unwrap_or(Err(CloseReason::ShuttingDown))
}

struct Reader {
    read: BufReader<OwnedReadHalf>,
    limits: Limits,
    shutdown: CancellationToken,
    kill: CancellationToken,
}

impl Reader {
    /// The next frame's payload: its first byte must come before `deadline`, the rest
    /// within the frame timeout (and, before the claim, before `deadline` too).
    async fn next(&mut self, deadline: Instant, handshake: bool) -> Result<Vec<u8>, ReadEnd> {
        tokio::select! {
            biased;
            () = self.kill.cancelled() => return Err(ReadEnd::Gone),
            () = self.shutdown.cancelled() => return Err(ReadEnd::Close(CloseReason::ShuttingDown)),
            first = timeout_at(deadline, self.read.fill_buf()) => match first {
                Err(_) => return Err(ReadEnd::Close(CloseReason::Timeout)),
                Ok(Err(_)) => return Err(ReadEnd::Gone),
                Ok(Ok([])) => return Err(ReadEnd::Gone),
                Ok(Ok(_)) => {}
            },
        }
        let mut frame_deadline = Instant::now() + self.limits.frame_timeout;
        if handshake {
            frame_deadline = frame_deadline.min(deadline);
        }
        let kill = self.kill.clone();
        tokio::select! {
            () = kill.cancelled() => Err(ReadEnd::Gone),
            rest = timeout_at(frame_deadline, self.rest()) => match rest {
                Err(_) => Err(ReadEnd::Close(CloseReason::Timeout)),
                Ok(result) => result,
            },
        }
    }

    async fn rest(&mut self) -> Result<Vec<u8>, ReadEnd> {
        let mut prefix = [0u8; 4];
        self.read.read_exact(&mut prefix).await.map_err(|_| ReadEnd::Gone)?;
        let len = u32::from_be_bytes(prefix) as usize;
        if len == 0 || len > MAX_FRAME {
            // Refused before its payload is read (SPEC.md §4.2's rule, for frames).
            return Err(ReadEnd::Close(CloseReason::FrameTooLong));
        }
        let mut payload = vec![0u8; len];
        self.read.read_exact(&mut payload).await.map_err(|_| ReadEnd::Gone)?;
        Ok(payload)
    }
}

/// Writes the outbound queue until it ends (or the connection is killed); a Close frame is
/// the last one written.
async fn write_loop(
    write: OwnedWriteHalf,
    mut queue: mpsc::Receiver<Vec<u8>>,
    outbound: Outbound,
    write_timeout: std::time::Duration,
) {
    let kill = outbound.kill.clone();
    let queued = outbound.queued.clone();
    // The writer holds no sender: the queue ends when the reader and the router let go.
    drop(outbound);
    let mut sink = FramedWrite::new(write, frame::codec());
    loop {
        let payload = tokio::select! {
            () = kill.cancelled() => return,
            payload = queue.recv() => match payload {
                Some(payload) => payload,
                None => break,
            },
        };
        let len = payload.len();
        let last = payload.starts_with(&[0, 0x7f]);
        // Flush only when nothing else is waiting: one write for a burst of frames.
        let write = async {
            sink.feed(bytes::Bytes::from(payload)).await?;
            if last || queue.is_empty() {
                SinkExt::<bytes::Bytes>::flush(&mut sink).await
            } else {
                Ok::<(), std::io::Error>(())
            }
        };
        match timeout(write_timeout, write).await {
            Ok(Ok(())) => {
                queued.fetch_sub(len, Ordering::SeqCst);
            }
            _ => {
                // The peer does not read: the reader stops too.
                kill.cancel();
                return;
            }
        }
        if last {
            break;
        }
    }
    let _ = timeout(write_timeout, async {
        let _ = SinkExt::<bytes::Bytes>::flush(&mut sink).await;
        let _ = tokio::io::AsyncWriteExt::shutdown(sink.get_mut()).await;
    })
    .await;
}
