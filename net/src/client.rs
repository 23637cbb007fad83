//! A client's end of the TCP binding (SPEC.md §2.5): connect, claim the address, send
//! messages and confirmations, read the server's frames.

use std::time::Duration;

use ee2e_spec::Phone;
use futures::{SinkExt, StreamExt};
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio_util::codec::Framed;

use crate::frame::{self, CloseReason, Frame, FrameError};

/// What went wrong on a client connection.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// Connecting, reading or writing failed.
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    /// The server closed the connection without a `Close` frame.
    #[error("the server closed the connection")]
    Closed,
    /// The server closed the connection, saying why.
    #[error("the server closed the connection: {0}")]
    Refused(CloseReason),
    /// Nothing arrived in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The server sent a payload that is no frame.
    #[error("bad frame from the server: {0}")]
    Frame(#[from] FrameError),
    /// The server sent a frame a client does not accept (a `Claim` or a `Confirm`).
    #[error("unexpected frame from the server: {0:?}")]
    Unexpected(Frame),
}

/// A connection that has claimed its address.
#[derive(Debug)]
pub struct Connection {
    framed: Framed<TcpStream, tokio_util::codec::LengthDelimitedCodec>,
    timeout: Duration,
}

impl Connection {
    /// Connects to `server` and claims `phone` (SPEC.md §2.5: unauthenticated). `timeout`
    /// bounds every later wait for a frame.
    ///
    /// # Errors
    /// [`NetError::Io`] if the connection fails.
    pub async fn open(
        server: impl ToSocketAddrs,
        phone: &Phone,
        timeout: Duration,
    ) -> Result<Self, NetError> {
        let stream = tokio::time::timeout(timeout, TcpStream::connect(server))
            .await
            .map_err(|_| NetError::Timeout(timeout))??;
        stream.set_nodelay(true)?;
        let mut connection = Connection { framed: Framed::new(stream, frame::codec()), timeout };
        connection.write(&Frame::Claim(phone.clone())).await?;
        Ok(connection)
    }

    /// Sends one encoded protocol message.
    ///
    /// # Errors
    /// [`NetError::Io`] if the write fails.
    pub async fn send(&mut self, message: &[u8]) -> Result<(), NetError> {
        self.framed.send(bytes::Bytes::copy_from_slice(message)).await?;
        Ok(())
    }

    /// Confirms the oldest unconfirmed stored delivery.
    ///
    /// # Errors
    /// [`NetError::Io`] if the write fails.
    pub async fn confirm(&mut self) -> Result<(), NetError> {
        self.write(&Frame::Confirm).await
    }

    /// Writes any frame (tests use it to send what a client should not).
    ///
    /// # Errors
    /// [`NetError::Io`] if the write fails.
    pub async fn write(&mut self, frame: &Frame) -> Result<(), NetError> {
        self.framed.send(bytes::Bytes::from(frame.encode())).await?;
        Ok(())
    }

    /// The next frame from the server: a message, a stored delivery or `Handled`. A
    /// `Close` frame is [`NetError::Refused`].
    ///
    /// # Errors
    /// [`NetError`] on a closed connection, a timeout or a bad frame.
    pub async fn next(&mut self) -> Result<Frame, NetError> {
        let payload = tokio::time::timeout(self.timeout, self.framed.next())
            .await
            .map_err(|_| NetError::Timeout(self.timeout))?
            .ok_or(NetError::Closed)??;
        match Frame::parse(&payload)? {
            Frame::Close(reason) => Err(NetError::Refused(reason)),
            frame @ (Frame::Claim(_) | Frame::Confirm) => Err(NetError::Unexpected(frame)),
            frame => Ok(frame),
        }
    }

    /// The underlying stream (tests write raw bytes on it).
    pub fn stream_mut(&mut self) -> &mut TcpStream {
        self.framed.get_mut()
    }
}
