"""``wattnet ocpi``: token-a issues a registration token the server accepts once, partners lists
(JSON), run serves until SIGTERM, and a bad config is one line with exit 2."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from wattnet.cli.ocpi import ocpi


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "stations.json").write_text(json.dumps([{
        "station_id": "0x" + "11" * 32, "rated_power_w": 22_000, "connectors": 2,
        "geohash": "u33dc0", "tariffs": {"1": 390_000}}]))
    path = tmp_path / "ocpi.yaml"
    port = free_port()
    path.write_text(yaml.safe_dump({
        "country_code": "DE", "party_id": "WNT", "base_url": f"http://127.0.0.1:{port}",
        "port": port, "database": str(tmp_path / "oracle.sqlite3"),
        "stations": "json:stations.json", "currencies": {1: {"currency": "EUR",
                                                             "decimals": 6}}}))
    return path


def _get(url: str, token: str) -> tuple[int, dict[str, object]]:
    req = urllib.request.Request(url, headers={
        "Authorization": "Token " + base64.b64encode(token.encode()).decode()})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, {}


def test_ocpi_token_a_then_run__serves_versions_to_that_token_only(config: Path) -> None:
    out = CliRunner().invoke(ocpi, ["token-a", "--config", str(config)])
    assert out.exit_code == 0, out.output
    token = out.output.split("token A: ")[1].split()[0]
    versions = out.output.split("versions: ")[1].split()[0]
    proc = subprocess.Popen([sys.executable, "-m", "wattnet.cli.main", "ocpi", "run",
                             "--config", str(config)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, body = _get(versions, token)
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline and proc.poll() is None, proc.stderr
                time.sleep(0.2)
        assert status == 200 and body["status_code"] == 1000
        assert _get(versions, "not-a-token")[0] == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert proc.returncode == 0
    listed = CliRunner().invoke(ocpi, ["partners", "--config", str(config), "--json"])
    assert listed.exit_code == 0 and json.loads(listed.output) == []


def test_ocpi_run__bad_config_exit_2_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "ocpi.yaml"
    path.write_text("country_code: Germany\n")
    proc = subprocess.run([sys.executable, "-m", "wattnet.cli.main", "ocpi", "run", "--config",
                           str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "ocpi config" in lines[0] and "Traceback" not in proc.stderr
