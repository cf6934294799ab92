"""Issue 16, done when: the simulated network (real gateways, oracle and contracts on anvil)
published with ``--ocpi``; the tests' own eMSP (plain dicts and the spec's schemas, nothing of
the server's models) registers with the token the run issues and sees every station as a
Location, every station's tariff, and one CDR per settled session whose totals equal what
settled on chain (the run's reconciliation holds the chain to the plan, to the smallest unit)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from wattnet.ocpi.mapping import location_id
from wattnet.sim.network.ocpi import Running
from wattnet.sim.network.run import NetworkOptions, run_network

from . import schemas
from .emsp import TestEmsp


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pull(running: Running) -> dict[str, list[Any]]:
    assert running.ocpi is not None
    published = running.ocpi

    async def scenario() -> dict[str, list[Any]]:
        port = _free_port()
        emsp = TestEmsp(f"http://127.0.0.1:{port}")
        runner = web.AppRunner(emsp.app())
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            async with aiohttp.ClientSession() as http:
                await emsp.register(http, published.versions_url, published.token_a)
                return {module: (await emsp.pull_all(http, module, item, "?limit=7"))[0]
                        for module, item in (("locations", schemas.LOCATION),
                                             ("tariffs", schemas.TARIFF),
                                             ("cdrs", schemas.CDR))}
        finally:
            await runner.cleanup()

    return asyncio.run(scenario())


def test_network__published_over_ocpi_the_emsp_sees_every_station_tariff_and_cdr(
        tmp_path: Path) -> None:
    result = run_network(NetworkOptions(chargers=4, drivers=8, days=1, seed=5, ocpi=True,
                                        workdir=tmp_path / "work"), on_settled=_pull)
    assert result.differences == []
    seen = result.published
    stations = {location_id(c.station_id) for c in result.plan.chargers}
    assert {loc["id"] for loc in seen["locations"]} == stations
    assert {t["id"].split("-")[0] for t in seen["tariffs"]} == {s[:20] for s in stations}
    sessions = result.plan.sessions
    assert len(seen["cdrs"]) == len(sessions) > 0
    decimals = 6  # USDC credits: 1 credit unit = 10**-6 USD
    assert sum(round(c["total_cost"]["excl_vat"] * 10**decimals) for c in seen["cdrs"]) == \
        sum(s.cost for s in sessions)
    assert sum(round(c["total_energy"] * 1000) for c in seen["cdrs"]) == \
        sum(s.energy_wh for s in sessions)
