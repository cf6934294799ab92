"""Prometheus text exposition (format 0.0.4) without a client library: counters, gauges, one
histogram. Counters live in this process; gauges are refreshed from the store by the service.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable

COUNTERS = {
    "received": "Receipts received (each item of a batch counts)",
    "accepted": "Receipts stored as pending settlement",
    "duplicates": "Receipts already stored with the same content (idempotent acks)",
    "quarantined": "Receipts quarantined (plausibility, meter data, equivocation)",
    "rejected": "Payloads rejected as malformed or badly signed (HTTP 400)",
    "deferred": "Receipts not judged: station new to this node, registry-read budget spent",
    "storage_errors": "Items that failed closed on storage or registry errors (HTTP 503)",
    "settled": "Receipts marked settled after enough confirmations",
    "rejected_onchain": "Receipts the settlement contract skipped with a reason",
    "txs_submitted": "Settlement transactions sent (first sends and resubmissions)",
    "txs_resubmitted": "Settlement transactions resent after a drop, replacement, reorg, revert",
    "txs_reverted": "Settlement transactions mined reverted (each followed by a corrected one)",
    "settle_refused": "Batches the gas estimate said would revert (nothing was sent)",
    "revert_quarantined": "Receipts quarantined after failing alone max_reverts times",
    "expired": "Acknowledged receipts lost: STALE on chain, their settlement window had closed",
    "notices_reserved": "Start notices admitted: their amount is held for the session",
    "notices_refused": "Start notices refused (credits held by earlier sessions, no consent)",
    "held_expired": "Receipts quarantined after waiting behind an earlier-authorized session",
}
GAUGES = {
    "pending": "Receipts waiting to be batched",
    "in_flight": "Receipts batched, submitted or confirming",
    "open_batches": "Batches without a final outcome",
}
ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self, prefix: str = "wattnet_oracle") -> None:
        self.prefix = prefix
        self._lock = threading.Lock()
        self._counters = dict.fromkeys(COUNTERS, 0)
        self._gauges = dict.fromkeys(GAUGES, 0)
        self._buckets = [0] * (len(ACK_BUCKETS) + 1)
        self._sum = 0.0
        self._count = 0

    def inc(self, name: str, by: int = 1) -> None:
        with self._lock:
            self._counters[name] += by

    def set_gauges(self, values: dict[str, int]) -> None:
        with self._lock:
            for name, value in values.items():
                if name in self._gauges:
                    self._gauges[name] = value

    def observe_ack(self, seconds: float) -> None:
        with self._lock:
            self._buckets[bisect.bisect_left(ACK_BUCKETS, seconds)] += 1
            self._sum += seconds
            self._count += 1

    def counter(self, name: str) -> int:
        return self._counters[name]

    def render(self) -> str:
        p = self.prefix
        with self._lock:
            lines: list[str] = []
            for name, help_ in COUNTERS.items():
                lines += [f"# HELP {p}_{name}_total {help_}", f"# TYPE {p}_{name}_total counter",
                          f"{p}_{name}_total {self._counters[name]}"]
            for name, help_ in GAUGES.items():
                lines += [f"# HELP {p}_{name} {help_}", f"# TYPE {p}_{name} gauge",
                          f"{p}_{name} {self._gauges[name]}"]
            h = f"{p}_ack_latency_seconds"
            lines += [f"# HELP {h} Time from request to acknowledgement (after the durable write)",
                      f"# TYPE {h} histogram"]
            running = 0
            for bound, n in zip((*ACK_BUCKETS, float("inf")), self._buckets, strict=True):
                running += n
                le = "+Inf" if bound == float("inf") else repr(bound)
                lines.append(f'{h}_bucket{{le="{le}"}} {running}')
            lines += [f"{h}_sum {self._sum!r}", f"{h}_count {self._count}"]
        return "\n".join(lines) + "\n"


def parse_text(text: str) -> dict[str, float]:
    """Samples of a Prometheus text page (name with labels -> value); for ``oracle status``."""
    out: dict[str, float] = {}
    for line in _sample_lines(text.splitlines()):
        name, _, value = line.rpartition(" ")
        out[name] = float(value)
    return out


def _sample_lines(lines: Iterable[str]) -> Iterable[str]:
    return (ln.strip() for ln in lines if ln.strip() and not ln.startswith("#"))
