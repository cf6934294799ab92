"""Monte Carlo: runs split into batches, batches spread over all cores, results merged.

Each run draws from its own stream ``SeedSequence(seed, spawn_key=(run,))``, so a run's result
depends only on (params, seed, run index): not on the number of workers or the batch size.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context

import numpy as np

from wattnet.params import Params
from wattnet.sim.model.dynamics import simulate
from wattnet.sim.model.outcomes import Batch
from wattnet.sim.model.scenarios import apply_scenario
from wattnet.sim.model.state import Inputs, build_inputs

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (runs done, runs total)


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
) -> ModelRun:
    """Run ``runs`` Monte Carlo runs of ``scenario`` and merge them (in run order)."""
    scenario_params = apply_scenario(params, scenario)
    inp = build_inputs(scenario_params, days=days, stations=stations)
    workers = max(1, min(workers or os.cpu_count() or 1, runs))
    chunks = _chunks(runs, workers, inp.stations)
    started = time.perf_counter()
    done = 0
    batches: list[Batch] = []
    if workers == 1:
        for chunk in chunks:
            batches.append(simulate(inp, chunk, seed))
            done += len(chunk)
            if progress:
                progress(done, runs)
    else:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(simulate, inp, chunk, seed) for chunk in chunks]
            for fut in as_completed(futures):
                batch = fut.result()
                batches.append(batch)
                done += len(batch.run_ids)
                if progress:
                    progress(done, runs)
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
