"""``wattnet app --walletconnect-*``: what /api/config tells the browser, the refusals of bad
options (one line, exit 2), and that a remote node's URL is never published unasked."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from wattnet.api.walletconnect import WalletConnect, walletconnect_config
from wattnet.chain.deployments import Deployment
from wattnet.errors import ConfigError

LOCAL = "http://127.0.0.1:8545"


def test_walletconnect_config__off_without_a_project_id() -> None:
    assert walletconnect_config(None, None, None, LOCAL) is None


def test_walletconnect_config__a_local_node_is_the_default_read_url() -> None:
    assert walletconnect_config("p1", "wss://relay.example", None, LOCAL) == \
        WalletConnect("p1", "wss://relay.example", LOCAL)
    assert walletconnect_config("p1", None, "https://rpc.example", LOCAL) == \
        WalletConnect("p1", None, "https://rpc.example")


def test_walletconnect_config__a_remote_node_is_not_published() -> None:
    with pytest.raises(ConfigError, match="pass --walletconnect-rpc-url"):
        walletconnect_config("p1", None, None, "https://eth.example/v3/SECRETKEY")


@pytest.mark.parametrize(("project", "relay", "rpc", "says"), [
    ("p1", "https://relay.example", None, "not a ws:// or wss:// URL"),
    ("p1", None, "ws://rpc.example", "not an http(s) URL"),
    (None, "wss://relay.example", None, "need --walletconnect-project-id"),
])
def test_walletconnect_config__bad_options_are_refused(
        project: str | None, relay: str | None, rpc: str | None, says: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(says)):
        walletconnect_config(project, relay, rpc, LOCAL)


def test_wattnet_app__a_bad_relay_url_exits_2_with_one_line(tmp_path: Path) -> None:
    dep = tmp_path / "local.json"  # checked before the node is asked anything
    dep.write_text(json.dumps(Deployment("ethereum", "local", 31337, 0, {}).to_json()))
    proc = subprocess.run([sys.executable, "-m", "wattnet.cli.main", "app", "--deployment",
                           str(dep), "--rpc-url", "http://127.0.0.1:9",
                           "--walletconnect-project-id", "p1",
                           "--walletconnect-relay-url", "http://relay.example"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "is not a ws:// or wss:// URL" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
