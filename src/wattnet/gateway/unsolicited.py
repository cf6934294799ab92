"""Charger-initiated messages the site acknowledges without acting on them, and DataTransfer.

OCPP 1.6 (core profile plus the security extension) and 2.0.1 (core and advanced security, plus
the other charger-initiated notifications) list messages a station may send at any time. Each
gets the response its schema defines: an empty confirmation for notifications, a refusal where
the gateway offers no service (certificate signing, ISO 15118 certificates, EV charging needs).
DataTransfer is answered UnknownVendorId unless a vendor handler is registered
(:attr:`wattnet.gateway.server.Gateway.vendors`), UnknownMessageId when that handler does not know
the message id (OCPP 1.6 section 4.3; 2.0.1 use case P02).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from ocpp.v16 import call_result as r16
from ocpp.v16.enums import GenericStatus
from ocpp.v201 import call_result as r201
from ocpp.v201.enums import (
    GenericStatusEnumType,
    GetCertificateStatusEnumType,
    Iso15118EVCertificateStatusEnumType,
    NotifyEVChargingNeedsStatusEnumType,
)

from wattnet.gateway.protocol import on

log = logging.getLogger(__name__)

# Acknowledged only. 1.6: DiagnosticsStatusNotification and FirmwareStatusNotification (core),
# the rest from the security whitepaper. Station-initiated actions handled with effects
# (BootNotification, Authorize, transactions, meter values, status) live in handlers16/201.
ACKS_16: Mapping[str, Callable[[], Any]] = {
    "DiagnosticsStatusNotification": r16.DiagnosticsStatusNotification,
    "FirmwareStatusNotification": r16.FirmwareStatusNotification,
    "SecurityEventNotification": r16.SecurityEventNotification,
    "LogStatusNotification": r16.LogStatusNotification,
    "SignedFirmwareStatusNotification": r16.SignedFirmwareStatusNotification,
    # No certificate authority behind this gateway: a CSR is refused (the station keeps its
    # certificate; profile 3 certificates are issued out of band).
    "SignCertificate": lambda: r16.SignCertificate(status=GenericStatus.rejected),
}

ACKS_201: Mapping[str, Callable[[], Any]] = {
    "ClearedChargingLimit": r201.ClearedChargingLimit,
    "FirmwareStatusNotification": r201.FirmwareStatusNotification,
    "LogStatusNotification": r201.LogStatusNotification,
    "NotifyChargingLimit": r201.NotifyChargingLimit,
    "NotifyCustomerInformation": r201.NotifyCustomerInformation,
    "NotifyDisplayMessages": r201.NotifyDisplayMessages,
    "NotifyEvent": r201.NotifyEvent,
    "NotifyMonitoringReport": r201.NotifyMonitoringReport,
    "NotifyReport": r201.NotifyReport,
    "PublishFirmwareStatusNotification": r201.PublishFirmwareStatusNotification,
    "ReportChargingProfiles": r201.ReportChargingProfiles,
    "ReservationStatusUpdate": r201.ReservationStatusUpdate,
    "SecurityEventNotification": r201.SecurityEventNotification,
    "NotifyEVChargingSchedule": lambda: r201.NotifyEVChargingSchedule(
        status=GenericStatusEnumType.accepted),  # informational: noted, nothing to apply
    "NotifyEVChargingNeeds": lambda: r201.NotifyEVChargingNeeds(
        status=NotifyEVChargingNeedsStatusEnumType.rejected),  # no ISO 15118 scheduling here
    "SignCertificate": lambda: r201.SignCertificate(status=GenericStatusEnumType.rejected),
    "Get15118EVCertificate": lambda: r201.Get15118EVCertificate(
        status=Iso15118EVCertificateStatusEnumType.failed, exi_response=""),
    "GetCertificateStatus": lambda: r201.GetCertificateStatus(
        status=GetCertificateStatusEnumType.failed),  # no OCSP responder behind this gateway
}

# Logged as warnings: an operator wants to see these.
_LOUD = frozenset({"SecurityEventNotification"})

# vendorId -> handler(cp_id, message_id, data) -> (status, data), or None: unknown message id.
VendorHandler = Callable[[str, str | None, Any], tuple[str, Any] | None]


def data_transfer(vendors: Mapping[str, VendorHandler], cp_id: str, vendor_id: str,
                  message_id: str | None, data: Any) -> tuple[str, Any]:
    """(status, data) for a charger's DataTransfer."""
    handler = vendors.get(vendor_id)
    if handler is None:
        log.info("%s: DataTransfer from unknown vendor %r (message %r)", cp_id, vendor_id,
                 message_id)
        return "UnknownVendorId", None
    answer = handler(cp_id, message_id, data)
    return ("UnknownMessageId", None) if answer is None else answer


def install_acks(cls: type, acks: Mapping[str, Callable[[], Any]]) -> None:
    """Add an ``@on(action)`` method per acknowledged action to a charge point class."""
    for action, make in acks.items():
        setattr(cls, "on_ack_" + action, _ack(action, make))


def _ack(action: str, make: Callable[[], Any]) -> Callable[..., Any]:
    level = logging.WARNING if action in _LOUD else logging.INFO

    def handler(self: Any, **kwargs: Any) -> Any:
        log.log(level, "%s: %s %.300r", self.id, action, kwargs)
        return make()

    handler.__name__ = "on_ack_" + action
    return on(action)(handler)
