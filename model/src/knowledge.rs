//! The Dolev-Yao attacker's knowledge: analysis (split, decrypt), synthesis (build), and
//! offline guessing of weak secrets.

use std::collections::BTreeSet;

use crate::term::{Node, Term};

/// How the attacker holds a term: the analysis rule that gave it, if any (for readable traces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// A component of a tuple it holds.
    Split {
        /// The tuple.
        tuple: Term,
    },
    /// The plaintext of a ciphertext it holds, opened with a key it holds or can build.
    Decrypt {
        /// The ciphertext.
        ciphertext: Term,
        /// The key that opens it.
        key: Term,
    },
    /// No analysis rule gives it: it was observed as it is (a field in clear, an SMS, a leak,
    /// a guess).
    Observed,
}

/// Everything the attacker has observed or derived by analysis. Synthesis is checked on
/// demand by [`Knowledge::derivable`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Knowledge {
    terms: BTreeSet<Term>,
}

impl Knowledge {
    /// Every term held (observed or analysed), in order.
    pub fn terms(&self) -> impl Iterator<Item = &Term> {
        self.terms.iter()
    }

    /// Learns `term` and closes the knowledge under analysis.
    pub fn learn(&mut self, term: Term) {
        if self.terms.insert(term) {
            self.saturate();
        }
    }

    /// Learns several terms.
    pub fn learn_all(&mut self, terms: impl IntoIterator<Item = Term>) {
        let mut changed = false;
        for t in terms {
            changed |= self.terms.insert(t);
        }
        if changed {
            self.saturate();
        }
    }

    /// Whether the attacker can produce `term`: it holds it, or can build it from parts it can
    /// produce. Constants and public keys are public.
    pub fn derivable(&self, term: &Term) -> bool {
        self.terms.contains(term) || self.constructible(term, None)
    }

    /// Like [`derivable`](Self::derivable), with `extra` (a guess) added to the knowledge.
    fn derivable_with(&self, term: &Term, extra: Option<&Term>) -> bool {
        Some(term) == extra || self.terms.contains(term) || self.constructible(term, extra)
    }

    /// Whether `term` can be built by applying its top constructor to producible arguments.
    fn constructible(&self, term: &Term, extra: Option<&Term>) -> bool {
        let d = |t: &Term| self.derivable_with(t, extra);
        match term.node() {
            Node::Const(_) | Node::Pk(_) => true,
            // The attacker draws its own fresh names (as party E) at will.
            Node::Fresh(name) => name.party == crate::config::E,
            Node::Sk(_) => false,
            Node::Hash(a) => d(a),
            Node::Hmac(a, b) | Node::Pbkdf2(a, b) => d(a) && d(b),
            Node::Hkdf(a, b, c) => d(a) && d(b) && d(c),
            Node::AEnc { pk, msg, label, nonce } => d(pk) && d(msg) && d(label) && d(nonce),
            Node::Sig { signer, msg, .. } => self.terms.contains(&Term::sk(*signer)) && d(msg),
            Node::SEnc { key, iv, msg } => d(key) && d(iv) && d(msg),
            Node::Tuple(parts) => parts.iter().all(d),
        }
    }

    /// Applies the analysis rules until nothing new is learned: tuples split, asymmetric
    /// ciphertexts open with a held private key, symmetric ones with a producible key.
    fn saturate(&mut self) {
        loop {
            let mut new = Vec::new();
            for t in &self.terms {
                match t.node() {
                    Node::Tuple(parts) => {
                        new.extend(parts.iter().filter(|p| !self.terms.contains(*p)).cloned())
                    }
                    Node::AEnc { pk, msg, .. } => {
                        if let Node::Pk(owner) = pk.node()
                            && self.terms.contains(&Term::sk(*owner))
                            && !self.terms.contains(msg)
                        {
                            new.push(msg.clone());
                        }
                    }
                    Node::SEnc { key, msg, .. } if !self.terms.contains(msg) && self.derivable(key) => {
                        new.push(msg.clone());
                    }
                    _ => {}
                }
            }
            if new.is_empty() {
                return;
            }
            self.terms.extend(new);
        }
    }

    /// How the attacker holds `term` (`None` if it does not hold it): a decryption is
    /// preferred to a split, since it is the step an attack turns on.
    pub fn rule(&self, term: &Term) -> Option<Rule> {
        if !self.terms.contains(term) {
            return None;
        }
        let mut split = None;
        for t in &self.terms {
            match t.node() {
                Node::AEnc { pk, msg, .. } if msg == term => {
                    if let Node::Pk(owner) = pk.node()
                        && self.terms.contains(&Term::sk(*owner))
                    {
                        return Some(Rule::Decrypt { ciphertext: t.clone(), key: Term::sk(*owner) });
                    }
                }
                Node::SEnc { key, msg, .. } if msg == term && self.derivable(key) => {
                    return Some(Rule::Decrypt { ciphertext: t.clone(), key: key.clone() });
                }
                Node::Tuple(parts) if split.is_none() && parts.contains(term) => {
                    split = Some(Rule::Split { tuple: t.clone() });
                }
                _ => {}
            }
        }
        Some(split.unwrap_or(Rule::Observed))
    }

    /// The observed term that lets the attacker test guesses of `secret` offline, if any
    /// (see [`has_verifier`](Self::has_verifier)).
    pub fn verifier(&self, secret: &Term) -> Option<&Term> {
        if self.terms.contains(secret) {
            return None;
        }
        self.terms.iter().find(|t| *t != secret && t.contains(secret) && self.constructible(t, Some(secret)))
    }

    /// Offline guessing (weak secrets, as in ProVerif): whether the attacker holds an observed
    /// term that contains `secret` and that it could rebuild from a guess of it — a verifier —
    /// so that trying every value offline reveals the secret.
    pub fn has_verifier(&self, secret: &Term) -> bool {
        self.verifier(secret).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::term::{Party, Purpose};

    fn hmac(k: &Term, m: &Term) -> Term {
        Term::new(Node::Hmac(k.clone(), m.clone()))
    }

    /// `k` encrypted to party `party`'s public key, with nonce number `nonce`.
    fn transport_to(party: Party, k: &Term, nonce: u16) -> Term {
        Term::new(Node::AEnc {
            pk: Term::pk(party),
            msg: k.clone(),
            label: Term::constant(b""),
            nonce: Term::fresh(1, Purpose::Nonce, nonce),
        })
    }

    #[test]
    fn analysis_opens_ciphertexts_with_known_keys_only() {
        let k = Term::fresh(1, Purpose::SessionKey, 0);
        let to_e = transport_to(3, &k, 1);
        let to_b = transport_to(2, &k, 2);
        let mut know = Knowledge::default();
        know.learn(to_b);
        assert!(!know.derivable(&k));
        know.learn(Term::sk(3));
        know.learn(to_e);
        assert!(know.derivable(&k));
    }

    #[test]
    fn analysis_opens_symmetric_ciphertexts_once_the_key_is_learned() {
        let k = Term::fresh(1, Purpose::SessionKey, 0);
        let m = Term::fresh(1, Purpose::Plaintext, 1);
        let c = Term::new(Node::SEnc { key: k.clone(), iv: Term::fresh(1, Purpose::Iv, 2), msg: m.clone() });
        let mut know = Knowledge::default();
        know.learn(c.clone());
        assert!(!know.derivable(&m));
        know.learn(k.clone());
        assert!(know.derivable(&m));
        assert_eq!(know.rule(&m), Some(Rule::Decrypt { ciphertext: c, key: k.clone() }));
        assert_eq!(know.rule(&k), Some(Rule::Observed));
        assert_eq!(know.rule(&Term::sk(2)), None);
    }

    #[test]
    fn rules_name_the_ciphertext_and_key_or_the_tuple() {
        let k = Term::fresh(1, Purpose::SessionKey, 0);
        let to_e = transport_to(3, &k, 1);
        let m = Term::fresh(1, Purpose::Plaintext, 1);
        let pair = Term::new(Node::Tuple(vec![m.clone(), Term::constant(b"x")]));
        let mut know = Knowledge::default();
        know.learn_all([to_e.clone(), pair.clone(), Term::sk(3)]);
        assert_eq!(know.rule(&k), Some(Rule::Decrypt { ciphertext: to_e, key: Term::sk(3) }));
        assert_eq!(know.rule(&m), Some(Rule::Split { tuple: pair }));
    }

    #[test]
    fn a_clear_registration_tag_is_a_verifier_for_the_otp() {
        let otp = Term::fresh(0, Purpose::Otp, 0);
        let phone = Term::constant(b"+15550000001");
        let salt = hmac(&otp, &phone);
        let tag = hmac(&Term::new(Node::Pbkdf2(otp.clone(), salt)), &Term::pk(1));
        let mut know = Knowledge::default();
        know.learn(tag.clone());
        assert!(!know.derivable(&otp));
        assert!(know.has_verifier(&otp));
        assert_eq!(know.verifier(&otp), Some(&tag));
    }

    #[test]
    fn a_sealed_registration_tag_is_not_a_verifier() {
        let otp = Term::fresh(0, Purpose::Otp, 0);
        let tag = hmac(&Term::new(Node::Pbkdf2(otp.clone(), otp.clone())), &Term::pk(1));
        let sealed = Term::new(Node::AEnc {
            pk: Term::pk(0),
            msg: tag,
            label: Term::constant(b"l"),
            nonce: Term::fresh(1, Purpose::Nonce, 0),
        });
        let mut know = Knowledge::default();
        know.learn(sealed);
        assert!(!know.has_verifier(&otp));
        assert!(!know.derivable(&otp));
    }

    #[test]
    fn signatures_need_the_private_key_and_hide_their_message() {
        let k = Term::fresh(1, Purpose::SessionKey, 0);
        let sig = Term::new(Node::Sig { signer: 1, scheme: ee2e_spec::SigScheme::PssSha256, msg: k.clone() });
        let mut know = Knowledge::default();
        know.learn(sig.clone());
        assert!(!know.derivable(&k));
        let other = Term::new(Node::Sig {
            signer: 1,
            scheme: ee2e_spec::SigScheme::PssSha256,
            msg: Term::constant(b"x"),
        });
        assert!(!know.derivable(&other));
        know.learn(Term::sk(1));
        assert!(know.derivable(&other));
    }
}
