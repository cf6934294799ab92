"""Sessions as the oracle stored them (its SQLite or PostgreSQL store, read only): a driver's,
with each receipt's fields, status and settlement transaction; and the network's settled totals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils.address import is_address, to_canonical_address, to_checksum_address

from wattnet.errors import ConfigError
from wattnet.oracle.schema import Status
from wattnet.oracle.store_base import Store

MAX_SESSIONS = 200
_QUERY = (
    "SELECT station_id, session_key, connector_id, credit_id, energy_wh, start_time, end_time, "
    "cost, status, reason, tx_hash, block, readings FROM receipts WHERE driver = ? "
    "ORDER BY end_time DESC, id DESC LIMIT ?"
)


@dataclass(frozen=True, slots=True)
class SessionRow:
    station_id: str
    session_id: int
    connector_id: int
    credit_id: int
    energy_wh: int
    start_time: int
    end_time: int
    cost: str  # credit wei, as text (exceeds JSON's safe integers)
    status: str
    reason: str | None
    tx_hash: str | None
    block: int | None
    has_readings: bool


def driver_address(text: str) -> bytes:
    if not is_address(text):
        raise ConfigError(f"{text!r} is not an address")
    return to_canonical_address(to_checksum_address(text))


def _hex(value: Any) -> str | None:
    return None if value is None else "0x" + bytes(value).hex()


def driver_sessions(store: Store, driver: str, limit: int = MAX_SESSIONS) -> list[SessionRow]:
    """The newest ``limit`` sessions of ``driver`` (an address), newest first."""
    with store.transaction() as tx:
        rows = tx.query(_QUERY, (driver_address(driver), min(limit, MAX_SESSIONS)))
    return [SessionRow(
        station_id=_hex(r[0]) or "", session_id=int.from_bytes(bytes(r[1]), "big"),
        connector_id=int(r[2]), credit_id=int(r[3]), energy_wh=int(r[4]),
        start_time=int(r[5]), end_time=int(r[6]), cost=str(r[7]), status=str(r[8]),
        reason=r[9], tx_hash=_hex(r[10]), block=None if r[11] is None else int(r[11]),
        has_readings=r[12] is not None and any(bytes(r[12])),
    ) for r in rows]


def settled_totals(store: Store) -> dict[str, int]:
    """Sessions the oracle saw settled on chain, and their energy (Wh)."""
    with store.transaction() as tx:
        row = tx.one("SELECT COUNT(*), COALESCE(SUM(energy_wh), 0) FROM receipts "
                     "WHERE status = ?", (Status.SETTLED,))
    count, energy = row if row is not None else (0, 0)
    return {"sessions_settled": int(count), "energy_settled_wh": int(energy)}
