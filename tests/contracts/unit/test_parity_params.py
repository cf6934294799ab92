"""Parity: the params loader accepts exactly what the contracts accept. Hypothesis draws a value
for one parameter (its bounds, a unit either side, anything up to twice the bound, values that
do not fit the setter's type), then asks both: ``wattnet.params`` (params/local.yaml with that
value) and the chain (the setter, called by the parameters' role holder; or the constructor for
what only a constructor takes: the schedule, the genesis supply, governance's settings, a
stablecoin's decimals). They must agree, except for the params file's own policy rules, listed
in ``POLICY`` with their reason (docs/economics.md, "Parameters")."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from wattnet.chain.deploy import WAD, geohash_bytes8
from wattnet.econ.emission import consecutive
from wattnet.errors import ConfigError
from wattnet.governance.changeset import current_of
from wattnet.governance.table import PARAMS, REGION_PREFIX, Unit, build_calls, lookup
from wattnet.params import Params, apply_overrides, load_params

PARITY = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
DEPLOYS = settings(PARITY, max_examples=25)  # each example deploys contracts
GEOHASH_CHARS = "0123456789bcdefghjkmnpqrstuvwxyz"


def _edges(lo: int, hi: int) -> st.SearchStrategy[int]:
    """A bound, a unit beyond it, or anything from -1 to twice the upper bound."""
    near = [lo, hi, lo - 1, hi + 1, 0, 1, 2**16 - 1, 2**16, 2**32]
    return st.one_of(st.sampled_from(near), st.integers(-1, max(2 * hi, 10)))


def _file_value(key: str, chain_value: int) -> Any:
    """The params file's spelling of a chain value (WATT and USD in whole units)."""
    param = lookup(key)
    if param is not None and param.unit in (Unit.WATT, Unit.USD):
        return str(Decimal(chain_value) / WAD)
    return chain_value


# ---------------------------------------------------------------- what each side says
@pytest.fixture(scope="module")
def local() -> Params:
    """What the unit protocol was deployed with (tests/contracts/conftest.py)."""
    return load_params("local")


def loader_accepts(local: Params, overrides: dict[str, Any]) -> bool:
    try:
        apply_overrides(local, overrides)
    except ConfigError:
        event("refused")
        return False
    event("accepted")
    return True


def chain_accepts(call: Callable[[], Any]) -> bool:
    """True when the call (a transaction or a deployment) succeeds; a revert, or a value the
    ABI type cannot hold, is a refusal."""
    try:
        call()
    except Exception:  # ContractLogicError, or an encoding error for the type
        return False
    return True


def policy(local: Params, overrides: dict[str, Any]) -> bool:
    """The params file's own rules, which no contract can check (each names two contracts'
    values, or a value and the governance path):"""

    def value(key: str, default: Any) -> Decimal:
        return Decimal(str(overrides.get(key, default)))

    st_, gv = local.staking, local.governance
    slash = value("staking.equivocation_slash", st_.equivocation_slash)
    stake = value("staking.min_stake_per_station", st_.min_stake_per_station)
    vote = sum(value(f"governance.{k}", getattr(gv, k))
               for k in ("voting_delay", "voting_period", "timelock_delay"))
    return (
        # a slash must be covered by one station's stake (OperatorStaking takes what is there)
        slash <= stake
        # a finding decided by a vote must forfeit escrowed rewards and slash stake before
        # they are claimed or unbonded (RewardsEngine and OperatorStaking vs the governor)
        and value("rewards.challenge_window", local.rewards.challenge_window) > vote
        and value("staking.unbonding_delay", st_.unbonding_delay) > vote
    )


# ---------------------------------------------------------------- setters
SETTER_KEYS = [p.key for p in PARAMS if p.contract in (
    "OperatorStaking", "StationRegistry", "EnergyCredits", "RewardsEngine")
    and p.unit is not Unit.CHOICE]


@st.composite
def setter_change(draw: Any) -> dict[str, int]:
    """One or two keys of one setter, in chain units."""
    key = draw(st.sampled_from(SETTER_KEYS))
    param = lookup(key)
    assert param is not None and param.chain_lo is not None and param.chain_hi is not None
    values = {key: draw(_edges(param.chain_lo, param.chain_hi))}
    if key.startswith("settlement.") and key.endswith("_share_bps"):  # the split moves together
        values["settlement.operator_share_bps"] = draw(_edges(5_000, 10_000))
        values["settlement.referrer_share_bps"] = draw(_edges(0, 2_000))
    if key == "staking.equivocation_slash":
        values["staking.equivocation_bounty_bps"] = draw(_edges(0, 5_000))
    if key == "registry.min_tariff_per_kwh":
        values["registry.max_tariff_per_kwh"] = draw(_edges(1, 2**88 - 1))
    return values


@PARITY
@given(change=setter_change())
@example(change={"registry.min_tariff_per_kwh": 1, "registry.max_tariff_per_kwh": 2**88 - 1})
@example(change={"registry.min_tariff_per_kwh": 1, "registry.max_tariff_per_kwh": 2**88})
@example(change={"staking.equivocation_slash": 2_000 * WAD,  # chain: yes; file policy: no
                 "staking.equivocation_bounty_bps": 1_000})
def test_parity_params__setters_accept_what_the_loader_accepts(
        change: dict[str, int], local: Params, protocol: Any, governor: Any,
        chain: Any, isolated: Any) -> None:
    overrides = {k: _file_value(k, v) for k, v in change.items()}
    if "settlement.operator_share_bps" in change:  # the treasury gets the rest, on chain too
        overrides["settlement.treasury_share_bps"] = (
            10_000 - change["settlement.operator_share_bps"]
            - change["settlement.referrer_share_bps"])
    contracts = protocol.as_dict()
    current = current_of(local, [k for p in PARAMS for k in (p.key,)
                                 if p.contract in contracts])

    def on_chain() -> None:
        for call in build_calls({k: v for k, v in overrides.items() if lookup(k)}, current):
            getattr(contracts[call.contract], call.signature.split("(")[0])(
                *call.args, sender=governor)

    with isolated():
        ok_chain = chain_accepts(on_chain)
    assert loader_accepts(local, overrides) == (ok_chain and policy(local, overrides)), change


@PARITY
@given(prefix=st.text(GEOHASH_CHARS + "ailoA", min_size=1, max_size=9),
       bps=_edges(5_000, 30_000))
@example(prefix="u0bcdefg", bps=0)  # 8 characters, "not set"
@example(prefix="u0bcdefgh", bps=12_000)  # 9: no bytes8
def test_parity_params__region_multipliers_as_the_registry_takes_them(
        prefix: str, bps: int, local: Params, registry: Any, governor: Any,
        chain: Any, isolated: Any) -> None:
    with isolated():
        ok_chain = chain_accepts(lambda: registry.setRegionMultiplier(
            geohash_bytes8(prefix), bps, sender=governor))
    assert loader_accepts(local, {REGION_PREFIX + prefix: bps}) == ok_chain, (prefix, bps)


# ---------------------------------------------------------------- constructors
SPAN = st.tuples(st.sampled_from([0, 1, 52, 2**31, 2**32 - 1, 2**32]),
                 st.sampled_from([0, 50, 9_999, 10_000, 10_001]),
                 st.sampled_from([0, 1, 250_000 * WAD, 10**27, 10**30]))


@DEPLOYS
@given(spans=st.one_of(st.lists(SPAN, max_size=3),
                       st.integers(31, 34).map(lambda n: [(1, 0, WAD)] * n)),
       genesis=st.sampled_from([0, 200_000_000 * WAD, 10**27 - 1, 10**27, 10**27 + 1]))
@example(spans=[(52, 10_000, WAD)], genesis=0)  # decay 100 %: the old loader took it
@example(spans=[(1, 0, WAD)] * 33, genesis=0)  # 33 phases: the old loader took them
@example(spans=[(10, 50, 10**30)], genesis=0)  # 10**12 WATT an epoch: Decimal precision
def test_parity_params__schedule_and_genesis_as_the_constructors_take_them(
        spans: list[tuple[int, int, int]], genesis: int, local: Params, project: Any,
        governor: Any, treasury: Any, chain: Any, isolated: Any) -> None:
    cap = int(local.token.cap * WAD)
    phases = [{"name": f"p{i}", "epochs": n, "decay_bps": d,
               "emission_per_epoch": str(Decimal(e) / WAD)} for i, (n, d, e) in enumerate(spans)]
    overrides = {"rewards.phases": phases, "rewards.genesis_supply": str(Decimal(genesis) / WAD)}

    def on_chain() -> None:  # what scripts/deploy.py deploys from these values
        token = project.WattToken.deploy(governor, cap, treasury, genesis, sender=governor)
        project.RewardsEngine.deploy(governor, token, int(chain.blocks.head.timestamp),
                                     cap - genesis, consecutive(spans), sender=governor)

    with isolated():
        ok_chain = genesis <= cap and chain_accepts(on_chain)
    assert loader_accepts(local, overrides) == ok_chain, (spans, genesis)


GOVERNANCE = {"voting_delay": (60, 30 * 86_400), "voting_period": (300, 60 * 86_400),
              "timelock_delay": (60, 30 * 86_400), "late_quorum_extension": (60, 30 * 86_400),
              "quorum_percent": (1, 50), "proposal_threshold": (0, 10_000_000 * WAD)}


GOV_VALUES = st.one_of(
    st.sampled_from(sorted({v for lo, hi in GOVERNANCE.values()
                            for v in (lo - 1, lo, lo + 1, hi - 1, hi, hi + 1, 2**32, 2**48)})),
    st.integers(-1, 2 * 60 * 86_400))


@DEPLOYS
@given(key=st.sampled_from(sorted(GOVERNANCE)), value=GOV_VALUES)
@example(key="late_quorum_extension", value=301)  # above local's 5-minute vote: OpenZeppelin no
@example(key="voting_period", value=2**32)  # no uint32
def test_parity_params__governance_settings_as_the_constructors_take_them(
        key: str, value: int, local: Params, project: Any, governor: Any, watt: Any,
        chain: Any, isolated: Any) -> None:
    gv = {**{k: getattr(local.governance, k) for k in GOVERNANCE}, key: value}
    gv["proposal_threshold"] = int(Decimal(str(gv["proposal_threshold"])) * WAD) \
        if key != "proposal_threshold" else value
    file_value = str(Decimal(value) / WAD) if key == "proposal_threshold" else value
    zero = "0x" + "00" * 20

    def on_chain() -> None:
        timelock = project.WattTimelock.deploy(gv["timelock_delay"], [], [zero], zero,
                                               sender=governor)
        project.WattGovernor.deploy(watt, timelock, gv["voting_delay"], gv["voting_period"],
                                    gv["proposal_threshold"], gv["quorum_percent"],
                                    gv["late_quorum_extension"], sender=governor)

    overrides = {f"governance.{key}": file_value}
    with isolated():
        ok_chain = chain_accepts(on_chain)
    assert loader_accepts(local, overrides) == (ok_chain and policy(local, overrides)), (key, value)


@DEPLOYS
@given(decimals=st.integers(0, 24))
def test_parity_params__stablecoin_decimals_as_list_credit_takes_them(
        decimals: int, local: Params, project: Any, credits: Any, governor: Any,
        chain: Any, isolated: Any) -> None:
    coins = [{"symbol": "USDC", "decimals": decimals, "credit_id": 1}]
    with isolated():
        token = project.MockStablecoin.deploy("Coin", "C", decimals, sender=governor)
        ok_chain = chain_accepts(lambda: credits.listCredit(token, sender=governor))
    assert loader_accepts(local, {"credits.stablecoins": coins}) == ok_chain, decimals
