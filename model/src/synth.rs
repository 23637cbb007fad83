//! What the attacker can send: protocol-shaped messages built from its knowledge, and honest
//! messages altered (sender spoofed, recipient changed, relabelled).

use ee2e_spec::Opened;
use ee2e_spec::hazmat::{session_id, sig_scheme, with_directory_input};
use ee2e_spec::{
    Ack, DirectoryEntry, Fix, KeyTransport, Message, Mode, RegistrationProof, Role, Sealed, Session, Store,
    Suite, Wire,
};

use crate::config::{CLIENTS, E, HONEST, SERVER, owner, phone};
use crate::model::{Ee2eModel, params};
use crate::state::{Hop, Packet, State, Sym};
use crate::term::{Node, Party, Purpose, Term};

/// Every value a message carries, as the attacker learns them.
pub fn message_terms(m: &Message<Sym>, out: &mut Vec<Term>) {
    let entry = |e: &DirectoryEntry<Sym>, out: &mut Vec<Term>| {
        out.extend([Term::constant(e.phone.as_bytes()), e.public_key.clone(), e.signature.clone()])
    };
    match m {
        Message::RegisterRequest { phone } | Message::KeyRequest { peer: phone } => {
            out.push(Term::constant(phone.as_bytes()))
        }
        Message::Connect { phone } | Message::Disconnect { phone } => {
            out.push(Term::constant(phone.as_bytes()))
        }
        Message::RegisterSubmit { phone, public_key, proof } => {
            out.extend([Term::constant(phone.as_bytes()), public_key.clone()]);
            match proof {
                RegistrationProof::Seed { tag } => out.push(tag.clone()),
                RegistrationProof::Hardened { sealed_tag, possession } => {
                    out.extend([sealed_tag.clone(), possession.clone()])
                }
            }
        }
        Message::RegisterResult { entry: e } | Message::PeerKey { entry: e } => entry(e, out),
        Message::KeyTransport { transport, .. } => {
            out.extend([transport.ciphertext.clone(), transport.signature.clone()])
        }
        Message::KeyDelivery { from, transport } => {
            entry(from, out);
            out.extend([transport.ciphertext.clone(), transport.signature.clone()]);
        }
        Message::Data { sealed, .. } | Message::DataDelivery { sealed, .. } => match sealed {
            Sealed::Seed { iv, ciphertext, mac } => out.extend([iv.clone(), ciphertext.clone(), mac.clone()]),
            Sealed::Hardened { session, iv, ciphertext, mac, .. } => {
                out.extend([session.clone(), iv.clone(), ciphertext.clone(), mac.clone()])
            }
        },
        Message::Ack { ack, .. } | Message::AckDelivery { ack, .. } => match ack {
            Ack::Seed { text, mac } => out.extend([text.clone(), mac.clone()]),
            Ack::Hardened { session, tag, mac, .. } => {
                out.extend([session.clone(), tag.clone(), mac.clone()])
            }
        },
        Message::Error { .. } => {}
    }
}

/// Whose key the attacker tries first: its own.
const KEYS_ATTACKER_FIRST: [Party; 3] = [E, crate::config::A, crate::config::B];

struct Ctx<'a> {
    model: &'a Ee2eModel,
    state: &'a State,
    /// The attacker's fresh names for this injection.
    n: u16,
}

impl Ctx<'_> {
    fn knows(&self, t: &Term) -> bool {
        self.state.knowledge.derivable(t)
    }
    fn fresh(&self, purpose: Purpose) -> Term {
        Term::fresh(E, purpose, 200 + self.n)
    }
    fn profile(&self) -> ee2e_spec::Profile {
        self.model.config.profile
    }
    fn rng(&self) -> crate::suite::SymRng {
        crate::suite::SymRng::at(E, 300 + self.n * 8)
    }

    /// The directory entry (phone of `p`, key of `k`) if the attacker can produce its signature.
    fn entry(&self, p: Party, k: Party) -> Option<DirectoryEntry<Sym>> {
        let (ph, pk) = (phone(p), Term::pk(k));
        let sig = with_directory_input::<Sym, _>(self.profile(), &ph, &pk, |input| {
            Sym::sign(&SERVER, sig_scheme(self.profile()), input, &mut self.rng())
        })
        .ok()?;
        self.knows(&sig).then_some(DirectoryEntry { phone: ph, public_key: pk, signature: sig })
    }

    /// `p`'s directory entry as the server holds it now, if the attacker knows its signature.
    fn current_entry(&self, p: Party) -> Option<DirectoryEntry<Sym>> {
        let entry = self.state.server.store().entry(&phone(p)).ok()??;
        self.knows(&entry.signature).then_some(entry)
    }

    /// Session keys the attacker holds.
    fn known_session_keys(&self) -> Vec<Term> {
        self.state
            .knowledge
            .terms()
            .filter(|t| matches!(t.node(), Node::Fresh(n) if n.purpose == Purpose::SessionKey))
            .cloned()
            .collect()
    }

    /// Session ids of the key transports of `key` that the attacker has seen.
    fn session_ids(&self, key: &Term) -> Vec<Option<Term>> {
        if self.profile().wire() == Wire::Seed {
            return vec![None];
        }
        self.state
            .knowledge
            .terms()
            .filter(|t| matches!(t.node(), Node::AEnc { msg, .. } if msg == key))
            .map(|c| Some(session_id::<Sym>(c)))
            .collect()
    }
}

fn to_server(from: Party, message: Message<Sym>) -> Packet {
    Packet::new(Hop::ToServer { from }, message, false)
}

fn to_client(to: Party, message: Message<Sym>) -> Packet {
    Packet::new(Hop::ToClient { to }, message, false)
}

/// Every message the attacker can inject in `state`, with a short reason for the trace.
pub fn injections(model: &Ee2eModel, state: &State) -> Vec<(Packet, String)> {
    let cx = Ctx { model, state, n: u16::from(state.injections) };
    let mut out = Vec::new();
    let scenario = model.config.scenario;
    if scenario.registers() {
        registration(&cx, &mut out);
    }
    if scenario.messages() {
        peer_keys(&cx, &mut out);
        key_deliveries(&cx, &mut out);
        forged_traffic(&cx, &mut out);
        rewritten_sequence_numbers(&cx, &mut out);
        rewritten_acks(&cx, &mut out);
    }
    relabelled(&cx, &mut out);
    // Keep the first reason for each packet, in generation order (which puts the attacker's
    // own key first, so that the shortest traces read naturally).
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|(p, _)| seen.insert(p.clone()));
    out.retain(|(p, _)| !state.pool.contains(p));
    out
}

fn registration(cx: &Ctx<'_>, out: &mut Vec<(Packet, String)>) {
    for p in CLIENTS {
        out.push((to_server(E, Message::RegisterRequest { phone: phone(p) }), "ask for an OTP".into()));
    }
    let otps: Vec<Term> = cx.state.ghost.otps.iter().filter(|o| cx.knows(o)).cloned().collect();
    for otp in &otps {
        for p in CLIENTS {
            for m in submissions(cx, otp, p) {
                out.push((to_server(E, m), "registration built from a known OTP".into()));
            }
        }
    }
}

/// The registration submissions for `p`'s phone the attacker can build around `otp`: for
/// each public key, the proof signed with that key's private half where the profile wants a
/// possession proof (usable only if the attacker holds it).
fn submissions(cx: &Ctx<'_>, otp: &Term, p: Party) -> Vec<Message<Sym>> {
    let mut out = Vec::new();
    for k in KEYS_ATTACKER_FIRST {
        let (ph, pk) = (phone(p), Term::pk(k));
        let Ok(proof) = RegistrationProof::<Sym>::build(
            cx.profile(),
            params().pbkdf2_iterations,
            otp,
            &ph,
            &k,
            &pk,
            &Term::pk(SERVER),
            &mut cx.rng(),
        ) else {
            continue;
        };
        if let RegistrationProof::Hardened { possession, .. } = &proof
            && !cx.knows(possession)
        {
            continue;
        }
        out.push(Message::RegisterSubmit { phone: ph, public_key: pk, proof });
    }
    out
}

/// The submissions of an online dictionary attack on `victim`'s pending `otp`
/// ([`crate::Action::GuessOnline`]): those the attacker could build if it knew the OTP,
/// which is what its right guess gives it.
pub fn guessed_submissions(model: &Ee2eModel, state: &State, victim: Party, otp: &Term) -> Vec<Packet> {
    let cx = Ctx { model, state, n: u16::from(state.injections) };
    submissions(&cx, otp, victim).into_iter().map(|m| to_server(E, m)).collect()
}

fn peer_keys(cx: &Ctx<'_>, out: &mut Vec<(Packet, String)>) {
    for to in HONEST {
        for p in CLIENTS {
            for k in KEYS_ATTACKER_FIRST {
                if let Some(entry) = cx.entry(p, k) {
                    out.push((
                        to_client(to, Message::PeerKey { entry }),
                        "directory entry from known signatures".into(),
                    ));
                }
            }
        }
    }
}

fn key_deliveries(cx: &Ctx<'_>, out: &mut Vec<(Packet, String)>) {
    let transports = KeyTransport::new(cx.profile());
    for key in cx.known_session_keys() {
        for to in HONEST {
            for from in CLIENTS.into_iter().filter(|f| *f != to) {
                for k in CLIENTS {
                    let Some(entry) = cx.entry(from, k) else { continue };
                    let sealed = transports.seal::<Sym>(
                        &k,
                        &phone(from),
                        &phone(to),
                        &Term::pk(to),
                        &key,
                        &mut cx.rng(),
                    );
                    let Ok(transport) = sealed else { continue };
                    if !cx.knows(&transport.signature) {
                        continue;
                    }
                    let m = Message::KeyDelivery { from: entry, transport };
                    out.push((to_client(to, m), "key transport re-encrypted with a known key".into()));
                }
            }
        }
    }
}

/// Messages and ACKs in sessions whose key the attacker holds.
fn forged_traffic(cx: &Ctx<'_>, out: &mut Vec<(Packet, String)>) {
    let profile = cx.profile();
    let bound = cx.model.config.bounds.messages;
    let fresh = cx.fresh(Purpose::Plaintext);
    let mut plaintexts = vec![fresh.clone()];
    plaintexts.extend(
        cx.state
            .knowledge
            .terms()
            .filter(|t| matches!(t.node(), Node::Fresh(n) if n.purpose == Purpose::Plaintext && n.party != E))
            .cloned(),
    );
    for key in cx.known_session_keys() {
        for sid in cx.session_ids(&key) {
            for to in HONEST {
                for from in CLIENTS.into_iter().filter(|f| *f != to) {
                    for role in [Role::Initiator, Role::Responder] {
                        let mode = sid.clone().map_or(Mode::Seed, |id| Mode::hardened(profile, id));
                        let Ok(session) = Session::<Sym>::new(mode, phone(to), role, key.clone()) else {
                            continue;
                        };
                        // Its own fresh plaintext, and every plaintext it has learned, each
                        // under every sequence number the bounds reach.
                        for plaintext in &plaintexts {
                            let why = if *plaintext == fresh {
                                "message sealed with a known key"
                            } else {
                                "learned plaintext re-sealed with a known key"
                            };
                            let mut session = session.clone();
                            for _ in 0..bound.max(1) {
                                let iv = cx.fresh(Purpose::Iv);
                                let Ok((sealed, _)) = session.seal(&phone(from), 0, plaintext, iv) else {
                                    break;
                                };
                                out.push((
                                    to_client(to, Message::DataDelivery { from: phone(from), sealed }),
                                    why.into(),
                                ));
                            }
                        }
                        for packet in cx.state.pool.iter() {
                            if let Message::Data { sealed, .. } | Message::DataDelivery { sealed, .. } =
                                &packet.message
                            {
                                let (seq, tag) = match sealed {
                                    Sealed::Seed { .. } => (None, Sym::constant(b"")),
                                    Sealed::Hardened { seq, mac, .. } => (Some(*seq), mac.clone()),
                                };
                                let opened = Opened { plaintext: Sym::constant(b""), seq, tag };
                                let ack = session.ack(&opened);
                                out.push((
                                    to_client(to, Message::AckDelivery { from: phone(from), ack }),
                                    "ACK made with a known key".into(),
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Honest messages with their sequence number rewritten, where the MAC does not cover it
/// (without E4 the hardened MAC is over the plaintext only). With E4 every such rewrite fails
/// the MAC and would be pruned as a rejected injection, so it is not generated.
fn rewritten_sequence_numbers(cx: &Ctx<'_>, out: &mut Vec<(Packet, String)>) {
    if cx.profile().has(Fix::EncryptThenMac) {
        return;
    }
    let bound = u64::from(cx.model.config.bounds.messages.max(1));
    for packet in cx.state.pool.iter() {
        let (
            Hop::ToClient { to },
            Message::DataDelivery { from, sealed: Sealed::Hardened { session, seq, iv, ciphertext, mac } },
        ) = (&packet.hop, &packet.message)
        else {
            continue;
        };
        for other in (0..=bound).filter(|s| s != seq) {
            let sealed = Sealed::Hardened {
                session: session.clone(),
                seq: other,
                iv: iv.clone(),
                ciphertext: ciphertext.clone(),
                mac: mac.clone(),
            };
            out.push((
                to_client(*to, Message::DataDelivery { from: from.clone(), sealed }),
                "sequence number rewritten (the MAC does not cover it)".into(),
            ));
        }
    }
}

/// The MAC tags of every message seen on the network: what a hardened ACK names a message by.
fn known_tags(cx: &Ctx<'_>) -> Vec<Term> {
    let mut tags: Vec<Term> = cx
        .state
        .pool
        .iter()
        .filter_map(|p| match &p.message {
            Message::Data { sealed, .. } | Message::DataDelivery { sealed, .. } => Some(sealed),
            _ => None,
        })
        .map(|sealed| match sealed {
            Sealed::Seed { mac, .. } | Sealed::Hardened { mac, .. } => mac.clone(),
        })
        .collect();
    tags.sort();
    tags.dedup();
    tags
}

/// Honest ACKs with the message they name rewritten (which sequence number, which tag).
fn rewritten_acks(cx: &Ctx<'_>, out: &mut Vec<(Packet, String)>) {
    let tags = known_tags(cx);
    for packet in cx.state.pool.iter() {
        let (
            Hop::ToClient { to },
            Message::AckDelivery { from, ack: Ack::Hardened { session, seq, tag, mac } },
        ) = (&packet.hop, &packet.message)
        else {
            continue;
        };
        for other_seq in 0..u64::from(cx.model.config.bounds.messages.max(1)) {
            for other_tag in &tags {
                if other_seq == *seq && other_tag == tag {
                    continue;
                }
                let ack = Ack::Hardened {
                    session: session.clone(),
                    seq: other_seq,
                    tag: other_tag.clone(),
                    mac: mac.clone(),
                };
                out.push((
                    to_client(*to, Message::AckDelivery { from: from.clone(), ack }),
                    "ACK fields rewritten".into(),
                ));
            }
        }
    }
}

/// Honest messages with their addressing altered.
///
/// A message or ACK is relabelled straight into its delivery to an honest client (every claimed
/// sender, every target), from either leg it was seen on. Sending it to the server under a
/// spoofed address or with another recipient would only make the server relay that very
/// delivery (its relay checks read registrations, which every party holds, and the recipient's
/// presence, which only decides when it arrives): the same packet for the same one injection,
/// which the attacker can as well send at the moment it would have arrived. So the server leg
/// is relabelled only for what the server does more with: key transports (it attaches the
/// sender's directory entry), and the rest.
fn relabelled(cx: &Ctx<'_>, out: &mut Vec<(Packet, String)>) {
    if cx.model.relabels_via_server() {
        relabelled_via_server(cx, out);
    }
    for packet in cx.state.pool.iter() {
        match (&packet.hop, &packet.message) {
            (Hop::ToServer { from }, Message::Data { to, sealed }) => {
                let m = |f: Party| Message::DataDelivery { from: phone(f), sealed: sealed.clone() };
                relabel_delivery(owner(to), *from, m, out);
            }
            (Hop::ToServer { from }, Message::Ack { to, ack }) => {
                let m = |f: Party| Message::AckDelivery { from: phone(f), ack: ack.clone() };
                relabel_delivery(owner(to), *from, m, out);
            }
            (Hop::ToServer { from }, Message::KeyTransport { to, transport }) => {
                for target in CLIENTS {
                    for claimed in CLIENTS {
                        if (Some(target), claimed) == (owner(to), *from) {
                            continue;
                        }
                        // With the claimed sender's entry in hand the attacker sends the
                        // delivery the server would make; without, only the server can attach it.
                        let entry = cx.current_entry(claimed);
                        match entry {
                            Some(entry) if HONEST.contains(&target) => {
                                let m = Message::KeyDelivery { from: entry, transport: transport.clone() };
                                out.push((to_client(target, m), "redirected or relabelled".into()));
                            }
                            Some(_) => {}
                            None => {
                                let m =
                                    Message::KeyTransport { to: phone(target), transport: transport.clone() };
                                let why = if claimed == *from {
                                    "recipient changed"
                                } else {
                                    "sender address spoofed"
                                };
                                out.push((to_server(claimed, m), why.into()));
                            }
                        }
                    }
                }
            }
            // The answer to a lookup is a public directory entry, which the attacker already
            // knows (model.rs: the directory is public) and injects directly (rule 1).
            (Hop::ToServer { .. }, Message::KeyRequest { .. }) => {}
            (Hop::ToServer { from }, m) => {
                for claimed in CLIENTS.into_iter().filter(|c| c != from) {
                    out.push((to_server(claimed, m.clone()), "sender address spoofed".into()));
                }
            }
            (Hop::ToClient { to }, Message::DataDelivery { from, sealed }) => {
                let m = |f: Party| Message::DataDelivery { from: phone(f), sealed: sealed.clone() };
                relabel_delivery(Some(*to), owner(from).unwrap_or(E), m, out);
            }
            (Hop::ToClient { to }, Message::AckDelivery { from, ack }) => {
                let m = |f: Party| Message::AckDelivery { from: phone(f), ack: ack.clone() };
                relabel_delivery(Some(*to), owner(from).unwrap_or(E), m, out);
            }
            (Hop::ToClient { to }, m) => {
                for target in HONEST.into_iter().filter(|t| t != to) {
                    out.push((to_client(target, m.clone()), "redirected or relabelled".into()));
                }
            }
        }
    }
}

/// Every delivery of one message or ACK (`message(claimed sender)`) to an honest client but
/// the honest one itself (to `to` as from `from`).
fn relabel_delivery(
    to: Option<Party>,
    from: Party,
    message: impl Fn(Party) -> Message<Sym>,
    out: &mut Vec<(Packet, String)>,
) {
    for target in HONEST {
        for claimed in CLIENTS {
            if Some(target) != to || claimed != from {
                out.push((to_client(target, message(claimed)), "redirected or relabelled".into()));
            }
        }
    }
}

/// Every relabelling on the server leg: each message to the server with its sender address
/// spoofed and, for messages, ACKs and key transports, its recipient changed. Only in the
/// differential test (`Ee2eModel::with_relabelling_via_server`).
fn relabelled_via_server(cx: &Ctx<'_>, out: &mut Vec<(Packet, String)>) {
    for packet in cx.state.pool.iter() {
        let (Hop::ToServer { from }, m) = (&packet.hop, &packet.message) else { continue };
        for claimed in CLIENTS.into_iter().filter(|c| c != from) {
            out.push((to_server(claimed, m.clone()), "sender address spoofed".into()));
        }
        for to in CLIENTS {
            let retargeted = match m.clone() {
                Message::Data { sealed, .. } => Message::Data { to: phone(to), sealed },
                Message::Ack { ack, .. } => Message::Ack { to: phone(to), ack },
                Message::KeyTransport { transport, .. } => Message::KeyTransport { to: phone(to), transport },
                _ => continue,
            };
            for claimed in CLIENTS {
                if retargeted != *m || claimed != *from {
                    out.push((to_server(claimed, retargeted.clone()), "recipient changed".into()));
                }
            }
        }
    }
}
