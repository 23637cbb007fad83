//! Markdown tables sized to their contents.

/// A column's alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// Renders `header` and `rows` as a Markdown table, each column as wide as its widest cell.
pub fn render(header: &[&str], align: &[Align], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .chain([header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &mut dyn Iterator<Item = (usize, &str)>| {
        let mut out = String::from("|");
        for (i, cell) in cells {
            let pad = widths[i].saturating_sub(cell.chars().count());
            let (l, r) = if align.get(i) == Some(&Align::Right) { (pad, 0) } else { (0, pad) };
            out.push_str(&format!(" {}{cell}{} |", " ".repeat(l), " ".repeat(r)));
        }
        out.push('\n');
        out
    };
    let mut out = line(&mut header.iter().copied().enumerate());
    out.push('|');
    for (i, w) in widths.iter().enumerate() {
        let right = align.get(i) == Some(&Align::Right);
        out.push_str(&format!("{}{}|", "-".repeat(w + 1), if right { ":" } else { "-" }));
    }
    out.push('\n');
    for row in rows {
        out.push_str(&line(&mut row.iter().map(String::as_str).enumerate()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fit_their_widest_cell() {
        let rows = vec![vec!["hardened-without-encrypt-then-mac".to_string(), "7".into()]];
        let t = render(&["profile", "n"], &[Align::Left, Align::Right], &rows);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "| profile                           | n |");
        assert_eq!(lines[1], "|-----------------------------------|--:|");
        assert_eq!(lines[2], "| hardened-without-encrypt-then-mac | 7 |");
    }
}
