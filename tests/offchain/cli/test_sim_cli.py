"""`wattnet sim`: the click group driven through CliRunner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from wattnet.cli.sim import sim
from wattnet.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]
LOCAL = str(REPO / "params" / "local.yaml")
SMALL = ["--params", LOCAL, "--runs", "2", "--stations", "150", "--days", "70", "--workers", "1"]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(sim, list(args), catch_exceptions=True)


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_scenarios__lists_every_scenario() -> None:
    result = invoke("scenarios")
    assert result.exit_code == 0
    for name in (
        "baseline",
        "demand-shock",
        "token-crash",
        "emission-transitions",
        "operator-concentration",
        "fraud-wave",
    ):
        assert name in result.output
    data = as_json(invoke("scenarios", "--json"))
    crash = next(s for s in data if s["name"] == "token-crash")
    assert crash["overrides"]["model.shocks.price_crash_factor_bps"] == 2_000


def test_model__json_has_metrics_regions_and_conservation() -> None:
    data = as_json(invoke("model", *SMALL, "--json"))
    (summary,) = data["scenarios"]
    assert summary["scenario"] == "baseline" and summary["runs"] == 2
    assert summary["stations"] == 150 and summary["days"] == 70
    assert summary["conservation_ok"] is True
    keys = {m["key"] for m in summary["metrics"]}
    assert {
        "crossover_day",
        "treasury_runway_end",
        "fraud_reward_share",
        "gini_rewards",
        "wash_profitable_share",
    } <= keys
    assert [r["region"] for r in summary["regions"]][:2] == ["paris", "berlin"]


def test_model__same_seed_same_json_other_seed_differs() -> None:
    a = as_json(invoke("model", *SMALL, "--seed", "3", "--json"))
    b = as_json(invoke("model", *SMALL, "--seed", "3", "--json"))
    c = as_json(invoke("model", *SMALL, "--seed", "4", "--json"))
    assert a == b
    assert a != c


def test_model__out_writes_plots_and_self_contained_report(tmp_path: Path) -> None:
    result = invoke(
        "model",
        *SMALL,
        "--scenario",
        "baseline",
        "--scenario",
        "fraud-wave",
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert "fraud-wave" in result.output and "payback" in result.output
    pngs = sorted(tmp_path.glob("*.png"))
    assert {p.name.split("-")[0] for p in pngs} == {"baseline", "fraud"}
    html = (tmp_path / "report.html").read_text()
    assert html.count("data:image/png;base64,") == len(pngs)
    assert "Scenario fraud-wave" in html and "<img" in html and "src='http" not in html


def test_model__grid_sweep_runs_every_point() -> None:
    data = as_json(
        invoke(
            "model",
            *SMALL,
            "--json",
            "--sweep",
            "model.treasury.buyback_share_bps=0,5000",
            "--sweep",
            "model.market.reward_sell_bps=2000,8000",
        )
    )
    points = [row["point"] for row in data["sweep"]]
    assert len(points) == 4
    assert {
        "model.treasury.buyback_share_bps": 5000,
        "model.market.reward_sell_bps": 2000,
    } in points
    burned = {
        (p["model.treasury.buyback_share_bps"]): next(
            m["p50"] for m in row["summary"]["metrics"] if m["key"] == "burned_total"
        )
        for p, row in zip(points, data["sweep"], strict=True)
    }
    assert burned[5000] > burned[0]


def test_model__a_sweep_point_wins_over_its_scenario() -> None:
    # demand-shock sets the factor to 5000; the sweep's 0 and 10000 must be what runs
    args = [a for a in SMALL if a not in ("--days", "70")]
    data = as_json(invoke("model", *args, "--days", "770", "--json", "--scenario", "demand-shock",
                          "--sweep", "model.shocks.demand_shock_factor_bps=0,10000"))
    window = [next(m["p50"] for m in row["summary"]["metrics"] if m["key"] == "fees_shock_window")
              for row in data["sweep"]]
    assert window[0] < 0.05 * window[1]  # the window starts two days before the shock
    assert {row["summary"]["scenario"] for row in data["sweep"]} == {"demand-shock"}


def test_model__random_sweep_samples_n_points() -> None:
    data = as_json(
        invoke(
            "model",
            *SMALL,
            "--json",
            "--sweep-random",
            "3",
            "--sweep",
            "model.market.reward_sell_bps=1000:9000",
        )
    )
    values = [row["point"]["model.market.reward_sell_bps"] for row in data["sweep"]]
    assert len(values) == 3 and all(1000 <= v <= 9000 for v in values)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenario", "nope"], "unknown scenario 'nope'"),
        (["--sweep-random", "2"], "--sweep-random N needs at least one --sweep"),
        (["--sweep", "settlement.operator_share_bps=9000"], "must sum to exactly 10000"),
        (["--sweep", "model.market.colour=1"], "model.market.colour is not a known key"),
        (["--sweep", "oops"], "must look like key=v1,v2"),
    ],
)
def test_model__user_errors_are_one_clear_config_error(args: list[str], message: str) -> None:
    result = invoke("model", *SMALL, *args)
    assert result.exit_code != 0
    assert isinstance(result.exception, ConfigError)
    assert message in str(result.exception)
    assert "\n" not in str(result.exception)


def test_model__bad_params_file_names_file_and_key(tmp_path: Path) -> None:
    raw = yaml.safe_load(Path(LOCAL).read_text())
    raw["settlement"]["operator_share_bps"] = 12_000
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw))
    result = invoke("model", "--params", str(bad), "--runs", "1")
    assert isinstance(result.exception, ConfigError)
    assert str(result.exception).endswith(
        "bad.yaml: settlement.operator_share_bps=12000 is out of range 5000..10000"
    )


def test_root_cli__config_error_is_one_line_exit_2(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from wattnet.cli import main as root

    monkeypatch.setitem(root._COMMANDS, "sim", ("wattnet.cli.sim", "sim", "model"))
    with pytest.raises(SystemExit) as info:
        root.main(["sim", "model", "--params", LOCAL, "--scenario", "nope"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    # the root console wraps at the terminal width; the message itself is one line
    assert " ".join(err.split()).startswith("error: unknown scenario 'nope' (one of: baseline,")
