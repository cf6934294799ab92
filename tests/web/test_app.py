"""The web app in a real browser against a real chain: stations, figures, connect, buy credits
(a permit and one transaction; approve + buy where the stablecoin takes no permits) and the
ways that fails: the person cancels, the contract reverts, the wallet is
on another chain. Each page is screenshotted (desktop and phone) and checked with axe-core."""

from __future__ import annotations

import time
from typing import Any

from eth_utils.address import to_checksum_address
from web3 import HTTPProvider, Web3

from wattnet.chain.deployments import load_abi

from .pages import screenshot
from .stack import DIST, DRIVER, DRIVER_USD, STATIONS, Network
from .wallet import InjectedWallet

AXE = DIST.parent / "node_modules" / "axe-core" / "axe.min.js"


def open_app(page: Any, url: str) -> float:
    """Load the app until its data is on the page; returns the milliseconds that took."""
    t0 = time.perf_counter()
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    return (time.perf_counter() - t0) * 1000


def connect(page: Any, url: str) -> None:
    """Open the app and connect the injected wallet (on the right chain)."""
    open_app(page, url)
    page.click("#connect")
    page.wait_for_selector("#buy:not([hidden])")


def serious_axe_violations(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in result["violations"]
            if v["impact"] in ("serious", "critical")]


def credits_on_chain(net: Network, who: str) -> int:
    w3 = Web3(HTTPProvider(net.rpc_url))
    ledger = w3.eth.contract(address=to_checksum_address(net.deployment.address("EnergyCredits")),
                             abi=load_abi("EnergyCredits"))
    return int(ledger.functions.balanceOf(to_checksum_address(who), 1).call())


def test_stations_page__lists_and_maps_the_registered_stations(page: Any, app_url: str) -> None:
    ms = open_app(page, app_url)
    print(f"\napp_page_load_ms={ms:.0f}")
    rows = page.locator("#stations tbody tr")
    assert rows.count() == len(STATIONS)
    # cheapest first: WEB-CP-1 (0.35 USD/kWh) before WEB-CP-2 (0.60)
    assert "WEB-CP-1" in rows.nth(0).inner_text() and "0.35" in rows.nth(0).inner_text()
    assert "150 kW" in rows.nth(1).inner_text()
    page.wait_for_selector("body[data-map='1']")  # the map's chunk follows the data
    assert page.locator("#map .station-marker").count() == len(STATIONS)
    figures = page.locator("#figures").inner_text()
    assert "2 active / 2" in figures
    # from the event index (the chain settled none here), not the oracle store, whose seeded
    # rows call one session settled
    assert "Sessions settled\n0" in figures and "Energy settled\n0 kWh" in figures
    page.fill("#min-power", "50")
    assert rows.count() == 1 and "WEB-CP-2" in rows.nth(0).inner_text()
    page.fill("#min-power", "0")
    page.fill("#max-price", "0.4")
    assert rows.count() == 1 and "WEB-CP-1" in rows.nth(0).inner_text()
    screenshot(page, "stations")
    assert serious_axe_violations(page) == []


def test_driver__buys_with_a_permit_in_one_transaction(
        page: Any, app_url: str, network: Network, wallet: InjectedWallet) -> None:
    before = credits_on_chain(network, DRIVER)
    connect(page, app_url)
    page.fill("#buy-amount", "3")
    page.click("#buy-button")
    page.wait_for_selector("#status:has-text('Credits bought in')", timeout=30_000)
    assert page.locator("#error").inner_text() == ""
    assert credits_on_chain(network, DRIVER) == before + 3 * 10**6
    # the permit is a signature; the buy (buyWithPermit) the only transaction
    assert wallet.calls.count("eth_signTypedData_v4") == 1
    assert wallet.calls.count("eth_sendTransaction") == 1


def test_driver__connects_and_buys_credits_with_approve_then_buy_without_permits(
        page: Any, app_url: str, network: Network, wallet: InjectedWallet) -> None:
    wallet.no_permit = True
    before = credits_on_chain(network, DRIVER)
    connect(page, app_url)
    assert DRIVER in page.locator("#account").inner_text()
    assert f"{(DRIVER_USD - before) // 10**6}" in page.locator("#balances").inner_text()
    page.fill("#buy-amount", "25")
    page.click("#buy-button")
    page.wait_for_selector("#status:has-text('Credits bought in')", timeout=30_000)
    assert credits_on_chain(network, DRIVER) == before + 25 * 10**6
    # the network figures were read again after the purchase (this session's buys only)
    outstanding = page.locator("#figures div", has_text="Credits outstanding (USDC)")
    assert outstanding.locator("dd").inner_text() == str((before + 25 * 10**6) // 10**6)
    assert wallet.calls.count("eth_sendTransaction") == 2  # approve, then buy
    assert "eth_signTypedData_v4" not in wallet.calls
    balances = page.locator("#balances").inner_text()
    assert f"{(before + 25 * 10**6) // 10**6}" in balances
    assert page.locator("#error").inner_text() == ""
    screenshot(page, "wallet")
    assert serious_axe_violations(page) == []


def test_driver__cancelling_in_the_wallet_buys_nothing(
        page: Any, app_url: str, network: Network, wallet: InjectedWallet) -> None:
    before = credits_on_chain(network, DRIVER)
    connect(page, app_url)
    wallet.reject_signing = True
    page.fill("#buy-amount", "5")
    page.click("#buy-button")
    page.wait_for_selector("#error:has-text('You cancelled the request in your wallet.')")
    assert credits_on_chain(network, DRIVER) == before
    assert page.locator("#buy-button").is_enabled()


def test_driver__a_revert_is_shown_decoded_before_signing(
        page: Any, app_url: str, network: Network, wallet: InjectedWallet) -> None:
    before = credits_on_chain(network, DRIVER)
    connect(page, app_url)
    page.fill("#buy-amount", "1000000")  # more USD than the driver holds
    page.click("#buy-button")
    error = page.locator("#error")
    error.wait_for()
    page.wait_for_function("document.getElementById('error').textContent.length > 0")
    text = error.inner_text()
    assert "The contract refused: ERC20InsufficientBalance" in text, text
    assert f"needed={1_000_000 * 10**6}" in text
    assert credits_on_chain(network, DRIVER) == before
    # the permit was signed (a signature only); the buy's simulation refused: nothing was sent
    assert wallet.calls.count("eth_sendTransaction") == 0


def test_wallet_on_another_chain__is_told_and_can_switch(
        page: Any, app_url: str, network: Network, wallet: InjectedWallet) -> None:
    wallet.chain_id = 1
    open_app(page, app_url)
    page.click("#connect")
    page.wait_for_function("document.getElementById('error').textContent.length > 0")
    assert page.locator("#error").inner_text() == (
        f"Your wallet is on chain 1; this WattNet network is chain {network.deployment.chain_id}."
        " Switch networks in your wallet.")
    assert page.locator("#buy").is_hidden()
    assert "eth_sendTransaction" not in wallet.calls
    page.click("#switch-chain")  # the wallet is asked to move; the person accepts
    page.wait_for_selector("#buy:not([hidden])")
    assert "wallet_switchEthereumChain" in wallet.calls
    assert page.locator("#error").inner_text() == "" and page.locator("#switch-chain").is_hidden()


def test_read_api__answers_json_a_script_can_use(app_url: str, network: Network) -> None:
    import requests

    config = requests.get(app_url + "api/config", timeout=10).json()
    assert config["chain_id"] == network.deployment.chain_id
    assert config["credits"][0]["symbol"] and config["credits"][0]["decimals"] == 6
    stations = requests.get(app_url + "api/stations", timeout=10).json()
    assert sorted(s["rated_power_w"] for s in stations) == sorted(p for _, _, p, _ in STATIONS)
    sessions = requests.get(app_url + f"api/sessions/{DRIVER}", timeout=10).json()
    assert [(s["session_id"], s["status"]) for s in sessions] == [(2, "pending"), (1, "settled")]
    assert requests.get(app_url + "api/sessions/0x12", timeout=10).status_code == 400


def test_driver__sees_their_sessions_from_the_oracle_store(page: Any, app_url: str) -> None:
    connect(page, app_url)
    rows = page.locator("#sessions tbody tr")
    rows.first.wait_for()
    assert rows.count() == 2
    newest, settled = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    assert "WEB-CP-1" in newest and "waiting for settlement" in newest
    assert "18.50 kWh" in settled and "6.475 USDC" in settled
    assert "settled" in settled and "(block 42)" in settled and "0x5e5e" in settled
    screenshot(page, "sessions")
    assert serious_axe_violations(page) == []
