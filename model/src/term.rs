//! Symbolic terms: values of the perfect-cryptography world.

use std::fmt;
use std::sync::Arc;

use ee2e_spec::SigScheme;

/// A party's index: a key pair `Pk(i)`/`Sk(i)` and an RNG stream belong to it.
pub type Party = u8;

/// What a fresh name was drawn for (the symbolic counterpart of [`ee2e_spec::Fresh`] plus the
/// randomness hidden inside randomized encryption and the model's plaintexts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Purpose {
    /// A one-time password (a weak secret).
    Otp,
    /// A session key `K`.
    SessionKey,
    /// An IV.
    Iv,
    /// The random seed of an OAEP encryption.
    Nonce,
    /// An application plaintext.
    Plaintext,
}

impl Purpose {
    /// How many purposes there are (`Plaintext` is the last).
    pub const COUNT: usize = Purpose::Plaintext as usize + 1;
}

/// A fresh name: drawn by `party`, the `n`-th of its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name {
    /// Who drew it.
    pub party: Party,
    /// What for.
    pub purpose: Purpose,
    /// Position in the party's stream.
    pub n: u16,
}

/// A term. Cheap to clone; equality and order are structural. Its hash is computed once, when
/// the term is built, because the model checker hashes every state it visits.
#[derive(Clone)]
pub struct Term(Arc<Inner>);

/// A term's node with what is computed once when it is built.
struct Inner {
    /// The node's hash.
    hash: u64,
    /// One bit (of 64, by hash) for each leaf (constant, name or key) in the term: a term
    /// can contain another only if it has every bit of the other's, which settles most
    /// [`Term::contains`] queries without walking the tree.
    leaves: u64,
    node: Node,
}

impl PartialEq for Term {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || (self.0.hash == other.0.hash && self.0.node == other.0.node)
    }
}

impl Eq for Term {}

impl std::hash::Hash for Term {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.0.hash);
    }
}

impl PartialOrd for Term {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Term {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        if Arc::ptr_eq(&self.0, &other.0) {
            std::cmp::Ordering::Equal
        } else {
            self.0.node.cmp(&other.0.node)
        }
    }
}

/// The constructors of the term algebra.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    /// A public constant: label, phone number, sequence number, version byte.
    Const(Box<[u8]>),
    /// A fresh name.
    Fresh(Name),
    /// A party's public key.
    Pk(Party),
    /// A party's private key.
    Sk(Party),
    /// SHA-256.
    Hash(Term),
    /// HMAC (key, message).
    Hmac(Term, Term),
    /// PBKDF2 (password, salt).
    Pbkdf2(Term, Term),
    /// HKDF (ikm, salt, info).
    Hkdf(Term, Term, Term),
    /// RSA-OAEP encryption; `nonce` is the encryption's randomness.
    AEnc {
        /// Public key.
        pk: Term,
        /// Plaintext.
        msg: Term,
        /// OAEP label.
        label: Term,
        /// Randomness.
        nonce: Term,
    },
    /// A signature by `Sk(signer)`; it does not reveal `msg`.
    Sig {
        /// Signer.
        signer: Party,
        /// Scheme.
        scheme: SigScheme,
        /// Signed message.
        msg: Term,
    },
    /// Symmetric encryption.
    SEnc {
        /// Key.
        key: Term,
        /// IV.
        iv: Term,
        /// Plaintext.
        msg: Term,
    },
    /// A tuple.
    Tuple(Vec<Term>),
}

impl Term {
    /// Wraps a node.
    pub fn new(node: Node) -> Term {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        node.hash(&mut h);
        let hash = h.finish();
        let leaves = match &node {
            Node::Const(_) | Node::Fresh(_) | Node::Pk(_) | Node::Sk(_) => 1 << (hash % 64),
            Node::Hash(a) => a.0.leaves,
            Node::Hmac(a, b) | Node::Pbkdf2(a, b) => a.0.leaves | b.0.leaves,
            Node::Hkdf(a, b, c) => a.0.leaves | b.0.leaves | c.0.leaves,
            Node::AEnc { pk, msg, label, nonce } => {
                pk.0.leaves | msg.0.leaves | label.0.leaves | nonce.0.leaves
            }
            Node::Sig { msg, .. } => msg.0.leaves,
            Node::SEnc { key, iv, msg } => key.0.leaves | iv.0.leaves | msg.0.leaves,
            Node::Tuple(parts) => parts.iter().fold(0, |m, p| m | p.0.leaves),
        };
        Term(Arc::new(Inner { hash, leaves, node }))
    }
    /// The node.
    pub fn node(&self) -> &Node {
        &self.0.node
    }
    /// A constant.
    pub fn constant(bytes: &[u8]) -> Term {
        Term::new(Node::Const(bytes.into()))
    }
    /// A fresh name.
    pub fn fresh(party: Party, purpose: Purpose, n: u16) -> Term {
        Term::new(Node::Fresh(Name { party, purpose, n }))
    }
    /// `Pk(party)`.
    pub fn pk(party: Party) -> Term {
        Term::new(Node::Pk(party))
    }
    /// `Sk(party)`.
    pub fn sk(party: Party) -> Term {
        Term::new(Node::Sk(party))
    }

    /// Whether `needle` occurs in this term.
    pub fn contains(&self, needle: &Term) -> bool {
        if needle.0.leaves & !self.0.leaves != 0 {
            return false;
        }
        if self == needle {
            return true;
        }
        match self.node() {
            Node::Const(_) | Node::Fresh(_) | Node::Pk(_) | Node::Sk(_) => false,
            Node::Hash(a) => a.contains(needle),
            Node::Hmac(a, b) | Node::Pbkdf2(a, b) => a.contains(needle) || b.contains(needle),
            Node::Hkdf(a, b, c) => a.contains(needle) || b.contains(needle) || c.contains(needle),
            Node::AEnc { pk, msg, label, nonce } => {
                pk.contains(needle)
                    || msg.contains(needle)
                    || label.contains(needle)
                    || nonce.contains(needle)
            }
            Node::Sig { msg, .. } => msg.contains(needle),
            Node::SEnc { key, iv, msg } => {
                key.contains(needle) || iv.contains(needle) || msg.contains(needle)
            }
            Node::Tuple(parts) => parts.iter().any(|p| p.contains(needle)),
        }
    }
}

fn party_name(p: Party) -> String {
    crate::config::party_name(p).to_string()
}

impl fmt::Debug for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.node() {
            Node::Const(bytes) => match crate::config::phone_name(bytes) {
                Some(name) => write!(f, "{name}"),
                None if bytes.iter().all(|b| b.is_ascii_graphic() || *b == b' ') && !bytes.is_empty() => {
                    write!(f, "\"{}\"", String::from_utf8_lossy(bytes))
                }
                None if bytes.len() == 8 => {
                    write!(f, "{}", u64::from_be_bytes(bytes[..].try_into().unwrap_or([0; 8])))
                }
                None => write!(f, "0x{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()),
            },
            Node::Fresh(Name { party, purpose, n }) => {
                let p = match purpose {
                    Purpose::Otp => "otp",
                    Purpose::SessionKey => "K",
                    Purpose::Iv => "iv",
                    Purpose::Nonce => "r",
                    Purpose::Plaintext => "M",
                };
                write!(f, "{p}_{}{n}", party_name(*party))
            }
            Node::Pk(p) => write!(f, "pk({})", party_name(*p)),
            Node::Sk(p) => write!(f, "sk({})", party_name(*p)),
            Node::Hash(a) => write!(f, "h({a})"),
            Node::Hmac(k, m) => write!(f, "hmac({k}, {m})"),
            Node::Pbkdf2(p, s) => write!(f, "pbkdf2({p}, {s})"),
            Node::Hkdf(a, b, c) => write!(f, "hkdf({a}, {b}, {c})"),
            Node::AEnc { pk, msg, label, .. } => write!(f, "aenc({pk}, {msg}, {label})"),
            Node::Sig { signer, msg, .. } => write!(f, "sig({}, {msg})", party_name(*signer)),
            Node::SEnc { key, msg, .. } => write!(f, "senc({key}, {msg})"),
            Node::Tuple(parts) => {
                write!(f, "(")?;
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{p}")?;
                }
                write!(f, ")")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `contains` by walking the whole tree, without the leaf mask.
    fn walk(t: &Term, needle: &Term) -> bool {
        t == needle
            || match t.node() {
                Node::Const(_) | Node::Fresh(_) | Node::Pk(_) | Node::Sk(_) => false,
                Node::Hash(a) | Node::Sig { msg: a, .. } => walk(a, needle),
                Node::Hmac(a, b) | Node::Pbkdf2(a, b) => walk(a, needle) || walk(b, needle),
                Node::Hkdf(a, b, c) | Node::SEnc { key: a, iv: b, msg: c } => {
                    walk(a, needle) || walk(b, needle) || walk(c, needle)
                }
                Node::AEnc { pk, msg, label, nonce } => {
                    [pk, msg, label, nonce].into_iter().any(|p| walk(p, needle))
                }
                Node::Tuple(parts) => parts.iter().any(|p| walk(p, needle)),
            }
    }

    #[test]
    fn the_leaf_mask_never_changes_what_a_term_contains() {
        // 200 leaves over 64 mask bits: many share a bit, so both the mask's early "no" and
        // the walk behind a shared bit are exercised.
        let leaves: Vec<Term> = (0..200u16)
            .map(|n| match n % 4 {
                0 => Term::fresh((n % 3) as u8, Purpose::Iv, n),
                1 => Term::constant(&n.to_be_bytes()),
                2 => Term::fresh(1, Purpose::Otp, n),
                _ => Term::pk((n % 5) as u8),
            })
            .collect();
        let mut terms = leaves.clone();
        for i in 0..150 {
            let a = &terms[(i * 7) % terms.len()];
            let b = &terms[(i * 13 + 5) % terms.len()];
            let node = match i % 5 {
                0 => Node::Hash(a.clone()),
                1 => Node::Hmac(a.clone(), b.clone()),
                2 => Node::SEnc { key: a.clone(), iv: b.clone(), msg: leaves[i % 200].clone() },
                3 => Node::Tuple(vec![a.clone(), b.clone(), leaves[(i * 3) % 200].clone()]),
                _ => Node::Sig { signer: 2, scheme: SigScheme::Pkcs1v15Sha256, msg: a.clone() },
            };
            terms.push(Term::new(node));
        }
        let (mut yes, mut no) = (0, 0);
        for t in &terms {
            for needle in &terms {
                let expected = walk(t, needle);
                assert_eq!(t.contains(needle), expected, "{t} contains {needle}");
                if expected { yes += 1 } else { no += 1 }
            }
        }
        assert!(yes > 500 && no > 50_000, "both answers exercised: {yes} yes, {no} no");
    }
}
