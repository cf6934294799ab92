"""External inputs of a resumed deploy: may they change since the record was started?

The addresses a deploy takes from its operator (treasury, guardian, oracle, stablecoins) are read
back from the record's steps, where each was used. An input no recorded step has used yet may
change between runs: the resumed deploy takes the new value (a typo fixed after preflight or a
crash). Once a contract depends on it (a constructor argument, a role granted, a credit listed),
changing it would leave the old value in force beside the new one, so it is refused with one
line naming the variable, both values and the contract.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from wattnet.errors import ChainError

# constructor argument index of the treasury in the contracts that take it
TREASURY_ARG = {"WattToken": 2, "OperatorStaking": 2, "EnergyCredits": 1}
# roles granted to an input at deploy: (contract, role) -> input
ROLE_INPUTS = {("EnergyCredits", "ORACLE_ROLE"): "oracle",
               ("EnergyCredits", "PAUSER_ROLE"): "guardian",
               ("OperatorStaking", "FREEZER_ROLE"): "guardian"}
VARIABLES = {"treasury": "WATTNET_TREASURY", "guardian": "WATTNET_GUARDIAN",
             "oracle": "WATTNET_ORACLE_ADDRESS"}


def variable_of(name: str) -> str:
    """The environment variable an input comes from (``stablecoin.USDC`` ->
    ``WATTNET_STABLECOIN_USDC``)."""
    if name.startswith("stablecoin."):
        return "WATTNET_STABLECOIN_" + name.removeprefix("stablecoin.").upper()
    return VARIABLES[name]


@dataclass(frozen=True, slots=True)
class Use:
    name: str  # "treasury", "guardian", "oracle", "stablecoin.<SYMBOL>"
    value: str
    contract: str  # the contract that depends on it
    step: str  # the record step that used it


def uses(steps: Mapping[str, Mapping[str, Any]], contracts: Mapping[str, str],
         constructor_args: Mapping[str, list[Any]]) -> Iterator[Use]:
    """Every recorded use of an external input (a pending creation counts: it may be mined)."""
    for cname, index in TREASURY_ARG.items():
        args = constructor_args.get(cname) or []
        if f"deploy:{cname}" in steps and len(args) > index:
            yield Use("treasury", str(args[index]), cname, f"deploy:{cname}")
    own = {a.lower() for a in contracts.values()}  # grants to the deployment's own contracts
    for step, info in steps.items():
        if info.get("status") != "done":
            continue
        if step.startswith("param:credits.list:"):
            name = "stablecoin." + step.removeprefix("param:credits.list:")
            if name in contracts:
                yield Use(name, contracts[name], "EnergyCredits", step)
        elif step.startswith("grant:"):
            _, cname, role, who = step.split(":", 3)
            if (cname, role) in ROLE_INPUTS and who.lower() not in own:
                yield Use(ROLE_INPUTS[(cname, role)], who, cname, step)


def inputs_of(treasury: str, guardian: str, oracle: str,
              stablecoins: Mapping[str, str] | None) -> dict[str, str]:
    """The external inputs of a deploy by name (``stablecoin.<SYMBOL>`` for each token)."""
    return {"treasury": treasury, "guardian": guardian, "oracle": oracle,
            **{f"stablecoin.{s}": a for s, a in (stablecoins or {}).items()}}


def check_unchanged(source: str, steps: Mapping[str, Mapping[str, Any]],
                    contracts: Mapping[str, str], constructor_args: Mapping[str, list[Any]],
                    inputs: Mapping[str, str]) -> None:
    """Refuse (one line) a changed input that a recorded step already used."""
    for use in uses(steps, contracts, constructor_args):
        new = inputs.get(use.name)
        if new is None or new.lower() == use.value.lower():
            continue
        var = variable_of(use.name)
        raise ChainError(
            f"{source}: ${var} is now {new} but {use.contract} already uses {use.value} "
            f"(step {use.step}); set ${var}={use.value} to resume, or move the record away to "
            "deploy anew"
        )
