//! Server tests: build the server's tables as described, run the message, observe.

use ee2e::{Bytes, BytesSuite};
use ee2e_spec::hazmat::{
    RegistrationValues, registration_label, with_directory_input, with_possession_input,
};
use ee2e_spec::{
    Delivery, Fix, MemoryStore, Message, Params, PendingOtp, Profile, Sealed, Server, ServerEvent,
    ServerOutput, Store, Wire,
};

use super::intermediate::input_bytes;
use super::{
    Observed, Problem, StepError, check_expect, decode, encode, keystream, parse_key, parse_phone, party,
    rng_for,
};
use crate::schema::{
    Addressed, DeliveryMode, Filler, Hex, Intermediate, OtpPhones, ServerGroup, ServerInput, ServerOutputs,
    ServerTest, Sms,
};

type TestServer<S> = Server<S, MemoryStore<S>>;

/// The message a queue filler describes (all byte fields zero).
fn filler_message<S: BytesSuite>(
    profile: Profile,
    from: ee2e_spec::Phone,
    filler: &Filler,
) -> Result<Message<S>, Problem> {
    let n = filler.ciphertext_length;
    if n == 0 || !n.is_multiple_of(16) || n > ee2e_spec::limits::MAX_PLAINTEXT + 16 {
        return Err(Problem::Malformed(format!(
            "filler ciphertextLength {n} is not a positive multiple of 16 up to MAX_PLAINTEXT + 16"
        )));
    }
    let zeros = |len: usize| Bytes::public(vec![0; len]);
    let sealed = match profile.wire() {
        Wire::Seed => Sealed::Seed { iv: zeros(16), ciphertext: zeros(n), mac: zeros(32) },
        Wire::Hardened => Sealed::Hardened {
            session: zeros(32),
            seq: 0,
            iv: zeros(16),
            ciphertext: zeros(n),
            mac: zeros(32),
        },
    };
    Ok(Message::DataDelivery { from, sealed })
}

/// Runs one server test.
pub(crate) fn run_server<S: BytesSuite>(
    profile: Profile,
    group: &ServerGroup<ServerTest>,
    test: &ServerTest,
) -> Result<Observed, Problem> {
    let parties = super::parse_parties::<S>(&group.parties)?;
    let pem = group
        .server
        .private_key
        .as_ref()
        .ok_or_else(|| Problem::Malformed("a server group needs the server's privateKey".into()))?;
    let key = parse_key::<S>(pem, "the server")?;
    if S::public_key(&key).as_slice() != group.server.public_key.as_slice() {
        return Err(Problem::Malformed("the server's publicKey is not that of its privateKey".into()));
    }
    let params =
        Params { pbkdf2_iterations: super::iterations(group.pbkdf2_iterations)?, ..Params::default() };
    let mut store = MemoryStore::<S>::default();
    let store_error = |e: ee2e_spec::StoreError| Problem::Setup(e.to_string());
    for name in &test.directory {
        store.put_entry(&party(&parties, name)?.entry).map_err(store_error)?;
    }
    for pending in &test.pending {
        let otp = PendingOtp {
            otp: Bytes::secret(pending.otp.as_bytes()),
            issued_at: pending.issued_at,
            attempts: pending.attempts,
        };
        store.put_pending_otp(&parse_phone(&pending.phone)?, &otp).map_err(store_error)?;
    }
    for requests in &test.otp_requests {
        store.put_otp_requests(&parse_phone(&requests.phone)?, &requests.times).map_err(store_error)?;
    }
    if let Some(filler) = &test.otp_phones {
        if filler.count > params.max_otp_phones {
            return Err(Problem::Malformed(format!(
                "otpPhones.count {} is over MAX_OTP_PHONES",
                filler.count
            )));
        }
        let otp = PendingOtp { otp: Bytes::secret(&b"000000"[..]), issued_at: filler.issued_at, attempts: 0 };
        for i in 0..filler.count {
            store.put_pending_otp(&parse_phone(&OtpPhones::phone(i))?, &otp).map_err(store_error)?;
        }
    }
    let mut fillers: Vec<(Filler, Message<S>)> = Vec::new();
    let mut held = std::collections::BTreeMap::new();
    for queued in &test.queued {
        let to = party(&parties, &queued.to)?.phone.clone();
        let message = match (&queued.message, &queued.filler) {
            (Some(message), None) => decode(profile, message)
                .map_err(|e| Problem::Malformed(format!("a queued message does not decode: {e:?}")))?,
            (None, Some(filler)) => {
                let message = filler_message(profile, parse_phone(&filler.from)?, filler)?;
                fillers.push((filler.clone(), message.clone()));
                message
            }
            _ => {
                return Err(Problem::Malformed(
                    "a queued entry needs exactly one of message and filler".into(),
                ));
            }
        };
        // A stored message is a delivery: it names the sender its per-sender bounds count.
        let from = match &message {
            Message::DataDelivery { from, .. } | Message::AckDelivery { from, .. } => from.clone(),
            _ => {
                return Err(Problem::Malformed(
                    "a queued message is not a DataDelivery or AckDelivery".into(),
                ));
            }
        };
        let size = message.stored_size();
        // No conforming server holds more than §9.2's bounds; a file that claims it does is
        // malformed (and must not make the verifier allocate without limit).
        let (count, bytes) = held.entry(to.clone()).or_insert((0usize, 0usize));
        *count = count.saturating_add(queued.count);
        *bytes = bytes.saturating_add(size.saturating_mul(queued.count));
        if *count > params.max_queued || *bytes > params.max_queued_bytes {
            return Err(Problem::Malformed(format!(
                "the queue for {} is longer than MAX_QUEUED_MESSAGES or MAX_QUEUED_BYTES",
                queued.to
            )));
        }
        for _ in 0..queued.count {
            store.enqueue(&to, &from, size, &message).map_err(store_error)?;
        }
    }
    let delivery = match test.delivery {
        DeliveryMode::OnConnect => Delivery::OnConnect,
        DeliveryMode::Confirmed => Delivery::Confirmed,
    };
    let mut server = TestServer::<S>::new(profile, params, key, store).with_delivery(delivery);
    let mut rng = rng_for(None)?;
    for name in &test.online {
        let phone = party(&parties, name)?.phone.clone();
        server
            .handle(&phone, Message::Connect { phone: phone.clone() }, 0, &mut rng)
            .map_err(|e| Problem::Setup(format!("bringing {name} online: {e}")))?;
    }

    for (i, step) in test.setup.iter().enumerate() {
        let outcome = perform(&mut server, profile, &step.input, step.rng_seed.as_ref())?.map(drop);
        check_expect(i, &step.expect, &outcome)?;
    }

    let before = server.clone();
    match perform(&mut server, profile, &test.input, test.rng_seed.as_ref())? {
        Err(error) => Ok(Observed::failed(&error)),
        Ok(outputs) => {
            let mut observed = Observed::valid();
            observed.server_output = Some(server_outputs(profile, &server, &outputs, &fillers)?);
            observed.intermediate = intermediate(
                profile,
                group.pbkdf2_iterations,
                &before,
                &test.input,
                test.rng_seed.as_ref(),
                &outputs,
            )?;
            Ok(observed)
        }
    }
}

fn perform<S: BytesSuite>(
    server: &mut TestServer<S>,
    profile: Profile,
    input: &ServerInput,
    seed: Option<&Hex>,
) -> Result<Result<Vec<ServerOutput<S>>, StepError>, Problem> {
    let from = parse_phone(&input.from)?;
    let mut rng = rng_for(seed)?;
    Ok(match decode(profile, &input.message) {
        Err(e) => Err(e),
        Ok(message) => server.handle(&from, message, input.now, &mut rng).map_err(StepError::Server),
    })
}

fn server_outputs<S: BytesSuite>(
    profile: Profile,
    after: &TestServer<S>,
    outputs: &[ServerOutput<S>],
    fillers: &[(Filler, Message<S>)],
) -> Result<ServerOutputs, Problem> {
    let mut out = ServerOutputs { send: Vec::new(), stored: Vec::new(), sms: Vec::new() };
    for output in outputs {
        match output {
            ServerOutput::Send { to, message, .. } => {
                let filler = fillers.iter().find(|(_, m)| m == message).map(|(f, _)| f.clone());
                let message = if filler.is_some() { None } else { Some(encode(profile, message)?) };
                out.send.push(Addressed { to: to.to_string(), message, filler });
            }
            ServerOutput::Sms { phone, otp } => out.sms.push(Sms {
                phone: phone.to_string(),
                otp: String::from_utf8_lossy(otp.as_slice()).into_owned(),
            }),
            ServerOutput::Event(ServerEvent::Stored { to, .. }) => {
                // The message just stored is the last of the recipient's queue.
                let mut store = after.store().clone();
                let queue = store.take_queue(to).map_err(|e| Problem::Setup(e.to_string()))?;
                let last =
                    queue.last().ok_or_else(|| Problem::Setup("stored event without a message".into()))?;
                out.stored.push(Addressed {
                    to: to.to_string(),
                    message: Some(encode(profile, last)?),
                    filler: None,
                });
            }
            ServerOutput::Event(_) => {}
        }
    }
    Ok(out)
}

fn intermediate<S: BytesSuite>(
    profile: Profile,
    iterations: u32,
    before: &TestServer<S>,
    input: &ServerInput,
    seed: Option<&Hex>,
    outputs: &[ServerOutput<S>],
) -> Result<Option<Intermediate>, Problem> {
    let Ok(Message::RegisterSubmit { phone, public_key, .. }) = decode::<S>(profile, &input.message) else {
        return Ok(None);
    };
    let pending = before
        .store()
        .pending_otp(&phone)
        .map_err(|e| Problem::Setup(e.to_string()))?
        .ok_or_else(|| Problem::Setup("registration accepted without a pending OTP".into()))?;
    let values = RegistrationValues::<S>::compute(&pending.otp, &phone, &public_key, iterations);
    let hex = |b: &Bytes| Hex(b.as_slice().to_vec());
    let mut im = Intermediate {
        salt: Some(hex(values.salt())),
        k_temp: Some(hex(values.k_temp())),
        tag: Some(hex(values.tag())),
        ..Intermediate::default()
    };
    if profile.wire() == Wire::Hardened {
        if profile.has(Fix::SealedTag) {
            im.sealed_tag_label = Some(hex(&registration_label::<S>(&phone)));
        }
        if profile.has(Fix::PossessionProof) {
            im.possession_input = Some(Hex(with_possession_input::<S, _>(&phone, &public_key, input_bytes)));
        }
    }
    im.directory_input = Some(Hex(with_directory_input::<S, _>(profile, &phone, &public_key, input_bytes)));
    if profile.wire() == Wire::Hardened {
        // After the 32-byte blinding seed of the sealed tag's decryption (README, Randomness).
        let drawn = if profile.has(Fix::SealedTag) { 32 } else { 0 };
        im.pss_salt = Some(Hex(keystream(seed, drawn, drawn + 32)?));
    }
    let signature = outputs.iter().find_map(|o| match o {
        ServerOutput::Send { message: Message::RegisterResult { entry }, .. } => {
            Some(entry.signature.clone())
        }
        _ => None,
    });
    im.directory_signature = signature.as_ref().map(hex);
    Ok(Some(im))
}
