"""PostgreSQL backend: same SQL as SQLite, ``%s`` placeholders, synchronous_commit on.

``schema`` puts the oracle's tables in their own PostgreSQL schema (tests use one per test).
A broken connection is reopened at the next transaction; until then every call fails closed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from wattnet.oracle.errors import StorageUnavailable
from wattnet.oracle.schema import POSTGRES, RECEIPT_COLUMNS, Status
from wattnet.oracle.store_base import InsertRow, Row, Store, Tx

log = logging.getLogger(__name__)

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# One round trip for the common ingest case. The outer SELECT runs on the statement's snapshot,
# which does not contain the row the CTE inserts: it sees exactly the other sessions.
_INSERT_AND_OVERLAP = (
    f"WITH ins AS (INSERT INTO receipts ({', '.join(RECEIPT_COLUMNS)}) "
    f"VALUES ({', '.join('%s' for _ in RECEIPT_COLUMNS)}) "
    "ON CONFLICT (station_id, session_key) DO NOTHING RETURNING 1) "
    "SELECT (SELECT COUNT(*) FROM ins), (SELECT session_key FROM receipts "
    "WHERE station_id = %s AND connector_id = %s AND end_time > %s AND start_time < %s "
    "AND status <> %s LIMIT 1)"
)

# Many receipts that are not each other's neighbours (ingest_groups.py) in one statement: the
# insert (in the order given, so row ids follow it) and, for each, another live session on its
# connector overlapping it. As above, the outer SELECT does not see the rows the CTE inserts, and
# none of them is another's neighbour. One array per column keeps the statement text fixed.
_PG_TYPES = {"connector_id": "int"} | {
    c: "bigint" for c in ("energy_wh", "start_time", "end_time", "received_at", "updated_at",
                          "meter_start_wh", "meter_end_wh")
} | {c: "text" for c in ("credit_id", "cost", "meter_data", "status", "reason", "flags",
                         "meter_serial")}
_COLS = ", ".join(RECEIPT_COLUMNS)
_INSERT_MANY_AND_OVERLAP = (
    "WITH v AS (SELECT * FROM unnest("
    # %b: the arrays go in binary (psycopg's text-array dumper escaped each element with a regex:
    # ~70 % of this statement's client time)
    + ", ".join(f"%b::{_PG_TYPES.get(c, 'bytea')}[]" for c in RECEIPT_COLUMNS)
    + f") WITH ORDINALITY AS v ({_COLS}, ord)), "
    f"ins AS (INSERT INTO receipts ({_COLS}) SELECT {_COLS} FROM v ORDER BY ord "
    "ON CONFLICT (station_id, session_key) DO NOTHING RETURNING station_id, session_key) "
    "SELECT ins.session_key IS NOT NULL, (SELECT r.session_key FROM receipts r "
    "WHERE r.station_id = v.station_id AND r.connector_id = v.connector_id "
    # Range over end_time (receipts_connector: the few sessions ending after this start), not
    # start_time (receipts_start: the connector's whole past; 27 of the statement's 52 ms per
    # 1,000 at 20,000 stored), as for SQLite (store_base.overlapping). `+ 0` keeps start_time
    # out of the index condition, and ORDER BY end_time makes receipts_connector the plan
    # before the table has statistics too (a fresh node's first hours).
    "AND r.end_time > v.start_time AND (r.start_time + 0) < v.end_time AND r.status <> %s "
    "ORDER BY r.end_time LIMIT 1) "
    "FROM v LEFT JOIN ins ON ins.station_id = v.station_id AND ins.session_key = v.session_key "
    "ORDER BY v.ord"
)


class PostgresStore(Store):
    dialect = POSTGRES

    def __init__(
        self, dsn: str, schema: str | None = None, lock_timeout_ms: int = 5_000,
        connect_timeout_s: int = 5,
    ) -> None:
        super().__init__()
        if schema is not None and not _SCHEMA_NAME.match(schema):
            raise StorageUnavailable(f"PostgreSQL schema name {schema!r} is not a plain name")
        self._dsn = dsn
        self._schema = schema
        self._lock_timeout_ms = lock_timeout_ms
        self._connect_timeout_s = connect_timeout_s
        self._conn: psycopg.Connection[Any] | None = None
        self._connect()

    @property
    def description(self) -> str:
        host = psycopg.conninfo.conninfo_to_dict(self._dsn).get("host", "?")
        schema = f" (schema {self._schema})" if self._schema else ""
        return f"PostgreSQL database at {host}{schema}"

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(self._dsn, connect_timeout=self._connect_timeout_s)
            conn.execute("SET synchronous_commit = on")
            conn.execute(f"SET lock_timeout = {int(self._lock_timeout_ms)}")
            if self._schema:
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self._schema}"')
                conn.execute(f'SET search_path TO "{self._schema}"')
            conn.commit()
        except psycopg.Error as exc:
            raise self._storage_error(exc) or StorageUnavailable(str(exc)) from exc
        self._conn = conn
        return conn

    def _c(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            return self._connect()
        return self._conn

    def _begin(self) -> None:
        self._c()

    def _commit(self) -> None:
        self._c().commit()

    def _rollback(self) -> None:
        if self._conn is not None and not self._conn.closed:
            self._conn.rollback()

    def _execute(self, sql: str, params: Sequence[Any]) -> int:
        return self._c().execute(sql, params).rowcount

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._c().cursor() as cur:
            cur.executemany(sql, rows)

    def _query(self, sql: str, params: Sequence[Any]) -> list[Row]:
        return [tuple(r) for r in self._c().execute(sql, params).fetchall()]

    def _insert_and_overlap(
        self, tx: Tx, values: Sequence[Any], station_id: bytes, skey: bytes,
        connector_id: int, start: int, end: int,
    ) -> tuple[bool, bytes | None]:
        row = self._c().execute(
            _INSERT_AND_OVERLAP,
            (*values, station_id, connector_id, start, end, Status.QUARANTINED),
        ).fetchone()
        assert row is not None
        inserted = int(row[0]) == 1
        return inserted, None if not inserted or row[1] is None else bytes(row[1])

    def _insert_many_and_overlap(
        self, tx: Tx, rows: Sequence[InsertRow]
    ) -> list[tuple[bool, bytes | None]]:
        if not rows:
            return []
        columns = [list(col) for col in zip(*(row[0] for row in rows), strict=True)]
        got = self._c().execute(
            _INSERT_MANY_AND_OVERLAP, [*columns, Status.QUARANTINED], binary=True
        ).fetchall()
        return [(bool(ins), None if not ins or clash is None else bytes(clash))
                for ins, clash in got]

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()

    def drop_schema(self) -> None:
        """Tests: remove this store's schema and everything in it."""
        if self._schema:
            with self.transaction() as tx:
                tx.execute(f'DROP SCHEMA IF EXISTS "{self._schema}" CASCADE')

    def _storage_error(self, exc: Exception) -> StorageUnavailable | None:
        if isinstance(exc, StorageUnavailable):
            return exc
        if not isinstance(exc, psycopg.Error):
            return None
        if isinstance(exc, pg_errors.LockNotAvailable | pg_errors.DeadlockDetected):
            what, hint = "is locked", "another writer holds the lock; retry"
        elif isinstance(exc, pg_errors.DiskFull | pg_errors.OutOfMemory):
            what, hint = "is full", "free disk space on the database server"
        elif isinstance(exc, pg_errors.DataCorrupted | pg_errors.IndexCorrupted):
            what, hint = "reports corruption", "restore from a backup"
        elif isinstance(exc, psycopg.OperationalError):
            what, hint = "is unreachable", "check the server and the DSN"
        else:
            what, hint = "failed", "see the log for details"
        return StorageUnavailable(
            f"{self.description} {what} ({_first_line(exc)}); nothing was acknowledged: {hint}"
        )


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
