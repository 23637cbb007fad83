//! Hostile frames against the TCP front end (SPEC.md §2.5, §14 "TCP front end"): garbage,
//! truncated, oversized and undecodable frames, a slow sender stalling mid-frame, frames
//! before the claim, a second claim of an address, and a connection flood past the limit.
//! Each asserts the specified `Close` reason (or the plain close) and that a well-behaved
//! connection opened alongside still gets its answers.

use std::time::Duration;

use ee2e::codec;
use ee2e_fixtures as fixtures;
use ee2e_net::client::{Connection, NetError};
use ee2e_net::frame::{CloseReason, Frame, MAX_FRAME};
use ee2e_net::server::{Limits, Running};
use ee2e_spec::{ErrorCode, Message, Phone, Profile};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod support;

use support::{WAIT, framed, start};

fn limits() -> Limits {
    Limits {
        max_connections: 8,
        handshake_timeout: Duration::from_millis(400),
        idle_timeout: Duration::from_secs(5),
        frame_timeout: Duration::from_millis(300),
        ..Limits::default()
    }
}

/// A well-behaved connection: claims an address and asks for an unregistered peer's key,
/// which the server refuses with `NotRegistered` (the sender is not registered) and then
/// acknowledges.
async fn well_behaved(running: &Running) {
    // A fresh address each time: a closed connection's claim is released asynchronously.
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let phone = Phone::parse(&format!("+1555009{n:04}")).unwrap();
    let mut conn = Connection::open(running.addr(), &phone, WAIT).await.expect("connects");
    let request = Message::KeyRequest { peer: fixtures::phone("bob") };
    conn.send(&codec::encode(Profile::HARDENED.wire(), &request).unwrap()).await.unwrap();
    let reply = conn.next().await.expect("an error reply");
    let error =
        codec::encode(Profile::HARDENED.wire(), &Message::Error { code: ErrorCode::NotRegistered }).unwrap();
    assert_eq!(reply, Frame::Message(error));
    assert_eq!(conn.next().await.expect("handled"), Frame::Handled);
}

/// Reads what the server sends until it closes; returns the frames' payloads.
async fn read_to_close(stream: &mut TcpStream) -> Vec<Vec<u8>> {
    let mut bytes = Vec::new();
    let read = tokio::time::timeout(WAIT, stream.read_to_end(&mut bytes)).await.expect("the server closes");
    // A reset after the Close frame is fine; what was read before it counts.
    let _ = read;
    let mut frames = Vec::new();
    let mut rest = &bytes[..];
    while rest.len() >= 4 {
        let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
        frames.push(rest[4..4 + len].to_vec());
        rest = &rest[4 + len..];
    }
    frames
}

fn close(reason: CloseReason) -> Vec<Vec<u8>> {
    vec![Frame::Close(reason).encode()]
}

fn claim(phone: &str) -> Vec<u8> {
    framed(&Frame::Claim(Phone::parse(phone).unwrap()).encode())
}

async fn raw(running: &Running) -> TcpStream {
    TcpStream::connect(running.addr()).await.expect("connects")
}

#[tokio::test]
async fn garbage_and_undecodable_frames_are_closed_as_malformed() {
    let running = start(limits()).await;
    for payload in [&b"\xff\xfe garbage"[..], b"\x00\x09", b"\x02\x10\x11", b"\x01\x10\x0c+15551234567"] {
        let mut stream = raw(&running).await;
        stream.write_all(&claim("+15550000101")).await.unwrap();
        stream.write_all(&framed(payload)).await.unwrap();
        // A v1 message to the hardened server is WrongVersion: no protocol reply, closed.
        assert_eq!(read_to_close(&mut stream).await, close(CloseReason::Malformed), "{payload:?}");
        well_behaved(&running).await;
    }
    running.shutdown().await;
}

#[tokio::test]
async fn oversized_and_empty_length_prefixes_are_refused_unread() {
    let running = start(limits()).await;
    for len in [MAX_FRAME as u32 + 1, u32::MAX, 0] {
        let mut stream = raw(&running).await;
        stream.write_all(&claim("+15550000102")).await.unwrap();
        stream.write_all(&len.to_be_bytes()).await.unwrap();
        assert_eq!(read_to_close(&mut stream).await, close(CloseReason::FrameTooLong), "length {len}");
        well_behaved(&running).await;
    }
    running.shutdown().await;
}

#[tokio::test]
async fn a_truncated_frame_is_dropped_and_the_address_freed() {
    let running = start(limits()).await;
    let mut stream = raw(&running).await;
    stream.write_all(&claim("+15550000103")).await.unwrap();
    // Announces 100 bytes, sends 10, and goes away.
    stream.write_all(&100u32.to_be_bytes()).await.unwrap();
    stream.write_all(&[2; 10]).await.unwrap();
    drop(stream);
    well_behaved(&running).await;
    // The address is free again once the server saw the end.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let phone = Phone::parse("+15550000103").unwrap();
    let mut again = Connection::open(running.addr(), &phone, WAIT).await.unwrap();
    again.write(&Frame::Confirm).await.unwrap();
    // Claimed (a refused claim would be AddressInUse); nothing delivered, so Unexpected.
    assert!(matches!(again.next().await, Err(NetError::Refused(CloseReason::Unexpected))));
    running.shutdown().await;
}

#[tokio::test]
async fn a_sender_stalling_mid_frame_times_out() {
    let running = start(limits()).await;
    let mut stalled = raw(&running).await;
    stalled.write_all(&claim("+15550000104")).await.unwrap();
    stalled.write_all(&50u32.to_be_bytes()).await.unwrap();
    stalled.write_all(&[2, 0x10]).await.unwrap();
    // While it stalls, another connection is served.
    well_behaved(&running).await;
    let started = std::time::Instant::now();
    assert_eq!(read_to_close(&mut stalled).await, close(CloseReason::Timeout));
    assert!(started.elapsed() < Duration::from_secs(3), "closed by the frame timeout, not later");
    running.shutdown().await;
}

#[tokio::test]
async fn the_first_frame_must_be_a_claim_in_time() {
    let running = start(limits()).await;
    // A message before the claim.
    let mut early = raw(&running).await;
    let request =
        codec::encode(Profile::HARDENED.wire(), &Message::KeyRequest { peer: fixtures::phone("bob") })
            .unwrap();
    early.write_all(&framed(&request)).await.unwrap();
    assert_eq!(read_to_close(&mut early).await, close(CloseReason::NotClaimed));
    // No claim at all: the handshake timeout.
    let mut silent = raw(&running).await;
    well_behaved(&running).await;
    assert_eq!(read_to_close(&mut silent).await, close(CloseReason::Timeout));
    // A second claim, and a confirmation with nothing delivered.
    for second in [claim("+15550000105"), framed(&Frame::Confirm.encode()), framed(&Frame::Handled.encode())]
    {
        let mut stream = raw(&running).await;
        stream.write_all(&claim("+15550000105")).await.unwrap();
        stream.write_all(&second).await.unwrap();
        assert_eq!(read_to_close(&mut stream).await, close(CloseReason::Unexpected));
    }
    running.shutdown().await;
}

#[tokio::test]
async fn an_address_is_claimed_by_one_connection_at_a_time() {
    let running = start(limits()).await;
    let phone = Phone::parse("+15550000106").unwrap();
    let _first = Connection::open(running.addr(), &phone, WAIT).await.unwrap();
    let mut second = Connection::open(running.addr(), &phone, WAIT).await.unwrap();
    match second.next().await {
        Err(NetError::Refused(CloseReason::AddressInUse)) => {}
        other => panic!("expected AddressInUse, got {other:?}"),
    }
    well_behaved(&running).await;
    running.shutdown().await;
}

#[tokio::test]
async fn a_flood_past_the_connection_limit_is_refused_busy() {
    let limits = Limits { max_connections: 4, ..limits() };
    let running = start(limits).await;
    let mut held = Vec::new();
    for i in 0..3 {
        let phone = Phone::parse(&format!("+1555000020{i}")).unwrap();
        held.push(Connection::open(running.addr(), &phone, WAIT).await.unwrap());
    }
    // The fourth slot is the well-behaved one's, opened before the flood.
    let phone = Phone::parse("+15550000001").unwrap();
    let mut good = Connection::open(running.addr(), &phone, WAIT).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut refused = 0;
    for _ in 0..20 {
        let mut stream = raw(&running).await;
        if read_to_close(&mut stream).await == close(CloseReason::Busy) {
            refused += 1;
        }
    }
    assert_eq!(refused, 20, "every connection past the limit is told Busy");
    let request =
        codec::encode(Profile::HARDENED.wire(), &Message::KeyRequest { peer: fixtures::phone("bob") })
            .unwrap();
    good.send(&request).await.unwrap();
    assert!(matches!(good.next().await, Ok(Frame::Message(_))));
    assert_eq!(good.next().await.unwrap(), Frame::Handled);
    drop(held);
    drop(good);
    let stats = running.shutdown().await;
    assert_eq!(stats.refused, 20);
}

#[tokio::test]
async fn shutdown_tells_open_connections() {
    let running = start(limits()).await;
    let phone = Phone::parse("+15550000107").unwrap();
    let mut conn = Connection::open(running.addr(), &phone, WAIT).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let stats = tokio::spawn(running.shutdown());
    match conn.next().await {
        Err(NetError::Refused(CloseReason::ShuttingDown)) => {}
        other => panic!("expected ShuttingDown, got {other:?}"),
    }
    assert_eq!(stats.await.unwrap().connections, 1);
}
