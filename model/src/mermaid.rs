//! A [`Story`] as a Mermaid sequence diagram (for Markdown reviews): network deliveries as
//! solid arrows, injections from E, replays dotted, intercepted packets as dotted arrows into
//! E ending in a cross, derivations as notes over E, the breach and the fix as notes across.

use std::fmt::Write as _;

use crate::story::{Entry, Fate, StepKind, Story};

/// Mermaid message text: `#` and `;` are syntax there, so they become entity codes.
fn text(s: &str) -> String {
    s.replace('#', "#35;").replace(';', "#59;").replace('\n', " ")
}

/// Renders `story` as a `sequenceDiagram` titled `title`.
pub fn render(title: &str, story: &Story) -> String {
    let mut out = String::from("sequenceDiagram\n");
    let _ = writeln!(out, "    title {}", text(title));
    for (id, name) in [("A", "A"), ("S", "S (server)"), ("B", "B"), ("E", "E (attacker, the network)")] {
        let _ = writeln!(out, "    participant {id} as {name}");
    }
    let _ =
        writeln!(out, "    Note over E: knows at the start: {}", text(&story.initial_knowledge.join(", ")));
    for entry in &story.entries {
        match entry {
            Entry::Step(s) => {
                let label = text(&format!("{}. {}", s.n, s.text));
                match (&s.packet, s.kind) {
                    (Some(p), StepKind::Deliver) => {
                        let _ = writeln!(out, "    {}->>{}: {label}", p.from, p.to);
                    }
                    (Some(p), StepKind::Replay) => {
                        let _ = writeln!(out, "    E-->>{}: {label}", p.to);
                    }
                    (Some(p), _) => {
                        let _ = writeln!(out, "    E->>{}: {label}", p.to);
                    }
                    (None, _) => {
                        let actor = if s.actor == "network" { "E" } else { s.actor.as_str() };
                        let _ = writeln!(out, "    Note over {actor}: {label}");
                    }
                }
                for sent in s.sent.iter().filter(|sent| sent.fate == Fate::ToAttacker) {
                    let p = &sent.packet;
                    let _ = writeln!(out, "    {}->>E: {} (received by E)", p.from, text(&p.message.text));
                }
                for sent in s.sent.iter().filter(|sent| sent.fate == Fate::Intercepted) {
                    let p = &sent.packet;
                    let _ = writeln!(
                        out,
                        "    {}--xE: {} → {}: {} (intercepted: never delivered)",
                        p.from,
                        p.from,
                        p.to,
                        text(&p.message.text)
                    );
                }
            }
            Entry::Derivation(d) => {
                let _ = writeln!(out, "    Note over E: ↳ {}", text(&d.text));
            }
        }
    }
    if let Some(b) = &story.breach {
        let expected =
            story.expected.as_ref().map_or_else(String::new, |e| format!(" (expected: {})", e.reason));
        let _ = writeln!(
            out,
            "    Note over A,E: ✗ after step {}, {} fails: {}{}",
            b.after_step,
            b.property,
            text(b.sentence),
            text(&expected)
        );
    }
    if let Some(f) = &story.fix {
        let at = match f.how() {
            how if how.is_empty() => String::new(),
            how => format!(": {how}"),
        };
        let _ =
            writeln!(out, "    Note over A,E: ✓ stopped by {} ({}){}", f.erratum, text(f.summary), text(&at));
    }
    out
}
