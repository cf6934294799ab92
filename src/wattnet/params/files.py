"""Loading ``params/<network>.yaml``; back to a plain document, dotted overrides, chain units."""


import copy
import os
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from wattnet.errors import ConfigError
from wattnet.params.checks import to_wei
from wattnet.params.sections import parse_params
from wattnet.params.values import (
    PARAMS_DIR_ENV,
    Params,
)
from wattnet.params.yamlfile import read_yaml


def params_dir() -> Path:
    """Where network files live: $WATTNET_PARAMS_DIR, ./params, else the repository's params/."""
    env = os.environ.get(PARAMS_DIR_ENV)
    if env:
        return Path(env)
    local = Path.cwd() / "params"
    if local.is_dir():
        return local
    return Path(__file__).resolve().parents[3] / "params"


def load_params(path_or_network: str | Path) -> Params:
    """Load and validate ``params/<network>.yaml`` (by network name) or a YAML file path."""
    text_path = str(path_or_network)
    is_path = text_path.endswith((".yaml", ".yml")) or "/" in text_path or Path(text_path).is_file()
    path = Path(text_path) if is_path else params_dir() / f"{text_path}.yaml"
    try:
        source = str(path.relative_to(Path.cwd()))
    except ValueError:
        source = str(path)
    if not path.is_file():
        known = sorted(p.stem for p in params_dir().glob("*.yaml"))
        raise ConfigError(f"{source}: no such params file (known networks: {', '.join(known)})")
    return parse_params(read_yaml(path, source), source, None if is_path else text_path)


# ---- back to raw, overrides, chain units ------------------------------------------------------


def _plain(value: Decimal) -> int | str:
    return int(value) if value == value.to_integral_value() else str(value)


def params_to_dict(params: Params) -> dict[str, Any]:
    """The YAML-shaped document of ``params`` (``parse_params`` of it gives ``params`` back)."""
    s, st, rg, cr, rw, gv = (
        params.staking,
        params.settlement,
        params.registry,
        params.credits,
        params.rewards,
        params.governance,
    )
    return {
        "network": params.network,
        "token": {"cap": _plain(params.token.cap)},
        "staking": {
            "min_stake_per_station": _plain(s.min_stake_per_station),
            "unbonding_delay": s.unbonding_delay,
            "slash_destination": s.slash_destination.value,
            "equivocation_slash": _plain(s.equivocation_slash),
            "equivocation_bounty_bps": s.equivocation_bounty_bps,
            "stake_per_kw": _plain(s.stake_per_kw),
            "overlap_tolerance": s.overlap_tolerance,
        },
        "registry": {
            "region_multipliers": dict(rg.region_multipliers),
            "min_tariff_per_kwh": rg.min_tariff_per_kwh,
            "max_tariff_per_kwh": rg.max_tariff_per_kwh,
            "uncertified_reward_bps": rg.uncertified_reward_bps,
            "release_delay": rg.release_delay,
        },
        "credits": {
            "redemption_delay": cr.redemption_delay,
            "stablecoins": [
                {"symbol": c.symbol, "decimals": c.decimals, "credit_id": c.credit_id}
                for c in cr.stablecoins
            ],
        },
        "settlement": {
            "operator_share_bps": st.operator_share_bps,
            "treasury_share_bps": st.treasury_share_bps,
            "referrer_share_bps": st.referrer_share_bps,
            "max_settlement_delay": st.max_settlement_delay,
            "max_session_duration": st.max_session_duration,
        },
        "rewards": {
            "epoch_length": rw.epoch_length,
            "phases": [
                {
                    "name": p.name,
                    "epochs": p.epochs,
                    "emission_per_epoch": _plain(p.emission_per_epoch),
                    "decay_bps": p.decay_bps,
                }
                for p in rw.phases
            ],
            "station_epoch_cap_bps": rw.station_epoch_cap_bps,
            "genesis_supply": _plain(rw.genesis_supply),
            "challenge_window": rw.challenge_window,
            "fee_multiple_bps": rw.fee_multiple_bps,
            "watt_price_floor": _plain(rw.watt_price_floor),
        },
        "governance": {
            "voting_delay": gv.voting_delay,
            "voting_period": gv.voting_period,
            "proposal_threshold": _plain(gv.proposal_threshold),
            "quorum_percent": gv.quorum_percent,
            "timelock_delay": gv.timelock_delay,
            "late_quorum_extension": gv.late_quorum_extension,
        },
        **({} if params.committee is None else {"committee": {
            "min_stake": _plain(params.committee.min_stake),
            "unbonding_delay": params.committee.unbonding_delay,
            "bounty_bps": params.committee.bounty_bps,
            "threshold": params.committee.threshold,
        }}),
        "model": copy.deepcopy(dict(params.model)),
    }


def set_path(doc: dict[str, Any], dotted: str, value: Any, source: str) -> None:
    """Set ``a.b.0.c`` in a nested dict/list document; list items also match by ``name``."""
    parts = dotted.split(".")
    node: Any = doc
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        here = ".".join(parts[: i + 1])
        if isinstance(node, list):
            idx = next(
                (
                    j
                    for j, it in enumerate(node)
                    if isinstance(it, Mapping) and it.get("name") == part
                ),
                None,
            )
            if idx is None and part.isdigit() and int(part) < len(node):
                idx = int(part)
            if idx is None:
                raise ConfigError(f"{source}: {here} names no item of the list (index or name)")
            if last:
                node[idx] = value
            else:
                node = node[idx]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                if node.get(part) is None:
                    node[part] = {}
                node = node[part]
        else:
            raise ConfigError(f"{source}: {here} cannot be set inside a {type(node).__name__}")


def apply_overrides(params: Params, overrides: Mapping[str, Any]) -> Params:
    """A new validated Params with dotted-key overrides, e.g. ``{"settlement.operator_share_bps":
    7000}``; errors name the overrides and the original file."""
    doc = params_to_dict(params)
    source = f"{params.source} (overrides: {', '.join(overrides)})" if overrides else params.source
    for key, value in overrides.items():
        set_path(doc, key, copy.deepcopy(value), source)
    return parse_params(doc, source, params.network)


def to_chain_units(params: Params) -> dict[str, Any]:
    """Integers the contracts take: WATT in wei (18 decimals), seconds, bps, credit units."""
    d = params_to_dict(params)
    s, rw, gv = params.staking, params.rewards, params.governance
    d["token"] = {"cap": to_wei(params.token.cap)}
    d["staking"].update(
        min_stake_per_station=to_wei(s.min_stake_per_station),
        equivocation_slash=to_wei(s.equivocation_slash),
        stake_per_kw=to_wei(s.stake_per_kw),
    )
    d["rewards"].update(genesis_supply=to_wei(rw.genesis_supply),
                        watt_price_floor=to_wei(rw.watt_price_floor))
    for phase, raw in zip(rw.phases, d["rewards"]["phases"], strict=True):
        raw["emission_per_epoch"] = to_wei(phase.emission_per_epoch)
    d["governance"]["proposal_threshold"] = to_wei(gv.proposal_threshold)
    if params.committee is not None:
        d["committee"]["min_stake"] = to_wei(params.committee.min_stake)
    del d["model"]
    return d
