"""The DAO page's proposal form: a value typed in the params file's units is parsed as
``wattnet params`` reads it and checked against the key's bounds before anything is encoded."""

from __future__ import annotations

from decimal import Decimal

import pytest

from wattnet.api.propose import parse_value
from wattnet.errors import ConfigError
from wattnet.governance.table import Param, lookup


def _p(key: str) -> Param:
    p = lookup(key)
    assert p is not None
    return p


@pytest.mark.parametrize(("key", "text", "value"), [
    ("staking.unbonding_delay", "2h", 7_200),
    ("staking.unbonding_delay", " 7200 ", 7_200),
    ("staking.min_stake_per_station", "2.5", Decimal("2.5")),
    ("settlement.referrer_share_bps", "2000", 2_000),
    ("staking.slash_destination", "burn", "burn"),
])
def test_parse_value__the_params_files_units(key: str, text: str, value: object) -> None:
    assert parse_value(_p(key), text) == value


@pytest.mark.parametrize(("key", "text", "error"), [
    ("staking.unbonding_delay", "30m", "outside its bounds 3600..7776000 s"),
    ("settlement.referrer_share_bps", "2001", "outside its bounds 0..2000 bps"),
    ("staking.min_stake_per_station", "0.5", "outside its bounds 1..10000000 WATT"),
    ("staking.unbonding_delay", "two hours", "is not a duration"),
    ("staking.min_stake_per_station", "NaN", "is not a number of WATT"),
    ("settlement.referrer_share_bps", "-1", "is not a whole number of bps"),
    ("staking.slash_destination", "nowhere", "is not one of treasury | burn"),
])
def test_parse_value__refuses_out_of_bounds_and_junk(key: str, text: str, error: str) -> None:
    with pytest.raises(ConfigError, match=error.replace(".", r"\.")):
        parse_value(_p(key), text)
