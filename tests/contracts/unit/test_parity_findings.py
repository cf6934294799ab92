"""Parity: stake and penalties on chain are wattnet.econ.findings' rules, to the wei. Hypothesis
draws the stake parameters, the station's power and the operator's stake (a wei either side of
what is required), the governed penalty and bounty, and the slashing authority's amounts."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import ape
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from wattnet.chain.deploy import WAD
from wattnet.chain.eip712 import Domain, receipt_struct_hash, receipt_tuple, sign_receipt
from wattnet.chain.evidence import equivocation_id
from wattnet.econ.findings import authority_slash, proof_penalty, required_stake
from wattnet.econ.weight import station_kw

REASON = b"PARITY".ljust(32, b"\x00")
PARITY = settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))


@PARITY
@given(min_stake=st.integers(WAD, 10_000 * WAD), per_kw=st.integers(0, 100 * WAD),
       power_w=st.integers(1, 2_000_000), already=st.integers(0, 2),
       delta=st.sampled_from([-1, 0, 1, -WAD, 10 * WAD]))
def test_parity_required_stake__a_station_registers_exactly_when_covered(
        min_stake: int, per_kw: int, power_w: int, already: int, delta: int, chain: Any,
        isolated: Any, staking: Any, governor: Any, operator: Any, fund_operator: Any,
        create_station: Any) -> None:
    with isolated():
        staking.setMinStakePerStation(min_stake, sender=governor)
        staking.setStakePerKw(per_kw, sender=governor)
        for _ in range(already):  # stations the operator runs already (funded as needed)
            create_station(operator, rated_power_w=22_000, certified=False)
        s = staking.stakeOf(operator)
        needed = required_stake(int(s.bondedStations) + 1,
                                int(s.bondedKw) + station_kw(power_w), min_stake, per_kw)
        top_up = needed + delta - int(s.active)
        if top_up > 0:
            fund_operator(operator, top_up)
        have = int(staking.stakeOf(operator).active)
        event("registers" if have >= needed else "refused")
        if have >= needed:
            create_station(operator, rated_power_w=power_w, stake=False, certified=False)
            assert int(staking.stakeOf(operator).bondedKw) == int(s.bondedKw) + station_kw(
                power_w)
        else:
            with ape.reverts(staking.StakingInsufficientStake, operator=operator.address,
                             stake=have, needed=needed):
                create_station(operator, rated_power_w=power_w, stake=False, certified=False)


@PARITY
@given(slash=st.integers(WAD, 10_000 * WAD), bounty_bps=st.integers(0, 5_000),
       extra=st.integers(0, 5_000 * WAD), unbond=st.integers(0, 3_000 * WAD),
       committed=st.booleans())
@example(slash=10_000 * WAD, bounty_bps=5_000, extra=0, unbond=100 * WAD, committed=True)
def test_parity_proof_penalty__stake_bounty_and_treasury_to_the_wei(
        slash: int, bounty_bps: int, extra: int, unbond: int, committed: bool, chain: Any,
        isolated: Any, staking: Any, watt: Any, governor: Any, operator: Any, attacker: Any,
        treasury: Any, driver: Any, domain: Domain, fund_operator: Any, create_station: Any,
        make_receipt: Any, commit_evidence: Any) -> None:
    with isolated():
        staking.setEquivocationPenalty(slash, bounty_bps, sender=governor)
        st_ = create_station(operator)
        if extra:
            fund_operator(operator, extra)
        free = int(staking.stakeOf(operator).active) - int(
            required_stake(1, station_kw(st_.rated_power_w), int(staking.minStakePerStation()),
                           int(staking.stakePerKw())))
        if min(unbond, free) > 0:  # unbonding stake is still slashable
            staking.requestUnbond(min(unbond, free), sender=operator)
        a = make_receipt(st_, driver, session_id=7, energy_wh=10_000)
        b = replace(a, energy_wh=12_000, cost=12_000 * st_.tariff // 1000)
        if committed:
            commit_evidence(equivocation_id(receipt_struct_hash(a), receipt_struct_hash(b)),
                            attacker)
        info = staking.stakeOf(operator)
        available = int(info.active) + int(info.unbonding)
        expected = proof_penalty(available, slash, bounty_bps, committed)
        event(f"whole stake: {expected.amount == available}; bounty: {expected.bounty > 0}")
        bal = {w: int(watt.balanceOf(w)) for w in (attacker, treasury)}
        staking.slashEquivocation(receipt_tuple(a), sign_receipt(st_.key, domain, a),
                                  receipt_tuple(b), sign_receipt(st_.key, domain, b),
                                  sender=attacker)
        after = staking.stakeOf(operator)
        assert available - int(after.active) - int(after.unbonding) == expected.amount
        assert int(watt.balanceOf(attacker)) - bal[attacker] == expected.bounty
        assert int(watt.balanceOf(treasury)) - bal[treasury] == expected.to_destination


@PARITY
@given(amount=st.integers(1, 20_000 * WAD), unbond=st.integers(0, 2_000 * WAD))
@example(amount=20_000 * WAD, unbond=1_000 * WAD)  # more than the pool: what is there
@example(amount=2**255, unbond=0)
def test_parity_authority_slash__what_is_there_up_to_the_decision_no_bounty(
        amount: int, unbond: int, chain: Any, isolated: Any, staking: Any, watt: Any, governor: Any,
        operator: Any, treasury: Any, fund_operator: Any) -> None:
    with isolated():
        fund_operator(operator, 3_000 * WAD)
        if unbond:
            staking.requestUnbond(unbond, sender=operator)
        info = staking.stakeOf(operator)
        available = int(info.active) + int(info.unbonding)
        expected = authority_slash(available, amount)
        event(f"decided amount above the stake: {amount > available}")
        before = int(watt.balanceOf(treasury))
        staking.slash(operator, amount, REASON, sender=governor)
        after = staking.stakeOf(operator)
        assert available - int(after.active) - int(after.unbonding) == expected.amount
        assert expected.bounty == 0
        assert int(watt.balanceOf(treasury)) - before == expected.to_destination
