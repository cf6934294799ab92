"""Remote start from the web app: the driver's EIP-712 ``ChargeRequest`` (signed in the
driver's own wallet) is relayed to the front door of the gateway that hosts the station
(``POST <gateway app URL>/v1/charge``, :mod:`wattnet.gateway.app`).

The gateway, not this server, checks the request: the signature recovers to the driver, the
deadline, the station and connector, the credit id, a never-used nonce; only then does it bind a
one-time idToken to that driver and send RemoteStart/RequestStartTransaction. So the server
holds no key, and nobody can start a session charged to someone else: a request names its
driver and only that driver's signature makes the gateway accept it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from wattnet.api.chain_reads import domain_json
from wattnet.chain.eip712 import GATEWAY_DOMAIN_NAME, Domain
from wattnet.domain import station_id_for
from wattnet.errors import ConfigError

log = logging.getLogger(__name__)

RELAY_TIMEOUT_S = 40.0  # the gateway waits up to its own call timeout for the charger


@dataclass(frozen=True, slots=True)
class ChargeDoors:
    """Which gateway front door hosts each station (station id hex, lower case -> base URL)."""

    doors: Mapping[str, str]

    @classmethod
    def from_sites(cls, sites: Mapping[str, list[str]]) -> ChargeDoors:
        """``{gateway app URL: [charge point ids]}``."""
        return cls({"0x" + station_id_for(cp).hex(): url.rstrip("/")
                    for url, cps in sites.items() for cp in cps})

    @classmethod
    def parse(cls, specs: tuple[str, ...]) -> ChargeDoors:
        """``URL=CP1,CP2`` options (``wattnet app --gateway``)."""
        sites: dict[str, list[str]] = {}
        for spec in specs:
            url, sep, cps = spec.rpartition("=")
            names = [c.strip() for c in cps.split(",") if c.strip()]
            if not sep or not url.startswith(("http://", "https://")) or not names:
                raise ConfigError(f"--gateway {spec!r}: give URL=CP1,CP2 (the gateway's app "
                                  "front door and the charge points it hosts)")
            sites.setdefault(url, []).extend(names)
        return cls.from_sites(sites)

    def stations(self) -> list[str]:
        return sorted(self.doors)

    async def relay(self, body: Any) -> tuple[int, dict[str, Any]]:
        """Send ``{"request": {...}, "signature": "0x…"}`` to the station's gateway; returns
        (HTTP status, JSON answer) as the gateway gave them, or a one-line error."""
        request = body.get("request") if isinstance(body, dict) else None
        station = str(request.get("stationId", "")).lower() if isinstance(request, dict) else ""
        url = self.doors.get(station)
        if url is None:
            return 404, {"error": "no gateway here takes remote starts for this station"}
        timeout = aiohttp.ClientTimeout(total=RELAY_TIMEOUT_S)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as http, \
                    http.post(f"{url}/v1/charge", json=body) as resp:
                answer = await resp.json(content_type=None)
                status = resp.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("relaying a charge request to %s failed: %s", url, exc)
            return 502, {"error": f"the station's gateway did not answer ({type(exc).__name__})"}
        if not isinstance(answer, dict):
            return 502, {"error": "the station's gateway answered something that is not JSON"}
        return status, answer


def charge_domain(chain_id: int, settlement: str) -> dict[str, Any]:
    """The EIP-712 domain a ChargeRequest is signed under (what the gateway recovers with)."""
    return domain_json(Domain(chain_id, settlement, name=GATEWAY_DOMAIN_NAME))
