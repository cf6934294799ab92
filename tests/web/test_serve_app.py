"""``make demo APP=1`` (``wattnet sim network --serve-app``): once every session of the simulated
network settled and reconciled, the web app is served on the live network (its chain and the
oracle's store) until Ctrl-C, then the run ends normally with its report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from wattnet.chain.localnode import free_port
from wattnet.sim.network.node import stop_process

from .stack import DIST


def _get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


def test_sim_network_serve_app__the_app_reads_the_live_network_until_ctrl_c(
        tmp_path: Path) -> None:
    assert (DIST / "index.html").is_file(), "run `make app` first"
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "wattnet.cli.main", "sim", "network", "--chargers", "4",
         "--drivers", "8", "--days", "1", "--seed", "2", "--out", str(tmp_path / "out"),
         "--serve-app", "--app-port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=os.environ.copy(),
        start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while True:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
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
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=120)
    finally:
        stop_process(proc)
    text = out.decode()
    assert proc.returncode == 0, text[-2000:]
    assert "WattNet app on the network" in text and "reconciliation differences" in text
