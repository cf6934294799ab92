"""Monte Carlo: runs split into batches, batches spread over an engine's workers (all local
cores by default, or a Dask cluster: engines.py), results merged.

Each run draws from its own stream ``SeedSequence(seed, spawn_key=(run,))``, so a run's result
depends only on (params, seed, run index): not on the number of workers or the batch size.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass

import numpy as np

from wattnet.params import Params
from wattnet.sim.model.engines import Engine, LocalEngine
from wattnet.sim.model.outcomes import Batch
from wattnet.sim.model.scenarios import apply_scenario
from wattnet.sim.model.state import Inputs, build_inputs

log = logging.getLogger(__name__)

Progress = Callable[[float, int], None]  # (runs done, fractional; runs total)


@dataclass(frozen=True, slots=True)
class ModelRun:
    params: Params
    scenario: str
    seed: int
    inputs: Inputs
    batch: Batch
    elapsed_s: float

    @property
    def runs(self) -> int:
        return len(self.batch.run_ids)

    @property
    def station_days(self) -> int:
        return self.runs * self.inputs.stations * self.inputs.days


def merge(batches: list[Batch]) -> Batch:
    batches = sorted(batches, key=lambda b: b.run_ids[0])
    first = batches[0]
    return Batch(
        run_ids=[r for b in batches for r in b.run_ids],
        series={k: np.concatenate([b.series[k] for b in batches]) for k in first.series},
        ledger={k: np.concatenate([b.ledger[k] for b in batches]) for k in first.ledger},
        fees={k: np.concatenate([b.fees[k] for b in batches]) for k in first.fees},
        payback_days=np.concatenate([b.payback_days for b in batches]),
        yield_=np.concatenate([b.yield_ for b in batches]),
        gini=np.concatenate([b.gini for b in batches]),
        top_operator_share=np.concatenate([b.top_operator_share for b in batches]),
        top_regional_share=np.concatenate([b.top_regional_share for b in batches]),
        extra={k: np.concatenate([b.extra[k] for b in batches]) for k in first.extra},
    )


def _chunks(runs: int, workers: int, stations: int) -> list[list[int]]:
    """Batches of run ids: a multiple of ``workers`` (balanced cores, a moving progress bar),
    each at most about 2e5 station slots so the per-station arrays stay in cache-friendly sizes."""
    per_round = math.ceil(runs * stations / (workers * 200_000))
    n_chunks = min(runs, workers * max(1, per_round))
    size = math.ceil(runs / n_chunks)
    return [list(range(i, min(i + size, runs))) for i in range(0, runs, size)]


def run_model(
    params: Params,
    scenario: str = "baseline",
    runs: int = 20,
    seed: int = 0,
    days: int | None = None,
    stations: int | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    engine: Engine | None = None,
) -> ModelRun:
    """Run ``runs`` Monte Carlo runs of ``scenario`` and merge them (in run order).

    ``engine`` runs the batches (see engines.py); without one, a local pool of ``workers``
    processes is started for this call and stopped after it (its start-up counts in elapsed_s).
    """
    scenario_params = apply_scenario(params, scenario)
    inp = build_inputs(scenario_params, days=days, stations=stations)
    started = time.perf_counter()
    with ExitStack() as stack:
        if engine is None:
            pool = max(1, min(workers or os.cpu_count() or 1, runs))
            engine = stack.enter_context(LocalEngine(pool))
        chunks = _chunks(runs, max(1, min(engine.slots, runs)), inp.stations)
        frac = dict.fromkeys(range(len(chunks)), 0.0)  # share of each batch's epochs done

        def report(k: int, share: float) -> None:
            frac[k] = max(frac[k], share)
            if progress:
                progress(sum(frac[j] * len(chunks[j]) for j in frac), runs)

        batches = engine.run(inp, chunks, seed, report if progress else None)
    elapsed = time.perf_counter() - started
    log.info(
        "scenario %s: %d runs x %d stations x %d days in %.1f s",
        scenario,
        runs,
        inp.stations,
        inp.days,
        elapsed,
    )
    return ModelRun(scenario_params, scenario, seed, inp, merge(batches), elapsed)
