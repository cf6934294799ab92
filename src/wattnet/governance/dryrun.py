"""Dry run of a proposal (``wattnet params diff --dry-run``): its exact calls executed as the
timelock on a fork of the network, then every changed parameter read back.

An anvil of our own forks the node the command is connected to (``anvil --fork-url``) at its
head; the timelock is impersonated (``anvil_impersonateAccount``), so the calls run with the
roles they will have when the proposal executes, in order, each first as an ``eth_call`` so that
a revert is decoded with the contracts' own custom errors (``StakingParamOutOfBounds(...)``)
and not sent. Nothing reaches the real network; the fork is stopped afterwards.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import decode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import HTTPProvider, Web3
from web3.exceptions import ContractLogicError

from wattnet.chain.deployments import Deployment
from wattnet.chain.localnode import free_port
from wattnet.chain.tx import error_signatures, revert_data
from wattnet.errors import ChainError
from wattnet.governance.members import KEY as MEMBERS_KEY
from wattnet.governance.schedule import decode_phases, from_abs
from wattnet.governance.table import (
    COMMITTEE,
    SCHEDULE_KEY,
    TIMELOCK,
    TREASURY_SHARE,
    decode_getter,
    encode_call,
    getter_call,
    lookup,
    same_value,
)
from wattnet.params import BPS

CALL_GAS = 5_000_000


@dataclass(frozen=True, slots=True)
class CallResult:
    call: str  # Contract.function
    target: str
    error: str = ""  # the decoded revert; empty: executed
    gas: int = 0


@dataclass(frozen=True, slots=True)
class DryRun:
    fork_block: int
    calls: list[CallResult]
    after: dict[str, Any] = field(default_factory=dict)  # key -> value read back on the fork

    @property
    def reverted(self) -> list[CallResult]:
        return [c for c in self.calls if c.error]


@contextlib.contextmanager
def forked(url: str, timeout_s: float = 30.0) -> Iterator[Web3]:
    """An anvil forking ``url`` at its head, on a free port, stopped on exit."""
    import shutil

    binary = shutil.which("anvil")
    if binary is None:
        raise ChainError("--dry-run needs anvil on PATH (`source tools/env.sh`)")
    port = free_port()
    proc = subprocess.Popen([binary, "--fork-url", url, "--host", "127.0.0.1", "--port",
                             str(port), "--silent"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    w3 = Web3(HTTPProvider(f"http://127.0.0.1:{port}", request_kwargs={"timeout": 60}))
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            with contextlib.suppress(Exception):
                w3.eth.chain_id  # noqa: B018  (answers once anvil has forked)
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise ChainError(f"anvil could not fork {url}")
            time.sleep(0.1)
        yield w3
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def decode_revert(data: bytes, errors: dict[bytes, tuple[str, list[str], list[str]]]) -> str:
    """``Name(arg=value, ...)`` for a custom error, the message of ``Error(string)``, or hex."""
    if data[:4] == keccak(text="Error(string)")[:4]:
        return str(decode(["string"], data[4:])[0])
    if data[:4] in errors:
        name, names, types = errors[data[:4]]
        try:
            values = decode(types, data[4:])
        except Exception:
            return f"{name}(0x{data[4:].hex()})"
        shown = ", ".join(f"{n}={'0x' + v.hex() if isinstance(v, bytes) else v}"
                          for n, v in zip(names, values, strict=True))
        return f"{name}({shown})"
    return f"reverted with data 0x{data.hex()}" if data else "reverted without a reason"


def _read(w3: Web3, deployment: Deployment, key: str, plan: Any) -> Any:
    if key == TREASURY_SHARE:
        return BPS - _read(w3, deployment, "settlement.operator_share_bps", plan) - _read(
            w3, deployment, "settlement.referrer_share_bps", plan)
    if key == MEMBERS_KEY:
        (members,) = decode(["address[]"], bytes(w3.eth.call(
            {"to": deployment.address(COMMITTEE), "data": encode_call("members()", ())})))
        return sorted((to_checksum_address(a) for a in members), key=lambda a: int(a, 16))
    if key == SCHEDULE_KEY:
        raw = w3.eth.call({"to": deployment.address("RewardsEngine"),
                           "data": encode_call("phases()", ())})
        return from_abs(decode_phases(bytes(raw)), plan.after.rewards.phases)
    param = lookup(key)
    assert param is not None
    raw = w3.eth.call({"to": deployment.address(param.contract), "data": getter_call(param)})
    return decode_getter(param, bytes(raw))


def dry_run(url: str, deployment: Deployment, plan: Any) -> DryRun:
    """Execute ``plan``'s calls as the timelock on a fork of ``url``; read the values back."""
    errors = error_signatures(deployment)
    names = {a.lower(): n for n, a in deployment.contracts.items()}
    with forked(url) as w3:
        timelock = deployment.address(TIMELOCK)
        w3.provider.make_request("anvil_impersonateAccount", [timelock])  # type: ignore[arg-type]
        w3.provider.make_request("anvil_setBalance", [timelock, hex(10**20)])  # type: ignore[arg-type]
        block = int(w3.eth.block_number)
        results: list[CallResult] = []
        for call, target in zip(plan.calls, plan.targets, strict=True):
            label = f"{names.get(target.lower(), target)}.{call.signature.split('(')[0]}"
            tx: Any = {"from": timelock, "to": target, "data": "0x" + call.calldata.hex(),
                       "gas": CALL_GAS}
            try:
                w3.eth.call(tx)
            except ContractLogicError as exc:
                results.append(CallResult(label, target, decode_revert(revert_data(exc) or b"",
                                                                       errors)))
                continue
            receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(tx))
            if receipt["status"] != 1:
                results.append(CallResult(label, target, "reverted when mined"))
                continue
            results.append(CallResult(label, target, gas=int(receipt["gasUsed"])))
        after = {k: _read(w3, deployment, k, plan) for k in plan.proposed}
    return DryRun(block, results, after)


def matches(key: str, proposed: Any, after: Any) -> bool | None:
    """Whether the value read back is the proposed one (units normalized); None for the
    emission schedule, which starts at a later epoch (its call's result says whether it took)."""
    if key == SCHEDULE_KEY:
        return None
    return same_value(key, proposed, after)
