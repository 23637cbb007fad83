//! The server's tables in SQLite: pending OTPs, the directory and the offline queues.
//!
//! [`SqliteStore`] implements [`ee2e_spec::Store`] for [`ConcreteSuite`]. Three tables:
//!
//! ```sql
//! directory   (phone TEXT PRIMARY KEY, public_key BLOB, signature BLOB)
//! pending_otp (phone TEXT PRIMARY KEY, otp BLOB, issued_at INTEGER, attempts INTEGER)
//! otp_request (phone TEXT, at INTEGER)            -- recent OTP requests (E8 request limit)
//! queue       (id INTEGER PRIMARY KEY AUTOINCREMENT, recipient TEXT, message BLOB,
//!              sender TEXT, size INTEGER)         -- size: Message::stored_size, for the bounds
//! ```
//!
//! **Bounded reads.** Stored delivery reads one batch ([`Store::peek_batch`]: `LIMIT` on the
//! count, and rows are read one at a time until the byte bound), never the whole queue; the
//! OTP sweep deletes through the `issued_at` and `at` indexes with a `LIMIT`.
//!
//! **Crash safety.** Every store operation is one SQLite transaction (an autocommitted
//! statement, or an explicit transaction where it writes twice), and with `synchronous=FULL`
//! in WAL mode a transaction is on disk when the call returns. So when the server has
//! answered for a message (stored it for an offline recipient), the message survives a crash
//! of the process or of the machine; a crash in the middle of a write leaves the WAL with an
//! uncommitted tail that SQLite discards when it next opens the file. Stored messages are
//! removed only by [`Store::remove_queued`] (once their delivery was confirmed) or
//! [`Store::take_queue`]. `cli/tests/crash.rs` kills a server process at many points to
//! check this.
//!
//! A queued message is stored as its wire encoding ([`crate::codec`]) under the profile's
//! [`Wire`] layout, which is why the store is opened with one. A file opened under one
//! layout and read under the other fails at [`Store::take_queue`] with a decode error
//! rather than misreading messages.

use std::collections::HashMap;
use std::path::Path;

use ee2e_spec::{DirectoryEntry, Message, OtpCutoff, PendingOtp, Phone, QueueUsage, Store, StoreError, Wire};
use rusqlite::{Connection, OptionalExtension, params};

use crate::codec;
use crate::suite::ConcreteSuite;
use crate::value::Bytes;

/// Schema version, kept in `PRAGMA user_version`.
/// Version 2 added `otp_request`; version 3 `queue.sender`, `queue.size` and the expiry
/// indexes of the OTP tables.
const SCHEMA_VERSION: i64 = 3;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS directory (
    phone      TEXT PRIMARY KEY,
    public_key BLOB NOT NULL,
    signature  BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS pending_otp (
    phone     TEXT PRIMARY KEY,
    otp       BLOB NOT NULL,
    issued_at INTEGER NOT NULL,
    attempts  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS otp_request (
    phone TEXT NOT NULL,
    at    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS otp_request_by_phone ON otp_request (phone, at);
CREATE INDEX IF NOT EXISTS otp_request_by_time ON otp_request (at);
CREATE INDEX IF NOT EXISTS pending_otp_by_time ON pending_otp (issued_at);
CREATE TABLE IF NOT EXISTS queue (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient TEXT NOT NULL,
    message   BLOB NOT NULL,
    sender    TEXT NOT NULL DEFAULT '',
    size      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS queue_by_recipient ON queue (recipient, id);
CREATE INDEX IF NOT EXISTS queue_by_sender ON queue (recipient, sender);
";

/// Version 2 to 3: the queue's accounting columns. Rows stored before count their encoded
/// length (a little more than their stored size) and no sender.
const MIGRATE_QUEUE: &str = "
ALTER TABLE queue ADD COLUMN sender TEXT NOT NULL DEFAULT '';
ALTER TABLE queue ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
UPDATE queue SET size = length(message);
";

/// The server's store in an SQLite database (a file, or in memory).
pub struct SqliteStore {
    conn: Connection,
    wire: Wire,
    /// Lower bounds of the oldest OTP issue time and request time in the tables, once known
    /// (this store is the file's only writer): a sweep with cutoffs at or below them has
    /// nothing to delete and runs no SQL. The sweep's range queries are re-planned by SQLite
    /// at every new cutoff, which made the per-step sweep most of a relay step's cost.
    otp_floor: Option<(i64, i64)>,
    /// The directory table, read once when the store opens and written through after each
    /// commit (this store is the file's only writer): the server checks sender and recipient
    /// against the directory on every relayed message, and two SQL lookups per message were
    /// the largest cost of a relay step. As large as the table: one entry per registered
    /// phone, which each took an SMS OTP to register (SPEC.md §14).
    directory: HashMap<Phone, DirectoryEntry<ConcreteSuite>>,
    /// Whether a group transaction ([`SqliteStore::begin_group`]) is open.
    grouped: bool,
    /// Group transactions committed so far.
    group_commits: u64,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.conn.path()).field("wire", &self.wire).finish()
    }
}

/// Wraps a rusqlite error with what the store was doing.
fn db(operation: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| StoreError::Backend { operation, detail: e.to_string() }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`; queued messages are encoded
    /// with `wire`.
    pub fn open(path: impl AsRef<Path>, wire: Wire) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let conn =
            Connection::open(path).map_err(|e| StoreError::Open(format!("{}: {e}", path.display())))?;
        // WAL lets readers proceed during a write; synchronous=FULL makes every commit durable
        // (the WAL is fsynced at each commit). The server acknowledges nothing to a sender, so
        // once it has accepted a message for an offline recipient it is the only holder of it:
        // losing the last commits on power failure (NORMAL) would silently lose messages.
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(db("setting journal_mode=WAL"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Open(format!("{} refused WAL mode (got {mode})", path.display())));
        }
        conn.pragma_update(None, "synchronous", "FULL").map_err(db("setting synchronous=FULL"))?;
        // Another process (an inspector, a second server instance) may hold the write lock
        // briefly: wait for it rather than failing at once.
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(db("setting busy_timeout"))?;
        Self::init(conn, wire)
    }

    /// The database file at `path` ([`open`](Self::open)), or a fresh in-memory one
    /// ([`in_memory`](Self::in_memory)) without a path: the commands' `--store` flag.
    pub fn open_or_in_memory(path: Option<&Path>, wire: Wire) -> Result<Self, StoreError> {
        match path {
            Some(path) => Self::open(path, wire),
            None => Self::in_memory(wire),
        }
    }

    /// A fresh in-memory database; queued messages are encoded with `wire`.
    pub fn in_memory(wire: Wire) -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory().map_err(db("opening an in-memory database"))?;
        Self::init(conn, wire)
    }

    fn init(conn: Connection, wire: Wire) -> Result<Self, StoreError> {
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(db("reading user_version"))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::Open(format!(
                "database schema version {version} is newer than this program's ({SCHEMA_VERSION})"
            )));
        }
        let has_queue: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'queue')",
                [],
                |row| row.get(0),
            )
            .map_err(db("reading the schema"))?;
        let has_size: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM pragma_table_info('queue') WHERE name = 'size')",
                [],
                |row| row.get(0),
            )
            .map_err(db("reading the schema"))?;
        if has_queue && !has_size {
            conn.execute_batch(&format!("BEGIN; {MIGRATE_QUEUE} COMMIT;"))
                .map_err(db("migrating the queue to schema 3"))?;
        }
        conn.execute_batch(SCHEMA).map_err(db("creating the schema"))?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(db("setting user_version"))?;
        let directory = read_directory(&conn)?;
        Ok(SqliteStore { conn, wire, otp_floor: None, directory, grouped: false, group_commits: 0 })
    }

    /// Reads and caches the oldest OTP issue time and request time (`i64::MAX` for an empty
    /// table).
    fn read_otp_floor(&mut self) -> Result<(i64, i64), StoreError> {
        let floor = cached_row(
            &self.conn,
            "SELECT (SELECT COALESCE(MIN(issued_at), 9223372036854775807) FROM pending_otp), \
                    (SELECT COALESCE(MIN(at), 9223372036854775807) FROM otp_request)",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map_err(db("reading the oldest OTP rows"))?;
        self.otp_floor = Some(floor);
        Ok(floor)
    }

    /// Opens a group transaction: the writes of the following store operations are committed
    /// together by [`SqliteStore::commit_group`] (group commit, one `fsync` for several server
    /// steps), or all dropped by [`SqliteStore::rollback_group`] or a crash. The caller must
    /// release nothing that depends on these writes before the commit returns. Operations that
    /// write twice run as savepoints inside it, so each stays all-or-nothing.
    ///
    /// # Errors
    /// If a group is already open, or SQLite cannot start the transaction.
    pub fn begin_group(&mut self) -> Result<(), StoreError> {
        if self.grouped {
            return Err(StoreError::Misuse("a group transaction is already open"));
        }
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(db("starting a group transaction"))?;
        self.grouped = true;
        Ok(())
    }

    /// Commits the open group transaction: on return (with `synchronous=FULL` for a file) its
    /// writes are on disk.
    ///
    /// # Errors
    /// If no group is open, or the commit failed; the group's writes are then rolled back (the
    /// caller must treat the grouped steps as not having happened).
    pub fn commit_group(&mut self) -> Result<(), StoreError> {
        if !self.grouped {
            return Err(StoreError::Misuse("no group transaction is open"));
        }
        self.grouped = false;
        if let Err(error) = self.conn.execute_batch("COMMIT") {
            // Leave no transaction open; the error reported is the commit's.
            let _ = self.conn.execute_batch("ROLLBACK");
            self.forget_cached_state();
            return Err(db("committing a group transaction")(error));
        }
        self.group_commits += 1;
        Ok(())
    }

    /// Drops the writes of the open group transaction.
    ///
    /// # Errors
    /// If no group is open, or SQLite failed to roll back.
    pub fn rollback_group(&mut self) -> Result<(), StoreError> {
        if !self.grouped {
            return Err(StoreError::Misuse("no group transaction is open"));
        }
        self.grouped = false;
        let rolled_back = self.conn.execute_batch("ROLLBACK").map_err(db("rolling back a group transaction"));
        // Read back after the rollback, so that the copy is the table as it is again.
        self.forget_cached_state();
        rolled_back
    }

    /// How many group transactions were committed since the store was opened.
    pub fn group_commits(&self) -> u64 {
        self.group_commits
    }

    /// After a rollback, the in-memory copies may hold writes that were undone: read them
    /// again from the tables (the directory) or on next use (the OTP floor).
    fn forget_cached_state(&mut self) {
        self.otp_floor = None;
        match read_directory(&self.conn) {
            Ok(directory) => self.directory = directory,
            // Unreadable now: an empty copy would wrongly refuse every phone, so keep the
            // copy, which can only be ahead of the table by the rolled-back registrations.
            Err(error) => tracing::warn!("sqlite: cannot re-read the directory after a rollback: {error}"),
        }
    }

    /// The wire layout queued messages are encoded with.
    pub fn wire(&self) -> Wire {
        self.wire
    }

    /// The names of the schema's tables, sorted: for tools and tests that check what a
    /// store file holds without writing to it.
    pub fn tables(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
            )
            .map_err(db("listing the tables"))?;
        let names = stmt.query_map([], |row| row.get(0)).map_err(db("listing the tables"))?;
        names.collect::<Result<_, _>>().map_err(db("listing the tables"))
    }
}

impl Store<ConcreteSuite> for SqliteStore {
    fn pending_otp(&self, phone: &Phone) -> Result<Option<PendingOtp<ConcreteSuite>>, StoreError> {
        let row = cached_row(
            &self.conn,
            "SELECT otp, issued_at, attempts FROM pending_otp WHERE phone = ?1",
            params![phone.as_str()],
            |row| Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, i64>(1)?, row.get::<_, i64>(2)?)),
        )
        .optional()
        .map_err(db("reading pending_otp"))?;
        let Some((otp, issued_at, attempts)) = row else { return Ok(None) };
        let otp = Bytes::secret(otp);
        let issued_at = u64::try_from(issued_at)
            .map_err(|_| StoreError::Corrupt(format!("pending_otp.issued_at for {phone} is negative")))?;
        let attempts = u32::try_from(attempts)
            .map_err(|_| StoreError::Corrupt(format!("pending_otp.attempts for {phone} is out of range")))?;
        Ok(Some(PendingOtp { otp, issued_at, attempts }))
    }

    fn put_pending_otp(
        &mut self,
        phone: &Phone,
        pending: &PendingOtp<ConcreteSuite>,
    ) -> Result<(), StoreError> {
        let issued_at = i64::try_from(pending.issued_at).map_err(|_| {
            StoreError::OutOfRange(format!("issued_at {} does not fit a column", pending.issued_at))
        })?;
        cached_execute(
            &self.conn,
            "INSERT OR REPLACE INTO pending_otp (phone, otp, issued_at, attempts) VALUES (?1, ?2, ?3, ?4)",
            params![phone.as_str(), pending.otp.as_slice(), issued_at, i64::from(pending.attempts)],
        )
        .map_err(db("writing pending_otp"))?;
        if let Some((otp, _)) = self.otp_floor.as_mut() {
            *otp = (*otp).min(issued_at);
        }
        Ok(())
    }

    fn remove_pending_otp(&mut self, phone: &Phone) -> Result<(), StoreError> {
        cached_execute(&self.conn, "DELETE FROM pending_otp WHERE phone = ?1", params![phone.as_str()])
            .map_err(db("deleting from pending_otp"))?;
        Ok(())
    }

    fn entry(&self, phone: &Phone) -> Result<Option<DirectoryEntry<ConcreteSuite>>, StoreError> {
        Ok(self.directory.get(phone).cloned())
    }

    fn is_registered(&self, phone: &Phone) -> Result<bool, StoreError> {
        Ok(self.directory.contains_key(phone))
    }

    fn put_entry(&mut self, entry: &DirectoryEntry<ConcreteSuite>) -> Result<(), StoreError> {
        cached_execute(
            &self.conn,
            "INSERT OR REPLACE INTO directory (phone, public_key, signature) VALUES (?1, ?2, ?3)",
            params![entry.phone.as_str(), entry.public_key.as_slice(), entry.signature.as_slice()],
        )
        .map_err(db("writing directory"))?;
        // Only once the write is committed: a failed write leaves the cache as the table.
        self.directory.insert(entry.phone.clone(), entry.clone());
        Ok(())
    }

    fn commit_registration(
        &mut self,
        entry: &DirectoryEntry<ConcreteSuite>,
        consume_otp: bool,
    ) -> Result<(), StoreError> {
        let tx = self.conn.savepoint().map_err(db("starting a transaction"))?;
        cached_execute(
            &tx,
            "INSERT OR REPLACE INTO directory (phone, public_key, signature) VALUES (?1, ?2, ?3)",
            params![entry.phone.as_str(), entry.public_key.as_slice(), entry.signature.as_slice()],
        )
        .map_err(db("writing directory"))?;
        if consume_otp {
            cached_execute(&tx, "DELETE FROM pending_otp WHERE phone = ?1", params![entry.phone.as_str()])
                .map_err(db("deleting the used OTP"))?;
        }
        tx.commit().map_err(db("committing a registration"))?;
        self.directory.insert(entry.phone.clone(), entry.clone());
        Ok(())
    }

    fn enqueue(
        &mut self,
        to: &Phone,
        from: &Phone,
        size: usize,
        message: &Message<ConcreteSuite>,
    ) -> Result<(), StoreError> {
        let bytes = codec::encode(self.wire, message).map_err(|e| {
            StoreError::OutOfRange(format!(
                "a {:?} message does not encode for the queue: {e}",
                message.kind()
            ))
        })?;
        let size = i64::try_from(size)
            .map_err(|_| StoreError::OutOfRange(format!("size {size} does not fit a column")))?;
        cached_execute(
            &self.conn,
            "INSERT INTO queue (recipient, message, sender, size) VALUES (?1, ?2, ?3, ?4)",
            params![to.as_str(), bytes, from.as_str(), size],
        )
        .map_err(db("appending to queue"))?;
        Ok(())
    }

    fn queue_usage(&self, to: &Phone, from: &Phone) -> Result<QueueUsage, StoreError> {
        let (messages, bytes, sender_messages, sender_bytes): (i64, i64, i64, i64) = cached_row(
            &self.conn,
            "SELECT COUNT(*), COALESCE(SUM(size), 0), \
                 COALESCE(SUM(sender = ?2), 0), COALESCE(SUM(CASE WHEN sender = ?2 THEN size ELSE 0 END), 0) \
                 FROM queue WHERE recipient = ?1",
            params![to.as_str(), from.as_str()],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
        .map_err(db("measuring queue"))?;
        let count =
            |n: i64| usize::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative queue usage {n}")));
        Ok(QueueUsage {
            messages: count(messages)?,
            bytes: count(bytes)?,
            sender_messages: count(sender_messages)?,
            sender_bytes: count(sender_bytes)?,
        })
    }

    fn peek_batch(
        &self,
        to: &Phone,
        max_messages: usize,
        max_bytes: usize,
    ) -> Result<Vec<Message<ConcreteSuite>>, StoreError> {
        let limit = i64::try_from(max_messages.max(1)).unwrap_or(i64::MAX);
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, size, message FROM queue WHERE recipient = ?1 ORDER BY id LIMIT ?2")
            .map_err(db("reading queue"))?;
        let mut rows = stmt.query(params![to.as_str(), limit]).map_err(db("reading queue"))?;
        let mut batch = Vec::new();
        let mut bytes = 0usize;
        // Row by row: the blob of a row past the byte bound is never read.
        while let Some(row) = rows.next().map_err(db("reading queue"))? {
            let id: i64 = row.get(0).map_err(db("reading queue"))?;
            let size: i64 = row.get(1).map_err(db("reading queue"))?;
            bytes = bytes.saturating_add(usize::try_from(size).unwrap_or(usize::MAX));
            if !batch.is_empty() && bytes > max_bytes {
                break;
            }
            let encoded: Vec<u8> = row.get(2).map_err(db("reading queue"))?;
            batch.push(decode_row(self.wire, to, id, &encoded)?);
        }
        Ok(batch)
    }

    fn otp_phones(&self) -> Result<usize, StoreError> {
        let n: i64 = cached_row(
            &self.conn,
            "SELECT COUNT(*) FROM (SELECT phone FROM pending_otp UNION SELECT phone FROM otp_request)",
            [],
            |row| row.get(0),
        )
        .map_err(db("counting OTP phones"))?;
        usize::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative OTP phone count {n}")))
    }

    fn sweep_otps(&mut self, cutoff: OtpCutoff, max: usize) -> Result<usize, StoreError> {
        let column = |t: u64| i64::try_from(t).unwrap_or(i64::MAX);
        let limit = i64::try_from(max).unwrap_or(i64::MAX);
        let floor = match self.otp_floor {
            Some(floor) => floor,
            None => self.read_otp_floor()?,
        };
        if column(cutoff.otp_issued_before) <= floor.0 && column(cutoff.request_before) <= floor.1 {
            return Ok(0);
        }
        // Unknown until re-read after the sweep.
        self.otp_floor = None;
        let tx = self.conn.savepoint().map_err(db("starting a transaction"))?;
        // Both tables are swept alike: at most `limit` rows older than the cutoff, oldest first.
        let sweep = |sql: &str, before: u64, operation: &'static str| {
            cached_execute(&tx, sql, params![column(before), limit]).map_err(db(operation))
        };
        let otps = sweep(
            "DELETE FROM pending_otp WHERE rowid IN \
                 (SELECT rowid FROM pending_otp WHERE issued_at < ?1 ORDER BY issued_at LIMIT ?2)",
            cutoff.otp_issued_before,
            "sweeping pending_otp",
        )?;
        let requests = sweep(
            "DELETE FROM otp_request WHERE rowid IN \
                 (SELECT rowid FROM otp_request WHERE at < ?1 ORDER BY at LIMIT ?2)",
            cutoff.request_before,
            "sweeping otp_request",
        )?;
        tx.commit().map_err(db("committing the OTP sweep"))?;
        self.read_otp_floor()?;
        Ok(otps + requests)
    }

    fn otp_requests(&self, phone: &Phone) -> Result<Vec<u64>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT at FROM otp_request WHERE phone = ?1 ORDER BY at")
            .map_err(db("reading otp_request"))?;
        let times: Vec<i64> = stmt
            .query_map(params![phone.as_str()], |row| row.get(0))
            .map_err(db("reading otp_request"))?
            .collect::<Result<_, _>>()
            .map_err(db("reading otp_request"))?;
        times
            .into_iter()
            .map(|at| {
                u64::try_from(at)
                    .map_err(|_| StoreError::Corrupt(format!("otp_request.at for {phone} is negative")))
            })
            .collect()
    }

    fn put_otp_requests(&mut self, phone: &Phone, times: &[u64]) -> Result<(), StoreError> {
        let tx = self.conn.savepoint().map_err(db("starting a transaction"))?;
        cached_execute(&tx, "DELETE FROM otp_request WHERE phone = ?1", params![phone.as_str()])
            .map_err(db("deleting from otp_request"))?;
        for at in times {
            let at = i64::try_from(*at)
                .map_err(|_| StoreError::OutOfRange(format!("request time {at} does not fit a column")))?;
            if let Some((_, request)) = self.otp_floor.as_mut() {
                *request = (*request).min(at);
            }
            cached_execute(
                &tx,
                "INSERT INTO otp_request (phone, at) VALUES (?1, ?2)",
                params![phone.as_str(), at],
            )
            .map_err(db("writing otp_request"))?;
        }
        tx.commit().map_err(db("committing otp_request"))
    }

    fn remove_queued(&mut self, to: &Phone, count: usize) -> Result<usize, StoreError> {
        let limit = i64::try_from(count).unwrap_or(i64::MAX);
        let removed = cached_execute(
            &self.conn,
            "DELETE FROM queue WHERE id IN \
                 (SELECT id FROM queue WHERE recipient = ?1 ORDER BY id LIMIT ?2)",
            params![to.as_str(), limit],
        )
        .map_err(db("deleting delivered messages from queue"))?;
        Ok(removed)
    }

    fn take_queue(&mut self, to: &Phone) -> Result<Vec<Message<ConcreteSuite>>, StoreError> {
        let wire = self.wire;
        let tx = self.conn.savepoint().map_err(db("starting a transaction"))?;
        let rows = queue_rows(&tx, to)?;
        // Decode everything before deleting anything: a row that does not decode leaves the
        // whole queue in place (the transaction rolls back on drop).
        let messages = decode_rows(wire, to, &rows)?;
        cached_execute(&tx, "DELETE FROM queue WHERE recipient = ?1", params![to.as_str()])
            .map_err(db("deleting from queue"))?;
        tx.commit().map_err(db("committing take_queue"))?;
        Ok(messages)
    }

    fn queue_len(&self, to: &Phone) -> Result<usize, StoreError> {
        let n: i64 = cached_row(
            &self.conn,
            "SELECT COUNT(*) FROM queue WHERE recipient = ?1",
            params![to.as_str()],
            |row| row.get(0),
        )
        .map_err(db("counting queue"))?;
        usize::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative queue length {n}")))
    }
}

/// Every row of the directory table, for the store's in-memory copy.
fn read_directory(conn: &Connection) -> Result<HashMap<Phone, DirectoryEntry<ConcreteSuite>>, StoreError> {
    let mut statement = conn
        .prepare("SELECT phone, public_key, signature FROM directory")
        .map_err(db("reading directory"))?;
    let rows = statement
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, Vec<u8>>(1)?, row.get::<_, Vec<u8>>(2)?))
        })
        .map_err(db("reading directory"))?;
    let mut directory = HashMap::new();
    for row in rows {
        let (phone, public_key, signature) = row.map_err(db("reading directory"))?;
        let phone = Phone::parse(&phone).map_err(|e| {
            StoreError::Corrupt(format!("directory row {phone:?} is not a phone number: {e}"))
        })?;
        let entry = DirectoryEntry {
            phone: phone.clone(),
            public_key: Bytes::public(public_key),
            signature: Bytes::public(signature),
        };
        directory.insert(phone, entry);
    }
    Ok(directory)
}

/// `execute` through the connection's statement cache: parsing the SQL is most of the cost of
/// the small statements a server step runs (the sweep alone runs two per step).
fn cached_execute(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

/// `query_row` through the connection's statement cache.
fn cached_row<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    conn.prepare_cached(sql)?.query_row(params, f)
}

/// The rows of `to`'s queue, oldest first: (id, encoded message).
fn queue_rows(conn: &Connection, to: &Phone) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT id, message FROM queue WHERE recipient = ?1 ORDER BY id")
        .map_err(db("reading queue"))?;
    stmt.query_map(params![to.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))
        .map_err(db("reading queue"))?
        .collect::<Result<_, _>>()
        .map_err(db("reading queue"))
}

/// Decodes queue rows; the first that does not decode fails the whole read.
fn decode_rows(
    wire: Wire,
    to: &Phone,
    rows: &[(i64, Vec<u8>)],
) -> Result<Vec<Message<ConcreteSuite>>, StoreError> {
    rows.iter().map(|(id, bytes)| decode_row(wire, to, *id, bytes)).collect()
}

fn decode_row(wire: Wire, to: &Phone, id: i64, bytes: &[u8]) -> Result<Message<ConcreteSuite>, StoreError> {
    codec::decode(wire, bytes)
        .map_err(|e| StoreError::Corrupt(format!("queue row {id} for {to} does not decode: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ee2e_spec::{ErrorCode, Sealed};

    fn phone(text: &str) -> Phone {
        Phone::parse(text).expect("valid phone")
    }

    fn data(from: &str, n: u8) -> Message<ConcreteSuite> {
        Message::DataDelivery {
            from: phone(from),
            sealed: Sealed::Seed {
                iv: Bytes::public(vec![n; 16]),
                ciphertext: Bytes::public(vec![n; 32]),
                mac: Bytes::public(vec![n; 32]),
            },
        }
    }

    /// Enqueues `message` for `to` as the server does: from its sender, with its stored size.
    fn put(s: &mut SqliteStore, to: &Phone, message: &Message<ConcreteSuite>) {
        s.enqueue(to, &phone("+15550000001"), message.stored_size(), message).unwrap();
    }

    fn entry(p: &str) -> DirectoryEntry<ConcreteSuite> {
        DirectoryEntry {
            phone: phone(p),
            public_key: Bytes::public(vec![1, 2, 3]),
            signature: Bytes::public(vec![4, 5]),
        }
    }

    #[test]
    fn store_round_trips_pending_otps() {
        let mut s = SqliteStore::in_memory(Wire::Seed).unwrap();
        let p = phone("+15550000001");
        assert_eq!(s.pending_otp(&p).unwrap(), None);
        let pending = PendingOtp { otp: Bytes::secret(b"123456".to_vec()), issued_at: 42, attempts: 2 };
        s.put_pending_otp(&p, &pending).unwrap();
        assert_eq!(s.pending_otp(&p).unwrap(), Some(pending.clone()));
        let replaced = PendingOtp { attempts: 3, ..pending };
        s.put_pending_otp(&p, &replaced).unwrap();
        assert_eq!(s.pending_otp(&p).unwrap(), Some(replaced));
        s.remove_pending_otp(&p).unwrap();
        assert_eq!(s.pending_otp(&p).unwrap(), None);
    }

    #[test]
    fn store_rejects_timestamps_that_do_not_fit() {
        let mut s = SqliteStore::in_memory(Wire::Seed).unwrap();
        let pending = PendingOtp { otp: Bytes::secret(b"1".to_vec()), issued_at: u64::MAX, attempts: 0 };
        assert!(s.put_pending_otp(&phone("+15550000001"), &pending).is_err());
    }

    #[test]
    fn a_group_commits_all_its_writes_at_once_or_rolls_them_all_back() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("s.sqlite");
        let mut s = SqliteStore::open(&path, Wire::Seed).unwrap();
        let other = SqliteStore::open(&path, Wire::Seed).unwrap();
        let (alice, bob) = (phone("+15550000001"), phone("+15550000002"));
        s.begin_group().unwrap();
        assert!(s.begin_group().is_err(), "groups do not nest");
        s.commit_registration(&entry("+15550000001"), false).unwrap();
        put(&mut s, &bob, &data("+15550000001", 1));
        put(&mut s, &bob, &data("+15550000001", 2));
        // Inside the group this connection sees its writes; another one sees none yet.
        assert_eq!(s.queue_len(&bob).unwrap(), 2);
        assert!(s.is_registered(&alice).unwrap());
        assert_eq!(other.queue_len(&bob).unwrap(), 0);
        assert!(other.entry(&alice).unwrap().is_none());
        s.commit_group().unwrap();
        assert_eq!(s.group_commits(), 1);
        assert_eq!(other.queue_len(&bob).unwrap(), 2);
        assert_eq!(
            SqliteStore::open(&path, Wire::Seed).unwrap().entry(&alice).unwrap(),
            Some(entry("+15550000001"))
        );

        s.begin_group().unwrap();
        s.commit_registration(&entry("+15550000009"), false).unwrap();
        s.remove_queued(&bob, 2).unwrap();
        s.rollback_group().unwrap();
        assert_eq!(s.group_commits(), 1, "a rollback commits nothing");
        assert_eq!(s.queue_len(&bob).unwrap(), 2, "the removal was undone");
        assert!(!s.is_registered(&phone("+15550000009")).unwrap(), "the directory copy was undone too");
        assert!(s.is_registered(&alice).unwrap());
        assert!(s.commit_group().is_err() && s.rollback_group().is_err(), "no group is open");
    }

    #[test]
    fn the_directory_copy_is_read_at_open_and_follows_every_write() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("s.sqlite");
        let mut s = SqliteStore::open(&path, Wire::Seed).unwrap();
        let alice = phone("+15550000001");
        assert!(!s.is_registered(&alice).unwrap());
        s.put_entry(&entry("+15550000001")).unwrap();
        assert!(s.is_registered(&alice).unwrap());
        let replaced = DirectoryEntry { signature: Bytes::public(vec![9]), ..entry("+15550000001") };
        s.put_entry(&replaced).unwrap();
        assert_eq!(s.entry(&alice).unwrap(), Some(replaced.clone()));
        drop(s);
        let reopened = SqliteStore::open(&path, Wire::Seed).unwrap();
        assert_eq!(reopened.entry(&alice).unwrap(), Some(replaced));
        assert!(!reopened.is_registered(&phone("+15550000002")).unwrap());
    }

    #[test]
    fn store_round_trips_directory_entries() {
        let mut s = SqliteStore::in_memory(Wire::Hardened).unwrap();
        let e = entry("+15550000002");
        assert_eq!(s.entry(&e.phone).unwrap(), None);
        s.put_entry(&e).unwrap();
        assert_eq!(s.entry(&e.phone).unwrap(), Some(e.clone()));
        let e2 = DirectoryEntry { signature: Bytes::public(vec![9]), ..e };
        s.put_entry(&e2).unwrap();
        assert_eq!(s.entry(&e2.phone).unwrap(), Some(e2));
    }

    #[test]
    fn store_takes_queues_in_order_and_empties_them() {
        let mut s = SqliteStore::in_memory(Wire::Seed).unwrap();
        let (bob, carol) = (phone("+15550000003"), phone("+15550000004"));
        for n in 0..5 {
            put(&mut s, &bob, &data("+15550000001", n));
            put(&mut s, &carol, &Message::Error { code: ErrorCode::Internal });
        }
        assert_eq!(s.queue_len(&bob).unwrap(), 5);
        let taken = s.take_queue(&bob).unwrap();
        assert_eq!(taken, (0..5).map(|n| data("+15550000001", n)).collect::<Vec<_>>());
        assert_eq!(s.queue_len(&bob).unwrap(), 0);
        assert_eq!(s.take_queue(&bob).unwrap(), vec![]);
        assert_eq!(s.queue_len(&carol).unwrap(), 5, "other queues untouched");
    }

    #[test]
    fn store_persists_across_reopen_of_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.sqlite");
        let (alice, bob) = (phone("+15550000001"), phone("+15550000003"));
        {
            let mut s = SqliteStore::open(&path, Wire::Seed).unwrap();
            s.put_entry(&entry("+15550000001")).unwrap();
            s.put_pending_otp(
                &bob,
                &PendingOtp { otp: Bytes::secret(b"000001".to_vec()), issued_at: 7, attempts: 0 },
            )
            .unwrap();
            put(&mut s, &bob, &data("+15550000001", 1));
            put(&mut s, &bob, &data("+15550000001", 2));
        }
        let mut s = SqliteStore::open(&path, Wire::Seed).unwrap();
        assert_eq!(s.entry(&alice).unwrap(), Some(entry("+15550000001")));
        assert_eq!(s.pending_otp(&bob).unwrap().map(|p| p.issued_at), Some(7));
        assert_eq!(s.take_queue(&bob).unwrap(), vec![data("+15550000001", 1), data("+15550000001", 2)]);
        let mode: String = s.conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn store_keeps_the_queue_when_a_row_does_not_decode() {
        let mut s = SqliteStore::in_memory(Wire::Seed).unwrap();
        let bob = phone("+15550000003");
        put(&mut s, &bob, &data("+15550000001", 1));
        s.conn
            .execute(
                "INSERT INTO queue (recipient, message) VALUES (?1, ?2)",
                params![bob.as_str(), vec![0xffu8; 3]],
            )
            .unwrap();
        let err = s.take_queue(&bob).unwrap_err();
        assert!(matches!(&err, StoreError::Corrupt(detail) if detail.contains("does not decode")), "{err}");
        assert_eq!(s.queue_len(&bob).unwrap(), 2);
    }

    #[test]
    fn store_reads_a_batch_bounded_by_count_and_bytes() {
        let mut s = SqliteStore::in_memory(Wire::Seed).unwrap();
        let bob = phone("+15550000003");
        for n in 0..10 {
            put(&mut s, &bob, &data("+15550000001", n));
        }
        let size = data("+15550000001", 0).stored_size();
        let all: Vec<_> = (0..10).map(|n| data("+15550000001", n)).collect();
        assert_eq!(s.peek_batch(&bob, 4, usize::MAX).unwrap(), all[..4].to_vec());
        assert_eq!(s.peek_batch(&bob, 100, 3 * size).unwrap(), all[..3].to_vec());
        assert_eq!(s.peek_batch(&bob, 100, 3 * size - 1).unwrap(), all[..2].to_vec());
        // At least one message, whatever the byte bound.
        assert_eq!(s.peek_batch(&bob, 0, 0).unwrap(), all[..1].to_vec());
        assert_eq!(s.queue_len(&bob).unwrap(), 10, "a peek removes nothing");
        assert_eq!(s.peek_batch(&phone("+15550000004"), 4, 100).unwrap(), vec![]);
    }

    #[test]
    fn store_measures_queues_in_all_and_per_sender() {
        let mut s = SqliteStore::in_memory(Wire::Seed).unwrap();
        let (alice, bob, carol) = (phone("+15550000001"), phone("+15550000003"), phone("+15550000004"));
        s.enqueue(&bob, &alice, 100, &data("+15550000001", 1)).unwrap();
        s.enqueue(&bob, &alice, 50, &data("+15550000001", 2)).unwrap();
        s.enqueue(&bob, &carol, 7, &data("+15550000004", 3)).unwrap();
        let usage = s.queue_usage(&bob, &alice).unwrap();
        assert_eq!(usage, QueueUsage { messages: 3, bytes: 157, sender_messages: 2, sender_bytes: 150 });
        let usage = s.queue_usage(&bob, &carol).unwrap();
        assert_eq!(usage, QueueUsage { messages: 3, bytes: 157, sender_messages: 1, sender_bytes: 7 });
        assert_eq!(s.queue_usage(&alice, &bob).unwrap(), QueueUsage::default());
    }

    #[test]
    fn store_sweeps_expired_otp_rows_oldest_first_and_at_most_max() {
        let mut s = SqliteStore::in_memory(Wire::Hardened).unwrap();
        let otp = |at| PendingOtp { otp: Bytes::secret(b"123456".to_vec()), issued_at: at, attempts: 0 };
        let phones: Vec<_> = (0..5).map(|i| phone(&format!("+1555000001{i}"))).collect();
        for (i, p) in phones.iter().enumerate() {
            s.put_pending_otp(p, &otp(10 * i as u64)).unwrap();
        }
        s.put_otp_requests(&phones[0], &[1, 2, 30]).unwrap();
        s.put_otp_requests(&phone("+15550000020"), &[3]).unwrap();
        assert_eq!(s.otp_phones().unwrap(), 6);
        // OTPs issued before 25 (phones 0, 1, 2) and requests before 3 (times 1, 2); at most 2 each.
        let cutoff = OtpCutoff { otp_issued_before: 25, request_before: 3 };
        assert_eq!(s.sweep_otps(cutoff, 2).unwrap(), 4);
        assert_eq!(s.pending_otp(&phones[0]).unwrap(), None);
        assert_eq!(s.pending_otp(&phones[1]).unwrap(), None);
        assert_eq!(
            s.pending_otp(&phones[2]).unwrap(),
            Some(otp(20)),
            "past the batch: left for the next sweep"
        );
        assert_eq!(s.otp_requests(&phones[0]).unwrap(), vec![30]);
        assert_eq!(s.otp_phones().unwrap(), 5, "phone 0 still holds a live request time");
        assert_eq!(s.sweep_otps(cutoff, 2).unwrap(), 1);
        assert_eq!(s.sweep_otps(cutoff, 2).unwrap(), 0);
        assert_eq!(s.otp_phones().unwrap(), 4);
    }

    #[test]
    fn a_sweep_skipped_for_its_cached_floor_still_sees_rows_written_after() {
        // The floor is a lower bound kept up to date by every write: a row older than the
        // floor it was cached with is still swept.
        let mut s = SqliteStore::in_memory(Wire::Hardened).unwrap();
        let otp = |at| PendingOtp { otp: Bytes::secret(b"123456".to_vec()), issued_at: at, attempts: 0 };
        s.put_pending_otp(&phone("+15550000011"), &otp(100)).unwrap();
        let early = OtpCutoff { otp_issued_before: 50, request_before: 50 };
        assert_eq!(s.sweep_otps(early, 64).unwrap(), 0, "nothing before 50; the floor is now 100");
        s.put_pending_otp(&phone("+15550000012"), &otp(10)).unwrap();
        s.put_otp_requests(&phone("+15550000013"), &[20]).unwrap();
        assert_eq!(s.sweep_otps(early, 64).unwrap(), 2, "the OTP at 10 and the request at 20");
        assert_eq!(s.otp_phones().unwrap(), 1);
        let late = OtpCutoff { otp_issued_before: 101, request_before: 101 };
        assert_eq!(s.sweep_otps(late, 64).unwrap(), 1);
        assert_eq!(s.otp_phones().unwrap(), 0);
    }

    #[test]
    fn store_migrates_a_version_2_queue() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v2.sqlite");
        let bob = phone("+15550000003");
        let message = data("+15550000001", 1);
        let encoded = codec::encode(Wire::Seed, &message).unwrap();
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE queue (id INTEGER PRIMARY KEY AUTOINCREMENT, recipient TEXT NOT NULL, \
                 message BLOB NOT NULL); PRAGMA user_version = 2;",
            )
            .unwrap();
            conn.execute(
                "INSERT INTO queue (recipient, message) VALUES (?1, ?2)",
                params![bob.as_str(), encoded],
            )
            .unwrap();
        }
        let s = SqliteStore::open(&path, Wire::Seed).unwrap();
        let usage = s.queue_usage(&bob, &phone("+15550000001")).unwrap();
        assert_eq!(usage.messages, 1);
        assert_eq!(usage.bytes, encoded.len(), "old rows count their encoded length");
        assert_eq!(usage.sender_messages, 0, "and no sender");
        assert_eq!(s.peek_batch(&bob, 10, 1 << 20).unwrap(), vec![message]);
        let version: i64 = s.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }
}
