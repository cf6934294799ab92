"""JSON Schemas of the OCPI 2.2.1 messages the test eMSP checks, written from the spec's tables
(independent of wattnet.ocpi's models: the eMSP must not trust the server's own idea of OCPI)."""

from __future__ import annotations

from typing import Any

import jsonschema


def s(n: int) -> dict[str, Any]:  # string(n): printable, no control characters
    return {"type": "string", "maxLength": n, "pattern": r"^[^\x00-\x1f\x7f]*$"}


def ci(n: int) -> dict[str, Any]:  # CiString(n): printable ASCII
    return {"type": "string", "maxLength": n, "pattern": r"^[\x20-\x7e]*$"}


def obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "object", "required": sorted(required),
            "properties": {**required, **(optional or {})}}


def enum(*values: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


def array(item: dict[str, Any], min_items: int = 0) -> dict[str, Any]:
    return {"type": "array", "items": item, "minItems": min_items}


DATETIME = {"type": "string", "maxLength": 25,
            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?$"}
NUMBER = {"type": "number"}
PRICE = obj({"excl_vat": NUMBER}, {"incl_vat": NUMBER})
GEO = obj({"latitude": {"type": "string", "pattern": r"^-?[0-9]{1,2}\.[0-9]{5,7}$"},
           "longitude": {"type": "string", "pattern": r"^-?[0-9]{1,3}\.[0-9]{5,7}$"}})
STATUS = enum("AVAILABLE", "BLOCKED", "CHARGING", "INOPERATIVE", "OUTOFORDER", "PLANNED",
              "REMOVED", "RESERVED", "UNKNOWN")
POWER_TYPE = enum("AC_1_PHASE", "AC_2_PHASE", "AC_2_PHASE_SPLIT", "AC_3_PHASE", "DC")
FORMAT = enum("SOCKET", "CABLE")
PARTY = {"country_code": ci(2), "party_id": ci(3)}
CONNECTOR = obj({"id": ci(36), "standard": {"type": "string"}, "format": FORMAT,
                 "power_type": POWER_TYPE, "max_voltage": {"type": "integer"},
                 "max_amperage": {"type": "integer"}, "last_updated": DATETIME},
                {"max_electric_power": {"type": "integer"}, "tariff_ids": array(ci(36))})
EVSE = obj({"uid": ci(36), "status": STATUS, "connectors": array(CONNECTOR, 1),
            "last_updated": DATETIME}, {"evse_id": ci(48), "capabilities": array(ci(64))})
LOCATION = obj({**PARTY, "id": ci(36), "publish": {"type": "boolean"}, "address": s(45),
                "city": s(45), "country": s(3), "coordinates": GEO, "time_zone": s(255),
                "last_updated": DATETIME},
               {"name": s(255), "postal_code": s(10), "evses": array(EVSE)})
TARIFF = obj({**PARTY, "id": ci(36), "currency": s(3), "last_updated": DATETIME,
              "elements": array(obj({"price_components": array(obj({
                  "type": enum("ENERGY", "FLAT", "PARKING_TIME", "TIME"), "price": NUMBER,
                  "step_size": {"type": "integer", "minimum": 0}}), 1)}), 1)})
CDR_TOKEN = obj({**PARTY, "uid": ci(36), "type": enum("AD_HOC_USER", "APP_USER", "OTHER", "RFID"),
                 "contract_id": ci(36)})
PERIOD = obj({"start_date_time": DATETIME, "dimensions": array(obj({
    "type": {"type": "string"}, "volume": NUMBER}), 1)}, {"tariff_id": ci(36)})
AUTH_METHOD = enum("AUTH_REQUEST", "COMMAND", "WHITELIST")
CDR = obj({**PARTY, "id": ci(39), "start_date_time": DATETIME, "end_date_time": DATETIME,
           "cdr_token": CDR_TOKEN, "auth_method": AUTH_METHOD, "currency": s(3),
           "cdr_location": obj({"id": ci(36), "address": s(45), "city": s(45), "country": s(3),
                                "coordinates": GEO, "evse_uid": ci(36), "evse_id": ci(48),
                                "connector_id": ci(36), "connector_standard": {"type": "string"},
                                "connector_format": FORMAT, "connector_power_type": POWER_TYPE}),
           "charging_periods": array(PERIOD, 1), "total_cost": PRICE, "total_energy": NUMBER,
           "total_time": NUMBER, "last_updated": DATETIME},
          {"session_id": ci(36), "signed_data": obj({"encoding_method": ci(36),
                                                      "signed_values": array(obj({
                                                          "nature": ci(32),
                                                          "plain_data": s(512),
                                                          "signed_data": s(5000)}), 1)})})
SESSION = obj({**PARTY, "id": ci(36), "start_date_time": DATETIME, "kwh": NUMBER,
               "cdr_token": CDR_TOKEN, "auth_method": AUTH_METHOD, "location_id": ci(36),
               "evse_uid": ci(36), "connector_id": ci(36), "currency": s(3),
               "status": enum("ACTIVE", "COMPLETED", "INVALID", "PENDING", "RESERVATION"),
               "last_updated": DATETIME}, {"end_date_time": DATETIME, "total_cost": PRICE})
CREDENTIALS = obj({"token": {"type": "string", "maxLength": 64, "pattern": r"^[\x21-\x7e]+$"},
                   "url": s(255), "roles": array(obj({
                       "role": enum("CPO", "EMSP", "HUB", "NAP", "NSP", "OTHER", "SCSP"),
                       "business_details": obj({"name": s(100)}), **PARTY}), 1)})
VERSIONS = array(obj({"version": enum("2.0", "2.1", "2.1.1", "2.2", "2.2.1"), "url": s(255)}))
VERSION_DETAILS = obj({"version": enum("2.2.1"), "endpoints": array(obj({
    "identifier": {"type": "string"}, "role": enum("SENDER", "RECEIVER"), "url": s(255)}), 1)})
COMMAND_RESPONSE = obj({"result": enum("NOT_SUPPORTED", "REJECTED", "ACCEPTED", "UNKNOWN_SESSION"),
                        "timeout": {"type": "integer"}})
EVSE_PATCH = obj({"status": STATUS, "last_updated": DATETIME})


def envelope(data: dict[str, Any] | None = None) -> dict[str, Any]:
    return obj({"status_code": {"type": "integer"}, "timestamp": DATETIME},
               {"data": data or {}, "status_message": s(255)})


def check(schema: dict[str, Any], value: Any) -> Any:
    jsonschema.validate(value, schema)
    return value
