"""Where the CPO's objects come from: stations (the registry), settled receipts (the oracle's
store) and live state (EVSE status, sessions: pushed by the gateways).

``StationSource`` is the registry reader: ``json:<file>`` (a list of stations, for a site without
a chain node) or the web3 reader in ``registry_web3``. ``SettledReceipts`` reads the oracle's
receipts table (status ``settled``) with the paging and ``last_updated`` window pushed into SQL.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from wattnet.ocpi.config import OcpiConfigError
from wattnet.oracle.schema import Status
from wattnet.oracle.store_base import Store


@dataclass(frozen=True, slots=True)
class StationView:
    """What the registry says about one station, as OCPI needs it."""

    station_id: bytes
    rated_power_w: int
    connector_count: int
    active: bool
    geohash: str
    tariffs: Mapping[int, int]  # credit id -> the credit's smallest units per kWh
    updated_at: int  # UNIX time of the station's last registry change


class StationSource(Protocol):
    def stations(self) -> list[StationView]:
        """Every registered station, in a stable order."""
        ...


@dataclass(frozen=True, slots=True)
class JsonStations:
    """Stations listed in a JSON file: ``[{"station_id": "0x…", "rated_power_w", "connectors",
    "active", "geohash", "tariffs": {"<credit id>": <units per kWh>}, "updated_at"}]``."""

    path: Path

    def stations(self) -> list[StationView]:
        try:
            rows: list[dict[str, Any]] = json.loads(self.path.read_text())
            return [StationView(
                bytes.fromhex(str(r["station_id"]).removeprefix("0x")), int(r["rated_power_w"]),
                int(r["connectors"]), bool(r.get("active", True)), str(r["geohash"]),
                {int(k): int(v) for k, v in dict(r.get("tariffs", {})).items()},
                int(r.get("updated_at", 0))) for r in rows]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise OcpiConfigError(f"station list {self.path}: {exc}; see docs/ocpi.md") from exc


@dataclass(frozen=True, slots=True)
class SettledReceipt:
    station_id: bytes
    session_id: int
    connector_id: int
    driver: bytes
    credit_id: int
    energy_wh: int
    start_time: int
    end_time: int
    cost: int
    meter_data: str | None
    meter_serial: str | None
    settled_at: int


_COLS = ("station_id, session_key, connector_id, driver, credit_id, energy_wh, start_time, "
         "end_time, cost, meter_data, meter_serial, updated_at")
_WHERE = "status = ? AND updated_at >= ? AND updated_at < ?"


def _receipt(r: tuple[Any, ...]) -> SettledReceipt:
    return SettledReceipt(bytes(r[0]), int.from_bytes(bytes(r[1]), "big"), int(r[2]), bytes(r[3]),
                          int(r[4]), int(r[5]), int(r[6]), int(r[7]), int(r[8]), r[9], r[10],
                          int(r[11]))


@dataclass(frozen=True, slots=True)
class SettledReceipts:
    """CDR source: the oracle's settled receipts, ``updated_at`` as ``last_updated``."""

    store: Store
    credit_ids: tuple[int, ...]  # the credits published (those with a currency)

    def _where(self, since: int, until: int) -> tuple[str, tuple[Any, ...]]:
        marks = ", ".join("?" for _ in self.credit_ids)
        return (f"{_WHERE} AND credit_id IN ({marks})",
                (Status.SETTLED, since, until, *map(str, self.credit_ids)))

    def count(self, since: int, until: int) -> int:
        where, params = self._where(since, until)
        with self.store.transaction() as tx:
            row = tx.one(f"SELECT COUNT(*) FROM receipts WHERE {where}", params)
        return int(row[0]) if row else 0

    def page(self, since: int, until: int, offset: int, limit: int) -> list[SettledReceipt]:
        where, params = self._where(since, until)
        with self.store.transaction() as tx:
            rows = tx.query(f"SELECT {_COLS} FROM receipts WHERE {where} "
                            "ORDER BY updated_at, id LIMIT ? OFFSET ?", (*params, limit, offset))
        return [_receipt(r) for r in rows]
