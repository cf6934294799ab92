"""The chain side of parameter changes, through Ape: connect, check the deployment, read the
governed values, pick the sender, and turn reverts into one-line errors.

Addresses come only from ``deployments/<ecosystem>/<network>.json``; ABIs from the compiled
manifest. Ape is imported lazily so ``wattnet -h`` and the change-set checks stay fast.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from eth_abi.abi import decode
from eth_utils.crypto import keccak

from wattnet.chain.deployments import Deployment, load_abi, load_deployment
from wattnet.errors import ChainError, ConfigError, WattNetError
from wattnet.governance.members import KEY as MEMBERS_KEY
from wattnet.governance.schedule import AbsPhase, decode_phases, from_abs
from wattnet.governance.table import (
    COMMITTEE,
    GOVERNOR,
    PARAMS,
    REGION_PREFIX,
    SCHEDULE_KEY,
    TREASURY_SHARE,
    decode_getter,
    encode_call,
    getter_call,
    lookup,
)
from wattnet.params import BPS, WEI_PER_WATT, Params

ENV_NETWORK = "WATTNET_NETWORK"
ENV_ACCOUNT = "WATTNET_ACCOUNT"
DEFAULT_NETWORK = "ethereum:local:foundry"
REWARDS = "RewardsEngine"


class GovernanceError(WattNetError, RuntimeError):
    """A proposal step the chain would refuse (or did refuse); the message says why and what
    to do."""


@contextmanager
def connected(choice: str) -> Iterator[Any]:
    """The Ape provider for ``choice``; reuses the active one when it is already that network
    (tests, ``ape run``)."""
    from ape import networks
    from ape.exceptions import ApeException

    active = networks.active_provider
    if active is not None and active.is_connected and active.network_choice == choice:
        yield active
        return
    try:
        ctx = networks.parse_network_choice(choice)
    except ApeException as exc:
        raise ConfigError(f"--network {choice}: {_first_line(exc)}") from None
    try:
        provider = ctx.__enter__()
    except ApeException as exc:
        raise ChainError(f"cannot connect to {choice}: {_first_line(exc)}") from None
    try:
        yield provider
    finally:
        ctx.__exit__(None)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def pick_sender(alias: str | None, network_name: str) -> Any:
    """The sending account: ``--account`` or ``$WATTNET_ACCOUNT``; ``test:N`` is Ape's test
    account N (local networks only); anything else is an Ape account alias (``ape accounts
    list``). On a local network the default is ``test:0``; elsewhere it must be given."""
    from ape import accounts

    alias = alias or os.environ.get(ENV_ACCOUNT)
    local = network_name == "local" or network_name.endswith("-fork")
    if not alias:
        if not local:
            raise ConfigError(f"no sender: pass --account ALIAS or set ${ENV_ACCOUNT}")
        alias = "test:0"
    if alias.startswith("test:"):
        if not local:
            raise ConfigError(f"--account {alias}: test accounts exist only on local networks")
        try:
            return accounts.test_accounts[int(alias[5:])]
        except (ValueError, IndexError):
            raise ConfigError(f"--account {alias}: no such test account (test:0..test:9)"
                              ) from None
    try:
        return accounts.load(alias)
    except Exception:
        raise ConfigError(f"--account {alias}: no such Ape account (see `ape accounts list`)"
                          ) from None


class ChainView:
    """The deployment on the connected chain: contracts, governed values, time."""

    def __init__(self, provider: Any, deployment: Deployment | None = None) -> None:
        from ape import chain

        self.provider = provider
        net = provider.network
        self.deployment = deployment or load_deployment(net.ecosystem.name, net.name)
        chain_id = int(chain.chain_id)
        if chain_id != self.deployment.chain_id:
            d = self.deployment
            raise ChainError(
                f"wrong network: the {d.ecosystem}:{d.network} deployment is on chain "
                f"{d.chain_id}, the connected node is chain {chain_id}"
            )
        self.governor_address = self.deployment.address(GOVERNOR)
        if not bytes(provider.get_code(self.governor_address)):
            uri = getattr(provider, "http_uri", None) or "the node"
            raise ChainError(
                f"no contract at {GOVERNOR} {self.governor_address} on {uri}: not the node the "
                "deployment record was written for (local anvil: set APE_FOUNDRY_HOST to the "
                "node the deploy used)"
            )
        self._contracts: dict[str, Any] = {}

    def contract(self, name: str) -> Any:
        from ape import Contract

        if name not in self._contracts:
            self._contracts[name] = Contract(self.deployment.address(name), abi=load_abi(name))
        return self._contracts[name]

    @property
    def governor(self) -> Any:
        return self.contract(GOVERNOR)

    def raw_call(self, contract: str, data: bytes) -> bytes:
        out = self.provider.web3.eth.call({"to": self.deployment.address(contract),
                                           "data": "0x" + data.hex()})
        return bytes(out)

    def read(self, key: str) -> Any:
        """The on-chain value of a governed key, in the params file's unit."""
        if key == TREASURY_SHARE:
            return BPS - self.read("settlement.operator_share_bps") - self.read(
                "settlement.referrer_share_bps")
        param = lookup(key)
        if param is None:
            raise ConfigError(f"{key} is not a governed parameter")
        return decode_getter(param, self.raw_call(param.contract, getter_call(param)))

    def current(self, params: Params, extra: Sequence[str] = ()) -> dict[str, Any]:
        """Every governed value on chain: the table's keys, the treasury share, and the region
        multipliers the params file lists plus any in ``extra``."""
        regions = [REGION_PREFIX + p for p, _ in params.registry.region_multipliers]
        deployed = self.deployment.contracts
        keys = [p.key for p in PARAMS if p.contract in deployed] + [TREASURY_SHARE] + regions \
            + list(extra)
        out = {k: self.read(k) for k in dict.fromkeys(keys)}
        out[SCHEDULE_KEY] = from_abs(self.chain_phases(), params.rewards.phases)
        if COMMITTEE in deployed:
            out[MEMBERS_KEY] = self.committee_members()
        return out

    def committee_members(self) -> list[str]:
        """OracleCommittee.members(), sorted by address."""
        return sorted((str(a) for a in self.contract(COMMITTEE).members()),
                      key=lambda a: int(a, 16))

    def chain_phases(self) -> list[AbsPhase]:
        """RewardsEngine's schedule: (start epoch, end epoch, decay bps, emission wei)."""
        return decode_phases(self.raw_call(REWARDS, encode_call("phases()", ())))

    def rewards_uint(self, getter: str) -> int:
        (value,) = decode(["uint256"], self.raw_call(REWARDS, encode_call(getter, ())))
        return int(value)

    def now(self) -> int:
        from ape import chain

        return int(chain.blocks.head.timestamp)


# ---- errors -----------------------------------------------------------------------------------

STATES = ("Pending", "Active", "Canceled", "Defeated", "Succeeded", "Queued", "Expired", "Executed")

_ERRORS = {
    "GovernorAlreadyCastVote(address)": "{0} has already voted on this proposal",
    "GovernorInsufficientProposerVotes(address,uint256,uint256)":
        "{0} has {1} votes, below the proposal threshold of {2}; delegate WATT to it first",
    "GovernorUnexpectedProposalState(uint256,uint8,bytes32)":
        "proposal {0} is {1}, which does not allow this step",
    "GovernorNonexistentProposal(uint256)": "no proposal {0} on this governor",
    "GovernorUnableToCancel(uint256,address)":
        "{1} cannot cancel proposal {0}: only its proposer, and only before voting starts",
    "TimelockUnexpectedOperationState(bytes32,bytes32)":
        "the timelock operation is not ready (timelock delay not passed, or not queued)",
    "AccessControlUnauthorizedAccount(address,bytes32)": "{0} lacks the role this step needs",
    "GovernanceParameterOutOfBounds(bytes32,uint256,uint256,uint256)":
        "a governance setting is out of the contract's bounds: {1} not in {2}..{3}",
}
_BY_SELECTOR = {keccak(text=sig)[:4].hex(): (sig, msg) for sig, msg in _ERRORS.items()}


def explain(exc: Exception) -> GovernanceError:
    """One line for a revert: custom errors by name, else the revert data's selector."""
    name = type(exc).__name__
    inputs = getattr(exc, "inputs", None)
    for sig, msg in _ERRORS.items():
        if isinstance(inputs, dict) and sig.startswith(name + "("):
            values = [_fmt(v) for v in inputs.values()]
            if name == "GovernorUnexpectedProposalState" and len(values) > 1:
                values[1] = STATES[int(inputs.get("current", 0))]
            return GovernanceError(msg.format(*values))
    text = _first_line(exc)
    for sel, (sig, msg) in _BY_SELECTOR.items():
        at = text.find("0x" + sel)
        if at >= 0:
            types = sig[sig.index("(") + 1: -1].split(",")
            try:
                data = bytes.fromhex(text[at + 10:].split()[0].rstrip("'\",."))
                values = [_fmt(v) for v in decode(types, data)]
            except Exception:
                values = ["?"] * len(types)
            return GovernanceError(msg.format(*values))
    return GovernanceError(f"the transaction reverted: {text}")


def _fmt(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def watt(wei: int) -> str:
    return f"{wei / WEI_PER_WATT:,.4f}".rstrip("0").rstrip(".") + " WATT"


def when(ts: int, now: int) -> str:
    """A timestamp as UTC time plus how far from the chain's now."""
    if ts == 0:
        return "-"
    stamp = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    delta = ts - now
    return f"{stamp} (in {delta} s)" if delta > 0 else f"{stamp} ({-delta} s ago)"
