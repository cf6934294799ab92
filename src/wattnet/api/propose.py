"""A parameter-change proposal built for the browser (``POST /api/governance/propose``): one
governed key of :mod:`wattnet.governance.table`, its new value in the params file's unit (as
``wattnet params`` writes it: ``2h`` or 7200 for seconds, whole or decimal WATT, a choice by
name) and a description. The value is checked against the key's bounds before anything is
encoded; the calls are the table's own (:func:`~wattnet.governance.table.build_calls`: a setter
taking several keys gets the others as they are on chain). The browser then has the member's
wallet send ``propose(targets, values, calldatas, description)``: the server holds no key.

Cross-field rules of the params file (e.g. shares summing to at most 100 %) are not checked
here: the contract's own setter refuses such a value when the proposal is executed, and
``wattnet params diff`` checks them against the whole params file.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from wattnet.api.governance import read_param
from wattnet.chain.web3_client import ChainClient
from wattnet.errors import ConfigError
from wattnet.governance.records import describe_calldata
from wattnet.governance.table import PARAMS, Param, Unit, build_calls, lookup, setter_of, to_chain
from wattnet.params import SlashDestination, parse_duration

MAX_DESCRIPTION = 10_000


def parse_value(p: Param, text: str) -> Any:
    """``text`` as a value of ``p`` in the params file's unit, inside its bounds."""
    t = text.strip()
    value: Any
    if p.unit is Unit.CHOICE:
        choices = [c.value for c in SlashDestination]
        if t not in choices:
            raise ConfigError(f"{p.key}: {t!r} is not one of {' | '.join(choices)}")
        return t
    if p.unit is Unit.SECONDS:
        value = parse_duration(int(t) if t.isdigit() else t)
        if value is None:
            raise ConfigError(f"{p.key}: {t!r} is not a duration (seconds, or 30m, 12h, 7d)")
    elif p.unit in (Unit.WATT, Unit.USD):
        try:
            value = Decimal(t)
        except InvalidOperation:
            raise ConfigError(f"{p.key}: {t!r} is not a number of {p.unit}") from None
        if not value.is_finite():
            raise ConfigError(f"{p.key}: {t!r} is not a number of {p.unit}")
    else:
        if not t.isdigit():
            raise ConfigError(f"{p.key}: {t!r} is not a whole number of {p.unit}")
        value = int(t)
    lo, hi = p.params_lo, p.params_hi
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ConfigError(f"{p.key}: {t} is outside its bounds {p.bounds}")
    return value


def proposal_calls(client: ChainClient, key: str, value_text: str,
                   description: str) -> dict[str, Any]:
    """What the governor's ``propose`` takes for ``key`` := ``value_text``, and the calls in
    words."""
    p = lookup(key)
    deployed = client.deployment.contracts
    if p is None or p not in PARAMS or p.contract not in deployed:
        raise ConfigError(f"{key!r} is not a governed parameter of this deployment")
    text = description.strip()
    if not text or len(text) > MAX_DESCRIPTION:
        raise ConfigError(f"describe the change (1 to {MAX_DESCRIPTION} characters): voters "
                          "read it")
    value = parse_value(p, value_text)
    current = {k: read_param(client, q) for k in setter_of(key).keys if (q := lookup(k))}
    if to_chain(p, value) == to_chain(p, current[key]):
        raise ConfigError(f"{key} is already {current[key]} on chain: nothing to propose")
    calls = build_calls({key: value}, current)
    targets = [client.deployment.address(c.contract) for c in calls]
    return {"targets": targets, "values": ["0"] * len(calls),
            "calldatas": ["0x" + c.calldata.hex() for c in calls],
            "calls": [describe_calldata(deployed, t, c.calldata)
                      for t, c in zip(targets, calls, strict=True)],
            "description": text}
