"""HTTP API: status codes, acks only after the durable write, batch endpoint, metrics, health."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from wattnet.chain.readings import commitment_of, readings_of
from wattnet.domain import StationInfo
from wattnet.oracle.config import OracleConfig
from wattnet.oracle.directory import InMemoryStationDirectory, StationDirectory
from wattnet.oracle.fakechain import FakeSettlementChain
from wattnet.oracle.metrics import parse_text
from wattnet.oracle.service import OracleService
from wattnet.oracle.store_base import Store
from wattnet.oracle.store_sqlite import SqliteStore

from .ocmf_factory import meter_key, payload, public_xy, sign_ocmf
from .oracle_helpers import CHAIN_ID, CONTRACT, T0, Station, key, make_receipt, rows, sign

Make = Callable[..., dict[str, Any]]
Scenario = Callable[[TestClient[Any, Any], OracleService], Any]


def run_api(store: Store, directory: StationDirectory, tmp_path: Path,
            scenario: Scenario, **cfg: Any) -> None:
    config = OracleConfig(chain_id=CHAIN_ID, settlement_contract=CONTRACT, **cfg)
    service = OracleService(config, store=store, directory=directory,
                            chain=FakeSettlementChain(tmp_path / "chain.db"),
                            clock=lambda: float(T0))

    async def main() -> None:
        async with TestClient(TestServer(service.app())) as client:
            await scenario(client, service)

    asyncio.run(main())


def test_api__valid_receipt_is_acked_200_after_it_is_stored(
    store: Store, directory: InMemoryStationDirectory, station: Station, create_receipt: Make,
    tmp_path: Path,
) -> None:
    async def scenario(client: TestClient[Any, Any], service: OracleService) -> None:
        resp = await client.post("/v1/receipts", json=create_receipt(station, 1))
        assert resp.status == 200
        assert await resp.json() == {"status": "accepted", "reason": None}
        assert rows(store, "SELECT status FROM receipts") == [("pending",)]
        again = await client.post("/v1/receipts", json=create_receipt(station, 1))
        assert (await again.json())["status"] == "duplicate"

    run_api(store, directory, tmp_path, scenario)


def test_api__malformed_or_badly_signed_payload_is_400_and_logged(
    store: Store, directory: InMemoryStationDirectory, station: Station, tmp_path: Path,
) -> None:
    async def scenario(client: TestClient[Any, Any], service: OracleService) -> None:
        resp = await client.post("/v1/receipts", data=b"{not json")
        assert resp.status == 400 and "not JSON" in (await resp.json())["error"]
        forged = sign(station, make_receipt(station), signer_key=key("attacker"))
        resp = await client.post("/v1/receipts", json=forged)
        assert resp.status == 400 and "not the station signer" in (await resp.json())["error"]
        assert len(rows(store, "SELECT reason FROM rejected")) == 2
        assert rows(store, "SELECT COUNT(*) FROM receipts") == [(0,)]

    run_api(store, directory, tmp_path, scenario)


def test_api__batch_endpoint_answers_each_item_in_order(
    store: Store, directory: InMemoryStationDirectory, station: Station, create_receipt: Make,
    tmp_path: Path,
) -> None:
    good = create_receipt(station, 1)
    future = create_receipt(station, 2, connector_id=2, start_time=T0, end_time=T0 + 3600)
    forged = sign(station, make_receipt(station, 3), signer_key=key("attacker"))

    async def scenario(client: TestClient[Any, Any], service: OracleService) -> None:
        resp = await client.post("/v1/receipts:batch", json=[good, future, forged, good])
        assert resp.status == 200
        results = (await resp.json())["results"]
        assert [r.get("status", "error") for r in results] == [
            "accepted", "quarantined", "error", "duplicate"]
        too_many = await client.post("/v1/receipts:batch", json=[good] * 6)
        assert too_many.status == 413
        not_a_list = await client.post("/v1/receipts:batch", json={"x": 1})
        assert not_a_list.status == 400

    run_api(store, directory, tmp_path, scenario, max_batch_items=5)


def test_api__concurrent_posts_share_commits_and_all_are_stored(
    store: Store, directory: InMemoryStationDirectory, station: Station, create_receipt: Make,
    tmp_path: Path,
) -> None:
    bodies = [create_receipt(station, i, start_time=T0 - 90_000 + 100 * i,
                             end_time=T0 - 90_000 + 100 * i + 50, energy_wh=1)
              for i in range(60)]

    async def scenario(client: TestClient[Any, Any], service: OracleService) -> None:
        resps = await asyncio.gather(*(client.post("/v1/receipts", json=b) for b in bodies))
        assert [r.status for r in resps] == [200] * 60
        assert rows(store, "SELECT COUNT(*) FROM receipts") == [(60,)]

    run_api(store, directory, tmp_path, scenario)


def test_api__storage_failure_answers_503_and_acks_nothing(
    tmp_path: Path, directory: InMemoryStationDirectory, station: Station,
    create_receipt: Make,
) -> None:
    store = SqliteStore(tmp_path / "o.db", busy_timeout_s=0.1)
    store.migrate()

    async def scenario(client: TestClient[Any, Any], service: OracleService) -> None:
        holder = sqlite3.connect(tmp_path / "o.db", isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        resp = await client.post("/v1/receipts", json=create_receipt(station, 1))
        assert resp.status == 503 and "locked" in (await resp.json())["error"]
        health = await client.get("/healthz")
        assert health.status == 503
        holder.execute("ROLLBACK")
        holder.close()
        assert rows(store, "SELECT COUNT(*) FROM receipts") == [(0,)]
        retry = await client.post("/v1/receipts", json=create_receipt(station, 1))
        assert retry.status == 200
        metrics = parse_text(await (await client.get("/metrics")).text())
        assert metrics["wattnet_oracle_storage_errors_total"] == 1

    run_api(store, directory, tmp_path, scenario)


def test_api__metrics_are_prometheus_text_with_counters_gauges_and_histogram(
    store: Store, directory: InMemoryStationDirectory, station: Station, create_receipt: Make,
    tmp_path: Path,
) -> None:
    async def scenario(client: TestClient[Any, Any], service: OracleService) -> None:
        await client.post("/v1/receipts", json=create_receipt(station, 1))
        await client.post("/v1/receipts", json=create_receipt(station, 1))
        await client.post("/v1/receipts", data=b"[")
        service.metrics.set_gauges({"pending": 1})
        resp = await client.get("/metrics")
        assert resp.status == 200 and resp.content_type == "text/plain"
        text = await resp.text()
        assert "# TYPE wattnet_oracle_accepted_total counter" in text
        values = parse_text(text)
        assert values["wattnet_oracle_received_total"] == 3
        assert values["wattnet_oracle_accepted_total"] == 1
        assert values["wattnet_oracle_duplicates_total"] == 1
        assert values["wattnet_oracle_rejected_total"] == 1
        assert values["wattnet_oracle_pending"] == 1
        assert values['wattnet_oracle_ack_latency_seconds_bucket{le="+Inf"}'] == 3
        assert values["wattnet_oracle_ack_latency_seconds_count"] == 3
        health = await client.get("/healthz")
        assert health.status == 200 and (await health.json()) == {"ok": True}

    run_api(store, directory, tmp_path, scenario)


@pytest.mark.parametrize("size", [10_000])
def test_api__oversized_body_is_refused_before_parsing(
    store: Store, directory: InMemoryStationDirectory, tmp_path: Path, size: int,
) -> None:
    async def scenario(client: TestClient[Any, Any], service: OracleService) -> None:
        resp = await client.post("/v1/receipts:batch", data=b"[" + b" " * size + b"]")
        assert resp.status == 413
        assert rows(store, "SELECT COUNT(*) FROM rejected") == [(0,)]

    run_api(store, directory, tmp_path, scenario, max_body_bytes=size)


def test_api__same_receipt_by_many_paths_at_once_is_accepted_exactly_once(
    store: Store, directory: InMemoryStationDirectory, station: Station, create_receipt: Make,
    tmp_path: Path,
) -> None:
    body = create_receipt(station, 1)

    async def scenario(client: TestClient[Any, Any], service: OracleService) -> None:
        singles = [client.post("/v1/receipts", json=body) for _ in range(8)]
        batches = [client.post("/v1/receipts:batch", json=[body, body]) for _ in range(4)]
        answers = [await r.json() for r in await asyncio.gather(*singles, *batches)]
        statuses = [a["status"] for a in answers[:8]]
        statuses += [item["status"] for a in answers[8:] for item in a["results"]]
        assert sorted(statuses) == ["accepted"] + ["duplicate"] * 15
        assert rows(store, "SELECT COUNT(*) FROM receipts") == [(1,)]

    run_api(store, directory, tmp_path, scenario)


class BrokenRegistry:
    def station(self, station_id: bytes) -> StationInfo | None:
        raise ConnectionError("RPC node down")


def test_api__registry_failure_answers_503_and_stores_nothing(
    store: Store, station: Station, create_receipt: Make, tmp_path: Path,
) -> None:
    async def scenario(client: TestClient[Any, Any], service: OracleService) -> None:
        resp = await client.post("/v1/receipts", json=create_receipt(station, 1))
        assert resp.status == 503
        assert "registry unavailable" in (await resp.json())["error"]
        batch = await client.post("/v1/receipts:batch", json=[create_receipt(station, 2)])
        assert batch.status == 503
        assert rows(store, "SELECT COUNT(*) FROM receipts") == [(0,)]
        assert rows(store, "SELECT COUNT(*) FROM rejected") == [(0,)]

    run_api(store, BrokenRegistry(), tmp_path, scenario)


def test_api__readings_are_served_for_anyone_to_check_on_chain(
    store: Store, directory: InMemoryStationDirectory, create_station: Callable[..., Station],
    create_receipt: Make, tmp_path: Path,
) -> None:
    """A watcher fetches the records a receipt commits to and rebuilds the proof's argument."""
    meter = meter_key()
    metered = create_station("CP-R", meter_public_key=public_xy(meter))
    start, end = T0 - 7200, T0 - 3600
    records = sign_ocmf(payload(start, end, 100_000, 110_000, charge_point="CP-R"), meter)
    readings = commitment_of(records, public_xy(meter))

    async def scenario(client: TestClient[Any, Any], service: OracleService) -> None:
        sent = create_receipt(metered, 7, meter_data=records, start_time=start, end_time=end,
                              energy_wh=10_000, readings=readings)
        answer = await (await client.post("/v1/receipts", json=sent)).json()
        assert answer["status"] == "accepted", answer
        sid = "0x" + metered.info.station_id.hex()
        resp = await client.get(f"/v1/readings/{sid}/7")
        assert resp.status == 200
        got = await resp.json()
        assert got["meterData"] == records and got["readings"] == "0x" + readings.hex()
        rebuilt = readings_of(got["meterData"].split("\n"), public_xy(meter))
        assert rebuilt.commitment() == readings
        assert (await client.get(f"/v1/readings/{sid}/8")).status == 404
        assert (await client.get(f"/v1/readings/{sid[:-2]}/7")).status == 400
        assert (await client.get(f"/v1/readings/{sid}/-1")).status == 400

    run_api(store, directory, tmp_path, scenario)
