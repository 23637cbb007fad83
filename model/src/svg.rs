//! Counterexamples as SVG sequence diagrams: lifelines A, S, B and the attacker E, one row per
//! step; honest deliveries in black, the attacker's injections and replays in red.

use std::fmt::Write as _;

use crate::config::{A, B, E, SERVER};
use crate::model::Action;
use crate::state::{Hop, Packet};
use crate::term::Party;

const COLUMN: u32 = 260;
const ROW: u32 = 44;
const TOP: u32 = 60;

fn x(p: Party) -> u32 {
    let column = match p {
        A => 0,
        SERVER => 1,
        B => 2,
        _ => 3,
    };
    COLUMN / 2 + column * COLUMN
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

fn ends(packet: &Packet) -> (Party, Party) {
    match packet.hop {
        Hop::ToServer { from } => (from, SERVER),
        Hop::ToClient { to } => (SERVER, to),
    }
}

/// Renders the actions of a trace; `title` names the property and run.
pub fn sequence_diagram(
    title: &str,
    actions: &[Action],
    describe_action: impl Fn(&Action) -> String,
) -> String {
    // A chain of reduced steps is drawn step by step.
    let actions: Vec<Action> = actions.iter().cloned().flat_map(Action::steps).collect();
    let actions = actions.as_slice();
    let width = 4 * COLUMN;
    let height = TOP + ROW * (actions.len() as u32 + 1) + 20;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="monospace" font-size="11">"#
    );
    let _ = writeln!(
        s,
        r#"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/></marker><marker id="red" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="crimson"/></marker></defs>"#
    );
    let _ = writeln!(s, r#"<text x="10" y="18" font-size="13" font-weight="bold">{}</text>"#, escape(title));
    for (p, name) in [(A, "A"), (SERVER, "S (server)"), (B, "B"), (E, "E (attacker, the network)")] {
        let _ = writeln!(
            s,
            r##"<text x="{}" y="{}" text-anchor="middle" font-weight="bold">{name}</text><line x1="{0}" y1="{}" x2="{0}" y2="{}" stroke="#999" stroke-dasharray="4 3"/>"##,
            x(p),
            TOP - 14,
            TOP - 8,
            height - 10
        );
    }
    for (i, action) in actions.iter().enumerate() {
        let y = TOP + ROW * (i as u32 + 1);
        let label = escape(&shorten(&format!("{}. {}", i + 1, describe_action(action)), 70));
        let arrow = |s: &mut String, from: Party, to: Party, red: bool, dashed: bool, text: &str| {
            let (x1, x2) = (x(from), x(to));
            let (stroke, marker) = if red { ("crimson", "red") } else { ("black", "arrow") };
            let dash = if dashed { r#" stroke-dasharray="6 3""# } else { "" };
            let _ = writeln!(
                s,
                r#"<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{stroke}"{dash} marker-end="url(#{marker})"/><text x="{}" y="{}" fill="{stroke}">{text}</text>"#,
                x1.min(x2) + 6,
                y - 5
            );
        };
        let note = |s: &mut String, who: Party, text: &str| {
            let _ = writeln!(
                s,
                r##"<rect x="{}" y="{}" width="{}" height="18" fill="#fff8dc" stroke="#c9b458"/><text x="{}" y="{}">{text}</text>"##,
                x(who) - 8,
                y - 13,
                (text.chars().count() as u32 * 7).min(COLUMN * 3),
                x(who) - 4,
                y
            );
        };
        match action {
            Action::Deliver(p) => {
                let (from, to) = ends(p);
                arrow(&mut s, from, to, false, false, &label);
            }
            Action::Replay(p) => {
                let (_, to) = ends(p);
                arrow(&mut s, E, to, true, true, &label);
            }
            Action::Inject(p, _) => {
                let (_, to) = ends(p);
                arrow(&mut s, E, to, true, false, &label);
            }
            Action::Register(c) | Action::EnterOtp(c) => note(&mut s, *c, &label),
            Action::StartSession { from, .. } | Action::Send { from, .. } => note(&mut s, *from, &label),
            Action::GoOffline | Action::GoOnline => note(&mut s, B, &label),
            Action::ForgeError { to, .. } => arrow(&mut s, E, *to, true, false, &label),
            Action::Tick => note(&mut s, crate::config::SERVER, &label),
            Action::GuessOnline(_) | Action::GuessOffline(_) | Action::Compromise => note(&mut s, E, &label),
            Action::Chain(_) => {} // flattened above
        }
    }
    let _ = writeln!(s, "</svg>");
    s
}
