"""`wattnet sim network --seed N` is reproducible (issue 17, item 12): the plan comes from the
seed alone, never from the node's block hashes, and starts at the same offset into an epoch, so
two runs on fresh anvils give the same stations, drivers, sessions and on-chain figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from wattnet.params import load_params
from wattnet.sim.network.plan import EPOCH_S, aligned_start, make_plan, run_tag
from wattnet.sim.network.run import NetworkOptions, NetworkResult, run_network


def sessions(result: NetworkResult) -> list[tuple[Any, ...]]:
    """Each session relative to the run's start (absolute times are the chain's)."""
    p = result.plan
    return [(s.charger, s.session_id, s.driver, s.start - p.t0, s.end - p.t0, s.energy_wh, s.cost)
            for s in p.sessions]


def figures(result: NetworkResult) -> dict[str, Any]:
    return {item: values for item, values in result.actual.items()}


@pytest.mark.slow
def test_same_seed__same_sessions_and_figures(tmp_path: Path) -> None:
    runs = [run_network(NetworkOptions(chargers=3, drivers=6, days=1, seed=11,
                                       workdir=tmp_path / str(i))) for i in range(2)]
    a, b = runs
    assert a.ok and b.ok
    assert a.plan.tag == b.plan.tag
    assert [c.cp_id for c in a.plan.chargers] == [c.cp_id for c in b.plan.chargers]
    assert [d.address for d in a.plan.drivers] == [d.address for d in b.plan.drivers]
    assert len(sessions(a)) > 5 and sessions(a) == sessions(b)
    assert (a.plan.t0 - a.genesis) % EPOCH_S == (b.plan.t0 - b.genesis) % EPOCH_S
    assert figures(a) == figures(b)
    assert a.watt_supply == b.watt_supply


def test_plan__another_seed_is_another_plan() -> None:
    params = load_params("local")
    kw: dict[str, Any] = {"chargers": 5, "drivers": 10, "days": 1, "t0": 10_000,
                          "genesis": 5_000, "cap_unit": 10**6}
    one = make_plan(params, seed=1, tag=run_tag(1, lambda a: False), **kw)
    again = make_plan(params, seed=1, tag=run_tag(1, lambda a: False), **kw)
    other = make_plan(params, seed=2, tag=run_tag(2, lambda a: False), **kw)
    assert one.sessions == again.sessions and one.sessions != other.sessions


def test_run_tag__a_chain_that_ran_the_seed_gets_the_next_tag() -> None:
    used: set[str] = set()
    first = run_tag(5, lambda a: a in used)
    from wattnet.sim.network.plan import derive_address

    used.add(derive_address(5, first, "oracle"))
    second = run_tag(5, lambda a: a in used)
    assert second != first and run_tag(5, lambda a: False) == first


@pytest.mark.parametrize("since_genesis", [0, 45, 3_000, EPOCH_S - 10, 3 * EPOCH_S + 17])
def test_aligned_start__same_offset_into_the_epoch_and_enough_lead(since_genesis: int) -> None:
    genesis, lead = 1_700_000_000, 605
    t0 = aligned_start(genesis, genesis + since_genesis, lead)
    assert t0 >= genesis + since_genesis + lead
    assert (t0 - genesis) % EPOCH_S == lead + 3_600
