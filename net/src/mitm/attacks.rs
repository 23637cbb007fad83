//! Which of the model's attacks the proxy plays, and where their traces come from.
//!
//! A proxy is the network and nothing else: it can hold, drop, delay, replay, relabel and
//! inject frames built from what it saw. It has no registered identity of its own, no SMS
//! and no leaked key, and it judges a step only by what the parties answer. So it plays the
//! attacks whose shortest seed trace (at the default bounds, as `ee2e check` finds it) is
//! pure network manipulation between A, B and S; the others are refused with the reason.

use ee2e_model::run::{TRACE_SEARCH_LIMIT, shortest_trace};
use ee2e_model::{Bounds, Config, Scenario, Threat};
use ee2e_replay::{Attack, live_supported};
use ee2e_spec::Profile;

use super::MitmError;

/// The properties `ee2e mitm` attacks, each with the scenario whose shortest seed trace it
/// plays.
pub const SUPPORTED: [(&str, Scenario); 2] =
    [("message_no_replay", Scenario::Messaging), ("message_authenticity", Scenario::Lifecycle)];

/// Why the proxy does not play `property`'s attack, if it does not.
pub fn unsupported(property: &str) -> Option<&'static str> {
    const OWN_ENTRY: &str = "every shortest trace injects E's own directory entry (PeerKey(B, pk(E), sig(S, pk(E)))): it needs the attacker's own registration";
    Some(match property {
        p if SUPPORTED.iter().any(|(s, _)| *s == p) => return None,
        "registration_binding" => {
            "its shortest traces guess an OTP (online: up to 10^6 submissions; offline: a brute force of an observed verifier), not network manipulation"
        }
        "key_possession" => {
            "it needs the attacker's own registration: E asks for an OTP for its own phone and receives it by SMS"
        }
        "directory_binding"
        | "session_key_secrecy"
        | "key_transport_agreement"
        | "message_confidentiality" => OWN_ENTRY,
        "ack_authenticity" => {
            "the messaging trace needs E's own directory entry, and the lifecycle trace ends with B accepting an ACK, which a client does without answering: its acceptance is not visible on the wire"
        }
        _ => "it is not a safety property of SPEC.md §15 (only those have attacks)",
    })
}

/// The seed attack on `property` the proxy plays: the model's shortest counterexample in
/// its scenario at the default bounds.
///
/// # Errors
/// [`MitmError::Unsupported`] for a property the proxy does not attack;
/// [`MitmError::NoTrace`] if the model finds no counterexample (or one the proxy cannot play).
pub fn attack(property: &str) -> Result<Attack, MitmError> {
    if let Some(reason) = unsupported(property) {
        return Err(MitmError::Unsupported { property: property.to_string(), reason });
    }
    let (name, scenario) =
        SUPPORTED.into_iter().find(|(p, _)| *p == property).expect("a supported property is listed");
    let config = Config {
        profile: Profile::SEED,
        threat: Threat::Network,
        scenario,
        bounds: Bounds::for_scenario(scenario),
    };
    let actions = shortest_trace(config, name, TRACE_SEARCH_LIMIT)
        .ok_or_else(|| MitmError::NoTrace(format!("the model finds no counterexample of {name}")))?;
    let attack = Attack { property: name, config, actions };
    live_supported(&attack)
        .map_err(|why| MitmError::NoTrace(format!("the shortest trace of {name}: {why}")))?;
    Ok(attack)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_safety_property_is_either_played_or_refused_with_a_reason() {
        for def in
            ee2e_model::properties::ALL.iter().filter(|d| d.kind == ee2e_model::properties::Kind::Always)
        {
            let played = SUPPORTED.iter().any(|(p, _)| *p == def.name);
            assert_eq!(unsupported(def.name).is_none(), played, "{}", def.name);
        }
        assert!(matches!(attack("key_possession"), Err(MitmError::Unsupported { .. })));
        assert!(matches!(attack("message_delivered"), Err(MitmError::Unsupported { .. })));
    }
}
