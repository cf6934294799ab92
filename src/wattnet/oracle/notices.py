"""POST /v1/starts: admit or refuse a station's start notice (``wattnet.chain.start_notice``).

A notice is admitted when its station signed it and the driver consented to the station's
operator; it then holds what is free of its amount beside every claim the oracle already knows
of (admitted notices still open, stored receipts the chain does not show yet), until its
receipt arrives or it expires. The gateway lowers the session's reservation to what is held,
and stops the session when nothing is (another session of the driver was authorized first).
Either way the notice is recorded: sent again, it gets the same answer, and its first arrival
is the session's place.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wattnet.chain.eip712 import recover_digest
from wattnet.chain.start_notice import NoticeError, StartNotice, notice_from_json
from wattnet.errors import SignatureError
from wattnet.oracle.directory import CachedStationDirectory
from wattnet.oracle.ledger import CreditLedger
from wattnet.oracle.metrics import Metrics
from wattnet.oracle.reservations import Room, free
from wattnet.oracle.store_base import Store, Tx
from wattnet.oracle.store_starts import (
    insert_start,
    open_reservations,
    start_of,
    unsettled_costs,
)

NOTICE_GRACE_S = 3_600  # after the longest session, for its receipt to arrive
LOCK_STRIPES = 64


@dataclass(frozen=True, slots=True)
class Answer:
    held: int  # 0: refused
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        if self.held:
            return {"status": "reserved", "held": self.held}
        return {"status": "refused", "reason": self.reason}


class NoticeDesk:
    def __init__(self, store: Store, directory: CachedStationDirectory, ledger: CreditLedger,
                 separator: bytes, metrics: Metrics, clock: Callable[[], float], *,
                 future_skew_s: int) -> None:
        self.store, self.directory, self.ledger = store, directory, ledger
        self.future_skew_s = future_skew_s  # as for receipts (plausibility.future_skew_s)
        self.separator, self.metrics, self.clock = separator, metrics, clock
        # Admission reads a driver's claims, then adds one: one driver at a time (striped locks,
        # so that notices of different drivers are judged concurrently).
        self._locks = [threading.Lock() for _ in range(LOCK_STRIPES)]

    def admit(self, obj: Any) -> Answer:
        """Raises NoticeError (HTTP 400) for a notice that is malformed or not the station's;
        StorageUnavailable, DirectoryUnavailable or SettlementError (503) when it cannot judge."""
        notice, signature = notice_from_json(obj)
        facts = self.directory.facts(notice.station_id)
        if facts is None:
            raise NoticeError(f"station 0x{notice.station_id.hex()} is not registered")
        try:
            signer = recover_digest(notice.digest(self.separator), signature)
        except SignatureError as exc:
            raise NoticeError(f"notice signature: {exc}") from exc
        if bytes.fromhex(signer[2:]) != facts.signer:
            raise NoticeError("the notice is not signed by the station's registered signer")
        with self._locks[int(notice.driver[-4:], 16) % LOCK_STRIPES]:
            answer = self._decide(notice, signature, facts.info.operator, facts.info.active)
        self.metrics.inc("notices_reserved" if answer.held else "notices_refused")
        return answer

    def _decide(self, notice: StartNotice, signature: bytes, operator: str,
                active: bool) -> Answer:
        now = int(self.clock())
        with self.store.transaction() as tx:
            known = start_of(tx, notice)
        if known is not None:
            if (bytes(known[0]), int(str(known[1])), int(str(known[2]))) != (
                    bytes.fromhex(notice.driver[2:]), notice.credit_id, notice.amount):
                raise NoticeError("a different notice for this session was recorded first")
            return Answer(int(str(known[3])), "refused when first received")
        timing = self.ledger.timing()
        expires = notice.start_time + timing.max_session_duration + NOTICE_GRACE_S
        if notice.start_time > now + self.future_skew_s:
            raise NoticeError(f"startTime is more than {self.future_skew_s} s in the future")
        held, reason, room = 0, "", None
        if not active:
            reason = "station inactive"
        elif expires <= now:
            reason = "the session is older than the longest session allowed"
        else:
            consented, room = self.ledger.standing(notice.driver, notice.credit_id, operator,
                                                   now)
            if not consented:
                reason = "the driver has not consented to this station's operator"
        with self.store.transaction() as tx:  # the claims and the new one, in one commit
            if room is not None and not reason:
                held = min(notice.amount, self._free(tx, notice, room, now))
                if not held:
                    reason = ("the driver's credits are held by sessions authorized earlier "
                              "(or the daily cap is reached)")
            insert_start(tx, notice, signature, held, now, expires)
        return Answer(held, reason)

    @staticmethod
    def _free(tx: Tx, notice: StartNotice, room: Room, now: int) -> int:
        driver = bytes.fromhex(notice.driver[2:])
        claims = open_reservations(tx, [driver], now).get(
            (notice.driver, notice.credit_id), []) + unsettled_costs(tx, driver, notice.credit_id)
        return free(claims, room)
