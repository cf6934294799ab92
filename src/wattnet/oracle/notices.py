"""POST /v1/starts: admit or refuse a station's start notice (``wattnet.chain.start_notice``).

A notice is admitted when its station signed it and the driver consented to the station's
operator; it then holds what is free of its amount beside every claim the oracle already knows
of (admitted notices still open, stored receipts the chain does not show yet), until its
receipt arrives or it expires. The gateway lowers the session's reservation to what is held,
and stops the session when nothing is (another session of the driver was authorized first).
Either way the notice is recorded: sent again, it gets the same answer, and its first arrival
is the session's place.

Admission runs in two steps: judging (signature, registry, the driver's standing on chain) on
any thread, many at once, then recording on one writer thread, where the notices judged
meanwhile are weighed against the stored claims in order and recorded in one commit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from wattnet.chain.eip712 import recover_digest
from wattnet.chain.start_notice import NoticeError, StartNotice, notice_from_json
from wattnet.errors import SignatureError
from wattnet.groups import GroupWorker
from wattnet.oracle.directory import CachedStationDirectory
from wattnet.oracle.errors import DirectoryBusy
from wattnet.oracle.ledger import Ask, CreditLedger
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


@dataclass(frozen=True, slots=True)
class Answer:
    held: int  # 0: refused
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        if self.held:
            return {"status": "reserved", "held": self.held}
        return {"status": "refused", "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Judged:
    """A notice that is the station's, with what the chain says of its driver."""

    notice: StartNotice
    signature: bytes
    reason: str  # why nothing is held, whatever is free ("" if the room decides)
    room: Room | None
    now: int
    expires: int


class NoticeDesk:
    def __init__(self, store: Store, directory: CachedStationDirectory, ledger: CreditLedger,
                 separator: bytes, metrics: Metrics, clock: Callable[[], float], *,
                 future_skew_s: int) -> None:
        self.store, self.directory, self.ledger = store, directory, ledger
        self.future_skew_s = future_skew_s  # as for receipts (plausibility.future_skew_s)
        self.separator, self.metrics, self.clock = separator, metrics, clock
        # Recording reads a driver's claims, then adds one: one writer (the worker, or a
        # caller of ``admit``) at a time.
        self._write = threading.Lock()
        self._recorder: GroupWorker[Judged, Answer] = GroupWorker(
            self.record, name="oracle-notices", max_size=500)
        self._judge: GroupWorker[Any, Judged] = GroupWorker(
            self.judge_many, name="oracle-notice-judge", max_size=200)

    def close(self) -> None:
        self._judge.close()
        self._recorder.close()

    def admit(self, obj: Any) -> Answer:
        """Judge and record one notice (synchronously). Raises NoticeError (HTTP 400) for a
        notice that is malformed or not the station's; StorageUnavailable,
        DirectoryUnavailable or SettlementError (503) when it cannot judge."""
        answer = self.record([self.judge(obj)])[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def admit_async(self, obj: Any) -> Answer:
        """``admit`` for the event loop: judged in a group (one chain round trip for every
        notice that arrived meanwhile), recorded in a group."""
        judged = await self._judge.submit(obj)
        return await self._recorder.submit(judged)

    def judge(self, obj: Any) -> Judged:
        """One notice judged (``judge_many`` of one); raises what it found."""
        [judged] = self.judge_many([obj])
        if isinstance(judged, Exception):
            raise judged
        return judged

    def judge_many(self, objs: list[Any]) -> list[Judged | Exception]:
        """Each notice judged: NoticeError for one that is malformed or not its station's;
        the drivers' standing on chain read for all of them in one round trip (a ChainError
        there fails the group: the gateways send again)."""
        out: list[Judged | Exception] = []
        asks: list[tuple[int, Ask]] = []
        parsed: list[tuple[StartNotice, bytes] | NoticeError] = []
        for obj in objs:
            try:
                parsed.append(notice_from_json(obj))
            except NoticeError as exc:
                parsed.append(exc)
        # The stations new to this node (or due again) in one registry round trip.
        self.directory.prefetch({p[0].station_id for p in parsed if isinstance(p, tuple)})
        for one in parsed:
            try:
                if isinstance(one, NoticeError):
                    raise one
                judged, operator = self._judge_alone(*one)
            except (NoticeError, DirectoryBusy) as exc:
                out.append(exc)
                continue
            if operator is not None:
                asks.append((len(out), (judged.notice.driver, judged.notice.credit_id, operator)))
            out.append(judged)
        if asks:
            now = int(self.clock())
            for (i, _), (consented, room) in zip(
                    asks, self.ledger.standings([ask for _, ask in asks], now), strict=True):
                j = out[i]
                assert isinstance(j, Judged)
                out[i] = replace(j, room=room, reason="" if consented else
                                 "the driver has not consented to this station's operator")
        return out

    def _judge_alone(self, notice: StartNotice, signature: bytes
                     ) -> tuple[Judged, str | None]:
        """What the notice itself decides; the operator whose consent and the room still need
        the chain (None when the notice is decided without them)."""
        facts = self.directory.facts(notice.station_id)
        if facts is None:
            raise NoticeError(f"station 0x{notice.station_id.hex()} is not registered")
        try:
            signer = recover_digest(notice.digest(self.separator), signature)
        except SignatureError as exc:
            raise NoticeError(f"notice signature: {exc}") from exc
        if bytes.fromhex(signer[2:]) != facts.signer:
            raise NoticeError("the notice is not signed by the station's registered signer")
        now = int(self.clock())
        timing = self.ledger.timing()
        expires = notice.start_time + timing.max_session_duration + NOTICE_GRACE_S
        if notice.start_time > now + self.future_skew_s:
            raise NoticeError(f"startTime is more than {self.future_skew_s} s in the future")
        if not facts.info.active:
            return Judged(notice, signature, "station inactive", None, now, expires), None
        if expires <= now:
            return Judged(notice, signature, "the session is older than the longest session "
                          "allowed", None, now, expires), None
        return Judged(notice, signature, "", None, now, expires), facts.info.operator

    def record(self, judged: list[Judged]) -> list[Answer | Exception]:
        """Weigh each notice against the claims stored (and those recorded before it here)
        and record it; one commit for all. A notice recorded before gets its first answer."""
        answers: list[Answer | Exception] = []
        with self._write, self.store.transaction() as tx:
            for j in judged:
                known = start_of(tx, j.notice)
                if known is not None:
                    answers.append(_recorded(j.notice, known))
                    continue
                held, reason = 0, j.reason
                if j.room is not None and not reason:
                    held = min(j.notice.amount, self._free(tx, j.notice, j.room, j.now))
                    if not held:
                        reason = ("the driver's credits are held by sessions authorized "
                                  "earlier (or the daily cap is reached)")
                insert_start(tx, j.notice, j.signature, held, j.now, j.expires)
                answers.append(Answer(held, reason))
        for a in answers:
            if isinstance(a, Answer):
                self.metrics.inc("notices_reserved" if a.held else "notices_refused")
        return answers

    @staticmethod
    def _free(tx: Tx, notice: StartNotice, room: Room, now: int) -> int:
        driver = bytes.fromhex(notice.driver[2:])
        claims = open_reservations(tx, [driver], now).get(
            (notice.driver, notice.credit_id), []) + unsettled_costs(tx, driver, notice.credit_id)
        return free(claims, room)


def _recorded(notice: StartNotice, known: Any) -> Answer | NoticeError:
    if (bytes(known[0]), int(str(known[1])), int(str(known[2]))) != (
            bytes.fromhex(notice.driver[2:]), notice.credit_id, notice.amount):
        return NoticeError("a different notice for this session was recorded first")
    return Answer(int(str(known[3])), "refused when first received")
