"""The operator's remote operations: one version-neutral set, mapped onto each OCPP version.

=============  ===================================  ======================  =======================
op             parameters (default)                 1.6                     2.0.1
=============  ===================================  ======================  =======================
start          connector, id_token                  RemoteStartTransaction  RequestStartTransaction
stop           transaction                          RemoteStopTransaction   RequestStopTransaction
reset          hard (false)                         Reset Soft / Hard       Reset OnIdle / Immediate
availability   operative, connector (0: station)    ChangeAvailability      ChangeAvailability
unlock         connector                            UnlockConnector         UnlockConnector
trigger        message, connector (none)            TriggerMessage          TriggerMessage
get-config     keys (1.6: all; 2.0.1: Comp.Var)     GetConfiguration        GetVariables
set-config     key, value                           ChangeConfiguration     SetVariables
set-profile    schedule | periods, unit, daily;     SetChargingProfile      SetChargingProfile
               connector (0), profile_id (1),
               stack_level (0), purpose (TxDefault)
clear-profile  profile_id (none), connector (none)  ClearChargingProfile    ClearChargingProfile
=============  ===================================  ======================  =======================

Requests are built as the ``ocpp`` library's call dataclasses and checked against the official
JSON schema before they leave, so a bad parameter is the operator's error (400), not the charger's.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import ocpp.messages
from jsonschema.exceptions import ValidationError as SchemaError
from ocpp.charge_point import remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.exceptions import OCPPError
from ocpp.v16 import call as c16
from ocpp.v201 import call as c201

from wattnet.domain import OcppVersion
from wattnet.gateway.config import StationConfig
from wattnet.gateway.errors import AdminInputError, ScheduleError
from wattnet.gateway.smart_charging import ChargingSchedule, schedule_from_dict

V16 = OcppVersion.V16
# Answers that mean the charger will do it (Scheduled: once its transaction ends).
DONE = frozenset({"Accepted", "Unlocked", "Scheduled", "RebootRequired"})
_MISSING: Any = object()
_remote_start_ids = itertools.count(1)


class Params:
    """The call's JSON object, read with typed getters that fail as one-line 400 errors."""

    def __init__(self, raw: Mapping[str, Any], station: StationConfig) -> None:
        self._raw, self.station = raw, station

    def get(self, name: str, kind: type | tuple[type, ...], default: Any = _MISSING) -> Any:
        value = self._raw.get(name, default)
        if value is _MISSING:
            raise AdminInputError(f"parameter {name!r} is required")
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if value is not None and value is not default and (
            not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds)
        ):
            names = " or ".join(k.__name__ for k in kinds)
            raise AdminInputError(f"parameter {name!r} must be {names}, got {value!r}")
        return value

    def connector(self, *, station_wide: bool, default: Any = _MISSING) -> Any:
        value = self.get("connector", int, default)
        lo = 0 if station_wide else 1
        if value is not None and not lo <= value <= self.station.connectors:
            whole = " (0: the whole station)" if station_wide else ""
            raise AdminInputError(f"station {self.station.charge_point_id} has connectors "
                                  f"1..{self.station.connectors}{whole}; got {value}")
        return value


@dataclass(frozen=True, slots=True)
class Context:
    version: OcppVersion
    schedules: Mapping[str, ChargingSchedule]
    now: float


Builder = Callable[[Params, Context], Any]


def _start(p: Params, c: Context) -> Any:
    connector, token = p.connector(station_wide=False), p.get("id_token", str)
    if c.version == V16:
        return c16.RemoteStartTransaction(id_tag=token, connector_id=connector)
    return c201.RequestStartTransaction(id_token={"idToken": token, "type": "Central"},
                                        remote_start_id=next(_remote_start_ids),
                                        evse_id=connector)


def _stop(p: Params, c: Context) -> Any:
    if c.version == V16:
        return c16.RemoteStopTransaction(transaction_id=p.get("transaction", int))
    return c201.RequestStopTransaction(transaction_id=str(p.get("transaction", (str, int))))


def _reset(p: Params, c: Context) -> Any:
    hard = p.get("hard", bool, False)
    if c.version == V16:
        return c16.Reset(type="Hard" if hard else "Soft")
    return c201.Reset(type="Immediate" if hard else "OnIdle")


def _availability(p: Params, c: Context) -> Any:
    status = "Operative" if p.get("operative", bool) else "Inoperative"
    connector = p.connector(station_wide=True, default=0)
    if c.version == V16:
        return c16.ChangeAvailability(connector_id=connector, type=status)
    return c201.ChangeAvailability(operational_status=status,
                                   evse={"id": connector} if connector else None)


def _unlock(p: Params, c: Context) -> Any:
    connector = p.connector(station_wide=False)
    if c.version == V16:
        return c16.UnlockConnector(connector_id=connector)
    return c201.UnlockConnector(evse_id=connector, connector_id=1)


def _trigger(p: Params, c: Context) -> Any:
    message, connector = p.get("message", str), p.connector(station_wide=False, default=None)
    if c.version == V16:
        return c16.TriggerMessage(requested_message=message, connector_id=connector)
    return c201.TriggerMessage(requested_message=message,
                               evse=None if connector is None else {"id": connector})


def _component_variable(key: str) -> dict[str, Any]:
    component, dot, variable = key.partition(".")
    if not dot or not component or not variable:
        raise AdminInputError(f"a 2.0.1 variable is named Component.Variable, got {key!r}")
    return {"component": {"name": component}, "variable": {"name": variable}}


def _get_config(p: Params, c: Context) -> Any:
    keys = p.get("keys", list, None)
    if keys is not None and not all(isinstance(k, str) for k in keys):
        raise AdminInputError("parameter 'keys' must be a list of strings")
    if c.version == V16:
        return c16.GetConfiguration(key=keys or None)
    if not keys:
        raise AdminInputError("a 2.0.1 station needs 'keys' (Component.Variable names)")
    return c201.GetVariables(get_variable_data=[_component_variable(k) for k in keys])


def _set_config(p: Params, c: Context) -> Any:
    key, value = p.get("key", str), str(p.get("value", (str, int, float)))
    if c.version == V16:
        return c16.ChangeConfiguration(key=key, value=value)
    return c201.SetVariables(set_variable_data=[{"attributeValue": value,
                                                 **_component_variable(key)}])


def _schedule(p: Params, c: Context) -> ChargingSchedule:
    name = p.get("schedule", str, None)
    if name is not None:
        if name not in c.schedules:
            raise AdminInputError(f"no charging schedule {name!r} in the gateway config "
                                  f"(known: {', '.join(sorted(c.schedules)) or 'none'})")
        return c.schedules[name]
    try:
        return schedule_from_dict({"periods": p.get("periods", list),
                                   "unit": p.get("unit", str, "W"),
                                   "daily": p.get("daily", bool, False)})
    except ScheduleError as exc:
        raise AdminInputError(str(exc)) from exc


def _set_profile(p: Params, c: Context) -> Any:
    schedule = _schedule(p, c)
    connector = p.connector(station_wide=True, default=0)
    args = (p.get("profile_id", int, 1), p.get("stack_level", int, 0),
            p.get("purpose", str, "TxDefaultProfile"), c.now)
    if c.version == V16:
        return c16.SetChargingProfile(connector_id=connector,
                                      cs_charging_profiles=schedule.profile_16(*args))
    return c201.SetChargingProfile(evse_id=connector, charging_profile=schedule.profile_201(*args))


def _clear_profile(p: Params, c: Context) -> Any:
    profile_id = p.get("profile_id", int, None)
    connector = p.connector(station_wide=True, default=None)
    if c.version == V16:
        return c16.ClearChargingProfile(id=profile_id, connector_id=connector)
    return c201.ClearChargingProfile(
        charging_profile_id=profile_id,
        charging_profile_criteria=None if connector is None else {"evseId": connector})


OPS: Mapping[str, Builder] = {
    "start": _start, "stop": _stop, "reset": _reset, "availability": _availability,
    "unlock": _unlock, "trigger": _trigger, "get-config": _get_config,
    "set-config": _set_config, "set-profile": _set_profile, "clear-profile": _clear_profile,
}


def build(op: str, raw: Mapping[str, Any], station: StationConfig, ctx: Context) -> Any:
    """The ``ocpp`` call dataclass for ``op`` on a station of ``ctx.version``, schema-checked."""
    builder = OPS.get(op)
    if builder is None:
        raise AdminInputError(f"unknown operation {op!r}; use one of {', '.join(OPS)}")
    payload = builder(Params(raw, station), ctx)
    body = snake_to_camel_case(remove_nones(serialize_as_dict(payload)))
    msg = ocpp.messages.Call("check", type(payload).__name__, body)
    try:
        ocpp.messages._validate_payload(msg, "1.6" if ctx.version == V16 else "2.0.1")
    except OCPPError as exc:  # raised while handling the schema's own error: say that one
        schema_error = exc.__cause__ or exc.__context__
        cause = schema_error.message if isinstance(schema_error, SchemaError) else exc.description
        raise AdminInputError(f"{op}: {type(payload).__name__} would be invalid: {cause}") \
            from exc
    return payload


def outcome(result: Mapping[str, Any]) -> str | None:
    """The charger's answer as one status: ``status``, or the single variable's status."""
    if "status" in result:
        return str(result["status"])
    rows = result.get("setVariableResult")
    if isinstance(rows, list) and len(rows) == 1:
        return str(rows[0].get("attributeStatus"))
    return None  # GetConfiguration / GetVariables: the rows are the answer
