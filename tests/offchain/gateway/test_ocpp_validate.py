"""The compiled OCPP validator (wattnet.ocpp_validate) never accepts what the ``ocpp`` library's
Draft4Validator refuses, on every official 1.6 and 2.0.1 schema, and errors stay the library's."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import ocpp.charge_point
import ocpp.messages
import pytest
from ocpp.exceptions import FormatViolationError, TypeConstraintViolationError

from wattnet.ocpp_validate import CompiledValidator, get_validator, install

SCHEMAS = Path(ocpp.messages.__file__).parent
# All but the three 1.6 schemas the library validates with decimal floats (ocpp_validate leaves
# those to it: the last assertion of the install test).
DECIMAL_16 = {"SetChargingProfile", "RemoteStartTransaction", "GetCompositeScheduleResponse"}
FILES = [p for v in ("v16", "v201") for p in sorted((SCHEMAS / v / "schemas").glob("*.json"))
         if not (v == "v16" and p.stem in DECIMAL_16)]
PER_SCHEMA = 60


class _Maker:
    """Payloads near a schema: with ``noise`` 0, what it asks for; above it, type, length, enum,
    bound and shape mistakes mixed in at that rate (1.0 for an integer, a string one character
    too long, a missing required field, an unexpected key, ...)."""

    def __init__(self, schema: dict[str, Any], rnd: random.Random) -> None:
        self.root, self.rnd, self.noise = schema, rnd, 0.0

    def resolve(self, s: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in s:
            s = self.root["definitions"][s["$ref"].rsplit("/", 1)[1]]
        return s

    def junk(self) -> Any:
        return self.rnd.choice([None, True, 0, 1.0, -1, 2.5, "", "x" * 600, [], {}, [1], {"a": 1}])

    def slip(self) -> bool:
        return self.rnd.random() < self.noise

    def value(self, s: dict[str, Any], depth: int = 0) -> Any:
        s, r = self.resolve(s), self.rnd
        if self.slip() or depth > 8:
            return self.junk()
        if "enum" in s:
            return "NotInTheEnum" if self.slip() else r.choice(s["enum"])
        kind, low = s.get("type"), s.get("minimum", 0)
        if kind == "object":
            out = {name: self.value(sub, depth + 1) for name, sub in s.get("properties", {}).items()
                   if (name in s.get("required", []) and not self.slip()) or r.random() < 0.5}
            if self.slip():
                out["unexpectedKey"] = 1
            return out
        if kind == "array":
            lo, hi = s.get("minItems", 0), min(s.get("maxItems", 3), s.get("minItems", 0) + 2)
            n = r.randint(max(0, lo - 1), hi + 1) if self.slip() else r.randint(lo, hi)
            return [self.value(s.get("items", {}), depth + 1) for _ in range(n)]
        if kind == "string":
            cap = s.get("maxLength", 30)
            return "s" * (cap + 1 if self.slip() else r.choice([0, 1, min(cap, 12), cap]))
        if kind == "integer":
            bad = [1.0, True, low - 1, "1"]
            return r.choice(bad) if self.slip() else low + r.choice([0, 1, 7, 2 ** 40])
        if kind == "number":
            bad = [True, low - 1, "1.5"]
            return r.choice(bad) if self.slip() else low + r.choice([0, 1, 1.5, 21.4, 4.11])
        if kind == "boolean":
            return r.choice([0, "true", None]) if self.slip() else r.choice([True, False])
        return self.junk()


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_compiled_validator__accepts_only_what_the_library_accepts(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8-sig"))
    reference = jsonschema.Draft4Validator(schema)
    compiled = CompiledValidator(reference)
    maker = _Maker(schema, random.Random(path.name))
    agreed_valid = 0
    for i in range(PER_SCHEMA):
        maker.noise = 0.0 if i % 3 == 0 else 0.03
        payload = maker.value(schema)
        fast_ok = True
        try:
            compiled._check(payload)
        except Exception:
            fast_ok = False
        ref_ok = reference.is_valid(payload)
        assert ref_ok or not fast_ok, f"{path.stem}: compiled accepted {payload!r}"
        agreed_valid += fast_ok and ref_ok
    assert agreed_valid > 0, f"{path.stem}: no valid payload made: the check above proved nothing"


def test_install__routes_the_library_through_compiled_validators_with_its_own_errors() -> None:
    install()
    assert ocpp.charge_point.validate_payload.__module__ == "wattnet.ocpp_validate"
    good = ocpp.messages.Call("1", "Heartbeat", {})
    ocpp.messages._validate_payload(good, "1.6")
    assert isinstance(get_validator(2, "Heartbeat", "1.6"), CompiledValidator)
    bad_type = ocpp.messages.Call("2", "StartTransaction", {
        "connectorId": 1.0, "idTag": "T", "meterStart": 0, "timestamp": "2026-01-01T00:00:00Z"})
    with pytest.raises(TypeConstraintViolationError):
        ocpp.messages._validate_payload(bad_type, "1.6")
    extra = ocpp.messages.Call("3", "Heartbeat", {"unexpected": 1})
    with pytest.raises(FormatViolationError):
        ocpp.messages._validate_payload(extra, "2.0.1")
    # the decimal schemas keep the library's validator (21.4 is a multiple of 0.1 there)
    assert not isinstance(get_validator(2, "SetChargingProfile", "1.6", parse_float=Decimal),
                          CompiledValidator)
