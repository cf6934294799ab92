"""The model's fee bound on rewards (RewardsEngine._share) and what it does to self-charging."""

from __future__ import annotations

import dataclasses
import json
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wattnet.params import Params, apply_overrides, load_params
from wattnet.sim.model.bound import FeeBound, fee_bounded_reward, watt_price
from wattnet.sim.model.config import DEFAULT_REGIONS
from wattnet.sim.model.metrics import conservation_ok, summarize
from wattnet.sim.model.montecarlo import ModelRun, run_model
from wattnet.sim.model.plots import plot_run
from wattnet.sim.model.report_html import write_report
from wattnet.sim.model.state import build_inputs

REPO = Path(__file__).resolve().parents[3]
SMALL = {"days": 1_092, "stations": 600}


@cache
def local() -> Params:
    return load_params(REPO / "params" / "local.yaml")


@cache
def local_run(scenario: str) -> ModelRun:
    """params/local.yaml as written: 10,000 stations over ten years."""
    return run_model(local(), scenario, runs=2, seed=3, workers=1)


def window_params(fee_multiple_bps: int = 10_000) -> Params:
    """A small network where self-charging can pay: dear tariffs and cheap electricity leave honest
    traffic room under the bound (fee multiple x treasury share x tariff > electricity + treasury
    share at the minimum tariff), and an emission small enough that the weight share, valued at
    the floor, stays inside it. A fifth of the stations wash when it pays."""
    scale = SMALL["stations"] / 10_000
    regions = [
        dict(
            dataclasses.asdict(r),
            drivers=int(r.drivers * scale),
            tariff_per_kwh=1_500_000,
            electricity_cost_per_kwh=50_000,
        )
        for r in DEFAULT_REGIONS
    ]
    return apply_overrides(
        local(),
        {
            "model.regions": regions,
            "rewards.fee_multiple_bps": fee_multiple_bps,
            "settlement.operator_share_bps": 6_500,
            "settlement.treasury_share_bps": 3_000,
            "settlement.referrer_share_bps": 500,
            "model.adversaries.wash_station_share_bps": 2_000,
            "rewards.phases": [
                {"name": "first", "epochs": 52, "emission_per_epoch": 30_000},
                {"name": "halved", "epochs": 104, "emission_per_epoch": 15_000},
            ],
        },
    )


# ---- the bound, worked by hand -----------------------------------------------------------------


def test_fee_bounded_reward__worked_by_hand() -> None:
    # 0.15 USDC left with the treasury, half of it at 0.10 USDC/WATT: 0.75 WATT
    assert fee_bounded_reward(5_000_000, 150_000, 5_000, 100_000.0) == 750_000
    # the same fee at 0.30 USDC/WATT: 0.25 WATT
    assert fee_bounded_reward(5_000_000, 150_000, 5_000, 300_000.0) == 250_000
    # a weight share below the bound is paid in full
    assert fee_bounded_reward(200_000, 150_000, 5_000, 100_000.0) == 200_000
    # one credit unit at 0.30 USDC/WATT bounds the reward to 1.67 uWATT: one floor, like the
    # contract (1e12 USD wei x 5000 x 1e18 / (1e4 x 3e17) = 1,666,666,666 WATT wei)
    assert fee_bounded_reward(5_000_000, 1, 5_000, 300_000.0) == 1
    # no fees, no reward, whatever the weight
    assert fee_bounded_reward(5_000_000, 0, 5_000, 100_000.0) == 0
    # below the floor the floor prices the reward: 0.75 WATT, not 1.5 WATT at 0.05 USDC/WATT
    assert watt_price(50_000.0, 100_000.0) == 100_000.0
    assert fee_bounded_reward(5_000_000, 150_000, 5_000, watt_price(50_000.0, 100_000.0)) == 750_000
    # element-wise over (runs, stations), one price per run
    out = fee_bounded_reward(
        np.array([[5_000_000, 5_000_000], [7, 5_000_000]]),
        np.array([[150_000, 1], [150_000, 150_000]]),
        5_000,
        np.array([[300_000.0], [100_000.0]]),
    )
    assert out.dtype == np.int64 and out.tolist() == [[250_000, 1], [7, 750_000]]


@given(
    by_weight=st.integers(0, 10**13),
    fee=st.integers(0, 5 * 10**9),
    multiple=st.integers(1, 10_000),
    price=st.integers(1, 10**12),
)
def test_fee_bounded_reward__equals_the_contracts_integer_formula(
    by_weight: int, fee: int, multiple: int, price: int
) -> None:
    # RewardsEngine._share with 6-decimal credits: fees and price in USD wei (x 1e12), WATT wei;
    # the model's uWATT are the contract's wei // 1e12
    fees_wei, price_wei = fee * 10**12, price * 10**12
    by_fees = fees_wei * multiple * 10**18 // (10_000 * price_wei) // 10**12
    assert fee_bounded_reward(by_weight, fee, multiple, float(price)) == min(by_weight, by_fees)


def test_inputs__floor_and_multiple_come_from_the_params_file() -> None:
    inp = build_inputs(local(), days=7, stations=10)
    assert inp.fee_multiple_bps == 8_500
    assert inp.price_floor == 100_000.0  # 0.10 USD per WATT in USDC units (6 decimals)
    elec = np.array([r.electricity_cost_per_kwh for r in inp.cfg.regions], dtype=np.float64)
    tariff = np.array([r.tariff_per_kwh for r in inp.cfg.regions], dtype=np.float64)
    b = FeeBound.of(inp, tariff, elec)
    # the fee record counts the treasury's own 15 %, referred or not (an unreferred session's
    # 5 % goes to the treasury too but lifts no bound); self-charging loses those 15 % too
    assert b.share == b.wash_share == 8_500 * 1_500 / 10_000**2  # 85 % of 15 %
    assert b.wash_cost[0] == 180_000 + 7_500 and b.honest_cap[0] == b.share * 450_000
    assert (b.wash_cost > b.honest_cap).all()  # no local region has a window


def hand_bound() -> FeeBound:
    # region 0: tariff 1.00, electricity 0.05; region 1: tariff 0.10 (USDC per kWh);
    # multiple 100 %, treasury 30 %, minimum tariff 0.05, floor 0.10 USDC/WATT
    return FeeBound(
        fee_multiple_bps=10_000,
        floor=100_000.0,
        share=0.3,
        wash_share=0.3,
        min_tariff=50_000,
        wash_cost=np.array([50_000 + 15_000, 50_000 + 15_000], dtype=np.float64),
        honest_cap=np.array([300_000, 30_000], dtype=np.float64),
    )


def test_break_even__a_window_worked_by_hand() -> None:
    b = hand_bound()
    rate = np.array([[1.0, 1.0]])  # 1 WATT per kWh by weight
    # a self-charged kWh costs 0.065 and earns 1 WATT while the honest room lasts
    assert b.breakeven(rate).tolist() == [65_000.0]
    pays = {p: b.pays(np.array([p]), rate).tolist() for p in (60e3, 80e3, 250e3, 400e3)}
    assert pays == {
        60e3: [[False, False]],  # 1 WATT is worth less than it costs
        80e3: [[True, False]],  # region 1: an honest kWh's reward may be worth 0.03 at most
        250e3: [[True, False]],
        400e3: [[False, False]],  # 1 WATT at 0.40 is worth more than 0.30: the bound binds
    }
    # a weight rate that, even at the floor, is worth more than the honest bound: no room
    assert np.isinf(b.breakeven(np.array([[4.0, 4.0]]))).all()
    assert np.isinf(b.breakeven(np.zeros((1, 2)))).all()


def test_wash_wh__fills_exactly_the_room_honest_traffic_leaves() -> None:
    b = hand_bound()
    one = np.array([1.0])
    honest, tariff, room, wp = np.array([1_000_000]), np.array([1_000_000]), 2_000_000, 200_000.0
    # 1,000 honest kWh at 1.00 allow 0.3 x 1000 / 0.2 = 1,500 WATT and earn 1,000 by weight:
    # 500 WATT of room; a self-charged kWh earns 1 WATT and adds 0.3 x 0.05 / 0.2 = 0.075 WATT
    # of room, so 500 / 0.925 = 540.54 kWh fill it
    w = b.wash_wh(one, honest, tariff, np.array([room]), np.array([wp]))
    assert w.tolist() == [540_540]
    assert b.wash_wh(one, honest, tariff, np.array([100_000]), np.array([wp])).tolist() == [100_000]
    assert b.wash_wh(one, honest, tariff, np.array([room]), np.array([400_000.0])).tolist() == [0]
    # with those Wh the station's weight share is still paid in full, by a hair
    fee = 1_000_000 * 1_000_000 // 1_000 + 540_540 * 50_000 // 1_000
    by_weight = (1_000_000 + 540_540) * 1_000  # uWATT at 1 WATT per kWh
    treasury = fee * 3_000 // 10_000
    assert fee_bounded_reward(by_weight, treasury, 10_000, wp) == by_weight
    assert fee_bounded_reward(10**15, treasury, 10_000, wp) == by_weight + 500  # room left, uWATT


# ---- the model under the bound ---------------------------------------------------------------


def test_local_baseline__break_even_far_above_the_price_in_every_epoch() -> None:
    s = local_run("baseline").batch.series
    assert (s["breakeven_price"] > 100 * s["price"]).all()  # inf: at no price
    assert (s["wash_pays"] == 0).all()


@pytest.mark.parametrize("scenario", ["baseline", "fraud-wave"])
def test_local__wash_traders_never_wash_under_the_bound(scenario: str) -> None:
    run = local_run(scenario)
    assert (run.batch.series["wash_active"] == 0).all()
    assert conservation_ok(run)


@pytest.mark.parametrize("scenario", ["baseline", "fraud-wave"])
def test_local__rewards_worth_at_most_the_multiple_of_retained_fees_at_the_floor(
    scenario: str,
) -> None:
    run = local_run(scenario)
    s, inp = run.batch.series, run.inputs
    # WATT rewarded per epoch <= fee multiple x treasury income / wattPrice, wattPrice >= floor
    most = s["treasury_income"] * inp.fee_multiple_bps / 10_000 / inp.price_floor
    assert (s["rewarded"] <= most * (1 + 1e-12)).all()
    assert (s["rewarded"] <= s["emission"]).all()
    assert (s["rewarded"] < s["emission"]).any()  # the bound binds early, emission is withheld
    # and it is minted when claimed, escrow_epochs later, less what findings forfeited
    k = inp.escrow_epochs
    assert (s["minted"][:, :k] == 0).all()
    assert (s["minted"][:, k:] <= s["rewarded"][:, :-k] * (1 + 1e-12)).all()
    assert run.batch.fees["withheld"].min() > 0


def test_local__summary_report_and_plots_handle_an_infinite_break_even(tmp_path: Path) -> None:
    run = local_run("baseline")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        summary = summarize(run)
        plots = plot_run(run, tmp_path)
        write_report([summary], plots, tmp_path)
    for y in (1, 3, 5, 10):
        m = summary.metric(f"breakeven_y{y}")
        assert (m.p5, m.p50, m.p95) == (np.inf, np.inf, np.inf)
    pays = summary.metric("wash_profitable_share")
    assert (pays.p5, pays.p50, pays.p95) == (0.0, 0.0, 0.0)
    assert 0 < summary.metric("emission_withheld_share").p50 < 1
    data = json.loads(json.dumps(summary.to_dict()))
    row = next(m for m in data["metrics"] if m["key"] == "breakeven_y1")
    assert row["p50"] == "inf"
    assert "never" in (tmp_path / "report.html").read_text()


def test_window__self_charging_pays_only_where_honest_traffic_leaves_room() -> None:
    open_ = run_model(window_params(), runs=2, seed=1, workers=1, **SMALL)
    shut = run_model(window_params(fee_multiple_bps=1_000), runs=2, seed=1, workers=1, **SMALL)
    s = open_.batch.series
    assert np.isfinite(s["breakeven_price"]).all()
    assert s["wash_active"].sum() > 0 and s["wash_pays"].any()
    assert open_.batch.fees["fraud_rewards"].min() > 0
    # a fee multiple of 10 %: an honest kWh's reward is worth at most 0.045 < 0.065, the cost of
    # a self-charged one, so no room ever pays
    t = shut.batch.series
    assert np.isinf(t["breakeven_price"]).all()
    assert (t["wash_active"] == 0).all() and (t["wash_pays"] == 0).all()
    assert conservation_ok(open_) and conservation_ok(shut)
    # halving the emission halves the weight rate and raises the break-even price (doubles it
    # in each region inside the window; the minimum may move to a region whose window opens)
    be = np.median(s["breakeven_price"], axis=0)
    assert be[52] / be[51] > 1.15
