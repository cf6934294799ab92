"""Plausibility rules: a receipt that breaks one is quarantined (kept, not settled) with the reason.

``static_reasons`` needs only the receipt and the station; ``FleetTracker`` watches how many
stations share one signer key or one operator; ``context_reasons`` asks the store (inside the
ingest transaction) about neighbours: overlapping sessions on a connector, a meter register that
would run backwards across sessions, signed meter data already used by another session.
"""

from __future__ import annotations

from collections import defaultdict

from wattnet.oracle.config import PlausibilityLimits
from wattnet.oracle.directory import StationFacts
from wattnet.oracle.meter import MeterReading
from wattnet.oracle.store_base import Tx
from wattnet.oracle.verify import WireReceipt

SELF_CHARGING = "self-charging: driver is the station operator"


def static_reasons(
    w: WireReceipt, facts: StationFacts, now: int, limits: PlausibilityLimits
) -> tuple[list[str], list[str]]:
    """(reasons to quarantine, flags to store) from the receipt and its station alone."""
    reasons: list[str] = []
    flags: list[str] = []
    info = facts.info
    duration = w.end_time - w.start_time
    if duration <= 0:
        reasons.append(f"start_time {w.start_time} is not before end_time {w.end_time}")
    if w.end_time > now + limits.future_skew_s:
        reasons.append(f"end_time {w.end_time} is in the future (now {now})")
    if w.energy_wh * 3600 > info.rated_power_w * max(duration, 0):
        reasons.append(
            f"energy {w.energy_wh} Wh exceeds rated power {info.rated_power_w} W x {duration} s"
        )
    if not 1 <= w.connector_id <= info.connector_count:
        reasons.append(
            f"connector {w.connector_id} does not exist (station has {info.connector_count})"
        )
    if w.driver == facts.operator:
        (reasons if limits.self_charging == "quarantine" else flags).append(SELF_CHARGING)
    return reasons, flags


class FleetTracker:
    """Counts distinct stations behind each signer key and each operator seen so far."""

    def __init__(self, limits: PlausibilityLimits) -> None:
        self._limits = limits
        self._by_signer: defaultdict[bytes, set[bytes]] = defaultdict(set)
        self._by_operator: defaultdict[bytes, set[bytes]] = defaultdict(set)

    def seed(self, rows: list[tuple[bytes, bytes, bytes]]) -> None:
        """(signer, operator, station_id) triples already in the store, after a restart."""
        for signer, operator, station in rows:
            self._by_signer[bytes(signer)].add(bytes(station))
            self._by_operator[bytes(operator)].add(bytes(station))

    def observe(self, facts: StationFacts) -> list[str]:
        station = facts.info.station_id
        signers = self._by_signer[facts.signer]
        operators = self._by_operator[facts.operator]
        signers.add(station)
        operators.add(station)
        reasons = []
        if len(signers) > self._limits.max_stations_per_signer:
            reasons.append(
                f"signer {facts.info.signer} signs for {len(signers)} stations "
                f"(limit {self._limits.max_stations_per_signer})"
            )
        if len(operators) > self._limits.max_stations_per_operator:
            reasons.append(
                f"operator {facts.info.operator} runs {len(operators)} stations "
                f"(limit {self._limits.max_stations_per_operator})"
            )
        return reasons


def context_reasons(
    tx: Tx, w: WireReceipt, skey: bytes, meter: MeterReading | None, clash: bytes | None
) -> list[str]:
    """Reasons that need the stored neighbours of this receipt (runs inside the transaction);
    ``clash`` is the key of another live session on the same connector overlapping it."""
    reasons = []
    if w.start_time < w.end_time and clash is not None:
        other = int.from_bytes(clash, "big")
        reasons.append(f"overlaps session {other} on connector {w.connector_id}")
    if meter is not None:
        before = tx.meter_before(w.station_id, skey, meter.serial, w.start_time)
        if before is not None and before[0] is not None and int(before[0]) > meter.start_wh:
            reasons.append(
                f"meter register goes backwards: starts at {meter.start_wh} Wh, the session "
                f"before ended at {before[0]} Wh"
            )
        after = tx.meter_after(w.station_id, skey, meter.serial, w.end_time)
        if after is not None and after[0] is not None and int(after[0]) < meter.end_wh:
            reasons.append(
                f"meter register goes backwards: ends at {meter.end_wh} Wh, the session "
                f"after starts at {after[0]} Wh"
            )
        shared = tx.meter_range_overlap(w.station_id, skey, meter.serial, meter.start_wh,
                                        meter.end_wh)
        if shared is not None:  # e.g. a signed end reading spliced from another session
            reasons.append(
                f"meter register range {meter.start_wh}..{meter.end_wh} Wh overlaps session "
                f"{int.from_bytes(bytes(shared[0]), 'big')} of the same meter"
            )
        owner = tx.ocmf_owner(meter.payload_hash, w.station_id, skey)
        if owner is not None:
            reasons.append(
                f"signed meter data replayed: already used by station 0x{bytes(owner[0]).hex()} "
                f"session {int.from_bytes(bytes(owner[1]), 'big')}"
            )
    return reasons
