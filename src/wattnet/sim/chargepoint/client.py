"""A virtual charge point: real OCPP-J frames over a real WebSocket, validated with the ``ocpp``
library's schemas before they leave, plus misbehaviour on demand (inflated meters, garbage
frames, replayed messages) for tests and the network simulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime
from typing import Any

import ocpp.messages
from ocpp.charge_point import remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201
from ocpp.v201 import datatypes as dt201
from websockets.asyncio.client import ClientConnection, connect

from wattnet.domain import OcppVersion
from wattnet.ocpp_validate import install
from wattnet.sim.chargepoint.answers import Answer, default_answer
from wattnet.sim.chargepoint.meter import SimMeter

log = logging.getLogger(__name__)
install()  # the library's own validation (outbound calls) compiled and inline too
ocpp.messages.ASYNC_VALIDATION = False


_FIELDS: dict[type, list[tuple[str, str]]] = {}


def wire_payload(payload: Any) -> dict[str, Any]:
    """An ``ocpp`` call dataclass as its JSON payload, as the library's ``serialize_as_dict``,
    ``remove_nones`` and ``snake_to_camel_case`` make it, without recursing into what is
    already wire form: this simulator builds nested dicts and lists camelCase, with no None
    (the schema check in ``call`` refuses anything else). Nested dataclasses take the
    library's path. A tenth of a simulated charger's CPU went to that recursion."""
    names = _FIELDS.get(type(payload))
    if names is None:
        names = _FIELDS[type(payload)] = [
            (f.name, next(iter(snake_to_camel_case({f.name: 0})))) for f in fields(payload)]
    out: dict[str, Any] = {}
    for name, camel in names:
        value = getattr(payload, name)
        if value is None:
            continue
        if is_dataclass(value):
            value = snake_to_camel_case(remove_nones(serialize_as_dict(value)))
        out[camel] = value
    return out


class CallErrorReply(Exception):
    def __init__(self, code: str, description: str, unique_id: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code, self.description, self.unique_id = code, description, unique_id


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def basic_auth(user: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class SimChargePoint:
    def __init__(
        self,
        url: str,
        cp_id: str,
        version: OcppVersion,
        *,
        password: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        meter: SimMeter | None = None,
        clock: Callable[[], float] = time.time,
        timeout_s: float = 10.0,
        inflate: float = 1.0,
        user: str | None = None,
        subprotocols: list[str] | None = None,
    ) -> None:
        self.url = url.rstrip("/") + "/" + cp_id
        self.cp_id, self.version = cp_id, version
        self.password, self.user = password, user or cp_id
        self.ssl_context = ssl_context
        self.meter = meter or SimMeter()
        self.clock = clock
        self.timeout_s = timeout_s
        self.inflate = inflate  # >1: OCPP meter values lie upward (the signed meter does not)
        self.subprotocols = subprotocols if subprotocols is not None else [version.value]
        self._ids = (f"{cp_id}-{n}" for n in itertools.count(1))
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[str, asyncio.Future[list[Any]]] = {}
        self.sent: list[str] = []  # every frame sent, for replays
        self.received_calls: list[list[Any]] = []
        self.unanswered: list[list[Any]] = []  # frames not matching a pending call
        self.remote_start: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.stop_requested = asyncio.Event()
        self.tx_key: str | None = None
        self._seq = 0
        # Configuration keys (1.6 names; 2.0.1 Component.Variable) and scripted answers per
        # action (a payload, (errorCode, description) for a CallError, None for no answer).
        self.config: dict[str, str] = {"HeartbeatInterval": "300",
                                       "OCPPCommCtrlr.HeartbeatInterval": "300"}
        self.answers: dict[str, Answer | None] = {}

    # ---- connection ----
    async def connect(self) -> None:
        headers = {}
        if self.password is not None:
            headers["Authorization"] = basic_auth(self.user, self.password)
        self._ws = await connect(
            self.url,
            subprotocols=self.subprotocols or None,  # type: ignore[arg-type]
            additional_headers=headers,
            ssl=self.ssl_context,
            compression=None,
            ping_interval=None,
            open_timeout=self.timeout_s,
        )
        self._reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def reconnect(self) -> None:
        await self.close()
        await self.connect()

    async def _read(self) -> None:
        assert self._ws is not None
        with contextlib.suppress(Exception):
            async for raw in self._ws:
                try:
                    msg = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(msg, list) and len(msg) >= 3 and msg[0] == 2:
                    await self._on_call(msg)
                    continue
                uid = msg[1] if isinstance(msg, list) and len(msg) > 1 else None
                fut = self._pending.pop(uid, None) if isinstance(uid, str) else None
                if fut is not None and not fut.done():
                    fut.set_result(msg)
                else:
                    self.unanswered.append(msg)

    async def _on_call(self, msg: list[Any]) -> None:
        self.received_calls.append(msg)
        action, payload = msg[2], msg[3]
        if action in ("RemoteStartTransaction", "RequestStartTransaction"):
            self.remote_start.put_nowait(payload)
        elif action in ("RemoteStopTransaction", "RequestStopTransaction"):
            self.stop_requested.set()
        scripted = action in self.answers
        answer = self.answers[action] if scripted else default_answer(action, payload, self.config)
        if answer is None:  # scripted silence: the central system's call times out
            return
        if isinstance(answer, tuple):
            await self.send_raw(json.dumps([4, msg[1], answer[0], answer[1], {}]))
            return
        await self.send_raw(json.dumps([3, msg[1], answer]))

    # ---- frames ----
    async def send_raw(self, text: str | bytes) -> None:
        assert self._ws is not None, "connect() first"
        if isinstance(text, str):
            self.sent.append(text)
        await self._ws.send(text)

    async def exchange_raw(
        self, text: str | bytes, unique_id: str | None = None, timeout: float | None = None
    ) -> list[Any] | None:
        """Send a raw frame and wait for the reply with ``unique_id`` (or any unmatched frame,
        e.g. a CallError with id "-1"); None if nothing comes."""
        key = unique_id or "-1"
        fut: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._pending[key] = fut
        await self.send_raw(text)
        try:
            return await asyncio.wait_for(fut, timeout or self.timeout_s)
        except TimeoutError:
            return None
        finally:
            self._pending.pop(key, None)

    async def call(self, payload: Any, unique_id: str | None = None) -> dict[str, Any]:
        """Send an ``ocpp`` call dataclass (validated against the schema) and return the
        CallResult payload; raises CallErrorReply."""
        action = type(payload).__name__
        body = wire_payload(payload)
        uid = unique_id or next(self._ids)
        msg = ocpp.messages.Call(uid, action, body)
        ocpp.messages._validate_payload(msg, "1.6" if self.version == OcppVersion.V16 else "2.0.1")
        reply = await self.exchange_raw(msg.to_json(), uid)
        if reply is None:
            raise TimeoutError(f"{self.cp_id}: no answer to {action} {uid}")
        if reply[0] == 4:
            raise CallErrorReply(reply[2], reply[3], uid)
        result: dict[str, Any] = reply[2]
        return result

    async def replay_last(self, action: str) -> list[Any] | None:
        """Resend, byte for byte, the last frame carrying ``action`` (same message id)."""
        for text in reversed(self.sent):
            msg = json.loads(text)
            if msg[0] == 2 and msg[2] == action:
                return await self.exchange_raw(text, msg[1])
        raise LookupError(f"no {action} sent yet")

    # ---- charging, both versions ----
    async def boot(self) -> dict[str, Any]:
        if self.version == OcppVersion.V16:
            return await self.call(
                call16.BootNotification(
                    charge_point_model="SimCharger", charge_point_vendor="WattNet"
                )
            )
        return await self.call(
            call201.BootNotification(
                charging_station=dt201.ChargingStationType(
                    model="SimCharger", vendor_name="WattNet"
                ),
                reason="PowerUp",
            )
        )

    async def status(self, connector_id: int, in_use: bool) -> dict[str, Any]:
        """StatusNotification of one connector: Available, or in use (1.6 Charging, 2.0.1
        Occupied), as a real charger reports after boot and around each session."""
        if self.version == OcppVersion.V16:
            return await self.call(call16.StatusNotification(
                connector_id=connector_id, error_code="NoError",
                status="Charging" if in_use else "Available"))
        return await self.call(call201.StatusNotification(
            timestamp=iso(self.clock()), connector_status="Occupied" if in_use else "Available",
            evse_id=connector_id, connector_id=1))

    async def heartbeat(self) -> dict[str, Any]:
        return await self.call(
            call16.Heartbeat() if self.version == OcppVersion.V16 else call201.Heartbeat()
        )

    async def authorize(self, id_token: str) -> str:
        if self.version == OcppVersion.V16:
            r = await self.call(call16.Authorize(id_tag=id_token))
            return str(r["idTagInfo"]["status"])
        r = await self.call(
            call201.Authorize(id_token=dt201.IdTokenType(id_token=id_token, type="ISO14443"))
        )
        return str(r["idTokenInfo"]["status"])

    def _reported(self) -> int:
        return int(self.meter.register_wh * self.inflate)

    def _sampled_201(self, reason: str, id_token: str = "") -> list[dict[str, Any]]:
        sv: dict[str, Any] = {
            "value": self._reported(),
            "measurand": "Energy.Active.Import.Register",
            "unitOfMeasure": {"unit": "Wh"},
        }
        if self.meter.key is not None and reason in ("B", "E"):
            sv["signedMeterValue"] = {
                "signedMeterData": self.meter.ocmf(reason, self.clock(), id_token),
                "signingMethod": "ECDSA-secp256r1-SHA256",
                "encodingMethod": "OCMF",
                "publicKey": "",
            }
        return [{"timestamp": iso(self.clock()), "sampledValue": [sv]}]

    async def _event(
        self,
        event_type: str,
        trigger: str,
        meter: list[dict[str, Any]] | None,
        id_token: str | None = None,
        connector_id: int = 1,
        unique_id: str | None = None,
    ) -> dict[str, Any]:
        self._seq += 1
        assert self.tx_key is not None
        return await self.call(
            call201.TransactionEvent(
                event_type=event_type,
                timestamp=iso(self.clock()),
                trigger_reason=trigger,
                seq_no=self._seq,
                transaction_info={"transactionId": self.tx_key},
                meter_value=meter,
                evse={"id": connector_id, "connectorId": 1},
                id_token=None if id_token is None else {"idToken": id_token, "type": "ISO14443"},
            ),
            unique_id,
        )

    async def start(self, id_token: str, connector_id: int = 1) -> str:
        """Plug in and start; returns the authorization status."""
        self.stop_requested.clear()
        if self.version == OcppVersion.V16:
            r = await self.call(
                call16.StartTransaction(
                    connector_id=connector_id,
                    id_tag=id_token,
                    meter_start=self._reported(),
                    timestamp=iso(self.clock()),
                )
            )
            self.tx_key = str(r["transactionId"])
            if self.meter.key is not None and r["idTagInfo"]["status"] == "Accepted":
                await self.call(call16.MeterValues(  # the signed begin reading (SignedData)
                    connector_id=connector_id, transaction_id=int(self.tx_key),
                    meter_value=self._signed_16("B", "Transaction.Begin", id_token)))
            return str(r["idTagInfo"]["status"])
        self.tx_key = f"{self.cp_id}-tx-{int(self.clock() * 1000)}"
        self._seq = -1
        r = await self._event(
            "Started", "Authorized", self._sampled_201("B", id_token), id_token, connector_id
        )
        return str(r.get("idTokenInfo", {}).get("status", "Unknown"))

    def _signed_16(self, reason: str, context: str, id_token: str = "") -> list[dict[str, Any]]:
        record = self.meter.ocmf(reason, self.clock(), id_token)
        return [{"timestamp": iso(self.clock()), "sampledValue": [{
            "value": record, "format": "SignedData", "context": context,
            "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]

    async def meter_values(self, add_wh: int, connector_id: int = 1) -> None:
        self.meter.advance(add_wh)
        if self.version == OcppVersion.V16:
            await self.call(
                call16.MeterValues(
                    connector_id=connector_id,
                    transaction_id=None if self.tx_key is None else int(self.tx_key),
                    meter_value=[
                        {
                            "timestamp": iso(self.clock()),
                            "sampledValue": [
                                {
                                    "value": str(self._reported()),
                                    "measurand": "Energy.Active.Import.Register",
                                    "unit": "Wh",
                                }
                            ],
                        }
                    ],
                )
            )
            return
        await self._event("Updated", "MeterValuePeriodic", self._sampled_201("C"))

    async def stop(
        self, reason: str = "Local", unique_id: str | None = None, id_token: str | None = None
    ) -> dict[str, Any]:
        if self.version == OcppVersion.V16:
            assert self.tx_key is not None
            return await self.call(
                call16.StopTransaction(
                    meter_stop=self._reported(),
                    timestamp=iso(self.clock()),
                    transaction_id=int(self.tx_key),
                    reason=reason,
                    id_tag=id_token,
                    transaction_data=None if self.meter.key is None
                    else self._signed_16("E", "Transaction.End", id_token or ""),
                ),
                unique_id,
            )
        return await self._event(
            "Ended", "StopAuthorized", self._sampled_201("E"), id_token, unique_id=unique_id
        )

    async def charge(
        self, id_token: str, energy_wh: int, *, steps: int = 3, interval_s: float = 0.0
    ) -> str:
        """A whole session: start, ``steps`` meter values, stop (early if told to)."""
        status = await self.start(id_token)
        if status != "Accepted":
            return status
        for _ in range(steps):
            if self.stop_requested.is_set():
                break
            await self.meter_values(energy_wh // steps)
            await asyncio.sleep(interval_s)
        await self.stop()
        return status
