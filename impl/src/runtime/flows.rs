//! High-level flows over the runtime: registration, session set-up, sending. Each drives the
//! client's core, runs the network until idle and reads the outcome from the transcript.

use ee2e_spec::{ClientError, ClientEvent, DirectoryEntry, Phone, Registration};

use super::{Entry, Record, Runtime, RuntimeError};
use crate::suite::{ConcreteSuite, PrivateKey};
use crate::value::Bytes;

impl Runtime {
    /// Seed 1.1–1.2: the client asks for an OTP; returns the code that arrived by SMS.
    pub fn request_otp(&mut self, phone: &Phone) -> Result<Bytes, RuntimeError> {
        let mark = self.transcript().len();
        self.act(phone, |client, _| Ok::<_, ClientError>(client.register()))?;
        self.run_until_idle()?;
        match self.take_otp(phone) {
            Some(otp) => Ok(otp),
            None => {
                Err(self.failure_since(mark, phone).unwrap_or_else(|| RuntimeError::NoOtp(phone.clone())))
            }
        }
    }

    /// Seed 1.4–1.6: the client proves the OTP and submits its key; returns the server-signed
    /// entry once the client has verified it.
    pub fn submit_otp(
        &mut self,
        phone: &Phone,
        otp: &Bytes,
    ) -> Result<DirectoryEntry<ConcreteSuite>, RuntimeError> {
        let mark = self.transcript().len();
        self.act(phone, |client, rng| client.otp_received(otp, rng))?;
        self.run_until_idle()?;
        if let Some(Registration::Registered(entry)) = self.client(phone).map(|c| c.registration())
            && self.since(mark).iter().any(|r| is_event(r, phone, |e| matches!(e, ClientEvent::Registered)))
        {
            return Ok(entry.clone());
        }
        Err(self
            .failure_since(mark, phone)
            .unwrap_or_else(|| RuntimeError::Incomplete { phone: phone.clone(), what: "registration" }))
    }

    /// Registers an added client (OTP request, SMS, submission, result) and connects it, so
    /// that the server relays to it.
    pub fn register_client(&mut self, phone: &Phone) -> Result<DirectoryEntry<ConcreteSuite>, RuntimeError> {
        let otp = self.request_otp(phone)?;
        let entry = self.submit_otp(phone, &otp)?;
        self.connect(phone)?;
        Ok(entry)
    }

    /// Adds a client without keystore and registers it ([`register_client`](Self::register_client)).
    pub fn register(
        &mut self,
        phone: &Phone,
        key: PrivateKey,
    ) -> Result<DirectoryEntry<ConcreteSuite>, RuntimeError> {
        self.add_client(phone.clone(), key, None)?;
        self.register_client(phone)
    }

    /// Seed 2: `a` fetches `b`'s key and sends `b` a session key. Succeeds once `a` holds the
    /// session; `b` holds it too if it is online (otherwise when it next connects).
    pub fn start_session(&mut self, a: &Phone, b: &Phone) -> Result<(), RuntimeError> {
        let mark = self.transcript().len();
        self.act(a, |client, _| client.start_session(b))?;
        self.run_until_idle()?;
        let established = self.since(mark).iter().any(|r| {
            is_event(r, a, |e| matches!(e, ClientEvent::SessionEstablished { peer, .. } if peer == b))
        });
        if established {
            Ok(())
        } else {
            Err(self
                .failure_since(mark, a)
                .unwrap_or_else(|| RuntimeError::Incomplete { phone: a.clone(), what: "session set-up" }))
        }
    }

    /// Seed 3: `a` seals `plaintext` for `b` and the network runs until idle; returns `a`'s
    /// local message id. What happens downstream (acceptance, ACK) is in the transcript:
    /// see [`accepted`](Self::accepted) and [`acked`](Self::acked).
    pub fn send(&mut self, a: &Phone, b: &Phone, plaintext: &[u8]) -> Result<u64, RuntimeError> {
        let mark = self.transcript().len();
        let plaintext = Bytes::secret(plaintext.to_vec());
        self.act(a, |client, rng| client.send(b, &plaintext, rng))?;
        let id = self.since(mark).iter().find_map(|r| match &r.entry {
            Entry::Client(ClientEvent::MessageSent { id, .. }) => Some(*id),
            _ => None,
        });
        self.run_until_idle()?;
        id.ok_or_else(|| RuntimeError::Incomplete { phone: a.clone(), what: "send" })
    }

    /// The first failure at `phone` since `mark`: an error reply, or a message it rejected.
    fn failure_since(&self, mark: usize, phone: &Phone) -> Option<RuntimeError> {
        self.since(mark).iter().filter(|r| r.node == super::Address::Client(phone.clone())).find_map(|r| {
            match &r.entry {
                Entry::Client(ClientEvent::ServerError(code)) => {
                    Some(RuntimeError::Rejected { phone: phone.clone(), code: *code })
                }
                Entry::ClientError { kind, error } => {
                    Some(RuntimeError::Refused { phone: phone.clone(), kind: *kind, error: error.clone() })
                }
                _ => None,
            }
        })
    }
}

fn is_event(record: &Record, phone: &Phone, f: impl Fn(&ClientEvent<ConcreteSuite>) -> bool) -> bool {
    matches!((&record.node, &record.entry), (super::Address::Client(p), Entry::Client(e)) if p == phone && f(e))
}
