"""OCPP security profiles 1-3: Basic Auth passwords (stored hashed), TLS, client certificates.

Every refusal happens in the WebSocket handshake, before any OCPP message is read.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import logging
import multiprocessing
import os
import random
import ssl
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from wattnet.gateway.config import StationConfig, TlsConfig
from wattnet.gateway.errors import GatewayConfigError

log = logging.getLogger(__name__)

_SCRYPT_N = 2**15
_SCRYPT_R = 8
_SCRYPT_P = 1


def hash_password(password: str, *, n: int = _SCRYPT_N, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64), the form the config's ``password_hash`` holds."""
    if not 16 <= len(password) <= 40:
        # OCPP security whitepaper: the AuthorizationKey is 16 to 40 bytes (2.0.1: up to 40).
        raise GatewayConfigError("an OCPP Basic Auth password must be 16 to 40 characters long")
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=_SCRYPT_R, p=_SCRYPT_P, maxmem=2**27
    )
    b64 = base64.b64encode
    return f"scrypt${n}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def timed_verify(password: str, stored: str) -> tuple[bool, float]:
    """``verify_password`` and the seconds the hash took where it ran (no queueing)."""
    t0 = time.perf_counter()
    ok = verify_password(password, stored)
    return ok, time.perf_counter() - t0


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, hash_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(hash_b64)
        digest = hashlib.scrypt(
            password.encode(), salt=salt, n=int(n), r=int(r), p=int(p), maxmem=2**27
        )
    except (ValueError, binascii.Error):
        log.error("stored password hash is malformed; refusing")
        return False
    return hmac.compare_digest(digest, expected)


class Refusal(StrEnum):
    NO_STATION = "unknown charge point id"
    LIMITED = "too many failed attempts"
    BUSY = "too many password checks waiting"
    NO_SUBPROTOCOL = "no supported OCPP subprotocol offered"
    NO_AUTH = "missing Basic Auth"
    BAD_AUTH = "wrong Basic Auth"
    USER_MISMATCH = "Basic Auth user name is not the charge point id"
    DOWNGRADE = "security profile downgrade"
    BAD_CERT = "client certificate missing or not for this charge point"


REFUSAL_STATUS = {
    Refusal.LIMITED: HTTPStatus.UNAUTHORIZED,
    Refusal.BUSY: HTTPStatus.UNAUTHORIZED,
    Refusal.NO_STATION: HTTPStatus.UNAUTHORIZED,  # as a wrong password: no id enumeration
    Refusal.NO_SUBPROTOCOL: HTTPStatus.BAD_REQUEST,
    Refusal.NO_AUTH: HTTPStatus.UNAUTHORIZED,
    Refusal.BAD_AUTH: HTTPStatus.UNAUTHORIZED,
    Refusal.USER_MISMATCH: HTTPStatus.UNAUTHORIZED,
    Refusal.DOWNGRADE: HTTPStatus.FORBIDDEN,
    Refusal.BAD_CERT: HTTPStatus.FORBIDDEN,
}


def charge_point_id_from_path(path: str) -> str:
    """The last path segment, URL-decoded: ``/ocpp/CP-1`` -> ``CP-1``."""
    return unquote(path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1])


def parse_basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or header[:6].lower() != "basic ":
        return None
    try:
        user, sep, password = base64.b64decode(header[6:].strip(), validate=True).decode(
            "utf-8"
        ).partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def basic_auth_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@dataclass(slots=True)
class PasswordVerifier:
    """Verifies Basic Auth with scrypt, remembering successes so reconnect storms stay cheap.

    The memo holds a SHA-256 of the accepted password per station and is dropped when the
    station's stored hash changes; a wrong password always pays the full scrypt cost.
    """

    _memo: dict[str, tuple[str, bytes]]

    def __init__(self) -> None:
        self._memo = {}

    def remembered(self, station: StationConfig, password: str) -> bool:
        """The cheap check: this password was accepted for this station before."""
        memo = self._memo.get(station.charge_point_id)
        if memo is None or memo[0] != (station.password_hash or ""):
            return False
        return hmac.compare_digest(memo[1], hashlib.sha256(password.encode()).digest())

    def remember(self, station: StationConfig, password: str) -> None:
        fingerprint = hashlib.sha256(password.encode()).digest()
        self._memo[station.charge_point_id] = (station.password_hash or "", fingerprint)

    def verify(self, station: StationConfig, password: str) -> bool:
        """The full check (scrypt, 0.1-0.3 s): run it off the event loop."""
        if self.remembered(station, password):
            return True
        stored = station.password_hash or ""
        if verify_password(password, stored):
            fingerprint = hashlib.sha256(password.encode()).digest()
            self._memo[station.charge_point_id] = (stored, fingerprint)
            return True
        return False


PROCESS_COST = 2**12  # scrypt n from which a check runs in a separate process


def _lowest_priority() -> None:
    """Hashing processes yield the CPU to the gateway's event loop (no GIL is shared).

    nice 19, not SCHED_IDLE: on a loaded machine an idle-policy process gets next to no CPU, so
    password checks of a reconnect storm would outlast the handshake timeout and never finish
    (measured: 4 of 30 checks within 10 s under the bench machine's other load; 26 at nice 19).
    """
    with contextlib.suppress(OSError):
        os.nice(19)


def _params(stored: str) -> str:
    """``scrypt$n$r$p``: hashes with the same parameters cost the same time."""
    return stored.rsplit("$", 2)[0]


def _hash_cost(stored: str) -> int:
    try:
        return int(stored.split("$")[1])
    except (IndexError, ValueError):
        return 0


class _Failures:
    """Failed attempts per key within a sliding window (bounded: old keys are dropped)."""

    def __init__(self, limit: int, window_s: float, max_keys: int = 100_000) -> None:
        self._limit, self._window, self._max_keys = limit, window_s, max_keys
        self._seen: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float] | None:
        q = self._seen.get(key)
        while q and q[0] <= now - self._window:
            q.popleft()
        if q is not None and not q:
            del self._seen[key]
            return None
        return q

    def limited(self, key: str, now: float, in_flight: int = 0) -> bool:
        q = self._recent(key, now)
        return (0 if q is None else len(q)) + in_flight >= self._limit

    def add(self, key: str, now: float) -> None:
        if len(self._seen) >= self._max_keys:
            for k in list(self._seen):
                self._recent(k, now)
            if len(self._seen) >= self._max_keys:
                self._seen.pop(next(iter(self._seen)))
        self._seen.setdefault(key, deque(maxlen=self._limit)).append(now)


class AuthGuard:
    """The handshake check, without stalling the event loop.

    Wrong passwords cost a full scrypt each (which releases the GIL): those run in ``workers``
    threads,
    at most ``queue`` waiting (more are refused at once, unhashed). Failed attempts are counted
    per charge point id and per source address; past the limit within the window, further
    attempts are refused without hashing, except a password this station used successfully
    before (a cheap SHA-256 compare), so guessing cannot lock a working station out.
    An unknown id is answered like a known one with a wrong password: 401, counted per id like
    a known one, and after a wait in the same queue as long as a real check of the costliest
    configured hash (a duration drawn from the recent real ones), so ids cannot be listed by
    status, by rate limit or by timing, and the wait costs no CPU.
    """

    def __init__(
        self,
        stations: Mapping[str, StationConfig],
        *,
        workers: int = 1,
        queue: int = 1024,
        failures_per_id: int = 5,
        failures_per_source: int = 20,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.verifier = PasswordVerifier()
        # Cheap hashes (tests, benches) in a thread; costly ones in processes at the lowest
        # priority. Not threads at low priority: such a thread builds up scheduling debt while
        # it hashes, then starves in the few bytecodes it holds the GIL for, and the event loop
        # waits behind it (priority inversion: 0.1-0.2 s stalls measured under other load).
        self._threads = ThreadPoolExecutor(workers, thread_name_prefix="gateway-auth")
        self._procs: ProcessPoolExecutor | None = None
        self._workers = workers
        self._queue = queue
        self._pending = 0
        self._pending_by_id: dict[str, int] = {}
        self._slots = asyncio.Semaphore(workers)  # real checks and decoy waits alike
        self._decoy_durations: deque[float] = deque(maxlen=32)
        self._by_id = _Failures(failures_per_id, window_s)
        self._by_source = _Failures(failures_per_source, window_s)
        self._clock = clock
        # Unknown ids pay the scrypt cost of the costliest configured hash (never accepted).
        decoy_hash = max((st.password_hash for st in stations.values() if st.password_hash),
                         key=_hash_cost, default=None) or hash_password(os.urandom(12).hex())
        self._decoy = StationConfig("\x00decoy", 1, Path(), decoy_hash, {0: 1})
        self.hashes_run = 0
        self.decoys_run = 0
        if _hash_cost(decoy_hash) >= PROCESS_COST:
            self._process_pool()  # started with the gateway, not in the middle of a burst

    def _process_pool(self) -> ProcessPoolExecutor:
        if self._procs is None:
            self._procs = ProcessPoolExecutor(
                self._workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_lowest_priority)
            for _ in range(self._workers):  # one full-cost hash each: memory faulted in now
                warm = self._procs.submit(timed_verify, "warm-up", self._decoy.password_hash or "")
                warm.add_done_callback(self._record_warm_up)
        return self._procs

    def _record_warm_up(self, future: Any) -> None:
        if not future.cancelled() and future.exception() is None:
            self._decoy_durations.append(future.result()[1])

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)
        if self._procs is not None:
            self._procs.shutdown(wait=False, cancel_futures=True)

    async def _hash(self, station: StationConfig, password: str) -> bool:
        stored = station.password_hash or ""
        pool: Executor = self._threads
        if _hash_cost(stored) >= PROCESS_COST:
            pool = self._process_pool()
        ok, seconds = await asyncio.get_running_loop().run_in_executor(
            pool, timed_verify, password, stored)
        self.hashes_run += 1
        if _params(stored) == _params(self._decoy.password_hash or ""):
            self._decoy_durations.append(seconds)
        if ok:
            self.verifier.remember(station, password)
        return bool(ok)

    async def _decoy_wait(self, password: str) -> None:
        """An unknown id's check: as long as a real one of the decoy's cost, without hashing."""
        if not self._decoy_durations:  # nothing measured yet: pay for one real sample
            await self._hash(self._decoy, password)
            return
        self.decoys_run += 1
        await asyncio.sleep(random.choice(self._decoy_durations))

    async def check(
        self,
        station: StationConfig | None,
        cp_id: str,
        authorization: str | None,
        *,
        tls: bool,
        peercert: dict[str, Any] | None,
        source: str,
    ) -> Refusal | None:
        """``None`` if the station may connect on this listener with these credentials."""
        if station is not None and station.security_profile == 3:
            if not tls:
                return Refusal.DOWNGRADE
            return None if peer_common_name(peercert) == cp_id else Refusal.BAD_CERT
        creds = parse_basic_auth(authorization)
        if creds is None:
            return Refusal.NO_AUTH
        user, password = creds
        if user != cp_id:
            return Refusal.USER_MISMATCH
        if station is None or not self.verifier.remembered(station, password):
            refusal = await self._verify_slowly(station, cp_id, password, source)
            if refusal is not None:
                return refusal
        assert station is not None
        if station.security_profile >= 2 and not tls:
            return Refusal.DOWNGRADE
        if station.security_profile == 1 and tls:
            # A profile 1 station has no business on the TLS port; configure it as profile 2.
            return Refusal.DOWNGRADE
        return None

    async def _verify_slowly(self, station: StationConfig | None, cp_id: str, password: str,
                             source: str) -> Refusal | None:
        now = self._clock()
        in_flight = self._pending_by_id.get(cp_id, 0)  # a concurrent burst on one id counts
        if self._by_source.limited(source, now) or self._by_id.limited(cp_id, now, in_flight):
            return Refusal.LIMITED
        if self._pending >= self._queue:
            return Refusal.BUSY
        self._pending += 1
        self._pending_by_id[cp_id] = in_flight + 1
        try:
            async with self._slots:
                if station is None:
                    await self._decoy_wait(password)
                    ok = False
                else:
                    ok = await self._hash(station, password)
        finally:
            self._pending -= 1
            left = self._pending_by_id.pop(cp_id) - 1
            if left:
                self._pending_by_id[cp_id] = left
        if ok:
            return None
        now = self._clock()
        self._by_source.add(source, now)
        self._by_id.add(cp_id, now)  # unknown ids too: a limit must not tell known ids apart
        return Refusal.NO_STATION if station is None else Refusal.BAD_AUTH


def peer_common_name(peercert: dict[str, Any] | None) -> str | None:
    if not peercert:
        return None
    for rdn in peercert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


def server_ssl_context(tls: TlsConfig) -> ssl.SSLContext:
    """TLS 1.2+ only; client certificates verified against the CA when presented (profile 3)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(str(tls.cert_file), str(tls.key_file))
        if tls.client_ca_file is not None:
            ctx.load_verify_locations(cafile=str(tls.client_ca_file))
            ctx.verify_mode = ssl.CERT_OPTIONAL
    except (OSError, ssl.SSLError) as exc:
        raise GatewayConfigError(f"cannot load TLS certificate or key: {exc}") from exc
    return ctx
