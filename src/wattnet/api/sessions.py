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


_RECEIPT = (
    "SELECT station_id, session_key, connector_id, driver, credit_id, energy_wh, start_time, "
    "end_time, cost, referrer, readings, signature, meter_data, status, reason, tx_hash, block "
    "FROM receipts WHERE station_id = ? AND session_key = ? ORDER BY id DESC LIMIT 1"
)


def _bytes32(text: str) -> bytes:
    raw = bytes.fromhex(text.removeprefix("0x")) if len(text) == 66 else b""
    if len(raw) != 32:
        raise ConfigError(f"{text!r} is not a station id (0x and 64 hex digits)")
    return raw


def receipt_detail(store: Store, station: str, session_id: int) -> dict[str, Any] | None:
    """One receipt as the station signed it (every field of the EIP-712 SessionReceipt, the
    signature) and the signed meter records (OCMF, one per line) when it has them, so a
    browser can check both signatures itself; None when the store has no such receipt."""
    if not 0 <= session_id < 2**64:
        raise ConfigError(f"session id {session_id} is out of range")
    with store.transaction() as tx:
        r = tx.one(_RECEIPT, (_bytes32(station), session_id.to_bytes(8, "big")))
    if r is None:
        return None
    return {
        "stationId": _hex(r[0]), "sessionId": str(int.from_bytes(bytes(r[1]), "big")),
        "connectorId": int(r[2]), "driver": to_checksum_address(bytes(r[3])),
        "creditId": str(r[4]), "energyWh": int(r[5]), "startTime": int(r[6]),
        "endTime": int(r[7]), "cost": str(r[8]), "referrer": to_checksum_address(bytes(r[9])),
        "readings": _hex(r[10]) or "0x" + "00" * 32, "signature": _hex(r[11]),
        "meterData": r[12], "status": str(r[13]), "reason": r[14], "txHash": _hex(r[15]),
        "block": None if r[16] is None else int(r[16]),
    }
