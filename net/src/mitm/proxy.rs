//! The proxy's frame plumbing. Each client connection gets its own upstream connection with
//! the same `Claim`; one task owns every connection's state and the trace.
//!
//! - A message the trace expects from a party is held (never forwarded unless a later step
//!   delivers it); the client is owed the `Handled` the server would have sent.
//! - A message handed to a client (a delivery, a replay, an injection) goes as a `Stored`
//!   frame: the client confirms it after its step, so its answer is exactly what it sent
//!   between the frame and the `Confirm` (nothing, if it rejected the message).
//! - `Handled` frames owed to a client are held while the next steps hand it a message
//!   before it acts again, so that it stays connected and reading.
//! - Everything else is forwarded as it is; after the trace, everything is.

use ee2e::codec;
use ee2e::runtime::{Address, Envelope};
use ee2e_model::Action;
use ee2e_model::symbolic::Hop;
use ee2e_replay::{Expect, LiveTrace, Play, Taken};
use ee2e_spec::{MessageType, Phone};
use futures::{SinkExt, StreamExt};
use std::collections::{HashMap, VecDeque};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::codec::{FramedRead, FramedWrite};

use super::{MitmError, Options};
use crate::frame::{self, Frame};

/// Frames queued for one connection's writer at most; past it the connection is dropped.
const WRITE_QUEUE: usize = 256;

/// Who gets the `Handled` the server sends for a frame forwarded upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// The client whose frame it was.
    Client,
    /// The proxy (a delivery of a held message, or an injection, to the server).
    Proxy,
}

/// Who sent a `Stored` frame a client will confirm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Server,
    Proxy,
}

struct Conn {
    phone: Option<Phone>,
    down: Option<mpsc::Sender<Vec<u8>>>,
    up: Option<mpsc::Sender<Vec<u8>>>,
    handled_for: VecDeque<Owner>,
    stored_from: VecDeque<Origin>,
    owed: usize,
}

enum Event {
    Accepted(TcpStream),
    Down(u64, Option<Vec<u8>>),
    Up(u64, Option<Vec<u8>>),
}

/// The step being played.
enum Doing {
    Honest { who: Phone, expect: Vec<Expect>, got: Vec<Envelope> },
    Send { envelope: Envelope, sent_on: Option<u64>, got: Vec<Envelope>, done: bool },
    Over,
}

struct Proxy<'a> {
    options: &'a Options,
    conns: HashMap<u64, Conn>,
    next_id: u64,
    events: mpsc::Sender<Event>,
    doing: Doing,
    n: usize,
    deadline: Instant,
    what: String,
    first_rejection: Option<(usize, String)>,
}

fn spawn_writer(stream: tokio::net::tcp::OwnedWriteHalf) -> mpsc::Sender<Vec<u8>> {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(WRITE_QUEUE);
    tokio::spawn(async move {
        let mut sink = FramedWrite::new(stream, frame::codec());
        while let Some(payload) = rx.recv().await {
            if sink.send(bytes::Bytes::from(payload)).await.is_err() {
                break;
            }
        }
    });
    tx
}

fn spawn_reader(
    stream: tokio::net::tcp::OwnedReadHalf,
    events: mpsc::Sender<Event>,
    make: fn(u64, Option<Vec<u8>>) -> Event,
    id: u64,
) {
    tokio::spawn(async move {
        let mut frames = FramedRead::new(stream, frame::codec());
        while let Some(Ok(payload)) = frames.next().await {
            if events.send(make(id, Some(payload.to_vec()))).await.is_err() {
                return;
            }
        }
        let _ = events.send(make(id, None)).await;
    });
}

/// Which party an action waits on, and whether it hands that party a message.
fn involves(action: &Action) -> Option<(Phone, bool)> {
    match action {
        Action::StartSession { from, .. } | Action::Send { from, .. } => {
            Some((ee2e_model::symbolic::phone(*from), false))
        }
        Action::Deliver(p) | Action::Replay(p) | Action::Inject(p, _) => match p.hop {
            Hop::ToClient { to } => Some((ee2e_model::symbolic::phone(to), true)),
            Hop::ToServer { .. } => None,
        },
        _ => None,
    }
}

/// Frames a client sends on its own, never as an answer to a delivered message.
fn own_initiative(kind: MessageType) -> bool {
    matches!(
        kind,
        MessageType::Connect
            | MessageType::Disconnect
            | MessageType::RegisterRequest
            | MessageType::RegisterSubmit
    )
}

fn name(phone: &Phone) -> String {
    ee2e_model::symbolic::owner(phone)
        .map_or_else(|| phone.to_string(), |p| ee2e_model::symbolic::party_name(p).to_string())
}

/// Plays the trace; returns the first rejected step, if any, with the rejecting party.
pub(super) async fn play(
    listener: TcpListener,
    trace: &mut LiveTrace,
    options: &Options,
    say: &mut dyn FnMut(String),
) -> Result<Option<(usize, String)>, MitmError> {
    let (events, mut inbox) = mpsc::channel(1024);
    let accept_events = events.clone();
    let acceptor = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            if accept_events.send(Event::Accepted(stream)).await.is_err() {
                return;
            }
        }
    });
    let mut proxy = Proxy {
        options,
        conns: HashMap::new(),
        next_id: 0,
        events,
        doing: Doing::Over,
        n: 0,
        deadline: Instant::now(),
        what: String::new(),
        first_rejection: None,
    };
    let result = async {
        proxy.next_step(trace, say)?;
        loop {
            proxy.progress(trace, say).await?;
            if matches!(proxy.doing, Doing::Over) && proxy.conns.values().all(|c| c.down.is_none()) {
                return Ok(());
            }
            let event = tokio::select! {
                event = inbox.recv() => event,
                () = tokio::time::sleep_until(proxy.deadline) => {
                    if matches!(proxy.doing, Doing::Over) {
                        // The clients had their time to finish after the trace.
                        return Ok(());
                    }
                    return Err(MitmError::Timeout { step: proxy.n, what: proxy.what.clone(), waited: options.wait });
                }
            };
            match event {
                Some(event) => proxy.handle(event).await?,
                None => return Ok(()),
            }
        }
    }
    .await;
    acceptor.abort();
    result.map(|()| proxy.first_rejection)
}

impl Proxy<'_> {
    /// Plans the next step (skipping those with nothing to do on the network).
    fn next_step(&mut self, trace: &mut LiveTrace, say: &mut dyn FnMut(String)) -> Result<(), MitmError> {
        loop {
            self.deadline = Instant::now() + self.options.wait;
            let Some(planned) = trace.plan()? else {
                say("trace over: the proxy forwards everything from here".into());
                self.doing = Doing::Over;
                return Ok(());
            };
            self.n = planned.n;
            say(format!("{:>3}. [{}] {}", planned.n, planned.kind, planned.action));
            for note in &planned.notes {
                say(format!("       note: {note}"));
            }
            match planned.play {
                Play::Skip(why) => say(format!("       skipped: {why}")),
                Play::Honest { who: Address::Client(who), expect } => {
                    self.what = format!("{} did not send {:?}", name(&who), kinds(&expect));
                    say(format!("       waiting for {} ({}) to send {:?}", name(&who), who, kinds(&expect)));
                    self.doing = Doing::Honest { who, expect, got: Vec::new() };
                    return Ok(());
                }
                Play::Honest { who: Address::Server, .. } => {
                    return Err(MitmError::NoTrace("the server never acts by itself".into()));
                }
                Play::Send { envelope, expect } => {
                    self.what = format!("{} did not take the message", party(&envelope.to));
                    let to = party(&envelope.to);
                    match &expect {
                        Some(expect) if !expect.is_empty() => {
                            say(format!(
                                "       in the model, {to} accepts it and answers {:?}",
                                kinds(expect)
                            ));
                        }
                        Some(_) => say(format!("       in the model, {to} accepts it")),
                        None => say(format!("       in the model, {to} rejects it")),
                    }
                    self.doing = Doing::Send { envelope, sent_on: None, got: Vec::new(), done: false };
                    return Ok(());
                }
            }
        }
    }

    /// Writes what the step sends once its addressee is connected, finishes complete steps,
    /// and releases the `Handled` frames clients may have.
    async fn progress(
        &mut self,
        trace: &mut LiveTrace,
        say: &mut dyn FnMut(String),
    ) -> Result<(), MitmError> {
        loop {
            let unsent = match &self.doing {
                Doing::Send { envelope, sent_on: None, .. } => Some(envelope.clone()),
                _ => None,
            };
            if let Some(envelope) = unsent {
                let sent = self.send(&envelope, say).await?;
                if let Doing::Send { sent_on, .. } = &mut self.doing {
                    *sent_on = sent;
                }
            }
            let complete = match &self.doing {
                Doing::Honest { expect, got, .. } => got.len() == expect.len(),
                Doing::Send { done, .. } => *done,
                Doing::Over => false,
            };
            if !complete {
                break;
            }
            let answer = match std::mem::replace(&mut self.doing, Doing::Over) {
                Doing::Honest { got, .. } | Doing::Send { got, .. } => got,
                Doing::Over => Vec::new(),
            };
            let shown: Vec<String> = answer
                .iter()
                .map(|e| {
                    format!(
                        "{} → {}: {}",
                        party(&e.from),
                        party(&e.to),
                        codec::decode(trace_wire(self.options), &e.bytes)
                            .map_or_else(|_| "undecodable".to_string(), |m| format!("{:?}", m.kind()))
                    )
                })
                .collect();
            match trace.answered(&answer)? {
                Taken::Accepted if shown.is_empty() => say("       done".into()),
                Taken::Accepted => say(format!("       answered: {}", shown.join(", "))),
                Taken::Rejected { by, code } => {
                    let how = match code {
                        Some(code) => format!("error reply {code:?}"),
                        None => "it answered nothing where an accepting client answers".into(),
                    };
                    say(format!("       REJECTED by {by}: {how}"));
                    if self.first_rejection.is_none() {
                        self.first_rejection = Some((self.n, by));
                    }
                }
            }
            self.next_step(trace, say)?;
        }
        self.release(trace);
        Ok(())
    }

    /// Writes a step's message to its addressee's connection, if it has one: to a client as
    /// a `Stored` frame, to the server on the sender's upstream connection (one the proxy
    /// opens, claiming the sender's address, if the sender is not connected).
    async fn send(
        &mut self,
        envelope: &Envelope,
        say: &mut dyn FnMut(String),
    ) -> Result<Option<u64>, MitmError> {
        match &envelope.to {
            Address::Client(to) => {
                let target = self
                    .conns
                    .iter_mut()
                    .filter(|(_, c)| c.down.is_some() && c.phone.as_ref() == Some(to))
                    .max_by_key(|(id, _)| **id);
                let Some((&id, conn)) = target else { return Ok(None) };
                conn.stored_from.push_back(Origin::Proxy);
                forward(conn.down.as_ref(), Frame::Stored(envelope.bytes.clone()).encode());
                say(format!(
                    "       handed to {} as a Stored frame ({} bytes)",
                    name(to),
                    envelope.bytes.len()
                ));
                Ok(Some(id))
            }
            Address::Server => {
                let Address::Client(from) = &envelope.from else {
                    return Err(MitmError::NoTrace("a message from the server to the server".into()));
                };
                let existing = self
                    .conns
                    .iter()
                    .filter(|(_, c)| c.up.is_some() && c.phone.as_ref() == Some(from))
                    .map(|(id, _)| *id)
                    .max();
                let id = match existing {
                    Some(id) => id,
                    None => self.open_upstream(None, from).await?,
                };
                let Some(conn) = self.conns.get_mut(&id) else { return Ok(None) };
                conn.handled_for.push_back(Owner::Proxy);
                forward(conn.up.as_ref(), envelope.bytes.clone());
                say(format!(
                    "       sent to S on {}'s connection ({} bytes)",
                    name(from),
                    envelope.bytes.len()
                ));
                Ok(Some(id))
            }
        }
    }

    /// Writes the owed `Handled` frames of every client no coming step is waiting to hand a
    /// message to first.
    fn release(&mut self, trace: &LiveTrace) {
        // The party the current step waits on: held if it is handed a message, free if it acts.
        let current = match &self.doing {
            Doing::Send { envelope: Envelope { to: Address::Client(to), .. }, .. } => {
                Some((to.clone(), true))
            }
            Doing::Honest { who, .. } => Some((who.clone(), false)),
            _ => None,
        };
        for conn in self.conns.values_mut() {
            let Some(phone) = &conn.phone else { continue };
            if conn.owed == 0 {
                continue;
            }
            let over = matches!(self.doing, Doing::Over);
            let hold = !over
                && current
                    .iter()
                    .cloned()
                    .chain(trace.upcoming().iter().filter_map(involves))
                    .find(|(p, _)| p == phone)
                    .is_some_and(|(_, delivery)| delivery);
            if hold {
                continue;
            }
            if let Some(down) = &conn.down {
                for _ in 0..conn.owed {
                    let _ = down.try_send(Frame::Handled.encode());
                }
            }
            conn.owed = 0;
        }
    }

    async fn open_upstream(&mut self, down: Option<u64>, phone: &Phone) -> Result<u64, MitmError> {
        let stream = TcpStream::connect(&self.options.upstream).await?;
        stream.set_nodelay(true)?;
        let (read, write) = stream.into_split();
        let up = spawn_writer(write);
        let _ = up.try_send(Frame::Claim(phone.clone()).encode());
        let id = match down {
            Some(id) => id,
            None => {
                self.next_id += 1;
                self.conns.insert(
                    self.next_id,
                    Conn {
                        phone: Some(phone.clone()),
                        down: None,
                        up: None,
                        handled_for: VecDeque::new(),
                        stored_from: VecDeque::new(),
                        owed: 0,
                    },
                );
                self.next_id
            }
        };
        spawn_reader(read, self.events.clone(), Event::Up, id);
        if let Some(conn) = self.conns.get_mut(&id) {
            conn.up = Some(up);
        }
        Ok(id)
    }

    async fn handle(&mut self, event: Event) -> Result<(), MitmError> {
        match event {
            Event::Accepted(stream) => {
                let _ = stream.set_nodelay(true);
                self.next_id += 1;
                let id = self.next_id;
                let (read, write) = stream.into_split();
                let down = spawn_writer(write);
                spawn_reader(read, self.events.clone(), Event::Down, id);
                self.conns.insert(
                    id,
                    Conn {
                        phone: None,
                        down: Some(down),
                        up: None,
                        handled_for: VecDeque::new(),
                        stored_from: VecDeque::new(),
                        owed: 0,
                    },
                );
            }
            Event::Down(id, None) | Event::Up(id, None) => {
                // Either side closed: both go (dropping the writers closes them).
                self.conns.remove(&id);
            }
            Event::Down(id, Some(payload)) => self.client_frame(id, payload).await?,
            Event::Up(id, Some(payload)) => self.server_frame(id, payload),
        }
        Ok(())
    }

    async fn client_frame(&mut self, id: u64, payload: Vec<u8>) -> Result<(), MitmError> {
        let Some(conn) = self.conns.get_mut(&id) else { return Ok(()) };
        let parsed = Frame::parse(&payload);
        if conn.phone.is_none()
            && let Ok(Frame::Claim(phone)) = &parsed
        {
            conn.phone = Some(phone.clone());
            let phone = phone.clone();
            if let Err(error) = self.open_upstream(Some(id), &phone).await {
                tracing::warn!(%error, "upstream connection failed");
                self.conns.remove(&id);
            }
            return Ok(());
        }
        let wire = trace_wire(self.options);
        let Some(phone) = conn.phone.clone() else {
            forward(conn.up.as_ref(), payload);
            return Ok(());
        };
        match parsed {
            Ok(Frame::Message(bytes)) => {
                let kind = codec::decode(wire, &bytes).ok().map(|m| m.kind());
                let envelope = Envelope { from: Address::Client(phone.clone()), to: Address::Server, bytes };
                let captured = match (&mut self.doing, kind) {
                    (Doing::Honest { who, expect, got }, Some(kind))
                        if *who == phone && expect.get(got.len()).is_some_and(|e| e.kind == kind) =>
                    {
                        got.push(envelope.clone());
                        true
                    }
                    (Doing::Send { sent_on: Some(on), got, done: false, envelope: sent, .. }, Some(kind))
                        if *on == id
                            && sent.to == Address::Client(phone.clone())
                            && !own_initiative(kind) =>
                    {
                        got.push(envelope.clone());
                        true
                    }
                    _ => false,
                };
                if captured {
                    // Held by the proxy; the client is owed the server's acknowledgement.
                    conn.owed += 1;
                } else {
                    conn.handled_for.push_back(Owner::Client);
                    forward(conn.up.as_ref(), envelope.bytes);
                }
            }
            Ok(Frame::Confirm) => match conn.stored_from.pop_front() {
                Some(Origin::Proxy) => {
                    conn.owed += 1;
                    if let Doing::Send { sent_on: Some(on), done, .. } = &mut self.doing
                        && *on == id
                    {
                        *done = true;
                    }
                }
                _ => {
                    conn.handled_for.push_back(Owner::Client);
                    forward(conn.up.as_ref(), payload);
                }
            },
            // Anything else is the server's to judge.
            _ => forward(conn.up.as_ref(), payload),
        }
        Ok(())
    }

    fn server_frame(&mut self, id: u64, payload: Vec<u8>) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        let Some(phone) = conn.phone.clone() else { return };
        match Frame::parse(&payload) {
            Ok(Frame::Handled) => match conn.handled_for.pop_front() {
                Some(Owner::Proxy) => {
                    if let Doing::Send { sent_on: Some(on), done, envelope, .. } = &mut self.doing
                        && *on == id
                        && envelope.to == Address::Server
                    {
                        *done = true;
                    }
                }
                _ => conn.owed += 1,
            },
            Ok(Frame::Message(bytes)) => {
                let kind = codec::decode(trace_wire(self.options), &bytes).ok().map(|m| m.kind());
                let envelope = Envelope { from: Address::Server, to: Address::Client(phone.clone()), bytes };
                match (&mut self.doing, kind) {
                    // The server's answer to what the proxy sent on this connection.
                    (Doing::Send { sent_on: Some(on), got, done: false, envelope: sent, .. }, Some(_))
                        if *on == id && sent.to == Address::Server =>
                    {
                        got.push(envelope);
                    }
                    _ => forward(conn.down.as_ref(), envelope.bytes),
                }
            }
            Ok(Frame::Stored(_)) => {
                conn.stored_from.push_back(Origin::Server);
                forward(conn.down.as_ref(), payload);
            }
            _ => forward(conn.down.as_ref(), payload),
        }
    }
}

fn forward(to: Option<&mpsc::Sender<Vec<u8>>>, payload: Vec<u8>) {
    if let Some(to) = to
        && to.try_send(payload).is_err()
    {
        tracing::warn!("a connection does not read what it is sent: frame dropped");
    }
}

fn trace_wire(options: &Options) -> ee2e_spec::Wire {
    options.profile.wire()
}

fn kinds(expect: &[Expect]) -> Vec<MessageType> {
    expect.iter().map(|e| e.kind).collect()
}

fn party(address: &Address) -> String {
    match address {
        Address::Client(p) => name(p),
        Address::Server => "S".into(),
    }
}
