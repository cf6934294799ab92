"""Drive the network: every virtual charger runs its planned sessions over OCPP against its site's
gateway, while a time keeper moves chain time forward.

Chain time is what the contracts judge receipts by: a session may settle only once its end is
not in the chain's future, and no later than ``max_settlement_delay`` after it. So a charger
sends its StopTransaction / TransactionEvent(Ended) only once chain time has reached the
session's end (the gate), and the keeper moves chain time on by at most ``slot`` seconds at a
time, and only when every session that would otherwise come within ``margin`` of its settlement
deadline is settled on chain. Before an epoch boundary (sessions are planned not to end near
one) it waits until everything ended before it is settled, so each session's reward weight lands
in the epoch it ended in, as the expectations assume.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from eth_utils.crypto import keccak

from wattnet.errors import ChainError
from wattnet.sim.chargepoint import SimChargePoint
from wattnet.sim.chargepoint.meter import SimMeter
from wattnet.sim.network.chainview import ChainView
from wattnet.sim.network.plan import Charger, Plan, Session
from wattnet.sim.network.stack import PASSWORD, Service

STALL_S = 120.0  # wall seconds without any settlement progress: something is broken


class VirtualClock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class Gate:
    """Chain time as the chargers see it: ``wait(t)`` returns once the chain reached ``t``."""

    def __init__(self, t: int) -> None:
        self.t = t
        self._cond = asyncio.Condition()

    async def wait(self, t: int) -> None:
        async with self._cond:
            await self._cond.wait_for(lambda: self.t >= t)

    async def open_to(self, t: int) -> None:
        async with self._cond:
            self.t = t
            self._cond.notify_all()


@dataclass
class DriveStats:
    total: int
    stopped: int = 0
    settled: int = 0
    chain_time: int = 0
    wall_start: float = field(default_factory=time.monotonic)
    wall_end: float = 0.0
    wall_stops_done: float = 0.0  # when the last charger sent its last stop
    failures: list[str] = field(default_factory=list)

    @property
    def wall_s(self) -> float:
        return (self.wall_end or time.monotonic()) - self.wall_start


async def run_charger(url: str, charger: Charger, sessions: list[Session], plan: Plan,
                      gate: Gate, stats: DriveStats) -> None:
    clock = VirtualClock(plan.t0)
    meter = SimMeter(charger.meter_serial, key=charger.meter_key())  # signs OCMF, certified
    cp = SimChargePoint(url, charger.cp_id, charger.version, password=PASSWORD, clock=clock,
                        timeout_s=120.0, meter=meter)
    await cp.connect()
    try:
        await cp.boot()
        for s in sessions:
            token = plan.drivers[s.driver].id_token
            clock.t = s.start
            status = await cp.authorize(token)
            if status == "Accepted":
                status = await cp.start(token)
            if status != "Accepted":
                stats.failures.append(f"{charger.cp_id}: driver {s.driver} refused ({status}) "
                                      f"for session {s.session_id}")
                return
            clock.t = (s.start + s.end) // 2
            half = s.energy_wh // 2
            await cp.meter_values(half)
            cp.meter.advance(s.energy_wh - half)
            await gate.wait(s.end)
            clock.t = s.end
            await cp.stop(id_token=token)
            if cp.stop_requested.is_set():
                stats.failures.append(f"{charger.cp_id}: the gateway stopped session "
                                      f"{s.session_id} early (mandate or balance too small)")
            stats.stopped += 1
            if stats.stopped == stats.total:
                stats.wall_stops_done = time.monotonic()
    finally:
        await cp.close()


class Keeper:
    """Moves chain time and follows settlement (``isSettled``) in order of session end."""

    def __init__(self, view: ChainView, plan: Plan, gate: Gate, stats: DriveStats, *,
                 window_s: int, slot_s: int, margin_s: int) -> None:
        self.view, self.plan, self.gate, self.stats = view, plan, gate, stats
        self.window, self.slot, self.margin = window_s, slot_s, margin_s
        order = sorted(plan.sessions, key=lambda s: s.end)
        self.ends = [s.end for s in order]
        self.keys = [(plan.chargers[s.charger].station_id, s.session_id) for s in order]
        # isSettled(bytes32,uint64) calldata, encoded once (web3's encoder costs ~0.1 ms a call,
        # which starved the chargers' event loop when thousands were polled per block)
        selector = view.data("EnergyCredits", "isSettled", bytes(32), 0)[:10]
        self.calldata = [selector + sid.hex() + n.to_bytes(32, "big").hex()
                         for sid, n in self.keys]
        self.credits = view.address("EnergyCredits")
        self.done = [False] * len(order)
        self.prefix = 0  # every session before this index is settled
        self.final = max(self.ends, default=plan.t0)
        # A session's isSettled can change only in a block with a BatchSettled of the ledger:
        # a session asked at or after the last such block is not asked again until another.
        self.asked = [-1] * len(order)  # the block each session was last asked at
        self._batch_topic = "0x" + keccak(
            b"BatchSettled(address,uint256,uint256,uint256)").hex()
        self._last_block = -1
        self._last_batch = 0  # the last block seen holding a BatchSettled

    def _refresh(self) -> None:
        """Ask the chain about the released, not yet settled sessions after the prefix that
        were not asked since the last settlement (one eth_getLogs when nothing settled)."""
        block = int(self.view.rpc.call("eth_blockNumber"), 16)
        if block > self._last_block:
            logs = self.view.rpc.call("eth_getLogs", {
                "address": self.credits, "topics": [self._batch_topic],
                "fromBlock": hex(self._last_block + 1), "toBlock": hex(block)})
            if logs:
                self._last_batch = max(int(str(log["blockNumber"]), 16) for log in logs)
            self._last_block = block
        released = bisect.bisect_right(self.ends, self.gate.t)
        todo = [i for i in range(self.prefix, min(released, self.prefix + 1_000))
                if not self.done[i] and self.asked[i] < self._last_batch]
        if todo:
            answers = self.view.rpc.batch([
                ("eth_call", [{"to": self.credits, "data": self.calldata[i]}, hex(block)])
                for i in todo])
            for i, raw in zip(todo, answers, strict=True):
                self.asked[i] = block
                if int(str(raw), 16):
                    self.done[i] = True
                    self.stats.settled += 1
        while self.prefix < len(self.done) and self.done[self.prefix]:
            self.prefix += 1

    def _next_target(self) -> tuple[int, int]:
        """(next chain time, how many sessions, in end order, must be settled first)."""
        c = self.gate.t
        target = min(c + self.slot, max(self.final, c))
        need = bisect.bisect_right(self.ends, target - self.window + self.margin)
        for lo, hi in self.plan.epoch_gaps:
            if c < lo < target:
                target = lo
                need = bisect.bisect_right(self.ends, target - self.window + self.margin)
            if c == lo:
                need = max(need, bisect.bisect_left(self.ends, hi))
        return target, need

    async def run(self, check: Callable[[], None]) -> None:
        last_progress, last_settled = time.monotonic(), -1
        while True:
            check()
            # Move on without asking the chain while what is settled already allows it: the
            # isSettled polling is only needed when chain time must wait for settlement.
            target, need = self._next_target()
            if target > self.gate.t and self.prefix >= need:
                reached = await asyncio.to_thread(self.view.rpc.warp_to, target)
                await self.gate.open_to(reached)
                self.stats.chain_time = self.gate.t
                last_progress = time.monotonic()
                continue
            await asyncio.to_thread(self._refresh)
            self.stats.chain_time = self.gate.t
            if self.prefix == len(self.done) and self.gate.t >= self.final:
                self.stats.wall_end = time.monotonic()
                return
            if self.stats.settled != last_settled:
                last_settled, last_progress = self.stats.settled, time.monotonic()
            if time.monotonic() - last_progress > STALL_S:
                i = self.prefix
                raise ChainError(
                    f"settlement stalled: session {self.keys[i][1]} of station "
                    f"0x{self.keys[i][0].hex()[:12]}… (ended at chain time {self.ends[i]}) is "
                    f"not settled after {STALL_S:.0f} s; see the oracle and gateway logs")
            await asyncio.sleep(0.03)


async def drive(view: ChainView, plan: Plan, gateways: list[tuple[Service, list[Charger]]],
                services: list[Service], stats: DriveStats, *, window_s: int,
                progress: Callable[[DriveStats], None]) -> None:
    """Run every charger and the keeper until every planned session is settled on chain."""
    gate = Gate(view.rpc.head_timestamp())
    # Small steps: chain time follows the oldest unsettled session as closely as its settlement
    # deadline allows, so about (window - margin) of chain time is in flight at once.
    margin = min(300, window_s // 6)
    slot = max(60, min(3_600, (window_s - margin) // 5))
    keeper = Keeper(view, plan, gate, stats, window_s=window_s, slot_s=slot, margin_s=margin)
    per_charger: dict[int, list[Session]] = {}
    for s in plan.sessions:
        per_charger.setdefault(s.charger, []).append(s)
    tasks = []
    for svc, chargers in gateways:
        url = f"ws://127.0.0.1:{svc.port}/ocpp"
        for c in chargers:
            tasks.append(asyncio.create_task(run_charger(
                url, c, sorted(per_charger.get(c.index, []), key=lambda s: s.start), plan,
                gate, stats)))

    def check() -> None:
        for svc in services:
            svc.check()
        for t in tasks:
            if t.done() and not t.cancelled() and t.exception() is not None:
                raise ChainError(f"a charger failed: {t.exception()!r}")
        if stats.failures:
            raise ChainError(stats.failures[0])
        progress(stats)

    try:
        await keeper.run(check)
        await asyncio.gather(*tasks)
    finally:
        await _cancel_all(tasks)


async def _cancel_all(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel until every task has ended. Once is not enough on Python 3.11: ``wait_for``
    swallows a cancellation that arrives as its reply does (gh-86296), and a charger cancelled
    so would go on to its next session and wait for chain time that never comes (Ctrl-C hung)."""
    pending = set(tasks)
    while pending:
        for t in pending:
            t.cancel()
        _, pending = await asyncio.wait(pending, timeout=1.0)
