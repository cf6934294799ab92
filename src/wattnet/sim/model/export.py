"""CSV export of a model run: every time series per run and epoch, the summaries and the regions,
so an analyst loads them with ``pandas.read_csv`` (or any CSV reader) in a notebook.

Files (in the ``--out`` directory): ``series.csv`` (scenario, point, run, epoch, day, then one
column per series of :data:`outcomes.SERIES` in model units: money in credit units, tokens in
WATT), ``region_series.csv`` (scenario, point, run, epoch, region, kwh served, WATT accrued),
``summary.csv`` (scenario, point, key, label, unit, p5, p50, p95) and ``regions.csv``.
``point`` is the sweep point (``key=value;...``), empty outside a sweep. Numbers are written
with ``repr`` (round-trip exact: ``pandas.read_csv(..., float_precision="round_trip")`` reads
them back bit for bit); ``inf`` and ``nan`` as Python spells them, which pandas reads.
Parquet is not written: pyarrow is not a dependency.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from wattnet.sim.model.metrics import Summary
from wattnet.sim.model.montecarlo import ModelRun
from wattnet.sim.model.outcomes import SERIES
from wattnet.sim.model.state import DAYS_PER_EPOCH


def point_label(point: dict[str, Any] | None) -> str:
    return "" if not point else ";".join(f"{k}={v}" for k, v in point.items())


def _write(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def write_csv(
    runs: Sequence[tuple[ModelRun, dict[str, Any] | None]],
    summaries: Sequence[tuple[Summary, dict[str, Any] | None]],
    out: Path,
) -> list[Path]:
    """Write the CSV files above into ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)

    def series_rows() -> Iterable[list[Any]]:
        for run, point in runs:
            s = run.batch.series
            label = point_label(point)
            stacked = np.stack([s[k] for k in SERIES], axis=-1)  # (runs, epochs, series)
            for i, run_id in enumerate(run.batch.run_ids):
                for e in range(run.inputs.epochs):
                    yield [run.scenario, label, run_id, e, (e + 1) * DAYS_PER_EPOCH,
                           *(repr(float(x)) for x in stacked[i, e])]

    def region_series_rows() -> Iterable[list[Any]]:
        for run, point in runs:
            label = point_label(point)
            kwh, rew = run.batch.extra["region_kwh"], run.batch.extra["region_rewards"]
            names = [r.name for r in run.inputs.cfg.regions]
            for i, run_id in enumerate(run.batch.run_ids):
                for e in range(run.inputs.epochs):
                    for g, name in enumerate(names):
                        yield [run.scenario, label, run_id, e, name, repr(float(kwh[i, e, g])),
                               repr(float(rew[i, e, g]))]

    def summary_rows() -> Iterable[list[Any]]:
        for summary, point in summaries:
            for m in summary.metrics:
                yield [summary.scenario, point_label(point), m.key, m.label, m.unit,
                       repr(m.p5), repr(m.p50), repr(m.p95)]

    def region_rows() -> Iterable[list[Any]]:
        for summary, point in summaries:
            for r in summary.regions:
                yield [summary.scenario, point_label(point),
                       *(repr(v) if isinstance(v, float) else v for v in asdict(r).values())]

    region_cols = list(asdict(summaries[0][0].regions[0])) if summaries else ["region"]
    return [
        _write(out / "series.csv", ["scenario", "point", "run", "epoch", "day", *SERIES],
               series_rows()),
        _write(out / "region_series.csv",
               ["scenario", "point", "run", "epoch", "region", "kwh", "rewards_watt"],
               region_series_rows()),
        _write(out / "summary.csv",
               ["scenario", "point", "key", "label", "unit", "p5", "p50", "p95"],
               summary_rows()),
        _write(out / "regions.csv", ["scenario", "point", *region_cols], region_rows()),
    ]
