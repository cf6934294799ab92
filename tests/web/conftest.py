"""Browser tests of the web app: headless Debian chromium driven by Playwright against a real
anvil with the protocol deployed (tests/web/stack.py). Needs the built app (app/dist) and the
system browser; a missing one is an error that says what to install, never a silent skip."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from wattnet.sim.network.node import stop_process

from .pages import VIEWPORTS
from .stack import DRIVER, Network, devnet, seed_sessions, start_app
from .wallet import INIT_SCRIPT, InjectedWallet


@pytest.fixture(scope="session")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with devnet(tmp_path_factory.mktemp("web")) as net:
        yield net


@pytest.fixture(scope="session")
def app_url(network: Network, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("app")
    seed_sessions(work / "oracle.sqlite")
    proc, url = start_app(network, work, oracle_db=work / "oracle.sqlite")
    try:
        yield url
    finally:
        stop_process(proc)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium")
    if exe is None:
        pytest.fail("no system chromium: `apt-get install -y chromium` (make setup does it)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def wallet(network: Network) -> InjectedWallet:
    return InjectedWallet(network.rpc_url, DRIVER)


@pytest.fixture
def page(browser: Any, wallet: InjectedWallet) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORTS["desktop"])
    context.expose_function("__wattnetWallet", wallet.handle)
    context.add_init_script(INIT_SCRIPT)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()
