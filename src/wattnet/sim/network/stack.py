"""The services of a simulated network as operators run them, each in its own process: gateways
(``wattnet gateway run`` with the chain-backed credit source) and the oracle
(``python -m wattnet.oracle run`` with the web3 adapters). Each process gets its own session, so
a terminal's Ctrl-C reaches only the simulator, which stops them in order.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from eth_account import Account

from wattnet.chain.deployments import ENV_DEPLOYMENT, ENV_ROOT, project_root
from wattnet.chain.localnode import free_port
from wattnet.chain.web3_client import ENV_RPC_URL
from wattnet.errors import ChainError
from wattnet.gateway.security import hash_password
from wattnet.sim.chargepoint.meter import SimMeter
from wattnet.sim.network.node import stop_process
from wattnet.sim.network.plan import Charger

PASSWORD = "wattnet-sim-station-password"
KEY_PASSPHRASE = "wattnet-sim-keystore"
PASSPHRASE_ENV = "WATTNET_SIM_KEYSTORE_PASSPHRASE"


def service_env(rpc_url: str, deployment_file: Path) -> dict[str, str]:
    return {**os.environ, ENV_RPC_URL: rpc_url, ENV_DEPLOYMENT: str(deployment_file),
            ENV_ROOT: str(project_root()), PASSPHRASE_ENV: KEY_PASSPHRASE,
            "PYTHONUNBUFFERED": "1"}


def write_keystore(path: Path, key: bytes) -> None:
    path.write_text(json.dumps(Account.encrypt(key, KEY_PASSPHRASE, kdf="scrypt",
                                               iterations=2**2)))


@dataclass
class Service:
    """One service process: its command, log, and how to tell it is up."""

    name: str
    workdir: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    app_port: int | None = None  # a gateway's front door for app drivers' ChargeRequests
    proc: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def log_tail(self, chars: int = 3000) -> str:
        path = self.log_path
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def spawn(self, cmd: list[str]) -> None:
        profile = os.environ.get("WATTNET_SIM_PROFILE_DIR")  # for profiling the services
        if profile and cmd[:2] == [sys.executable, "-m"]:
            cmd = [sys.executable, "-m", "cProfile", "-o",
                   str(Path(profile) / f"{self.name}.prof"), "-m", *cmd[2:]]
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     cwd=str(project_root()), start_new_session=True)
        log.close()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def check(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise ChainError(f"{self.name} exited ({self.proc.returncode}); its log "
                             f"{self.log_path} ends with:\n{self.log_tail()}")

    def wait_ready(self, probe: Any, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.check()
            if probe():
                return
            time.sleep(0.1)
        raise ChainError(f"{self.name} did not come up within {timeout_s:.0f} s; see "
                         f"{self.log_path}")

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except (urllib.error.URLError, OSError):
        return False


def _port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


def oracle_config(workdir: Path, chain_id: int, settlement: str, database: str,
                  future_skew_s: int, port: int) -> dict[str, Any]:
    """Settings for a simulation: batches as large as anvil's big blocks take, settled as soon
    as mined (anvil mines every transaction at once and never reorgs)."""
    return {
        "chain_id": chain_id, "settlement_contract": settlement, "database": database,
        "port": port, "host": "127.0.0.1",
        "chain": "wattnet.oracle.chain_web3:oracle_chain",
        "directory": "wattnet.oracle.chain_web3:station_directory",
        "directory_ttl_s": 3600,
        "keystore": str(workdir / "oracle-key.json"), "keystore_passphrase_env": PASSPHRASE_ENV,
        "max_batch_items": 20_000,
        # anvil's gas limit fits the worst-case bound: no second execution of every batch.
        "estimate_gas": False,
        # Receipts carry chain time, which runs ahead of the wall clock in a simulation.
        "plausibility": {"future_skew_s": future_skew_s},
        "batcher": {"min_batch": 400, "max_batch": 1500, "max_age_s": 0.25,
                    "confirmations": 1, "poll_interval_s": 0.05, "resubmit_after_s": 30.0,
                    "revert_backoff_s": 1.0, "max_revert_backoff_s": 16.0},
    }


def committee_configs(base: dict[str, Any], workdirs: list[Path], committee: str,
                      round_s: float = 5.0, gossip: bool = False) -> list[dict[str, Any]]:
    """One oracle config per committee node: its own database, key and port; the others as
    peers. Batches wait for fewer receipts: each is a vote among the nodes too. No gossip by
    default: the gateways post every receipt to every node."""
    ports = [free_port() for _ in workdirs]
    out = []
    for i, work in enumerate(workdirs):
        peers = [f"http://127.0.0.1:{p}" for j, p in enumerate(ports) if j != i]
        out.append({**base, "port": ports[i], "database": str(work / "oracle.db"),
                    "keystore": str(work / "oracle-key.json"),
                    "chain": "wattnet.oracle.committee_web3:committee_chain",
                    "committee": {"contract": committee, "peers": peers, "round_s": round_s,
                                  "request_timeout_s": 10.0, "gossip": gossip}})
    return out


def start_oracle(workdir: Path, env: dict[str, str], oracle_key: bytes,
                 config: dict[str, Any], name: str = "oracle") -> Service:
    workdir.mkdir(parents=True, exist_ok=True)
    write_keystore(workdir / "oracle-key.json", oracle_key)
    svc = Service(name, workdir, env, port=int(config["port"]))
    path = workdir / "oracle.json"
    path.write_text(json.dumps(config, indent=2))
    svc.spawn([sys.executable, "-m", "wattnet.oracle", "run", "--config", str(path)])
    svc.wait_ready(lambda: _http_ok(f"http://127.0.0.1:{svc.port}/healthz"))
    return svc


def start_gateway(workdir: Path, env: dict[str, str], index: int, chargers: list[Charger],
                  oracle_url: str | list[str], chain_id: int, settlement: str, credit_id: int,
                  future_skew_s: int = 300, admin_port: int | None = None) -> Service:
    """One site: its stations' keystores and config, then ``wattnet gateway run``.
    ``oracle_url``: the oracle, or every committee node (each receipt is posted to all).
    ``future_skew_s``: how far ahead of wall time (chain time runs ahead) readings may be.
    ``admin_port``: serve the admin API there (its token in $WATTNET_GATEWAY_ADMIN_TOKEN)."""
    site = workdir / f"gateway-{index}"
    (site / "keys").mkdir(parents=True, exist_ok=True)
    password_hash = hash_password(PASSWORD, n=2**4)
    stations = {}
    for c in chargers:
        keystore = site / "keys" / f"{c.cp_id}.json"
        write_keystore(keystore, c.key)
        stations[c.cp_id] = {"security_profile": 1, "password_hash": password_hash,
                             "keystore": str(keystore), "tariffs": {credit_id: c.tariff},
                             "rated_power_w": c.rated_power_w, "connectors": 1,
                             "meter_public_key": SimMeter(key=c.meter_key()).public_key_xy_hex(),
                             "meter_serial": c.meter_serial,
                             "meter_certified": True}  # populate certifies every meter
    svc = Service(f"gateway-{index}", workdir, env, app_port=free_port())
    config = {"data_dir": str(site / "data"), "oracle_url": oracle_url, "chain_id": chain_id,
              "settlement": settlement, "host": "127.0.0.1", "port": svc.port,
              "app_port": svc.app_port,
              "passphrase_env": PASSPHRASE_ENV, "heartbeat_interval": 3600,
              "credit_refresh_s": 300.0, "meter_future_skew_s": future_skew_s,
              "stations": stations}
    if admin_port is not None:
        config["admin_port"] = admin_port
    path = site / "site.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    svc.spawn([sys.executable, "-m", "wattnet.cli.main", "gateway", "run", "--config", str(path),
               "--credit-source", "wattnet.gateway.credits_chain:credit_source"])
    svc.wait_ready(lambda: _port_open(svc.port))
    return svc
