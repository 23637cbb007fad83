//! The TCP front end's idle timeout and a slow reader (SPEC.md §2.5, §14 "TCP front end"):
//! a claimed connection that stays silent is closed with `Timeout` after `IDLE_TIMEOUT` (not
//! the handshake timeout), and a connection that never reads its replies is dropped once its
//! outbound queue is full, while another connection is served throughout.

use std::time::{Duration, Instant};

use ee2e::codec;
use ee2e_fixtures as fixtures;
use ee2e_net::client::Connection;
use ee2e_net::frame::{CloseReason, Frame};
use ee2e_net::server::{Limits, Running};
use ee2e_spec::{ErrorCode, Message, Phone, Profile};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

mod support;

use support::{WAIT, framed, start};

fn key_request() -> Vec<u8> {
    codec::encode(Profile::HARDENED.wire(), &Message::KeyRequest { peer: fixtures::phone("bob") }).unwrap()
}

/// A connection that asks for a key and gets its `NotRegistered` reply and `Handled`.
async fn served(running: &Running, phone: &str) {
    let mut conn =
        Connection::open(running.addr(), &Phone::parse(phone).unwrap(), WAIT).await.expect("connects");
    conn.send(&key_request()).await.unwrap();
    let error =
        codec::encode(Profile::HARDENED.wire(), &Message::Error { code: ErrorCode::NotRegistered }).unwrap();
    assert_eq!(conn.next().await.expect("an error reply"), Frame::Message(error));
    assert_eq!(conn.next().await.expect("handled"), Frame::Handled);
}

#[tokio::test]
async fn a_silent_claimed_connection_is_closed_after_the_idle_timeout() {
    let limits = Limits {
        handshake_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_millis(400),
        ..Limits::default()
    };
    let running = start(limits).await;
    let mut silent = TcpStream::connect(running.addr()).await.unwrap();
    silent.write_all(&framed(&Frame::Claim(Phone::parse("+15550000201").unwrap()).encode())).await.unwrap();
    let started = Instant::now();
    served(&running, "+15550000202").await;
    let mut bytes = Vec::new();
    let _ = tokio::time::timeout(WAIT, silent.read_to_end(&mut bytes)).await.expect("the server closes it");
    let elapsed = started.elapsed();
    assert_eq!(bytes, framed(&Frame::Close(CloseReason::Timeout).encode()));
    assert!(elapsed >= Duration::from_millis(350), "not before the idle timeout: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "by the idle timeout, not the handshake timeout: {elapsed:?}");
    running.shutdown().await;
}

#[tokio::test]
async fn a_connection_that_never_reads_is_dropped_at_its_queue_bound_and_blocks_nobody() {
    let limits = Limits { outbound_frames: 4, outbound_bytes: 64, ..Limits::default() };
    let running = start(limits).await;
    // A small receive window, so that the server's writes stall soon.
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut slow = socket.connect(running.addr()).await.unwrap();
    slow.write_all(&framed(&Frame::Claim(Phone::parse("+15550000301").unwrap()).encode())).await.unwrap();
    let request = framed(&key_request());
    let batch: Vec<u8> = request.iter().copied().cycle().take(request.len() * 256).collect();
    // Each request is answered with two frames the slow reader never reads; the server must
    // drop it (its writes then fail) long before it sent this many.
    let mut sent = 0usize;
    let dropped = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if slow.write_all(&batch).await.is_err() {
                return true;
            }
            sent += 256;
            if sent.is_multiple_of(4096) {
                // Meanwhile, another connection is served.
                served(&running, &format!("+1555000{:04}", 4000 + sent / 4096)).await;
            }
            if sent > 2_000_000 {
                return false;
            }
        }
    })
    .await
    .expect("the flood ends within the time");
    assert!(dropped, "the server dropped the connection that does not read ({sent} requests written)");
    served(&running, "+15550000399").await;
    running.shutdown().await;
}
