"""The simulated network published over OCPI 2.2.1 (``wattnet sim network --ocpi``): a
``wattnet ocpi run`` process beside the oracle, on the oracle's database and the deployment's
StationRegistry, and a registration token for one roaming partner (docs/ocpi.md).

Stations and tariffs come from the chain, CDRs from the receipts the oracle settled, live
sessions and EVSE status from the gateways' admin APIs (started with an admin port and a token
for it, ``ADMIN_TOKEN_ENV``); the drivers' sessions are shared with partners
(``share_own_sessions``). A partner registers with the token, then pulls and receives pushes.
``run_network`` hands a :class:`Running` (with the :class:`Published` endpoint) to its
``on_ready`` hook before the first session and to ``on_settled`` once every session settled and
reconciled, before the services stop (the tests' eMSP registers in the first and checks what it
saw against the chain in the second; ``--serve-app`` serves the web app on the live network).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from wattnet.errors import ChainError
from wattnet.params import Params
from wattnet.sim.network.stack import Service, _port_open


@dataclass(frozen=True, slots=True)
class Published:
    versions_url: str
    token_a: str
    config: Path


@dataclass(frozen=True, slots=True)
class Running:
    """The network as it runs once every session settled and reconciled (``run_network``'s
    ``on_settled`` hook): its chain, deployment record, first oracle store and OCPI endpoint."""

    rpc_url: str
    deployment_file: Path
    oracle_db: str
    ocpi: Published | None
    doors: dict[str, list[str]] = field(default_factory=dict)  # gateway app URL -> its cps
    on_call: Callable[[], Coroutine[Any, Any, None]] | None = None  # chargers on call
    admins: list[str] = field(default_factory=list)  # the gateways' admin API URLs
    admin_token: str | None = None  # their token (the run's $WATTNET_GATEWAY_ADMIN_TOKEN)


ADMIN_TOKEN_ENV = "WATTNET_GATEWAY_ADMIN_TOKEN"


def ocpi_config(work: Path, database: str, params: Params, port: int,
                gateways: list[str]) -> Path:
    """ocpi.yaml for the run: every listed stablecoin's credit id, in its own currency; the
    gateways' admin APIs, followed closely (a simulated session lasts a fraction of a second)."""
    currencies = {c.credit_id: {"currency": "EUR" if c.symbol.startswith("EUR") else "USD",
                                "decimals": c.decimals} for c in params.credits.stablecoins}
    cfg = {"country_code": "DE", "party_id": "WAT", "name": "WattNet demo",
           "base_url": f"http://127.0.0.1:{port}", "port": port, "database": database,
           "stations": "web3", "currencies": currencies, "share_own_sessions": True,
           "gateways": [{"url": u, "token_env": ADMIN_TOKEN_ENV} for u in gateways],
           "gateway_poll_s": 1.0, "push_poll_s": 0.5}
    path = work / "ocpi.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def start_ocpi(work: Path, env: dict[str, str], database: str, params: Params,
               gateways: list[str]) -> tuple[Service, Published]:
    """The CPO server, ready, and a token A for one partner; ``gateways``: their admin URLs."""
    svc = Service("ocpi", work, env)
    config = ocpi_config(work, database, params, svc.port, gateways)
    svc.spawn([sys.executable, "-m", "wattnet.cli.main", "ocpi", "run", "--config", str(config)])
    versions = f"http://127.0.0.1:{svc.port}/ocpi/versions"
    svc.wait_ready(lambda: _port_open(svc.port))
    return svc, Published(versions, _token_a(config, env), config)


def _token_a(config: Path, env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, "-m", "wattnet.cli.main", "ocpi", "token-a",
                          "--config", str(config)], env=env, capture_output=True, text=True,
                         timeout=60, check=False)
    found = re.search(r"token A: (\S+)", out.stdout)
    if out.returncode != 0 or found is None:
        raise ChainError(f"wattnet ocpi token-a failed: {(out.stderr or out.stdout)[-500:]}")
    return found.group(1)
