"""The charge point base both OCPP versions' handlers share: the site services it talks to."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ocpp.charge_point import remove_nones, serialize_as_dict
from ocpp.exceptions import OCPPError, UnknownCallErrorCodeError

from wattnet.gateway.errors import ChargerRefusedError
from wattnet.gateway.protocol import GatewayChargePoint, to_camel
from wattnet.gateway.sessions import SessionService
from wattnet.gateway.unsolicited import VendorHandler, data_transfer

__all__ = ["SiteChargePoint", "VendorHandler"]


class SiteChargePoint(GatewayChargePoint):
    """A connected charger of this site: OCPP framing plus the session service and clock."""

    def __init__(
        self,
        cp_id: str,
        connection: Any,
        service: SessionService,
        clock: Callable[[], float],
        heartbeat_interval: int,
        response_timeout: float = 30,
    ) -> None:
        super().__init__(cp_id, connection, response_timeout)
        self._service = service
        self._clock = clock
        self._heartbeat = heartbeat_interval
        self.vendors: Mapping[str, VendorHandler] = {}

    def registered(self) -> bool:
        return self._service.is_booted(self.id)

    def data_transfer(self, vendor_id: str, message_id: str | None, data: Any
                      ) -> tuple[str, Any]:
        return data_transfer(self.vendors, self.id, vendor_id, message_id, data)

    async def request(self, payload: Any) -> dict[str, Any]:
        """Send a call to the charger and return its answer as camelCase JSON.

        A CallError or a schema-invalid answer raises :class:`ChargerRefusedError`; no answer
        within the response timeout raises ``TimeoutError``."""
        action = type(payload).__name__
        try:
            result = await self.call(payload, suppress=False)
        except OCPPError as exc:
            raise ChargerRefusedError(
                f"charge point {self.id} answered {action} with {exc.code}: "
                f"{exc.description or 'no description'}") from exc
        except UnknownCallErrorCodeError as exc:
            raise ChargerRefusedError(f"charge point {self.id} answered {action} with a "
                                      f"CallError of no OCPP code ({exc})") from exc
        out: dict[str, Any] = to_camel(remove_nones(serialize_as_dict(result)))
        return out
