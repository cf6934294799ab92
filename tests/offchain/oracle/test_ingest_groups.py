"""Group ingest: receipts without neighbours in their group go to the database together
(PostgreSQL: one statement), with exactly the outcomes and rows of storing them one by one; a
group that fails stores nothing, and its retry stores each receipt once (both backends)."""

from __future__ import annotations

import random
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from wattnet.errors import StorageError
from wattnet.oracle.ingest import Ingestor
from wattnet.oracle.ingest_groups import Keys, independent
from wattnet.oracle.store_base import Store
from wattnet.oracle.store_postgres import PostgresStore
from wattnet.oracle.store_sqlite import SqliteStore

from .oracle_helpers import T0, Station, key, make_receipt, pg_dsn, rows, sign

Make = Callable[..., dict[str, Any]]


def k(station: int = 1, session: int = 1, connector: int = 1, start: int = 0, end: int = 10,
      serial: str | None = None, ocmf: bytes | None = None) -> Keys:
    return Keys(bytes([station]), session.to_bytes(8, "big"), connector, start, end, serial, ocmf)


def test_independent__only_receipts_without_a_neighbour_in_the_group() -> None:
    group = [
        k(session=1, start=0, end=10),
        k(session=2, start=20, end=30),  # same connector, later: free
        k(session=3, start=25, end=40),  # overlaps 2
        k(session=4, connector=2, start=0, end=100),  # other connector: free
        k(station=2, session=1, start=0, end=10),  # same key, other station: free
        k(station=3, session=7), k(station=3, session=7, connector=2),  # same key twice
        k(station=4, session=1, start=0, end=10), k(station=4, session=2, start=10, end=20),
        k(station=5, session=1, serial="M", start=0, end=5),
        k(station=5, session=2, serial="M", connector=2, start=50, end=60),  # same meter
        k(station=6, session=1, ocmf=b"h"), k(station=7, session=1, ocmf=b"h"),  # same data
        k(station=8, session=1, start=50, end=50), k(station=8, session=2, start=0, end=100),
    ]
    assert independent(group) == [
        True, False, False, True, True, False, False, False, False,  # 4: touching counts
        False, False, False, False, False, False,
    ]
    assert independent([]) == []


@pytest.fixture
def open_store(backend: str, tmp_path: Path) -> Iterator[Callable[[str], Store]]:
    """Separate databases of the parametrized backend, by name."""
    opened: list[Store] = []

    def _open(name: str) -> Store:
        store: Store
        if backend == "sqlite":
            store = SqliteStore(tmp_path / f"{name}.db", busy_timeout_s=0.2)
        else:
            store = PostgresStore(pg_dsn(), schema=f"g_{uuid.uuid4().hex[:16]}",
                                  lock_timeout_ms=200)
        store.migrate()
        opened.append(store)
        return store

    yield _open
    for s in opened:
        if isinstance(s, PostgresStore):
            s.drop_schema()
        s.close()


def mixed_group(stations: list[Station], rng: random.Random, n: int) -> list[dict[str, Any]]:
    """Receipts that overlap, repeat, equivocate and stand alone, in random order."""
    out: list[dict[str, Any]] = []
    for _ in range(n):
        st = rng.choice(stations)
        start = T0 - 200_000 + rng.randrange(0, 40) * 3_000
        end = start + rng.choice((900, 2_900, 6_000))
        r = make_receipt(st, rng.randrange(1, n // 2 + 2), connector_id=rng.choice((1, 2)),
                         start_time=start, end_time=end, energy_wh=rng.randrange(1, 5_000))
        out.append(sign(st, r))
        if rng.random() < 0.1:
            out.append(rng.choice(out))  # the same receipt again
    if stations:
        out.append(sign(stations[0], make_receipt(stations[0], 1), signer_key=key("attacker")))
    return out


def table(store: Store) -> list[tuple[Any, ...]]:
    return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in rows(
        store, "SELECT station_id, session_key, struct_hash, status, reason FROM receipts "
               "ORDER BY id")]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_group__same_outcomes_and_rows_as_one_by_one(
    seed: int, open_store: Callable[[str], Store], ingestor_for: Callable[..., Ingestor],
    create_station: Callable[..., Station],
) -> None:
    rng = random.Random(seed)
    stations = [create_station(f"CP-{i}") for i in range(3)]
    earlier, group = mixed_group(stations, rng, 30), mixed_group(stations, rng, 120)
    together, apart = ingestor_for(open_store("together")), ingestor_for(open_store("apart"))
    together.process(earlier)
    for item in earlier:
        apart.process([item])
    got = together.process(group)
    want = [o for item in group for o in apart.process([item])]
    assert got == want
    assert {o.status for o in got} >= {"accepted", "duplicate", "quarantined", "rejected"}
    assert table(together.store) == table(apart.store)
    assert rows(together.store, "SELECT COUNT(*) FROM conflicts") == rows(
        apart.store, "SELECT COUNT(*) FROM conflicts")


def test_group__failed_group_stores_nothing_and_its_retry_stores_each_once(
    backend: str, open_store: Callable[[str], Store], ingestor_for: Callable[..., Ingestor],
    create_station: Callable[..., Station],
) -> None:
    stations = [create_station(f"CP-{i}") for i in range(3)]
    group = mixed_group(stations, random.Random(9), 200)  # ends with a rejected item
    store = open_store("failing")
    ingestor = ingestor_for(store)
    holder: Any
    if isinstance(store, PostgresStore):  # the receipts go in; writing the rejected log fails
        holder = psycopg.connect(pg_dsn())
        holder.execute(f'LOCK TABLE "{store._schema}".rejected IN ACCESS EXCLUSIVE MODE')
    else:
        assert isinstance(store, SqliteStore)
        holder = sqlite3.connect(store.path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
    with pytest.raises(StorageError, match="nothing was acknowledged"):
        ingestor.process(group)
    holder.rollback() if backend == "postgres" else holder.execute("ROLLBACK")
    holder.close()
    assert rows(store, "SELECT COUNT(*) FROM receipts") == [(0,)]
    reference = ingestor_for(open_store("reference"))  # the same group, never failed
    assert ingestor.process(group) == reference.process(group)
    stored = table(store)
    assert stored == table(reference.store) and len(stored) > 100
    assert len({(r[0], r[1]) for r in stored}) == len(stored)  # each session once
    again = ingestor.process(group)
    assert table(store) == stored
    assert "accepted" not in {o.status for o in again}
