//! The implementation's side of a replay: the in-process runtime with a tap that holds every
//! envelope, so that the replay — like the model's network — decides what is delivered,
//! when, how often and to whom.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use ee2e::Bytes;
use ee2e::runtime::{Address, Entry, Envelope, Incident, Runtime, TapAction};
use ee2e::suite::PrivateKey;
use ee2e_model::Scenario;
use ee2e_model::symbolic::Hop;
use ee2e_model::symbolic::Party;
use ee2e_model::symbolic::{A, B, E, party_name, phone};
use ee2e_spec::{Params, Profile, ServerEvent, Wire};

use super::Rejection;
use super::attacker::party_key;

/// The runtime under replay.
pub(crate) struct World {
    /// The runtime.
    pub rt: Runtime,
    captured: Rc<RefCell<Vec<Envelope>>>,
    /// The profile's wire version.
    pub wire: Wire,
    /// OTPs that reached honest handsets and were not typed yet.
    pub inbox: BTreeMap<Party, Bytes>,
}

fn key(p: Party) -> Result<PrivateKey, String> {
    party_key(p).ok_or_else(|| format!("no fixture key for {}", party_name(p)))
}

/// The network addresses of a model hop.
pub(crate) fn addresses(hop: &Hop) -> (Address, Address) {
    match hop {
        Hop::ToServer { from } => (Address::Client(phone(*from)), Address::Server),
        Hop::ToClient { to } => (Address::Server, Address::Client(phone(*to))),
    }
}

impl World {
    /// A runtime in the model's initial situation for `scenario`: in `registration`, A and B
    /// exist and are not registered; in `messaging`, A, B and E are registered and A and B
    /// are connected (as in the model, E is registered but not online). Then the tap is
    /// installed: from here on nothing moves unless the replay delivers it.
    pub(crate) fn new(
        profile: Profile,
        scenario: Scenario,
        iterations: u32,
        seed: [u8; 32],
    ) -> Result<Self, String> {
        // The model's scaled-down limits, so that both sides count alike.
        let params = Params { pbkdf2_iterations: iterations, ..ee2e_model::symbolic::params() };
        let mut rt = Runtime::builder(profile, ee2e_fixtures::server_key())
            .params(params)
            .seed(seed)
            .build()
            .map_err(|e| e.to_string())?;
        match scenario {
            Scenario::Registration => {
                for p in [A, B] {
                    rt.add_client(phone(p), key(p)?, None).map_err(|e| e.to_string())?;
                }
            }
            Scenario::Messaging | Scenario::Lifecycle => {
                for p in [A, B] {
                    rt.register(&phone(p), key(p)?)
                        .map_err(|e| format!("setting up {}: {e}", party_name(p)))?;
                }
                rt.add_client(phone(E), key(E)?, None).map_err(|e| e.to_string())?;
                let otp = rt.request_otp(&phone(E)).map_err(|e| format!("setting up E: {e}"))?;
                rt.submit_otp(&phone(E), &otp).map_err(|e| format!("setting up E: {e}"))?;
            }
        }
        // The model's run starts one request window after its set-up registrations.
        rt.advance(std::time::Duration::from_millis(ee2e_model::symbolic::start_time(scenario)));
        let captured: Rc<RefCell<Vec<Envelope>>> = Rc::default();
        let sink = Rc::clone(&captured);
        rt.set_tap(move |envelope: &Envelope| {
            sink.borrow_mut().push(envelope.clone());
            TapAction::Drop
        });
        Ok(World { rt, captured, wire: profile.wire(), inbox: BTreeMap::new() })
    }

    /// The envelopes honest parties sent since the last call, in order.
    pub(crate) fn take_captured(&self) -> Vec<Envelope> {
        std::mem::take(&mut *self.captured.borrow_mut())
    }

    /// Puts `envelope` on the network and runs it (and only it) to its addressee.
    pub(crate) fn send(&mut self, envelope: Envelope) -> Result<(), String> {
        self.rt.inject(envelope);
        self.rt.run_until_idle().map(drop).map_err(|e| e.to_string())
    }

    /// The first failed check recorded from transcript position `mark` on.
    pub(crate) fn rejection_since(&self, mark: usize) -> Option<Rejection> {
        let mut last_kind = None;
        for record in self.rt.since(mark) {
            let at = match &record.node {
                Address::Server => "S".to_string(),
                Address::Client(p) => super::name_of(p),
            };
            match &record.entry {
                Entry::Received { kind, .. } => last_kind = Some(*kind),
                Entry::ClientError { kind, error } => {
                    return Some(Rejection::Client { party: at, kind: *kind, error: error.clone() });
                }
                Entry::Server(ServerEvent::Rejected { error, .. }) => {
                    return Some(Rejection::Server { kind: last_kind, error: error.clone() });
                }
                Entry::Incident(Incident::Undecodable { error, .. }) => {
                    return Some(Rejection::Undecodable { party: at, error: error.to_string() });
                }
                Entry::Incident(Incident::Undeliverable { .. }) => {
                    return Some(Rejection::Undeliverable { party: at });
                }
                _ => {}
            }
        }
        None
    }
}
