//! Running OpenSSL for the reference figures: `openssl speed` for the primitives and RSA,
//! `openssl kdf` for PBKDF2 and `openssl genpkey` for key generation.
//!
//! Every command line run is recorded, so that the report can list them. Figures are cached:
//! each distinct measurement runs once per `compare`.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::timing::{Clock, median};

/// One OpenSSL measurement, as time per operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    /// AES-256-CBC encryption of this many bytes (`openssl speed -evp aes-256-cbc`).
    AesEncrypt(usize),
    /// AES-256-CBC decryption of this many bytes (`-decrypt -evp aes-256-cbc`).
    AesDecrypt(usize),
    /// HMAC-SHA-256 over this many bytes (`-hmac sha256`).
    Hmac(usize),
    /// SHA-256 over this many bytes (`-evp sha256`).
    Sha256(usize),
    /// An RSA private-key operation of this size (`openssl speed rsaN`, sign column).
    RsaPrivate(usize),
    /// An RSA public-key operation of this size (`openssl speed rsaN`, verify column).
    RsaPublic(usize),
    /// PBKDF2-HMAC-SHA-256 with this many iterations, 32-byte output (`openssl kdf`).
    Pbkdf2(u32),
    /// RSA key generation of this size (`openssl genpkey`).
    Keygen(usize),
}

impl Op {
    /// A short description for the report.
    pub fn describe(self) -> String {
        match self {
            Op::AesEncrypt(n) => format!("aes-256-cbc enc({n} B)"),
            Op::AesDecrypt(n) => format!("aes-256-cbc dec({n} B)"),
            Op::Hmac(n) => format!("hmac-sha256({n} B)"),
            Op::Sha256(n) => format!("sha256({n} B)"),
            Op::RsaPrivate(bits) => format!("rsa{bits} sign"),
            Op::RsaPublic(bits) => format!("rsa{bits} verify"),
            Op::Pbkdf2(iterations) => format!("kdf PBKDF2 {iterations} it."),
            Op::Keygen(bits) => format!("genpkey rsa{bits}"),
        }
    }
}

/// Runs OpenSSL and caches what it measured.
pub struct OpenSsl {
    program: String,
    seconds: u32,
    clock: Clock,
    samples: usize,
    cache: BTreeMap<Op, Result<f64, String>>,
    /// Every command line run, in order.
    pub commands: Vec<String>,
    /// `openssl version`, if it ran.
    pub version: Option<String>,
}

impl OpenSsl {
    /// `program` run with `-seconds seconds`; `samples` runs of the one-shot commands (`kdf`,
    /// `genpkey`), of which the median is taken.
    pub fn new(program: &str, seconds: u32, clock: Clock, samples: usize) -> Self {
        let mut openssl = OpenSsl {
            program: program.to_string(),
            seconds,
            clock,
            samples: samples.max(1),
            cache: BTreeMap::new(),
            commands: Vec::new(),
            version: None,
        };
        openssl.version = openssl.output(&["version"]).ok().map(|text| text.trim().to_string());
        openssl
    }

    /// Whether `openssl version` ran.
    pub fn available(&self) -> bool {
        self.version.is_some()
    }

    /// Nanoseconds per `op`, measuring it on first use.
    pub fn ns(&mut self, op: Op) -> Result<f64, String> {
        if let Some(known) = self.cache.get(&op) {
            return known.clone();
        }
        let measured = self.measure(op);
        self.cache.insert(op, measured.clone());
        measured
    }

    fn measure(&mut self, op: Op) -> Result<f64, String> {
        if !self.available() {
            return Err(format!("{} is not available", self.program));
        }
        let mut speed = vec!["speed".to_string()];
        if self.clock == Clock::Wall {
            speed.push("-elapsed".into());
        }
        speed.extend(["-seconds".into(), self.seconds.to_string(), "-mr".into()]);
        let symmetric = |speed: &mut Vec<String>, bytes: usize, algorithm: &[&str]| {
            speed.extend(["-bytes".to_string(), bytes.to_string()]);
            speed.extend(algorithm.iter().map(|a| a.to_string()));
        };
        match op {
            Op::AesEncrypt(n) | Op::AesDecrypt(n) | Op::Hmac(n) | Op::Sha256(n) => {
                let algorithm: &[&str] = match op {
                    Op::AesEncrypt(_) => &["-evp", "aes-256-cbc"],
                    Op::AesDecrypt(_) => &["-decrypt", "-evp", "aes-256-cbc"],
                    Op::Hmac(_) => &["-hmac", "sha256"],
                    _ => &["-evp", "sha256"],
                };
                symmetric(&mut speed, n, algorithm);
                let args: Vec<&str> = speed.iter().map(String::as_str).collect();
                let text = self.output(&args)?;
                let rate = parse_symmetric(&text)?;
                Ok(n as f64 / rate * 1e9)
            }
            Op::RsaPrivate(bits) | Op::RsaPublic(bits) => {
                speed.push(format!("rsa{bits}"));
                let args: Vec<&str> = speed.iter().map(String::as_str).collect();
                let text = self.output(&args)?;
                let (sign, verify) = parse_rsa(&text, bits)?;
                // One run gives both columns.
                self.cache.insert(Op::RsaPrivate(bits), Ok(1e9 / sign));
                self.cache.insert(Op::RsaPublic(bits), Ok(1e9 / verify));
                Ok(if matches!(op, Op::RsaPrivate(_)) { 1e9 / sign } else { 1e9 / verify })
            }
            Op::Pbkdf2(iterations) => {
                let iter = format!("iter:{iterations}");
                let args = [
                    "kdf",
                    "-keylen",
                    "32",
                    "-kdfopt",
                    "digest:SHA256",
                    "-kdfopt",
                    "pass:314159",
                    "-kdfopt",
                    "hexsalt:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                    "-kdfopt",
                    &iter,
                    "PBKDF2",
                ];
                self.time_runs(&args)
            }
            Op::Keygen(bits) => {
                let size = format!("rsa_keygen_bits:{bits}");
                let args = ["genpkey", "-quiet", "-algorithm", "RSA", "-pkeyopt", &size, "-out", "/dev/null"];
                self.time_runs(&args)
            }
        }
    }

    /// The median time of `samples` runs of a one-shot command, in nanoseconds: the
    /// children's CPU time with [`Clock::Cpu`], wall time otherwise (process start included,
    /// a few milliseconds).
    fn time_runs(&mut self, args: &[&str]) -> Result<f64, String> {
        let mut times = Vec::with_capacity(self.samples);
        for _ in 0..self.samples {
            let (cpu, wall) = (children_cpu_seconds(), Instant::now());
            self.output(args)?;
            times.push(match self.clock {
                Clock::Cpu => (children_cpu_seconds() - cpu) * 1e9,
                Clock::Wall => wall.elapsed().as_secs_f64() * 1e9,
            });
        }
        Ok(median(&mut times))
    }

    /// Runs `program args…`, records the command line, returns its standard output.
    fn output(&mut self, args: &[&str]) -> Result<String, String> {
        let line = format!("{} {}", self.program, args.join(" "));
        let output = Command::new(&self.program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run `{line}`: {e}"))?;
        if args != ["version"] {
            self.commands.push(line.clone());
        }
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(format!("`{line}` failed ({}): {}", output.status, stderr.trim()));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

/// CPU time (user + system) of the waited-for children of this process, in seconds.
fn children_cpu_seconds() -> f64 {
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is valid and writable; the call writes only to it.
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } != 0 {
        return 0.0;
    }
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// The rate of a one-size `openssl speed -mr -bytes N` run: the last field of its `+F:` line,
/// in bytes per second.
pub fn parse_symmetric(text: &str) -> Result<f64, String> {
    let line = text
        .lines()
        .find(|line| line.starts_with("+F:"))
        .ok_or_else(|| "no +F: line in the output of openssl speed".to_string())?;
    let rate: f64 = line
        .rsplit(':')
        .next()
        .and_then(|field| field.trim().parse().ok())
        .ok_or_else(|| format!("cannot read the rate in {line:?}"))?;
    if rate > 0.0 { Ok(rate) } else { Err(format!("zero rate in {line:?}")) }
}

/// Sign and verify operations per second of `openssl speed -mr rsaN`: the `+F2:` line
/// `+F2:<index>:<bits>:<sign/s>:<verify/s>`.
pub fn parse_rsa(text: &str, bits: usize) -> Result<(f64, f64), String> {
    for line in text.lines().filter(|line| line.starts_with("+F2:")) {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.len() >= 5 && fields[2].trim() == bits.to_string() {
            let sign: f64 = fields[3].trim().parse().map_err(|_| format!("bad sign rate in {line:?}"))?;
            let verify: f64 = fields[4].trim().parse().map_err(|_| format!("bad verify rate in {line:?}"))?;
            if sign > 0.0 && verify > 0.0 {
                return Ok((sign, verify));
            }
        }
    }
    Err(format!("no +F2: line for rsa{bits} in the output of openssl speed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_symmetric_reads_the_rate() {
        let text = "+DT:AES-256-CBC:1:1024\n+R:608351:AES-256-CBC:1.000000\n+H:1024\n+F:25:AES-256-CBC:622951424.00\n";
        assert_eq!(parse_symmetric(text), Ok(622951424.0));
        assert!(parse_symmetric("garbage").is_err());
        assert!(parse_symmetric("+F:9:hmac(sha256):0").is_err());
    }

    #[test]
    fn parse_rsa_reads_sign_and_verify_rates() {
        let text = "+R1:2659:2048:1.00\n+R2:41958:2048:1.01\n+F2:2:2048:2659.000000:41542.574257\n";
        assert_eq!(parse_rsa(text, 2048), Ok((2659.0, 41542.574257)));
        assert!(parse_rsa(text, 3072).is_err());
        assert!(parse_rsa("+F2:2:2048:x:y", 2048).is_err());
    }
}
