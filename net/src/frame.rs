//! The frames of the TCP binding (SPEC.md §2.5): what one length-prefixed frame carries.
//!
//! A frame is a 4-byte big-endian length `L` (1 ≤ `L` ≤ [`MAX_FRAME`]) and `L` bytes of
//! payload. A payload whose first byte is a wire version (1 or 2) is one protocol message
//! (SPEC.md §4); one whose first byte is 0 is a transport frame, its second byte the kind.

use ee2e_spec::Phone;
use tokio_util::codec::LengthDelimitedCodec;

/// The largest protocol message (SPEC.md §4.8): a v2 `Data` with a 16-byte phone and the
/// largest ciphertext.
pub const MAX_MESSAGE: usize = 1_048_703;

/// The largest frame payload: a [`Frame::Stored`] wrapping the largest message.
pub const MAX_FRAME: usize = MAX_MESSAGE + 2;

/// The first byte of a transport frame (no wire version is 0).
const TRANSPORT: u8 = 0x00;

const CLAIM: u8 = 0x01;
const HANDLED: u8 = 0x02;
const STORED: u8 = 0x03;
const CONFIRM: u8 = 0x04;
const CLOSE: u8 = 0x7f;

/// The length-delimited codec of the binding: 4-byte big-endian length, at most
/// [`MAX_FRAME`] bytes of payload (a longer prefix is refused before the payload is read).
pub fn codec() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .length_field_length(4)
        .big_endian()
        .max_frame_length(MAX_FRAME)
        .new_codec()
}

/// Why the server closes a connection (the byte of [`Frame::Close`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::FromRepr)]
#[repr(u8)]
pub enum CloseReason {
    /// A payload that is no frame of the binding, or a protocol message that does not decode.
    Malformed = 1,
    /// A length prefix of 0 or above [`MAX_FRAME`]; the payload was not read.
    FrameTooLong = 2,
    /// The first frame was not a `Claim`.
    NotClaimed = 3,
    /// A frame the server does not accept here: a second `Claim`, a `Confirm` with no stored
    /// delivery unconfirmed, or a server→client frame.
    Unexpected = 4,
    /// Another open connection has claimed the same address.
    AddressInUse = 5,
    /// The server has as many connections as it accepts.
    Busy = 6,
    /// No `Claim` within the handshake timeout, no frame within the idle timeout, or a frame
    /// not complete within the frame timeout of its first byte.
    Timeout = 7,
    /// The server is shutting down.
    ShuttingDown = 8,
    /// The server failed internally (its store).
    Internal = 9,
}

impl CloseReason {
    /// The reason of a byte, if it is one.
    pub fn from_byte(byte: u8) -> Option<Self> {
        // Derived from the discriminants, so that a new reason cannot be left out.
        Self::from_repr(byte)
    }
}

impl std::fmt::Display for CloseReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
            CloseReason::Malformed => "malformed frame",
            CloseReason::FrameTooLong => "frame length out of bounds",
            CloseReason::NotClaimed => "the first frame was not a Claim",
            CloseReason::Unexpected => "unexpected frame",
            CloseReason::AddressInUse => "address claimed by another connection",
            CloseReason::Busy => "too many connections",
            CloseReason::Timeout => "timeout",
            CloseReason::ShuttingDown => "server shutting down",
            CloseReason::Internal => "server failure",
        };
        f.write_str(text)
    }
}

/// One frame's payload, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A protocol message (SPEC.md §4), not decoded here.
    Message(Vec<u8>),
    /// C→S, first frame: the connection speaks for this address (unauthenticated).
    Claim(Phone),
    /// S→C: the server handled the connection's last message or confirmation and committed
    /// what it stored (the submission acknowledgement of SPEC.md §2.4).
    Handled,
    /// S→C: a message from the recipient's offline queue; the client confirms it.
    Stored(Vec<u8>),
    /// C→S: the delivery confirmation of the oldest unconfirmed [`Frame::Stored`].
    Confirm,
    /// S→C, last frame: the server closes the connection.
    Close(CloseReason),
}

/// Why a payload is not a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The payload is empty.
    #[error("empty frame")]
    Empty,
    /// The first byte is neither 0 nor a wire version.
    #[error("unknown frame: first byte 0x{0:02x}")]
    UnknownFirstByte(u8),
    /// A transport frame of an unknown kind.
    #[error("unknown transport frame kind 0x{0:02x}")]
    UnknownKind(u8),
    /// A transport frame shorter or longer than its kind's layout.
    #[error("transport frame of {len} bytes does not fit its layout")]
    BadLength {
        /// The payload's length.
        len: usize,
    },
    /// The claimed address is not a phone number.
    #[error("claimed address: {0}")]
    InvalidPhone(String),
    /// A close reason byte that is not one.
    #[error("unknown close reason {0}")]
    UnknownReason(u8),
    /// A `Stored` frame whose content is not a protocol message.
    #[error("stored frame without a protocol message")]
    StoredNotMessage,
}

impl Frame {
    /// The payload bytes of the frame.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Frame::Message(bytes) => bytes.clone(),
            Frame::Claim(phone) => {
                let text = phone.to_string();
                let mut out = vec![TRANSPORT, CLAIM, text.len() as u8];
                out.extend_from_slice(text.as_bytes());
                out
            }
            Frame::Handled => vec![TRANSPORT, HANDLED],
            Frame::Stored(bytes) => {
                let mut out = Vec::with_capacity(bytes.len() + 2);
                out.extend_from_slice(&[TRANSPORT, STORED]);
                out.extend_from_slice(bytes);
                out
            }
            Frame::Confirm => vec![TRANSPORT, CONFIRM],
            Frame::Close(reason) => vec![TRANSPORT, CLOSE, *reason as u8],
        }
    }

    /// Parses a payload.
    ///
    /// # Errors
    /// [`FrameError`] for every payload that is no frame of the binding.
    pub fn parse(payload: &[u8]) -> Result<Frame, FrameError> {
        let (&first, rest) = payload.split_first().ok_or(FrameError::Empty)?;
        match first {
            1 | 2 => return Ok(Frame::Message(payload.to_vec())),
            TRANSPORT => {}
            other => return Err(FrameError::UnknownFirstByte(other)),
        }
        let (&kind, body) = rest.split_first().ok_or(FrameError::BadLength { len: payload.len() })?;
        let exact = |n: usize| {
            if body.len() == n { Ok(()) } else { Err(FrameError::BadLength { len: payload.len() }) }
        };
        match kind {
            CLAIM => {
                let (&len, text) = body.split_first().ok_or(FrameError::BadLength { len: payload.len() })?;
                if usize::from(len) != text.len() || text.len() > 16 {
                    return Err(FrameError::BadLength { len: payload.len() });
                }
                let text =
                    std::str::from_utf8(text).map_err(|_| FrameError::InvalidPhone("not ASCII".into()))?;
                Phone::parse(text).map(Frame::Claim).map_err(|e| FrameError::InvalidPhone(e.to_string()))
            }
            HANDLED => exact(0).map(|()| Frame::Handled),
            STORED => match body.first() {
                Some(1 | 2) => Ok(Frame::Stored(body.to_vec())),
                _ => Err(FrameError::StoredNotMessage),
            },
            CONFIRM => exact(0).map(|()| Frame::Confirm),
            CLOSE => {
                exact(1)?;
                CloseReason::from_byte(body[0]).map(Frame::Close).ok_or(FrameError::UnknownReason(body[0]))
            }
            other => Err(FrameError::UnknownKind(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone() -> Phone {
        Phone::parse("+15551234567").unwrap()
    }

    #[test]
    fn every_frame_round_trips_with_its_specified_bytes() {
        let cases = [
            (Frame::Claim(phone()), b"\x00\x01\x0c+15551234567".to_vec()),
            (Frame::Handled, vec![0, 2]),
            (Frame::Stored(vec![2, 0x7f, 8]), vec![0, 3, 2, 0x7f, 8]),
            (Frame::Confirm, vec![0, 4]),
            (Frame::Close(CloseReason::Busy), vec![0, 0x7f, 6]),
            (Frame::Message(vec![1, 0x7f, 8]), vec![1, 0x7f, 8]),
        ];
        for (frame, bytes) in cases {
            assert_eq!(frame.encode(), bytes, "{frame:?}");
            assert_eq!(Frame::parse(&bytes), Ok(frame));
        }
        for byte in 1..=9 {
            assert_eq!(CloseReason::from_byte(byte).map(|r| r as u8), Some(byte));
        }
    }

    #[test]
    fn malformed_payloads_are_refused_with_their_error() {
        let cases: [(&[u8], FrameError); 10] = [
            (b"", FrameError::Empty),
            (b"\x03\x10", FrameError::UnknownFirstByte(3)),
            (b"\x00", FrameError::BadLength { len: 1 }),
            (b"\x00\x05", FrameError::UnknownKind(5)),
            (b"\x00\x02\x00", FrameError::BadLength { len: 3 }),
            (b"\x00\x01\x0d+15551234567", FrameError::BadLength { len: 15 }),
            (b"\x00\x01\x03abc", FrameError::InvalidPhone("invalid phone number".into())),
            (b"\x00\x7f\x00", FrameError::UnknownReason(0)),
            (b"\x00\x03", FrameError::StoredNotMessage),
            (b"\x00\x03\x05", FrameError::StoredNotMessage),
        ];
        for (bytes, error) in cases {
            let got = Frame::parse(bytes);
            match (&got, &error) {
                (Err(FrameError::InvalidPhone(_)), FrameError::InvalidPhone(_)) => {}
                _ => assert_eq!(got, Err(error), "{bytes:?}"),
            }
        }
    }

    #[test]
    fn the_largest_stored_message_fits_a_frame() {
        assert_eq!(Frame::Stored(vec![2; MAX_MESSAGE]).encode().len(), MAX_FRAME);
    }
}
