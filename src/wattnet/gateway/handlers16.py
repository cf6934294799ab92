"""OCPP 1.6-J handlers: one ``@on`` method per action, side effects in ``@after``."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from ocpp.v16 import call, call_result
from ocpp.v16.datatypes import IdTagInfo
from ocpp.v16.enums import (
    Action,
    AuthorizationStatus,
    DataTransferStatus,
    RegistrationStatus,
    ResetType,
)

from wattnet.domain import OcppVersion
from wattnet.gateway.crashpoints import crashpoint
from wattnet.gateway.protocol import after, on
from wattnet.gateway.site_chargepoint import SiteChargePoint
from wattnet.gateway.transactions import parse_time, read_register_16
from wattnet.gateway.unsolicited import ACKS_16, install_acks

log = logging.getLogger(__name__)


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ChargePoint16(SiteChargePoint):
    version = OcppVersion.V16
    _call_result = call_result


    @on(Action.boot_notification)
    async def on_boot_notification(self, charge_point_vendor: str, charge_point_model: str,
                                   **kwargs: Any) -> call_result.BootNotification:
        log.info("%s booted: %s %s", self.id, charge_point_vendor, charge_point_model)
        await self._service.accept_boot(self.id)
        return call_result.BootNotification(
            current_time=iso(self._clock()), interval=self._heartbeat,
            status=RegistrationStatus.accepted)

    @on(Action.heartbeat)
    def on_heartbeat(self) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=iso(self._clock()))

    @on(Action.status_notification)
    def on_status_notification(self, connector_id: int, error_code: str, status: str,
                               **kwargs: Any) -> call_result.StatusNotification:
        self._service.set_status(self.id, connector_id, status)
        return call_result.StatusNotification()

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, message_id: str | None = None,
                         data: str | None = None, **kwargs: Any) -> call_result.DataTransfer:
        status, out = self.data_transfer(vendor_id, message_id, data)
        return call_result.DataTransfer(status=DataTransferStatus(status), data=out)

    @on(Action.authorize)
    async def on_authorize(self, id_tag: str) -> call_result.Authorize:
        decision = await self._service.authorize(self.id, id_tag)
        status = AuthorizationStatus.accepted if decision.accepted else AuthorizationStatus.invalid
        return call_result.Authorize(id_tag_info=IdTagInfo(status=status))

    @on(Action.start_transaction)
    async def on_start_transaction(self, connector_id: int, id_tag: str, meter_start: int,
                                   timestamp: str, call_unique_id: str,
                                   **kwargs: Any) -> call_result.StartTransaction:
        start = parse_time(timestamp) or int(self._clock())
        tx, ok = await self._service.start_16(self.id, call_unique_id, connector_id, id_tag,
                                              meter_start, start)
        status = AuthorizationStatus.accepted if ok else AuthorizationStatus.invalid
        return call_result.StartTransaction(transaction_id=int(tx.tx_key),
                                            id_tag_info=IdTagInfo(status=status))

    @on(Action.meter_values)
    async def on_meter_values(self, connector_id: int, meter_value: list[dict[str, Any]],
                              transaction_id: int | None = None,
                              **kwargs: Any) -> call_result.MeterValues:
        if transaction_id is not None and any(
            sv.get("format") == "SignedData" for mv in meter_value
            for sv in mv.get("sampled_value", ())
        ):  # signed records are stored before the reply, in order with the StopTransaction
            signed = read_register_16(meter_value).signed
            await self._service.add_signed(self.id, str(transaction_id), signed)
        return call_result.MeterValues()

    @after(Action.meter_values)
    async def after_meter_values(self, connector_id: int, meter_value: list[dict[str, Any]],
                                 transaction_id: int | None = None, **kwargs: Any) -> None:
        if transaction_id is None:
            return
        reading = read_register_16(meter_value)
        if reading.register_wh is None:
            return
        at = reading.timestamp or int(self._clock())
        self._service.meter(self.id, str(transaction_id), reading.register_wh, at)
        if self._service.stop_due(self.id, str(transaction_id)):
            log.info("%s tx %s reached its reservation; RemoteStop", self.id, transaction_id)
            await self.call(call.RemoteStopTransaction(transaction_id=transaction_id))

    @on(Action.stop_transaction)
    async def on_stop_transaction(self, meter_stop: int, timestamp: str, transaction_id: int,
                                  id_tag: str | None = None,
                                  **kwargs: Any) -> call_result.StopTransaction:
        end = parse_time(timestamp) or int(self._clock())
        signed = read_register_16(kwargs.get("transaction_data") or ()).signed
        closed = await self._service.end(self.id, str(transaction_id), meter_stop, end, signed)
        authorized = json.loads(closed.end_result).get("authorized", False)
        if id_tag is None:
            return call_result.StopTransaction()
        status = AuthorizationStatus.accepted if authorized else AuthorizationStatus.invalid
        return call_result.StopTransaction(id_tag_info=IdTagInfo(status=status))

    @after(Action.stop_transaction)
    def after_stop_transaction(self, **kwargs: Any) -> None:
        crashpoint("after_reply_before_forward")

    # ---- commands to the charger ----
    async def remote_start(self, connector_id: int, id_token: str) -> str:
        res = await self.call(call.RemoteStartTransaction(id_tag=id_token,
                                                          connector_id=connector_id))
        return "Rejected" if res is None else str(res.status)

    async def remote_stop(self, tx_key: str) -> str:
        res = await self.call(call.RemoteStopTransaction(transaction_id=int(tx_key)))
        return "Rejected" if res is None else str(res.status)

    async def reset(self, hard: bool = False) -> str:
        res = await self.call(call.Reset(type=ResetType.hard if hard else ResetType.soft))
        return "Rejected" if res is None else str(res.status)


install_acks(ChargePoint16, ACKS_16)
