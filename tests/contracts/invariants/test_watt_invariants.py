"""WATT under random mints (some aimed just past the cap), burns and transfers: total supply
never exceeds the cap and always equals the ghost supply."""

from __future__ import annotations

from typing import Any

import ape
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from wattnet.chain import roles
from wattnet.chain.deploy import WAD


def test_watt_supply_within_cap(steps: Any, chain: Any, watt: Any, governor: Any, treasury: Any,
                                driver: Any) -> None:
    watt.grantRole(roles.MINTER_ROLE, governor, sender=governor)
    holders = [treasury, driver]
    cap = int(watt.cap())
    start = {h.address: int(watt.balanceOf(h)) for h in holders}
    supply0 = int(watt.totalSupply())

    class WattMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.snapshot = chain.snapshot()
            self.supply = supply0
            self.balances = dict(start)

        def teardown(self) -> None:
            chain.restore(self.snapshot)

        @rule(to=st.integers(0, 1), amount=st.integers(0, 10**9 * WAD),
              offset=st.sampled_from([None, -1, 0, 1, 10**18]))
        def mint(self, to: int, amount: int, offset: int | None) -> None:
            if offset is not None:  # aim at the cap: room - 1, room, room + 1, far above
                amount = max(0, cap - self.supply + offset)
            target = holders[to]
            if self.supply + amount > cap:
                with ape.reverts(watt.WattCapExceeded, supply=self.supply, amount=amount,
                                 cap=cap):
                    watt.mint(target, amount, sender=governor)
                return
            watt.mint(target, amount, sender=governor)
            self.supply += amount
            self.balances[target.address] += amount

        @rule(i=st.integers(0, 1), quarters=st.integers(0, 4))
        def burn(self, i: int, quarters: int) -> None:
            h = holders[i]
            amount = self.balances[h.address] * quarters // 4
            watt.burn(amount, sender=h)
            self.supply -= amount
            self.balances[h.address] -= amount

        @rule(i=st.integers(0, 1), tenths=st.sampled_from([1, 10]))
        def transfer(self, i: int, tenths: int) -> None:
            src, dst = holders[i], holders[1 - i]
            amount = self.balances[src.address] * tenths // 10
            watt.transfer(dst, amount, sender=src)
            self.balances[src.address] -= amount
            self.balances[dst.address] += amount

        @invariant()
        def supply_within_cap(self) -> None:
            assert watt.totalSupply() == self.supply <= cap
            for h in holders:
                assert watt.balanceOf(h) == self.balances[h.address]

    run_state_machine_as_test(WattMachine, settings=settings(stateful_step_count=steps(15)))
