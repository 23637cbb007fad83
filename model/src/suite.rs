//! `SymbolicSuite`: the protocol's primitives as term constructors (perfect cryptography).

use ee2e_spec::{CryptoError, Fresh, Input, SigScheme, Suite};

use crate::term::{Node, Party, Purpose, Term};

/// The symbolic suite. Decryption succeeds only with the matching key (and label, IV);
/// verification only for the exact signed term; hashes and MACs are one-way and injective.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SymbolicSuite;

/// A party's deterministic streams of fresh names, one per purpose.
///
/// One stream per purpose rather than one per party: a name then depends only on how many of
/// its kind the party drew before, so two steps of one party that draw different kinds (a
/// message's IV, a session's key and OAEP seed) name the same values in either order, and the
/// two orders reach one state instead of two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SymRng {
    /// Whose stream.
    pub party: Party,
    /// Names drawn so far, per purpose (indexed by `Purpose as usize`).
    pub drawn: [u16; Purpose::COUNT],
}

impl SymRng {
    /// A fresh stream for `party`.
    pub fn new(party: Party) -> Self {
        SymRng::at(party, 0)
    }
    /// `party`'s streams, each starting at index `start` (the attacker's per-injection names).
    pub fn at(party: Party, start: u16) -> Self {
        SymRng { party, drawn: [start; Purpose::COUNT] }
    }
    /// The next fresh name for `purpose`.
    pub fn draw(&mut self, purpose: Purpose) -> Term {
        let n = &mut self.drawn[purpose as usize];
        let t = Term::fresh(self.party, purpose, *n);
        *n += 1;
        t
    }
}

fn input(i: Input<'_, Term>) -> Term {
    match i {
        Input::Raw(t) => t.clone(),
        Input::Tuple(parts) => Term::new(Node::Tuple(parts.iter().map(|t| (*t).clone()).collect())),
    }
}

impl Suite for SymbolicSuite {
    type Value = Term;
    type PrivateKey = Party;
    type CipherKey = Term;
    type MacKey = Term;
    type Rng = SymRng;

    fn constant(bytes: &[u8]) -> Term {
        Term::constant(bytes)
    }
    fn tuple(parts: &[&Term]) -> Term {
        input(Input::Tuple(parts))
    }
    fn public_key(key: &Party) -> Term {
        Term::pk(*key)
    }
    fn check_public_key(public_key: &Term) -> Result<(), CryptoError> {
        match public_key.node() {
            Node::Pk(_) => Ok(()),
            _ => Err(CryptoError::InvalidKey),
        }
    }
    fn random(rng: &mut SymRng, purpose: Fresh) -> Term {
        rng.draw(match purpose {
            Fresh::Otp => Purpose::Otp,
            Fresh::SessionKey => Purpose::SessionKey,
            Fresh::Iv => Purpose::Iv,
        })
    }
    fn sha256(i: Input<'_, Term>) -> Term {
        Term::new(Node::Hash(input(i)))
    }
    fn mac_key(key: &Term) -> Term {
        key.clone()
    }
    fn hmac(key: &Term, i: Input<'_, Term>) -> Term {
        Term::new(Node::Hmac(key.clone(), input(i)))
    }
    fn hmac_verify(key: &Term, i: Input<'_, Term>, tag: &Term) -> bool {
        Self::hmac(key, i) == *tag
    }
    fn ct_eq(a: &Term, b: &Term) -> bool {
        a == b
    }
    fn pbkdf2(password: &Term, salt: &Term, _iterations: u32) -> Term {
        Term::new(Node::Pbkdf2(password.clone(), salt.clone()))
    }
    fn hkdf(ikm: &Term, salt: &Term, info: &Term) -> Term {
        Term::new(Node::Hkdf(ikm.clone(), salt.clone(), info.clone()))
    }
    fn pke_encrypt(pk: &Term, label: &Term, msg: &Term, rng: &mut SymRng) -> Result<Term, CryptoError> {
        Self::check_public_key(pk)?;
        let nonce = rng.draw(Purpose::Nonce);
        Ok(Term::new(Node::AEnc { pk: pk.clone(), msg: msg.clone(), label: label.clone(), nonce }))
    }
    fn pke_decrypt(
        key: &Party,
        label: &Term,
        ciphertext: &Term,
        _rng: &mut SymRng,
    ) -> Result<Term, CryptoError> {
        match ciphertext.node() {
            Node::AEnc { pk, msg, label: l, .. } if *pk == Term::pk(*key) && l == label => Ok(msg.clone()),
            _ => Err(CryptoError::Decrypt),
        }
    }
    fn sign(
        key: &Party,
        scheme: SigScheme,
        i: Input<'_, Term>,
        _rng: &mut SymRng,
    ) -> Result<Term, CryptoError> {
        Ok(Term::new(Node::Sig { signer: *key, scheme, msg: input(i) }))
    }
    fn verify(pk: &Term, scheme: SigScheme, i: Input<'_, Term>, signature: &Term) -> Result<(), CryptoError> {
        let Node::Pk(signer) = pk.node() else { return Err(CryptoError::InvalidKey) };
        let expected = Term::new(Node::Sig { signer: *signer, scheme, msg: input(i) });
        if expected == *signature { Ok(()) } else { Err(CryptoError::BadSignature) }
    }
    fn cipher_key(key: &Term) -> Result<Term, CryptoError> {
        Ok(key.clone())
    }
    fn encrypt(key: &Term, iv: &Term, msg: &Term) -> Result<Term, CryptoError> {
        Ok(Term::new(Node::SEnc { key: key.clone(), iv: iv.clone(), msg: msg.clone() }))
    }
    fn decrypt(key: &Term, iv: &Term, ciphertext: &Term) -> Result<Term, CryptoError> {
        match ciphertext.node() {
            Node::SEnc { key: k, iv: v, msg } if k == key && v == iv => Ok(msg.clone()),
            _ => Err(CryptoError::Decrypt),
        }
    }
}
