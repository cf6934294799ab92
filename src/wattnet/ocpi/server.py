"""The CPO's HTTP server (aiohttp): authentication, the envelope, versions and credentials.

``/ocpi/versions`` and ``/ocpi/2.2.1`` (version details) accept token A and C; the credentials
module implements the registration handshake (POST with token A -> token C; PUT updates, DELETE
unregisters); every other module needs a registered partner's token C (else HTTP 401).
Requests that are not JSON get HTTP 400; objects that break the spec's field rules get OCPI 2001
and are not stored. Every answer echoes ``X-Request-ID``/``X-Correlation-ID``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from wattnet.ocpi.client import VERSION, PartnerClient, decode_auth
from wattnet.ocpi.config import OcpiConfig
from wattnet.ocpi.envelope import OcpiError, StatusCode, envelope
from wattnet.ocpi.live import ChargerControl, LiveState
from wattnet.ocpi.mapping import Mapper
from wattnet.ocpi.models_core import Credentials
from wattnet.ocpi.partners import Partner, PartnerStore, new_token
from wattnet.ocpi.sources import SettledReceipts, StationSource
from wattnet.oracle.errors import StorageUnavailable

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
MODULES = (("credentials", "SENDER"), ("credentials", "RECEIVER"), ("locations", "SENDER"),
           ("tariffs", "SENDER"), ("sessions", "SENDER"), ("cdrs", "SENDER"),
           ("tokens", "RECEIVER"), ("commands", "RECEIVER"))
OPEN_PATHS = ("/ocpi/versions", f"/ocpi/{VERSION}", f"/ocpi/{VERSION}/credentials")


@dataclass
class Cpo:
    """Everything a handler needs; one per server."""

    cfg: OcpiConfig
    partners: PartnerStore
    client: PartnerClient
    stations: StationSource
    receipts: SettledReceipts
    live: LiveState
    clock: Callable[[], float]
    control: ChargerControl | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def mapper(self) -> Mapper:
        return Mapper(self.cfg)

    def url(self, *parts: str) -> str:
        return "/".join([self.cfg.base_url.rstrip("/"), "ocpi", *parts])

    def ok(self, data: Any, status: int = 200) -> web.Response:
        return web.json_response(envelope(data, clock=self.clock), status=status)

    def sees_session(self, partner: Partner, session: dict[str, Any]) -> bool:
        """A partner sees the sessions of its own tokens; with ``share_own_sessions``, also
        those of WattNet's own drivers (public on chain once they settle)."""
        tok = session["cdr_token"]
        owner = (str(tok["country_code"]).upper(), str(tok["party_id"]).upper())
        return owner in partner.parties() or (
            self.cfg.share_own_sessions and owner == (self.cfg.country_code, self.cfg.party_id))

    def our_credentials(self, token: str) -> dict[str, Any]:
        return {"token": token, "url": self.cfg.versions_url, "roles": [{
            "role": "CPO", "party_id": self.cfg.party_id, "country_code": self.cfg.country_code,
            "business_details": {"name": self.cfg.name}}]}


CPO: web.AppKey[Cpo] = web.AppKey("cpo", Cpo)
PARTNER: web.RequestKey[Partner | None] = web.RequestKey("partner", Partner)  # None: token A
TOKEN_A: web.RequestKey[str] = web.RequestKey("token_a", str)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def partner_of(request: web.Request) -> Partner:
    partner: Partner | None = request.get(PARTNER)
    if partner is None:
        raise OcpiError(StatusCode.CLIENT_ERROR, "register first (credentials)", http=405)
    return partner


async def parse(request: web.Request, model: type[M]) -> M:
    """The request body as ``model``; HTTP 400 when not JSON, OCPI 2001 when it breaks the
    spec's field rules (nothing is stored then)."""
    try:
        raw = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError) as exc:
        raise OcpiError(StatusCode.CLIENT_ERROR, f"body is not JSON: {exc}", http=400) from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"])) or "body"
        raise OcpiError(StatusCode.INVALID_PARAMETERS,
                        f"{model.__name__}.{where}: {first['msg']}") from exc


@web.middleware
async def ocpi_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    cpo = request.app[CPO]
    request_id = request.headers.get("X-Request-ID") or str(uuid.uuid4())
    correlation = request.headers.get("X-Correlation-ID") or str(uuid.uuid4())
    response: web.StreamResponse
    try:
        await _authenticate(request, cpo)
        response = await handler(request)
    except OcpiError as exc:
        log.info("%s %s -> %s: %s", request.method, request.path, int(exc.code), exc.message)
        response = web.json_response(envelope(None, exc.code, exc.message, cpo.clock),
                                     status=exc.http or 200)
    except StorageUnavailable as exc:
        response = web.json_response(envelope(None, StatusCode.SERVER_ERROR, str(exc),
                                              cpo.clock), status=503)
    except web.HTTPException as exc:
        response = web.json_response(envelope(None, StatusCode.CLIENT_ERROR, exc.reason,
                                              cpo.clock), status=exc.status)
    response.headers["X-Request-ID"] = request_id
    response.headers["X-Correlation-ID"] = correlation
    return response


async def _authenticate(request: web.Request, cpo: Cpo) -> None:
    token = decode_auth(request.headers.get("Authorization"))
    if token is None:
        raise OcpiError(StatusCode.CLIENT_ERROR,
                        "missing or malformed Authorization: Token <base64>", http=401)
    partner = cpo.partners.by_token_c(token)
    if partner is not None:
        request[PARTNER] = partner
        return
    if request.path.rstrip("/") in OPEN_PATHS and cpo.partners.is_token_a(token):
        request[PARTNER] = None
        request[TOKEN_A] = token
        return
    raise OcpiError(StatusCode.CLIENT_ERROR, "unknown credentials token", http=401)


# ---------------------------------------------------------------- versions
async def get_versions(request: web.Request) -> web.Response:
    cpo = request.app[CPO]
    return cpo.ok([{"version": VERSION, "url": cpo.url(VERSION)}])


async def get_version_details(request: web.Request) -> web.Response:
    cpo = request.app[CPO]
    return cpo.ok({"version": VERSION, "endpoints": [
        {"identifier": m, "role": role, "url": cpo.url(VERSION, m)} for m, role in MODULES]})


# ---------------------------------------------------------------- credentials
async def get_credentials(request: web.Request) -> web.Response:
    partner_of(request)
    # Our token for them is only known to them (we keep its digest): show the rest.
    return request.app[CPO].ok(request.app[CPO].our_credentials("********"))


async def _exchange(request: web.Request) -> tuple[Credentials, dict[str, dict[str, str]], str]:
    cpo = request.app[CPO]
    creds = await parse(request, Credentials)
    endpoints = await cpo.client.endpoints(creds.url, creds.token)
    return creds, endpoints, new_token()


async def post_credentials(request: web.Request) -> web.Response:
    cpo = request.app[CPO]
    if request.get(PARTNER) is not None:
        raise OcpiError(StatusCode.CLIENT_ERROR, "already registered: use PUT to update",
                        http=405)
    creds, endpoints, token_c = await _exchange(request)
    roles = [r.dump() for r in creds.roles]
    partner = cpo.partners.register(request[TOKEN_A], token_c, creds.token, creds.url,
                                    VERSION, endpoints, roles)
    if partner is None:
        raise OcpiError(StatusCode.CLIENT_ERROR, "registration token already used", http=401)
    log.info("registered partner %s (%s)", sorted(partner.parties()), creds.url)
    return cpo.ok(cpo.our_credentials(token_c))


async def put_credentials(request: web.Request) -> web.Response:
    cpo = request.app[CPO]
    partner = partner_of(request)
    creds, endpoints, token_c = await _exchange(request)
    cpo.partners.update(partner, token_c, creds.token, creds.url, VERSION, endpoints,
                        [r.dump() for r in creds.roles])
    return cpo.ok(cpo.our_credentials(token_c))


async def delete_credentials(request: web.Request) -> web.Response:
    cpo = request.app[CPO]
    cpo.partners.unregister(partner_of(request))
    return cpo.ok(None)


def build_app(cpo: Cpo) -> web.Application:
    from wattnet.ocpi import receivers, senders

    app = web.Application(middlewares=[ocpi_middleware], client_max_size=256 * 1024)
    app[CPO] = cpo
    r = app.router
    r.add_get("/ocpi/versions", get_versions)
    r.add_get(f"/ocpi/{VERSION}", get_version_details)
    base = f"/ocpi/{VERSION}/credentials"
    r.add_get(base, get_credentials)
    r.add_post(base, post_credentials)
    r.add_put(base, put_credentials)
    r.add_delete(base, delete_credentials)
    senders.add_routes(app, f"/ocpi/{VERSION}")
    receivers.add_routes(app, f"/ocpi/{VERSION}")
    return app
