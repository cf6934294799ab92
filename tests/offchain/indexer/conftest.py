"""The indexer tests' chains (module scope: one devnet with settled sessions per test module;
another whose batches go through the oracle committee) and stores (SQLite, and PostgreSQL
unless WATTNET_TEST_PG=off, as the oracle's tests do)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_utils.crypto import keccak

from wattnet.api.devnet import Network, start_network
from wattnet.api.devnet_sessions import Settled, settle_sessions
from wattnet.oracle.store import open_store
from wattnet.oracle.store_base import Store

BACKENDS = ["sqlite"] if os.environ.get("WATTNET_TEST_PG") == "off" else ["sqlite", "postgres"]


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Network, Settled]]:
    anvil, net = start_network(tmp_path_factory.mktemp("indexer"))
    try:
        yield net, settle_sessions(net)
    finally:
        anvil.stop()


NODE_KEYS = tuple(keccak(text=f"wattnet-indexer-test-node:{i}") for i in range(3))


@pytest.fixture(scope="module")
def committee_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Network, Settled]]:
    """The same sessions, every batch relayed to settleSigned (3 of 3 nodes signing)."""
    anvil, net = start_network(tmp_path_factory.mktemp("indexer-committee"))
    try:
        yield net, settle_sessions(net, committee=NODE_KEYS)
    finally:
        anvil.stop()


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s = open_store(str(tmp_path / "index.sqlite"))
        yield s
        s.close()
        return
    from wattnet.oracle.store_postgres import PostgresStore

    dsn = os.environ.get("WATTNET_TEST_PG_DSN")
    if not dsn:
        pytest.fail("PostgreSQL tests need WATTNET_TEST_PG_DSN: run "
                    "`eval \"$(tools/ci_postgres.sh)\"` first, or set WATTNET_TEST_PG=off to "
                    "run the SQLite backend only",
                    pytrace=False)
    pg = open_store(dsn, pg_schema=f"idx_{uuid.uuid4().hex[:12]}")
    assert isinstance(pg, PostgresStore)
    yield pg
    pg.drop_schema()
    pg.close()
