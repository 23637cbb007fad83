//! Stories of the seed's counterexamples: what the attacker knew, what it intercepted, how it
//! derived the secret, and SVG renderings that a real SVG library parses and draws inside
//! their canvas.

use ee2e_model::report::{DerivationRule, Fate, StepKind, Story, tell};
use ee2e_model::report::{LIMITS_HEADING, anchor, erratum_ref};
use ee2e_model::run::{Status, run};
use ee2e_model::{Bounds, Config, Ee2eModel, Scenario, Threat};
use ee2e_spec::{Fix, Profile};

fn seed(scenario: Scenario) -> Config {
    let bounds = Bounds { messages: 1, ..Bounds::for_scenario(scenario) };
    Config { profile: Profile::SEED, threat: Threat::Network, scenario, bounds }
}

/// Every counterexample of a seed run, as stories.
fn stories(config: Config) -> Vec<(String, Story)> {
    let report = run(config, 2);
    let model = Ee2eModel::new(config).without_reduction();
    report
        .properties
        .iter()
        .filter(|p| p.status == Status::Violated)
        .map(|p| {
            let actions = p.path.clone().expect("a counterexample has a path").into_actions();
            (p.name.to_string(), tell(&model, &actions, Some(p.name)).expect("the trace runs in the model"))
        })
        .collect()
}

fn story_of<'a>(stories: &'a [(String, Story)], property: &str) -> &'a Story {
    &stories.iter().find(|(p, _)| p == property).unwrap_or_else(|| panic!("{property} is violated")).1
}

#[test]
fn session_key_secrecy_shows_the_intercepted_transport_and_its_decryption() {
    let all = stories(seed(Scenario::Messaging));
    let s = story_of(&all, "session_key_secrecy");
    assert!(s.initial_knowledge.contains(&"sk(E)".to_string()), "{:?}", s.initial_knowledge);
    assert!(s.initial_knowledge.contains(&"sig(S, pk(E))".to_string()), "{:?}", s.initial_knowledge);
    let steps: Vec<_> = s.steps().collect();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[1].kind, StepKind::Inject);
    // A's lookup and A's key transport to (what it takes for) B: E keeps both.
    let a_request = &steps[0].sent[0];
    assert_eq!((a_request.packet.message.kind.as_str(), a_request.fate), ("KeyRequest", Fate::Intercepted));
    let transport =
        steps[1].sent.iter().find(|s| s.packet.message.kind == "KeyTransport").expect("A's transport");
    assert_eq!(transport.fate, Fate::Intercepted);
    assert_eq!((transport.packet.from.as_str(), transport.packet.to.as_str()), ("A", "S"));
    let field =
        |name: &str| transport.packet.message.fields.iter().find(|f| f.name == name).map(|f| f.value.clone());
    assert_eq!(field("to").as_deref(), Some("B"));
    assert!(field("ciphertext").is_some_and(|c| c.starts_with("aenc(pk(E), K_A0")), "{transport:?}");
    let d = s.derivations().find(|d| d.term == "K_A0").expect("E derives K_A0");
    assert_eq!((d.after_step, d.rule, d.key.as_deref()), (2, DerivationRule::Decrypt, Some("sk(E)")));
    assert!(d.from.as_deref().is_some_and(|c| c.starts_with("aenc(pk(E), K_A0")), "{d:?}");
    let breach = s.breach.as_ref().expect("a counterexample");
    assert_eq!((breach.property.as_str(), breach.after_step), ("session_key_secrecy", 2));
    assert!(s.expected.is_some(), "a seed flaw is expected (SPEC.md §14)");
}

#[test]
fn registration_binding_shows_the_online_guess_and_the_submission_it_confirms() {
    let all = stories(seed(Scenario::Registration));
    let s = story_of(&all, "registration_binding");
    let guess = s.derivations().find(|d| d.rule == DerivationRule::GuessOnline).expect("an online guess");
    assert!(guess.term.starts_with("otp_S"), "{guess:?}");
    let step = s.steps().find(|st| st.n == guess.after_step).expect("the step");
    assert_eq!(step.kind, StepKind::GuessOnline);
    // The step shows the submission E guesses with; it is E's own, not an intercepted send.
    let packet = step.packet.as_ref().expect("the guessing step has its submission");
    assert_eq!(packet.message.kind, "RegisterSubmit");
    assert!(step.sent.iter().all(|p| p.packet.message.kind != "RegisterSubmit"), "{:?}", step.sent);
}

/// Where the attempt limit stops online guessing but the tag travels in clear (hardened
/// without E7), the story shows the offline guess and the verifier it used.
#[test]
fn registration_binding_without_the_sealed_tag_shows_the_offline_guess_and_its_verifier() {
    let config =
        Config { profile: Profile::HARDENED.without(Fix::SealedTag), ..seed(Scenario::Registration) };
    let all = stories(config);
    let s = story_of(&all, "registration_binding");
    let guess = s.derivations().find(|d| d.rule == DerivationRule::GuessOffline).expect("an offline guess");
    assert!(guess.term.starts_with("otp_S"), "{guess:?}");
    assert!(guess.from.as_deref().is_some_and(|v| v.starts_with("hmac(pbkdf2(otp_S")), "{guess:?}");
    // The step that guesses is the one the derivation follows.
    let step = s.steps().find(|st| st.n == guess.after_step).expect("the step");
    assert_eq!(step.kind, StepKind::GuessOffline);
}

#[test]
fn a_trace_that_does_not_run_is_an_error() {
    let config = seed(Scenario::Messaging);
    let model = Ee2eModel::new(config).without_reduction();
    // A has no OTP in its SMS inbox: it registered at set-up.
    let err = tell(
        &model,
        &[ee2e_model::Action::StartSession { from: 1, peer: 2 }, ee2e_model::Action::EnterOtp(1)],
        None,
    )
    .unwrap_err();
    assert_eq!(
        err,
        ee2e_model::report::StoryError::StepRejected {
            step: 2,
            action: "A enters the OTP from its SMS".into()
        }
    );
}

/// SPEC.md has the headings the stories link to.
#[test]
fn spec_has_a_heading_for_every_erratum_and_the_limits() {
    let spec =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/SPEC.md")).expect("SPEC.md");
    let anchors: Vec<String> = spec
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|l| anchor(l.trim_start_matches('#').trim()))
        .collect();
    for fix in Fix::ALL {
        let r = erratum_ref(fix);
        assert!(anchors.contains(&r.anchor), "SPEC.md has no heading {:?}", r.heading);
    }
    assert!(anchors.contains(&anchor(LIMITS_HEADING)));
}

/// A parsed SVG's text, laid out with the machine's fonts, lies within its canvas; the
/// background is opaque.
fn check_svg(name: &str, svg: &str) {
    let mut options = resvg::usvg::Options::default();
    options.fontdb_mut().load_system_fonts();
    assert!(!options.fontdb.is_empty(), "no system fonts: text cannot be laid out");
    let tree = resvg::usvg::Tree::from_str(svg, &options).unwrap_or_else(|e| panic!("{name}: {e}"));
    let (w, h) = (tree.size().width(), tree.size().height());
    let mut texts = 0;
    let mut stack = vec![tree.root()];
    while let Some(group) = stack.pop() {
        for node in group.children() {
            match node {
                resvg::usvg::Node::Group(g) => stack.push(g),
                resvg::usvg::Node::Text(t) => {
                    texts += 1;
                    let b = t.abs_bounding_box();
                    assert!(
                        b.left() >= 0.0 && b.top() >= 0.0 && b.right() <= w && b.bottom() <= h,
                        "{name}: text {:?} at {b:?} outside {w}×{h}",
                        t.chunks().first().map(|c| c.text())
                    );
                }
                _ => {}
            }
        }
    }
    assert!(texts > 10, "{name}: only {texts} text nodes");
    let mut pixmap = resvg::tiny_skia::Pixmap::new(w.ceil() as u32, h.ceil() as u32).expect("pixmap");
    resvg::render(&tree, resvg::tiny_skia::Transform::default(), &mut pixmap.as_mut());
    assert!(pixmap.pixels().iter().all(|p| p.alpha() == 255), "{name}: transparent pixels");
}

/// A path that breaks nothing (the Explorer's) renders without a breach marker.
#[test]
fn an_honest_path_renders_without_a_breach() {
    let config = seed(Scenario::Messaging);
    let model = Ee2eModel::new(config).without_reduction();
    let story = tell(&model, &[ee2e_model::Action::StartSession { from: 1, peer: 2 }], None).expect("runs");
    assert_eq!((story.breach.clone(), story.expected.clone()), (None, None));
    let svg = ee2e_model::report::svg("EE2E seed / network / messaging", &story);
    check_svg("honest path", &svg);
    assert!(!svg.contains("<circle") && !svg.contains(" fails: "), "{svg}");
    assert!(svg.contains("1. A starts a session with B"), "{svg}");
}

#[test]
fn every_seed_counterexample_renders_inside_its_canvas() {
    let mut svgs: Vec<(String, String)> = Vec::new();
    for scenario in [Scenario::Registration, Scenario::Messaging] {
        for (property, story) in stories(seed(scenario)) {
            let title = format!("{property} violated — seed / network / {}", scenario.name());
            let svg = ee2e_model::report::svg(&title, &story);
            assert!(svg.contains("viewBox=\"0 0 "), "{svg}");
            assert!(svg.contains(&property), "the title names the property");
            check_svg(&property, &svg);
            svgs.push((property, svg));
        }
    }
    assert!(svgs.len() >= 9, "{}", svgs.len());
    for (i, (p, a)) in svgs.iter().enumerate() {
        for (q, b) in &svgs[i + 1..] {
            assert_ne!(a, b, "{p} and {q} render identically");
        }
    }
}
