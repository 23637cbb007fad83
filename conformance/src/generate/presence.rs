//! `presence_<profile>.json`: SPEC.md §9 — Connect and Disconnect at the server, stored
//! delivery, and messages sent the wrong way (a server→client type at the server and the
//! reverse).

use ee2e_spec::{Message, Profile};

use super::samples;
use super::wire::article;
use super::world::World;
use super::{Case, ClientGroupBuilder, FileSpec, ServerCase, ServerGroupBuilder, receive, server_step};
use crate::error::VectorError;
use crate::schema::{ClientInput, TypedGroup};

pub(crate) fn build(profile: Profile) -> Result<FileSpec, VectorError> {
    let stem = format!("presence_{}", profile.name());
    let w = World::new(profile, &stem)?;
    Ok(FileSpec {
        groups: vec![server_group(&w)?, client_group(&w)?],
        stem,
        algorithm: "EE2E presence and message direction",
        description: "Presence and stored delivery (SPEC.md §9): Connect and Disconnect checks, the offline queue \
                      delivered in arrival order exactly once; and every message type sent in the wrong direction \
                      (UnexpectedMessage at the server, §10.1, and at the client, §10.2).",
        profile,
    })
}

fn server_group(w: &World) -> Result<TypedGroup, VectorError> {
    let mut g = ServerGroupBuilder::new(
        w,
        "the server's presence checks (§9.1), its offline queue (§9.2), and client-bound types sent to it",
        &["alice", "bob", "carol"],
        ee2e_spec::limits::PBKDF2_ITERATIONS,
    );
    let (alice, bob, carol) = (w.phone_text("alice"), w.phone_text("bob"), w.phone_text("carol"));
    let connect = |name: &str| w.encode(&Message::Connect { phone: w.phone(name) });
    let disconnect = |name: &str| w.encode(&Message::Disconnect { phone: w.phone(name) });
    let all = samples::all(w)?;
    let by_type = |kind: ee2e_spec::MessageType| all.iter().find(|m| m.kind() == kind).cloned();
    let queued: Vec<_> = [ee2e_spec::MessageType::KeyTransport, ee2e_spec::MessageType::Data]
        .into_iter()
        .filter_map(by_type)
        .collect();
    let queue_steps = queued
        .iter()
        .map(|m| w.encode(m).map(|bytes| server_step(alice.clone(), bytes, 20, "ok")))
        .collect::<Result<Vec<_>, _>>()?;

    g.add(
        ServerCase::new("bob connects; nothing is queued", bob.clone(), connect("bob")?, 30)
            .flags(&["Honest"]),
    )?;
    g.add(
        ServerCase::new(
            "bob connects and receives his queue in arrival order",
            bob.clone(),
            connect("bob")?,
            30,
        )
        .state("alice and bob registered, bob offline; alice sent him a key transport and a message")
        .setup(queue_steps.clone())
        .flags(&["Honest", "Stateful"]),
    )?;
    let mut again = queue_steps.clone();
    again.push(server_step(bob.clone(), connect("bob")?, 30, "ok"));
    again.push(server_step(bob.clone(), disconnect("bob")?, 31, "ok"));
    g.add(
        ServerCase::new("bob reconnects: the queue was delivered once", bob.clone(), connect("bob")?, 32)
            .state("alice and bob registered; bob's queue delivered, then bob went offline")
            .setup(again)
            .flags(&["Stateful"]),
    )?;
    g.add(
        ServerCase::new("a Connect naming bob from alice's address", alice.clone(), connect("bob")?, 30)
            .flags(&["WrongPeer"])
            .invalid("SenderMismatch"),
    )?;
    g.add(
        ServerCase::new("an unregistered phone connects", carol.clone(), connect("carol")?, 30)
            .flags(&["Unexpected"])
            .invalid("NotRegistered"),
    )?;
    g.add(
        ServerCase::new("bob disconnects", bob.clone(), disconnect("bob")?, 30)
            .online(&["bob"])
            .state("alice and bob registered, bob online")
            .flags(&["Honest"]),
    )?;
    g.add(
        ServerCase::new(
            "a Disconnect naming bob from alice's address",
            alice.clone(),
            disconnect("bob")?,
            30,
        )
        .online(&["bob"])
        .state("alice and bob registered, bob online")
        .flags(&["WrongPeer"])
        .invalid("SenderMismatch"),
    )?;
    g.add(
        ServerCase::new(
            "an unregistered phone disconnects (Disconnect does not check registration)",
            carol.clone(),
            disconnect("carol")?,
            30,
        )
        .flags(&["Unexpected"]),
    )?;
    if let Some(data) = by_type(ee2e_spec::MessageType::Data) {
        g.add(
            ServerCase::new(
                "after bob disconnects, a message for him is stored",
                alice.clone(),
                w.encode(&data)?,
                40,
            )
            .online(&["bob"])
            .state("alice and bob registered, bob online")
            .setup(vec![server_step(bob.clone(), disconnect("bob")?, 35, "ok")])
            .flags(&["Stateful", "Relay"]),
        )?;
    }
    for message in all.iter().filter(|m| is_server_to_client(m)) {
        g.add(
            ServerCase::new(
                format!("{} {:?} sent to the server", article(message.kind()), message.kind()),
                alice.clone(),
                w.encode(message)?,
                30,
            )
            .flags(&["Unexpected"])
            .invalid("UnexpectedMessage"),
        )?;
    }
    g.add(
        ServerCase::new(
            "the other profile's Connect",
            bob.clone(),
            w.encode_other(&Message::Connect { phone: w.phone("bob") })?,
            30,
        )
        .flags(&["OtherProfile"])
        .invalid("WrongVersion"),
    )?;
    Ok(g.finish())
}

fn is_server_to_client(message: &Message<super::world::S>) -> bool {
    matches!(
        message,
        Message::RegisterResult { .. }
            | Message::PeerKey { .. }
            | Message::KeyDelivery { .. }
            | Message::DataDelivery { .. }
            | Message::AckDelivery { .. }
            | Message::Error { .. }
    )
}

fn client_group(w: &World) -> Result<TypedGroup, VectorError> {
    let mut g = ClientGroupBuilder::new(
        w,
        "alice announces presence (§9.1) and refuses server-bound message types",
        "alice",
        &["alice", "bob"],
        None,
    );
    g.add(Case::new("alice comes online", ClientInput::Connect {}).flags(&["Honest"]))?;
    g.add(Case::new("alice goes offline", ClientInput::Disconnect {}).flags(&["Honest"]))?;
    for (input, what) in
        [(ClientInput::Connect {}, "comes online"), (ClientInput::Disconnect {}, "goes offline")]
    {
        g.add(
            Case::new(format!("alice {what} before registering"), input)
                .unregistered()
                .flags(&["ApiMisuse"])
                .invalid("NotRegistered"),
        )?;
    }
    for message in samples::all(w)?.iter().filter(|m| !is_server_to_client(m)) {
        g.add(
            Case::new(
                format!("{} {:?} sent to a client", article(message.kind()), message.kind()),
                receive(w.encode(message)?),
            )
            .flags(&["Unexpected"])
            .invalid("UnexpectedMessage"),
        )?;
    }
    Ok(g.finish())
}
