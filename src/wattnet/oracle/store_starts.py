"""The queries behind a driver's order of sessions (``reservations``): start notices in the
``starts`` table, and the claims on a driver's credits they and the stored receipts make."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from eth_utils.address import to_checksum_address

from wattnet.chain.start_notice import StartNotice
from wattnet.oracle.ledger import DriverKey
from wattnet.oracle.reservations import Claim
from wattnet.oracle.schema import Status
from wattnet.oracle.store_base import SETTLE_COLUMNS, Row, Tx

NOTICE, RECEIPT = 0, 1  # at the same second, the notice's claim comes first

_R_COLUMNS = ", ".join("r." + c for c in SETTLE_COLUMNS.split(", "))
_SAME_SESSION = ("s.station_id = r.station_id AND s.connector_id = r.connector_id "
                 "AND s.start_time = r.start_time")
# A receipt's place: its admitted notice's arrival, else its own.
_PENDING_BY_PLACE = (
    f"SELECT {_R_COLUMNS}, COALESCE(s.received_at, r.received_at), "
    f"CASE WHEN s.id IS NULL THEN {RECEIPT} ELSE {NOTICE} END, COALESCE(s.id, r.id) "
    f"FROM receipts r LEFT JOIN starts s ON {_SAME_SESSION} AND s.driver = r.driver "
    "AND s.held <> '0' WHERE r.status = ? "
    "ORDER BY COALESCE(s.received_at, r.received_at), "
    f"CASE WHEN s.id IS NULL THEN {RECEIPT} ELSE {NOTICE} END, COALESCE(s.id, r.id) LIMIT ?"
)
PLACE_AT = len(SETTLE_COLUMNS.split(", "))  # where the place begins in a _PENDING_BY_PLACE row


def driver_key(driver: bytes, credit_id: object) -> DriverKey:
    return (to_checksum_address(bytes(driver)), int(str(credit_id)))


def insert_start(tx: Tx, notice: StartNotice, signature: bytes, held: int, now: int,
                 expires_at: int) -> bool:
    """Record a notice unless its session has one already; True when recorded."""
    return tx.execute(
        "INSERT INTO starts (station_id, connector_id, start_time, driver, credit_id, amount, "
        "signature, held, received_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (station_id, connector_id, start_time) DO NOTHING",
        (notice.station_id, notice.connector_id, notice.start_time,
         bytes.fromhex(notice.driver[2:]), str(notice.credit_id), str(notice.amount), signature,
         str(held), now, expires_at)) == 1


def start_of(tx: Tx, notice: StartNotice) -> Row | None:
    """(driver, credit id, amount, held) of the notice already recorded for its session."""
    return tx.one(
        "SELECT driver, credit_id, amount, held FROM starts "
        "WHERE station_id = ? AND connector_id = ? AND start_time = ?", notice.key)


def open_reservations(tx: Tx, drivers: Iterable[bytes], now: int
                      ) -> dict[DriverKey, list[Claim]]:
    """What admitted notices of these drivers hold (unexpired, their receipt not come yet)."""
    out: dict[DriverKey, list[Claim]] = defaultdict(list)
    for driver in set(drivers):
        who = to_checksum_address(driver)
        for sid, received, amount, credit in tx.query(
            "SELECT s.id, s.received_at, s.held, s.credit_id FROM starts s "
            "WHERE s.driver = ? AND s.expires_at > ? AND s.held <> '0' AND NOT EXISTS "
            f"(SELECT 1 FROM receipts r WHERE {_SAME_SESSION})",
            (driver, now),
        ):
            out[(who, int(str(credit)))].append(
                Claim((int(received), NOTICE, int(sid)), int(str(amount))))
    return out


# The partial index receipts_driver (schema 7) covers exactly these statuses, spelled as
# literals (a bound parameter would not prove the index's condition).
_UNSETTLED = ", ".join(f"'{s}'" for s in (Status.PENDING, Status.BATCHED, Status.SUBMITTED))


def unsettled_costs(tx: Tx, driver: bytes, credit_id: int) -> list[Claim]:
    """The driver's stored receipts the chain does not show yet (pending or on their way)."""
    return [Claim((0, RECEIPT, int(rid)), int(str(cost)), int(rid)) for rid, cost in tx.query(
        f"SELECT id, cost FROM receipts WHERE driver = ? AND credit_id = ? "
        f"AND status IN ({_UNSETTLED})", (driver, str(credit_id)))]


def pending_by_place(tx: Tx, limit: int) -> list[Row]:
    return tx.query(_PENDING_BY_PLACE, (Status.PENDING, limit))


def prune_starts(tx: Tx, before: int) -> int:
    """Forget notices that expired before ``before`` (their receipts keep their own rows)."""
    return tx.execute("DELETE FROM starts WHERE expires_at < ?", (before,))
