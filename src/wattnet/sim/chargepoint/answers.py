"""What a virtual charge point answers to the central system's calls (both OCPP versions).

Each answer is schema-valid for its version. A test scripts other answers per action in
``SimChargePoint.answers``: a payload (e.g. ``{"status": "Rejected"}``) or a CallError as
``("NotSupported", "description")``.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

Answer = dict[str, Any] | tuple[str, str]

_ACCEPTED: dict[str, Any] = {"status": "Accepted"}


def _get_configuration(config: MutableMapping[str, str], p: dict[str, Any]) -> Answer:
    keys = p.get("key") or list(config)
    unknown = [k for k in keys if k not in config]
    return {"configurationKey": [{"key": k, "readonly": False, "value": config[k]}
                                 for k in keys if k in config]} | (
        {"unknownKey": unknown} if unknown else {})


def _change_configuration(config: MutableMapping[str, str], p: dict[str, Any]) -> Answer:
    if p["key"] not in config:
        return {"status": "NotSupported"}
    config[p["key"]] = p["value"]
    return _ACCEPTED


def _name(row: dict[str, Any]) -> str:
    return f"{row['component']['name']}.{row['variable']['name']}"


def _get_variables(config: MutableMapping[str, str], p: dict[str, Any]) -> Answer:
    rows = []
    for row in p["getVariableData"]:
        known = _name(row) in config
        rows.append({"attributeStatus": "Accepted" if known else "UnknownVariable",
                     "component": row["component"], "variable": row["variable"]}
                    | ({"attributeValue": config[_name(row)]} if known else {}))
    return {"getVariableResult": rows}


def _set_variables(config: MutableMapping[str, str], p: dict[str, Any]) -> Answer:
    rows = []
    for row in p["setVariableData"]:
        known = _name(row) in config
        if known:
            config[_name(row)] = row["attributeValue"]
        rows.append({"attributeStatus": "Accepted" if known else "UnknownVariable",
                     "component": row["component"], "variable": row["variable"]})
    return {"setVariableResult": rows}


_CONFIG_ANSWERS: dict[str, Callable[[MutableMapping[str, str], dict[str, Any]], Answer]] = {
    "GetConfiguration": _get_configuration, "ChangeConfiguration": _change_configuration,
    "GetVariables": _get_variables, "SetVariables": _set_variables,
}
_FIXED: dict[str, Answer] = {"UnlockConnector": {"status": "Unlocked"}}
_FIXED |= {
    action: _ACCEPTED for action in (
        "RemoteStartTransaction", "RequestStartTransaction", "RemoteStopTransaction",
        "RequestStopTransaction", "Reset", "ChangeAvailability", "TriggerMessage",
        "SetChargingProfile", "ClearChargingProfile")
}


def default_answer(action: str, payload: dict[str, Any],
                   config: MutableMapping[str, str]) -> Answer:
    """The answer of a well-behaved charger; NotImplemented for actions it does not know."""
    if action in _CONFIG_ANSWERS:
        return _CONFIG_ANSWERS[action](config, payload)
    return _FIXED.get(action, ("NotImplemented", f"{action} is not implemented"))
