"""The emission schedule of a params file as RewardsEngine holds and checks it
(:mod:`wattnet.econ.emission`)."""

from collections.abc import Iterator

from wattnet.econ.emission import (
    AbsPhase,
    consecutive,
    emissions,
    schedule_error,
    scheduled_total,
)
from wattnet.errors import ConfigError
from wattnet.params.checks import to_wei
from wattnet.params.values import WEI_PER_WATT, RewardsParams


def contract_phases(rewards: RewardsParams) -> list[AbsPhase]:
    """The phases as RewardsEngine holds them: (start, end, decay bps, emission wei)."""
    return consecutive([(p.epochs, p.decay_bps, to_wei(p.emission_per_epoch))
                        for p in rewards.phases])


def emission_schedule_wei(rewards: RewardsParams) -> Iterator[int]:
    """Emission per epoch in wei, epoch 0 first, up to the end of the last phase (0 after):
    ``RewardsEngine.emissionOf``."""
    return emissions(contract_phases(rewards))


def total_emission_wei(rewards: RewardsParams) -> int:
    """What the schedule emits in all (at most its bound, ``scheduledTotal``)."""
    return sum(emission_schedule_wei(rewards))


def check_schedule(rewards: RewardsParams, room: int, source: str) -> None:
    """Refuse what the RewardsEngine constructor refuses: a malformed schedule, or one whose
    bound (``scheduledTotal``, the phases' closed forms rounded up, a little above the sum of
    the emissions) exceeds ``room`` = cap - genesis supply, in wei."""
    phases = contract_phases(rewards)
    problem = schedule_error([], phases, 0, None)
    if problem:
        raise ConfigError(f"{source}: rewards.phases: {problem}")
    total = scheduled_total(phases)
    if total > room:
        raise ConfigError(
            f"{source}: rewards.phases schedule {total / WEI_PER_WATT:,.6f} WATT (its bound, "
            f"RewardsEngine.scheduledTotal) exceeds token.cap - rewards.genesis_supply = "
            f"{room / WEI_PER_WATT:,.0f} WATT"
        )
