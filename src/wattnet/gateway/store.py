"""The gateway's durable state in one SQLite file (WAL, synchronous=FULL).

Holds the per-station session sequence (never reused, even across restarts), open and closed
transactions with the answer given to the charger, and the receipt outbox. Every method is one
SQL transaction; a receipt is committed before the charger gets the reply that ends its session.
Methods are synchronous: :class:`wattnet.gateway.sessions.SessionService` runs them on one
worker thread so the event loop never waits for fsync, and hands the calls that queued up
meanwhile to :meth:`GatewayStore.group`: one transaction and one fsync for all of them, each
call's writes undone alone if it fails, every answer given only after that commit.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from wattnet.gateway.errors import OutboxError
from wattnet.gateway.transactions import Transaction

log = logging.getLogger(__name__)

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS transactions (
    station TEXT NOT NULL, tx_key TEXT NOT NULL, connector INTEGER NOT NULL,
    start_time INTEGER NOT NULL, meter_start INTEGER, driver TEXT, credit_id TEXT NOT NULL,
    tariff INTEGER NOT NULL, reserved INTEGER NOT NULL, id_token_hash BLOB,
    ocmf TEXT NOT NULL DEFAULT '[]', start_call_id TEXT, closed INTEGER NOT NULL DEFAULT 0,
    session_id INTEGER, end_result TEXT, PRIMARY KEY (station, tx_key));
CREATE UNIQUE INDEX IF NOT EXISTS tx_start_call ON transactions(station, start_call_id);
CREATE TABLE IF NOT EXISTS outbox (
    station_id BLOB NOT NULL, session_id INTEGER NOT NULL, body TEXT NOT NULL,
    state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt REAL NOT NULL,
    reason TEXT, created REAL NOT NULL, PRIMARY KEY (station_id, session_id));
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(state, next_attempt);
CREATE TABLE IF NOT EXISTS charge_nonces (
    driver TEXT NOT NULL, nonce TEXT NOT NULL, PRIMARY KEY (driver, nonce));
CREATE TABLE IF NOT EXISTS ocmf_seen (
    digest BLOB PRIMARY KEY, station TEXT NOT NULL, tx_key TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS booted (station TEXT PRIMARY KEY, accepted_at REAL NOT NULL);
"""

PENDING, ACKED, REJECTED = "pending", "acked", "rejected"
TX16_COUNTER = "tx16"


@dataclass(frozen=True, slots=True)
class OutboxItem:
    station_id: bytes
    session_id: int
    body: str
    attempts: int


@dataclass(frozen=True, slots=True)
class ClosedSession:
    """What closing a transaction produced: the receipt row (if any) and the reply payload."""

    session_id: int | None
    end_result: str
    replayed: bool


class GatewayStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise OutboxError(f"cannot open gateway database {path}: {exc}") from exc
        self._lock = threading.RLock()
        self._in_group = False
        self.path = path

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _failed(self, exc: sqlite3.Error) -> OutboxError:
        return OutboxError(
            f"gateway database {self.path} failed ({exc}); nothing was acknowledged")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._in_group:  # part of a group's transaction: ``group`` commits
                yield self._db
                return
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise self._failed(exc) from exc

    def group(self, ops: list[Callable[[], T]]) -> list[T | Exception]:
        """Run ``ops`` in order in one transaction, one commit (one fsync) for all of them.

        An op that raises has its own writes undone (a savepoint each) and gets its exception
        back; the others stand. Results count only once this returns: if the commit fails, it
        raises and nothing of the group was written."""
        results: list[T | Exception] = []
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._in_group = True
                try:
                    for op in ops:
                        self._db.execute("SAVEPOINT op")
                        try:
                            results.append(op())
                        except Exception as exc:
                            self._db.execute("ROLLBACK TO op")
                            results.append(self._failed(exc) if isinstance(exc, sqlite3.Error)
                                           else exc)
                        self._db.execute("RELEASE op")
                    self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
                finally:
                    self._in_group = False
            except sqlite3.Error as exc:
                raise self._failed(exc) from exc
        return results

    # ---- counters ----
    @staticmethod
    def _next(db: sqlite3.Connection, name: str, first: int = 1) -> int:
        row = db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        value = first if row is None else int(row[0]) + 1
        db.execute(
            "INSERT INTO counters(name, value) VALUES(?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            (name, value),
        )
        return value

    def last_session_id(self, station: str) -> int | None:
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM counters WHERE name = ?", ("session:" + station,)
            ).fetchone()
        return None if row is None else int(row[0])

    # ---- transactions ----
    @staticmethod
    def _row(row: sqlite3.Row | tuple[object, ...]) -> Transaction:
        (station, tx_key, connector, start, meter_start, driver, credit_id, tariff, reserved,
         token_hash, ocmf, closed, session_id, end_result) = row
        return Transaction(
            station=str(station), tx_key=str(tx_key), connector_id=int(str(connector)),
            start_time=int(str(start)),
            meter_start_wh=None if meter_start is None else int(str(meter_start)),
            driver=None if driver is None else str(driver), credit_id=int(str(credit_id)),
            tariff=int(str(tariff)), reserved=int(str(reserved)),
            id_token_hash=token_hash if isinstance(token_hash, bytes) else None,
            ocmf=tuple(json.loads(str(ocmf))), closed=bool(closed),
            session_id=None if session_id is None else int(str(session_id)),
            end_result=None if end_result is None else str(end_result),
        )

    _COLS = ("station, tx_key, connector, start_time, meter_start, driver, credit_id, tariff, "
             "reserved, id_token_hash, ocmf, closed, session_id, end_result")

    def _put(self, db: sqlite3.Connection, tx: Transaction, start_call_id: str | None) -> None:
        db.execute(
            f"INSERT OR REPLACE INTO transactions({self._COLS}, start_call_id) "
            "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (tx.station, tx.tx_key, tx.connector_id, tx.start_time, tx.meter_start_wh, tx.driver,
             str(tx.credit_id), tx.tariff, tx.reserved, tx.id_token_hash, json.dumps(tx.ocmf),
             int(tx.closed), tx.session_id, tx.end_result, start_call_id),
        )

    def get_transaction(self, station: str, tx_key: str) -> Transaction | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {self._COLS} FROM transactions WHERE station = ? AND tx_key = ?",
                (station, tx_key),
            ).fetchone()
        return None if row is None else self._row(row)

    def open_transactions(self) -> list[Transaction]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {self._COLS} FROM transactions WHERE closed = 0"
            ).fetchall()
        return [self._row(r) for r in rows]

    def find_16(self, station: str, fingerprint: str) -> Transaction | None:
        """The 1.6 transaction a StartTransaction with this content opened, if any."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {self._COLS} FROM transactions WHERE station = ? AND start_call_id = ?",
                (station, fingerprint),
            ).fetchone()
        return None if row is None else self._row(row)

    def open_16(
        self, start_call_id: str, make: Callable[[str], Transaction]
    ) -> tuple[Transaction, bool]:
        """Open a 1.6 transaction under a fresh integer id; a retransmitted StartTransaction
        (same call id) gets the transaction it opened the first time. Returns (tx, replayed)."""
        with self._tx() as db:
            row = db.execute(
                f"SELECT {self._COLS} FROM transactions WHERE station = ? AND start_call_id = ?",
                (make("0").station, start_call_id),
            ).fetchone()
            if row is not None:
                return self._row(row), True
            tx = make(str(self._next(db, TX16_COUNTER)))
            self._put(db, tx, start_call_id)
            return tx, False

    def save_transaction(self, tx: Transaction) -> tuple[Transaction, bool]:
        """Insert or update an open transaction; returns (stored, existed_before)."""
        with self._tx() as db:
            row = db.execute(
                f"SELECT {self._COLS}, start_call_id FROM transactions "
                "WHERE station = ? AND tx_key = ?", (tx.station, tx.tx_key),
            ).fetchone()
            if row is not None and row[11]:
                return self._row(row[:14]), True  # closed: never reopened
            self._put(db, tx, None if row is None else row[14])
            return tx, row is not None

    def close_transaction(
        self,
        station: str,
        tx_key: str,
        build: Callable[[Transaction, int | None], tuple[bytes, str, str, str] | None],
        end_result: Callable[[int | None], str],
        now: float = 0.0,
    ) -> ClosedSession:
        """Close once: allocate the station's next session id, store the signed receipt in the
        outbox and the reply, in one commit. ``build(tx, session_id)`` returns (station_id,
        body, state, reason) or None when there is nothing to settle."""
        with self._tx() as db:
            row = db.execute(
                f"SELECT {self._COLS} FROM transactions WHERE station = ? AND tx_key = ?",
                (station, tx_key),
            ).fetchone()
            if row is None:
                raise KeyError(tx_key)
            tx = self._row(row)
            if tx.closed:
                return ClosedSession(tx.session_id, tx.end_result or "{}", True)
            session_id = self._next(db, "session:" + station) if tx.driver else None
            built = build(tx, session_id)
            if built is None:
                session_id = None
            else:
                station_id, body, state, reason = built
                db.execute(
                    "INSERT INTO outbox(station_id, session_id, body, state, next_attempt, "
                    "reason, created) VALUES(?,?,?,?,?,?,?)",
                    (station_id, session_id, body, state, now, reason, now),
                )
            result = end_result(session_id)
            db.execute(
                "UPDATE transactions SET closed = 1, session_id = ?, end_result = ? "
                "WHERE station = ? AND tx_key = ?", (session_id, result, station, tx_key),
            )
            return ClosedSession(session_id, result, False)

    def claim_ocmf_locked(self, digests: tuple[bytes, ...], station: str, tx_key: str) -> bool:
        """Record signed meter records as used by this transaction; False if another session
        or station used one before. Call only from ``close_transaction``'s ``build``."""
        for digest in digests:
            row = self._db.execute(
                "SELECT station, tx_key FROM ocmf_seen WHERE digest = ?", (digest,)
            ).fetchone()
            if row is not None and (row[0], row[1]) != (station, tx_key):
                return False
            self._db.execute("INSERT OR IGNORE INTO ocmf_seen VALUES(?,?,?)",
                             (digest, station, tx_key))
        return True

    def accept_boot(self, station: str, at: float) -> None:
        """Durably record that ``station``'s BootNotification was accepted."""
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO booted VALUES(?, ?)", (station, at))

    def booted_stations(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT station FROM booted")}

    def claim_nonce(self, driver: str, nonce: int) -> bool:
        """Durably mark an app ChargeRequest nonce used; False if it was used before."""
        with self._tx() as db:
            cur = db.execute("INSERT OR IGNORE INTO charge_nonces VALUES(?, ?)",
                             (driver.lower(), str(nonce)))
            return cur.rowcount == 1

    # ---- outbox ----
    def due(self, now: float, limit: int = 50) -> list[OutboxItem]:
        with self._lock:
            rows = self._db.execute(
                "SELECT station_id, session_id, body, attempts FROM outbox "
                "WHERE state = ? AND next_attempt <= ? ORDER BY next_attempt LIMIT ?",
                (PENDING, now, limit),
            ).fetchall()
        return [OutboxItem(bytes(r[0]), int(r[1]), str(r[2]), int(r[3])) for r in rows]

    def next_due_time(self) -> float | None:
        with self._lock:
            row = self._db.execute(
                "SELECT MIN(next_attempt) FROM outbox WHERE state = ?", (PENDING,)
            ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def mark(self, item: OutboxItem, state: str, reason: str | None, next_attempt: float) -> None:
        self.mark_many([(item, state, reason, next_attempt)])

    def mark_many(self, marks: list[tuple[OutboxItem, str, str | None, float]]) -> None:
        """Record the outcome of several sends in one transaction (one fsync)."""
        with self._tx() as db:
            db.executemany(
                "UPDATE outbox SET state = ?, reason = ?, attempts = attempts + 1, "
                "next_attempt = ? WHERE station_id = ? AND session_id = ?",
                [(state, reason, next_attempt, item.station_id, item.session_id)
                 for item, state, reason, next_attempt in marks],
            )

    def outbox_rows(self) -> list[tuple[bytes, int, str, str, int, str | None]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT station_id, session_id, body, state, attempts, reason FROM outbox "
                "ORDER BY created"
            ).fetchall()
        return [(bytes(r[0]), int(r[1]), str(r[2]), str(r[3]), int(r[4]), r[5]) for r in rows]
