"""WattNet objects -> OCPI objects (docs/ocpi.md has the table).

Ids: a station is a Location whose id is the first 16 bytes of its station id in hex (CiString(36)
cannot hold all 32); each connector is an EVSE (``<location>*<n>``) with one Connector ``"1"``; a
tariff is one (station, credit id) price; a settled session is a CDR whose id is
``<first 15 hex of the location>-<session id>``; a session (live, and the CDR's session_id) is
``<first 15 hex of the location>-<connector>-<start time>``: the gateway numbers a session only
when it closes, while the connector and start time are known from the start and carried by the
receipt, so both sides derive the same id without asking the other. Prices are the credit's
smallest units scaled by its decimals; VAT is not modelled (no ``vat``, no ``incl_vat``).
"""

from __future__ import annotations

import base64
import hashlib
import math
from decimal import Decimal

from wattnet.ocpi.config import OcpiConfig
from wattnet.ocpi.sources import SettledReceipt, StationView
from wattnet.ocpi.types import format_datetime

_GEOHASH = "0123456789bcdefghjkmnpqrstuvwxyz"
_PHASES = {"AC_1_PHASE": 1, "AC_2_PHASE": 2, "AC_2_PHASE_SPLIT": 2, "AC_3_PHASE": 3, "DC": 1}
CAPABILITIES = ["REMOTE_START_STOP_CAPABLE", "RFID_READER", "UNLOCK_CAPABLE"]


def geohash_center(geohash: str) -> tuple[float, float]:
    """(latitude, longitude) of the centre of a geohash cell; ValueError on a bad character."""
    lat, lon = [-90.0, 90.0], [-180.0, 180.0]
    even = True
    for char in geohash.lower():
        bits = _GEOHASH.index(char)
        for shift in range(4, -1, -1):
            half = lon if even else lat
            mid = (half[0] + half[1]) / 2
            half[0 if (bits >> shift) & 1 else 1] = mid
            even = not even
    return (lat[0] + lat[1]) / 2, (lon[0] + lon[1]) / 2


def coordinates(geohash: str) -> dict[str, str]:
    try:
        lat, lon = geohash_center(geohash) if geohash else (0.0, 0.0)
    except ValueError:
        lat, lon = 0.0, 0.0
    return {"latitude": f"{lat:.6f}", "longitude": f"{lon:.6f}"}


def location_id(station_id: bytes) -> str:
    return station_id[:16].hex()


def evse_uid(station_id: bytes, connector: int) -> str:
    return f"{location_id(station_id)}*{connector}"


def cdr_ocpi_id(station_id: bytes, session_id: int) -> str:
    return f"{location_id(station_id)[:15]}-{session_id}"


def session_ocpi_id(station_id: bytes, connector: int, start_time: int) -> str:
    """A session's id from what its start and its receipt both carry (one connector does not
    start two transactions in the same second)."""
    return f"{location_id(station_id)[:15]}-{connector}-{start_time}"


def tariff_id(station_id: bytes, credit_id: int) -> str:
    plain = f"{location_id(station_id)[:20]}-{credit_id}"
    if len(plain) <= 36:
        return plain
    digest = hashlib.sha256(f"{station_id.hex()}:{credit_id}".encode()).hexdigest()
    return f"{location_id(station_id)[:20]}-h{digest[:15]}"


def driver_uid(driver: bytes) -> str:
    """A driver's account as a token uid: its 20 bytes in base32 (32 characters)."""
    return base64.b32encode(driver).decode()


def money(units: int, decimals: int) -> float:
    return float(Decimal(units).scaleb(-decimals))


class Mapper:
    def __init__(self, config: OcpiConfig) -> None:
        self.cfg = config

    def _party(self) -> dict[str, str]:
        return {"country_code": self.cfg.country_code, "party_id": self.cfg.party_id}

    def connector(self, st: StationView, updated: str) -> dict[str, object]:
        spec = self.cfg.connector
        phases = _PHASES.get(spec.power_type, 1)
        return {
            "id": "1", "standard": spec.standard, "format": spec.format,
            "power_type": spec.power_type, "max_voltage": spec.max_voltage,
            "max_amperage": math.ceil(st.rated_power_w / (spec.max_voltage * phases)),
            "max_electric_power": st.rated_power_w,
            "tariff_ids": [tariff_id(st.station_id, c) for c in sorted(st.tariffs)
                           if c in self.cfg.currencies],
            "last_updated": updated,
        }

    def evse(self, st: StationView, n: int, status: str, updated_at: int) -> dict[str, object]:
        updated = format_datetime(max(st.updated_at, updated_at))
        return {
            "uid": evse_uid(st.station_id, n),
            "evse_id": f"{self.cfg.country_code}*{self.cfg.party_id}*E"
                       f"{location_id(st.station_id)[:16].upper()}*{n}",
            "status": status if st.active else "INOPERATIVE",
            "capabilities": CAPABILITIES,
            "connectors": [self.connector(st, updated)],
            "last_updated": updated,
        }

    def location(self, st: StationView, statuses: dict[int, tuple[str, int]]) -> dict[str, object]:
        site = self.cfg.sites.get(st.station_id)
        evses = [self.evse(st, n, *statuses.get(n, ("UNKNOWN", 0)))
                 for n in range(1, st.connector_count + 1)]
        loc: dict[str, object] = {
            **self._party(), "id": location_id(st.station_id), "publish": True,
            "address": site.address if site else "unknown",
            "city": site.city if site else "unknown", "country": self.cfg.country,
            "coordinates": coordinates(st.geohash), "evses": evses,
            "operator": {"name": self.cfg.name}, "time_zone": self.cfg.time_zone,
            "last_updated": max([format_datetime(st.updated_at),
                                 *(str(e["last_updated"]) for e in evses)]),
        }
        if site and site.name:
            loc["name"] = site.name
        if site and site.postal_code:
            loc["postal_code"] = site.postal_code
        return loc

    def tariffs(self, st: StationView) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for credit_id in sorted(st.tariffs):
            cur = self.cfg.currencies.get(credit_id)
            if cur is None:
                continue  # a credit this CPO does not publish (no currency configured)
            out.append({
                **self._party(), "id": tariff_id(st.station_id, credit_id),
                "currency": cur.code, "type": "REGULAR",
                "elements": [{"price_components": [{
                    "type": "ENERGY", "price": money(st.tariffs[credit_id], cur.decimals),
                    "step_size": 1}]}],
                "last_updated": format_datetime(st.updated_at),
            })
        return out

    def cdr_location(self, station_id: bytes, st: StationView | None,
                     connector: int) -> dict[str, object]:
        site = self.cfg.sites.get(station_id)
        spec = self.cfg.connector
        out: dict[str, object] = {
            "id": location_id(station_id), "address": site.address if site else "unknown",
            "city": site.city if site else "unknown", "country": self.cfg.country,
            "coordinates": coordinates(st.geohash if st else ""),
            "evse_uid": evse_uid(station_id, connector),
            "evse_id": f"{self.cfg.country_code}*{self.cfg.party_id}*E"
                       f"{location_id(station_id)[:16].upper()}*{connector}",
            "connector_id": "1", "connector_standard": spec.standard,
            "connector_format": spec.format, "connector_power_type": spec.power_type,
        }
        return out

    def cdr_token(self, driver: bytes, token: dict[str, object] | None) -> dict[str, object]:
        if token is not None:
            return {k: token[k] for k in ("country_code", "party_id", "uid", "type",
                                          "contract_id")}
        uid = driver_uid(driver)
        return {**self._party(), "uid": uid, "type": "APP_USER", "contract_id": uid}

    def cdr(self, r: SettledReceipt, st: StationView | None,
            token: dict[str, object] | None) -> dict[str, object] | None:
        cur = self.cfg.currencies.get(r.credit_id)
        if cur is None:
            return None
        kwh = r.energy_wh / 1000
        hours = (r.end_time - r.start_time) / 3600
        cdr: dict[str, object] = {
            **self._party(), "id": cdr_ocpi_id(r.station_id, r.session_id),
            "session_id": session_ocpi_id(r.station_id, r.connector_id, r.start_time),
            "start_date_time": format_datetime(r.start_time),
            "end_date_time": format_datetime(r.end_time),
            "cdr_token": self.cdr_token(r.driver, token),
            "auth_method": "COMMAND" if token is not None else "WHITELIST",
            "cdr_location": self.cdr_location(r.station_id, st, r.connector_id),
            "currency": cur.code,
            "charging_periods": [{
                "start_date_time": format_datetime(r.start_time),
                "dimensions": [{"type": "ENERGY", "volume": kwh}, {"type": "TIME",
                                                                    "volume": hours}],
                "tariff_id": tariff_id(r.station_id, r.credit_id)}],
            "total_cost": {"excl_vat": money(r.cost, cur.decimals)},
            "total_energy": kwh, "total_time": hours,
            "last_updated": format_datetime(r.settled_at),
        }
        if r.meter_serial:
            cdr["meter_id"] = r.meter_serial[:255]
        signed = signed_data(r.meter_data)
        if signed is not None:
            cdr["signed_data"] = signed
        return cdr


def session(mapper: Mapper, station_id: bytes, connector: int, start: int,
            token: dict[str, object] | None, driver: bytes, credit_id: int, *, now: int,
            energy_wh: int, cost: int) -> dict[str, object]:
    """An OCPI Session (ACTIVE) for a gateway's open session; ``cost`` in the credit's smallest
    units. ``token``: the eMSP token it was started with, else the driver's APP_USER token."""
    cur = mapper.cfg.currencies[credit_id]
    return {
        **mapper._party(), "id": session_ocpi_id(station_id, connector, start),
        "start_date_time": format_datetime(start), "kwh": energy_wh / 1000,
        "cdr_token": mapper.cdr_token(driver, token),
        "auth_method": "COMMAND" if token is not None else "WHITELIST",
        "location_id": location_id(station_id), "evse_uid": evse_uid(station_id, connector),
        "connector_id": "1", "currency": cur.code,
        "total_cost": {"excl_vat": money(cost, cur.decimals)},
        "status": "ACTIVE", "last_updated": format_datetime(now),
    }


def session_progress(mapper: Mapper, credit_id: int, *, now: int, energy_wh: int, cost: int,
                     end: int | None = None) -> dict[str, object]:
    """The fields of a Session PATCH as energy grows; with ``end``, the session COMPLETED."""
    out: dict[str, object] = {
        "kwh": energy_wh / 1000,
        "total_cost": {"excl_vat": money(cost, mapper.cfg.currencies[credit_id].decimals)},
        "last_updated": format_datetime(now)}
    if end is not None:
        out |= {"status": "COMPLETED", "end_date_time": format_datetime(end)}
    return out


def signed_data(meter_data: str | None) -> dict[str, object] | None:
    """OCMF records (``OCMF|<payload>|<signature>``, one a line) as OCPI SignedData; None when
    there are none or one does not fit the SignedValue limits (plain_data is string(512))."""
    if not meter_data:
        return None
    values = []
    for line in meter_data.strip().splitlines():
        parts = line.split("|", 2)
        if len(parts) != 3 or parts[0] != "OCMF" or len(parts[1]) > 512:
            return None
        sig = base64.b64encode(parts[2].encode()).decode()
        if len(sig) > 5000:
            return None
        values.append({"nature": "OCMF", "plain_data": parts[1], "signed_data": sig})
    return {"encoding_method": "OCMF", "signed_values": values}
