"""The model's report: sentences built from the figures, deltas, CSV that pandas reads back,
tables that fit 80 columns, a single run's values, sweep plots of every moving metric."""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from wattnet.cli.sim_tables import WIDTH, delta_table, metrics_table, region_table, sweep_table
from wattnet.params import Params, apply_overrides
from wattnet.sim.model.compare import deltas, explain
from wattnet.sim.model.export import write_csv
from wattnet.sim.model.metrics import Summary, summarize
from wattnet.sim.model.montecarlo import ModelRun, run_model
from wattnet.sim.model.outcomes import SERIES
from wattnet.sim.model.plots import moving_metrics, plot_run, plot_sweep
from wattnet.sim.model.report_html import fmt, metrics_headers, metrics_rows, write_report

pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def run(small_local: Params) -> Callable[..., ModelRun]:
    @cache
    def go(name: str, runs: int = 3, **overrides: object) -> ModelRun:
        params = apply_overrides(small_local, overrides) if overrides else small_local
        # 812 days: past day 730, where the shocks start
        return run_model(params, name, runs=runs, seed=5, workers=1, days=812)

    return go


def _with(summary: Summary, **values: float) -> Summary:
    """``summary`` with the p50 of some metrics replaced."""
    metrics = tuple(dataclasses.replace(m, p50=values[m.key]) if m.key in values else m
                    for m in summary.metrics)
    return dataclasses.replace(summary, metrics=metrics)


def test_explain__states_the_attackers_figures_and_follows_them(
    run: Callable[..., ModelRun],
) -> None:
    base, scen = summarize(run("baseline")), summarize(run("fake-sessions"))
    text = explain(base, scen)
    v = {m.key: m.p50 for m in scen.metrics}
    for key in ("attack_gain", "attack_cost", "attack_loss"):
        assert fmt(v[key]) in text
    assert f"{v['attackers']:,.0f} attacking stations" in text
    # the verdict and its reason come from the numbers: flip them, the sentence flips
    won = explain(base, _with(scen, attack_pnl=1234.0, attack_gain=2000.0, attack_cost=300.0,
                              attack_loss=466.0))
    lost = explain(base, _with(scen, attack_pnl=-50.0, attack_gain=100.0, attack_cost=120.0,
                               attack_loss=30.0))
    assert "gained 1,234 USDC" in won and "its gain exceeded" in won
    assert "lost 50" in lost and "its cash cost exceeded what it gained" in lost
    free = explain(base, _with(scen, attack_pnl=10.0, attack_gain=10.0, attack_cost=0.0,
                               attack_loss=0.0))
    assert "nothing was ever found" in free
    idle = explain(base, _with(scen, attack_pnl=0.0, attack_gain=0.0, attack_cost=0.0,
                               attack_loss=0.0))
    assert "earns nothing under the contracts' rules" in idle and "exceeded" not in idle


def test_explain__names_the_largest_moves_with_their_figures(run: Callable[..., ModelRun]) -> None:
    base, scen = summarize(run("baseline")), summarize(run("token-up-shock"))
    text = explain(base, scen)
    top = next(d for d in deltas(base, scen) if math.isfinite(d.base)
               and math.isfinite(d.value)
               and d.key not in ("attack_pnl", "fraud_reward_share", "honest_payback_days",
                                 "attack_gain", "attack_cost", "attack_loss", "attackers"))
    assert top.label in text and fmt(top.value) in text
    # nothing moved: the sentence says so instead of inventing a cause
    same = explain(base, dataclasses.replace(base, scenario="token-up-shock"))
    assert "No metric moved" in same


def test_deltas__only_what_moved_plus_what_every_scenario_reports(
    run: Callable[..., ModelRun],
) -> None:
    base = summarize(run("baseline"))
    rows = deltas(base, dataclasses.replace(base, scenario="demand-shock"))
    assert {d.key for d in rows} == {"attack_pnl", "fraud_reward_share", "honest_payback_days"}
    moved = deltas(base, _with(base, price_final=base.metric("price_final").p50 * 2))
    assert moved[0].key == "price_final" and moved[0].change == pytest.approx(
        base.metric("price_final").p50)


def test_csv__round_trips_every_series_and_summary_through_pandas(
    run: Callable[..., ModelRun], tmp_path: Path
) -> None:
    runs = [run("baseline"), run("fraud-wave")]
    summaries = [summarize(r) for r in runs]
    write_csv([(r, None) for r in runs], [(s, None) for s in summaries], tmp_path)
    exact = {"keep_default_na": False, "na_values": ["nan"], "float_precision": "round_trip"}
    series = pd.read_csv(tmp_path / "series.csv", **exact)
    assert list(series.columns[5:]) == list(SERIES)
    for r in runs:
        part = series[series.scenario == r.scenario]
        assert len(part) == r.runs * r.inputs.epochs
        for key in SERIES:
            got = part[key].to_numpy(dtype=np.float64).reshape(r.runs, r.inputs.epochs)
            assert np.array_equal(got, r.batch.series[key], equal_nan=True), key
    summary = pd.read_csv(tmp_path / "summary.csv", **exact)
    for s in summaries:
        part = summary[summary.scenario == s.scenario].set_index("key")
        for m in s.metrics:
            assert part.loc[m.key, "p50"] == m.p50 or (math.isnan(m.p50)
                                                      and math.isnan(part.loc[m.key, "p50"]))
    per_region = pd.read_csv(tmp_path / "region_series.csv", **exact)
    r0 = runs[0]
    part = per_region[per_region.scenario == r0.scenario]
    got = part.kwh.to_numpy().reshape(r0.runs, r0.inputs.epochs, -1)
    assert np.array_equal(got, r0.batch.extra["region_kwh"])
    regions = pd.read_csv(tmp_path / "regions.csv")
    assert set(regions.region) == {r.region for r in summaries[0].regions}
    assert {"reward_per_kwh_p50", "multiplier_bps", "utilization_p50"} <= set(regions.columns)


def _render(table: object) -> list[str]:
    console = Console(width=WIDTH, record=True, color_system=None)
    console.print(table)
    return console.export_text().splitlines()


def test_tables__fit_80_columns_and_keep_every_number_whole(
    run: Callable[..., ModelRun],
) -> None:
    base, scen = summarize(run("baseline")), summarize(run("fraud-wave"))
    for table, numbers in (
        (metrics_table(base), [fmt(m.p95) for m in base.metrics]),
        (delta_table(base, scen), [fmt(d.value) for d in deltas(base, scen)]),
        (region_table(base), [fmt(r.reward_per_kwh_p50) for r in base.regions]),
    ):
        lines = _render(table)
        assert max(len(line) for line in lines) <= WIDTH
        text = "\n".join(lines)
        for n in numbers:
            assert n in text, n  # never split across lines


def test_single_run__shows_its_values_not_three_equal_percentiles(
    run: Callable[..., ModelRun],
) -> None:
    one = summarize(run("baseline", runs=1))
    assert metrics_headers(one) == ["metric", "unit", "value"]
    assert all(len(row) == 3 for row in metrics_rows(one))
    lines = _render(metrics_table(one))
    assert "p5" not in "\n".join(lines[:4]) and "1 run x" in "\n".join(lines)
    many = summarize(run("baseline"))
    assert metrics_headers(many)[2:] == ["p5", "p50", "p95"]


def test_sweep__plots_every_metric_that_moves_and_only_those(
    run: Callable[..., ModelRun], tmp_path: Path
) -> None:
    points = [{"model.treasury.buyback_share_bps": v} for v in (0, 3_000, 8_000)]
    rows = [(p, summarize(run("baseline", **p))) for p in points]
    moving = moving_metrics(rows)
    assert "burned_total" in moving and "price_final" in moving
    assert "attackers" not in moving  # fraud flags do not depend on the buy-back
    for key in moving:
        assert len({s.metric(key).p50 for _, s in rows}) > 1
    paths = plot_sweep(rows, tmp_path, per_page=12)
    assert len(paths) == math.ceil(len(moving) / 12)
    assert all(p.stat().st_size > 5_000 for p in paths)
    lines = _render(sweep_table(rows, moving))
    assert max(len(line) for line in lines) <= WIDTH
    html = write_report([], [], tmp_path, rows).read_text()
    assert all(key in html for key in moving)


def test_plots__baseline_line_shock_window_and_break_even_per_variant(
    run: Callable[..., ModelRun], tmp_path: Path
) -> None:
    base, scen = run("baseline"), run("demand-shock")
    paths = plot_run(scen, tmp_path, baseline=base)
    names = {p.stem for p in paths}
    assert {"demand-shock-breakeven", "demand-shock-price", "demand-shock-attack"} <= names
    report = write_report([summarize(base), summarize(scen)], paths, tmp_path).read_text()
    assert html.escape(explain(summarize(base), summarize(scen))) in report
    assert "Against the baseline" in report
