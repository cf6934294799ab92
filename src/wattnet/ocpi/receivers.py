"""Receiver interfaces: tokens (an eMSP's tokens, GET/PUT/PATCH) and commands (POST).

A partner may only write tokens of its own parties (the roles it registered with). Commands are
answered at once with a CommandResponse (ACCEPTED and a timeout, or REJECTED/NOT_SUPPORTED/
UNKNOWN_SESSION); the charger's answer follows as a CommandResult POSTed to ``response_url``.
How an eMSP's driver pays: docs/ocpi.md (the eMSP holds credits and a mandate, like any driver).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from aiohttp import web

from wattnet.ocpi.envelope import OcpiError, StatusCode
from wattnet.ocpi.mapping import evse_uid, location_id
from wattnet.ocpi.models_core import (
    CommandType,
    StartSession,
    StopSession,
    Token,
    TokenPatch,
    UnlockConnector,
)
from wattnet.ocpi.partners import Partner
from wattnet.ocpi.server import CPO, Cpo, parse, partner_of

log = logging.getLogger(__name__)

COMMAND_TIMEOUT_S = 30

# ---------------------------------------------------------------- tokens
def _own(partner: Partner, country: str, party: str) -> None:
    if (country.upper(), party.upper()) not in partner.parties():
        raise OcpiError(StatusCode.INVALID_PARAMETERS,
                        f"{country}/{party} is not one of your registered parties")


def _key(request: web.Request) -> tuple[str, str, str, str]:
    m = request.match_info
    return m["country_code"], m["party_id"], m["uid"], request.query.get("type", "RFID")


async def get_token(request: web.Request) -> web.Response:
    cpo = request.app[CPO]
    country, party, uid, type_ = _key(request)
    _own(partner_of(request), country, party)
    token = cpo.partners.token(country, party, uid, type_)
    if token is None:
        raise OcpiError(StatusCode.UNKNOWN_TOKEN, "unknown token", http=404)
    return cpo.ok(token)


async def put_token(request: web.Request) -> web.Response:
    cpo = request.app[CPO]
    partner = partner_of(request)
    country, party, uid, type_ = _key(request)
    _own(partner, country, party)
    token = await parse(request, Token)
    if (token.country_code.upper(), token.party_id.upper(), token.uid, token.type) != \
            (country.upper(), party.upper(), uid, type_):
        raise OcpiError(StatusCode.INVALID_PARAMETERS,
                        "the token's country_code, party_id, uid and type must match the URL")
    created = cpo.partners.put_token(partner, token.dump())
    return cpo.ok(None, status=201 if created else 200)


async def patch_token(request: web.Request) -> web.Response:
    cpo = request.app[CPO]
    partner = partner_of(request)
    country, party, uid, type_ = _key(request)
    _own(partner, country, party)
    patch = await parse(request, TokenPatch)
    token = cpo.partners.token(country, party, uid, type_)
    if token is None:
        raise OcpiError(StatusCode.UNKNOWN_TOKEN, "PATCH of an unknown token: PUT it first")
    merged = Token.model_validate({**token, **patch.dump()})
    cpo.partners.put_token(partner, merged.dump())
    return cpo.ok(None)


# ---------------------------------------------------------------- commands
def _connector(loc: str, evse: str | None, connector: str | None,
               stations: list[Any]) -> tuple[bytes, int]:
    station = next((s for s in stations if location_id(s.station_id) == loc.lower()), None)
    if station is None:
        raise OcpiError(StatusCode.UNKNOWN_LOCATION, f"unknown location {loc}")
    n = 1
    if evse is not None:
        matches = [i for i in range(1, station.connector_count + 1)
                   if evse_uid(station.station_id, i) == evse.lower()]
        if not matches or connector not in (None, "1"):
            raise OcpiError(StatusCode.UNKNOWN_LOCATION, f"unknown EVSE/connector at {loc}")
        n = matches[0]
    return station.station_id, n


async def _report(cpo: Cpo, partner: Partner, url: str, work: Awaitable[str]) -> None:
    try:
        result = await asyncio.wait_for(work, COMMAND_TIMEOUT_S)
    except TimeoutError:
        result = "TIMEOUT"
    except Exception as exc:  # the charger refused or is gone: the eMSP hears FAILED
        log.warning("command for %s failed: %s", url, exc)
        result = "FAILED"
    try:
        await cpo.client.call("POST", url, partner.token_b, {"result": result})
    except OcpiError as exc:
        log.warning("CommandResult to %s not delivered: %s", url, exc.message)


async def post_command(request: web.Request) -> web.Response:
    cpo = request.app[CPO]
    partner = partner_of(request)
    try:
        command = CommandType(request.match_info["command"])
    except ValueError as exc:
        raise OcpiError(StatusCode.INVALID_PARAMETERS, "unknown command") from exc
    control = cpo.control
    if control is None or command in (CommandType.RESERVE_NOW, CommandType.CANCEL_RESERVATION):
        return cpo.ok({"result": "NOT_SUPPORTED", "timeout": 0})
    stations = await asyncio.to_thread(cpo.stations.stations)
    work: Awaitable[str]
    if command is CommandType.START_SESSION:
        start = await parse(request, StartSession)
        _own(partner, start.token.country_code, start.token.party_id)
        sid, n = _connector(start.location_id, start.evse_uid, start.connector_id,
                            stations)
        if not start.token.valid:
            return cpo.ok({"result": "REJECTED", "timeout": 0})
        work, url = control.start(sid, n, start.token.dump()), start.response_url
    elif command is CommandType.STOP_SESSION:
        stop = await parse(request, StopSession)
        session = cpo.live.session(stop.session_id)
        tok = session["cdr_token"] if session else None
        if session is None or tok is None or \
                (tok["country_code"].upper(), tok["party_id"].upper()) not in partner.parties():
            return cpo.ok({"result": "UNKNOWN_SESSION", "timeout": 0})
        work, url = control.stop(session), stop.response_url
    else:
        unlock = await parse(request, UnlockConnector)
        sid, n = _connector(unlock.location_id, unlock.evse_uid, unlock.connector_id,
                            stations)
        work, url = control.unlock(sid, n), unlock.response_url
    task = asyncio.get_running_loop().create_task(_report(cpo, partner, url, work))
    cpo.tasks.add(task)
    task.add_done_callback(cpo.tasks.discard)
    return cpo.ok({"result": "ACCEPTED", "timeout": COMMAND_TIMEOUT_S})


def add_routes(app: web.Application, base: str) -> None:
    r = app.router
    tokens = f"{base}/tokens/{{country_code}}/{{party_id}}/{{uid}}"
    r.add_get(tokens, get_token)
    r.add_put(tokens, put_token)
    r.add_patch(tokens, patch_token)
    r.add_post(f"{base}/commands/{{command}}", post_command)
