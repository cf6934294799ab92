"""The running stack for the end-to-end tests: a real gateway (in-process, on a free port, with
the chain-backed credit source), a real oracle process (``python -m wattnet.oracle run`` with
the web3 adapters), virtual chargers with their own clocks, and a block miner for confirmations.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from web3 import HTTPProvider, Web3

from wattnet.chain.localnode import free_port
from wattnet.domain import OcppVersion
from wattnet.oracle.store import open_store
from wattnet.sim.chargepoint import SimChargePoint
from wattnet.sim.chargepoint.meter import SimMeter

PASSWORD = "e2e-station-password-0001"
STEP_S = 600  # virtual seconds between meter values
STEPS = 3


class VirtualClock:
    """A charger's clock: moves only when the scenario says so (sessions of half an hour take
    milliseconds), starting after the stations were registered."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@dataclass(frozen=True)
class Session:
    cp_id: str
    id_token: str
    energy_wh: int


@dataclass
class OracleProcess:
    """The oracle as operators run it; ``crashpoint`` arms WATTNET_CRASHPOINT for one start."""

    workdir: Path
    config: dict[str, Any]
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    exits: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database(self) -> str:
        return str(self.config["database"])

    def start(self, crashpoint: str | None = None) -> None:
        path = self.workdir / "oracle.json"
        path.write_text(json.dumps({**self.config, "port": self.port}))
        env = {**os.environ, **self.env}
        env.pop("WATTNET_CRASHPOINT", None)
        if crashpoint:
            env["WATTNET_CRASHPOINT"] = crashpoint
        log = (self.workdir / "oracle.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wattnet.oracle", "run", "--config", str(path)],
            env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"oracle exited at start:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise AssertionError(f"oracle did not come up:\n{self.log()}")

    def died(self) -> bool:
        if self.proc is None or self.proc.poll() is None:
            return False
        self.exits.append(int(self.proc.returncode))
        self.proc = None
        return True

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def counts(self) -> dict[str, int]:
        store = open_store(self.database)
        try:
            return store.counts()
        finally:
            store.close()

    def log(self) -> str:
        path = self.workdir / "oracle.log"
        return path.read_text(errors="replace")[-6000:] if path.exists() else ""


class Miner(threading.Thread):
    """Mines an empty block every ``every`` seconds so that settlements get confirmations."""

    def __init__(self, rpc_url: str, every: float = 0.25) -> None:
        super().__init__(daemon=True, name="e2e-miner")
        self.w3 = Web3(HTTPProvider(rpc_url))
        self.every = every
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(self.every):
            self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=5)


async def charge(cp: SimChargePoint, clock: VirtualClock, session: Session) -> None:
    """Plug in, authorize, start, meter values every STEP_S virtual seconds, stop."""
    assert await cp.authorize(session.id_token) == "Accepted", session
    assert await cp.start(session.id_token) == "Accepted", session
    left = session.energy_wh
    for step in range(STEPS):
        clock.t += STEP_S
        add = left if step == STEPS - 1 else session.energy_wh // STEPS
        left -= add
        await cp.meter_values(add)
    assert not cp.stop_requested.is_set(), "the gateway stopped a session the driver can pay"
    clock.t += 60
    await cp.stop(id_token=session.id_token)
    clock.t += 120  # the next session on this connector starts after this one ended


async def run_charger(url: str, cp_id: str, version: OcppVersion, start: float,
                      sessions: list[Session], meter: SimMeter | None = None) -> None:
    clock = VirtualClock(start)
    cp = SimChargePoint(url, cp_id, version, password=PASSWORD, clock=clock, meter=meter)
    await cp.connect()
    try:
        await cp.boot()
        for s in sessions:
            await charge(cp, clock, s)
    finally:
        await cp.close()


def session_span_s(per_charger: int) -> int:
    return per_charger * (STEPS * STEP_S + 180)
