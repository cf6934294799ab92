"""Live availability's server side without a network: what the gateways reported per
connector (OCPP status mapped as OCPI maps it), UNKNOWN for the rest; ``--gateway-admin``
options refused in one line when the URL or its token is missing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from wattnet.api.availability import Availability
from wattnet.domain import station_id_for
from wattnet.errors import ConfigError


@dataclass(frozen=True)
class Row:
    id: str
    connectors: int


def test_availability__reported_connectors_and_unknown_for_the_rest() -> None:
    live = Availability(())
    a, b = station_id_for("CP-A"), station_id_for("CP-B")
    live.live.set_ocpp_status(a, 2, "Charging")
    live.live.set_ocpp_status(a, 1, "Faulted")
    rows = [Row("0x" + a.hex(), 3), Row("0x" + b.hex(), 1)]
    assert live.of(rows) == {rows[0].id: ["OUTOFORDER", "CHARGING", "UNKNOWN"],
                             rows[1].id: ["UNKNOWN"]}


def test_availability__options_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATTNET_GATEWAY_ADMIN_TOKEN", raising=False)
    with pytest.raises(ConfigError, match=r"\$WATTNET_GATEWAY_ADMIN_TOKEN"):
        Availability.parse(["http://site:8691"], 5)
    with pytest.raises(ConfigError, match="admin API URL"):
        Availability.parse(["site:8691"], 5)
    monkeypatch.setenv("SITE_TOKEN", "t")
    assert Availability.parse(["http://site:8691=SITE_TOKEN"], 5).gateways[0].token_env == \
        "SITE_TOKEN"
