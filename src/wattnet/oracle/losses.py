"""Acknowledged receipts that were never paid because of the oracle's side, kept visible.

Two kinds, each a quarantine reason with its own prefix:
- ``expired:``: the settlement window closed first (the contract rejected the receipt as STALE:
  it ended more than ``maxSettlementDelay`` before the block, pauses aside);
- ``reverted:``: its settlement failed with the receipt alone in the batch ``max_reverts``
  times (``retry.py``);
- ``held:``: it waited behind a session of the same driver the oracle learned of earlier (start
  notices, ``ordering.py``) until its window was about to close: the driver's credits were that
  session's (the station authorized offline, or colluded).
The batcher counts them in ``/metrics`` (``expired_total``, ``revert_quarantined_total``,
``held_expired_total``);
``wattnet oracle status`` warns about them from the database, where they stay.
"""

from __future__ import annotations

from collections.abc import Mapping

from wattnet.oracle.reverts import RevertCause
from wattnet.oracle.schema import Status
from wattnet.oracle.store_base import Store

EXPIRED = "expired"
REVERTED = "reverted"
HELD = "held"
KINDS = (EXPIRED, REVERTED, HELD)
METRIC_OF = {EXPIRED: "expired", REVERTED: "revert_quarantined", HELD: "held_expired"}
HELD_REASON = (f"{HELD}: the driver's credits are held for a session the oracle learned of "
               "earlier (start notice); not sent as its settlement window closed")


def expired_reason(end_time: int, window: int | None, tx_hash: bytes) -> str:
    closed = f"closed at {end_time + window}" if window is not None else "closed"
    return (f"{EXPIRED}: settlement window {closed} (session ended {end_time}); rejected "
            f"on chain as STALE in tx 0x{tx_hash.hex()}; the operator was not paid")


def reverted_reason(times: int, cause: RevertCause) -> str:
    return f"{REVERTED}: settlement failed with this receipt alone {times} times: {cause}"


def losses(store: Store) -> dict[str, int]:
    """How many receipts were lost each way (quarantined by the batcher, kept in the table)."""
    out = {}
    with store.transaction() as tx:
        for kind in KINDS:
            row = tx.one("SELECT COUNT(*) FROM receipts WHERE status = ? AND reason LIKE ?",
                         (Status.QUARANTINED, f"{kind}:%"))
            out[kind] = int(row[0]) if row else 0
    return out


def warnings(lost: Mapping[str, float]) -> list[str]:
    """One line per kind of loss that happened; empty when nothing was lost."""
    out = []
    expired, reverted = int(lost.get(EXPIRED, 0)), int(lost.get(REVERTED, 0))
    if expired:
        out.append(f"{expired} acknowledged receipt(s) expired unpaid: the settlement window "
                   "closed before they settled (`wattnet oracle quarantine` lists them)")
    if reverted:
        out.append(f"{reverted} receipt(s) quarantined after their settlement kept reverting "
                   "(see the reasons in `wattnet oracle quarantine`)")
    held = int(lost.get(HELD, 0))
    if held:
        out.append(f"{held} receipt(s) quarantined unpaid: the driver's credits were held for a "
                   "session the oracle learned of earlier (an offline or colluding station)")
    return out
