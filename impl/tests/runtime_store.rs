//! The runtime over an SQLite file: the tables exist, and messages the server accepted for an
//! offline client are on disk before it reconnects.

use ee2e::fixtures;
use ee2e::runtime::Runtime;
use ee2e::sqlite::SqliteStore;
use ee2e_spec::{Profile, Store};

fn tables(store: &SqliteStore) -> Vec<String> {
    let mut stmt = store
        .connection()
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .expect("query");
    stmt.query_map([], |row| row.get(0)).expect("rows").collect::<Result<_, _>>().expect("names")
}

fn file_store_run(profile: Profile) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("server.sqlite");
    let (alice, bob) = (fixtures::phone("alice"), fixtures::phone("bob"));
    let store = SqliteStore::open(&path, profile.wire()).expect("open");
    let mut rt = Runtime::builder(profile).store(store).seed([9; 32]).build().expect("runtime");
    rt.register(&alice, fixtures::named("alice").expect("key")).expect("register");
    rt.register(&bob, fixtures::named("bob").expect("key")).expect("register");
    rt.start_session(&alice, &bob).expect("session");
    rt.disconnect(&bob).expect("disconnect");
    for text in ["one", "two", "three"] {
        rt.send(&alice, &bob, text.as_bytes()).expect("send");
    }

    // Another connection to the file sees the committed queue and directory.
    let other = SqliteStore::open(&path, profile.wire()).expect("second connection");
    assert_eq!(other.queue_len(&bob).expect("queue"), 3);
    assert!(other.entry(&alice).expect("entry").is_some());

    rt.connect(&bob).expect("connect");
    assert_eq!(rt.accepted(&bob).len(), 3);
    assert_eq!(other.queue_len(&bob).expect("queue"), 0);
    drop(rt);

    let reopened = SqliteStore::open(&path, profile.wire()).expect("reopen");
    assert_eq!(tables(&reopened), vec!["directory", "otp_request", "pending_otp", "queue"]);
    assert!(reopened.entry(&bob).expect("entry").is_some(), "the directory survives a restart");
}

#[test]
fn seed_runtime_keeps_its_tables_in_an_sqlite_file() {
    file_store_run(Profile::SEED);
}

#[test]
fn hardened_runtime_keeps_its_tables_in_an_sqlite_file() {
    file_store_run(Profile::HARDENED);
}
