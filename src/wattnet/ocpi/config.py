"""``ocpi.yaml``: who the CPO is, where it listens, where its objects come from (docs/ocpi.md).

Required: ``country_code`` (2), ``party_id`` (3), ``base_url`` (how partners reach this server),
``database`` (the oracle's: SQLite path or postgresql:// DSN), ``stations`` (``json:<file>`` or
``web3``) and ``currencies`` (credit id -> ISO 4217 code and the credit's decimals).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from wattnet.errors import ConfigError
from wattnet.ocpi.gateways import GatewayEndpoint


class OcpiConfigError(ConfigError):
    """ocpi.yaml is missing, unreadable or has a wrong value."""


@dataclass(frozen=True, slots=True)
class Currency:
    code: str  # ISO 4217
    decimals: int  # 1 credit = 10**-decimals of the currency


@dataclass(frozen=True, slots=True)
class Site:
    """What the chain does not hold about a station: its street address (Location fields)."""

    address: str = "unknown"
    city: str = "unknown"
    postal_code: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    standard: str = "IEC_62196_T2"
    format: str = "SOCKET"
    power_type: str = "AC_3_PHASE"
    max_voltage: int = 230


@dataclass(frozen=True, slots=True)
class OcpiConfig:
    country_code: str
    party_id: str
    base_url: str
    database: str
    stations: str
    currencies: Mapping[int, Currency]
    name: str = "WattNet"
    pg_schema: str | None = None
    host: str = "127.0.0.1"
    port: int = 8660
    country: str = "DEU"  # ISO 3166-1 alpha-3 of the Locations
    time_zone: str = "Europe/Berlin"
    connector: ConnectorSpec = field(default_factory=ConnectorSpec)
    sites: Mapping[bytes, Site] = field(default_factory=dict)
    page_limit: int = 100
    push_timeout_s: float = 10.0
    # The site gateways' admin APIs: commands go through them, EVSE status comes from them.
    gateways: tuple[GatewayEndpoint, ...] = ()
    gateway_poll_s: float = 5.0
    # Also show WattNet's own drivers' live sessions (APP_USER tokens) to every partner, as
    # their CDRs are (the receipts are public on chain once settled); off: only eMSP tokens'.
    share_own_sessions: bool = False
    # How often the registry and the settled receipts are read for Location PUT / CDR POST.
    push_poll_s: float = 5.0

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Z]{2}", self.country_code):
            raise OcpiConfigError("country_code: two capital letters (ISO 3166-1 alpha-2)")
        if not re.fullmatch(r"[A-Z0-9]{3}", self.party_id):
            raise OcpiConfigError("party_id: three capital letters or digits (ISO 15118)")
        if not self.base_url.startswith(("http://", "https://")):
            raise OcpiConfigError("base_url: the http(s) URL partners reach this server at")
        if not self.currencies:
            raise OcpiConfigError("currencies: give at least one credit id")
        if not 1 <= self.page_limit <= 1000:
            raise OcpiConfigError("page_limit: 1 to 1000")
        if not self.gateway_poll_s > 0 or not self.push_poll_s > 0:
            raise OcpiConfigError("gateway_poll_s, push_poll_s: seconds between reads, above 0")
        for g in self.gateways:
            if not g.url.startswith(("http://", "https://")):
                raise OcpiConfigError(f"gateways: {g.url!r} is not an http(s) URL of an admin API")

    @property
    def versions_url(self) -> str:
        return self.base_url.rstrip("/") + "/ocpi/versions"


def _site(raw: Any) -> Site:
    return Site(**{k: str(v) for k, v in dict(raw).items()})


def config_from_dict(raw: Mapping[str, Any], base: Path = Path()) -> OcpiConfig:
    try:
        data = dict(raw)
        data["currencies"] = {int(k): Currency(str(v["currency"]), int(v["decimals"]))
                              for k, v in dict(data.get("currencies", {})).items()}
        data["sites"] = {bytes.fromhex(str(k).removeprefix("0x")): _site(v)
                         for k, v in dict(data.get("sites", {})).items()}
        data["connector"] = ConnectorSpec(**dict(data.get("connector", {})))
        data["gateways"] = tuple(GatewayEndpoint(**dict(g)) for g in data.get("gateways") or ())
        stations = str(data.get("stations", ""))
        if stations.startswith("json:") and not Path(stations[5:]).is_absolute():
            data["stations"] = "json:" + str(base / stations[5:])
        return OcpiConfig(**data)
    except OcpiConfigError:
        raise
    except (TypeError, ValueError, KeyError) as exc:
        raise OcpiConfigError(f"ocpi config: {exc}; see docs/ocpi.md") from exc


def load_config(path: Path) -> OcpiConfig:
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise OcpiConfigError(f"cannot read {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise OcpiConfigError(f"{path}: expected a mapping of settings")
    return config_from_dict(raw, path.parent)
