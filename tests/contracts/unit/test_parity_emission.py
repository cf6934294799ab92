"""Parity: the emission schedule on chain is wattnet.econ.emission, to the wei, and the chain
refuses exactly the schedules the rules refuse. Hypothesis draws phases (decay up to 100 %,
emissions up to uint128, up to 34 phases, a wei either side of the cap); the test deploys a
RewardsEngine with them and compares ``emissionOf``, ``scheduledTotal`` and a later
``setSchedule`` with the rules."""

from __future__ import annotations

from typing import Any

import ape
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from wattnet.chain import roles
from wattnet.chain.deploy import WAD
from wattnet.econ.emission import (
    consecutive,
    emission_of,
    schedule_error,
    scheduled_total,
)
from wattnet.governance.schedule import cut

PARITY = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
U128 = 2**128 - 1
SPAN = st.tuples(st.integers(1, 400), st.sampled_from([0, 1, 20, 50, 5_000, 9_999, 10_000]),
                 st.sampled_from([0, 1, WAD, 1_500_000 * WAD, 10**27 + 7, U128]))
SCHEDULES = st.one_of(
    st.lists(SPAN, max_size=4),
    st.integers(31, 34).map(lambda n: [(1, 0, WAD)] * n),  # around RewardsEngine.MAX_PHASES
)
# the cap: unbounded, or a wei either side of the schedule's bound
HEADROOM = st.sampled_from([None, -1, 0, 1])


def deploy(project: Any, governor: Any, watt: Any, genesis: int, max_emission: int,
           phases: list[tuple[int, int, int, int]]) -> Any:
    return project.RewardsEngine.deploy(governor, watt, genesis, max_emission, phases,
                                        sender=governor)


@PARITY
@given(spans=SCHEDULES, headroom=HEADROOM, probes=st.lists(st.integers(0, 2_000), max_size=6))
@example(spans=[(104, 50, 1_500_000 * WAD), (208, 20, 600_000 * WAD)], headroom=0, probes=[103])
@example(spans=[(104, 50, 1_500_000 * WAD)], headroom=-1, probes=[])  # one wei over the cap
@example(spans=[(5, 10_000, WAD)], headroom=None, probes=[])  # a phase decaying by 100 %
@example(spans=[(1, 0, WAD)] * 33, headroom=None, probes=[])  # one phase too many
@example(spans=[(3, 9_999, U128)], headroom=None, probes=[1, 2])  # the largest emission
def test_parity_emission__constructor_emission_of_and_scheduled_total(
        spans: list[tuple[int, int, int]], headroom: int | None, probes: list[int],
        project: Any, chain: Any, governor: Any, watt: Any) -> None:
    phases = consecutive(spans)
    bound = scheduled_total(phases)
    max_emission = 2**256 - 1 if headroom is None else max(bound + headroom, 0)
    genesis = int(chain.blocks.head.timestamp)
    problem = schedule_error([], phases, 0, max_emission)
    event("refused" if problem else "deployed")
    if problem:
        with ape.reverts():
            deploy(project, governor, watt, genesis, max_emission, phases)
        return
    engine = deploy(project, governor, watt, genesis, max_emission, phases)
    assert int(engine.scheduledTotal()) == bound
    ends = [p[1] for p in phases]
    for epoch in {*probes, *ends, *(e - 1 for e in ends), 0}:
        assert int(engine.emissionOf(epoch)) == emission_of(phases, epoch), epoch


@PARITY
@given(spans=st.lists(SPAN, min_size=1, max_size=3), later=st.lists(SPAN, max_size=3),
       cut_at=st.integers(1, 500), headroom=HEADROOM)
def test_parity_emission__set_schedule_keeps_cuts_and_checks_like_the_rules(
        spans: list[tuple[int, int, int]], later: list[tuple[int, int, int]], cut_at: int,
        headroom: int | None, project: Any, chain: Any, governor: Any, watt: Any) -> None:
    phases = consecutive([(n, min(d, 9_999), min(e, 10**27)) for n, d, e in spans])
    nxt = consecutive(later, start=cut_at)
    kept = cut(phases, cut_at)
    want = scheduled_total(kept + nxt)
    max_emission = 2**256 - 1 if headroom is None else max(want + headroom,
                                                            scheduled_total(phases))
    engine = deploy(project, governor, watt, int(chain.blocks.head.timestamp), max_emission,
                    phases)
    engine.grantRole(roles.PARAMS_ROLE, governor, sender=governor)
    problem = schedule_error(kept, nxt, cut_at, max_emission)
    event("refused" if problem else "changed")
    if problem:
        with ape.reverts():
            engine.setSchedule(cut_at, nxt, sender=governor)
        return
    engine.setSchedule(cut_at, nxt, sender=governor)
    assert [tuple(int(x) for x in p) for p in engine.phases()] == [*kept, *nxt]
    assert int(engine.scheduledTotal()) == want
    for epoch in (0, cut_at - 1, cut_at, cut_at + 1, *(p[1] for p in nxt)):
        assert int(engine.emissionOf(epoch)) == emission_of([*kept, *nxt], epoch)
