//! The check ids of SPEC.md and what each names, read from SPEC.md itself.
//!
//! SPEC.md ("How to read this document") gives every row of a check table in §5–§9 the id
//! `S<section>.<n>` (`S7.4s.<n>` and `S7.4h.<n>` for §7.4's seed and hardened tables) and
//! makes every constant of §3 the id of its limit. The ids are parsed here, from the text
//! compiled into the crate, so that a check added to SPEC.md is an id at once: the verifier
//! accepts it in a vector's `checks`, and the coverage test fails until a vector pins it.

use std::collections::BTreeSet;

use ee2e_spec::Profile;

/// SPEC.md, as this build knows it.
pub const SPEC: &str = include_str!("../../spec/SPEC.md");

/// The profiles a check or limit applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    /// Both profiles.
    Both,
    /// The seed profile only (a check of the seed's construction).
    Seed,
    /// The hardened profile only (tagged with an erratum).
    Hardened,
    /// Neither: a limit on the server's own work that no exchange of messages can show (§3
    /// says "not observable"). It is listed, and no vector is required.
    Unobservable,
}

impl Applies {
    /// Whether the check applies to `profile`.
    pub fn to(self, profile: Profile) -> bool {
        match self {
            Applies::Both => true,
            Applies::Seed => profile == Profile::SEED,
            Applies::Hardened => profile == Profile::HARDENED,
            Applies::Unobservable => false,
        }
    }

    /// The profile names it applies to.
    pub fn profiles(self) -> &'static [&'static str] {
        match self {
            Applies::Both => &["seed", "hardened"],
            Applies::Seed => &["seed"],
            Applies::Hardened => &["hardened"],
            Applies::Unobservable => &[],
        }
    }
}

/// One numbered check (`S5.3.4`) or limit (`OTP_TTL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The id.
    pub id: String,
    /// The table's check text (the constant's value for a limit), as SPEC.md has it.
    pub text: String,
    /// The error names the row gives (variant and wire-code names, without arguments);
    /// empty for a limit.
    pub errors: BTreeSet<String>,
    /// The §3 constants the row names: a vector pinning the check pins them too.
    pub constants: BTreeSet<String>,
    /// Which profiles it applies to.
    pub applies: Applies,
}

impl Check {
    /// Whether this is a limit (a §3 constant) rather than a numbered check.
    pub fn is_limit(&self) -> bool {
        !self.id.starts_with('S')
    }
}

/// Every id of `spec`, checks first (in document order), then limits; or what is malformed.
///
/// # Errors
/// A description of the first malformed place: a check table row without a number, a
/// number out of order, two unnamed tables in one section, an id given twice.
pub fn parse(spec: &str) -> Result<Vec<Check>, String> {
    let constants = parse_constants(spec)?;
    let names: BTreeSet<String> = constants.iter().map(|c| c.id.clone()).collect();
    let mut checks = Vec::new();
    let mut major = 0u32;
    let mut section = String::new();
    let mut tables_here = BTreeSet::new();
    let mut table: Option<(String, Applies, u32)> = None;
    for (number, line) in spec.lines().enumerate() {
        let at = |what: String| format!("SPEC.md line {}: {what}", number + 1);
        if let Some(rest) = line.strip_prefix("## ") {
            major = rest.split('.').next().and_then(|n| n.trim().parse().ok()).unwrap_or(0);
            section.clear();
            table = None;
            continue;
        }
        if let Some(rest) = line.strip_prefix("### ") {
            section = rest.split_whitespace().next().unwrap_or_default().to_string();
            tables_here.clear();
            table = None;
            continue;
        }
        if !(5..=9).contains(&major) || section.is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
        if !line.starts_with('|') {
            table = None;
            continue;
        }
        if cells.first() == Some(&"#") {
            let header = cells.get(1).copied().unwrap_or_default();
            let (suffix, applies) = if header.contains("(seed)") {
                ("s", Applies::Seed)
            } else if header.contains("(hardened)") {
                ("h", Applies::Hardened)
            } else {
                ("", Applies::Both)
            };
            if !tables_here.insert(suffix) {
                return Err(at(format!("a second check table in §{section} without its own suffix")));
            }
            table = Some((format!("S{section}{suffix}"), applies, 0));
            continue;
        }
        let Some((prefix, applies, last)) = table.as_mut() else { continue };
        if cells.iter().all(|c| c.chars().all(|ch| ch == '-' || ch == ':')) {
            continue;
        }
        let text = cells.get(1).copied().unwrap_or_default();
        let error = cells.last().copied().unwrap_or_default();
        // A constant is named as a word of a backticked token (`now − issued_at ≤ OTP_TTL`).
        let mentioned = |cell: &str| -> BTreeSet<String> {
            ticked(cell)
                .iter()
                .flat_map(|t| t.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
                .filter(|word| names.contains(*word))
                .map(str::to_string)
                .collect()
        };
        if cells[0].is_empty() {
            // A continuation row ("… and not older than the window"): more of the last check.
            let check: &mut Check =
                checks.last_mut().ok_or_else(|| at("a continuation row before any check".into()))?;
            check.errors.extend(error_names(error));
            check.constants.extend(mentioned(text));
            continue;
        }
        // A check inserted after check n without renumbering the rest is "na" (`2a`).
        let number = cells[0];
        let (digits, suffix) =
            number.split_at(number.find(|c: char| !c.is_ascii_digit()).unwrap_or(number.len()));
        let n: u32 = digits.parse().map_err(|_| at(format!("check number {number:?} is not a number")))?;
        let inserted = !suffix.is_empty();
        if inserted && !(suffix.len() == 1 && suffix.chars().all(|c| c.is_ascii_lowercase())) {
            return Err(at(format!("check number {number:?} is not a number with one letter after it")));
        }
        let expected = if inserted { *last } else { *last + 1 };
        if n != expected {
            return Err(at(format!("check {number} of {prefix} follows check {last}")));
        }
        *last = n;
        // A row tagged at its start belongs to one profile; a tag later in the row (say,
        // "On failure, [E8] attempts += 1") qualifies a consequence, not the check.
        let row_applies = if text.starts_with("[E") || text.starts_with("(hardened") {
            Applies::Hardened
        } else if text.starts_with("(seed") {
            Applies::Seed
        } else {
            *applies
        };
        checks.push(Check {
            id: format!("{prefix}.{number}"),
            text: text.to_string(),
            errors: error_names(error),
            constants: mentioned(text),
            applies: row_applies,
        });
    }
    let mut seen = BTreeSet::new();
    for check in checks.iter().chain(&constants) {
        if !seen.insert(check.id.clone()) {
            return Err(format!("SPEC.md gives the id {} twice", check.id));
        }
    }
    checks.extend(constants);
    Ok(checks)
}

/// The constants of §3's table: `| \`NAME\` | value | use |`.
fn parse_constants(spec: &str) -> Result<Vec<Check>, String> {
    let mut out = Vec::new();
    let mut in_three = false;
    for line in spec.lines() {
        if let Some(rest) = line.strip_prefix("## ") {
            in_three = rest.starts_with("3.");
            continue;
        }
        if !in_three || !line.starts_with("| `") {
            continue;
        }
        let cells: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
        let name = cells[0].trim_matches('`');
        if !name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') {
            continue;
        }
        let value = cells.get(1).copied().unwrap_or_default();
        let usage = cells.get(2).copied().unwrap_or_default();
        // A limit tagged with an erratum, or whose value is for the hardened profile alone.
        let hardened = usage.contains("[E") || (value.contains("(hardened)") && !value.contains("(seed)"));
        let applies = if usage.contains("not observable") {
            Applies::Unobservable
        } else if hardened {
            Applies::Hardened
        } else {
            Applies::Both
        };
        out.push(Check {
            id: name.to_string(),
            text: cells.get(1).copied().unwrap_or_default().to_string(),
            errors: BTreeSet::new(),
            constants: BTreeSet::new(),
            applies,
        });
    }
    if out.is_empty() {
        return Err("SPEC.md §3 has no table of constants".into());
    }
    Ok(out)
}

/// The backticked tokens of a cell.
fn ticked(cell: &str) -> Vec<String> {
    cell.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

/// Error names of an error cell: of each alternative (`A` / `B`), the first backticked token up
/// to its argument list. What follows it qualifies that error and is not another error: the wire
/// code in parentheses (`OtpTableFull` (`RateLimited`)) is shared by several checks, and so is a
/// refusal's detail (`QueueFull` bound `Bytes`).
fn error_names(cell: &str) -> BTreeSet<String> {
    cell.split(" / ")
        .filter_map(|alternative| ticked(alternative).into_iter().next())
        .map(|t| t.split(['(', ' ', '{']).next().unwrap_or_default().to_string())
        .filter(|t| t.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
        .collect()
}

/// The ids of the SPEC.md this crate was built with.
///
/// # Errors
/// As [`parse`]: the built-in SPEC.md is malformed.
pub fn all() -> Result<Vec<Check>, String> {
    parse(SPEC)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'a>(checks: &'a [Check], id: &str) -> &'a Check {
        checks.iter().find(|c| c.id == id).unwrap_or_else(|| panic!("no {id}"))
    }

    #[test]
    fn the_spec_tables_give_the_ids_their_errors_constants_and_profiles() {
        let checks = all().expect("SPEC.md parses");
        let expiry = find(&checks, "S5.3.4");
        assert_eq!(expiry.errors, ["OtpExpired".to_string()].into());
        assert_eq!(expiry.constants, ["OTP_TTL".to_string()].into());
        assert_eq!(expiry.applies, Applies::Both);
        assert_eq!(find(&checks, "S5.3.5").applies, Applies::Hardened);
        // Check 8's "[E8] attempts += 1" is a consequence: the check itself is in both.
        assert_eq!(find(&checks, "S5.3.8").applies, Applies::Both);
        assert_eq!(find(&checks, "S6.4.7").applies, Applies::Seed);
        assert_eq!(find(&checks, "S7.4s.5").applies, Applies::Seed);
        let window = find(&checks, "S7.4h.6");
        assert!(window.errors.contains("ReplayedMessage") && window.errors.contains("MessageTooOld"));
        assert!(find(&checks, "S8.3.3").errors.contains("SessionPeerMismatch"));
        assert_eq!(find(&checks, "MAX_OTP_REQUESTS").applies, Applies::Hardened);
        assert_eq!(find(&checks, "MAX_QUEUED_MESSAGES").applies, Applies::Both);
        assert!(checks.iter().all(|c| c.is_limit() || !c.errors.is_empty()), "a check without an error");
    }

    #[test]
    fn malformed_tables_are_reported_with_their_line() {
        let base = "## 3. C\n| `A_B` | 1 | x |\n## 5. R\n### 5.1 X\n| # | Check | Error |\n|---|---|---|\n";
        assert!(
            parse(&format!("{base}| 1 | a | `E` |\n| 3 | b | `F` |\n"))
                .unwrap_err()
                .contains("follows check 1")
        );
        assert!(parse(&format!("{base}| x | a | `E` |\n")).unwrap_err().contains("not a number"));
        let two = format!("{base}| 1 | a | `E` |\n\n| # | Check | Error |\n| 1 | b | `F` |\n");
        assert!(parse(&two).unwrap_err().contains("second check table"));
        // The wire code in parentheses and a refusal's detail are not errors of their own.
        let ok =
            parse(&format!("{base}| 1 | uses `A_B` | `E(x)` (`W`) |\n|   | more | `G` bound `D` / `H` |\n"))
                .expect("parses");
        assert_eq!(ok[0].id, "S5.1.1");
        assert_eq!(ok[0].errors, ["E", "G", "H"].iter().map(|s| s.to_string()).collect());
        assert_eq!(ok[0].constants, ["A_B".to_string()].into());
        assert_eq!(ok[1].id, "A_B");
        assert!(parse("## 5. R\n").unwrap_err().contains("no table of constants"));
    }
}
