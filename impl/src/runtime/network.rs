//! The in-process network: addresses, envelopes of encoded bytes, a FIFO of envelopes in
//! flight, the tap an attacker (a test) installs, and the log of everything observed.

use std::collections::VecDeque;
use std::fmt;

use ee2e_spec::{MessageType, Phone, Wire};

use crate::codec;

/// Where an envelope comes from or goes to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Address {
    /// The server.
    Server,
    /// The client with this phone number.
    Client(Phone),
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Server => f.write_str("server"),
            Address::Client(phone) => write!(f, "{phone}"),
        }
    }
}

/// Encoded protocol bytes travelling from one address to another.
///
/// The addresses are the network's, not the protocol's: nothing authenticates `from`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Envelope {
    /// The sender's address (the server uses it as the client's identity).
    pub from: Address,
    /// The recipient's address.
    pub to: Address,
    /// The wire encoding of one message ([`crate::codec`]).
    pub bytes: Vec<u8>,
}

impl Envelope {
    /// The wire version and message type in the header, if the bytes have one.
    pub fn peek(&self) -> Option<(Wire, MessageType)> {
        codec::peek(&self.bytes).ok()
    }

    /// The message type in the header, if any.
    pub fn kind(&self) -> Option<MessageType> {
        self.peek().map(|(_, kind)| kind)
    }
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Wire bytes are public, but long; the header says what they are.
        f.debug_struct("Envelope")
            .field("from", &self.from)
            .field("to", &self.to)
            .field("kind", &self.kind())
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// What a [`Tap`] does with an envelope an honest party sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TapAction {
    /// Deliver it unchanged.
    Deliver,
    /// Drop it (it stays in the log, so it can be injected later).
    Drop,
    /// Deliver these bytes instead.
    Replace(Vec<u8>),
    /// Deliver it to another address.
    Redirect(Address),
    /// Deliver it, then deliver it again right after.
    DeliverAndDuplicate,
}

/// An attacker on the network: sees every envelope an honest party sends, once, before it
/// enters the network, and decides its fate. Injected envelopes and the tap's own
/// duplicates and replacements are not shown to it again.
pub trait Tap {
    /// Decides what happens to `envelope`.
    fn on_envelope(&mut self, envelope: &Envelope) -> TapAction;
}

impl<F: FnMut(&Envelope) -> TapAction> Tap for F {
    fn on_envelope(&mut self, envelope: &Envelope) -> TapAction {
        self(envelope)
    }
}

/// What the network did with an observed envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// Sent by an honest party and queued for delivery unchanged.
    Forwarded,
    /// Sent by an honest party and dropped by the tap.
    Dropped,
    /// Sent by an honest party; the tap queued these bytes instead.
    Replaced(Vec<u8>),
    /// Sent by an honest party; the tap sent it to this address instead.
    Redirected(Address),
    /// Sent by an honest party and queued twice.
    Duplicated,
    /// Injected by the test (the attacker), not sent by anyone.
    Injected,
}

/// One envelope as the network observed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEnvelope {
    /// Position in the log.
    pub index: usize,
    /// The envelope as sent (or injected), before any tap change.
    pub envelope: Envelope,
    /// What happened to it.
    pub fate: Fate,
}

/// The network: envelopes in flight (FIFO), an optional tap, and the log.
#[derive(Default)]
pub(crate) struct Network {
    in_flight: VecDeque<(usize, Envelope)>,
    log: Vec<LoggedEnvelope>,
    tap: Option<Box<dyn Tap>>,
}

impl Network {
    /// An honest party sends `envelope`: the tap decides, the result is queued and logged.
    pub(crate) fn send(&mut self, envelope: Envelope) -> usize {
        let index = self.log.len();
        let action = match &mut self.tap {
            Some(tap) => tap.on_envelope(&envelope),
            None => TapAction::Deliver,
        };
        let fate = match action {
            TapAction::Deliver => {
                self.in_flight.push_back((index, envelope.clone()));
                Fate::Forwarded
            }
            TapAction::Drop => Fate::Dropped,
            TapAction::Replace(bytes) => {
                let replaced = Envelope { bytes: bytes.clone(), ..envelope.clone() };
                self.in_flight.push_back((index, replaced));
                Fate::Replaced(bytes)
            }
            TapAction::Redirect(to) => {
                let redirected = Envelope { to: to.clone(), ..envelope.clone() };
                self.in_flight.push_back((index, redirected));
                Fate::Redirected(to)
            }
            TapAction::DeliverAndDuplicate => {
                self.in_flight.push_back((index, envelope.clone()));
                self.in_flight.push_back((index, envelope.clone()));
                Fate::Duplicated
            }
        };
        self.log.push(LoggedEnvelope { index, envelope, fate });
        index
    }

    /// The attacker injects `envelope`: queued and logged, not tapped.
    pub(crate) fn inject(&mut self, envelope: Envelope) -> usize {
        let index = self.log.len();
        self.in_flight.push_back((index, envelope.clone()));
        self.log.push(LoggedEnvelope { index, envelope, fate: Fate::Injected });
        index
    }

    /// The next envelope to deliver, with its log index.
    pub(crate) fn pop(&mut self) -> Option<(usize, Envelope)> {
        self.in_flight.pop_front()
    }

    /// Whether the next envelope to deliver is addressed to the server.
    pub(crate) fn next_is_for_server(&self) -> bool {
        self.in_flight.front().is_some_and(|(_, envelope)| envelope.to == Address::Server)
    }

    pub(crate) fn in_flight_bytes(&self) -> usize {
        self.in_flight.iter().map(|(_, envelope)| envelope.bytes.len()).sum()
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    pub(crate) fn log(&self) -> &[LoggedEnvelope] {
        &self.log
    }

    pub(crate) fn set_tap(&mut self, tap: Option<Box<dyn Tap>>) {
        self.tap = tap;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(n: u8) -> Envelope {
        Envelope { from: Address::Server, to: Address::Server, bytes: vec![n] }
    }

    #[test]
    fn network_delivers_in_fifo_order_and_logs_every_fate() {
        let mut net = Network::default();
        net.set_tap(Some(Box::new(|e: &Envelope| match e.bytes[0] {
            1 => TapAction::Drop,
            2 => TapAction::DeliverAndDuplicate,
            3 => TapAction::Replace(vec![33]),
            _ => TapAction::Deliver,
        })));
        for n in 0..5 {
            net.send(env(n));
        }
        net.inject(env(9));
        let delivered: Vec<u8> = std::iter::from_fn(|| net.pop()).map(|(_, e)| e.bytes[0]).collect();
        assert_eq!(delivered, vec![0, 2, 2, 33, 4, 9]);
        let fates: Vec<_> = net.log().iter().map(|o| o.fate.clone()).collect();
        assert_eq!(
            fates,
            vec![
                Fate::Forwarded,
                Fate::Dropped,
                Fate::Duplicated,
                Fate::Replaced(vec![33]),
                Fate::Forwarded,
                Fate::Injected
            ]
        );
    }
}
