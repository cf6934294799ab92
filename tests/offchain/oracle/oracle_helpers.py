"""Plain helpers of the oracle tests (constants, keys, receipt signing, a settable clock).

A uniquely named module, not conftest.py: several test folders have a conftest, and
``import conftest`` would find whichever was loaded last.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest

from wattnet.chain.eip712 import Domain, address_of_private_key, sign_receipt
from wattnet.chain.receipt_codec import signed_to_json
from wattnet.domain import SessionReceipt, SignedReceipt, StationInfo
from wattnet.oracle.config import OracleConfig
from wattnet.oracle.directory import InMemoryStationDirectory
from wattnet.oracle.store_base import Store

CHAIN_ID = 31337
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
DOMAIN = Domain(CHAIN_ID, CONTRACT)
T0 = 1_750_000_000

BACKENDS = ["sqlite"] if os.environ.get("WATTNET_TEST_PG") == "off" else ["sqlite", "postgres"]


def pg_dsn() -> str:
    dsn = os.environ.get("WATTNET_TEST_PG_DSN")
    if not dsn:
        pytest.fail(
            "PostgreSQL tests need WATTNET_TEST_PG_DSN: run `eval \"$(tools/ci_postgres.sh)\"` "
            "first, or set WATTNET_TEST_PG=off to run the SQLite backend only",
            pytrace=False,
        )
    return dsn


def key(role: str) -> bytes:
    """A deterministic private key per role name."""
    from eth_utils.crypto import keccak

    return keccak(f"wattnet-test-{role}".encode())


@dataclass
class Clock:
    now: float = float(T0)

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class Station:
    info: StationInfo
    key: bytes
    name: str


DRIVER = address_of_private_key(key("driver"))


def make_receipt(st: Station, session_id: int = 1, **fields: Any) -> SessionReceipt:
    values: dict[str, Any] = {
        "station_id": st.info.station_id, "session_id": session_id, "connector_id": 1,
        "driver": DRIVER, "credit_id": 1, "energy_wh": 10_000,
        "start_time": T0 - 7200 + 3600 * 0, "end_time": T0 - 3600, "cost": 3_500_000,
    }
    values.update(fields)
    return SessionReceipt(**values)


def sign(st: Station, r: SessionReceipt, meter_data: str | None = None,
         signer_key: bytes | None = None, domain: Domain = DOMAIN) -> dict[str, Any]:
    sig = sign_receipt(signer_key or st.key, domain, r)
    return signed_to_json(SignedReceipt(r, sig, meter_data))


def rows(store: Store, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with store.transaction() as tx:
        return tx.query(sql, params)


def directory_factory(config: OracleConfig) -> InMemoryStationDirectory:
    """A ``module:callable`` factory, as the chain-backed directory will be configured."""
    return InMemoryStationDirectory()
