"""OCPP-J framing for the central system: parse frames, validate, route, answer with the
CallError the OCPP-J specification of each version prescribes (not the ``ocpp`` library's habits).

Routing keeps mobilityhouse/ocpp's model (``@on`` / ``@after`` methods found by
``create_route_map``; payloads validated against the library's JSON schemas, compiled
(:mod:`wattnet.ocpp_validate`: the library's verdicts and errors, 20 times faster), but the hot
path is ours: validation runs inline, key conversion and handler signatures are cached, and a
malformed frame never breaks the connection.

Frame errors (no message id can be read) are answered with message id "-1" (OCPP 2.0.1 part 4,
section 4.2.3); a CallResult or CallError is never answered, whatever its shape.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import ocpp.messages
from jsonschema.exceptions import ValidationError as SchemaError
from ocpp.charge_point import (
    ChargePoint,
    camel_to_snake_case,
    remove_nones,
    serialize_as_dict,
    snake_to_camel_case,
)
from ocpp.exceptions import OCPPError
from ocpp.messages import CallError, CallResult
from ocpp.routing import after as _after
from ocpp.routing import on as _on
from ocpp.v16.enums import Action as Action16
from ocpp.v201.enums import Action as Action201
from websockets.exceptions import ConnectionClosed

from wattnet.domain import OcppVersion
from wattnet.ocpp_validate import get_validator, install

log = logging.getLogger(__name__)
install()  # the library's own validation (outbound calls) compiled and inline too

# Validation runs inline: a thread hop per message costs more than the validation itself.
ocpp.messages.ASYNC_VALIDATION = False

MAX_UNIQUE_ID = 36  # OCPP-J: the message id is at most 36 characters


@dataclass(frozen=True, slots=True)
class ErrorCodes:
    """The CallError codes one OCPP-J version prescribes for each kind of failure."""

    frame: str  # not JSON, not an array, no readable message id, wrong element count
    message_type: str  # unknown MessageTypeId
    payload_format: str  # payload not an object; additional properties
    occurrence: str  # missing required field, too many / too few items
    type_: str  # wrong JSON type, string longer than its declared type allows
    property_: str  # bad enum value, out of range
    not_implemented: str = "NotImplemented"  # action not known to this version
    not_supported: str = "NotSupported"  # action known, not supported here
    internal: str = "InternalError"


ERRORS: Mapping[OcppVersion, ErrorCodes] = {
    # OCPP-J 1.6 section 4.2.3: no RPC framework codes; the PDU structure is FormationViolation.
    OcppVersion.V16: ErrorCodes(
        frame="FormationViolation", message_type="FormationViolation",
        payload_format="FormationViolation", occurrence="OccurenceConstraintViolation",
        type_="TypeConstraintViolation", property_="PropertyConstraintViolation",
    ),
    # OCPP-J 2.0.1 section 4.2.3 (table "Valid Error Codes").
    OcppVersion.V201: ErrorCodes(
        frame="RpcFrameworkError", message_type="MessageTypeNotSupported",
        payload_format="FormatViolation", occurrence="OccurrenceConstraintViolation",
        type_="TypeConstraintViolation", property_="PropertyConstraintViolation",
    ),
}
_SCHEMA_VERSION = {OcppVersion.V16: "1.6", OcppVersion.V201: "2.0.1"}
_KNOWN_ACTIONS = {
    OcppVersion.V16: frozenset(a.value for a in Action16),
    OcppVersion.V201: frozenset(a.value for a in Action201),
}


F = TypeVar("F", bound=Callable[..., Any])


def on(action: str) -> Callable[[F], F]:
    """``ocpp.routing.on`` with its type: marks a method as the handler of ``action``."""
    return cast(Callable[[F], F], _on(action))


def after(action: str) -> Callable[[F], F]:
    """``ocpp.routing.after`` with its type: runs after the reply to ``action`` was sent."""
    return cast(Callable[[F], F], _after(action))


def schema_error_code(err: SchemaError, codes: ErrorCodes) -> str:
    kind = err.validator
    if kind == "type":
        return codes.type_
    if kind in ("required", "minItems", "maxItems", "minProperties", "maxProperties"):
        return codes.occurrence
    if kind == "maxLength":
        return codes.type_
    if kind == "additionalProperties":
        return codes.payload_format
    return codes.property_


class _KeyCache:
    """camelCase <-> snake_case key conversion by the ``ocpp`` library's rules, memoized."""

    def __init__(self, convert: Callable[[Any], Any], limit: int = 4096) -> None:
        self._convert = convert
        self._map: dict[str, str] = {}
        self._limit = limit

    def key(self, k: str) -> str:
        out = self._map.get(k)
        if out is None:
            out = next(iter(self._convert({k: None})))
            if len(self._map) < self._limit:
                self._map[k] = out
        return out

    def __call__(self, data: Any) -> Any:
        if isinstance(data, dict):
            return {self.key(k): self(v) for k, v in data.items()}
        if isinstance(data, list):
            return [self(v) for v in data]
        return data


to_snake = _KeyCache(camel_to_snake_case)
to_camel = _KeyCache(snake_to_camel_case)


def _dumps(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


class CallErrorSent(Exception):
    """Internal: a frame was answered with a CallError."""


class GatewayChargePoint(ChargePoint):  # type: ignore[misc]
    """One connected charge point. Subclasses add ``@on``/``@after`` handlers per version."""

    version: OcppVersion = OcppVersion.V16
    _wants_uid: dict[tuple[type, str], bool] = {}

    def __init__(self, cp_id: str, connection: Any, response_timeout: float = 30) -> None:
        super().__init__(cp_id, connection, response_timeout)
        self._ocpp_version = _SCHEMA_VERSION[self.version]
        self._codes = ERRORS[self.version]
        self._awaiting: str | None = None
        self._outbound_lock = asyncio.Lock()
        self.frames_in = 0

    # ---- inbound ----
    async def serve(self) -> None:
        """Read frames until the connection closes; one bad frame never ends it."""
        async for raw in self._connection:
            self.frames_in += 1
            try:
                await self.route_message(raw)
            except asyncio.CancelledError:
                raise
            except ConnectionClosed as exc:
                # The charger dropped before its reply went out: routine, it will retry.
                log.info("%s: connection closed before a reply was sent (%s)", self.id, exc)
                return
            except Exception:
                log.exception("%s: unexpected failure handling a frame; connection kept", self.id)

    async def _error(self, unique_id: str, code: str, description: str) -> None:
        log.info("%s: CallError %s for %s: %s", self.id, code, unique_id, description)
        await self._send(_dumps([4, unique_id, code, description[:255], {}]))

    async def route_message(self, raw: str | bytes) -> None:
        c = self._codes
        if isinstance(raw, bytes):
            await self._error("-1", c.frame, "OCPP-J uses text frames only")
            return
        try:
            msg = json.loads(raw)
        except ValueError:
            await self._error("-1", c.frame, "frame is not valid JSON")
            return
        except RecursionError:  # nested deeper than the parser goes: no id can be read
            await self._error("-1", c.frame, "frame is nested too deeply")
            return
        if not isinstance(msg, list) or not msg:
            await self._error("-1", c.frame, "frame is not a non-empty JSON array")
            return
        type_id = msg[0]
        uid = msg[1] if len(msg) > 1 else None
        uid_ok = isinstance(uid, str) and 0 < len(uid) <= MAX_UNIQUE_ID
        if type_id in (3, 4) and not isinstance(type_id, bool):
            self._on_response(msg, uid if uid_ok else None)
            return
        if type_id != 2 or isinstance(type_id, bool):
            await self._error(uid if uid_ok and isinstance(uid, str) else "-1", c.message_type,
                              f"MessageTypeId {type_id!r} is not supported")
            return
        if not uid_ok or not isinstance(uid, str):
            await self._error("-1", c.frame, "message id missing or not a string of 1..36 chars")
            return
        if len(msg) != 4 or not isinstance(msg[2], str):
            await self._error(uid, c.frame, "a Call has exactly 4 elements with a string action")
            return
        if not isinstance(msg[3], dict):
            await self._error(uid, c.payload_format, "payload must be a JSON object")
            return
        try:
            await self._dispatch(uid, msg[2], msg[3])
        except RecursionError:  # validation or key conversion of a payload nested too deeply
            await self._error(uid, c.payload_format, f"{msg[2]}: payload is nested too deeply")

    def _on_response(self, msg: list[Any], uid: str | None) -> None:
        expected_len = 3 if msg[0] == 3 else 5
        if uid is None or uid != self._awaiting or len(msg) != expected_len:
            log.warning("%s: dropped a response with unknown id or bad shape: %.200r", self.id, msg)
            return
        self._awaiting = None
        if msg[0] == 3:
            if not isinstance(msg[2], dict):
                log.warning("%s: dropped a CallResult whose payload is not an object", self.id)
                return
            self._response_queue.put_nowait(CallResult(uid, msg[2]))
        else:
            self._response_queue.put_nowait(CallError(uid, *msg[2:]))

    def registered(self) -> bool:
        """Whether this charge point's BootNotification was ever accepted (subclasses keep it);
        until then every other call is answered with SecurityError."""
        return True

    def _wants_call_uid(self, action: str, handler: Callable[..., Any]) -> bool:
        key = (type(self), action)
        wants = self._wants_uid.get(key)
        if wants is None:
            wants = "call_unique_id" in inspect.signature(handler).parameters
            self._wants_uid[key] = wants
        return wants

    def _validate(self, message_type_id: int, action: str, payload: dict[str, Any]) -> None:
        validator = get_validator(message_type_id, action, self._ocpp_version)
        for err in validator.iter_errors(payload):
            raise err

    async def _dispatch(self, uid: str, action: str, payload: dict[str, Any]) -> None:
        c = self._codes
        handlers = self.route_map.get(action)
        if handlers is None or "_on_action" not in handlers:
            known = action in _KNOWN_ACTIONS[self.version]
            await self._error(uid, c.not_supported if known else c.not_implemented,
                              f"{action} is {'not supported here' if known else 'unknown'}")
            return
        try:
            self._validate(2, action, payload)
        except SchemaError as err:
            await self._error(uid, schema_error_code(err, c), f"{action}: {err.message}")
            return
        if action != "BootNotification" and not self.registered():
            # OCPP 2.0.1 B02/B03; 1.6 section 4.2: a charger never accepted gets no service.
            await self._error(uid, "SecurityError", "send BootNotification first")
            return
        kwargs = to_snake(payload)
        handler = handlers["_on_action"]
        if self._wants_call_uid(action, handler):
            kwargs["call_unique_id"] = uid
        try:
            response = handler(**kwargs)
            if inspect.isawaitable(response):
                response = await response
            out = to_camel(remove_nones(serialize_as_dict(response)))
            self._validate(3, action, out)
        except OCPPError as err:
            await self._error(uid, err.code, str(err.description))
            return
        except Exception:
            log.exception("%s: handler for %s failed", self.id, action)
            await self._error(uid, c.internal, f"{action} could not be processed")
            return
        await self._send(_dumps([3, uid, out]))
        after = handlers.get("_after_action")
        if after is not None:
            kwargs.pop("call_unique_id", None)
            result = after(**kwargs)
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                task.add_done_callback(self._after_done)

    def _after_done(self, task: asyncio.Future[Any]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        exc = task.exception()
        if isinstance(exc, ConnectionClosed):
            log.info("%s: connection closed during an after-hook (%s)", self.id, exc)
        else:
            log.error("%s: after-hook failed: %r", self.id, exc)

    # ---- outbound ----
    async def _send(self, message: str) -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s: send %s", self.id, message)
        await self._connection.send(message)

    async def call(self, payload: Any, suppress: bool = True, unique_id: str | None = None,
                   skip_schema_validation: bool = False) -> Any:
        uid = unique_id if unique_id is not None else str(self._unique_id_generator())
        async with self._outbound_lock:
            self._awaiting = uid
            try:
                return await super().call(payload, suppress, uid, skip_schema_validation)
            finally:
                self._awaiting = None
