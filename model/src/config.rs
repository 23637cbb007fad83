//! What a model run checks: profile, threat model, scenario, bounds; and the fixed cast.

use std::fmt;

use ee2e_spec::{Phone, Profile};

use crate::term::Party;

/// The server's party index.
pub const SERVER: Party = 0;
/// Honest client A.
pub const A: Party = 1;
/// Honest client B.
pub const B: Party = 2;
/// The attacker's own registered identity E.
pub const E: Party = 3;
/// The honest clients, in order.
pub const HONEST: [Party; 2] = [A, B];
/// Every client identity (honest and the attacker's).
pub const CLIENTS: [Party; 3] = [A, B, E];

const PHONES: [&str; 4] = ["+15550000000", "+15550000001", "+15550000002", "+15550000666"];
const NAMES: [&str; 4] = ["S", "A", "B", "E"];

/// The display name of a party.
pub fn party_name(p: Party) -> &'static str {
    NAMES.get(p as usize).copied().unwrap_or("?")
}

/// The phone number of a client.
pub fn phone(p: Party) -> Phone {
    Phone::parse(PHONES[p as usize]).expect("fixed phone numbers are valid")
}

/// The party whose phone number is `bytes`, by name (for readable traces).
pub fn phone_name(bytes: &[u8]) -> Option<&'static str> {
    PHONES.iter().position(|p| p.as_bytes() == bytes).filter(|i| *i != 0).map(|i| NAMES[i])
}

/// The client party owning `phone`.
pub fn owner(phone: &Phone) -> Option<Party> {
    CLIENTS.into_iter().find(|p| self::phone(*p) == *phone)
}

/// OTPs the server issues per phone in one run: every delivery of a registration request
/// draws a fresh OTP, so without a bound replays would make the state space infinite.
pub const MAX_OTPS_PER_PHONE: u8 = 2;

/// What the attacker can do besides being the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Threat {
    /// Eavesdropper: delivers every message once, to its recipient, and injects nothing.
    Passive,
    /// Dolev-Yao network attacker with a registered identity E (the default).
    Network,
    /// `network`, and it reads the SMS (OTPs) of honest clients.
    Sms,
    /// `network`, and it holds the server's signing key.
    Server,
    /// `network`, and B's long-term private key leaks after its sessions end.
    Compromise,
}

impl Threat {
    /// Every threat model.
    pub const ALL: [Threat; 5] =
        [Threat::Passive, Threat::Network, Threat::Sms, Threat::Server, Threat::Compromise];

    /// Command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Threat::Passive => "passive",
            Threat::Network => "network",
            Threat::Sms => "sms",
            Threat::Server => "server",
            Threat::Compromise => "compromise",
        }
    }

    /// What this threat model gives the attacker, in one line (`check --help`).
    pub fn summary(self) -> &'static str {
        match self {
            Threat::Passive => {
                "an eavesdropper: delivers every message once to its addressee, injects nothing"
            }
            Threat::Network => {
                "a Dolev-Yao network attacker with its own registered identity E: also replays, \
                 relabels and injects what it can build (the default)"
            }
            Threat::Sms => "`network`, and it reads the honest clients' SMS (their OTPs)",
            Threat::Server => "`network`, and it holds the server's signing key",
            Threat::Compromise => {
                "`network`, and B's long-term private key leaks after A's messages are sent"
            }
        }
    }

    /// Parses a command-line name.
    pub fn parse(s: &str) -> Option<Threat> {
        Self::ALL.into_iter().find(|t| t.name() == s)
    }
}

/// A command-line name that names no threat model or scenario.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {name:?}: expected one of {expected}")]
pub struct UnknownName {
    /// What was named (`threat model`, `scenario`).
    pub what: &'static str,
    /// The name given.
    pub name: String,
    /// The names there are, comma-separated.
    pub expected: String,
}

impl std::str::FromStr for Threat {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Threat, UnknownName> {
        Threat::parse(s).ok_or_else(|| UnknownName {
            what: "threat model",
            name: s.to_string(),
            expected: Threat::ALL.map(Threat::name).join(", "),
        })
    }
}

impl fmt::Display for Threat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which part of the protocol a run explores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    /// A and B register with an empty directory.
    Registration,
    /// A, B and E are registered and online; key exchange, messages, offline delivery, ACKs.
    Messaging,
    /// Both phases in one run: A, B and E start registered; registration stays live (either
    /// honest client may register again, replacing its entry, and the attacker may use every
    /// registration message) while sessions, messages and ACKs run.
    Lifecycle,
}

impl Scenario {
    /// Every scenario.
    pub const ALL: [Scenario; 3] = [Scenario::Registration, Scenario::Messaging, Scenario::Lifecycle];

    /// Command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Registration => "registration",
            Scenario::Messaging => "messaging",
            Scenario::Lifecycle => "lifecycle",
        }
    }

    /// Whether registration messages (requests, submissions, results) are live in this run.
    pub fn registers(self) -> bool {
        matches!(self, Scenario::Registration | Scenario::Lifecycle)
    }

    /// Whether key exchange, messages and ACKs are live in this run.
    pub fn messages(self) -> bool {
        matches!(self, Scenario::Messaging | Scenario::Lifecycle)
    }

    /// Parses a command-line name.
    pub fn parse(s: &str) -> Option<Scenario> {
        Self::ALL.into_iter().find(|t| t.name() == s)
    }
}

impl std::str::FromStr for Scenario {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Scenario, UnknownName> {
        Scenario::parse(s).ok_or_else(|| UnknownName {
            what: "scenario",
            name: s.to_string(),
            expected: Scenario::ALL.map(Scenario::name).join(", "),
        })
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The bounds of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Bounds {
    /// Key exchanges A may start (each with B or with E).
    pub sessions: u8,
    /// Key exchanges B may start (each with A or with E).
    pub b_sessions: u8,
    /// Messages each honest client may send (its direction of traffic).
    pub messages: u8,
    /// Messages the attacker may build, alter or replay (first deliveries are free).
    pub injections: u8,
    /// Clock ticks (each past the OTP lifetime) in scenarios that register.
    pub ticks: u8,
    /// Offline spells of B in scenarios that message: 1 (B goes offline and comes back once,
    /// and the server stores what arrives meanwhile) or 0 (B stays online). A spell changes
    /// no verdict of a safety property (model/README.md, "Reductions"); it is what exercises
    /// stored delivery.
    pub offline_spells: u8,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds { sessions: 1, b_sessions: 0, messages: 2, injections: 2, ticks: 1, offline_spells: 1 }
    }
}

impl Bounds {
    /// The default bounds of `scenario`: [`Bounds::default`], except that `lifecycle`, where
    /// registration and messaging interleave, allows one message per direction and one
    /// injection (at two messages it has 509 218 distinct states and takes a minute).
    pub fn for_scenario(scenario: Scenario) -> Bounds {
        match scenario {
            Scenario::Lifecycle => Bounds { messages: 1, injections: 1, ..Bounds::default() },
            _ => Bounds::default(),
        }
    }

    /// The bound sets the default check runs `scenario` at, the first of them
    /// [`Bounds::for_scenario`]. `messaging` runs twice, both with two messages per direction
    /// and two injections: A initiating, with B's offline spell (stored delivery); and a key
    /// exchange by each initiator (B initiates, sessions overlap) with B staying online — the
    /// spell changes no safety verdict (model/README.md, "Reductions") and costs an order of
    /// magnitude in states once B initiates too.
    pub fn defaults(scenario: Scenario) -> Vec<Bounds> {
        let first = Bounds::for_scenario(scenario);
        match scenario {
            Scenario::Messaging => vec![first, Bounds { b_sessions: 1, offline_spells: 0, ..first }],
            _ => vec![first],
        }
    }
}

impl fmt::Display for Bounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} key exchange(s) by A, {} by B, {} message(s) per direction, {} injection(s), {} tick(s), {} offline spell(s) of B",
            self.sessions, self.b_sessions, self.messages, self.injections, self.ticks, self.offline_spells
        )
    }
}

/// One clock tick of the model: just past the OTP lifetime, so a tick expires every pending
/// OTP (SPEC.md §5.3 check 4).
pub const TICK_MS: u64 = ee2e_spec::limits::OTP_TTL_MS + 1;

/// One model-checking run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Config {
    /// Protocol profile.
    pub profile: Profile,
    /// Threat model.
    pub threat: Threat,
    /// Scenario.
    pub scenario: Scenario,
    /// Bounds.
    pub bounds: Bounds,
}

impl Config {
    /// The name of this run's scenario in reports: the scenario's, with `-ab` for the
    /// default run of `messaging` in which both A and B initiate ([`Bounds::defaults`]), so
    /// that the two default `messaging` runs have names of their own.
    pub fn label(&self) -> String {
        match Bounds::defaults(self.scenario).iter().position(|b| *b == self.bounds) {
            Some(1) => format!("{}-ab", self.scenario),
            _ => self.scenario.name().to_string(),
        }
    }
}
