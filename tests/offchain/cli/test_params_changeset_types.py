"""Change-set values of the wrong type (issue 17, item 5): every governed key answers with one
line naming the key, the value and the type it wants, never a Python TypeError; a key written
twice in a file (params or change set) is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from wattnet.cli.params import params as params_cli
from wattnet.errors import ConfigError
from wattnet.governance.changeset import load_change_set, parse_change_set, proposed
from wattnet.governance.table import PARAMS, TREASURY_SHARE
from wattnet.params import load_params

REPO = Path(__file__).resolve().parents[3]
LOCAL = load_params(REPO / "params" / "local.yaml")
# every key a change set can name (a region and a phase field stand for their families)
KEYS = [p.key for p in PARAMS] + [TREASURY_SHARE, "registry.region_multipliers.u0",
                                  "rewards.phases.bootstrap.decay_bps"]
BAD = ["8,200", "82%", [1], {"x": 1}, None, True, "abc"]
# written as text, a WATT amount or a price is still a number (the params files allow "0.10")
TEXT_NUMBERS_OK = {"staking.min_stake_per_station", "staking.stake_per_kw",
                   "staking.equivocation_slash", "rewards.watt_price_floor",
                   "governance.proposal_threshold", "committee.min_stake"}


def _error(key: str, value: Any) -> str:
    with pytest.raises(ConfigError) as info:
        proposed(parse_change_set({"description": "d", "changes": {key: value}}, "c.yaml"),
                 LOCAL)
    return str(info.value)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("value", BAD, ids=repr)
def test_wrong_type__one_line_naming_key_value_and_type(key: str, value: Any) -> None:
    message = _error(key, value)
    if isinstance(value, dict):  # a mapping is read as nested keys: the error names the path
        assert "\n" not in message and "." + "x" in message, message
        return
    assert "\n" not in message and message.startswith("c.yaml: ")
    assert key.replace(".bootstrap.", ".0.") in message  # a phase by name is shown by index
    assert repr(value) in message
    assert any(w in message for w in ("must be an integer", "must be seconds", "must be a WATT",
                                      "must be one of", "must be a number",
                                      "must be a USD price")), message


@pytest.mark.parametrize("key", [k for k in KEYS if k not in TEXT_NUMBERS_OK])
def test_number_as_text__refused_with_what_to_write(key: str) -> None:
    message = _error(key, "8100")
    assert repr("8100") in message and "\n" not in message


@pytest.mark.parametrize(("value", "hint"), [
    ("8,200", "write 8200 without quotes"), ("8100", "write 8100 without quotes"),
    ("82%", "write 8200: shares are basis points"), ("82.5 %", "write 8250"),
])
def test_shares_written_as_text__say_what_to_write(value: str, hint: str) -> None:
    message = _error("settlement.operator_share_bps", value)
    assert f"settlement.operator_share_bps={value!r} must be an integer in 5000..10000" in message
    assert hint in message


def test_percent_of_a_percent_key_is_not_turned_into_bps() -> None:
    assert "write 4 without quotes, commas or %" in _error("governance.quorum_percent", "4%")


def test_cli_check__yaml_as_a_user_writes_it(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    runner = CliRunner()
    for written in ("8,200", '"8100"', "82%"):
        path.write_text(f"description: d\nchanges:\n  settlement.operator_share_bps: {written}\n")
        res = runner.invoke(params_cli, ["check", str(path)])
        assert res.exit_code == 2, res.output
        assert res.output.count("\n") == 1 and "TypeError" not in res.output
        assert "settlement.operator_share_bps=" in res.output and "must be an integer" in \
            res.output


@pytest.mark.parametrize("text", [
    "description: d\nchanges:\n  staking.unbonding_delay: 2h\n  staking.unbonding_delay: 3h\n",
    "description: d\nchanges:\n  staking:\n    unbonding_delay: 2h\n    unbonding_delay: 3h\n",
    "description: d\ndescription: e\nchanges:\n  staking.unbonding_delay: 2h\n",
])
def test_duplicate_key_in_a_change_set__refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"is given twice \(lines \d and \d\)") as info:
        load_change_set(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_duplicate_key_in_a_params_file__refused(tmp_path: Path) -> None:
    text = (REPO / "params" / "local.yaml").read_text()
    doubled = text.replace("  operator_share_bps: 8000\n",
                           "  operator_share_bps: 8000\n  operator_share_bps: 7000\n")
    assert doubled != text
    path = tmp_path / "local.yaml"
    path.write_text(doubled)
    with pytest.raises(ConfigError, match="operator_share_bps is given twice"):
        load_params(path)
    path.write_text(text)
    assert load_params(path).settlement.operator_share_bps == 8000  # the file as it is: fine
