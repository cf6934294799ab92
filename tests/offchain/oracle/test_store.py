"""Storage fails closed: locked, full, corrupt, unreachable -> StorageUnavailable, nothing kept."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from wattnet.errors import StorageError
from wattnet.oracle.errors import StorageUnavailable
from wattnet.oracle.ingest import Ingestor
from wattnet.oracle.schema import SCHEMA_VERSION
from wattnet.oracle.store import open_store
from wattnet.oracle.store_base import Store
from wattnet.oracle.store_postgres import PostgresStore
from wattnet.oracle.store_sqlite import SqliteStore

from .oracle_helpers import BACKENDS, Station, pg_dsn, rows

Make = Callable[..., dict[str, Any]]


def test_store__migrate_is_idempotent_and_records_the_version(
    make_store: Callable[[], Store],
) -> None:
    s = make_store()
    assert s.migrate() == SCHEMA_VERSION
    assert rows(s, "SELECT value FROM meta WHERE key = 'schema_version'") == [
        (str(SCHEMA_VERSION),)]


def test_store__refuses_a_schema_newer_than_the_code(make_store: Callable[[], Store]) -> None:
    s = make_store()
    with s.transaction() as tx:
        tx.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StorageUnavailable, match="newer than this oracle"):
        s.migrate()


def test_store__failed_transaction_rolls_back_everything(
    make_store: Callable[[], Store],
) -> None:
    s = make_store()
    with pytest.raises(RuntimeError), s.transaction() as tx:
        tx.insert_rejects([(1, "a", "b")], keep=10)
        raise RuntimeError("boom")
    assert rows(s, "SELECT COUNT(*) FROM rejected") == [(0,)]


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_store__locked_database_fails_closed_and_nothing_is_stored(
    backend_name: str, tmp_path: Path, ingestor_for: Callable[..., Ingestor],
    station: Station, create_receipt: Make,
) -> None:
    store: Store
    if backend_name == "sqlite":
        store = SqliteStore(tmp_path / "locked.db", busy_timeout_s=0.2)
        store.migrate()
        ingestor = ingestor_for(store)
        holder: Any = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
    else:
        schema = f"t_{uuid.uuid4().hex[:16]}"
        store = PostgresStore(pg_dsn(), schema=schema, lock_timeout_ms=200)
        store.migrate()
        ingestor = ingestor_for(store)
        holder = psycopg.connect(pg_dsn())
        holder.execute(f'LOCK TABLE "{schema}".receipts IN ACCESS EXCLUSIVE MODE')
    with pytest.raises(StorageError, match=r"locked.*nothing was acknowledged"):
        ingestor.process([create_receipt(station, 1)])
    holder.rollback() if backend_name == "postgres" else holder.execute("ROLLBACK")
    holder.close()
    assert rows(store, "SELECT COUNT(*) FROM receipts") == [(0,)]
    assert ingestor.process([create_receipt(station, 1)])[0].status == "accepted"
    if isinstance(store, PostgresStore):
        store.drop_schema()
    store.close()


def test_store__full_disk_fails_closed_with_a_clear_message(
    tmp_path: Path, ingestor_for: Callable[..., Ingestor], station: Station,
    create_receipt: Make,
) -> None:
    store = SqliteStore(tmp_path / "full.db")
    store.migrate()
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")  # no room for one more page
    ingestor = ingestor_for(store)
    batch = [create_receipt(station, i, connector_id=1 + i % 2, start_time=1_000 + 10 * i,
                            end_time=1_005 + 10 * i, energy_wh=1) for i in range(300)]
    with pytest.raises(StorageUnavailable, match=r"is full.*free disk space"):
        ingestor.process(batch)
    assert rows(store, "SELECT COUNT(*) FROM receipts") == [(0,)]
    store.close()


def test_store__corrupt_sqlite_file_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"this is not a database, it is a cat picture " * 200)
    with pytest.raises(StorageUnavailable, match=r"is corrupt.*restore it from a backup"):
        open_store(str(path))


def test_store__unreachable_postgres_fails_closed(tmp_path: Path) -> None:
    with pytest.raises(StorageUnavailable, match="unreachable"):
        PostgresStore("postgresql://nobody@127.0.0.1:1/none", connect_timeout_s=2)


def test_store__live_counts_cover_only_unfinished_work(
    make_ingestor: Callable[..., Ingestor], store: Store, station: Station, create_receipt: Make,
) -> None:
    ingestor = make_ingestor()
    ingestor.process([create_receipt(station, 1), create_receipt(station, 2, connector_id=2)])
    with store.transaction() as tx:
        tx.execute("UPDATE receipts SET status = 'settled' WHERE session_key = ?",
                   ((1).to_bytes(8, "big"),))
    assert store.live_counts() == {"pending": 1, "batched": 0, "submitted": 0, "confirming": 0,
                                   "open_batches": 0}
    assert store.counts()["settled"] == 1
