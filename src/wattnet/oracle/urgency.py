"""Receipts near the end of their settlement window go first.

The contract rejects a receipt as STALE once the block is later than its ``end_time`` plus the
window (``timing().maxSettlementDelay``; pauses extend it). A receipt with less than a quarter
of the window left is *due*: ``urgent_first`` puts the due candidates of the next batch first,
earliest deadline first, and keeps the others in the order they came in; ``due_rows`` finds
pending receipts that are due but that the usual selection (oldest id first) would leave behind
a backlog (a gateway's outbox delivering old sessions late). Rows are ``SETTLE_COLUMNS`` rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from wattnet.oracle.chain import SettlementChain
from wattnet.oracle.schema import Status
from wattnet.oracle.store_base import SETTLE_COLUMNS, Row, Tx

URGENT_SHARE = 4  # due: less than 1/URGENT_SHARE of the window left
CLOCK_REFRESH_S = 10.0  # chain time and the settlement window are read at most this often
_ID, _END = 0, 8  # positions in SETTLE_COLUMNS


class DeadlineClock:
    """Chain time and the settlement window for ordering by deadline: read from the chain at
    most every CLOCK_REFRESH_S (of the batcher's clock), chain time extrapolated in between."""

    def __init__(self, chain: SettlementChain) -> None:
        self.chain = chain
        self.window: int | None = None
        self._read = float("-inf")
        self._ahead = 0.0  # chain time minus the batcher's clock, as last read

    def read(self, now: float) -> tuple[int, int | None]:
        if now - self._read >= CLOCK_REFRESH_S:
            self._ahead = self.chain.chain_time() - now
            self.window = self.chain.settlement_window()
            self._read = now
        return int(now + self._ahead), self.window


def horizon(window: int) -> int:
    """How long before its deadline a receipt counts as due."""
    return window // URGENT_SHARE


def urgent_first(candidates: Sequence[Row], now: int, window: int | None,
                 limit: int) -> list[Row]:
    """At most ``limit`` of ``candidates`` (first occurrence of each id): the due ones by
    deadline, then the rest in their given order. ``now`` is chain time."""
    seen: set[int] = set()
    unique = []
    for row in candidates:
        if int(row[_ID]) not in seen:
            seen.add(int(row[_ID]))
            unique.append(row)
    if window is None:
        return unique[:limit]
    cutoff = now - window + horizon(window)
    due = sorted((r for r in unique if int(r[_END]) <= cutoff), key=lambda r: int(r[_END]))
    rest = [r for r in unique if int(r[_END]) > cutoff]
    return (due + rest)[:limit]


def due_rows(tx: Tx, now: int, window: int, limit: int) -> list[Row]:
    """Pending receipts that are due at chain time ``now``, earliest deadline first."""
    return tx.query(
        f"SELECT {SETTLE_COLUMNS} FROM receipts WHERE status = ? AND end_time <= ? "
        "ORDER BY end_time LIMIT ?",
        (Status.PENDING, now - window + horizon(window), limit),
    )


def with_due_first(tx: Tx, rows: Sequence[Row], now: int, window: int | None,
                   limit: int) -> list[Row]:
    """The next batch: due pending receipts first (from ``rows`` or not), then ``rows``."""
    if window is None:
        return list(rows)
    return urgent_first([*due_rows(tx, now, window, limit), *rows], now, window, limit)
