"""A proposal's calls as JSON other tools accept (``wattnet params diff --json``).

* ``calls``: each call the timelock will make, with its target address, the function, its
  arguments (integers as decimal strings, bytes as ``0x`` hex, tuples as lists), the value in
  wei (always ``"0"``) and the calldata: what Tally's custom actions and any block explorer's
  "write contract" form take.
* ``propose``: the Governor call that submits them (targets, values, calldatas, description)
  and its calldata, for a proposer that is a multisig.
* ``safe_transaction_builder``: that same call as a Safe Transaction Builder batch file
  (``version`` 1.0: ``chainId``, ``createdAt``, ``meta``, ``transactions`` of ``to``, ``value``,
  ``data``), to load with the Transaction Builder app's "drag and drop a JSON file". Any step
  run with ``--safe`` and no owner keys writes the same format (:func:`tx_builder_batch`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from wattnet.governance.table import Call

PROPOSE = "propose(address[],uint256[],bytes[],string)"


def jsonable(value: Any) -> Any:
    """ABI values for JSON: integers as decimal strings (wei overflow JavaScript numbers),
    bytes as 0x hex, tuples as lists."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def calls_json(calls: Sequence[Call], targets: Sequence[str]) -> list[dict[str, Any]]:
    return [{"contract": c.contract, "target": t, "function": c.signature,
             "args": jsonable(c.args), "value": "0", "calldata": "0x" + c.calldata.hex()}
            for c, t in zip(calls, targets, strict=True)]


def propose_calldata(targets: Sequence[str], calldatas: Sequence[bytes], description: str
                     ) -> bytes:
    return keccak(text=PROPOSE)[:4] + encode(
        ["address[]", "uint256[]", "bytes[]", "string"],
        [list(targets), [0] * len(targets), list(calldatas), description])


def safe_batch(*, chain_id: int, governor: str, targets: Sequence[str],
               calldatas: Sequence[bytes], description: str, name: str,
               created_at_ms: int) -> dict[str, Any]:
    """A Safe Transaction Builder batch file with one transaction: Governor.propose."""
    data = propose_calldata(targets, calldatas, description)
    return tx_builder_batch(chain_id=chain_id, transactions=[(governor, data)],
                            name=f"WattNet proposal: {name}",
                            description=description.splitlines()[0] if description else "",
                            created_at_ms=created_at_ms)


def tx_builder_batch(*, chain_id: int, transactions: Sequence[tuple[str, bytes]], name: str,
                     description: str, created_at_ms: int, safe: str = "") -> dict[str, Any]:
    """A Safe Transaction Builder batch file (``version`` 1.0) of plain calls (value 0)."""
    return {
        "version": "1.0",
        "chainId": str(chain_id),
        "createdAt": created_at_ms,
        "meta": {"name": name, "description": description, "txBuilderVersion": "1.16.5",
                 "createdFromSafeAddress": safe, "createdFromOwnerAddress": ""},
        "transactions": [{"to": to, "value": "0", "data": "0x" + data.hex()}
                         for to, data in transactions],
    }
