"""Issue 16, done when: the simulated network (real gateways, oracle and contracts on anvil)
published with ``--ocpi``; the tests' own eMSP (plain dicts and the spec's schemas, nothing of
the server's models) registers with the token the run issues before the first session, receives
each session as it runs (PUT ACTIVE, PATCHes, COMPLETED) and each CDR as it settles (POST), and
then sees every station as a Location, every station's tariff, and one CDR per settled session
whose totals equal what settled on chain (the run's reconciliation holds the chain to the plan,
to the smallest unit) and whose session_id is the session it received live."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from wattnet.ocpi.mapping import location_id
from wattnet.sim.network.ocpi import Running
from wattnet.sim.network.run import NetworkOptions, run_network

from . import schemas
from .emsp import Received, TestEmsp

T = TypeVar("T")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmspThread:
    """The test eMSP served from its own thread (the network run blocks the test's thread)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.emsp = TestEmsp(f"http://127.0.0.1:{_free_port()}")
        self.run(self._start())

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(120)

    async def _start(self) -> None:
        self.runner = web.AppRunner(self.emsp.app())
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1",
                          int(self.emsp.base_url.rsplit(":", 1)[1])).start()
        self.http = aiohttp.ClientSession()

    def close(self) -> None:
        async def stop() -> None:
            await self.http.close()
            await self.runner.cleanup()

        self.run(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    def received(self, method: str, module: str) -> list[Received]:
        return [r for r in list(self.emsp.received)
                if r.method == method and r.path.startswith(f"/2.2.1/{module}")]


def _until(check: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check() and time.monotonic() < deadline:
        time.sleep(0.2)


def _register(side: EmspThread) -> Callable[[Running], None]:
    def on_ready(running: Running) -> None:
        assert running.ocpi is not None
        side.run(side.emsp.register(side.http, running.ocpi.versions_url, running.ocpi.token_a))

    return on_ready


def _pull(side: EmspThread) -> Callable[[Running], dict[str, list[Any]]]:
    def on_settled(running: Running) -> dict[str, list[Any]]:
        async def pull() -> dict[str, list[Any]]:
            return {module: (await side.emsp.pull_all(side.http, module, item, "?limit=7"))[0]
                    for module, item in (("locations", schemas.LOCATION),
                                         ("tariffs", schemas.TARIFF), ("cdrs", schemas.CDR),
                                         ("sessions", schemas.SESSION))}

        pulled = side.run(pull())
        # pushes trail the pulls a little: wait for every CDR's POST and every session's end
        cdr_ids = {c["id"] for c in pulled["cdrs"]}
        _until(lambda: {r.body["id"] for r in side.received("POST", "cdrs")} >= cdr_ids)
        _until(lambda: sum(1 for r in side.received("PATCH", "sessions")
                           if r.body.get("status") == "COMPLETED") >= len(cdr_ids))
        return pulled

    return on_settled


def test_network__published_over_ocpi_the_emsp_sees_every_station_tariff_session_and_cdr(
        tmp_path: Path) -> None:
    side = EmspThread()
    try:
        result = run_network(NetworkOptions(chargers=4, drivers=8, days=1, seed=5, ocpi=True,
                                            workdir=tmp_path / "work"),
                             on_settled=_pull(side), on_ready=_register(side))
        puts, patches = side.received("PUT", "sessions"), side.received("PATCH", "sessions")
        posted = [r.body for r in side.received("POST", "cdrs")]
    finally:
        side.close()
    assert result.differences == []
    seen = result.published
    stations = {location_id(c.station_id) for c in result.plan.chargers}
    assert {loc["id"] for loc in seen["locations"]} == stations
    assert {t["id"].split("-")[0] for t in seen["tariffs"]} == {s[:20] for s in stations}
    sessions = result.plan.sessions
    cdrs = seen["cdrs"]
    assert len(cdrs) == len(sessions) > 0
    decimals = 6  # USDC credits: 1 credit unit = 10**-6 USD
    assert sum(round(c["total_cost"]["excl_vat"] * 10**decimals) for c in cdrs) == \
        sum(s.cost for s in sessions)
    assert sum(round(c["total_energy"] * 1000) for c in cdrs) == \
        sum(s.energy_wh for s in sessions)
    # every session was pushed ACTIVE, then COMPLETED with its CDR's totals, under the id its
    # CDR names; pushed CDRs are the pulled ones
    for r in puts:
        schemas.check(schemas.SESSION, r.body)
    assert all(r.body["status"] == "ACTIVE" for r in puts)
    live_ids = [r.body["id"] for r in puts]
    assert sorted(live_ids) == sorted(c["session_id"] for c in cdrs)
    completed = {r.path.rsplit("/", 1)[1]: r.body for r in patches
                 if r.body.get("status") == "COMPLETED"}
    for c in cdrs:
        end = completed[c["session_id"]]
        assert end["kwh"] == c["total_energy"] and end["total_cost"] == c["total_cost"]
    assert sorted(c["id"] for c in posted) == sorted(c["id"] for c in cdrs)
    assert sorted(s["id"] for s in seen["sessions"]) == sorted(live_ids)
