"""Change sets: ``changes/<name>.yaml``, the input of a DAO parameter change.

```yaml
description: Raise the rural central-Europe multiplier to 1.3x
network: local            # optional: refuse to run against another network
changes:                  # the keys and units of params/<network>.yaml, dotted or nested
  registry.region_multipliers.u0: 13000
  settlement.operator_share_bps: 7800     # the treasury share follows (the treasury gets the rest)
```

Values are validated by :mod:`wattnet.params` against the parameters they would join (the
params file, or the values on chain overlaid on it), then against the contracts' own bounds.
Every error is one line naming the file, the key and what is allowed.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wattnet.errors import ConfigError
from wattnet.governance.members import KEY as MEMBERS_KEY
from wattnet.governance.members import parse_members
from wattnet.governance.table import (
    NOT_GOVERNED,
    REGION_PREFIX,
    SCHEDULE_KEY,
    TREASURY_SHARE,
    governed_keys,
    lookup,
    to_chain,
)
from wattnet.params import BPS, Params, params_to_dict, parse_params, set_path
from wattnet.params.yamlfile import read_yaml

_TOP = ("description", "network", "changes")
CHANGES_DIR = "changes"


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """A parsed change set; ``changes`` holds the raw values by dotted key, as written."""

    name: str
    source: str
    description: str
    network: str | None
    changes: dict[str, Any]


def _flatten(raw: Mapping[Any, Any], prefix: str, out: dict[str, Any], source: str) -> None:
    for key, value in raw.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            if not value:
                raise ConfigError(f"{source}: changes.{dotted} is empty")
            _flatten(value, dotted + ".", out, source)
        elif dotted in out:
            raise ConfigError(f"{source}: changes.{dotted} is given twice")
        else:
            out[dotted] = value


def _check_key(key: str, source: str) -> None:
    for fixed, why in NOT_GOVERNED.items():
        if key == fixed or key.startswith(fixed + "."):
            raise ConfigError(f"{source}: changes.{key} cannot be changed by a vote ({why})")
    if key in (TREASURY_SHARE, SCHEDULE_KEY, MEMBERS_KEY) or key.startswith(SCHEDULE_KEY + "."):
        return
    if lookup(key) is not None:
        return
    section = key.split(".")[0]
    known = [k for k in governed_keys() if k.startswith(section + ".")] or governed_keys()
    raise ConfigError(
        f"{source}: changes.{key} is not a governed parameter (allowed: {', '.join(known)})"
    )


def parse_change_set(raw: Any, source: str, name: str | None = None) -> ChangeSet:
    """Check the shape and the keys of a parsed YAML change set (values: :func:`proposed`)."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: must be a mapping with description and changes")
    for key in raw:
        if key not in _TOP:
            raise ConfigError(f"{source}: {key} is not a known key (allowed: {', '.join(_TOP)})")
    description = raw.get("description")
    if not isinstance(description, str) or not description.strip():
        raise ConfigError(f"{source}: description must be a non-empty string (what and why)")
    network = raw.get("network")
    if network is not None and not isinstance(network, str):
        raise ConfigError(f"{source}: network={network!r} must be a network name")
    changes_raw = raw.get("changes")
    if not isinstance(changes_raw, Mapping) or not changes_raw:
        raise ConfigError(f"{source}: changes must map at least one parameter to its new value")
    changes: dict[str, Any] = {}
    _flatten(changes_raw, "", changes, source)
    for key in changes:
        _check_key(key, source)
    return ChangeSet(name or Path(source).stem, source, description.strip(), network, changes)


def resolve_path(name_or_path: str | Path) -> Path:
    """``changes/<name>.yaml`` for a bare name, else the path as given."""
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")) or "/" in text:
        return Path(text)
    return Path(CHANGES_DIR) / f"{text}.yaml"


def load_change_set(name_or_path: str | Path) -> ChangeSet:
    path = resolve_path(name_or_path)
    source = str(path)
    if not path.is_file():
        raise ConfigError(f"{source}: no such change set (write changes/<name>.yaml first)")
    return parse_change_set(read_yaml(path, source), source, path.stem)


# ---- values -----------------------------------------------------------------------------------


def get_path(doc: Mapping[str, Any], key: str) -> Any:
    node: Any = doc
    for part in key.split("."):
        node = node[part]
    return node


def overlay(params: Params, values: Mapping[str, Any], source: str) -> Params:
    """``params`` with governed values replaced (e.g. by what is on chain); a region multiplier
    of 0 (not set on chain) is removed. Validated by :func:`wattnet.params.parse_params`."""
    doc = params_to_dict(params)
    regions = doc["registry"]["region_multipliers"]
    for key, value in values.items():
        if key.startswith(REGION_PREFIX):
            prefix = key[len(REGION_PREFIX):]
            if value:
                regions[prefix] = value
            else:
                regions.pop(prefix, None)
        elif key not in (TREASURY_SHARE, MEMBERS_KEY):
            set_path(doc, key, copy.deepcopy(value), source)
    st = doc["settlement"]
    if "settlement.operator_share_bps" in values or "settlement.referrer_share_bps" in values:
        st["treasury_share_bps"] = BPS - st["operator_share_bps"] - st["referrer_share_bps"]
    return parse_params(doc, source, params.network)


def proposed(change_set: ChangeSet, base: Params) -> tuple[Params, dict[str, Any]]:
    """Validate ``change_set`` against ``base``; returns the parameters after the change and the
    changed values in the file's units (normalized: durations in seconds, WATT as Decimal)."""
    src = change_set.source
    if change_set.network is not None and change_set.network != base.network:
        raise ConfigError(
            f"{src}: is for network {change_set.network!r}, not {base.network!r}; "
            "pick the matching --network / --params"
        )
    doc = params_to_dict(base)
    for key, value in change_set.changes.items():
        if key == MEMBERS_KEY:  # chain state, not a params-file key
            continue
        if key.startswith(REGION_PREFIX):
            doc["registry"]["region_multipliers"][key[len(REGION_PREFIX):]] = value
        else:
            set_path(doc, key, copy.deepcopy(value), src)
    shares = ("settlement.operator_share_bps", "settlement.referrer_share_bps")
    st = doc["settlement"]
    given = [st[k.split(".")[1]] for k in shares]
    if TREASURY_SHARE not in change_set.changes and any(k in change_set.changes for k in shares) \
            and all(isinstance(v, int) and not isinstance(v, bool) for v in given):
        rest = BPS - given[0] - given[1]  # any other type: parse_params names key and value
        if 0 <= rest <= BPS:
            st["treasury_share_bps"] = rest  # the treasury gets the rest, as on chain
    after = parse_params(doc, src, base.network)
    new_doc = params_to_dict(after)
    values: dict[str, Any] = {}
    for key in change_set.changes:
        if key.startswith(SCHEDULE_KEY):  # a phase's field, by name or index: the whole list
            values[SCHEDULE_KEY] = new_doc["rewards"]["phases"]
        elif key == MEMBERS_KEY:
            values[key] = parse_members(change_set.changes[key], src)
        else:
            values[key] = get_path(new_doc, key)
    if any(k in change_set.changes for k in shares):
        values[TREASURY_SHARE] = new_doc["settlement"]["treasury_share_bps"]
    for key, value in values.items():
        param = lookup(key)
        if param is None:
            continue
        chain_value = to_chain(param, value)
        lo = param.chain_lo if param.chain_lo is not None else chain_value
        hi = param.chain_hi if param.chain_hi is not None else chain_value
        if not lo <= chain_value <= hi:
            raise ConfigError(
                f"{src}: {key}={value} is outside what {param.contract} accepts: "
                f"{param.chain_bounds}"
            )
    return after, values


def current_of(params: Params, keys: list[str]) -> dict[str, Any]:
    """The values of ``keys`` in ``params`` (file units); a region not listed is 0 (not set)."""
    doc = params_to_dict(params)
    out: dict[str, Any] = {}
    for key in keys:
        if key.startswith(REGION_PREFIX):
            out[key] = doc["registry"]["region_multipliers"].get(key[len(REGION_PREFIX):], 0)
        else:
            out[key] = get_path(doc, key)
    return out
