"""The ``Store``: every query the oracle runs, written once; backends supply the connection.

A backend implements ``_open``, ``_begin``, ``_commit``, ``_rollback``, ``_execute``,
``_executemany``, ``_query`` and ``_storage_error`` (turning its driver's exceptions into one
clear StorageUnavailable). All work happens in ``with store.transaction() as tx:`` blocks; a
block that raises is rolled back, and an acknowledgement may only follow a block that returned.
One connection serves the process, guarded by a lock (one writer thread, the batcher, readers).
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from wattnet.oracle.errors import StorageUnavailable
from wattnet.oracle.schema import (
    MIGRATIONS,
    RECEIPT_COLUMNS,
    SCHEMA_VERSION,
    BatchStatus,
    Dialect,
    Status,
)

log = logging.getLogger(__name__)

Row = tuple[Any, ...]
# (receipt column values, station_id, session_key, connector_id, start_time, end_time)
InsertRow = tuple[Sequence[Any], bytes, bytes, int, int, int]

_INSERT_RECEIPT = (
    f"INSERT INTO receipts ({', '.join(RECEIPT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in RECEIPT_COLUMNS)}) "
    "ON CONFLICT (station_id, session_key) DO NOTHING"
)
SETTLE_COLUMNS = (
    "id, station_id, session_key, connector_id, driver, credit_id, energy_wh, start_time, "
    "end_time, cost, referrer, signature, meter_data, status, batch_id, block, readings"
)


def session_key(session_id: int) -> bytes:
    return session_id.to_bytes(8, "big")


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    kind: str  # quarantined | conflict | rejected
    station_id: str
    session_id: int | None
    reason: str
    received_at: int


class Tx:
    """One open transaction; methods are the oracle's queries in shared SQL."""

    def __init__(self, store: Store) -> None:
        self._s = store

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._s._execute(self._s.dialect.sql(sql), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._s._executemany(self._s.dialect.sql(sql), rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._s._query(self._s.dialect.sql(sql), params)

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    # ---- ingest ----
    def existing(self, station_id: bytes, skey: bytes) -> Row | None:
        return self.one(
            "SELECT struct_hash, status, reason FROM receipts "
            "WHERE station_id = ? AND session_key = ?",
            (station_id, skey),
        )

    # The neighbour queries skip the receipt itself (``skey``, inserted just before). They filter
    # it out in Python: a ``session_key <> ?`` term would steer SQLite to the wrong index.
    def _other(self, sql: str, params: Sequence[Any], skey: bytes, key_col: int) -> Row | None:
        for row in self.query(sql + " LIMIT 2", params):
            if bytes(row[key_col]) != skey:
                return row
        return None

    def overlapping(
        self, station_id: bytes, skey: bytes, connector_id: int, start: int, end: int
    ) -> Row | None:
        # ``+start_time``: SQLite must range over end_time (receipts_connector: the few sessions
        # ending after this start), not start_time (receipts_start: the connector's whole past,
        # which made every insert slower as history grew).
        return self._other(
            "SELECT session_key FROM receipts WHERE station_id = ? AND connector_id = ? "
            "AND end_time > ? AND +start_time < ? AND status <> ?",
            (station_id, connector_id, start, end, Status.QUARANTINED), skey, 0,
        )

    def meter_before(self, station_id: bytes, skey: bytes, serial: str, start: int) -> Row | None:
        return self._other(
            "SELECT meter_end_wh, session_key FROM receipts WHERE station_id = ? "
            "AND meter_serial = ? AND end_time <= ? AND status <> ? ORDER BY end_time DESC",
            (station_id, serial, start, Status.QUARANTINED), skey, 1,
        )

    def meter_after(self, station_id: bytes, skey: bytes, serial: str, end: int) -> Row | None:
        return self._other(
            "SELECT meter_start_wh, session_key FROM receipts WHERE station_id = ? "
            "AND meter_serial = ? AND end_time >= ? AND start_time >= ? AND status <> ? "
            "ORDER BY start_time ASC",  # end_time >= start_time: an index range, not a scan
            (station_id, serial, end, end, Status.QUARANTINED), skey, 1,
        )

    def meter_range_overlap(self, station_id: bytes, skey: bytes, serial: str, start_wh: int,
                            end_wh: int) -> Row | None:
        """Another live session of this meter whose register range overlaps [start_wh, end_wh]:
        one meter's register cannot count the same energy for two sessions."""
        return self._other(
            "SELECT session_key FROM receipts WHERE station_id = ? AND meter_serial = ? "
            "AND meter_start_wh < ? AND meter_end_wh > ? AND status <> ?",
            (station_id, serial, end_wh, start_wh, Status.QUARANTINED), skey, 0,
        )

    def ocmf_owner(self, ocmf_hash: bytes, station_id: bytes, skey: bytes) -> Row | None:
        for row in self.query(
            "SELECT station_id, session_key FROM receipts WHERE ocmf_hash = ? LIMIT 2",
            (ocmf_hash,),
        ):
            if (bytes(row[0]), bytes(row[1])) != (station_id, skey):
                return row
        return None

    def insert_receipt(self, values: Sequence[Any]) -> bool:
        """Insert unless (station_id, session_key) exists; True when inserted."""
        return self.execute(_INSERT_RECEIPT, values) == 1

    def insert_receipt_and_overlap(
        self, values: Sequence[Any], station_id: bytes, skey: bytes, connector_id: int,
        start: int, end: int,
    ) -> tuple[bool, bytes | None]:
        """Insert (unless the key exists) and find another live session overlapping it on the
        same connector: (inserted, that session's key). Backends may do both in one trip."""
        return self._s._insert_and_overlap(self, values, station_id, skey, connector_id, start,
                                           end)

    def insert_receipts_and_overlaps(
        self, rows: Sequence[InsertRow]
    ) -> list[tuple[bool, bytes | None]]:
        """``insert_receipt_and_overlap`` for receipts that are not each other's neighbours
        (ingest_groups.py), so their order does not matter: one answer per row, in order.
        Backends where a round trip is costly do them all in a few statements."""
        return self._s._insert_many_and_overlap(self, rows)

    def quarantine_receipt(self, station_id: bytes, skey: bytes, reason: str) -> None:
        self.execute(
            "UPDATE receipts SET status = ?, reason = ? WHERE station_id = ? AND session_key = ?",
            (Status.QUARANTINED, reason, station_id, skey),
        )

    def insert_conflict(self, values: Sequence[Any]) -> None:
        self.execute(
            "INSERT INTO conflicts (station_id, session_key, struct_hash, signature, body, "
            "reason, received_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (station_id, session_key, struct_hash) DO NOTHING",
            values,
        )

    def conflicts_for(self, station_id: bytes, skey: bytes) -> int:
        row = self.one(
            "SELECT COUNT(*) FROM conflicts WHERE station_id = ? AND session_key = ?",
            (station_id, skey),
        )
        return int(row[0]) if row else 0

    def insert_rejects(self, rows: Sequence[tuple[int, str, str]], keep: int) -> None:
        self.executemany("INSERT INTO rejected (received_at, reason, body) VALUES (?, ?, ?)", rows)
        self.execute(
            "DELETE FROM rejected WHERE id <= (SELECT MAX(id) FROM rejected) - ?", (keep,)
        )

    # ---- batcher ----
    def set_status(
        self, ids: Sequence[int], status: str, now: int, *, reason: str | None = None,
        batch_id: int | None = None, tx_hash: bytes | None = None, block: int | None = None,
    ) -> None:
        if not ids:
            return
        self.executemany(
            "UPDATE receipts SET status = ?, reason = COALESCE(?, reason), "
            "batch_id = COALESCE(?, batch_id), tx_hash = COALESCE(?, tx_hash), "
            "block = COALESCE(?, block), updated_at = ? WHERE id = ?",
            [(status, reason, batch_id, tx_hash, block, now, i) for i in ids],
        )


class Store(ABC):
    """Durable oracle state; see the module docstring for the backend contract."""

    dialect: Dialect

    def __init__(self) -> None:
        self._lock = threading.RLock()

    # ---- backend hooks ----
    @abstractmethod
    def _begin(self) -> None: ...
    @abstractmethod
    def _commit(self) -> None: ...
    @abstractmethod
    def _rollback(self) -> None: ...
    @abstractmethod
    def _execute(self, sql: str, params: Sequence[Any]) -> int: ...
    @abstractmethod
    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...
    @abstractmethod
    def _query(self, sql: str, params: Sequence[Any]) -> list[Row]: ...
    @abstractmethod
    def _storage_error(self, exc: Exception) -> StorageUnavailable | None:
        """The clear error for a driver exception, or None when ``exc`` is not the driver's."""

    @abstractmethod
    def close(self) -> None: ...

    @property
    @abstractmethod
    def description(self) -> str: ...

    def _insert_and_overlap(
        self, tx: Tx, values: Sequence[Any], station_id: bytes, skey: bytes,
        connector_id: int, start: int, end: int,
    ) -> tuple[bool, bytes | None]:
        if not tx.insert_receipt(values):
            return False, None
        clash = tx.overlapping(station_id, skey, connector_id, start, end)
        return True, None if clash is None else bytes(clash[0])

    def _insert_many_and_overlap(
        self, tx: Tx, rows: Sequence[InsertRow]
    ) -> list[tuple[bool, bytes | None]]:
        return [self._insert_and_overlap(tx, *row) for row in rows]

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self._lock:
            try:
                self._begin()
                yield Tx(self)
                self._commit()
            except BaseException as exc:
                try:
                    self._rollback()
                except Exception:  # the connection may be gone; the original error matters
                    log.debug("rollback failed", exc_info=True)
                clear = self._storage_error(exc) if isinstance(exc, Exception) else None
                if clear is not None:
                    raise clear from exc
                raise

    def migrate(self) -> int:
        """Bring the schema to SCHEMA_VERSION; returns the version found before."""
        return self.apply_migrations("schema_version", MIGRATIONS[:SCHEMA_VERSION],
                                     "this oracle")

    def apply_migrations(self, key: str, migrations: Sequence[Sequence[str]], who: str) -> int:
        """Apply the migrations past the version ``meta.<key>`` records, in one transaction
        (a component with tables of its own, such as OCPI's, keeps its own key); returns the
        version found before."""
        target = len(migrations)
        with self.transaction() as tx:
            tx.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            row = tx.one("SELECT value FROM meta WHERE key = ?", (key,))
            found = int(row[0]) if row else 0
            if found > target:
                raise StorageUnavailable(
                    f"{self.description} has {key} {found}, newer than {who} ({target}); "
                    "upgrade wattnet before running it on this database"
                )
            for version in range(found, target):
                for statement in migrations[version]:
                    tx.execute(self.dialect.ddl(statement))
                log.info("%s: migrated %s to %d", self.description, key, version + 1)
            if found != target:
                tx.execute("DELETE FROM meta WHERE key = ?", (key,))
                tx.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, str(target)))
        return found

    def readings(self, station_id: bytes, session_id: int) -> dict[str, Any] | None:
        """What a stored receipt commits to: its readings commitment and signed meter records
        (kept for as long as the receipt row is: the challenge window needs them)."""
        with self.transaction() as tx:
            row = tx.one(
                "SELECT readings, meter_data, status, struct_hash FROM receipts "
                "WHERE station_id = ? AND session_key = ?", (station_id, session_key(session_id)))
        if row is None:
            return None
        readings, meter_data, status, struct_hash = row
        return {
            "stationId": "0x" + station_id.hex(), "sessionId": session_id,
            "readings": "0x" + (bytes(readings) if readings is not None else bytes(32)).hex(),
            "meterData": meter_data, "status": status,
            "structHash": "0x" + bytes(struct_hash).hex(),
        }

    def ping(self) -> None:
        """One cheap round trip; raises StorageUnavailable when the database does not answer."""
        with self.transaction() as tx:
            tx.query("SELECT value FROM meta WHERE key = 'schema_version'")

    # ---- reads for status, metrics and the CLI ----
    def counts(self) -> dict[str, int]:
        with self.transaction() as tx:
            rows = tx.query("SELECT status, COUNT(*) FROM receipts GROUP BY status")
            out = {status: 0 for status in Status.ALL}
            out.update({str(s): int(n) for s, n in rows})
            conflicts = tx.one("SELECT COUNT(*) FROM conflicts")
            rejected = tx.one("SELECT COUNT(*) FROM rejected")
            open_batches = tx.one("SELECT COUNT(*) FROM batches WHERE status <> 'done'")
        out["conflicts"] = int(conflicts[0]) if conflicts else 0
        out["rejected"] = int(rejected[0]) if rejected else 0
        out["open_batches"] = int(open_batches[0]) if open_batches else 0
        return out

    def live_counts(self) -> dict[str, int]:
        """Counts of the small, non-final states only (index range scans; cheap at any size)."""
        live = (Status.PENDING, Status.BATCHED, Status.SUBMITTED, Status.CONFIRMING)
        with self.transaction() as tx:
            rows = tx.query(
                "SELECT status, COUNT(*) FROM receipts WHERE status IN (?, ?, ?, ?) "
                "GROUP BY status", live,
            )
            batches = tx.one("SELECT COUNT(*) FROM batches WHERE status IN (?, ?)",
                             (BatchStatus.INTENT, BatchStatus.SUBMITTED))
        out = dict.fromkeys(live, 0)
        out.update({str(s): int(n) for s, n in rows})
        out["open_batches"] = int(batches[0]) if batches else 0
        return out

    def quarantine(self, limit: int = 100) -> list[QuarantineEntry]:
        """Newest first: quarantined receipts, equivocation evidence and rejected payloads."""
        with self.transaction() as tx:
            q = tx.query(
                "SELECT station_id, session_key, reason, received_at FROM receipts "
                "WHERE status = ? ORDER BY id DESC LIMIT ?",
                (Status.QUARANTINED, limit),
            )
            c = tx.query(
                "SELECT station_id, session_key, reason, received_at FROM conflicts "
                "ORDER BY id DESC LIMIT ?",
                (limit,),
            )
            r = tx.query(
                "SELECT reason, received_at FROM rejected ORDER BY id DESC LIMIT ?", (limit,)
            )
        entries = [
            QuarantineEntry(kind, "0x" + bytes(st).hex(), int.from_bytes(bytes(sk), "big"),
                            str(reason), int(at))
            for kind, rows in (("quarantined", q), ("conflict", c))
            for st, sk, reason, at in rows
        ]
        entries += [QuarantineEntry("rejected", "", None, str(reason), int(at)) for reason, at in r]
        entries.sort(key=lambda e: e.received_at, reverse=True)
        return entries[:limit]
