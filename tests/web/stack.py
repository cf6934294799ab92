"""The browser tests' network (:mod:`wattnet.api.devnet`) and ``wattnet app`` serving the
built app against it, in its own process as a person would start it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from wattnet.api.devnet import DRIVER, DRIVER_USD, STATIONS, Network, start_network
from wattnet.chain.localnode import free_port

__all__ = ["DIST", "DRIVER", "DRIVER_USD", "STATIONS", "Network", "start_app", "start_network"]

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "app" / "dist"


def start_app(net: Network, work: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = (work / "app.log").open("wb")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "wattnet.cli.main", "app", "--deployment", str(net.deployment_file),
         "--rpc-url", net.rpc_url, "--port", str(port), "--dist", str(DIST)],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"wattnet app exited: {(work / 'app.log').read_text()[-2000:]}")
        try:
            if requests.get(url + "healthz", timeout=2).ok:
                return proc, url
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("wattnet app did not answer within 60 s")
