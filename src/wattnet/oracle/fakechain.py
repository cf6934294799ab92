"""A settlement chain in a SQLite file, for tests: survives the oracle being killed, and can
drop, replace and reorg transactions on demand.

Semantics follow the contract: a receipt already settled is skipped with ReceiptRejected
(ALREADY_SETTLED), one bad receipt never stops the others. ``auto_mine`` mines pending txs and
advances one block whenever the oracle polls (``head_block``/``tx_status``), so a subprocess
oracle makes progress without a driver. ``settle_log`` keeps every settle attempt for assertions.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from wattnet.chain.receipt_codec import signed_from_json, signed_to_json
from wattnet.domain import RejectReason, SignedReceipt
from wattnet.oracle.chain import TxStatus, sort_key
from wattnet.oracle.errors import SettlementError
from wattnet.oracle.verify import keccak

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS state (k TEXT PRIMARY KEY, v INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS txs (hash BLOB PRIMARY KEY, nonce INTEGER NOT NULL, "
    "payload TEXT NOT NULL, status TEXT NOT NULL, block INTEGER, seq INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS settled (station BLOB NOT NULL, session INTEGER NOT NULL, "
    "tx BLOB NOT NULL, block INTEGER NOT NULL, PRIMARY KEY (station, session))",
    "CREATE TABLE IF NOT EXISTS events (tx BLOB NOT NULL, station BLOB NOT NULL, "
    "session INTEGER NOT NULL, reason INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS settle_log (station BLOB NOT NULL, session INTEGER NOT NULL, "
    "tx BLOB NOT NULL, outcome INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS fail (station BLOB NOT NULL, session INTEGER NOT NULL, "
    "reason INTEGER NOT NULL, PRIMARY KEY (station, session))",
    "INSERT OR IGNORE INTO state VALUES ('head', 0), ('nonce', 0), ('seq', 0), ('drop_next', 0),"
    " ('revert_next', 0)",
)


class FakeSettlementChain:
    def __init__(self, path: str | Path, auto_mine: bool = False) -> None:
        self.path = Path(path)
        self.auto_mine = auto_mine
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                   check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        for statement in _SCHEMA:
            self._db.execute(statement)

    # ---- helpers ----
    def _get(self, key: str) -> int:
        return int(self._db.execute("SELECT v FROM state WHERE k = ?", (key,)).fetchone()[0])

    def _set(self, key: str, value: int) -> None:
        self._db.execute("UPDATE state SET v = ? WHERE k = ?", (value, key))

    def _tx(self) -> sqlite3.Connection:
        self._db.execute("BEGIN IMMEDIATE")
        return self._db

    # ---- SettlementChain ----
    def next_nonce(self) -> int:
        return self._get("nonce")

    def submit(self, batch: list[SignedReceipt], nonce: int) -> bytes:
        if sorted(batch, key=sort_key) != batch:
            raise SettlementError("settleBatch needs receipts sorted by (stationId, sessionId)")
        payload = json.dumps([signed_to_json(s) for s in batch])
        db = self._tx()
        try:
            if nonce < self._get("nonce"):
                raise SettlementError(f"nonce {nonce} too low")
            seq = self._get("seq") + 1
            self._set("seq", seq)
            tx_hash = keccak(f"{nonce}:{seq}:{payload}".encode())
            db.execute("UPDATE txs SET status = 'replaced' WHERE nonce = ? AND status = 'pending'",
                       (nonce,))
            status = "dropped" if self._get("drop_next") else "pending"
            self._set("drop_next", 0)
            db.execute("INSERT INTO txs VALUES (?, ?, ?, ?, NULL, ?)",
                       (tx_hash, nonce, payload, status, seq))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return tx_hash

    def fill_nonce(self, nonce: int) -> bytes:
        return self.submit([], nonce)

    def tx_status(self, tx_hash: bytes) -> TxStatus:
        if self.auto_mine:
            self.mine()
        row = self._db.execute("SELECT status, block FROM txs WHERE hash = ?",
                               (tx_hash,)).fetchone()
        if row is None or row[0] in ("dropped", "replaced"):
            return TxStatus(False, False, False, None, 0)
        if row[0] == "pending":
            return TxStatus(True, False, False, None, 0)
        head = self._get("head")
        return TxStatus(True, True, row[0] == "mined", int(row[1]), head - int(row[1]) + 1)

    def is_settled(self, station_id: bytes, session_id: int) -> bool:
        return self._db.execute("SELECT 1 FROM settled WHERE station = ? AND session = ?",
                                (station_id, session_id)).fetchone() is not None

    def rejected_in_tx(self, tx_hash: bytes) -> list[tuple[bytes, int, int]]:
        rows = self._db.execute("SELECT station, session, reason FROM events WHERE tx = ?",
                                (tx_hash,)).fetchall()
        return [(bytes(a), int(b), int(c)) for a, b, c in rows]

    def head_block(self) -> int:
        if self.auto_mine:
            self.mine()
        return self._get("head")

    # ---- test controls ----
    def mine(self, blocks: int = 1) -> None:
        """Advance ``blocks`` blocks; the first includes every pending tx whose nonce is next."""
        db = self._tx()
        try:
            head = self._get("head") + 1
            nonce = self._get("nonce")
            revert = self._get("revert_next")
            pending = db.execute("SELECT hash, nonce, payload FROM txs WHERE status = 'pending' "
                                 "ORDER BY nonce, seq").fetchall()
            for tx_hash, tx_nonce, payload in pending:
                if tx_nonce != nonce:
                    continue
                nonce += 1
                if revert:
                    revert = 0
                    db.execute("UPDATE txs SET status = 'reverted', block = ? WHERE hash = ?",
                               (head, tx_hash))
                    continue
                db.execute("UPDATE txs SET status = 'mined', block = ? WHERE hash = ?",
                           (head, tx_hash))
                for obj in json.loads(payload):
                    r = signed_from_json(obj).receipt
                    key = (r.station_id, r.session_id)
                    reason = RejectReason.NONE
                    if self.is_settled(*key):
                        reason = RejectReason.ALREADY_SETTLED
                    else:
                        fail = db.execute("SELECT reason FROM fail WHERE station = ? AND "
                                          "session = ?", key).fetchone()
                        if fail is not None:
                            reason = RejectReason(int(fail[0]))
                    db.execute("INSERT INTO settle_log VALUES (?, ?, ?, ?)",
                               (*key, tx_hash, int(reason)))
                    if reason == RejectReason.NONE:
                        db.execute("INSERT INTO settled VALUES (?, ?, ?, ?)", (*key, tx_hash, head))
                    else:
                        db.execute("INSERT INTO events VALUES (?, ?, ?, ?)",
                                   (tx_hash, *key, int(reason)))
            db.execute("UPDATE txs SET status = 'replaced' WHERE status = 'pending' AND nonce < ?",
                       (nonce,))
            self._set("nonce", nonce)
            self._set("revert_next", revert)
            self._set("head", head + blocks - 1)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def reorg(self, depth: int) -> None:
        """Unmine the last ``depth`` blocks: their txs are dropped and their effects undone."""
        db = self._tx()
        try:
            head = self._get("head")
            cut = head - depth
            gone = db.execute("SELECT hash FROM txs WHERE block > ? AND status IN "
                              "('mined', 'reverted')", (cut,)).fetchall()
            for (tx_hash,) in gone:
                db.execute("DELETE FROM settled WHERE tx = ?", (tx_hash,))
                db.execute("DELETE FROM events WHERE tx = ?", (tx_hash,))
                db.execute("DELETE FROM settle_log WHERE tx = ?", (tx_hash,))
                db.execute("UPDATE txs SET status = 'dropped', block = NULL WHERE hash = ?",
                           (tx_hash,))
            self._set("nonce", self._get("nonce") - len(gone))
            self._set("head", cut)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def drop_next(self) -> None:
        self._set("drop_next", 1)

    def revert_next(self) -> None:
        self._set("revert_next", 1)

    def fail_receipt(self, station_id: bytes, session_id: int, reason: RejectReason) -> None:
        self._db.execute("INSERT OR REPLACE INTO fail VALUES (?, ?, ?)",
                         (station_id, session_id, int(reason)))

    def settle_counts(self) -> dict[tuple[bytes, int], int]:
        """How many times each session was settled (0 or 1 on a correct chain; the oracle's
        double submissions show up in ``already_settled_attempts``)."""
        rows = self._db.execute("SELECT station, session, COUNT(*) FROM settle_log "
                                "WHERE outcome = 0 GROUP BY station, session").fetchall()
        return {(bytes(a), int(b)): int(n) for a, b, n in rows}

    def already_settled_attempts(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM settle_log WHERE outcome = ?",
                                    (int(RejectReason.ALREADY_SETTLED),)).fetchone()[0])

    def tx_count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM txs").fetchone()[0])

    def close(self) -> None:
        self._db.close()
