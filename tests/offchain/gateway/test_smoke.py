from __future__ import annotations

from conftest import RFID, Harness

from wattnet.domain import OcppVersion


def test_smoke(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16")
        assert await cp.authorize(RFID) == "Accepted"
        assert await cp.charge(RFID, 3000) == "Accepted"
        cp2 = await h.connected("CP201", OcppVersion.V201)
        assert await cp2.charge(RFID, 3000) == "Accepted"
        print(h.receipts())

    harness.run(scenario)
