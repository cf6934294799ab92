"""The ingest pipeline and its group commit.

``Ingestor.process`` takes decoded JSON items, verifies each (station signature, registry),
runs the plausibility and meter checks, and stores every outcome in ONE transaction; it returns
only after the commit, so whatever it returns may be acknowledged. ``GroupCommitter`` runs it on
one thread and merges concurrent requests into one transaction (one fsync) per round.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wattnet.chain.readings import NO_READINGS
from wattnet.groups import GroupWorker
from wattnet.oracle.config import OracleConfig
from wattnet.oracle.crash import crashpoint
from wattnet.oracle.directory import StationFacts
from wattnet.oracle.errors import DirectoryBusy, DirectoryUnavailable, StorageUnavailable
from wattnet.oracle.ingest_groups import Keys, independent
from wattnet.oracle.meter import MeterDataInvalid, MeterReading, check_meter_data
from wattnet.oracle.metrics import Metrics
from wattnet.oracle.plausibility import FleetTracker, context_reasons, static_reasons
from wattnet.oracle.schema import Status
from wattnet.oracle.store_base import InsertRow, Store, Tx, session_key
from wattnet.oracle.verify import RejectedReceipt, Verifier, WireReceipt, parse_wire

log = logging.getLogger(__name__)

ACCEPTED, DUPLICATE, QUARANTINED, REJECTED = "accepted", "duplicate", "quarantined", "rejected"
# Not judged: its station is new to this node and the registry-read budget is spent (a flood of
# made-up station ids); nothing stored, the gateway sends it again (HTTP 503 when posted alone).
DEFERRED = "deferred"
_BODY_LIMIT = 2_048
# One contradicting receipt already proves equivocation; a few more are kept, not unboundedly
# many (a rogue station key could otherwise mint endless variants of one session).
MAX_CONFLICTS_PER_SESSION = 4


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the oracle answers for one item; ``rejected`` maps to HTTP 400, the rest to 200."""

    status: str
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        if self.status == REJECTED:
            return {"error": self.reason}
        return {"status": self.status, "reason": self.reason}


_ACCEPTED = Outcome(ACCEPTED, None)
_DUPLICATE = Outcome(DUPLICATE, None)


@dataclass(frozen=True, slots=True)
class Malformed:
    """An item the API could not even decode (not JSON, wrong shape): rejected as is."""

    reason: str
    body: str


@dataclass(frozen=True, slots=True)
class _Checked:
    index: int
    wire: WireReceipt
    facts: StationFacts
    reasons: list[str]
    flags: list[str]
    meter: MeterReading | None
    body: Any


class Ingestor:
    def __init__(
        self, store: Store, verifier: Verifier, config: OracleConfig, metrics: Metrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.verifier = verifier
        self.limits = config.plausibility
        self.max_rejected = config.max_rejected_rows
        self.metrics = metrics
        self.clock = clock
        self.fleet = FleetTracker(self.limits)
        with store.transaction() as tx:
            rows = tx.query("SELECT DISTINCT signer, operator, station_id FROM receipts")
        self.fleet.seed([(r[0], r[1], r[2]) for r in rows])

    def process(self, items: list[Any]) -> list[Outcome]:
        """Verify, check and durably store ``items``; raises StorageUnavailable (nothing stored)."""
        now = int(self.clock())
        outcomes: list[Outcome | None] = [None] * len(items)
        checked: list[_Checked] = []
        rejects: list[tuple[int, str, str]] = []
        limits = self.limits
        self.verifier.prefetch(items)
        for i, obj in enumerate(items):
            if isinstance(obj, Malformed):
                outcomes[i] = Outcome(REJECTED, obj.reason)
                rejects.append((now, obj.reason, obj.body[:_BODY_LIMIT]))
                continue
            try:
                wire = parse_wire(obj)
                facts = self.verifier.verify(wire)
            except RejectedReceipt as exc:
                outcomes[i] = Outcome(REJECTED, str(exc))
                rejects.append((now, str(exc), _body(obj)))
                continue
            except DirectoryBusy as exc:
                outcomes[i] = Outcome(DEFERRED, str(exc))
                continue
            reasons, flags = static_reasons(wire, facts, now, limits)
            meter = None
            if wire.meter_data is not None:
                try:
                    meter = check_meter_data(
                        wire, wire.meter_data, facts.meter_key_der, now, limits.future_skew_s,
                        limits.meter_energy_tolerance_wh,
                    )
                except MeterDataInvalid as exc:
                    reasons.append(str(exc))
            elif facts.meter_key_der is not None and limits.require_meter_data_when_key:
                reasons.append("station has a meter key but the receipt carries no meter data")
            elif wire.readings != NO_READINGS:
                reasons.append("receipt commits to meter readings it does not carry")
            reasons += self.fleet.observe(facts)
            checked.append(_Checked(i, wire, facts, reasons, flags, meter, obj))
        crashpoint("after_receive_before_store")
        with self.store.transaction() as tx:
            # In the order received (row ids follow it): runs of receipts without neighbours
            # in the group go in together; a receipt with one goes alone, in its place.
            runs: list[list[_Checked]] = [[]]
            for c, alone in zip(checked, independent([_keys(c) for c in checked]), strict=True):
                if alone:
                    runs[-1].append(c)
                else:
                    runs += [[c], []]
            for run in runs:
                answers = tx.insert_receipts_and_overlaps([self._row(c, now) for c in run])
                for c, (inserted, clash) in zip(run, answers, strict=True):
                    outcomes[c.index] = self._stored(tx, c, now, inserted, clash)
            if rejects:
                tx.insert_rejects(rejects, self.max_rejected)
        crashpoint("after_store_before_ack")
        done = [o for o in outcomes if o is not None]
        m = self.metrics
        m.inc("received", len(items))
        for status, counter in ((ACCEPTED, "accepted"), (DUPLICATE, "duplicates"),
                                (QUARANTINED, "quarantined"), (REJECTED, "rejected"),
                                (DEFERRED, "deferred")):
            m.inc(counter, sum(1 for o in done if o.status == status))
        return done

    @staticmethod
    def _row(c: _Checked, now: int) -> InsertRow:
        w = c.wire
        skey = session_key(w.session_id)
        static = "; ".join(c.reasons) if c.reasons else None
        m = c.meter
        return (
            (
                w.station_id, skey, w.connector_id, w.driver, str(w.credit_id), w.energy_wh,
                w.start_time, w.end_time, str(w.cost), w.referrer, w.signature, w.meter_data,
                w.struct_hash, c.facts.signer, c.facts.operator,
                Status.QUARANTINED if static else Status.PENDING, static,
                ",".join(c.flags) or None, now, now,
                m.serial if m else None, m.start_wh if m else None, m.end_wh if m else None,
                m.payload_hash if m else None, w.readings if w.readings != bytes(32) else None,
            ),
            w.station_id, skey, w.connector_id, w.start_time, w.end_time,
        )

    def _stored(
        self, tx: Tx, c: _Checked, now: int, inserted: bool, clash: bytes | None
    ) -> Outcome:
        """The outcome once the insert was tried: then look at the neighbours."""
        w = c.wire
        skey = session_key(w.session_id)
        m = c.meter
        if inserted:
            reasons = c.reasons + context_reasons(tx, w, skey, m, clash)
            if not reasons:
                return _ACCEPTED
            joined = "; ".join(reasons)
            if len(reasons) > len(c.reasons):
                tx.quarantine_receipt(w.station_id, skey, joined)
            return Outcome(QUARANTINED, joined)
        existing = tx.existing(w.station_id, skey)
        if existing is not None:
            if bytes(existing[0]) == w.struct_hash:
                if existing[1] == Status.QUARANTINED:
                    return Outcome(QUARANTINED, existing[2])
                return _DUPLICATE
            reason = (
                f"equivocation: session {w.session_id} of station 0x{w.station_id.hex()} was "
                f"already received with struct hash 0x{bytes(existing[0]).hex()}; "
                f"both kept as evidence"
            )
            if tx.conflicts_for(w.station_id, skey) < MAX_CONFLICTS_PER_SESSION:
                tx.insert_conflict((w.station_id, skey, w.struct_hash, w.signature,
                                    json.dumps(c.body, separators=(",", ":")), reason, now))
            log.warning("%s", reason)
            return Outcome(QUARANTINED, reason)
        raise StorageUnavailable(  # the insert conflicted, yet no row: the database lies
            f"{self.store.description}: receipt ({w.station_id.hex()}, {w.session_id}) "
            f"neither inserted nor found; check the database"
        )


def _keys(c: _Checked) -> Keys:
    w, m = c.wire, c.meter
    return Keys(w.station_id, session_key(w.session_id), w.connector_id, w.start_time,
                w.end_time, m.serial if m else None, m.payload_hash if m else None)


def _body(obj: Any) -> str:
    try:
        text = json.dumps(obj, separators=(",", ":"))
    except (TypeError, ValueError):
        text = repr(obj)
    return text[:_BODY_LIMIT]


class GroupCommitter:
    """One writer thread; concurrent submissions share a transaction (and its fsync)."""

    def __init__(self, ingestor: Ingestor, max_items: int = 2_000) -> None:
        self._ingestor = ingestor
        self._worker: GroupWorker[list[Any], list[Outcome]] = GroupWorker(
            self._round, name="oracle-ingest", max_size=max_items, size=len)

    async def submit(self, items: list[Any]) -> list[Outcome]:
        return await self._worker.submit(items)

    def close(self) -> None:
        self._worker.close()

    def _round(self, jobs: list[list[Any]]) -> list[list[Outcome]]:
        items = [obj for job in jobs for obj in job]
        try:
            outcomes = self._ingestor.process(items)
        except (StorageUnavailable, DirectoryUnavailable) as exc:
            log.error("ingest failed closed: %s", exc)
            self._ingestor.metrics.inc("storage_errors", len(items))
            raise
        except Exception:  # a bug must not kill the writer thread; nothing was acked
            log.exception("ingest round failed")
            raise
        parts, start = [], 0
        for job in jobs:
            parts.append(outcomes[start:start + len(job)])
            start += len(job)
        return parts
