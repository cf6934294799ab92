"""Every governed parameter has on-chain bounds: each setter at its bounds succeeds, one step
beyond reverts with the component's custom error and the failing values. Governance's own
settings (WattGovernor, WattTimelock) are bounded the same way.

(Named to run after test_energy_credits.py: that module breaks under Ape's fixture isolation
when an earlier module used the shared protocol fixtures, ContractNotFoundError in its late
module-scoped fixtures such as `credit_id`; it has always run first.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ape
import pytest

from wattnet.chain.deploy import DAY, WAD

HOUR = 3_600
ZERO = "0x" + "00" * 20
MAX_STAKE = 10_000_000 * WAD


def b32(name: str) -> bytes:
    return name.encode().ljust(32, b"\x00")


# ---------------------------------------------------------------- OperatorStaking
@pytest.mark.parametrize(("value", "ok"), [(WAD, True), (WAD - 1, False), (MAX_STAKE, True),
                                           (MAX_STAKE + 1, False), (0, False)])
def test_set_min_stake_per_station__bounds(staking: Any, governor: Any, value: int,
                                           ok: bool) -> None:
    if ok:
        staking.setMinStakePerStation(value, sender=governor)
        assert staking.minStakePerStation() == value
        return
    with ape.reverts(staking.StakingParameterOutOfBounds, name=b32("minStakePerStation"),
                     value=value, min=WAD, max=MAX_STAKE):
        staking.setMinStakePerStation(value, sender=governor)


@pytest.mark.parametrize(("value", "ok"), [(HOUR, True), (HOUR - 1, False), (90 * DAY, True),
                                           (90 * DAY + 1, False)])
def test_set_unbonding_delay__bounds(staking: Any, governor: Any, value: int, ok: bool) -> None:
    if ok:
        staking.setUnbondingDelay(value, sender=governor)
        assert staking.unbondingDelay() == value
        return
    with ape.reverts(staking.StakingParameterOutOfBounds, name=b32("unbondingDelay"),
                     value=value, min=HOUR, max=90 * DAY):
        staking.setUnbondingDelay(value, sender=governor)


@pytest.mark.parametrize(("slash", "ok"), [(WAD, True), (WAD - 1, False), (0, False),
                                           (MAX_STAKE, True), (MAX_STAKE + 1, False)])
def test_set_equivocation_slash__bounds(staking: Any, governor: Any, slash: int,
                                        ok: bool) -> None:
    if ok:
        staking.setEquivocationPenalty(slash, 1_000, sender=governor)
        assert staking.equivocationSlash() == slash
        return
    with ape.reverts(staking.StakingParameterOutOfBounds, name=b32("equivocationSlash"),
                     value=slash, min=WAD, max=MAX_STAKE):
        staking.setEquivocationPenalty(slash, 1_000, sender=governor)


@pytest.mark.parametrize(("bounty", "ok"), [(0, True), (5_000, True), (5_001, False)])
def test_set_equivocation_bounty__bounds(staking: Any, governor: Any, bounty: int,
                                         ok: bool) -> None:
    if ok:
        staking.setEquivocationPenalty(WAD, bounty, sender=governor)
        assert staking.equivocationBountyBps() == bounty
        return
    with ape.reverts(staking.StakingParameterOutOfBounds, name=b32("equivocationBountyBps"),
                     value=bounty, min=0, max=5_000):
        staking.setEquivocationPenalty(WAD, bounty, sender=governor)


def test_staking_constructor__refuses_an_unbounded_min_stake(project: Any, governor: Any,
                                                             watt: Any, treasury: Any) -> None:
    with ape.reverts(project.OperatorStaking.StakingParameterOutOfBounds,
                     name=b32("minStakePerStation"), value=0, min=WAD, max=MAX_STAKE):
        project.OperatorStaking.deploy(governor, watt, treasury, 0, DAY, WAD, 0, sender=governor)


# ---------------------------------------------------------------- StationRegistry
@pytest.mark.parametrize(("bps", "ok"), [(5_000, True), (4_999, False), (30_000, True),
                                         (30_001, False), (0, True)])
def test_set_region_multiplier__bounds(registry: Any, governor: Any, bps: int, ok: bool) -> None:
    prefix = b"u0" + b"\x00" * 6
    if ok:
        registry.setRegionMultiplier(prefix, bps, sender=governor)
        assert registry.multiplierOfPrefix(prefix) == bps
        return
    with ape.reverts(registry.RegistryMultiplierOutOfBounds, bps=bps, min=5_000, max=30_000):
        registry.setRegionMultiplier(prefix, bps, sender=governor)


@pytest.mark.parametrize(("lo", "hi", "ok"), [(1, 1, True), (0, 5, False), (6, 5, False),
                                              (1, 2**88 - 1, True), (1, 2**88, False)])
def test_set_tariff_bounds__bounds(registry: Any, governor: Any, lo: int, hi: int,
                                   ok: bool) -> None:
    if ok:
        registry.setTariffBounds(lo, hi, sender=governor)
        assert (registry.minTariffPerKwh(), registry.maxTariffPerKwh()) == (lo, hi)
        return
    with ape.reverts(registry.RegistryParameterOutOfBounds, name=b32("tariffBounds"), value=lo,
                     min=1, max=hi):
        registry.setTariffBounds(lo, hi, sender=governor)


# ---------------------------------------------------------------- EnergyCredits
@pytest.mark.parametrize(("op", "ref", "ok"), [(5_000, 2_000, True), (4_999, 0, False),
                                               (8_000, 2_001, False), (10_000, 0, True),
                                               (8_500, 2_000, False)])
def test_set_shares__bounds(credits: Any, governor: Any, op: int, ref: int, ok: bool) -> None:
    if ok:
        credits.setShares(op, ref, sender=governor)
        assert (credits.operatorShareBps(), credits.referrerShareBps()) == (op, ref)
        return
    with ape.reverts(credits.SettlementSharesOutOfBounds, operatorBps=op, referrerBps=ref):
        credits.setShares(op, ref, sender=governor)


@pytest.mark.parametrize(("cap", "ok"), [(1_000, True), (999, False), (10_000, True),
                                         (10_001, False)])
def test_set_station_epoch_cap__bounds(credits: Any, governor: Any, cap: int, ok: bool) -> None:
    if ok:
        credits.setStationEpochCap(cap, sender=governor)
        assert credits.stationEpochCapBps() == cap
        return
    with ape.reverts(credits.SettlementCapOutOfBounds, capBps=cap, min=1_000, max=10_000):
        credits.setStationEpochCap(cap, sender=governor)


TIMING: list[tuple[tuple[int, int, int], bool]] = [
    ((2 * HOUR, HOUR, HOUR), True),                    # every lower bound, redemption = sum
    ((2 * HOUR - 1, HOUR, HOUR), False),               # redemption below settlement latency
    ((2 * HOUR, HOUR - 1, HOUR + 1), False),           # settlement window below 1 h
    ((2 * HOUR, HOUR + 1, HOUR - 1), False),           # session below 1 h
    ((90 * DAY, 30 * DAY, 7 * DAY), True),             # every upper bound
    ((90 * DAY, 30 * DAY + 1, 7 * DAY), False),
    ((90 * DAY, 30 * DAY, 7 * DAY + 1), False),
    ((90 * DAY + 1, 30 * DAY, 7 * DAY), False),
]


@pytest.mark.parametrize(("timing", "ok"), TIMING)
def test_set_timing__bounds(credits: Any, governor: Any, timing: tuple[int, int, int],
                            ok: bool) -> None:
    if ok:
        credits.setTiming(timing, sender=governor)
        assert tuple(credits.timing()) == timing
        return
    with ape.reverts(credits.CreditsTimingOutOfBounds, redemptionDelay=timing[0],
                     maxSettlementDelay=timing[1], maxSessionDuration=timing[2]):
        credits.setTiming(timing, sender=governor)


# ---------------------------------------------------------------- RewardsEngine
@pytest.mark.parametrize(("extra", "ok"), [(0, True), (1, False)])
def test_set_schedule__total_bounded_by_max_emission(rewards: Any, governor: Any, extra: int,
                                                     ok: bool) -> None:
    e = rewards.currentEpoch() + 1
    rewards.setSchedule(e, [], sender=governor)  # keep only what is past: its bound stays
    kept = rewards.scheduledTotal()
    room = rewards.maxEmission() - kept
    phase = (e, e + 1, 0, room + extra)
    if ok:
        rewards.setSchedule(e, [phase], sender=governor)
        assert rewards.scheduledTotal() == rewards.maxEmission()
        return
    with ape.reverts(rewards.RewardsScheduleExceedsCap, scheduled=kept + room + extra,
                     maxEmission=rewards.maxEmission()):
        rewards.setSchedule(e, [phase], sender=governor)


def test_set_schedule__full_decay_refused(rewards: Any, governor: Any) -> None:
    e = rewards.currentEpoch() + 1
    with ape.reverts(rewards.RewardsBadSchedule, index=0):
        rewards.setSchedule(e, [(e, e + 1, 10_000, 1)], sender=governor)


# ---------------------------------------------------------------- governance's own settings
GOV_OK = {"votingDelay": 60, "votingPeriod": 60 * DAY, "proposalThreshold": 0,
          "quorumNumerator": 4, "lateQuorumExtension": 60}
GOV_BOUNDS = {"votingDelay": (60, 30 * DAY), "votingPeriod": (300, 60 * DAY),
              "proposalThreshold": (0, MAX_STAKE), "quorumNumerator": (1, 50),
              "lateQuorumExtension": (60, 30 * DAY)}
GOV_CASES = [(name, v, lo <= v <= hi) for name, (lo, hi) in GOV_BOUNDS.items()
             for v in (lo, hi, *((lo - 1,) if lo > 0 else ()), hi + 1)]


@pytest.mark.parametrize(("name", "value", "ok"), GOV_CASES,
                         ids=[f"{n}={v}" for n, v, _ in GOV_CASES])
def test_governor_settings__bounds(project: Any, governor: Any, watt: Any, name: str,
                                   value: int, ok: bool) -> None:
    args = {**GOV_OK, name: value}
    deploy: Callable[[], Any] = lambda: project.WattGovernor.deploy(  # noqa: E731
        watt, governor, args["votingDelay"], args["votingPeriod"], args["proposalThreshold"],
        args["quorumNumerator"], args["lateQuorumExtension"], sender=governor)
    if ok:
        g = deploy()
        getter = {"quorumNumerator": g.quorumNumerator, "votingDelay": g.votingDelay,
                  "votingPeriod": g.votingPeriod, "proposalThreshold": g.proposalThreshold,
                  "lateQuorumExtension": g.lateQuorumVoteExtension}[name]
        assert getter() == value
        return
    lo, hi = GOV_BOUNDS[name]
    with ape.reverts(project.WattGovernor.GovernanceParameterOutOfBounds, name=b32(name),
                     value=value, min=lo, max=hi):
        deploy()


def test_governor_settings__late_quorum_extension_at_most_the_voting_period(
        project: Any, governor: Any, watt: Any) -> None:
    """OpenZeppelin's own bound, kept: the extension never exceeds the voting period."""
    with ape.reverts(project.WattGovernor.GovernorPreventLateQuorumVoteExtensionTooLarge,
                     newVoteExtension=301, maxVoteExtension=300):
        project.WattGovernor.deploy(watt, governor, 60, 300, 0, 4, 301, sender=governor)


@pytest.mark.parametrize(("delay", "ok"), [(60, True), (59, False), (30 * DAY, True),
                                           (30 * DAY + 1, False)])
def test_timelock_min_delay__bounds_at_construction(project: Any, governor: Any, delay: int,
                                                    ok: bool) -> None:
    if ok:
        assert project.WattTimelock.deploy(delay, [], [ZERO], ZERO,
                                           sender=governor).getMinDelay() == delay
        return
    with ape.reverts(project.WattTimelock.GovernanceParameterOutOfBounds, name=b32("minDelay"),
                     value=delay, min=60, max=30 * DAY):
        project.WattTimelock.deploy(delay, [], [ZERO], ZERO, sender=governor)


@pytest.mark.parametrize(("delay", "ok"), [(30 * DAY, True), (30 * DAY + 1, False), (59, False)])
def test_timelock_update_delay__bounds(project: Any, governor: Any, chain: Any, delay: int,
                                       ok: bool) -> None:
    tl = project.WattTimelock.deploy(60, [governor], [governor], ZERO, sender=governor)
    data = tl.updateDelay.as_transaction(delay, sender=tl.address).data
    tl.schedule(tl, 0, data, bytes(32), bytes(32), 60, sender=governor)
    chain.pending_timestamp += 61
    if ok:
        tl.execute(tl, 0, data, bytes(32), bytes(32), sender=governor)
        assert tl.getMinDelay() == delay
        return
    with ape.reverts(tl.GovernanceParameterOutOfBounds, name=b32("minDelay"), value=delay,
                     min=60, max=30 * DAY):
        tl.execute(tl, 0, data, bytes(32), bytes(32), sender=governor)


def test_timelock_update_delay__only_the_timelock(project: Any, governor: Any,
                                                  attacker: Any) -> None:
    tl = project.WattTimelock.deploy(60, [governor], [governor], ZERO, sender=governor)
    with ape.reverts(tl.TimelockUnauthorizedCaller, caller=attacker.address):
        tl.updateDelay(10**9, sender=attacker)
