"""A second OCPI 2.2.1 party for the tests: an eMSP written from the spec with plain dicts, every
message it sends or receives checked against ``schemas``. It serves its versions, credentials and
the receiver endpoints a CPO pushes to (locations, sessions, cdrs, command results) and records
what arrives; it registers with a CPO and pulls pages by following ``Link`` headers."""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from . import schemas

COUNTRY, PARTY = "NL", "TNM"


def token_header(token: str) -> str:
    return "Token " + base64.b64encode(token.encode()).decode()


@dataclass
class Received:
    method: str
    path: str
    body: Any


@dataclass
class TestEmsp:
    base_url: str  # where this eMSP listens
    token_b: str = field(default_factory=lambda: secrets.token_hex(16))
    token_c: str | None = None  # the CPO's token for us, after registration
    cpo_endpoints: dict[tuple[str, str], str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)

    # ---- our server ----
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/versions", self._versions)
        app.router.add_get("/2.2.1", self._details)
        app.router.add_route("*", "/2.2.1/{module}/{tail:.*}", self._receive)
        app.router.add_post("/2.2.1/cdrs", self._receive)  # CDRs are POSTed to the module URL
        return app

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == token_header(self.token_b)

    def _ok(self, data: Any) -> web.Response:
        return web.json_response({"data": data, "status_code": 1000,
                                  "timestamp": "2026-01-01T00:00:00Z"})

    async def _versions(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.Response(status=401)
        return self._ok([{"version": "2.2.1", "url": f"{self.base_url}/2.2.1"}])

    async def _details(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.Response(status=401)
        eps = [("credentials", "SENDER"), ("credentials", "RECEIVER"), ("locations", "RECEIVER"),
               ("sessions", "RECEIVER"), ("cdrs", "RECEIVER"), ("tokens", "SENDER"),
               ("commands", "SENDER")]
        return self._ok({"version": "2.2.1", "endpoints": [
            {"identifier": m, "role": r, "url": f"{self.base_url}/2.2.1/{m}"} for m, r in eps]})

    async def _receive(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.Response(status=401)
        body = await request.json() if request.can_read_body else None
        self.received.append(Received(request.method, request.path, body))
        return self._ok(None)

    # ---- calls to the CPO ----
    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": token_header(token or self.token_c or ""),
                "X-Request-ID": str(uuid.uuid4()), "X-Correlation-ID": str(uuid.uuid4()),
                "OCPI-from-country-code": COUNTRY, "OCPI-from-party-id": PARTY}

    async def call(self, http: aiohttp.ClientSession, method: str, url: str,
                   token: str | None = None, json: Any = None,
                   data_schema: dict[str, Any] | None = None) -> tuple[int, Any, Any]:
        """(HTTP status, envelope, headers); the envelope checked against the spec."""
        async with http.request(method, url, json=json, headers=self.headers(token)) as resp:
            body = await resp.json(content_type=None) if resp.status != 401 else None
            if body is not None:
                schemas.check(schemas.envelope(data_schema), body)
            return resp.status, body, resp.headers

    def credentials(self) -> dict[str, Any]:
        return schemas.check(schemas.CREDENTIALS, {
            "token": self.token_b, "url": f"{self.base_url}/versions",
            "roles": [{"role": "EMSP", "country_code": COUNTRY, "party_id": PARTY,
                       "business_details": {"name": "Test eMSP"}}]})

    async def register(self, http: aiohttp.ClientSession, versions_url: str,
                       token_a: str) -> dict[str, Any]:
        _, versions, _ = await self.call(http, "GET", versions_url, token_a,
                                         data_schema=schemas.VERSIONS)
        url = next(v["url"] for v in versions["data"] if v["version"] == "2.2.1")
        _, details, _ = await self.call(http, "GET", url, token_a,
                                        data_schema=schemas.VERSION_DETAILS)
        self.cpo_endpoints = {(e["identifier"], e["role"]): e["url"]
                              for e in details["data"]["endpoints"]}
        status, answer, _ = await self.call(
            http, "POST", self.cpo_endpoints[("credentials", "SENDER")], token_a,
            json=self.credentials(), data_schema=schemas.CREDENTIALS)
        assert status == 200 and answer["status_code"] == 1000, answer
        self.token_c = answer["data"]["token"]
        return dict(answer["data"])

    async def pull_all(self, http: aiohttp.ClientSession, module: str, item: dict[str, Any],
                       query: str = "") -> tuple[list[Any], list[int]]:
        """Every object of a sender module, page by page; also each page's X-Total-Count."""
        url: str | None = self.cpo_endpoints[(module, "SENDER")] + query
        items: list[Any] = []
        totals: list[int] = []
        while url:
            status, body, headers = await self.call(http, "GET", url,
                                                    data_schema=schemas.array(item))
            assert status == 200 and body["status_code"] == 1000, body
            items += body["data"]
            totals.append(int(headers["X-Total-Count"]))
            assert int(headers["X-Limit"]) >= len(body["data"])
            link = headers.get("Link")
            url = link.split(">")[0].lstrip("<") if link else None
        return items, totals
