"""kill -9 of the gateway at each step of a session end (THREATS.md, Persistence).

The gateway runs as a real ``wattnet gateway run`` subprocess and SIGKILLs itself at a crash
point; it is restarted without one, the virtual charger reconnects and, if it had no answer,
retransmits its StopTransaction (1.6) or TransactionEvent Ended (2.0.1) with the same message
id. The fake oracle then holds exactly one receipt for the session (a second delivery must be
byte-identical), and session ids never repeat. Every crash point runs on both OCPP versions.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from conftest import CHAIN_ID, DRIVER, PASSPHRASE, PASSWORD, RFID, SETTLEMENT, TARIFF, free_port
from wattnet.domain import OcppVersion
from wattnet.gateway.crashpoints import CRASH_POINTS
from wattnet.sim.chargepoint import SimChargePoint

ROOT = Path(__file__).resolve().parents[3]
CP = "CP16"


class RecordingOracle:
    """Acknowledges receipts; a repeat of a stored body is a duplicate, a different body for
    the same (station, session) is recorded as a conflict."""

    def __init__(self) -> None:
        self.acked: dict[tuple[str, int], str] = {}
        self.deliveries: list[tuple[str, int]] = []
        self.conflicts: list[tuple[str, int]] = []

    async def handle(self, request: web.Request) -> web.Response:
        """``/v1/receipts:batch``: one result per receipt, as the oracle answers."""
        return web.json_response({"results": [self._one(b) for b in await request.json()]})

    def _one(self, body: Any) -> dict[str, str]:
        receipt = body.get("receipt", body)
        key = (str(receipt["stationId"]).lower(), int(receipt["sessionId"]))
        canonical = json.dumps(body, sort_keys=True)
        self.deliveries.append(key)
        if key in self.acked:
            if self.acked[key] != canonical:
                self.conflicts.append(key)
                return {"error": "conflict"}
            return {"status": "duplicate"}
        self.acked[key] = canonical
        return {"status": "accepted"}


class GatewayProcess:
    def __init__(self, tmp: Path, keystore: Path, password_hash: str, oracle_url: str) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.config = tmp / "site.yaml"
        self.config.write_text(yaml.safe_dump({
            "data_dir": str(tmp / "data"), "oracle_url": oracle_url, "chain_id": CHAIN_ID,
            "settlement": SETTLEMENT, "port": self.port, "heartbeat_interval": 60,
            "stations": {CP: {"keystore": str(keystore), "password_hash": password_hash,
                              "tariffs": {1: TARIFF}}},
        }))
        self.credits = tmp / "credits.yaml"
        self.credits.write_text(yaml.safe_dump({"accounts": [{
            "driver": DRIVER, "credit_id": 1, "balance": 10_000_000,
            "per_session_cap": 5_000_000, "daily_cap": 8_000_000, "spent_today": 0, "day": 0,
            "id_tokens": [RFID]}]}))
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self, crashpoint: str | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WATTNET_CRASHPOINT")}
        env["PYTHONPATH"] = str(ROOT / "src")
        env["WATTNET_KEYSTORE_PASSPHRASE"] = PASSPHRASE
        if crashpoint:
            env["WATTNET_CRASHPOINT"] = crashpoint
        log = (self.tmp / "gateway.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from wattnet.cli.main import main; main()", "gateway", "run",
             "--config",
             str(self.config), "--credits", str(self.credits)],
            env=env, stdout=log, stderr=log, cwd=self.tmp)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "gateway died on start:\n" + self.log()
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                await asyncio.sleep(0.05)
        raise AssertionError("gateway did not start:\n" + self.log())

    async def wait_killed(self, timeout: float = 10) -> int:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            assert time.monotonic() < deadline, "crash point not reached:\n" + self.log()
            await asyncio.sleep(0.02)
        return self.proc.returncode

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self) -> str:
        path = self.tmp / "gateway.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


async def until(cond: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201])
@pytest.mark.parametrize("point", CRASH_POINTS)
def test_kill9_at_crash_point(point: str, version: OcppVersion, tmp_path: Path, keystore: Path,
                              password_hash: str) -> None:
    oracle = RecordingOracle()
    oracle_port = free_port()
    gw = GatewayProcess(tmp_path, keystore, password_hash, f"http://127.0.0.1:{oracle_port}")

    async def scenario() -> None:
        app = web.Application()
        app.router.add_post("/v1/receipts:batch", oracle.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", oracle_port).start()
        cp: SimChargePoint | None = None
        try:
            await gw.start(crashpoint=point)
            cp = SimChargePoint(f"ws://127.0.0.1:{gw.port}/ocpp", CP, version,
                                password=PASSWORD, timeout_s=5)
            await cp.connect()
            await cp.boot()
            assert await cp.start(RFID) == "Accepted"
            await cp.meter_values(3_000)
            stop = asyncio.ensure_future(cp.stop())
            assert await gw.wait_killed() == -9
            await asyncio.sleep(0.1)  # let a reply already in the socket reach the charger
            answered = stop.done() and stop.exception() is None
            if not stop.done():
                stop.cancel()
            if point in ("after_stop_received_before_store", "after_store_before_reply"):
                assert not answered  # the gateway died before answering
            # nothing acknowledged by the oracle may be lost nor differ after the restart
            before = dict(oracle.acked)

            await gw.start()
            await cp.reconnect()
            if not answered:  # an OCPP charger retransmits its unanswered call, same id
                ended = "StopTransaction" if version == OcppVersion.V16 else "TransactionEvent"
                reply = await cp.replay_last(ended)
                assert reply is not None and reply[0] == 3, reply
            await until(lambda: len(oracle.acked) >= 1, 15,
                        "receipt lost:\n" + gw.log())
            await asyncio.sleep(0.3)  # a second (duplicate) delivery would show up now
            assert all(oracle.acked[k] == v for k, v in before.items())
            first = set(oracle.acked)

            # the station's session ids go on from there: a new session gets a new id
            assert await cp.start(RFID) == "Accepted"
            await cp.meter_values(2_000)
            await cp.stop()
            await until(lambda: len(oracle.acked) >= 2, 15, "second receipt lost")
        finally:
            if cp is not None:
                await cp.close()
            gw.stop()
            await runner.cleanup()

        assert oracle.conflicts == [], "two different receipts for one session"
        assert len(first) == 1, first  # exactly one receipt for the killed session
        ids = [sid for _, sid in oracle.acked]
        assert len(ids) == 2 and len(set(ids)) == 2, ids
        (killed,) = first
        killed_id = killed[1]
        if point == "after_forward_before_ack_recorded":  # acked, not recorded: sent again
            assert oracle.deliveries.count(killed) == 2, oracle.deliveries
        assert max(ids) > killed_id, ids  # never reused

    asyncio.run(asyncio.wait_for(scenario(), 50))
