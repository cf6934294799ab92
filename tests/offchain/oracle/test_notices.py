"""POST /v1/starts and the batch order it feeds (issue 11 item 4): a notice holds what is free of
the driver's credits, first come first held; a receipt placed behind an open hold waits, and one
whose window closes while it waits is quarantined, visibly."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from wattnet.chain.eip712 import sign_digest
from wattnet.chain.start_notice import NoticeError, StartNotice, notice_to_json
from wattnet.domain import StationInfo, station_id_for
from wattnet.oracle.config import BatcherConfig, OracleConfig
from wattnet.oracle.directory import CachedStationDirectory, InMemoryStationDirectory
from wattnet.oracle.fakechain import FakeSettlementChain
from wattnet.oracle.ledger import MemoryLedger, Timing
from wattnet.oracle.losses import HELD_REASON, losses, warnings
from wattnet.oracle.metrics import Metrics, parse_text
from wattnet.oracle.notices import Judged, NoticeDesk
from wattnet.oracle.reservations import Room
from wattnet.oracle.service import OracleService
from wattnet.oracle.store_base import Store

from .oracle_helpers import CHAIN_ID, CONTRACT, DOMAIN, DRIVER, T0, Clock, Station, key, rows

USDC = 10**6


def _ledger(credits: int = 10 * USDC) -> MemoryLedger:
    ledger = MemoryLedger(clocks=Timing(max_settlement_delay=3_600, max_session_duration=3_600))
    ledger.rooms_by_key[(DRIVER, 1)] = Room(credits, 10_000, 10_000)
    ledger.consents.add((DRIVER, "*"))
    return ledger


def notice(st: Station, amount: int, start: int = T0 - 600, connector: int = 1,
           signer: bytes | None = None, driver: str = DRIVER) -> dict[str, Any]:
    n = StartNotice(st.info.station_id, connector, driver, 1, amount, start)
    return notice_to_json(n, sign_digest(signer or st.key, n.digest(DOMAIN)))


def _service(store: Store, directory: InMemoryStationDirectory, tmp_path: Path,
             ledger: MemoryLedger | None, clock: Clock, **batcher: Any) -> OracleService:
    config = OracleConfig(chain_id=CHAIN_ID, settlement_contract=CONTRACT,
                          batcher=BatcherConfig(**({"min_batch": 1, "max_age_s": 0} | batcher)))
    return OracleService(config, store=store, directory=directory, ledger=ledger, clock=clock,
                         chain=FakeSettlementChain(tmp_path / "chain.db", auto_mine=True))


def _post_all(service: OracleService, bodies: list[Any]) -> list[tuple[int, Any]]:
    """Each answer as (status, body), then (0, the metrics), then (0, the notices recorded)."""
    async def main() -> list[tuple[int, Any]]:
        out = []
        async with TestClient(TestServer(service.app())) as client:
            for body in bodies:
                resp = await client.post("/v1/starts", json=body)
                out.append((resp.status, await resp.json()))
            metrics = parse_text(await (await client.get("/metrics")).text())
            out += [(0, metrics), (0, rows(service.store, "SELECT COUNT(*) FROM starts")[0][0])]
        return out

    return asyncio.run(main())


def test_notice__holds_what_is_free_first_come_first_held(
        store: Store, directory: InMemoryStationDirectory, create_station: Any,
        tmp_path: Path) -> None:
    a, b = create_station("CP-A"), create_station("CP-B")
    service = _service(store, directory, tmp_path, _ledger(), Clock())
    *answers, (_, metrics), (_, recorded) = _post_all(service, [
        notice(a, 6 * USDC), notice(b, 6 * USDC), notice(b, USDC, connector=2),
        notice(a, 6 * USDC)])
    assert answers[0] == (200, {"status": "reserved", "held": 6 * USDC})
    assert answers[1] == (200, {"status": "reserved", "held": 4 * USDC})  # what was left
    assert answers[2][1]["status"] == "refused"
    assert "held by sessions authorized earlier" in answers[2][1]["reason"]
    assert answers[3] == answers[0]  # sent again: the same answer, the first place kept
    assert metrics["wattnet_oracle_notices_reserved_total"] == 3
    assert metrics["wattnet_oracle_notices_refused_total"] == 1
    assert recorded == 3


def test_notice__concurrent_notices_of_one_driver_recorded_in_groups_never_over_held(
        store: Store, directory: InMemoryStationDirectory, create_station: Any,
        tmp_path: Path) -> None:
    """Notices judged at once share one chain round trip and commits; each still sees the ones
    recorded before it."""
    stations = [create_station(f"CP-{i}") for i in range(8)]
    ledger = _ledger()
    service = _service(store, directory, tmp_path, ledger, Clock())
    assert service.notices is not None
    groups: list[int] = []
    judged_ids: list[Any] = []
    all_judged, first_judged = threading.Event(), threading.Event()
    judge_many, record = service.notices.judge_many, service.notices.record

    def judged(objs: list[Any]) -> list[Any]:
        first_judged.wait(5)  # the first group holds the judge while the others queue up
        out = judge_many(objs)
        judged_ids.extend(out)
        if len(judged_ids) >= 8:
            all_judged.set()
        return out

    def counted(items: list[Any]) -> list[Any]:
        all_judged.wait(5)  # the first group holds the writer while the others are judged
        groups.append(len(items))
        return record(items)

    service.notices._judge._process = judged  # the workers call what they were given
    service.notices._recorder._process = counted

    async def main() -> tuple[list[Any], int]:
        async with TestClient(TestServer(service.app())) as client:
            posts = [asyncio.ensure_future(client.post("/v1/starts", json=notice(st, 3 * USDC)))
                     for st in stations]
            await asyncio.sleep(0.3)  # every notice sent and waiting
            first_judged.set()
            resps = await asyncio.gather(*posts)
            recorded = rows(service.store, "SELECT COUNT(*) FROM starts")[0][0]
            return [await r.json() for r in resps], recorded

    answers, recorded = asyncio.run(main())
    held = sorted(a.get("held", 0) for a in answers)
    assert sum(held) == 10 * USDC and held[-3:] == [3 * USDC] * 3  # 3+3+3+1, never more
    assert sum(groups) == 8 and len(groups) < 8  # fewer commits than notices
    assert ledger.reads < 8  # fewer chain round trips than notices
    assert recorded == 8


class _BatchRegistry:
    """A registry read in batches, counting its round trips."""

    def __init__(self, inner: InMemoryStationDirectory) -> None:
        self.inner, self.batches, self.singles = inner, 0, 0

    def station(self, station_id: bytes) -> StationInfo | None:
        self.singles += 1
        return self.inner.station(station_id)

    def stations(self, station_ids: list[bytes]) -> dict[bytes, StationInfo | None]:
        self.batches += 1
        return {sid: self.inner.station(sid) for sid in station_ids}


def test_notice__a_group_from_stations_new_to_the_node_reads_the_registry_once(
        store: Store, directory: InMemoryStationDirectory, create_station: Any) -> None:
    """Notices judged together read their unknown stations in one registry round trip (one
    web3 read per station cost a node 8 % of its CPU in the network benchmark); a malformed
    notice in the group is refused alone."""
    stations = [create_station(f"CP-{i}") for i in range(6)]
    registry = _BatchRegistry(directory)
    ledger = _ledger()
    desk = NoticeDesk(store, CachedStationDirectory(registry), ledger, DOMAIN.separator,
                      Metrics(), Clock(), future_skew_s=300)
    try:
        judged = desk.judge_many([notice(st, USDC) for st in stations] + [{"notice": {}}])
        assert (registry.batches, registry.singles) == (1, 0)
        assert all(isinstance(j, Judged) and j.room is not None for j in judged[:6])
        assert isinstance(judged[6], NoticeError)
        desk.judge_many([notice(st, USDC, connector=2) for st in stations])
        assert (registry.batches, registry.singles) == (1, 0)  # cached since
    finally:
        desk.close()


def test_notice__not_the_stations_or_malformed_is_400_and_not_recorded(
        store: Store, directory: InMemoryStationDirectory, create_station: Any,
        tmp_path: Path) -> None:
    a = create_station("CP-A")
    service = _service(store, directory, tmp_path, _ledger(), Clock())
    unknown = Station(StationInfo(station_id_for("CP-NOWHERE"), a.info.operator,
                                  a.info.signer, 22_000, 2, True), a.key, "CP-NOWHERE")
    first, other = notice(a, USDC, connector=2), notice(a, 2 * USDC, connector=2)
    bodies = [notice(a, USDC, signer=key("attacker")), notice(unknown, USDC),
              {"notice": {}, "signature": "0x"}, notice(a, 0), notice(a, USDC, start=T0 + 3_600),
              first, other]
    *answers, _, (_, recorded) = _post_all(service, bodies)
    assert [status for status, _ in answers] == [400] * 5 + [200, 400]
    assert "not signed by the station's registered signer" in answers[0][1]["error"]
    assert "not registered" in answers[1][1]["error"]
    assert "in the future" in answers[4][1]["error"]
    assert "different notice for this session" in answers[6][1]["error"]
    assert recorded == 1  # only the first of the session


def test_notice__without_consent_or_at_an_inactive_station_holds_nothing(
        store: Store, directory: InMemoryStationDirectory, create_station: Any,
        tmp_path: Path) -> None:
    a, off = create_station("CP-A"), create_station("CP-OFF", active=False)
    ledger = _ledger()
    ledger.consents.clear()  # a station the driver never let charge it cannot hold its credits
    service = _service(store, directory, tmp_path, ledger, Clock())
    *answers, _ = _post_all(service, [notice(a, USDC), notice(off, USDC)])
    assert answers[0][1] == {"status": "refused",
                             "reason": "the driver has not consented to this station's operator"}
    assert answers[1][1] == {"status": "refused", "reason": "station inactive"}


def test_notice__an_oracle_without_a_credit_ledger_says_so(
        store: Store, directory: InMemoryStationDirectory, create_station: Any,
        tmp_path: Path) -> None:
    service = _service(store, directory, tmp_path, None, Clock())
    [(status, body), _, _] = _post_all(service, [notice(create_station("CP-A"), USDC)])
    assert status == 501 and "no credit ledger" in body["error"]


def _post_batch(service: OracleService, body: Any) -> tuple[int, Any, int]:
    """(status, body, notices recorded)."""
    async def main() -> tuple[int, Any, int]:
        async with TestClient(TestServer(service.app())) as client:
            resp = await client.post("/v1/starts:batch", json=body)
            return (resp.status, await resp.json(),
                    rows(service.store, "SELECT COUNT(*) FROM starts")[0][0])

    return asyncio.run(main())


def test_notice_batch__each_answered_as_alone_and_in_order(
        make_store: Callable[[], Store], directory: InMemoryStationDirectory,
        create_station: Any, tmp_path: Path) -> None:
    """``/v1/starts:batch``: the same answers as the same notices one by one (first come first
    held, in the array's order; a repeat gets its first answer; a bad one its own error)."""
    a, b = create_station("CP-A"), create_station("CP-B")
    bodies = [notice(a, 6 * USDC), notice(b, 6 * USDC), notice(b, 6 * USDC, signer=a.key),
              {"notice": 1}, notice(a, 6 * USDC)]
    single = _post_all(_service(make_store(), directory, tmp_path, _ledger(), Clock()),
                       bodies)[:5]
    status, answer, recorded = _post_batch(
        _service(make_store(), directory, tmp_path, _ledger(), Clock()), bodies)
    assert (status, recorded) == (200, 2)  # a and b; the rejected ones and the repeat not
    ours = [(200, r) for r in answer["results"]]
    assert ours[0] == (200, {"status": "reserved", "held": 6 * USDC})
    # the single path answered the rejected ones with HTTP 400 {"error"}, the batch in place
    assert [(s if s != 400 else 200, body) for s, body in single] == [
        ours[0], single[1], ours[2], ours[3], ours[0]]
    assert "not signed by the station" in ours[2][1]["error"]


def test_notice_batch__bad_bodies_and_no_ledger(
        make_store: Callable[[], Store], directory: InMemoryStationDirectory,
        create_station: Any, tmp_path: Path) -> None:
    def service(ledger: MemoryLedger | None = None) -> OracleService:
        return _service(make_store(), directory, tmp_path, ledger, Clock())

    assert _post_batch(service(_ledger()), {"notice": {}}) == (
        400, {"error": "body must be a JSON array"}, 0)
    status, body, recorded = _post_batch(
        service(_ledger()), [notice(create_station("CP-A"), USDC)] * 5_001)
    assert (status, recorded) == (413, 0) and "split it" in body["error"]
    assert _post_batch(service(), [])[0] == 501


def test_batcher__a_receipt_behind_an_open_hold_waits_then_is_quarantined_visibly(
        store: Store, directory: InMemoryStationDirectory, create_station: Any,
        create_receipt: Any, tmp_path: Path) -> None:
    honest, colluder = create_station("CP-H"), create_station("CP-C")
    clock = Clock()
    service = _service(store, directory, tmp_path, _ledger(4 * USDC), clock)
    chain: Any = service.chain
    chain.set_clock(T0, 3_600)  # chain time: the receipts' windows run in it
    assert service.notices is not None
    assert service.notices.admit(notice(honest, 4 * USDC, start=T0 - 900)).held == 4 * USDC
    bad = create_receipt(colluder, 1, start_time=T0 - 800, end_time=T0 - 100, cost=1_050_000,
                         energy_wh=3_000)
    assert service.ingestor.process([bad])[0].status == "accepted"
    service.batcher.step()
    assert rows(store, "SELECT status FROM receipts") == [("pending",)]
    clock.now = T0 - 100 + 3_600 - 300  # the colluder's window is about to close
    chain.set_clock(int(clock.now), 3_600)
    service.batcher.step()
    assert rows(store, "SELECT status, reason FROM receipts") == [("quarantined", HELD_REASON)]
    assert service.metrics.counter("held_expired") == 1
    [warning] = warnings(losses(store))  # what `wattnet oracle status` prints
    assert "held for a session the oracle learned of earlier" in warning
    assert service.chain.tx_count() == 0  # nothing was ever sent for it
