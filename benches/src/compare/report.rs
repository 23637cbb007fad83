//! The comparison's table, target verdicts and `benches/RESULTS.md`.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::timing::{Clock, Plan, Stats};

use super::openssl::OpenSsl;

/// One line of the table.
pub struct Row {
    /// Operation name (`seal 1KiB hardened`).
    pub name: String,
    /// Section of the table.
    pub group: &'static str,
    /// Our time.
    pub ours: Stats,
    /// OpenSSL's equivalent, in nanoseconds, if there is one and it ran.
    pub openssl_ns: Option<f64>,
    /// What the OpenSSL figure is made of.
    pub equivalent: String,
    /// What our figure includes.
    pub note: String,
}

impl Row {
    /// Ours / OpenSSL.
    pub fn ratio(&self) -> Option<f64> {
        self.openssl_ns.filter(|ns| *ns > 0.0).map(|ns| self.ours.median_ns / ns)
    }

    /// The row as one line of the terminal table.
    pub fn text(&self) -> String {
        format!(
            "{:<44} {:>10} ±{:>3.0}%  {:>10}  {:>6}",
            self.name,
            duration(self.ours.median_ns),
            self.ours.spread() * 50.0,
            self.openssl_ns.map_or("n/a".into(), duration),
            self.ratio().map_or("-".into(), |r| format!("{r:.2}×")),
        )
    }
}

/// Formats nanoseconds with a unit that keeps 3–4 significant digits.
pub fn duration(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// The machine, the settings and the rows.
pub struct Report {
    plan: Plan,
    samples: usize,
    date: String,
    cpu_model: String,
    cpu_flags: Vec<String>,
    acceleration: String,
    openssl_version: String,
    load_before: String,
    load_after: String,
    commands: Vec<String>,
    /// The command that writes the report.
    generator: String,
    /// The rows, in order.
    pub rows: Vec<Row>,
}

/// The CPU flags that matter to this comparison, in the order they are reported.
const RELEVANT_FLAGS: [&str; 9] =
    ["aes", "vaes", "pclmulqdq", "vpclmulqdq", "sha_ni", "avx2", "avx512f", "avx512ifma", "bmi2"];

impl Report {
    /// Describes the machine now.
    pub fn new(plan: Plan, samples: usize, openssl: &OpenSsl) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let field = |name: &str| {
            cpuinfo
                .lines()
                .find(|line| line.split(':').next().is_some_and(|key| key.trim() == name))
                .and_then(|line| line.split_once(':'))
                .map(|(_, value)| value.trim().to_string())
        };
        Report {
            plan,
            samples,
            date: utc_now(),
            cpu_model: field("model name").unwrap_or_else(|| "unknown (no /proc/cpuinfo)".into()),
            cpu_flags: field("flags")
                .map(|f| f.split_whitespace().map(String::from).collect())
                .unwrap_or_default(),
            acceleration: acceleration(),
            openssl_version: openssl.version.clone().unwrap_or_else(|| "not available".into()),
            load_before: load_average(),
            load_after: String::new(),
            commands: Vec::new(),
            generator: "cargo run --release -- bench compare".to_string(),
            rows: Vec::new(),
        }
    }

    /// Names the command that writes the report (in its header and command list).
    pub fn set_command(&mut self, command: &str) {
        self.generator = command.to_string();
    }

    /// The command that writes the report.
    pub fn command(&self) -> &str {
        &self.generator
    }

    /// The row named `name`, if it was measured.
    pub fn find(&self, name: &str) -> Option<&Row> {
        self.row(name)
    }

    /// Records what happened after the rows were measured.
    pub fn finish(&mut self, openssl: &OpenSsl) {
        self.load_after = load_average();
        self.commands = openssl.commands.clone();
    }

    fn clock_text(&self) -> &'static str {
        match self.plan.clock {
            Clock::Cpu => "CPU time of the measuring thread (openssl speed without -elapsed)",
            Clock::Wall => "wall-clock time (openssl speed -elapsed)",
        }
    }

    fn relevant_flags(&self) -> String {
        RELEVANT_FLAGS
            .iter()
            .map(|flag| {
                format!("{flag}{}", if self.cpu_flags.iter().any(|f| f == flag) { "" } else { " (absent)" })
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The lines printed before the table.
    pub fn preamble_text(&self) -> String {
        format!(
            "CPU: {}\nflags: {}\nacceleration: {}\n{}\nclock: {}\nload average at start: {}\n\n{:<44} {:>10} {:>6}  {:>10}  {:>6}",
            self.cpu_model,
            self.relevant_flags(),
            self.acceleration,
            self.openssl_version,
            self.clock_text(),
            self.load_before,
            "operation",
            "ours",
            "spread",
            "OpenSSL",
            "ratio",
        )
    }

    fn row(&self, name: &str) -> Option<&Row> {
        self.rows.iter().find(|row| row.name == name)
    }

    /// The issue's targets, each with the measured figures and met / missed.
    pub fn targets(&self) -> Vec<(String, Option<bool>, String)> {
        let ratio_target = |title: &str, names: &[String], limit: f64| {
            let found: Vec<(&str, f64)> = names
                .iter()
                .filter_map(|n| self.row(n).and_then(|r| r.ratio().map(|x| (r.name.as_str(), x))))
                .collect();
            let verdict = (found.len() == names.len()).then(|| found.iter().all(|(_, x)| *x <= limit));
            let figures = found.iter().map(|(n, x)| format!("{n} {x:.2}×")).collect::<Vec<_>>().join("; ");
            (title.to_string(), verdict, figures)
        };
        let mut primitives = Vec::new();
        let mut messages = Vec::new();
        for size in ["1KiB", "64KiB"] {
            for op in ["aes-256-cbc encrypt", "aes-256-cbc decrypt"] {
                primitives.push(format!("{op} {size} raw"));
            }
            primitives.push(format!("hmac-sha256 {size}"));
            for op in ["seal", "open"] {
                for profile in ["seed", "hardened"] {
                    messages.push(format!("{op} {size} {profile}"));
                }
            }
        }
        let small: Vec<(&str, f64)> = ["seal 64B seed", "seal 64B hardened"]
            .iter()
            .filter_map(|n| self.row(n).map(|r| (r.name.as_str(), r.ours.median_ns)))
            .collect();
        let aws_lc_private: Vec<String> =
            ["rsa sign pkcs1 2048", "rsa sign pss 2048", "rsa oaep decrypt 2048"]
                .iter()
                .map(|op| format!("aws-lc: {op}"))
                .collect();
        vec![
            ratio_target(
                "RSA-2048 private operations within 1.3× of OpenSSL with aws-lc",
                &aws_lc_private,
                1.3,
            ),
            ratio_target(
                "AES-256-CBC and HMAC-SHA-256 within 1.2× of OpenSSL at 1 KiB and above",
                &primitives,
                1.2,
            ),
            ratio_target(
                "seal and open within 1.2× of the OpenSSL composite at 1 KiB and 64 KiB",
                &messages,
                1.2,
            ),
            (
                "a 64 B seal under 450 ns (seed) / 550 ns (hardened)".to_string(),
                (small.len() == 2).then(|| {
                    small.iter().all(|(n, ns)| *ns < if n.ends_with("seed") { 450.0 } else { 550.0 })
                }),
                small.iter().map(|(n, ns)| format!("{n} {}", duration(*ns))).collect::<Vec<_>>().join("; "),
            ),
        ]
    }

    /// The target verdicts as text.
    pub fn targets_text(&self) -> String {
        let mut out = String::from("targets:\n");
        for (title, verdict, figures) in self.targets() {
            let verdict = match verdict {
                Some(true) => "met",
                Some(false) => "MISSED",
                None => "not measured",
            };
            let _ = writeln!(out, "  [{verdict}] {title}: {figures}");
        }
        out
    }

    /// `benches/RESULTS.md`.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# Benchmark results: EE2E against OpenSSL\n");
        let _ =
            writeln!(md, "<!-- Generated by `{}`; do not edit by hand: run it again. -->\n", self.generator);
        let _ = writeln!(md, "How to read this file: see [README.md](README.md).\n");
        let _ = writeln!(md, "## Machine and run\n");
        let _ = writeln!(md, "| | |\n|---|---|");
        let _ = writeln!(md, "| date | {} |", self.date);
        let _ = writeln!(md, "| CPU | {} (`/proc/cpuinfo` model name) |", self.cpu_model);
        let _ = writeln!(md, "| relevant CPU flags | {} |", self.relevant_flags());
        let _ = writeln!(md, "| detected at run time | {} |", self.acceleration);
        let _ = writeln!(
            md,
            "| logical CPUs | {} |",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        let _ = writeln!(md, "| OpenSSL | {} |", self.openssl_version);
        let _ = writeln!(md, "| clock | {} |", self.clock_text());
        let _ = writeln!(
            md,
            "| our timing | {} ms warm-up, then the median of {} batches of ~{} ms; slow operations: median of {} single runs |",
            self.plan.warm_up.as_millis(),
            self.plan.batches,
            self.plan.batch.as_millis(),
            self.samples,
        );
        let _ = writeln!(
            md,
            "| load average (1, 5, 15 min) | start {}; end {} |",
            self.load_before, self.load_after
        );
        let _ = writeln!(md);
        let _ = writeln!(md, "## Targets\n");
        let _ = writeln!(md, "| target | verdict | measured |\n|---|---|---|");
        for (title, verdict, figures) in self.targets() {
            let verdict = match verdict {
                Some(true) => "met",
                Some(false) => "**missed**",
                None => "not measured",
            };
            let _ = writeln!(md, "| {title} | {verdict} | {figures} |");
        }
        let _ = writeln!(md);
        let _ = writeln!(md, "## Results\n");
        let _ = writeln!(
            md,
            "Ratio = ours / OpenSSL (below 1: we are faster). Spread = (slowest − fastest batch) / median / 2.\n"
        );
        for group in ["primitive", "message", "rsa", "slow", "suite"] {
            let rows: Vec<&Row> = self.rows.iter().filter(|r| r.group == group).collect();
            if rows.is_empty() {
                continue;
            }
            let title = match group {
                "primitive" => "Primitives",
                "message" => "Messages: seal, open, ACK",
                "rsa" => "RSA: key transport, directory",
                "suite" => "The suites side by side: primitives through `Suite`",
                _ => "Key generation, PBKDF2, registration",
            };
            let _ = writeln!(md, "### {title}\n");
            let _ = writeln!(
                md,
                "| operation | ours (median) | spread | OpenSSL | ratio | OpenSSL equivalent | ours includes |"
            );
            let _ = writeln!(md, "|---|---:|---:|---:|---:|---|---|");
            for row in rows {
                let _ = writeln!(
                    md,
                    "| {} | {} | ±{:.0}% | {} | {} | {} | {} |",
                    row.name,
                    duration(row.ours.median_ns),
                    row.ours.spread() * 50.0,
                    row.openssl_ns.map_or("n/a".into(), duration),
                    row.ratio().map_or("–".into(), |r| format!("{r:.2}×")),
                    if row.equivalent.is_empty() { "none" } else { &row.equivalent },
                    row.note,
                );
            }
            let _ = writeln!(md);
        }
        let _ = writeln!(md, "## Commands\n");
        let _ = writeln!(md, "Ours: `{}` (in-process timing loop). OpenSSL, in order:\n", self.generator);
        let _ = writeln!(md, "```");
        for command in &self.commands {
            let _ = writeln!(md, "{command}");
        }
        let _ = writeln!(md, "```\n");
        let _ = writeln!(
            md,
            "<details><summary>All CPU flags</summary>\n\n```\n{}\n```\n</details>",
            self.cpu_flags.join(" ")
        );
        md
    }
}

/// Which accelerated code paths the crates will take on this CPU (run-time detection).
fn acceleration() -> String {
    #[cfg(target_arch = "x86_64")]
    {
        let yes = |b: bool| if b { "yes" } else { "no" };
        format!(
            "aes::hardware_accelerated() = {}; is_x86_feature_detected: aes {}, vaes {}, avx512f {}, sha {}, sse4.1 {}",
            aes::hardware_accelerated(),
            yes(std::arch::is_x86_feature_detected!("aes")),
            yes(std::arch::is_x86_feature_detected!("vaes")),
            yes(std::arch::is_x86_feature_detected!("avx512f")),
            yes(std::arch::is_x86_feature_detected!("sha")),
            yes(std::arch::is_x86_feature_detected!("sse4.1")),
        )
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        format!("aes::hardware_accelerated() = {}", aes::hardware_accelerated())
    }
}

/// `/proc/loadavg`'s first three fields.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// The current UTC date and time, `YYYY-MM-DD HH:MM UTC`.
fn utc_now() -> String {
    let seconds = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", rest / 3600, rest % 3600 / 60)
}

/// Year, month, day of a count of days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_from_days_matches_known_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_784), (2026, 11, 27));
    }

    #[test]
    fn durations_pick_a_readable_unit() {
        assert_eq!(duration(385.2), "385 ns");
        assert_eq!(duration(4_321.0), "4.32 µs");
        assert_eq!(duration(1_500_000.0), "1.50 ms");
        assert_eq!(duration(2.5e9), "2.50 s");
    }
}
