"""The issue's "done when", in a real browser on the demo network (``wattnet sim network
--serve-app``: real anvil, the deployed protocol, gateways, the oracle, virtual chargers on
call): a newcomer's wallet gets test USDC, buys credits, starts a session on a simulator charger
from the app (a signed ChargeRequest the gateway checks, then a remote start), sees it settle,
and verifies its receipt in the browser; a tampered receipt fails to verify, visibly. And nobody
can start a session charged to someone else."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from eth_account import Account
from eth_account.messages import encode_typed_data
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from wattnet.api.devnet import DRIVER

from .pages import VIEWPORTS, screenshot
from .stack import DIST, serve_demo
from .test_app import open_app, serious_axe_violations
from .wallet import INIT_SCRIPT, InjectedWallet

# anvil's dev account 4 (DRIVER): a public test key, printed by anvil at start-up
DRIVER_KEY = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a"
OTHER = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"  # dev account 5


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(app URL, RPC URL) of a small demo network serving the app (3 oracle nodes, as the
    demo)."""
    with serve_demo(tmp_path_factory.mktemp("demo"), chargers=2, drivers=4, seed=5) as urls:
        yield urls


@pytest.fixture
def demo_page(browser: Any, demo: tuple[str, str]) -> Iterator[tuple[Any, InjectedWallet]]:
    wallet = InjectedWallet(demo[1], DRIVER)
    context = browser.new_context(viewport=VIEWPORTS["desktop"])
    context.expose_function("__wattnetWallet", wallet.handle)
    context.add_init_script(INIT_SCRIPT)
    try:
        yield context.new_page(), wallet
    finally:
        context.close()


def _status(page: Any, text: str, timeout_ms: int = 60_000) -> None:
    try:
        page.wait_for_function(
            "([t]) => document.getElementById('status').textContent.includes(t) || "
            "document.getElementById('error').textContent.length > 0", arg=[text],
            timeout=timeout_ms)
    except PlaywrightTimeout:
        pytest.fail(f"waited for {text!r}; the page says: "
                    f"{page.locator('#status').inner_text()!r}")
    assert page.locator("#error").inner_text() == "", page.locator("#error").inner_text()


def test_newcomer__buys_charges_sees_it_settle_and_verifies_the_receipt(
        demo_page: tuple[Any, InjectedWallet], demo: tuple[str, str]) -> None:
    page, wallet = demo_page
    open_app(page, demo[0])
    page.click("#connect")
    page.wait_for_selector("#faucet:not([hidden])")
    page.click("#faucet")
    _status(page, "Test USDC minted")
    page.fill("#buy-amount", "30")
    page.click("#buy-button")
    _status(page, "Credits bought in")
    assert page.locator("#charge-section").is_visible()
    assert page.locator("#charge-station option").count() == 2
    page.fill("#charge-max", "20")
    # the demo's gateways host several operators' chargers and know none: they accept
    # drivers who let every station charge them (an explicit choice, off by default)
    page.check("#charge-any")
    page.click("#charge-button")
    # settled, and where: the tx when the node serving the list relayed it, else the block by
    # which it saw it on chain (an oracle committee's other nodes)
    _status(page, "settled, ", timeout_ms=200_000)
    # signed in the wallet: the stablecoin permit of the buy, then the ChargeRequest
    assert wallet.calls.count("eth_signTypedData_v4") == 2
    row = page.locator("#sessions tbody tr", has_text="settled").first
    row.wait_for()
    assert "waiting" not in row.inner_text()
    row.locator("button.verify").click()
    result = page.locator("#verify-result")
    page.wait_for_function("document.getElementById('verify-result').textContent.includes(':')"
                           " && !document.getElementById('verify-result').textContent"
                           ".includes('Checking')")
    text = result.inner_text()
    assert "verified" in text and "Receipt signature valid" in text, text
    assert "OCMF signatures valid" in text and " 0 of" not in text, text
    assert "On chain: settled" in text, text
    screenshot(page, "charge-verified")
    assert serious_axe_violations(page) == []

    def tamper(route: Any) -> None:  # the server (or anyone between) changes the energy
        body = route.fetch().json()
        body["energyWh"] += 1
        route.fulfill(json=body)

    page.route("**/api/receipts/**", tamper)
    row.locator("button.verify").click()
    page.wait_for_function("document.getElementById('verify-result').textContent"
                           ".includes('FAILED')")
    assert "Receipt signature INVALID" in result.inner_text()
    assert "error" in (result.get_attribute("class") or "")
    screenshot(page, "charge-tampered")


def test_charge_relay__refuses_a_request_signed_for_someone_else(
        demo: tuple[str, str]) -> None:
    config = requests.get(demo[0] + "api/config", timeout=10).json()
    station = config["charge"]["stations"][0]
    message = {"stationId": station, "connectorId": 1, "driver": OTHER, "creditId": 1,
               "maxCost": 10**6, "nonce": 42, "deadline": int(time.time()) + 300}
    typed = {"types": {"EIP712Domain": [
        {"name": "name", "type": "string"}, {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
        "ChargeRequest": [{"name": n, "type": t} for n, t in (
            ("stationId", "bytes32"), ("connectorId", "uint8"), ("driver", "address"),
            ("creditId", "uint256"), ("maxCost", "uint128"), ("nonce", "uint64"),
            ("deadline", "uint40"))]},
        "primaryType": "ChargeRequest", "domain": config["charge"]["domain"], "message": message}
    signed = Account.sign_message(encode_typed_data(full_message=typed), DRIVER_KEY)
    body = {"request": {k: str(v) if isinstance(v, int) else v for k, v in message.items()},
            "signature": "0x" + signed.signature.hex().removeprefix("0x")}
    answer = requests.post(demo[0] + "api/charge", data=json.dumps(body), timeout=30)
    assert answer.status_code == 400
    assert answer.json()["error"] == "ChargeRequest is not signed by its driver"
    # the same request signed by its driver is accepted: the refusal was the signer
    own = dict(message, driver=DRIVER, nonce=43)
    signed = Account.sign_message(encode_typed_data(full_message={**typed, "message": own}),
                                  DRIVER_KEY)
    body = {"request": {k: str(v) if isinstance(v, int) else v for k, v in own.items()},
            "signature": "0x" + signed.signature.hex().removeprefix("0x")}
    answer = requests.post(demo[0] + "api/charge", data=json.dumps(body), timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "Accepted"
    assert Path(DIST / "index.html").is_file()
