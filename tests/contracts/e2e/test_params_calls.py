"""Every governed parameter's encoded call, executed by the timelock, changes exactly that
parameter on chain (and, for combined setters, keeps the other fields); the table's contract
bounds equal the deployed contracts' constants."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from eth_utils.crypto import keccak
from params_stack import GovStack, governed_stack, pass_proposal

from wattnet.chain.committee import committee_domain, node_digest
from wattnet.chain.eip712 import address_of_private_key, sign_digest
from wattnet.errors import ConfigError
from wattnet.governance import schedule
from wattnet.governance.changeset import parse_change_set
from wattnet.governance.client import ChainView
from wattnet.governance.members import KEY as MEMBERS_KEY
from wattnet.governance.members import THRESHOLD
from wattnet.governance.proposals import make_plan
from wattnet.governance.table import (
    GOVERNOR,
    PARAMS,
    REGION_PREFIX,
    SCHEDULE_KEY,
    TREASURY_SHARE,
    lookup,
    same_value,
)
from wattnet.params import load_params

# In order: later values rely on earlier ones (the timing rule redemption >= settlement + session).
STEPS: list[tuple[str, Any]] = [
    ("staking.min_stake_per_station", 1500),
    ("staking.stake_per_kw", 12),
    ("staking.overlap_tolerance", "2m"),
    ("staking.unbonding_delay", "2h"),
    ("staking.slash_destination", "burn"),
    ("staking.equivocation_slash", 400),
    ("staking.equivocation_bounty_bps", 1200),
    ("registry.min_tariff_per_kwh", 60_000),
    ("registry.max_tariff_per_kwh", 2_500_000),
    ("credits.redemption_delay", "3h"),
    ("settlement.max_settlement_delay", "90m"),
    ("settlement.max_session_duration", "90m"),
    ("settlement.operator_share_bps", 7800),
    ("settlement.referrer_share_bps", 700),
    ("rewards.station_epoch_cap_bps", 6000),
    ("rewards.phases.growth.emission_per_epoch", 500_000),
    ("registry.uncertified_reward_bps", 1_000),
    ("registry.release_delay", "200d"),
    ("rewards.challenge_window", "2d"),
    ("rewards.fee_multiple_bps", 6_000),
    ("rewards.watt_price_floor", Decimal("0.25")),
    ("registry.region_multipliers.u0", 13000),
    ("registry.region_multipliers.sp3e", 8000),
    ("governance.timelock_delay", "3m"),
    ("governance.voting_delay", "90s"),
    ("governance.voting_period", "6m"),
    ("governance.proposal_threshold", 120_000),
    ("governance.quorum_percent", 5),
    ("governance.late_quorum_extension", "90s"),
    ("committee.min_stake", 2_000),
    ("committee.unbonding_delay", "10d"),
    ("committee.bounty_bps", 2_000),
]
# committee.threshold needs members: test_committee_members_and_threshold_by_vote
REGIONS = ["registry.region_multipliers.sp3e"]


@pytest.fixture(scope="module")
def stack(project: Any, accounts: Any, chain: Any,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[GovStack]:
    with governed_stack(project, accounts, chain, tmp_path_factory.mktemp("root")) as s:
        yield s


@pytest.fixture(scope="module")
def view(stack: GovStack, networks: Any) -> ChainView:
    return ChainView(networks.provider)


def test_table_covers_every_governed_step() -> None:
    keys = {k for k, _ in STEPS if not k.startswith((REGION_PREFIX, SCHEDULE_KEY))}
    assert keys | {THRESHOLD} == {p.key for p in PARAMS}


def test_each_call_through_the_timelock_changes_exactly_its_parameter(
        stack: GovStack, view: ChainView, accounts: Any, chain: Any) -> None:
    params = load_params("local")
    timelock = accounts[stack.gov.timelock.address]  # impersonated on anvil
    chain.set_balance(timelock.address, 10**18)
    for key, value in STEPS:
        before = view.current(params, REGIONS)
        change = parse_change_set({"description": f"set {key}", "changes": {key: value}},
                                  f"changes/{key}.yaml")
        plan = make_plan(view, change, params)
        (call,) = plan.calls
        if call.contract == GOVERNOR:
            # onlyGovernance: the governor accepts only calls relayed by its own execute()
            pass_proposal(view, chain, plan, stack.voter, [stack.voter, stack.voter2])
        else:
            timelock.transfer(view.deployment.address(call.contract), 0, data=call.calldata)
        after = view.current(params, REGIONS)
        changed = {k for k in after if after[k] != before[k]}
        key = SCHEDULE_KEY if key.startswith(SCHEDULE_KEY) else key
        expected = {key} | ({TREASURY_SHARE} if "share_bps" in key else set())
        assert changed == expected, (key, changed)
        if key != SCHEDULE_KEY:
            assert same_value(key, after[key], plan.proposed[key]), (key, after[key],
                                                                    plan.proposed[key])
    # the schedule: past and current epochs as before, growth (from epoch 104) at 500k WATT
    rewards = stack.gov.rewards
    assert rewards.emissionOf(104) == 500_000 * 10**18
    assert rewards.emissionOf(0) == 1_500_000 * 10**18
    # bootstrap restarted at the cut: the same emissions up to fixed-point rounding (wei)
    bootstrap = (0, 104, 50, 1_500_000 * 10**18)
    assert abs(rewards.emissionOf(103) - schedule.emission_at(bootstrap, 103)) < 10**6
    assert view.chain_phases()[0][0] == 0 and view.chain_phases()[1][1] == 104


def test_contract_bounds_mirror_the_deployed_constants(stack: GovStack) -> None:
    g = stack.gov
    by_key = {p.key: p for p in PARAMS}

    def bounds(key: str) -> tuple[int | None, int | None]:
        p = by_key[key]
        return p.chain_lo, p.chain_hi

    assert bounds("staking.unbonding_delay") == (g.staking.MIN_UNBONDING_DELAY(),
                                                 g.staking.MAX_UNBONDING_DELAY())
    assert bounds("staking.min_stake_per_station") == (g.staking.MIN_STAKE_PER_STATION(),
                                                       g.staking.MAX_STAKE_PER_STATION())
    assert bounds("staking.equivocation_slash") == (g.staking.MIN_EQUIVOCATION_SLASH(),
                                                    g.staking.MAX_EQUIVOCATION_SLASH())
    assert bounds("staking.equivocation_bounty_bps")[1] == g.staking.MAX_BOUNTY_BPS()
    assert bounds("staking.stake_per_kw")[1] == g.staking.MAX_STAKE_PER_KW()
    assert bounds("staking.overlap_tolerance")[1] == g.staking.MAX_OVERLAP_TOLERANCE()
    c = g.credits
    assert bounds("settlement.max_settlement_delay") == (c.MIN_SETTLEMENT_DELAY(),
                                                         c.MAX_SETTLEMENT_DELAY())
    assert bounds("settlement.max_session_duration") == (c.MIN_SESSION_DURATION(),
                                                         c.MAX_SESSION_DURATION())
    assert bounds("credits.redemption_delay")[1] == c.MAX_REDEMPTION_DELAY()
    assert bounds("settlement.operator_share_bps")[0] == c.MIN_OPERATOR_SHARE_BPS()
    assert bounds("settlement.referrer_share_bps")[1] == c.MAX_REFERRER_SHARE_BPS()
    assert bounds("rewards.station_epoch_cap_bps") == (c.MIN_STATION_CAP_BPS(),
                                                       c.MAX_STATION_CAP_BPS())
    assert bounds("registry.uncertified_reward_bps")[1] == g.registry.MAX_UNCERTIFIED_REWARD_BPS()
    assert bounds("registry.release_delay") == (g.registry.MIN_RELEASE_DELAY(),
                                                g.registry.MAX_RELEASE_DELAY())
    r = g.rewards
    assert bounds("rewards.challenge_window") == (r.MIN_CHALLENGE_WINDOW(),
                                                  r.MAX_CHALLENGE_WINDOW())
    assert bounds("rewards.fee_multiple_bps")[1] == r.MAX_FEE_MULTIPLE_BPS()
    assert bounds("rewards.watt_price_floor") == (r.MIN_PRICE_FLOOR(), r.MAX_PRICE_FLOOR())
    gov, tl = g.governor, g.timelock
    assert bounds("governance.voting_delay") == (gov.MIN_VOTING_DELAY(), gov.MAX_VOTING_DELAY())
    assert bounds("governance.voting_period") == (gov.MIN_VOTING_PERIOD(),
                                                  gov.MAX_VOTING_PERIOD())
    assert bounds("governance.proposal_threshold")[1] == gov.MAX_PROPOSAL_THRESHOLD()
    assert bounds("governance.quorum_percent") == (gov.MIN_QUORUM_NUMERATOR(),
                                                   gov.MAX_QUORUM_NUMERATOR())
    assert bounds("governance.late_quorum_extension") == (gov.MIN_LATE_QUORUM_EXTENSION(),
                                                          gov.MAX_LATE_QUORUM_EXTENSION())
    assert bounds("governance.timelock_delay") == (tl.MIN_DELAY(), tl.MAX_DELAY())
    cm = g.committee
    assert bounds("committee.min_stake") == (cm.MIN_STAKE_FLOOR(), cm.MAX_STAKE_CEILING())
    assert bounds("committee.unbonding_delay") == (cm.MIN_UNBONDING(), cm.MAX_UNBONDING())
    assert bounds("committee.bounty_bps")[1] == cm.MAX_BOUNTY_BPS()
    assert bounds("committee.threshold")[1] == cm.MAX_MEMBERS()
    region = lookup(REGION_PREFIX + "u0")
    assert region is not None
    assert (region.chain_lo, region.chain_hi) == (g.registry.MIN_MULTIPLIER_BPS(),
                                                  g.registry.MAX_MULTIPLIER_BPS())


def test_committee_members_and_threshold_by_vote(stack: GovStack, view: ChainView,
                                                 chain: Any, accounts: Any) -> None:
    """Admission, k and removal as change sets, through the governor: admissions come before
    the threshold, removals after it; what admit would refuse is refused before proposing."""
    params = load_params("local")
    committee, watt = stack.gov.committee, stack.gov.watt
    operator = stack.voter  # holds WATT
    keys = [keccak_key(i) for i in range(4)]
    nodes = sorted((address_of_private_key(k) for k in keys), key=lambda a: int(a, 16))
    by_addr = {address_of_private_key(k): k for k in keys}
    domain = committee_domain(chain.chain_id, committee.address)
    stake = int(committee.minStake())
    watt.approve(committee, 4 * stake, sender=operator)
    for node in nodes[:3]:
        committee.register(node, stake, sign_digest(by_addr[node], node_digest(
            domain, operator.address)), sender=operator)

    def change(values: dict[str, Any]) -> Any:
        return make_plan(view, parse_change_set({"description": "committee", "changes": values},
                                                "changes/committee.yaml"), params)

    with pytest.raises(ConfigError, match="is not registered"):
        change({MEMBERS_KEY: nodes, THRESHOLD: 2})  # the fourth never registered
    with pytest.raises(ConfigError, match="exceeds the 3 members"):
        change({MEMBERS_KEY: nodes[:3], THRESHOLD: 4})
    plan = change({MEMBERS_KEY: list(reversed(nodes[:3])), THRESHOLD: 2})
    assert [c.signature.split("(")[0] for c in plan.calls] == ["admit"] * 3 + ["setThreshold"]
    pass_proposal(view, chain, plan, stack.voter, [stack.voter, stack.voter2])
    assert view.current(params)[MEMBERS_KEY] == nodes[:3] and committee.threshold() == 2
    plan = change({MEMBERS_KEY: nodes[:1], THRESHOLD: 1})  # lower k first, then remove two
    assert [c.signature.split("(")[0] for c in plan.calls] == ["setThreshold", "remove",
                                                               "remove"]
    pass_proposal(view, chain, plan, stack.voter, [stack.voter, stack.voter2])
    assert committee.members() == nodes[:1] and committee.threshold() == 1


def keccak_key(i: int) -> bytes:
    return keccak(text=f"params-committee-node-{i}")
