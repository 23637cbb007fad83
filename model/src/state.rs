//! The model's state: the real protocol machines, the network as the attacker sees it, and
//! ghost events for the properties.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use ee2e_spec::{Client, ErrorCode, MemoryStore, Message, Phone, Server};

use crate::config::HONEST;
use crate::knowledge::Knowledge;
use crate::suite::{SymRng, SymbolicSuite};
use crate::term::{Party, Term};

/// The symbolic suite, for brevity.
pub type Sym = SymbolicSuite;
/// A protocol client over terms.
pub type SymClient = Client<Sym>;
/// The protocol server over terms, with its tables in the state.
pub type SymServer = Server<Sym, MemoryStore<Sym>>;

/// Which leg of the star network a message travels.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Hop {
    /// Client → server; `from` is the sender address the server will see.
    ToServer {
        /// Claimed sender address.
        from: Party,
    },
    /// Server → client.
    ToClient {
        /// Recipient.
        to: Party,
    },
}

/// A message on the network. Shared, not copied: states hold every packet ever sent and
/// the checker clones states on every step, so a packet is a pointer to its [`Wire`].
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Packet(Arc<Wire>);

impl Packet {
    /// The packet `message` travelling `hop`; `stored` if the server sends it from an
    /// offline queue.
    pub fn new(hop: Hop, message: Message<Sym>, stored: bool) -> Self {
        Packet(Arc::new(Wire { hop, message, stored }))
    }
}

impl std::ops::Deref for Packet {
    type Target = Wire;

    fn deref(&self) -> &Wire {
        &self.0
    }
}

impl std::fmt::Debug for Packet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Packet")
            .field("hop", &self.hop)
            .field("message", &self.message)
            .field("stored", &self.stored)
            .finish()
    }
}

/// What a [`Packet`] holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Wire {
    /// Where it goes.
    pub hop: Hop,
    /// The message.
    pub message: Message<Sym>,
    /// Sent by the server from an offline queue (stored delivery).
    pub stored: bool,
}

/// Events recorded for the properties (Lowe-style agreement over these).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Ghost {
    /// Every OTP the server issued.
    pub otps: BTreeSet<Term>,
    /// OTPs issued per phone (bounded by the model's `MAX_OTPS_PER_PHONE`).
    pub issued: BTreeMap<Phone, u8>,
    /// Every (phone, key) the server registered.
    pub bound: BTreeSet<(Phone, Term)>,
    /// (initiator, intended peer, K): an honest client generated K for a session with peer.
    pub generated: BTreeSet<(Party, Party, Term)>,
    /// (responder, claimed initiator, K) → times accepted (saturates at 2).
    pub accepted_keys: BTreeMap<(Party, Party, Term), u8>,
    /// Keys of sessions an honest client established with an honest peer.
    pub honest_keys: BTreeSet<Term>,
    /// (sender, local id) → (recipient, plaintext).
    pub sent: BTreeMap<(Party, u64), (Party, Term)>,
    /// (receiver, claimed sender, plaintext) → times accepted (saturates at 2).
    pub accepted: BTreeMap<(Party, Party, Term), u8>,
    /// (sender, acknowledging peer, local id): ACKs accepted.
    pub acked: BTreeSet<(Party, Party, u64)>,
    /// An honest client accepted an ACK from an honest peer that had not (yet) accepted the
    /// message it acknowledges. Recorded when the ACK is accepted, so that the property is
    /// monotone (a later acceptance of the message does not undo the violation).
    pub ack_unjustified: bool,
    /// An honest client accepted a directory entry the server never registered, recorded when
    /// it is accepted (monotone, like `ack_unjustified`).
    pub entry_unbound: bool,
    /// Some honest client accepted a message that the server had stored for it.
    pub offline_delivered: bool,
    /// An honest client completed a registration during the run.
    pub registered: bool,
    /// A registration replaced the directory entry of a phone that was already registered.
    pub entry_replaced: bool,
    /// Coverage: the server's error replies among OTP expiry, attempt lockout and the request
    /// limit that occurred (other codes are not recorded: they would only split states).
    pub errors: BTreeSet<ErrorCode>,
    /// Coverage: an error reply changed an honest client's registration state.
    pub error_handled: bool,
}

/// Progress of the honest clients' scripts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Progress {
    /// Honest clients that asked to register.
    pub registering: BTreeSet<Party>,
    /// Key exchanges started by A and by B.
    pub sessions: [u8; 2],
    /// Messages sent by A and by B.
    pub sent: [u8; 2],
    /// B went offline (1), then online again (2); 2 from the start in a run without an
    /// offline spell (`Bounds::offline_spells`).
    pub presence: u8,
    /// B's long-term key leaked (threat `compromise`).
    pub compromised: bool,
}

/// A state of the system. The large parts are shared between a state and its successors
/// (`Arc`, copied on write with [`Arc::make_mut`]): a step changes one or two machines, and
/// the checker clones a state for every step it tries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct State {
    /// The server, as the spec implements it.
    pub server: Arc<SymServer>,
    /// Honest clients A and B, as the spec implements them.
    pub clients: [Arc<SymClient>; 2],
    /// Random streams of S, A, B.
    pub rngs: [SymRng; 3],
    /// Every message ever sent (the attacker keeps them all).
    pub pool: Arc<BTreeSet<Packet>>,
    /// Packets delivered at least once (a further delivery is a replay, unless a copy is
    /// still pending).
    pub delivered: Arc<BTreeSet<Packet>>,
    /// Copies of packets sent again while an identical one was already on the network, not
    /// yet delivered (saturates at 2). Each send is a packet of its own: A's second key
    /// request for B is as free to deliver as its first.
    pub copies: BTreeMap<Packet, u8>,
    /// The attacker's knowledge.
    pub knowledge: Arc<Knowledge>,
    /// Injections used.
    pub injections: u8,
    /// OTPs waiting in honest clients' SMS inboxes.
    pub inbox: BTreeMap<Party, Term>,
    /// Honest script progress.
    pub progress: Progress,
    /// Ghost events.
    pub ghost: Arc<Ghost>,
    /// The clock, in milliseconds (what the server's checks read).
    pub now: u64,
}

impl State {
    /// The honest client `p` (A or B).
    pub fn client(&self, p: Party) -> &SymClient {
        &self.clients[HONEST.iter().position(|h| *h == p).expect("honest party")]
    }

    /// The honest client `p`, mutably.
    pub fn client_mut(&mut self, p: Party) -> &mut SymClient {
        Arc::make_mut(&mut self.clients[HONEST.iter().position(|h| *h == p).expect("honest party")])
    }

    /// The random stream of `p` (S, A or B).
    pub fn rng_mut(&mut self, p: Party) -> &mut SymRng {
        &mut self.rngs[p as usize]
    }

    /// Whether B is offline by its script.
    pub fn b_offline(&self) -> bool {
        self.progress.presence == 1
    }

    /// Whether `packet` can be delivered for free: it, or a further copy of it, has not been
    /// delivered yet.
    pub fn deliverable(&self, packet: &Packet) -> bool {
        !self.delivered.contains(packet) || self.copies.contains_key(packet)
    }

    /// Records that `packet` was sent (again, if an identical one is on the network).
    pub fn send(&mut self, packet: Packet) {
        if self.pool.contains(&packet) {
            let n = self.copies.entry(packet).or_default();
            *n = (*n + 1).min(2);
        } else {
            Arc::make_mut(&mut self.pool).insert(packet);
        }
    }

    /// Records a delivery of `packet`: the first, or one of its pending copies.
    pub fn take_delivery(&mut self, packet: &Packet) {
        if self.delivered.contains(packet) {
            if let Some(n) = self.copies.get_mut(packet) {
                *n -= 1;
                if *n == 0 {
                    self.copies.remove(packet);
                }
            }
        } else {
            self.mark_delivered(packet.clone());
        }
    }

    /// Records that `packet` was delivered (an injection or replay: no pending copy is used).
    pub fn mark_delivered(&mut self, packet: Packet) {
        if !self.delivered.contains(&packet) {
            Arc::make_mut(&mut self.delivered).insert(packet);
        }
    }

    /// The server, mutably (copied first if another state shares it).
    pub fn server_mut(&mut self) -> &mut SymServer {
        Arc::make_mut(&mut self.server)
    }

    /// The attacker's knowledge, mutably (copied first if another state shares it).
    pub fn knowledge_mut(&mut self) -> &mut Knowledge {
        Arc::make_mut(&mut self.knowledge)
    }

    /// The ghost events, mutably (copied first if another state shares it).
    pub fn ghost_mut(&mut self) -> &mut Ghost {
        Arc::make_mut(&mut self.ghost)
    }

    /// Whether `self` and `other` are the same world: equal but for which packets were
    /// delivered and how many injections were spent. (Pending copies count: a step that only
    /// sends a copy gives a free delivery later.) A step that changes nothing else is
    /// pruned: the attacker could as well have delayed the message (a first delivery stays
    /// free) or not spent the injection, and every state reachable from the step's result is
    /// reachable from `other` with at least the same budget.
    pub fn same_world(&self, other: &State) -> bool {
        self.copies == other.copies && self.same_but_copies(other)
    }

    /// Whether `self` is `last` with one more pending copy of a packet `last` already held,
    /// and otherwise [the same world](Self::same_world). A step that costs an injection and
    /// does only that (a replay to the server of a message it relays to an online recipient
    /// again) is pruned as well: the copy's free delivery later is the same step as
    /// replaying that packet then, for the same one injection, so every state reachable from
    /// `self` is reachable from `last` with the same budget.
    pub fn copied_only(&self, last: &State) -> bool {
        let held = |s: &State, p: &Packet| s.copies.get(p).copied().unwrap_or(0);
        let added: usize =
            self.copies.iter().map(|(p, n)| usize::from(n.saturating_sub(held(last, p)))).sum();
        added <= 1 && last.copies.iter().all(|(p, n)| held(self, p) >= *n) && self.same_but_copies(last)
    }

    fn same_but_copies(&self, other: &State) -> bool {
        self.server == other.server
            && self.clients == other.clients
            && self.rngs == other.rngs
            && self.pool == other.pool
            && self.knowledge == other.knowledge
            && self.inbox == other.inbox
            && self.progress == other.progress
            && self.ghost == other.ghost
            && self.now == other.now
    }
}
