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
from wattnet.oracle.errors import DirectoryBusy, DirectoryUnavailable, OracleConfigError

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

    Made-up station ids cannot buy registry reads or evict real stations: unknown ids are cached
    (``negative_ttl_s``) in an LRU of their own (``max_negative``), and reads of ids not cached
    draw on a budget (``lookup_burst``, refilled at ``lookups_per_s``). Past it a lookup raises
    DirectoryBusy (the receipt is deferred and sent again), while cached stations, every honest
    station once seen, are served as before.
    """

    def __init__(
        self,
        inner: StationDirectory,
        ttl_s: float = 60.0,
        negative_ttl_s: float = 10.0,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
        max_negative: int = 10_000,
        lookups_per_s: float = 500.0,
        lookup_burst: int = 5_000,
    ) -> None:
        self._inner = inner
        self._ttl = ttl_s
        self._negative_ttl = negative_ttl_s
        self._max = max_entries
        self._max_negative = max_negative
        self._clock = clock
        self._entries: OrderedDict[bytes, tuple[float, StationFacts]] = OrderedDict()
        self._negative: OrderedDict[bytes, float] = OrderedDict()  # unknown id -> expiry
        self._rate = lookups_per_s
        self._burst = float(lookup_burst)
        self._tokens = float(lookup_burst)
        self._refilled = clock()

    def _cached(self, station_id: bytes, now: float) -> tuple[bool, StationFacts | None]:
        hit = self._entries.get(station_id)
        if hit is not None and hit[0] > now:
            self._entries.move_to_end(station_id)
            return True, hit[1]
        expires = self._negative.get(station_id)
        return (expires is not None and expires > now), None

    def _take(self, wanted: int, now: float) -> int:
        """Up to ``wanted`` registry reads from the budget."""
        self._tokens = min(self._burst, self._tokens + (now - self._refilled) * self._rate)
        self._refilled = now
        granted = min(wanted, int(self._tokens))
        self._tokens -= granted
        return granted

    def facts(self, station_id: bytes) -> StationFacts | None:
        now = self._clock()
        found, value = self._cached(station_id, now)
        if found:
            return value
        if not self._take(1, now):
            raise DirectoryBusy(f"station 0x{station_id.hex()} is new to this node and too many "
                                "new stations were looked up lately; send it again later")
        return self._fetch([station_id], now)[station_id]

    def prefetch(self, station_ids: set[bytes]) -> None:
        """Read the stations not cached (or expired) in one call where the directory can: an
        ingest round then costs one registry round trip, not one per new station."""
        now = self._clock()
        misses = [sid for sid in station_ids if not self._cached(sid, now)[0]]
        if len(misses) > 1 and isinstance(self._inner, BatchStationDirectory):
            granted = self._take(len(misses), now)
            if granted:
                self._fetch(misses[:granted], now)

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
        out: dict[bytes, StationFacts | None] = {}
        for sid in station_ids:
            info = infos.get(sid)
            if info is None:
                self._entries.pop(sid, None)
                self._negative[sid] = now + self._negative_ttl
                self._negative.move_to_end(sid)
                out[sid] = None
            else:
                value = facts_of(info)
                self._negative.pop(sid, None)
                self._entries[sid] = (now + self._ttl, value)
                self._entries.move_to_end(sid)
                out[sid] = value
        for cache, bound in ((self._entries, self._max), (self._negative, self._max_negative)):
            while len(cache) > bound:
                cache.popitem(last=False)
        return out

    def station(self, station_id: bytes) -> StationInfo | None:
        facts = self.facts(station_id)
        return facts.info if facts is not None else None

    def invalidate(self, station_id: bytes | None = None) -> None:
        if station_id is None:
            self._entries.clear()
            self._negative.clear()
        else:
            self._entries.pop(station_id, None)
            self._negative.pop(station_id, None)


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
