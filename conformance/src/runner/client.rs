//! Client tests: build the client in the described state, run the input, observe.

use ee2e::{Bytes, BytesSuite};
use ee2e_spec::hazmat::session_key;
use ee2e_spec::hazmat::{
    RegistrationValues, labels, registration_label, session_id, transport_label, with_directory_input,
    with_possession_input, with_transport_input,
};
use ee2e_spec::{
    Ack, Client, ClientEvent, ClientOutput, DirectoryEntry, Fix, Message, Params, Profile, Registration,
    RegistrationProof, Sealed, Session, Wire,
};

use super::intermediate::{self, ack_input, input_bytes, mac_input, message_keys};
use std::collections::BTreeMap;

use ee2e_spec::Saved;

use super::{
    Observed, PartyInfo, Problem, StepError, check_expect, decode, encode, keystream, parse_phone, party,
    rng_for,
};
use crate::schema::{
    ClientGroup, ClientInput, ClientOutputs, ClientTest, EventSpec, Hex, Intermediate, RegistrationState,
    SeenTransports,
};

type Outputs<S> = Vec<ClientOutput<S>>;

/// Runs one client test.
pub(crate) fn run_client<S: BytesSuite>(
    profile: Profile,
    group: &ClientGroup<ClientTest>,
    test: &ClientTest,
) -> Result<Observed, Problem> {
    let parties = super::parse_parties::<S>(&group.parties)?;
    let me = party(&parties, &group.me)?;
    let key = me
        .private_key
        .clone()
        .ok_or_else(|| Problem::Malformed(format!("party {} (me) has no privateKey", group.me)))?;
    let uses_otp = test
        .setup
        .iter()
        .map(|s| &s.input)
        .chain([&test.input])
        .any(|input| matches!(input, ClientInput::OtpReceived { .. }));
    // The iteration count only shows in an OTP step's outputs; elsewhere the cheapest does.
    let iterations =
        if uses_otp {
            super::iterations(group.pbkdf2_iterations.ok_or_else(|| {
                Problem::Malformed("an OTP step needs the group's pbkdf2Iterations".into())
            })?)?
        } else {
            1
        };
    let params = Params { pbkdf2_iterations: iterations, ..Params::default() };
    let server_key = Bytes::public(group.server.public_key.as_slice());
    let mut client = Client::<S>::new(profile, params, me.phone.clone(), key, server_key);
    reach(&mut client, test.registration, &me.entry)?;
    if !test.seen_transports.is_empty() {
        client = with_seen_transports(
            &client,
            profile,
            params,
            (me, &group.server.public_key),
            &parties,
            &test.seen_transports,
        )?;
    }

    for (i, step) in test.setup.iter().enumerate() {
        let outcome = perform(&mut client, profile, &step.input, step.rng_seed.as_ref())?.map(drop);
        check_expect(i, &step.expect, &outcome)?;
    }

    let before = client.clone();
    match perform(&mut client, profile, &test.input, test.rng_seed.as_ref())? {
        Err(error) => Ok(Observed::failed(&error)),
        Ok(outputs) => {
            let mut observed = Observed::valid();
            let run =
                Run { profile, iterations, before: &before, after: &client, seed: test.rng_seed.as_ref() };
            observed.intermediate = run.intermediate(&test.input, &outputs)?;
            observed.client_output = Some(ClientOutputs {
                send: outputs
                    .iter()
                    .filter_map(|o| match o {
                        ClientOutput::Send(m) => Some(encode(profile, m)),
                        _ => None,
                    })
                    .collect::<Result<_, _>>()?,
                events: outputs
                    .iter()
                    .filter_map(|o| match o {
                        ClientOutput::Event(e) => Some(event_spec(e)),
                        _ => None,
                    })
                    .collect(),
                registration: registration_state(client.registration()),
            });
            Ok(observed)
        }
    }
}

/// Drives a fresh client into `state` (the OTP and the randomness used on the way do not
/// show in any test's outputs).
fn reach<S: BytesSuite>(
    client: &mut Client<S>,
    state: RegistrationState,
    own: &DirectoryEntry<S>,
) -> Result<(), Problem> {
    let setup = |what: &str, e: ee2e_spec::ClientError| Problem::Setup(format!("reaching {what}: {e}"));
    let mut rng = ee2e::suite::seeded_rng([0; 32]);
    if state == RegistrationState::Unregistered {
        return Ok(());
    }
    client.register();
    if state == RegistrationState::AwaitingOtp {
        return Ok(());
    }
    client
        .otp_received(&Bytes::secret(&b"000000"[..]), &mut rng)
        .map_err(|e| setup("AwaitingResult", e.into()))?;
    if state == RegistrationState::AwaitingResult {
        return Ok(());
    }
    client
        .handle(Message::RegisterResult { entry: own.clone() }, &mut rng)
        .map_err(|e| setup("Registered with the group's entry", e))?;
    Ok(())
}

/// `client`, registered and with nothing else yet, rebuilt with the recorded transports the
/// test lists (through its durable state, as after a restart).
fn with_seen_transports<S: BytesSuite>(
    client: &Client<S>,
    profile: Profile,
    params: Params,
    (me, server_key): (&PartyInfo<S>, &Hex),
    parties: &BTreeMap<String, PartyInfo<S>>,
    seen: &[SeenTransports],
) -> Result<Client<S>, Problem> {
    if !client.is_registered() {
        return Err(Problem::Malformed("seenTransports needs a registered client".into()));
    }
    let mut state = client.state();
    for filler in seen {
        let peer = party(parties, &filler.peer)?.phone.clone();
        let count = u32::try_from(filler.count)
            .map_err(|_| Problem::Malformed(format!("seenTransports count {} is too large", filler.count)))?;
        let ids = state.seen_transports.entry(peer).or_default();
        ids.extend((0..count).map(|i| Bytes::public(SeenTransports::id(i).to_vec())));
    }
    let saved = Saved {
        own_entry: Some(me.entry.clone()),
        peers: Vec::new(),
        session_keys: Vec::new(),
        state: Some(state),
    };
    let key = me.private_key.clone().ok_or_else(|| Problem::Malformed("me has no privateKey".into()))?;
    let server_key = Bytes::public(server_key.as_slice());
    Client::restore(profile, params, me.phone.clone(), key, server_key, saved)
        .map_err(|e| Problem::Malformed(format!("seenTransports: {e}")))
}

/// Runs one input; `Err` is a malformed test, `Ok(Err)` the client's rejection.
fn perform<S: BytesSuite>(
    client: &mut Client<S>,
    profile: Profile,
    input: &ClientInput,
    seed: Option<&Hex>,
) -> Result<Result<Outputs<S>, StepError>, Problem> {
    let mut rng = rng_for(seed)?;
    // Each operation's own error type, as the union the vectors name errors from.
    let result: Result<_, ee2e_spec::ClientError> = match input {
        ClientInput::Register {} => Ok(client.register()),
        ClientInput::OtpReceived { otp } => {
            client.otp_received(&Bytes::secret(otp.as_bytes()), &mut rng).map_err(Into::into)
        }
        ClientInput::StartSession { peer } => client.start_session(&parse_phone(peer)?).map_err(Into::into),
        ClientInput::Send { peer, plaintext } => client
            .send(&parse_phone(peer)?, &Bytes::secret(plaintext.as_slice()), &mut rng)
            .map_err(Into::into),
        ClientInput::Connect {} => client.connect().map_err(Into::into),
        ClientInput::Disconnect {} => client.disconnect().map_err(Into::into),
        ClientInput::ResumeSequence { peer, next } => {
            client.resume_sequence(&parse_phone(peer)?, *next).map(|()| Vec::new()).map_err(Into::into)
        }
        ClientInput::Receive { message } => match decode(profile, message) {
            Ok(message) => client.handle(message, &mut rng),
            Err(e) => return Ok(Err(e)),
        },
    };
    Ok(result.map_err(StepError::Client))
}

pub(crate) fn registration_state<S: BytesSuite>(registration: &Registration<S>) -> RegistrationState {
    match registration {
        Registration::Unregistered => RegistrationState::Unregistered,
        Registration::AwaitingOtp => RegistrationState::AwaitingOtp,
        Registration::AwaitingResult => RegistrationState::AwaitingResult,
        Registration::Registered(_) => RegistrationState::Registered,
    }
}

fn hex(value: &Bytes) -> Hex {
    Hex(value.as_slice().to_vec())
}

fn event_spec<S: BytesSuite>(event: &ClientEvent<S>) -> EventSpec {
    match event {
        ClientEvent::Registered => EventSpec::Registered {},
        ClientEvent::PeerKeyVerified(peer) => EventSpec::PeerKeyVerified { peer: peer.to_string() },
        ClientEvent::SessionEstablished { peer, role, session, key } => EventSpec::SessionEstablished {
            peer: peer.to_string(),
            role: format!("{role:?}"),
            session_id: session.as_ref().map(hex),
            session_key: hex(key),
        },
        ClientEvent::MessageSent { peer, id, plaintext, seq } => {
            EventSpec::MessageSent { peer: peer.to_string(), id: *id, plaintext: hex(plaintext), seq: *seq }
        }
        ClientEvent::MessageAccepted { from, plaintext, seq } => {
            EventSpec::MessageAccepted { from: from.to_string(), plaintext: hex(plaintext), seq: *seq }
        }
        ClientEvent::AckAccepted { peer, id } => EventSpec::AckAccepted { peer: peer.to_string(), id: *id },
        ClientEvent::ServerError(code) => EventSpec::ServerError { code: code.name().to_string() },
    }
}

/// The context for computing a successful step's intermediate values.
struct Run<'a, S: BytesSuite> {
    profile: Profile,
    iterations: u32,
    before: &'a Client<S>,
    after: &'a Client<S>,
    seed: Option<&'a Hex>,
}

fn sent<S: BytesSuite>(outputs: &Outputs<S>) -> Option<&Message<S>> {
    outputs.iter().find_map(|o| match o {
        ClientOutput::Send(m) => Some(m),
        _ => None,
    })
}

fn missing(what: &str) -> Problem {
    Problem::Setup(format!("the step succeeded without {what}"))
}

impl<S: BytesSuite> Run<'_, S> {
    fn hardened(&self) -> bool {
        self.profile.wire() == Wire::Hardened
    }

    fn intermediate(
        &self,
        input: &ClientInput,
        outputs: &Outputs<S>,
    ) -> Result<Option<Intermediate>, Problem> {
        let im = match input {
            ClientInput::OtpReceived { otp } => self.otp(otp, outputs)?,
            ClientInput::Send { peer, plaintext } => self.send(peer, plaintext, outputs)?,
            ClientInput::Receive { message } => match decode(self.profile, message) {
                Ok(Message::RegisterResult { entry }) => self.entry_input(&entry),
                Ok(Message::PeerKey { entry }) => self.peer_key(&entry, outputs)?,
                Ok(Message::KeyDelivery { from, transport }) => {
                    self.key_delivery(&from, &transport.ciphertext)?
                }
                Ok(Message::DataDelivery { from, sealed }) => self.data(&from, &sealed, outputs)?,
                Ok(Message::AckDelivery { ack, .. }) => self.ack(&ack)?,
                _ => return Ok(None),
            },
            _ => return Ok(None),
        };
        Ok(Some(im))
    }

    fn otp(&self, otp: &str, outputs: &Outputs<S>) -> Result<Intermediate, Problem> {
        let me = self.before.phone();
        let pk = self.before.public_key();
        let values =
            RegistrationValues::<S>::compute(&Bytes::secret(otp.as_bytes()), me, pk, self.iterations);
        let mut im = Intermediate {
            salt: Some(hex(values.salt())),
            k_temp: Some(hex(values.k_temp())),
            tag: Some(hex(values.tag())),
            ..Intermediate::default()
        };
        if let Some(Message::RegisterSubmit {
            proof: RegistrationProof::Hardened { sealed_tag, possession },
            ..
        }) = sent(outputs)
        {
            let mut drawn = 0;
            if self.profile.has(Fix::SealedTag) {
                im.sealed_tag_label = Some(hex(&registration_label::<S>(me)));
                im.oaep_seed = Some(Hex(keystream(self.seed, 0, 32)?));
                im.sealed_tag = Some(hex(sealed_tag));
                drawn = 32;
            }
            if self.profile.has(Fix::PossessionProof) {
                im.possession_input = Some(Hex(with_possession_input::<S, _>(me, pk, input_bytes)));
                im.pss_salt = Some(Hex(keystream(self.seed, drawn, drawn + 32)?));
                im.possession = Some(hex(possession));
            }
        }
        Ok(im)
    }

    fn entry_input(&self, entry: &DirectoryEntry<S>) -> Intermediate {
        Intermediate {
            directory_input: Some(Hex(with_directory_input::<S, _>(
                self.profile,
                &entry.phone,
                &entry.public_key,
                input_bytes,
            ))),
            ..Intermediate::default()
        }
    }

    /// The message keys of a session for its role, where the profile derives them.
    /// The session `sid` names in the state before the step, with its message keys put in `im`.
    fn session_with_keys(&self, im: &mut Intermediate, sid: &S::Value) -> Result<&Session<S>, Problem> {
        let session = self
            .before
            .sessions()
            .iter()
            .find(|s| s.id() == Some(sid))
            .ok_or_else(|| missing("the session"))?;
        self.keys(im, session)?;
        Ok(session)
    }

    fn keys(&self, im: &mut Intermediate, session: &Session<S>) -> Result<(), Problem> {
        let Some(sid) = session.id().filter(|_| self.profile.has(Fix::EncryptThenMac)) else {
            return Ok(());
        };
        let send = message_keys::<S>(session_key(session), sid, session.role.sending());
        let recv = message_keys::<S>(session_key(session), sid, session.role.receiving());
        for (keys, direction) in [(&send, session.role.sending()), (&recv, session.role.receiving())] {
            intermediate::check_against_implementation::<S>(session_key(session), sid, direction, keys)
                .map_err(Problem::Setup)?;
        }
        im.send_enc_key = Some(Hex(send.enc));
        im.send_mac_key = Some(Hex(send.mac));
        im.receive_enc_key = Some(Hex(recv.enc));
        im.receive_mac_key = Some(Hex(recv.mac));
        Ok(())
    }

    fn peer_key(&self, entry: &DirectoryEntry<S>, outputs: &Outputs<S>) -> Result<Intermediate, Problem> {
        let mut im = self.entry_input(entry);
        let me = self.before.phone();
        let Some(Message::KeyTransport { transport, .. }) = sent(outputs) else {
            return Err(missing("a KeyTransport"));
        };
        let session = self.after.session_with(&entry.phone).ok_or_else(|| missing("a session"))?;
        let k = keystream(self.seed, 0, 32)?;
        if session_key(session).as_slice() != k.as_slice() {
            return Err(Problem::Setup("K is not the first 32 bytes of the keystream".into()));
        }
        let c = &transport.ciphertext;
        im.session_key = Some(Hex(k));
        im.transport_label = Some(hex(&transport_label::<S>(self.profile, me, &entry.phone)));
        im.oaep_seed = Some(Hex(keystream(self.seed, 32, 64)?));
        im.transport_ciphertext = Some(hex(c));
        im.transport_signature_input = Some(if self.profile.has(Fix::TransportBinding) {
            Hex(with_transport_input::<S, _>(me, &entry.phone, c, input_bytes))
        } else {
            hex(session_key(session))
        });
        if self.hardened() {
            im.pss_salt = Some(Hex(keystream(self.seed, 64, 96)?));
        }
        im.transport_signature = Some(hex(&transport.signature));
        if self.hardened() {
            im.session_id = Some(hex(&session_id::<S>(c)));
        }
        self.keys(&mut im, session)?;
        Ok(im)
    }

    fn key_delivery(&self, from: &DirectoryEntry<S>, ciphertext: &Bytes) -> Result<Intermediate, Problem> {
        let mut im = self.entry_input(from);
        let me = self.before.phone();
        let session = self.after.sessions().last().ok_or_else(|| missing("a session"))?;
        im.transport_signature_input = Some(if self.profile.has(Fix::TransportBinding) {
            Hex(with_transport_input::<S, _>(&from.phone, me, ciphertext, input_bytes))
        } else {
            hex(session_key(session))
        });
        if self.hardened() {
            im.session_id = Some(hex(&session_id::<S>(ciphertext)));
        }
        im.transport_label = Some(hex(&transport_label::<S>(self.profile, &from.phone, me)));
        im.session_key = Some(hex(session_key(session)));
        self.keys(&mut im, session)?;
        Ok(im)
    }

    fn send(&self, peer: &str, plaintext: &Hex, outputs: &Outputs<S>) -> Result<Intermediate, Problem> {
        let peer = parse_phone(peer)?;
        let session = self.before.session_with(&peer).ok_or_else(|| missing("a session"))?;
        let Some(Message::Data { sealed, .. }) = sent(outputs) else { return Err(missing("a Data message")) };
        let iv = keystream(self.seed, 0, 16)?;
        let mut im = Intermediate::default();
        self.keys(&mut im, session)?;
        let (c, mac, mac_in) = match sealed {
            Sealed::Seed { iv: wire_iv, ciphertext, mac } => {
                check_iv(&iv, wire_iv)?;
                (ciphertext, mac, plaintext.0.clone())
            }
            Sealed::Hardened { session: sid, seq, iv: wire_iv, ciphertext, mac } => {
                check_iv(&iv, wire_iv)?;
                let input = if self.profile.has(Fix::EncryptThenMac) {
                    let me = self.before.phone().as_bytes();
                    mac_input(sid.as_slice(), me, peer.as_bytes(), *seq, &iv, ciphertext.as_slice())
                } else {
                    plaintext.0.clone()
                };
                (ciphertext, mac, input)
            }
        };
        // The hardened ACK names the message by its MAC; the seed's names none (SPEC.md §8.1).
        if self.profile.wire() == Wire::Hardened {
            im.ack_tag = Some(hex(mac));
        }
        im.iv = Some(Hex(iv));
        im.ciphertext = Some(hex(c));
        im.mac_input = Some(Hex(mac_in));
        im.mac = Some(hex(mac));
        Ok(im)
    }

    fn data(
        &self,
        from: &ee2e_spec::Phone,
        sealed: &Sealed<S>,
        outputs: &Outputs<S>,
    ) -> Result<Intermediate, Problem> {
        let me = self.before.phone();
        let plaintext = outputs
            .iter()
            .find_map(|o| match o {
                ClientOutput::Event(ClientEvent::MessageAccepted { plaintext, .. }) => {
                    Some(plaintext.clone())
                }
                _ => None,
            })
            .ok_or_else(|| missing("a MessageAccepted event"))?;
        let Some(Message::Ack { ack, .. }) = sent(outputs) else { return Err(missing("an Ack")) };
        let mut im = Intermediate::default();
        match sealed {
            Sealed::Seed { .. } => im.mac_input = Some(hex(&plaintext)),
            Sealed::Hardened { session: sid, seq, iv, ciphertext, mac } => {
                let session = self.session_with_keys(&mut im, sid)?;
                im.mac_input = Some(Hex(if self.profile.has(Fix::EncryptThenMac) {
                    mac_input(
                        sid.as_slice(),
                        from.as_bytes(),
                        me.as_bytes(),
                        *seq,
                        iv.as_slice(),
                        ciphertext.as_slice(),
                    )
                } else {
                    plaintext.as_slice().to_vec()
                }));
                if self.profile.has(Fix::AckBinding) {
                    let input = ack_input(sid.as_slice(), session.role.receiving(), *seq, mac.as_slice());
                    im.ack_input = Some(Hex(input));
                }
                im.ack_tag = Some(hex(mac));
            }
        }
        im.plaintext = Some(hex(&plaintext));
        if im.ack_input.is_none() {
            im.ack_input = Some(Hex(labels::SEED_ACK_TEXT.to_vec()));
        }
        im.ack_mac = Some(match ack {
            Ack::Seed { mac, .. } | Ack::Hardened { mac, .. } => hex(mac),
        });
        Ok(im)
    }

    fn ack(&self, ack: &Ack<S>) -> Result<Intermediate, Problem> {
        let mut im = Intermediate::default();
        match ack {
            Ack::Seed { .. } => {
                im.ack_input = Some(Hex(labels::SEED_ACK_TEXT.to_vec()));
            }
            Ack::Hardened { session: sid, seq, tag, .. } => {
                let session = self.session_with_keys(&mut im, sid)?;
                im.ack_input = Some(Hex(if self.profile.has(Fix::AckBinding) {
                    ack_input(sid.as_slice(), session.role.sending(), *seq, tag.as_slice())
                } else {
                    labels::SEED_ACK_TEXT.to_vec()
                }));
                im.ack_tag = Some(hex(tag));
            }
        }
        Ok(im)
    }
}

fn check_iv(drawn: &[u8], on_wire: &Bytes) -> Result<(), Problem> {
    if drawn == on_wire.as_slice() {
        Ok(())
    } else {
        Err(Problem::Setup("the IV is not the first 16 bytes of the keystream".into()))
    }
}
