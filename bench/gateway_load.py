"""Gateway load benchmark: N simulated chargers held by one gateway process.

Two processes, one per core: the gateway (the real ``wattnet.gateway`` stack: Basic Auth
handshake, the ``ocpp`` library's schema validation, transactions, reservations) pinned to CPU 0,
and a lean load generator (raw asyncio WebSocket client frames, valid OCPP 1.6-J) pinned to CPU 1.
Each charger connects, boots, starts a transaction, then sends MeterValues every 10 s at a random
phase; the generator measures each CallResult's round trip.

    python bench/gateway_load.py [--levels 2000,5000,10000] [--measure 40]

Halfway through each measurement window, a burst of 50 wrong-password handshakes arrives at
once (half for a station whose password hash has the production scrypt cost, half for unknown
ids); the p99 of the chargers' round trips sent during the burst is reported separately, with
the p99 of an equally long window just before it (the move is the difference; on a shared
machine the absolute figures carry the other tenants' load).

Prints one line per level, and last exactly ``gateway_chargers=<N> p99_ms=<M>``,
``gateway_p99_ms_before_auth_burst=<B>`` and ``gateway_p99_ms_under_auth_burst=<M>`` for the
largest level.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import logging
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PASSWORD = "bench-password-0123456789"
PASSPHRASE = "bench"
INTERVAL_S = 10.0
BURST = 50  # wrong-password handshakes
AUTH_CP = "CPAUTH"  # a station with the production scrypt cost (the burst's target)


def raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and cpu < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {cpu})


# ---------------------------------------------------------------- gateway side
def serve(n: int, port: int, data: Path) -> None:
    pin(0)
    raise_fd_limit()
    logging.basicConfig(level=logging.WARNING)
    from wattnet.domain import DriverAccount
    from wattnet.gateway.config import GatewayConfig, StationConfig
    from wattnet.gateway.credits import InMemoryCreditSource
    from wattnet.gateway.security import hash_password
    from wattnet.gateway.server import Gateway
    from wattnet.gateway.signer import KeystoreSigner, new_keystore

    ks = data / "key.json"
    if not ks.exists():
        new_keystore(ks, PASSPHRASE, scrypt_n=2**4)
    pw_hash = hash_password(PASSWORD, n=2**4)
    stations = {
        f"CP{i:05d}": StationConfig(f"CP{i:05d}", 1, ks, pw_hash, {1: 350_000}) for i in range(n)
    }
    stations[AUTH_CP] = StationConfig(AUTH_CP, 1, ks, hash_password(PASSWORD), {1: 350_000})
    cfg = GatewayConfig(
        data_dir=data,
        oracle_url="http://127.0.0.1:9",
        chain_id=31337,
        settlement="0x00000000000000000000000000000000000000Aa",
        stations=stations,
        port=port,
        heartbeat_interval=300,
    )
    source = InMemoryCreditSource()
    for i in range(n):
        source.put(DriverAccount(f"0x{i + 1:040x}", 1, 10**15, 10**14, 10**15, 0, 0), f"TAG{i:05d}")
    signer = KeystoreSigner.from_file(ks, PASSPHRASE)
    gw = Gateway(cfg, source, {cp: signer for cp in stations}, forward=False)

    stalls: list[tuple[float, float]] = []  # (when, event-loop lag in s)
    gc_pauses: list[tuple[float, int, float]] = []  # (when, generation, duration in s)
    gc_started = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            gc_pauses.append((time.time(), info["generation"],
                              time.perf_counter() - gc_started[0]))

    cpu_marks: list[tuple[float, float]] = []  # (when, CPU seconds of the loop's thread)

    async def watch_lag() -> None:
        loop = asyncio.get_running_loop()
        while True:
            t = loop.time()
            await asyncio.sleep(0.01)
            lag = loop.time() - t - 0.01
            if lag > 0.05:
                stalls.append((time.time(), lag))
            if not cpu_marks or time.time() - cpu_marks[-1][0] >= 0.5:
                cpu_marks.append((time.time(), time.thread_time()))

    def report(*_: object) -> None:
        big_gc = [p for p in gc_pauses if p[2] > 0.02]
        print(json.dumps({"loop_stalls_over_50ms": stalls[-10:], "gc_over_20ms": big_gc[-10:],
                          "loop_cpu_marks": cpu_marks[-200:]}),
              file=sys.stderr, flush=True)

    async def main() -> None:
        await gw.start()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGUSR1, gw.freeze_heap)
        loop.add_signal_handler(signal.SIGUSR2, report)
        gc.callbacks.append(on_gc)
        lag_task = asyncio.create_task(watch_lag())
        done = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, done.set)
        print("READY", flush=True)
        await done.wait()
        lag_task.cancel()
        gw.auth.close()  # the hashing process ends with us (it outlived SIGTERM before)

    asyncio.run(main())


# ---------------------------------------------------------------- load generator
class WsClient(asyncio.Protocol):
    """A minimal RFC 6455 client: handshake, masked text frames out, unmasked frames in."""

    def __init__(self, cp_id: str, stats: Stats) -> None:
        from websockets.speedups import apply_mask

        self._mask = apply_mask
        self.cp_id = cp_id
        self.stats = stats
        self.buf = bytearray()
        self.open = asyncio.get_running_loop().create_future()
        self.pending: dict[str, tuple[float, asyncio.Future[list[object]] | None]] = {}
        self.transport: asyncio.Transport | None = None
        self.handshaken = False
        self.seq = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        auth = base64.b64encode(f"{self.cp_id}:{PASSWORD}".encode()).decode()
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            (
                f"GET /ocpp/{self.cp_id} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"Sec-WebSocket-Protocol: ocpp1.6\r\nAuthorization: Basic {auth}\r\n\r\n"
            ).encode()
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self.stats.closed += 1
        if not self.open.done():
            self.open.set_exception(ConnectionError("closed during handshake"))

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.handshaken:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end])
            del self.buf[: end + 4]
            if not head.startswith(b"HTTP/1.1 101"):
                self.open.set_exception(ConnectionError(head.split(b"\r\n")[0].decode()))
                return
            self.handshaken = True
            self.open.set_result(None)
        while len(self.buf) >= 2:
            b1 = self.buf[1] & 0x7F
            off = 2
            if b1 == 126:
                if len(self.buf) < 4:
                    return
                b1, off = int.from_bytes(self.buf[2:4], "big"), 4
            elif b1 == 127:
                if len(self.buf) < 10:
                    return
                b1, off = int.from_bytes(self.buf[2:10], "big"), 10
            if len(self.buf) < off + b1:
                return
            opcode = self.buf[0] & 0x0F
            payload = bytes(self.buf[off : off + b1])
            del self.buf[: off + b1]
            if opcode == 1:
                self._on_text(payload)

    def _on_text(self, payload: bytes) -> None:
        now = time.perf_counter()
        msg = json.loads(payload)
        if msg[0] == 2:  # a call from the gateway: answer it (e.g. RemoteStop)
            self.send(json.dumps([3, msg[1], {"status": "Accepted"}]))
            return
        entry = self.pending.pop(msg[1], None)
        if entry is None:
            return
        sent_at, fut = entry
        if msg[0] == 4:
            self.stats.errors += 1
        if fut is not None:
            fut.set_result(msg)
        elif self.stats.measuring:
            self.stats.rtts.append(now - sent_at)
            self.stats.sent_at.append(sent_at)

    def send(self, text: str) -> None:
        data = text.encode()
        n = len(data)
        if n < 126:
            head = bytes([0x81, 0x80 | n])
        elif n < 65536:
            head = bytes([0x81, 0xFE]) + n.to_bytes(2, "big")
        else:
            head = bytes([0x81, 0xFF]) + n.to_bytes(8, "big")
        mask = os.urandom(4)
        assert self.transport is not None
        self.transport.write(head + mask + self._mask(data, mask))

    def call(self, action: str, payload: str, wait: bool) -> asyncio.Future[list[object]] | None:
        self.seq += 1
        uid = f"{self.seq}"
        fut = asyncio.get_running_loop().create_future() if wait else None
        self.pending[uid] = (time.perf_counter(), fut)
        self.send(f'[2,"{uid}","{action}",{payload}]')
        return fut


class Stats:
    def __init__(self) -> None:
        self.rtts: list[float] = []
        self.sent_at: list[float] = []
        self.errors = 0
        self.closed = 0
        self.measuring = False
        self.sent = 0
        self.protos: list[WsClient] = []


async def wrong_password(port: int, cp_id: str, i: int) -> int:
    """One handshake with a wrong password; returns the HTTP status."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    auth = base64.b64encode(f"{cp_id}:wrong-password-{i:08d}".encode()).decode()
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (f"GET /ocpp/{cp_id} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
         f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
         f"Sec-WebSocket-Protocol: ocpp1.6\r\nAuthorization: Basic {auth}\r\n\r\n").encode())
    try:
        status = await asyncio.wait_for(reader.readline(), 60)
    finally:
        writer.close()
    return int(status.split()[1]) if status else 0


async def auth_burst(port: int) -> tuple[float, float, list[int]]:
    """BURST wrong-password handshakes at once; (start, end, statuses)."""
    t0 = time.perf_counter()
    ids = [AUTH_CP if i % 2 == 0 else f"NOBODY{i:03d}" for i in range(BURST)]
    statuses = await asyncio.gather(*(wrong_password(port, cp, i) for i, cp in enumerate(ids)),
                                    return_exceptions=True)
    return t0, time.perf_counter(), [s if isinstance(s, int) else -1 for s in statuses]


def iso_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


async def charger(
    i: int, port: int, stats: Stats, sem: asyncio.Semaphore, ready: list[int], stop: asyncio.Event
) -> None:
    loop = asyncio.get_running_loop()
    cp_id = f"CP{i:05d}"
    async with sem:
        for attempt in range(5):
            try:
                _, proto = await loop.create_connection(
                    lambda: WsClient(cp_id, stats), "127.0.0.1", port
                )
                stats.protos.append(proto)
                await asyncio.wait_for(proto.open, 30)
                break
            except (OSError, ConnectionError, TimeoutError):
                await asyncio.sleep(0.5 * (attempt + 1))
        else:
            return
        boot = proto.call(
            "BootNotification", '{"chargePointVendor":"Bench","chargePointModel":"Load"}', True
        )
        assert boot is not None
        await asyncio.wait_for(boot, 60)
        start = proto.call(
            "StartTransaction",
            json.dumps(
                {"connectorId": 1, "idTag": f"TAG{i:05d}", "meterStart": 0, "timestamp": iso_now()},
                separators=(",", ":"),
            ),
            True,
        )
        assert start is not None
        tx = (await asyncio.wait_for(start, 60))[2]["transactionId"]  # type: ignore[index]
    ready[0] += 1
    register = 0
    await asyncio.sleep(random.random() * INTERVAL_S)
    next_at = loop.time()
    while not stop.is_set():
        register += 30
        payload = (
            f'{{"connectorId":1,"transactionId":{tx},"meterValue":[{{"timestamp":"{iso_now()}",'
            f'"sampledValue":[{{"value":"{register}","measurand":'
            '"Energy.Active.Import.Register","unit":"Wh"}]}]}')
        proto.call("MeterValues", payload, False)
        stats.sent += 1
        next_at += INTERVAL_S
        await asyncio.sleep(max(0.0, next_at - loop.time()))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(n: int, port: int, gw_pid: int, warmup: float, measure: float) -> dict[str, float]:
    stats = Stats()
    sem = asyncio.Semaphore(200)
    ready = [0]
    stop = asyncio.Event()
    t0 = time.perf_counter()
    tasks = [asyncio.create_task(charger(i, port, stats, sem, ready, stop)) for i in range(n)]
    while ready[0] < n and time.perf_counter() - t0 < 300:
        await asyncio.sleep(0.5)
    ramp = time.perf_counter() - t0
    await asyncio.sleep(warmup)
    os.kill(gw_pid, signal.SIGUSR1)  # gc.freeze in the gateway after warm-up
    # The generator is the measuring instrument: keep its own GC pauses out of the figures.
    gc.collect()
    gc.freeze()
    gc.disable()
    await asyncio.sleep(3)
    cpu0 = cpu_seconds(gw_pid)
    stats.measuring = True
    await asyncio.sleep(measure / 2)
    wall0 = time.time()
    b0, b1, statuses = await auth_burst(port)
    if os.environ.get("WATTNET_BENCH_DIAG"):
        print(json.dumps({"auth_burst_wall": [wall0, wall0 + b1 - b0]}), file=sys.stderr)
    await asyncio.sleep(max(0.0, measure / 2 - (time.perf_counter() - b0)))
    stats.measuring = False
    gc.enable()
    cpu = (cpu_seconds(gw_pid) - cpu0) / measure
    stop.set()
    if os.environ.get("WATTNET_BENCH_DIAG"):
        os.kill(gw_pid, signal.SIGUSR2)
        await asyncio.sleep(0.5)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for proto in stats.protos:
        if proto.transport is not None:
            proto.transport.abort()
    rtts = sorted(stats.rtts)
    def pct(q: float, values: list[float] = rtts) -> float:
        return values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else float("nan")
    # Round trips of messages sent while the burst was being answered (at least one second),
    # and in a window as long just before it: the machine's other load at that moment shows in
    # both, the burst's own cost in the difference.
    span = max(b1, b0 + 1.0) - b0
    during = sorted(r for r, at in zip(stats.rtts, stats.sent_at, strict=True)
                    if b0 <= at <= b0 + span)
    before = sorted(r for r, at in zip(stats.rtts, stats.sent_at, strict=True)
                    if b0 - span <= at < b0)
    return {
        "connected": ready[0],
        "ramp_s": ramp,
        "samples": len(rtts),
        "slow": sum(1 for x in rtts if x > 0.1),
        "p50": pct(0.5),
        "p99": pct(0.99),
        "max": rtts[-1] * 1000 if rtts else float("nan"),
        "errors": stats.errors,
        "gw_cpu": cpu,
        "rate": len(rtts) / measure,
        "burst_p99": pct(0.99, during),
        "pre_burst_p99": pct(0.99, before),
        "burst_s": b1 - b0,
        "burst_401": sum(1 for x in statuses if x == 401),
    }


def run_level(n: int, warmup: float, measure: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="wattnet-bench-") as tmp:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        gw = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(n), "--port", str(port), "--data", tmp],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert gw.stdout is not None
            if gw.stdout.readline().strip() != "READY":
                raise RuntimeError("gateway did not start")
            return asyncio.run(load(n, port, gw.pid, warmup, measure))
        finally:
            gw.terminate()
            gw.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--levels", default="2000,5000,10000")
    ap.add_argument("--warmup", type=float, default=12.0)
    ap.add_argument("--measure", type=float, default=40.0)
    ap.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.data)
        return
    pin(1)
    raise_fd_limit()
    print(
        f"{'chargers':>8} {'connected':>9} {'ramp_s':>7} {'msg/s':>7} {'p50_ms':>7} "
        f"{'p99_ms':>7} {'max_ms':>7} {'>100ms':>6} {'errors':>6} {'gw_cpu':>6} "
        f"{'pre_p99':>7} {'burst_p99':>9} {'burst_s':>7} {'401s':>4}"
    )
    last = None
    for n in (int(x) for x in args.levels.split(",")):
        r = run_level(n, args.warmup, args.measure)
        print(
            f"{n:>8} {r['connected']:>9.0f} {r['ramp_s']:>7.1f} {r['rate']:>7.0f} "
            f"{r['p50']:>7.1f} {r['p99']:>7.1f} {r['max']:>7.1f} {r['slow']:>6.0f} "
            f"{r['errors']:>6.0f} "
            f"{r['gw_cpu']:>6.0%} {r['pre_burst_p99']:>7.1f} {r['burst_p99']:>9.1f} "
            f"{r['burst_s']:>7.2f} "
            f"{r['burst_401']:>4.0f}",
            flush=True,
        )
        last = (n, r)
    assert last is not None
    n, r = last
    ok_n = n if r["connected"] == n and r["errors"] == 0 else int(r["connected"])
    print(f"gateway_chargers={ok_n} p99_ms={r['p99']:.0f}")
    print(f"gateway_p99_ms_before_auth_burst={r['pre_burst_p99']:.0f}")
    print(f"gateway_p99_ms_under_auth_burst={r['burst_p99']:.0f}")


if __name__ == "__main__":
    main()
