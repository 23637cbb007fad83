//! A seed attack, tried on another profile: each message the attacker injected in the seed
//! trace becomes the best the attacker can send in the other profile.
//!
//! Rules, applied field by field:
//! - a body the attacker observed in the seed run becomes the body observed at the same place
//!   in this run (same step, same position) — e.g. a relabelled message stays relabelled;
//! - a value the attacker knows in this run (by the model's knowledge) is kept; a fresh value
//!   it does not know (a session key, a plaintext, an OTP) becomes one of its own;
//! - a signature it cannot produce becomes one it holds by the same signer over the closest
//!   input (a directory signature over the same key), or its own signature;
//! - each construction is rebuilt in the profile's layout (session ids, sequence numbers,
//!   sealed tag, proof of possession, labels) with the spec's own functions.
//!
//! Every substitution is noted, so that the report says what the attacker could not do.

use std::collections::HashMap;

use ee2e_model::Action;
use ee2e_model::symbolic::SymRng;
use ee2e_model::symbolic::params;
use ee2e_model::symbolic::{E, SERVER, owner, party_name};
use ee2e_model::symbolic::{Hop, Packet, State, Sym};
use ee2e_model::symbolic::{Node, Party, Purpose, Term};
use ee2e_spec::Opened;
use ee2e_spec::hazmat::{session_id, sig_scheme, with_directory_input};
use ee2e_spec::{
    Ack, DirectoryEntry, Fix, Input, KeyTransport, Message, Mode, Phone, Profile, RegistrationProof, Role,
    Sealed, Session, Store, Suite, Transport, Wire,
};

/// A message body, for matching observed messages across the two runs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Body {
    Entry(DirectoryEntry<Sym>),
    Transport(Transport<Sym>),
    Sealed(Sealed<Sym>),
    Ack(Ack<Sym>),
    Proof(RegistrationProof<Sym>),
}

fn bodies(m: &Message<Sym>) -> Vec<Body> {
    match m {
        Message::RegisterSubmit { proof, .. } => vec![Body::Proof(proof.clone())],
        Message::RegisterResult { entry } | Message::PeerKey { entry } => vec![Body::Entry(entry.clone())],
        Message::KeyTransport { transport, .. } => vec![Body::Transport(transport.clone())],
        Message::KeyDelivery { from, transport } => {
            vec![Body::Entry(from.clone()), Body::Transport(transport.clone())]
        }
        Message::Data { sealed, .. } | Message::DataDelivery { sealed, .. } => {
            vec![Body::Sealed(sealed.clone())]
        }
        Message::Ack { ack, .. } | Message::AckDelivery { ack, .. } => vec![Body::Ack(ack.clone())],
        _ => Vec::new(),
    }
}

/// Messages of the seed run paired with the messages at the same place in this run.
#[derive(Debug, Default)]
pub(crate) struct Correspondence {
    messages: Vec<(Message<Sym>, Message<Sym>)>,
    bodies: Vec<(Body, Body)>,
}

impl Correspondence {
    /// Records that `source` (seed run) and `target` (this run) were sent at the same place.
    pub(crate) fn pair(&mut self, source: &Message<Sym>, target: &Message<Sym>) {
        if source.kind() != target.kind() {
            return;
        }
        self.messages.push((source.clone(), target.clone()));
        for (s, t) in bodies(source).into_iter().zip(bodies(target)) {
            self.bodies.push((s, t));
        }
    }

    fn message(&self, m: &Message<Sym>) -> Option<Message<Sym>> {
        self.messages.iter().find(|(s, _)| s == m).map(|(_, t)| t.clone())
    }

    fn body(&self, b: &Body) -> Option<Body> {
        self.bodies.iter().find(|(s, _)| s == b).map(|(_, t)| t.clone())
    }
}

/// Where each packet was sent, as (step, position in the step): the seed run's packets by
/// packet, this run's by place (an injected packet at position [`super::INJECTED`]).
#[derive(Debug, Default)]
pub(crate) struct Places {
    pub(crate) source: HashMap<Packet, (usize, usize)>,
    pub(crate) target: HashMap<(usize, usize), Packet>,
}

impl Places {
    /// Records the packets the seed run sent (or injected) at step `n`.
    pub(crate) fn record_source(&mut self, n: usize, step: &super::steps::ModelStep) {
        for (j, p) in step.emitted.iter().enumerate() {
            self.source.entry(p.clone()).or_insert((n, j));
        }
        if let Some(p) = &step.injected {
            self.source.entry(p.clone()).or_insert((n, super::INJECTED));
        }
    }
}

/// What [`action`] needs to know of a replay in progress.
pub(crate) struct RunView<'a> {
    /// The profile this run plays.
    pub profile: Profile,
    /// The profile of the trace (the seed).
    pub source_profile: Profile,
    /// This run's model state.
    pub state: &'a State,
    /// Messages of the two runs paired by place.
    pub corr: &'a Correspondence,
    /// Where the packets of both runs were sent.
    pub places: &'a Places,
}

/// The action of a run for the seed trace's `action`: a delivery or replay names the packet
/// this run sent at the same place, an injection is rebuilt for the run's profile
/// ([`Translator`]); `Ok(None)` if it names a packet this run never sent. Shared by the
/// in-process replay and the live one (`ee2e mitm`).
pub(crate) fn action(
    run: &RunView<'_>,
    action: &Action,
    notes: &mut Vec<String>,
) -> Result<Option<Action>, String> {
    Ok(Some(match action {
        Action::Deliver(p) | Action::Replay(p) => {
            let key = run
                .places
                .source
                .get(p)
                .ok_or_else(|| format!("the trace delivers an unsent packet {p:?}"))?;
            let Some(target) = run.places.target.get(key) else { return Ok(None) };
            if run.profile == run.source_profile && target != p {
                return Err(format!("the same run sent {target:?} where the trace has {p:?}"));
            }
            if matches!(action, Action::Replay(_)) || !run.state.deliverable(target) {
                Action::Replay(target.clone())
            } else {
                Action::Deliver(target.clone())
            }
        }
        Action::Inject(p, why) if run.profile != run.source_profile => {
            let mut t = Translator::new(run.profile, run.state, run.corr);
            let packet = t.packet(p);
            notes.append(&mut t.notes);
            Action::Inject(packet, why.clone())
        }
        Action::GuessOnline(p) if run.profile != run.source_profile => {
            let mut t = Translator::new(run.profile, run.state, run.corr);
            let packet = t.packet(p);
            notes.append(&mut t.notes);
            Action::GuessOnline(packet)
        }
        other => other.clone(),
    }))
}

/// Translates the seed attacker's injections into `profile`.
pub(crate) struct Translator<'a> {
    profile: Profile,
    state: &'a State,
    corr: &'a Correspondence,
    n: u16,
    /// What the attacker could not do and what it did instead.
    pub notes: Vec<String>,
}

impl<'a> Translator<'a> {
    /// A translator for the next injection in `state` (the run's model state).
    pub(crate) fn new(profile: Profile, state: &'a State, corr: &'a Correspondence) -> Self {
        Translator { profile, state, corr, n: u16::from(state.injections), notes: Vec::new() }
    }

    fn derivable(&self, t: &Term) -> bool {
        self.state.knowledge.derivable(t)
    }

    fn holds_key(&self, p: Party) -> bool {
        self.derivable(&Term::sk(p))
    }

    fn fresh(&self, purpose: Purpose) -> Term {
        Term::fresh(E, purpose, 200 + self.n)
    }

    fn rng(&self) -> SymRng {
        SymRng::at(E, 300 + self.n * 8)
    }

    /// `t` if the attacker knows it, else a fresh value of its own for the same purpose.
    fn value(&mut self, t: &Term, what: &str) -> Term {
        match t.node() {
            Node::Fresh(name) if !self.derivable(t) => {
                self.notes.push(format!(
                    "E does not know {t} ({what}) here; uses its own {}",
                    self.fresh(name.purpose)
                ));
                self.fresh(name.purpose)
            }
            _ => t.clone(),
        }
    }

    /// The packet the attacker sends in this profile instead of the seed's `packet`.
    pub(crate) fn packet(&mut self, packet: &Packet) -> Packet {
        Packet::new(packet.hop.clone(), self.message(&packet.hop, &packet.message), packet.stored)
    }

    fn message(&mut self, hop: &Hop, m: &Message<Sym>) -> Message<Sym> {
        if let Some(t) = self.corr.message(m) {
            return t;
        }
        if self.profile.wire() == Wire::Seed {
            return m.clone();
        }
        let (sender, recipient) = match hop {
            Hop::ToServer { from } => (Some(ee2e_model::symbolic::phone(*from)), None),
            Hop::ToClient { to } => (None, Some(ee2e_model::symbolic::phone(*to))),
        };
        match m {
            Message::RegisterSubmit { phone, public_key, proof } => Message::RegisterSubmit {
                phone: phone.clone(),
                public_key: public_key.clone(),
                proof: self.proof(phone, public_key, proof),
            },
            Message::RegisterResult { entry } => Message::RegisterResult { entry: self.entry(entry) },
            Message::PeerKey { entry } => Message::PeerKey { entry: self.entry(entry) },
            Message::KeyTransport { to, transport } => match &sender {
                Some(from) => {
                    Message::KeyTransport { to: to.clone(), transport: self.transport(from, to, transport) }
                }
                None => m.clone(),
            },
            Message::KeyDelivery { from, transport } => match &recipient {
                Some(to) => {
                    let entry = self.entry(from);
                    Message::KeyDelivery {
                        transport: self.transport(&from.phone, to, transport),
                        from: entry,
                    }
                }
                None => m.clone(),
            },
            Message::Data { to, sealed } => match &sender {
                Some(from) => Message::Data { to: to.clone(), sealed: self.sealed(from, to, sealed) },
                None => m.clone(),
            },
            Message::DataDelivery { from, sealed } => match &recipient {
                Some(to) => {
                    Message::DataDelivery { from: from.clone(), sealed: self.sealed(from, to, sealed) }
                }
                None => m.clone(),
            },
            Message::Ack { to, ack } => match &sender {
                Some(from) => Message::Ack { to: to.clone(), ack: self.ack(from, to, ack) },
                None => m.clone(),
            },
            Message::AckDelivery { from, ack } => match &recipient {
                Some(to) => Message::AckDelivery { from: from.clone(), ack: self.ack(from, to, ack) },
                None => m.clone(),
            },
            other => other.clone(),
        }
    }

    fn entry(&mut self, e: &DirectoryEntry<Sym>) -> DirectoryEntry<Sym> {
        if let Some(Body::Entry(t)) = self.corr.body(&Body::Entry(e.clone())) {
            return t;
        }
        let profile = self.profile;
        let wanted = with_directory_input::<Sym, _>(profile, &e.phone, &e.public_key, |input| {
            Sym::sign(&SERVER, sig_scheme(profile), input, &mut self.rng())
        });
        if let Ok(sig) = &wanted
            && self.derivable(sig)
        {
            return DirectoryEntry {
                phone: e.phone.clone(),
                public_key: e.public_key.clone(),
                signature: sig.clone(),
            };
        }
        // The closest the attacker holds: a server signature whose input holds the same key.
        let mut reusable: Vec<&Term> = self
            .state
            .knowledge
            .terms()
            .filter(|t| match t.node() {
                Node::Sig { signer, msg, .. } if *signer == SERVER => {
                    *msg == e.public_key
                        || matches!(msg.node(), Node::Tuple(parts) if parts.contains(&e.public_key))
                }
                _ => false,
            })
            .collect();
        reusable.sort();
        let who = ee2e_model::report::who(&e.phone);
        match reusable.first() {
            Some(sig) => {
                let sig = (*sig).clone();
                self.notes.push(format!(
                    "E cannot get S's signature binding {} to {who}; reuses S's signature {sig}",
                    e.public_key
                ));
                DirectoryEntry { phone: e.phone.clone(), public_key: e.public_key.clone(), signature: sig }
            }
            None => {
                self.notes.push(format!("E holds no signature by S over {}", e.public_key));
                e.clone()
            }
        }
    }

    fn signer(&mut self, signature: &Term) -> Party {
        let signer = match signature.node() {
            Node::Sig { signer, .. } => *signer,
            _ => E,
        };
        if self.holds_key(signer) {
            signer
        } else {
            self.notes.push(format!("E cannot sign as {}; signs with its own key", party_name(signer)));
            E
        }
    }

    fn transport(&mut self, from: &Phone, to: &Phone, t: &Transport<Sym>) -> Transport<Sym> {
        if let Some(Body::Transport(x)) = self.corr.body(&Body::Transport(t.clone())) {
            return x;
        }
        let Node::AEnc { pk, msg, .. } = t.ciphertext.node() else {
            self.notes.push("the key transport is not an encryption; sent as is".into());
            return t.clone();
        };
        let key = self.value(msg, "session key");
        let signer = self.signer(&t.signature);
        let sealed =
            KeyTransport::new(self.profile).seal::<Sym>(&signer, from, to, pk, &key, &mut self.rng());
        match sealed {
            Ok(transport) => transport,
            Err(e) => {
                self.notes.push(format!("E cannot encrypt to {pk} ({e}); sent as is"));
                t.clone()
            }
        }
    }

    /// A session id for messages under `key` to `recipient`, and the sender's role in it.
    fn session_for(&mut self, key: &Term, recipient: &Phone) -> (Term, Role) {
        let mut sids: Vec<Term> = self
            .state
            .knowledge
            .terms()
            .filter(|t| matches!(t.node(), Node::AEnc { msg, .. } if msg == key))
            .map(session_id::<Sym>)
            .collect();
        sids.sort();
        let sid = match sids.into_iter().next() {
            Some(sid) => sid,
            None => match self.observed_sessions(recipient).into_iter().next() {
                Some(sid) => {
                    self.notes
                        .push(format!("E knows no session of {key}; uses a session id seen on the wire"));
                    sid
                }
                None => {
                    self.notes.push("E knows no session id; makes one up".into());
                    session_id::<Sym>(&Term::fresh(E, Purpose::Iv, 250 + self.n))
                }
            },
        };
        let role = owner(recipient)
            .filter(|p| ee2e_model::symbolic::HONEST.contains(p))
            .and_then(|p| {
                self.state.client(p).sessions().iter().find(|s| s.id() == Some(&sid)).map(|s| s.role)
            })
            .map_or(Role::Initiator, |r| match r {
                Role::Initiator => Role::Responder,
                Role::Responder => Role::Initiator,
            });
        (sid, role)
    }

    /// Session ids on the wire in hardened messages to or from `party`.
    fn observed_sessions(&self, party: &Phone) -> Vec<Term> {
        let mut out: Vec<Term> = self
            .state
            .pool
            .iter()
            .filter_map(|p| match &p.message {
                Message::Data { to: x, sealed: Sealed::Hardened { session, .. } }
                | Message::DataDelivery { from: x, sealed: Sealed::Hardened { session, .. } }
                | Message::Ack { to: x, ack: Ack::Hardened { session, .. } }
                | Message::AckDelivery { from: x, ack: Ack::Hardened { session, .. } } => {
                    let other = match p.hop {
                        Hop::ToServer { from } => ee2e_model::symbolic::phone(from),
                        Hop::ToClient { to } => ee2e_model::symbolic::phone(to),
                    };
                    (x == party || other == *party).then(|| session.clone())
                }
                _ => None,
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    fn sealed(&mut self, from: &Phone, to: &Phone, s: &Sealed<Sym>) -> Sealed<Sym> {
        if let Some(Body::Sealed(x)) = self.corr.body(&Body::Sealed(s.clone())) {
            return x;
        }
        let Sealed::Seed { iv, ciphertext, .. } = s else { return s.clone() };
        let Node::SEnc { key, msg, .. } = ciphertext.node() else {
            self.notes.push("the message is not an encryption; sent as is".into());
            return s.clone();
        };
        let key = self.value(key, "session key");
        let msg = self.value(msg, "plaintext");
        let iv = self.value(iv, "IV");
        let (sid, role) = self.session_for(&key, to);
        match Session::<Sym>::new(Mode::hardened(self.profile, sid), to.clone(), role, key) {
            Ok(mut session) => match session.seal(from, 0, &msg, iv) {
                Ok((sealed, _)) => sealed,
                Err(_) => s.clone(),
            },
            Err(_) => s.clone(),
        }
    }

    fn ack(&mut self, from: &Phone, to: &Phone, a: &Ack<Sym>) -> Ack<Sym> {
        if let Some(Body::Ack(x)) = self.corr.body(&Body::Ack(a.clone())) {
            return x;
        }
        let Ack::Seed { mac, .. } = a else { return a.clone() };
        let Node::Hmac(key, _) = mac.node() else {
            self.notes.push("the ACK is not a MAC; sent as is".into());
            return a.clone();
        };
        let key = self.value(key, "session key");
        let (mut sid, role) = self.session_for(&key, to);
        // The message to acknowledge: the newest the ACK's recipient sent to its sender.
        let mut sent: Vec<(Term, u64, Term)> = self
            .state
            .pool
            .iter()
            .filter_map(|p| match (&p.hop, &p.message) {
                (
                    Hop::ToServer { from: sender },
                    Message::Data { to: x, sealed: Sealed::Hardened { session, seq, mac, .. } },
                ) if ee2e_model::symbolic::phone(*sender) == *to && x == from => {
                    Some((session.clone(), *seq, mac.clone()))
                }
                _ => None,
            })
            .collect();
        sent.sort();
        let (seq, tag) = match sent.iter().find(|(s, ..)| *s == sid).or(sent.last()) {
            Some((session, seq, tag)) => {
                sid = session.clone();
                (*seq, tag.clone())
            }
            None => {
                self.notes.push("no message to acknowledge on the wire; names sequence number 0".into());
                // A 32-byte stand-in that names no message (an ACK's tag field is fixed-size).
                (0, Sym::sha256(Input::Tuple(&[])))
            }
        };
        let opened = Opened { plaintext: Sym::constant(b""), seq: Some(seq), tag };
        match Session::<Sym>::new(Mode::hardened(self.profile, sid), from.clone(), role, key) {
            Ok(session) => session.ack(&opened),
            Err(_) => a.clone(),
        }
    }

    fn proof(
        &mut self,
        phone: &Phone,
        public_key: &Term,
        p: &RegistrationProof<Sym>,
    ) -> RegistrationProof<Sym> {
        if let Some(Body::Proof(x)) = self.corr.body(&Body::Proof(p.clone())) {
            return x;
        }
        let profile = self.profile;
        let who = ee2e_model::report::who(phone);
        let otp = match self.state.server.store().pending_otp(phone) {
            Ok(Some(pending)) if self.derivable(&pending.otp) => pending.otp,
            Ok(Some(pending)) => {
                self.notes.push(format!(
                    "E does not know {who}'s OTP {}: nothing on the wire lets it test a guess offline; guesses",
                    pending.otp
                ));
                self.fresh(Purpose::Otp)
            }
            _ => {
                self.notes.push(format!("no OTP pending for {who}; E guesses"));
                self.fresh(Purpose::Otp)
            }
        };
        let mut signer = E;
        if profile.wire() == Wire::Hardened && profile.has(Fix::PossessionProof) {
            let key_owner = match public_key.node() {
                Node::Pk(p) => *p,
                _ => E,
            };
            if self.holds_key(key_owner) {
                signer = key_owner;
            } else {
                self.notes.push(format!(
                    "E cannot prove possession of {public_key}: signs the proof with its own key"
                ));
            }
        }
        let (iterations, server) = (params().pbkdf2_iterations, Term::pk(SERVER));
        let proof = RegistrationProof::<Sym>::build(
            profile,
            iterations,
            &otp,
            phone,
            &signer,
            public_key,
            &server,
            &mut self.rng(),
        );
        proof.unwrap_or_else(|e| {
            self.notes.push(format!("E cannot build the proof ({e}); sent as is"));
            p.clone()
        })
    }
}
