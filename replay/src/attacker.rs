//! The concrete attacker: the model's Dolev-Yao knowledge, held as real bytes.
//!
//! Every symbolic term the model's attacker observes is bound to the bytes the implementation
//! really sent ([`Attacker::observe_message`]); analysis opens what E's private key and the
//! known session keys open ([`Attacker::analyse`]); weak secrets are guessed by a real brute
//! force over every OTP ([`Attacker::guess_otps`]); and a term the model's attacker injects
//! is evaluated to bytes with the concrete suite ([`Attacker::build`]) — from known values,
//! public constants and keys, E's own key and E's own fresh values only. Anything else is an
//! error: it would mean the model lets the attacker use a value the concrete attacker lacks.

use std::collections::{BTreeMap, HashMap};

use ee2e::suite::seeded_rng;
use ee2e::{Bytes, ConcreteSuite as C, PrivateKey, Rng};
use ee2e_fixtures as fixtures;
use ee2e_model::symbolic::Sym;
use ee2e_model::symbolic::{A, B, E, SERVER};
use ee2e_model::symbolic::{Name, Node, Party, Purpose, Term};
use ee2e_spec::{Fresh, Input, Message, SigScheme, Suite};

use super::brute::{self, BruteForce, OTP_SPACE};
use super::values::{map_message, shape, values};

/// The fixture private key of a model party (S, A, B, E).
pub(crate) fn party_key(p: Party) -> Option<PrivateKey> {
    match p {
        SERVER => Some(fixtures::server_key()),
        A => fixtures::named("alice"),
        B => fixtures::named("bob"),
        E => fixtures::named("eve"),
        _ => None,
    }
}

/// The fixture public key (SubjectPublicKeyInfo DER) of a model party.
pub(crate) fn public_key(p: Party) -> Option<Bytes> {
    party_key(p).map(|k| C::public_key(&k))
}

/// Splits the tuple encoding `bytes` into `n` parts, if it is one.
fn split_tuple(bytes: &[u8], n: usize) -> Option<Vec<Bytes>> {
    let mut parts = Vec::with_capacity(n);
    let mut rest = bytes;
    for _ in 0..n {
        let (len, tail) = rest.split_first_chunk::<4>()?;
        let len = usize::try_from(u32::from_be_bytes(*len)).ok()?;
        if tail.len() < len {
            return None;
        }
        parts.push(Bytes::public(&tail[..len]));
        rest = &tail[len..];
    }
    rest.is_empty().then_some(parts)
}

/// Deterministic evaluation of `term`: leaves from `leaf` (consulted first for every
/// subterm), constructors computed with the concrete suite. Randomised constructions (OAEP,
/// signatures) and unknown fresh names give `None`.
pub(crate) fn eval_det(
    term: &Term,
    leaf: &mut impl FnMut(&Term) -> Option<Bytes>,
    iterations: u32,
) -> Option<Bytes> {
    if let Some(value) = leaf(term) {
        return Some(value);
    }
    let mut ev = |t: &Term| eval_det(t, leaf, iterations);
    Some(match term.node() {
        Node::Const(bytes) => Bytes::public(bytes.to_vec()),
        Node::Pk(p) => public_key(*p)?,
        Node::Hash(a) => C::sha256(Input::Raw(&ev(a)?)),
        Node::Hmac(k, m) => {
            let k = ev(k)?;
            C::hmac(&C::mac_key(&k), Input::Raw(&ev(m)?))
        }
        Node::Pbkdf2(p, s) => {
            let p = ev(p)?;
            C::pbkdf2(&p, &ev(s)?, iterations)
        }
        Node::Hkdf(a, b, c) => {
            let (a, b) = (ev(a)?, ev(b)?);
            C::hkdf(&a, &b, &ev(c)?)
        }
        Node::SEnc { key, iv, msg } => {
            let (key, iv) = (ev(key)?, ev(iv)?);
            C::encrypt(&C::cipher_key(&key).ok()?, &iv, &ev(msg)?).ok()?
        }
        Node::Tuple(parts) => {
            let values = parts.iter().map(&mut ev).collect::<Option<Vec<Bytes>>>()?;
            C::tuple(&values.iter().collect::<Vec<_>>())
        }
        Node::Fresh(_) | Node::Sk(_) | Node::AEnc { .. } | Node::Sig { .. } => return None,
    })
}

/// The attacker's knowledge as concrete values. See the [module documentation](self).
pub(crate) struct Attacker {
    known: HashMap<Term, Bytes>,
    keys: BTreeMap<Party, PrivateKey>,
    rng: Rng,
    iterations: u32,
    /// The offline OTP guesses made so far.
    pub(crate) brute_forces: Vec<BruteForce>,
    /// The secret an online guess stands in for while a message is built
    /// ([`build_guessing`](Self::build_guessing)): values that depend on it are not kept.
    guessing: Option<Term>,
}

impl Attacker {
    /// An attacker holding E's private key, drawing its own values from a seeded generator;
    /// `iterations` is the run's PBKDF2 iteration count (a public parameter).
    pub(crate) fn new(iterations: u32, seed: [u8; 32]) -> Result<Self, String> {
        let mut keys = BTreeMap::new();
        keys.insert(E, party_key(E).ok_or("no fixture key for E")?);
        Ok(Attacker {
            known: HashMap::new(),
            keys,
            rng: seeded_rng(seed),
            iterations,
            brute_forces: Vec::new(),
            guessing: None,
        })
    }

    /// The attacker obtains `p`'s private key (threat `server`, or a compromise).
    pub(crate) fn hold_key(&mut self, p: Party) -> Result<(), String> {
        let key = party_key(p).ok_or_else(|| format!("no fixture key for party {p}"))?;
        self.keys.insert(p, key);
        Ok(())
    }

    /// Whether the attacker holds the value of `term`.
    pub(crate) fn knows(&self, term: &Term) -> bool {
        self.known.contains_key(term)
    }

    /// Every term the attacker holds, with its value.
    pub(crate) fn known(&self) -> &HashMap<Term, Bytes> {
        &self.known
    }

    /// A term whose value the attacker holds and that equals `bytes`, if any.
    pub(crate) fn holds_bytes(&self, bytes: &[u8]) -> Option<&Term> {
        let mut hits: Vec<&Term> =
            self.known.iter().filter(|(_, v)| v.as_slice() == bytes).map(|(t, _)| t).collect();
        hits.sort();
        hits.into_iter().next()
    }

    /// Binds `term` to `value`, as observed on the network (or computed by the attacker).
    pub(crate) fn observe(&mut self, term: &Term, value: &Bytes) -> Result<(), String> {
        match term.node() {
            Node::Const(bytes) => {
                return if **bytes == *value.as_slice() {
                    Ok(())
                } else {
                    Err(format!("constant {term} observed as other bytes ({})", value.to_hex()))
                };
            }
            Node::Pk(p) => {
                return if public_key(*p).as_ref() == Some(value) {
                    Ok(())
                } else {
                    Err(format!("{term} observed as another key"))
                };
            }
            Node::Tuple(parts) => {
                let split = split_tuple(value.as_slice(), parts.len())
                    .ok_or_else(|| format!("{term} is not a tuple"))?;
                for (part, v) in parts.iter().zip(&split) {
                    self.observe(part, v)?;
                }
            }
            _ => {}
        }
        if let Some(old) = self.known.get(term) {
            if old == value {
                return Ok(());
            }
            // PSS signatures are randomised: one symbolic signature, several valid byte strings.
            if matches!(term.node(), Node::Sig { scheme: SigScheme::PssSha256, .. }) {
                return Ok(());
            }
            return Err(format!("{term} observed with two different values"));
        }
        self.known.insert(term.clone(), value.clone());
        Ok(())
    }

    /// Binds every value of the symbolic message `sym` to the matching value of `conc`, the
    /// message the implementation really sent in its place.
    pub(crate) fn observe_message(&mut self, sym: &Message<Sym>, conc: &Message<C>) -> Result<(), String> {
        let (s, c) = (shape(sym), shape(conc));
        if s != c {
            return Err(format!("the model sent {s:?}, the implementation {c:?}"));
        }
        for (term, value) in values(sym).into_iter().zip(values(conc)) {
            self.observe(term, value)?;
        }
        Ok(())
    }

    /// Analysis, as the model's: opens OAEP ciphertexts under a held private key and
    /// symmetric ciphertexts under a key the attacker can compute, until nothing new opens.
    pub(crate) fn analyse(&mut self) -> Result<(), String> {
        loop {
            let mut new: Vec<(Term, Bytes)> = Vec::new();
            let mut terms: Vec<&Term> = self.known.keys().collect();
            terms.sort();
            for t in terms {
                let value = &self.known[t];
                match t.node() {
                    Node::AEnc { pk, msg, label, .. } if !self.known.contains_key(msg) => {
                        let Node::Pk(owner) = pk.node() else { continue };
                        let Some(key) = self.keys.get(owner) else { continue };
                        let label = self
                            .eval_known(label)
                            .ok_or_else(|| format!("cannot compute the label of {t}"))?;
                        let plain = C::pke_decrypt(key, &label, value, &mut self.rng)
                            .map_err(|e| format!("{t} does not open under the attacker's key: {e}"))?;
                        new.push((msg.clone(), plain));
                    }
                    Node::SEnc { key, iv, msg } if !self.known.contains_key(msg) => {
                        let (Some(k), Some(iv)) = (self.eval_known(key), self.eval_known(iv)) else {
                            continue;
                        };
                        let k = C::cipher_key(&k).map_err(|e| format!("key of {t}: {e}"))?;
                        let plain =
                            C::decrypt(&k, &iv, value).map_err(|e| format!("{t} does not decrypt: {e}"))?;
                        new.push((msg.clone(), plain));
                    }
                    _ => {}
                }
            }
            if new.is_empty() {
                return Ok(());
            }
            for (t, v) in new {
                self.observe(&t, &v)?;
            }
        }
    }

    fn eval_known(&self, term: &Term) -> Option<Bytes> {
        eval_det(term, &mut |t| self.known.get(t).cloned(), self.iterations)
    }

    /// Whether `t` can be rebuilt deterministically from known values and a guess of `secret`.
    fn derivable_det(&self, t: &Term, secret: &Term) -> bool {
        t == secret || self.known.contains_key(t) || self.constructible_det(t, secret)
    }

    fn constructible_det(&self, t: &Term, secret: &Term) -> bool {
        let d = |x: &Term| self.derivable_det(x, secret);
        match t.node() {
            Node::Const(_) | Node::Pk(_) => true,
            Node::Hash(a) => d(a),
            Node::Hmac(a, b) | Node::Pbkdf2(a, b) => d(a) && d(b),
            Node::Hkdf(a, b, c) => d(a) && d(b) && d(c),
            Node::SEnc { key, iv, msg } => d(key) && d(iv) && d(msg),
            Node::Tuple(parts) => parts.iter().all(d),
            Node::Fresh(_) | Node::Sk(_) | Node::AEnc { .. } | Node::Sig { .. } => false,
        }
    }

    /// Weak secrets (the model's offline guessing), for real: for each OTP in `candidates`
    /// the attacker does not hold, it looks for a value it holds that contains the OTP and
    /// that it can recompute from a guess (a verifier) and tries all 10⁶ codes against it.
    /// `owner` names the phone the OTP was issued for. Returns the OTPs found; fails if an
    /// OTP has no verifier or no code matches.
    pub(crate) fn guess_otps<'a>(
        &mut self,
        candidates: impl IntoIterator<Item = &'a Term>,
        owner: impl Fn(&Term) -> String,
    ) -> Result<Vec<Term>, String> {
        let mut found = Vec::new();
        for secret in candidates {
            if self.known.contains_key(secret) {
                continue;
            }
            let mut verifiers: Vec<&Term> = self
                .known
                .keys()
                .filter(|t| *t != secret && t.contains(secret) && self.constructible_det(t, secret))
                .collect();
            verifiers.sort();
            let Some(verifier) = verifiers.first().map(|t| (*t).clone()) else {
                let mut holders: Vec<String> = self
                    .known
                    .keys()
                    .filter(|t| *t != secret && t.contains(secret))
                    .map(Term::to_string)
                    .collect();
                holders.sort();
                return Err(if holders.is_empty() {
                    format!("no offline verifier for {secret}: E holds nothing that depends on it")
                } else {
                    format!(
                        "no offline verifier for {secret}: E holds it only inside {}, which it cannot recompute from a guess",
                        holders.join(", ")
                    )
                });
            };
            let observed = self.known[&verifier].clone();
            let (otp, tried, threads, seconds) =
                brute::search(&verifier, secret, &observed, &self.known, self.iterations)
                    .ok_or_else(|| format!("no OTP reproduces the observed {verifier}"))?;
            // One guess at the specification's iteration count, timed, for the extrapolation.
            let start = std::time::Instant::now();
            let _ = eval_det(
                &verifier,
                &mut |t| {
                    if t == secret {
                        Some(otp.clone())
                    } else if t.contains(secret) {
                        None
                    } else {
                        self.known.get(t).cloned()
                    }
                },
                brute::SPEC_ITERATIONS,
            );
            let spec_guess_seconds = start.elapsed().as_secs_f64();
            self.brute_forces.push(BruteForce {
                owner: owner(secret),
                verifier: verifier.to_string(),
                otp: ee2e::otp::otp_text(&otp),
                tried,
                space: OTP_SPACE,
                threads,
                seconds,
                iterations: self.iterations,
                spec_guess_seconds,
            });
            self.observe(secret, &otp)?;
            found.push(secret.clone());
        }
        Ok(found)
    }

    /// A value for one of E's own fresh names, drawn once.
    fn draw(&mut self, term: &Term, name: Name) -> Result<Bytes, String> {
        Ok(match name.purpose {
            Purpose::SessionKey => C::random(&mut self.rng, Fresh::SessionKey),
            Purpose::Iv => C::random(&mut self.rng, Fresh::Iv),
            Purpose::Otp => C::random(&mut self.rng, Fresh::Otp),
            Purpose::Plaintext => Bytes::secret(format!("forged by E ({term})").into_bytes()),
            Purpose::Nonce => return Err(format!("{term} is randomness inside an encryption, not a value")),
        })
    }

    /// Evaluates `term` to bytes with the attacker's means only: known values, constants,
    /// public keys, its own fresh values, its own private keys. Fails, naming the term, if the
    /// term needs anything else.
    pub(crate) fn build(&mut self, term: &Term) -> Result<Bytes, String> {
        if let Some(v) = self.known.get(term) {
            return Ok(v.clone());
        }
        let value = match term.node() {
            Node::Const(bytes) => return Ok(Bytes::public(bytes.to_vec())),
            Node::Pk(p) => return public_key(*p).ok_or_else(|| format!("no fixture key for {term}")),
            Node::Fresh(name) if name.party == E => self.draw(term, *name)?,
            Node::Fresh(_) => return Err(format!("the attacker does not know {term}")),
            Node::Sk(_) => return Err(format!("the attacker cannot send a private key ({term})")),
            Node::Hash(a) => C::sha256(Input::Raw(&self.build(a)?)),
            Node::Hmac(k, m) => {
                let k = self.build(k)?;
                C::hmac(&C::mac_key(&k), Input::Raw(&self.build(m)?))
            }
            Node::Pbkdf2(p, s) => {
                let p = self.build(p)?;
                C::pbkdf2(&p, &self.build(s)?, self.iterations)
            }
            Node::Hkdf(a, b, c) => {
                let (a, b) = (self.build(a)?, self.build(b)?);
                C::hkdf(&a, &b, &self.build(c)?)
            }
            Node::SEnc { key, iv, msg } => {
                let (key, iv) = (self.build(key)?, self.build(iv)?);
                let key = C::cipher_key(&key).map_err(|e| format!("{term}: {e}"))?;
                C::encrypt(&key, &iv, &self.build(msg)?).map_err(|e| format!("{term}: {e}"))?
            }
            Node::Tuple(parts) => {
                let values = parts.iter().map(|p| self.build(p)).collect::<Result<Vec<_>, _>>()?;
                C::tuple(&values.iter().collect::<Vec<_>>())
            }
            Node::AEnc { pk, msg, label, nonce } => {
                if !matches!(nonce.node(), Node::Fresh(n) if n.party == E) {
                    return Err(format!("the attacker cannot recreate another party's ciphertext {term}"));
                }
                let (pk, label, msg) = (self.build(pk)?, self.build(label)?, self.build(msg)?);
                C::pke_encrypt(&pk, &label, &msg, &mut self.rng).map_err(|e| format!("{term}: {e}"))?
            }
            Node::Sig { signer, scheme, msg } => {
                let msg = self.build(msg)?;
                let key = self
                    .keys
                    .get(signer)
                    .ok_or_else(|| format!("the attacker cannot sign as {}: {term}", party(*signer)))?;
                C::sign(key, *scheme, Input::Raw(&msg), &mut self.rng).map_err(|e| format!("{term}: {e}"))?
            }
        };
        if self.guessing.as_ref().is_none_or(|secret| !term.contains(secret)) {
            self.known.insert(term.clone(), value.clone());
        }
        Ok(value)
    }

    /// Evaluates every value of `message` ([`build`](Self::build)).
    pub(crate) fn build_message(&mut self, message: &Message<Sym>) -> Result<Message<C>, String> {
        map_message::<Sym, C, String>(message, &mut |t| self.build(t))
    }

    /// Evaluates `message` with `guess` standing for the unknown `secret` (one try of an
    /// online guess): what does not depend on the secret is built and kept as usual, what
    /// does is built afresh and forgotten, so that a wrong guess leaves no value behind.
    pub(crate) fn build_guessing(
        &mut self,
        message: &Message<Sym>,
        secret: &Term,
        guess: &Bytes,
    ) -> Result<Message<C>, String> {
        self.known.insert(secret.clone(), guess.clone());
        self.guessing = Some(secret.clone());
        let built = map_message::<Sym, C, String>(message, &mut |t| self.build(t));
        self.guessing = None;
        self.known.remove(secret);
        built
    }
}

fn party(p: Party) -> &'static str {
    ee2e_model::symbolic::party_name(p)
}
