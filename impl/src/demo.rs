//! The scripted demo session that `ee2e demo` prints: two registered parties, a session,
//! messages both ways, an offline spell with three stored messages, and every ACK verified.
//!
//! The script drives a [`Runtime`] the caller built (keys, store, keystores and OTP delivery
//! are the caller's) and checks each outcome as it goes; it reports every record and every
//! step as a [`Step`] to the caller, who prints them. It stops at the first failure: a failure
//! record in the transcript, a runtime error, or a check that does not hold.

use ee2e_spec::{Client, ClientError, ClientOutput, Params, Phone, Store, StoreError};

use crate::ConcreteSuite;
use crate::runtime::{Record, Runtime, RuntimeError};
use crate::sqlite::SqliteStore;

/// The messages of the demo's offline spell, in the order Alice sends them.
pub const OFFLINE_MESSAGES: [&str; 3] = ["Are you there?", "I booked a table for two.", "See you at noon!"];

/// One thing the script reports, in the order it happens.
#[derive(Debug)]
pub enum Step<'a> {
    /// A record of the runtime's transcript (a party or the server did something).
    Record(&'a Record),
    /// A party acted on the script's behalf; `step` is the protocol step (e.g. `"1.1"`).
    Did {
        /// The protocol step.
        step: &'static str,
        /// Who acted.
        party: &'a Phone,
        /// What it did.
        action: Action,
    },
    /// A check of the script held.
    Checked(&'a Check),
}

/// What a party did on the script's behalf (the records say what followed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Asked the server to register its phone.
    RequestedRegistration,
    /// Derived the registration values from the OTP with this many PBKDF2 iterations.
    DerivedFromOtp {
        /// PBKDF2 iterations.
        iterations: u32,
    },
    /// Sent its registration (its key and tag; in the hardened wire sealed, with a proof of
    /// possession).
    SentRegistration,
    /// Asked the server for this peer's key, to start a session.
    RequestedKey {
        /// The peer.
        peer: Phone,
    },
    /// Connected to the server.
    Connected,
}

/// A check the script makes; a failed one stops it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// The party is registered.
    Registered(Phone),
    /// Both parties hold the same session key.
    SameSessionKey,
    /// `to` received exactly the one message `from` sent.
    Delivered {
        /// The sender.
        from: Phone,
        /// The recipient.
        to: Phone,
    },
    /// `from` holds a verified ACK for its message `id`.
    Acked {
        /// The sender.
        from: Phone,
        /// The message id.
        id: u64,
    },
    /// The server holds this many messages for the offline party.
    Stored {
        /// The offline party.
        phone: Phone,
        /// Messages in its queue.
        queued: usize,
    },
    /// The reconnected party received every offline message exactly once, in order.
    OfflineDelivered(Phone),
    /// The sender verified the ACK of each offline message.
    OfflineAcked(Phone),
    /// No message is waiting for an ACK.
    NothingOutstanding,
    /// No check failed anywhere in the run.
    NoFailure,
}

/// Why the script stopped.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The runtime failed an operation.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The store failed a read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The transcript holds a failure record (its description).
    #[error("{0}")]
    Failed(String),
    /// No OTP reached the party.
    #[error("no SMS reached {0}")]
    NoSms(Phone),
    /// A check did not hold.
    #[error("check failed: {0:?}")]
    Check(Check),
}

/// The step where the script stopped, and why.
#[derive(Debug, thiserror::Error)]
#[error("step {step}: {error}")]
pub struct DemoFailure {
    /// The script step (e.g. `"3.1 offline send"`).
    pub step: &'static str,
    /// Why it stopped there.
    pub error: DemoError,
}

/// What a successful run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Envelopes on the network.
    pub envelopes: usize,
    /// Messages accepted.
    pub messages: usize,
    /// ACKs verified.
    pub acks: usize,
}

/// Where the server clock of a run on `store` starts: 0 on an empty store; on a store an
/// earlier run left, one OTP request window (SPEC §5.1) after the latest time it recorded for
/// `phones`, as if this run came that much later. A clock restarting at 0 would see the
/// earlier runs' requests as recent forever and refuse a later run's registration
/// (`RateLimited`).
pub fn clock_start(store: &SqliteStore, phones: &[&Phone], params: &Params) -> Result<u64, StoreError> {
    let mut latest = None;
    for phone in phones {
        let requests = Store::<ConcreteSuite>::otp_requests(store, phone)?;
        let pending = Store::<ConcreteSuite>::pending_otp(store, phone)?.map(|p| p.issued_at);
        latest = requests.into_iter().chain(pending).chain(latest).max();
    }
    Ok(latest.map_or(0, |at| at.saturating_add(params.otp_request_window_ms)))
}

/// The demo script over a runtime that holds both parties as clients (not yet registered).
pub struct Demo<'o> {
    rt: Runtime,
    alice: Phone,
    bob: Phone,
    observe: &'o mut dyn FnMut(Step<'_>),
}

type Outputs = Result<Vec<ClientOutput<ConcreteSuite>>, ClientError>;

fn at(step: &'static str) -> impl FnOnce(DemoError) -> DemoFailure {
    move |error| DemoFailure { step, error }
}

impl<'o> Demo<'o> {
    /// A demo of `alice` and `bob`, both clients of `rt`; `observe` sees every step.
    pub fn new(rt: Runtime, alice: Phone, bob: Phone, observe: &'o mut dyn FnMut(Step<'_>)) -> Self {
        Demo { rt, alice, bob, observe }
    }

    /// The runtime, as the script left it.
    pub fn runtime(&self) -> &Runtime {
        &self.rt
    }

    /// Runs the whole script.
    pub fn run(&mut self) -> Result<Summary, DemoFailure> {
        let (alice, bob) = (self.alice.clone(), self.bob.clone());
        self.register(&alice)?;
        self.register(&bob)?;

        // Step 2: key exchange.
        let peer = bob.clone();
        let action = Action::RequestedKey { peer: bob.clone() };
        self.act("2.1 key request", &alice, Some(("2.1", action)), move |c, _| Ok(c.start_session(&peer)?))?;
        let key = |rt: &Runtime, a: &Phone, b: &Phone| {
            rt.client(a)
                .and_then(|c| c.session_with(b))
                .map(|session| ee2e_spec::hazmat::session_key(session).clone())
        };
        let same = key(&self.rt, &alice, &bob).is_some()
            && key(&self.rt, &alice, &bob) == key(&self.rt, &bob, &alice);
        self.check("2.9 session", same, Check::SameSessionKey)?;

        // Steps 3-4: messages both ways, each acknowledged.
        self.exchange("3 alice to bob", &alice, &bob, "Hi Bob, it's Alice. Lunch at noon?")?;
        self.exchange("3 bob to alice", &bob, &alice, "Hi Alice! Noon works.")?;

        // Bob goes offline; Alice sends three messages, which the server stores.
        self.runtime_op("bob offline", |rt| rt.disconnect(&bob))?;
        let before = self.rt.accepted(&bob).len();
        let mut ids = Vec::new();
        for text in OFFLINE_MESSAGES {
            ids.push(self.send("3.1 offline send", &alice, &bob, text)?);
        }
        let queued = self.rt.store().queue_len(&bob).map_err(|e| at("3.2 store")(e.into()))?;
        self.check(
            "3.2 store",
            queued == OFFLINE_MESSAGES.len(),
            Check::Stored { phone: bob.clone(), queued },
        )?;

        // Bob reconnects: the server delivers in order, Bob accepts and acknowledges each.
        self.runtime_op("bob reconnects", |rt| rt.connect(&bob))?;
        let got: Vec<Vec<u8>> =
            self.rt.accepted(&bob)[before..].iter().map(|m| m.plaintext.as_slice().to_vec()).collect();
        let want: Vec<Vec<u8>> = OFFLINE_MESSAGES.iter().map(|t| t.as_bytes().to_vec()).collect();
        self.check("3.3 offline delivery", got == want, Check::OfflineDelivered(bob.clone()))?;
        let acked = self.rt.acked(&alice);
        self.check("4.4 ACKs", ids.iter().all(|id| acked.contains(id)), Check::OfflineAcked(alice.clone()))?;
        let outstanding =
            [&alice, &bob].iter().all(|p| self.rt.client(p).is_some_and(|c| c.outstanding().is_empty()));
        self.check("4.4 ACKs", outstanding, Check::NothingOutstanding)?;
        let failures = self.rt.transcript().iter().filter(|r| r.is_failure()).count();
        self.check("transcript", failures == 0, Check::NoFailure)?;

        Ok(Summary {
            envelopes: self.rt.log().len(),
            messages: self.rt.accepted(&alice).len() + self.rt.accepted(&bob).len(),
            acks: self.rt.acked(&alice).len() + self.rt.acked(&bob).len(),
        })
    }

    /// Step 1: request, OTP by SMS, proof and key, signed entry; then connect.
    fn register(&mut self, phone: &Phone) -> Result<(), DemoFailure> {
        self.act("1.1 registration request", phone, Some(("1.1", Action::RequestedRegistration)), |c, _| {
            Ok(c.register())
        })?;
        let otp = self.rt.take_otp(phone).ok_or_else(|| at("1.2 OTP")(DemoError::NoSms(phone.clone())))?;
        let iterations = self.rt.params().pbkdf2_iterations;
        let mark = self.rt.transcript().len();
        self.rt
            .act(phone, |c, rng| c.otp_received(&otp, rng))
            .map_err(|e| at("1.6 registration")(e.into()))?;
        (self.observe)(Step::Did {
            step: "1.4",
            party: phone,
            action: Action::DerivedFromOtp { iterations },
        });
        (self.observe)(Step::Did { step: "1.6", party: phone, action: Action::SentRegistration });
        self.report_since(mark, "1.6 registration")?;
        self.pump("1.6 registration")?;
        let registered = self.rt.client(phone).is_some_and(Client::is_registered);
        self.check("1.6 registration", registered, Check::Registered(phone.clone()))?;
        self.act("- connect", phone, Some(("-", Action::Connected)), |c, _| Ok(c.connect()?))
    }

    /// One message from `from` to `to`, accepted and acknowledged.
    fn exchange(
        &mut self,
        step: &'static str,
        from: &Phone,
        to: &Phone,
        text: &str,
    ) -> Result<(), DemoFailure> {
        let before = self.rt.accepted(to).len();
        let id = self.send(step, from, to, text)?;
        let accepted = self.rt.accepted(to);
        let delivered = accepted.len() == before + 1
            && accepted.last().is_some_and(|m| m.plaintext.as_slice() == text.as_bytes() && m.from == *from);
        self.check(step, delivered, Check::Delivered { from: from.clone(), to: to.clone() })?;
        let acked = self.rt.acked(from).contains(&id);
        self.check(step, acked, Check::Acked { from: from.clone(), id })
    }

    /// Sends `text` ([`Runtime::send`]: seal, then deliver everything) and reports what
    /// happened; the id of the message sent.
    fn send(&mut self, step: &'static str, from: &Phone, to: &Phone, text: &str) -> Result<u64, DemoFailure> {
        let mark = self.rt.transcript().len();
        let sent = self.rt.send(from, to, text.as_bytes());
        self.report_since(mark, step)?;
        sent.map_err(|e| at(step)(e.into()))
    }

    /// Reports the records since `mark`; fails at the first failure record.
    fn report_since(&mut self, mark: usize, step: &'static str) -> Result<(), DemoFailure> {
        let mut first_failure = None;
        for record in self.rt.since(mark) {
            if record.is_failure() && first_failure.is_none() {
                first_failure = Some(record.describe());
            }
            (self.observe)(Step::Record(record));
        }
        first_failure.map_or(Ok(()), |reason| Err(at(step)(DemoError::Failed(reason))))
    }

    /// One client operation: run it, report `did` and what it produced, then deliver
    /// everything and report what happened.
    fn act(
        &mut self,
        step: &'static str,
        phone: &Phone,
        did: Option<(&'static str, Action)>,
        op: impl FnOnce(&mut Client<ConcreteSuite>, &mut crate::Rng) -> Outputs,
    ) -> Result<(), DemoFailure> {
        let mark = self.rt.transcript().len();
        self.rt.act(phone, op).map_err(|e| at(step)(e.into()))?;
        if let Some((number, action)) = did {
            (self.observe)(Step::Did { step: number, party: phone, action });
        }
        self.report_since(mark, step)?;
        self.pump(step)
    }

    /// Delivers everything in flight and reports what happened.
    fn pump(&mut self, step: &'static str) -> Result<(), DemoFailure> {
        let mark = self.rt.transcript().len();
        self.rt.run_until_idle().map_err(|e| at(step)(e.into()))?;
        self.report_since(mark, step)
    }

    /// A runtime operation that is not a single client operation (connect, disconnect).
    fn runtime_op(
        &mut self,
        step: &'static str,
        op: impl FnOnce(&mut Runtime) -> Result<(), RuntimeError>,
    ) -> Result<(), DemoFailure> {
        let mark = self.rt.transcript().len();
        let result = op(&mut self.rt);
        self.report_since(mark, step)?;
        result.map_err(|e| at(step)(e.into()))
    }

    fn check(&mut self, step: &'static str, ok: bool, check: Check) -> Result<(), DemoFailure> {
        if ok {
            (self.observe)(Step::Checked(&check));
            Ok(())
        } else {
            Err(at(step)(DemoError::Check(check)))
        }
    }
}
