"""Sending one transaction from a local key with web3, for the operator-facing CLI commands.

``Transactor.send`` estimates gas (a revert there becomes one readable line: the contract's
custom error with its arguments, decoded with the deployment's ABIs), signs, sends, waits for the
receipt and fails with the same kind of line when the transaction reverted. Keys come from an
encrypted keystore (``load_keystore``), never from the command line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from wattnet.chain.deployments import Deployment, load_abi
from wattnet.chain.web3_client import ChainClient
from wattnet.errors import ChainError, ConfigError

RECEIPT_TIMEOUT_S = 120


def load_keystore(path: Path, passphrase_env: str) -> LocalAccount:
    """The account of an encrypted keystore; the passphrase is read from ``$passphrase_env``."""
    passphrase = os.environ.get(passphrase_env)
    if passphrase is None:
        raise ConfigError(f"set the passphrase of {path} in ${passphrase_env}")
    try:
        key = Account.decrypt(path.read_text(encoding="utf-8"), passphrase)
    except OSError as exc:
        raise ConfigError(f"cannot read keystore {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise ConfigError(f"cannot decrypt keystore {path}: {exc} (check ${passphrase_env})"
                          ) from exc
    account: LocalAccount = Account.from_key(key)
    return account


def keystore_address(path: Path) -> str:
    """The address an encrypted keystore names, without decrypting it."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return str(to_checksum_address("0x" + raw["address"].removeprefix("0x")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path} is not a keystore file with an address: {exc}") from exc


def error_signatures(deployment: Deployment) -> dict[bytes, tuple[str, list[str], list[str]]]:
    """4-byte selector -> (error name, argument names, argument types) over every deployed ABI."""
    out: dict[bytes, tuple[str, list[str], list[str]]] = {}
    for name in deployment.contracts:
        try:
            abi = load_abi(name)
        except ChainError:
            continue
        for item in abi:
            if item.get("type") != "error":
                continue
            types = [i["type"] for i in item.get("inputs", [])]
            sig = f"{item['name']}({','.join(types)})"
            out[keccak(text=sig)[:4]] = (item["name"], [i["name"] for i in item["inputs"]], types)
    return out


def revert_data(exc: BaseException) -> bytes | None:
    args: tuple[Any, ...] = getattr(exc, "args", ())
    for candidate in (getattr(exc, "data", None), *args):
        if isinstance(candidate, dict):
            candidate = candidate.get("data")
        if isinstance(candidate, str) and candidate.startswith("0x") and len(candidate) >= 10:
            try:
                return bytes.fromhex(candidate[2:])
            except ValueError:
                continue
    return None


def _format(value: Any) -> str:
    if isinstance(value, str) and len(value) == 42 and value.startswith("0x"):
        return str(to_checksum_address(value))
    if isinstance(value, bytes):
        text = value.rstrip(b"\x00")
        return text.decode() if text and text.isascii() and text.decode().isprintable() \
            else "0x" + value.hex()
    return str(value)


class Transactor:
    """One account sending transactions to one deployment."""

    def __init__(self, client: ChainClient, account: LocalAccount) -> None:
        self.client = client
        self.w3 = client.w3
        self.account = account
        self._errors: dict[bytes, tuple[str, list[str], list[str]]] | None = None

    def explain(self, exc: BaseException) -> str:
        """One line for a failed call: the decoded custom error, else the node's message."""
        data = revert_data(exc)
        if data is not None:
            if self._errors is None:
                self._errors = error_signatures(self.client.deployment)
            found = self._errors.get(data[:4])
            if found:
                name, names, types = found
                try:
                    values = abi_decode(types, data[4:])
                except Exception:  # malformed revert data: show the name only
                    return name
                shown = ", ".join(f"{n}={_format(v)}" for n, v in zip(names, values, strict=True))
                return f"{name}({shown})"
        args: tuple[Any, ...] = getattr(exc, "args", ())
        if args and isinstance(args[0], dict):
            return str(args[0].get("message", args[0]))
        return str(exc) or type(exc).__name__

    def send(self, call: Any, what: str) -> dict[str, Any]:
        """Estimate, sign, send and wait for ``call`` (a web3 contract function call)."""
        sender = self.account.address
        try:
            gas = int(call.estimate_gas({"from": sender}))
        except Exception as exc:  # the node's revert or RPC error, as web3 raises it
            raise ChainError(f"{what} would fail: {self.explain(exc)}") from exc
        try:
            tx = call.build_transaction({
                "from": sender, "nonce": self.w3.eth.get_transaction_count(sender, "pending"),
                "gas": gas * 5 // 4, "chainId": self.client.deployment.chain_id,
            })
            signed = self.account.sign_transaction(tx)
            tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            receipt: dict[str, Any] = dict(self.w3.eth.wait_for_transaction_receipt(
                tx_hash, timeout=RECEIPT_TIMEOUT_S))
        except Exception as exc:
            raise ChainError(f"{what} failed: {self.explain(exc)}") from exc
        if int(receipt["status"]) != 1:
            raise ChainError(f"{what} reverted in tx 0x{bytes(receipt['transactionHash']).hex()}")
        return receipt
