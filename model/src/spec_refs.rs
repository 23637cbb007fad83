//! What a counterexample refers to in SPEC.md: the property's sentence (§15), the erratum that
//! stops it (§12, one heading per erratum) and, for violations SPEC.md §14 lists as limits of
//! both profiles, that they are expected.

use ee2e_spec::{Fix, Profile};
use serde::Serialize;

use crate::config::{Config, Scenario, Threat};

/// A section of SPEC.md: its heading and the heading's anchor (GitHub's slug).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecRef {
    /// The heading's text, as in SPEC.md.
    pub heading: String,
    /// The anchor, e.g. `e1--directory-binding` (link `SPEC.md#e1--directory-binding`).
    pub anchor: String,
}

impl SpecRef {
    fn new(heading: &str) -> SpecRef {
        SpecRef { heading: heading.to_string(), anchor: anchor(heading) }
    }
}

/// GitHub's anchor for a Markdown heading: lower case, punctuation other than `-` and `_`
/// dropped, spaces to `-`.
pub fn anchor(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// The heading of erratum `fix` in SPEC.md §12.
pub fn erratum_heading(fix: Fix) -> &'static str {
    match fix {
        Fix::DirectoryBinding => "E1 — directory binding",
        Fix::TransportBinding => "E2 — transport binding",
        Fix::TransportReplay => "E3 — transport replay",
        Fix::EncryptThenMac => "E4 — encrypt-then-MAC with derived keys",
        Fix::ReplayWindow => "E5 — replay window",
        Fix::AckBinding => "E6 — ACK binding",
        Fix::SealedTag => "E7 — sealed registration tag",
        Fix::OtpLimits => "E8 — OTP limits",
        Fix::PossessionProof => "E9 — proof of possession",
    }
}

/// The SPEC.md section of erratum `fix`.
pub fn erratum_ref(fix: Fix) -> SpecRef {
    SpecRef::new(erratum_heading(fix))
}

/// The heading of SPEC.md's limits (§14).
pub const LIMITS_HEADING: &str = "14. Limits";

/// The one-sentence reading of property `name` ([`crate::properties::Definition::sentence`]):
/// for a safety property, what its violation means.
pub fn sentence(name: &str) -> Option<&'static str> {
    crate::properties::get(name).map(|d| d.sentence)
}

/// Why a violation is expected, and where SPEC.md says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expected {
    /// In one line.
    pub reason: String,
    /// The section that says so.
    pub spec: SpecRef,
}

/// The violations SPEC.md §14's sweep table lists for the hardened profile, per threat model
/// and scenario.
fn hardened_limits(threat: Threat, scenario: Scenario) -> &'static [&'static str] {
    const SECRECY_AND_AGREEMENT: [&str; 5] = [
        "session_key_secrecy",
        "message_confidentiality",
        "key_transport_agreement",
        "message_authenticity",
        "ack_authenticity",
    ];
    match (threat, scenario) {
        (Threat::Sms | Threat::Server, Scenario::Registration) => &["registration_binding"],
        (Threat::Sms, Scenario::Lifecycle) => &[
            "registration_binding",
            SECRECY_AND_AGREEMENT[0],
            SECRECY_AND_AGREEMENT[1],
            SECRECY_AND_AGREEMENT[2],
            SECRECY_AND_AGREEMENT[3],
            SECRECY_AND_AGREEMENT[4],
        ],
        (Threat::Server, Scenario::Messaging) => &[
            "directory_binding",
            SECRECY_AND_AGREEMENT[0],
            SECRECY_AND_AGREEMENT[1],
            SECRECY_AND_AGREEMENT[2],
            SECRECY_AND_AGREEMENT[3],
            SECRECY_AND_AGREEMENT[4],
        ],
        (Threat::Server, Scenario::Lifecycle) => &[
            "registration_binding",
            "directory_binding",
            "session_key_secrecy",
            "key_transport_agreement",
            "message_confidentiality",
        ],
        (Threat::Compromise, Scenario::Messaging) => &[
            SECRECY_AND_AGREEMENT[0],
            SECRECY_AND_AGREEMENT[1],
            SECRECY_AND_AGREEMENT[2],
            SECRECY_AND_AGREEMENT[3],
            SECRECY_AND_AGREEMENT[4],
            "message_no_replay",
        ],
        (Threat::Compromise, Scenario::Lifecycle) => &[
            SECRECY_AND_AGREEMENT[0],
            SECRECY_AND_AGREEMENT[1],
            SECRECY_AND_AGREEMENT[2],
            SECRECY_AND_AGREEMENT[3],
            SECRECY_AND_AGREEMENT[4],
            "message_no_replay",
            "key_possession",
        ],
        _ => &[],
    }
}

/// The limit of §14 behind each threat model beyond the network.
fn limit_name(threat: Threat) -> &'static str {
    match threat {
        Threat::Sms => "SMS is the root of identity",
        Threat::Server => "the server is trusted for the directory",
        Threat::Compromise => "no forward secrecy",
        Threat::Network | Threat::Passive => "",
    }
}

/// Whether a violation of `property` in run `config` is one SPEC.md expects: a seed flaw
/// (§14: the seed violates every safety property under every threat but `passive`, and at 2
/// messages `ack_authenticity` there too), a limit of both profiles that §14's table lists,
/// or the work of the erratum a `hardened-without-…` run removes. `None`: unexpected.
pub fn expectation(config: &Config, property: &str) -> Option<Expected> {
    let limits = SpecRef::new(LIMITS_HEADING);
    let profile = config.profile;
    if profile == Profile::SEED {
        let passive_ack = property == "ack_authenticity" && config.bounds.messages >= 2;
        return (config.threat != Threat::Passive || passive_ack).then(|| Expected {
            reason: if passive_ack && config.threat == Threat::Passive {
                "the seed's unbound ACK: reordering alone breaks it at 2 messages (§14)".into()
            } else {
                "a flaw of the seed profile (§14: the seed violates every safety property under this threat)"
                    .into()
            },
            spec: limits,
        });
    }
    if hardened_limits(config.threat, config.scenario).contains(&property) {
        return Some(Expected {
            reason: format!(
                "a limit of both profiles under threat {}: {}",
                config.threat,
                limit_name(config.threat)
            ),
            spec: limits,
        });
    }
    let removed: Vec<Fix> = Fix::ALL.into_iter().filter(|f| !profile.has(*f)).collect();
    (config.threat == Threat::Network && !removed.is_empty()).then(|| Expected {
        reason: format!(
            "the run removes {}: hardened holds every property under threat network",
            removed.iter().map(|f| f.erratum()).collect::<Vec<_>>().join(", ")
        ),
        spec: erratum_ref(removed[0]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Bounds;

    fn config(profile: Profile, threat: Threat, scenario: Scenario) -> Config {
        Config { profile, threat, scenario, bounds: Bounds::for_scenario(scenario) }
    }

    #[test]
    fn anchors_follow_github_slugs() {
        assert_eq!(erratum_ref(Fix::DirectoryBinding).anchor, "e1--directory-binding");
        assert_eq!(erratum_ref(Fix::EncryptThenMac).anchor, "e4--encrypt-then-mac-with-derived-keys");
        assert_eq!(anchor(LIMITS_HEADING), "14-limits");
    }

    #[test]
    fn hardened_under_the_network_is_never_expected_to_fail() {
        for scenario in Scenario::ALL {
            let c = config(Profile::HARDENED, Threat::Network, scenario);
            for p in ["registration_binding", "session_key_secrecy", "ack_authenticity"] {
                assert_eq!(expectation(&c, p), None, "{scenario:?} {p}");
            }
        }
    }

    #[test]
    fn section_14_limits_are_expected_and_others_are_not() {
        let c = config(Profile::HARDENED, Threat::Compromise, Scenario::Messaging);
        assert!(expectation(&c, "session_key_secrecy").is_some_and(|e| e.reason.contains("forward secrecy")));
        assert_eq!(expectation(&c, "directory_binding"), None);
        let c = config(Profile::HARDENED, Threat::Sms, Scenario::Messaging);
        assert_eq!(expectation(&c, "registration_binding"), None);
    }

    #[test]
    fn a_removed_erratum_is_the_expected_cause_under_the_network() {
        let c = config(Profile::HARDENED.without(Fix::AckBinding), Threat::Network, Scenario::Messaging);
        let e = expectation(&c, "ack_authenticity").expect("expected");
        assert_eq!(e.spec.anchor, "e6--ack-binding");
        let seed = config(Profile::SEED, Threat::Passive, Scenario::Messaging);
        assert!(expectation(&seed, "ack_authenticity").is_some());
        assert_eq!(expectation(&seed, "session_key_secrecy"), None);
    }
}
