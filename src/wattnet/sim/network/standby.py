"""Chargers on call while the web app is served on the demo network (``wattnet sim network
--serve-app``): each virtual charger of the run connects to its site again and waits for a
remote start, which its gateway sends after an app driver's signed ChargeRequest. It then
charges one short session with its signed (OCMF) meter and stops, so the receipt goes the whole
way: gateway, oracle, settlement on chain, the driver's session list in the app.

Sessions run in chain time, which runs days ahead of the wall clock after the planned sessions:
a session begins at the chain's head time (or as far ahead of the wall clock as the services'
future skew allows, if the chain ran further), lasts ``SESSION_S`` at 80 % of the rated power (what
the oracle finds plausible), and chain time is moved to its end before the charger stops, so the
receipt may settle at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from wattnet.sim.chargepoint import SimChargePoint
from wattnet.sim.chargepoint.meter import SimMeter
from wattnet.sim.network.drive import VirtualClock
from wattnet.sim.network.node import Rpc
from wattnet.sim.network.plan import Charger, Plan
from wattnet.sim.network.stack import PASSWORD, Service

log = logging.getLogger(__name__)

SESSION_S = 600
STEPS = 3
STEP_WALL_S = 1.0  # wall seconds between meter values: the app sees the session run
PAGINATION_AFTER_PLAN = 100_000  # OCMF page counter of the on-call meter: past the plan's


def session_energy_wh(rated_power_w: int, seconds: int = SESSION_S) -> int:
    return rated_power_w * seconds * 8 // (10 * 3_600)


def start_request(payload: dict[str, Any]) -> tuple[str, int]:
    """(idToken, connector) of a RemoteStartTransaction (1.6) or RequestStartTransaction (2.0.1)."""
    if "idTag" in payload:
        return str(payload["idTag"]), int(payload.get("connectorId") or 1)
    return str(payload["idToken"]["idToken"]), int(payload.get("evseId") or 1)


def session_start(head: float, wall: float, ahead_s: float) -> float:
    """When an on-call session begins: at the chain's head time, but no further ahead of the
    wall clock than the oracle and gateways accept readings (``ahead_s``: their future skew)."""
    return min(head, wall + ahead_s - SESSION_S - 60)


async def on_call(url: str, charger: Charger, register_wh: int, rpc_url: str,
                  ahead_s: float, ready: asyncio.Event | None = None) -> None:
    """One charger answering remote starts until cancelled."""
    rpc = Rpc(rpc_url)
    clock = VirtualClock(float(rpc.head_timestamp()))
    meter = SimMeter(charger.meter_serial, register_wh=register_wh, key=charger.meter_key(),
                     pagination=PAGINATION_AFTER_PLAN)
    cp = SimChargePoint(url, charger.cp_id, charger.version, password=PASSWORD, clock=clock,
                        timeout_s=60.0, meter=meter)
    await cp.connect()
    try:
        await cp.boot()
        await cp.status(1, in_use=False)  # as a real charger reports after boot (population
        # registers one connector a station)
        if ready is not None:
            ready.set()
        while True:
            token, connector = start_request(await cp.remote_start.get())
            head = await asyncio.to_thread(rpc.head_timestamp)
            clock.t = start = session_start(head, time.time(), ahead_s)
            status = await cp.start(token, connector)
            if status != "Accepted":
                log.warning("%s: remote start refused by the gateway (%s)", charger.cp_id, status)
                continue
            await cp.status(connector, in_use=True)
            energy = session_energy_wh(charger.rated_power_w)
            for i in range(1, STEPS + 1):
                await asyncio.sleep(STEP_WALL_S)
                if cp.stop_requested.is_set():
                    break
                clock.t = start + SESSION_S * i / STEPS
                await cp.meter_values(energy // STEPS, connector)
            await asyncio.to_thread(rpc.warp_to, int(clock.t) + 1)
            await cp.stop(id_token=token)
            await cp.status(connector, in_use=False)
            log.info("%s: remote-started session done (%d Wh)", charger.cp_id, energy)
    finally:
        await cp.close()
        rpc.close()


def doors(sites: list[tuple[Service, list[Charger]]]) -> dict[str, list[str]]:
    """``{gateway app front door URL: [charge point ids]}`` of the run's sites."""
    return {f"http://127.0.0.1:{svc.app_port}": [c.cp_id for c in chargers]
            for svc, chargers in sites if svc.app_port is not None}


def on_call_all(sites: list[tuple[Service, list[Charger]]], plan: Plan, rpc_url: str,
                ahead_s: float) -> Callable[[], Coroutine[Any, Any, None]]:
    """Every charger of the run on call (their meters continue from the planned sessions)."""
    delivered: dict[int, int] = {}
    for s in plan.sessions:
        delivered[s.charger] = delivered.get(s.charger, 0) + s.energy_wh

    async def run() -> None:
        await asyncio.gather(*(
            on_call(f"ws://127.0.0.1:{svc.port}/ocpp", c, delivered.get(c.index, 0), rpc_url,
                    ahead_s)
            for svc, chargers in sites for c in chargers))
    return run
