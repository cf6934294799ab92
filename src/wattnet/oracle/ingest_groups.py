"""Which receipts of an ingest group can be stored together, in any order.

The ingest stores a group's receipts one after another, and a receipt's checks look at stored
neighbours: the same session key (duplicate, equivocation), another session on the same connector
overlapping it, sessions of the same meter, the same signed meter data. A receipt with no such
neighbour *inside its group* gets the same answers whether the others are stored before or after
it, so all of those can go to the database at once (``Tx.insert_receipts_and_overlaps``: a few
statements on PostgreSQL instead of one round trip each) with exactly the outcomes of the
one-by-one order. The test here is conservative: touching intervals count as overlapping.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Keys:
    """What a receipt's neighbour checks look at."""

    station_id: bytes
    session_key: bytes
    connector_id: int
    start: int
    end: int
    meter_serial: str | None
    ocmf_hash: bytes | None


def independent(items: Sequence[Keys]) -> list[bool]:
    """For each item: True if no other item of the group is its neighbour."""
    tied: set[int] = set()
    _shared(tied, [(k.station_id, k.session_key) for k in items])
    _shared(tied, [(k.station_id, k.meter_serial) if k.meter_serial else None for k in items])
    _shared(tied, [k.ocmf_hash for k in items])
    spans: dict[tuple[bytes, int], list[tuple[int, int, int]]] = {}
    for i, k in enumerate(items):
        spans.setdefault((k.station_id, k.connector_id), []).append((k.start, k.end, i))
    for group in spans.values():
        if len(group) > 1:
            _overlapping(tied, group)
    return [i not in tied for i in range(len(items))]


def _shared(tied: set[int], keys: Sequence[Hashable | None]) -> None:
    counts = Counter(k for k in keys if k is not None)
    tied.update(i for i, k in enumerate(keys) if k is not None and counts[k] > 1)


def _overlapping(tied: set[int], spans: list[tuple[int, int, int]]) -> None:
    """Mark every span that meets another (closed intervals; a sweep over starts)."""
    active: list[tuple[int, int]] = []  # heap of (end, index) of spans not yet ended
    fresh: list[int] = []  # active spans not yet marked (and maybe a few ended ones)
    for start, end, i in sorted(spans):
        while active and active[0][0] < start:
            heapq.heappop(active)
        if active:
            tied.add(i)
            tied.update(fresh)
            fresh = []
        else:
            fresh = [i]
        heapq.heappush(active, (max(start, end), i))
