//! The Dolev-Yao attacker's knowledge: analysis (split, decrypt), synthesis (build), and
//! offline guessing of weak secrets.

use std::collections::BTreeSet;

use crate::term::{Node, Term};

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

    /// Offline guessing (weak secrets, as in ProVerif): whether the attacker holds an observed
    /// term that contains `secret` and that it could rebuild from a guess of it — a verifier —
    /// so that trying every value offline reveals the secret.
    pub fn has_verifier(&self, secret: &Term) -> bool {
        !self.terms.contains(secret)
            && self
                .terms
                .iter()
                .any(|t| t != secret && t.contains(secret) && self.constructible(t, Some(secret)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::term::Purpose;

    fn hmac(k: &Term, m: &Term) -> Term {
        Term::new(Node::Hmac(k.clone(), m.clone()))
    }

    #[test]
    fn analysis_opens_ciphertexts_with_known_keys_only() {
        let k = Term::fresh(1, Purpose::SessionKey, 0);
        let to_e = Term::new(Node::AEnc {
            pk: Term::pk(3),
            msg: k.clone(),
            label: Term::constant(b""),
            nonce: Term::fresh(1, Purpose::Nonce, 1),
        });
        let to_b = Term::new(Node::AEnc {
            pk: Term::pk(2),
            msg: k.clone(),
            label: Term::constant(b""),
            nonce: Term::fresh(1, Purpose::Nonce, 2),
        });
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
        know.learn(c);
        assert!(!know.derivable(&m));
        know.learn(k);
        assert!(know.derivable(&m));
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
