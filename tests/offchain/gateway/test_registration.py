"""A charger must have been accepted by BootNotification before it gets any service (OCPP
2.0.1 B02/B03, 1.6 section 4.2): until then every other well-formed call is answered with
SecurityError, on the same connection. Acceptance is durable: a charger that reconnects after a
gateway restart (without booting again, as chargers do) is served."""

from __future__ import annotations

import json

import pytest

from conftest import Harness
from wattnet.domain import OcppVersion

V16, V201 = OcppVersion.V16, OcppVersion.V201
HEARTBEAT = '[2,"h1","Heartbeat",{}]'


@pytest.mark.parametrize("version", [V16, V201])
def test_unbooted_charger__gets_security_error_until_it_boots(
        harness: Harness, version: OcppVersion) -> None:
    async def scenario(h: Harness) -> None:
        cp = h.charger("CP16" if version == V16 else "CP201", version)
        await cp.connect()
        reply = await cp.exchange_raw(HEARTBEAT, "h1")
        assert reply is not None and reply[:3] == [4, "h1", "SecurityError"]
        # Protocol errors still come first: a schema violation gets its own code.
        bad = json.dumps([2, "h2", "Heartbeat", {"extra": 1}])
        reply = await cp.exchange_raw(bad, "h2")
        assert reply is not None and reply[0] == 4 and reply[2] != "SecurityError"
        await cp.boot()
        assert "currentTime" in await cp.heartbeat()  # same connection, now served

    harness.run(scenario)


def test_booted_charger__is_served_after_a_gateway_restart_without_booting_again(
        harness: Harness) -> None:
    async def first(h: Harness) -> None:
        cp = await h.connected("CP16", V16)  # connects and boots
        await cp.close()

    async def after_restart(h: Harness) -> None:
        cp = h.charger("CP16", V16)
        await cp.connect()  # no BootNotification this time
        assert "currentTime" in await cp.heartbeat()
        other = h.charger("CP201", V201)  # never booted anywhere
        await other.connect()
        reply = await other.exchange_raw(HEARTBEAT, "h1")
        assert reply is not None and reply[:3] == [4, "h1", "SecurityError"]

    harness.run(first)
    harness.run(after_restart)
