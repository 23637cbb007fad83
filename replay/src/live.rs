//! A trace replayed on live traffic: the model's side of `ee2e mitm`, a proxy between real
//! client processes and a real server. The proxy asks [`LiveTrace::plan`] what the next step
//! does on the network (wait for an honest party's messages, or hand bytes to a party) and
//! tells [`LiveTrace::answered`] what the party sent back; the trace binds every symbolic
//! value to the bytes seen, as the in-process replay does, and builds each injection with the
//! same attacker and the same translation (`translate::action`).

use std::collections::HashMap;

use ee2e::codec;
use ee2e::runtime::{Address, Envelope};
use ee2e_model::Action;
use ee2e_model::properties::negation;
use ee2e_model::symbolic::Term;
use ee2e_model::symbolic::{A, B, E, party_name};
use ee2e_model::symbolic::{Hop, Packet, State};
use ee2e_model::{Config, Ee2eModel};
use ee2e_spec::{Message, MessageType, Profile, Wire};
use stateright::Model;

use super::attacker::Attacker;
use super::steps::{self, ModelStep};
use super::translate::{self, Correspondence, Places, RunView};
use super::values::values;
use super::world::addresses;
use super::{ATTACKER_SEED, Attack, INJECTED, REPLAY_PBKDF2_ITERATIONS, ReplayError, kind, name_of};

/// A message a party is expected to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    /// The sender.
    pub from: Address,
    /// The addressee.
    pub to: Address,
    /// The message's type.
    pub kind: MessageType,
}

/// What a step does on the network.
#[derive(Debug, Clone)]
pub enum Play {
    /// An honest client acts by itself: wait for it to send `expect`, in order.
    Honest {
        /// The client.
        who: Address,
        /// What it sends.
        expect: Vec<Expect>,
    },
    /// Hand `envelope` to its addressee (a delivery, a replay or an injection). If the
    /// addressee accepts it, the model says it answers `expect`; `None`: the model's
    /// addressee rejects it.
    Send {
        /// What to hand over, and to whom.
        envelope: Envelope,
        /// The answer of an accepting addressee, in order.
        expect: Option<Vec<Expect>>,
    },
    /// Nothing happens on the network: the message was never sent in this profile, or the
    /// attacker cannot build it here.
    Skip(String),
}

/// The next step of a live trace.
#[derive(Debug, Clone)]
pub struct Planned {
    /// 1-based position in the trace.
    pub n: usize,
    /// `honest`, `delivery`, `replay`, `injection`, …
    pub kind: &'static str,
    /// The action in this profile, as the model tells it.
    pub action: String,
    /// What to do.
    pub play: Play,
    /// What the attacker could not do as in the seed, and what it did instead.
    pub notes: Vec<String>,
}

/// How the live party took a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// It accepted (and answered as the model does).
    Accepted,
    /// It rejected: the server with an error reply, a client by answering nothing where an
    /// accepting client answers.
    Rejected {
        /// A, B or S.
        by: String,
        /// The error reply's code (a server rejection).
        code: Option<ee2e_spec::ErrorCode>,
    },
}

/// Why a trace cannot be played by a proxy, if it cannot: the attacks `ee2e mitm` supports
/// are pure network manipulation between A, B and S, judged from what the parties answer.
///
/// # Errors
/// The reason, for the first step that needs more than the network.
pub fn live_supported(attack: &Attack) -> Result<(), String> {
    let model = Ee2eModel::new(attack.config);
    let mut state =
        model.init_states().into_iter().next().ok_or_else(|| "the model has no initial state".to_string())?;
    for (i, action) in attack.actions.iter().enumerate() {
        let n = i + 1;
        let why = match action {
            Action::Register(_) | Action::EnterOtp(_) => {
                Some("a registration during the attack (the proxy plays messaging traces)".into())
            }
            Action::GuessOnline(_) | Action::GuessOffline(_) => {
                Some("OTP guessing (the attacker's own registration or SMS access)".into())
            }
            Action::Compromise => Some("a leaked private key".into()),
            Action::Tick => Some("the model's clock (OTP expiry)".into()),
            Action::ForgeError { .. } => Some("a forged error reply".into()),
            Action::GoOffline | Action::GoOnline => Some("B's presence changes".into()),
            Action::Chain(_) => Some("an unflattened chain".into()),
            Action::Inject(p, _) if matches!(p.hop, Hop::ToServer { .. }) => {
                Some("an injection to the server (as another connection's address)".into())
            }
            Action::Inject(p, _) if uses_e(&p.message) => Some(format!(
                "an injection built from E's own key or directory entry ({}): the attacker's own registration",
                model.format_action(action)
            )),
            _ => None,
        };
        if let Some(why) = why {
            return Err(format!("step {n} needs {why}"));
        }
        let step = steps::step(&model, &state, action)?.ok_or_else(|| format!("step {n} is not possible"))?;
        // A client's acceptance is seen on the wire only if it answers.
        if let Action::Deliver(p) | Action::Replay(p) | Action::Inject(p, _) = action
            && matches!(p.hop, Hop::ToClient { .. })
            && step.emitted.is_empty()
        {
            return Err(format!(
                "step {n} hands a client a message it accepts without answering ({}): its acceptance is not visible on the wire",
                model.format_action(action)
            ));
        }
        state = step.next;
    }
    Ok(())
}

/// Whether a message holds a value of E's own (its key, its signature, its fresh values).
fn uses_e(message: &Message<ee2e_model::symbolic::Sym>) -> bool {
    let own = [Term::pk(E), Term::sk(E)];
    values(message).into_iter().any(|t| {
        own.iter().any(|o| t.contains(o))
            || matches!(t.node(), ee2e_model::symbolic::Node::Fresh(name) if name.party == E)
    })
}

/// A trace in progress on live traffic.
pub struct LiveTrace {
    attack: Attack,
    profile: Profile,
    wire: Wire,
    source_model: Ee2eModel,
    model: Ee2eModel,
    source: State,
    state: State,
    att: Attacker,
    places: Places,
    envelopes: HashMap<Packet, Envelope>,
    corr: Correspondence,
    /// Index of the next action.
    next: usize,
    /// The step planned and not answered yet.
    pending: Option<Pending>,
}

struct Pending {
    n: usize,
    source_step: ModelStep,
    target: Action,
    model_step: Option<ModelStep>,
    injected: Option<(Packet, Envelope)>,
}

impl std::fmt::Debug for LiveTrace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveTrace")
            .field("property", &self.attack.property)
            .field("profile", &self.profile.name())
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl LiveTrace {
    /// The seed trace `attack`, to be played on live parties running `profile`.
    ///
    /// # Errors
    /// [`ReplayError`] if the models have no initial state or the attacker's key is missing.
    pub fn new(attack: &Attack, profile: Profile) -> Result<Self, ReplayError> {
        let err = |message: String| ReplayError { step: None, message };
        let source_model = Ee2eModel::new(attack.config);
        let model = Ee2eModel::new(Config { profile, ..attack.config });
        let source =
            source_model.init_states().into_iter().next().ok_or_else(|| err("no initial state".into()))?;
        let state = model.init_states().into_iter().next().ok_or_else(|| err("no initial state".into()))?;
        let att = Attacker::new(REPLAY_PBKDF2_ITERATIONS, ATTACKER_SEED).map_err(err)?;
        Ok(LiveTrace {
            attack: attack.clone(),
            profile,
            wire: profile.wire(),
            source_model,
            model,
            source,
            state,
            att,
            places: Places::default(),
            envelopes: HashMap::new(),
            corr: Correspondence::default(),
            next: 0,
            pending: None,
        })
    }

    /// The seed actions not planned yet (after the pending one).
    pub fn upcoming(&self) -> &[Action] {
        &self.attack.actions[self.next..]
    }

    /// The number of steps.
    pub fn len(&self) -> usize {
        self.attack.actions.len()
    }

    /// Whether the trace has no steps.
    pub fn is_empty(&self) -> bool {
        self.attack.actions.is_empty()
    }

    /// The next step; `None` when the trace is over.
    ///
    /// # Errors
    /// [`ReplayError`] if the step is not possible in the seed model, a step is still
    /// pending, or the attacker cannot build the seed's injection on the seed.
    pub fn plan(&mut self) -> Result<Option<Planned>, ReplayError> {
        if self.pending.is_some() {
            return Err(ReplayError {
                step: Some(self.next),
                message: "the last step was not answered".into(),
            });
        }
        let Some(action) = self.attack.actions.get(self.next).cloned() else { return Ok(None) };
        self.next += 1;
        let n = self.next;
        let err = |message: String| ReplayError { step: Some(n), message };
        let source_step = steps::step(&self.source_model, &self.source, &action)
            .map_err(err)?
            .ok_or_else(|| err(format!("the trace's action is not possible in the model: {action:?}")))?;
        self.places.record_source(n, &source_step);
        let mut notes = Vec::new();
        let view = RunView {
            profile: self.profile,
            source_profile: self.attack.config.profile,
            state: &self.state,
            corr: &self.corr,
            places: &self.places,
        };
        let target = translate::action(&view, &action, &mut notes).map_err(err)?;
        let kind = kind(&action);
        let Some(target) = target else {
            self.source = source_step.next;
            let why = "the message was never sent in this profile".to_string();
            return Ok(Some(Planned {
                n,
                kind,
                action: self.source_model.format_action(&action),
                play: Play::Skip(why),
                notes,
            }));
        };
        let description = self.model.format_action(&target);
        let model_step = steps::step(&self.model, &self.state, &target).map_err(err)?;
        let expect = |ms: &ModelStep| -> Vec<Expect> {
            ms.emitted
                .iter()
                .map(|p| {
                    let (from, to) = addresses(&p.hop);
                    Expect { from, to, kind: p.message.kind() }
                })
                .collect()
        };
        let mut injected = None;
        let play = match &target {
            Action::StartSession { from: who, .. } | Action::Send { from: who, .. } => match &model_step {
                Some(ms) => Play::Honest {
                    who: Address::Client(ee2e_model::symbolic::phone(*who)),
                    expect: expect(ms),
                },
                None => Play::Skip("the client does not do it in this profile".into()),
            },
            Action::Deliver(p) | Action::Replay(p) => {
                let envelope =
                    self.envelopes.get(p).cloned().ok_or_else(|| err(format!("no bytes seen for {p:?}")))?;
                Play::Send { envelope, expect: model_step.as_ref().map(expect) }
            }
            Action::Inject(p, _) => match self.att.build_message(&p.message) {
                Ok(message) => {
                    let bytes =
                        codec::encode(self.wire, &message).map_err(|e| err(format!("cannot encode: {e}")))?;
                    let (from, to) = addresses(&p.hop);
                    let envelope = Envelope { from, to, bytes };
                    injected = Some((p.clone(), envelope.clone()));
                    Play::Send { envelope, expect: model_step.as_ref().map(expect) }
                }
                Err(e) if self.profile == self.attack.config.profile => {
                    return Err(err(format!("the attacker cannot build the trace's message: {e}")));
                }
                Err(e) => Play::Skip(format!("E cannot build it: {e}")),
            },
            other => return Err(err(format!("a proxy cannot play {other:?}"))),
        };
        if let Play::Skip(_) = play {
            self.source = source_step.next;
            return Ok(Some(Planned { n, kind, action: description, play, notes }));
        }
        self.pending = Some(Pending { n, source_step, target, model_step, injected });
        Ok(Some(Planned { n, kind, action: description, play, notes }))
    }

    /// What the party of the pending step sent back (the honest party's messages, or the
    /// addressee's answer), in order.
    ///
    /// # Errors
    /// [`ReplayError`] if the live parties and the model disagree (different messages, one
    /// accepts what the other rejects) or a message does not decode.
    pub fn answered(&mut self, answer: &[Envelope]) -> Result<Taken, ReplayError> {
        let pending = self
            .pending
            .take()
            .ok_or_else(|| ReplayError { step: None, message: "no step is pending".into() })?;
        let n = pending.n;
        let err = |message: String| ReplayError { step: Some(n), message };
        let mut decoded = Vec::with_capacity(answer.len());
        for envelope in answer {
            let message = codec::decode(self.wire, &envelope.bytes)
                .map_err(|e| err(format!("{} sent undecodable bytes: {e}", party(&envelope.from))))?;
            decoded.push(message);
        }
        if let Some((p, envelope)) = &pending.injected {
            // Kept whatever becomes of it: a later replay sends the same bytes.
            self.places.target.insert((n, INJECTED), p.clone());
            self.envelopes.insert(p.clone(), envelope.clone());
        }
        let server_error = decoded.iter().zip(answer).find_map(|(m, e)| match m {
            Message::Error { code } if e.from == Address::Server => Some(*code),
            _ => None,
        });
        let receiver = match &pending.target {
            Action::Deliver(p) | Action::Replay(p) | Action::Inject(p, _) => Some(addresses(&p.hop).1),
            _ => None,
        };
        let taken = match (&pending.model_step, receiver) {
            (Some(ms), _) if server_error.is_none() || ms.rejected => {
                if ms.emitted.len() != answer.len()
                    || ms.emitted.iter().zip(&decoded).any(|(p, m)| p.message.kind() != m.kind())
                {
                    let kinds: Vec<_> = decoded.iter().map(Message::kind).collect();
                    let wanted: Vec<_> = ms.emitted.iter().map(|p| p.message.kind()).collect();
                    return Err(err(format!("the model answers {wanted:?}, the live party {kinds:?}")));
                }
                for (j, ((p, envelope), message)) in ms.emitted.iter().zip(answer).zip(&decoded).enumerate() {
                    let (from, to) = addresses(&p.hop);
                    if envelope.from != from || envelope.to != to {
                        return Err(err(format!(
                            "the model's {p:?} went {from:?} → {to:?}, the live one {envelope:?}"
                        )));
                    }
                    self.att.observe_message(&p.message, message).map_err(err)?;
                    self.envelopes.entry(p.clone()).or_insert_with(|| envelope.clone());
                    self.places.target.insert((n, j), p.clone());
                    if let Some(sp) = pending.source_step.emitted.get(j)
                        && sp.hop == p.hop
                    {
                        self.corr.pair(&sp.message, &p.message);
                    }
                }
                self.state = ms.next.clone();
                match server_error {
                    Some(code) => Taken::Rejected { by: "S".into(), code: Some(code) },
                    None => Taken::Accepted,
                }
            }
            (None, Some(Address::Server)) if server_error.is_some() => {
                Taken::Rejected { by: "S".into(), code: server_error }
            }
            (None, Some(Address::Client(to))) if answer.is_empty() => {
                Taken::Rejected { by: name_of(&to), code: None }
            }
            (None, _) => {
                return Err(err(format!(
                    "the model rejects {}, the live party answered {:?}",
                    self.model.format_action(&pending.target),
                    decoded.iter().map(Message::kind).collect::<Vec<_>>()
                )));
            }
            (Some(_), _) => {
                return Err(err(format!("the model accepts, the server answered an error {server_error:?}")));
            }
        };
        self.att.analyse().map_err(err)?;
        self.source = pending.source_step.next;
        Ok(taken)
    }

    /// Whether the attacked property is violated in the model state the live answers drove
    /// (every step's outcome was checked against the live parties').
    pub fn breached(&self) -> bool {
        negation(self.attack.property).is_some_and(|violated| violated(&self.model, &self.state))
    }
}

/// A, B, E or S.
fn party(address: &Address) -> String {
    match address {
        Address::Client(p) => name_of(p),
        Address::Server => "S".into(),
    }
}

/// The cast of the model, for a proxy's banner: each client's name and phone number.
pub fn cast() -> Vec<(&'static str, ee2e_spec::Phone)> {
    [A, B].into_iter().map(|p| (party_name(p), ee2e_model::symbolic::phone(p))).collect()
}
