//! The hardened ACK names its message by the message's MAC tag (SPEC.md §7.2, §8.1): the
//! sender records the tag it sent, the recipient acknowledges with the tag it verified, and
//! no hash of the ciphertext is computed for it. The seed's ACK names no message, so seed
//! sessions record an empty tag.

use ee2e::{Bytes, ConcreteSuite as S};
use ee2e_fixtures as fixtures;
use ee2e_spec::{Ack, Mode, Profile, Rejection, Role, Sealed, Session};

#[test]
fn the_hardened_ack_carries_the_message_mac_and_the_seed_none() {
    let key = Bytes::secret(vec![7; 32]);
    let (alice, bob) = (fixtures::phone("alice"), fixtures::phone("bob"));
    let transport = Bytes::public(vec![1; 256]);
    for profile in [Profile::SEED, Profile::HARDENED, Profile::parse("hardened-without-E6").expect("profile")]
    {
        let mode = || Mode::<S>::of_transport(profile, &transport);
        let mut sender = Session::new(mode(), bob.clone(), Role::Initiator, key.clone()).expect("session");
        let receiver = Session::new(mode(), alice.clone(), Role::Responder, key.clone()).expect("session");
        let plaintext = Bytes::secret(b"hello".to_vec());
        let (sealed, outstanding) =
            sender.seal(&alice, 0, &plaintext, Bytes::public(vec![9; 16])).expect("seal");
        let opened = receiver.open(&bob, &sealed).expect("open");
        assert_eq!(opened.plaintext, plaintext);
        let ack = receiver.ack(&opened);
        sender.verify_ack(&ack).expect("the ACK verifies");
        match (&sealed, &ack) {
            (Sealed::Seed { .. }, Ack::Seed { .. }) => {
                assert!(outstanding.tag.is_empty(), "{profile}: the sender records no tag");
                assert!(opened.tag.is_empty(), "{profile}: the recipient records no tag");
            }
            (Sealed::Hardened { mac, .. }, Ack::Hardened { tag, .. }) => {
                assert_eq!(mac.len(), 32);
                assert_eq!(outstanding.tag, *mac, "{profile}: the sender records the MAC it sent");
                assert_eq!(opened.tag, *mac, "{profile}: the recipient keeps the MAC it verified");
                assert_eq!(tag, mac, "{profile}: the ACK carries it");
            }
            _ => panic!("{profile}: the message and its ACK have different layouts"),
        }
    }
}

/// E6 with the tag: two messages in one session; Bob's validly MACed ACK naming the second
/// message's sequence number with the first message's tag does not acknowledge the second.
/// The session only verifies the MAC (it holds); matching the tag is the client's check 7
/// (`tests/checks_client.rs`, `AckMismatch`), so here the tag is shown to differ per message.
#[test]
fn each_message_has_its_own_tag_and_a_moved_tag_fails_the_ack_mac() {
    let key = Bytes::secret(vec![7; 32]);
    let (alice, bob) = (fixtures::phone("alice"), fixtures::phone("bob"));
    let mode = || Mode::<S>::of_transport(Profile::HARDENED, &Bytes::public(vec![1; 256]));
    let mut sender = Session::new(mode(), bob.clone(), Role::Initiator, key.clone()).expect("session");
    let receiver = Session::new(mode(), alice.clone(), Role::Responder, key).expect("session");
    // The same plaintext and IV twice: only the sequence number differs, and so does the tag.
    let same = Bytes::secret(b"same".to_vec());
    let (first, one) = sender.seal(&alice, 0, &same, Bytes::public(vec![9; 16])).expect("seal");
    let (_second, two) = sender.seal(&alice, 1, &same, Bytes::public(vec![9; 16])).expect("seal");
    assert_ne!(one.tag, two.tag, "the tag covers the sequence number");
    let ack = receiver.ack(&receiver.open(&bob, &first).expect("open"));
    let Ack::Hardened { session, mac, .. } = ack.clone() else { panic!("a hardened ACK") };
    // The first ACK's MAC with its seq moved to the second message: the MAC covers seq.
    let moved = Ack::Hardened { session, seq: 1, tag: two.tag.clone(), mac };
    assert_eq!(sender.verify_ack(&moved), Err(Rejection::BadMac));
    sender.verify_ack(&ack).expect("the honest ACK");
}
