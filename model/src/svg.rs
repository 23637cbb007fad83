//! A [`Story`] as an SVG sequence diagram: lifelines A, S, B and the attacker E; one row per
//! step, labels wrapped (the canvas grows to fit, nothing is cut); network deliveries in black,
//! the attacker's injections in red, replays dashed red, intercepted packets dashed orange into
//! E's lifeline; derivations as notes on E's lifeline; a marker at the failing step, the fix,
//! and a legend. Opaque background and a `viewBox`, so that it scales and reads anywhere.

use std::fmt::Write as _;

use crate::story::{ActionStep, Entry, Fate, LEGEND, StepKind, Story};

const COLUMN: u32 = 300;
const MARGIN: u32 = 16;
const WIDTH: u32 = 4 * COLUMN;
/// Line height and an upper bound on the advance of one character of the font used (11 px
/// DejaVu Sans Mono advances 6.6 px).
const LINE: u32 = 14;
const CHAR: u32 = 7;

/// The column of a party named `who`.
fn x(who: &str) -> u32 {
    let column = match who {
        "A" => 0,
        "S" => 1,
        "B" => 2,
        _ => 3,
    };
    COLUMN / 2 + column * COLUMN
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Splits `text` into lines of at most `max` characters, at spaces where it can.
pub fn wrap(text: &str, max: usize) -> Vec<String> {
    let max = max.max(8);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word = word.to_string();
        while word.chars().count() > max {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let head: String = word.chars().take(max).collect();
            word = word.chars().skip(max).collect();
            lines.push(head);
        }
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > max {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// A drawing in progress: the body and the next free row.
struct Canvas {
    body: String,
    y: u32,
}

impl Canvas {
    /// Text lines from `left`, wrapped to the canvas's right edge; returns the lines' height.
    fn text(&mut self, left: u32, text: &str, attrs: &str) -> u32 {
        let max = ((WIDTH - MARGIN - left) / CHAR) as usize;
        let lines = wrap(text, max);
        for line in &lines {
            self.y += LINE;
            let _ = writeln!(self.body, r#"<text x="{left}" y="{}"{attrs}>{}</text>"#, self.y, escape(line));
        }
        lines.len() as u32 * LINE
    }

    /// A note box from `left` to the right edge, with wrapped text.
    fn note(&mut self, left: u32, text: &str, fill: &str, stroke: &str) {
        let top = self.y + 4;
        let max = ((WIDTH - MARGIN - left - 8) / CHAR) as usize;
        let lines = wrap(text, max);
        let height = lines.len() as u32 * LINE + 8;
        let _ = writeln!(
            self.body,
            r#"<rect x="{left}" y="{top}" width="{}" height="{height}" fill="{fill}" stroke="{stroke}"/>"#,
            WIDTH - MARGIN - left
        );
        self.y = top;
        for line in &lines {
            self.y += LINE;
            let _ = writeln!(self.body, r#"<text x="{}" y="{}">{}</text>"#, left + 4, self.y, escape(line));
        }
        self.y = top + height;
    }

    /// An arrow with a wrapped label above it.
    fn arrow(&mut self, from: &str, to: &str, label: &str, stroke: &str, dash: bool) {
        let (x1, x2) = (x(from), x(to));
        self.text(x1.min(x2) + 6, label, &format!(r#" fill="{stroke}""#));
        self.y += 6;
        let dash = if dash { r#" stroke-dasharray="6 3""# } else { "" };
        let marker = match stroke {
            "crimson" => "red",
            "darkorange" => "orange",
            _ => "arrow",
        };
        let _ = writeln!(
            self.body,
            r#"<line x1="{x1}" y1="{}" x2="{x2}" y2="{0}" stroke="{stroke}" stroke-width="1.5"{dash} marker-end="url(#{marker})"/>"#,
            self.y
        );
        self.y += 6;
    }
}

fn step(c: &mut Canvas, s: &ActionStep) {
    let label = format!("{}. {}", s.n, s.text);
    match (&s.packet, s.kind) {
        (Some(p), StepKind::Deliver) => c.arrow(&p.from, &p.to, &label, "black", false),
        (Some(p), StepKind::Replay) => c.arrow("E", &p.to, &label, "crimson", true),
        (Some(p), _) => c.arrow("E", &p.to, &label, "crimson", false),
        (None, _) => {
            // E's own steps go where its derivations go: on its lifeline, with room to read.
            let left = if s.actor == "E" {
                x("B") + 20
            } else {
                x(&s.actor).saturating_sub(8).min(WIDTH - MARGIN - 30 * CHAR)
            };
            c.note(left, &label, "#eef3ff", "#7d95c9");
        }
    }
    for sent in &s.sent {
        let p = &sent.packet;
        let what = format!("{} → {}: {}", p.from, p.to, p.message.text);
        match sent.fate {
            Fate::Intercepted => c.arrow(
                &p.from,
                "E",
                &format!("{what} — intercepted: never delivered, E keeps it"),
                "darkorange",
                true,
            ),
            Fate::Delivered => {
                let at = sent.delivered_at.map_or_else(String::new, |n| format!(" (delivered at step {n})"));
                c.text(x(&p.from).min(x(&p.to)) + 6, &format!("sends {what}{at}"), r##" fill="#555""##);
            }
            Fate::ToAttacker => c.arrow(&p.from, "E", &format!("{what} (received by E)"), "black", false),
            Fate::Replayed => {
                c.text(
                    x(&p.from).min(x(&p.to)) + 6,
                    &format!("sends {what} (only ever replayed by E)"),
                    r##" fill="#555""##,
                );
            }
        }
    }
}

/// Renders `story`; `title` names the property and the run.
pub fn render(title: &str, story: &Story) -> String {
    let mut c = Canvas { body: String::new(), y: 8 };
    c.text(MARGIN, title, r#" font-size="13" font-weight="bold""#);
    c.text(
        MARGIN,
        &format!(
            "profile {} · threat {} · scenario {} · bounds: {}",
            story.profile, story.threat, story.scenario, story.bounds
        ),
        "",
    );
    c.y += 10;
    let heads_y = c.y + LINE;
    c.y += LINE + 8;
    let lifelines_top = c.y;
    c.note(
        x("B") + 20,
        &format!("E knows at the start: {}", story.initial_knowledge.join(", ")),
        "#f4f4f4",
        "#999",
    );
    let mut failing_y = None;
    for entry in &story.entries {
        match entry {
            Entry::Step(s) => {
                let top = c.y;
                step(&mut c, s);
                if story.breach.as_ref().is_some_and(|b| b.after_step == s.n) {
                    failing_y = Some(top);
                }
            }
            Entry::Derivation(d) => c.note(x("B") + 20, &format!("↳ {}", d.text), "#fff8dc", "#c9b458"),
        }
    }
    let lifelines_bottom = c.y + 8;
    c.y += 16;
    if let Some(b) = &story.breach {
        let expected =
            story.expected.as_ref().map_or_else(String::new, |e| format!(" Expected: {}.", e.reason));
        c.note(
            MARGIN,
            &format!("✗ after step {}, {} fails: {}.{expected}", b.after_step, b.property, b.sentence),
            "#ffe4e1",
            "crimson",
        );
    }
    if let Some(f) = &story.fix {
        let at = match f.how() {
            how if how.is_empty() => String::new(),
            how => format!(": {how}"),
        };
        c.note(
            MARGIN,
            &format!("✓ stopped by {} ({}){at} — SPEC.md#{}", f.erratum, f.summary, f.spec.anchor),
            "#e6ffe6",
            "seagreen",
        );
    }
    c.y += 10;
    c.text(MARGIN, "Legend", r#" font-weight="bold""#);
    let legend_top = c.y;
    for (i, (stroke, dash, what)) in [
        ("black", false, "the network delivers a packet"),
        ("crimson", false, "E injects a packet it built"),
        ("crimson", true, "E replays a packet"),
        ("darkorange", true, "an honest packet intercepted: never delivered"),
    ]
    .iter()
    .enumerate()
    {
        let y = legend_top + 10 + i as u32 * LINE;
        let dash = if *dash { r#" stroke-dasharray="6 3""# } else { "" };
        let _ = writeln!(
            c.body,
            r#"<line x1="{MARGIN}" y1="{y}" x2="{}" y2="{y}" stroke="{stroke}" stroke-width="1.5"{dash}/><text x="{}" y="{}">{what}</text>"#,
            MARGIN + 50,
            MARGIN + 60,
            y + 4
        );
    }
    c.y = legend_top + 4 * LINE + 4;
    c.note(
        MARGIN,
        "yellow: what E derives (on E's lifeline) · blue: an honest party's own step · ✗ the failing step",
        "#ffffff",
        "#ffffff",
    );
    for (symbol, meaning) in LEGEND {
        c.text(MARGIN, &format!("{symbol}: {meaning}"), "");
    }
    let height = c.y + MARGIN;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="DejaVu Sans Mono, monospace" font-size="11">"#
    );
    let _ = writeln!(s, "<title>{}</title>", escape(title));
    let _ = writeln!(
        s,
        r#"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/></marker><marker id="red" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="crimson"/></marker><marker id="orange" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="darkorange"/></marker></defs>"#
    );
    let _ = writeln!(s, r#"<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="white"/>"#);
    for (who, name) in [("A", "A"), ("S", "S (server)"), ("B", "B"), ("E", "E (attacker, the network)")] {
        let _ = writeln!(
            s,
            r##"<text x="{}" y="{heads_y}" text-anchor="middle" font-weight="bold">{name}</text><line x1="{0}" y1="{lifelines_top}" x2="{0}" y2="{lifelines_bottom}" stroke="#999" stroke-dasharray="4 3"/>"##,
            x(who)
        );
    }
    s.push_str(&c.body);
    // In the gutter left of A's lifeline, level with the failing step's first line.
    if let Some(y) = failing_y {
        let cx = x("A") - 30;
        let _ = writeln!(
            s,
            r#"<circle cx="{cx}" cy="{}" r="9" fill="crimson"/><text x="{cx}" y="{}" text-anchor="middle" fill="white" font-weight="bold">✗</text>"#,
            y + 9,
            y + 13
        );
    }
    let _ = writeln!(s, "</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrapping_keeps_every_character_within_the_width() {
        let text =
            "attacker injects S → A: KeyDelivery(from B [pk(A)], c=aenc(pk(A), K_A0, 0x), σ=sig(A, K_A0))";
        let lines = wrap(text, 20);
        assert!(lines.iter().all(|l| l.chars().count() <= 20), "{lines:?}");
        assert_eq!(lines.join(" ").replace(' ', ""), text.replace(' ', ""));
        assert_eq!(wrap("", 20), [""]);
    }
}
