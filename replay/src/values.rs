//! The protocol values inside a message, for any suite: the symbolic message of the model and
//! the concrete message of the implementation have the same shape (one `Message` enum), so a
//! symbolic message and the bytes that implement it can be matched value by value.

use ee2e_spec::{
    Ack, DirectoryEntry, ErrorCode, Message, MessageType, Phone, RegistrationProof, Sealed, Suite, Transport,
};

/// Everything in a message that is not a suite value: type, phones, sequence numbers, body
/// layouts, error code. Two messages with equal shapes differ only in their values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shape {
    kind: MessageType,
    phones: Vec<Phone>,
    numbers: Vec<u64>,
    /// Per body: `false` for the seed layout, `true` for the hardened one.
    layouts: Vec<bool>,
    code: Option<ErrorCode>,
}

/// The shape of `message`.
pub(crate) fn shape<S: Suite>(message: &Message<S>) -> Shape {
    let mut s = Shape {
        kind: message.kind(),
        phones: Vec::new(),
        numbers: Vec::new(),
        layouts: Vec::new(),
        code: None,
    };
    let sealed = |s: &mut Shape, sealed: &Sealed<S>| match sealed {
        Sealed::Seed { .. } => s.layouts.push(false),
        Sealed::Hardened { seq, .. } => {
            s.layouts.push(true);
            s.numbers.push(*seq);
        }
    };
    let ack = |s: &mut Shape, ack: &Ack<S>| match ack {
        Ack::Seed { .. } => s.layouts.push(false),
        Ack::Hardened { seq, .. } => {
            s.layouts.push(true);
            s.numbers.push(*seq);
        }
    };
    match message {
        Message::RegisterRequest { phone }
        | Message::KeyRequest { peer: phone }
        | Message::Connect { phone }
        | Message::Disconnect { phone } => s.phones.push(phone.clone()),
        Message::RegisterSubmit { phone, proof, .. } => {
            s.phones.push(phone.clone());
            s.layouts.push(matches!(proof, RegistrationProof::Hardened { .. }));
        }
        Message::RegisterResult { entry } | Message::PeerKey { entry } => s.phones.push(entry.phone.clone()),
        Message::KeyTransport { to, .. } => s.phones.push(to.clone()),
        Message::KeyDelivery { from, .. } => s.phones.push(from.phone.clone()),
        Message::Data { to: phone, sealed: body } | Message::DataDelivery { from: phone, sealed: body } => {
            s.phones.push(phone.clone());
            sealed(&mut s, body);
        }
        Message::Ack { to: phone, ack: body } | Message::AckDelivery { from: phone, ack: body } => {
            s.phones.push(phone.clone());
            ack(&mut s, body);
        }
        Message::Error { code } => s.code = Some(*code),
    }
    s
}

/// The suite values of `message`, in field order.
pub(crate) fn values<S: Suite>(message: &Message<S>) -> Vec<&S::Value> {
    fn entry<S: Suite>(e: &DirectoryEntry<S>) -> [&S::Value; 2] {
        [&e.public_key, &e.signature]
    }
    fn transport<S: Suite>(t: &Transport<S>) -> [&S::Value; 2] {
        [&t.ciphertext, &t.signature]
    }
    fn sealed<S: Suite>(s: &Sealed<S>) -> Vec<&S::Value> {
        match s {
            Sealed::Seed { iv, ciphertext, mac } => vec![iv, ciphertext, mac],
            Sealed::Hardened { session, iv, ciphertext, mac, .. } => vec![session, iv, ciphertext, mac],
        }
    }
    fn ack<S: Suite>(a: &Ack<S>) -> Vec<&S::Value> {
        match a {
            Ack::Seed { text, mac } => vec![text, mac],
            Ack::Hardened { session, tag, mac, .. } => vec![session, tag, mac],
        }
    }
    match message {
        Message::RegisterRequest { .. }
        | Message::KeyRequest { .. }
        | Message::Connect { .. }
        | Message::Disconnect { .. }
        | Message::Error { .. } => Vec::new(),
        Message::RegisterSubmit { public_key, proof, .. } => match proof {
            RegistrationProof::Seed { tag } => vec![public_key, tag],
            RegistrationProof::Hardened { sealed_tag, possession } => {
                vec![public_key, sealed_tag, possession]
            }
        },
        Message::RegisterResult { entry: e } | Message::PeerKey { entry: e } => entry(e).to_vec(),
        Message::KeyTransport { transport: t, .. } => transport(t).to_vec(),
        Message::KeyDelivery { from, transport: t } => entry(from).into_iter().chain(transport(t)).collect(),
        Message::Data { sealed: s, .. } | Message::DataDelivery { sealed: s, .. } => sealed(s),
        Message::Ack { ack: a, .. } | Message::AckDelivery { ack: a, .. } => ack(a),
    }
}

/// `message` with every suite value replaced by `f` of it (the first error stops the map).
pub(crate) fn map_message<S: Suite, T: Suite, E>(
    message: &Message<S>,
    f: &mut impl FnMut(&S::Value) -> Result<T::Value, E>,
) -> Result<Message<T>, E> {
    Ok(match message {
        Message::RegisterRequest { phone } => Message::RegisterRequest { phone: phone.clone() },
        Message::RegisterSubmit { phone, public_key, proof } => Message::RegisterSubmit {
            phone: phone.clone(),
            public_key: f(public_key)?,
            proof: match proof {
                RegistrationProof::Seed { tag } => RegistrationProof::Seed { tag: f(tag)? },
                RegistrationProof::Hardened { sealed_tag, possession } => {
                    RegistrationProof::Hardened { sealed_tag: f(sealed_tag)?, possession: f(possession)? }
                }
            },
        },
        Message::RegisterResult { entry } => Message::RegisterResult { entry: map_entry(entry, f)? },
        Message::KeyRequest { peer } => Message::KeyRequest { peer: peer.clone() },
        Message::PeerKey { entry } => Message::PeerKey { entry: map_entry(entry, f)? },
        Message::KeyTransport { to, transport } => {
            Message::KeyTransport { to: to.clone(), transport: map_transport(transport, f)? }
        }
        Message::KeyDelivery { from, transport } => {
            Message::KeyDelivery { from: map_entry(from, f)?, transport: map_transport(transport, f)? }
        }
        Message::Data { to, sealed } => Message::Data { to: to.clone(), sealed: map_sealed(sealed, f)? },
        Message::DataDelivery { from, sealed } => {
            Message::DataDelivery { from: from.clone(), sealed: map_sealed(sealed, f)? }
        }
        Message::Ack { to, ack } => Message::Ack { to: to.clone(), ack: map_ack(ack, f)? },
        Message::AckDelivery { from, ack } => {
            Message::AckDelivery { from: from.clone(), ack: map_ack(ack, f)? }
        }
        Message::Connect { phone } => Message::Connect { phone: phone.clone() },
        Message::Disconnect { phone } => Message::Disconnect { phone: phone.clone() },
        Message::Error { code } => Message::Error { code: *code },
    })
}

fn map_entry<S: Suite, T: Suite, E>(
    e: &DirectoryEntry<S>,
    f: &mut impl FnMut(&S::Value) -> Result<T::Value, E>,
) -> Result<DirectoryEntry<T>, E> {
    Ok(DirectoryEntry { phone: e.phone.clone(), public_key: f(&e.public_key)?, signature: f(&e.signature)? })
}

fn map_transport<S: Suite, T: Suite, E>(
    t: &Transport<S>,
    f: &mut impl FnMut(&S::Value) -> Result<T::Value, E>,
) -> Result<Transport<T>, E> {
    Ok(Transport { ciphertext: f(&t.ciphertext)?, signature: f(&t.signature)? })
}

fn map_sealed<S: Suite, T: Suite, E>(
    s: &Sealed<S>,
    f: &mut impl FnMut(&S::Value) -> Result<T::Value, E>,
) -> Result<Sealed<T>, E> {
    Ok(match s {
        Sealed::Seed { iv, ciphertext, mac } => {
            Sealed::Seed { iv: f(iv)?, ciphertext: f(ciphertext)?, mac: f(mac)? }
        }
        Sealed::Hardened { session, seq, iv, ciphertext, mac } => Sealed::Hardened {
            session: f(session)?,
            seq: *seq,
            iv: f(iv)?,
            ciphertext: f(ciphertext)?,
            mac: f(mac)?,
        },
    })
}

fn map_ack<S: Suite, T: Suite, E>(
    a: &Ack<S>,
    f: &mut impl FnMut(&S::Value) -> Result<T::Value, E>,
) -> Result<Ack<T>, E> {
    Ok(match a {
        Ack::Seed { text, mac } => Ack::Seed { text: f(text)?, mac: f(mac)? },
        Ack::Hardened { session, seq, tag, mac } => {
            Ack::Hardened { session: f(session)?, seq: *seq, tag: f(tag)?, mac: f(mac)? }
        }
    })
}
