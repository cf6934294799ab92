"""``make demo APP=1`` (``wattnet sim network --serve-app``): once every session of the simulated
network settled and reconciled, the web app is served on the live network (its chain and the
oracle's store) until Ctrl-C, then the run ends normally with its report."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from wattnet.api.devnet import DEV_ACCOUNTS_USD
from wattnet.chain.localnode import free_port
from wattnet.sim.network.node import stop_process

from .stack import DIST


def _get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


DEV_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # anvil's dev account 0


def _balance(rpc: str, token: str, holder: str) -> int:
    data = "0x70a08231" + holder[2:].lower().rjust(64, "0")  # balanceOf(address)
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_call",
                       "params": [{"to": token, "data": data}, "latest"]}).encode()
    req = urllib.request.Request(rpc, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return int(json.loads(resp.read())["result"], 16)


def test_sim_network_serve_app__the_app_reads_the_live_network_until_ctrl_c(
        tmp_path: Path) -> None:
    assert (DIST / "index.html").is_file(), "run `make app` first"
    port = free_port()
    log = tmp_path / "out.txt"
    proc = subprocess.Popen(
        [sys.executable, "-m", "wattnet.cli.main", "sim", "network", "--chargers", "4",
         "--drivers", "8", "--days", "1", "--seed", "2", "--out", str(tmp_path / "out"),
         "--serve-app", "--app-port", str(port)],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, env=os.environ.copy(),
        start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while True:
            assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
            try:
                stations = _get(f"http://127.0.0.1:{port}/api/stations")
                break
            except OSError:
                assert time.monotonic() < deadline, "the app never came up"
                time.sleep(1)
        assert isinstance(stations, list) and len(stations) == 4
        network = _get(f"http://127.0.0.1:{port}/api/network")
        assert isinstance(network, dict) and network["stations_active"] == 4
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
            assert b"<html" in resp.read().lower()
        # a newcomer's wallet: the network's RPC is printed, anvil's dev accounts hold test USDC
        rpc = re.search(r"RPC (http://\S+),", log.read_text()).group(1)  # type: ignore[union-attr]
        config = _get(f"http://127.0.0.1:{port}/api/config")
        assert isinstance(config, dict)
        coin = config["credits"][0]["token"]  # credit id 1's stablecoin, a mock with a mint here
        assert coin in config["test_tokens"] and _balance(rpc, coin, DEV_0) == DEV_ACCOUNTS_USD
        # live availability from the run's gateways: their chargers are on call (AVAILABLE)
        deadline = time.monotonic() + 60
        while True:
            live = _get(f"http://127.0.0.1:{port}/api/availability")
            assert isinstance(live, dict) and live["gateways"] >= 1
            seen = {status for connectors in live["stations"].values() for status in connectors}
            if "AVAILABLE" in seen:
                break
            assert time.monotonic() < deadline, live
            time.sleep(1)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
    finally:
        stop_process(proc)
    text = log.read_text(errors="replace")
    assert proc.returncode == 0, text[-2000:]
    assert "WattNet app on the network" in text and "reconciliation differences" in text
