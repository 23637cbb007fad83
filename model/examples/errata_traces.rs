use ee2e_model::properties::negation;
use ee2e_model::trace::shortest;
use ee2e_model::{Bounds, Config, Ee2eModel, Scenario, Threat};
use ee2e_spec::{Fix, Profile};
use stateright::Model;
fn main() {
    let cases: [(Profile, Scenario, &str, Bounds); 11] = [
        (Profile::SEED, Scenario::Messaging, "key_transport_agreement", Bounds::default()),
        (Profile::SEED, Scenario::Messaging, "ack_authenticity", Bounds::default()),
        (
            Profile::HARDENED.without(Fix::DirectoryBinding),
            Scenario::Messaging,
            "directory_binding",
            Bounds::default(),
        ),
        (
            Profile::HARDENED.without(Fix::TransportBinding),
            Scenario::Messaging,
            "key_transport_agreement",
            Bounds::default(),
        ),
        (
            Profile::HARDENED.without(Fix::TransportReplay),
            Scenario::Messaging,
            "key_transport_agreement",
            Bounds::default(),
        ),
        (
            Profile::HARDENED.without(Fix::EncryptThenMac),
            Scenario::Messaging,
            "message_authenticity",
            Bounds::default(),
        ),
        (
            Profile::HARDENED.without(Fix::ReplayWindow),
            Scenario::Messaging,
            "message_no_replay",
            Bounds::default(),
        ),
        (
            Profile::HARDENED.without(Fix::AckBinding),
            Scenario::Messaging,
            "ack_authenticity",
            Bounds { messages: 2, ..Bounds::default() },
        ),
        (
            Profile::HARDENED.without(Fix::SealedTag),
            Scenario::Registration,
            "registration_binding",
            Bounds::default(),
        ),
        (
            Profile::HARDENED.without(Fix::OtpLimits),
            Scenario::Registration,
            "registration_binding",
            Bounds { injections: 3, ..Bounds::default() },
        ),
        (
            Profile::HARDENED.without(Fix::PossessionProof),
            Scenario::Registration,
            "key_possession",
            Bounds::default(),
        ),
    ];
    for (profile, scenario, prop, bounds) in cases {
        let model = Ee2eModel::new(Config { profile, threat: Threat::Network, scenario, bounds });
        let t = shortest(&model, &[(prop, negation(prop))], 5_000_000).remove(0);
        println!("## {profile} {scenario} {prop}");
        for (i, a) in t.unwrap_or_default().iter().enumerate() {
            println!("  {}. {}", i + 1, model.format_action(a));
        }
    }
}
