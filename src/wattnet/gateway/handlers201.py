"""OCPP 2.0.1 handlers: one ``@on`` method per action, side effects in ``@after``."""

from __future__ import annotations

import json
import logging
from typing import Any

from ocpp.v201 import call, call_result
from ocpp.v201.datatypes import IdTokenInfoType, IdTokenType
from ocpp.v201.enums import (
    Action,
    AuthorizationStatusEnumType,
    DataTransferStatusEnumType,
    RegistrationStatusEnumType,
    ResetEnumType,
)

from wattnet.domain import OcppVersion
from wattnet.gateway.crashpoints import crashpoint
from wattnet.gateway.handlers16 import iso
from wattnet.gateway.protocol import after, on
from wattnet.gateway.site_chargepoint import SiteChargePoint
from wattnet.gateway.transactions import parse_time, read_register_201
from wattnet.gateway.unsolicited import ACKS_201, install_acks

log = logging.getLogger(__name__)
_ACCEPTED = AuthorizationStatusEnumType.accepted
_INVALID = AuthorizationStatusEnumType.invalid


class ChargePoint201(SiteChargePoint):
    version = OcppVersion.V201
    _call_result = call_result

    _remote_start_id = 0  # RequestStartTransaction ids, counted per connection

    @on(Action.boot_notification)
    async def on_boot_notification(self, charging_station: dict[str, Any], reason: str,
                                   **kwargs: Any) -> call_result.BootNotification:
        log.info("%s booted (%s): %s", self.id, reason, charging_station)
        await self._service.accept_boot(self.id)
        return call_result.BootNotification(
            current_time=iso(self._clock()), interval=self._heartbeat,
            status=RegistrationStatusEnumType.accepted)

    @on(Action.heartbeat)
    def on_heartbeat(self, **kwargs: Any) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=iso(self._clock()))

    @on(Action.status_notification)
    def on_status_notification(self, timestamp: str, connector_status: str, evse_id: int,
                               connector_id: int, **kwargs: Any
                               ) -> call_result.StatusNotification:
        self._service.set_status(self.id, evse_id, connector_status)
        return call_result.StatusNotification()

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, message_id: str | None = None,
                         data: Any = None, **kwargs: Any) -> call_result.DataTransfer:
        status, out = self.data_transfer(vendor_id, message_id, data)
        return call_result.DataTransfer(status=DataTransferStatusEnumType(status), data=out)

    @on(Action.authorize)
    async def on_authorize(self, id_token: dict[str, Any], **kwargs: Any
                           ) -> call_result.Authorize:
        decision = await self._service.authorize(self.id, id_token["id_token"])
        return call_result.Authorize(
            id_token_info=IdTokenInfoType(status=_ACCEPTED if decision.accepted else _INVALID))

    @on(Action.meter_values)
    def on_meter_values(self, evse_id: int, meter_value: list[dict[str, Any]],
                        **kwargs: Any) -> call_result.MeterValues:
        return call_result.MeterValues()

    @on(Action.transaction_event)
    async def on_transaction_event(
        self, event_type: str, timestamp: str, trigger_reason: str, seq_no: int,
        transaction_info: dict[str, Any], meter_value: list[dict[str, Any]] | None = None,
        id_token: dict[str, Any] | None = None, evse: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> call_result.TransactionEvent:
        tx_key = str(transaction_info["transaction_id"])
        at = parse_time(timestamp) or int(self._clock())
        reading = read_register_201(meter_value)
        token = None if id_token is None else str(id_token["id_token"])
        if event_type == "Ended":
            # An Ended event carrying both the Transaction.Begin and the end sample gives the
            # start register too (chargers that report registers only at the end).
            first = reading.first_wh if reading.samples >= 2 else None
            closed = await self._service.end(self.id, tx_key, reading.register_wh, at,
                                             reading.signed, first_wh=first)
            if token is None:
                return call_result.TransactionEvent()
            ok = bool(json.loads(closed.end_result).get("authorized"))
            return call_result.TransactionEvent(
                id_token_info=IdTokenInfoType(status=_ACCEPTED if ok else _INVALID))
        connector = int((evse or {}).get("id", 0))
        _tx, accepted = await self._service.event_201(
            self.id, tx_key, connector, at, token, reading.register_wh, reading.signed,
            first_wh=reading.first_wh, samples=reading.samples)
        if accepted is None:
            return call_result.TransactionEvent()
        return call_result.TransactionEvent(
            id_token_info=IdTokenInfoType(status=_ACCEPTED if accepted else _INVALID))

    @after(Action.transaction_event)
    async def after_transaction_event(self, event_type: str, transaction_info: dict[str, Any],
                                      **kwargs: Any) -> None:
        if event_type == "Ended":
            crashpoint("after_reply_before_forward")
            return
        tx_key = str(transaction_info["transaction_id"])
        if self._service.stop_due(self.id, tx_key):
            log.info("%s tx %s reached its reservation; RequestStopTransaction", self.id, tx_key)
            await self.call(call.RequestStopTransaction(transaction_id=tx_key))

    # ---- commands to the charger ----
    async def remote_start(self, connector_id: int, id_token: str) -> str:
        self._remote_start_id += 1
        res = await self.call(call.RequestStartTransaction(
            id_token=IdTokenType(id_token=id_token, type="Central"),
            remote_start_id=self._remote_start_id, evse_id=connector_id))
        return "Rejected" if res is None else str(res.status)

    async def remote_stop(self, tx_key: str) -> str:
        res = await self.call(call.RequestStopTransaction(transaction_id=tx_key))
        return "Rejected" if res is None else str(res.status)

    async def reset(self, hard: bool = False) -> str:
        res = await self.call(call.Reset(
            type=ResetEnumType.immediate if hard else ResetEnumType.on_idle))
        return "Rejected" if res is None else str(res.status)


install_acks(ChargePoint201, ACKS_201)
