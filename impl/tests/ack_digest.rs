//! The ACK digest `SHA256(T(IV, C))` (SPEC.md §7.2, §8.1) is computed only where an ACK
//! carries it: on the hardened wire, by the sender (its outstanding record) and by the
//! recipient (its ACK). The seed's ACK names no message, so seed sessions record an empty
//! digest and spend no hash on it.

use ee2e::{Bytes, ConcreteSuite as S, fixtures};
use ee2e_spec::{Ack, Input, Mode, Profile, Role, Sealed, Session, Suite};

#[test]
fn only_the_hardened_wire_hashes_iv_and_ciphertext_for_the_ack() {
    let key = Bytes::secret(vec![7; 32]);
    let (alice, bob) = (fixtures::phone("alice"), fixtures::phone("bob"));
    let transport = Bytes::public(vec![1; 256]);
    for profile in [Profile::SEED, Profile::HARDENED, Profile::parse("hardened-without-E6").expect("profile")]
    {
        let mode = || Mode::<S>::of_transport(profile, &transport);
        let mut sender = Session::new(mode(), bob.clone(), Role::Initiator, key.clone()).expect("session");
        let receiver = Session::new(mode(), alice.clone(), Role::Responder, key.clone()).expect("session");
        let iv = Bytes::public(vec![9; 16]);
        let plaintext = Bytes::secret(b"hello".to_vec());
        let (sealed, outstanding) = sender.seal(&alice, 0, &plaintext, iv.clone()).expect("seal");
        let ciphertext = match &sealed {
            Sealed::Seed { ciphertext, .. } | Sealed::Hardened { ciphertext, .. } => ciphertext.clone(),
        };
        let opened = receiver.open(&bob, &sealed).expect("open");
        assert_eq!(opened.plaintext, plaintext);
        let ack = receiver.ack(&opened);
        sender.verify_ack(&ack).expect("the ACK verifies");
        if profile == Profile::SEED {
            assert!(outstanding.digest.is_empty(), "{profile}: the sender hashes nothing");
            assert!(opened.digest.is_empty(), "{profile}: the recipient hashes nothing");
            assert!(matches!(ack, Ack::Seed { .. }));
        } else {
            let digest = S::sha256(Input::Tuple(&[&iv, &ciphertext]));
            assert_eq!(digest.len(), 32);
            assert_eq!(outstanding.digest, digest, "{profile}: the sender records the digest");
            assert_eq!(opened.digest, digest, "{profile}: the recipient computes the same");
            let Ack::Hardened { digest: carried, .. } = &ack else { panic!("{profile}: a hardened ACK") };
            assert_eq!(*carried, digest, "{profile}: the ACK carries it");
        }
    }
}
