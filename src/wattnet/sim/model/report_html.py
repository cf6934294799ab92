"""One self-contained HTML report: tables and the plots embedded as base64 PNGs."""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wattnet.sim.model.metrics import Summary

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}
"""


def fmt(value: float) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "-"
    if isinstance(value, float) and math.isinf(value):
        return "never" if value > 0 else "-inf"
    if abs(value) >= 1000 or float(value).is_integer():
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.4g}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{fmt(c)}</td>'
            if isinstance(c, int | float)
            else f"<td>{html.escape(str(c))}</td>"
            for c in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def metrics_rows(summary: Summary) -> list[list[Any]]:
    """One run: label, unit, value; several: label, unit, p5, p50, p95."""
    if summary.runs == 1:
        return [[m.label, m.unit, m.p50] for m in summary.metrics]
    return [[m.label, m.unit, m.p5, m.p50, m.p95] for m in summary.metrics]


def metrics_headers(summary: Summary) -> list[str]:
    return ["metric", "unit", *(("value",) if summary.runs == 1 else ("p5", "p50", "p95"))]


def region_rows(summary: Summary) -> list[list[Any]]:
    return [
        [
            r.region,
            r.stations,
            r.payback_days_p5,
            r.payback_days_p50,
            r.payback_days_p95,
            r.yield_p50,
            r.multiplier_bps,
            r.utilization_p50,
            r.reward_per_kwh_p50,
            r.relative_reward_p50,
        ]
        for r in summary.regions
    ]


def write_report(
    summaries: Sequence[Summary],
    plots: Sequence[Path],
    out: Path,
    sweep: Sequence[tuple[dict[str, Any], Summary]] = (),
) -> Path:
    """Write ``out/report.html`` and return its path."""
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>WattNet model</title>"
        f"<style>{_CSS}</style></head><body><h1>WattNet token-economy model</h1>"
    ]
    from wattnet.sim.model.compare import deltas, explain
    from wattnet.sim.model.plots import moving_metrics

    base = next((x for x in summaries if x.scenario == "baseline"), None)
    for s in summaries:
        parts.append(
            f"<h2>Scenario {html.escape(s.scenario)}</h2><p>network {html.escape(s.network)}, "
            f"{s.runs} runs x {s.stations:,} stations x {s.days:,} days, seed {s.seed}; "
            f"conservation {'holds' if s.conservation_ok else 'BROKEN'}</p>"
        )
        if base is not None and s is not base:
            parts.append(f"<p><b>{html.escape(explain(base, s))}</b></p>")
            parts.append(
                "<p>Against the baseline (p50 over runs; the metrics that moved):</p>"
                + _table(["metric", "unit", "baseline", s.scenario, "change"],
                         [[d.label, d.unit, d.base, d.value, d.change] for d in deltas(base, s)])
            )
        else:
            parts.append(_table(metrics_headers(s), metrics_rows(s)))
        parts.append(
            _table(
                [
                    "region",
                    "slots",
                    "payback p5 (d)",
                    "payback p50 (d)",
                    "payback p95 (d)",
                    "yield p50 (/yr)",
                    "multiplier (bps)",
                    "utilization p50",
                    "WATT per kWh p50",
                    "vs network, same epochs",
                ],
                region_rows(s),
            )
        )
    if sweep:
        keys = list(sweep[0][0])
        moving = moving_metrics(sweep)
        rows = [[*(str(p[k]) for k in keys), *(s.metric(c).p50 for c in moving)]
                for p, s in sweep]
        parts.append("<h2>Sweep (p50): every metric that moves</h2>"
                     + _table([*keys, *moving], rows))
    for path in plots:
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        parts.append(
            f"<h3>{html.escape(path.stem)}</h3><img alt='{html.escape(path.stem)}' "
            f"src='data:image/png;base64,{data}'>"
        )
    parts.append("</body></html>")
    out.mkdir(parents=True, exist_ok=True)
    report = out / "report.html"
    report.write_text("\n".join(parts), encoding="utf-8")
    return report
