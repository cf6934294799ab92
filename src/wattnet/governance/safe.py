"""A Safe multisig as the sender of governance transactions (``--safe``): the guardian and, on
live networks, proposers are Safes.

Two ways, one object (:class:`SafeSender`):

* export (no owner keys here): nothing is sent; each transaction the step would make is kept
  (target, calldata) and the CLI prints it as a Safe Transaction Builder batch file plus the
  calldata and the SafeTx hash at the Safe's current nonce, for the owners to sign in Safe's UI.
* execute (owner keys given, e.g. a local rehearsal): each owner signs the EIP-712 ``SafeTx``
  (Safe 1.3.0+: domain ``chainId`` and ``verifyingContract``), the signatures are packed sorted
  by owner, the inner call is simulated from the Safe first (a revert is decoded, nothing is
  sent), and the relayer (``--account``, pays the gas) calls ``execTransaction``.

Before anything is signed: the address must hold a Safe, every signer must be an owner, and
there must be at least ``getThreshold()`` of them; each refusal is one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import decode
from eth_account.messages import encode_typed_data
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from wattnet.chain.deployments import load_abi
from wattnet.governance.client import GovernanceError, explain

ZERO = "0x0000000000000000000000000000000000000000"
SAFE_TX_TYPES = {
    "EIP712Domain": [{"name": "chainId", "type": "uint256"},
                     {"name": "verifyingContract", "type": "address"}],
    "SafeTx": [{"name": n, "type": t} for n, t in (
        ("to", "address"), ("value", "uint256"), ("data", "bytes"), ("operation", "uint8"),
        ("safeTxGas", "uint256"), ("baseGas", "uint256"), ("gasPrice", "uint256"),
        ("gasToken", "address"), ("refundReceiver", "address"), ("nonce", "uint256"))],
}
# Safe's revert strings (contracts/base, common in safe-contracts 1.4.1) a user can cause.
GS_ERRORS = {
    "GS013": "the inner call failed",
    "GS020": "the signatures are too short for the threshold",
    "GS025": "an approved-hash signature is not approved",
    "GS026": "a signature is not by an owner, or owners are not sorted",
}


@dataclass(frozen=True, slots=True)
class SafeTx:
    """A call (operation 0) with no gas refund: what governance steps need."""

    to: str
    data: bytes
    nonce: int
    value: int = 0

    def message(self) -> dict[str, Any]:
        return {"to": self.to, "value": self.value, "data": self.data, "operation": 0,
                "safeTxGas": 0, "baseGas": 0, "gasPrice": 0, "gasToken": ZERO,
                "refundReceiver": ZERO, "nonce": self.nonce}


def typed_data(chain_id: int, safe: str, tx: SafeTx) -> dict[str, Any]:
    return {"types": SAFE_TX_TYPES, "primaryType": "SafeTx",
            "domain": {"chainId": chain_id, "verifyingContract": safe}, "message": tx.message()}


def safe_tx_hash(chain_id: int, safe: str, tx: SafeTx) -> bytes:
    """The EIP-712 digest the owners sign (``Safe.getTransactionHash``)."""
    msg = encode_typed_data(full_message=typed_data(chain_id, safe, tx))
    return keccak(b"\x19" + msg.version + msg.header + msg.body)


def pack_signatures(signed: Sequence[tuple[str, int, bytes, bytes]]) -> bytes:
    """(owner, v, r, s) as Safe wants them: r, s, v per owner, ascending by owner address."""
    ordered = sorted(signed, key=lambda o: int(o[0], 16))
    return b"".join(r.rjust(32, b"\0") + s.rjust(32, b"\0") + bytes([v]) for _, v, r, s in ordered)


@dataclass(slots=True)
class SafeSender:
    """Acts as the Safe at ``address`` (``.address`` is the Safe's, so the governance checks
    see the Safe). ``signers``: Ape accounts of owners (execute mode; empty: export mode);
    ``relayer``: the Ape account that sends ``execTransaction``."""

    view: Any
    address: str
    signers: Sequence[Any] = ()
    relayer: Any = None
    exported: list[tuple[str, bytes]] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)
    threshold: int = 0

    def __post_init__(self) -> None:
        self.address = to_checksum_address(self.address)
        try:
            (self.threshold,) = decode(["uint256"], self._read("getThreshold()"))
            (owners,) = decode(["address[]"], self._read("getOwners()"))
        except Exception:
            raise GovernanceError(f"--safe {self.address}: no Safe there (getThreshold and "
                                  "getOwners do not answer)") from None
        self.owners = [to_checksum_address(o) for o in owners]
        if self.signers:
            self._check_signers()

    @property
    def executes(self) -> bool:
        return bool(self.signers)

    def nonce(self) -> int:
        (n,) = decode(["uint256"], self._read("nonce()"))
        return int(n)

    def send(self, to: str, data: bytes) -> Any:
        """Execute through the Safe (or keep it for the export); returns the receipt or None."""
        to = to_checksum_address(to)
        if not self.executes:
            self.exported.append((to, bytes(data)))
            return None
        self._simulate(to, data)
        from ape import Contract

        tx = SafeTx(to, bytes(data), self.nonce())
        signed = [self._sign(acct, tx) for acct in self.signers]
        safe = Contract(self.address, abi=load_abi("ISafe"))
        try:
            return safe.execTransaction(to, 0, data, 0, 0, 0, 0, ZERO, ZERO,
                                        pack_signatures(signed), sender=self.relayer)
        except Exception as exc:
            raise _safe_error(exc, self.address) from None

    # ---- internal
    def _read(self, sig: str) -> bytes:
        out = self.view.provider.web3.eth.call({"to": self.address,
                                                "data": "0x" + keccak(text=sig)[:4].hex()})
        return bytes(out)

    def _check_signers(self) -> None:
        addresses = [to_checksum_address(str(a.address)) for a in self.signers]
        strangers = [a for a in addresses if a not in self.owners]
        if strangers:
            raise GovernanceError(f"{', '.join(strangers)} is not an owner of Safe "
                                  f"{self.address} (owners: {', '.join(self.owners)})")
        got = len(set(addresses))
        if got < self.threshold:
            raise GovernanceError(
                f"Safe {self.address} needs {self.threshold} of its {len(self.owners)} owners' "
                f"signatures, got {got}: add owners to --safe-signers, or leave it out to export "
                "the transaction for Safe's UI")

    def _simulate(self, to: str, data: bytes) -> None:
        try:
            self.view.provider.web3.eth.call({"from": self.address, "to": to,
                                              "data": "0x" + bytes(data).hex()})
        except Exception as exc:
            raise explain(exc) from None

    def _sign(self, account: Any, tx: SafeTx) -> tuple[str, int, bytes, bytes]:
        msg = encode_typed_data(full_message=typed_data(self.view.deployment.chain_id,
                                                        self.address, tx))
        sig = account.sign_message(msg)
        if sig is None:
            raise GovernanceError(f"{account.address} did not sign the Safe transaction")
        v = int(sig.v)
        v = v + 27 if v < 27 else v
        return str(account.address), v, bytes(sig.r), bytes(sig.s)


def _safe_error(exc: Exception, safe: str) -> GovernanceError:
    text = str(exc)
    for code, meaning in GS_ERRORS.items():
        if code in text:
            return GovernanceError(f"Safe {safe} refused the transaction ({code}: {meaning})")
    return explain(exc)
