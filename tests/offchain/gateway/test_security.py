"""THREATS.md: missing or wrong Basic Auth, user name not the charge point id, missing
subprotocol, profile downgrade, TLS below 1.2, wrong client certificate: refused before any
message. Passwords are stored hashed."""

from __future__ import annotations

import asyncio
import os
import ssl
from typing import Any

import pytest
from websockets.exceptions import InvalidMessage, InvalidStatus

from conftest import PASSWORD, Harness
from wattnet.domain import OcppVersion
from wattnet.gateway.errors import GatewayConfigError
from wattnet.gateway.security import (
    PasswordVerifier,
    charge_point_id_from_path,
    hash_password,
    parse_basic_auth,
    server_ssl_context,
    verify_password,
)


async def _refused(h: Harness, cp_id: str, status: int, **kw: object) -> None:
    assert h.gateway is not None
    before = h.gateway.stations.get(cp_id)
    cp = h.charger(cp_id, **kw)  # type: ignore[arg-type]
    with pytest.raises(InvalidStatus) as info:
        await cp.connect()
    assert info.value.response.status_code == status
    assert h.gateway.stations.get(cp_id) is before  # no session was created or replaced


@pytest.mark.parametrize(("kw", "status"), [
    ({"password": None}, 401),  # no Authorization header
    ({"password": "wrong-password-but-long-enough"}, 401),
    ({"user": "CPY"}, 401),  # CPY's name on CP16's URL, right password
])
def test_profile1_handshake__refused_before_any_message(
    harness: Harness, kw: dict[str, object], status: int
) -> None:
    async def scenario(h: Harness) -> None:
        await _refused(h, "CP16", status, **kw)
        ok = await h.connected("CP16")  # the right credentials still work afterwards
        assert "currentTime" in await ok.heartbeat()

    harness.run(scenario)


def test_unknown_charge_point__refused(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        await _refused(h, "NOT-REGISTERED", 401)

    harness.run(scenario)


def test_profile2_station_on_plain_port__is_a_downgrade_and_refused(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        from wattnet.sim.chargepoint import SimChargePoint

        cp = SimChargePoint(h.ws_url(), "CP2", OcppVersion.V16, password=PASSWORD)
        with pytest.raises(InvalidStatus) as info:
            await cp.connect()
        assert info.value.response.status_code == 403

    harness.run(scenario)


def test_profile3_station_on_plain_port_or_with_password_only__refused(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        from wattnet.sim.chargepoint import SimChargePoint

        plain = SimChargePoint(h.ws_url(), "CP3", OcppVersion.V201, password=PASSWORD)
        with pytest.raises(InvalidStatus) as info:
            await plain.connect()
        assert info.value.response.status_code == 403
        no_cert = h.charger("CP3", OcppVersion.V201, ssl_context=h.client_ssl(None),
                            password=PASSWORD)
        with pytest.raises(InvalidStatus) as info:
            await no_cert.connect()
        assert info.value.response.status_code == 403

    harness.run(scenario)


def test_profile1_station_on_tls_port__refused(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        from wattnet.sim.chargepoint import SimChargePoint

        cp = SimChargePoint(h.wss_url(), "CP16", OcppVersion.V16, password=PASSWORD,
                            ssl_context=h.client_ssl(None))
        with pytest.raises(InvalidStatus):
            await cp.connect()

    harness.run(scenario)


def test_profile2__tls_and_basic_auth_accepted_wrong_password_refused(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP2", OcppVersion.V201)
        assert "currentTime" in await cp.heartbeat()
        await _refused(h, "CP2", 401, password="not-the-password-at-all")

    harness.run(scenario)


def test_profile3__client_certificate_for_this_station_accepted(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP3", OcppVersion.V201)
        assert "currentTime" in await cp.heartbeat()

    harness.run(scenario)


def test_profile3__certificate_of_another_station_refused(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        await _refused(h, "CP3", 403, ssl_context=h.client_ssl("CP3B"))

    harness.run(scenario)


def test_profile3__certificate_from_another_ca_refused_in_tls(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        cp = h.charger("CP3", OcppVersion.V201, ssl_context=h.client_ssl(rogue=True))
        # TLS 1.3 verifies the client certificate after the client's handshake completes, so
        # the client sees the connection dropped instead of an HTTP answer.
        with pytest.raises((ssl.SSLError, ConnectionError, OSError, InvalidMessage)):
            await cp.connect()
        assert h.gateway is not None and "CP3" not in h.gateway.stations

    harness.run(scenario)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_tls_below_1_2__refused_in_the_tls_handshake(
    harness: Harness, version: ssl.TLSVersion
) -> None:
    async def scenario(h: Harness) -> None:
        try:
            ctx = h.client_ssl(None, max_version=version)
        except ValueError:  # this OpenSSL cannot even offer the old version: nothing to test
            pytest.fail("client cannot be configured for old TLS")
        cp = h.charger("CP2", OcppVersion.V16, ssl_context=ctx)
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            await cp.connect()
        assert h.gateway is not None and "CP2" not in h.gateway.stations
        ok = h.charger("CP2", OcppVersion.V16,
                       ssl_context=h.client_ssl(None, max_version=ssl.TLSVersion.TLSv1_2))
        await ok.connect()  # the same client settings at TLS 1.2 are served

    assert harness.config.tls is not None
    assert server_ssl_context(harness.config.tls).minimum_version == ssl.TLSVersion.TLSv1_2

    harness.run(scenario)


def test_password__stored_as_salted_scrypt_and_verified() -> None:
    stored = hash_password(PASSWORD, n=2**4)
    assert PASSWORD not in stored and stored.startswith("scrypt$16$")
    assert stored != hash_password(PASSWORD, n=2**4)  # salted
    assert verify_password(PASSWORD, stored)
    assert not verify_password(PASSWORD + "x", stored)
    assert not verify_password(PASSWORD, "md5$whatever")


def test_password__too_short_for_ocpp_is_refused_with_advice() -> None:
    with pytest.raises(GatewayConfigError, match="16 to 40"):
        hash_password("short")


def test_password_verifier__memo_never_accepts_a_wrong_password(harness: Harness) -> None:
    station = harness.config.stations["CP16"]
    v = PasswordVerifier()
    assert v.verify(station, PASSWORD)
    assert not v.verify(station, "wrong-password-but-long-enough")
    assert v.verify(station, PASSWORD)


@pytest.mark.parametrize(("header", "expected"), [
    (None, None), ("Bearer abc", None), ("Basic !!!", None), ("Basic Q1AxNg==", None),
    ("Basic Q1AxNjpwdw==", ("CP16", "pw")), ("basic Q1AxNjpwdw==", ("CP16", "pw")),
])
def test_parse_basic_auth(header: str | None, expected: tuple[str, str] | None) -> None:
    assert parse_basic_auth(header) == expected


def test_charge_point_id__is_the_last_path_segment_url_decoded() -> None:
    assert charge_point_id_from_path("/ocpp/CP%2016/") == "CP 16"
    assert charge_point_id_from_path("/CP1?x=1") == "CP1"


@pytest.mark.parametrize("offered", [[], ["ocpp1.5"]])
def test_missing_or_unsupported_subprotocol__handshake_completes_then_closes(
    harness: Harness, offered: list[str]
) -> None:
    """OCPP-J 3.1.2: complete the handshake without a subprotocol, then close."""
    async def scenario(h: Harness) -> None:
        assert h.gateway is not None
        cp = h.charger("CP16", subprotocols=offered)
        await cp.connect()  # 101 Switching Protocols, not a 400
        assert cp._ws is not None and cp._ws.subprotocol is None
        await asyncio.wait_for(cp._ws.wait_closed(), 5)
        assert cp._ws.close_code == 1002
        assert "CP16" not in h.gateway.stations
        ok = await h.connected("CP16")
        assert "currentTime" in await ok.heartbeat()

    harness.run(scenario)


async def _status(h: Harness, cp_id: str, password: str) -> tuple[int, bytes, dict[str, str]]:
    cp = h.charger(cp_id, password=password)
    with pytest.raises(InvalidStatus) as info:
        await cp.connect()
    r = info.value.response
    return r.status_code, r.body, {k: v for k, v in r.headers.raw_items() if k != "Date"}


def test_unknown_and_known_ids__get_the_same_answer(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        assert h.gateway is not None
        known = await _status(h, "CP16", "wrong-password-but-long-enough")
        unknown = await _status(h, "NOBODY-HERE", "wrong-password-but-long-enough")
        assert known == unknown and known[0] == 401
        # the unknown id waited as long as a real check, in the same queue, without hashing
        assert (h.gateway.auth.hashes_run, h.gateway.auth.decoys_run) == (1, 1)

    harness.run(scenario)


def _slow_hashes(monkeypatch: pytest.MonkeyPatch, seconds: float) -> list[float]:
    """Every scrypt check takes ``seconds`` more; returns the list the checks append to."""
    import time

    from wattnet.gateway import security

    real, ran = security.verify_password, []

    def slow(password: str, stored: str) -> bool:
        ran.append(time.monotonic())
        time.sleep(seconds)
        return real(password, stored)

    monkeypatch.setattr(security, "verify_password", slow)
    return ran


def test_unknown_ids__as_slow_as_known_ones_and_queued_alike(
    create_harness: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Timing tells no id apart: an unknown id's wait is drawn from real checks' durations and
    holds a hashing slot, so a concurrent burst of both kinds queues as one."""
    ran = _slow_hashes(monkeypatch, 0.2)
    h: Harness = create_harness(auth_failures_per_source=100, auth_failures_per_id=100)

    async def timed(cp_id: str, password: str) -> float:
        t0 = asyncio.get_running_loop().time()
        assert (await _status(h, cp_id, password))[0] == 401
        return asyncio.get_running_loop().time() - t0

    async def scenario(h: Harness) -> None:
        assert h.gateway is not None
        known = await timed("CP16", "wrong-password-but-long-enough")
        unknown = await timed("NOBODY-HERE", "wrong-password-but-long-enough")
        assert known >= 0.2 and unknown >= 0.2 and abs(known - unknown) < 0.1
        t0 = asyncio.get_running_loop().time()
        await asyncio.gather(*(timed(cp, f"wrong-password-number-{i:02d}")
                               for i, cp in enumerate(["NOBODY-A", "CP16", "NOBODY-B", "CPX"])))
        assert asyncio.get_running_loop().time() - t0 >= 4 * 0.2  # one slot, four checks
        assert (len(ran), h.gateway.auth.decoys_run) == (3, 3)  # CP16 twice, CPX once

    h.run(scenario)


def test_wrong_passwords__hashed_off_the_event_loop_with_bounded_concurrency(
    create_harness: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    from wattnet.gateway import security

    threads: list[str] = []
    real = security.verify_password

    def slow_wrong(password: str, stored: str) -> bool:
        threads.append(threading.current_thread().name)
        time.sleep(0.2)  # a real scrypt costs 0.1-0.3 s
        return real(password, stored)

    monkeypatch.setattr(security, "verify_password", slow_wrong)
    h: Harness = create_harness(auth_queue=2, auth_failures_per_source=100,
                                auth_failures_per_id=100)

    async def scenario(h: Harness) -> None:
        other = await h.connected("CPX")
        burst = [asyncio.ensure_future(_status(h, "CP16", f"wrong-password-number-{i:02d}"))
                 for i in range(6)]
        await asyncio.sleep(0.05)
        assert "currentTime" in await other.heartbeat()
        assert not all(t.done() for t in burst)  # served while passwords are being hashed
        answers = await asyncio.gather(*burst)
        assert {a[0] for a in answers} == {401}

    h.run(scenario)
    assert all(name.startswith("gateway-auth") for name in threads)
    assert len(threads) == 1 + 2  # CPX's right password once, then at most auth_queue wrong


def test_failed_attempts__rate_limited_per_id_without_hashing_working_password_still_served(
    create_harness: Any,
) -> None:
    h: Harness = create_harness(auth_failures_per_id=3, auth_failures_per_source=100)

    async def scenario(h: Harness) -> None:
        assert h.gateway is not None
        first = await h.connected("CP16")  # a working station, its password remembered
        for i in range(3):
            assert (await _status(h, "CP16", f"guess-number-{i:02d}-xxxxxxx"))[0] == 401
        hashed = h.gateway.auth.hashes_run
        assert (await _status(h, "CP16", "guess-number-99-xxxxxxx"))[0] == 401
        assert h.gateway.auth.hashes_run == hashed  # refused without paying scrypt
        await first.close()
        again = await h.connected("CP16")  # guessing cannot lock the real station out
        assert "currentTime" in await again.heartbeat()
        assert (await _status(h, "CPY", "guess-number-00-xxxxxxx"))[0] == 401
        assert h.gateway.auth.hashes_run == hashed + 1  # another id is counted on its own
        # an unknown id is limited after as many failures: the limit lists no valid ids
        for i in range(3):
            assert (await _status(h, "NOBODY", f"guess-number-{i:02d}-xxxxxxx"))[0] == 401
        checks = h.gateway.auth.hashes_run + h.gateway.auth.decoys_run
        assert (await _status(h, "NOBODY", "guess-number-99-xxxxxxx"))[0] == 401
        assert h.gateway.auth.hashes_run + h.gateway.auth.decoys_run == checks

    h.run(scenario)


def test_failed_attempts__rate_limited_per_source(create_harness: Any) -> None:
    h: Harness = create_harness(auth_failures_per_id=100, auth_failures_per_source=4)

    async def scenario(h: Harness) -> None:
        assert h.gateway is not None
        for i, cp in enumerate(["CP16", "CPX", "CPY", "NOBODY", "CP16", "CPX"]):
            assert (await _status(h, cp, f"guess-number-{i:02d}-xxxxxxx"))[0] == 401
        assert h.gateway.auth.hashes_run + h.gateway.auth.decoys_run == 4

    h.run(scenario)


def test_concurrent_burst_on_one_id__hashes_at_most_the_per_id_limit(
    create_harness: Any,
) -> None:
    h: Harness = create_harness(auth_failures_per_id=3, auth_failures_per_source=100)

    async def scenario(h: Harness) -> None:
        assert h.gateway is not None
        answers = await asyncio.gather(*(_status(h, "CP16", f"guess-number-{i:02d}-xxxxxxx")
                                         for i in range(10)))
        assert {a[0] for a in answers} == {401}
        assert h.gateway.auth.hashes_run == 3

    h.run(scenario)


def test_costly_hashes__checked_in_a_separate_process(tmp_path: Any) -> None:
    """Production-cost scrypt runs in a low-priority process: no GIL shared with the loop."""
    from pathlib import Path

    from wattnet.gateway.config import StationConfig
    from wattnet.gateway.security import PROCESS_COST, AuthGuard, basic_auth_header

    station = StationConfig("A", 1, Path("k"), hash_password(PASSWORD, n=PROCESS_COST), {1: 1})
    guard = AuthGuard({"A": station})

    async def check(password: str) -> object:
        return await guard.check(station, "A", basic_auth_header("A", password), tls=False,
                                 peercert=None, source="1.2.3.4")

    try:
        assert guard._procs is not None  # started with the guard
        assert asyncio.run(check("a-wrong-password-for-A")) is not None
        assert asyncio.run(check(PASSWORD)) is None
        assert guard.verifier.remembered(station, PASSWORD)
        assert guard.hashes_run == 2
        [pid] = guard._procs._processes  # type: ignore[attr-defined]
        assert os.getpriority(os.PRIO_PROCESS, pid) == 19  # yields the CPU to the loop
    finally:
        guard.close()
