//! What `ee2e check` runs and how it judges the runs: the configurations a selection of
//! profiles, threat models, scenarios and bounds names, and the pass/fail policy SPEC.md
//! sets (§14, §15). The command line only parses arguments into a [`Plan`] and prints.

use std::str::FromStr;
use std::sync::atomic::Ordering;

use ee2e_spec::{Fix, Profile, UnknownProfile};

use crate::config::{Bounds, Config, Scenario, Threat, UnknownName};
use crate::run::{RunOptions, RunReport, Status};

/// A comma-separated list of profiles: `seed`, `hardened`, `hardened-without-<fix>`, `all`
/// (seed and hardened) and `errata` (hardened with each fix removed in turn).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profiles(pub Vec<Profile>);

impl FromStr for Profiles {
    type Err = UnknownProfile;

    fn from_str(text: &str) -> Result<Profiles, UnknownProfile> {
        let mut out = Vec::new();
        for part in text.split(',') {
            match part {
                "all" => out.extend([Profile::SEED, Profile::HARDENED]),
                "errata" => out.extend(Fix::ALL.map(|f| Profile::HARDENED.without(f))),
                name => out.push(name.parse()?),
            }
        }
        Ok(Profiles(out))
    }
}

/// A comma-separated list of threat models, or `all`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Threats(pub Vec<Threat>);

impl FromStr for Threats {
    type Err = UnknownName;

    fn from_str(text: &str) -> Result<Threats, UnknownName> {
        if text == "all" {
            return Ok(Threats(Threat::ALL.to_vec()));
        }
        text.split(',').map(str::parse).collect::<Result<_, _>>().map(Threats)
    }
}

/// A comma-separated list of scenarios, or `all`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenarios(pub Vec<Scenario>);

impl FromStr for Scenarios {
    type Err = UnknownName;

    fn from_str(text: &str) -> Result<Scenarios, UnknownName> {
        if text == "all" {
            return Ok(Scenarios(Scenario::ALL.to_vec()));
        }
        text.split(',').map(str::parse).collect::<Result<_, _>>().map(Scenarios)
    }
}

/// Bounds given on the command line, each over a scenario's default ([`Bounds::for_scenario`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct BoundOverrides {
    /// Key exchanges A may start (each with B or E) [default: 1].
    #[cfg_attr(feature = "clap", arg(long))]
    pub sessions: Option<u8>,
    /// Key exchanges B may start (each with A or E) [default: 0; `check`'s `messaging` also
    /// runs once with 1 and B online throughout, as `messaging-ab`]. In `check`, any bound
    /// flag replaces the default runs by one run at the given bounds.
    #[cfg_attr(feature = "clap", arg(long))]
    pub b_sessions: Option<u8>,
    /// Messages per direction [default: 2; 1 in `lifecycle`].
    #[cfg_attr(feature = "clap", arg(long))]
    pub messages: Option<u8>,
    /// Messages the attacker may build, alter or replay [default: 2; 1 in `lifecycle`].
    #[cfg_attr(feature = "clap", arg(long))]
    pub injections: Option<u8>,
    /// Clock ticks, each just past the OTP lifetime (scenarios `registration`, `lifecycle`)
    /// [default: 1].
    #[cfg_attr(feature = "clap", arg(long))]
    pub ticks: Option<u8>,
    /// Offline spells of B, 0 or 1 (scenarios `messaging`, `lifecycle`) [default: 1; 0 in
    /// `messaging-ab`]. A spell exercises stored delivery and changes no safety verdict.
    #[cfg_attr(feature = "clap", arg(long, value_parser = clap::value_parser!(u8).range(0..=1)))]
    pub offline_spells: Option<u8>,
}

impl BoundOverrides {
    /// Whether no bound is given.
    pub fn is_empty(&self) -> bool {
        *self == BoundOverrides::default()
    }

    /// `base` with every given bound replaced.
    pub fn over(&self, base: Bounds) -> Bounds {
        Bounds {
            sessions: self.sessions.unwrap_or(base.sessions),
            b_sessions: self.b_sessions.unwrap_or(base.b_sessions),
            messages: self.messages.unwrap_or(base.messages),
            injections: self.injections.unwrap_or(base.injections),
            ticks: self.ticks.unwrap_or(base.ticks),
            offline_spells: self.offline_spells.unwrap_or(base.offline_spells),
        }
    }
}

/// What a `check` runs: every combination of its profiles, threats, scenarios and bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The profiles.
    pub profiles: Vec<Profile>,
    /// The threat models.
    pub threats: Vec<Threat>,
    /// The scenarios.
    pub scenarios: Vec<Scenario>,
    /// The bounds given.
    pub bounds: BoundOverrides,
}

impl Plan {
    /// The bounds `scenario` runs at: the scenario's default sets ([`Bounds::defaults`]) when
    /// no bound is given; otherwise one set, the given bounds over the scenario's first default.
    pub fn bounds_for(&self, scenario: Scenario) -> Vec<Bounds> {
        if self.bounds.is_empty() {
            return Bounds::defaults(scenario);
        }
        vec![self.bounds.over(Bounds::for_scenario(scenario))]
    }

    /// The configurations, in report order (threat, scenario, bounds, profile).
    pub fn configs(&self) -> Vec<Config> {
        let mut out = Vec::new();
        for &threat in &self.threats {
            for &scenario in &self.scenarios {
                for bounds in self.bounds_for(scenario) {
                    for &profile in &self.profiles {
                        out.push(Config { profile, threat, scenario, bounds });
                    }
                }
            }
        }
        out
    }

    /// Runs every configuration (stopping early, cleanly, once `options.interrupt` is set)
    /// and judges the whole.
    pub fn run(&self, options: &RunOptions) -> (Vec<(Config, RunReport)>, Outcome) {
        let mut runs = Vec::new();
        for config in self.configs() {
            if options.interrupt.load(Ordering::Relaxed) {
                break;
            }
            runs.push((config, crate::run::run_with(config, options)));
        }
        let interrupted = options.interrupt.load(Ordering::Relaxed);
        let outcome = outcome(&runs, interrupted);
        (runs, outcome)
    }
}

/// How a whole `check` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every verdict is the one SPEC.md expects (hardened holds everything under `network`)
    /// and every sometimes-property is witnessed.
    Ok,
    /// A verdict the reference does not expect, or a sometimes-property not witnessed.
    Failed,
    /// The bounds cannot exercise some property (decided from them before checking): no
    /// verdict on it.
    NotExercisable,
    /// Some run stopped at a limit or was interrupted: no verdict.
    Incomplete,
}

/// The outcome of `runs`. A failure outranks an incomplete run (what did run already failed),
/// which outranks a property not exercised (an incomplete run has no verdict at all).
pub fn outcome(runs: &[(Config, RunReport)], interrupted: bool) -> Outcome {
    let incomplete = interrupted || runs.iter().any(|(_, r)| !r.complete);
    let ok = runs.iter().all(|(config, report)| {
        let sometimes_ok =
            report.properties.iter().all(|p| !(p.kind == "sometimes" && p.status == Status::NotWitnessed));
        sometimes_ok && unexpected_violations(config, report).is_empty()
    });
    // A property counts as not exercised only where no run of the same profile, threat and
    // scenario exercises it: the default `messaging-ab` run keeps B online, and stored
    // delivery is the first `messaging` run's.
    let exercised_elsewhere = |config: &Config, name: &str| {
        runs.iter().any(|(c, r)| {
            (c.profile, c.threat, c.scenario) == (config.profile, config.threat, config.scenario)
                && r.properties.iter().any(|p| p.name == name && p.status != Status::NotExercised)
        })
    };
    let unexercisable = runs.iter().any(|(c, r)| {
        r.properties.iter().any(|p| p.status == Status::NotExercised && !exercised_elsewhere(c, p.name))
    });
    if !ok {
        Outcome::Failed
    } else if incomplete {
        Outcome::Incomplete
    } else if unexercisable {
        Outcome::NotExercisable
    } else {
        Outcome::Ok
    }
}

/// The violations of `report` that SPEC.md does not expect (see
/// [`crate::spec_refs::expectation`]): hardened's under the network, and any not listed in
/// §14 under the other threats. Each fails the check.
pub fn unexpected_violations(config: &Config, report: &RunReport) -> Vec<&'static str> {
    report
        .properties
        .iter()
        .filter(|p| p.status == Status::Violated && crate::spec_refs::expectation(config, p.name).is_none())
        .map(|p| p.name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_with_all_and_errata_and_reject_unknown_names() {
        assert_eq!("all".parse::<Profiles>().unwrap().0, [Profile::SEED, Profile::HARDENED]);
        let errata = "errata".parse::<Profiles>().unwrap().0;
        assert_eq!(errata.len(), Fix::ALL.len());
        assert!(errata.iter().all(|p| *p != Profile::HARDENED && *p != Profile::SEED));
        assert_eq!(
            "seed,hardened-without-E1".parse::<Profiles>().unwrap().0,
            [Profile::SEED, Profile::HARDENED.without(Fix::DirectoryBinding)]
        );
        assert_eq!("hardend".parse::<Profiles>(), Err(UnknownProfile("hardend".into())));
        assert_eq!("all".parse::<Threats>().unwrap().0, Threat::ALL);
        assert_eq!("sms,server".parse::<Threats>().unwrap().0, [Threat::Sms, Threat::Server]);
        let e = "network,dns".parse::<Threats>().unwrap_err();
        assert_eq!((e.what, e.name.as_str()), ("threat model", "dns"));
        assert_eq!("all".parse::<Scenarios>().unwrap().0, Scenario::ALL);
        assert!("messages".parse::<Scenarios>().is_err());
    }

    #[test]
    fn one_given_bound_replaces_the_default_runs_by_one() {
        let mut plan = Plan {
            profiles: vec![Profile::SEED, Profile::HARDENED],
            threats: vec![Threat::Network],
            scenarios: vec![Scenario::Messaging, Scenario::Lifecycle],
            bounds: BoundOverrides::default(),
        };
        // messaging runs twice by default (messaging and messaging-ab), lifecycle once.
        assert_eq!(plan.configs().len(), 2 * (2 + 1));
        plan.bounds.injections = Some(3);
        let configs = plan.configs();
        assert_eq!(configs.len(), 2 * 2);
        assert!(configs.iter().all(|c| c.bounds.injections == 3));
        // The other bounds are the scenario's own defaults.
        let lifecycle = configs.iter().find(|c| c.scenario == Scenario::Lifecycle).unwrap();
        assert_eq!(lifecycle.bounds.messages, Bounds::for_scenario(Scenario::Lifecycle).messages);
    }
}
