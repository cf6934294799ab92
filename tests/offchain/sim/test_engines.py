"""The model on a Dask cluster (a real ``distributed.LocalCluster`` of worker processes) gives
the local run's results bit for bit; without Dask, ``--engine dask`` says which extra to install."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from distributed import LocalCluster

from wattnet.cli.sim import sim
from wattnet.errors import ConfigError
from wattnet.params import Params
from wattnet.sim.model.engines import DaskEngine, LocalEngine, open_engine, worker_env
from wattnet.sim.model.montecarlo import run_model
from wattnet.sim.model.outcomes import Batch
from wattnet.sim.model.sweeps import grid, parse_axis, validate_points

pytestmark = pytest.mark.timeout(180)  # a stuck cluster fails the test instead of the suite
REPO = Path(__file__).resolve().parents[3]
TINY: dict[str, Any] = {"days": 91, "stations": 200}
SWEEP = "model.market.reward_sell_bps=1000,9000"


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A small Dask cluster on this machine: two single-threaded worker processes, with Dask's
    default settings (its nanny writes MALLOC_TRIM_THRESHOLD_ and others into this process's
    environment: put back afterwards, so later tests' process pools do not inherit them)."""
    saved = dict(os.environ)
    try:
        with LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, memory_limit="1GiB",
            dashboard_address=":0",
        ) as cluster:
            assert os.environ.get("MALLOC_TRIM_THRESHOLD_") == "65536"  # Dask's default
            yield str(cluster.scheduler_address)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def assert_identical(a: Batch, b: Batch) -> None:
    """Every array of the two batches equal element for element, with the same dtype."""
    assert a.run_ids == b.run_ids
    for group in ("series", "ledger", "fees"):
        ga, gb = getattr(a, group), getattr(b, group)
        assert ga.keys() == gb.keys(), group
        for key in ga:
            assert ga[key].dtype == gb[key].dtype, (group, key)
            assert np.array_equal(ga[key], gb[key], equal_nan=True), (group, key)
    for name in ("payback_days", "yield_", "gini", "top_operator_share", "top_regional_share"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True), name


def test_dask__monte_carlo_equals_the_local_run_bit_for_bit(
    small_local: Params, scheduler: str, caplog: pytest.LogCaptureFixture
) -> None:
    local = run_model(small_local, "fraud-wave", runs=5, seed=3, workers=1, **TINY)
    with DaskEngine(scheduler) as engine:
        # The fixture's workers keep Dask's default malloc setting: the engine says what it costs.
        assert "2 Dask workers run with MALLOC_TRIM_THRESHOLD_ set" in caplog.text
        assert engine.slots == 2  # so the five runs go out in batches unlike the local one's
        on_dask = run_model(small_local, "fraud-wave", runs=5, seed=3, engine=engine, **TINY)
        other_seed = run_model(small_local, "fraud-wave", runs=5, seed=4, engine=engine, **TINY)
    assert_identical(local.batch, on_dask.batch)
    assert not np.array_equal(local.batch.series["price"], other_seed.batch.series["price"])


def test_dask__sweep_equals_the_local_sweep_bit_for_bit(
    small_local: Params, scheduler: str
) -> None:
    points = validate_points(small_local, grid([parse_axis(SWEEP)]))
    with LocalEngine(2) as pool, DaskEngine(scheduler) as cluster:
        for params in points:
            local = run_model(params, runs=4, seed=7, engine=pool, **TINY).batch
            on_dask = run_model(params, runs=4, seed=7, engine=cluster, **TINY).batch
            assert_identical(local, on_dask)


def test_cli__engine_dask_sweep_prints_the_local_results(scheduler: str) -> None:
    args = ["model", "--params", str(REPO / "params" / "local.yaml"), "--runs", "3",
            "--stations", "150", "--days", "70", "--sweep", SWEEP, "--json"]
    runs = [CliRunner().invoke(sim, [*args, *extra]) for extra in
            (["--workers", "1"], ["--engine", "dask", "--dask-scheduler", scheduler])]
    assert [r.exit_code for r in runs] == [0, 0], [r.output for r in runs]
    local, on_dask = (json.loads(r.output) for r in runs)
    assert len(local["sweep"]) == 2 and local == on_dask


def test_cli__engine_dask_without_the_extra_is_one_line_naming_it() -> None:
    # The interpreter as it would be without Dask installed: importing distributed fails.
    code = (
        "import sys; sys.modules['distributed'] = None\n"
        "from wattnet.cli.main import main\n"
        "main(['sim', 'model', '--runs', '1', '--days', '7', '--stations', '10', "
        "'--engine', 'dask'])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: --engine dask needs the optional Dask extra: pip install 'wattnet[dask]'"
    ]
    assert done.stdout == ""


def test_dask__workers_it_starts_itself_run_without_malloc_trim() -> None:
    with DaskEngine(None, workers=1) as engine:
        assert engine.slots == 1
        assert list(engine._client.run(worker_env, "MALLOC_TRIM_THRESHOLD_").values()) == [None]


def test_open_engine__scheduler_address_needs_engine_dask() -> None:
    with pytest.raises(ConfigError, match="--dask-scheduler needs --engine dask"):
        open_engine("local", "tcp://127.0.0.1:8786")
