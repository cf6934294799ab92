"""Every JSON example of the OCPI 2.2.1 spec round-trips through WattNet's models; the few
examples that break the spec's own field rules are named with the rule they break."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from wattnet.ocpi import models_core as core
from wattnet.ocpi import models_locations as loc
from wattnet.ocpi import models_sessions as ses
from wattnet.ocpi import models_tariffs as tar
from wattnet.ocpi.envelope import Envelope

EXAMPLES = Path(__file__).parent / "spec_examples"


class _EnergyMixHolder(BaseModel):
    energy_mix: loc.EnergyMix


class _OpeningTimesHolder(BaseModel):
    opening_times: loc.Hours


class _LocationNamePatch(BaseModel):
    name: str
    last_updated: str


class _TariffIdsPatch(BaseModel):
    tariff_ids: list[str]
    last_updated: str


class _SessionPatch(BaseModel):
    kwh: float | None = None
    charging_periods: list[ses.ChargingPeriod] | None = None
    total_cost: Any = None
    last_updated: str


def _model(name: str) -> Any:
    prefixes: list[tuple[str, Any]] = [
        ("cdr_", ses.Cdr), ("credentials_", core.Credentials),
        ("location_energymix_", _EnergyMixHolder), ("location_hours_", loc.Hours),
        ("location_patch_example_location", _LocationNamePatch),
        ("location_patch_example_tariff", _TariffIdsPatch),
        ("location_patch_example_", loc.EvseStatusPatch),
        ("location_put_example_add_evse", loc.EVSE),
        ("location_regularhours_", _OpeningTimesHolder), ("location_example", loc.Location),
        ("session_patch_", _SessionPatch), ("session_example", ses.Session),
        ("tariff", tar.Tariff), ("token_patch", core.TokenPatch), ("token_", core.Token),
        ("transport_and_format_get_token_list", Envelope[list[core.Token]]),
        ("transport_and_format_get_token_", Envelope[core.Token]),
        ("transport_and_format_version_details", Envelope[core.VersionDetails]),
        ("transport_and_format_version_info", Envelope[list[core.Version]]),
        ("type_displaytext", loc.DisplayText), ("version_details_", core.VersionDetails),
        ("versions_info", list[core.Version]),
    ]
    return next(model for prefix, model in prefixes if name.startswith(prefix))


# Examples that break a field rule of the same spec, and the fields that break it.
_TOKEN_IDS = {"cdr_token.country_code", "cdr_token.party_id"}  # CdrToken requires both
SPEC_DEVIATIONS = {
    "cdr_example.json": _TOKEN_IDS,
    "session_example_1_simple_start.json": _TOKEN_IDS,
    "session_example_2_short_finished.json": _TOKEN_IDS,
    "tariff_put_example.json": {"last_updated"},  # Tariff.last_updated is required
    # a Connector without power_type, max_voltage, max_amperage, last_updated; an int where
    # physical_reference is string(16) (its `floor` is not an EVSE field: ignored)
    "location_put_example_add_evse.json": {
        "connectors.0.power_type", "connectors.0.max_voltage", "connectors.0.max_amperage",
        "connectors.0.last_updated", "physical_reference"},
}


def _load(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text())


def _dump(adapter: TypeAdapter[Any], value: Any) -> Any:
    return adapter.dump_python(value, mode="json", exclude_none=True)


NAMES = sorted(p.name for p in EXAMPLES.glob("*.json"))


def test_every_example_of_the_spec_is_here() -> None:
    assert len(NAMES) == 60


@pytest.mark.parametrize("name", [n for n in NAMES if n not in SPEC_DEVIATIONS])
def test_spec_example__round_trips(name: str) -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(_model(name))
    original = _load(name)
    assert _dump(adapter, adapter.validate_python(original)) == original


@pytest.mark.parametrize("name", sorted(SPEC_DEVIATIONS))
def test_spec_example_with_a_known_error__fails_on_those_fields_only(name: str) -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(_model(name))
    with pytest.raises(ValidationError) as info:
        adapter.validate_python(_load(name))
    assert {".".join(map(str, e["loc"])) for e in info.value.errors()} == SPEC_DEVIATIONS[name]


@pytest.mark.parametrize(("model", "obj", "field"), [
    (core.Credentials, {"token": "a" * 65, "url": "https://x/", "roles": [
        {"role": "EMSP", "party_id": "ABC", "country_code": "NL",
         "business_details": {"name": "x"}}]}, "token"),
    (loc.GeoLocation, {"latitude": "51.0", "longitude": "3.72994"}, "latitude"),
    (tar.PriceComponent, {"type": "ENERGY", "price": 1, "step_size": -1}, "step_size"),
    (ses.CdrToken, {"country_code": "NLD", "party_id": "ABC", "uid": "1", "type": "RFID",
                    "contract_id": "c"}, "country_code"),
    (core.Token, {"country_code": "NL", "party_id": "ABC", "uid": "1\n", "type": "RFID",
                  "contract_id": "c", "issuer": "i", "valid": True, "whitelist": "ALWAYS",
                  "last_updated": "2015-06-29T20:39:09Z"}, "uid"),
    (loc.Connector, {"id": "1", "standard": "IEC_62196_T2", "format": "SOCKET",
                     "power_type": "AC_3_PHASE", "max_voltage": 230, "max_amperage": 16,
                     "last_updated": "2015-06-29 20:39:09"}, "last_updated"),
    (loc.EVSE, {"uid": "1", "status": "AVAILABLE", "connectors": [],
                "last_updated": "2015-06-29T20:39:09Z"}, "connectors"),
    (core.Version, {"version": "2.3", "url": "https://x/"}, "version"),
])
def test_field_rules__reject_what_the_spec_forbids(model: Any, obj: Any, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        model.model_validate(obj)
    assert {e["loc"][0] for e in info.value.errors()} == {field}
