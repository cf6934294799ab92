"""A settlement chain in a SQLite file, for tests: survives the oracle being killed, and can
drop, replace and reorg transactions on demand.

Semantics follow the contract: a receipt already settled is skipped with ReceiptRejected
(ALREADY_SETTLED), one bad receipt never stops the others, a receipt that ended more than the
window before chain time is STALE (``set_clock``). Whole batches revert when told to: out of gas
below ``need_gas``, while paused, with a poisoned receipt (``poison``), or once (``revert_next``);
a gas estimate (``submit(estimate=True)``) sees the same and refuses. ``auto_mine`` mines pending
txs and advances one block whenever the oracle polls (``head_block``/``tx_status``), so a
subprocess oracle makes progress without a driver. ``settle_log`` keeps every settle attempt.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from wattnet.chain.receipt_codec import signed_from_json, signed_to_json
from wattnet.domain import RejectReason, SignedReceipt
from wattnet.oracle.chain import TxStatus, sort_key
from wattnet.oracle.errors import SettlementError, SettlementWouldRevert
from wattnet.oracle.reverts import RevertCause, RevertKind
from wattnet.oracle.verify import keccak

BASE_GAS = 100_000  # the fake's gas limit without an estimate: BASE_GAS + GAS_PER_RECEIPT * n
GAS_PER_RECEIPT = 100_000
ESTIMATE_MARGIN_PCT = 25

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS state (k TEXT PRIMARY KEY, v INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS txs (hash BLOB PRIMARY KEY, nonce INTEGER NOT NULL, "
    "payload TEXT NOT NULL, status TEXT NOT NULL, block INTEGER, seq INTEGER NOT NULL, "
    "gas INTEGER NOT NULL DEFAULT 0, cause TEXT)",
    "CREATE TABLE IF NOT EXISTS settled (station BLOB NOT NULL, session INTEGER NOT NULL, "
    "tx BLOB NOT NULL, block INTEGER NOT NULL, PRIMARY KEY (station, session))",
    "CREATE TABLE IF NOT EXISTS events (tx BLOB NOT NULL, station BLOB NOT NULL, "
    "session INTEGER NOT NULL, reason INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS settle_log (station BLOB NOT NULL, session INTEGER NOT NULL, "
    "tx BLOB NOT NULL, outcome INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS fail (station BLOB NOT NULL, session INTEGER NOT NULL, "
    "reason INTEGER NOT NULL, PRIMARY KEY (station, session))",
    "CREATE TABLE IF NOT EXISTS poison (station BLOB NOT NULL, session INTEGER NOT NULL, "
    "detail TEXT NOT NULL, PRIMARY KEY (station, session))",
    "INSERT OR IGNORE INTO state VALUES ('head', 0), ('nonce', 0), ('seq', 0), ('drop_next', 0),"
    " ('revert_next', 0), ('gas_base', 0), ('gas_per', 0), ('paused', 0), ('time', 0), "
    "('window', 0)",
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

    def submit(self, batch: list[SignedReceipt], nonce: int, *, min_gas: int = 0,
               estimate: bool = False) -> bytes:
        if sorted(batch, key=sort_key) != batch:
            raise SettlementError("a batch needs receipts sorted by (stationId, sessionId)")
        gas = max(BASE_GAS + GAS_PER_RECEIPT * len(batch), min_gas)
        if estimate and batch:
            keys = [sort_key(s) for s in batch]
            cause = self._whole_batch_cause(keys, gas=None)
            if cause is not None:
                raise SettlementWouldRevert(f"settlePacked({len(batch)}) would fail: {cause}",
                                            cause)
            gas = max(gas, self._gas_needed(len(batch)) * (100 + ESTIMATE_MARGIN_PCT) // 100)
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
            db.execute("INSERT INTO txs VALUES (?, ?, ?, ?, NULL, ?, ?, NULL)",
                       (tx_hash, nonce, payload, status, seq, gas))
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

    def revert_cause(self, tx_hash: bytes) -> RevertCause:
        row = self._db.execute("SELECT cause, gas FROM txs WHERE hash = ?", (tx_hash,)).fetchone()
        if row is None or row[0] is None:
            raise SettlementError(f"tx 0x{tx_hash.hex()} did not revert")
        kind, detail = json.loads(row[0])
        return RevertCause(RevertKind(kind), detail, int(row[1]))

    def chain_time(self) -> int:
        return self._get("time")

    def settlement_window(self) -> int | None:
        return self._get("window") or None

    # ---- what the contract would do ----
    def _gas_needed(self, receipts: int) -> int:
        return self._get("gas_base") + self._get("gas_per") * receipts

    def _whole_batch_cause(self, keys: list[tuple[bytes, int]],
                           gas: int | None) -> RevertCause | None:
        """Why the whole batch reverts (None: it does not); ``gas`` None is an estimate."""
        if not keys:  # a no-op filler
            return None
        if self._get("paused"):
            return RevertCause(RevertKind.PAUSED, "SettlementPaused()", gas or 0)
        for key in keys:
            row = self._db.execute("SELECT detail FROM poison WHERE station = ? AND session = ?",
                                   key).fetchone()
            if row is not None:
                return RevertCause(RevertKind.REASON, str(row[0]), gas or 0)
        need = self._gas_needed(len(keys))
        if gas is not None and gas < need:
            return RevertCause(RevertKind.OUT_OF_GAS, f"out of gas ({gas:,} of {gas:,} gas)", gas)
        return None

    def _stale(self, end_time: int) -> bool:
        window, now = self._get("window"), self._get("time")
        return bool(window and now and end_time + window < now)

    # ---- test controls ----
    def mine(self, blocks: int = 1) -> None:
        """Advance ``blocks`` blocks; the first includes every pending tx whose nonce is next."""
        db = self._tx()
        try:
            head = self._get("head") + 1
            nonce = self._get("nonce")
            revert = self._get("revert_next")
            pending = db.execute("SELECT hash, nonce, payload, gas FROM txs WHERE status = "
                                 "'pending' ORDER BY nonce, seq").fetchall()
            for tx_hash, tx_nonce, payload, gas in pending:
                if tx_nonce != nonce:
                    continue
                nonce += 1
                receipts = [signed_from_json(obj).receipt for obj in json.loads(payload)]
                cause = self._whole_batch_cause(
                    [(r.station_id, r.session_id) for r in receipts], int(gas))
                if revert and receipts:
                    revert = 0
                    cause = RevertCause(RevertKind.UNKNOWN, "reverted without a reason",
                                        int(gas))
                if cause is not None:
                    db.execute("UPDATE txs SET status = 'reverted', block = ?, cause = ? "
                               "WHERE hash = ?",
                               (head, json.dumps([cause.kind, cause.detail]), tx_hash))
                    continue
                db.execute("UPDATE txs SET status = 'mined', block = ? WHERE hash = ?",
                           (head, tx_hash))
                for r in receipts:
                    key = (r.station_id, r.session_id)
                    reason = RejectReason.NONE
                    if self.is_settled(*key):
                        reason = RejectReason.ALREADY_SETTLED
                    elif self._stale(r.end_time):
                        reason = RejectReason.STALE
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
        """The next settlement tx mined reverts without a reason (a no-op filler never does)."""
        self._set("revert_next", 1)

    def need_gas(self, base: int, per_receipt: int) -> None:
        """From now on a batch of n receipts needs base + per_receipt * n gas, or reverts."""
        self._set("gas_base", base)
        self._set("gas_per", per_receipt)

    def pause(self, paused: bool = True) -> None:
        self._set("paused", int(paused))

    def poison(self, station_id: bytes, session_id: int, detail: str) -> None:
        """Any batch holding this receipt reverts with ``detail`` (a decoded custom error)."""
        self._db.execute("INSERT OR REPLACE INTO poison VALUES (?, ?, ?)",
                         (station_id, session_id, detail))

    def set_clock(self, now: int, window: int | None = None) -> None:
        """Chain time (and the settlement window, when given) for STALE and ``chain_time``."""
        self._set("time", now)
        if window is not None:
            self._set("window", window)

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

    def sent_txs(self) -> list[tuple[int, list[tuple[bytes, int]], str]]:
        """(gas, receipt keys, status) of every settlement tx sent, in sending order."""
        rows = self._db.execute("SELECT gas, payload, status FROM txs ORDER BY seq").fetchall()
        return [(int(g), [sort_key(signed_from_json(o)) for o in json.loads(p)], str(st))
                for g, p, st in rows if p != "[]"]

    def resent_unchanged(self, known: set[bytes] | None = None) -> int:
        """Txs sent with the receipts and gas limit of an earlier tx that reverted, other than
        after a pause (the same batch is right once settlement is open again); with ``known``,
        only reverted txs among those hashes count (the oracle cannot know of a tx whose hash
        a crash took before it was recorded)."""
        rows = self._db.execute(
            "SELECT a.hash FROM txs b JOIN txs a ON a.status = 'reverted' AND a.seq < b.seq "
            "AND a.payload = b.payload AND a.gas = b.gas AND a.cause NOT LIKE ?",
            (f'["{RevertKind.PAUSED}"%',)).fetchall()
        return sum(1 for (h,) in rows if known is None or bytes(h) in known)

    def close(self) -> None:
        self._db.close()
