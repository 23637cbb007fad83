//! Encoding tests (SPEC.md §4.6): build the message from its named fields, encode it. No
//! primitive runs, so the suite is `ConcreteSuite` whichever one is under test.

use std::collections::BTreeMap;

use ee2e::codec::{self, EncodeError};
use ee2e::{Bytes, ConcreteSuite as S};
use ee2e_spec::{Ack, DirectoryEntry, Message, Phone, Profile, RegistrationProof, Sealed, Transport};

use super::{Problem, parse_phone};
use crate::schema::{EncodeTest, Hex};

/// What encoding a test's message gave: the bytes, or the error's name and field.
pub(crate) type Encoded = Result<Hex, (String, Option<String>)>;

/// Builds the test's message and encodes it under the profile's wire.
pub(crate) fn run_encode(profile: Profile, test: &EncodeTest) -> Result<Encoded, Problem> {
    let message = build(test)?;
    Ok(codec::encode(profile.wire(), &message).map(Hex).map_err(|e| {
        let field = match &e {
            EncodeError::FieldTooLong { field, .. }
            | EncodeError::EmptyField { field }
            | EncodeError::WrongLength { field, .. } => Some((*field).to_string()),
            _ => None,
        };
        (e.name().to_string(), field)
    }))
}

struct Fields<'a>(&'a BTreeMap<String, String>);

impl Fields<'_> {
    fn text(&self, name: &str) -> Result<&str, Problem> {
        self.0.get(name).map(String::as_str).ok_or_else(|| Problem::Malformed(format!("no field {name}")))
    }
    fn phone(&self, name: &str) -> Result<Phone, Problem> {
        parse_phone(self.text(name)?)
    }
    fn bytes(&self, name: &str) -> Result<Bytes, Problem> {
        hex::decode(self.text(name)?)
            .map(Bytes::public)
            .map_err(|e| Problem::Malformed(format!("field {name} is not hex: {e}")))
    }
    fn seq(&self, name: &str) -> Result<u64, Problem> {
        let b: [u8; 8] = self
            .bytes(name)?
            .as_slice()
            .try_into()
            .map_err(|_| Problem::Malformed(format!("{name} is not 8 bytes")))?;
        Ok(u64::from_be_bytes(b))
    }
    fn entry(&self) -> Result<DirectoryEntry<S>, Problem> {
        Ok(DirectoryEntry {
            phone: self.phone("DirectoryEntry.phone")?,
            public_key: self.bytes("DirectoryEntry.public_key")?,
            signature: self.bytes("DirectoryEntry.signature")?,
        })
    }
    fn transport(&self) -> Result<Transport<S>, Problem> {
        Ok(Transport {
            ciphertext: self.bytes("Transport.ciphertext")?,
            signature: self.bytes("Transport.signature")?,
        })
    }
    fn sealed(&self, layout: u8) -> Result<Sealed<S>, Problem> {
        let (iv, ciphertext, mac) =
            (self.bytes("Sealed.iv")?, self.bytes("Sealed.ciphertext")?, self.bytes("Sealed.mac")?);
        Ok(if layout == 1 {
            Sealed::Seed { iv, ciphertext, mac }
        } else {
            Sealed::Hardened {
                session: self.bytes("Sealed.session")?,
                seq: self.seq("Sealed.seq")?,
                iv,
                ciphertext,
                mac,
            }
        })
    }
    fn ack(&self, layout: u8) -> Result<Ack<S>, Problem> {
        let mac = self.bytes("Ack.mac")?;
        Ok(if layout == 1 {
            Ack::Seed { text: self.bytes("Ack.text")?, mac }
        } else {
            Ack::Hardened {
                session: self.bytes("Ack.session")?,
                seq: self.seq("Ack.seq")?,
                tag: self.bytes("Ack.tag")?,
                mac,
            }
        })
    }
    fn proof(&self, layout: u8) -> Result<RegistrationProof<S>, Problem> {
        Ok(if layout == 1 {
            RegistrationProof::Seed { tag: self.bytes("RegistrationProof.tag")? }
        } else {
            RegistrationProof::Hardened {
                sealed_tag: self.bytes("RegistrationProof.sealed_tag")?,
                possession: self.bytes("RegistrationProof.possession")?,
            }
        })
    }
}

fn build(test: &EncodeTest) -> Result<Message<S>, Problem> {
    let f = Fields(&test.fields);
    let layout = || match test.layout {
        Some(v @ (1 | 2)) => Ok(v),
        other => {
            Err(Problem::Malformed(format!("{} needs a layout of 1 or 2, not {other:?}", test.message_type)))
        }
    };
    Ok(match test.message_type.as_str() {
        "RegisterSubmit" => Message::RegisterSubmit {
            phone: f.phone("RegisterSubmit.phone")?,
            public_key: f.bytes("RegisterSubmit.public_key")?,
            proof: f.proof(layout()?)?,
        },
        "RegisterResult" => Message::RegisterResult { entry: f.entry()? },
        "PeerKey" => Message::PeerKey { entry: f.entry()? },
        "KeyTransport" => {
            Message::KeyTransport { to: f.phone("KeyTransport.to")?, transport: f.transport()? }
        }
        "KeyDelivery" => Message::KeyDelivery { from: f.entry()?, transport: f.transport()? },
        "Data" => Message::Data { to: f.phone("Data.to")?, sealed: f.sealed(layout()?)? },
        "DataDelivery" => {
            Message::DataDelivery { from: f.phone("DataDelivery.from")?, sealed: f.sealed(layout()?)? }
        }
        "Ack" => Message::Ack { to: f.phone("Ack.to")?, ack: f.ack(layout()?)? },
        "AckDelivery" => Message::AckDelivery { from: f.phone("AckDelivery.from")?, ack: f.ack(layout()?)? },
        other => return Err(Problem::Malformed(format!("encoding tests do not build a {other}"))),
    })
}
