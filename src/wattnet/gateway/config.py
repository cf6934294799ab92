"""The gateway configuration: one YAML file per site, loaded into frozen dataclasses."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from eth_utils.address import is_address, to_checksum_address

from wattnet.gateway.errors import GatewayConfigError, ScheduleError
from wattnet.gateway.smart_charging import ChargingSchedule, schedule_from_dict


@dataclass(frozen=True, slots=True)
class StationConfig:
    """One charge point of the site, as the operator registered it."""

    charge_point_id: str
    security_profile: int
    keystore: Path
    password_hash: str | None = None
    tariffs: Mapping[int, int] = field(default_factory=dict)  # credit id -> credits per kWh
    rated_power_w: int = 22_000
    connectors: int = 2
    meter_public_key: str | None = None  # hex: DER SubjectPublicKeyInfo or 64-byte x || y
    meter_serial: str | None = None
    # The key is certified on chain (StationRegistry.certifyMeter): receipts then commit to the
    # signed readings, which is what earns reward weight and what anyone may prove against.
    # A declared, uncertified key commits nothing (it could only be slashed as foreign).
    meter_certified: bool = False

    def __post_init__(self) -> None:
        if self.meter_certified and not self.meter_public_key:
            raise GatewayConfigError(
                f"station {self.charge_point_id}: meter_certified needs the meter_public_key "
                "of the certified meter"
            )
        if self.security_profile not in (1, 2, 3):
            raise GatewayConfigError(
                f"station {self.charge_point_id}: security_profile must be 1, 2 or 3"
            )
        if self.security_profile in (1, 2) and not self.password_hash:
            raise GatewayConfigError(
                f"station {self.charge_point_id}: profile {self.security_profile} needs a "
                "password_hash (create one with `wattnet gateway hash-password`)"
            )
        if not self.tariffs:
            raise GatewayConfigError(f"station {self.charge_point_id}: give at least one tariff")
        for credit_id, tariff in self.tariffs.items():
            if credit_id < 0 or tariff <= 0:
                raise GatewayConfigError(
                    f"station {self.charge_point_id}: tariff for credit {credit_id} must be > 0"
                )


@dataclass(frozen=True, slots=True)
class TlsConfig:
    """The TLS listener (security profiles 2 and 3)."""

    port: int
    cert_file: Path
    key_file: Path
    client_ca_file: Path | None = None  # CA of the stations' client certificates (profile 3)


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    data_dir: Path
    oracle_url: str
    chain_id: int
    settlement: str
    stations: Mapping[str, StationConfig]
    host: str = "127.0.0.1"
    port: int | None = 9000  # plain WebSocket listener, profile 1 only; None disables it
    tls: TlsConfig | None = None
    passphrase_env: str = "WATTNET_KEYSTORE_PASSPHRASE"
    heartbeat_interval: int = 300
    credit_refresh_s: float = 60.0
    # How far past the gateway's clock a signed meter reading may be (clock drift; a simulation
    # with accelerated chain time sets its lead here, as for the oracle's future_skew_s).
    meter_future_skew_s: int = 300
    # The site operator's address: drivers who consented to its stations (and not to every
    # station) are authorized here; without it only "any station" drivers are.
    operator: str | None = None
    pending_cost_ttl_s: float = 3_600.0
    ws_ping_interval: float | None = None  # OCPP heartbeats already detect dead links
    response_timeout_s: float = 30.0
    app_port: int | None = None  # HTTP front door for app drivers' ChargeRequests; None: off
    gc_freeze_interval_s: float | None = 30.0  # move survivors out of GC scans (see docs)
    gc_full_interval_s: float = 3_600.0  # unfreeze + full collection (reclaims frozen cycles)
    # Largest WebSocket message accepted (bytes); bigger ones close the connection with 1009.
    # A StopTransaction with a long session's per-minute samples runs to a few MiB.
    max_frame_bytes: int = 8 * 1024 * 1024
    # Password checks: scrypt runs in this many low-priority processes (cheap hashes: threads),
    # at most auth_queue waiting
    # (more are refused at once); failed attempts are limited per charge point id and per
    # source address within auth_window_s.
    auth_workers: int = 1
    auth_queue: int = 1024  # a reconnect storm of first-time passwords queues here
    auth_failures_per_id: int = 5
    auth_failures_per_source: int = 20
    auth_window_s: float = 60.0
    # The operator's admin HTTP API (remote operations); None: off. Its bearer token is read
    # from the environment variable admin_token_env (never from the file).
    admin_port: int | None = None
    admin_token_env: str = "WATTNET_GATEWAY_ADMIN_TOKEN"
    # Named smart-charging schedules the admin API's set-profile sends (docs/gateway.md).
    charging_schedules: Mapping[str, ChargingSchedule] = field(default_factory=dict)
    # More oracle committee nodes: each receipt is posted to oracle_url and every one of these
    # at once, and is delivered once oracle_acks of them acknowledged it (start notices go to
    # the first that answers). In the file, oracle_url may be a list: its first entry is
    # oracle_url, the rest are these.
    oracle_peers: tuple[str, ...] = ()
    oracle_acks: int = 1

    @property
    def oracle_urls(self) -> tuple[str, ...]:
        return (self.oracle_url, *self.oracle_peers)

    def __post_init__(self) -> None:
        if not is_address(self.settlement):
            raise GatewayConfigError(f"settlement is not an address: {self.settlement!r}")
        object.__setattr__(self, "settlement", to_checksum_address(self.settlement))
        if self.port is None and self.tls is None:
            raise GatewayConfigError("enable at least one listener: port or tls.port")
        needs_tls = any(s.security_profile >= 2 for s in self.stations.values())
        if needs_tls and self.tls is None:
            raise GatewayConfigError("stations with security profile 2 or 3 need a tls section")
        if not 64 * 1024 <= self.max_frame_bytes <= 64 * 1024 * 1024:
            raise GatewayConfigError("max_frame_bytes must be between 64 KiB and 64 MiB")
        if not 1 <= self.oracle_acks <= len(self.oracle_urls):
            raise GatewayConfigError(
                f"oracle_acks must be 1..{len(self.oracle_urls)} (one per oracle URL)")
        if self.auth_workers < 1 or self.auth_queue < 1:
            raise GatewayConfigError("auth_workers and auth_queue must be at least 1")
        if any(s.security_profile == 3 for s in self.stations.values()) and (
            self.tls is None or self.tls.client_ca_file is None
        ):
            raise GatewayConfigError("profile 3 stations need tls.client_ca_file")

    def admin_token(self) -> str:
        value = os.environ.get(self.admin_token_env, "")
        if len(value) < 16:
            raise GatewayConfigError(
                f"admin_port is set: put an admin token of at least 16 characters in the "
                f"environment variable {self.admin_token_env}")
        return value

    def passphrase(self) -> str:
        value = os.environ.get(self.passphrase_env)
        if value is None:
            raise GatewayConfigError(
                f"set the keystore passphrase in the environment variable {self.passphrase_env}"
            )
        return value


def _path(base: Path, value: Any) -> Path:
    p = Path(str(value)).expanduser()
    return p if p.is_absolute() else base / p


def station_from_dict(cp_id: str, raw: Mapping[str, Any], base: Path) -> StationConfig:
    try:
        return StationConfig(
            charge_point_id=cp_id,
            security_profile=int(raw.get("security_profile", 1)),
            keystore=_path(base, raw["keystore"]),
            password_hash=raw.get("password_hash"),
            tariffs={int(k): int(v) for k, v in dict(raw.get("tariffs", {})).items()},
            rated_power_w=int(raw.get("rated_power_w", 22_000)),
            connectors=int(raw.get("connectors", 2)),
            meter_public_key=raw.get("meter_public_key"),
            meter_serial=raw.get("meter_serial"),
            meter_certified=_flag(raw.get("meter_certified", False), cp_id, "meter_certified"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, GatewayConfigError):
            raise
        raise GatewayConfigError(f"station {cp_id}: {exc!r} (check the stations section)") from exc


def config_from_dict(raw: Mapping[str, Any], base: Path) -> GatewayConfig:
    try:
        tls_raw = raw.get("tls")
        tls = None
        if tls_raw:
            ca = tls_raw.get("client_ca_file")
            tls = TlsConfig(
                port=int(tls_raw["port"]),
                cert_file=_path(base, tls_raw["cert_file"]),
                key_file=_path(base, tls_raw["key_file"]),
                client_ca_file=_path(base, ca) if ca else None,
            )
        stations = {
            str(cp): station_from_dict(str(cp), s, base)
            for cp, s in dict(raw.get("stations", {})).items()
        }
        port = raw.get("port", 9000)
        urls = _oracle_urls(raw["oracle_url"])
        return GatewayConfig(
            data_dir=_path(base, raw["data_dir"]),
            oracle_url=urls[0],
            oracle_peers=urls[1:],
            oracle_acks=int(raw.get("oracle_acks", 1)),
            chain_id=int(raw["chain_id"]),
            settlement=str(raw["settlement"]),
            stations=stations,
            host=str(raw.get("host", "127.0.0.1")),
            port=None if port is None else int(port),
            tls=tls,
            passphrase_env=str(raw.get("passphrase_env", "WATTNET_KEYSTORE_PASSPHRASE")),
            heartbeat_interval=int(raw.get("heartbeat_interval", 300)),
            credit_refresh_s=float(raw.get("credit_refresh_s", 60.0)),
            meter_future_skew_s=int(raw.get("meter_future_skew_s", 300)),
            operator=raw.get("operator"),
            pending_cost_ttl_s=float(raw.get("pending_cost_ttl_s", 3_600.0)),
            ws_ping_interval=raw.get("ws_ping_interval"),
            app_port=None if raw.get("app_port") is None else int(raw["app_port"]),
            admin_port=None if raw.get("admin_port") is None else int(raw["admin_port"]),
            admin_token_env=str(raw.get("admin_token_env", "WATTNET_GATEWAY_ADMIN_TOKEN")),
            charging_schedules=_schedules(raw.get("charging_schedules") or {}),
            **_tunables(raw),
        )
    except GatewayConfigError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise GatewayConfigError(f"gateway config: missing or bad value {exc!r}") from exc


def _oracle_urls(value: object) -> tuple[str, ...]:
    """``oracle_url``: one URL, or a list of the committee nodes' URLs."""
    urls = [value] if isinstance(value, str) else value
    if not isinstance(urls, list) or not urls or not all(isinstance(u, str) and u for u in urls):
        raise GatewayConfigError("oracle_url must be a URL or a non-empty list of URLs")
    if len(set(urls)) != len(urls):
        raise GatewayConfigError("oracle_url lists a node twice")
    return tuple(u.rstrip("/") for u in urls)


# Optional tuning keys and their types (defaults: the GatewayConfig fields).
_TUNABLES: Mapping[str, type[int] | type[float]] = {
    "max_frame_bytes": int, "auth_workers": int, "auth_queue": int,
    "auth_failures_per_id": int, "auth_failures_per_source": int, "auth_window_s": float,
}


def _tunables(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {k: kind(raw[k]) for k, kind in _TUNABLES.items() if k in raw}


def _schedules(raw: Any) -> dict[str, ChargingSchedule]:
    if not isinstance(raw, dict):
        raise GatewayConfigError("charging_schedules must map names to schedules")
    try:
        return {str(name): schedule_from_dict(s) for name, s in raw.items()}
    except ScheduleError as exc:
        raise GatewayConfigError(f"charging_schedules: {exc}") from exc


def load_config(path: Path) -> GatewayConfig:
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise GatewayConfigError(f"cannot read gateway config {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise GatewayConfigError(f"gateway config {path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise GatewayConfigError(f"gateway config {path} must be a mapping")
    return config_from_dict(raw, path.parent)


def _flag(value: object, cp_id: str, name: str) -> bool:
    if not isinstance(value, bool):
        raise GatewayConfigError(f"station {cp_id}: {name} must be true or false, got {value!r}")
    return value
