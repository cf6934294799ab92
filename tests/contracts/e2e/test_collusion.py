"""Issue 11 item 4 on anvil: a driver with little credit charges at an honest station, and a
colluding station (its id sorting first, its session shorter, its receipt in first) tries to
spend the credit before the honest receipt settles. The oracle runs in process with the web3
adapters (its clock is the chain's); the stations sign start notices and receipts as gateways
do. The honest station is paid; the colluder never is."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wattnet.chain.eip712 import sign_digest, sign_receipt
from wattnet.chain.receipt_codec import signed_to_json
from wattnet.chain.start_notice import StartNotice, notice_to_json
from wattnet.domain import RejectReason, SignedReceipt, station_id_for
from wattnet.oracle.config import BatcherConfig, OracleConfig
from wattnet.oracle.service import OracleService
from wattnet.oracle.store_base import session_key

USDC = 10**6


@pytest.fixture
def service(oracle_config: OracleConfig, tmp_path: Path, chain: Any) -> Iterator[OracleService]:
    cfg = dataclasses.replace(oracle_config, database=str(tmp_path / "oracle.db"),
                              batcher=BatcherConfig(min_batch=1, max_age_s=0, confirmations=1))
    svc = OracleService(cfg, clock=lambda: float(chain.pending_timestamp))
    assert svc.notices is not None, "the web3 chain brings a credit ledger"
    yield svc
    svc.close()


def _ids_in_order(first: str, second: str) -> tuple[str, str]:
    """Two charge point ids whose station ids sort ``first`` before ``second`` (the colluder
    first: settlement charges a batch in station order)."""
    n = 0
    while True:
        a, b = f"{first}-{n}", f"{second}-{n}"
        if station_id_for(a) < station_id_for(b):
            return a, b
        n += 1


def _status(svc: OracleService, r: SignedReceipt) -> tuple[str, str | None]:
    with svc.store.transaction() as tx:
        row = tx.one("SELECT status, reason FROM receipts WHERE station_id = ? AND "
                     "session_key = ?", (r.receipt.station_id, session_key(r.receipt.session_id)))
    assert row is not None
    return str(row[0]), row[1]


@pytest.mark.parametrize("colluder_notice", ["refused notice", "no notice, backdated start"])
def test_collusion__the_honest_session_is_paid_and_the_colluder_is_not(
        service: OracleService, create_station: Any, create_driver: Any, make_receipt: Any,
        domain: Any, operator: Any, operator2: Any, accounts: Any, chain: Any, credits: Any,
        credit_id: int, colluder_notice: str) -> None:
    driver = accounts[9 if colluder_notice == "refused notice" else 8]
    create_driver(driver, credits_amount=3 * USDC, per_session_cap=3 * USDC,
                  daily_cap=100 * USDC)
    bad_cp, good_cp = _ids_in_order("CP-COLLUDE", "CP-HONEST")
    honest = create_station(operator, cp_id=good_cp, certified=False)
    colluder = create_station(operator2, cp_id=bad_cp, certified=False)
    chain.pending_timestamp += 3_600  # the tariffs apply from registration on
    t0 = chain.pending_timestamp - 1_800  # the honest session runs since half an hour

    def notice(station: Any, start: int) -> dict[str, Any]:
        n = StartNotice(station.station_id, 1, driver.address, credit_id, 3 * USDC, start)
        return notice_to_json(n, sign_digest(station.key, n.digest(domain)))

    assert service.notices is not None
    assert service.notices.admit(notice(honest, t0)).to_json() == {
        "status": "reserved", "held": 3 * USDC}
    if colluder_notice == "refused notice":
        answer = service.notices.admit(notice(colluder, t0 + 60)).to_json()
        assert answer["status"] == "refused" and "held by sessions" in answer["reason"]
        start = t0 + 60
    else:
        start = t0 - 600  # claims to have started first; the oracle never heard of it then

    def signed(station: Any, **kw: Any) -> SignedReceipt:
        r = make_receipt(station, driver, readings=bytes(32), **kw)
        return SignedReceipt(r, sign_receipt(station.key, domain, r))

    end = chain.pending_timestamp - 60
    bad = signed(colluder, energy_wh=2_000, duration=end - start - 1_200, end=end - 1_200)
    outcome = service.ingestor.process([signed_to_json(bad)])[0]
    assert outcome.status == "accepted", outcome.to_json()
    service.batcher.step()  # the honest session is still running: the colluder waits
    assert _status(service, bad) == ("pending", None)
    assert not credits.isSettled(bad.receipt.station_id, bad.receipt.session_id)

    good = signed(honest, energy_wh=8_000, duration=end - t0, end=end)
    assert good.receipt.cost == 2_800_000
    assert service.ingestor.process([signed_to_json(good)])[0].status == "accepted"
    for _ in range(6):  # batch, confirm, next batch, confirm
        service.batcher.step()
    assert credits.isSettled(good.receipt.station_id, good.receipt.session_id), (
        _status(service, good), _status(service, bad))
    assert _status(service, good)[0] == "settled"
    assert _status(service, bad) == ("rejected_onchain", RejectReason.INSUFFICIENT_CREDITS.name)
    assert credits.balanceOf(driver, credit_id) == 200_000  # 3 USDC less the honest session
