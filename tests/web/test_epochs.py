"""Network figures per epoch (charts with their table) and an operator's earnings per station
and epoch, in the browser, on a devnet of its own where sessions were settled through the real
ledger in two epochs (``wattnet.api.devnet_sessions``); ``wattnet app`` indexes the chain's logs
itself (no oracle store given: a temporary SQLite index). Every figure on the page is compared
with the contracts' own state, not with the API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from web3 import HTTPProvider, Web3

from wattnet.api.devnet import OPERATOR, STATIONS
from wattnet.api.devnet_sessions import Settled, settle_sessions
from wattnet.domain import station_id_for
from wattnet.sim.network.node import stop_process

from .chain import contract
from .pages import screenshot
from .stack import Network, start_app, start_network
from .test_app import connect, serious_axe_violations
from .wallet import InjectedWallet

USDC = 10**6


@pytest.fixture(scope="module")
def settled_net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Network, Settled]]:
    anvil, net = start_network(tmp_path_factory.mktemp("epochs"))
    try:
        yield net, settle_sessions(net)
    finally:
        anvil.stop()


@pytest.fixture(scope="module")
def epochs_url(settled_net: tuple[Network, Settled],
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc, url = start_app(settled_net[0], tmp_path_factory.mktemp("epochs-app"))
    try:
        yield url
    finally:
        stop_process(proc)


@pytest.fixture
def wallet(settled_net: tuple[Network, Settled]) -> InjectedWallet:
    return InjectedWallet(settled_net[0].rpc_url, OPERATOR)


def _usd(amount: int) -> str:  # the page's formatUnits: two places, trailing zeros cut
    whole, frac = divmod(amount, USDC)
    text = f"{frac:06d}"[:2].rstrip("0")
    return f"{whole}.{text}" if text else str(whole)


def test_epochs_and_earnings__the_settled_figures_on_the_page(
        page: Any, epochs_url: str, settled_net: tuple[Network, Settled]) -> None:
    net, settled = settled_net
    w3 = Web3(HTTPProvider(net.rpc_url))
    ledger = contract(w3, net, "EnergyCredits")
    rewards = contract(w3, net, "RewardsEngine")
    current = rewards.functions.currentEpoch().call()
    bps = ledger.functions.operatorShareBps().call()
    connect(page, epochs_url)
    page.wait_for_selector("body[data-epochs='1']")
    assert page.locator("#epoch-charts figure svg[role='img']").count() == 4
    rows = page.locator("#epochs-table tbody tr")
    by_epoch = {int(rows.nth(i).locator("td").first.inner_text()): rows.nth(i).inner_text()
                for i in range(rows.count())}
    assert set(by_epoch) >= {current - 1, current}
    for epoch in (current - 1, current):  # two sessions at each station in each week
        mine = settled.receipts[4 * (epoch - current + 1):4 * (epoch - current + 2)]
        cells = by_epoch[epoch].split("\t")
        assert cells[1] == f"{sum(r.energy_wh for r in mine) / 1000:.1f} kWh"
        assert cells[2] == "4"
        assert cells[3] == f"{_usd(sum(r.cost for r in mine))} USDC"
    desc = page.locator("#chart-1 desc, #epoch-charts svg desc").nth(1).text_content()
    assert f"epoch {current}: 4" in (desc or "")  # the sessions chart's text alternative
    this = page.locator("#epoch-figures").inner_text()
    assert f"Epoch {current}: energy" in this

    page.wait_for_selector("#operator-earnings tbody tr")
    earn = page.locator("#operator-earnings tbody tr")
    assert earn.count() == 2 * len(STATIONS)
    total = 0
    for i in range(earn.count()):
        cells = earn.nth(i).locator("td").all_inner_texts()
        assert cells[0] in {cp for cp, *_ in STATIONS} and cells[2] == "2"
        sid = station_id_for(cells[0])
        mine = [r for r in settled.receipts if r.station_id == sid
                and (r.session_id - 1) // 4 == int(cells[1]) - current + 1]
        share = sum(r.cost * bps // 10_000 for r in mine)  # as the ledger splits each session
        assert cells[4] == f"{_usd(share)} USDC"
        total += share
    assert total == ledger.functions.owed(OPERATOR, 1).call()
    assert serious_axe_violations(page) == []
    screenshot(page, "epochs")
