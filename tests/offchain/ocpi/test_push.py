"""Pushes of Locations (PUT on a registry change) and CDRs (POST when a receipt settles) to the
test eMSP, which registered those modules as receiver; older objects are left to pull."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

from wattnet.ocpi.mapping import location_id
from wattnet.ocpi.watch import Watcher
from wattnet.oracle.store_base import Store

from . import schemas
from .conftest import T0, Harness, settle, station_rows

Run = Callable[..., None]
NOW = T0 + 9999  # the harness clock: the watcher starts here


async def _pushed(h: Harness, watcher: Watcher, method: str) -> list[tuple[str, object]]:
    before = len(h.emsp.received)
    await watcher.tick()
    if h.cpo.tasks:
        await asyncio.wait(h.cpo.tasks, timeout=5)
    return [(r.path, r.body) for r in h.emsp.received[before:] if r.method == method]


def test_push__locations_put_on_registry_change_cdrs_posted_once_when_settled(
        run: Run, store: Store) -> None:
    rows = station_rows(3)
    stations = [bytes.fromhex(r["station_id"][2:]) for r in rows]
    settle(store, stations[0], 1, energy_wh=1_000, cost=350_000, start=T0,
           settled_at=NOW - 100)  # settled before the server started: pulled, not pushed

    async def scenario(h: Harness) -> None:
        await h.emsp.register(h.http, h.versions_url, h.token_a)
        watcher = Watcher(h.cpo, h.pusher)
        assert await _pushed(h, watcher, "PUT") == []  # what exists at start is pulled
        # the registry changes: a station's power, one deactivated, a new one
        path = Path(h.cpo.cfg.stations[5:])
        changed = station_rows(4)
        changed[0]["rated_power_w"] = 22_000
        changed[1]["active"] = False
        path.write_text(json.dumps(changed))
        puts = await _pushed(h, watcher, "PUT")
        new = bytes.fromhex(changed[3]["station_id"][2:])
        assert sorted(p for p, _ in puts) == sorted(
            f"/2.2.1/locations/DE/WNT/{location_id(s)}" for s in (*stations[:2], new))
        for _, body in puts:
            schemas.check(schemas.LOCATION, body)
        by_id = {body["id"]: body for _, body in puts}  # type: ignore[index]
        assert by_id[location_id(stations[0])]["evses"][0]["connectors"][0][
            "max_electric_power"] == 22_000
        assert {e["status"] for e in by_id[location_id(stations[1])]["evses"]} == {"INOPERATIVE"}
        assert await _pushed(h, watcher, "PUT") == []  # nothing changed since
        # receipts settle: each is POSTed once, as a CDR
        settle(store, stations[1], 7, energy_wh=2_000, cost=700_000, start=T0 + 50,
               settled_at=NOW + 1)
        settle(store, stations[2], 8, energy_wh=3_000, cost=1_050_000, start=T0 + 60,
               settled_at=NOW + 2)
        posts = await _pushed(h, watcher, "POST")
        assert [p for p, _ in posts] == ["/2.2.1/cdrs", "/2.2.1/cdrs"]
        for _, body in posts:
            schemas.check(schemas.CDR, body)
        assert [b["total_cost"]["excl_vat"] for _, b in posts] == [0.7, 1.05]  # type: ignore[index]
        assert [b["session_id"] for _, b in posts] == [  # type: ignore[index]
            f"{location_id(stations[1])[:15]}-1-{T0 + 50}",
            f"{location_id(stations[2])[:15]}-1-{T0 + 60}"]
        assert await _pushed(h, watcher, "POST") == []  # not twice
        settle(store, stations[0], 9, energy_wh=1, cost=350, start=T0 + 70, settled_at=NOW + 2)
        posts = await _pushed(h, watcher, "POST")  # settled in the same second as the last
        assert [b["id"] for _, b in posts] == [f"{location_id(stations[0])[:15]}-9"]  # type: ignore[index]

    run(scenario)
