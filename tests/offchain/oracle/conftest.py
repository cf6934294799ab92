"""Oracle test fixtures: role keys, station/receipt factories, both storage backends.

Every store-backed test runs against SQLite and PostgreSQL (``backend`` fixture). PostgreSQL
needs WATTNET_TEST_PG_DSN (``eval "$(tools/ci_postgres.sh)"``); without it those tests FAIL
with instructions, unless WATTNET_TEST_PG=off says explicitly to run SQLite only.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from wattnet.chain.eip712 import address_of_private_key
from wattnet.domain import StationInfo, station_id_for
from wattnet.oracle.config import OracleConfig, PlausibilityLimits
from wattnet.oracle.directory import CachedStationDirectory, InMemoryStationDirectory
from wattnet.oracle.ingest import Ingestor
from wattnet.oracle.metrics import Metrics
from wattnet.oracle.store_base import Store
from wattnet.oracle.store_postgres import PostgresStore
from wattnet.oracle.store_sqlite import SqliteStore
from wattnet.oracle.verify import Verifier

from .oracle_helpers import (
    BACKENDS,
    CHAIN_ID,
    CONTRACT,
    DOMAIN,
    Clock,
    Station,
    key,
    make_receipt,
    pg_dsn,
    sign,
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_store(backend: str, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """Opens (and re-opens, like a restarted process) the same database."""
    opened: list[Store] = []
    schema = f"t_{uuid.uuid4().hex[:16]}"

    def _open() -> Store:
        store: Store
        if backend == "sqlite":
            store = SqliteStore(tmp_path / "oracle.db")
        else:
            store = PostgresStore(pg_dsn(), schema=schema)
        store.migrate()
        opened.append(store)
        return store

    yield _open
    for s in opened:
        with contextlib.suppress(Exception):
            s.close()
    if backend == "postgres" and os.environ.get("WATTNET_TEST_PG_DSN"):
        cleanup = PostgresStore(pg_dsn(), schema=schema)
        cleanup.drop_schema()
        cleanup.close()


@pytest.fixture
def store(make_store: Callable[[], Store]) -> Store:
    return make_store()


@pytest.fixture
def directory() -> InMemoryStationDirectory:
    return InMemoryStationDirectory()


@pytest.fixture
def create_station(directory: InMemoryStationDirectory) -> Callable[..., Station]:
    def _create(name: str = "CP-1", **overrides: Any) -> Station:
        signer_key = overrides.pop("key", key(f"station-{name}"))
        info = StationInfo(
            station_id=station_id_for(name),
            operator=overrides.pop("operator", address_of_private_key(key("operator"))),
            signer=address_of_private_key(signer_key),
            rated_power_w=overrides.pop("rated_power_w", 22_000),
            connector_count=overrides.pop("connector_count", 2),
            active=overrides.pop("active", True),
            meter_public_key=overrides.pop("meter_public_key", None),
        )
        info = replace(info, **overrides)
        directory.put(info)
        return Station(info, signer_key, name)

    return _create


@pytest.fixture
def station(create_station: Callable[..., Station]) -> Station:
    return create_station()


@pytest.fixture
def create_receipt() -> Callable[..., dict[str, Any]]:
    """Signed wire JSON for ``station``; receipt fields and ``meter_data`` by keyword."""

    def _create(st: Station, session_id: int = 1, meter_data: str | None = None,
                **fields: Any) -> dict[str, Any]:
        return sign(st, make_receipt(st, session_id, **fields), meter_data)

    return _create


@pytest.fixture
def config() -> OracleConfig:
    return OracleConfig(chain_id=CHAIN_ID, settlement_contract=CONTRACT,
                        plausibility=PlausibilityLimits(max_stations_per_signer=3,
                                                        max_stations_per_operator=50))


@pytest.fixture
def ingestor_for(
    directory: InMemoryStationDirectory, config: OracleConfig, clock: Clock
) -> Callable[..., Ingestor]:
    """An ingestor over a given store (no backend parametrization of its own)."""

    def _make(st: Store, cfg: OracleConfig | None = None) -> Ingestor:
        cached = CachedStationDirectory(directory, ttl_s=60, clock=clock)
        return Ingestor(st, Verifier(DOMAIN.separator, cached), cfg or config, Metrics(), clock)

    return _make


@pytest.fixture
def make_ingestor(store: Store, ingestor_for: Callable[..., Ingestor]) -> Callable[..., Ingestor]:
    def _make(cfg: OracleConfig | None = None, st: Store | None = None) -> Ingestor:
        return ingestor_for(st or store, cfg)

    return _make


@pytest.fixture
def ingestor(make_ingestor: Callable[..., Ingestor]) -> Ingestor:
    return make_ingestor()


