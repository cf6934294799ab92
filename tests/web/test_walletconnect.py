"""WalletConnect v2 in a real browser, end to end through a local relay (tests/web/wc_relay.py;
the public relay is unreachable here): the app shows the pairing URI and its QR code, a wallet
on the other side (@walletconnect/sign-client in Node, tests/web/wc_wallet.cjs, holding anvil's
dev key 4) pairs and approves the session for the devnet's chain, the app shows the account and
buys credits through it (the wallet signs the permit and sends the transaction); a reload keeps
the session; a refusal in the wallet and an unreachable relay read plainly. Without a
project id: no WalletConnect button, its chunk never loads, no socket is opened."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from aiohttp import web
from eth_account import Account

from wattnet.chain.localnode import free_port
from wattnet.sim.network.node import stop_process

from .pages import screenshot
from .stack import DIST, DRIVER, Network, start_app
from .test_app import credits_on_chain, open_app, serious_axe_violations
from .wallet import InjectedWallet
from .wc_relay import Relay

ROOT = Path(__file__).resolve().parents[2]
MNEMONIC = "test test test test test test test test test test test junk"  # anvil's, public


@pytest.fixture(scope="module")
def relay() -> Iterator[tuple[Relay, str]]:
    """The relay on its own thread and event loop (Playwright's sync API holds this one's)."""
    relay, port, loop, ready = Relay(), free_port(), asyncio.new_event_loop(), threading.Event()
    runner = web.AppRunner(relay.app())

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        ready.set()
        loop.run_forever()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10), "the local relay did not start"
    try:
        yield relay, f"ws://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def wc_app_url(network: Network, relay: tuple[Relay, str],
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc, url = start_app(network, tmp_path_factory.mktemp("wc-app"), extra=(
        "--walletconnect-project-id", "wattnet-test", "--walletconnect-relay-url", relay[1]))
    try:
        yield url
    finally:
        stop_process(proc)


def _watch(page: Any) -> tuple[list[str], list[str]]:
    """Every URL the page asks for and every websocket it opens; anything off this machine is
    refused (the public relay, WalletConnect's verify and telemetry servers)."""
    asked: list[str] = []
    sockets: list[str] = []

    def route(r: Any) -> None:
        asked.append(r.request.url)
        host = urlparse(r.request.url).hostname
        r.continue_() if host in ("127.0.0.1", "localhost") else r.abort()
    page.route("**/*", route)
    page.on("websocket", lambda ws: sockets.append(ws.url))
    return asked, sockets


class NodeWallet:
    """tests/web/wc_wallet.cjs as a subprocess; its JSON lines read as they come."""

    def __init__(self, relay_url: str, rpc_url: str, uri: str, refuse: bool = False) -> None:
        Account.enable_unaudited_hdwallet_features()
        key = Account.from_mnemonic(MNEMONIC, account_path="m/44'/60'/0'/0/4").key
        self.proc = subprocess.Popen(
            ["node", str(Path(__file__).with_name("wc_wallet.cjs")), str(DIST.parent), relay_url,
             rpc_url, "0x" + key.hex().removeprefix("0x"), uri, *(["refuse"] if refuse else [])],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.events: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                self.events.append(json.loads(line))
            except ValueError:  # the libraries' own logging
                self.events.append({"event": "log", "line": line.rstrip()})

    def named(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == event]


def show_pairing(page: Any) -> str:
    """Pick WalletConnect on the open app; the pairing URI the page shows."""
    page.click("#connect-wc")
    page.wait_for_selector("#wc-pairing:not([hidden])", timeout=45_000)
    return str(page.input_value("#wc-uri"))


@contextlib.contextmanager
def paired(page: Any, uri: str, relay_url: str, network: Network,
           refuse: bool = False) -> Iterator[NodeWallet]:
    """The app connected through the session the Node wallet approved, paired with `uri`."""
    other_side = NodeWallet(relay_url, network.rpc_url, uri, refuse)
    try:
        page.wait_for_selector(f"#account:has-text('Connected: {DRIVER}')", timeout=60_000)
        yield other_side
    finally:
        stop_process(other_side.proc)
        print("\nwallet:", other_side.events[-20:])


def test_walletconnect__pairs_through_the_relay_and_buys_credits(
        page: Any, wc_app_url: str, relay: tuple[Relay, str], network: Network,
        wallet: InjectedWallet) -> None:
    asked, sockets = _watch(page)
    open_app(page, wc_app_url)
    assert not any("walletconnect" in u for u in asked), "the WalletConnect chunk loaded early"
    uri = show_pairing(page)
    assert uri.startswith("wc:") and "relay-protocol=irn" in uri and "symKey=" in uri
    assert page.locator("#wc-qr path").get_attribute("d")
    # the app is on the local relay: the proposal is waiting on the pairing topic
    assert relay[0].mailbox[uri[3:].split("@")[0]], "the session proposal never reached the relay"
    assert sockets and all(s.startswith(relay[1]) for s in sockets)
    screenshot(page, "walletconnect-pairing")
    assert serious_axe_violations(page) == []

    before = credits_on_chain(network, DRIVER)
    with paired(page, uri, relay[1], network) as other_side:
        assert other_side.named("approved")[0]["account"] == DRIVER
        assert other_side.named("proposal")[0]["chains"] == [
            f"eip155:{network.deployment.chain_id}"]
        assert page.locator("#connect-wc").is_hidden()
        page.fill("#buy-amount", "2")
        page.click("#buy-button")
        page.wait_for_selector("#status:has-text('Credits bought in')", timeout=60_000)
        answered = [e["method"] for e in other_side.named("answered")]
        assert answered == ["eth_signTypedData_v4", "eth_sendTransaction"], other_side.events
    assert credits_on_chain(network, DRIVER) - before == 2 * 10**6
    assert wallet.calls == []  # the injected wallet was never asked
    assert relay[0].methods["wc_approveSession"] >= 1
    proposals = relay[0].methods["wc_proposeSession"]
    print("\nrefused off this machine:",
          sorted({urlparse(u).hostname for u in asked} - {"127.0.0.1", "localhost"}))
    screenshot(page, "walletconnect-connected")
    assert serious_axe_violations(page) == []
    # a reload keeps the session (the browser's storage): no second pairing
    open_app(page, wc_app_url)
    page.click("#connect-wc")
    page.wait_for_selector(f"#account:has-text('Connected: {DRIVER}')", timeout=30_000)
    assert page.locator("#wc-pairing").is_hidden()
    assert relay[0].methods["wc_proposeSession"] == proposals


def test_walletconnect__the_person_refuses_in_the_wallet__nothing_bought(
        page: Any, wc_app_url: str, relay: tuple[Relay, str], network: Network) -> None:
    before = credits_on_chain(network, DRIVER)
    open_app(page, wc_app_url)
    with paired(page, show_pairing(page), relay[1], network, refuse=True) as other_side:
        page.fill("#buy-amount", "1")
        page.click("#buy-button")
        page.wait_for_selector("#error:has-text('You cancelled the request in your wallet.')",
                               timeout=60_000)
        assert [e["method"] for e in other_side.named("refused")] == ["eth_signTypedData_v4"]
    assert credits_on_chain(network, DRIVER) == before


def test_walletconnect__an_unreachable_relay_is_named(page: Any, wc_app_url: str) -> None:
    dead = f"ws://127.0.0.1:{free_port()}"

    def config(route: Any) -> None:  # the server names a relay nobody listens on
        body = route.fetch().json()
        body["walletconnect"]["relay_url"] = dead
        route.fulfill(json=body)
    page.route("**/api/config", config)
    open_app(page, wc_app_url)
    page.click("#connect-wc")
    page.wait_for_selector(f"#error:has-text('Could not reach the WalletConnect relay ({dead})')",
                           timeout=40_000)
    assert page.locator("#wc-pairing").is_hidden()
    assert page.locator("#connect-wc").is_enabled()


def test_without_a_project_id__no_walletconnect_and_no_relay(page: Any, app_url: str) -> None:
    asked, sockets = _watch(page)
    open_app(page, app_url)
    page.wait_for_timeout(500)
    assert page.locator("#connect-wc").is_hidden()
    assert sockets == []
    assert not any("walletconnect" in u for u in asked)
    assert all(urlparse(u).hostname == "127.0.0.1" for u in asked)
