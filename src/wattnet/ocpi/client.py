"""Calls this CPO makes to its partners: their versions during registration, pushes later.

Every request carries ``Authorization: Token <base64 of the partner's token>``, a fresh
``X-Request-ID``, an ``X-Correlation-ID`` and the ``OCPI-from-*``/``OCPI-to-*`` routing headers.
"""

from __future__ import annotations

import base64
import logging
import uuid
from typing import Any

import aiohttp

from wattnet.ocpi.envelope import OcpiError, StatusCode

log = logging.getLogger(__name__)

VERSION = "2.2.1"


def auth_header(token: str) -> str:
    return "Token " + base64.b64encode(token.encode()).decode()


def decode_auth(header: str | None) -> str | None:
    """The credentials token of an ``Authorization: Token <base64>`` header (None when absent or
    not base64 of printable ASCII, as OCPI 2.2.1 requires)."""
    if not header or not header.startswith("Token "):
        return None
    try:
        token = base64.b64decode(header[6:].strip(), validate=True).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
    return token if token and token.isprintable() and " " not in token else None


class PartnerClient:
    def __init__(self, session: aiohttp.ClientSession, our_party: tuple[str, str],
                 timeout_s: float) -> None:
        self._http = session
        self._from = our_party
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    def headers(self, token: str, to: tuple[str, str] | None = None,
                correlation: str | None = None) -> dict[str, str]:
        h = {"Authorization": auth_header(token), "X-Request-ID": str(uuid.uuid4()),
             "X-Correlation-ID": correlation or str(uuid.uuid4()),
             "OCPI-from-country-code": self._from[0], "OCPI-from-party-id": self._from[1]}
        if to is not None:
            h["OCPI-to-country-code"], h["OCPI-to-party-id"] = to
        return h

    async def call(self, method: str, url: str, token: str, body: Any = None,
                   to: tuple[str, str] | None = None) -> Any:
        """The ``data`` of a partner's OCPI answer; OcpiError(3001) when it cannot be used."""
        try:
            async with self._http.request(method, url, json=body, headers=self.headers(token, to),
                                          timeout=self._timeout) as resp:
                payload = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise OcpiError(StatusCode.CLIENT_API_UNUSABLE,
                            f"{method} {url} failed: {exc or type(exc).__name__}") from exc
        if resp.status >= 300 or not isinstance(payload, dict) \
                or payload.get("status_code") != StatusCode.SUCCESS:
            code = payload.get("status_code") if isinstance(payload, dict) else None
            raise OcpiError(StatusCode.CLIENT_API_UNUSABLE,
                            f"{method} {url}: HTTP {resp.status}, OCPI status {code}")
        return payload.get("data")

    async def endpoints(self, versions_url: str, token: str) -> dict[str, dict[str, str]]:
        """The partner's 2.2.1 endpoints, module -> {role: url} (registration step 2)."""
        versions = await self.call("GET", versions_url, token)
        urls = [v.get("url") for v in versions or [] if isinstance(v, dict)
                and v.get("version") == VERSION]
        if not urls:
            raise OcpiError(StatusCode.UNSUPPORTED_VERSION,
                            f"{versions_url} offers no OCPI {VERSION}; this CPO speaks only it")
        details = await self.call("GET", str(urls[0]), token)
        out: dict[str, dict[str, str]] = {}
        for ep in (details or {}).get("endpoints", []):
            if isinstance(ep, dict) and {"identifier", "role", "url"} <= set(ep):
                out.setdefault(str(ep["identifier"]), {})[str(ep["role"])] = str(ep["url"])
        if "credentials" not in out:
            raise OcpiError(StatusCode.NO_MATCHING_ENDPOINTS,
                            f"{urls[0]} lists no credentials endpoint")
        return out
