"""Staking under random stake / unbond / withdraw / slash / time jumps over several operators.

Ghost state in Python: each operator's active and unbonding stake and when it unbonds, plus
what each put in and lost. Always: sum of stakes == totalStaked == WATT held by staking, every
position equals its ghost, and nobody loses more than they staked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ape
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from wattnet.chain.deploy import DAY, WAD, DeployConfig, local_config


@pytest.fixture(scope="module")
def config() -> DeployConfig:
    """params/local.yaml with the week-long unbonding and flat stake per station the ghost
    model keeps (the file: one hour, and 10 WATT per kW on top)."""
    return local_config({"staking.unbonding_delay": "7d", "staking.stake_per_kw": 0})


FUNDS = 50_000 * WAD
amounts = st.one_of(st.integers(1, 3_000 * WAD), st.sampled_from([1, WAD, 1_000 * WAD]))
jumps = st.sampled_from([1, 3_600, DAY, 6 * DAY, 7 * DAY, 8 * DAY])
MARGIN = 5  # seconds: keep the node's clock away from a deadline the ghost decides on


@dataclass
class Position:
    active: int = 0
    unbonding: int = 0
    ends_at: int = 0
    staked_in: int = 0
    slashed: int = 0
    withdrawn: int = 0


def test_staking_books_balance(steps: Any, chain: Any, watt: Any, staking: Any, governor: Any,
                               treasury: Any, operator: Any, operator2: Any, driver2: Any,
                               create_station: Any) -> None:
    ops = [operator, operator2, driver2]
    create_station(operator)  # one bonded station: its stake cannot be unbonded
    for op in ops:
        watt.transfer(op, FUNDS, sender=treasury)
        watt.approve(staking, 2**256 - 1, sender=op)
    base = {op.address: Position(active=int(staking.stakeOf(op).active)) for op in ops}
    for op in ops:
        base[op.address].staked_in = base[op.address].active
    delay = int(staking.unbondingDelay())
    min_stake = int(staking.minStakePerStation())

    class StakingMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.snapshot = chain.snapshot()
            self.pos = {a: Position(**vars(p)) for a, p in base.items()}

        def teardown(self) -> None:
            chain.restore(self.snapshot)

        def _bonded(self, op: Any) -> int:
            return min_stake if op.address == operator.address else 0

        @rule(i=st.integers(0, 2), amount=amounts)
        def stake(self, i: int, amount: int) -> None:
            op, p = ops[i], self.pos[ops[i].address]
            if watt.balanceOf(op) < amount:
                with ape.reverts(watt.ERC20InsufficientBalance):
                    staking.stake(amount, sender=op)
                return
            staking.stake(amount, sender=op)
            p.active += amount
            p.staked_in += amount

        @rule(i=st.integers(0, 2), amount=amounts)
        def request_unbond(self, i: int, amount: int) -> None:
            op, p = ops[i], self.pos[ops[i].address]
            needed = self._bonded(op) + amount
            if p.active < needed:
                with ape.reverts(staking.StakingInsufficientStake, operator=op.address,
                                 stake=p.active, needed=needed):
                    staking.requestUnbond(amount, sender=op)
                return
            tx = staking.requestUnbond(amount, sender=op)
            ts = chain.provider.get_block(tx.block_number).timestamp
            p.active -= amount
            p.unbonding += amount
            p.ends_at = ts + delay
            assert tx.decode_logs(staking.UnbondRequested)[0].endsAt == p.ends_at

        @rule(i=st.integers(0, 2))
        def withdraw(self, i: int) -> None:
            op, p = ops[i], self.pos[ops[i].address]
            if abs(chain.pending_timestamp - p.ends_at) < MARGIN:
                chain.pending_timestamp += 2 * MARGIN
            if p.unbonding == 0 or chain.pending_timestamp < p.ends_at:
                with ape.reverts(staking.StakingUnbondingNotReady, operator=op.address):
                    staking.withdraw(sender=op)
                return
            wallet = watt.balanceOf(op)
            staking.withdraw(sender=op)
            assert watt.balanceOf(op) == wallet + p.unbonding
            p.withdrawn += p.unbonding
            p.unbonding, p.ends_at = 0, 0

        @rule(i=st.integers(0, 2), amount=amounts, frac=st.sampled_from([None, 1.0, 0.5]))
        def slash(self, i: int, amount: int, frac: float | None) -> None:
            op, p = ops[i], self.pos[ops[i].address]
            available = p.active + p.unbonding
            if frac is not None:
                amount = max(1, int(available * frac))
            amount = min(amount, available)  # a slash takes what is there, up to its amount
            staking.slash(op, max(amount, 1), b"\x01" * 32, sender=governor)
            from_active = min(amount, p.active)
            p.active -= from_active
            p.unbonding -= amount - from_active
            p.slashed += amount

        @rule(seconds=jumps)
        def advance_time(self, seconds: int) -> None:
            chain.pending_timestamp += seconds

        @invariant()
        def books_balance(self) -> None:
            total = sum(p.active + p.unbonding for p in self.pos.values())
            assert staking.totalStaked() == total
            assert watt.balanceOf(staking) == total

        @invariant()
        def positions_match_ghost(self) -> None:
            for op in ops:
                s, p = staking.stakeOf(op), self.pos[op.address]
                assert (s.active, s.unbonding) == (p.active, p.unbonding)
                if p.unbonding:
                    assert s.unbondingEndsAt == p.ends_at

        @invariant()
        def slashed_never_exceeds_staked(self) -> None:
            for p in self.pos.values():
                assert p.slashed + p.withdrawn + p.active + p.unbonding == p.staked_in
                assert p.slashed <= p.staked_in

    run_state_machine_as_test(StakingMachine, settings=settings(stateful_step_count=steps(15)))
