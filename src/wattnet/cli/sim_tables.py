"""Rich tables of ``wattnet sim model``, each fitting an 80-column terminal: labels fold, numbers
never wrap. A single run shows its values; a scenario next to the baseline shows the deltas."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from rich import box
from rich.table import Table

from wattnet.sim.model.compare import deltas
from wattnet.sim.model.metrics import Summary
from wattnet.sim.model.report_html import fmt, metrics_headers, metrics_rows

WIDTH = 80


def _table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    for i, h in enumerate(headers):
        if i == 0:
            table.add_column(h, overflow="fold", ratio=1, min_width=16)
        else:
            table.add_column(h, justify="right" if i > 1 or h != "unit" else "left",
                             no_wrap=True)
    for row in rows:
        table.add_row(*(fmt(c) if isinstance(c, int | float) else str(c) for c in row))
    return table


def metrics_table(summary: Summary) -> Table:
    title = (f"{summary.scenario}: {summary.runs} run{'s' if summary.runs > 1 else ''} x "
             f"{summary.stations:,} stations x {summary.days:,} days (seed {summary.seed})")
    return _table(title, metrics_headers(summary), metrics_rows(summary))


def _signed(x: float) -> str:
    if math.isinf(x):
        return "-> never" if x > 0 else "-inf"
    return ("+" if x > 0 else "") + fmt(x)


def delta_table(base: Summary, scen: Summary) -> Table:
    rows = [[f"{d.label} ({d.unit})", fmt(d.base), fmt(d.value), _signed(d.change)]
            for d in deltas(base, scen)]
    return _table(f"{scen.scenario} against baseline (p50; moves over 0.1 %)",
                  ["metric (unit)", "baseline", scen.scenario[:14], "change"], rows)


def region_table(summary: Summary) -> Table:
    rows = [[r.region, r.stations, r.payback_days_p50, r.yield_p50, r.multiplier_bps,
             r.utilization_p50, r.reward_per_kwh_p50, r.relative_reward_p50]
            for r in summary.regions]
    return _table(f"{summary.scenario}: by region (p50; rel: WATT per kWh over the network's "
                  "in the same epochs)",
                  ["region", "slots", "payback d", "yield/yr", "mult", "util", "WATT/kWh",
                   "rel"], rows)


def sweep_table(rows: Sequence[tuple[dict[str, Any], Summary]], moving: Sequence[str],
                shown: int = 3) -> Table:
    """Points as rows, the ``shown`` moving metrics with the widest relative spread."""
    def spread(key: str) -> float:
        v = [s.metric(key).p50 for _, s in rows if math.isfinite(s.metric(key).p50)]
        if len(v) < 2:
            return math.inf
        return (max(v) - min(v)) / max(abs(max(v)), abs(min(v)), 1e-300)

    cols = sorted(moving, key=lambda k: -spread(k))[:shown]
    keys = list(rows[0][0])
    table = _table(f"Sweep (p50): {len(moving)} metrics move; widest {len(cols)} shown, "
                   "all in report.html and summary.csv",
                   ["point", *cols],
                   [[", ".join(f"{k.rsplit('.', 1)[-1]}={p[k]}" for k in keys),
                     *(s.metric(c).p50 for c in cols)] for p, s in rows])
    return table
