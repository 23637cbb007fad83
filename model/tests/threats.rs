//! What the model finds under the other threat models (SPEC.md §14): the limits of both
//! profiles, as attacks the model must find, and the guarantees that survive.

use ee2e_model::properties::negation;
use ee2e_model::run::{Status, run};
use ee2e_model::symbolic::shortest;
use ee2e_model::{Bounds, Config, Ee2eModel, Scenario, Threat};
use ee2e_spec::Profile;

fn config(profile: Profile, threat: Threat, scenario: Scenario) -> Config {
    Config { profile, threat, scenario, bounds: Bounds::for_scenario(scenario) }
}

fn attack_found(config: Config, property: &'static str) -> bool {
    shortest(&Ee2eModel::new(config), &[(property, negation(property).expect("a property"))], 3_000_000)
        .remove(0)
        .is_some()
}

#[test]
fn passive_attacker_breaks_nothing_in_either_profile() {
    for profile in [Profile::SEED, Profile::HARDENED] {
        for scenario in Scenario::ALL {
            let r = run(config(profile, Threat::Passive, scenario), 2);
            for p in r.properties.iter().filter(|p| p.kind != "covers") {
                // At two messages per direction the seed's ACK, which names no message, lies
                // without any attacker: the network delivers A's messages out of order, B's ACK
                // of the second is taken for the first (the oldest outstanding), which B has not
                // accepted yet. A finding of the default bounds, not of the attacker.
                if profile == Profile::SEED && scenario == Scenario::Messaging && p.name == "ack_authenticity"
                {
                    assert_eq!(p.status, Status::Violated, "{scenario}: the seed's ACK reordering");
                    continue;
                }
                assert!(
                    matches!(p.status, Status::Holds | Status::Witnessed),
                    "{profile} {scenario}: {} {:?}",
                    p.name,
                    p.status
                );
            }
        }
    }
}

#[test]
fn sms_reader_registers_its_key_for_the_victim_even_in_hardened() {
    let c = config(Profile::HARDENED, Threat::Sms, Scenario::Registration);
    assert!(attack_found(c, "registration_binding"));
    let r = run(c, 2);
    assert_eq!(r.property("key_possession").map(|p| p.status), Some(Status::Holds));
}

#[test]
fn server_key_holder_substitutes_keys_even_in_hardened() {
    for property in ["directory_binding", "session_key_secrecy", "message_confidentiality"] {
        assert!(
            attack_found(config(Profile::HARDENED, Threat::Server, Scenario::Messaging), property),
            "{property}"
        );
    }
}

#[test]
fn leaked_long_term_key_reveals_past_sessions_even_in_hardened() {
    // No forward secrecy: B's key, leaked after the exchange, decrypts the recorded transport.
    for property in ["session_key_secrecy", "message_confidentiality"] {
        assert!(
            attack_found(config(Profile::HARDENED, Threat::Compromise, Scenario::Messaging), property),
            "{property}"
        );
    }
}

#[test]
fn sms_reader_takes_over_a_phone_and_every_later_session_with_it_even_in_hardened() {
    // Across phases (scenario lifecycle): B re-registers, the attacker reads B's OTP and
    // registers its own key for B's phone first; A's next session "with B" is with E.
    let c = config(Profile::HARDENED, Threat::Sms, Scenario::Lifecycle);
    for property in ["registration_binding", "session_key_secrecy", "message_confidentiality"] {
        assert!(attack_found(c, property), "{property}");
    }
    // Impersonating B to A (a forged transport or message under the stolen entry) is one
    // injection more.
    let c = Config { bounds: Bounds { injections: 2, ..c.bounds }, ..c };
    for property in ["key_transport_agreement", "message_authenticity", "ack_authenticity"] {
        assert!(attack_found(c, property), "{property}");
    }
}

#[test]
fn leaked_key_is_registered_under_the_attackers_phone_even_in_hardened() {
    // Under compromise the proof of possession (E2) cannot help: E holds sk(B) and signs it.
    let bounds = Bounds { injections: 2, ..Bounds::for_scenario(Scenario::Lifecycle) };
    let c = Config {
        profile: Profile::HARDENED,
        threat: Threat::Compromise,
        scenario: Scenario::Lifecycle,
        bounds,
    };
    assert!(attack_found(c, "key_possession"));
}
