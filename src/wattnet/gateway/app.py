"""The app driver's front door: an EIP-712 ``ChargeRequest`` signed in the driver's wallet.

``POST /v1/charge`` with ``{"request": {...}, "signature": "0x…"}``. The gateway checks the
signature recovers to ``driver``, the deadline, the station and connector, the credit id, and
that the (driver, nonce) pair was never used (durably, in SQLite); then it binds a one-time
idToken to the driver, limited to ``creditId`` and ``maxCost``, and sends RemoteStartTransaction
(1.6) or RequestStartTransaction (2.0.1) with it. The reservation is never above ``maxCost``.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from eth_utils.crypto import keccak

from wattnet.chain.eip712 import GATEWAY_DOMAIN_NAME, Domain, recover_digest, typed_digest
from wattnet.domain import UINT40_MAX, UINT64_MAX, UINT128_MAX, station_id_for
from wattnet.errors import SignatureError, WattNetError
from wattnet.gateway.config import StationConfig

log = logging.getLogger(__name__)

APP_DOMAIN_NAME = GATEWAY_DOMAIN_NAME
CHARGE_REQUEST_TYPE = (
    "ChargeRequest(bytes32 stationId,uint8 connectorId,address driver,uint256 creditId,"
    "uint128 maxCost,uint64 nonce,uint40 deadline)"
)
CHARGE_REQUEST_TYPEHASH = keccak(CHARGE_REQUEST_TYPE.encode())


class ChargeRequestError(WattNetError, ValueError):
    """A ChargeRequest is malformed, expired, replayed or not signed by its driver."""


@dataclass(frozen=True, slots=True)
class ChargeRequest:
    station_id: bytes
    connector_id: int
    driver: str
    credit_id: int
    max_cost: int
    nonce: int
    deadline: int

    @classmethod
    def from_json(cls, obj: Any) -> ChargeRequest:
        try:
            sid = bytes.fromhex(str(obj["stationId"]).removeprefix("0x"))
            req = cls(sid, int(obj["connectorId"]), str(obj["driver"]), int(obj["creditId"]),
                      int(obj["maxCost"]), int(obj["nonce"]), int(obj["deadline"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ChargeRequestError(f"malformed ChargeRequest: {exc!r}") from exc
        bounds = ((req.connector_id, 255), (req.max_cost, UINT128_MAX),
                  (req.nonce, UINT64_MAX), (req.deadline, UINT40_MAX))
        if len(sid) != 32 or any(not 0 <= v <= b for v, b in bounds) or req.credit_id < 0:
            raise ChargeRequestError("ChargeRequest field out of range")
        return req

    def struct_hash(self) -> bytes:
        def word(v: int) -> bytes:
            return v.to_bytes(32, "big")

        return keccak(
            CHARGE_REQUEST_TYPEHASH + self.station_id + word(self.connector_id)
            + bytes(12) + bytes.fromhex(self.driver.removeprefix("0x")) + word(self.credit_id)
            + word(self.max_cost) + word(self.nonce) + word(self.deadline)
        )


def app_domain(chain_id: int, settlement: str) -> Domain:
    return Domain(chain_id, settlement, name=APP_DOMAIN_NAME)


def charge_request_digest(domain: Domain, req: ChargeRequest) -> bytes:
    return typed_digest(domain.separator, req.struct_hash())


StartFn = Callable[[str, int, str, int, int], Awaitable[str]]


class AppFrontDoor:
    def __init__(self, domain: Domain, stations: Mapping[str, StationConfig],
                 claim_nonce: Callable[[str, int], Awaitable[bool]], start: StartFn,
                 clock: Callable[[], float]) -> None:
        self._separator = domain.separator
        self._by_station_id = {station_id_for(cp): cp for cp in stations}
        self._stations = stations
        self._claim_nonce = claim_nonce
        self._start = start
        self._clock = clock

    async def submit(self, req: ChargeRequest, signature: bytes) -> str:
        if req.deadline < self._clock():
            raise ChargeRequestError("ChargeRequest expired; sign a new one")
        try:
            signer = recover_digest(typed_digest(self._separator, req.struct_hash()), signature)
        except SignatureError as exc:
            raise ChargeRequestError(str(exc)) from exc
        if signer.lower() != req.driver.lower():
            raise ChargeRequestError("ChargeRequest is not signed by its driver")
        cp = self._by_station_id.get(req.station_id)
        if cp is None:
            raise ChargeRequestError("station is not at this site")
        station = self._stations[cp]
        if not 1 <= req.connector_id <= station.connectors:
            raise ChargeRequestError(f"station {cp} has no connector {req.connector_id}")
        if req.credit_id not in station.tariffs:
            raise ChargeRequestError(f"station {cp} does not take credit id {req.credit_id}")
        if not await self._claim_nonce(signer, req.nonce):
            raise ChargeRequestError("ChargeRequest nonce already used (replay)")
        return await self._start(cp, req.connector_id, signer, req.credit_id, req.max_cost)

    async def http(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            req = ChargeRequest.from_json(body.get("request"))
            sig_hex = str(body.get("signature", "")).removeprefix("0x")
            status = await self.submit(req, bytes.fromhex(sig_hex))
        except (ChargeRequestError, ValueError, AttributeError) as exc:
            log.warning("ChargeRequest refused: %s", exc)
            return web.json_response({"error": str(exc)}, status=400)
        except WattNetError as exc:  # station offline and the like
            return web.json_response({"error": str(exc)}, status=409)
        return web.json_response({"status": status})

    def application(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024)
        app.router.add_post("/v1/charge", self.http)
        return app


def new_app_token() -> str:
    return "APP" + secrets.token_hex(8).upper()
