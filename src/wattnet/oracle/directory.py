"""Where station facts come from: the ``StationDirectory`` protocol, a TTL cache, test doubles.

The chain-backed directory (StationRegistry.getStation) lives with the chain adapters; the oracle
only sees the protocol. The cache also keeps what the hot path needs precomputed per station:
the signer and operator as 20 raw bytes and the meter key as DER.
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from wattnet.domain import StationInfo
from wattnet.oracle.errors import DirectoryUnavailable, OracleConfigError

log = logging.getLogger(__name__)


@runtime_checkable
class StationDirectory(Protocol):
    """Read access to the station registry."""

    def station(self, station_id: bytes) -> StationInfo | None:
        """The registry entry for ``station_id``, or None when no such station exists."""
        ...


@runtime_checkable
class BatchStationDirectory(StationDirectory, Protocol):
    """A directory that reads many stations in one round trip."""

    def stations(self, station_ids: list[bytes]) -> dict[bytes, StationInfo | None]: ...


@dataclass(frozen=True, slots=True)
class StationFacts:
    """A StationInfo with the byte forms the verifier compares against."""

    info: StationInfo
    signer: bytes
    operator: bytes
    meter_key_der: bytes | None


def meter_key_der(meter_public_key: bytes | None) -> bytes | None:
    """DER SubjectPublicKeyInfo of a P-256 key given as 64 bytes x || y (None stays None)."""
    if meter_public_key is None:
        return None
    if len(meter_public_key) != 64:
        raise OracleConfigError("meter_public_key must be 64 bytes (P-256 x || y)")
    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(meter_public_key[:32], "big"),
        int.from_bytes(meter_public_key[32:], "big"),
        ec.SECP256R1(),
    )
    return numbers.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def facts_of(info: StationInfo) -> StationFacts:
    return StationFacts(
        info=info,
        signer=bytes.fromhex(info.signer[2:]),
        operator=bytes.fromhex(info.operator[2:]),
        meter_key_der=meter_key_der(info.meter_public_key),
    )


class CachedStationDirectory:
    """A bounded LRU cache with a TTL in front of a slow directory (misses cached shorter).

    Unknown station ids are cached too (``negative_ttl_s``) so that a flood of made-up ids costs
    one registry call each per TTL at most; the LRU bound caps memory whatever ids arrive.
    """

    def __init__(
        self,
        inner: StationDirectory,
        ttl_s: float = 60.0,
        negative_ttl_s: float = 10.0,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._ttl = ttl_s
        self._negative_ttl = negative_ttl_s
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[bytes, tuple[float, StationFacts | None]] = OrderedDict()

    def facts(self, station_id: bytes) -> StationFacts | None:
        now = self._clock()
        hit = self._entries.get(station_id)
        if hit is not None and hit[0] > now:
            self._entries.move_to_end(station_id)
            return hit[1]
        return self._fetch([station_id], now)[station_id]

    def prefetch(self, station_ids: set[bytes]) -> None:
        """Read the stations not cached (or expired) in one call where the directory can: an
        ingest round then costs one registry round trip, not one per new station."""
        now = self._clock()
        misses = [sid for sid in station_ids
                  if (hit := self._entries.get(sid)) is None or hit[0] <= now]
        if len(misses) > 1 and isinstance(self._inner, BatchStationDirectory):
            self._fetch(misses, now)

    def _fetch(self, station_ids: list[bytes], now: float) -> dict[bytes, StationFacts | None]:
        try:
            if len(station_ids) > 1 and isinstance(self._inner, BatchStationDirectory):
                infos = self._inner.stations(station_ids)
            else:
                infos = {sid: self._inner.station(sid) for sid in station_ids}
        except Exception as exc:  # any registry failure: fail closed, the gateway retries
            raise DirectoryUnavailable(
                f"station registry unavailable for 0x{station_ids[0].hex()}"
                f"{f' and {len(station_ids) - 1} more' if len(station_ids) > 1 else ''}: "
                f"{exc}; retry later") from exc
        out = {}
        for sid in station_ids:
            info = infos.get(sid)
            value = facts_of(info) if info is not None else None
            expires = now + (self._ttl if value is not None else self._negative_ttl)
            self._entries[sid] = (expires, value)
            self._entries.move_to_end(sid)
            out[sid] = value
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return out

    def station(self, station_id: bytes) -> StationInfo | None:
        facts = self.facts(station_id)
        return facts.info if facts is not None else None

    def invalidate(self, station_id: bytes | None = None) -> None:
        if station_id is None:
            self._entries.clear()
        else:
            self._entries.pop(station_id, None)


class InMemoryStationDirectory:
    """A dict of stations (tests, simulator); ``calls`` counts lookups to show the cache works."""

    def __init__(self, stations: list[StationInfo] | None = None) -> None:
        self._stations = {s.station_id: s for s in stations or []}
        self.calls = 0

    def put(self, info: StationInfo) -> None:
        self._stations[info.station_id] = info

    def station(self, station_id: bytes) -> StationInfo | None:
        self.calls += 1
        return self._stations.get(station_id)


def station_to_json(info: StationInfo) -> dict[str, object]:
    return {
        "stationId": "0x" + info.station_id.hex(),
        "operator": info.operator,
        "signer": info.signer,
        "ratedPowerW": info.rated_power_w,
        "connectorCount": info.connector_count,
        "active": info.active,
        "geohash": info.geohash,
        "meterPublicKey": None if info.meter_public_key is None else info.meter_public_key.hex(),
    }


def station_from_json(obj: dict[str, object]) -> StationInfo:
    try:
        meter = obj.get("meterPublicKey")
        return StationInfo(
            station_id=bytes.fromhex(str(obj["stationId"])[2:]),
            operator=str(obj["operator"]),
            signer=str(obj["signer"]),
            rated_power_w=int(str(obj["ratedPowerW"])),
            connector_count=int(str(obj["connectorCount"])),
            active=bool(obj["active"]),
            geohash=str(obj.get("geohash", "")),
            meter_public_key=None if meter is None else bytes.fromhex(str(meter)),
        )
    except (KeyError, ValueError) as exc:
        raise OracleConfigError(f"bad station entry {obj!r}: {exc}") from exc


class JsonFileStationDirectory(InMemoryStationDirectory):
    """Stations from a JSON list (``[station_to_json(...), ...]``), for tests and local demos."""

    def __init__(self, path: Path) -> None:
        try:
            raw = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise OracleConfigError(f"cannot read station directory {path}: {exc}") from exc
        super().__init__([station_from_json(obj) for obj in raw])
