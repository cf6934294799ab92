"""THREATS.md, chargers in the field: the energy register may first appear in any event of a
transaction; a session is never billed from a missing value as if it were zero. Each case asserts
the receipt's energy, cost and state, and what reached the oracle. The cases themselves run
schema-checked in the conformance modules (test_conformance16.py, test_conformance201.py)."""

from __future__ import annotations

from conformance import session_201

from conftest import RFID, Harness
from wattnet.domain import OcppVersion

V201 = OcppVersion.V201


def test_unbilled_session__releases_its_reservation(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        assert h.gateway is not None
        cp = await h.connected("CP201", V201)
        await session_201(cp, [], [], [])
        assert h.gateway.cache.reservation(("CP201", cp.tx_key or "")) is None
        other = await h.connected("CP16")  # the driver's whole allowance is free again
        assert await other.start(RFID) == "Accepted"
        tx = await h.gateway.service.get("CP16", other.tx_key or "")
        assert tx is not None and tx.reserved == 5_000_000  # the account's per-session cap

    harness.run(scenario)
