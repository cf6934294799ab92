"""Gateway fixtures: a real gateway on 127.0.0.1 sockets, a fake oracle, virtual chargers.

There is no pytest-asyncio here: each test builds a scenario coroutine and ``harness.run`` runs
it in a fresh event loop with the gateway and the oracle started around it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from wattnet.chain.receipt_codec import signed_from_json
from wattnet.domain import DriverAccount, OcppVersion, SignedReceipt
from wattnet.gateway.config import GatewayConfig, StationConfig, TlsConfig
from wattnet.gateway.credits import InMemoryCreditSource
from wattnet.gateway.security import hash_password
from wattnet.gateway.server import Gateway
from wattnet.gateway.signer import KeystoreSigner, new_keystore
from wattnet.gateway.store import GatewayStore
from wattnet.sim.chargepoint import SimChargePoint, SimMeter

PASSWORD = "correct-horse-battery-staple"
PASSPHRASE = "test-passphrase"
SETTLEMENT = "0x00000000000000000000000000000000000000Aa"
CHAIN_ID = 31337
DRIVER = "0x1111111111111111111111111111111111111111"
OTHER_DRIVER = "0x2222222222222222222222222222222222222222"
RFID = "04A1B2C3D4"
TARIFF = 350_000  # credits per kWh


# ---- certificates (generated per test session) ----
@dataclass(frozen=True)
class Pki:
    ca_file: Path
    server_cert: Path
    server_key: Path
    client_certs: dict[str, tuple[Path, Path]]  # cp id -> (cert, key), signed by the CA
    rogue: tuple[Path, Path]  # CN=CP3 but signed by another CA


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject: str, issuer: str, key: ec.EllipticCurvePrivateKey,
          signer: ec.EllipticCurvePrivateKey, *, ca: bool = False,
          ip: bool = False) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    b = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ip:
        b = b.add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return b.sign(signer, hashes.SHA256())


def _write(path: Path, cert: x509.Certificate,
           key: ec.EllipticCurvePrivateKey) -> tuple[Path, Path]:
    path.with_suffix(".crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    path.with_suffix(".key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return path.with_suffix(".crt"), path.with_suffix(".key")


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("WattNet Test CA", "WattNet Test CA", ca_key, ca_key, ca=True)
    ca_file, _ = _write(d / "ca", ca, ca_key)
    srv_key = ec.generate_private_key(ec.SECP256R1())
    server_cert, server_key = _write(d / "server", _cert("127.0.0.1", "WattNet Test CA",
                                                         srv_key, ca_key, ip=True), srv_key)
    clients = {}
    for cp in ("CP3", "CP3B"):
        k = ec.generate_private_key(ec.SECP256R1())
        clients[cp] = _write(d / cp, _cert(cp, "WattNet Test CA", k, ca_key), k)
    rogue_ca = ec.generate_private_key(ec.SECP256R1())
    rk = ec.generate_private_key(ec.SECP256R1())
    rogue = _write(d / "rogue", _cert("CP3", "Rogue CA", rk, rogue_ca), rk)
    return Pki(ca_file, server_cert, server_key, clients, rogue)


@pytest.fixture(scope="session")
def keystore(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "station.json"
    new_keystore(path, PASSPHRASE, private_key=bytes(range(1, 33)), scrypt_n=2**2)
    return path


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD, n=2**4)


# ---- the fake oracle ----
@dataclass
class FakeOracle:
    received: list[dict[str, Any]] = field(default_factory=list)
    script: list[int] = field(default_factory=list)  # statuses to answer first, then 200
    url: str = ""

    starts: list[dict[str, Any]] = field(default_factory=list)  # start notices received
    hold: int | None = None  # what a notice holds: None everything asked, 0 refuse
    starts_batch_route: bool = True  # an oracle from before /v1/starts:batch when off
    start_batches: list[int] = field(default_factory=list)  # notices per batch request
    single_starts: int = 0  # notices received one by one
    unavailable_starts: int = 0  # batch items to answer "unavailable" first

    requests: int = 0  # batch requests received
    # batch answers of the wrong length to give first: results more (+) or fewer (-) than asked
    wrong_lengths: list[int] = field(default_factory=list)
    deferrals: int = 0  # batch answers to give first with every item "deferred"

    async def handle(self, request: web.Request) -> web.Response:
        """``/v1/receipts:batch``: a scripted 4xx refuses each receipt (an error result, as
        the oracle answers a receipt it rejects); a scripted 5xx fails the whole request."""
        bodies = await request.json()
        status = self.script.pop(0) if self.script else 200
        self.received.extend(bodies)
        self.requests += 1
        if status >= 500:
            return web.json_response({"error": "scripted"}, status=status)
        result = {"status": "accepted"} if status == 200 else {"error": f"scripted {status}"}
        if self.deferrals:
            self.deferrals -= 1
            result = {"status": "deferred", "reason": "scripted: no registry reads left"}
        n = len(bodies) + (self.wrong_lengths.pop(0) if self.wrong_lengths else 0)
        return web.json_response({"results": [result] * n})

    async def handle_start(self, request: web.Request) -> web.Response:
        self.single_starts += 1
        return web.json_response(self._start(await request.json()))

    async def handle_starts_batch(self, request: web.Request) -> web.Response:
        """``/v1/starts:batch`` (served unless ``starts_batch_route`` is off): each notice
        answered as one alone; the first ``unavailable_starts`` as "cannot judge now"."""
        bodies = await request.json()
        self.start_batches.append(len(bodies))
        results = []
        for body in bodies:
            if self.unavailable_starts:
                self.unavailable_starts -= 1
                results.append({"unavailable": "scripted: registry unavailable"})
            else:
                results.append(self._start(body))
        return web.json_response({"results": results})

    def _start(self, body: dict[str, Any]) -> dict[str, Any]:
        self.starts.append(body)
        held = body["notice"]["amount"] if self.hold is None else self.hold
        if held == 0:
            return {"status": "refused", "reason": "scripted"}
        return {"status": "reserved", "held": held}


@dataclass
class Harness:
    tmp: Path
    config: GatewayConfig
    source: InMemoryCreditSource
    keystore: Path
    pki: Pki
    oracle: FakeOracle = field(default_factory=FakeOracle)
    gateway: Gateway | None = None
    meters: dict[str, SimMeter] = field(default_factory=dict)
    oracle_port: int = 0

    def ws_url(self) -> str:
        assert self.gateway is not None
        return f"ws://127.0.0.1:{self.gateway.ports['ws']}/ocpp"

    def wss_url(self) -> str:
        assert self.gateway is not None
        return f"wss://127.0.0.1:{self.gateway.ports['wss']}/ocpp"

    def client_ssl(self, cp: str | None = None, *, rogue: bool = False,
                   max_version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.pki.ca_file))
        if max_version is not None:
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # let the client really offer old TLS
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = max_version
        if rogue:
            ctx.load_cert_chain(*map(str, self.pki.rogue))
        elif cp is not None:
            ctx.load_cert_chain(*map(str, self.pki.client_certs[cp]))
        return ctx

    def charger(self, cp_id: str, version: OcppVersion = OcppVersion.V16,
                **kw: Any) -> SimChargePoint:
        profile = self.config.stations[cp_id].security_profile if cp_id in \
            self.config.stations else 1
        kw.setdefault("password", PASSWORD if profile < 3 else None)
        if profile >= 2:
            kw.setdefault("ssl_context", self.client_ssl(cp_id if profile == 3 else None))
            url = self.wss_url()
        else:
            url = self.ws_url()
        kw.setdefault("meter", self.meters.get(cp_id))
        cls: type[SimChargePoint] = kw.pop("cls", SimChargePoint)  # e.g. a schema-checked one
        return cls(url, cp_id, version, **kw)

    async def connected(self, cp_id: str, version: OcppVersion = OcppVersion.V16,
                        **kw: Any) -> SimChargePoint:
        cp = self.charger(cp_id, version, **kw)
        await cp.connect()
        await cp.boot()
        return cp

    def new_gateway(self, **kw: Any) -> Gateway:
        signer = KeystoreSigner.from_file(self.keystore, PASSPHRASE)
        kw.setdefault("retry_base_s", 0.05)
        return Gateway(self.config, self.source, {cp: signer for cp in self.config.stations},
                       **kw)

    def outbox(self) -> list[tuple[bytes, int, str, str, int, str | None]]:
        """The outbox rows, read from the database file (works after the gateway stopped)."""
        store = GatewayStore(self.config.data_dir / "gateway.sqlite3")
        try:
            return store.outbox_rows()
        finally:
            store.close()

    def signed(self) -> list[SignedReceipt]:
        return [signed_from_json(json.loads(r[2])) for r in self.outbox()]

    async def settle(self, count: int, timeout: float = 5.0) -> None:
        """Wait until the oracle holds ``count`` receipts."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.oracle.received) < count:
            assert asyncio.get_running_loop().time() < deadline, self.oracle.received
            await asyncio.sleep(0.02)

    def run(self, scenario: Callable[[Harness], Awaitable[None]], *,
            restart_between: bool = False) -> None:
        async def main() -> None:
            app = web.Application()
            app.router.add_post("/v1/receipts:batch", self.oracle.handle)
            app.router.add_post("/v1/starts", self.oracle.handle_start)
            if self.oracle.starts_batch_route:
                app.router.add_post("/v1/starts:batch", self.oracle.handle_starts_batch)
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", self.oracle_port)
            await site.start()
            self.gateway = self.new_gateway()
            await self.gateway.start()
            try:
                await asyncio.wait_for(scenario(self), 60)
            finally:
                await self.gateway.stop()
                await runner.cleanup()

        asyncio.run(main())

    def receipts(self) -> list[dict[str, Any]]:
        return [json.loads(r[2]) | {"_state": r[3], "_reason": r[5]} for r in self.outbox()]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def account() -> DriverAccount:
    return DriverAccount(DRIVER, 1, balance=10_000_000, per_session_cap=5_000_000,
                         daily_cap=8_000_000, spent_today=0, day=0)


@pytest.fixture
def create_harness(tmp_path: Path, keystore: Path, pki: Pki, password_hash: str,
                   account: DriverAccount) -> Callable[..., Harness]:
    def create(meters: dict[str, SimMeter] | None = None, certified: tuple[str, ...] = (),
               **overrides: Any) -> Harness:
        meters = meters or {}

        def station(cp: str, profile: int = 1) -> StationConfig:
            m = meters.get(cp)
            return StationConfig(
                cp, profile, keystore, password_hash if profile < 3 else None, {1: TARIFF},
                meter_public_key=m.public_key_xy_hex() if m and m.key else None,
                meter_serial=m.serial if m else None, meter_certified=cp in certified)

        stations = {cp: station(cp) for cp in ("CP16", "CP201", "CPX", "CPY")}
        stations |= {"CP2": station("CP2", 2), "CP3": station("CP3", 3),
                     "CP3B": station("CP3B", 3)}
        stations |= {cp: station(cp) for cp in meters if cp not in stations}
        port = free_port()
        cfg: dict[str, Any] = dict(data_dir=tmp_path / "data", oracle_url=f"http://127.0.0.1:{port}",
                   chain_id=CHAIN_ID, settlement=SETTLEMENT, stations=stations, port=0,
                   tls=TlsConfig(0, pki.server_cert, pki.server_key, pki.ca_file),
                   heartbeat_interval=60) | overrides
        source = InMemoryCreditSource()
        source.put(account, RFID)
        return Harness(tmp_path, GatewayConfig(**cfg), source, keystore, pki, meters=meters,
                       oracle_port=port)

    return create


@pytest.fixture
def harness(create_harness: Callable[..., Harness]) -> Harness:
    return create_harness()
