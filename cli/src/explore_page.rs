//! The Explorer's HTML: one page per state, rendered on the server from
//! [`ee2e_model::view::StateView`] (no script: links are plain URLs, so a state's address is
//! its URL and any browser, headless or not, shows the same text).

use std::fmt::Write as _;

use ee2e_model::view::StateView;

/// HTML-escapes `text`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The URL path of the state at `path`.
pub fn steps_url(path: &[usize]) -> String {
    let mut url = String::from("/steps");
    for i in path {
        let _ = write!(url, "/{i}");
    }
    url
}

const STYLE: &str = "body{font-family:sans-serif;margin:1em 2em;background:#fafafa;color:#222}\
pre{background:#fff;border:1px solid #ccc;padding:.5em;white-space:pre-wrap}\
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}\
tr.violated td{background:#fdd;font-weight:bold}tr.witnessed td{background:#dfd}\
tr.not_exercisable td{color:#777;font-style:italic}\
li.attacker a{color:#a00}.changes{color:#a00;font-size:90%}.svg{overflow-x:auto;background:#fff}";

fn status_text(status: &str) -> &'static str {
    match status {
        "violated" => "VIOLATED",
        "holds" => "holds",
        "witnessed" => "witnessed",
        "not_witnessed" => "not witnessed (yet)",
        _ => "not exercisable at these bounds",
    }
}

/// The page of one state. `title` names the configuration and its bounds.
pub fn page(title: &str, bounds: &str, view: &StateView) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t} — step {n}</title>\
         <style>{STYLE}</style></head><body><h1>EE2E Explorer: {t}</h1><p>Bounds: {b}. \
         <a href=\"/steps\">initial state</a> · <a href=\"/api{u}\">this state as JSON</a></p>",
        t = escape(title),
        n = view.path.len(),
        b = escape(bounds),
        u = steps_url(&view.path),
    );

    let _ = write!(out, "<h2>Path ({} steps)</h2><ol id=\"path\">", view.steps.len());
    for (i, step) in view.steps.iter().enumerate() {
        let _ = write!(out, "<li><a href=\"{}\">{}</a></li>", steps_url(&view.path[..=i]), escape(step));
    }
    out.push_str("</ol>");

    out.push_str(
        "<h2>Properties in this state</h2><p>Judged on this state, as <code>ee2e check</code> \
         judges it; the last column opens <code>check</code>'s shortest trace.</p><table id=\"properties\">\
         <tr><th>property</th><th>kind</th><th>in this state</th><th>check's shortest trace</th></tr>",
    );
    for p in &view.properties {
        let link = match p.kind {
            "always" => "counterexample",
            "sometimes" => "witness",
            _ => "example",
        };
        let trace = if p.why.is_some() {
            escape(p.why.unwrap_or_default())
        } else {
            format!("<a href=\"/trace/{n}\">{link}</a>", n = escape(p.name))
        };
        let _ = write!(
            out,
            "<tr class=\"{s}\" data-property=\"{n}\" data-status=\"{s}\"><td>{n}</td><td>{k}</td><td>{st}</td><td>{trace}</td></tr>",
            s = p.status,
            n = escape(p.name),
            k = p.kind,
            st = status_text(p.status),
        );
    }
    out.push_str("</table>");

    let _ = write!(out, "<h2>State</h2><pre id=\"state\">{}</pre>", escape(&view.state));
    if let Some(svg) = &view.svg {
        // Our own diagram (model/src/svg.rs), built from escaped text.
        let _ = write!(out, "<h2>Sequence</h2><div class=\"svg\">{svg}</div>");
    }

    let (taken, rejected): (Vec<_>, Vec<_>) = view.next.iter().partition(|n| n.taken);
    let _ = write!(out, "<h2>Next steps ({})</h2><ul id=\"next\">", taken.len());
    for n in &taken {
        let mut path = view.path.clone();
        path.push(n.index);
        let changes = if n.changes.is_empty() {
            String::new()
        } else {
            format!(" <span class=\"changes\">⇒ {}</span>", escape(&n.changes.join(", ")))
        };
        let _ = write!(
            out,
            "<li class=\"{c}\"><a href=\"{u}\">{a}</a>{changes}</li>",
            c = if n.attacker { "attacker" } else { "honest" },
            u = steps_url(&path),
            a = escape(&n.action),
        );
    }
    out.push_str("</ul>");
    let _ = write!(
        out,
        "<details id=\"rejected\"><summary>{} actions rejected or ignored in this state</summary><ul>",
        rejected.len()
    );
    for n in &rejected {
        let _ = write!(out, "<li>{}</li>", escape(&n.action));
    }
    out.push_str("</ul></details></body></html>\n");
    out
}

/// A page for an error (bad path, unknown property).
pub fn error_page(message: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>EE2E Explorer</title></head>\
         <body><h1>EE2E Explorer</h1><p id=\"error\">{}</p><p><a href=\"/steps\">initial state</a></p></body></html>\n",
        escape(message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup() {
        assert_eq!(escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }

    #[test]
    fn steps_url_joins_indices() {
        assert_eq!(steps_url(&[]), "/steps");
        assert_eq!(steps_url(&[3, 0, 12]), "/steps/3/0/12");
    }
}
