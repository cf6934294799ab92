"""Oracle settings: one frozen value, loaded from a JSON file and/or command-line options."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from eth_utils.address import is_address, to_checksum_address

from wattnet.oracle.errors import OracleConfigError


@dataclass(frozen=True, slots=True)
class PlausibilityLimits:
    """Thresholds of the plausibility checks; a receipt beyond them is quarantined."""

    future_skew_s: int = 120
    max_stations_per_signer: int = 64
    max_stations_per_operator: int = 10_000
    self_charging: str = "quarantine"  # or "flag": stored with the flag, still settled
    meter_energy_tolerance_wh: int = 1
    require_meter_data_when_key: bool = True

    def __post_init__(self) -> None:
        if self.self_charging not in ("quarantine", "flag"):
            raise OracleConfigError("self_charging must be 'quarantine' or 'flag'")
        for f in ("future_skew_s", "max_stations_per_signer", "max_stations_per_operator"):
            if getattr(self, f) < 0:
                raise OracleConfigError(f"{f} must not be negative")


@dataclass(frozen=True, slots=True)
class BatcherConfig:
    """When to settle (count or age), how long to trust a transaction, how deep to confirm,
    and what to do after a revert: back off from ``revert_backoff_s``, doubling up to
    ``max_revert_backoff_s``; give a resend after running out of gas twice the gas, up to
    ``max_tx_gas`` (beyond it, split the batch); quarantine a receipt that failed alone
    ``max_reverts`` times."""

    max_batch: int = 200
    min_batch: int = 50
    max_age_s: float = 30.0
    confirmations: int = 3
    poll_interval_s: float = 1.0
    resubmit_after_s: float = 120.0
    revert_backoff_s: float = 60.0
    max_revert_backoff_s: float = 600.0
    max_tx_gas: int = 30_000_000
    max_reverts: int = 3

    def __post_init__(self) -> None:
        if not 1 <= self.min_batch <= self.max_batch:
            raise OracleConfigError("batch sizes must satisfy 1 <= min_batch <= max_batch")
        if self.confirmations < 1:
            raise OracleConfigError("confirmations must be at least 1")
        if self.max_reverts < 1:
            raise OracleConfigError("max_reverts must be at least 1")
        if not 0 <= self.revert_backoff_s <= self.max_revert_backoff_s:
            raise OracleConfigError("backoffs must satisfy 0 <= revert_backoff_s <= "
                                    "max_revert_backoff_s")


@dataclass(frozen=True, slots=True)
class CommitteeConfig:
    """This oracle as one node of the committee (``OracleCommittee`` at ``contract``): its key is
    the oracle's ``keystore`` (it signs votes and relays); ``peers`` are the other nodes' base
    URLs; a proposer that stays silent for ``round_s`` hands the nonce to the next member."""

    contract: str
    peers: tuple[str, ...] = ()
    round_s: float = 10.0
    request_timeout_s: float = 5.0
    # Pass accepted receipts on to the peers. Off when every gateway posts each receipt to
    # every node (gateway ``oracle_url`` lists them): a node that missed one fetches it from a
    # peer before it votes, and nobody verifies each receipt three times.
    gossip: bool = True
    # Judged findings (docs/oracle-committee.md): the quarantine reasons (substrings) for which
    # this node signs a forfeit of the station's epoch rewards and a freeze of its operator;
    # empty: it signs none. How long its signature on a finding stays valid.
    forfeit_reasons: tuple[str, ...] = ("exceeds rated power", "signed meter data replayed",
                                        "meter register goes backwards",
                                        "meter register range")
    finding_ttl_s: int = 86_400
    finding_sweep_s: float = 60.0  # how often this node looks for findings to propose

    def __post_init__(self) -> None:
        if not is_address(self.contract):
            raise OracleConfigError(f"committee.contract {self.contract!r} is not an address")
        object.__setattr__(self, "contract", to_checksum_address(self.contract))
        peers = self.peers
        if isinstance(peers, str) or not all(isinstance(p, str) and p.startswith(
                ("http://", "https://")) for p in peers):
            raise OracleConfigError("committee.peers must be a list of http(s):// base URLs")
        object.__setattr__(self, "peers", tuple(p.rstrip("/") for p in peers))
        if self.round_s <= 0 or self.request_timeout_s <= 0:
            raise OracleConfigError("committee round_s and request_timeout_s must be positive")
        if not isinstance(self.gossip, bool):
            raise OracleConfigError("committee.gossip must be true or false")
        reasons = self.forfeit_reasons
        if isinstance(reasons, str) or not all(isinstance(r, str) and r for r in reasons):
            raise OracleConfigError("committee.forfeit_reasons must be a list of non-empty "
                                    "strings")
        object.__setattr__(self, "forfeit_reasons", tuple(reasons))
        if self.finding_sweep_s <= 0:
            raise OracleConfigError("committee.finding_sweep_s must be positive")
        if not 60 <= self.finding_ttl_s <= 7 * 86_400:
            raise OracleConfigError("committee.finding_ttl_s must be 60..604800 seconds")


@dataclass(frozen=True, slots=True)
class OracleConfig:
    """Everything ``wattnet oracle run`` needs.

    ``database`` is a SQLite path or a postgresql:// DSN. ``chain`` and ``directory`` name
    factories: ``fake:<path>`` / ``json:<path>`` for the built-in test doubles, or
    ``package.module:callable`` taking this config (the chain-backed ones).
    """

    chain_id: int
    settlement_contract: str
    database: str = "var/oracle.db"
    pg_schema: str | None = None
    host: str = "127.0.0.1"
    port: int = 8650
    chain: str = ""
    directory: str = ""
    directory_ttl_s: float = 60.0
    keystore: str | None = None  # the transaction key's encrypted keystore (chain adapter reads it)
    keystore_passphrase_env: str = "WATTNET_ORACLE_KEY_PASSPHRASE"
    max_rejected_rows: int = 10_000
    max_body_bytes: int = 4 * 1024 * 1024
    max_batch_items: int = 5_000
    group_commit_max: int = 2_000
    # False: the gas limit of a settlement is the worst-case bound per receipt, not an
    # eth_estimateGas (which executes the whole batch once more). For local chains with a high
    # block gas limit; a live chain keeps the estimate (it also prices L2 data, e.g. Arbitrum).
    estimate_gas: bool = True
    plausibility: PlausibilityLimits = field(default_factory=PlausibilityLimits)
    batcher: BatcherConfig = field(default_factory=BatcherConfig)
    committee: CommitteeConfig | None = None

    def __post_init__(self) -> None:
        if not is_address(self.settlement_contract):
            raise OracleConfigError(
                f"settlement_contract {self.settlement_contract!r} is not an address"
            )
        checksummed = to_checksum_address(self.settlement_contract)
        object.__setattr__(self, "settlement_contract", checksummed)
        if self.chain_id <= 0:
            raise OracleConfigError("chain_id must be positive")
        if self.max_rejected_rows < 1:
            raise OracleConfigError("max_rejected_rows must be at least 1")

    @property
    def is_postgres(self) -> bool:
        return self.database.startswith(("postgresql://", "postgres://"))

    def with_overrides(self, **overrides: Any) -> OracleConfig:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def load_config(path: Path | None, **overrides: Any) -> OracleConfig:
    """Read a JSON config (nested ``plausibility`` and ``batcher`` objects), apply overrides."""
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise OracleConfigError(f"cannot read oracle config {path}: {exc}") from exc
    raw.update({k: v for k, v in overrides.items() if v is not None})
    nested: dict[str, type[Any]] = {"plausibility": PlausibilityLimits, "batcher": BatcherConfig,
                                    "committee": CommitteeConfig}
    for key, cls in nested.items():
        if isinstance(raw.get(key), dict):
            known = {f.name for f in fields(cls)}
            unknown = set(raw[key]) - known
            if unknown:
                raise OracleConfigError(f"unknown {key} settings: {sorted(unknown)}")
            try:
                raw[key] = cls(**raw[key])
            except TypeError as exc:
                raise OracleConfigError(f"bad {key} settings: {exc}") from exc
    known = {f.name for f in fields(OracleConfig)}
    unknown = set(raw) - known
    if unknown:
        raise OracleConfigError(f"unknown oracle settings: {sorted(unknown)}")
    for needed in ("chain_id", "settlement_contract"):
        if needed not in raw:
            flag = "--" + needed.replace("_", "-")
            raise OracleConfigError(f"oracle config needs {needed} (config file or {flag})")
    try:
        return OracleConfig(**raw)
    except TypeError as exc:
        raise OracleConfigError(f"bad oracle config: {exc}") from exc
